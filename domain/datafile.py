"""Validation helpers shared by the content files (reference lists, competency framework).

Each helper checks one node of a loaded YAML document and raises `DataFileError` with the
path of the node (`competencies[2].title.ru: ...`), so a coordinator can fix the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class DataFileError(ValueError):
    """A content file is malformed; the message names the place."""


@dataclass(frozen=True, slots=True)
class Localized:
    ru: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


def text(node: Any, where: str, *, max_len: int, plain: bool = False) -> str:
    """A non-empty string; `plain` also refuses <, > and & (texts go into HTML messages)."""
    if not isinstance(node, str) or not node.strip():
        raise DataFileError(f"{where}: a non-empty text is required")
    value = node.strip()
    if len(value) > max_len:
        raise DataFileError(f"{where}: longer than {max_len} characters")
    if plain and any(ch in value for ch in "<>&"):
        raise DataFileError(f"{where}: must not contain <, > or &")
    return value


def localized(node: Any, where: str, *, max_len: int, plain: bool = False) -> Localized:
    if not isinstance(node, dict):
        raise DataFileError(f"{where}: expected {{ru: ..., en: ...}}")
    return Localized(
        ru=text(node.get("ru"), f"{where}.ru", max_len=max_len, plain=plain),
        en=text(node.get("en"), f"{where}.en", max_len=max_len, plain=plain),
    )


def whole(node: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(node, int) or isinstance(node, bool) or not lo <= node <= hi:
        raise DataFileError(f"{where}: a whole number from {lo} to {hi} is required")
    return node


def items(node: Any, where: str) -> list[Any]:
    """A non-empty list."""
    if not isinstance(node, list) or not node:
        raise DataFileError(f"{where}: a non-empty list is required")
    return node


def mapping(node: Any, where: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise DataFileError(f"{where}: expected a mapping")
    return node


def code(node: Any, where: str, pattern: re.Pattern[str], seen: set[str]) -> str:
    """An identifier matching `pattern`, unique among `seen` (which it joins)."""
    if not isinstance(node, str) or not pattern.match(node):
        raise DataFileError(f"{where}: {node!r} must match {pattern.pattern}")
    if node in seen:
        raise DataFileError(f"{where}: {node!r} is used twice")
    seen.add(node)
    return node
