"""Use cases between handlers and repositories: no aiogram; each runs in the caller's unit of
work and returns a result plus whatever must be told to whom after the commit."""
