"""Deep links, pagination, throttling, roles, the user cache."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.usercache import UserCache, UserContext
from domain.deeplinks import DeepLink, make_link, parse_payload
from domain.ids import parse_id
from domain.pagination import paginate
from domain.roles import Role, effective_role
from domain.scope import Assignment, Scope, scope_of
from domain.throttle import TokenBucketLimiter, Verdict


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("event_12", DeepLink("event_12", "event", "12")),
        ("site_3", DeepLink("site_3", "site", "3")),
        ("invite-AbC_9", DeepLink("invite-AbC_9", "", "invite-AbC_9")),
        ("a" * 64, DeepLink("a" * 64, "", "a" * 64)),
    ],
)
def test_payloads_parse(raw: str, expected: DeepLink) -> None:
    assert parse_payload(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "a" * 65, "event 12", "событие_1", "x/../y", "a;b"])
def test_bad_payloads_are_refused(raw: str | None) -> None:
    assert parse_payload(raw) is None


def test_make_link_refuses_invalid_payloads() -> None:
    assert make_link("metodbot", "event_5") == "https://t.me/metodbot?start=event_5"
    with pytest.raises(ValueError):
        make_link("metodbot", "bad payload")


@given(st.lists(st.integers(), max_size=60), st.integers(-5, 20), st.integers(1, 12))
def test_pagination_covers_every_item_once(items: list[int], page: int, per_page: int) -> None:
    result = paginate(items, page, per_page)
    assert 0 <= result.page < result.pages
    pages = [paginate(items, p, per_page).items for p in range(result.pages)]
    assert [x for chunk in pages for x in chunk] == items


def test_token_bucket_warns_once_then_drops_then_recovers() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(rate=1.0, burst=3, clock=lambda: now[0])
    assert [limiter.hit(1) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.hit(1) is Verdict.WARN
    assert limiter.hit(1) is Verdict.DROP
    assert limiter.hit(2) is Verdict.ALLOW  # another user is unaffected
    now[0] += 1.0
    assert limiter.hit(1) is Verdict.ALLOW
    assert limiter.hit(1, cost=3) is Verdict.WARN


def test_admin_ids_always_win_and_unknown_roles_fall_back() -> None:
    assert effective_role("teacher", 7, frozenset({7}), has_scope=False) is Role.ADMIN
    assert effective_role("coordinator", 8, frozenset({7}), has_scope=True) is Role.COORDINATOR
    assert effective_role("nonsense", 8, frozenset(), has_scope=True) is Role.TEACHER


def test_a_coordinator_acts_only_within_an_assigned_scope() -> None:
    assert effective_role("coordinator", 8, frozenset(), has_scope=False) is Role.TEACHER
    assert effective_role("school_methodist", 8, frozenset(), has_scope=False) is Role.TEACHER
    assert (
        effective_role("school_methodist", 8, frozenset(), has_scope=True) is Role.SCHOOL_METHODIST
    )
    assert scope_of(Role.COORDINATOR, [Assignment(municipality_id=5)]) == Scope(frozenset({5}))
    assert scope_of(Role.ADMIN, []) == Scope.whole_region()
    assert scope_of(Role.COORDINATOR, []) is None
    assert scope_of(Role.SCHOOL_METHODIST, [Assignment(municipality_id=5)]) is None
    assert Role.TEACHER.rank < Role.SCHOOL_METHODIST.rank < Role.COORDINATOR.rank


def test_typed_ids_are_ascii_digits_within_bounds() -> None:
    assert parse_id(" 42 ") == 42
    for bad in ("²", "٣", "--5", "-5", "0", "", "4 2", "1e3", "99999999999999999999"):
        assert parse_id(bad) is None, bad
    assert Role.ADMIN.at_least(Role.COORDINATOR) and not Role.TEACHER.at_least(Role.COORDINATOR)


def test_user_cache_expires_and_invalidates() -> None:
    now = [0.0]
    cache = UserCache(ttl=10, max_size=2, clock=lambda: now[0])
    ctx = UserContext(1, 100, "ru", Role.TEACHER, "given", True)
    cache.put(ctx)
    assert cache.get(100) == ctx
    cache.invalidate(100)
    assert cache.get(100) is None
    cache.put(ctx)
    now[0] = 11
    assert cache.get(100) is None
    for tid in (1, 2, 3):
        cache.put(UserContext(tid, tid, "ru", Role.TEACHER, "none", False))
    assert cache.get(1) is None and cache.get(3) is not None
