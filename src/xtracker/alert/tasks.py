"""``alert.evaluate`` and ``alert.notify`` every minute in the worker."""

from __future__ import annotations

import asyncio
import logging

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.alert.notify import BotTokenLookup, deliver_due
from xtracker.alert.schemas import EvalReport
from xtracker.alert.service import evaluate
from xtracker.domain.tasks import runs_worker
from xtracker.errors import XTrackerError
from xtracker.runtime import Runtime
from xtracker.telegram.service import telegram_service

log = logging.getLogger("xtracker.alert")


def bot_token_lookup(runtime: Runtime) -> BotTokenLookup:
    """The token of the space's connected bot (the Telegram capability keeps it encrypted)."""

    async def lookup(session: AsyncSession, space_id: str) -> str | None:
        try:
            bot = await telegram_service.require_bot(session, space_id)
        except XTrackerError:
            return None
        return runtime.secrets.decrypt(bot.token_enc)

    return lookup


async def tick(runtime: Runtime, http: httpx.AsyncClient) -> tuple[EvalReport, int]:
    """One evaluation of every space, then the notifications that are due."""
    report = await evaluate(runtime.sessions, runtime.clock, runtime.settings)
    sent = await deliver_due(runtime.sessions, http, runtime.secrets, runtime.clock,
                             runtime.settings, bot_token_lookup(runtime))  # fmt: skip
    return report, sent


async def alert_loop(runtime: Runtime) -> None:
    async with httpx.AsyncClient(follow_redirects=False) as http:
        while True:
            try:
                report, sent = await tick(runtime, http)
                if report.fired or report.resolved or sent:
                    log.info("alerts: %s, %d notifications sent", report.model_dump(), sent)
            except Exception:
                log.exception("alert evaluation failed")
            await asyncio.sleep(runtime.settings.alert_eval_interval_s)


async def install(runtime: Runtime, role: str) -> None:
    if runs_worker(runtime, role):
        runtime.start_background("alert.evaluate", lambda: alert_loop(runtime))
