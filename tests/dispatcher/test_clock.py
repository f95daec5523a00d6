"""The dispatcher's one clock: `build_dispatcher(clock=...)` hands the same object to every
handler, so moving the harness's ManualClock moves the bot's idea of "now"."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.dispatcher.conftest import Harness
from tests.dispatcher.test_coordinator_routes import _finish_assessment, _munis, _user
from tests.mocked_bot import Request


def _sent(requests: list[Request]) -> list[str]:
    """Text and buttons of every message sent."""
    return [
        str(r.params.get("text", "")) + json.dumps(r.params.get("reply_markup"), ensure_ascii=False)
        for r in requests
        if r.method == "sendMessage"
    ]


async def test_the_retake_wait_is_counted_on_the_bots_clock(harness: Harness) -> None:
    muni = (await _munis(harness))[0]
    user_id = await _user(harness, 7301, muni)
    await _finish_assessment(harness, user_id)  # finished at the real time, stored by the repo

    sent = _sent(await harness.message(7301, "/assess"))
    assert len(sent) == 1 and "Вы проходили самооценку совсем недавно" in sent[0], sent
    due = (harness.clock.now() + timedelta(days=90)).astimezone(harness.settings.tz)
    assert f"{due:%d.%m.%Y}" in sent[0]

    harness.clock.advance(days=91)  # the framework's retake_days is 90
    sent = _sent(await harness.message(7301, "/assess"))
    assert len(sent) == 1 and "▶️ Начать" in sent[0] and "недавно" not in sent[0], sent
