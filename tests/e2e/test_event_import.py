"""Coordinators import sites and events from the published templates; one bad row imports
nothing; teachers cannot import; the CLI does the same."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.app import BotApp
from db.models import Event, Job, Site
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from domain.event_import import TemplateScope, sites_template_csv
from domain.roles import Role
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat
from tests.e2e.flows import register
from tests.staffing import make_staff

ROOT = Path(__file__).resolve().parents[2]
#: codes of the shipped sample reference lists and framework
CLI_SCOPE = TemplateScope(
    municipality="timashevsky",
    municipalities=(("timashevsky", "Тимашевский район"),),
    schools=(("timashevsky_sosh_2", "МБОУ СОШ № 2", "timashevsky"),),
    sites=(),
    competencies=(("functional_literacy", ""), ("subject_methodical", ""), ("digital", "")),
    positions=(("teacher", "учитель"),),
    subjects=(("math", "математика"),),
)


async def _count(app: BotApp, model: type) -> int:
    async with app.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_import_from_templates(
    tmp_path: Path, db_url: str, spec: SpecValidator | None
) -> None:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = BotApp(
            make_settings(
                db_url,
                telegram_api_base=emu.base_url,
                admin_ids=[9500],
            )
        )
        await app.setup()
        await app.start_polling()
        try:
            counter = app.dp["update_counter"]
            admin = Chat(
                emu, EmuUser(id=9500, first_name="Admin", language_code="en"), counter, app.sender
            )
            teacher = Chat(
                emu, EmuUser(id=9501, first_name="T", language_code="en"), counter, app.sender
            )
            async with app.sessionmaker() as session:
                repo = Repo(session)
                munis = {m.code: m for m in await repo.reference.municipalities()}
                school = (await repo.reference.schools(munis["timashevsky"].id))[0]
            for chat in (admin, teacher):
                await register(
                    chat, emu, municipality_id=munis["timashevsky"].id, school_id=school.id
                )

            await admin.send("/template")
            files = {m.document[0]: m.document[1] for m in emu.chat(9500) if m.document}
            assert {
                "events-template.xlsx",
                "events-template.csv",
                "sites-template.xlsx",
                "sites-template.csv",
                "codes.csv",
            } <= set(files)
            events_template_csv = files["events-template.csv"]
            events_template_xlsx = files["events-template.xlsx"]

            # a teacher's file is not an import
            await teacher.run(
                lambda: emu.send_document(teacher.user, "events.csv", events_template_csv)
            )
            assert await _count(app, Event) == 0

            await admin.run(
                lambda: emu.send_document(admin.user, "sites.csv", files["sites-template.csv"])
            )
            assert "Imported internship sites: 2 created" in admin.last.plain_text
            await admin.run(
                lambda: emu.send_document(admin.user, "events.xlsx", events_template_xlsx)
            )
            assert "Imported events: 2 created" in admin.last.plain_text
            assert await _count(app, Event) == 2 and await _count(app, Site) == 2
            assert await _count(app, Job) >= 2  # reminders and feedback requests are scheduled
            await admin.run(
                lambda: emu.send_document(admin.user, "events.xlsx", events_template_xlsx)
            )
            assert "0 created, 2 updated" in admin.last.plain_text

            # one bad row: nothing is imported, the report says which and why
            rows = list(
                csv.reader(io.StringIO(events_template_csv.decode("utf-8-sig")), delimiter=";")
            )
            header = rows[0]
            rows[1][0], rows[2][0] = "new-event-y", "new-event-x"
            rows[2][header.index("capacity")] = "0"
            out = io.StringIO()
            csv.writer(out, delimiter=";").writerows(rows[:3])
            broken = out.getvalue()
            await admin.run(
                lambda: emu.send_document(
                    admin.user, "broken.csv", ("\ufeff" + broken).encode("utf-8")
                )
            )
            report = admin.last.plain_text
            assert "Nothing was imported" in report and "capacity" in report and "row 3" in report
            assert await _count(app, Event) == 2

            # a coordinator of another municipality cannot overwrite these events by code
            async with app.sessionmaker() as session:
                repo = Repo(session)
                row = await repo.users.by_telegram_id(9501)
                assert row is not None
                await make_staff(repo, row, Role.COORDINATOR, munis["volgodonsk"].id)
                await session.commit()
            app.dp["user_cache"].invalidate(9501)
            await teacher.run(
                lambda: emu.send_document(teacher.user, "events.xlsx", events_template_xlsx)
            )
            assert "Nothing was imported" in teacher.last.plain_text

            await admin.run(lambda: emu.send_document(admin.user, "notes.pdf", b"%PDF-1.4"))
            assert ".csv or .xlsx" in admin.last.plain_text
        finally:
            await app.stop()
        emu.assert_no_violations()


def test_cli_import(tmp_path: Path, db_url: str) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_bytes(sites_template_csv(CLI_SCOPE))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "ERROR",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "import-events", str(sites)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "sites: 2 created, 0 updated" in proc.stdout
