"""`mask serve | migrate | workspaces … | keys …`. Every command reads its settings from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from mask.abuse import service as abuse_service
from mask.account import service as account_service
from mask.account import two_factor
from mask.auth import service as auth_service
from mask.config import Settings, get_settings
from mask.context import AppContext
from mask.db import session_scope
from mask.imports.command import import_command
from mask.kit.errors import MaskError
from mask.models.workspace import Plan
from mask.public.invalidation import BIO_PAGES, REDIRECTS, CacheInvalidation, channel_name
from mask.signals import BioPageChanged, LinkChanged
from mask.workspace import service as workspace_service

T = TypeVar("T")

cli = typer.Typer(
    help="MASK: short links, click analytics, bio pages and webhooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
workspaces_cli = typer.Typer(help="Create and inspect workspaces.", no_args_is_help=True)
keys_cli = typer.Typer(help="Create, list and revoke workspace API keys.", no_args_is_help=True)
cli.add_typer(workspaces_cli, name="workspaces")
cli.add_typer(keys_cli, name="keys")
users_cli = typer.Typer(help="Dashboard users, for self-hosters without mail.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
plans_cli = typer.Typer(help="Plans' API rate limits (the plan_limits table).", no_args_is_help=True)
cli.add_typer(plans_cli, name="plans")
domains_cli = typer.Typer(help="Workspaces' custom domains, and the operator's word on them.", no_args_is_help=True)
cli.add_typer(domains_cli, name="domains")
clicks_cli = typer.Typer(help="Stored clicks and their analytics rollups.", no_args_is_help=True)
cli.add_typer(clicks_cli, name="clicks")
cli.command("import")(import_command)


blocklist_cli = typer.Typer(help="The destination blocklist: harmful sites no link may point at.", no_args_is_help=True)
cli.add_typer(blocklist_cli, name="blocklist")
abuse_cli = typer.Typer(help="Reports from the public; suspending links and workspaces.", no_args_is_help=True)
cli.add_typer(abuse_cli, name="abuse")


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, announce: bool = False) -> T:
    """Run one unit of work in one transaction, turning domain errors into a clean exit. `announce`: tell running
    servers through Redis which links and bio pages changed (see `_announce`)."""

    async def main() -> T:
        # A bare context: a command's changes reach running processes through the caches' TTLs.
        context = AppContext.create(settings, run_background=False)
        if announce:
            _announce(context)
        try:
            async with session_scope(context.sessionmaker) as session:
                return await work(session)
        finally:
            await context.engine.dispose()
            if context.redis is not None:
                await context.redis.aclose()

    try:
        return asyncio.run(main())
    except MaskError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error


def _announce(context: AppContext) -> None:
    """With Redis, publish the command's changed links and bio pages on the channels the servers' caches listen
    to, so that they drop them at once (a suspension takes effect now); without Redis, within their TTL."""
    if context.redis is None:
        return
    prefix = context.settings.redis_prefix

    def channel(name: str) -> CacheInvalidation:
        return CacheInvalidation(
            forget=lambda domain, key: None, clear=lambda: None, redis=context.redis, channel=channel_name(prefix, name)
        )

    redirects, bio_pages = channel(REDIRECTS), channel(BIO_PAGES)

    async def link_changed(signal: LinkChanged) -> None:
        await redirects.invalidate(signal.domain, signal.slug)

    async def bio_page_changed(signal: BioPageChanged) -> None:
        await bio_pages.invalidate(signal.domain, signal.handle)

    context.signals.connect(LinkChanged, link_changed)
    context.signals.connect(BioPageChanged, bio_page_changed)


def _claim_click_journal(settings: Settings) -> None:
    """Refuse to start on a click journal that holds another database's clicks (mask.click.ownership), before
    anything is forked. A database that cannot be reached yet is no reason to refuse: the background process
    checks again before it ships anything, and says why it does not."""
    from mask.click import ownership
    from mask.click import repository as click_repository

    try:
        # Bounded: another process that is making the identity in a transaction it has not ended (stopped
        # mid-way) must not keep this one from starting.
        database = _run(settings, partial(click_repository.database_identity, lock_wait_seconds=5.0))
    except Exception:  # down, not migrated, or that wait: the servers' own errors say so
        return
    try:
        ownership.claim(settings.click_journal_path, database)
    except ownership.JournalOfAnotherDatabase as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    from mask.migrate import upgrade

    settings = get_settings()
    settings.ensure_sqlite_directory()
    upgrade(settings.database_url)
    typer.echo("database is up to date", err=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes sharing the port.")] = 1,
    ssl_certfile: Annotated[str | None, typer.Option(help="Serve TLS with this certificate (PEM).")] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="Private key for --ssl-certfile (PEM).")] = None,
) -> None:
    """Serve the API, the redirects and the dashboard (and, unless MASK_SERVE_BACKGROUND=false, run the
    background services in a process of their own beside the HTTP workers)."""
    import os
    import signal

    import uvicorn

    from mask.background_process import BackgroundProcess

    settings = get_settings()  # fail fast on bad settings, before forking workers
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise typer.BadParameter("--ssl-certfile and --ssl-keyfile go together")
    _claim_click_journal(settings)
    background = BackgroundProcess(nice=settings.serve_background_nice) if settings.serve_background else None
    # The HTTP workers serve only: their clicks go to their journal files, the background process stores them.
    os.environ["MASK_SERVE_BACKGROUND"] = "false"
    if background is not None:
        background.start()
        # uvicorn re-raises the SIGTERM it handled once its workers are done; with the default action that
        # would end this process before the background process is stopped (and has shipped the workers' last
        # clicks). A handler of ours takes the re-raised signal instead, and the `finally` below runs.
        signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        uvicorn.run(
            "mask.bootstrap:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            loop="uvloop",
            http="mask.serving:MaskHttpProtocol",  # httptools, with MASK's limits and its error shape
            lifespan="on",
            proxy_headers=False,  # MASK reads X-Forwarded-* itself, only from MASK_TRUSTED_PROXIES
            server_header=False,
            log_level=settings.log_level,
            access_log=False,
            timeout_graceful_shutdown=20,
            # A worker answers the supervisor's pings once its imports are done: on a loaded machine that took
            # longer than uvicorn's 5 s, and the supervisor killed and respawned every worker in a loop.
            timeout_worker_healthcheck=30,
        )
    finally:
        if background is not None:  # after the workers: their last clicks are queued by now
            background.stop()


@cli.command()
def worker(
    nice: Annotated[int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by this much.")] = 0,
    parent_pid: Annotated[int | None, typer.Option(hidden=True, help="Stop when this process is gone.")] = None,
) -> None:
    """Run the background services (the click journal shipper, the webhook dispatcher, …) without
    HTTP.

    `mask serve` starts one itself unless MASK_SERVE_BACKGROUND=false; run it yourself then (another
    machine, another container). Stops cleanly on SIGTERM/SIGINT, after the batch in hand.
    """
    import os
    import signal

    from mask.bootstrap import create_worker

    settings = get_settings()
    _claim_click_journal(settings)
    if nice:
        os.nice(nice)

    async def main() -> None:
        context = create_worker(settings).context
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        async def watch_parent() -> None:  # `mask serve` killed outright must not leave this one behind
            while os.getppid() == parent_pid:  # noqa: ASYNC110 (no event says "my parent died")
                await asyncio.sleep(1.0)
            stop.set()

        watcher = asyncio.create_task(watch_parent()) if parent_pid else None
        await context.startup()
        typer.echo(f"worker running: {', '.join(s.name for s in context.background) or 'no services'}", err=True)
        try:
            await stop.wait()
        finally:
            if watcher is not None:
                watcher.cancel()
            await context.shutdown()

    asyncio.run(main())


@workspaces_cli.command("create")
def workspaces_create(
    slug: Annotated[str, typer.Argument(help="Short unique handle, e.g. acme.")],
    plan: Annotated[Plan, typer.Option(help="Plan: hobby, pro or enterprise.")] = Plan.hobby,
    name: Annotated[str | None, typer.Option(help="Display name (defaults to the handle).")] = None,
) -> None:
    """Create a workspace; prints its id."""
    workspace = _run(get_settings(), lambda s: workspace_service.create(s, slug=slug, name=name, plan=plan.value))
    typer.echo(workspace.id)


@workspaces_cli.command("list")
def workspaces_list() -> None:
    """List workspaces: id, handle, plan."""
    for workspace in _run(get_settings(), lambda s: workspace_service.list_all(s)):
        typer.echo(f"{workspace.id}\t{workspace.slug}\t{workspace.plan}")


@workspaces_cli.command("set-plan")
def workspaces_set_plan(
    workspace: Annotated[str, typer.Argument(help="Handle or ws_ id.")],
    plan: Annotated[Plan, typer.Argument(help="hobby, pro or enterprise.")],
) -> None:
    """Change a workspace's plan (its rate limit follows at once)."""

    async def work(session: AsyncSession) -> str:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        await workspace_service.set_plan(session, workspace=found, plan=plan.value)
        return found.slug

    typer.echo(f"{_run(get_settings(), work)} is now on {plan.value}", err=True)


