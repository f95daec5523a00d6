"""Settings: defaults, parsing, and one clear line for a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import RunMode, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "RUN_MODE", "WEBHOOK_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/metodbot.db"
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.default_locale == "ru" and settings.timezone == "Europe/Moscow"
    assert settings.run_mode is RunMode.POLLING and settings.admin_ids == []


def test_env_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_IDS=1, 2 3\nTELEGRAM_API_BASE=http://127.0.0.1:8081/\n")
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    settings = load_settings()
    assert settings.admin_ids == [1, 2, 3]
    assert settings.telegram_api_base == "http://127.0.0.1:8081"
    assert settings.bot_token == "123456:ABCDEFGHIJKLMNOP"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("BOT_TOKEN", "nonsense", "BOT_TOKEN:"),
        ("ADMIN_IDS", "1,abc", "ADMIN_IDS:"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL:"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE:"),
        ("DEFAULT_LOCALE", "de", "DEFAULT_LOCALE:"),
        ("WEBHOOK_PORT", "99999", "WEBHOOK_PORT:"),
        ("RUN_MODE", "webhook", "WEBHOOK_URL is required"),
        ("TELEGRAM_API_BASE", "ftp://x", "TELEGRAM_API_BASE:"),
    ],
)
def test_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TIMEZONE": "Nowhere/Land", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "metodbot: TIMEZONE: unknown IANA time zone (e.g. Europe/Moscow)"
    ]
    assert "Traceback" not in proc.stderr


def test_run_without_token_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    # one line: the settings are checked before anything starts (no migration chatter)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "BOT_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("secret", "fragment"),
    [
        (None, "WEBHOOK_SECRET is required"),
        ("short", "WEBHOOK_SECRET:"),
        ("x" * 23, "WEBHOOK_SECRET:"),
    ],
)
def test_webhook_mode_needs_a_long_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, fragment: str
) -> None:
    monkeypatch.setenv("RUN_MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    if secret is not None:
        monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert fragment in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("WEBHOOK_SECRET", "A" * 24)
    assert load_settings().webhook_secret == "A" * 24


def test_webhook_without_secret_exits_2_before_starting(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij",
        "RUN_MODE": "webhook",
        "WEBHOOK_URL": "https://bot.example.org/hook",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "metodbot: WEBHOOK_SECRET is required when RUN_MODE=webhook "
        "(24-256 characters of A-Z a-z 0-9 _ -)"
    ]
