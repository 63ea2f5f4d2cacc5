"""The dedup key is unique per subject (uid, else tg_id): what that must still refuse and find."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from tests.conftest import PG_ADMIN_DSN, SpaceKeys, _pg_exec
from xtracker.binding.bind import BACKFILL_EVENTS
from xtracker.config import Settings
from xtracker.db.dialect import open_backend
from xtracker.db.migrate import alembic_config, upgrade
from xtracker.event.ingest import (
    INSERT_INBOX,
    SELECT_EXISTING_BY_TG_ID,
    SELECT_EXISTING_BY_UID,
)
from xtracker.kit.hashing import dedup_key
from xtracker.runtime import Runtime

REVISION = "0007_dedup_locality"


async def _post(http: httpx.AsyncClient, space: SpaceKeys, path: str, body: Any) -> Any:
    r = await http.post(path, json=body, headers=space.auth)
    assert r.status_code == 200, r.text
    return r.json()


def _inbox_row(space_id: str, key: str, uid: str | None, tg_id: int | None) -> tuple[Any, ...]:
    return (uuid.uuid4().hex, space_id, key, "deposit", uid, tg_id, None, "tx-1",
            1_000, 2_000, 2500, "USD", "api")  # fmt: skip


class TestSameKeyTwice:
    async def test_a_tg_only_refire_stays_a_duplicate_after_the_tg_id_is_bound_twice(
        self, http: httpx.AsyncClient, space: SpaceKeys, runtime: Runtime
    ) -> None:
        deposit = {"event": "deposit", "tg_id": 777, "value": "25", "eid": "tx-9"}
        first = await _post(http, space, "/events", deposit)
        await _post(http, space, "/bind", {"uid": "first-click", "tg_id": 777})
        await _post(http, space, "/bind", {"uid": "second-click", "tg_id": 777})
        again = await _post(http, space, "/events", deposit)
        changed = await _post(http, space, "/events", {**deposit, "value": "30"})
        assert first["status"] == "queued"
        assert again == {"ok": True, "status": "duplicate", "inbox_id": first["inbox_id"]}
        assert changed["status"] == "duplicate" and changed["inbox_id"] == first["inbox_id"]
        async with runtime.backend.reader() as tx:
            rows = await tx.fetchall("SELECT uid, tg_id FROM event_inbox")
            conflicts = await tx.fetchall("SELECT inbox_id, value_cents FROM event_conflict")
        assert rows == [("first-click", 777)]  # back-filled by the first bind, counted once
        assert conflicts == [(first["inbox_id"], 3000)]

    async def test_the_same_uid_event_in_one_batch_is_queued_once(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        ev = {"event": "registration", "uid": "u-7", "eid": "reg-1"}
        answers = await _post(http, space, "/events", {"events": [ev, ev, {**ev, "tg_id": 5}]})
        assert [a["status"] for a in answers["results"]] == ["queued", "duplicate", "duplicate"]
        assert len({a["inbox_id"] for a in answers["results"]}) == 1

    async def test_the_database_itself_refuses_a_second_row_with_a_key(
        self, runtime: Runtime, space: SpaceKeys
    ) -> None:
        plain_insert = INSERT_INBOX.replace(" ON CONFLICT DO NOTHING", "")
        for uid, tg_id in (("u-1", None), (None, 42), ("u-2", 43)):
            subject = uid if uid is not None else f"tg:{tg_id}"
            key = dedup_key(space.id, subject, "deposit", "tx-1")
            async with runtime.backend.transaction() as tx:
                await tx.execute(plain_insert, _inbox_row(space.id, key, uid, tg_id))
            with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
                async with runtime.backend.transaction() as tx:
                    await tx.execute(plain_insert, _inbox_row(space.id, key, uid, tg_id))
        async with runtime.backend.reader() as tx:
            row = await tx.fetchone("SELECT count(*) FROM event_inbox")
        assert row == (3,)


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
class TestQueryPlans:
    @pytest.mark.parametrize(
        ("sql", "params", "index"),
        [
            (SELECT_EXISTING_BY_UID, ("s", "u", "k"), "ix_event_inbox_space_id_uid_dedup_key"),
            (SELECT_EXISTING_BY_TG_ID, ("s", 1, "k"), "ix_event_inbox_space_id_tg_id_dedup_key"),
            (BACKFILL_EVENTS, ("u", None, "s", 1), "ix_event_inbox_space_id_tg_id_dedup_key"),
            ("SELECT id FROM event_inbox WHERE space_id = ? AND uid = ?", ("s", "u"),
             "ix_event_inbox_space_id_uid_dedup_key"),
        ],
    )  # fmt: skip
    def test_look_ups_by_subject_use_the_partial_indexes(
        self, settings: Settings, sql: str, params: tuple[Any, ...], index: str
    ) -> None:
        assert settings.database.sqlite_path is not None
        with sqlite3.connect(settings.database.sqlite_path) as c:
            plan = " ".join(str(row[-1]) for row in c.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan


@pytest.fixture
def fresh_settings(db_kind: str, tmp_path: Path) -> Iterator[Settings]:
    """A database nobody has migrated yet."""
    if db_kind == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", secret_key="test")
        return
    name = f"xt_upgrade_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(database_url=PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name, secret_key="t")
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _insert(
    settings: Settings, rows: list[tuple[Any, ...]], sql: str = INSERT_INBOX
) -> list[int]:
    """Rows changed by each insert, in one transaction of a backend of its own."""
    backend = await open_backend(settings.database)
    try:
        async with backend.transaction() as tx:
            return [await tx.write(sql, row) for row in rows]
    finally:
        await backend.close()


class TestUpgrade:
    def test_events_recorded_before_the_upgrade_stay_deduplicated(
        self, fresh_settings: Settings
    ) -> None:
        config = alembic_config(fresh_settings)
        for head in ScriptDirectory.from_config(config).get_heads():
            if head != REVISION:
                upgrade(fresh_settings, head)  # a database as the previous release left it
        by_uid = dedup_key("sp", "u-1", "deposit", "tx-1")
        by_tg = dedup_key("sp", "tg:42", "deposit", "tx-1")

        def rows() -> list[tuple[Any, ...]]:  # the same two events, under fresh row ids
            return [_inbox_row("sp", by_uid, "u-1", None), _inbox_row("sp", by_tg, None, 42)]

        old_sql = INSERT_INBOX.replace("DO NOTHING", "(dedup_key) DO NOTHING")  # as it was
        assert asyncio.run(_insert(fresh_settings, rows(), old_sql)) == [1, 1]
        upgrade(fresh_settings)
        assert asyncio.run(_insert(fresh_settings, rows())) == [0, 0]
        command.downgrade(config, f"{REVISION}@-1")  # and back, for a release rolled back
        assert asyncio.run(_insert(fresh_settings, rows(), old_sql)) == [0, 0]
        upgrade(fresh_settings)
        assert asyncio.run(_insert(fresh_settings, rows())) == [0, 0]
        other = dedup_key("sp", "u-1", "deposit", "tx-2")
        assert asyncio.run(_insert(fresh_settings, [_inbox_row("sp", other, "u-1", None)])) == [1]
