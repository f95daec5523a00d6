"""The individual educational route (ИОМ) as a one-page A4 PDF a teacher hands to their school.

All text arrives already translated; this module only lays it out. Fonts are the DejaVu Sans
TTFs shipped inside matplotlib (they cover Cyrillic), so no system fonts are needed. DejaVu has
no emoji: every text passes through `pdf_text`, which drops what the fonts cannot draw (a
title "Мастер-класс 🎓" prints as "Мастер-класс", never with an empty box). The layout
starts at 10 pt and steps down to 7 pt until everything fits on one page; if even 7 pt
overflows, the document continues on a second page rather than cutting text.

Rendering takes ~0.1-0.5 s of CPU: call it via ``asyncio.to_thread`` (or
``ui.files.charts.render_png``, which accepts any bytes-returning function) from handlers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # fpdf2 (and Pillow, fontTools under it) load when a PDF is made
    from fpdf import FPDF

__all__ = [
    "RouteCompetencyBlock",
    "RouteDocument",
    "RouteStepRow",
    "close_fonts",
    "font_paths",
    "pdf_text",
    "route_pdf",
]

FONT = "DejaVu"
FONT_SIZES: tuple[float, ...] = (10, 9.5, 9, 8.5, 8, 7.5, 7)
DONE_MARK = "✓"

# A4 portrait, millimetres.
MARGIN_X = 15.0
MARGIN_TOP = 13.0
MARGIN_BOTTOM = 12.0

#: fpdf2's Align values (C, L), as strings so that this module loads without fpdf2
STEP_COL_ALIGN = ("C", "L", "L", "C", "L")
TEACHER_COL_WIDTHS = (34, 66)

_INK = (31, 45, 61)
_MUTED = (95, 108, 122)
_ACCENT = (19, 110, 105)  # dark teal, matches the charts
_RULE = (170, 180, 190)
_HEAD_FILL = (232, 238, 243)
_LABEL_FILL = (244, 247, 249)
_DONE_FILL = (222, 242, 228)
_DONE_INK = (30, 110, 60)


@dataclass(frozen=True)
class RouteStepRow:
    number: str  # "1.2"
    title: str
    kind: str  # already translated label, e.g. "Стажировка" / "Internship"
    target_date: str  # already formatted, e.g. "15.12.2026"
    status: str  # already translated, e.g. "выполнен" / "done"
    done: bool


@dataclass(frozen=True)
class RouteCompetencyBlock:
    title: str  # competency title
    score_line: str  # e.g. "Начальный уровень, 38 из 100"
    steps: Sequence[RouteStepRow]


@dataclass(frozen=True)
class RouteDocument:
    heading: str  # "Индивидуальный образовательный маршрут педагога"
    teacher_lines: Sequence[tuple[str, str]]  # [("ФИО", "Иванова Анна Петровна"), ...]
    meta_line: str  # "Составлен 23.11.2026 · темп: обычный · выполнено 3 из 18 шагов"
    blocks: Sequence[RouteCompetencyBlock]
    column_titles: tuple[str, str, str, str, str]  # ("№", "Шаг", "Форма", "Срок", "Отметка")
    footer: str  # "Сформировано ботом … · подпись педагога ______  подпись методиста ______"


@cache
def _route_pdf_type() -> type[FPDF]:
    from fpdf import FPDF
    from fpdf.enums import Align

    class _RoutePDF(FPDF):
        """Numbers the pages ("1 / 2") only when the route spills over one page."""

        multi_page = False

        def add_page(self, *args: Any, **kwargs: Any) -> None:
            if self.page > 0:
                self.multi_page = True
            super().add_page(*args, **kwargs)

        def footer(self) -> None:
            if not self.multi_page:
                return
            self.set_y(-MARGIN_BOTTOM + 3)
            self.set_font(FONT, "", 7)
            self.set_text_color(*_MUTED)
            self.cell(0, 4, f"{self.page_no()} / {{nb}}", align=Align.R)

    return _RoutePDF


@cache
def font_paths() -> tuple[Path, Path]:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"
    for path in (regular, bold):
        if not path.is_file():
            raise RuntimeError(f"font not found: {path} (is matplotlib installed completely?)")
    return regular, bold


# Invisible helpers of emoji sequences: zero-width joiner, variation selectors, the keycap
# mark, skin tones and tag characters. Dropped even where the font has a glyph for them.
_EMOJI_GLUE = frozenset(
    [0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0x1F3FB, 0x1F400), *range(0xE0020, 0xE0080)]
)
_SPACES = re.compile(r"[ \u00a0]{2,}")
_CLOSING = frozenset("!?.,:;)]}»”…")


@cache
def _drawable() -> frozenset[int]:
    """Code points both DejaVu faces (regular and bold) have glyphs for."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    covered: list[frozenset[int]] = []
    for path in font_paths():
        font = TTFont(str(path), lazy=True)
        try:
            covered.append(frozenset(font.getBestCmap()))
        finally:
            font.close()
    return covered[0] & covered[1]


