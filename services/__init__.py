"""Use cases: no aiogram; each runs in the caller's unit of work (see STYLE.md)."""
