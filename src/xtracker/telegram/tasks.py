"""Background loops of the channel funnel and the capability's installer.

Each loop is a thin wrapper around a service function that tests call directly:
``telegram.refill_invites`` (``refill_once``), ``telegram.drip`` (``run_due_actions``),
``telegram.channel_stats`` (``record_member_counts``, hourly) and ``telegram.poll``
(``poll_once`` for every bot in long-polling mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.engine import session_scope
from xtracker.db.models import Link
from xtracker.landing.links import LinkInfo
from xtracker.link import schemas as link_schemas
from xtracker.link.service import KIND_HOOKS, SUPPORTED_KINDS
from xtracker.runtime import Runtime
from xtracker.telegram import repository as repo
from xtracker.telegram import schemas
from xtracker.telegram.client import TelegramError, TelegramRetryAfter
from xtracker.telegram.service import close_state, state_of, telegram_service

log = logging.getLogger("xtracker.telegram")
HOUR_S = 3600
REFILL_LEASE_MS = 120_000
POLL_LEASE_SLACK_S = 30
STATS_LEASE_MS = 50 * 60_000


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for ``event`` or the timeout; True when woken by the event."""
    woken = False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=max(0.0, timeout_s))
        woken = True
    event.clear()
    return woken


async def refill_loop(rt: Runtime) -> None:
    state = state_of(rt)
    failures = 0
    woken = False
    while True:
        if woken:  # woken by a visit or a settings change: let its transaction commit first
            await asyncio.sleep(0.5)
        try:
            if await telegram_service.claim_lease(rt, "refill", REFILL_LEASE_MS):
                wait_s = await telegram_service.refill_once(rt)
            else:  # another process refills; look again later
                wait_s = REFILL_LEASE_MS / 1000 / 4
            failures = 0
        except Exception:
            failures += 1
            wait_s = min(300.0, 2.0**failures)
            log.exception("telegram.refill_invites failed; retrying in %.0fs", wait_s)
        if woken:
            wait_s = min(wait_s, 2.0)  # and look once more, in case it committed later
        woken = await _wait(state.refill_wake, wait_s)


async def drip_loop(rt: Runtime) -> None:
    state = state_of(rt)
    while True:
        try:
            handled = await telegram_service.run_due_actions(rt)
        except Exception:
            log.exception("telegram.drip failed")
            handled = 0
        if handled == 0:
            await _wait(state.actions_wake, 1.0)


async def stats_loop(rt: Runtime) -> None:
    while True:
        try:  # one process samples each hour (the rows are upserts, so a repeat is harmless)
            if await telegram_service.claim_lease(rt, "stats", STATS_LEASE_MS):
                await telegram_service.record_member_counts(rt)
                await telegram_service.prune(rt)
        except Exception:
            log.exception("telegram.channel_stats failed")
        now_s = rt.clock.now_ms() / 1000
        await asyncio.sleep(HOUR_S - now_s % HOUR_S + 60)


async def poll_loop(rt: Runtime, bot_id: str) -> None:
    """Long-poll one bot until it is switched to webhook mode or removed."""
    failures = 0
    while True:
        async with session_scope(rt.sessions) as session:
            bot = await repo.bot_by_id(session, bot_id)
        if bot is None or bot.mode != "polling":
            return
        timeout_s = rt.settings.telegram_poll_timeout_s
        try:
            lease_ms = (timeout_s + POLL_LEASE_SLACK_S) * 1000
            if not await telegram_service.claim_lease(rt, f"poll:{bot_id}", lease_ms):
                await asyncio.sleep(POLL_LEASE_SLACK_S / 2)  # another process polls this bot
                continue
            await telegram_service.poll_once(rt, bot, timeout_s)
            failures = 0
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after or 1)
        except TelegramError as exc:  # 409: another process polls, or a webhook is set
            failures += 1
            delay = min(60.0, 2.0**failures)
            log.warning("telegram.poll %s: %s; retrying in %.0fs", bot.username, exc, delay)
            await asyncio.sleep(delay)


async def poll_supervisor(rt: Runtime) -> None:
    """Keep one ``poll_loop`` per bot in polling mode (bots connected later are picked up)."""
    running: dict[str, asyncio.Task[None]] = {}
    try:
        while True:
            async with session_scope(rt.sessions) as session:
                bots = [b for b in await repo.all_bots(session) if b.mode == "polling"]
            for bot in bots:
                task = running.get(bot.id)
                if task is None or task.done():
                    running[bot.id] = asyncio.get_running_loop().create_task(
                        poll_loop(rt, bot.id), name=f"telegram.poll.{bot.username}"
                    )
            if await _wait(state_of(rt).bots_wake, 30.0):
                await asyncio.sleep(0.2)
    finally:
        for task in running.values():
            task.cancel()
        for task in running.values():
            with contextlib.suppress(BaseException):
                await task


async def _close_on_exit(rt: Runtime) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        unregister(rt)
        await close_state(rt)


def register(rt: Runtime) -> None:
    """Make ``channel`` links creatable and resolvable in this process."""

    async def resolver(link: LinkInfo, row: dict[str, Any], params: dict[str, str]) -> str:
        return await telegram_service.resolve_target(rt, link, row, params)

    async def on_link_saved(
        session: AsyncSession, link: Link, data: link_schemas.LinkFields
    ) -> None:
        await telegram_service.configure_link(
            session, rt, link, data.channel, schemas.ChannelLinkSettings()
        )

    rt.resolvers["channel"] = resolver
    SUPPORTED_KINDS.add("channel")
    KIND_HOOKS["channel"] = on_link_saved
    rt.extras["telegram_link_hook"] = on_link_saved


def unregister(rt: Runtime) -> None:
    """Undo ``register`` when this runtime closes (the link hooks are per process)."""
    hook = rt.extras.pop("telegram_link_hook", None)
    if hook is not None and KIND_HOOKS.get("channel") is hook:
        KIND_HOOKS.pop("channel", None)
        SUPPORTED_KINDS.discard("channel")


def start_loops(rt: Runtime, *, polling: bool = True) -> None:
    rt.start_background("telegram.refill_invites", lambda: refill_loop(rt))
    rt.start_background("telegram.drip", lambda: drip_loop(rt))
    rt.start_background("telegram.channel_stats", lambda: stats_loop(rt))
    if polling:
        rt.start_background("telegram.poll", lambda: poll_supervisor(rt))


async def install(rt: Runtime, role: str) -> None:
    register(rt)
    rt.start_background("telegram.close", lambda: _close_on_exit(rt))
    if role == "worker" or (role == "serve" and rt.settings.run_worker_in_serve):
        start_loops(rt)
