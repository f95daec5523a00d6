"""The reminders benchmark's code path on a few rows (no figure is checked: benchmarks are
never assertions), so it cannot rot: the bulk fill writes rows the real renderer accepts, the
real sender delivers each once through the emulator process, and the emulator's stats agree."""

from __future__ import annotations

from pathlib import Path

from bench.emulator_proc import EmulatorProcess
from bench.reminders import FIRST_CHAT, drain_pass, fill

ROWS = 200


async def test_every_reminder_is_sent_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    await fill(url, ROWS)
    async with EmulatorProcess(FIRST_CHAT, ROWS) as emu:
        result = await drain_pass(emu.base_url, url, ROWS, rate=1000.0)
        stats = await emu.stats()
    assert result["states"] == {"sent": ROWS}
    assert (result["sent"], result["cancelled"], result["failed"]) == (ROWS, 0, 0)
    assert result["deferred"] == 0
    assert stats["violations"] == 0, stats["violation_sample"]
    assert stats["send_ok"] == ROWS
    assert (stats["chats_once"], stats["chats_more"]) == (ROWS, 0)
    # the phases were timed (the instrumentation still wraps methods the sender calls)
    assert all(seconds > 0 for seconds in result["phase_s"].values())
    assert set(result["rss_kb"]) == {"start", "10", "50", "90", "end"}
