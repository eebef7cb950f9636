"""`/v1/keys`: a workspace's API keys, managed with a key (what Settings → API Keys does in the dashboard)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mask.auth import service as auth_service
from mask.auth.dependencies import KeysRead, KeysWrite
from mask.auth.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyList
from mask.dependencies import SessionDep
from mask.kit.schemas import error_responses

router = APIRouter(prefix="/keys", tags=["API keys"])


@router.get(
    "",
    response_model=ApiKeyList,
    responses=error_responses(403),
    summary="List API keys",
    description="Scope: `keys:read`. The workspace's keys that work (not revoked), newest first; never a secret. "
    "Revoked keys are in the audit log (and on the dashboard's key page).",
)
async def list_keys(auth: KeysRead, session: SessionDep) -> ApiKeyList:
    keys = await auth_service.list_keys(session, workspace=auth.workspace)
    return ApiKeyList(data=[ApiKey.model_validate(key) for key in keys if key.revoked_at is None])


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=error_responses(403, 422),
    summary="Create an API key",
    description="Scope: `keys:write`. The new key belongs to the member who made the asking key (it is revoked "
    "when they leave, and loses scopes their new role may not give). It never has a scope the asking key lacks "
    "(`403 scope_not_held`) nor one its member's role may not give (`422 scope_not_allowed`). `secret` is in "
    "this answer only.",
)
async def create_key(body: ApiKeyCreate, auth: KeysWrite, session: SessionDep, response: Response) -> ApiKeyCreated:
    created = await auth_service.create_with_key(
        session, subject=auth, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated.model_validate({**ApiKey.model_validate(created.key).model_dump(), "secret": created.token})


@router.get(
    "/{key_id}",
    response_model=ApiKey,
    responses=error_responses(403, 404),
    summary="Get an API key",
    description="Scope: `keys:read`. A revoked key is gone: `404`, as after any `DELETE`.",
)
async def get_key(key_id: str, auth: KeysRead, session: SessionDep) -> ApiKey:
    key = await auth_service.get_key(session, workspace=auth.workspace, key_id=key_id, live=True)
    return ApiKey.model_validate(key)


@router.delete(
    "/{key_id}",
    status_code=204,
    responses=error_responses(403, 404),
    summary="Revoke an API key",
    description="Scope: `keys:write`. It stops working at once (a key may revoke itself). A member whose role "
    "cannot manage keys (`member`) revokes only the keys they made; another's is `404`.",
)
async def revoke_key(key_id: str, auth: KeysWrite, session: SessionDep) -> Response:
    await auth_service.revoke_with_key(session, subject=auth, key_id=key_id)
    return Response(status_code=204)
