from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mask.auth.dependencies import LinksRead, LinksWrite
from mask.db import session_scope
from mask.dependencies import ContextDep, SessionDep
from mask.imports import service as import_service
from mask.imports.schemas import ImportJob, ImportOptions, ImportPage
from mask.kit.errors import BadRequest, PayloadTooLarge, ValidationFailed
from mask.kit.http import validation_failed
from mask.kit.schemas import error_responses

router = APIRouter(prefix="/imports", tags=["Imports"])

REPORT_COLUMNS = ("row", "outcome", "code", "param", "message", "slug", "url")
REPORT_PAGE = 5000
UPLOAD_CHUNK = 1 << 20


async def _read_upload(upload: UploadFile) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(UPLOAD_CHUNK):
        size += len(chunk)
        if size > import_service.MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"An import file is at most {import_service.MAX_IMPORT_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _options_and_file(request: Request) -> tuple[ImportOptions, bytes | None, str | None]:
    """A multipart form (`file` and `options`, a JSON object) or a JSON body (an account import)."""
    content_type = request.headers.get("content-type", "")
    content: bytes | None = None
    filename: str | None = None
    raw: Any
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            content, filename = await _read_upload(upload), upload.filename
        elif upload is not None:
            content = str(upload).encode("utf-8")
        text = form.get("options")
        try:
            raw = json.loads(text) if isinstance(text, str) else {}
        except ValueError as error:
            raise ValidationFailed.single("options", "invalid_json", "`options` is a JSON object.") from error
    else:
        try:
            raw = json.loads(await request.body())
        except ValueError as error:
            raise BadRequest("The request body is not valid JSON.", code="invalid_json") from error
    if not isinstance(raw, dict):
        raise ValidationFailed.single("options", "invalid_options", "The options are a JSON object.")
    try:
        return ImportOptions.model_validate(raw), content, filename
    except ValidationError as error:
        raise validation_failed(error.errors()) from error


@router.post(
    "",
    status_code=202,
    response_model=ImportJob,
    responses=error_responses(400, 403, 422),
    summary="Start an import",
    description="Scope: `links:write`. A file: `multipart/form-data` with `file` (at most 50 MB) and `options` "
    '(a JSON object, e.g. `{"source": "bitly-csv", "domains": {"bit.ly": "go.yourbrand.com"}}`). An account: '
    'a JSON body (`{"source": "bitly", "token": "…"}`). The options and the file\'s header are checked at once '
    "(`422`); the rows are imported in the background: follow `GET /v1/imports/{id}`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "options"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "options": {"type": "string", "description": "ImportOptions as JSON"},
                        },
                    }
                },
                "application/json": {"schema": ImportOptions.model_json_schema()},
            },
        }
    },
)
async def create_import(request: Request, auth: LinksWrite, session: SessionDep, context: ContextDep) -> ImportJob:
    options, content, filename = await _options_and_file(request)
    job = await import_service.create(
        session,
        settings=context.settings,
        workspace_id=auth.workspace_id,
        options=options,
        content=content,
        filename=filename,
    )
    return import_service.to_schema(job)


@router.get("", response_model=ImportPage, responses=error_responses(403), summary="List imports")
async def list_imports(auth: LinksRead, session: SessionDep) -> ImportPage:
    """Scope: `links:read`. The workspace's 50 latest imports, newest first."""
    jobs = await import_service.recent(session, workspace_id=auth.workspace_id)
    return ImportPage(data=[import_service.to_schema(job) for job in jobs])


@router.get(
    "/{import_id}",
    response_model=ImportJob,
    responses=error_responses(403, 404),
    summary="Get an import",
    description="Scope: `links:read`. Status, progress and counts; another workspace's import is `404`.",
)
async def get_import(import_id: str, auth: LinksRead, session: SessionDep) -> ImportJob:
    return import_service.to_schema(
        await import_service.get(session, workspace_id=auth.workspace_id, import_id=import_id)
    )


@router.get(
    "/{import_id}/report",
    response_class=StreamingResponse,
    responses={**error_responses(403, 404), 200: {"content": {"text/csv": {}}, "description": "The report."}},
    summary="Download an import's report (CSV)",
    description="Scope: `links:read`. One line per row that was refused (`failed`), `skipped`, `renamed` or "
    "`overwritten`: its row number (1 = the first after the header), the error code, field and message.",
)
async def import_report(
    import_id: str,
    auth: LinksRead,
    session: SessionDep,
    context: ContextDep,
    after: Annotated[int, Query(ge=0, description="Only rows after this row number.")] = 0,
) -> StreamingResponse:
    job = await import_service.get(session, workspace_id=auth.workspace_id, import_id=import_id)
    sessionmaker = context.sessionmaker

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        position = after
        while True:
            async with session_scope(sessionmaker) as reading:
                rows = await import_service.report(reading, job=job, after=position, limit=REPORT_PAGE)
            writer.writerows(rows)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < REPORT_PAGE:
                return
            position = int(rows[-1]["row"])

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.id}-report.csv"'},
    )
