from __future__ import annotations

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime

SCOPES_HELP = "What the key may do (`links:read`, `keys:write`, …; the list is in the API guide)."


class ApiKey(Schema):
    """An API key as listed: never its secret, which is shown once, when it is made."""

    id: str
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it by (`mk_live_ab12`).")
    scopes: list[str] = Field(description=SCOPES_HELP)
    created_by: str | None = Field(description="The member who made it (`null`: the operator, with the CLI).")
    created_at: UTCDatetime
    expires_at: UTCDatetime | None = Field(description="It stops working then (`401 api_key_expired`).")
    last_used_at: UTCDatetime | None = Field(description="To the minute.")
    last_used_ip_prefix: str | None = Field(description="The network it was last used from, never the address.")
    revoked_at: UTCDatetime | None


class ApiKeyCreated(ApiKey):
    secret: str = Field(description="The key itself (`mk_live_…`): shown in this answer only, never again.")


class ApiKeyList(Schema):
    data: list[ApiKey]


class ApiKeyCreate(RequestSchema):
    name: str | None = Field(default=None, max_length=100, examples=["CI deploys"])
    scopes: list[str] | None = Field(
        default=None,
        max_length=50,
        description="At most the scopes of the key that asks (`403 scope_not_held` otherwise) and of its member's "
        "role. Left out: the asking key's scopes.",
    )
    expires_at: UTCDatetime | None = Field(default=None, description="In the future; left out: never.")
