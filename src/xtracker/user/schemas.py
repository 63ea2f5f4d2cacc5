from __future__ import annotations

from pydantic import BaseModel, Field

from xtracker.space.schemas import Space


class MemberSpace(BaseModel):
    space: Space
    role: str


class UserOut(BaseModel):
    id: str
    email: str
    created_at_ms: int


class Member(BaseModel):
    email: str
    role: str = Field(description="owner or viewer")
    since_ms: int


class MemberSet(BaseModel):
    email: str = Field(description="an existing user (create users with `xtracker user create`)")
    role: str = Field("viewer", description="owner or viewer")
