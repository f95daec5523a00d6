"""What /admin shows about the running bot itself: the last errors logged (kept in memory),
when it started, and its version."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

#: how many of the latest errors the bot remembers
ERRORS_KEPT = 20


@dataclass(frozen=True, slots=True)
class LoggedError:
    at: datetime
    logger: str
    #: the first line of the (already redacted) message, and the exception's type
    message: str


class ErrorLog(logging.Handler):
    """A logging handler that keeps the last `ERRORS_KEPT` records of level ERROR and above
    (records are redacted when created: `bot.logs`)."""

    def __init__(self, kept: int = ERRORS_KEPT) -> None:
        super().__init__(level=logging.ERROR)
        self.records: deque[LoggedError] = deque(maxlen=kept)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().splitlines()[0] if record.getMessage() else ""
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message += f" [{record.exc_info[0].__name__}]"
        at = datetime.fromtimestamp(record.created, UTC)
        self.records.append(LoggedError(at, record.name, message[:300]))

    def latest(self, n: int = 5) -> list[LoggedError]:
        """The newest first."""
        return list(reversed(self.records))[:n]


def install_error_log(kept: int = ERRORS_KEPT) -> ErrorLog:
    """The root logger's `ErrorLog` (added once per process)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, ErrorLog):
            return handler
    handler = ErrorLog(kept)
    root.addHandler(handler)
    return handler


def app_version() -> str:
    try:
        return version("metodbot")
    except PackageNotFoundError:
        return "unknown"


__all__ = ["ERRORS_KEPT", "ErrorLog", "LoggedError", "app_version", "install_error_log"]
