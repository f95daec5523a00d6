"""Typed callback data, one module per feature. Actions are `StrEnum`s whose values are the
strings packed into the buttons, so buttons already sent keep working; ids only, 64 bytes at
most."""
