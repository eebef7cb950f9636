"""`/report` on every short domain: a public form to report a short link (its URL and a reason) to the operator.

Reports are stored (mask.abuse.service.report) for `mask abuse list`; at most MASK_REPORTS_PER_HOUR per network an
hour. CSRF-safe like the dashboard's logged-out forms: the token is an HMAC of a random cookie under
MASK_SECRET_KEY (signed double submit), and a request whose Fetch Metadata or Origin says "another site" is
refused. The page says nothing about the link (whether it exists, whose it is): it only takes the report.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from mask.abuse import service as abuse_service
from mask.config import Settings
from mask.db import session_scope
from mask.kit.errors import RateLimited
from mask.kit.net import client_ip, network_prefix

PATH = "/report"
REASON_LABELS = {
    "phishing": "Phishing (asks for passwords, bank or card details)",
    "malware": "Malware or a harmful download",
    "spam": "Spam",
    "illegal": "Illegal content",
    "other": "Something else",
}
HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex", "X-Frame-Options": "DENY"}


class ReportPage:
    def __init__(self, *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.trusted = settings.trusted_proxy_networks
        self.cookie = "__Host-mask_report" if settings.is_production else "mask_report"

    def _token(self, seed: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), b"report:" + seed.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if request.url.path.rstrip("/") != PATH:
            response: Response = _page(404, "Not found", "<p>There is nothing here.</p>")
        elif request.method in ("GET", "HEAD"):
            response = self._form(request, url=request.query_params.get("url", ""))
        elif request.method == "POST":
            response = await self._submit(request)
        else:
            response = _page(405, "Method not allowed", "<p>Use the form.</p>")
            response.headers["Allow"] = "GET, HEAD, POST"
        await response(scope, receive, send)

    def _form(
        self, request: Request, *, url: str = "", reason: str = "", details: str = "", error: str = ""
    ) -> Response:
        seed = request.cookies.get(self.cookie) or secrets.token_urlsafe(32)
        options = "".join(
            f'<option value="{value}"{" selected" if value == reason else ""}>{escape(label)}</option>'
            for value, label in REASON_LABELS.items()
        )
        body = f"""<p>Tell the operator of this service about a short link that leads somewhere harmful.</p>
{f'<p class="error" role="alert">{escape(error)}</p>' if error else ""}
<form method="post" action="{PATH}">
<input type="hidden" name="csrf_token" value="{self._token(seed)}">
<label>Short link<input name="short_url" type="text" required maxlength="2000" value="{escape(url[:2000])}"
 placeholder="https://{escape(request.headers.get("host", "short.example"))}/abc"></label>
<label>What is wrong with it<select name="reason" required>{options}</select></label>
<label>Details (optional)<textarea name="details" maxlength="2000" rows="4">{escape(details[:2000])}</textarea></label>
<button type="submit">Send report</button>
</form>"""
        response = _page(400 if error else 200, "Report a link", body)
        response.set_cookie(
            self.cookie,
            seed,
            max_age=3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.settings.is_production,
        )
        return response

    async def _submit(self, request: Request) -> Response:
        if _cross_site(request):
            return _page(403, "Report refused", "<p>Send the report from the form on this site.</p>")
        form = await request.form(max_files=0, max_fields=10)
        url, reason, details = (str(form.get(name) or "") for name in ("short_url", "reason", "details"))
        seed = request.cookies.get(self.cookie)
        given = str(form.get("csrf_token") or "")
        if not seed or not hmac.compare_digest(self._token(seed).encode(), given.encode()):
            return self._form(
                request, url=url, reason=reason, details=details, error="The form expired; send it again."
            )
        if not url.strip():
            return self._form(request, reason=reason, details=details, error="Give the short link you are reporting.")
        if reason not in REASON_LABELS:
            return self._form(request, url=url, details=details, error="Choose what is wrong with the link.")
        try:
            async with session_scope(self.sessionmaker) as session:
                await abuse_service.report(
                    session,
                    short_url=url,
                    reason=reason,
                    details=details,
                    host=request.headers.get("host", self.settings.short_domain).lower(),
                    ip_prefix=network_prefix(client_ip(request.scope, self.trusted)),
                    per_hour=self.settings.reports_per_hour,
                )
        except RateLimited as error:
            response = _page(429, "Too many reports", f"<p>{escape(error.message)}</p>")
            response.headers.update(error.headers or {})
            return response
        return _page(200, "Thank you", "<p>Your report was received. The operator of this service will look at it.</p>")


def _cross_site(request: Request) -> bool:
    """Whether the browser says the request comes from another site (Fetch Metadata, then Origin)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("host", "").lower()
    return origin.lower() not in (f"http://{host}", f"https://{host}")


def _page(status: int, title: str, body: str) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{escape(title)}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;color:#1f2328;display:grid;place-items:center;min-height:90vh;
margin:0}} main{{max-width:32rem;width:100%;padding:2rem}} h1{{font-size:1.5rem;margin:0 0 .5rem}}
label{{display:block;margin:.75rem 0}} input,select,textarea{{display:block;width:100%;font:inherit;
margin-top:.25rem;box-sizing:border-box}} .error{{color:#b42318}} p{{color:#59636e}}</style>
</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>
"""
    return HTMLResponse(html, status_code=status, headers=HEADERS)
