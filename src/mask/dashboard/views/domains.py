"""Custom short domains through mask.domain.service (owners manage them; members see them)."""

from __future__ import annotations

from starlette.responses import Response

from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.domain import service as domain_service
from mask.kit.errors import MaskError


async def _render(
    page: Page, *, status: int = 200, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    rows, _ = await domain_service.list_page(page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None)
    return page.render(
        "domains.html",
        status=status,
        domains=rows,
        errors=errors or {},
        values=values or {},
        server_host=domain_service.default_hostname(page.settings),
    )


@view(workspace=True)
async def list_domains(page: Page) -> Response:
    return await _render(page)


@view(workspace=True, owner=True)
async def add_domain(page: Page) -> Response:
    name = (await page.field("domain")).strip()
    try:
        await domain_service.create(page.db, settings=page.settings, workspace_id=page.ws.workspace.id, name=name)
    except MaskError as error:
        raise Rerender(
            await _render(page, status=error.status_code, errors=field_errors(error), values={"domain": name})
        ) from error
    return page.redirect(f"{page.base}/domains", done="domain-added")


@view(workspace=True, owner=True)
async def remove_domain(page: Page) -> Response:
    try:
        await domain_service.delete(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            domain_id=page.request.path_params["domain_id"],
        )
    except domain_service.DomainInUse as error:
        raise Rerender(await _render(page, status=error.status_code, errors={"__all__": error.message})) from error
    return page.redirect(f"{page.base}/domains", done="domain-removed")
