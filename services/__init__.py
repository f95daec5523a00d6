"""Use cases between handlers and repositories: no aiogram; each runs in the caller's unit of
work, never commits, and returns a result plus the notices it produced (what must be told to
whom after the commit)."""
