"""Keyboards shared by several screens, one module per feature; the buttons carry the typed
callback data of `ui.callbacks`."""
