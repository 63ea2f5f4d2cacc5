from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Space(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    timezone: str
    currency: str


class SpaceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=64)
    timezone: str = "UTC"
    currency: str = "USD"


class SpaceUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    currency: str | None = None


class SpaceCreated(BaseModel):
    """The only time the secrets are shown."""

    space: Space
    bearer: str
    ingest_token: str


class KeyRotate(BaseModel):
    kind: str = Field(pattern="^(bearer|ingest)$", description="bearer or ingest")


class KeyRotated(BaseModel):
    kind: str
    secret: str = Field(description="shown once")
    previous_valid_until_ms: int
