"""The hourly DNS re-check, and the installer that puts the Host router in place."""

from __future__ import annotations

import asyncio
import logging

from xtracker.db.engine import session_scope
from xtracker.domain.dns import DomainChecker, make_resolver
from xtracker.domain.router import DomainRouter
from xtracker.domain.service import domain_service
from xtracker.runtime import Runtime

log = logging.getLogger("xtracker.domain")
LOOP_TICK_S = 60.0


def checker_for(runtime: Runtime) -> DomainChecker:
    return DomainChecker(make_resolver(runtime.settings), runtime.settings.origin_host)


def forget_routes(runtime: Runtime) -> None:
    router = runtime.extras.get("host_router")
    if isinstance(router, DomainRouter):
        router.forget()


async def check_domains(runtime: Runtime, checker: DomainChecker | None = None) -> int:
    """``domain.check``: re-check the domains that are due; returns how many were checked."""
    async with session_scope(runtime.sessions) as session:
        count = await domain_service.check_due(
            session, checker or checker_for(runtime), runtime.settings, runtime.clock.now_ms()
        )
    if count:
        forget_routes(runtime)
    return count


async def check_loop(runtime: Runtime) -> None:
    while True:
        try:
            await check_domains(runtime)
        except Exception:
            log.exception("domain check failed")
        await asyncio.sleep(min(LOOP_TICK_S, runtime.settings.domain_check_interval_s))


def runs_worker(runtime: Runtime, role: str) -> bool:
    return role == "worker" or (role == "serve" and runtime.settings.run_worker_in_serve)


async def install(runtime: Runtime, role: str) -> None:
    runtime.extras["host_router"] = DomainRouter(runtime.backend, runtime.settings)
    if runs_worker(runtime, role):
        runtime.start_background("domain.check", lambda: check_loop(runtime))
