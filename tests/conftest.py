"""Fixtures shared by every test tier.

Every database test runs on SQLite, and again on PostgreSQL when ``XTRACKER_TEST_POSTGRES=1``
(CI always sets it). Each pytest run creates its own PostgreSQL database, migrated once;
tests start from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from xtracker.app import XTrackerApp
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.migrate import upgrade
from xtracker.db.models import Base
from xtracker.kit.clock import FrozenClock
from xtracker.runtime import Runtime
from xtracker.space.schemas import SpaceCreate
from xtracker.space.service import space_service

PG_ADMIN_DSN = os.environ.get("XTRACKER_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
POSTGRES_ON = os.environ.get("XTRACKER_TEST_POSTGRES") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres", action="store_true", help="also run database tests on PostgreSQL"
    )


def pytest_configure(config: pytest.Config) -> None:
    global POSTGRES_ON
    POSTGRES_ON = POSTGRES_ON or bool(config.getoption("--postgres"))


def _pg_exec(sql: str) -> None:
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    name = f"xt_test_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
    upgrade(Settings(database_url=url, secret_key="test"))
    yield url
    _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "xtracker.db"
    upgrade(Settings(database_url=f"sqlite:///{path}", secret_key="test"))
    return path


def _backends() -> list[object]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright's sync API keeps an event loop running in this thread for
    # the rest of the session, and pytest-asyncio cannot start its own loop after that.
    items.sort(key=lambda item: "e2e" in item.keywords)
    if POSTGRES_ON:
        return
    skip = pytest.mark.skip(reason="PostgreSQL tests need XTRACKER_TEST_POSTGRES=1 (CI sets it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=_backends())
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"TRUNCATE {tables} CASCADE")
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture
def settings(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if db_kind == "postgres":
        url = request.getfixturevalue("pg_database_url")
        truncate_pg(url)
    else:
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "xtracker.db"
        shutil.copy(template, target)
        url = f"sqlite:///{target}"
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key="test-secret-key",
        public_url="http://testserver",
        allow_private_targets=True,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(1_765_432_100_000)


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(settings, clock=clock)
    yield rt
    await rt.close()


@pytest.fixture
def app(settings: Settings, runtime: Runtime) -> XTrackerApp:
    return XTrackerApp(settings, runtime=runtime)


@pytest.fixture
async def http(app: XTrackerApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class SpaceKeys:
    id: str
    slug: str
    bearer: str
    ingest: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}


async def make_space(runtime: Runtime, name: str = "Promo X", **kwargs: str) -> SpaceKeys:
    async with session_scope(runtime.sessions) as session:
        space, bearer, ingest = await space_service.create(
            session, SpaceCreate(name=name, **kwargs), runtime.clock.now_ms()
        )
    return SpaceKeys(space.id, space.slug, bearer, ingest)


@pytest.fixture
async def space(runtime: Runtime) -> SpaceKeys:
    return await make_space(runtime)
