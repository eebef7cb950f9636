"""Two-factor sign-in: enrolment with a QR code, recovery codes, the code step of logging in, and a workspace
owner's requirement of it (mask.account.two_factor holds the rules)."""

from __future__ import annotations

import base64

from starlette.responses import Response

from mask.account import service as account_service
from mask.account import two_factor
from mask.dashboard import security
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError
from mask.kit.url import split_host
from mask.qr.render import QrOptions, render
from mask.workspace import service as workspace_service
from mask.workspace.permissions import Permission


def challenge_cookie(page: Page) -> str:
    return security.cookie_name(page.settings, "mask_2fa")


def _issuer(page: Page) -> str:
    return f"MASK ({split_host(page.settings.short_domain)[0]})"


async def _account_page(page: Page, *, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    required = page.request.query_params.get("required")
    requiring = next((item.workspace.name for item in page.workspaces if item.workspace.slug == required), None)
    values: dict[str, object] = {"errors": errors or {}, "requiring": requiring}
    if page.me.totp_enabled_at is None:
        enrolment = await two_factor.begin_enrolment(page.db, user=page.me, issuer=_issuer(page))
        svg = render(enrolment.uri, QrOptions(format="svg", size=220, margin=2, ecc="M"))
        values |= {
            "secret": " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
            "qr_data_uri": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
            "uri": enrolment.uri,
        }
    else:
        values["remaining"] = await two_factor.remaining_recovery_codes(page.db, user=page.me)
    return page.render("two_factor.html", status=status, headers={"Cache-Control": "no-store"}, **values)


@view()
async def two_factor_page(page: Page) -> Response:
    return await _account_page(page)


def _codes_page(page: Page, codes: list[str], *, first: bool) -> Response:
    return page.render("two_factor_codes.html", codes=codes, first=first, headers={"Cache-Control": "no-store"})


@view()
async def enable(page: Page) -> Response:
    try:
        codes = await two_factor.enable(page.db, user=page.me, code=await page.field("code"), ip=page.ip)
    except MaskError as error:
        raise Rerender(await _account_page(page, status=error.status_code, errors=field_errors(error))) from error
    return _codes_page(page, codes, first=True)


@view()
async def regenerate_codes(page: Page) -> Response:
    try:
        codes = await two_factor.regenerate_recovery_codes(
            page.db, user=page.me, code=await page.field("code"), ip=page.ip
        )
    except MaskError as error:
        raise Rerender(await _account_page(page, status=error.status_code, errors=field_errors(error))) from error
    return _codes_page(page, codes, first=False)


@view()
async def disable(page: Page) -> Response:
    try:
        await two_factor.disable(page.db, user=page.me, password=await page.field("password"), ip=page.ip)
    except MaskError as error:
        raise Rerender(await _account_page(page, status=error.status_code, errors=field_errors(error))) from error
    return page.redirect("/app/account/two-factor", done="two-factor-disabled")


# ---------------------------------------------------------------------------------------------------------------
# The code step of logging in


@view(login=False)
async def login_code_form(page: Page) -> Response:
    user = await two_factor.read_challenge(page.db, page.settings, page.request.cookies.get(challenge_cookie(page), ""))
    if user is None:
        return page.redirect("/app/login")
    next_url = security.safe_next(page.request.query_params.get("next")) or ""
    return page.render("auth/two_factor.html", next=next_url)


@view(login=False)
async def login_code(page: Page) -> Response:
    cookie = challenge_cookie(page)
    user = await two_factor.read_challenge(page.db, page.settings, page.request.cookies.get(cookie, ""))
    next_url = security.safe_next(await page.field("next"))
    if user is None:
        return page.redirect("/app/login")
    try:
        await two_factor.verify_sign_in(
            page.db, user=user, code=await page.field("code"), ip=page.ip, checkpoint=page.checkpoint
        )
    except MaskError as error:
        # A throttle reservation was committed before the code was checked: nothing else here to keep.
        raise Rerender(
            page.render(
                "auth/two_factor.html",
                status=error.status_code,
                headers=error.headers,
                errors=field_errors(error),
                next=next_url or "",
            )
        ) from error
    if page.user_session is not None:
        await account_service.end_session(page.db, session_id=page.user_session.id)
    started = await account_service.start_session(
        page.db, user=user, ip=page.ip, user_agent=page.request.headers.get("user-agent")
    )
    page.cookies.append((cookie, None, None))
    page.start_session(started.token)
    return page.redirect(next_url or "/app")


# ---------------------------------------------------------------------------------------------------------------
# A workspace's requirement


@view(workspace=True, permission=Permission.workspace_security)
async def require(page: Page) -> Response:
    wanted = await page.field("require_two_factor") == "on"
    try:
        await workspace_service.set_require_two_factor(
            page.db, workspace=page.ws.workspace, require=wanted, actor_enrolled=page.me.totp_enabled_at is not None
        )
    except MaskError as error:
        raise Rerender(
            page.render(
                "error.html",
                status=error.status_code,
                title="Two-factor sign-in",
                message=error.message,
            )
        ) from error
    return page.redirect(f"{page.base}/settings", done="two-factor-required" if wanted else "two-factor-optional")
