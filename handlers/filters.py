"""Role filter: the role and the staff scope are re-read from the database before anything is
allowed; the cached role (`UserContext.role`, loaded by the user middleware) only refuses early.

A user whose cached role is below the router's minimum is refused without a query: the cache is
dropped whenever this process changes a user (`UnitOfWork.after_commit`) and lives `ttl`
seconds otherwise, so at worst a promotion made elsewhere shows a little later — a cached role
never grants anything. When the cached role is high enough, the row and the scope are read once
per update (the routers' filters share the answer) and decide. Handlers behind it get `staff`
(the row), `role` (effective) and `scope` (`domain.scope.Scope`: where they act)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakKeyDictionary

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain.roles import Role, effective_role
from domain.scope import Scope

ROLE_VALUES = frozenset(r.value for r in Role)

#: what the database said about the update's user, per unit of work (one `Repo` per update)
_checked: WeakKeyDictionary[Repo, tuple[User, Role, Scope | None] | None] = WeakKeyDictionary()


async def _staff(
    repo: Repo, ctx: UserContext, admin_ids: frozenset[int]
) -> tuple[User, Role, Scope | None] | None:
    if repo in _checked:
        return _checked[repo]
    row = await repo.users.get(ctx.id)
    found: tuple[User, Role, Scope | None] | None = None
    if row is not None and row.telegram_id is not None:
        stored = Role(row.role) if row.role in ROLE_VALUES else Role.TEACHER
        scope = await repo.staff.scope(row, stored) if stored.scoped else None
        role = effective_role(row.role, row.telegram_id, admin_ids, has_scope=scope is not None)
        found = (row, role, await repo.staff.scope(row, role))
    _checked[repo] = found
    return found


class RoleFilter(Filter):
    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        ctx: UserContext | None = data.get("user")
        repo: Repo | None = data.get("repo")
        if ctx is None or repo is None or not ctx.role.at_least(self.minimum):
            return False
        found = await _staff(repo, ctx, data.get("admin_ids", frozenset()))
        if found is None or not found[1].at_least(self.minimum):
            return False
        row, role, scope = found
        return {"staff": row, "role": role, "scope": scope}


class PrivateChat(Filter):
    """Only updates from a private chat (a message's, or a callback's message's chat)."""

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, CallbackQuery):
            message = event.message
            return message is not None and message.chat.type == ChatType.PRIVATE
        return isinstance(event, Message) and event.chat.type == ChatType.PRIVATE


def _inline(callback: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run


def run_sync_filters_inline(root: Router) -> int:
    """aiogram checks a synchronous filter (a magic `F` filter, an FSM `State`, a lambda) in a
    worker thread (`asyncio.to_thread`), a thread hop for every handler it looks at, on every
    update. All of ours are cheap and pure, so run them on the event loop instead: every
    handler filter of `root` and its sub-routers becomes awaitable (the arguments it is given
    stay the same). Returns how many were changed."""
    changed = 0
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in observer.handlers:
                for flt in handler.filters or ():
                    if not flt.awaitable:
                        flt.callback = _inline(flt.callback)
                        flt.awaitable = True
                        changed += 1
    return changed


class CallbackPrefixes(Filter):
    """A router's root filter (`index_callbacks`): a callback enters the router only if its
    data starts with a prefix one of the router's handlers accepts."""

    def __init__(self, prefixes: frozenset[tuple[str, str]]) -> None:
        #: (separator, prefix) pairs; `CallbackData` classes may choose their separator
        self.prefixes = prefixes
        self.separators = frozenset(sep for sep, _prefix in prefixes)

    async def __call__(self, event: TelegramObject) -> bool:
        data = event.data if isinstance(event, CallbackQuery) else None
        if not data:
            return False
        return any((sep, data.split(sep, 1)[0]) in self.prefixes for sep in self.separators)


def _accepted_prefixes(router: Router) -> frozenset[tuple[str, str]] | None:
    """The (separator, prefix) pairs of every callback handler of `router` and its
    sub-routers; None when one of them may take a callback of any data (no `CallbackData`
    filter: `F.data == ...`, a catch-all)."""
    found: set[tuple[str, str]] = set()
    for each in router.chain_tail:
        for handler in each.callback_query.handlers:
            kinds = [
                flt.callback.callback_data
                for flt in handler.filters or ()
                if isinstance(flt.callback, CallbackQueryFilter)
            ]
            if not kinds:
                return None
            # all of a handler's filters must pass: any one CallbackData filter bounds it
            found.add((kinds[0].__separator__, kinds[0].__prefix__))
    return frozenset(found)


def index_callbacks(root: Router) -> int:
    """Give each of `root`'s routers whose callback handlers all take `CallbackData` a root
    filter on the callback's prefix, checked first: a button press no longer walks the
    handler filters (and role checks) of every router before its own — 43 handler checks in
    15 routers for an event card before. Exactly equivalent: a callback of another prefix
    matches none of that router's handlers. Returns how many routers got one."""
    indexed = 0
    for router in root.sub_routers:
        prefixes = _accepted_prefixes(router)
        if prefixes is None:
            continue
        root_filters = router.callback_query._handler.filters
        flt = FilterObject(CallbackPrefixes(prefixes))
        if root_filters is None:
            router.callback_query._handler.filters = [flt]
        else:
            root_filters.insert(0, flt)
        indexed += 1
    return indexed
