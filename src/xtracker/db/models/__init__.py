"""Every table, imported here so Alembic and the schema test see them all."""

from xtracker.db.models.alert import Alert, AlertChannel, AlertNotification, AlertRule
from xtracker.db.models.base import Base
from xtracker.db.models.binding import Binding
from xtracker.db.models.click import CAMPAIGN_FIELDS, Click
from xtracker.db.models.delivery import DeliveryAttempt, DestinationCircuit
from xtracker.db.models.destination import Destination
from xtracker.db.models.domain import CustomDomain
from xtracker.db.models.event import EventConflict, EventInbox
from xtracker.db.models.link import Link
from xtracker.db.models.outbox import EventOutbox
from xtracker.db.models.report import ReportGeo, ReportRollup
from xtracker.db.models.space import ApiKey, Space
from xtracker.db.models.telegram import (
    TelegramAction,
    TelegramBot,
    TelegramChannel,
    TelegramChannelLink,
    TelegramChannelStat,
    TelegramDripStep,
    TelegramInvite,
    TelegramLease,
    TelegramMemberEvent,
    TelegramUpdate,
)
from xtracker.db.models.user import LoginFailure, Membership, User, WebSession

__all__ = [
    "CAMPAIGN_FIELDS",
    "Alert",
    "AlertChannel",
    "AlertNotification",
    "AlertRule",
    "ApiKey",
    "Base",
    "Binding",
    "Click",
    "CustomDomain",
    "DeliveryAttempt",
    "Destination",
    "DestinationCircuit",
    "EventConflict",
    "EventInbox",
    "EventOutbox",
    "Link",
    "LoginFailure",
    "Membership",
    "ReportGeo",
    "ReportRollup",
    "Space",
    "TelegramAction",
    "TelegramBot",
    "TelegramChannel",
    "TelegramChannelLink",
    "TelegramChannelStat",
    "TelegramDripStep",
    "TelegramInvite",
    "TelegramLease",
    "TelegramMemberEvent",
    "TelegramUpdate",
    "User",
    "WebSession",
]
