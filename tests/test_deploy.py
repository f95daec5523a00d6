"""The deployment files (deploy/) name only settings the bot knows and commands it has: a typo
in compose.yaml, the example environment or a systemd unit would start a bot that silently
ignores the value (pydantic-settings drops unknown variables) or fails to start at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.__main__ import _parser
from core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
#: read by compose itself or by the telegram-bot-api image, not by the bot
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "TELEGRAM_API_ID", "TELEGRAM_API_HASH"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_compose_runs_migrations_once_before_the_workers() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "bot", "telegram-bot-api"} <= set(services)
    assert services["migrate"]["command"] == ["migrate"]
    assert services["bot"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert services["telegram-bot-api"]["profiles"] == ["local-api"]
    for name in ("migrate", "bot"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["REDIS_URL"].startswith("redis://")
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name}: not settings of the bot: {unknown}"


def test_the_example_environment_names_only_known_settings() -> None:
    names = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (DEPLOY / "compose.env.example").read_text(), re.M)
    )
    assert {"BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "POSTGRES_PASSWORD"} <= names
    assert not names - SETTINGS - COMPOSE_ONLY


def test_systemd_units_run_commands_the_bot_has() -> None:
    for unit in ("metodbot.service", "metodbot@.service", "metodbot-migrate.service"):
        text = (DEPLOY / unit).read_text().replace("\\\n", " ")
        execs = re.findall(r"^Exec\w+=(.+)$", text, re.M)
        assert execs, unit
        for line in execs:
            used = re.search(r"-m bot (\S+)", line)
            assert used is not None, (unit, line)
            assert _parser().parse_args([used.group(1)]).command == used.group(1)
            for name in re.findall(r"\b([A-Z][A-Z_]+)=", line):
                assert name in SETTINGS, (unit, name)
