"""A failed file download logs an ERROR whose URL carries the bot token: the record is
redacted before any handler sees it, and the user gets a polite answer."""

from __future__ import annotations

import logging

import pytest

from db.reference.sample_events import sample_sites_csv
from db.repo import Repo
from tests.conftest import TEST_TOKEN
from tests.e2e.conftest import ADMIN_ID, Running
from tests.e2e.flows import register


async def test_download_failure_never_logs_the_token(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    emu = running.emu
    async with running.app.sessionmaker() as session:
        muni = (await Repo(session).reference.municipalities())[0]
        school = (await Repo(session).reference.schools(muni.id))[0]
    admin = running.chat(ADMIN_ID)
    await register(admin, emu, municipality_id=muni.id, school_id=school.id)

    def send_then_lose_the_file() -> None:
        emu.send_document(admin.user, "sites.csv", sample_sites_csv())
        emu._files_by_path.clear()  # getFile still answers; the download itself fails

    with caplog.at_level(logging.INFO):
        await admin.run(send_then_lose_the_file)
        # the apology comes from the error handler, just after the update counts as handled
        await emu.wait_for_message(ADMIN_ID, lambda m: "пошло не так" in m.plain_text)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the failed download should be logged"
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "/file/bot" in logged  # the URL is there...
    assert TEST_TOKEN not in logged  # ...without the token
