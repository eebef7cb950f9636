"""Shared dashboards (Settings → Shared dashboards): share a link's, tag's, domain's or bio page's analytics on a
public page, copy its URL once, rotate it, set or remove its password, revoke it. Through
mask.shared_dashboard.service, as the API does; the page itself is mask.dashboard.views.share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError
from mask.shared_dashboard import service as shared_dashboard_service
from mask.shared_dashboard.schemas import SCOPE_FIELDS, SharedDashboardCreate, SharedDashboardUpdate
from mask.workspace.permissions import Permission

KIND_CHOICES = [("link_id", "Link (id)"), ("tag", "Tag (name)"), ("domain", "Domain"), ("bio_page_id", "Bio page (id)")]


def _expiry(raw: str) -> datetime | None:
    """A date field (`2027-01-31`): the page expires at the end of that day, UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)  # refused by the service as in the past, naming the field
    return day.replace(hour=23, minute=59, second=59, tzinfo=UTC)


async def _render(
    page: Page,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    created: shared_dashboard_service.Created | None = None,
) -> Response:
    rows, _ = await shared_dashboard_service.list_page(
        page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None
    )
    params = page.request.query_params
    kind = next((name for name in ("link_id", "bio_page_id") if params.get(name)), "link_id")
    prefill = params.get(kind, "")
    return page.render(
        "settings/shared_dashboards.html",
        status=status,
        dashboards=[shared_dashboard_service.to_schema(row) for row in rows],
        kinds=KIND_CHOICES,
        errors=errors or {},
        values=values or ({"kind": kind, "target": prefill[:64]} if prefill else {"kind": "link_id"}),
        created=created,
        created_id=created.dashboard.id if created else None,
        headers={"Cache-Control": "no-store"},
    )


@view(workspace=True, permission=Permission.analytics_read)
async def list_shared_dashboards(page: Page) -> Response:
    return await _render(page)


@view(workspace=True, permission=Permission.links_write)
async def create_shared_dashboard(page: Page) -> Response:
    values = {
        "kind": await page.field("kind"),
        "target": (await page.field("target")).strip(),
        "title": await page.field("title"),
        "expires": await page.field("expires"),
    }
    password = await page.field("password")
    kind = values["kind"] if values["kind"] in SCOPE_FIELDS else "link_id"
    try:
        data = SharedDashboardCreate.model_validate(
            {
                kind: values["target"] or None,
                "title": values["title"] or None,
                "password": password or None,
                "expires_at": _expiry(values["expires"]),
            }
        )
        created = await shared_dashboard_service.create(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, data=data
        )
    except (MaskError, ValidationError) as error:
        errors = field_errors(error)
        if kind in errors:  # the object field of the form is "target"
            errors["target"] = errors.pop(kind)
        for name in SCOPE_FIELDS:
            errors.pop(name, None)
        if "expires_at" in errors:
            errors["expires"] = errors.pop("expires_at")
        raise Rerender(
            await _render(
                page,
                status=422 if isinstance(error, ValidationError) else error.status_code,
                errors=errors,
                values=values,
            )
        ) from error
    return await _render(page, status=201, created=created)  # the URL is on this one answer only


@view(workspace=True, permission=Permission.links_write)
async def rotate_shared_dashboard(page: Page) -> Response:
    rotated = await shared_dashboard_service.rotate(
        page.db,
        settings=page.settings,
        workspace_id=page.ws.workspace.id,
        dashboard_id=page.request.path_params["dashboard_id"],
    )
    return await _render(page, created=rotated)


@view(workspace=True, permission=Permission.links_write)
async def set_password(page: Page) -> Response:
    """Set a new password, or remove it (`remove=1`)."""
    remove = await page.field("remove") == "1"
    body = {"password": None} if remove else {"password": await page.field("password")}
    try:
        await shared_dashboard_service.update(
            page.db,
            workspace_id=page.ws.workspace.id,
            dashboard_id=page.request.path_params["dashboard_id"],
            data=SharedDashboardUpdate.model_validate(body),
        )
    except (MaskError, ValidationError) as error:
        if isinstance(error, MaskError) and error.status_code == 404:
            raise
        raise Rerender(await _render(page, status=422, errors=field_errors(error))) from error
    return page.redirect(f"{page.base}/settings/shared-dashboards", done="share-password-saved")


@view(workspace=True, permission=Permission.links_write)
async def revoke_shared_dashboard(page: Page) -> Response:
    await shared_dashboard_service.revoke(
        page.db, workspace_id=page.ws.workspace.id, dashboard_id=page.request.path_params["dashboard_id"]
    )
    return page.redirect(f"{page.base}/settings/shared-dashboards", done="share-revoked")
