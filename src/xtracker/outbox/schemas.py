from __future__ import annotations

from pydantic import BaseModel, Field

STATUSES = ("pending", "sending", "sent", "retrying", "failed_permanently")


class Attempt(BaseModel):
    attempt: int
    at_ms: int
    outcome: str = Field(description="sent | retry | failed")
    status_code: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None
    worker: str | None = Field(description="the worker process that made the attempt")


class Delivery(BaseModel):
    id: str
    inbox_id: str
    destination_id: str
    event_id: str = Field(description="stable per event → destination; the same on replay")
    event: str = Field(description="the mapped name sent")
    canonical: str | None
    uid: str | None
    status: str = Field(description="pending | sending | sent | retrying | failed_permanently")
    attempts: int
    next_attempt_at_ms: int
    last_status_code: int | None
    last_error: str | None
    created_at_ms: int
    updated_at_ms: int
    sent_at_ms: int | None


class DeliveryDetail(Delivery):
    attempt_log: list[Attempt]


class ReplayResult(BaseModel):
    replayed: int
