"""Persistence: models, migrations, the engine and the repository facade (the one DB layer)."""
