"""API key scopes. A key with no explicit scopes gets all of them."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    links_read = "links:read"
    links_write = "links:write"
    tags_write = "tags:write"
    domains_read = "domains:read"
    domains_write = "domains:write"
    analytics_read = "analytics:read"
    bio_pages_read = "bio_pages:read"
    bio_pages_write = "bio_pages:write"
    webhooks_read = "webhooks:read"
    webhooks_write = "webhooks:write"
    audit_read = "audit:read"
    keys_read = "keys:read"
    keys_write = "keys:write"
    members_read = "members:read"
    members_write = "members:write"
    workspace_read = "workspace:read"
    workspace_write = "workspace:write"


ALL_SCOPES: tuple[str, ...] = tuple(scope.value for scope in Scope)
