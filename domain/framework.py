"""The competency framework: format, validation and lookup. Pure data, no I/O.

The file format is documented in README ("Self-assessment framework"); the shipped framework
is `domain/content/framework.yaml`. A parsed framework is also what the database keeps per
version (as the original mapping), so old results stay readable after a replacement.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain import datafile as df
from domain.audience import Experience, suits
from domain.datafile import DataFileError, Localized

_VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,16}$")
_COMP_RE = re.compile(r"^[a-z_]{2,32}$")
_CODE_RE = re.compile(r"^[a-z0-9_]{2,32}$")
SCALE_SIZE = 4
MAX_VALUE = SCALE_SIZE - 1


class FrameworkError(DataFileError):
    """The framework file is malformed; the message names the place."""


class StepKind(StrEnum):
    LEARN = "learn"
    PRACTICE = "practice"
    MASTERCLASS = "masterclass"
    MENTORING = "mentoring"
    TRANSFER = "transfer"
    REFLECTION = "reflection"


STEP_ORDER: tuple[StepKind, ...] = tuple(StepKind)


@dataclass(frozen=True, slots=True)
class Statement:
    code: str
    competency: str
    text: Localized


@dataclass(frozen=True, slots=True)
class StepTemplate:
    kind: StepKind
    audience: Experience
    title: Localized
    what: Localized
    how: Localized
    days: int
    resources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Competency:
    code: str
    managers_only: bool
    title: Localized
    short: Localized
    description: Localized
    statements: tuple[Statement, ...]
    grow: dict[str, Localized]
    steps: tuple[StepTemplate, ...]


@dataclass(frozen=True, slots=True)
class Level:
    code: str
    min: int
    name: Localized


@dataclass(frozen=True, slots=True)
class Resource:
    code: str
    kind: str
    title: Localized
    url: str
    hours: int | None
    #: the region it serves (a regional institute); None for federal resources, for everyone
    region: Localized | None = None

    def serves(self, region_names: Collection[str]) -> bool:
        """True for a federal resource, or if one of `region_names` (the teacher's region in
        any language, as the reference data spells it) names this resource's region."""
        if self.region is None:
            return True
        wanted = {region_key(self.region.ru), region_key(self.region.en)}
        return any(region_key(name) in wanted for name in region_names if name)


def region_key(name: str) -> str:
    """Region names compared loosely: case, «ё», extra spaces do not matter."""
    return " ".join(name.casefold().replace("ё", "е").split())


@dataclass(frozen=True, slots=True)
class FrameworkSettings:
    deficit_threshold: int
    route_size: int
    retake_days: int


@dataclass(frozen=True, slots=True)
class Framework:
    version: str
    title: Localized
    intro: Localized
    scale: tuple[Localized, ...]
    levels: tuple[Level, ...]
    settings: FrameworkSettings
    competencies: tuple[Competency, ...]
    resources: dict[str, Resource]

    def competency(self, code: str) -> Competency:
        for comp in self.competencies:
            if comp.code == code:
                return comp
        raise KeyError(code)

    def for_position(self, is_manager: bool) -> tuple[Competency, ...]:
        """The competencies a teacher answers: managers also get the management block."""
        return tuple(c for c in self.competencies if is_manager or not c.managers_only)

    def statements(self, is_manager: bool) -> tuple[Statement, ...]:
        return tuple(s for c in self.for_position(is_manager) for s in c.statements)

    def level_for(self, score: float) -> Level:
        chosen = self.levels[0]
        for level in self.levels:
            if score >= level.min:
                chosen = level
        return chosen


def _resources(node: Any) -> dict[str, Resource]:
    seen: set[str] = set()
    result: dict[str, Resource] = {}
    for i, raw in enumerate(df.items(node, "resources")):
        where = f"resources[{i}]"
        item = df.mapping(raw, where)
        code = df.code(item.get("code"), f"{where}.code", _CODE_RE, seen)
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith("https://") or " " in url:
            raise FrameworkError(f"{where}.url: an https:// address is required")
        hours = item.get("hours")
        region = item.get("region")
        result[code] = Resource(
            code=code,
            kind=str(item.get("kind") or "self_study"),
            title=df.localized(item.get("title"), f"{where}.title", max_len=200, plain=True),
            url=url,
            hours=None if hours is None else df.whole(hours, f"{where}.hours", 1, 2000),
            region=None
            if region is None
            else df.localized(region, f"{where}.region", max_len=200, plain=True),
        )
    return result