@keys_cli.command("create")
def keys_create(
    workspace: Annotated[str, typer.Option(help="Workspace handle or ws_ id.")],
    scope: Annotated[list[str] | None, typer.Option(help="A scope (repeat); none means all scopes.")] = None,
    name: Annotated[str | None, typer.Option(help="A name to recognise the key by.")] = None,
) -> None:
    """Create an API key; prints only the key (shown once, stored hashed)."""

    async def work(session: AsyncSession) -> str:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        created = await auth_service.create(session, workspace=found, name=name, scopes=scope or None)
        return created.token

    typer.echo(_run(get_settings(), work))


@keys_cli.command("list")
def keys_list(workspace: Annotated[str, typer.Option(help="Workspace handle or ws_ id.")]) -> None:
    """List a workspace's keys: id, prefix, name, scopes, last used, revoked."""

    async def work(session: AsyncSession) -> list[str]:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        return [
            "\t".join(
                [
                    key.id,
                    key.prefix + "…",
                    key.name,
                    ",".join(key.scopes),
                    key.last_used_at.isoformat() if key.last_used_at else "never",
                    "revoked" if key.revoked_at else "active",
                ]
            )
            for key in await auth_service.list_keys(session, workspace=found)
        ]

    for line in _run(get_settings(), work):
        typer.echo(line)


