"""API keys: created (shown once), verified per request, revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from mask.auth.repository import ApiKeyRepository
from mask.auth.scopes import ALL_SCOPES
from mask.kit.crypto import generate_token, hash_token
from mask.kit.errors import NotFound, Unauthenticated, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.auth import ApiKey
from mask.models.workspace import Workspace
from mask.workspace.repository import WorkspaceRepository

KEY_PREFIX = "mk_live_"
# Recording every use would turn each read into a write; a minute's precision is what people look at.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


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


def _check_scopes(scopes: list[str] | None) -> list[str]:
    if not scopes:
        return list(ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValidationFailed.single(
            "scopes", "invalid_scope", f"Unknown scope(s) {', '.join(unknown)}; valid: {', '.join(ALL_SCOPES)}."
        )
    return [scope for scope in ALL_SCOPES if scope in scopes]


async def create(
    session: AsyncSession, *, workspace: Workspace, name: str | None = None, scopes: list[str] | None = None
) -> CreatedApiKey:
    """Create a key for the workspace. No scopes means all scopes."""
    token = generate_token(KEY_PREFIX)
    key = ApiKey(
        id=new_id("key"),
        workspace_id=workspace.id,
        name=(name or "API key").strip()[:100] or "API key",
        prefix=token[: len(KEY_PREFIX) + 4],
        token_hash=hash_token(token),
        scopes=_check_scopes(scopes),
    )
    ApiKeyRepository(session).add(key)
    await session.flush()
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
    """The subject for the key found by a token's hash, or Unauthenticated (unknown, revoked look alike)."""
    if key is None or key.revoked_at is not None or workspace is None or workspace.id != key.workspace_id:
        raise Unauthenticated("The API key is unknown or has been revoked.")
    return AuthSubject(workspace=workspace, key=key)


async def record_use(session: AsyncSession, *, subject: AuthSubject) -> None:
    """Note when the key was last used, at most once per LAST_USED_PRECISION (a write only then)."""
    now = utcnow()
    key = subject.key
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        await ApiKeyRepository(session).set_last_used(key.id, now)


async def authenticate(session: AsyncSession, *, token: str) -> AuthSubject:
    """The subject behind a bearer token, or Unauthenticated (unknown, malformed and revoked look alike)."""
    key = await ApiKeyRepository(session).get_by_hash(token_hash(token))
    workspace = await WorkspaceRepository(session).get(key.workspace_id) if key is not None else None
    subject = admit(key, workspace)
    await record_use(session, subject=subject)
    return subject


async def list_keys(session: AsyncSession, *, workspace: Workspace) -> list[ApiKey]:
    """The workspace's keys, newest first (revoked ones included, marked)."""
    return await ApiKeyRepository(session).list_for_workspace(workspace.id)


async def revoke(session: AsyncSession, *, workspace: Workspace, key_id: str) -> ApiKey:
    """Revoke a key; it stops working at once."""
    key = await ApiKeyRepository(session).get(workspace.id, key_id)
    if key is None:
        raise ApiKeyNotFound(f"No API key `{key_id}` in this workspace.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    await session.flush()
    return key
