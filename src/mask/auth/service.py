"""API keys: created (shown once), verified per request, revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.auth.repository import ApiKeyRepository
from mask.auth.scopes import ALL_SCOPES
from mask.kit.crypto import generate_token, hash_token
from mask.kit.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.net import network_prefix
from mask.kit.time import as_utc, utcnow
from mask.models.auth import ApiKey
from mask.models.workspace import Workspace
from mask.workspace import permissions
from mask.workspace.repository import MembershipRepository, WorkspaceRepository

KEY_PREFIX = "mk_live_"
# Recording every use would turn each read into a write; a minute's precision is what people look at.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class ApiKeyExpired(Unauthenticated):
    code = "api_key_expired"


class WorkspaceSuspended(Forbidden):
    code = "workspace_suspended"


class ScopeNotHeld(Forbidden):
    """A key asked to make a key with a scope it does not have itself (privilege escalation)."""

    code = "scope_not_held"


@dataclass(frozen=True)
class AuthSubject:
    """Who is calling: a workspace, through one of its keys."""

    workspace: Workspace
    key: ApiKey

    @property
    def workspace_id(self) -> str:
        return self.workspace.id

    def has_scope(self, scope: str) -> bool:
        return scope in self.key.scopes


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKey
    token: str  # shown once, never stored


def _check_scopes(scopes: list[str] | None, role: str | None, within: list[str] | None = None) -> list[str]:
    allowed = ALL_SCOPES if role is None else tuple(permissions.grantable_scopes(role))
    if within is not None:
        allowed = tuple(scope for scope in allowed if scope in within)
    if not scopes:
        return list(allowed)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValidationFailed.single(
            "scopes", "invalid_scope", f"Unknown scope(s) {', '.join(unknown)}; valid: {', '.join(ALL_SCOPES)}."
        )
    if within is not None and (lacking := sorted(set(scopes) - set(within))):
        raise ScopeNotHeld(
            f"An API key cannot give a new key a scope it lacks itself: {', '.join(lacking)}.", param="scopes"
        )
    beyond = sorted(set(scopes) - set(allowed))
    if beyond:
        raise ValidationFailed.single(
            "scopes",
            "scope_not_allowed",
            f"Your role ({role}) cannot give a key {', '.join(beyond)}; it may give {', '.join(allowed) or 'none'}.",
        )
    return [scope for scope in ALL_SCOPES if scope in scopes]


def _check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    expires_at = as_utc(expires_at)
    if expires_at <= utcnow():
        raise ValidationFailed.single("expires_at", "expiry_in_past", "A key's expiry must be in the future.")
    return expires_at


async def create(
    session: AsyncSession,
    *,
    workspace: Workspace,
    name: str | None = None,
    scopes: list[str] | None = None,
    created_by: str | None = None,
    role: str | None = None,
    expires_at: datetime | None = None,
    within: list[str] | None = None,
) -> CreatedApiKey:
    """Create a key for the workspace. No scopes means every scope the creator's `role` may grant (all of them
    for the CLI, which has no role); a scope beyond the role is refused (422). `expires_at`: it stops working
    then (401 `api_key_expired`). `within`: the scopes of the key that asks for this one (the API); a scope
    beyond them is refused (403 `scope_not_held`), and no scopes means the asking key's."""
    token = generate_token(KEY_PREFIX)
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace.id,
        name=(name or "API key").strip()[:100] or "API key",
        prefix=token[: len(KEY_PREFIX) + 4],
        token_hash=hash_token(token),
        scopes=_check_scopes(scopes, role, within),
        created_by=created_by,
        expires_at=_check_expiry(expires_at),
    )
    ApiKeyRepository(session).add(key)
    await session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        action="api_key.created",
        target_type="api_key",
        target_id=key.id,
        details={
            "name": key.name,
            "scopes": key.scopes,
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        },
    )
    return CreatedApiKey(key=key, token=token)


@dataclass(frozen=True)
class ResolvedKey:
    """A bearer token resolved earlier in the request (by the rate limiter, in the query that also reads the
    plan's limit), handed to the Authenticator through the ASGI scope state so it is not looked up twice."""

    STATE: ClassVar[str] = "resolved_api_key"

    token: str
    subject: AuthSubject | None
    error: Unauthenticated | None

    def subject_or_raise(self) -> AuthSubject:
        if self.subject is None:
            raise self.error or Unauthenticated("The API key is unknown or has been revoked.")
        return self.subject


def token_hash(token: str) -> str:
    """The stored hash of a bearer token, or Unauthenticated when the token cannot be a key."""
    if not token.startswith(KEY_PREFIX) or len(token) < len(KEY_PREFIX) + 32 or len(token) > 200:
        raise Unauthenticated("The API key is malformed. Keys look like `mk_live_…`.")
    return hash_token(token)


def admit(key: ApiKey | None, workspace: Workspace | None) -> AuthSubject:
    """The subject for the key found by a token's hash, or Unauthenticated (unknown, revoked look alike; an
    expired key says so: `api_key_expired`)."""
    if key is None or key.revoked_at is not None or workspace is None or workspace.id != key.workspace_id:
        raise Unauthenticated("The API key is unknown or has been revoked.")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise ApiKeyExpired("The API key expired; create a new one under Settings → API Keys.")
    return AuthSubject(workspace=workspace, key=key)


