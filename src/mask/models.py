"""Every table, imported once so that Alembic and the test schema see the whole metadata."""

from mask.account.models import Invite, LoginFailure, Membership, User, UserSession
from mask.analytics.models import DimensionRollup, TargetDimensionRollup, TargetRollup
from mask.auth.models import ApiKey
from mask.bio_page.models import BioBlock, BioPage
from mask.click.models import Click, ClickVisitor
from mask.db import Base
from mask.domain.models import Domain
from mask.event.models import Event
from mask.idempotency.models import IdempotencyRecord
from mask.link.models import Link
from mask.rate_limit.models import PlanLimit
from mask.tag.models import Tag, link_tags
from mask.webhook.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from mask.workspace.models import Workspace

__all__ = [
    "ApiKey",
    "Base",
    "BioBlock",
    "BioPage",
    "Click",
    "ClickVisitor",
    "DimensionRollup",
    "Domain",
    "Event",
    "IdempotencyRecord",
    "Invite",
    "Link",
    "LoginFailure",
    "Membership",
    "PlanLimit",
    "Tag",
    "TargetDimensionRollup",
    "TargetRollup",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
    "link_tags",
]
