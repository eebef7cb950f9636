"""Imports and exports in the dashboard: the links export button, the import page (upload, a preview of the first
rows and of the columns each field is read from, live progress) and the report download, all through
mask.imports and mask.bulk as the API uses them."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from mask.bulk import export
from mask.dashboard.views.links import SORTS, _list_filters
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.imports import formats
from mask.imports import service as import_service
from mask.imports.schemas import FILE_SOURCES, ImportOptions
from mask.kit.errors import MaskError, ValidationFailed
from mask.link import service as link_service
from mask.link.repository import Archived
from mask.workspace.permissions import Permission

PREVIEW_ROWS = 5
SOURCE_LABELS = {
    "mask-csv": "MASK export (CSV)",
    "bitly-csv": "Bitly export (CSV)",
    "dub-csv": "Dub export (CSV)",
    "shlink-csv": "Shlink export (CSV)",
    "yourls-csv": "YOURLS export (CSV)",
    "kutt-csv": "Kutt export (CSV)",
    "csv": "Other CSV (choose the columns)",
}
MAPPED_FIELDS = ("url", "slug", "short_url", "title", "tags", "created_at", "clicks")


@view(workspace=True, permission=Permission.links_read)
async def export_links(page: Page) -> Response:
    """The links the list's filters select, as CSV (the API's export)."""
    filters = _list_filters(page)
    _value, _label, sort, order = next(item for item in SORTS if item[0] == filters["sort"])
    query = link_service.ListQuery(
        sort=sort,
        order=order,
        archived=Archived(filters["archived"]),
        domain=filters["domain"] or None,
        query=filters["q"] or None,
        tag_names=tuple(filters["tags"]),
        tag_match=filters["tag_match"],
        created_by=page.me.id if filters["created_by"] else None,
    )
    workspace_id = page.ws.workspace.id
    first = await export.first_page(page.db, workspace_id=workspace_id, query=query)
    body = export.stream(page.context.sessionmaker, workspace_id=workspace_id, query=query, format="csv", first=first)
    name = f"{page.ws.workspace.slug}-links.csv"
    return StreamingResponse(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def _upload(page: Page) -> tuple[bytes | None, str | None]:
    upload = (await page.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None
    content = await upload.read(import_service.MAX_IMPORT_BYTES + 1)
    return content, upload.filename


async def _options(page: Page) -> dict[str, Any]:
    mapping = {name: value for name in MAPPED_FIELDS if (value := (await page.field(f"map_{name}")).strip())}
    theirs, ours = (await page.field("from_domain")).strip(), (await page.field("to_domain")).strip()
    return {
        "source": await page.field("source") or "mask-csv",
        "dry_run": await page.field("dry_run") == "1",
        "on_conflict": await page.field("on_conflict") or "skip",
        "domains": {theirs: ours} if theirs and ours else {},
        "mapping": mapping or None,
    }


async def _page_values(page: Page) -> dict[str, Any]:
    jobs = await import_service.recent(page.db, workspace_id=page.ws.workspace.id, limit=20)
    return {"jobs": [import_service.to_schema(job) for job in jobs], "sources": SOURCE_LABELS, "fields": MAPPED_FIELDS}


@view(workspace=True, permission=Permission.links_read)
async def imports_page(page: Page) -> Response:
    return page.render("imports/list.html", values={"source": "bitly-csv"}, **await _page_values(page))


@view(workspace=True, permission=Permission.links_write)
async def preview(page: Page) -> Response:
    """The file's first rows and which column each field is read from (nothing stored)."""
    content, filename = await _upload(page)
    options = await _options(page)
    if content is None:
        return page.render("imports/_preview.html", problem="Choose a file first.")
    text = formats.decode(content[:1_000_000])
    header, rows = formats.rows(text)
    source = options["source"] if options["source"] in FILE_SOURCES else "csv"
    columns = formats.column_map(source, header, options["mapping"])
    sample: list[formats.Row] = []
    for row in rows:
        if len(sample) >= PREVIEW_ROWS:
            break
        sample.append(row)
    missing = formats.missing_columns(header, columns) if header else ["url"]
    return page.render(
        "imports/_preview.html",
        filename=filename,
        header=header,
        sample=sample,
        columns={name: names[0] for name, names in columns.items()},
        missing=missing,
        problem=None,
    )


@view(workspace=True, permission=Permission.links_write)
async def start_import(page: Page) -> Response:
    content, filename = await _upload(page)
    raw = await _options(page)
    try:
        options = ImportOptions.model_validate(raw)
        job = await import_service.create(
            page.db,
            settings=page.settings,
            workspace_id=page.ws.workspace.id,
            options=options,
            content=content,
            filename=filename,
        )
    except (MaskError, ValidationError) as error:
        errors = field_errors(error)
        if isinstance(error, ValidationFailed):
            errors = {problem.param: problem.message for problem in error.errors}
        raise Rerender(
            page.render(
                "imports/list.html",
                status=422 if isinstance(error, ValidationError) else error.status_code,
                errors=errors,
                values={"source": raw["source"], "on_conflict": raw["on_conflict"]},
                **await _page_values(page),
            )
        ) from error
    return page.redirect(f"{page.base}/imports/{job.id}")


@view(workspace=True, permission=Permission.links_read)
async def import_detail(page: Page) -> Response:
    job = await import_service.get(
        page.db, workspace_id=page.ws.workspace.id, import_id=page.request.path_params["import_id"]
    )
    issues = await import_service.report(page.db, job=job, after=0, limit=50)
    template = "imports/_progress.html" if page.request.headers.get("hx-request") else "imports/detail.html"
    return page.render(template, job=import_service.to_schema(job), issues=issues)


@view(workspace=True, permission=Permission.links_read)
async def import_report(page: Page) -> Response:
    job = await import_service.get(
        page.db, workspace_id=page.ws.workspace.id, import_id=page.request.path_params["import_id"]
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=("row", "outcome", "code", "param", "message", "slug", "url"))
    writer.writeheader()
    after = 0
    while rows := await import_service.report(page.db, job=job, after=after, limit=5000):
        writer.writerows(rows)
        after = int(rows[-1]["row"])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.id}-report.csv"'},
    )
