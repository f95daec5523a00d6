"""Typography rules: a title is quoted once, a label is cut between words with "…", and
numbers are written as the locale writes them."""

from __future__ import annotations

import pytest

from db.reference.sample_events import TRICKY_TITLE
from domain.typography import format_number, names_a_site, quoted, shorten


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Урок", "«Урок»"),
        ("  Урок  ", "«Урок»"),
        ("Мастер-класс «Оценка»", "Мастер-класс «Оценка»"),
        ("«Оценка» на уроке", "«Оценка» на уроке"),
        ('"Рубрики"', '"Рубрики"'),
        ("Открытый урок: «Чтение» в 6 «Б» 📚", "Открытый урок: «Чтение» в 6 «Б» 📚"),
        (TRICKY_TITLE, TRICKY_TITLE),  # has its own «» inside: never wrapped again
        (
            "Стажировка «Функциональная грамотность» (модуль 2)",
            "Стажировка «Функциональная грамотность» (модуль 2)",
        ),
        ("O'Neil reading club", "«O'Neil reading club»"),  # an apostrophe is not a quote
    ],
)
def test_a_title_is_quoted_once(title: str, shown: str) -> None:
    assert quoted(title) == shown
    assert "»»" not in quoted(title) and "««" not in quoted(title)


def test_a_site_title_that_says_it_is_a_site() -> None:
    assert names_a_site("Стажировочная площадка «Функциональная грамотность»")
    assert names_a_site('Площадка "Формирующее оценивание"')
    assert not names_a_site("МБОУ Гимназия № 1")


@pytest.mark.parametrize(
    ("label", "limit", "shown"),
    [
        ("Короткая", 20, "Короткая"),
        ("Формирование функциональной грамотности", 20, "Формирование…"),
        ("Формирование функциональной грамотности", 28, "Формирование функциональной…"),
        ("Формирование, функциональной", 14, "Формирование…"),
        ("Сверхдлиннаяоднословнаяметка", 10, "Сверхдлин…"),
    ],
)
def test_a_label_is_cut_between_words_with_an_ellipsis(label: str, limit: int, shown: str) -> None:
    assert shorten(label, limit) == shown
    assert len(shorten(label, limit)) <= limit


@pytest.mark.parametrize(
    ("value", "locale", "shown"),
    [(1.5, "ru", "1,5"), (1.5, "en", "1.5"), (2.0, "ru", "2"), (0.75, "ru", "0,75")],
)
def test_numbers_follow_the_locale(value: float, locale: str, shown: str) -> None:
    assert format_number(value, locale) == shown
