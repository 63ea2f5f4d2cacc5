"""Ingress and look-up schemas. ``EventIn`` documents what ``event.parse`` checks."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EventIn(BaseModel):
    event: str = Field(description="contact | subscribed | registration | deposit")
    uid: str | None = Field(default=None, description="the click id (or send tg_id)")
    value: str | float | None = Field(default=None, description="deposit amount")
    currency: str | None = Field(default=None, description="ISO 4217, default the space's (USD)")
    eid: str | None = Field(default=None, description="your id for this event (transaction id)")
    occurred_at_ms: int | None = Field(default=None, description="epoch ms; default receive time")
    tg_id: int | None = Field(default=None, description="Telegram user id, when there is no uid")


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(max_length=1000)


class EventResult(BaseModel):
    ok: bool = True
    status: str = Field(description="queued | duplicate")
    inbox_id: str
    warnings: list[str] | None = None


class EventBatchResult(BaseModel):
    ok: bool = True
    results: list[EventResult]


class BindIn(BaseModel):
    uid: str
    tg_id: int


class BindResult(BaseModel):
    ok: bool = True
    matched: bool = Field(description="a click with that uid exists in the space")


class ClickIn(BaseModel):
    link_slug: str | None = None
    fbclid: str | None = None
    campaign_name: str | None = None
    raw_query: str | None = Field(default=None, description="campaign fields and fbclid parsed")


class ClickCreated(BaseModel):
    uid: str


class Event(BaseModel):
    inbox_id: str
    event: str
    uid: str | None
    tg_id: int | None
    link_id: str | None
    eid: str | None
    value: str | None
    currency: str
    occurred_at_ms: int
    received_at_ms: int
    source: str


class Conflict(BaseModel):
    id: str
    inbox_id: str
    received_at_ms: int
    value: str | None
    currency: str
    first_value: str | None
    first_currency: str


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None


class ErrorResponse(BaseModel):
    ok: bool = False
    error: ErrorBody
