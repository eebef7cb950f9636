"""Page titles: the background process fetches a link's destination and keeps its `<title>` as the link's title
(`title_source: "page"`) when the link has none of its own.

Never on the request path: creating a link (or changing its URL) only queues a row in `link_title_fetches`, in
the same transaction, and the commit wakes the fetcher (mask.signals.TitlesWanted → `TitleFetcher.wake`); in
`mask serve`, whose HTTP workers do not run it, the background process also looks every `poll_interval`
seconds. The fetch goes through the webhooks' SSRF guard (mask.webhook.ssrf: every address of every hop is
checked, redirects included), gives up after 3 s, reads at most 1 MB, and decodes the page as a browser would:
a byte order mark, else the charset of the `Content-Type` header, else a `<meta charset>` (or its `http-equiv`
form), else UTF-8 (windows-1252 when that fails). Character references (`&amp;`, `&#233;`) are decoded by the
standard library's HTML parser.

A timeout, a connection failure or a 5xx answer is tried again (after 1 and 10 minutes); anything else
(refused by the guard, a 4xx, not HTML, no title) leaves the link without a title.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mask.db import session_scope
from mask.kit.aio import wait_for_wake
from mask.kit.net import BlockedDestination
from mask.kit.time import utcnow
from mask.link.repository import LinkRepository

logger = logging.getLogger("mask.link")

TIMEOUT = 3.0  # seconds for one fetch, first byte to last, redirects included
MAX_BYTES = 1_000_000  # read at most this much of a page
MAX_TITLE = 255
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10))
LEASE = timedelta(seconds=60)  # a claimed fetch comes due again after this if its outcome was never recorded
USER_AGENT = "Mozilla/5.0 (compatible; MASK-TitleFetcher/1.0)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
# WHATWG Encoding: labels that browsers read as a superset encoding.
SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso8859-9": "cp1254",
}
LABELS = {"x-sjis": "cp932", "windows-31j": "cp932", "x-gbk": "gb18030", "unicode-1-1-utf-8": "utf-8"}
META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class TitleFetchFailed(Exception):
    """The page could not be read now; `retry` says whether a later attempt may do better."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def encoding_of(label: str) -> str | None:
    """The Python codec a charset label means to a browser, or None for a label nobody knows."""
    name = label.strip().lower()
    if name in LABELS:
        return LABELS[name]
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in ("utf-16-le", "utf-16-be", "utf-16"):
        return "utf-8"  # a page that says so in ASCII is not UTF-16 (WHATWG: a meta utf-16 means utf-8)
    return SUPERSETS.get(codec, codec)


def decode_page(body: bytes, content_type: str | None) -> str:
    """The page's text: BOM, then the header's charset, then a <meta> one, then UTF-8 (windows-1252 if not)."""
    for bom, bom_codec in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, errors="replace")
    candidates: list[str] = []
    header = HEADER_CHARSET.search(content_type or "")
    if header is not None:
        candidates.append(header.group(1))
    head = body[: body.lower().find(b"</head")] if b"</head" in body[:65536].lower() else body[:65536]
    meta = META_CHARSET.search(head)
    if meta is not None:
        candidates.append(meta.group(1).decode("ascii", errors="replace"))
    for label in candidates:
        found = encoding_of(label)
        if found is not None:
            return body.decode(found, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


class _TitleParser(HTMLParser):
    """Collects the text of the document's first <title> (not one inside an inline <svg>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.inside = False
        self.done = False
        self.svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.svg_depth += 1
        elif tag == "title" and not self.svg_depth and not self.done:
            self.inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
        elif tag == "title" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.parts.append(data)


def title_of(text: str) -> str | None:
    """The page's title: whitespace collapsed, control characters dropped, at most 255 characters."""
    parser = _TitleParser()
    position = 0
    while position < len(text) and not parser.done:  # in pieces: stop soon after </title>
        parser.feed(text[position : position + 16384])
        position += 16384
    parser.close()
    if not parser.parts:
        return None
    cleaned = "".join(char for char in "".join(parser.parts) if char.isprintable() or char.isspace())
    title = " ".join(cleaned.split())[:MAX_TITLE].strip()
    return title or None


def _decompress(body: bytes, encoding: str) -> bytes:
    """A gzip/deflate body, inflated to at most MAX_BYTES (a small body must not become a huge one)."""
    wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15}.get(encoding)
    if wbits is None:
        raise TitleFetchFailed(f"content encoding {encoding!r} not read", retry=False)
    try:
        inflater = zlib.decompressobj(wbits)
        return inflater.decompress(body, MAX_BYTES)
    except zlib.error as error:
        raise TitleFetchFailed(f"corrupt {encoding} body", retry=False) from error