def pdf_text(text: str) -> str:
    """`text` with only what the PDF fonts can draw, so it stays readable with no empty boxes.

    Emoji and other pictographs are dropped (with their joiners and variation selectors);
    a character with a drawable compatibility form becomes that form (full-width "Ａ" → "A");
    any other missing letter becomes "?". Spaces left doubled are closed up.
    """
    covered = _drawable()
    out: list[str] = []
    changed = dropped = False
    for char in text:
        code = ord(char)
        if (code in covered and code not in _EMOJI_GLUE) or char == "\n":
            if dropped and out and out[-1] == " " and char in _CLOSING:
                out.pop()  # "ученик 🎓!" → "ученик!"
            out.append(char)
            dropped = False
            continue
        changed = dropped = True
        if code in _EMOJI_GLUE:
            continue
        if char == "\t":
            out.append(" ")
            dropped = False
            continue
        compat = unicodedata.normalize("NFKC", char)
        if compat != char and all(ord(c) in covered for c in compat):
            out.append(compat)
            dropped = False
        elif unicodedata.category(char)[0] in "LN":
            out.append("?")
            dropped = False
        # symbols (emoji, pictographs), marks and control or format characters: dropped
    if not changed:
        return text
    lines = (_SPACES.sub(" ", line).strip(" ") for line in "".join(out).split("\n"))
    return "\n".join(lines)


def _safe_document(doc: RouteDocument) -> RouteDocument:
    return replace(
        doc,
        heading=pdf_text(doc.heading),
        teacher_lines=[(pdf_text(a), pdf_text(b)) for a, b in doc.teacher_lines],
        meta_line=pdf_text(doc.meta_line),
        blocks=[
            RouteCompetencyBlock(
                title=pdf_text(block.title),
                score_line=pdf_text(block.score_line),
                steps=[
                    RouteStepRow(
                        number=pdf_text(step.number),
                        title=pdf_text(step.title),
                        kind=pdf_text(step.kind),
                        target_date=pdf_text(step.target_date),
                        status=pdf_text(step.status),
                        done=step.done,
                    )
                    for step in block.steps
                ],
            )
            for block in doc.blocks
        ],
        column_titles=(
            pdf_text(doc.column_titles[0]),
            pdf_text(doc.column_titles[1]),
            pdf_text(doc.column_titles[2]),
            pdf_text(doc.column_titles[3]),
            pdf_text(doc.column_titles[4]),
        ),
        footer=pdf_text(doc.footer),
    )


def route_pdf(doc: RouteDocument, *, created: datetime) -> bytes:
    """Render the route as an A4 PDF: one page whenever it fits at 7 pt or more.

    Tries 10 pt first, then binary-searches the largest size in ``FONT_SIZES`` that fits on
    one page (each trial is a full layout, ~0.2-0.4 s). ``created`` (timezone-aware: when the
    route was built, in the service time zone) goes into the PDF metadata, so equal input gives
    byte-identical output. Every text passes through `pdf_text`.
    """
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    doc = _safe_document(doc)
    built: dict[int, FPDF] = {}

    def fits(index: int) -> bool:
        if index not in built:
            built[index] = _build(doc, FONT_SIZES[index])
        return built[index].pages_count == 1

    try:
        last = len(FONT_SIZES) - 1
        if fits(0):
            chosen = 0
        elif not fits(last):
            chosen = last  # even the smallest size overflows: let it run onto more pages
        else:
            bad, good = 0, last  # invariant: FONT_SIZES[bad] overflows, FONT_SIZES[good] fits
            while good - bad > 1:
                mid = (bad + good) // 2
                if fits(mid):
                    good = mid
                else:
                    bad = mid
            chosen = good
        pdf = built[chosen]
        pdf.set_creation_date(created)
        return bytes(pdf.output())
    finally:
        for trial in built.values():
            close_fonts(trial)


def close_fonts(pdf: FPDF) -> None:
    # fpdf2 opens TTFs lazily through fontTools and never closes them (ResourceWarning).
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


def _mm(points: float) -> float:
    return points * 25.4 / 72


def _step_col_widths(pdf: FPDF, doc: RouteDocument, size: float, pad_x: float) -> list[float]:
    """Absolute widths (mm) of the five step columns, sized to their content.

    The short columns (number, form, date, mark) get the width of their widest entry, capped;
    the step title takes whatever remains.
    """
    steps = [step for block in doc.blocks for step in block.steps]
    caps = (0.08, 0.0, 0.22, 0.14, 0.2)  # max share of the page width per column
    widths = [0.0] * 5
    for col in (0, 2, 3, 4):
        pdf.set_font(FONT, "B", size)
        widest = pdf.get_string_width(doc.column_titles[col])
        pdf.set_font(FONT, "", size)
        for step in steps:
            text = (
                step.number,
                step.title,
                step.kind,
                step.target_date,
                f"{DONE_MARK} {step.status}" if step.done else step.status,
            )[col]
            widest = max(widest, pdf.get_string_width(text))
        widths[col] = min(widest + 2 * pad_x + 0.6, caps[col] * pdf.epw)
    widths[1] = pdf.epw - sum(widths)
    return widths


