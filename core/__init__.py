"""What every layer may use: settings, the clock, i18n catalogs, the per-user cache."""
