"""Every table, imported once so that Alembic and the test schema see the whole metadata."""

from mask.db import Base
from mask.models.abuse import AbuseReport, BlocklistEntry
from mask.models.account import (
    EmailToken,
    Invite,
    KnownNetwork,
    Membership,
    RecoveryCode,
    ThrottleCounter,
    User,
    UserSession,
)
from mask.models.analytics import DimensionRollup, TargetDimensionRollup, TargetRollup
from mask.models.audit import AuditEntry
from mask.models.auth import ApiKey
from mask.models.bio_page import BioBlock, BioPage
from mask.models.click import Click, ClickRetentionMark, ClickVisitor
from mask.models.domain import Domain
from mask.models.event import Event
from mask.models.idempotency import IdempotencyRecord
from mask.models.imports import Import, ImportedLinkStats, ImportFile, ImportIssue
from mask.models.link import Link, LinkTitleFetch
from mask.models.mail import OutboxMail
from mask.models.qr import QrStyle
from mask.models.rate_limit import PlanLimit
from mask.models.shared_dashboard import SharedDashboard
from mask.models.tag import Tag, link_tags
from mask.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mask.models.workspace import Workspace

__all__ = [
    "AbuseReport",
    "ApiKey",
    "AuditEntry",
    "Base",
    "BioBlock",
    "BioPage",
    "BlocklistEntry",
    "Click",
    "ClickRetentionMark",
    "ClickVisitor",
    "DimensionRollup",
    "Domain",
    "EmailToken",
    "Event",
    "IdempotencyRecord",
    "Import",
    "ImportFile",
    "ImportIssue",
    "ImportedLinkStats",
    "Invite",
    "KnownNetwork",
    "Link",
    "LinkTitleFetch",
    "Membership",
    "OutboxMail",
    "PlanLimit",
    "QrStyle",
    "RecoveryCode",
    "SharedDashboard",
    "Tag",
    "TargetDimensionRollup",
    "TargetRollup",
    "ThrottleCounter",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
    "link_tags",
]
