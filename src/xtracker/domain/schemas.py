from __future__ import annotations

from pydantic import BaseModel, Field


class DnsRecord(BaseModel):
    """A record to create at the DNS provider."""

    type: str
    name: str
    value: str


class Domain(BaseModel):
    id: str
    hostname: str
    state: str = Field(description="pending, verified, failing or disabled")
    serving: bool = Field(description="landings are served on this host right now")
    record: DnsRecord = Field(description="the CNAME to create")
    txt_record: DnsRecord = Field(
        description="alternative proof for proxied (flattened) CNAMEs, e.g. Cloudflare's orange cloud"
    )
    landing_url_example: str
    chain: list[str] = Field(description="the CNAME chain seen at the last check")
    last_error: str | None
    created_at_ms: int
    checked_at_ms: int | None
    verified_at_ms: int | None
    failing_since_ms: int | None
    disables_at_ms: int | None = Field(description="when a failing domain stops serving")
    disabled_at_ms: int | None


class DomainCreate(BaseModel):
    hostname: str = Field(min_length=1, max_length=300, examples=["go.mybrand.com"])
    check: bool = Field(True, description="check DNS right away")
