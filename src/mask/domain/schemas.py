from __future__ import annotations

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime


class DomainCreate(RequestSchema):
    domain: str = Field(
        min_length=1,
        max_length=253,
        examples=["go.yourbrand.com"],
        description="A host name you control. Internationalised names are stored as punycode.",
    )


class Domain(Schema):
    id: str = Field(examples=["dom_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    domain: str = Field(examples=["go.yourbrand.com"])
    verified: bool = Field(description="DNS verification state (verification arrives in a later release).")
    workspace_id: str
    created_at: UTCDatetime
