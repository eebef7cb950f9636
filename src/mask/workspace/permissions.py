"""Who may do what in a workspace: the one permission matrix.

Every check of a role goes through `allows` (the dashboard's `view(permission=…)`, the member and key
management services) and every API key's scopes are bounded by `grantable_scopes` of its creator's role, at
creation and whenever that role changes; so the API and the dashboard enforce the same matrix.

A permission whose name is an API scope (`links:write`) is what a key with that scope may do; the others
(`members:manage`, …) exist only in the dashboard and the management services.
"""

from __future__ import annotations

from enum import StrEnum

from mask.models.account import Role


class Permission(StrEnum):
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
    members_read = "members:read"  # see who is in the workspace
    members_manage = "members:manage"  # invite, remove, change roles (owners: only by owners)
    keys_own = "keys:own"  # create API keys (within the role's scopes) and revoke one's own
    keys_manage = "keys:manage"  # revoke anyone's keys
    workspace_manage = "workspace:manage"  # rename
    workspace_security = "workspace:security"  # require two-factor sign-in of every member
    # The API's scopes for what the dashboard's settings pages do (keys, members and invites, the workspace);
    # each is held by the same roles as the permission the service checks (keys:write ~ keys:own, …).
    keys_read = "keys:read"
    keys_write = "keys:write"
    members_write = "members:write"
    workspace_read = "workspace:read"
    workspace_write = "workspace:write"


P = Permission
_READ = frozenset({P.links_read, P.domains_read, P.analytics_read, P.bio_pages_read, P.members_read, P.workspace_read})
_MEMBER = _READ | {P.links_write, P.tags_write, P.bio_pages_write, P.keys_own, P.keys_read, P.keys_write}
_ADMIN = _MEMBER | {
    P.domains_write,
    P.webhooks_read,
    P.webhooks_write,
    P.audit_read,
    P.members_manage,
    P.keys_manage,
    P.workspace_manage,
    P.members_write,
    P.workspace_write,
}
MATRIX: dict[str, frozenset[Permission]] = {
    Role.owner: frozenset(Permission),  # everything, and only owners make or unmake owners
    Role.admin: frozenset(_ADMIN),
    Role.member: frozenset(_MEMBER),
    Role.viewer: _READ,  # read-only, analytics included
}
ROLE_ORDER = (Role.viewer, Role.member, Role.admin, Role.owner)
API_SCOPES = (
    P.links_read,
    P.links_write,
    P.tags_write,
    P.domains_read,
    P.domains_write,
    P.analytics_read,
    P.bio_pages_read,
    P.bio_pages_write,
    P.webhooks_read,
    P.webhooks_write,
    P.audit_read,
    P.keys_read,
    P.keys_write,
    P.members_read,
    P.members_write,
    P.workspace_read,
    P.workspace_write,
)


def allows(role: str, permission: Permission) -> bool:
    return permission in MATRIX.get(role, frozenset())


def grantable_scopes(role: str) -> list[str]:
    """The API scopes a member of this role may give a key (and that their keys keep)."""
    return [scope.value for scope in API_SCOPES if allows(role, scope)]


def outranks(role: str, other: str) -> bool:
    """Whether `role` is at least as high as `other` (who may give or take which role)."""
    return ROLE_ORDER.index(Role(role)) >= ROLE_ORDER.index(Role(other))
