"""The wizard's link line: `https://… Label`."""

from __future__ import annotations

import pytest

from domain.broadcast_links import LABEL_MAX, Link, parse_link


def test_an_address_with_a_label() -> None:
    assert parse_link("  https://example.org/p?a=1  📝 Sign   up ") == Link(
        "https://example.org/p?a=1", "📝 Sign up"
    )


def test_the_label_is_optional() -> None:
    assert parse_link("http://example.org") == Link("http://example.org", None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "example.org Label",
        "ftp://example.org x",
        "javascript:alert(1)",
        "https:// Label",
        "https:///path",
        "https://" + "a" * 500 + ".org",
        "https://example.org " + "x" * (LABEL_MAX + 1),
    ],
)
def test_malformed_lines_are_refused(text: str) -> None:
    assert parse_link(text) is None


def test_a_label_of_the_maximum_length_is_kept() -> None:
    found = parse_link("https://example.org " + "x" * LABEL_MAX)
    assert found is not None and found.label == "x" * LABEL_MAX
