from __future__ import annotations

from pydantic import BaseModel, Field

ALLOWED_UPDATES = ["chat_join_request", "chat_member", "my_chat_member", "message"]
MAX_FIRST_DELAY_S = 240  # the first message must land inside Telegram's 5-minute window


class BotConnect(BaseModel):
    token: str = Field(min_length=20, max_length=200, description="the token from @BotFather")
    webhook_url: str | None = Field(
        default=None,
        description="the tracker's public HTTPS base URL: Telegram then pushes updates to"
        " {webhook_url}/telegram/webhook/{bot_id}. Omit to receive updates by long polling.",
    )


class Bot(BaseModel):
    id: str
    username: str
    bot_user_id: int
    mode: str = Field(description="webhook | polling")
    webhook_url: str | None
    created_at_ms: int


class ChannelAdd(BaseModel):
    chat: str = Field(description="the channel's chat id (-100…) or @username")


class Channel(BaseModel):
    chat_id: int
    title: str
    username: str | None
    created_at_ms: int


class ChannelLinkSettings(BaseModel):
    auto_approve: bool | None = Field(default=None, description="approve join requests")
    pool_depth: int | None = Field(
        default=None, ge=0, le=500, description="invite links kept pre-minted"
    )


class ChannelLink(BaseModel):
    slug: str
    chat_id: int
    auto_approve: bool
    pool_depth: int
    available: int = Field(description="pre-minted invite links waiting for a visit")
    taken: int = Field(description="invite links handed to visits")
    used: int = Field(description="invite links someone asked to join through")


class DripStep(BaseModel):
    delay_s: int = Field(
        ge=0,
        le=30 * 24 * 3600,
        description="seconds after the join request (first step) or after the previous step",
    )
    text: str = Field(min_length=1, max_length=4096)
    button_text: str | None = Field(default=None, max_length=64)
    button_url: str | None = Field(default=None, max_length=2000)


class Drip(BaseModel):
    steps: list[DripStep] = Field(max_length=20)


class StatsPoint(BaseModel):
    hour_ms: int = Field(description="start of the hour, epoch ms (UTC)")
    joins: int
    leaves: int
    join_requests: int
    attributed: int = Field(description="join requests through an invite link of a visit")
    organic: int = Field(description="join requests without a known invite link")
    member_count: int | None = Field(description="getChatMemberCount sampled in that hour")


class ChannelStats(BaseModel):
    chat_id: int
    title: str
    points: list[StatsPoint]