def check_workspace(subject: AuthSubject) -> None:
    """A suspended workspace's keys are refused (403 `workspace_suspended`)."""
    if subject.workspace.suspended_at is not None:
        raise WorkspaceSuspended("This workspace has been suspended by the operator of this server.")


async def record_use(session: AsyncSession, *, subject: AuthSubject, ip: str | None = None) -> None:
    """Note when, and from which network (a prefix, never the address), the key was last used: at most once per
    LAST_USED_PRECISION, or when the network changes (a write only then)."""
    now = utcnow()
    key = subject.key
    prefix = network_prefix(ip)
    stale = key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION
    if stale or (prefix is not None and prefix != key.last_used_ip_prefix):
        await ApiKeyRepository(session).set_last_used(key.id, now, prefix or key.last_used_ip_prefix)


async def authenticate(session: AsyncSession, *, token: str, ip: str | None = None) -> AuthSubject:
    """The subject behind a bearer token, or Unauthenticated (unknown, malformed and revoked look alike)."""
    key = await ApiKeyRepository(session).get_by_hash(token_hash(token))
    workspace = await WorkspaceRepository(session).get(key.workspace_id) if key is not None else None
    subject = admit(key, workspace)
    await record_use(session, subject=subject, ip=ip)
    return subject


async def resolve(session: AsyncSession, *, token: str) -> ResolvedKey:
    """The key behind a bearer token, or why it admits nobody, without recording its use: for the layers that
    must know the caller before the endpoint authenticates (the API's edge, before reading a body; idempotency,
    before a replay). The Authenticator reuses the answer."""
    try:
        key = await ApiKeyRepository(session).get_by_hash(token_hash(token))
        workspace = await WorkspaceRepository(session).get(key.workspace_id) if key is not None else None
        return ResolvedKey(token=token, subject=admit(key, workspace), error=None)
    except Unauthenticated as error:
        return ResolvedKey(token=token, subject=None, error=error)


def no_credentials(*, header_sent: bool) -> Unauthenticated:
    """The 401 for a request without a bearer token: none at all, or an Authorization header of another kind."""
    if not header_sent:
        return Unauthenticated("No API key. Send `Authorization: Bearer mk_live_…`.", code="missing_api_key")
    return Unauthenticated("The Authorization header must be `Bearer <API key>`.")


async def list_keys(session: AsyncSession, *, workspace: Workspace) -> list[ApiKey]:
    """The workspace's keys, newest first (revoked ones included, marked)."""
    return await ApiKeyRepository(session).list_for_workspace(workspace.id)


async def revoke(session: AsyncSession, *, workspace: Workspace, key_id: str, only_of: str | None = None) -> ApiKey:
    """Revoke a key; it stops working at once. `only_of`: a user who may revoke only the keys they made."""
    key = await ApiKeyRepository(session).get(workspace.id, key_id)
    if key is None or (only_of is not None and key.created_by != only_of):
        raise ApiKeyNotFound(f"No API key `{key_id}` of yours in this workspace.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            workspace_id=workspace.id,
            action="api_key.revoked",
            target_type="api_key",
            target_id=key.id,
            details={"name": key.name},
        )
    await session.flush()
    return key


# The API's own key management: the asking key acts for the member who made it, within its own scopes.


async def acting_role(session: AsyncSession, *, subject: AuthSubject) -> str | None:
    """The role of the member behind a key (None: a key the operator made with the CLI, bounded by nothing but
    its scopes). A key whose member has left is revoked with their membership, so it never gets here."""
    if subject.key.created_by is None:
        return None
    membership = await MembershipRepository(session).get(subject.workspace_id, subject.key.created_by)
    if membership is None:
        raise Unauthenticated("The API key is unknown or has been revoked.")
    return membership.role


async def create_with_key(
    session: AsyncSession,
    *,
    subject: AuthSubject,
    name: str | None,
    scopes: list[str] | None,
    expires_at: datetime | None,
) -> CreatedApiKey:
    """A key made through the API by another key: it belongs to the same member (revoked when they leave,
    narrowed when their role changes) and has no scope the asking key lacks (403 `scope_not_held`)."""
    return await create(
        session,
        workspace=subject.workspace,
        name=name,
        scopes=scopes,
        created_by=subject.key.created_by,
        role=await acting_role(session, subject=subject),
        expires_at=expires_at,
        within=list(subject.key.scopes),
    )


async def get_key(session: AsyncSession, *, workspace: Workspace, key_id: str, live: bool = False) -> ApiKey:
    """One of the workspace's keys (another workspace's is ApiKeyNotFound; with `live`, a revoked one too)."""
    key = await ApiKeyRepository(session).get(workspace.id, key_id)
    if key is None or (live and key.revoked_at is not None):
        raise ApiKeyNotFound(f"No API key `{key_id}` in this workspace.")
    return key


async def revoke_with_key(session: AsyncSession, *, subject: AuthSubject, key_id: str) -> ApiKey:
    """Revoke a key through the API: as in the dashboard, a member whose role cannot manage keys revokes only
    the keys they made (any other is 404)."""
    await get_key(session, workspace=subject.workspace, key_id=key_id, live=True)  # revoked already: gone, 404
    role = await acting_role(session, subject=subject)
    manages = role is None or permissions.allows(role, permissions.Permission.keys_manage)
    return await revoke(
        session, workspace=subject.workspace, key_id=key_id, only_of=None if manages else subject.key.created_by
    )
