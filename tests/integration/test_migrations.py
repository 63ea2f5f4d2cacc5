"""The migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from xtracker.config import Settings
from xtracker.db.migrate import alembic_config
from xtracker.db.models import Base
from xtracker.runtime import Runtime


def _diff(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


class TestMigrations:
    async def test_migrated_database_equals_the_models(self, runtime: Runtime) -> None:
        async with runtime.engine.connect() as connection:
            diff = await connection.run_sync(_diff)
        assert diff == []

    async def test_every_revision_is_applied(self, runtime: Runtime, settings: Settings) -> None:
        heads = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
        async with runtime.backend.reader() as tx:
            rows = await tx.fetchall("SELECT version_num FROM alembic_version")
        assert {r[0] for r in rows} == heads
