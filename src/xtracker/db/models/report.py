"""Report rollups: exact counters kept in the write transactions, at three levels.

``report_rollup`` answers the funnel, the time series and the attribution table;
``report_geo`` answers the world map. Each row is one (space, level, bucket, dimensions,
currency) cell; every count is kept at level 0 (15-minute buckets), 1 (UTC hours) and
2 (UTC days), so a report reads whole days where it can and quarters only at its edges. Dimension values are never NULL ('' means "none") so the primary key is also the
upsert target on both databases; long campaign and ad names are cut to 128 characters.
Clicks and non-money events count in the row whose currency is ''; deposits count in the
row of their own currency, so revenue is never summed across currencies.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class ReportRollup(Base):
    """Clicks (bots excluded), events and revenue per bucket, link, campaign and ad."""

    __tablename__ = "report_rollup"
    # the rows live in the key's B-tree (SQLite): a report reads them in key order
    __table_args__ = ({"sqlite_with_rowid": False},)

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    campaign_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    ad_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ad_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    contact: Mapped[int] = mapped_column(BigInteger, default=0)
    subscribed: Mapped[int] = mapped_column(BigInteger, default=0)
    registration: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportGeo(Base):
    """The same counters per bucket, link, campaign and country (the world map)."""

    __tablename__ = "report_geo"
    # the rows live in the key's B-tree (SQLite): a report reads them in key order
    __table_args__ = ({"sqlite_with_rowid": False},)

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    campaign_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    contact: Mapped[int] = mapped_column(BigInteger, default=0)
    subscribed: Mapped[int] = mapped_column(BigInteger, default=0)
    registration: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
