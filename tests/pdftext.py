"""Just enough of a PDF reader to check what fpdf2 documents say: the text shown on the pages
(through each font's ToUnicode map, the way a PDF viewer copies text) and the Info dates.

fpdf2 writes embedded TrueType text as 2-byte glyph codes (Identity-H) with a ToUnicode CMap
per font; pages select fonts with ``/F<n> size Tf`` and show strings with ``Tj``/``TJ``.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_OBJECT_START = re.compile(rb"(?m)^(\d+) 0 obj")
_LENGTH = re.compile(rb"/Length (\d+)")
_FONT_REF = re.compile(rb"/(F\d+) (\d+) 0 R")
_CONTENTS = re.compile(rb"/Contents (\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
_TOKEN = re.compile(
    rb"/(F\d+)\s+[\d.]+\s+Tf"  # font selection
    rb"|\((?:\\.|[^\\)])*\)"  # literal string
    rb"|<[0-9A-Fa-f]*>"  # hex string
    rb"|\bBT\b|\bET\b",
    re.S,
)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


@dataclass(frozen=True)
class PdfContent:
    text: str  # the shown text, one line per text object (BT … ET); "\ufffd" for empty boxes
    info: dict[str, str]  # /Title, /CreationDate, … (ASCII values only)
    pages: int


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(literal):
        char = literal[i : i + 1]
        if char != b"\\":
            out += char
            i += 1
            continue
        nxt = literal[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(data):
        values = _HEX.findall(block)
        for src, dst in zip(values[::2], values[1::2], strict=True):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in _BFRANGE.findall(data):
        values = _HEX.findall(block)
        for lo, hi, dst in zip(values[::3], values[1::3], values[2::3], strict=True):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def read_pdf(data: bytes) -> PdfContent:
    dicts: dict[int, bytes] = {}
    streams: dict[int, bytes] = {}
    position = 0
    while (found := _OBJECT_START.search(data, position)) is not None:
        number, start = int(found.group(1)), found.end()
        stream_at = data.find(b"stream", start)
        end_at = data.find(b"endobj", start)
        if 0 <= stream_at < end_at:
            head = data[start:stream_at]
            length = int(_LENGTH.findall(head)[0])
            begin = (
                stream_at
                + len(b"stream")
                + (2 if data[stream_at + 6 : stream_at + 8] == b"\r\n" else 1)
            )
            stream = data[begin : begin + length]
            streams[number] = zlib.decompress(stream) if b"/FlateDecode" in head else stream
            end_at = data.find(b"endobj", begin + length)
        else:
            head = data[start:end_at]
        dicts[number] = head
        position = end_at
    fonts: dict[bytes, dict[int, str]] = {}
    for head in dicts.values():
        for name, ref in _FONT_REF.findall(head):
            to_unicode = _TO_UNICODE.search(dicts.get(int(ref), b""))
            if to_unicode is not None:
                fonts[name] = _cmap(streams[int(to_unicode.group(1))])
    contents = [int(ref) for head in dicts.values() for ref in _CONTENTS.findall(head)]
    lines: list[str] = []
    for stream in (streams[number] for number in contents):
        font: dict[int, str] = {}
        line: list[str] = []
        for token in _TOKEN.finditer(stream):
            raw = token.group()
            if token.group(1) is not None:
                font = fonts[token.group(1)]
            elif raw == b"BT":
                line = []
            elif raw == b"ET":
                if line:
                    lines.append("".join(line))
                line = []
            else:
                codes = (
                    bytes.fromhex(raw[1:-1].decode())
                    if raw.startswith(b"<")
                    else _unescape(raw[1:-1])
                )
                for i in range(0, len(codes) - 1, 2):
                    glyph = int.from_bytes(codes[i : i + 2], "big")
                    # glyph 0 is ".notdef", the empty box a font draws for what it lacks
                    line.append(font.get(glyph, "\ufffd") if glyph else "\ufffd")
    info: dict[str, str] = {}
    for head in dicts.values():
        if b"/CreationDate" in head or b"/Producer" in head:
            for key, value in re.findall(rb"/(\w+) \(((?:\\.|[^\\)])*)\)", head):
                info[key.decode()] = _unescape(value).decode("latin-1")
    pages = sum(1 for head in dicts.values() if re.search(rb"/Type /Page\b(?!s)", head))
    return PdfContent(text="\n".join(lines), info=info, pages=pages)
