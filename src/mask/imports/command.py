"""`mask import FILE --workspace W`: an operator's import, run in this process with a progress bar (rich).

The job is the same as `POST /v1/imports` creates (checked the same way, reported the same way, visible at
`GET /v1/imports/{id}`); this process leases it at once, so the background process leaves it alone, and runs it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mask import audit
from mask.config import Settings, get_settings
from mask.context import AppContext
from mask.db import session_scope
from mask.imports import service as import_service
from mask.imports.repository import ImportRepository
from mask.imports.runner import LEASE, ImportRunner
from mask.imports.schemas import ImportOptions
from mask.kit.errors import MaskError, ValidationFailed
from mask.workspace import service as workspace_service

POLL = 0.2  # seconds between progress bar updates


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, target = value.partition("=")
        if not sep or not key.strip() or not target.strip():
            raise typer.BadParameter(f"`{value}` is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = target.strip()
    return pairs


async def _import(
    settings: Settings, workspace: str, options: ImportOptions, path: Path, content: bytes, console: Console
) -> int:
    context = AppContext.create(settings, run_background=False)
    try:
        async with session_scope(context.sessionmaker) as session:
            audit.set_actor(session, audit.Actor(kind="system", id=None, label="mask import"))
            found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
            job = await import_service.create(
                session,
                settings=settings,
                workspace_id=found.id,
                options=options,
                content=content,
                filename=path.name,
            )
            await import_service.hold(session, job=job, lease=LEASE)
            import_id, total = job.id, job.total
        runner = ImportRunner(
            settings=settings,
            sessionmaker=context.sessionmaker,
            client_factory=lambda: httpx.AsyncClient(timeout=30.0, trust_env=False),
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"importing {path.name}", total=total)
            running = asyncio.create_task(runner.run(import_id))
            while not running.done():
                await asyncio.wait({running}, timeout=POLL)
                async with session_scope(context.sessionmaker) as session:
                    current = await ImportRepository(session).by_id(import_id)
                    if current is not None:
                        progress.update(task, completed=current.done)
            await running
        async with session_scope(context.sessionmaker) as session:
            done = await ImportRepository(session).by_id(import_id)
            assert done is not None
            result = import_service.to_schema(done)
            issues = await import_service.report(session, job=done, after=0, limit=20)
        counts = result.counts
        console.print(
            f"{result.id} {result.status}{' (dry run)' if result.dry_run else ''}: {counts.created} created, "
            f"{counts.updated} updated, {counts.skipped} skipped, {counts.failed} refused"
        )
        for issue in issues:
            console.print(f"  row {issue['row']}: {issue['outcome']} {issue['code']}: {issue['message']}")
        if result.error:
            console.print(f"error: {result.error}")
        return 0 if result.status == "completed" else 1
    finally:
        await context.engine.dispose()
        if context.redis is not None:
            await context.redis.aclose()


def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")],
    workspace: Annotated[str, typer.Option(help="The workspace's slug or id.")],
    source: Annotated[
        str, typer.Option(help="mask-csv, bitly-csv, dub-csv, shlink-csv, yourls-csv, kutt-csv or csv.")
    ] = "mask-csv",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")] = False,
    on_conflict: Annotated[str, typer.Option(help="skip, rename or overwrite.")] = "skip",
    domain_map: Annotated[
        list[str] | None, typer.Option("--map-domain", help="THEIRS=OURS, e.g. bit.ly=go.yourbrand.com.")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Where rows on other domains go.")] = None,
    column: Annotated[list[str] | None, typer.Option("--column", help="FIELD=HEADER, e.g. url=Destination.")] = None,
) -> None:
    """Import links from a file into a workspace, with a progress bar; prints the counts and refused rows."""
    console = Console(stderr=True)
    try:
        options = ImportOptions.model_validate(
            {
                "source": source,
                "dry_run": dry_run,
                "on_conflict": on_conflict,
                "domains": _pairs(domain_map or [], "--map-domain"),
                "domain": domain,
                "mapping": _pairs(column or [], "--column") or None,
            }
        )
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    try:
        code = asyncio.run(_import(get_settings(), workspace, options, file, file.read_bytes(), console))
    except ValidationFailed as error:
        for problem in error.errors:
            typer.echo(f"error: {problem.param}: {problem.message}", err=True)
        raise typer.Exit(1) from error
    except MaskError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error
    raise typer.Exit(code)
