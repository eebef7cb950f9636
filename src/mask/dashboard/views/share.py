"""The public shared-dashboard page, `/share/<token>` (mask.shared_dashboard): one object's human clicks.

Public on purpose: no login; what the token opens is decided by mask.shared_dashboard.service. Every answer,
the 404 included, carries `X-Robots-Tag: noindex` and `Referrer-Policy: no-referrer` (the token is in the
URL: no outgoing request may carry it), and is never cached. An unknown, rotated, revoked or expired token, and a
page whose object was deleted, get the same 404 page. Nothing on the page links to the dashboard.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from mask.dashboard.web import Page, view
from mask.kit.net import is_secure
from mask.shared_dashboard import service as shared_dashboard_service

PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _render(page: Page, template: str, *, status: int = 200, **values: Any) -> Response:
    return page.render(template, status=status, headers=dict(PRIVATE_HEADERS), **values)


def _missing(page: Page) -> Response:
    return _render(page, "share/missing.html", status=404, heading="Not found")


def _set_cookie(page: Page, response: Response, token: str, value: str) -> None:
    response.set_cookie(
        shared_dashboard_service.COOKIE_NAME,
        value,
        max_age=7 * 24 * 3600,
        path=shared_dashboard_service.share_path(token),
        httponly=True,
        samesite="lax",
        secure=page.settings.is_production or is_secure(page.request.scope, page.settings.trusted_proxy_networks),
    )


@view(login=False)
async def not_a_page(page: Page) -> Response:
    """Any other address under /share/: the same 404 page."""
    return _missing(page)


@view(login=False)
async def shared_page(page: Page) -> Response:
    """The page: the password form first when it has one, else totals, the chart and the breakdowns."""
    token = page.request.path_params["token"]
    opened = await shared_dashboard_service.open_page(page.db, token=token)
    if opened is None:
        return _missing(page)
    cookie = page.request.cookies.get(shared_dashboard_service.COOKIE_NAME)
    if not shared_dashboard_service.unlocked(page.settings, opened.dashboard, cookie):
        return _render(page, "share/password.html", heading=opened.heading, action=page.request.url.path, problem=None)
    interval = page.request.query_params.get("interval", shared_dashboard_service.DEFAULT_INTERVAL)
    report = await shared_dashboard_service.report(page.db, page=opened, interval=interval)
    chart = {
        "granularity": report.granularity,
        "t": [point["start"] for point in report.series],
        "clicks": [point["clicks"] for point in report.series],
        "unique": [point["unique_clicks"] for point in report.series],
    }
    path = page.request.url.path
    return _render(
        page,
        "share/page.html",
        heading=opened.heading,
        report=report,
        chart_json=json.dumps(chart).replace("<", "\\u003c"),
        intervals=[(value, label, f"{path}?interval={value}") for value, label in shared_dashboard_service.INTERVALS],
    )


@view(login=False)
async def unlock(page: Page) -> Response:
    """The password form: a right password sets the page's cookie (an HMAC, never the password)."""
    token = page.request.path_params["token"]
    opened = await shared_dashboard_service.open_page(page.db, token=token)
    if opened is None:
        return _missing(page)
    path = shared_dashboard_service.share_path(token)
    try:
        right = await shared_dashboard_service.check_password(
            page.db,
            settings=page.settings,
            row=opened.dashboard,
            password=await page.field("password"),
            ip=page.ip,
            checkpoint=page.checkpoint,
        )
    except shared_dashboard_service.TooManyPasswordAttempts as error:
        response = _render(
            page, "share/password.html", status=429, heading=opened.heading, action=path, problem=error.message
        )
        response.headers.update(error.headers)
        return response
    if not right:
        return _render(
            page,
            "share/password.html",
            status=401,
            heading=opened.heading,
            action=path,
            problem="That password is not right.",
        )
    response = page.redirect(path)
    for name, value in PRIVATE_HEADERS.items():
        response.headers[name] = value
    _set_cookie(page, response, token, shared_dashboard_service.cookie_value(page.settings, opened.dashboard))
    return response
