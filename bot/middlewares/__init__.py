"""Middlewares: DB session per update, user load, i18n, anti-flood, consent/profile gates."""

from bot.middlewares.counter import UpdateCounter
from bot.middlewares.gate import GateMiddleware
from bot.middlewares.offload import OFFLOAD, OffloadMiddleware
from bot.middlewares.serial import PerUserSerialMiddleware
from bot.middlewares.session import CommitBeforeSend, DbSessionMiddleware, UnitOfWork
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.user import UserMiddleware

__all__ = [
    "OFFLOAD",
    "CommitBeforeSend",
    "DbSessionMiddleware",
    "GateMiddleware",
    "OffloadMiddleware",
    "PerUserSerialMiddleware",
    "ThrottlingMiddleware",
    "UnitOfWork",
    "UpdateCounter",
    "UserMiddleware",
]
