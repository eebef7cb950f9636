from __future__ import annotations

import ipaddress

from mask.kit.net import client_ip

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def scope(peer: str, forwarded: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1), "headers": headers}


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    assert client_ip(scope("203.0.113.5", "1.2.3.4"), TRUSTED) == "203.0.113.5"
    assert client_ip(scope("203.0.113.5", "1.2.3.4"), ()) == "203.0.113.5"


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    assert client_ip(scope("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9"), TRUSTED) == "198.51.100.7"
    assert client_ip(scope("::1", "2001:db8::5"), TRUSTED) == "2001:db8::5"
    assert client_ip(scope("10.0.0.2", "[2001:db8::7]:443"), TRUSTED) == "2001:db8::7"


def test_garbage_forwarded_values_fall_back_to_the_peer() -> None:
    assert client_ip(scope("10.0.0.2", "<script>"), TRUSTED) == "10.0.0.2"
    assert client_ip(scope("10.0.0.2", "10.0.0.3"), TRUSTED) == "10.0.0.3"
