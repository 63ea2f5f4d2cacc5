"""The Telegram channel funnel's rules, shared by the API, the CLI and the background tasks.

Services never commit: management calls take the caller's session; hot-path work (landing
visits, updates, drip sends) goes through ``runtime.committer``. Every Bot API call goes
through ``TelegramClient`` at ``XTRACKER_TELEGRAM_API_URL``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import (
    Link,
    TelegramBot,
    TelegramChannel,
    TelegramChannelLink,
    TelegramDripStep,
)
from xtracker.errors import ValidationFailed
from xtracker.kit.ids import new_uid
from xtracker.landing.links import LinkInfo
from xtracker.landing.targets import TargetUnavailable
from xtracker.runtime import Runtime
from xtracker.telegram import repository as repo
from xtracker.telegram import schemas
from xtracker.telegram.client import (
    TelegramBadRequest,
    TelegramClient,
    TelegramError,
    TelegramForbidden,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorized,
    TelegramUnreachable,
)
from xtracker.telegram.errors import (
    BotNotAdmin,
    BotNotConnected,
    ChannelNotFound,
    InvalidBotToken,
    TelegramUnavailable,
)
from xtracker.telegram.updates import UpdateOutcome, handle_update_job

log = logging.getLogger("xtracker.telegram")

GLOBAL_PER_SECOND = 30  # Telegram: about 30 messages a second to different users
PER_CHAT_INTERVAL_MS = 1000  # and about one a second to one chat
TARGET_TTL_S = 5.0
LEASE_MS = 60_000
MAX_ACTION_ATTEMPTS = 8
BACKOFF_BASE_MS = 5_000
BACKOFF_CAP_MS = 10 * 60_000
UPDATE_KEEP_MS = 7 * 24 * 3_600_000
ACTION_KEEP_MS = 30 * 24 * 3_600_000


def backoff_ms(attempt: int) -> int:
    """Delay before retry ``attempt`` (1-based) after a transient failure: 5 s doubling, ≤ 10 min."""
    return int(min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** max(0, attempt - 1)))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite_name(slug: str) -> str:
    """``createChatInviteLink``'s ``name`` is at most 32 characters: the link's slug."""
    return slug[:32]


class SendPacer:
    """Telegram's message limits for one process: ~1/s per chat, ≤ 30/s in all."""

    def __init__(self) -> None:
        self._next_per_chat: dict[int, int] = {}
        self._recent: deque[int] = deque()

    def wait_ms(self, chat_id: int, now_ms: int) -> int:
        while self._recent and self._recent[0] <= now_ms - 1000:
            self._recent.popleft()
        waits = [self._next_per_chat.get(chat_id, 0) - now_ms]
        if len(self._recent) >= GLOBAL_PER_SECOND:
            waits.append(self._recent[0] + 1000 - now_ms)
        return max(0, *waits)

    def sent(self, chat_id: int, now_ms: int) -> None:
        self._recent.append(now_ms)
        self._next_per_chat[chat_id] = now_ms + PER_CHAT_INTERVAL_MS
        if len(self._next_per_chat) > 100_000:
            self._next_per_chat = {k: v for k, v in self._next_per_chat.items() if v > now_ms}


