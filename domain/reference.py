"""Reference lists (municipalities, schools, subjects, positions): format and validation.

The file format is documented in `db/reference/README.md`. Parsing is pure: the database
import lives in `db.repositories.reference.ReferenceRepo.apply`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain import datafile as df
from domain.datafile import DataFileError, Localized

_CODE_RE = re.compile(r"^[a-z0-9_]{2,32}$")
_SCHOOL_CODE_RE = re.compile(r"^[a-z0-9_]{2,64}$")
BUTTON_LABEL_MAX = 28


class ReferenceError(DataFileError):
    """The reference file is malformed; the message says where."""


__all__ = ["Localized", "ReferenceData", "ReferenceError", "parse_reference"]


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


def parse_reference(doc: Any) -> ReferenceData:
    """Validate a loaded YAML document; raise ReferenceError naming the first problem."""
    try:
        return _parse(doc)
    except DataFileError as exc:
        raise ReferenceError(str(exc)) from None


def _parse(doc: Any) -> ReferenceData:
    root = df.mapping(doc, "the file")
    version = df.whole(root.get("version", 1), "version", 1, 10**6)
    municipality_codes: set[str] = set()
    school_codes: set[str] = set()
    municipalities = []
    for i, raw in enumerate(df.items(root.get("municipalities"), "municipalities")):
        where = f"municipalities[{i}]"
        item = df.mapping(raw, where)
        code = df.code(item.get("code"), f"{where}.code", _CODE_RE, municipality_codes)
        shorts: set[str] = set()
        schools = []
        for j, raw_school in enumerate(item.get("schools") or []):
            swhere = f"{where}.schools[{j}]"
            school = df.mapping(raw_school, swhere)
            scode = df.code(school.get("code"), f"{swhere}.code", _SCHOOL_CODE_RE, school_codes)
            short = df.text(school.get("short"), f"{swhere}.short", max_len=BUTTON_LABEL_MAX)
            if short in shorts:
                raise DataFileError(f"{swhere}.short: {short!r} repeats within {code}")
            shorts.add(short)
            name = df.text(school.get("name"), f"{swhere}.name", max_len=300)
            schools.append(SchoolRef(scode, name, short))
        municipalities.append(
            MunicipalityRef(
                code=code,
                name=df.localized(item.get("name"), f"{where}.name", max_len=200),
                region=df.localized(item.get("region"), f"{where}.region", max_len=200),
                schools=tuple(schools),
            )
        )
    subject_codes: set[str] = set()
    subjects = []
    for i, raw in enumerate(df.items(root.get("subjects"), "subjects")):
        item = df.mapping(raw, f"subjects[{i}]")
        subjects.append(
            SubjectRef(
                code=df.code(item.get("code"), f"subjects[{i}].code", _CODE_RE, subject_codes),
                name=df.localized(
                    item.get("name"), f"subjects[{i}].name", max_len=BUTTON_LABEL_MAX
                ),
            )
        )
    position_codes: set[str] = set()
    positions = []
    for i, raw in enumerate(df.items(root.get("positions"), "positions")):
        item = df.mapping(raw, f"positions[{i}]")
        positions.append(
            PositionRef(
                code=df.code(item.get("code"), f"positions[{i}].code", _CODE_RE, position_codes),
                name=df.localized(
                    item.get("name"), f"positions[{i}].name", max_len=BUTTON_LABEL_MAX
                ),
                manager=bool(item.get("manager", False)),
            )
        )
    return ReferenceData(
        version=version,
        sample=bool(root.get("sample", False)),
        municipalities=tuple(municipalities),
        subjects=tuple(subjects),
        positions=tuple(positions),
    )
