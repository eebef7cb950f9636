"""What a click gets, for links that decide more than "302 to the URL": start time, click limit, password,
redirect status (the decision engine of issue 21).

Evaluated from the cached entry (`Target.policy`), never a database read per click, in this order:
not yet active → expired (the app's own branch) / click limit → password → destination. A plain link has no
policy (`None`) and never reaches this module: its cost on the redirect path is one attribute check.

`Decider.decide` answers by itself when the click is stopped (a password page, a not-yet-active page, a spent
limit, whose hits are orphans) and returns None; otherwise it returns the `Verdict` the app redirects with.

Links with only targeting rules, A/B variants or a status (the common case) take `Decider.quick` first: no
coroutine, no `Request`, the user agent as the app read it; the rules' answer remembered per link by what they
read of the request (`Policy.routes`), the bot verdict per user agent, the variant from a CRC-32 that goes on
from the link's part and a bucket table. Only a first sight of those headers, or rules that read the click's IP,
place or time, reach the rules themselves (`_evaluate`).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from mask.account import passwords
from mask.click.enrichment import GeoLocator, parse_agent
from mask.click.schemas import link_click_row, prefetch_row
from mask.click.tracker import ClickTracker
from mask.config import Settings
from mask.kit.http import json_dumps
from mask.kit.net import client_ip
from mask.public.domains import DomainState
from mask.public.pages import is_tracked
from mask.rate_limit.limiter import Limiter, Quota
from mask.redirect import fallback
from mask.redirect.destination import split_trigger
from mask.redirect.pages import EXPIRED, METHOD_NOT_ALLOWED, NO_STORE, NOT_YET_ACTIVE, TOO_LARGE, Page, wants_json
from mask.redirect.policy import Policy, Verdict
from mask.redirect.previews import is_preview_bot
from mask.redirect.repository import reserve_click
from mask.redirect.rules import AgentCrc, Facts, agent_crc

if TYPE_CHECKING:
    from mask.redirect.resolver import Target

__all__ = ["Decider", "Policy", "Verdict"]

logger = logging.getLogger("mask.redirect.decision")

# Wrong password attempts per client IP and link before `429`; a right one clears the count.
PASSWORD_ATTEMPTS = Quota(requests=5, window_seconds=300)
PASSWORD_COOKIE = "mask_pass"  # noqa: S105 - a cookie name
PASSWORD_COOKIE_SECONDS = 12 * 3600  # how long a visitor who gave the password is let through without asking
MAX_FORM_BYTES = 4096  # a password form is small; anything larger is refused unread
MAX_ROUTES = 1024  # remembered rule answers per link (per distinct user agent, languages and query)
MAX_AGENTS = 4096  # user agents whose bot verdict is remembered (per process)
MAX_ROUTE_KEYS = 4096  # distinct route keys kept as one shared object each (per process)

RouteKey = tuple[bytes, bytes, bytes]  # what a link's rules read of a request (`_route_key`)

PASSWORD_REQUIRED_JSON = json_dumps(
    {
        "error": {
            "type": "authentication_error",
            "code": "password_required",
            "message": "This link is password-protected: open it in a browser, or POST `password` as a form.",
            "param": "password",
            "request_id": None,
        }
    }
)
WRONG_PASSWORD_JSON = json_dumps(
    {
        "error": {
            "type": "authentication_error",
            "code": "wrong_password",
            "message": "Wrong password.",
            "param": "password",
            "request_id": None,
        }
    }
)
PAGE_HEADERS = (
    NO_STORE,
    (b"x-robots-tag", b"noindex"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
)


@dataclass
class Request:
    """The request facts the engine reads, taken from the scope only for links with a policy."""

    method: str
    path: str
    query: bytes
    accept: bytes
    cookie: bytes
    user_agent: str
    accept_language: bytes
    ip: str | None
    tracked: bool

    @classmethod
    def of(cls, scope: Scope, *, ip: str | None, accept: bytes, tracked: bool) -> Request:
        cookie = user_agent = accept_language = b""
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = value if not cookie else cookie + b"; " + value
            elif name == b"user-agent":
                user_agent = value
            elif name == b"accept-language":
                accept_language = value
        return cls(
            scope["method"],
            scope["path"],
            scope["query_string"],
            accept,
            cookie,
            user_agent.decode("latin-1"),
            accept_language,
            ip,
            tracked,
        )


def _header(scope: Scope, name: bytes) -> bytes:
    """The last value of a request header (as `Request.of` reads it), b"" without one."""
    found = b""
    for key, value in scope["headers"]:
        if key == name:
            found = value
    return found


def _route_key(policy: Policy, scope: Scope, agent: bytes) -> RouteKey:
    """What a link's rules read of a request, and only that (b"" for the rest): the key of its remembered
    answers (`Policy.routes`). A link whose rules read no language never looks at Accept-Language."""
    return (
        agent if policy.reads_agent else b"",
        _header(scope, b"accept-language") if policy.reads_language else b"",
        scope["query_string"] if policy.reads_query else b"",
    )


LimitReached = Callable[[str], Coroutine[Any, Any, None]]


@dataclass
class Decider:
    """The engine: one per HTTP process, shared by every link with a policy."""

    settings: Settings
    engine: AsyncEngine  # the resolver's autocommit engine: a reservation is one UPDATE
    attempts: Limiter  # wrong password attempts (Redis when configured: shared across workers)
    on_limit_reached: LimitReached | None = None  # `link.limit_reached` (an outbox event), after the last click
    tracker: ClickTracker | None = None  # records the hits answered here (a social preview: traffic type preview)
    _key: bytes = field(init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _locate: Callable[[str | None], tuple[str | None, str | None]] | None = field(default=None, init=False)
    # User agent → (a bot?, its part of the variant hash): what the engine reads of a user agent, once.
    _agents: dict[bytes, tuple[bool, AgentCrc]] = field(default_factory=dict, init=False)
    # Route key → the one object every link's remembered answers (`Policy.routes`) hold for it: a click finds
    # its key here, among keys every link shares (warm in the CPU's caches), and then in its link's answers by
    # identity, without comparing the user agent bytes that link stored (cold: each link has its own).
    _route_keys: dict[RouteKey, RouteKey] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._key = hmac.new(self.settings.secret_key.encode(), b"mask link password cookie", "sha256").digest()
        self.trusted = self.settings.trusted_proxy_networks

    async def decide(
        self,
        target: Target,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        now: float,
        accept: bytes,
        prefetch: bool,
        state: DomainState,
        user_agent: bytes = b"",
    ) -> Verdict | None:
        """The verdict for this click, or None when this answered the request itself (a POST to a link
        without a policy is 405). `user_agent` is the header as the app read it (no second pass over them)."""
        policy = target.policy
        if policy is None:
            await _plain(send, METHOD_NOT_ALLOWED, accept, extra=((b"allow", b"GET, HEAD"),))
            return None
        if policy.gated or scope["method"] == "POST":
            return await self._gated(
                target, policy, scope, receive, send, now=now, accept=accept, prefetch=prefetch, state=state
            )
        # Targeting rules, A/B variants or a status only: the common case, without a Request.
        if target.expires_at is not None and now >= target.expires_at:
            return policy.default  # the app's expiry branch answers
        verdict = self._route(target, policy, scope, user_agent, now)
        return verdict if verdict is not None else await self._evaluate(target, policy, scope, user_agent, now)

    def quick(self, target: Target, scope: Scope, agent: bytes, now: float) -> Verdict | None:
        """`decide` without a coroutine, for what needs no I/O and answers nothing itself: a link with targeting
        rules (whose answer for these headers is remembered), A/B variants or a status only. None: ask `decide`."""
        policy = target.policy
        if policy is None or policy.gated or scope["method"] == "POST":
            return None
        if target.expires_at is not None and now >= target.expires_at:
            return policy.default  # the app's expiry branch answers
        return self._route(target, policy, scope, agent, now)

    async def _gated(
        self,
        target: Target,
        policy: Policy,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        now: float,
        accept: bytes,
        prefetch: bool,
        state: DomainState,
    ) -> Verdict | None:
        """A link with a start time, click limit, password or preview (or a POST): those first, then its
        destination."""
        method = scope["method"]
        head = method == "HEAD"
        tracked = is_tracked(method, prefetch=prefetch)
        if policy.starts_at is not None and now < policy.starts_at:
            await fallback.page(send, NOT_YET_ACTIVE, accept, head=head, noindex=state.noindex)
            return None
        if target.expires_at is not None and now >= target.expires_at:
            return policy.default  # the app's expiry branch answers
        if policy.exhausted:
            await self._spent(target, scope, send, now=now, accept=accept, prefetch=prefetch, state=state)
            return None
        request = Request.of(scope, ip=client_ip(scope, self.trusted), accept=accept, tracked=tracked)
        if policy.preview is not None and is_preview_bot(request.user_agent):
            if method == "GET" and self.tracker is not None and self.tracker.enabled:
                await self._record_preview(target, scope, request, now, prefetch=prefetch)
            await _preview(send, policy.preview, head=head)
            return None
        let_through = False
        if policy.password_hash is not None:
            if request.method == "POST":
                await self._password_form(target, policy, request, receive, send)
                return None
            if not self._cookie_valid(target, policy, request.cookie, now):
                await _password_page(send, request.accept, status=401, head=head, error=None)
                return None
            let_through = True
        elif request.method == "POST":
            await _plain(send, METHOD_NOT_ALLOWED, accept, extra=((b"allow", b"GET, HEAD"),))
            return None
        agent = request.user_agent.encode("latin-1")
        if policy.max_clicks is not None and tracked and not self.is_bot(agent):
            reserved = await reserve_click(self.engine, target.link_id)
            if reserved is None:
                policy.exhausted = True
                await self._spent(target, scope, send, now=now, accept=accept, prefetch=prefetch, state=state)
                return None
            if reserved >= policy.max_clicks:
                policy.exhausted = True
                self._limit_reached(target.link_id)
        verdict = self._route(target, policy, scope, agent, now)
        if verdict is None:
            verdict = await self._evaluate(target, policy, scope, agent, now)
        return verdict.let_through() if let_through else verdict

    def _route(self, target: Target, policy: Policy, scope: Scope, agent: bytes, now: float) -> Verdict | None:
        """The rule's or variant's verdict from what is remembered, or None when the rules must be evaluated:
        the first click with this user agent, Accept-Language and query (of what the rules read), or rules that
        read the click itself (its IP address, place or time)."""
        if policy.rules:
            routes = policy.routes
            if routes is None:
                return None
            language = b""
            if policy.reads_language:
                for name, value in scope["headers"]:
                    if name == b"accept-language":
                        language = value
            key = (
                agent if policy.reads_agent else b"",
                language,
                scope["query_string"] if policy.reads_query else b"",
            )  # _route_key, inline: this runs on every click of such a link
            index = routes.get(self._route_keys.get(key, key))
            if index is None:
                return None
            if index >= 0:
                return policy.rule_verdicts[index]
        variants = policy.variants
        if variants is not None and (variants.ends_at is None or now < variants.ends_at):
            known = self._agents.get(agent) or self._agent(agent)
            # Bots (link previews, crawlers) always get the first variant: they would skew the split.
            return policy.variant_verdicts[
                0 if known[0] else variants.pick_for(client_ip(scope, self.trusted), known[1])
            ]
        return policy.default

    def _variant(self, target: Target, policy: Policy, scope: Scope, agent: bytes, now: float) -> Verdict:
        variants = policy.variants
        if variants is not None and (variants.ends_at is None or now < variants.ends_at):
            known = self._agents.get(agent) or self._agent(agent)
            return policy.variant_verdicts[
                0 if known[0] else variants.pick_for(client_ip(scope, self.trusted), known[1])
            ]
        return policy.default

    async def _evaluate(self, target: Target, policy: Policy, scope: Scope, agent: bytes, now: float) -> Verdict:
        """Evaluate the rules in order; the first that matches decides, else the variants or the link's URL.
        Rules that read only the user agent, Accept-Language and query decide the same for the same values:
        their answer is remembered per link (browsers send few distinct ones), so a repeat is one dict lookup."""
        key = _route_key(policy, scope, agent)
        ip = client_ip(scope, self.trusted) if policy.needs_ip else None
        facts = Facts(
            user_agent=agent.decode("latin-1"),
            accept_language=_header(scope, b"accept-language"),
            query=scope["query_string"],
            ip=ip,
            now=now,
            locate=await self._locator() if policy.needs_place else None,
        )
        index = next((number for number, rule in enumerate(policy.rules) if rule.matches(facts)), -1)
        if policy.routes is not None:
            if len(policy.routes) >= MAX_ROUTES:
                policy.routes.clear()
            policy.routes[self._shared_key(key)] = index
        if index >= 0:
            return policy.rule_verdicts[index]
        return self._variant(target, policy, scope, agent, now)

    def _shared_key(self, key: RouteKey) -> RouteKey:
        """The shared object for this route key (a new one once the table is full and cleared: links that hold
        an older one still find it, by equality)."""
        shared = self._route_keys.get(key)
        if shared is None:
            if len(self._route_keys) >= MAX_ROUTE_KEYS:
                self._route_keys.clear()
            shared = self._route_keys[key] = key
        return shared

    def is_bot(self, agent: bytes) -> bool:
        """The click enrichment's verdict (mask.click.enrichment.parse_agent), remembered per user agent: bots
        get the first variant and spend no click limit."""
        return (self._agents.get(agent) or self._agent(agent))[0]

    def _agent(self, agent: bytes) -> tuple[bool, AgentCrc]:
        if len(self._agents) >= MAX_AGENTS:
            self._agents.clear()
        known = self._agents[agent] = (parse_agent(agent.decode("latin-1")).is_bot, agent_crc(agent))
        return known

    async def _locator(self) -> Callable[[str | None], tuple[str | None, str | None]]:
        """IP → (country, city), loaded on the first click of a link with a country or city rule (in a thread:
        the IP database takes a moment to read). Other links never load it."""
        if self._locate is None:
            geo = await asyncio.to_thread(GeoLocator, self.settings.geoip_mmdb_path)

            def locate(ip: str | None) -> tuple[str | None, str | None]:
                place = geo.locate(ip)
                return place.country, place.city

            self._locate = locate
        return self._locate

    async def _spent(
        self, target: Target, scope: Scope, send: Send, *, now: float, accept: bytes, prefetch: bool, state: DomainState
    ) -> None:
        """A link whose click limit is spent answers as an expired one: its `expired_url`, the domain's, or 410.
        A GET is recorded as an orphan hit (`limit_reached`, with the link's id), never as one of its clicks."""
        head = scope["method"] == "HEAD"
        if scope["method"] == "GET" and self.tracker is not None:
            await self.tracker.record_orphan(
                scope,
                at=now,
                workspace_id=target.workspace_id,
                domain=target.domain,
                orphan_type="limit_reached",
                user_agent=_header(scope, b"user-agent"),
                referrer=_header(scope, b"referer"),
                prefetch=prefetch,
                link_id=target.link_id,
            )
        if target.expired_location is not None:
            await fallback.redirect(send, state, target.expired_location)
        elif state.expired_url is not None:
            await fallback.redirect(send, state, state.expired_url)
        else:
            await fallback.page(send, EXPIRED, accept, head=head, noindex=state.noindex)

    async def _record_preview(
        self, target: Target, scope: Scope, request: Request, now: float, *, prefetch: bool
    ) -> None:
        """A preview bot's hit, answered with the preview page: stored (enrichment names it `preview`), never
        counted."""
        assert self.tracker is not None
        _, trigger = split_trigger(scope["query_string"])
        referrer = next((value for name, value in scope["headers"] if name == b"referer"), b"")
        row = link_click_row(
            at=now,
            workspace_id=target.workspace_id,
            domain=target.domain,
            link_id=target.link_id,
            ip=request.ip,
            user_agent=request.user_agent,
            referrer=referrer.decode("latin-1"),
            utm=target.destination.utm,
            trigger=trigger,
        )
        await self.tracker.record_row(prefetch_row(row) if prefetch else row)

    def _limit_reached(self, link_id: str) -> None:
        if self.on_limit_reached is None:
            return
        task = asyncio.get_running_loop().create_task(self.on_limit_reached(link_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- passwords -------------------------------------------------------------------------------------------
    def _signature(self, link_id: str, version: str, expiry: int) -> str:
        message = f"{link_id}|{version}|{expiry}".encode()
        return base64.urlsafe_b64encode(hmac.new(self._key, message, "sha256").digest()).rstrip(b"=").decode()

    def cookie_value(self, link_id: str, version: str, expiry: int) -> str:
        """What the cookie holds: its expiry and an HMAC of (link id, password version, expiry); no password."""
        return f"{expiry}.{self._signature(link_id, version, expiry)}"

    def _cookie_valid(self, target: Target, policy: Policy, header: bytes, now: float) -> bool:
        if not header:
            return False
        for part in header.decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name != PASSWORD_COOKIE:
                continue
            expiry_text, _, signature = value.partition(".")
            if not expiry_text.isdigit() or int(expiry_text) <= now:
                continue
            expected = self._signature(target.link_id, policy.password_version, int(expiry_text))
            if hmac.compare_digest(expected, signature):
                return True
        return False

    async def _password_form(
        self, target: Target, policy: Policy, request: Request, receive: Receive, send: Send
    ) -> None:
        assert policy.password_hash is not None
        body = await _read_body(receive)
        if body is None:
            await _plain(send, TOO_LARGE, request.accept)
            return
        password = (parse_qs(body.decode("utf-8", "replace")).get("password") or [""])[0]
        bucket = f"{target.link_id}:{request.ip or '-'}"
        decision = await self.attempts.hit(bucket, PASSWORD_ATTEMPTS)
        if not decision.allowed:
            retry = decision.retry_after(time.time())
            await _password_page(
                send,
                request.accept,
                status=429,
                head=False,
                error=f"Too many wrong attempts. Try again in {max(1, -(-retry // 60))} minute(s).",
                extra=((b"retry-after", str(retry).encode()),),
            )
            return
        if (
            not password
            or len(password) > passwords.MAX_LENGTH
            or not await passwords.verify(policy.password_hash, password)
        ):
            await _password_page(send, request.accept, status=401, head=False, error="Wrong password.")
            return
        await self.attempts.clear(bucket, PASSWORD_ATTEMPTS)
        expiry = int(time.time()) + PASSWORD_COOKIE_SECONDS
        value = self.cookie_value(target.link_id, policy.password_version, expiry)
        path = request.path.rstrip("/") or "/"
        cookie = (
            f"{PASSWORD_COOKIE}={value}; Path={path}; Max-Age={PASSWORD_COOKIE_SECONDS}; HttpOnly; Secure; SameSite=Lax"
        )
        location = request.path + ("?" + request.query.decode("latin-1") if request.query else "")
        headers = [
            (b"location", _safe_location(location)),
            (b"set-cookie", cookie.encode("latin-1")),
            NO_STORE,
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _safe_location(location: str) -> bytes:
    """The short URL itself, back again: only its own path and query, never a scheme-relative `//host`."""
    if location.startswith("//"):
        location = "/" + location.lstrip("/")
    return "".join(char if 0x20 < ord(char) < 0x7F else f"%{ord(char):02X}" for char in location).encode()


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than MAX_FORM_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _plain(send: Send, page: Page, accept: bytes, *, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    as_json = wants_json(accept)
    body = page.json if as_json else page.html
    content_type = b"application/json" if as_json else b"text/html; charset=utf-8"
    headers: list[Any] = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), NO_STORE]
    headers.extend(extra)
    await send({"type": "http.response.start", "status": page.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def password_html(error: str | None) -> bytes:
    """The password page: a form and nothing about the link (no destination, no title)."""
    message = f'<p class="error" role="alert" id="error">{escape(error)}</p>' if error else ""
    described = ' aria-describedby="error" aria-invalid="true"' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>Password required</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;color:#1f2328;display:grid;place-items:center;
min-height:90vh;margin:0}} main{{max-width:24rem;width:100%;box-sizing:border-box;padding:2rem}}
h1{{font-size:1.5rem;margin:0 0 .5rem}}
p{{color:#59636e}} .error{{color:#b42318}} label{{display:block;font-weight:600;margin:1rem 0 .25rem}}
input{{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #8c959f;border-radius:6px}}
button{{font:inherit;margin-top:1rem;padding:.5rem 1rem;border:0;border-radius:6px;background:#1f6feb;color:#fff}}
input:focus,button:focus{{outline:3px solid #0969da;outline-offset:2px}}</style>
</head><body><main><h1>Password required</h1>
<p>Whoever shared this link protected it with a password.</p>{message}
<form method="post"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus{described}>
<button type="submit">Continue</button></form></main></body></html>
""".encode()


async def _password_page(
    send: Send,
    accept: bytes,
    *,
    status: int,
    head: bool,
    error: str | None,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    if wants_json(accept):
        body = PASSWORD_REQUIRED_JSON if error is None else WRONG_PASSWORD_JSON
        if status == 429:
            body = json_dumps(
                {
                    "error": {
                        "type": "rate_limit_error",
                        "code": "too_many_attempts",
                        "message": error,
                        "param": "password",
                        "request_id": None,
                    }
                }
            )
        content_type = b"application/json"
    else:
        body, content_type = password_html(error), b"text/html; charset=utf-8"
    headers: list[Any] = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers.extend(PAGE_HEADERS)
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _preview(send: Send, page: bytes, *, head: bool) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        NO_STORE,
        (b"x-robots-tag", b"noindex"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else page})
