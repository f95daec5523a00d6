"""/deleteme through the real dispatcher: the freed seat is offered to the next in line (in
their language); personal data never reaches the error log as SQL parameters."""

from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import select, text

from db.models import Job, Registration, User
from db.reference.sample_events import TRICKY_TITLE
from domain.events import RegStatus
from tests.dispatcher.conftest import Harness
from tests.test_privacy import populate
from ui.callbacks.events import OfferCb
from ui.callbacks.menu import DeleteCb


async def test_deleteme_offers_the_freed_seat_to_the_next_in_line(harness: Harness) -> None:
    ids = await populate(harness.sessionmaker)  # 7001 holds a seat of a full event, 7020 waits
    question = await harness.message(7001, "/deleteme")
    assert any("Удалить ваши персональные данные?" in str(r.params.get("text")) for r in question)
    sent = await harness.callback(7001, DeleteCb(confirm=True).pack())

    offers = [r for r in sent if r.method == "sendMessage" and r.params["chat_id"] == 7020]
    assert len(offers) == 1, [r.method for r in sent]
    offer = offers[0].params
    assert "A seat has freed up" in str(offer["text"])  # the waiting teacher's language
    assert html.escape(TRICKY_TITLE, quote=False) in str(offer["text"])
    buttons = [b["callback_data"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    async with harness.sessionmaker() as session:
        waiting = await session.scalar(
            select(Registration).where(
                Registration.user_id == ids["waiting"],
                Registration.event_id == ids["full_event"],
            )
        )
        assert waiting is not None and waiting.status == RegStatus.OFFERED.value
        assert OfferCb(reg=waiting.id, take=True).pack() in buttons
        jobs = list(await session.scalars(select(Job).where(Job.kind == "offer_expire")))
        assert [j.payload["reg_id"] for j in jobs] == [waiting.id]  # one expiry, not two
        erased = await session.get(User, ids["me"])
        assert erased is not None and erased.telegram_id is None
    to_me = " ".join(str(r.params.get("text")) for r in sent if r.params.get("chat_id") == 7001)
    assert "удалены" in to_me

    # the waiting teacher takes the seat with the button they got
    taken = await harness.callback(7020, OfferCb(reg=waiting.id, take=True).pack(), lang="en")
    assert any("The seat is yours" in str(r.params.get("text")) for r in taken)


#: a trigger that makes the database refuse to store any name, per dialect
REFUSE_NAMES = {
    "sqlite": [
        "CREATE TRIGGER refuse_names BEFORE UPDATE OF full_name ON users "
        "WHEN NEW.full_name IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_names() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.full_name IS NOT NULL THEN RAISE EXCEPTION 'refused'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_names BEFORE UPDATE OF full_name ON users "
        "FOR EACH ROW EXECUTE FUNCTION refuse_names()",
    ],
}


async def test_a_failed_query_is_logged_without_its_parameters(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness.sessionmaker() as session:  # the database refuses to store any name
        for statement in REFUSE_NAMES[session.get_bind().dialect.name]:
            await session.execute(text(statement))
        await session.commit()
    await harness.message(7301, "/start")
    await harness.callback(7301, "consent:agree")
    with caplog.at_level(logging.DEBUG):
        sent = await harness.message(7301, "Секретова Анна Петровна")
    assert "что-то пошло не так" in str(sent[-1].params.get("text"))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = "\n".join(logging.Formatter().format(r) for r in errors)
    assert "refused" in logged and "UPDATE users" in logged  # the statement, not its values
    assert "parameters hidden" in logged and "Секретова" not in logged
    assert "Секретова" not in caplog.text  # nor in the debug logs of the driver
