"""The teacher's listing of upcoming events as one SQL query (`TeacherEvents`), and the JSON
list tests it is made of (`json_list_has`, `json_list_empty`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    bindparam,
    case,
    cast,
    false,
    literal,
    or_,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Event
from domain.events import EventStatus


def _json_text(column: InstrumentedAttribute[list[str]]) -> ColumnElement[str]:
    return cast(column, Text)


def json_list_has(
    column: InstrumentedAttribute[list[str]], code: str, name: str | None = None
) -> ColumnElement[bool]:
    """The JSON list of strings in `column` holds `code`, on SQLite and PostgreSQL alike.

    A LIKE on the JSON text for the quoted string (`"math"`, LIKE wildcards escaped): the quotes
    delimit whole elements, so `"math"` never matches `"mathematics"`, and both databases keep
    the text of a `JSON` value as written. JSON functions would be exact too but differ
    (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL); the codes are slugs.
    `name`: the patterns are bound under names built from it (`TeacherEvents`), else
    anonymously."""
    text = _json_text(column)
    return or_(
        *(
            text.like(bindparam(f"{name}_{n}" if name else None, pattern), escape="/")
            for n, pattern in enumerate(_like_patterns(code))
        )
    )


def json_list_empty(column: InstrumentedAttribute[list[str]]) -> ColumnElement[bool]:
    return or_(column.is_(None), _json_text(column).in_(["[]", "null"]))


def _like_patterns(code: str) -> list[str]:
    """`json_list_has`'s LIKE patterns for `code` (its JSON forms), escaped with `/` as
    SQLAlchemy's `autoescape` does."""
    needles = {json.dumps(code), json.dumps(code, ensure_ascii=False)}
    escaped = (n.replace("/", "//").replace("%", "/%").replace("_", "/_") for n in needles)
    return [f"%{n}%" for n in sorted(escaped)]


@dataclass(frozen=True, slots=True)
class TeacherEvents:
    """Which upcoming events a teacher's list shows, as one SQL query.

    The audience (the same rule as `domain.events.eligible`): region-wide or of the teacher's
    municipality, positions empty or holding the teacher's, subjects empty or sharing one.
    Then the list's own filters; with `weights` (competency -> weight,
    `domain.events.interest_weights`) only events of positive relevance, soonest first.

    Every value is a named bound parameter: two queries of the same `shape()` build the same
    SQL, so a statement built once per shape serves every teacher of that shape with their
    own `params()` (the teacher's list: `db.repositories.event_views`)."""

    now: datetime
    municipality_id: int | None
    position: str | None
    subjects: Sequence[str] = ()
    until: datetime | None = None
    organised_by: int | None = None
    competency: str | None = None
    kinds: Sequence[str] = ()
    site_id: int | None = None
    weights: Mapping[str, int] = field(default_factory=dict)
    relevant_only: bool = False

    def _weights(self) -> list[tuple[str, int]]:
        return [(code, weight) for code, weight in sorted(self.weights.items()) if weight]

    def shape(self) -> tuple[Any, ...]:
        """What decides the SQL of `conditions()` and `score()` (not the values)."""
        return (
            self.municipality_id is not None,
            bool(self.position),
            tuple(len(_like_patterns(code)) for code in self.subjects),
            self.until is not None,
            self.organised_by is not None,
            None if self.competency is None else len(_like_patterns(self.competency)),
            bool(self.kinds),
            self.site_id is not None,
            bool(self.weights),
            tuple(len(_like_patterns(code)) for code, _w in self._weights()),
            self.relevant_only,
        )

    def params(self) -> dict[str, Any]:
        """The bound values of `conditions()` and `score()`, by name."""
        out: dict[str, Any] = {"te_now": self.now}
        if self.municipality_id is not None:
            out["te_muni"] = self.municipality_id
        if self.position:
            out.update(_named("te_pos", self.position))
        for i, code in enumerate(self.subjects):
            out.update(_named(f"te_subj{i}", code))
        if self.until is not None:
            out["te_until"] = self.until
        if self.organised_by is not None:
            out["te_org"] = self.organised_by
        if self.competency is not None:
            out.update(_named("te_comp", self.competency))
        if self.kinds:
            out["te_kinds"] = list(self.kinds)
        if self.site_id is not None:
            out["te_site"] = self.site_id
        for i, (code, weight) in enumerate(self._weights()):
            out.update(_named(f"te_w{i}", code))
            out[f"te_w{i}_weight"] = weight
        return out

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            Event.status == EventStatus.SCHEDULED.value,
            Event.starts_at > bindparam("te_now", self.now),
            or_(
                Event.region_wide == true(),
                Event.municipality_id == bindparam("te_muni", self.municipality_id)
                if self.municipality_id is not None
                else false(),
            ),
            or_(
                json_list_empty(Event.positions),
                json_list_has(Event.positions, self.position, "te_pos")
                if self.position
                else false(),
            ),
            or_(
                json_list_empty(Event.subjects),
                *(
                    json_list_has(Event.subjects, code, f"te_subj{i}")
                    for i, code in enumerate(self.subjects)
                ),
            ),
        ]
        if self.until is not None:
            where.append(Event.starts_at <= bindparam("te_until", self.until))
        if self.organised_by is not None:
            where.append(Event.municipality_id == bindparam("te_org", self.organised_by))
        if self.competency is not None:
            where.append(json_list_has(Event.competencies, self.competency, "te_comp"))
        if self.kinds:
            where.append(Event.kind.in_(bindparam("te_kinds", list(self.kinds), expanding=True)))
        if self.site_id is not None:
            where.append(Event.site_id == bindparam("te_site", self.site_id))
        if self.relevant_only:
            where.append(self.score() > 0)
        return where

    def score(self) -> ColumnElement[int]:
        """`domain.events.relevance` in SQL: the weights of the event's competencies."""
        terms = [
            case(
                (
                    json_list_has(Event.competencies, code, f"te_w{i}"),
                    bindparam(f"te_w{i}_weight", weight, type_=Integer),
                ),
                else_=0,
            )
            for i, (code, weight) in enumerate(self._weights())
        ]
        total: ColumnElement[int] = literal(0)
        for term in terms:
            total = total + term
        return total


def _named(name: str, code: str) -> dict[str, str]:
    return {f"{name}_{n}": pattern for n, pattern in enumerate(_like_patterns(code))}
