"""The import runner: a background service that takes queued import jobs one at a time and runs them batch by
batch (mask.imports.service.import_rows), each batch in its own transaction with the job's progress.

A job is leased (`lease_until`) and the lease is extended with every batch; a runner that dies leaves a lease
that runs out, and the next runner resumes the job after its last committed batch (`done` rows of a file; the
stored cursor of an account). A failure of one row is that row's report line; a failure of the job as a whole
(the account's token refused, an unexpected error) ends it as `failed` with the reason, and the runner goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask import audit
from mask.config import Settings
from mask.db import session_scope
from mask.imports import formats
from mask.imports import service as import_service
from mask.imports.bitly import Bitly, BitlyError, Cursor, to_parsed
from mask.imports.formats import Parsed
from mask.imports.repository import ImportRepository
from mask.imports.shlink import Shlink, ShlinkError
from mask.imports.shlink import to_parsed as shlink_row
from mask.kit.aio import wait_for_wake
from mask.kit.time import utcnow
from mask.models.imports import Import
from mask.webhook.ssrf import GuardedTransport

logger = logging.getLogger("mask.imports")

LEASE = timedelta(minutes=2)


def _actor(job: Import) -> audit.Actor:
    """The links of an import are created by whoever created the job."""
    if job.created_by_key_id is not None:
        return audit.Actor(
            kind="api_key", id=job.created_by_key_id, label=f"import {job.id}", user_id=job.created_by_user_id
        )
    if job.created_by_user_id is not None:
        return audit.Actor(
            kind="user", id=job.created_by_user_id, label=f"import {job.id}", user_id=job.created_by_user_id
        )
    return audit.Actor(kind="system", id=None, label=f"import {job.id}")


class ImportRunner:
    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        client_factory: Callable[[], httpx.AsyncClient],
        poll_interval: float = 5.0,
        retry_base: float = 1.0,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.client_factory = client_factory
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def on_import_queued(self, _signal: object) -> None:
        self.wake()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="mask-import-runner")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()  # the batch in hand rolls back; the lease runs out and the job resumes
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                ran = await self.run_once()
            except Exception:
                logger.exception("import runner pass failed; retrying")
                ran = False
            if ran:
                continue
            await wait_for_wake(self._wake, self.poll_interval)

    async def run_once(self) -> bool:
        """Run the next due job to its end. Returns whether there was one."""
        now = utcnow()
        async with session_scope(self.sessionmaker) as session:
            repository = ImportRepository(session)
            import_id = await repository.next_due(now)
            if import_id is None or not await repository.lease(import_id, now, now + LEASE):
                return import_id is not None
        await self.run(import_id)
        return True

    async def run(self, import_id: str) -> None:
        """Run a job this runner holds the lease of, to its end (completed or failed)."""
        async with session_scope(self.sessionmaker) as session:
            job = await ImportRepository(session).by_id(import_id)
            assert job is not None
            if job.started_at is None:
                job.started_at = utcnow()
        try:
            if job.source in formats.SOURCES:
                await self._run_file(import_id)
            elif job.source == "shlink":
                await self._run_shlink(import_id)
            else:
                await self._run_bitly(import_id)
        except (BitlyError, ShlinkError) as error:
            await self._finish(import_id, str(error))
        except Exception as error:
            logger.exception("import %s failed", import_id)
            await self._finish(import_id, f"The import stopped on an unexpected error ({type(error).__name__}).")
        else:
            if not self._stopping:  # stopped between batches: the lease runs out and the job resumes elsewhere
                await self._finish(import_id, None)

    async def _finish(self, import_id: str, error: str | None) -> None:
        async with session_scope(self.sessionmaker) as session:
            job = await ImportRepository(session).by_id(import_id)
            if job is not None:
                audit.set_actor(session, _actor(job))
                await import_service.finish(session, job=job, error=error)

    async def _batch(self, import_id: str, rows: list[tuple[int, Parsed | str]], cursor: str | None = None) -> None:
        async with session_scope(self.sessionmaker) as session:
            job = await ImportRepository(session).by_id(import_id)
            assert job is not None
            audit.set_actor(session, _actor(job))
            await import_service.import_rows(session, settings=self.settings, job=job, rows=rows)
            job.lease_until = utcnow() + LEASE
            if cursor is not None:
                job.cursor = cursor

    async def _run_file(self, import_id: str) -> None:
        async with session_scope(self.sessionmaker) as session:
            repository = ImportRepository(session)
            job = await repository.by_id(import_id)
            content = await repository.content(import_id)
            assert job is not None
            source, options, done = job.source, dict(job.options), job.done
        if content is None:
            return  # nothing left to read (a job resumed after its file was dropped)
        header, data = formats.rows(formats.decode(content))
        del content
        columns = formats.column_map(source, header, options.get("mapping"))
        batch: list[tuple[int, Parsed | str]] = []
        for row in data:
            if row.number <= done:
                continue
            parsed: Parsed | str = (
                row.problem if row.problem is not None else formats.parse_row(source, row.cells, columns)
            )
            batch.append((row.number, parsed))
            if len(batch) >= import_service.BATCH:
                await self._batch(import_id, batch)
                batch = []
                if self._stopping:
                    return
        if batch:
            await self._batch(import_id, batch)

    async def _run_bitly(self, import_id: str) -> None:
        async with session_scope(self.sessionmaker) as session:
            job = await ImportRepository(session).by_id(import_id)
            assert job is not None
            token, options, stored, done = job.secret, dict(job.options), job.cursor, job.done
        if not token:
            raise BitlyError("The Bitly token is gone (the job was interrupted after it ended); start a new import.")
        async with self.client_factory() as client:
            bitly = Bitly(client, base_url=self.settings.import_bitly_api_url, token=token, retry_base=self.retry_base)
            cursor = (
                Cursor.load(json.loads(stored))
                if stored
                else Cursor(groups=await bitly.groups(options.get("group_guid")))
            )
            number = done
            while cursor.group < len(cursor.groups):
                links, next_token = await bitly.page(cursor.groups[cursor.group], cursor.search_after)
                rows: list[tuple[int, Parsed | str]] = []
                for link in links:
                    number += 1
                    clicks = None
                    if options.get("import_clicks", True) and link.get("id"):
                        clicks = await bitly.clicks(str(link["id"]))
                    rows.append((number, to_parsed(link, clicks)))
                if next_token:
                    cursor.search_after = next_token
                else:
                    cursor.group, cursor.search_after = cursor.group + 1, ""
                await self._batch(import_id, rows, cursor=json.dumps(cursor.dump()))
                if self._stopping:
                    return

    async def _run_shlink(self, import_id: str) -> None:
        async with session_scope(self.sessionmaker) as session:
            job = await ImportRepository(session).by_id(import_id)
            assert job is not None
            token, options, stored, done = job.secret, dict(job.options), job.cursor, job.done
        if not token:
            raise ShlinkError("The API key is gone (the job was interrupted after it ended); start a new import.")
        transport = GuardedTransport(
            allow_private=False,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            allowed_networks=self.settings.import_networks,
        )
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(30.0), trust_env=False) as client:
            shlink = Shlink(client, base_url=str(options["server_url"]), api_key=token)
            page = int(json.loads(stored)["page"]) if stored else 1
            number = done
            while True:
                items, pages, total = await shlink.page(page)
                if total is not None:
                    async with session_scope(self.sessionmaker) as session:
                        job = await ImportRepository(session).by_id(import_id)
                        if job is not None and job.total is None:
                            job.total = total
                rows: list[tuple[int, Parsed | str]] = []
                for item in items:
                    number += 1
                    rows.append((number, shlink_row(item)))
                page += 1
                await self._batch(import_id, rows, cursor=json.dumps({"page": page}))
                if page > pages or not items or self._stopping:
                    return
