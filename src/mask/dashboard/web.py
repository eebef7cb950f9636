"""The dashboard's request plumbing: who is asking, in which workspace, one transaction, one rendered page.

Each view is `async def view(page: Page) -> Response`, wrapped by `@view(...)`, which says what the view needs
(a logged-in user, a workspace membership, the owner role). The wrapper opens the request's one database
session and commits it before the response leaves, checks CSRF on every state-changing request, and turns
domain errors (mask.kit.errors) into pages. Views call the services; they never build queries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mask import audit
from mask.account import service as account_service
from mask.auth.service import WorkspaceSuspended
from mask.config import Settings
from mask.context import AppContext
from mask.dashboard import security
from mask.dashboard.wording import field_label, humanize
from mask.db import session_scope
from mask.kit.errors import MaskError, ValidationFailed
from mask.kit.net import client_ip, network_prefix
from mask.kit.time import as_utc, utcnow
from mask.models.account import User, UserSession
from mask.rate_limit.limiter import Limiter
from mask.workspace import members as workspace_members
from mask.workspace.members import WorkspaceAccess
from mask.workspace.permissions import Permission

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PREFIX = "/app/static"
MAX_FORM_FIELDS = 1000  # a link's targeting rules: 25 rules of up to 10 conditions (views/link_targeting.py)
MAX_FORM_PART = 64 * 1024

# What a `?done=` key says after a redirect. Fixed texts: a crafted URL cannot put words on our page.
NOTICES = {
    "link-created": "Link created.",
    "link-updated": "Link saved.",
    "link-deleted": "Link deleted.",
    "link-clicks-deleted": "Click data cleared: the link's clicks are gone from its analytics and its counter.",
    "link-archived": "Link archived: it still redirects, and leaves the default list.",
    "link-unarchived": "Link back in the list.",
    "link-disabled": "Link disabled: it stopped redirecting.",
    "link-enabled": "Link enabled: it redirects again.",
    "links-archived": "The selected links are archived: they still redirect, and leave the default list.",
    "links-unarchived": "The selected links are back in the list.",
    "links-tagged": "The tag was added to the selected links.",
    "links-untagged": "The tag was taken off the selected links.",
    "links-deleted": "The selected links are deleted.",
    "links-none-selected": "Nothing was changed: select links first (the boxes at the start of each row).",
    "tag-created": "Tag created.",
    "tag-saved": "Tag saved.",
    "tag-merged": "Tags merged.",
    "tag-deleted": "Tag deleted. Its links keep their other tags.",
    "qr-style-saved": "QR style saved. New and existing QR codes use it.",
    "domain-added": "Domain added. Create the DNS records below; its links answer once it is verified.",
    "domain-verified": "Verified: the domain's links answer now.",
    "domain-checked": "Checked: the record is not there yet. MASK keeps checking in the background.",
    "domain-saved": "Domain settings saved.",
    "domain-removed": "Domain removed.",
    "default-domain-set": "Default domain saved: new links and bio pages go there unless you pick another.",
    "key-revoked": "API key revoked. It stops working at once.",
    "workspace-renamed": "Workspace renamed.",
    "workspace-created": "Workspace created. Create your first link below.",
    "invite-revoked": "Invite withdrawn.",
    "member-removed": "Member removed.",
    "role-changed": "Role changed.",
    "password-changed": "Password changed. Your other sessions were logged out.",
    "profile-saved": "Profile saved.",
    "joined": "Welcome aboard: you joined the workspace.",
    "welcome": "Welcome to MASK! Create your first link, or get an API key under Settings → API Keys.",
    "logged-out": "You are logged out.",
    "email-verified": "Your e-mail address is confirmed. Welcome to MASK!",
    "verification-sent": "We mailed you a new confirmation link.",
    "password-reset": "Your new password is set, and every other session was logged out.",
    "bio-created": "Bio page created. Add blocks below; the preview shows what visitors see.",
    "bio-saved": "Saved.",
    "bio-deleted": "Bio page deleted.",
    "webhook-saved": "Webhook saved.",
    "webhook-deleted": "Webhook deleted. Nothing more is sent to it.",
    "webhook-test-sent": "Test event queued: it appears in the delivery log below within seconds.",
    "webhook-retried": "Delivery queued again.",
    "share-password-saved": "Password saved. Visitors let in by the old one must enter the new one.",
    "share-revoked": "Shared dashboard revoked: its address answers “not found” from now on.",
    "two-factor-disabled": "Two-factor sign-in is off.",
    "two-factor-required": "Every member now needs two-factor sign-in to open this workspace.",
    "two-factor-optional": "Two-factor sign-in is no longer required in this workspace.",
}


class Rerender(Exception):
    """Answer with `response` and roll the request's transaction back (a form with errors, shown again)."""

    def __init__(self, response: Response) -> None:
        super().__init__("rerender")
        self.response = response


