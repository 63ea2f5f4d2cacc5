"""reports: exact rollups for the funnel, time series, attribution and world map

Revision ID: 0005_reports
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reports"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ("clicks", "contact", "subscribed", "registration", "deposit", "revenue_cents")


def _counters() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS]


def upgrade() -> None:
    op.create_table(
        "report_rollup",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_name", sa.String(length=128), nullable=False),
        sa.Column("ad_id", sa.String(length=128), nullable=False),
        sa.Column("ad_name", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint(
            "space_id",
            "level",
            "bucket_ms",
            "link_id",
            "campaign_id",
            "campaign_name",
            "ad_id",
            "ad_name",
            "currency",
            name=op.f("pk_report_rollup"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_geo",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_name", sa.String(length=128), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint(
            "space_id",
            "level",
            "bucket_ms",
            "link_id",
            "campaign_id",
            "campaign_name",
            "country",
            "currency",
            name=op.f("pk_report_geo"),
        ),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("report_geo")
    op.drop_table("report_rollup")
