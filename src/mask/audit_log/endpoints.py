from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mask.audit_log import service as audit_service
from mask.audit_log.schemas import AuditActor, AuditEntry, AuditPage
from mask.auth.dependencies import AuditRead
from mask.dependencies import SessionDep
from mask.kit.schemas import CURSOR_SCHEMA, error_responses
from mask.models.audit import AuditEntry as AuditRow

router = APIRouter(prefix="/audit-log", tags=["Audit log"])


def to_schema(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=AuditActor(type=row.actor_type, id=row.actor_id, label=row.actor_label),
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        ip_prefix=row.ip_prefix,
        details=row.details,
    )


@router.get(
    "",
    response_model=AuditPage,
    responses=error_responses(403, 422),
    summary="List the audit log, newest first",
    description="Scope: `audit:read` (only owners' and admins' keys can have it). Every change in the workspace "
    "(links, domains, bio pages, webhooks, keys, members, settings) and every sign-in from a new place: who, "
    "what, when, from which network. Kept `MASK_AUDIT_RETENTION_DAYS` days. Cursor pagination.",
)
async def list_audit_log(
    auth: AuditRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page", json_schema_extra=CURSOR_SCHEMA),
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=50,
            pattern=r"^[a-z_]+\.([a-z_]+)?$",
            description="One action (`link.created`) or a family ending with a dot (`member.`).",
        ),
    ] = None,
    actor_id: Annotated[str | None, Query(max_length=40, pattern=r"^(usr|key)_[0-9A-Za-z]{22}$")] = None,
) -> AuditPage:
    rows, next_cursor = await audit_service.list_page(
        session, workspace_id=auth.workspace_id, limit=limit, cursor=cursor, action=action, actor_id=actor_id
    )
    return AuditPage(data=[to_schema(row) for row in rows], has_more=next_cursor is not None, next_cursor=next_cursor)
