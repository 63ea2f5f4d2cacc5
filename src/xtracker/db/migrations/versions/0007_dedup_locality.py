"""dedup locality: dedup keys unique per subject (uid, else tg_id), not in one index of hashes

Revision ID: 0007_dedup_locality
Revises: 0001_foundation

``UNIQUE (dedup_key)`` put every insert on a random page of an index of sha256 hashes.
Unique ``(space_id, uid, dedup_key)`` over rows with a uid and ``(space_id, tg_id,
dedup_key)`` over rows with a tg_id refuse the same keys (a key names its subject, and its
rows carry that subject) and keep a subject's events together; they also replace the plain
``(space_id, uid)`` and ``(space_id, tg_id)`` indexes. SQLite rebuilds the table to drop
the constraint; PostgreSQL builds the two indexes while ingest waits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_dedup_locality"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECTS = ("uid", "tg_id")


def upgrade() -> None:
    # The rebuild first, while the table has only plain indexes for batch mode to copy.
    with op.batch_alter_table("event_inbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_event_inbox_dedup_key"), type_="unique")
    for subject in SUBJECTS:
        present = sa.text(f"{subject} IS NOT NULL")
        op.create_index(
            op.f(f"ix_event_inbox_space_id_{subject}_dedup_key"),
            "event_inbox",
            ["space_id", subject, "dedup_key"],
            unique=True,
            sqlite_where=present,
            postgresql_where=present,
        )
        op.drop_index(op.f(f"ix_event_inbox_space_id_{subject}"), table_name="event_inbox")


def downgrade() -> None:
    for subject in SUBJECTS:
        op.create_index(
            op.f(f"ix_event_inbox_space_id_{subject}"), "event_inbox", ["space_id", subject]
        )
        op.drop_index(
            op.f(f"ix_event_inbox_space_id_{subject}_dedup_key"), table_name="event_inbox"
        )
    with op.batch_alter_table("event_inbox", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_event_inbox_dedup_key"), ["dedup_key"])
