"""Webhooks in the dashboard: through mask.webhook.service, secret shown once, live delivery log, retry."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mask.app import MaskApp
from tests.dashboard.conftest import Person, make_person
from tests.waiting import eventually
from tests.webhook.receiver import Receiver

SECRET = re.compile(r'id="webhook-secret"[^>]*value="(whsec_[^"]+)"')
WEBHOOK_LINK = re.compile(r'/webhooks/(wh_\w+)"')


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks_allow_private": True}  # the receiver listens on loopback


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


async def _webhook(person: Person, receiver: Receiver, events: list[str]) -> tuple[str, str]:
    created = await person.post(
        f"{person.base}/webhooks", {"url": receiver.url, "description": "test", "events": events}
    )
    assert created.status_code == 303, created.text
    shown = await person.http.get(created.headers["location"])
    secret = SECRET.search(shown.text)
    webhook = WEBHOOK_LINK.search(shown.text)
    assert secret and webhook
    receiver.secrets.append(secret.group(1))
    return webhook.group(1), secret.group(1)


async def test_a_webhook_made_in_the_dashboard_receives_signed_events(app: MaskApp, receiver: Receiver) -> None:
    person = await make_person(app, "ada@example.com")
    webhook_id, secret = await _webhook(person, receiver, ["link.created"])
    detail = await person.http.get(f"{person.base}/webhooks/{webhook_id}")
    assert detail.status_code == 200 and secret not in detail.text  # shown once
    assert (await person.post(f"{person.base}/webhooks/{webhook_id}/test")).status_code == 303
    assert (
        await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": "hooked"})
    ).status_code == 303
    await eventually(lambda: len(receiver.received) >= 2, message="two deliveries")
    assert all(item.verified for item in receiver.received)
    assert {payload["type"] for payload in receiver.payloads()} == {"ping", "link.created"}

    async def both_logged() -> bool:  # the outcome is recorded just after the receiver answers
        log = await person.http.get(f"{person.base}/webhooks/{webhook_id}")
        return log.text.count(">Delivered<") == 2 and "<code>200</code>" in log.text

    await eventually(both_logged, message="both deliveries in the log")
    partial = await person.http.get(
        f"{person.base}/webhooks/{webhook_id}", headers={"HX-Request": "true", "HX-Target": "div#webhook-live"}
    )
    # The status header and the log, refreshed together.
    assert partial.text.lstrip().startswith('<div id="webhook-live"') and "<html" not in partial.text
    assert 'id="webhook-status"' in partial.text and 'id="deliveries"' in partial.text


async def test_failed_deliveries_show_the_answer_and_can_be_retried(app: MaskApp, receiver: Receiver) -> None:
    person = await make_person(app, "ada@example.com")
    webhook_id, _ = await _webhook(person, receiver, ["link.created"])
    receiver.statuses = [500]
    await person.post(f"{person.base}/webhooks/{webhook_id}/test")
    await eventually(lambda: len(receiver.received) >= 1, message="the delivery")

    async def attempt_logged() -> bool:
        page = await person.http.get(f"{person.base}/webhooks/{webhook_id}")
        return "<code>500</code>" in page.text

    await eventually(attempt_logged, message="the attempt in the log")
    page = await person.http.get(f"{person.base}/webhooks/{webhook_id}")
    delivery = re.search(r"/deliveries/(whd_\w+)\"", page.text)
    assert delivery
    detail = await person.http.get(f"{person.base}/webhooks/{webhook_id}/deliveries/{delivery.group(1)}")
    assert detail.status_code == 200 and "500" in detail.text and '"type": "ping"' in html.unescape(detail.text)
    retried = await person.post(f"{person.base}/webhooks/{webhook_id}/deliveries/{delivery.group(1)}/retry")
    assert retried.status_code == 303
    await eventually(lambda: len(receiver.received) >= 2, message="two deliveries")


async def test_webhook_forms_explain_refusals_and_members_are_kept_out(app: MaskApp, receiver: Receiver) -> None:
    person = await make_person(app, "ada@example.com")
    no_events = await person.post(f"{person.base}/webhooks", {"url": receiver.url, "events": []})
    assert no_events.status_code == 422 and 'id="e-events"' in no_events.text
    bad_url = await person.post(f"{person.base}/webhooks", {"url": "ftp://example.com", "events": ["ping"]})
    assert bad_url.status_code == 422 and 'id="e-' in bad_url.text
    webhook_id, _ = await _webhook(person, receiver, ["link.created"])
    other = await make_person(app, "bob@example.com")
    assert (await other.http.get(f"{other.base}/webhooks/{webhook_id}")).status_code == 404
    assert (await other.post(f"{other.base}/webhooks/{webhook_id}/delete")).status_code == 404
    disabled = await person.post(
        f"{person.base}/webhooks/{webhook_id}", {"url": receiver.url, "events": ["link.created"]}
    )
    assert disabled.status_code == 303
    refused = await person.post(f"{person.base}/webhooks/{webhook_id}/test")
    assert refused.status_code == 409 and "disabled" in refused.text
    rotated = await person.post(f"{person.base}/webhooks/{webhook_id}/rotate")
    assert rotated.status_code == 303 and rotated.headers["location"] == f"{person.base}/webhooks/{webhook_id}"
    assert SECRET.search((await person.http.get(rotated.headers["location"])).text)
    assert not SECRET.search((await person.http.get(rotated.headers["location"])).text)  # once
    assert (await person.post(f"{person.base}/webhooks/{webhook_id}/delete")).status_code == 303
    assert (await person.http.get(f"{person.base}/webhooks/{webhook_id}")).status_code == 404
