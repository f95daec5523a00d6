"""/start, consent to personal-data processing, /privacy, /language and deep links."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.commands import set_user_commands
from core.clock import Clock
from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain.profile import address_name
from domain.roles import Role
from handlers.common import show
from handlers.deeplinks import route_payload
from handlers.invites import notice_at_start
from handlers.profile import begin_profile
from services import profile as service
from services.profile import Consent
from ui import texts
from ui.callbacks.onboarding import ConsentAction, ConsentCb, LangCb
from ui.formatting import h
from ui.keyboards.common import button, rows
from ui.keyboards.menu import main_menu

LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}


def consent_keyboard(language: str) -> InlineKeyboardMarkup:
    other = "en" if language == "ru" else "ru"
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("✅ I agree"), ConsentCb(action=ConsentAction.AGREE))],
            [button(_("📄 Read the full policy"), ConsentCb(action=ConsentAction.POLICY))],
            [button(_("✖️ I do not agree"), ConsentCb(action=ConsentAction.DECLINE))],
            [button(LANGUAGE_NAMES[other], LangCb(code=other))],
        ]
    )


async def greet_member(message: Message, user: User, role: Role) -> None:
    name = address_name(user.full_name)
    await message.answer(
        _("Welcome back, {name}! Choose a section in the menu below.").format(name=h(name))
        if name
        else _("Welcome back! Choose a section in the menu below."),
        reply_markup=main_menu(role),
    )


async def cmd_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    await state.clear()
    if not await service.remember_link(repo, user.id, command.args):
        await message.answer(_("This link looks broken, so I simply opened the bot for you."))
    elif not user.profile_complete:
        await notice_at_start(message, repo, command.args, clock.now())
    if not user.consented:
        await message.answer(texts.welcome())
        await message.answer(texts.consent_request(), reply_markup=consent_keyboard(user.language))
        return
    if not user.profile_complete:
        await message.answer(_("Welcome back! Let us finish your profile."))
        await begin_profile(message, state, repo, user.id)
        return
    db_user = await repo.users.require(user.id)
    await greet_member(message, db_user, user.role)
    await route_payload(message, repo, db_user, tz, clock.now())


async def consent_agree(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext, clock: Clock
) -> None:
    consent = await service.give_consent(repo, user.id, texts.CONSENT_VERSION, clock.now())
    if consent is Consent.ALREADY_GIVEN:
        await query.answer(_("Your consent is already recorded."))
        return
    await show(
        query,
        _("✅ Thank you! Your consent is recorded. Now a few questions for your profile."),
    )
    assert isinstance(query.message, Message)
    await begin_profile(query.message, state, repo, user.id)


async def consent_decline(
    query: CallbackQuery, repo: Repo, user: UserContext, clock: Clock
) -> None:
    if await service.decline_consent(repo, user.id, clock.now()) is Consent.ALREADY_GIVEN:
        await query.answer(
            _("Your consent is already recorded. To withdraw it, use /deleteme."),
            show_alert=True,
        )
        return
    await show(
        query,
        texts.consent_declined(),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("✅ I changed my mind: I agree"), ConsentCb(action=ConsentAction.AGREE))]
            ]
        ),
    )


async def consent_policy(query: CallbackQuery, user: UserContext) -> None:
    await query.answer()
    assert query.message is not None
    markup = None if user.consented else consent_keyboard(user.language)
    await query.bot.send_message(query.message.chat.id, texts.privacy_policy(), reply_markup=markup)  # type: ignore[union-attr]


async def cmd_privacy(message: Message, user: UserContext) -> None:
    markup = None if user.consented else consent_keyboard(user.language)
    await message.answer(texts.privacy_policy(), reply_markup=markup)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=rows(
            [button(name, LangCb(code=code)) for code, name in LANGUAGE_NAMES.items()],
            2,
        )
    )


async def cmd_language(message: Message) -> None:
    await message.answer(_("Choose the language of the bot:"), reply_markup=language_keyboard())


async def pick_language(
    query: CallbackQuery,
    callback_data: LangCb,
    repo: Repo,
    user: UserContext,
    i18n: I18n,
    bot: Bot,
    state: FSMContext,
) -> None:
    code = callback_data.code
    if code not in LANGUAGE_NAMES:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    assert isinstance(query.message, Message)
    db_user = await service.set_language(repo, user.id, code)
    with i18n.use_locale(code):
        await query.answer()
        if not user.consented:
            # the consent screen itself switches language in place
            await query.message.edit_text(
                texts.consent_request(), reply_markup=consent_keyboard(code)
            )
            return
        await query.message.edit_text(_("Done: I will speak English now."))
        if user.role is not Role.TEACHER:
            await set_user_commands(bot, i18n, user.telegram_id, user.role, code)
        if await state.get_state() is None and db_user.profile_completed_at is not None:
            await query.message.answer(_("Menu updated."), reply_markup=main_menu(user.role))


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="onboarding")
    router.message.register(cmd_start, CommandStart())
    router.callback_query.register(consent_agree, ConsentCb.filter(F.action == ConsentAction.AGREE))
    router.callback_query.register(
        consent_decline, ConsentCb.filter(F.action == ConsentAction.DECLINE)
    )
    router.callback_query.register(
        consent_policy, ConsentCb.filter(F.action == ConsentAction.POLICY)
    )
    router.message.register(cmd_privacy, Command("privacy"))
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(pick_language, LangCb.filter())
    return router
