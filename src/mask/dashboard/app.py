"""The dashboard as one Starlette app (no FastAPI: it renders pages, it does not describe an API).

Mounted by mask.app on the app host under `/app` (pages) and `/app/static` (vendored assets); `/` is MASK's public
front page (mask.dashboard.views.front) unless MASK_ROOT_URL sends it elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mask.auth.scopes import ALL_SCOPES
from mask.config import Settings
from mask.context import AppContext
from mask.dashboard.views import (
    account,
    analytics,
    audit,
    auth,
    bio,
    domains,
    front,
    imports,
    link_targeting,
    links,
    qr,
    settings,
    share,
    shared_dashboards,
    tags,
    two_factor,
    webhooks,
)
from mask.dashboard.web import STATIC_DIR, build_templates
from mask.kit.http import HSTS
from mask.kit.net import is_secure
from mask.rate_limit.limiter import Limiter

logger = logging.getLogger("mask.dashboard")

# Everything the pages load comes from this server: no CDN, no inline script, nothing to frame us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """The dashboard's edge: HTTPS only in production (HSTS once secure), the headers above on every response,
    and long caching for static files (their URLs carry a content hash)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = is_secure(scope, self.settings.trusted_proxy_networks)
        if self.settings.is_production and not secure:
            # The session cookie is Secure in production: over plain HTTP nobody could stay logged in.
            url = f"https://{self.settings.short_domain}{scope['path']}"
            query = scope.get("query_string", b"")
            if query:  # `/app/login?next=…` keeps where it was going
                url += "?" + query.decode("latin-1")
            await RedirectResponse(url, status_code=308)(scope, receive, send)
            return
        static = scope["path"].startswith("/app/static/") and b"v=" in scope.get("query_string", b"")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if not (static and k == b"cache-control")]
                present = {key for key, _ in headers}
                headers.extend(item for item in SECURITY_HEADERS if item[0] not in present)
                if secure:
                    headers.append((b"strict-transport-security", HSTS))
                if static:
                    headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def routes() -> list[BaseRoute]:
    ws = "/{workspace:str}"
    return [
        Route("/", front.front_page, methods=["GET"]),
        Route("/app", auth.home),
        # Public on purpose: shared dashboards (mask.shared_dashboard), opened by their unguessable token.
        Route("/share/{token:str}", share.shared_page, methods=["GET"]),
        Route("/share/{token:str}", share.unlock, methods=["POST"]),
        Route("/share/{rest:path}", share.not_a_page, methods=["GET"]),
        Mount(
            "/app",
            routes=[
                Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
                Route("/", auth.home),
                Route("/login", auth.login_form, methods=["GET"]),
                Route("/login", auth.login, methods=["POST"]),
                Route("/signup", auth.signup_form, methods=["GET"]),
                Route("/signup", auth.signup, methods=["POST"]),
                Route("/signup/sent", auth.signup_sent, methods=["GET"]),
                Route("/verify/{token:str}", auth.verify_form, methods=["GET"]),
                Route("/verify/{token:str}", auth.verify, methods=["POST"]),
                Route("/password-reset", auth.reset_request_form, methods=["GET"]),
                Route("/password-reset", auth.reset_request, methods=["POST"]),
                Route("/password-reset/sent", auth.reset_sent, methods=["GET"]),
                Route("/password-reset/{token:str}", auth.reset_form, methods=["GET"]),
                Route("/password-reset/{token:str}", auth.reset, methods=["POST"]),
                Route("/logout", auth.logout, methods=["POST"]),
                Route("/account", account.account, methods=["GET"]),
                Route("/account/profile", account.save_profile, methods=["POST"]),
                Route("/account/password", account.change_password, methods=["POST"]),
                Route("/account/verify", account.resend_verification, methods=["POST"]),
                Route("/account/two-factor", two_factor.two_factor_page, methods=["GET"]),
                Route("/account/two-factor/enable", two_factor.enable, methods=["POST"]),
                Route("/account/two-factor/disable", two_factor.disable, methods=["POST"]),
                Route("/account/two-factor/recovery-codes", two_factor.regenerate_codes, methods=["POST"]),
                Route("/login/two-factor", two_factor.login_code_form, methods=["GET"]),
                Route("/login/two-factor", two_factor.login_code, methods=["POST"]),
                Route("/workspaces/new", auth.new_workspace_form, methods=["GET"]),
                Route("/workspaces/new", auth.new_workspace, methods=["POST"]),
                Route("/invites/{token:str}", auth.invite, methods=["GET"]),
                Route("/invites/{token:str}", auth.accept_invite, methods=["POST"]),
                Route(ws + "/links", links.list_links, methods=["GET"]),
                Route(ws + "/links", links.create_link, methods=["POST"]),
                Route(ws + "/links/new", links.new_link_form, methods=["GET"]),
                Route(ws + "/links/bulk", links.bulk, methods=["POST"]),
                Route(ws + "/links/metadata", links.metadata, methods=["GET"]),
                Route(ws + "/links/qr-preview.svg", links.builder_qr, methods=["GET"]),
                Route(ws + "/links/export.csv", imports.export_links, methods=["GET"]),
                Route(ws + "/imports", imports.imports_page, methods=["GET"]),
                Route(ws + "/imports", imports.start_import, methods=["POST"]),
                Route(ws + "/imports/preview", imports.preview, methods=["POST"]),
                Route(ws + "/imports/{import_id:str}", imports.import_detail, methods=["GET"]),
                Route(ws + "/imports/{import_id:str}/report.csv", imports.import_report, methods=["GET"]),
                Route(ws + "/links/{link_id:str}", links.link_detail, methods=["GET"]),
                Route(ws + "/links/{link_id:str}", links.update_link, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/delete", links.delete_link, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/state", links.change_state, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/targeting", link_targeting.targeting_page, methods=["GET"]),
                Route(ws + "/links/{link_id:str}/targeting/access", link_targeting.save_access, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/targeting/rules", link_targeting.save_rules, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/targeting/variants", link_targeting.save_variants, methods=["POST"]),
                Route(
                    ws + "/links/{link_id:str}/targeting/variants/{n:str}/promote",
                    link_targeting.promote,
                    methods=["POST"],
                ),
                Route(ws + "/links/{link_id:str}/targeting/preview", link_targeting.save_preview, methods=["POST"]),
                Route(ws + "/links/{link_id:str}/qr", links.qr_preview, methods=["GET"]),
                Route(ws + "/links/{link_id:str}/qr.svg", links.qr_svg, methods=["GET"]),
                Route(ws + "/links/{link_id:str}/qr.png", links.qr_png, methods=["GET"]),
                Route(ws + "/tags", tags.list_tags, methods=["GET"]),
                Route(ws + "/tags", tags.create_tag, methods=["POST"]),
                Route(ws + "/tags/{tag_id:str}", tags.update_tag, methods=["POST"]),
                Route(ws + "/tags/{tag_id:str}/delete", tags.delete_tag, methods=["POST"]),
                Route(ws + "/qr", qr.qr_style, methods=["GET"]),
                Route(ws + "/qr", qr.save_qr_style, methods=["POST"]),
                Route(ws + "/qr/preview.svg", qr.preview, methods=["GET"]),
                Route("/bio-presets/{preset:str}.svg", bio.preset_image, methods=["GET"]),
                Route(ws + "/bio", bio.list_bio_pages, methods=["GET"]),
                Route(ws + "/bio", bio.create_bio_page, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}", bio.edit_bio_page, methods=["GET"]),
                Route(ws + "/bio/{bio_id:str}", bio.save_bio_page, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/preview", bio.preview, methods=["GET"]),
                Route(ws + "/bio/{bio_id:str}/preview", bio.live_preview, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/delete", bio.delete_bio_page, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/blocks", bio.add_block, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/order", bio.reorder_blocks, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/blocks/{block_id:str}", bio.update_block, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/blocks/{block_id:str}/move", bio.move_block, methods=["POST"]),
                Route(ws + "/bio/{bio_id:str}/blocks/{block_id:str}/delete", bio.delete_block, methods=["POST"]),
                Route(ws + "/analytics", analytics.workspace_analytics, methods=["GET"]),
                Route(ws + "/analytics.csv", analytics.analytics_csv, methods=["GET"]),
                Route(ws + "/analytics/breakdown", analytics.breakdown, methods=["GET"]),
                Route(ws + "/analytics/map", analytics.world_map, methods=["GET"]),
                Route(ws + "/links/{link_id:str}/clicks/delete", analytics.clear_link_clicks, methods=["POST"]),
                Route(ws + "/webhooks", webhooks.list_webhooks, methods=["GET"]),
                Route(ws + "/webhooks", webhooks.create_webhook, methods=["POST"]),
                Route(ws + "/webhooks/{webhook_id:str}", webhooks.webhook_detail, methods=["GET"]),
                Route(ws + "/webhooks/{webhook_id:str}", webhooks.update_webhook, methods=["POST"]),
                Route(ws + "/webhooks/{webhook_id:str}/test", webhooks.send_test, methods=["POST"]),
                Route(ws + "/webhooks/{webhook_id:str}/rotate", webhooks.rotate_secret, methods=["POST"]),
                Route(ws + "/webhooks/{webhook_id:str}/delete", webhooks.delete_webhook, methods=["POST"]),
                Route(
                    ws + "/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}",
                    webhooks.delivery_detail,
                    methods=["GET"],
                ),
                Route(
                    ws + "/webhooks/{webhook_id:str}/deliveries/{delivery_id:str}/retry",
                    webhooks.retry_delivery,
                    methods=["POST"],
                ),
                Route(ws + "/domains", domains.list_domains, methods=["GET"]),
                Route(ws + "/domains", domains.add_domain, methods=["POST"]),
                Route(ws + "/domains/{domain_id:str}", domains.domain_detail, methods=["GET"]),
                Route(ws + "/domains/{domain_id:str}", domains.save_domain, methods=["POST"]),
                Route(ws + "/domains/{domain_id:str}/verify", domains.check_domain, methods=["POST"]),
                Route(ws + "/domains/{domain_id:str}/delete", domains.remove_domain, methods=["POST"]),
                Route(ws + "/settings", settings.workspace_settings, methods=["GET"]),
                Route(ws + "/settings", settings.rename_workspace, methods=["POST"]),
                Route(ws + "/settings/invites", settings.create_invite, methods=["POST"]),
                Route(ws + "/settings/two-factor", two_factor.require, methods=["POST"]),
                Route(ws + "/settings/invites/{invite_id:str}/revoke", settings.revoke_invite, methods=["POST"]),
                Route(ws + "/settings/members/{user_id:str}/remove", settings.remove_member, methods=["POST"]),
                Route(ws + "/settings/members/{user_id:str}/role", settings.change_role, methods=["POST"]),
                Route(ws + "/audit", audit.audit_log, methods=["GET"]),
                Route(ws + "/settings/keys", settings.api_keys, methods=["GET"]),
                Route(ws + "/settings/keys", settings.create_api_key, methods=["POST"]),
                Route(ws + "/settings/keys/{key_id:str}/revoke", settings.revoke_api_key, methods=["POST"]),
                Route(ws + "/settings/default-domain", domains.set_default_domain, methods=["POST"]),
                Route(ws + "/settings/shared-dashboards", shared_dashboards.list_shared_dashboards, methods=["GET"]),
                Route(ws + "/settings/shared-dashboards", shared_dashboards.create_shared_dashboard, methods=["POST"]),
                Route(
                    ws + "/settings/shared-dashboards/{dashboard_id:str}/rotate",
                    shared_dashboards.rotate_shared_dashboard,
                    methods=["POST"],
                ),
                Route(
                    ws + "/settings/shared-dashboards/{dashboard_id:str}/password",
                    shared_dashboards.set_password,
                    methods=["POST"],
                ),
                Route(
                    ws + "/settings/shared-dashboards/{dashboard_id:str}/revoke",
                    shared_dashboards.revoke_shared_dashboard,
                    methods=["POST"],
                ),
            ],
        ),
    ]


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 500:
        logger.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    title, message = {
        404: ("Not found", "There is no page at this address."),
        405: ("Not allowed", "This page does not accept that kind of request."),
    }.get(status, ("Something is wrong", "The request could not be handled."))
    templates: jinja2.Environment = request.app.state.templates
    html = templates.get_template("error.html").render(
        page=None,
        request=request,
        user=None,
        access=None,
        workspaces=[],
        csrf_token="",
        notice=None,
        errors={},
        values={},
        title=title,
        message=message,
        short_domain="",
        email=None,
    )
    return HTMLResponse(html, status_code=status)


def create_dashboard(
    context: AppContext,
    *,
    rate_limiter: Limiter | None,
    page_client: Callable[[], httpx.AsyncClient] | None = None,
) -> ASGIApp:
    """The dashboard app; it expects full paths (`/app/...`, and `/` for the front page). `rate_limiter`: the
    API's, whose counts the workspace settings page shows. `page_client`: the SSRF-guarded client of
    GET /v1/links/metadata, for the link builder's "Fetch from page" (mask.bootstrap)."""
    app = Starlette(routes=routes(), exception_handlers={404: _error, 405: _error, Exception: _error})
    app.state.context = context
    app.state.rate_limiter = rate_limiter
    app.state.page_client = page_client  # None: the builder cannot fetch pages (never an unguarded client)
    templates = build_templates()
    templates.globals["extra_nav"] = extra_nav()
    templates.globals["all_scope_count"] = len(ALL_SCOPES)
    app.state.templates = templates
    return SecurityHeaders(app, context.settings)


def extra_nav() -> list[tuple[str, str]]:
    """Sidebar entries (path under the workspace, label) of the areas beyond links and domains."""
    return [("analytics", "Analytics"), ("tags", "Tags"), ("qr", "QR style"), ("bio", "Bio pages")]
