"""login failures: the sign-in throttle counts in the database, shared by every process

Revision ID: 0008_login_failures
Revises: 0006_users
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_login_failures"
down_revision: str | Sequence[str] | None = "0006_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failure_key_hash_at_ms"), ["key_hash", "at_ms"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_login_failure_at_ms"), ["at_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_at_ms"))
        batch_op.drop_index(batch_op.f("ix_login_failure_key_hash_at_ms"))
    op.drop_table("login_failure")