def _steps(node: Any, where: str, resources: dict[str, Resource]) -> tuple[StepTemplate, ...]:
    steps = []
    for i, raw in enumerate(df.items(node, where)):
        swhere = f"{where}[{i}]"
        item = df.mapping(raw, swhere)
        try:
            kind = StepKind(str(item.get("kind")))
            audience = Experience(str(item.get("audience", "all")))
        except ValueError as exc:
            raise FrameworkError(f"{swhere}: {exc}") from None
        refs = item.get("resources") or []
        if not isinstance(refs, list) or any(r not in resources for r in refs):
            raise FrameworkError(f"{swhere}.resources: unknown resource in {refs!r}")
        if kind is StepKind.LEARN and not any(resources[r].region is None for r in refs):
            raise FrameworkError(
                f"{swhere}.resources: a learn step needs at least one without a region"
            )
        steps.append(
            StepTemplate(
                kind=kind,
                audience=audience,
                title=df.localized(item.get("title"), f"{swhere}.title", max_len=60, plain=True),
                what=df.localized(item.get("what"), f"{swhere}.what", max_len=600, plain=True),
                how=df.localized(item.get("how"), f"{swhere}.how", max_len=600, plain=True),
                days=df.whole(item.get("days"), f"{swhere}.days", 1, 120),
                resources=tuple(refs),
            )
        )
    kinds = [s.kind for s in steps]
    if sorted(kinds, key=STEP_ORDER.index) != kinds:
        raise FrameworkError(f"{where}: steps must follow the order {', '.join(STEP_ORDER)}")
    for young in (True, False):
        if not any(suits(s.audience, young=young) for s in steps):
            band = Experience.YOUNG if young else Experience.EXPERIENCED
            raise FrameworkError(f"{where}: no step for the {band} audience")
    return tuple(steps)


def parse_framework(doc: Any) -> Framework:
    """Validate a loaded YAML/JSON document; raise FrameworkError naming the first problem."""
    try:
        return _parse(doc)
    except DataFileError as exc:
        raise FrameworkError(str(exc)) from None


def _parse(doc: Any) -> Framework:
    root = df.mapping(doc, "framework")
    version = root.get("version")
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise FrameworkError("version: a string of 1-16 characters [A-Za-z0-9._-] is required")
    scale_raw = df.items(root.get("scale"), "scale")
    if [s.get("value") if isinstance(s, dict) else None for s in scale_raw] != list(
        range(SCALE_SIZE)
    ):
        raise FrameworkError(f"scale: exactly {SCALE_SIZE} options with values 0..{MAX_VALUE}")
    scale = tuple(
        df.localized(s.get("label"), f"scale[{i}].label", max_len=40, plain=True)
        for i, s in enumerate(scale_raw)
    )
    levels = []
    level_codes: set[str] = set()
    for i, raw in enumerate(df.items(root.get("levels"), "levels")):
        item = df.mapping(raw, f"levels[{i}]")
        levels.append(
            Level(
                code=df.code(item.get("code"), f"levels[{i}].code", _CODE_RE, level_codes),
                min=df.whole(item.get("min"), f"levels[{i}].min", 0, 100),
                name=df.localized(item.get("name"), f"levels[{i}].name", max_len=40, plain=True),
            )
        )
    if levels[0].min != 0 or any(a.min >= b.min for a, b in itertools.pairwise(levels)):
        raise FrameworkError("levels: must start at 0 and ascend")
    cfg = df.mapping(root.get("settings"), "settings")
    settings = FrameworkSettings(
        deficit_threshold=df.whole(
            cfg.get("deficit_threshold"), "settings.deficit_threshold", 1, 100
        ),
        route_size=df.whole(cfg.get("route_size"), "settings.route_size", 1, 10),
        retake_days=df.whole(cfg.get("retake_days"), "settings.retake_days", 0, 3650),
    )
    resources = _resources(root.get("resources"))
    comp_codes: set[str] = set()
    statement_codes: set[str] = set()
    competencies = []
    for i, raw in enumerate(df.items(root.get("competencies"), "competencies")):
        where = f"competencies[{i}]"
        item = df.mapping(raw, where)
        code = df.code(item.get("code"), f"{where}.code", _COMP_RE, comp_codes)
        statements_raw = df.items(item.get("statements"), f"{where}.statements")
        if not 2 <= len(statements_raw) <= 8:
            raise FrameworkError(f"{where}.statements: 2 to 8 statements are required")
        statements = tuple(
            Statement(
                code=df.code(
                    df.mapping(s, f"{where}.statements[{j}]").get("code"),
                    f"{where}.statements[{j}].code",
                    _CODE_RE,
                    statement_codes,
                ),
                competency=code,
                text=df.localized(
                    s.get("text"), f"{where}.statements[{j}].text", max_len=300, plain=True
                ),
            )
            for j, s in enumerate(statements_raw)
        )
        grow_raw = df.mapping(item.get("grow"), f"{where}.grow")
        grow = {
            lv.code: df.localized(
                grow_raw.get(lv.code), f"{where}.grow.{lv.code}", max_len=600, plain=True
            )
            for lv in levels
        }
        competencies.append(
            Competency(
                code=code,
                managers_only=bool(item.get("managers_only", False)),
                title=df.localized(item.get("title"), f"{where}.title", max_len=40, plain=True),
                short=df.localized(item.get("short"), f"{where}.short", max_len=20, plain=True),
                description=df.localized(
                    item.get("description"), f"{where}.description", max_len=600, plain=True
                ),
                statements=statements,
                grow=grow,
                steps=_steps(item.get("steps"), f"{where}.steps", resources),
            )
        )
    if len([c for c in competencies if not c.managers_only]) < 3:
        raise FrameworkError("competencies: at least 3 for every teacher are required")
    return Framework(
        version=version,
        title=df.localized(root.get("title"), "title", max_len=100, plain=True),
        intro=df.localized(root.get("intro"), "intro", max_len=1000, plain=True),
        scale=scale,
        levels=tuple(levels),
        settings=settings,
        competencies=tuple(competencies),
        resources=resources,
    )
