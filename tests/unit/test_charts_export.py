"""Competency charts (PNG) and the individual educational route (PDF)."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ui.files.charts import comparison_chart, radar_chart, render_png
from ui.files.pdf import RouteCompetencyBlock, RouteDocument, RouteStepRow, route_pdf

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CREATED = datetime(2026, 11, 23, 14, 30, tzinfo=ZoneInfo("Europe/Moscow"))

RU_LABELS = [
    "Предметные знания",
    "Методика",
    "Цифровые компетенции",
    "Оценивание",
    "Воспитание",
    "Инклюзия",
    "Проектная деятельность",
]
RU_SCORES = [38, 72, 55, 20, 90, 64, 45]

STEP_TITLES = [
    "Изучить методические рекомендации по функциональной грамотности",
    "Посетить открытые уроки коллег и проанализировать приёмы работы",
    "Пройти курсы повышения квалификации «Цифровая образовательная среда»",
    "Стажировка в школе-лидере по теме «Формирующее оценивание»",
    "Разработать и провести открытый урок с использованием кейс-метода",
    "Подготовить публикацию в сборник методических материалов школы",
    "Представить опыт на заседании городского методического объединения",
]
STEP_KINDS = [
    "Самообразование",
    "Взаимопосещение",
    "Курсы ПК",
    "Стажировка",
    "Практика",
    "Публикация",
    "Выступление",
]
COMPETENCIES = [
    "Предметная компетентность",
    "Методическая компетентность",
    "Цифровая компетентность",
    "Оценочная компетентность (формирующее оценивание)",
    "Воспитательная работа",
    "Инклюзивное образование",
    "Проектная деятельность",
    "Коммуникация с родителями",
    "Рефлексия и самоанализ",
    "Наставничество",
]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the signature."""
    assert data.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_is_complete(data: bytes) -> bool:
    """Walk the chunks, checking each CRC, up to IEND."""
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        length = int(struct.unpack(">I", data[pos : pos + 4])[0])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return False
        if kind == b"IEND":
            return pos + 12 + length == len(data)
        pos += 12 + length
    return False


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def make_route(blocks: int, steps: int = 7, *, title_len: int | None = None) -> RouteDocument:
    result = []
    for b in range(blocks):
        rows = []
        for s in range(steps):
            title = STEP_TITLES[s % len(STEP_TITLES)]
            if title_len is not None:
                title = (title * 3)[:title_len]
            done = (b + s) % 4 == 0
            rows.append(
                RouteStepRow(
                    number=f"{b + 1}.{s + 1}",
                    title=title,
                    kind=STEP_KINDS[s % len(STEP_KINDS)],
                    target_date=f"{10 + s:02d}.{b % 12 + 1:02d}.2027",
                    status="выполнен" if done else "запланирован",
                    done=done,
                )
            )
        result.append(
            RouteCompetencyBlock(
                title=COMPETENCIES[b % len(COMPETENCIES)],
                score_line=f"Начальный уровень, {30 + b * 6} из 100",
                steps=rows,
            )
        )
    return RouteDocument(
        heading="Индивидуальный образовательный маршрут педагога",
        teacher_lines=[
            ("ФИО", "Иванова Анна Петровна"),
            ("Образовательная организация", "МБОУ СОШ № 1 имени Героя Советского Союза"),
            ("Муниципалитет", "г. Волгодонск"),
            ("Должность", "Учитель математики"),
            ("Квалификационная категория", "первая"),
        ],
        meta_line="Составлен 23.11.2026 · темп: обычный · выполнено 3 из 18 шагов",
        blocks=result,
        column_titles=("№", "Шаг", "Форма", "Срок", "Отметка"),
        footer=(
            "Сформировано ботом методического сопровождения · "
            "подпись педагога ______  подпись методиста ______"
        ),
    )


# --------------------------------------------------------------------------- radar


def test_radar_chart_is_a_900px_png_with_cyrillic_labels() -> None:
    data = radar_chart(RU_LABELS, RU_SCORES, title="Профиль компетенций")
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (900, 900)
    assert png_is_complete(data)
    assert len(data) < 1_000_000


def test_radar_chart_with_previous_attempt_and_threshold() -> None:
    data = radar_chart(
        RU_LABELS,
        RU_SCORES,
        title="Было и стало",
        threshold=50,
        previous=[30, 60, 40, 20, 80, 50, 35],
        previous_label="Диагностика 1",
        current_label="Диагностика 2",
    )
    assert png_size(data) == (900, 900)
    assert png_is_complete(data)
    assert len(data) < 1_000_000


@pytest.mark.parametrize("axes", [3, 5, 12])
def test_radar_chart_supports_3_to_12_axes(axes: int) -> None:
    labels = [f"Competency number {i}" for i in range(axes)]
    scores = [(i * 37) % 101 for i in range(axes)]
    data = radar_chart(labels, scores, title="Profile", threshold=0, previous=[100] * axes)
    assert png_size(data) == (900, 900)


def test_radar_chart_accepts_boundary_scores_and_floats() -> None:
    data = radar_chart(["A", "B", "C"], [0, 100, 33.3], title="Edges", threshold=100)
    assert png_size(data) == (900, 900)


