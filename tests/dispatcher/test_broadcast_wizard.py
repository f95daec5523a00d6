"""The `/broadcast` wizard's first step through the real dispatcher: anything but a text, a
photo or a document (a sticker here) is politely asked again, and nothing is remembered."""

from __future__ import annotations

from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request

ADMIN = 900


def _texts(requests: list[Request]) -> str:
    return "\n".join(str(r.params.get("text", "")) for r in requests)


async def test_a_sticker_is_not_a_broadcast(harness: Harness) -> None:
    await harness.message(ADMIN, "/start", lang="en")
    prompt = await harness.message(ADMIN, "/broadcast", lang="en")
    assert "Send the message as teachers should see it" in _texts(prompt)
    sticker = await harness.feed(
        {
            "update_id": 10_001,
            "message": {
                "message_id": 501,
                "date": 1_700_000_000,
                "chat": {"id": ADMIN, "type": "private", "first_name": "Анна"},
                "from": {"id": ADMIN, "is_bot": False, "first_name": "A", "language_code": "en"},
                "sticker": {
                    "file_id": "st1",
                    "file_unique_id": "st1u",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                },
            },
        }
    )
    assert "Please send a text, a photo or a document with a caption." in _texts(sticker)
    # still waiting for the message: a text now is taken
    taken = await harness.message(ADMIN, "Hello, colleagues", lang="en")
    assert "Step 2" in _texts(taken)
