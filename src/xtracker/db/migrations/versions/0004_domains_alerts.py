"""domains and alerts: custom landing domains, alert rules, episodes, channels, notifications

Revision ID: 0004_domains_alerts
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_domains_alerts"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _space_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["space_id"], ["space.id"], name=op.f(f"fk_{table}_space_id_space"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "custom_domain",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("verify_token", sa.String(length=64), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_chain", sa.Text(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("checked_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("verified_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("failing_since_ms", sa.BigInteger(), nullable=True),
        sa.Column("disabled_at_ms", sa.BigInteger(), nullable=True),
        _space_fk("custom_domain"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_domain")),
        sa.UniqueConstraint("hostname", name=op.f("uq_custom_domain_hostname")),
    )
    with op.batch_alter_table("custom_domain", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_domain_space_id"), ["space_id"], unique=False)

    op.create_table(
        "alert_rule",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        _space_fk("alert_rule"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_space_id_kind"), ["space_id", "kind"], unique=True
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("object_kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("object_name", sa.String(length=255), nullable=False),
        sa.Column("open_key", sa.String(length=160), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_eval_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("fired_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_notified_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        _space_fk("alert"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alert_open_key")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_space_id_started_at_ms"), ["space_id", "started_at_ms"],
            unique=False,
        )  # fmt: skip

    op.create_table(
        "alert_channel",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        _space_fk("alert_channel"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channel")),
    )
    with op.batch_alter_table("alert_channel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_channel_space_id"), ["space_id"], unique=False)

    op.create_table(
        "alert_notification",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("dedup", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("sent_at_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notification")),
        sa.UniqueConstraint("dedup", name=op.f("uq_alert_notification_dedup")),
    )
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_notification_status_next_attempt_at_ms"),
            ["status", "next_attempt_at_ms"], unique=False,
        )  # fmt: skip
        batch_op.create_index(
            batch_op.f("ix_alert_notification_alert_id"), ["alert_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("alert_notification", ["ix_alert_notification_alert_id",
                                "ix_alert_notification_status_next_attempt_at_ms"]),
        ("alert_channel", ["ix_alert_channel_space_id"]),
        ("alert", ["ix_alert_space_id_started_at_ms"]),
        ("alert_rule", ["ix_alert_rule_space_id_kind"]),
        ("custom_domain", ["ix_custom_domain_space_id"]),
    ):  # fmt: skip
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(batch_op.f(name))
        op.drop_table(table)