@keys_cli.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key_ id (see `mask keys list`).")],
    workspace: Annotated[str, typer.Option(help="Workspace handle or ws_ id.")],
) -> None:
    """Revoke an API key; it stops working at once."""

    async def work(session: AsyncSession) -> None:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        await auth_service.revoke(session, workspace=found, key_id=key_id)

    _run(get_settings(), work)
    typer.echo(f"revoked {key_id}", err=True)


@plans_cli.command("list")
def plans_list() -> None:
    """List plans: name, requests, window in seconds."""
    from mask.rate_limit import service as rate_limit_service

    for row in _run(get_settings(), lambda s: rate_limit_service.list_plan_limits(s)):
        typer.echo(f"{row.plan}\t{row.requests}\t{row.window_seconds}")


@plans_cli.command("set-limit")
def plans_set_limit(
    plan: Annotated[Plan, typer.Argument(help="hobby, pro or enterprise.")],
    requests: Annotated[int, typer.Argument(help="API requests allowed per window.")],
    window_seconds: Annotated[int, typer.Option(help="The sliding window, in seconds.")] = 60,
) -> None:
    """Change a plan's API rate limit; every workspace on it gets the new limit on its next request."""
    from mask.rate_limit import service as rate_limit_service

    _run(
        get_settings(),
        lambda s: rate_limit_service.set_plan_limit(
            s, plan=plan.value, requests=requests, window_seconds=window_seconds
        ),
    )
    typer.echo(f"{plan.value}: {requests} requests per {window_seconds} s", err=True)


@domains_cli.command("add")
def domains_add(
    name: Annotated[str, typer.Argument(help="The host name, e.g. go.yourbrand.com.")],
    workspace: Annotated[str, typer.Option(help="Workspace handle or ws_ id.")],
    verified: Annotated[
        bool,
        typer.Option(
            "--verified",
            help="Vouch for it as the operator: verified now without DNS, never re-checked, other workspaces' "
            "claims released. Also verifies the workspace's existing claim.",
        ),
    ] = False,
) -> None:
    """Add a domain to a workspace (pending until its DNS record is found, unless --verified); prints its id."""
    from mask.domain import service as domain_service

    async def work(session: AsyncSession) -> str:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        settings = get_settings()
        if verified:
            domain = await domain_service.operator_verify(session, settings=settings, workspace_id=found.id, name=name)
        else:
            domain = await domain_service.create(session, settings=settings, workspace_id=found.id, name=name)
        return domain.id

    typer.echo(_run(get_settings(), work))