@dataclass
class TelegramState:
    """Per-process state: the HTTP connection pool, caches, limits and wake-up signals."""

    http: httpx.AsyncClient
    pacer: SendPacer = field(default_factory=SendPacer)
    paused_until_ms: dict[str, int] = field(default_factory=dict)  # bot id → flood control
    targets: dict[str, tuple[float, repo.LinkTarget | None]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # ciphertext → token
    refill_wake: asyncio.Event = field(default_factory=asyncio.Event)
    actions_wake: asyncio.Event = field(default_factory=asyncio.Event)
    bots_wake: asyncio.Event = field(default_factory=asyncio.Event)  # a bot (re)connected
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    owner: str = field(default_factory=new_uid)  # this process, for leases


def state_of(rt: Runtime) -> TelegramState:
    state: TelegramState | None = rt.extras.get("telegram")
    if state is None:
        state = TelegramState(http=httpx.AsyncClient(timeout=10.0))
        rt.extras["telegram"] = state
    return state


async def close_state(rt: Runtime) -> None:
    state: TelegramState | None = rt.extras.pop("telegram", None)
    if state is not None:
        await state.http.aclose()


class TelegramService:
    # ---- clients ---------------------------------------------------------------------------
    def client(self, rt: Runtime, token: str) -> TelegramClient:
        return TelegramClient(token, base_url=rt.settings.telegram_api_url, http=state_of(rt).http)

    def token_of(self, rt: Runtime, bot_id: str, token_enc: str) -> str:
        """The decrypted token, cached by its ciphertext: a reconnected bot (new token) is
        picked up by every process at its next read of the row."""
        tokens = state_of(rt).tokens
        if token_enc not in tokens:
            if len(tokens) > 10_000:
                tokens.clear()
            tokens[token_enc] = rt.secrets.decrypt(token_enc)
        return tokens[token_enc]

    def bot_client(self, rt: Runtime, bot: TelegramBot) -> TelegramClient:
        return self.client(rt, self.token_of(rt, bot.id, bot.token_enc))

    # ---- the bot ---------------------------------------------------------------------------
    async def connect(
        self, session: AsyncSession, rt: Runtime, space_id: str, data: schemas.BotConnect
    ) -> TelegramBot:
        """Check the token with getMe, store it encrypted, and route updates to us."""
        token = data.token.strip()
        client = self.client(rt, token)
        try:
            me = await client.get_me()
        except (TelegramUnauthorized, TelegramBadRequest):
            raise InvalidBotToken(field="token") from None
        except TelegramError as exc:
            raise TelegramUnavailable(f"Telegram could not be reached: {exc}") from None
        now = rt.clock.now_ms()
        bot = await repo.bot_of_space(session, space_id)
        if bot is None:
            bot = TelegramBot(id=new_uid(now), space_id=space_id, update_offset=0,
                              created_at_ms=now)  # fmt: skip
            session.add(bot)
        elif bot.bot_user_id != me.id:
            bot.update_offset = 0  # another bot: its update ids start afresh
        bot.bot_user_id, bot.username = me.id, me.username
        bot.token_enc = rt.secrets.encrypt(token)
        bot.updated_at_ms = now
        try:
            if data.webhook_url:
                base = data.webhook_url.rstrip("/")
                parts = urlsplit(base)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise ValidationFailed("webhook_url must be an https URL", field="webhook_url")
                secret = secrets.token_urlsafe(32)
                url = f"{base}/telegram/webhook/{bot.id}"
                await client.set_webhook(url, secret, schemas.ALLOWED_UPDATES)
                bot.mode, bot.webhook_url = "webhook", url
                bot.webhook_secret_hash = secret_hash(secret)
            else:
                await client.delete_webhook()
                bot.mode, bot.webhook_url, bot.webhook_secret_hash = "polling", None, None
        except TelegramBadRequest as exc:
            raise ValidationFailed(f"Telegram refused the webhook: {exc.description}",
                                   field="webhook_url") from None  # fmt: skip
        except TelegramError as exc:
            raise TelegramUnavailable(f"Telegram could not be reached: {exc}") from None
        await session.flush()
        return bot

    async def require_bot(self, session: AsyncSession, space_id: str) -> TelegramBot:
        bot = await repo.bot_of_space(session, space_id)
        if bot is None:
            raise BotNotConnected()
        return bot

    def bot_schema(self, bot: TelegramBot) -> schemas.Bot:
        return schemas.Bot(id=bot.id, username=bot.username, bot_user_id=bot.bot_user_id,
                           mode=bot.mode, webhook_url=bot.webhook_url,
                           created_at_ms=bot.created_at_ms)  # fmt: skip

    # ---- channels --------------------------------------------------------------------------
    async def add_channel(
        self, session: AsyncSession, rt: Runtime, space_id: str, chat: str
    ) -> TelegramChannel:
        """Check that the bot is an admin of ``chat`` who may invite users, and keep it."""
        bot = await self.require_bot(session, space_id)
        client = self.bot_client(rt, bot)
        ref: int | str = chat.strip()
        if isinstance(ref, str) and ref.lstrip("-").isdigit():
            ref = int(ref)
        elif isinstance(ref, str) and not ref.startswith("@"):
            ref = "@" + ref.rsplit("/", 1)[-1]
        try:
            info = await client.get_chat(ref)
            member = await client.get_chat_member(info["id"], bot.bot_user_id)
        except (TelegramBadRequest, TelegramForbidden) as exc:
            raise ChannelNotFound(
                f"Telegram does not show {chat} to @{bot.username}: add the bot to the channel"
                f" as an administrator first ({exc.description})",
                field="channel",
            ) from None
        except TelegramError as exc:
            raise TelegramUnavailable(f"Telegram could not be reached: {exc}") from None
        if member.get("status") not in ("administrator", "creator") or not (
            member.get("status") == "creator" or member.get("can_invite_users")
        ):
            raise BotNotAdmin(
                f"@{bot.username} must be an administrator of {info.get('title') or chat} with"
                " the right 'Invite users via link' (can_invite_users)",
                field="channel",
            )
        now = rt.clock.now_ms()
        channel = await repo.channel_by_chat(session, space_id, int(info["id"]))
        if channel is None:
            channel = TelegramChannel(id=new_uid(now), space_id=space_id, chat_id=int(info["id"]),
                                      created_at_ms=now)  # fmt: skip
            session.add(channel)
        channel.title = str(info.get("title") or info["id"])[:255]
        channel.username = info.get("username")
        channel.checked_at_ms = now
        await session.flush()
        return channel

    async def configure_link(
        self,
        session: AsyncSession,
        rt: Runtime,
        link: Link,
        chat: str | None,
        settings: schemas.ChannelLinkSettings,
    ) -> TelegramChannelLink:
        """Attach a ``channel`` link to a channel of the space (checked with Telegram)."""
        current = await repo.channel_link(session, link.id)
        if chat is None and current is None:
            raise ValidationFailed(
                "channel links need the channel: its chat id (-100…) or @username",
                field="channel",
            )
        now = rt.clock.now_ms()
        if chat is not None:
            if await repo.bot_of_space(session, link.space_id) is None:
                raise ValidationFailed(
                    "connect the space's Telegram bot first (PUT /api/spaces/{space}/telegram/bot"
                    " or `xtracker telegram connect`)",
                    field="channel",
                )
            channel = await self.add_channel(session, rt, link.space_id, chat)
            if current is None:
                current = TelegramChannelLink(
                    link_id=link.id, space_id=link.space_id, chat_id=channel.chat_id,
                    auto_approve=True, pool_depth=rt.settings.telegram_invite_pool_depth,
                    created_at_ms=now,
                )  # fmt: skip
                session.add(current)
            elif current.chat_id != channel.chat_id:
                await self._drop_available(session, link.id)
                current.chat_id = channel.chat_id
        assert current is not None
        if settings.auto_approve is not None:
            current.auto_approve = settings.auto_approve
        if settings.pool_depth is not None:
            current.pool_depth = settings.pool_depth
        current.updated_at_ms = now
        await session.flush()
        state_of(rt).targets.pop(link.id, None)
        state_of(rt).refill_wake.set()
        return current

    async def _drop_available(self, session: AsyncSession, link_id: str) -> None:
        from xtracker.db.models import TelegramInvite

        await session.execute(
            delete(TelegramInvite).where(
                TelegramInvite.link_id == link_id, TelegramInvite.status == "available"
            )
        )

    async def channel_link_schema(
        self, session: AsyncSession, link: Link, settings: TelegramChannelLink
    ) -> schemas.ChannelLink:
        counts = await repo.pool_counts(session, link.id)
        return schemas.ChannelLink(slug=link.slug, chat_id=settings.chat_id,
                                   auto_approve=settings.auto_approve,
                                   pool_depth=settings.pool_depth, **counts)  # fmt: skip

    async def set_drip(
        self, session: AsyncSession, link: Link, steps: list[schemas.DripStep]
    ) -> list[TelegramDripStep]:
        if link.kind != "channel":
            raise ValidationFailed("welcome drips belong to channel links", field="link")
        if steps and steps[0].delay_s > schemas.MAX_FIRST_DELAY_S:
            raise ValidationFailed(
                "the first message must go out within 4 minutes (240 s): Telegram lets the bot"
                " write to a requester only for 5 minutes",
                field="steps.0.delay_s",
            )
        for index, step in enumerate(steps):
            if step.button_url:
                parts = urlsplit(step.button_url)
                if parts.scheme not in ("http", "https", "tg") or not (
                    parts.netloc or parts.scheme == "tg"
                ):
                    raise ValidationFailed(
                        "button_url must be an http(s) or tg:// URL",
                        field=f"steps.{index}.button_url",
                    )
        await session.execute(delete(TelegramDripStep).where(TelegramDripStep.link_id == link.id))
        rows = [
            TelegramDripStep(id=new_uid(), link_id=link.id, position=i, delay_s=s.delay_s,
                             text=s.text, button_text=s.button_text or None,
                             button_url=s.button_url or None)
            for i, s in enumerate(steps)
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        return rows

    # ---- the landing: one invite link per visit -------------------------------------------
    async def link_target(self, rt: Runtime, link_id: str) -> repo.LinkTarget | None:
        cache = state_of(rt).targets
        hit = cache.get(link_id)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        async with rt.backend.reader() as tx:
            target = await repo.link_target(tx, link_id)
        cache[link_id] = (now + TARGET_TTL_S, target)
        return target

    async def resolve_target(
        self, rt: Runtime, link: LinkInfo, row: dict[str, Any], params: dict[str, str]
    ) -> str:
        """The landing resolver for ``channel`` links: an invite link bound to the visit."""
        target = await self.link_target(rt, link.id)
        if target is None:
            raise TargetUnavailable(f"channel link {link.slug} has no channel set")
        if row.get("is_bot"):  # link previews and crawlers never consume an invite link
            return f"https://t.me/{target.channel_username or ''}"
        now = rt.clock.now_ms()
        invite: str | None = await rt.committer.run(repo.take_invite_job(link.id, row["uid"], now))
        state = state_of(rt)
        if invite is not None:
            state.refill_wake.set()
            return invite
        # The pool ran dry: mint one for this visit (the only time a visit waits on Telegram).
        client = self.client(rt, self.token_of(rt, target.bot_id, target.token_enc))
        try:
            invite = await client.create_chat_invite_link(target.chat_id, invite_name(link.slug))
        except TelegramError as exc:
            raise TargetUnavailable(f"no invite link for {link.slug}: {exc}") from None
        await rt.committer.run(
            repo.insert_invites_job(target.space_id, link.id, target.chat_id, [invite], now,
                                    row["uid"])
        )  # fmt: skip
        state.refill_wake.set()
        return invite

    async def refill_once(self, rt: Runtime, *, limit_per_link: int = 50) -> float:
        """Top up every channel link's pool; returns seconds to wait before the next pass."""
        state = state_of(rt)
        async with rt.backend.reader() as tx:
            todo = await repo.link_targets_to_refill(tx)
        pause_s = rt.settings.telegram_refill_pause_ms / 1000
        wait_s = 60.0
        for target, missing in todo:
            now = rt.clock.now_ms()
            paused = state.paused_until_ms.get(target.bot_id, 0)
            if paused > now:
                wait_s = min(wait_s, (paused - now) / 1000)
                continue
            client = self.client(rt, self.token_of(rt, target.bot_id, target.token_enc))
            for _ in range(min(missing, limit_per_link)):
                try:
                    invite = await client.create_chat_invite_link(
                        target.chat_id, invite_name(target.slug)
                    )
                except TelegramRetryAfter as exc:
                    retry_ms = (exc.retry_after or 1) * 1000
                    state.paused_until_ms[target.bot_id] = rt.clock.now_ms() + retry_ms
                    wait_s = min(wait_s, retry_ms / 1000)
                    log.info("refill %s: flood control, retry in %ss", target.slug, exc.retry_after)
                    break
                except TelegramError as exc:
                    log.warning("refill %s: %s", target.slug, exc)
                    wait_s = min(wait_s, 30.0)
                    break
                await rt.committer.run(
                    repo.insert_invites_job(target.space_id, target.link_id, target.chat_id,
                                            [invite], rt.clock.now_ms(), None)
                )  # fmt: skip
                if pause_s:
                    await state.sleep(pause_s)
            else:
                if missing > limit_per_link:
                    wait_s = 0.0
        return wait_s

    # ---- updates -----------------------------------------------------------------------------
    async def handle_update(
        self, rt: Runtime, bot_id: str, space_id: str, update: dict[str, Any]
    ) -> UpdateOutcome:
        outcome: UpdateOutcome = await rt.committer.run(
            handle_update_job(bot_id, space_id, update, rt.clock.now_ms())
        )
        if outcome.actions:
            state_of(rt).actions_wake.set()
        return outcome

    async def claim_lease(self, rt: Runtime, name: str, ttl_ms: int) -> bool:
        """Whether this process may run the singleton job ``name`` for the next ``ttl_ms``."""
        claimed: bool = await rt.committer.run(
            repo.claim_lease_job(name, state_of(rt).owner, rt.clock.now_ms(), ttl_ms)
        )
        return claimed

    def webhook_secret_ok(self, bot: TelegramBot | None, header: str | None) -> bool:
        if bot is None or bot.webhook_secret_hash is None or not header:
            return False
        return hmac.compare_digest(secret_hash(header), bot.webhook_secret_hash)

    async def poll_once(self, rt: Runtime, bot: TelegramBot, timeout_s: int) -> int:
        """One ``getUpdates`` round: handle what came, then confirm it with the offset."""
        client = self.bot_client(rt, bot)
        updates = await client.get_updates(bot.update_offset, timeout_s, schemas.ALLOWED_UPDATES)
        for update in updates:
            await self.handle_update(rt, bot.id, bot.space_id, update)
        if updates:
            offset = max(int(u["update_id"]) for u in updates) + 1
            bot.update_offset = offset

            async def save(tx: Any) -> None:
                await tx.execute(repo.SET_OFFSET, (offset, bot.id, offset))

            await rt.committer.run(save)
        return len(updates)

    # ---- the welcome drip and approvals ---------------------------------------------------
    async def run_due_actions(self, rt: Runtime, *, limit: int = 100) -> int:
        """Send what is due (in order per join, within the rate limits); returns how many
        actions reached a final state or were rescheduled."""
        state = state_of(rt)
        now = rt.clock.now_ms()
        actions: list[repo.Action] = await rt.committer.run(
            repo.claim_actions_job(now, LEASE_MS, limit)
        )
        bots: dict[str, TelegramClient | None] = {}
        for action in actions:
            now = rt.clock.now_ms()
            paused = state.paused_until_ms.get(action.bot_id, 0)
            if paused > now:
                await rt.committer.run(repo.finish_action_job(
                    action.id, "pending", now, due_at_ms=paused, attempted=False))  # fmt: skip
                continue
            if action.kind == "message":
                wait = state.pacer.wait_ms(action.user_chat_id, now)
                if wait > 0:
                    await rt.committer.run(repo.finish_action_job(
                        action.id, "pending", now, due_at_ms=now + wait, attempted=False))  # fmt: skip
                    continue
            if action.bot_id not in bots:
                bots[action.bot_id] = await self._client_for_bot(rt, action.bot_id)
            client = bots[action.bot_id]
            if client is None:
                await rt.committer.run(repo.finish_action_job(
                    action.id, "failed", now, error="the bot was disconnected"))  # fmt: skip
                continue
            await self._perform(rt, client, action)
        return len(actions)

    async def _client_for_bot(self, rt: Runtime, bot_id: str) -> TelegramClient | None:
        async with rt.backend.reader() as tx:
            row = await tx.fetchone("SELECT token_enc FROM tg_bot WHERE id = ?", (bot_id,))
        if row is None:
            return None
        return self.client(rt, self.token_of(rt, bot_id, row[0]))

    async def _perform(self, rt: Runtime, client: TelegramClient, action: repo.Action) -> None:
        state = state_of(rt)
        try:
            if action.kind == "message":
                state.pacer.sent(action.user_chat_id, rt.clock.now_ms())
                await client.send_message(action.user_chat_id, action.text or "",
                                          button_text=action.button_text,
                                          button_url=action.button_url)  # fmt: skip
            else:
                await client.approve_chat_join_request(action.chat_id, action.user_id)
        except TelegramRetryAfter as exc:
            now = rt.clock.now_ms()
            due = now + (exc.retry_after or 1) * 1000
            state.paused_until_ms[action.bot_id] = due
            await rt.committer.run(repo.finish_action_job(
                action.id, "pending", now, due_at_ms=due, error=str(exc)))  # fmt: skip
            return
        except TelegramForbidden as exc:
            now = rt.clock.now_ms()
            await rt.committer.run(repo.finish_action_job(
                action.id, "stopped" if action.kind == "message" else "failed", now,
                error=str(exc)))  # fmt: skip
            if action.kind == "message":  # blocked: no more messages to this user
                await rt.committer.run(repo.stop_messages_job(action.join_id, now, str(exc)))
            return
        except TelegramBadRequest as exc:
            now = rt.clock.now_ms()
            already = action.kind == "approve" and "HIDE_REQUESTER_MISSING" in exc.description
            await rt.committer.run(repo.finish_action_job(
                action.id, "done" if already else "failed", now, error=str(exc)))  # fmt: skip
            return
        except (TelegramServerError, TelegramUnreachable, TelegramError) as exc:
            now = rt.clock.now_ms()
            attempts = action.attempts + 1
            if attempts >= MAX_ACTION_ATTEMPTS:
                await rt.committer.run(repo.finish_action_job(
                    action.id, "failed", now, error=str(exc)))  # fmt: skip
            else:
                await rt.committer.run(repo.finish_action_job(
                    action.id, "pending", now, due_at_ms=now + backoff_ms(attempts),
                    error=str(exc)))  # fmt: skip
            return
        await rt.committer.run(repo.finish_action_job(action.id, "done", rt.clock.now_ms()))

    async def prune(self, rt: Runtime) -> None:
        """Forget what is no longer needed: update ids after a week (Telegram repeats an
        update for at most a day) and finished drip actions after 30 days."""
        now = rt.clock.now_ms()

        async def job(tx: Any) -> None:
            await tx.execute("DELETE FROM tg_update WHERE received_at_ms < ?",
                             (now - UPDATE_KEEP_MS,))  # fmt: skip
            await tx.execute(
                "DELETE FROM tg_action WHERE status IN ('done', 'failed', 'stopped')"
                " AND done_at_ms < ?",
                (now - ACTION_KEEP_MS,),
            )

        await rt.committer.run(job)

    # ---- channel stats -----------------------------------------------------------------------
    async def record_member_counts(self, rt: Runtime) -> int:
        """Sample ``getChatMemberCount`` of every channel into this hour's row."""
        async with rt.backend.reader() as tx:
            rows = await tx.fetchall(
                "SELECT c.space_id, c.chat_id, b.id, b.token_enc FROM tg_channel c"
                " JOIN tg_bot b ON b.space_id = c.space_id"
            )
        recorded = 0
        for space_id, chat_id, bot_id, token_enc in rows:
            client = self.client(rt, self.token_of(rt, bot_id, token_enc))
            try:
                count = await client.get_chat_member_count(int(chat_id))
            except TelegramError as exc:
                log.warning("member count of %s: %s", chat_id, exc)
                continue
            await rt.committer.run(
                repo.record_stat_job(space_id, int(chat_id), count, rt.clock.now_ms())
            )
            recorded += 1
        return recorded

    async def stats(
        self, session: AsyncSession, space_id: str, until_ms: int, hours: int
    ) -> list[schemas.ChannelStats]:
        """The hourly series of every channel: joins, leaves, join requests, member count."""
        end = until_ms - until_ms % repo.HOUR_MS + repo.HOUR_MS
        start = end - hours * repo.HOUR_MS
        out = []
        for channel in await repo.channels_of_space(session, space_id):
            points = {
                h: schemas.StatsPoint(hour_ms=h, joins=0, leaves=0, join_requests=0,
                                      attributed=0, organic=0, member_count=None)
                for h in range(start, end, repo.HOUR_MS)
            }  # fmt: skip
            for ev in await repo.member_events(session, space_id, channel.chat_id, start, end):
                point = points[ev.ts_ms - ev.ts_ms % repo.HOUR_MS]
                if ev.kind == "join":
                    point.joins += 1
                elif ev.kind == "leave":
                    point.leaves += 1
                else:
                    point.join_requests += 1
                    if ev.organic:
                        point.organic += 1
                    else:
                        point.attributed += 1
            for stat in await repo.member_counts(session, space_id, channel.chat_id, start, end):
                points[stat.hour_ms].member_count = stat.member_count
            out.append(schemas.ChannelStats(chat_id=channel.chat_id, title=channel.title,
                                            points=list(points.values())))  # fmt: skip
        return out


telegram_service = TelegramService()
