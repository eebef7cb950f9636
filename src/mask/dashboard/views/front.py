"""The front door: `/` on the app host is a public page about MASK itself (what it does, sign up, log in, the API
docs), not a redirect to a log-in form. With MASK_ROOT_URL set, mask.app sends `/` to the redirect app instead
(which answers with that URL), so this view is only reached when the operator has not chosen another front page."""

from __future__ import annotations

from starlette.responses import Response

from mask.dashboard.web import Page, view


@view(login=False)
async def front_page(page: Page) -> Response:
    """Public on purpose: anyone may read it; a signed-in person also gets a "Go to dashboard" link."""
    return page.render("front/index.html", signup_open=page.settings.signup == "open")