@domains_cli.command("list")
def domains_list(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace's (handle or ws_ id).")] = None,
) -> None:
    """List domains: id, host name, workspace, status, method, last check."""
    from mask.domain import service as domain_service

    async def work(session: AsyncSession) -> list[str]:
        workspace_id = (await workspace_service.get_by_slug_or_id(session, ref=workspace)).id if workspace else None
        return [
            "\t".join(
                [
                    domain.id,
                    domain.domain,
                    domain.workspace_id,
                    domain.verification_status,
                    domain.verification_method,
                    domain.last_checked_at.isoformat() if domain.last_checked_at else "never checked",
                ]
            )
            for domain in await domain_service.list_all(session, workspace_id=workspace_id)
        ]

    for line in _run(get_settings(), work):
        typer.echo(line)


@domains_cli.command("check")
def domains_check(
    name: Annotated[str, typer.Argument(help="The host name.")],
    workspace: Annotated[str, typer.Option(help="The workspace whose claim to check (handle or ws_ id).")],
) -> None:
    """Look a claim's DNS records up now (as the dashboard's "Check now"); prints its status and what was found."""
    from mask.domain import service as domain_service
    from mask.domain.dns import Dns

    async def work(session: AsyncSession) -> str:
        settings = get_settings()
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace)
        claim = await domain_service.get_by_name(session, workspace_id=found.id, name=name)
        domain = await domain_service.check_now(
            session, settings=settings, dns=Dns(settings), workspace_id=found.id, domain_id=claim.id
        )
        return f"{domain.domain}: {domain.verification_status}" + (
            f" ({domain.last_error_message})" if domain.last_error_message else ""
        )

    typer.echo(_run(get_settings(), work))


@users_cli.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email; they log in with it.")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given.")
    ],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    workspace: Annotated[
        str | None,
        typer.Option(help="Join this workspace (handle or ws_ id) instead of getting a new Hobby workspace."),
    ] = None,
    role: Annotated[str, typer.Option(help="owner, admin, member or viewer (with --workspace).")] = "owner",
) -> None:
    """Create a dashboard user (their address counts as verified: the operator vouches for it); prints its id."""

    async def work(session: AsyncSession) -> str:
        found = await workspace_service.get_by_slug_or_id(session, ref=workspace) if workspace else None
        user = await account_service.create_user(
            session, email=email, password=password, name=name, workspace=found, role=role, verified=True
        )
        return user.id

    typer.echo(_run(get_settings(), work))


@users_cli.command("reset-password")
def users_reset_password(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    password: Annotated[
        str,
        typer.Option(
            prompt="New password", hide_input=True, confirmation_prompt=True, help="Asked for when not given."
        ),
    ],
) -> None:
    """Set a user's password and log them out everywhere."""
    _run(get_settings(), lambda s: account_service.reset_password(s, email=email, new_password=password))
    typer.echo(f"password changed for {email.strip().lower()}; their sessions are ended", err=True)


@clicks_cli.command("rebuild-rollups")
def clicks_rebuild_rollups(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace's (handle or ws_ id).")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First UTC day to rebuild (default: the first click's)."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last UTC day to rebuild (default: the last click's).")
    ] = None,
) -> None:
    """Recompute the analytics rollups from the stored clicks, a UTC day per transaction (backfills, repairs).
    Days whose raw clicks MASK_CLICK_RETENTION_DAYS dropped are never rebuilt (that would wipe their rollups).

    Safe beside a running MASK: on PostgreSQL a click batch waits for the day in hand, then adds to it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from mask.analytics import service as analytics_service

    settings = get_settings()

    async def main() -> int:
        context = AppContext.create(settings, run_background=False)
        try:
            async with session_scope(context.sessionmaker) as session:
                workspace_id = (
                    (await workspace_service.get_by_slug_or_id(session, ref=workspace)).id if workspace else None
                )
                steps = await analytics_service.rebuild_days(
                    session,
                    workspace_id=workspace_id,
                    since=since.date() if since else None,
                    until=until.date() if until else None,
                )
                kept = await analytics_service.retained_since(session)
            if kept is not None:
                typer.echo(
                    f"days before {kept:%Y-%m-%d} are left as they are: MASK_CLICK_RETENTION_DAYS dropped their raw "
                    "clicks, so their rollups are all there is",
                    err=True,
                )
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, transient=False) as progress:
                task = progress.add_task("rebuilding rollups", total=len(steps))
                for step_workspace, day in steps:
                    progress.update(task, description=f"{step_workspace} {day:%Y-%m-%d}")
                    async with session_scope(context.sessionmaker) as session:
                        await analytics_service.rebuild_rollups(
                            session, workspace_id=step_workspace, start=day, end=day + timedelta(days=1)
                        )
                    progress.advance(task)
            return len(steps)
        finally:
            await context.engine.dispose()
            if context.redis is not None:
                await context.redis.aclose()

    try:
        days = asyncio.run(main())
    except MaskError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"rebuilt {days} workspace-day(s) of rollups", err=True)


@users_cli.command("disable-two-factor")
def users_disable_two_factor(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Turn a user's two-factor sign-in off (a lost phone and lost recovery codes) and end their sessions."""
    _run(get_settings(), lambda session: two_factor.turn_off_by_operator(session, email=email))
    typer.echo(f"two-factor sign-in is off for {email.strip().lower()}; their sessions are ended", err=True)


