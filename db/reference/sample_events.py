"""Sample internship sites and events, as the import files a methodist would send.

Realistic on purpose: every event but the webinar is linked to a site, titles are long, hold
`<`, `&`, quotes and emoji, and dates are relative to `today`, so the files never go stale.
Used by the end-to-end tests and by `python -m bot console --sample-events`; imported through
the same code as a coordinator's file (`bot.imports.import_file`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from domain.event_import import EVENT_COLUMNS, SITE_COLUMNS

__all__ = ["SAMPLE_EVENT_CODES", "TRICKY_TITLE", "sample_events_csv", "sample_sites_csv"]

#: the title that breaks naive HTML: a tag, an ampersand, both quote kinds and an emoji
TRICKY_TITLE = 'Мастер-класс <b>«Оценка & "рубрики"»</b> O\'Neil 🎓'

_SITES: tuple[tuple[str, ...], ...] = (
    (
        "tim-sosh2-funclit",
        "timashevsky",
        "timashevsky_sosh_2",
        "Стажировочная площадка «Функциональная грамотность на уроке» & банк заданий <PISA>",
        "Формирование и оценка функциональной грамотности обучающихся 5–9 классов",
        "functional_literacy, subject_methodical",
        "Модульная программа сетевого проекта стажировочных площадок Тимашевского района: "
        "открытые уроки, разбор заданий PISA-типа, составление банка заданий по предмету.",
        "Иванова Ольга Петровна, заместитель директора, +7 861 304-12-34",
        "Читательская грамотность на уроках любого предмета|8; "
        "Математическая грамотность: задания PISA-типа|8; "
        "Банк заданий и оценка результатов|16",
    ),
    (
        "vdn-gymn1-assess",
        "volgodonsk",
        "volgodonsk_gymn_1",
        'Площадка "Формирующее оценивание" 🎯 гимназии № 1',
        "Критериальное и формирующее оценивание, цифровые инструменты обратной связи",
        "assessment, digital",
        "Площадка муниципальной системы научно-методического сопровождения педагогов "
        "г. Волгодонска: практикумы по формирующему оцениванию.",
        "Петров Сергей Андреевич, методист, metod@example.ru",
        "Критерии и рубрики|6; Обратная связь на уроке|10",
    ),
)

#: event codes in the order of `sample_events_csv`
SAMPLE_EVENT_CODES: tuple[str, ...] = (
    "vdn-assess-mc-1",
    "vdn-assess-intern-1",
    "tim-funclit-intern-1",
    "tim-funclit-open-1",
    "vdn-digital-webinar-1",
)


def _at(day: date, hh: int, mm: int = 0) -> str:
    return datetime.combine(day, time(hh, mm)).strftime("%d.%m.%Y %H:%M")


def _events(today: date) -> tuple[tuple[str, ...], ...]:
    soon = today + timedelta(days=2)
    week = today + timedelta(days=7)
    month = today + timedelta(days=30)
    long_title = (
        "Стажировка «Формирующее оценивание: от критериев к обратной связи» — модуль 1 "
        "для учителей начальной и основной школы, заместителей директора и руководителей "
        "методических объединений 🧑‍🏫"
    )
    return (
        (
            SAMPLE_EVENT_CODES[0],
            "мастер-класс",
            TRICKY_TITLE,
            "Разбираем рубрики & критерии; приносите свои <задания>.",
            "assessment",
            "vdn-gymn1-assess",
            "volgodonsk",
            "",
            "",
            _at(soon, 15),
            _at(soon, 17),
            'МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"',
            "",
            "3",
            "",
        ),
        (
            SAMPLE_EVENT_CODES[1],
            "стажировка",
            long_title,
            "Открытые уроки, разбор критериев, практикум по обратной связи.",
            "assessment, digital",
            "vdn-gymn1-assess",
            "volgodonsk",
            "",
            "",
            _at(week, 10),
            _at(week, 14, 30),
            "г. Волгодонск, ул. Академика Королёва, 6, МБОУ «Гимназия № 1»",
            "",
            "25",
            _at(week - timedelta(days=1), 18),
        ),
        (
            SAMPLE_EVENT_CODES[2],
            "стажировка",
            "Стажировка «Функциональная грамотность на уроке»",
            "Открытые уроки в 6 и 8 классах, разбор заданий PISA-типа.",
            "functional_literacy, subject_methodical",
            "tim-sosh2-funclit",
            "timashevsky",
            "teacher, deputy_head",
            "",
            _at(month, 10),
            _at(month, 15),
            "ст. Днепровская, ул. Ленина, 34, МБОУ СОШ № 2, актовый зал",
            "",
            "25",
            _at(month - timedelta(days=3), 18),
        ),
        (
            SAMPLE_EVENT_CODES[3],
            "открытый урок",
            "Открытый урок: «Читательская грамотность» в 6 «Б» 📚",
            "Урок литературы с заданиями на смысловое чтение.",
            "functional_literacy",
            "tim-sosh2-funclit",
            "timashevsky",
            "",
            "",
            _at(week, 9),
            _at(week, 9, 45),
            "ст. Днепровская, МБОУ СОШ № 2, каб. 21",
            "",
            "10",
            "",
        ),
        (
            SAMPLE_EVENT_CODES[4],
            "вебинар",
            "Вебинар «ФГИС „Моя школа“: библиотека цифрового образовательного контента»",
            "Как найти и встроить в урок материалы библиотеки ЦОК; ответы на вопросы.",
            "digital",
            "",
            "volgodonsk",
            "teacher",
            "",
            _at(week, 15),
            _at(week, 16, 30),
            "",
            "https://vk.com/metod_volgodonsk",
            "300",
            "",
        ),
    )


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sample_sites_csv() -> bytes:
    return _csv([name for name, _, _ in SITE_COLUMNS], _SITES)


def sample_events_csv(today: date) -> bytes:
    return _csv([name for name, _, _ in EVENT_COLUMNS], _events(today))
