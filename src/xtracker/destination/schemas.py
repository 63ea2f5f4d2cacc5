from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

KINDS = ("fb_capi", "webhook", "s2s_postback")
ACTION_SOURCES = ("website", "chat", "system_generated")

# SPEC §1 (documented): the default event map of each kind.
DEFAULT_EVENT_MAPS: dict[str, dict[str, str]] = {
    "fb_capi": {
        "contact": "Contact",
        "subscribed": "Lead",
        "registration": "CompleteRegistration",
        "deposit": "Purchase",
    },
    "webhook": {
        "contact": "contact",
        "subscribed": "subscribed",
        "registration": "registration",
        "deposit": "deposit",
    },
}
DEFAULT_EVENT_MAPS["s2s_postback"] = dict(DEFAULT_EVENT_MAPS["webhook"])


class DestinationFields(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    event_map: dict[str, str | None] | None = Field(
        default=None,
        description="canonical → name; merged onto the current map (the kind's defaults on "
        "create); a null or empty name unmaps that canonical",
    )
    active: bool | None = None
    proxy_url: str | None = Field(
        default=None, description="HTTP proxy for this destination's traffic; '' removes it"
    )
    headers: dict[str, str] | None = Field(
        default=None, description="webhook/s2s_postback: extra request headers (replaces all)"
    )
    # webhook
    url: str | None = Field(default=None, description="webhook: the receiver's public URL")
    method: str | None = Field(
        default=None, description="webhook: POST (default) or PUT; s2s_postback: GET or POST"
    )
    # s2s_postback
    url_template: str | None = Field(default=None, description="s2s_postback: URL with {macros}")
    expected_status: int | None = Field(default=None, ge=100, le=599)
    expected_body: str | None = Field(
        default=None, description="s2s_postback: the answer must contain this text"
    )
    # fb_capi
    pixel_id: str | None = None
    access_token: str | None = Field(default=None, description="fb_capi: encrypted at rest")
    test_event_code: str | None = None
    action_source: str | None = Field(default=None, description="website | chat | system_generated")


class DestinationCreate(DestinationFields):
    kind: str = Field(description="fb_capi | webhook | s2s_postback")


class DestinationUpdate(DestinationFields):
    rotate_secret: bool = Field(
        default=False, description="webhook: issue a new whsec_ signing secret (shown once)"
    )


class Circuit(BaseModel):
    state: str = Field(description="closed | open | half_open")
    consecutive_failures: int
    probe_at_ms: int | None


class Destination(BaseModel):
    id: str
    kind: str
    name: str
    event_map: dict[str, str]
    active: bool
    proxy_url: str | None
    config: dict[str, Any] = Field(description="kind settings; secrets are never shown")
    headers: list[str] = Field(description="names of the custom headers (values are secret)")
    has_access_token: bool
    circuit: Circuit
    created_at_ms: int
    updated_at_ms: int


class DestinationCreated(Destination):
    secret: str | None = Field(description="webhook: the whsec_ signing secret, shown only now")
