"""Presentation without handlers: callback data, keyboards, formatting and generated files.

Nothing here imports `handlers`, `services`, `outbox` or `scheduler`; the handlers and the
outbox renderer (`outbox.render`) import from here."""
