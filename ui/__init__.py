"""Presentation without handlers: callback data, keyboards, formatting and generated files.

Nothing here imports `handlers`; the handlers, the scheduler and the outbox renderer import
from here."""
