"""Application settings, read from the environment and `.env` (never at import time)."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.reminders import Policy, parse_quiet

OFFICIAL_API_BASE = "https://api.telegram.org"
SUPPORTED_LOCALES = ("ru", "en")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{10,}$")


#: a webhook secret shorter than this is guessable
WEBHOOK_SECRET_MIN = 24
_SECRET_RE = re.compile(rf"[A-Za-z0-9_-]{{{WEBHOOK_SECRET_MIN},256}}")


class RunMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Every setting of the bot; `.env.example` lists them all."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: str | None = None
    telegram_api_base: str = OFFICIAL_API_BASE
    database_url: str = "sqlite+aiosqlite:///data/metodbot.db"
    redis_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: str = "ru"
    timezone: str = "Europe/Moscow"
    run_mode: RunMode = RunMode.POLLING
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # several worker processes behind the one port (bot/workers.py); >1 needs PostgreSQL + Redis
    webhook_workers: int = Field(default=1, ge=1, le=64)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    log_level: str = "INFO"
    throttle_rate: float = Field(default=1.5, gt=0, description="updates per second per user")
    throttle_burst: int = Field(default=8, ge=1)
    # the outbox (outbox/sender.py) and the scheduler
    outbox_rate: float = Field(default=25, gt=0, description="messages per second")
    outbox_chat_rate: float = Field(default=1, gt=0, description="messages per second per chat")
    outbox_paid_broadcast: bool = False
    outbox_paid_rate: float = Field(default=1000, gt=0, le=1000)
    outbox_concurrency: int = Field(default=8, ge=1, le=100)
    outbox_max_attempts: int = Field(default=5, ge=1, le=50)
    outbox_poll_seconds: float = Field(default=2, gt=0, le=300)
    outbox_lease_seconds: float = Field(default=60, ge=1, le=3600)
    scheduler_tick_seconds: float = Field(default=10, gt=0, le=3600)
    # with REDIS_URL: the scheduler's lease (one process runs the scheduled work) and the
    # per-user lock's lease (both renewed while held; they matter when a process dies)
    scheduler_lease_seconds: float = Field(default=30, ge=1, le=3600)
    user_lock_seconds: float = Field(default=30, ge=1, le=3600)
    # reminders (domain/reminders.py): defaults for users who have not chosen, and the plan
    quiet_hours: str = "21:00-08:00"
    quiet_urgent_minutes: int = Field(default=120, ge=0, le=24 * 60)
    reminder_lead_minutes: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [24 * 60, 60]
    )
    reminder_step_window_days: int = Field(default=3, ge=0, le=60)
    reminder_nudge_every_days: int = Field(default=7, ge=1, le=90)
    reminder_stall_days: int = Field(default=30, ge=1, le=365)
    reminder_unfinished_days: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [2, 7])
    reminder_day_time: time = time(10, 0)
    agenda_time: time = time(8, 0)
    summary_time: time = time(10, 0)

    @field_validator("bot_token", "redis_url", "webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("reminder_lead_minutes", "reminder_unfinished_days", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            for part in parts:
                if not re.fullmatch(r"\d{1,6}", part) or int(part) == 0:
                    raise ValueError(f"expected comma-separated positive numbers, got {part!r}")
            return [int(p) for p in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("reminder_lead_minutes", "reminder_unfinished_days")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("every number must be positive")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _check_quiet(cls, value: str) -> str:
        try:
            parse_quiet(value)
        except ValueError as exc:
            raise ValueError('expected "HH:MM-HH:MM" (e.g. 21:00-08:00) or "off"') from exc
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if value is not None and not _TOKEN_RE.match(value):
            raise ValueError("must look like 123456:ABC-token from @BotFather")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            for part in parts:
                if not re.fullmatch(r"-?\d+", part):
                    raise ValueError(f"expected comma-separated Telegram ids, got {part!r}")
            return [int(p) for p in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_api_base", "webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown IANA time zone (e.g. Europe/Moscow)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.run_mode is RunMode.WEBHOOK:
            if not self.webhook_url:
                raise ValueError("WEBHOOK_URL is required when RUN_MODE=webhook")
            # without a secret anyone who finds the URL can post updates "from" an admin
            if self.webhook_secret is None:
                raise ValueError(
                    "WEBHOOK_SECRET is required when RUN_MODE=webhook "
                    f"({WEBHOOK_SECRET_MIN}-256 characters of A-Z a-z 0-9 _ -)"
                )
            if not _SECRET_RE.fullmatch(self.webhook_secret):
                raise ValueError(
                    f"WEBHOOK_SECRET: {WEBHOOK_SECRET_MIN}-256 characters of A-Z a-z 0-9 _ -"
                )
        if self.webhook_workers > 1:
            # the workers share conversations (Redis FSM storage), the per-user lock and the
            # scheduler lease (Redis) and the data (one PostgreSQL: SQLite takes one writer)
            if self.run_mode is not RunMode.WEBHOOK:
                raise ValueError("WEBHOOK_WORKERS: more than 1 needs RUN_MODE=webhook")
            if not self.redis_url:
                raise ValueError("WEBHOOK_WORKERS: more than 1 needs REDIS_URL")
            if self.is_sqlite:
                raise ValueError(
                    "WEBHOOK_WORKERS: more than 1 needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://...)"
                )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def reminders(self) -> Policy:
        return Policy.build(
            event_lead_minutes=self.reminder_lead_minutes,
            step_window_days=self.reminder_step_window_days,
            nudge_every_days=self.reminder_nudge_every_days,
            stall_days=self.reminder_stall_days,
            unfinished_days=self.reminder_unfinished_days,
            day_time=self.reminder_day_time,
            agenda_time=self.agenda_time,
            summary_time=self.summary_time,
            default_quiet=self.quiet_hours,
            urgent_minutes=self.quiet_urgent_minutes,
            default_tz=self.tz,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class SettingsError(Exception):
    """A setting is missing or malformed; `str()` is one line naming it."""


def describe_validation_error(exc: ValidationError) -> str:
    """One human line naming the first bad setting."""
    err = exc.errors()[0]
    loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if loc:
        return f"{loc[0].upper()}: {msg}"
    return msg


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env (+ overrides); raise SettingsError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
