from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ParamValue = int | float | bool


class Rule(BaseModel):
    kind: str
    title: str
    description: str
    object_kind: str = Field(description="link, destination or domain")
    enabled: bool
    params: dict[str, ParamValue] = Field(description="the thresholds in force")
    defaults: dict[str, ParamValue]
    edited: bool = Field(description="the space changed this rule")


class RuleUpdate(BaseModel):
    enabled: bool | None = None
    params: dict[str, ParamValue] | None = Field(
        None, description="only the thresholds to change; others keep their value"
    )
    reset: bool = Field(False, description="back to the defaults (before applying the rest)")


class AlertObject(BaseModel):
    kind: str
    id: str
    name: str
    url: str = Field(description="the dashboard page of the link, destination or domain")
    api_url: str


class Alert(BaseModel):
    id: str
    rule: str
    title: str
    state: Literal["pending", "firing", "resolved"]
    object: AlertObject
    summary: str
    details: dict[str, Any]
    started_at_ms: int
    fired_at_ms: int | None
    resolved_at_ms: int | None
    last_eval_at_ms: int
    reminders: int


class AlertList(BaseModel):
    firing: list[Alert]
    pending: list[Alert]
    history: list[Alert] = Field(description="resolved alerts, newest first")


class ChannelCreate(BaseModel):
    kind: Literal["webhook", "telegram"]
    name: str = Field("", max_length=200)
    url: str | None = Field(None, description="webhook: the receiver's https URL")
    chat_id: int | str | None = Field(None, description="telegram: the chat to write to")
    bot_token: str | None = Field(
        None, description="telegram: a bot token; omitted = the space's connected bot"
    )


class Channel(BaseModel):
    id: str
    kind: str
    name: str
    url: str | None = None
    chat_id: str | None = None
    own_bot: bool = Field(False, description="telegram: uses its own bot token")
    active: bool
    created_at_ms: int


class ChannelCreated(Channel):
    secret: str | None = Field(None, description="webhook: the whsec_ signing secret, shown once")


class EvalReport(BaseModel):
    spaces: int = 0
    findings: int = 0
    fired: int = 0
    resolved: int = 0
    reminders: int = 0
