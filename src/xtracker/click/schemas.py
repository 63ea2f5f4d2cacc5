from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Click(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: str
    link_id: str | None
    ts_ms: int
    source: str
    is_bot: bool
    ip: str | None
    device: str | None
    os: str | None
    browser: str | None
    country: str | None
    referrer: str | None
    fbclid: str | None
    fbc: str | None
    fbp: str | None
    campaign_id: str | None
    campaign_name: str | None
    adset_id: str | None
    adset_name: str | None
    ad_id: str | None
    ad_name: str | None
    placement: str | None
    raw_query: str | None
    user_agent: str | None
