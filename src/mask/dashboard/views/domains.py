"""Custom short domains through mask.domain.service (owners manage them; members see them): the records to
create, the verification status, "Check now", and what each domain answers besides links."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.dashboard.wording import humanize
from mask.domain import service as domain_service
from mask.domain.dns import Dns
from mask.domain.schemas import DomainUpdate
from mask.kit.errors import FieldError, MaskError, ValidationFailed
from mask.workspace.permissions import Permission

SETTINGS_FIELDS = ("root_url", "not_found_url", "expired_url", "robots", "apple_app_site_association", "asset_links")
JSON_FIELDS = ("apple_app_site_association", "asset_links")


async def _render(
    page: Page, *, status: int = 200, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    rows, _ = await domain_service.list_page(page.db, workspace_id=page.ws.workspace.id, limit=100, cursor=None)
    default = await domain_service.default_domain(page.db, settings=page.settings, workspace_id=page.ws.workspace.id)
    return page.render(
        "domains.html",
        status=status,
        domains=[domain_service.to_schema(row, page.settings) for row in rows],
        errors=errors or {},
        values=values or {},
        server_host=domain_service.default_hostname(page.settings),
        default_domain=default,
        default_choices=[page.settings.short_domain, *sorted(row.domain for row in rows if row.verified)],
    )


def _settings_values(domain: Any) -> dict[str, str]:
    values = {name: getattr(domain, name) or "" for name in ("root_url", "not_found_url", "expired_url", "robots")}
    for name in JSON_FIELDS:
        value = getattr(domain, name)
        values[name] = json.dumps(value, indent=2) if value is not None else ""
    return values


async def _render_detail(
    page: Page,
    domain_id: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    domain = await domain_service.get(page.db, workspace_id=page.ws.workspace.id, domain_id=domain_id)
    shown = domain_service.to_schema(domain, page.settings)
    return page.render(
        "domain.html",
        status=status,
        domain=shown,
        errors=errors or {},
        values=values if values is not None else _settings_values(shown),
    )


@view(workspace=True, permission=Permission.domains_read)
async def list_domains(page: Page) -> Response:
    return await _render(page)


@view(workspace=True, permission=Permission.domains_write)
async def add_domain(page: Page) -> Response:
    name = (await page.field("domain")).strip()
    try:
        domain = await domain_service.create(
            page.db, settings=page.settings, workspace_id=page.ws.workspace.id, name=name
        )
    except MaskError as error:
        raise Rerender(
            await _render(page, status=error.status_code, errors=field_errors(error), values={"domain": name})
        ) from error
    return page.redirect(f"{page.base}/domains/{domain.id}", done="domain-added")


@view(workspace=True, permission=Permission.domains_read)
async def domain_detail(page: Page) -> Response:
    return await _render_detail(page, page.request.path_params["domain_id"])


@view(workspace=True, permission=Permission.domains_write)
async def check_domain(page: Page) -> Response:
    domain_id = page.request.path_params["domain_id"]
    domain = await domain_service.check_now(
        page.db, settings=page.settings, dns=Dns(page.settings), workspace_id=page.ws.workspace.id, domain_id=domain_id
    )
    return page.redirect(
        f"{page.base}/domains/{domain_id}", done="domain-verified" if domain.verified else "domain-checked"
    )


@view(workspace=True, permission=Permission.domains_write)
async def save_domain(page: Page) -> Response:
    domain_id = page.request.path_params["domain_id"]
    values = {name: (await page.field(name)).strip() for name in SETTINGS_FIELDS}
    body: dict[str, Any] = {name: values[name] or None for name in ("root_url", "not_found_url", "expired_url")}
    body["robots"] = values["robots"] or "deny"
    problems: list[FieldError] = []
    for name in JSON_FIELDS:
        try:
            body[name] = json.loads(values[name]) if values[name] else None
        except ValueError:
            problems.append(FieldError(name, "invalid_json", "This is not valid JSON."))
    try:
        if problems:
            raise ValidationFailed(problems)
        await domain_service.update(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            domain_id=domain_id,
            data=DomainUpdate.model_validate(body),
        )
    except (MaskError, ValidationError) as error:
        status = 422 if isinstance(error, ValidationError) else error.status_code
        raise Rerender(
            await _render_detail(page, domain_id, status=status, errors=field_errors(error), values=values)
        ) from error
    return page.redirect(f"{page.base}/domains/{domain_id}", done="domain-saved")


@view(workspace=True, permission=Permission.domains_write)
async def remove_domain(page: Page) -> Response:
    try:
        await domain_service.delete(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            domain_id=page.request.path_params["domain_id"],
        )
    except domain_service.DomainInUse as error:
        raise Rerender(
            await _render(page, status=error.status_code, errors={"__all__": humanize(error.message)})
        ) from error
    return page.redirect(f"{page.base}/domains", done="domain-removed")


@view(workspace=True, permission=Permission.workspace_manage)
async def set_default_domain(page: Page) -> Response:
    """Where the workspace's links and bio pages go when they name no domain (as `PATCH /v1/workspace`)."""
    name = await page.field("default_domain")
    try:
        await domain_service.set_default_domain(page.db, settings=page.settings, workspace=page.ws.workspace, raw=name)
    except MaskError as error:
        raise Rerender(await _render(page, status=error.status_code, errors=field_errors(error))) from error
    return page.redirect(f"{page.base}/domains", done="default-domain-set")
