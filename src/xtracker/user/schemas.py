from __future__ import annotations

from pydantic import BaseModel

from xtracker.space.schemas import Space


class MemberSpace(BaseModel):
    space: Space
    role: str


class UserOut(BaseModel):
    id: str
    email: str
    created_at_ms: int
