"""Route resources by region: a regional institute is offered only to the teachers of its
region, federal resources to everyone (pure rules in domain.framework / domain.route)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from domain.framework import Framework, FrameworkError, StepKind, parse_framework
from domain.route import Pace, build_route, resources_for
from tests.framework_doc import framework_doc

SHIPPED = Path(__file__).resolve().parents[2] / "domain" / "content" / "framework.yaml"
ROSTOV = ("Ростовская область", "Rostov Oblast")
KRASNODAR = ("Краснодарский край", "Krasnodar Krai")
STAVROPOL = ("Ставропольский край", "Stavropol Krai")
INSTITUTES = {"ripkro": ROSTOV, "iro23": KRASNODAR, "skiro": STAVROPOL}


@pytest.fixture(scope="module")
def shipped() -> Framework:
    with SHIPPED.open(encoding="utf-8") as fp:
        return parse_framework(yaml.safe_load(fp))


def test_the_shipped_regional_institutes_name_their_regions(shipped: Framework) -> None:
    regional = {code: r.region for code, r in shipped.resources.items() if r.region}
    assert {code: (loc.ru, loc.en) for code, loc in regional.items()} == INSTITUTES
    assert shipped.resources["ripkro"].url == "https://ripkro.ru/"
    assert shipped.resources["apkpro_catalog"].region is None


@pytest.mark.parametrize("region", [ROSTOV, KRASNODAR, STAVROPOL])
def test_each_region_gets_its_own_institute_and_the_federal_ones(
    shipped: Framework, region: tuple[str, str]
) -> None:
    own = next(code for code, names in INSTITUTES.items() if names == region)
    seen: set[str] = set()
    for comp in shipped.competencies:
        for step in comp.steps:
            chosen = {r.code for r in resources_for(shipped, step, region)}
            federal = {c for c in step.resources if shipped.resources[c].region is None}
            assert federal <= chosen  # federal ones for everyone
            assert chosen - federal <= {own}, (comp.code, chosen)
            seen |= chosen
    assert own in seen


def test_without_a_known_region_only_federal_resources(shipped: Framework) -> None:
    for comp in shipped.competencies:
        for step in comp.steps:
            assert all(r.region is None for r in resources_for(shipped, step, ()))
            if step.kind is StepKind.LEARN:  # a learning step always keeps something
                assert resources_for(shipped, step, ())


def test_region_names_match_loosely(shipped: Framework) -> None:
    step = shipped.competency("assessment").steps[0]
    for names in (["ростовская  область"], ["ROSTOV OBLAST"], ["", "Rostov Oblast"]):
        assert "ripkro" in {r.code for r in resources_for(shipped, step, names)}
    assert "ripkro" not in {r.code for r in resources_for(shipped, step, ["Ростов"])}


def test_a_volgodonsk_route_has_no_other_regions_institute(shipped: Framework) -> None:
    route = build_route(
        shipped,
        [c.code for c in shipped.competencies],
        young=False,
        pace=Pace.NORMAL,
        start=date(2026, 12, 1),
        region_names=ROSTOV,  # Volgodonsk is in Rostov Oblast (db/reference/sample.yaml)
    )
    codes = {r.code for step in route for r in step.resources}
    assert "ripkro" in codes and "apkpro_catalog" in codes
    assert not codes & {"skiro", "iro23"}


def test_a_learn_step_needs_a_resource_for_everyone() -> None:
    doc = framework_doc()
    doc["resources"].append(
        {
            "code": "res_reg",
            "title": {"ru": "Институт", "en": "Institute"},
            "url": "https://example.org/",
            "region": {"ru": "Ростовская область", "en": "Rostov Oblast"},
        }
    )
    learn = doc["competencies"][0]["steps"][0]
    assert learn["kind"] == "learn"
    learn["resources"] = ["res_reg"]
    with pytest.raises(FrameworkError, match=r"steps\[0\]\.resources: .*without a region"):
        parse_framework(doc)
    learn["resources"] = ["res_reg", "res1"]
    framework = parse_framework(doc)
    assert framework.resources["res_reg"].region is not None
