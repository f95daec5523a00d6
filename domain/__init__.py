"""Pure domain rules: no aiogram, no database. Unit-tested directly."""
