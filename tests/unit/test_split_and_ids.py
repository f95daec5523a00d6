"""Pure helpers: long HTML split on element boundaries, ids parsed from user text, commands
recognised in free text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.reference.sample_events import TRICKY_TITLE
from devtools.emulator.formatting import parse_html, utf16_len
from domain.ids import parse_id
from handlers.freetext import command_name
from ui.formatting import h, split_html


def _check(chunks: list[str], blocks: list[str], limit: int) -> None:
    seen = ""
    for chunk in chunks:
        parsed = parse_html(chunk)
        assert parsed.errors == [], (parsed.errors, chunk)
        assert 0 < utf16_len(parsed.text) <= limit
        seen += parsed.text
    expected = parse_html("\n".join(blocks)).text
    assert re.sub(r"\s+", "", seen) == re.sub(r"\s+", "", expected)  # nothing lost


def test_whole_blocks_are_packed_in_order() -> None:
    blocks = [f"<b>{i}</b> {h(TRICKY_TITLE)}" for i in range(300)]
    chunks = split_html(blocks, limit=500)
    assert len(chunks) > 1
    for chunk in chunks:  # every block is whole: each chunk starts with a block's first tag
        assert chunk.startswith("<b>")
    _check(chunks, blocks, 500)


def test_an_over_long_block_is_cut_outside_tags_and_entities() -> None:
    evidence = h("<b>урок & «рубрики»</b> " * 400)
    block = f'✅ <b>Шаг</b>: <i>{evidence}</i> <a href="https://x.ru/?a=1&amp;b=2">ссылка</a>'
    chunks = split_html([block], limit=4096)
    assert len(chunks) > 1
    assert chunks[1].startswith("<i>")  # the open tag is carried over
    _check(chunks, [block], 4096)


def test_a_word_longer_than_a_message_is_cut_between_characters() -> None:
    block = "<b>" + "я" * 9000 + "😀" * 10 + "</b>"
    chunks = split_html([block], limit=4096)
    _check(chunks, [block], 4096)


def test_the_limit_counts_what_telegram_counts() -> None:
    # 4000 visible characters are 16000 characters of markup: one message, not four
    block = h("<" * 4000)
    assert split_html([block]) == [block]


def test_nothing_to_send_gives_no_message() -> None:
    assert split_html([]) == []
    assert split_html(["", "  ", "<b></b>"]) == []


pieces = st.sampled_from(
    [
        "слово",
        " ",
        "\n",
        "😀",
        h('<&>"'),
        "<b>жирный</b>",
        "<i>курсив <b>и жирный</b></i>",
        '<a href="https://t.me/x?start=a&amp;b">ссылка</a>',
        "<code>&lt;code&gt;</code>",
        "a" * 70,
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(st.lists(pieces, min_size=1, max_size=60).map("".join), max_size=25),
    limit=st.sampled_from([64, 200, 4096]),
)
def test_any_blocks_split_into_valid_messages(blocks: list[str], limit: int) -> None:
    _check(split_html(blocks, limit=limit), blocks, limit)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", 123),
        (" 42 ", 42),
        ("9223372036854775807", 2**63 - 1),
        ("²", None),
        ("٣", None),
        ("--5", None),
        ("-5", None),
        ("+5", None),
        ("0", None),
        ("1 2", None),
        ("99999999999999999999", None),
        ("9223372036854775808", None),
        ("", None),
        (None, None),
        ("12abc", None),
    ],
)
def test_parse_id_accepts_only_ascii_digits_in_range(
    text: str | None, expected: int | None
) -> None:
    assert parse_id(text) == expected


def test_parse_id_honours_a_maximum() -> None:
    assert parse_id("10", maximum=9) is None and parse_id("9", maximum=9) == 9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/route", "route"),
        ("/Events@metodbot_bot", "events"),
        ("/teacher 123", "teacher"),
        ("/home/user/plan.docx", None),
        ("план /route", None),
        ("https://example.org/a", None),
    ],
)
def test_commands_are_recognised_in_free_text(text: str, expected: str | None) -> None:
    assert command_name(text) == expected
