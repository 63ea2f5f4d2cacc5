"""Everything a running process holds: settings, database handles, caches, background tasks.

Created once per process in the app's lifespan (or by the CLI and tests) and closed on exit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from xtracker.click.enrich import GeoLocator
from xtracker.config import Settings
from xtracker.db.dialect import Backend, open_backend
from xtracker.db.engine import make_engine, make_sessionmaker
from xtracker.db.writer import GroupCommitter
from xtracker.key.auth import KeyAuthenticator
from xtracker.kit.clock import Clock, system_clock
from xtracker.kit.crypto import SecretBox
from xtracker.landing.links import LinkCache
from xtracker.landing.targets import TargetResolver, builtin_resolvers

log = logging.getLogger("xtracker")


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    backend: Backend
    committer: GroupCommitter
    auth: KeyAuthenticator
    links: LinkCache
    geo: GeoLocator | None
    clock: Clock
    secrets: SecretBox
    resolvers: dict[str, TargetResolver]
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def open(
        cls, settings: Settings, *, clock: Clock | None = None, with_geo: bool = True
    ) -> Runtime:
        engine = make_engine(settings.database)
        backend = await open_backend(settings.database)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            backend=backend,
            committer=GroupCommitter(backend),
            auth=KeyAuthenticator(backend),
            links=LinkCache(backend),
            geo=GeoLocator(settings.geoip_mmdb) if with_geo else None,
            clock=clock or system_clock,
            secrets=SecretBox(settings.resolved_secret_key()),
            resolvers=builtin_resolvers(),
        )

    def start_background(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run a long-lived loop (worker, refills, checks) until the process stops."""

        async def guarded() -> None:
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s crashed", name)

        self.tasks.append(asyncio.get_running_loop().create_task(guarded(), name=name))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except BaseException as exc:  # shutting down: report, never raise
                if not isinstance(exc, asyncio.CancelledError):
                    log.warning("task %s ended with %r", task.get_name(), exc)
        self.tasks.clear()
        await self.committer.drain()
        await self.backend.close()
        await self.engine.dispose()