def test_radar_chart_is_not_confused_by_dollar_signs() -> None:
    # Labels are plain text; "$...$" must not be parsed as mathtext.
    data = radar_chart(["$a$", "b_1^2", "\\frac"], [10, 20, 30], title="$x$ price")
    assert png_size(data) == (900, 900)


def test_radar_chart_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="lengths must be equal"):
        radar_chart(["A", "B", "C"], [1, 2], title="t")
    with pytest.raises(ValueError, match="previous"):
        radar_chart(["A", "B", "C"], [1, 2, 3], title="t", previous=[1, 2])


@pytest.mark.parametrize("axes", [0, 2, 13])
def test_radar_chart_rejects_wrong_axis_count(axes: int) -> None:
    with pytest.raises(ValueError, match=r"3\.\.12"):
        radar_chart([f"L{i}" for i in range(axes)], [50] * axes, title="t")


@pytest.mark.parametrize("bad", [120, -1, float("nan"), float("inf")])
def test_radar_chart_rejects_scores_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        radar_chart(["A", "B", "C"], [10, bad, 30], title="t")
    with pytest.raises(ValueError, match="out of range"):
        radar_chart(["A", "B", "C"], [10, 20, 30], title="t", previous=[bad, 1, 2])
    with pytest.raises(ValueError, match="out of range"):
        radar_chart(["A", "B", "C"], [10, 20, 30], title="t", threshold=bad)


def test_radar_chart_rejects_non_numbers() -> None:
    with pytest.raises(ValueError, match="not a number"):
        radar_chart(["A", "B", "C"], [10, "x", 30], title="t")  # type: ignore[list-item]


# --------------------------------------------------------------------------- comparison


def test_comparison_chart_is_a_png() -> None:
    data = comparison_chart(
        RU_LABELS,
        [30, 60, 40, 20, 80, 50, 35],
        RU_SCORES,
        title="Сравнение",
        before_label="Сентябрь",
        after_label="Декабрь",
    )
    width, height = png_size(data)
    assert width == 900
    assert 600 <= height <= 1400
    assert png_is_complete(data)
    assert len(data) < 1_000_000


def test_comparison_chart_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="lengths must be equal"):
        comparison_chart(["A", "B"], [1, 2], [1], title="t", before_label="b", after_label="a")
    with pytest.raises(ValueError, match="lengths must be equal"):
        comparison_chart(["A", "B"], [1], [1, 2], title="t", before_label="b", after_label="a")


def test_comparison_chart_rejects_scores_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        comparison_chart(["A"], [101], [1], title="t", before_label="b", after_label="a")


# --------------------------------------------------------------------------- render_png


async def test_render_png_runs_the_chart_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def chart(labels: list[str], scores: list[float], *, title: str) -> bytes:
        seen.append(threading.get_ident())
        return radar_chart(labels, scores, title=title)

    data = await render_png(chart, ["A", "B", "C"], [10, 50, 90], title="Async")
    assert seen and seen[0] != loop_thread
    assert png_size(data) == (900, 900)


async def test_render_png_propagates_validation_errors() -> None:
    with pytest.raises(ValueError):
        await render_png(radar_chart, ["A", "B"], [1, 2], title="t")


async def test_concurrent_renders_in_threads_all_succeed() -> None:
    import asyncio

    results = await asyncio.gather(
        *(
            render_png(radar_chart, RU_LABELS, RU_SCORES, title=f"Профиль {i}", threshold=40)
            for i in range(4)
        ),
        render_png(
            comparison_chart,
            RU_LABELS,
            RU_SCORES,
            RU_SCORES,
            title="t",
            before_label="b",
            after_label="a",
        ),
    )
    assert all(png_is_complete(r) for r in results)


# --------------------------------------------------------------------------- route PDF


def test_route_pdf_fits_a_realistic_route_on_one_page() -> None:
    data = route_pdf(make_route(3), created=CREATED)
    assert data.startswith(b"%PDF")
    assert data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) == 1
    # Both DejaVu faces are embedded (subset) so Cyrillic renders without system fonts.
    assert b"DejaVuSans" in data
    assert b"DejaVuSans-Bold" in data or b"DejaVuSansBold" in data
    assert b"/FontFile2" in data


def test_route_pdf_fits_four_competencies_with_long_step_titles() -> None:
    assert pdf_pages(route_pdf(make_route(4, title_len=60), created=CREATED)) == 1


def test_route_pdf_spills_to_more_pages_instead_of_truncating() -> None:
    data = route_pdf(make_route(10), created=CREATED)
    assert pdf_pages(data) >= 2


def test_route_pdf_is_deterministic() -> None:
    doc = make_route(1, 3)
    assert route_pdf(doc, created=CREATED) == route_pdf(doc, created=CREATED)


def test_route_pdf_handles_empty_parts_and_english() -> None:
    doc = RouteDocument(
        heading="Individual educational route",
        teacher_lines=[],
        meta_line="",
        blocks=[
            RouteCompetencyBlock("Digital skills", "", []),
            RouteCompetencyBlock(
                "Assessment",
                "Basic level, 38 of 100",
                [RouteStepRow("1.1", "Read the guide", "Self-study", "15.12.2026", "done", True)],
            ),
        ],
        column_titles=("No.", "Step", "Form", "Due", "Mark"),
        footer="",
    )
    data = route_pdf(doc, created=CREATED)
    assert data.startswith(b"%PDF")
    assert pdf_pages(data) == 1
