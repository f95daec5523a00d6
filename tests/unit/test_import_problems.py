"""Every import problem code has a translatable text with the same placeholders as its English
(command-line) text, and reaches a Russian user in Russian."""

from __future__ import annotations

import re

import pytest

from core.i18n import LOCALES_DIR, CatalogI18n
from domain.event_import import ENGLISH, EVENT_KINDS, Err, Problem
from handlers.event_import import problem_text

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def i18n() -> CatalogI18n:
    return CatalogI18n(path=LOCALES_DIR, default_locale="en")


def _sample(code: Err) -> Problem:
    template = ENGLISH[code]
    texts = template if isinstance(template, tuple) else (template,)
    names = {name for text in texts for name in PLACEHOLDER.findall(text)}
    params: dict[str, str | int | Problem] = {name: f"<{name}>" for name in names}
    if "n" in names:
        params["n"] = 3
    if "scope" in names:
        params["scope"] = Problem.of(Err.ONLY_FOR, allowed="volgodonsk")
    if "kinds" in names:  # the list the validator gives; the reader sees it in their language
        params["kinds"] = ", ".join(EVENT_KINDS)
    return Problem.of(code, "capacity", **params)


@pytest.mark.parametrize("code", list(Err))
def test_english_text_is_the_source_of_the_translation(code: Err, i18n: CatalogI18n) -> None:
    problem = _sample(code)
    with i18n.context(), i18n.use_locale("en"):
        assert problem_text(problem) == str(problem)
    with i18n.context(), i18n.use_locale("ru"):
        russian = problem_text(problem)
    assert russian != str(problem)
    assert russian.startswith("capacity: ")
    for name, value in problem.params:
        if isinstance(value, str) and name != "kinds":
            assert value in russian  # every value is shown in the translation too
    if code is Err.UNKNOWN_KIND:
        assert "мастер-класс" in russian and "masterclass" not in russian
    assert not re.search(r"[a-z]{4,} [a-z]{4,}", PLACEHOLDER.sub("", russian.split(": ", 1)[1]))


def test_russian_plural_of_seats_taken(i18n: CatalogI18n) -> None:
    with i18n.context(), i18n.use_locale("ru"):
        texts = [
            problem_text(Problem.of(Err.BELOW_SEATS_TAKEN, "capacity", n=n)) for n in (1, 3, 5)
        ]
    assert texts == [
        "capacity: уже занято 1 место: число мест не может быть меньше",
        "capacity: уже занято 3 места: число мест не может быть меньше",
        "capacity: уже занято 5 мест: число мест не может быть меньше",
    ]
    assert str(Problem.of(Err.BELOW_SEATS_TAKEN, "capacity", n=1)).endswith(
        "1 seat is already taken: the capacity cannot be lower"
    )
