from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mask.kit.schemas import Schema, UTCDatetime


class AuditActor(Schema):
    type: Literal["user", "api_key", "system"] = Field(description="A member, an API key, or the server itself.")
    id: str | None = Field(description="`usr_…` or `key_…`; null for the system.")
    label: str = Field(description="The member's e-mail address or the key's name.")


class AuditEntry(Schema):
    id: str = Field(examples=["aud_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    at: UTCDatetime
    actor: AuditActor
    action: str = Field(examples=["link.created", "api_key.revoked", "member.role_changed", "user.signed_in_new_place"])
    target_type: str | None
    target_id: str | None
    ip_prefix: str | None = Field(description="The network it came from (/24 or /48), never the full address.")
    details: dict[str, Any]


class AuditPage(Schema):
    data: list[AuditEntry]
    has_more: bool
    next_cursor: str | None
