"""Everything the dashboard changes, the API changes too: every form of the dashboard (each route that takes a
POST) is mapped here to the API operation that does the same, and that operation must exist in the API's OpenAPI
document. A new dashboard form without a mapping fails this test, and so does a mapping to an operation the API
no longer has, or to a form the dashboard no longer has.

A few forms are about the person signed in, not a workspace (logging in, their password): API keys belong to a
workspace and act for it, so those have no API operation, and say why.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from starlette.routing import BaseRoute, Mount, Route

from mask.dashboard.app import routes

WS = "/app/{workspace:str}"

# Dashboard form (POST path) → the API operations that change the same thing.
API_FOR_FORM: dict[str, list[tuple[str, str]]] = {
    f"{WS}/links": [("POST", "/v1/links")],
    f"{WS}/links/{{link_id:str}}": [("PATCH", "/v1/links/{link_id}")],
    f"{WS}/links/{{link_id:str}}/delete": [("DELETE", "/v1/links/{link_id}")],
    f"{WS}/links/{{link_id:str}}/state": [("PATCH", "/v1/links/{link_id}")],  # archived, disabled
    # The targeting page: each form is part of a link's PATCH; "Fetch from the page" is the metadata endpoint.
    f"{WS}/links/{{link_id:str}}/targeting/access": [("PATCH", "/v1/links/{link_id}")],
    f"{WS}/links/{{link_id:str}}/targeting/rules": [("PATCH", "/v1/links/{link_id}")],
    f"{WS}/links/{{link_id:str}}/targeting/variants": [("PATCH", "/v1/links/{link_id}")],
    f"{WS}/links/{{link_id:str}}/targeting/variants/{{n:str}}/promote": [
        ("POST", "/v1/links/{link_id}/variants/{n}/promote")
    ],
    f"{WS}/links/{{link_id:str}}/targeting/preview": [
        ("PATCH", "/v1/links/{link_id}"),
        ("GET", "/v1/links/metadata"),
    ],
    # The list's selection and row actions: archive, unarchive, add/remove a tag (PATCH), delete (DELETE).
    f"{WS}/links/bulk": [("PATCH", "/v1/links/bulk"), ("DELETE", "/v1/links/bulk")],
    f"{WS}/links/{{link_id:str}}/clicks/delete": [("DELETE", "/v1/links/{link_id}/clicks")],
    f"{WS}/tags": [("POST", "/v1/tags")],
    f"{WS}/tags/{{tag_id:str}}": [("PATCH", "/v1/tags/{tag_id}")],
    f"{WS}/tags/{{tag_id:str}}/delete": [("DELETE", "/v1/tags/{tag_id}")],
    f"{WS}/qr": [("PATCH", "/v1/qr-style"), ("PATCH", "/v1/workspace")],
    f"{WS}/bio": [("POST", "/v1/bio-pages")],
    f"{WS}/bio/{{bio_id:str}}": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/bio/{{bio_id:str}}/delete": [("DELETE", "/v1/bio-pages/{bio_page_id}")],
    # The preview of unsaved page settings, drawn and rolled back (nothing is kept): the API's PATCH, unsent.
    f"{WS}/bio/{{bio_id:str}}/preview": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    # The API sends a page's blocks whole (`blocks` in PATCH): adding, editing, moving, reordering, deleting one.
    f"{WS}/bio/{{bio_id:str}}/blocks": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/bio/{{bio_id:str}}/order": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/bio/{{bio_id:str}}/blocks/{{block_id:str}}": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/bio/{{bio_id:str}}/blocks/{{block_id:str}}/move": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/bio/{{bio_id:str}}/blocks/{{block_id:str}}/delete": [("PATCH", "/v1/bio-pages/{bio_page_id}")],
    f"{WS}/webhooks": [("POST", "/v1/webhooks")],
    f"{WS}/webhooks/{{webhook_id:str}}": [("PATCH", "/v1/webhooks/{webhook_id}")],
    f"{WS}/webhooks/{{webhook_id:str}}/test": [("POST", "/v1/webhooks/{webhook_id}/test")],
    f"{WS}/webhooks/{{webhook_id:str}}/rotate": [("POST", "/v1/webhooks/{webhook_id}/rotate-secret")],
    f"{WS}/webhooks/{{webhook_id:str}}/delete": [("DELETE", "/v1/webhooks/{webhook_id}")],
    f"{WS}/webhooks/{{webhook_id:str}}/deliveries/{{delivery_id:str}}/retry": [
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
    ],
    f"{WS}/domains": [("POST", "/v1/domains")],
    f"{WS}/domains/{{domain_id:str}}": [("PATCH", "/v1/domains/{domain_id}")],
    f"{WS}/domains/{{domain_id:str}}/verify": [("POST", "/v1/domains/{domain_id}/verify")],
    f"{WS}/domains/{{domain_id:str}}/delete": [("DELETE", "/v1/domains/{domain_id}")],
    f"{WS}/settings": [("PATCH", "/v1/workspace")],
    f"{WS}/settings/invites": [("POST", "/v1/invitations")],
    f"{WS}/settings/invites/{{invite_id:str}}/revoke": [("DELETE", "/v1/invitations/{invitation_id}")],
    f"{WS}/settings/members/{{user_id:str}}/remove": [("DELETE", "/v1/members/{user_id}")],
    f"{WS}/settings/members/{{user_id:str}}/role": [("PATCH", "/v1/members/{user_id}")],
    f"{WS}/settings/keys": [("POST", "/v1/keys")],
    f"{WS}/settings/keys/{{key_id:str}}/revoke": [("DELETE", "/v1/keys/{key_id}")],
    f"{WS}/settings/default-domain": [("PATCH", "/v1/workspace")],
    f"{WS}/settings/two-factor": [("PATCH", "/v1/workspace")],  # require_two_factor
    f"{WS}/imports": [("POST", "/v1/imports")],
    f"{WS}/settings/shared-dashboards": [("POST", "/v1/shared-dashboards")],
    f"{WS}/settings/shared-dashboards/{{dashboard_id:str}}/rotate": [
        ("POST", "/v1/shared-dashboards/{dashboard_id}/rotate")
    ],
    f"{WS}/settings/shared-dashboards/{{dashboard_id:str}}/password": [
        ("PATCH", "/v1/shared-dashboards/{dashboard_id}")
    ],
    f"{WS}/settings/shared-dashboards/{{dashboard_id:str}}/revoke": [
        ("DELETE", "/v1/shared-dashboards/{dashboard_id}")
    ],
    f"{WS}/imports/preview": [("POST", "/v1/imports")],  # the API previews with dry_run
}

# Forms about the person signed in, not about a workspace: no API key acts for them.
PERSONAL_FORMS: dict[str, str] = {
    "/app/login": "starts a browser session",
    "/app/logout": "ends a browser session",
    "/app/signup": "a person creates their account",
    "/app/verify/{token:str}": "a person confirms their e-mail address",
    "/app/password-reset": "a person asks to reset their password",
    "/app/password-reset/{token:str}": "a person sets a new password",
    "/app/account/profile": "a person's name, across their workspaces",
    "/app/account/password": "a person's password",
    "/app/account/verify": "a person's confirmation mail",
    "/app/workspaces/new": "a person's new workspace: a key belongs to one workspace and cannot make another",
    "/app/invites/{token:str}": "a person accepts an invitation (the API makes and withdraws them)",
    "/app/account/two-factor/enable": "a person's second factor (the API is key-only: no sign-in to protect)",
    "/app/account/two-factor/disable": "a person's second factor",
    "/app/account/two-factor/recovery-codes": "a person's recovery codes",
    "/app/login/two-factor": "the code step of a browser session's sign-in",
    "/share/{token:str}": "a visitor's password for a shared dashboard's public page (no workspace, no key)",
}


def _post_routes(found: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in found:
        if isinstance(route, Mount):
            yield from _post_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route) and "POST" in (route.methods or set()):
            yield prefix + route.path


async def test_every_dashboard_form_has_an_api_operation(client: httpx.AsyncClient) -> None:
    forms = set(_post_routes(routes()))
    assert len(forms) > 40
    unmapped = sorted(forms - set(API_FOR_FORM) - set(PERSONAL_FORMS))
    assert unmapped == [], "dashboard forms without an API operation: add one, and map it in API_FOR_FORM"
    stale = sorted((set(API_FOR_FORM) | set(PERSONAL_FORMS)) - forms)
    assert stale == [], "mappings for forms the dashboard no longer has"
    assert not set(API_FOR_FORM) & set(PERSONAL_FORMS)
    document = (await client.get("/v1/openapi.json")).json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    missing = sorted(
        (form, operation)
        for form, mapped in API_FOR_FORM.items()
        for operation in mapped
        if operation not in operations
    )
    assert missing == [], "mapped API operations that the API does not have"
