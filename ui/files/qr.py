"""QR codes of deep links for a coordinator to show at an event: a PNG for the screen and a
printable A4 check-in poster (PDF) with the event, the code and what to do."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from ui.files.pdf import close_fonts, font_paths, pdf_text

if TYPE_CHECKING:  # imported when a file is made: the running bot rarely needs them
    import segno
    from fpdf import FPDF

__all__ = ["CheckinPoster", "checkin_poster", "checkin_poster_pdf", "qr_png"]

BORDER = 4  # the quiet zone the QR standard asks for, in modules


def _make_qr(data: str) -> segno.QRCode:
    import segno

    if not data:
        raise ValueError("nothing to encode")
    # Always a full QR code (never a Micro QR, which phone cameras do not read).
    return segno.make_qr(data, error="m", boost_error=False)


def qr_png(data: str, *, scale: int = 10) -> bytes:
    """`data` as a QR code PNG: error correction M, a 4-module border, `scale` px/module."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    qr = _make_qr(data)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()


# ------------------------------------------------------------------ the A4 poster


@dataclass(frozen=True)
class CheckinPoster:
    """Everything printed on the poster, already translated (plain text, not HTML)."""

    heading: str  # "Отметка участия"
    title: str  # the event title as typed (emoji and the like are dropped when printing)
    when: str  # "12.12.2026 10:00–12:30"
    place: str  # address or link; may be empty
    code: str  # the check-in code, printed under the QR
    link: str  # what the QR encodes: the bot's deep link
    instruction: str  # "Отсканируйте QR-код или отправьте боту /checkin K7M2QX"


def checkin_poster(title: str, when: str, place: str, code: str, link: str) -> CheckinPoster:
    """The poster's texts in the current (coordinator's) language."""
    return CheckinPoster(
        heading=_("Event check-in"),
        title=title,
        when=when,
        place=place,
        code=code,
        link=link,
        instruction=_("Scan the QR code or send the bot /checkin {code}").format(code=code),
    )


_INK = (31, 45, 61)
_MUTED = (95, 108, 122)
_ACCENT = (19, 110, 105)  # dark teal, as in the route PDF and the charts
_MARGIN = 15.0
_PAGE_W, _PAGE_H = 210.0, 297.0
_QR_MAX, _QR_MIN = 140.0, 70.0  # side of the printed QR code, mm


def _mm(points: float) -> float:
    return points * 25.4 / 72


def _line_count(pdf: FPDF, text: str, line_h: float) -> int:
    """How many lines `text` wraps into across the page width in the current font."""
    lines = pdf.multi_cell(pdf.epw, line_h, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return len(lines)


def _fitted(pdf: FPDF, text: str, style: str, sizes: tuple[float, ...], max_h: float) -> float:
    """The largest font size of `sizes` at which `text` wraps into at most `max_h` mm."""
    for size in sizes:
        pdf.set_font("DejaVu", style, size)
        if _line_count(pdf, text, _mm(size) * 1.2) * _mm(size) * 1.2 <= max_h:
            return size
    return sizes[-1]


def _centered(pdf: FPDF, text: str, style: str, size: float, color: tuple[int, int, int]) -> None:
    from fpdf.enums import Align, XPos, YPos

    pdf.set_font("DejaVu", style, size)
    pdf.set_text_color(*color)
    pdf.multi_cell(0, _mm(size) * 1.2, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _draw_qr(pdf: FPDF, qr: segno.QRCode, x: float, y: float, side: float) -> None:
    """The QR code as vector squares (sharp at any printer resolution), white border included."""
    matrix = qr.matrix
    module = side / (len(matrix) + 2 * BORDER)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(
                x + (BORDER + start) * module,
                y + (BORDER + r) * module,
                (c - start) * module,
                module,
                style="F",
            )


def checkin_poster_pdf(poster: CheckinPoster) -> bytes:
    """An A4 portrait poster: heading, event title (shrunk to fit), date and place, a large QR
    code, the code in big letters under it and the instruction. Always one page. Texts pass
    through `pdf_text` (no empty boxes for emoji). Takes ~0.1 s: call via asyncio.to_thread."""
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    qr = _make_qr(poster.link)
    regular, bold = font_paths()
    mono = regular.parent / "DejaVuSansMono-Bold.ttf"
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    try:
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.add_font("DejaVuMono", "B", str(mono))
        pdf.set_title(pdf_text(poster.title) or poster.code)
        pdf.set_creator("metodbot")
        pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
        pdf.set_auto_page_break(auto=False)
        pdf.add_page()

        _centered(pdf, pdf_text(poster.heading).upper(), "B", 14, _ACCENT)
        pdf.ln(3)
        title = pdf_text(poster.title)
        size = _fitted(pdf, title, "B", (30, 27, 24, 21, 18, 16), 50)
        _centered(pdf, title, "B", size, _INK)
        pdf.ln(3)
        _centered(pdf, pdf_text(poster.when), "B", 17, _INK)
        place = pdf_text(poster.place)
        if place:
            pdf.ln(1)
            size = _fitted(pdf, place, "", (14, 12, 11, 10), 20)
            _centered(pdf, place, "", size, _MUTED)

        # The bottom block, laid out from the bottom edge up: the link, the instruction, the code.
        link_size, code_size = 8.0, 38.0
        instruction = pdf_text(poster.instruction)
        instruction_size = _fitted(pdf, instruction, "", (16, 14, 12), 16)
        pdf.set_font("DejaVu", "", instruction_size)
        instruction_lines = _line_count(pdf, instruction, _mm(instruction_size) * 1.3)
        bottom = (
            _mm(code_size) * 1.3
            + 3
            + instruction_lines * _mm(instruction_size) * 1.3
            + 6
            + _mm(link_size) * 1.3
        )
        free_top, free_bottom = pdf.get_y() + 4, _PAGE_H - _MARGIN - bottom - 2
        side = max(_QR_MIN, min(_QR_MAX, free_bottom - free_top))
        qr_y = free_top + max(0.0, (free_bottom - free_top - side) / 2)
        _draw_qr(pdf, qr, (_PAGE_W - side) / 2, qr_y, side)

        pdf.set_y(qr_y + side + 2)
        pdf.set_font("DejaVuMono", "B", code_size)
        pdf.set_text_color(*_INK)
        pdf.cell(
            0,
            _mm(code_size) * 1.3,
            " ".join(pdf_text(poster.code)),
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(3)
        pdf.set_font("DejaVu", "", instruction_size)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(
            0,
            _mm(instruction_size) * 1.3,
            instruction,
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_y(_PAGE_H - _MARGIN - _mm(link_size) * 1.3)
        pdf.set_font("DejaVu", "", link_size)
        pdf.set_text_color(*_MUTED)
        pdf.cell(0, _mm(link_size) * 1.3, pdf_text(poster.link), align=Align.C)
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)
