from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import DomainsRead, DomainsWrite
from mask.dependencies import ContextDep, SessionDep
from mask.domain import service as domain_service
from mask.domain.dns import Dns
from mask.domain.schemas import Domain, DomainCreate, DomainUpdate
from mask.kit.pagination import Page
from mask.kit.schemas import CURSOR_SCHEMA, error_responses

router = APIRouter(prefix="/domains", tags=["Domains"])


@router.post(
    "",
    status_code=201,
    response_model=Domain,
    responses=error_responses(400, 403, 409, 422),
    summary="Add a custom short domain",
    description="Scope: `domains:write`. The domain is `pending` until the TXT record in `verification.record` "
    "exists (MASK checks it in the background, or at once with `POST /v1/domains/{id}/verify`); links can be "
    "created on it meanwhile, but answer only once it is verified. `409` when this workspace already has it, "
    "another workspace has verified it, or it is the default short domain.",
)
async def create_domain(body: DomainCreate, auth: DomainsWrite, session: SessionDep, context: ContextDep) -> Domain:
    domain = await domain_service.create(
        session, settings=context.settings, workspace_id=auth.workspace_id, name=body.domain
    )
    return domain_service.to_schema(domain, context.settings)


@router.get(
    "",
    response_model=Page[Domain],
    responses=error_responses(403, 422),
    summary="List the workspace's domains",
    description="Scope: `domains:read`.",
)
async def list_domains(
    auth: DomainsRead,
    session: SessionDep,
    context: ContextDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200, json_schema_extra=CURSOR_SCHEMA)] = None,
) -> Page[Domain]:
    rows, next_cursor = await domain_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor
    )
    return Page[Domain](
        data=[domain_service.to_schema(row, context.settings) for row in rows],
        has_more=next_cursor is not None,
        next_cursor=next_cursor,
    )


@router.get(
    "/{domain_id}",
    response_model=Domain,
    responses=error_responses(403, 404),
    summary="Get a domain",
    description="Scope: `domains:read`.",
)
async def get_domain(domain_id: str, auth: DomainsRead, session: SessionDep, context: ContextDep) -> Domain:
    domain = await domain_service.get(session, workspace_id=auth.workspace_id, domain_id=domain_id)
    return domain_service.to_schema(domain, context.settings)


@router.patch(
    "/{domain_id}",
    response_model=Domain,
    responses=error_responses(400, 403, 404, 422),
    summary="Change what a domain answers besides links",
    description="Scope: `domains:write`. Every field optional; `null` clears one: `root_url`, `not_found_url`, "
    "`expired_url`, `robots`, `apple_app_site_association`, `asset_links`.",
)
async def update_domain(
    domain_id: str, body: DomainUpdate, auth: DomainsWrite, session: SessionDep, context: ContextDep
) -> Domain:
    domain = await domain_service.update(
        session, settings=context.settings, workspace_id=auth.workspace_id, domain_id=domain_id, data=body
    )
    return domain_service.to_schema(domain, context.settings)


@router.post(
    "/{domain_id}/verify",
    response_model=Domain,
    responses=error_responses(403, 404),
    summary="Check a domain's DNS records now",
    description="Scope: `domains:write`. Looks the TXT record (and the routing record) up now and answers with "
    "the result: `verification.status` becomes `verified` when the record is there (and no other workspace has "
    "verified the domain), else `verification.error` says what was found. A `failed` domain gets another week of "
    "background checks.",
)
async def verify_domain(domain_id: str, auth: DomainsWrite, session: SessionDep, context: ContextDep) -> Domain:
    domain = await domain_service.check_now(
        session,
        settings=context.settings,
        dns=Dns(context.settings),
        workspace_id=auth.workspace_id,
        domain_id=domain_id,
    )
    return domain_service.to_schema(domain, context.settings)


@router.delete(
    "/{domain_id}",
    status_code=204,
    responses=error_responses(403, 404, 409),
    summary="Remove a domain",
    description="Scope: `domains:write`. `409` while links use it.",
)
async def delete_domain(domain_id: str, auth: DomainsWrite, session: SessionDep, context: ContextDep) -> Response:
    await domain_service.delete(session, settings=context.settings, workspace_id=auth.workspace_id, domain_id=domain_id)
    return Response(status_code=204)
