"""Reference lists (municipalities, schools, subjects, positions): format and validation.

The file format is documented in `db/reference/README.md`. Parsing is pure: the database
import lives in `db.repo.ReferenceRepo.apply`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CODE_RE = re.compile(r"^[a-z0-9_]{2,32}$")
_SCHOOL_CODE_RE = re.compile(r"^[a-z0-9_]{2,64}$")
BUTTON_LABEL_MAX = 28


class ReferenceError(ValueError):
    """The reference file is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Localized:
    ru: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


@dataclass(frozen=True, slots=True)
class SchoolRef:
    code: str
    name: str
    short: str


@dataclass(frozen=True, slots=True)
class MunicipalityRef:
    code: str
    name: Localized
    region: Localized
    schools: tuple[SchoolRef, ...]


@dataclass(frozen=True, slots=True)
class SubjectRef:
    code: str
    name: Localized


@dataclass(frozen=True, slots=True)
class PositionRef:
    code: str
    name: Localized
    manager: bool


@dataclass(frozen=True, slots=True)
class ReferenceData:
    version: int
    sample: bool
    municipalities: tuple[MunicipalityRef, ...]
    subjects: tuple[SubjectRef, ...]
    positions: tuple[PositionRef, ...]


def _str(node: Any, where: str, *, max_len: int = 300) -> str:
    if not isinstance(node, str) or not node.strip():
        raise ReferenceError(f"{where}: a non-empty text is required")
    value = node.strip()
    if len(value) > max_len:
        raise ReferenceError(f"{where}: longer than {max_len} characters")
    return value


def _localized(node: Any, where: str, *, max_len: int = 200) -> Localized:
    if not isinstance(node, dict):
        raise ReferenceError(f"{where}: expected {{ru: ..., en: ...}}")
    return Localized(
        ru=_str(node.get("ru"), f"{where}.ru", max_len=max_len),
        en=_str(node.get("en"), f"{where}.en", max_len=max_len),
    )


def _code(node: Any, where: str, pattern: re.Pattern[str], seen: set[str]) -> str:
    if not isinstance(node, str) or not pattern.match(node):
        raise ReferenceError(f"{where}.code: {node!r} must match {pattern.pattern}")
    if node in seen:
        raise ReferenceError(f"{where}.code: {node!r} is used twice")
    seen.add(node)
    return node


def _list(node: Any, where: str) -> list[Any]:
    if not isinstance(node, list) or not node:
        raise ReferenceError(f"{where}: a non-empty list is required")
    return node


def parse_reference(doc: Any) -> ReferenceData:
    """Validate a loaded YAML document; raise ReferenceError naming the first problem."""
    if not isinstance(doc, dict):
        raise ReferenceError("the file must be a mapping with municipalities, subjects, positions")
    version = doc.get("version", 1)
    if not isinstance(version, int):
        raise ReferenceError("version: an integer is required")
    municipality_codes: set[str] = set()
    school_codes: set[str] = set()
    municipalities = []
    for i, item in enumerate(_list(doc.get("municipalities"), "municipalities")):
        where = f"municipalities[{i}]"
        if not isinstance(item, dict):
            raise ReferenceError(f"{where}: expected a mapping")
        code = _code(item.get("code"), where, _CODE_RE, municipality_codes)
        shorts: set[str] = set()
        schools = []
        for j, school in enumerate(item.get("schools") or []):
            swhere = f"{where}.schools[{j}]"
            if not isinstance(school, dict):
                raise ReferenceError(f"{swhere}: expected a mapping")
            scode = _code(school.get("code"), swhere, _SCHOOL_CODE_RE, school_codes)
            short = _str(school.get("short"), f"{swhere}.short", max_len=BUTTON_LABEL_MAX)
            if short in shorts:
                raise ReferenceError(f"{swhere}.short: {short!r} repeats within {code}")
            shorts.add(short)
            schools.append(SchoolRef(scode, _str(school.get("name"), f"{swhere}.name"), short))
        municipalities.append(
            MunicipalityRef(
                code=code,
                name=_localized(item.get("name"), f"{where}.name"),
                region=_localized(item.get("region"), f"{where}.region"),
                schools=tuple(schools),
            )
        )
    subject_codes: set[str] = set()
    subjects = tuple(
        SubjectRef(
            code=_code(s.get("code"), f"subjects[{i}]", _CODE_RE, subject_codes),
            name=_localized(s.get("name"), f"subjects[{i}].name", max_len=BUTTON_LABEL_MAX),
        )
        for i, s in enumerate(_list(doc.get("subjects"), "subjects"))
        if isinstance(s, dict) or _raise(f"subjects[{i}]: expected a mapping")
    )
    position_codes: set[str] = set()
    positions = tuple(
        PositionRef(
            code=_code(p.get("code"), f"positions[{i}]", _CODE_RE, position_codes),
            name=_localized(p.get("name"), f"positions[{i}].name", max_len=BUTTON_LABEL_MAX),
            manager=bool(p.get("manager", False)),
        )
        for i, p in enumerate(_list(doc.get("positions"), "positions"))
        if isinstance(p, dict) or _raise(f"positions[{i}]: expected a mapping")
    )
    return ReferenceData(
        version=version,
        sample=bool(doc.get("sample", False)),
        municipalities=tuple(municipalities),
        subjects=subjects,
        positions=positions,
    )


def _raise(message: str) -> bool:
    raise ReferenceError(message)