def _static_versions() -> dict[str, str]:
    versions = {}
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            versions[path.relative_to(STATIC_DIR).as_posix()] = sha256(path.read_bytes()).hexdigest()[:12]
    return versions


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = int((utcnow() - as_utc(value)).total_seconds())
    if seconds < 0:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def _when(value: datetime | None) -> str:
    return "—" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _number(value: int | float) -> str:
    return f"{value:,}"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 click`, `2 clicks`, `1,204 clicks`: a count with its noun in the right number (`many` when adding an
    s is wrong: `1 entry`, `2 entries`)."""
    word = singular if count == 1 else (many or f"{singular}s")
    return f"{count:,} {word}"


def error_items(errors: dict[str, str], *, ids: str = "f-{}") -> list[dict[str, str]]:
    """An error summary's lines (templates/_error_summary.html): each error with the label and the id of its
    field (`ids` formats the field's name into its id); a form-wide error (`__all__`) has no field."""
    items: list[dict[str, str]] = []
    for name, message in errors.items():
        if name == "__all__":
            items.insert(0, {"message": message, "label": "", "target": ""})
        else:
            items.append({"message": message, "label": field_label(name), "target": ids.format(name)})
    return items


def build_templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    versions = _static_versions()
    environment.globals["static"] = lambda name: f"{STATIC_PREFIX}/{name}?v={versions.get(name, '0')}"
    environment.filters["ago"] = _ago
    environment.filters["when"] = _when
    environment.filters["number"] = _number
    environment.filters["plural"] = plural
    environment.globals["error_items"] = error_items
    environment.globals["field_label"] = field_label
    environment.filters["human"] = humanize
    environment.filters["urlq"] = lambda value: quote(str(value), safe="")
    return environment


def field_errors(error: MaskError | ValidationError) -> dict[str, str]:
    """Form errors by field name, from a domain error (`param`) or a Pydantic error (`loc`), in plain words
    (mask.dashboard.wording: the API's own messages name fields for programmers)."""
    found: dict[str, str] = {}
    if isinstance(error, ValidationError):
        for item in error.errors():
            name = str(item["loc"][0]) if item.get("loc") else "__all__"
            found.setdefault(name, humanize(str(item["msg"]).removeprefix("Value error, ")))
        return found
    if isinstance(error, ValidationFailed):
        for field_error in error.errors:
            found.setdefault(field_error.param.split(".", 1)[0], humanize(field_error.message))
        return found
    found[error.param.split(".", 1)[0] if error.param else "__all__"] = humanize(error.message)
    return found


@dataclass
class Page:
    """One dashboard request: the caller, their workspace, the transaction, and how to answer."""

    request: Request
    db: AsyncSession
    context: AppContext
    templates: jinja2.Environment
    rate_limiter: Limiter | None = None  # the API's, whose counts the workspace settings page shows
    user: User | None = None
    user_session: UserSession | None = None
    access: WorkspaceAccess | None = None
    workspaces: list[WorkspaceAccess] = field(default_factory=list)
    # Plain copies, still readable after a rollback has expired the ORM objects (error pages).
    email: str | None = None
    csrf_secret: str | None = None
    anon_seed: str | None = None
    new_anon_seed: str | None = None
    cookies: list[tuple[str, str | None, int | None]] = field(default_factory=list)
    session_token: str | None = None  # the cookie's token: the key of the session's flash
    _form: FormData | None = None
    _flash: dict[str, Any] | None = None

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @property
    def ip(self) -> str | None:
        return client_ip(dict(self.request.scope), self.settings.trusted_proxy_networks)

    @property
    def ws(self) -> WorkspaceAccess:
        assert self.access is not None, "this view is declared without a workspace"
        return self.access

    @property
    def me(self) -> User:
        assert self.user is not None, "this view is declared without login"
        return self.user

    @property
    def base(self) -> str:
        """The current workspace's URL prefix, `/app/<handle>`."""
        return f"/app/{self.ws.workspace.slug}"

    @property
    def csrf_token(self) -> str:
        if self.csrf_secret is not None:
            return self.csrf_secret
        if self.anon_seed is None:
            self.anon_seed = self.new_anon_seed = security.new_anon_seed()
        return security.anon_csrf_token(self.settings, self.anon_seed)

    async def checkpoint(self) -> None:
        """Commit the request's work so far. Only for what must be durable and visible to other requests before
        slow work whatever its outcome: a throttle's reservation (mask.account.throttle)."""
        await self.db.commit()

    async def form(self) -> FormData:
        if self._form is None:
            # One file at most (the QR logo upload, mask.dashboard.views.qr); its size is checked where it is read.
            self._form = await self.request.form(max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_PART)
        return self._form

    async def field(self, name: str) -> str:
        value = (await self.form()).get(name)
        return value if isinstance(value, str) else ""

    def _stash(self) -> dict[str, Any]:
        if self._flash is None:
            self._flash = {}
            row, token = self.user_session, self.session_token
            if row is not None and row.flash and token:
                opened = security.unseal(token, row.flash)
                self._flash = json.loads(opened) if opened else {}
        return self._flash

    def _store_stash(self) -> None:
        assert self.user_session is not None and self.session_token is not None
        stash = self._stash()
        self.user_session.flash = security.seal(self.session_token, json.dumps(stash)) if stash else None

    def flash(self, key: str, value: Any) -> None:
        """Keep `value` for the next page of this session to show once (post/redirect/get): never in the URL,
        sealed in the session row (mask.dashboard.security.seal), gone once taken."""
        self._stash()[key] = value
        self._store_stash()

    def take_flash(self, key: str) -> Any:
        """What `flash` kept under `key`, once; None the next time (a reload shows nothing more)."""
        if self.user_session is None or key not in self._stash():
            return None
        value = self._stash().pop(key)
        self._store_stash()
        return value

    def render(
        self, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any
    ) -> HTMLResponse:
        done = self.request.query_params.get("done")
        if done is None and "hx-request" not in self.request.headers:  # a fragment leaves the notice to its page
            done = self.take_flash("notice")
        context = {
            "page": self,
            "request": self.request,
            "user": self.user,
            "access": self.access,
            "workspaces": self.workspaces,
            "csrf_token": self.csrf_token,
            "notice": NOTICES.get(done or ""),
            "errors": {},
            "values": {},
            "short_domain": self.settings.short_domain,
            "email": self.email,
        }
        context.update(values)
        html = self.templates.get_template(template).render(context)
        return HTMLResponse(html, status_code=status, headers=headers)

    def redirect(self, url: str, *, done: str | None = None) -> RedirectResponse:
        if done is not None:
            url += ("&" if "?" in url else "?") + urlencode({"done": done})
        return RedirectResponse(url, status_code=303)

    def see_other(self, url: str, *, notice: str | None = None) -> RedirectResponse:
        """A 303 to `url` whose page shows `notice` (a NOTICES key) once: kept in the session's flash, so a reload
        of that page does not say it again. Without a session (logged out), as `redirect`."""
        if notice is None or self.user_session is None or self.session_token is None:
            return self.redirect(url, done=notice)
        self.flash("notice", notice)
        return RedirectResponse(url, status_code=303)

    def start_session(self, token: str) -> None:
        self.cookies.append(
            (security.session_cookie(self.settings), token, int(account_service.SESSION_MAX_AGE.total_seconds()))
        )

    def end_session(self) -> None:
        self.cookies.append((security.session_cookie(self.settings), None, None))


Handler = Callable[[Page], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in security.SAFE_METHODS:
        target = request.url.path
    next_part = f"?{urlencode({'next': target})}" if security.safe_next(target) and target != "/app" else ""
    return RedirectResponse(f"/app/login{next_part}", status_code=303)


def _csrf_ok(page: Page, given: str | None) -> bool:
    if page.csrf_secret is not None and security.tokens_match(page.csrf_secret, given):
        return True
    if page.anon_seed:  # a form rendered before login (or in another tab) is as good as proof of origin
        return security.tokens_match(security.anon_csrf_token(page.settings, page.anon_seed), given)
    return False


def view(
    *, login: bool = True, workspace: bool = False, permission: Permission | None = None
) -> Callable[[Handler], Endpoint]:
    """Wrap a view: session, CSRF, membership and the role's `permission` (mask.workspace.permissions: the one
    matrix the member and key services also apply), one transaction, errors as pages."""
    assert permission is None or workspace, "a permission is a role's, in a workspace"

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            context: AppContext = request.app.state.context
            templates: jinja2.Environment = request.app.state.templates
            settings = context.settings
            token = request.cookies.get(security.session_cookie(settings), "")
            page: Page | None = None
            try:
                async with session_scope(context.sessionmaker) as db:
                    page = Page(
                        request=request,
                        db=db,
                        context=context,
                        templates=templates,
                        rate_limiter=request.app.state.rate_limiter,
                        anon_seed=request.cookies.get(security.anon_cookie(settings)) or None,
                    )
                    current = await account_service.resolve_session(db, token=token) if token else None
                    if current is not None:
                        page.user, page.user_session, page.session_token = current.user, current.row, token
                        page.email, page.csrf_secret = current.user.email, current.row.csrf_secret
                    elif token:
                        page.end_session()  # a stale cookie: drop it
                    # Who acts, for the audit log and `created_by` (it travels with the request's session).
                    audit.set_actor(
                        db,
                        audit.Actor(
                            kind="user",
                            id=current.user.id if current else None,
                            label=current.user.email if current else "anonymous visitor",
                            ip_prefix=network_prefix(page.ip),
                            user_id=current.user.id if current else None,
                        ),
                    )
                    response = await _dispatch(page, handler, login=login, workspace=workspace, permission=permission)
            except Rerender as rerender:
                response = rerender.response
            except MaskError as error:
                response = _error_page(page, request, templates, error)
            assert page is not None
            _finish(page, response, settings)
            elapsed = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
            return response

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        endpoint.permission = permission  # type: ignore[attr-defined]  # read by the matrix test
        return endpoint

    return decorate


async def _dispatch(
    page: Page, handler: Handler, *, login: bool, workspace: bool, permission: Permission | None
) -> Response:
    request = page.request
    if request.method not in security.SAFE_METHODS:
        given = request.headers.get("x-csrf-token")
        if given is None:
            given = await page.field("csrf_token")
        if security.cross_site(request) or not _csrf_ok(page, given):
            return page.render(
                "error.html",
                status=403,
                title="This form has expired",
                message="The form was too old or came from another site, so nothing was changed. "
                "Go back, reload the page and try again.",
            )
    if login and page.user is None:
        return _login_redirect(request)
    if page.user is not None:
        page.workspaces = await workspace_members.workspaces_of(page.db, user=page.user)
    if workspace:
        slug = request.path_params["workspace"]
        page.access = next((item for item in page.workspaces if item.workspace.slug == slug), None)
        if page.access is None:
            raise workspace_members.MembershipNotFound(f"No workspace `{slug}` among yours.")
        if page.access.workspace.require_two_factor and page.me.totp_enabled_at is None:
            # The workspace's owner requires two-factor sign-in: enrol first (mask.dashboard.views.two_factor).
            return page.redirect(f"/app/account/two-factor?{urlencode({'required': slug})}")
        if page.access.workspace.suspended_at is not None and request.method not in security.SAFE_METHODS:
            # Suspended by the operator (mask.abuse): readable, changed by nobody, like its refused API keys.
            raise WorkspaceSuspended("This workspace has been suspended by the operator of this server.")
        if permission is not None:
            workspace_members.require(page.access, permission)
    return await handler(page)


def _error_page(page: Page | None, request: Request, templates: jinja2.Environment, error: MaskError) -> Response:
    titles = {403: "Not allowed", 404: "Not found", 429: "Slow down"}
    title = titles.get(error.status_code, "Something is wrong")
    # The transaction was rolled back and its objects expired: this page uses plain strings only.
    context: dict[str, Any] = {
        "page": None,
        "request": request,
        "user": None,
        "access": None,
        "workspaces": [],
        "csrf_token": page.csrf_token if page is not None else "",
        "notice": None,
        "errors": {},
        "values": {},
        "title": title,
        "message": humanize(error.message),
        "short_domain": "",
        "email": page.email if page is not None else None,
    }
    html = templates.get_template("error.html").render(context)
    return HTMLResponse(html, status_code=error.status_code, headers=error.headers)


def _finish(page: Page, response: Response, settings: Settings) -> None:
    for name, value, max_age in page.cookies:
        if value is None:
            security.clear_cookie(response, settings, name)
        else:
            security.set_cookie(response, settings, name, value, max_age=max_age)
    if page.new_anon_seed is not None:
        security.set_cookie(response, settings, security.anon_cookie(settings), page.new_anon_seed, max_age=None)
    response.headers.setdefault("Cache-Control", "no-store")
