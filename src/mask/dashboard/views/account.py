"""Account: profile, password, sessions."""

from __future__ import annotations

from starlette.responses import Response

from mask.account import service as account_service
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.dashboard.wording import humanize
from mask.kit.errors import MaskError


def _with_nav(page: Page) -> Page:
    """The account pages keep the side navigation every other page has: the user's first workspace's."""
    if page.access is None and page.workspaces:
        page.access = page.workspaces[0]
    return page


@view()
async def account(page: Page) -> Response:
    return _with_nav(page).render("account.html", values={"name": page.me.name or ""})


@view()
async def save_profile(page: Page) -> Response:
    name = await page.field("name")
    try:
        await account_service.update_profile(page.db, user=page.me, name=name)
    except MaskError as error:
        raise Rerender(
            _with_nav(page).render(
                "account.html", status=error.status_code, errors=field_errors(error), values={"name": name}
            )
        ) from error
    return page.redirect("/app/account", done="profile-saved")


@view()
async def change_password(page: Page) -> Response:
    assert page.user_session is not None
    try:
        await account_service.change_password(
            page.db,
            user=page.me,
            current_password=await page.field("current_password"),
            new_password=await page.field("new_password"),
            keep_session_id=page.user_session.id,
            ip=page.ip,
            checkpoint=page.checkpoint,
            settings=page.settings,
        )
    except account_service.LoginThrottled as error:
        raise Rerender(
            _with_nav(page).render(
                "account.html",
                status=error.status_code,
                headers=error.headers,
                errors={"current_password": humanize(error.message)},
                values={"name": page.me.name or ""},
            )
        ) from error
    except MaskError as error:
        # The attempt was reserved and committed before the password was checked: nothing here to keep.
        raise Rerender(
            _with_nav(page).render(
                "account.html",
                status=error.status_code,
                errors=field_errors(error),
                values={"name": page.me.name or ""},
            )
        ) from error
    return page.redirect("/app/account", done="password-changed")


@view()
async def resend_verification(page: Page) -> Response:
    try:
        await account_service.resend_verification(page.db, settings=page.settings, user=page.me)
    except MaskError as error:
        raise Rerender(
            _with_nav(page).render(
                "account.html",
                status=error.status_code,
                errors={"__all__": humanize(error.message)},
                values={"name": page.me.name or ""},
            )
        ) from error
    return page.redirect("/app/account", done="verification-sent")
