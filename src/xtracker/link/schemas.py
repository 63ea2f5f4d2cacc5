from __future__ import annotations

from pydantic import BaseModel, Field

KINDS = ("bot", "web", "channel")


class LinkFields(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    target_url: str | None = Field(
        default=None, description="web links: target URL template with {macros}"
    )
    bot_username: str | None = Field(default=None, description="bot links: the bot's @username")
    title: str | None = Field(default=None, max_length=200, description="landing title")
    text: str | None = Field(default=None, max_length=5000, description="landing text")
    button_label: str | None = Field(default=None, max_length=100)
    image_url: str | None = None
    auto_redirect: bool | None = None
    pixel_id: str | None = Field(default=None, max_length=32, description="Meta Pixel id")
    active: bool | None = None
    tags: list[str] | None = None
    channel: str | None = Field(
        default=None,
        description="channel links: the channel's chat id (-100…) or @username; the space's bot"
        " must be an admin there with the right to invite users",
    )


class LinkCreate(LinkFields):
    slug: str = Field(max_length=64)
    kind: str = Field(description="bot | web | channel")


class LinkUpdate(LinkFields):
    pass


class Link(BaseModel):
    id: str
    slug: str
    name: str
    kind: str
    url: str = Field(description="the landing page URL")
    target_url: str | None
    bot_username: str | None
    title: str
    text: str
    button_label: str
    image_url: str | None
    auto_redirect: bool
    pixel_id: str | None
    active: bool
    tags: list[str]
    created_at_ms: int
    updated_at_ms: int
