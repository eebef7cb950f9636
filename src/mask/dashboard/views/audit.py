"""Settings → Audit log: who changed what in the workspace (mask.audit_log)."""

from __future__ import annotations

from starlette.responses import Response

from mask.audit_log import service as audit_service
from mask.dashboard.web import Page, view
from mask.workspace.permissions import Permission

PAGE_SIZE = 50


@view(workspace=True, permission=Permission.audit_read)
async def audit_log(page: Page) -> Response:
    params = page.request.query_params
    action = params.get("action", "").strip()[:50] or None
    cursor = params.get("cursor") or None
    entries, next_cursor = await audit_service.list_page(
        page.db,
        workspace_id=page.ws.workspace.id,
        limit=PAGE_SIZE,
        cursor=cursor[:200] if cursor else None,
        action=action,
    )
    return page.render("audit.html", entries=entries, next_cursor=next_cursor, action=action or "")
