"""`mask_sdk.webhooks.verify` on what a real `mask serve` delivered to a real receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mask_sdk import WebhookVerificationError
from mask_sdk.models import LinkClickedEvent, LinkEvent, PingEvent
from mask_sdk.webhooks import verify

from tests.sdk.conftest import SdkServer, eventually
from tests.sdk.receiver import Delivery, Receiver

pytestmark = pytest.mark.slow

UNRELATED_SECRET = "whsec_" + "A" * 32


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def delivered(receiver: Receiver, event_type: str) -> Delivery:
    return eventually(lambda: receiver.events(event_type)[:1], message=f"a {event_type} delivery")[0]


def test_a_delivered_event_verifies_and_comes_back_typed(server: SdkServer, receiver: Receiver) -> None:
    with server.client(server.workspace().key) as client:
        webhook = client.webhooks.create(url=receiver.url, events=["link.created", "link.clicked"])
        link = client.links.create(url="https://example.com/watched", tags=["hooked"])

        created = delivered(receiver, "link.created")
        event = verify(created.body, created.headers, webhook.secret)
        assert isinstance(event, LinkEvent) and event.type == "link.created"
        assert event.data == link and event.workspace_id == link.workspace_id
        assert event.id == created.headers["webhook-id"]  # the id to deduplicate retried deliveries on

        server.click(link.short_url)
        clicked = delivered(receiver, "link.clicked")
        event = verify(clicked.body, {name.title(): value for name, value in clicked.headers.items()}, webhook.secret)
        assert isinstance(event, LinkClickedEvent)
        assert (event.data.link.id, event.data.click.link_id, event.data.click.is_bot) == (link.id, link.id, False)

    tampered = created.body.replace(b"hooked", b"hacked")
    assert tampered != created.body
    for body, headers, secret in (
        (tampered, created.headers, webhook.secret),  # the body changed on the way
        (created.body, created.headers, UNRELATED_SECRET),  # signed with another secret
        (created.body, {**created.headers, "webhook-id": "evt_other"}, webhook.secret),  # another message's id
        (created.body, {"content-type": "application/json"}, webhook.secret),  # no signature at all
    ):
        with pytest.raises(WebhookVerificationError):
            verify(body, headers, secret)


def test_both_secrets_verify_while_a_rotation_overlaps(server: SdkServer, receiver: Receiver) -> None:
    with server.client(server.workspace().key) as client:
        old = client.webhooks.create(url=receiver.url, events=["link.created"]).secret
        webhook = client.webhooks.rotate_secret(client.webhooks.list_page().data[0].id)
        new = webhook.secret
        sent = client.webhooks.send_test(webhook.id)

        ping = delivered(receiver, "ping")
        assert len(ping.headers["webhook-signature"].split(" ")) == 2  # signed with the new and the old secret
        for secrets in (new, old, [UNRELATED_SECRET, new], [new, old]):
            event = verify(ping.body, ping.headers, secrets)
            assert isinstance(event, PingEvent) and event.data.webhook_id == webhook.id
        with pytest.raises(WebhookVerificationError):
            verify(ping.body, ping.headers, [UNRELATED_SECRET])
        eventually(
            lambda: client.webhooks.deliveries.get(webhook.id, sent.id).status == "succeeded",
            message="the delivery recorded as succeeded",
        )


def test_verify_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one webhook secret"):
        verify(b"{}", {}, [])
