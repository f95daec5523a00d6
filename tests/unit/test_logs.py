"""No log record carries the bot token, whoever logs it and however (message, args, traceback)."""

from __future__ import annotations

import logging

import pytest

from bot.logs import REDACTED, install_redaction, redact

TOKEN = "123456789:AAEhBOweik9ai2o4j-LM_aVx3z7Y9q0Wc1X"


def test_token_and_token_shapes_are_redacted() -> None:
    install_redaction("custom-secret-value")
    assert TOKEN not in redact(f"GET https://api.telegram.org/file/bot{TOKEN}/documents/x.csv")
    assert redact("custom-secret-value!") == f"{REDACTED}!"
    assert redact("nothing to hide") == "nothing to hide"


def test_no_record_leaks_the_token(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction(TOKEN)
    log = logging.getLogger("metodbot.test")
    url = f"http://127.0.0.1:8081/file/bot{TOKEN}/documents/file_1.xlsx"
    with caplog.at_level(logging.INFO):
        log.info("downloading %s", url)
        log.warning(f"failed: {url}")
        try:
            raise OSError(f"404, message='Not Found', url='{url}'")
        except OSError as exc:
            log.error("update failed: %r", exc, exc_info=exc)
    text = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert TOKEN not in text
    assert text.count(REDACTED) >= 4
