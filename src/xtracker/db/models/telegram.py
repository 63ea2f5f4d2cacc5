"""The Telegram channel funnel (SPEC §6): the space's bot, its channels, channel links'
settings, pre-minted invite links, processed updates, the welcome drip and channel stats."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class TelegramBot(Base):
    """The bot a space connected (one per space); its token is encrypted at rest."""

    __tablename__ = "tg_bot"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"), unique=True)
    bot_user_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(64))
    token_enc: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16))  # "webhook" | "polling"
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    update_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramChannel(Base):
    """A channel where the space's bot is an admin that may invite users."""

    __tablename__ = "tg_channel"
    __table_args__ = (Index(None, "space_id", "chat_id", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    checked_at_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramChannelLink(Base):
    """What a ``channel`` link leads to: the channel, auto-approve, the invite pool's depth."""

    __tablename__ = "tg_channel_link"
    __table_args__ = (Index(None, "space_id"),)

    link_id: Mapped[str] = mapped_column(
        ForeignKey("link.id", ondelete="CASCADE"), primary_key=True
    )
    space_id: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=True)
    pool_depth: Mapped[int] = mapped_column(Integer)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramInvite(Base):
    """One invite link the bot minted for a channel link: available → taken (by a visit's
    uid) → used (someone asked to join through it)."""

    __tablename__ = "tg_invite"
    __table_args__ = (Index(None, "link_id", "status", "created_at_ms"), Index(None, "uid"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    link_id: Mapped[str] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    invite_link: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # available | taken | used
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    taken_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class TelegramUpdate(Base):
    """An update already handled: a repeat (webhook retry, re-polled batch) changes nothing."""

    __tablename__ = "tg_update"

    bot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramDripStep(Base):
    """One message of a channel link's welcome drip, sent ``delay_s`` after the previous one."""

    __tablename__ = "tg_drip_step"
    __table_args__ = (Index(None, "link_id", "position", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    delay_s: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    button_text: Mapped[str | None] = mapped_column(String(64), nullable=True)
    button_url: Mapped[str | None] = mapped_column(Text, nullable=True)


class TelegramAction(Base):
    """The durable schedule of what the bot owes a joiner: drip messages and the approval.

    A join's actions run strictly in ``seq`` order; each is claimed with a lease so two
    workers never send the same message.
    """

    __tablename__ = "tg_action"
    __table_args__ = (Index(None, "status", "due_at_ms"), Index(None, "join_id", "seq"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    bot_id: Mapped[str] = mapped_column(String(32))
    join_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # message | approve
    seq: Mapped[int] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # the channel
    user_id: Mapped[int] = mapped_column(BigInteger)
    user_chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    button_text: Mapped[str | None] = mapped_column(String(64), nullable=True)
    button_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # pending → sending → done | failed | stopped (the user blocked the bot)
    status: Mapped[str] = mapped_column(String(16))
    due_at_ms: Mapped[int] = mapped_column(BigInteger)
    lease_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    done_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class TelegramMemberEvent(Base):
    """A join request, join or leave seen in a channel (attributed or organic)."""

    __tablename__ = "tg_member_event"
    __table_args__ = (Index(None, "space_id", "chat_id", "ts_ms"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    tg_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # join_request | join | leave
    organic: Mapped[bool] = mapped_column(Boolean)
    link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    invite_link: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramChannelStat(Base):
    """The channel's member count, sampled hourly (``getChatMemberCount``)."""

    __tablename__ = "tg_channel_stat"

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hour_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    member_count: Mapped[int] = mapped_column(Integer)
    recorded_at_ms: Mapped[int] = mapped_column(BigInteger)


class TelegramLease(Base):
    """Who runs a singleton job now (``poll:<bot id>``, ``refill``): with several processes,
    only one long-polls a bot (Telegram allows one ``getUpdates`` at a time) and one refills."""

    __tablename__ = "tg_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32))
    until_ms: Mapped[int] = mapped_column(BigInteger)
