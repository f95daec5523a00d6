"""Slicing long lists into pages for inline keyboards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page < self.pages - 1


def paginate(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """The page `page` (clamped into range, so a stale button never fails)."""
    if per_page < 1:
        raise ValueError("per_page must be >= 1")
    pages = max(1, -(-len(items) // per_page))
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    return Page(items=items[start : start + per_page], page=page, pages=pages)
