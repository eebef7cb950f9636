from __future__ import annotations

from typing import Literal

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime
from mask.qr.schemas import QrStyle, QrStyleUpdate

Role = Literal["owner", "admin", "member", "viewer"]
ROLE_HELP = (
    "`owner` (everything; only owners make or unmake owners), `admin` (members, keys, domains, webhooks, audit "
    "log), `member` (links, tags, bio pages, own keys), `viewer` (read-only)."
)


class Member(Schema):
    user_id: str
    email: str
    name: str | None
    role: Role = Field(description=ROLE_HELP)
    joined_at: UTCDatetime


class MemberList(Schema):
    data: list[Member]


class MemberUpdate(RequestSchema):
    """Fields sent change."""

    role: Role | None = Field(default=None, description=ROLE_HELP)


class Invitation(Schema):
    id: str
    role: Role = Field(description=ROLE_HELP)
    email: str | None = Field(description="Who it was mailed to (`null`: a link to hand over yourself).")
    created_by: str | None = Field(description="The member who made it.")
    created_at: UTCDatetime
    expires_at: UTCDatetime = Field(description="7 days after it was made; it can be used once.")


class InvitationCreated(Invitation):
    url: str = Field(description="The invite link: in this answer (and the mail) only, never again.")


class InvitationList(Schema):
    data: list[Invitation]


class InvitationCreate(RequestSchema):
    role: Role = Field(default="member", description=ROLE_HELP + " Only owners invite owners.")
    email: str | None = Field(
        default=None, max_length=254, description="Mail the link there (the invitee accepts it signed in)."
    )


class WorkspaceSettings(Schema):
    id: str
    slug: str = Field(description="Its handle in dashboard URLs; it never changes.")
    name: str
    plan: str
    created_at: UTCDatetime
    default_domain: str = Field(
        description="Where links and bio pages go when they name no `domain`: one of the workspace's verified "
        "domains, or the server's short domain."
    )
    qr_style: QrStyle = Field(description="The default style of its links' QR codes (`GET /v1/qr-style`).")
    require_two_factor: bool = Field(
        description="Every member must sign in to the dashboard with a second factor (members without it are "
        "sent to enrol)."
    )


class WorkspaceUpdate(RequestSchema):
    """Fields sent change."""

    name: str | None = Field(default=None, max_length=200, description="1–100 characters once trimmed.")
    default_domain: str | None = Field(
        default=None,
        max_length=300,
        description="One of the workspace's verified domains (`422 domain_not_verified` for a pending one); "
        "`null` or the short domain: the short domain.",
    )
    qr_style: QrStyleUpdate | None = Field(default=None, description="As `PATCH /v1/qr-style`.")
    require_two_factor: bool | None = Field(
        default=None,
        description="Owners only (`403` otherwise). Turning it on needs the key's member to use two-factor "
        "sign-in themself (`422 two_factor_not_enrolled`), so nobody locks themself out; an operator's key "
        "(`mask keys create`) has no member and may not turn it on.",
    )
