"""Imports: the rules. A job is checked when it is created (its options, the file's header) and then run by the
background process (mask.imports.runner) in batches of `BATCH` rows, each batch one transaction: its links
(through mask.bulk's `create_many`, so every row meets the rules of `POST /v1/links`), its report rows and the
job's progress commit together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from mask import audit
from mask.bulk import service as bulk_service
from mask.config import Settings
from mask.domain import service as domain_service
from mask.event import service as event_service
from mask.imports import formats
from mask.imports.formats import Parsed
from mask.imports.repository import ImportRepository
from mask.imports.schemas import FILE_SOURCES, ImportCounts, ImportJob, ImportOptions, ImportProgress
from mask.kit.errors import BadRequest, FieldError, MaskError, NotFound, ValidationFailed
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.imports import Import
from mask.signals import ImportQueued, emit
from mask.tag import service as tag_service

MAX_IMPORT_BYTES = 50_000_000
BATCH = 1000


class ImportNotFound(NotFound):
    code = "import_not_found"


def to_schema(job: Import) -> ImportJob:
    return ImportJob(
        id=job.id,
        source=job.source,
        status=job.status,
        dry_run=bool(job.options.get("dry_run")),
        filename=job.filename,
        progress=ImportProgress(done=job.done, total=job.total),
        counts=ImportCounts(created=job.created, updated=job.updated, skipped=job.skipped, failed=job.failed),
        error=job.error,
        report_url=f"/v1/imports/{job.id}/report",
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


async def _check_domain(
    session: AsyncSession, settings: Settings, workspace_id: str, param: str, raw: str, errors: list[FieldError]
) -> str | None:
    found: list[FieldError] = []
    name = await domain_service.check_domain(
        session, settings=settings, workspace_id=workspace_id, raw=raw, errors=found
    )
    errors.extend(FieldError(param, error.code, error.message) for error in found)
    return name


async def create(
    session: AsyncSession,
    *,
    settings: Settings,
    workspace_id: str,
    options: ImportOptions,
    content: bytes | None,
    filename: str | None,
) -> Import:
    """A queued import job, once its options and (for a file) its header are found sound; 422 otherwise."""
    errors: list[FieldError] = []
    file_source = options.source in FILE_SOURCES
    if options.file_content is not None:
        if content is not None:
            errors.append(
                FieldError("file_content", "conflicting_file", "Send the file once: `file` or `file_content`.")
            )
        content = options.file_content.encode("utf-8")
    if file_source and content is None:
        errors.append(FieldError("file", "required", f"Upload the file to import (`source: {options.source}`)."))
    if not file_source and content is not None:
        errors.append(FieldError("file", "unexpected_file", f"`{options.source}` reads an account, not a file."))
    if not file_source and not options.token:
        errors.append(FieldError("token", "required", f"`{options.source}` needs the account's API token."))
    if options.source == "shlink":
        server = urlsplit(options.server_url or "")
        if server.scheme not in ("http", "https") or not server.hostname:
            errors.append(FieldError("server_url", "invalid_url", "`shlink` needs the server's http(s) address."))
    if options.source == "csv" and not options.mapping:
        errors.append(FieldError("mapping", "required", "A generic CSV needs a `mapping` of fields to columns."))
    for name in options.mapping or {}:
        if name not in formats.FIELDS:
            errors.append(FieldError(f"mapping.{name}", "unknown_field", f"`{name}` is not a field MASK imports."))
    domains: dict[str, str] = {}
    for theirs, ours in options.domains.items():
        mapped = await _check_domain(session, settings, workspace_id, f"domains.{theirs}", ours, errors)
        if mapped is not None:
            domains[theirs.strip().lower()] = mapped
    domain = None
    if options.domain is not None:
        domain = await _check_domain(session, settings, workspace_id, "domain", options.domain, errors)
    tags = tag_service.clean_names(options.tags, errors)
    total: int | None = None
    if content is not None and file_source:
        if len(content) > MAX_IMPORT_BYTES:
            errors.append(FieldError("file", "file_too_large", f"An import file is at most {MAX_IMPORT_BYTES} bytes."))
        else:
            text = formats.decode(content)
            header, _rows = formats.rows(text)
            if not header:
                errors.append(FieldError("file", "empty_file", "The file has no header line."))
            else:
                columns = formats.column_map(options.source, header, options.mapping)
                missing = formats.missing_columns(header, columns)
                if missing:
                    errors.append(
                        FieldError(
                            "file",
                            "missing_columns",
                            f"The header lacks {', '.join(f'`{name}`' for name in missing)} "
                            f"(it has {', '.join(f'`{name}`' for name in header[:20])}).",
                        )
                    )
                total = formats.count_rows(text)
    if errors:
        raise ValidationFailed(errors)
    actor = audit.actor_of(session)
    job = Import(
        id=new_id("imp"),
        workspace_id=workspace_id,
        source=options.source,
        status="queued",
        options=options.model_dump(mode="json", exclude={"token", "file_content"})
        | {"domains": domains, "domain": domain, "tags": tags},
        secret=options.token,
        filename=(filename or None) and filename[:255],
        total=total,
        done=0,
        created=0,
        updated=0,
        skipped=0,
        failed=0,
        created_by_user_id=actor.user_id,
        created_by_key_id=actor.id if actor.kind == "api_key" else None,
        created_at=utcnow(),
    )
    ImportRepository(session).add(job, content if file_source else None)
    emit(session, ImportQueued())
    return job


async def hold(session: AsyncSession, *, job: Import, lease: timedelta) -> None:
    """Lease a job just created to the caller (the CLI runs it itself, with a progress bar)."""
    await session.flush()
    now = utcnow()
    await ImportRepository(session).lease(job.id, now, now + lease)


async def get(session: AsyncSession, *, workspace_id: str, import_id: str) -> Import:
    job = await ImportRepository(session).get(workspace_id, import_id)
    if job is None:
        raise ImportNotFound(f"No import `{import_id}` in this workspace.", param="id")
    return job


async def recent(session: AsyncSession, *, workspace_id: str, limit: int = 50) -> list[Import]:
    return await ImportRepository(session).recent(workspace_id, limit)


@dataclass
class _Item:
    number: int
    parsed: Parsed | None
    item: Any  # LinkCreate | MaskError
    created_at: datetime | None


async def _target_domain(
    session: AsyncSession, settings: Settings, job: Import, source_domain: str | None
) -> str | None:
    """Where a row goes: its domain mapped, else its own domain when this workspace has it (MASK's own export),
    else the job's `domain` (None: the default short domain)."""
    options = job.options
    if source_domain:
        mapped = options["domains"].get(source_domain)
        if mapped is not None:
            return str(mapped)
        if source_domain == settings.short_domain or await domain_service.workspace_owns(
            session, workspace_id=job.workspace_id, name=source_domain
        ):
            return source_domain
    domain = options.get("domain")
    return None if domain is None else str(domain)


async def _prepare(session: AsyncSession, settings: Settings, job: Import, number: int, parsed: Parsed | str) -> _Item:
    if isinstance(parsed, str):
        return _Item(number, None, BadRequest(parsed, code="malformed_row"), None)
    options = job.options
    link = dict(parsed.link)
    if not options.get("keep_slugs", True):
        link.pop("slug", None)
    domain = await _target_domain(session, settings, job, parsed.source_domain)
    if domain is not None:
        link["domain"] = domain
    if options.get("tags"):
        link["tags"] = list(dict.fromkeys([*link.get("tags", []), *options["tags"]]))
    if "expires_at" in link and isinstance(link["expires_at"], datetime):
        link["expires_at"] = link["expires_at"].isoformat()
    if parsed.problems:
        error: MaskError = ValidationFailed(
            [FieldError(param, code, message) for param, code, message in parsed.problems]
        )
        return _Item(number, parsed, error, None)
    item = bulk_service.parse_item(link)
    created_at = parsed.created_at if options.get("keep_created_at", True) else None
    if created_at is not None and created_at > utcnow():
        created_at = None  # a date in the future is no creation date
    return _Item(number, parsed, item, created_at)


async def import_rows(
    session: AsyncSession, *, settings: Settings, job: Import, rows: list[tuple[int, Parsed | str]]
) -> None:
    """Import one batch: its links, its report rows, the job's counts and progress, in the caller's transaction."""
    domain_service.remember_lookups(session)
    prepared = [await _prepare(session, settings, job, number, parsed) for number, parsed in rows]
    outcomes = await bulk_service.create_many(
        session,
        settings=settings,
        workspace_id=job.workspace_id,
        items=[entry.item for entry in prepared],
        created_at=[entry.created_at for entry in prepared],
        on_conflict=job.options.get("on_conflict", "skip"),
        dry_run=bool(job.options.get("dry_run")),
        record_event=False,
    )
    issues: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    for entry, outcome in zip(prepared, outcomes, strict=True):
        url = entry.parsed.link.get("url") if entry.parsed else None
        slug = str(entry.parsed.link.get("slug"))[:255] if entry.parsed and entry.parsed.link.get("slug") else None
        if outcome.kind == "created":
            job.created += 1
        elif outcome.kind == "updated":
            job.updated += 1
        elif outcome.kind == "skipped":
            job.skipped += 1
        else:
            job.failed += 1
        if outcome.error is not None:
            error = outcome.error
            first = error.errors[0] if isinstance(error, ValidationFailed) else None
            issues.append(
                {
                    "import_id": job.id,
                    "row": entry.number,
                    "outcome": outcome.kind,
                    "code": (first.code if first else error.code)[:64],
                    "param": (first.param if first else error.param or "")[:100] or None,
                    "message": "; ".join(f"{e.param}: {e.message}" for e in error.errors)
                    if isinstance(error, ValidationFailed)
                    else error.message,
                    "slug": slug,
                    "url": url,
                }
            )
        elif outcome.note is not None or outcome.kind == "updated":
            new_slug = outcome.view.link.slug if outcome.view else None
            issues.append(
                {
                    "import_id": job.id,
                    "row": entry.number,
                    "outcome": "renamed" if outcome.note else "overwritten",
                    "code": "slug_taken",
                    "param": "slug",
                    "message": f"The slug `{slug}` was taken; "
                    + (f"imported as `{new_slug}`." if outcome.note else "the workspace's link there was updated."),
                    "slug": slug,
                    "url": url,
                }
            )
        link_id = outcome.view.link.id if outcome.view is not None else None
        if link_id and outcome.kind == "created" and entry.parsed is not None and entry.parsed.clicks:
            stats.append(
                {
                    "link_id": link_id,
                    "workspace_id": job.workspace_id,
                    "import_id": job.id,
                    "source": job.source,
                    "clicks": entry.parsed.clicks,
                    "original_short_url": entry.parsed.short_url,
                }
            )
    repository = ImportRepository(session)
    await repository.add_issues(issues)
    await repository.add_stats(stats)
    job.done += len(rows)


async def finish(session: AsyncSession, *, job: Import, error: str | None = None) -> None:
    """End the job (completed, or failed with `error`): its file and credential are dropped, `import.completed`
    is recorded."""
    now = utcnow()
    job.status = "failed" if error else "completed"
    job.error = error[:500] if error else None
    job.finished_at = now
    job.lease_until = None
    job.secret = None
    if job.total is None or error is None:
        job.total = job.done if job.total is None else job.total
    await ImportRepository(session).drop_content(job.id)
    await event_service.record(
        session, workspace_id=job.workspace_id, type="import.completed", data=to_schema(job).model_dump(mode="json")
    )


async def report(session: AsyncSession, *, job: Import, after: int, limit: int) -> list[dict[str, Any]]:
    """A page of the job's report rows, by row number."""
    issues = await ImportRepository(session).issues(job.id, after=after, limit=limit)
    return [
        {
            "row": issue.row,
            "outcome": issue.outcome,
            "code": issue.code,
            "param": issue.param or "",
            "message": issue.message,
            "slug": issue.slug or "",
            "url": issue.url or "",
        }
        for issue in issues
    ]
