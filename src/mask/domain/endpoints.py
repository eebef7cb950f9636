from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mask.auth.dependencies import DomainsRead, DomainsWrite
from mask.dependencies import ContextDep, SessionDep
from mask.domain import service as domain_service
from mask.domain.schemas import Domain, DomainCreate
from mask.kit.pagination import Page
from mask.kit.schemas import error_responses

router = APIRouter(prefix="/domains", tags=["Domains"])


@router.post(
    "",
    status_code=201,
    response_model=Domain,
    responses=error_responses(400, 403, 409, 422),
    summary="Add a custom short domain",
    description="Scope: `domains:write`. A domain used by any workspace is `409`.",
)
async def create_domain(body: DomainCreate, auth: DomainsWrite, session: SessionDep, context: ContextDep) -> Domain:
    domain = await domain_service.create(
        session, settings=context.settings, workspace_id=auth.workspace_id, name=body.domain
    )
    return Domain.model_validate(domain)


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
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[Domain]:
    rows, next_cursor = await domain_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor
    )
    return Page[Domain](
        data=[Domain.model_validate(row) for row in rows], has_more=next_cursor is not None, next_cursor=next_cursor
    )


@router.get(
    "/{domain_id}",
    response_model=Domain,
    responses=error_responses(403, 404),
    summary="Get a domain",
    description="Scope: `domains:read`.",
)
async def get_domain(domain_id: str, auth: DomainsRead, session: SessionDep) -> Domain:
    return Domain.model_validate(await domain_service.get(session, workspace_id=auth.workspace_id, domain_id=domain_id))


@router.delete(
    "/{domain_id}",
    status_code=204,
    responses=error_responses(403, 404, 409),
    summary="Remove a domain",
    description="Scope: `domains:write`. `409` while links use it.",
)
async def delete_domain(domain_id: str, auth: DomainsWrite, session: SessionDep) -> Response:
    await domain_service.delete(session, workspace_id=auth.workspace_id, domain_id=domain_id)
    return Response(status_code=204)
