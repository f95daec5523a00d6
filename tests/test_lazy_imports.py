"""The running bot does not load the file-making libraries until a file is made: importing the
app and building every router leaves matplotlib, openpyxl, fpdf2 (with Pillow and fontTools),
segno and icalendar unloaded (about 35 MiB of the resident size, see bench/memory.py); making
a file loads them where it happens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: loaded only by ui/files/* when a chart, a workbook, a PDF, a QR code or a calendar is made
HEAVY = ("matplotlib", "openpyxl", "fpdf", "PIL", "fontTools", "numpy", "segno", "icalendar")


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_building_the_bot_loads_no_file_library() -> None:
    assert _loaded_after("import bot.app, bot.__main__, handlers\nhandlers.get_routers()") == []


def test_making_a_file_loads_its_library_where_it_is_made() -> None:
    code = (
        "from datetime import UTC, datetime, timedelta\n"
        "from ui.files.calendar import CalendarEvent, to_ics\n"
        "from ui.files.qr import qr_png\n"
        "now = datetime(2026, 11, 30, 9, tzinfo=UTC)\n"
        "assert to_ics(CalendarEvent(uid='e@m', title='A, b; c', starts_at=now,"
        " ends_at=now + timedelta(hours=1)), now=now).startswith(b'BEGIN:VCALENDAR')\n"
        "assert qr_png('https://t.me/x?start=c').startswith(bytes([0x89]) + b'PNG')\n"
    )
    assert _loaded_after(code) == ["icalendar", "segno"]