@blocklist_cli.command("update")
def blocklist_update(
    from_: Annotated[
        str, typer.Option("--from", help="A local file or an http(s) URL: plain list, hosts file or URLhaus CSV.")
    ],
    source: Annotated[str, typer.Option(help="Which list this is; other lists' entries are kept.")] = "default",
) -> None:
    """Replace one list's entries with what FROM holds, then suspend the links that now point at a blocked site."""
    text = asyncio.run(_read_list(from_))

    async def work(session: AsyncSession) -> abuse_service.BlocklistUpdate:
        return await abuse_service.update_blocklist(session, text=text, source=source)

    result = _run(get_settings(), work, announce=True)
    for number, problem in result.problems[:20]:
        typer.echo(f"skipped line {number}: {problem}", err=True)
    if len(result.problems) > 20:
        typer.echo(f"… and {len(result.problems) - 20} more lines skipped", err=True)
    typer.echo(
        f"{result.source}: {result.entries} entries (+{result.added}, -{result.removed}); "
        f"{len(result.problems)} lines skipped; {len(result.suspended)} links suspended",
        err=True,
    )
    for link_id in result.suspended:
        typer.echo(link_id)


async def _read_list(where: str) -> str:
    try:
        return await abuse_service.read_list(where)
    except MaskError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error


@blocklist_cli.command("status")
def blocklist_status() -> None:
    """How many entries each list holds."""
    for source, count in _run(get_settings(), abuse_service.blocklist_counts):
        typer.echo(f"{source}\t{count}")


@abuse_cli.command("list")
def abuse_list(
    all_: Annotated[bool, typer.Option("--all", help="Resolved reports too.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
) -> None:
    """Reports sent through /report: id, when, reason, short URL, link, workspace, details."""

    async def work(session: AsyncSession) -> list[str]:
        rows = await abuse_service.reports(session, status=None if all_ else "open", limit=limit)
        return [
            "\t".join(
                [
                    row.id,
                    row.created_at.isoformat(timespec="seconds"),
                    row.status,
                    row.reason,
                    row.short_url,
                    row.link_id or "-",
                    row.workspace_id or "-",
                    row.details.replace("\n", " ")[:200],
                ]
            )
            for row in rows
        ]

    for line in _run(get_settings(), work):
        typer.echo(line)


@abuse_cli.command("suspend")
def abuse_suspend(
    ref: Annotated[str, typer.Argument(help="A link (lnk_… or its short URL) or a workspace (ws_… or its handle).")],
    reason: Annotated[str, typer.Option(help="Why; kept with the suspension and in the audit log.")] = "",
) -> None:
    """Suspend a link (it answers 451 and counts no clicks) or a workspace (all its links, and its API keys)."""
    done = _run(get_settings(), lambda session: abuse_service.suspend(session, ref=ref, reason=reason), announce=True)
    typer.echo(f"suspended {done.kind} {done.id} ({done.label})", err=True)


@abuse_cli.command("restore")
def abuse_restore(
    ref: Annotated[str, typer.Argument(help="A link (lnk_… or its short URL) or a workspace (ws_… or its handle).")],
) -> None:
    """Lift a suspension."""
    done = _run(get_settings(), lambda session: abuse_service.restore(session, ref=ref), announce=True)
    typer.echo(f"restored {done.kind} {done.id} ({done.label})", err=True)


def main() -> None:
    from pydantic import ValidationError

    try:
        cli()
    except ValidationError as error:  # settings from the environment: say which and why, no traceback
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            variable = f"MASK_{where.upper()}" if where != "settings" else "settings"
            typer.echo(f"configuration error: {variable}: {problem['msg'].removeprefix('Value error, ')}", err=True)
        raise SystemExit(2) from None
