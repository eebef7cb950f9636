from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mask.kit.schemas import RequestSchema, Schema, UTCDatetime, stated

URL_RULES = "An http(s) URL, with the same rules as a link's `url` (never one of MASK's own short domains)."


class DomainCreate(RequestSchema):
    domain: str = Field(
        min_length=1,
        max_length=253,
        examples=["go.yourbrand.com"],
        description="A host name you control. Internationalised names are stored as punycode. Not an IP address, "
        "not with a port, not a public suffix (`co.uk`, `github.io`).",
    )


class DomainUpdate(RequestSchema):
    """Every field optional; `null` clears one (back to MASK's default answer)."""

    root_url: str | None = Field(
        default=None,
        max_length=2048,
        examples=["https://yourbrand.com"],
        description="Where the domain's root (`https://go.yourbrand.com/`) redirects. " + URL_RULES,
    )
    not_found_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Where an unknown slug redirects, instead of MASK's 404 page. " + URL_RULES,
    )
    expired_url: str | None = Field(
        default=None,
        max_length=2048,
        description="Where expired links without an `expired_url` of their own redirect, instead of MASK's 410 "
        "page. " + URL_RULES,
    )
    robots: Literal["deny", "allow"] | None = Field(
        default=None,
        json_schema_extra=stated(nullable=False),
        description="`deny` (the default): `robots.txt` disallows everything and redirects carry "
        "`X-Robots-Tag: noindex`. `allow`: `robots.txt` allows everything, no `X-Robots-Tag`.",
    )
    apple_app_site_association: dict[str, Any] | None = Field(
        default=None,
        description="Served at `/.well-known/apple-app-site-association` (universal links): an object with "
        "`applinks`, `webcredentials`, `appclips` and/or `activitycontinuation`. At most 64 KB.",
        examples=[{"applinks": {"details": [{"appIDs": ["ABCDE12345.com.example.app"], "components": [{"/": "/*"}]}]}}],
    )
    asset_links: list[Any] | None = Field(
        default=None,
        description="Served at `/.well-known/assetlinks.json` (Android App Links): a list of statements with "
        "`relation` and an `android_app` or `web` `target`. At most 64 KB.",
    )


class DnsRecord(Schema):
    type: Literal["TXT", "CNAME", "A", "AAAA"]
    name: str = Field(examples=["_mask-challenge.go.yourbrand.com"])
    value: str = Field(examples=["mask-verify=3f6c0e…"])


class CheckProblem(Schema):
    code: str = Field(
        description="`record_not_found`, `record_mismatch`, `dns_timeout`, `dns_error`, `verified_elsewhere` "
        "(another workspace has verified this host name) or `claimed_elsewhere` (this claim was released when "
        "another workspace verified the host name)."
    )
    message: str


class Verification(Schema):
    status: Literal["pending", "verified", "failed"] = Field(
        description="`pending`: MASK checks the record with backoff for 7 days; `verified`: links answer (checked "
        "daily; a record gone for longer than the grace period makes the domain pending again); `failed`: MASK "
        "gave up checking (`POST /v1/domains/{id}/verify` checks again)."
    )
    method: Literal["dns_txt", "operator"] = Field(
        description="`dns_txt`: the TXT record in `record`; `operator`: verified by the server's operator "
        "(`mask domains add --verified`), never checked."
    )
    record: DnsRecord | None = Field(description="The TXT record that proves ownership (null for `operator`).")
    verified_at: UTCDatetime | None
    last_checked_at: UTCDatetime | None
    next_check_at: UTCDatetime | None = Field(description="When the background process checks next (null: never).")
    record_missing_since: UTCDatetime | None = Field(
        description="A verified domain whose record is gone: since when (the grace period runs from here)."
    )
    error: CheckProblem | None = Field(description="Why the last check did not find the record.")


class Routing(Schema):
    status: Literal["ok", "missing", "unknown"] | None = Field(
        description="Whether the domain pointed at MASK at the last check (`unknown`: the server does not say "
        "where it is reachable; null: not checked yet)."
    )
    records: list[DnsRecord] = Field(
        description="Create one of these so that visitors reach MASK: a CNAME (not possible at a zone's apex), "
        "or the A/AAAA records."
    )


class Domain(Schema):
    id: str = Field(examples=["dom_0Ks5Jx3b9pQ2h1Vw8mZtRc"])
    domain: str = Field(examples=["go.yourbrand.com"])
    verified: bool = Field(description="Whether links on this domain answer (`verification.status` is `verified`).")
    verification: Verification
    routing: Routing
    root_url: str | None
    not_found_url: str | None
    expired_url: str | None
    robots: Literal["deny", "allow"]
    apple_app_site_association: dict[str, Any] | None
    asset_links: list[Any] | None
    workspace_id: str
    created_at: UTCDatetime
    updated_at: UTCDatetime