async def fetch_title(client: httpx.AsyncClient, url: str) -> str | None:
    """The <title> of the page at `url` (None: it has none), or TitleFetchFailed."""
    try:
        async with asyncio.timeout(TIMEOUT):
            async with client.stream(
                "GET",
                url,
                headers={
                    "accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                    "accept-encoding": "gzip, deflate",
                    "user-agent": USER_AGENT,
                },
            ) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise TitleFetchFailed(f"HTTP {response.status_code}", retry=True)
                if response.status_code >= 300:
                    raise TitleFetchFailed(f"HTTP {response.status_code}", retry=False)
                content_type = response.headers.get("content-type")
                media_type = (content_type or "text/html").split(";", 1)[0].strip().lower()
                if media_type not in HTML_TYPES:
                    raise TitleFetchFailed(f"not HTML ({media_type})", retry=False)
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body.extend(chunk)
                    if len(body) >= MAX_BYTES:
                        break
                    if b"</title" in chunk.lower() or b"</title" in body[-8 - len(chunk) :].lower():
                        break
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
    except TimeoutError as error:
        raise TitleFetchFailed(f"timed out after {TIMEOUT:g} s", retry=True) from error
    except httpx.TooManyRedirects as error:
        raise TitleFetchFailed("too many redirects", retry=False) from error
    except httpx.HTTPError as error:
        raise TitleFetchFailed(f"{type(error).__name__}: {error}", retry=True) from error
    except BlockedDestination as error:  # the SSRF guard's refusal, at any hop
        raise TitleFetchFailed(f"refused: {error}", retry=False) from error
    data = bytes(body[:MAX_BYTES])
    if encoding not in ("identity", ""):
        data = _decompress(data, encoding)
    return title_of(decode_page(data, content_type))


@dataclass(frozen=True)
class Claimed:
    link_id: str
    url: str
    attempts: int  # including this one


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Claimed]:
    """Lease up to `limit` due fetches (pushed LEASE ahead, so that no other fetcher takes them meanwhile)."""
    repository = LinkRepository(session)
    due = await repository.due_title_fetches(now, limit)
    if not due:
        return []
    await repository.lease_title_fetches([row.link_id for row in due], now + LEASE)
    return [Claimed(row.link_id, row.url, row.attempts + 1) for row in due]


async def record_outcome(
    session: AsyncSession, *, job: Claimed, title: str | None, error: TitleFetchFailed | None
) -> None:
    """Store the title (if the link still points at the URL fetched and has no title of its own), or plan the
    next attempt, or give up."""
    repository = LinkRepository(session)
    now = utcnow()
    if error is None:
        await repository.store_page_title(job.link_id, job.url, title, now)
        return
    retry_at = now + RETRY_DELAYS[job.attempts - 1] if error.retry and job.attempts <= len(RETRY_DELAYS) else None
    await repository.title_fetch_failed(job.link_id, job.url, str(error), retry_at)


class TitleFetcher:
    """A background service: claims due title fetches, fetches them concurrently, records the outcomes."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        client_factory: Callable[[], httpx.AsyncClient],
        poll_interval: float = 2.0,
        batch_size: int = 16,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.client_factory = client_factory
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.fetched = 0  # attempts made by this process (tests, logs)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._stopping = False

    def wake(self) -> None:
        """Look for queued fetches now (a link was created or changed URL)."""
        self._wake.set()

    async def on_titles_wanted(self, _signal: object) -> None:
        self.wake()

    async def start(self) -> None:
        self._stopping = False
        self._client = self.client_factory()
        self._task = asyncio.create_task(self._run(), name="mask-title-fetcher")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()  # a fetch in flight is leased: it comes due again after LEASE
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("title fetcher pass failed; retrying")
                claimed = 0
            if claimed >= self.batch_size:
                continue  # more is waiting
            await wait_for_wake(self._wake, self.poll_interval)

    async def run_once(self) -> int:
        """One pass: claim, fetch, record. Returns how many fetches it made."""
        async with session_scope(self.sessionmaker) as session:
            jobs = await claim_due(session, now=utcnow(), limit=self.batch_size)
        if not jobs:
            return 0
        client = self._client or self.client_factory()
        try:
            outcomes = await asyncio.gather(*(self._fetch(client, job) for job in jobs))
        finally:
            if client is not self._client:
                await client.aclose()
        async with session_scope(self.sessionmaker) as session:
            for job, (title, error) in zip(jobs, outcomes, strict=True):
                await record_outcome(session, job=job, title=title, error=error)
        self.fetched += len(jobs)
        return len(jobs)

    async def _fetch(self, client: httpx.AsyncClient, job: Claimed) -> tuple[str | None, TitleFetchFailed | None]:
        try:
            return await fetch_title(client, job.url), None
        except TitleFetchFailed as failed:
            logger.info("no title for %s (%s): %s", job.link_id, job.url, failed)
            return None, failed
        except Exception as error:  # a bug: logged, and the link simply gets no title
            logger.exception("fetching the title of %s failed", job.url)
            return None, TitleFetchFailed(f"{type(error).__name__}: {error}", retry=False)
