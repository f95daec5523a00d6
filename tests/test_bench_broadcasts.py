"""The broadcast benchmark's code path on a few recipients (no figure is checked: benchmarks
are never assertions), so it cannot rot: the bulk fill writes teachers `services.broadcasts`
picks, the real sender copies the coordinator's message at OUTBOX_RATE=30 through the emulator
process enforcing Telegram's limits without a single 429, and a sender SIGKILLed half-way is
replaced by one that delivers the rest: nobody is missed, nobody is sent the copy twice beyond
the documented crash window (a copy Telegram accepted whose row was not yet marked sent is
sent again after the lease: at most OUTBOX_CONCURRENCY rows)."""

from __future__ import annotations

from pathlib import Path

from bench.broadcasts import free_pass

RECIPIENTS = 80
#: OUTBOX_CONCURRENCY's default: the most rows a sender can have between "sent" and "marked"
IN_FLIGHT = 8


async def test_a_killed_and_resumed_broadcast_reaches_everyone_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}"
    result = await free_pass(url, RECIPIENTS, lease=2.0, kill_at=0.5)
    emu = result["emulator"]
    assert result["total"] == RECIPIENTS
    assert result["killed"] and 0 < result["copies_before_kill"] < RECIPIENTS
    assert result["states"] == {"sent": RECIPIENTS}
    assert emu["violations"] == 0, emu["violation_sample"]
    assert emu["refused"] == 0  # no 429 at the configured rate
    assert emu["copies_none"] == 0  # no recipient lost
    assert emu["copies_extra"] <= IN_FLIGHT  # only rows in flight at the kill
    assert emu["copies_once"] + emu["copies_more"] == RECIPIENTS  # everyone else exactly once
    # the new sender finished the job (and it was timed)
    assert result["run"]["sent"] >= RECIPIENTS - result["copies_before_kill"]
    assert all(seconds > 0 for seconds in result["run"]["phase_s"].values())
