"""What the reports answer: one shape for the dashboard, the management API and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Preset = Literal["today", "yesterday", "7d", "30d", "custom"]
Bucket = Literal["hour", "day"]
GroupBy = Literal["link", "ad", "campaign"]
Metric = Literal["clicks", "deposits", "revenue"]
STEPS = ("click", "contact", "subscribed", "registration", "deposit")


class ReportFilter(BaseModel):
    """Which slice of a space a report covers: ``[start_ms, end_ms)`` and optional filters.

    Times are cut to whole 15-minute buckets (start rounded down, end rounded up); the
    date presets always fall on bucket edges.
    """

    space_id: str
    start_ms: int
    end_ms: int
    link_id: str | None = None
    campaign: str | None = Field(None, description="campaign_id or campaign_name of the click")
    timezone: str = "UTC"
    currency: str = "USD"
    preset: str | None = None


class Range(BaseModel):
    start_ms: int
    end_ms: int
    timezone: str
    preset: str | None = None


class Money(BaseModel):
    currency: str
    cents: int
    amount: str


class FunnelStep(BaseModel):
    step: str
    count: int
    rate_from_previous: float | None = Field(None, description="count / previous step's count")
    rate_from_click: float | None = Field(None, description="count / clicks")
    drop_off: int = Field(0, description="previous step's count minus this one")
    drop_off_rate: float | None = Field(None, description="1 - rate_from_previous")
    biggest_cliff: bool = False


class Funnel(BaseModel):
    range: Range
    steps: list[FunnelStep]
    revenue: Money
    revenue_by_currency: list[Money]
    epc: str = Field(description="revenue per click, in the space's currency")
    conflicts: int = Field(description="duplicates that came with another amount, in the range")
    biggest_cliff: str | None = Field(None, description="the step after the largest drop-off")


class TimePoint(BaseModel):
    start_ms: int
    label: str = Field(description="local start of the bucket, ISO 8601")
    clicks: int
    contact: int
    subscribed: int
    registration: int
    deposit: int
    revenue_cents: int
    revenue: str


class Timeseries(BaseModel):
    range: Range
    bucket: Bucket
    currency: str
    points: list[TimePoint]


class AttributionRow(BaseModel):
    key: str
    link_id: str | None = None
    link_slug: str | None = None
    link_name: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    ad_id: str | None = None
    ad_name: str | None = None
    clicks: int
    contact: int
    subscribed: int
    registration: int
    deposit: int
    revenue_cents: int
    revenue: str
    click_to_contact: float | None
    contact_to_subscribed: float | None
    subscribed_to_registration: float | None
    registration_to_deposit: float | None
    click_to_deposit: float | None
    epc: str
    epc_cents: float


class Attribution(BaseModel):
    range: Range
    group_by: GroupBy
    currency: str
    sort: str
    order: Literal["asc", "desc"]
    rows: list[AttributionRow]
    totals: AttributionRow


class CountryRow(BaseModel):
    country: str | None = Field(description="ISO 3166-1 alpha-2; null when unknown")
    value: float
    clicks: int
    deposits: int
    revenue_cents: int
    revenue: str


class Countries(BaseModel):
    range: Range
    metric: Metric
    currency: str
    rows: list[CountryRow]


class Circuit(BaseModel):
    state: str
    consecutive_failures: int = 0
    probe_at_ms: int | None = None


class DeliveryRow(BaseModel):
    destination_id: str
    name: str
    kind: str
    active: bool
    pending: int = 0
    sending: int = 0
    sent: int = 0
    retrying: int = 0
    failed_permanently: int = 0
    total: int = 0
    success_rate: float | None = Field(None, description="sent / (sent + failed_permanently)")
    attempts: int = 0
    latency_ms_avg: float | None = None
    latency_ms_p95: int | None = None
    last_error: str | None = None
    last_error_at_ms: int | None = None
    circuit: Circuit


class Deliveries(BaseModel):
    range: Range
    statuses: list[str]
    destinations: list[DeliveryRow]


class LiveItem(BaseModel):
    kind: Literal["click", "event"]
    id: str
    ts_ms: int
    link_id: str | None = None
    uid: str | None = None
    country: str | None = None
    device: str | None = None
    campaign_name: str | None = None
    ad_name: str | None = None
    event: str | None = None
    value: str | None = None
    currency: str | None = None
    source: str | None = None


class LiveFeed(BaseModel):
    items: list[LiveItem] = Field(description="oldest first")
    cursor: str | None = Field(description="pass as after= to get only newer items")
