from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base

# Campaign fields Meta ads put in the URL, plus utm_* and sub1…sub5: one column each so
# reports group by them without parsing JSON.
CAMPAIGN_FIELDS = (
    "campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name", "placement",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "sub1", "sub2", "sub3", "sub4", "sub5",
)  # fmt: skip


class Click(Base):
    """One landing visit (or a click back-filled through POST /clicks)."""

    __tablename__ = "click"
    __table_args__ = (Index(None, "space_id", "ts_ms"), Index(None, "link_id", "ts_ms"))

    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="landing")  # landing | api
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    device: Mapped[str | None] = mapped_column(String(64), nullable=True)
    os: Mapped[str | None] = mapped_column(String(64), nullable=True)
    browser: Mapped[str | None] = mapped_column(String(64), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    referrer: Mapped[str | None] = mapped_column(Text, nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    raw_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    fbclid: Mapped[str | None] = mapped_column(Text, nullable=True)
    fbc: Mapped[str | None] = mapped_column(Text, nullable=True)
    fbp: Mapped[str | None] = mapped_column(Text, nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    campaign_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    adset_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    adset_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ad_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ad_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    placement: Mapped[str | None] = mapped_column(String(255), nullable=True)
    utm_source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    utm_medium: Mapped[str | None] = mapped_column(String(255), nullable=True)
    utm_campaign: Mapped[str | None] = mapped_column(String(255), nullable=True)
    utm_content: Mapped[str | None] = mapped_column(String(255), nullable=True)
    utm_term: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sub1: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sub2: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sub3: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sub4: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sub5: Mapped[str | None] = mapped_column(String(255), nullable=True)
