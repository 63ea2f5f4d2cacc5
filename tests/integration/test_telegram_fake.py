"""The fake Bot API is faithful: aiogram's own client works against it, and our client reads
its errors the way aiogram does (429 → retry_after, 403 → forbidden, 400 → bad request)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)

from tests.support.fake_telegram import FakeTelegram
from tests.support.tg import BOT_USER_ID, CHANNEL_ID, TOKEN, fake_for
from xtracker.kit.clock import FrozenClock
from xtracker.telegram import client as tgc
from xtracker.telegram.client import TelegramClient

USER = 424242


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with fake_for(FrozenClock(1_765_432_100_000)) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
    async with Bot(TOKEN, session=session) as b:
        yield b


class TestAiogramAgainstTheFake:
    async def test_identity_chat_and_admin_rights_parse(self, bot: Bot) -> None:
        me = await bot.get_me()
        assert (me.id, me.username, me.is_bot) == (BOT_USER_ID, "promo_funnel_bot", True)
        chat = await bot.get_chat("@promo_channel")
        assert chat.id == CHANNEL_ID and chat.type == "channel"
        member = await bot.get_chat_member(CHANNEL_ID, BOT_USER_ID)
        assert isinstance(member, ChatMemberAdministrator) and member.can_invite_users
        admins = await bot.get_chat_administrators(CHANNEL_ID)
        assert [a.user.id for a in admins] == [BOT_USER_ID]
        assert await bot.get_chat_member_count(CHANNEL_ID) == 1201

    async def test_invite_links_and_join_requests(self, bot: Bot, tg: FakeTelegram) -> None:
        link = await bot.create_chat_invite_link(
            CHANNEL_ID, name="spring", creates_join_request=True
        )
        assert link.creates_join_request and link.name == "spring"
        assert link.invite_link.startswith("https://t.me/+")
        with pytest.raises(TelegramBadRequest):
            await bot.create_chat_invite_link(CHANNEL_ID, name="x" * 33)
        with pytest.raises(TelegramBadRequest):
            await bot.create_chat_invite_link(CHANNEL_ID, creates_join_request=True, member_limit=1)
        update = Update.model_validate(tg.join_request(TOKEN, CHANNEL_ID, USER, link.invite_link))
        assert update.chat_join_request is not None
        assert update.chat_join_request.invite_link is not None
        assert update.chat_join_request.invite_link.invite_link == link.invite_link
        assert update.chat_join_request.user_chat_id == USER
        sent = await bot.send_message(
            USER, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text="Open", url="https://example.com/")]]),
        )  # fmt: skip
        assert sent.text == "hi" and tg.sent[0]["reply_markup"]["inline_keyboard"][0][0] == {
            "text": "Open",
            "url": "https://example.com/",
        }
        assert await bot.approve_chat_join_request(CHANNEL_ID, USER) is True
        assert isinstance(await bot.get_chat_member(CHANNEL_ID, USER), ChatMemberMember)
        with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
            await bot.approve_chat_join_request(CHANNEL_ID, USER)

    async def test_webhook_and_updates(self, bot: Bot, tg: FakeTelegram) -> None:
        assert await bot.set_webhook("https://t.example/hook", secret_token="s3cr3t-_",
                                     allowed_updates=["chat_join_request", "chat_member"])  # fmt: skip
        assert tg.webhooks[TOKEN]["allowed_updates"] == ["chat_join_request", "chat_member"]
        with pytest.raises(TelegramBadRequest):
            await bot.set_webhook("https://t.example/hook", secret_token="no spaces!")
        await bot.delete_webhook()
        tg.member_update(TOKEN, CHANNEL_ID, USER, "left", "member")
        updates = await bot.get_updates(offset=0, timeout=0, allowed_updates=["chat_member"])
        assert updates[0].chat_member is not None
        assert updates[0].chat_member.new_chat_member.status == "member"
        again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        assert again == []

    async def test_errors_map_to_aiogram_exceptions(self, bot: Bot, tg: FakeTelegram) -> None:
        tg.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
        with pytest.raises(TelegramRetryAfter) as flood:
            await bot.send_message(USER, "x")
        assert flood.value.retry_after == 3
        tg.blocked.add(USER)
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(USER, "x")
        async with Bot("1:wrong", session=AiohttpSession(
                api=TelegramAPIServer.from_base(tg.url))) as stranger:  # fmt: skip
            with pytest.raises(TelegramUnauthorizedError):
                await stranger.get_me()


class TestOurClient:
    async def test_reads_the_same_answers_as_typed_errors(self, tg: FakeTelegram) -> None:
        client = TelegramClient(TOKEN, base_url=tg.url)
        try:
            me = await client.get_me()
            assert me.id == BOT_USER_ID
            tg.fail("createChatInviteLink", 429, "Too Many Requests: retry after 9", retry_after=9)
            with pytest.raises(tgc.TelegramRetryAfter) as flood:
                await client.create_chat_invite_link(CHANNEL_ID, "spring")
            assert flood.value.retry_after == 9 and flood.value.error_code == 429
            tg.blocked.add(USER)
            with pytest.raises(tgc.TelegramForbidden, match="blocked"):
                await client.send_message(USER, "x")
            with pytest.raises(tgc.TelegramBadRequest, match="chat not found"):
                await client.get_chat(-100)
            tg.fail("getMe", 502, "Bad Gateway")
            with pytest.raises(tgc.TelegramServerError):
                await client.get_me()
        finally:
            await client.aclose()
        wrong = TelegramClient("1:wrong", base_url=tg.url)
        with pytest.raises(tgc.TelegramUnauthorized):
            await wrong.get_me()
        await wrong.aclose()

    async def test_a_dead_server_is_unreachable(self) -> None:
        client = TelegramClient(TOKEN, base_url="http://127.0.0.1:9", timeout_s=2)
        with pytest.raises(tgc.TelegramUnreachable):
            await client.get_me()
        await client.aclose()