def _build(doc: RouteDocument, size: float) -> FPDF:
    regular, bold = font_paths()
    pdf = _route_pdf_type()(orientation="P", unit="mm", format="A4")
    try:
        _layout(pdf, doc, size, regular, bold)
    except BaseException:
        close_fonts(pdf)
        raise
    return pdf


def _layout(pdf: FPDF, doc: RouteDocument, size: float, regular: Path, bold: Path) -> None:
    from fpdf.enums import Align, TableBordersLayout, VAlign, WrapMode, XPos, YPos
    from fpdf.fonts import FontFace

    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_title(doc.heading)
    pdf.set_creator("metodbot")
    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_BOTTOM)
    pdf.add_page()
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)

    line = _mm(size) * 1.2  # line height for body text
    pad_y, pad_x = 0.55 + size * 0.03, 1.2
    pad = (pad_y, pad_x, pad_y, pad_x)  # CSS order: top, right, bottom, left

    # Heading, centred.
    pdf.set_font(FONT, "B", size + 4)
    pdf.multi_cell(
        0, _mm(size + 4) * 1.25, doc.heading, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(line * 0.5)

    # Teacher data: a two-column table.
    if doc.teacher_lines:
        pdf.set_font(FONT, "", size)
        label_style = FontFace(family=FONT, emphasis="", color=_MUTED, fill_color=_LABEL_FILL)
        with pdf.table(
            col_widths=TEACHER_COL_WIDTHS,
            first_row_as_headings=False,
            line_height=line,
            padding=pad,
            text_align=(Align.L, Align.L),
            v_align=VAlign.M,
            wrapmode=WrapMode.WORD,
            borders_layout=TableBordersLayout.ALL,
        ) as table:
            for label, value in doc.teacher_lines:
                row = table.row()
                row.cell(label, style=label_style)
                row.cell(value)

    if doc.meta_line:
        pdf.ln(line * 0.4)
        pdf.set_font(FONT, "", size - 0.5)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, line, doc.meta_line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*_INK)

    col_widths = _step_col_widths(pdf, doc, size, pad_x)
    head_style = FontFace(family=FONT, emphasis="B", color=_INK, fill_color=_HEAD_FILL)
    done_style = FontFace(fill_color=_DONE_FILL)
    done_mark_style = FontFace(color=_DONE_INK, fill_color=_DONE_FILL)
    title_size = size + 1
    for block in doc.blocks:
        pdf.ln(line * 0.8)
        # Keep a competency's title with its table header and first rows.
        if pdf.will_page_break(line * 6):
            pdf.add_page()
        _block_title(pdf, block, title_size, size, line)
        if not block.steps:
            continue
        pdf.ln(line * 0.25)
        pdf.set_font(FONT, "", size)
        with pdf.table(
            col_widths=col_widths,
            headings_style=head_style,
            line_height=line,
            padding=pad,
            text_align=tuple(Align.coerce(a) for a in STEP_COL_ALIGN),
            v_align=VAlign.M,
            wrapmode=WrapMode.WORD,
            borders_layout=TableBordersLayout.ALL,
            repeat_headings=1,
        ) as table:
            table.row(list(doc.column_titles))
            for step in block.steps:
                row = table.row(style=done_style if step.done else None)
                row.cell(step.number)
                row.cell(step.title)
                row.cell(step.kind)
                row.cell(step.target_date)
                if step.done:
                    row.cell(f"{DONE_MARK} {step.status}", style=done_mark_style)
                else:
                    row.cell(step.status)

    if doc.footer:
        pdf.ln(line * 1.5)
        pdf.set_font(FONT, "", size - 1)
        pdf.set_text_color(*_MUTED)
        pdf.multi_cell(0, line, doc.footer, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _block_title(
    pdf: FPDF, block: RouteCompetencyBlock, title_size: float, size: float, line: float
) -> None:
    from fpdf.enums import Align, XPos, YPos

    """Competency title in bold teal; the score line on the same line (right) when it fits."""
    title_h = _mm(title_size) * 1.3
    pdf.set_font(FONT, "", size - 0.5)
    score_w = pdf.get_string_width(block.score_line) if block.score_line else 0.0
    pdf.set_font(FONT, "B", title_size)
    title_w = pdf.get_string_width(block.title)
    pdf.set_text_color(*_ACCENT)
    if block.score_line and title_w + score_w + 6 <= pdf.epw:
        pdf.cell(title_w + 1, title_h, block.title)
        pdf.set_font(FONT, "", size - 0.5)
        pdf.set_text_color(*_MUTED)
        pdf.cell(0, title_h, block.score_line, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(0, title_h, block.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if block.score_line:
            pdf.set_font(FONT, "", size - 0.5)
            pdf.set_text_color(*_MUTED)
            pdf.multi_cell(0, line, block.score_line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
