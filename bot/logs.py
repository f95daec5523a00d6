"""Logging: one format, quiet libraries, and no secret in any record.

The bot token travels inside every Bot API URL (`/bot<token>/method`, `/file/bot<token>/path`),
and libraries put URLs into exception messages. A record factory redacts every record when it
is created — message, arguments, traceback — so no handler, test capture or log file ever sees
the token, whoever logged it.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any

__all__ = ["REDACTED", "install_redaction", "redact", "setup_logging"]

REDACTED = "<redacted>"
#: a Telegram bot token, wherever it appears (URLs, reprs): digits, a colon, 30+ url-safe chars
_TOKEN_RE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
#: libraries whose INFO lines are start-up chatter, not operations news
_QUIET = ("alembic", "aiogram.event", "apscheduler", "matplotlib", "fontTools", "PIL")

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return _TOKEN_RE.sub(REDACTED, text)


def _redacting_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    return factory


def install_redaction(*secrets: str | None) -> None:
    """Redact these secrets (and anything shaped like a bot token) from every log record."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= 8)
        if not _installed:
            logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
            _installed = True


def setup_logging(level: str, *, secrets: tuple[str | None, ...] = ()) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLevelName(level) <= logging.INFO:
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
    install_redaction(*secrets)
