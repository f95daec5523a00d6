"""A small, valid framework document for tests (independent of the shipped content)."""

from __future__ import annotations

import copy
from typing import Any

KINDS = ["learn", "practice", "masterclass", "mentoring", "mentoring", "transfer", "reflection"]


def _loc(text: str) -> dict[str, str]:
    return {"ru": f"{text} (ru)", "en": text}


def framework_doc(
    competencies: int = 4, statements: int = 4, version: str = "t1"
) -> dict[str, Any]:
    comps = []
    for c in range(competencies):
        code = f"comp_{chr(97 + c)}"
        steps = []
        for i, kind in enumerate(KINDS):
            audience = "all"
            if kind == "mentoring":
                audience = "young" if i == 3 else "experienced"
            steps.append(
                {
                    "kind": kind,
                    "audience": audience,
                    "title": _loc(f"{kind} {code}"),
                    "what": _loc("what"),
                    "how": _loc("how"),
                    "days": 7 + i,
                    "resources": ["res1"] if kind == "learn" else [],
                }
            )
        comps.append(
            {
                "code": code,
                "managers_only": c == competencies - 1,
                "title": _loc(f"Competency {c}"),
                "short": _loc(f"C{c}"),
                "description": _loc("desc"),
                "statements": [
                    {"code": f"{code[-1]}{j}", "text": _loc(f"I do {code} {j}")}
                    for j in range(statements)
                ],
                "grow": {
                    lv: _loc(f"grow {lv}") for lv in ("initial", "basic", "confident", "expert")
                },
                "steps": steps,
            }
        )
    return {
        "version": version,
        "title": _loc("Framework"),
        "intro": _loc("Intro"),
        "scale": [{"value": v, "label": _loc(f"v{v}")} for v in range(4)],
        "levels": [
            {"code": "initial", "min": 0, "name": _loc("Initial")},
            {"code": "basic", "min": 40, "name": _loc("Basic")},
            {"code": "confident", "min": 65, "name": _loc("Confident")},
            {"code": "expert", "min": 85, "name": _loc("Expert")},
        ],
        "settings": {"deficit_threshold": 60, "route_size": 3, "retake_days": 90},
        "competencies": comps,
        "resources": [
            {"code": "res1", "kind": "portal", "title": _loc("Portal"), "url": "https://edsoo.ru/"}
        ],
    }


def mutated(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(framework_doc())
    doc.update(changes)
    return doc
