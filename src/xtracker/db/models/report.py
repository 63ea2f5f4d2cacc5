"""Report rollups: exact counters per 15-minute bucket, kept in the write transactions.

``report_rollup`` answers the funnel, the time series and the attribution table;
``report_geo`` answers the world map. Each row is one (space, bucket, dimensions, currency)
cell. Dimension values are never NULL ('' means "none") so the primary key is also the
upsert target on both databases; long campaign and ad names are cut to 128 characters.
Clicks and non-money events count in the row whose currency is ''; deposits count in the
row of their own currency, so revenue is never summed across currencies.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class ReportRollup(Base):
    """Clicks (bots excluded), events and revenue per bucket, link, campaign and ad."""

    __tablename__ = "report_rollup"

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
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

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
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
