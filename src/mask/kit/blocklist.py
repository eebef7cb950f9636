"""Destination blocklists: reading the common formats, and the keys a destination is looked up by.

An entry is either a host name (`evil.example`: blocks it and every subdomain) or a URL without its scheme
(`evil.example/phish/`: blocks it and every path under it, over http and https alike). Host names never
contain `/`; URL keys always do, so both live in one column and one `IN (…)` finds either.

Formats, detected line by line (a file may mix them):
- plain lists: one host name or URL a line (`*.`, `||…^` and a trailing `.` are tolerated);
- hosts files: `0.0.0.0 evil.example other.example` (`127.0.0.1`, `::1`, … too); `localhost` and its kin are
  skipped;
- URLhaus CSV: `"id","dateadded","url","url_status",…`, quoted; the URL is the third field.
`#`, `!` and `;` start comments. A line that fits no format is reported, never fatal: lists in the wild are messy.
"""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ada_url

# Hosts files start with these; they must never be taken for a blocked destination.
HOSTS_FILE_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",  # noqa: S104  (a name in hosts files, never bound)
    }
)
SINK_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "0", "255.255.255.255", "fe80::1%lo0"})  # noqa: S104
MAX_PATH_DEPTH = 16  # ancestors of a destination's path looked up; deeper paths are matched by their first 16
MAX_KEY_LENGTH = 400


@dataclass
class Parsed:
    entries: set[str] = field(default_factory=set)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)
    lines: int = 0


class BadEntry(ValueError):
    pass


def _is_ip(host: str) -> bool:
    if ":" not in host and not host[-1:].isdigit():
        return False  # neither IPv6 nor dotted IPv4 (which ends in a digit): a name, without raising ValueError
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_key(raw: str) -> str:
    """A host name entry: punycode, lower case, no trailing dot; at least two labels unless an IP address."""
    text = raw.strip().lower().rstrip(".")
    if text.startswith("||"):
        text = text[2:]
    text = text.rstrip("^")
    if text.startswith("*."):
        text = text[2:]
    if not text or any(char in text for char in "/?#@ \t*\\"):
        raise BadEntry("not a host name")
    try:
        host = ada_url.URL(f"http://{text}/").hostname.lower().rstrip(".")
    except ValueError as error:
        raise BadEntry("not a host name") from error
    if _is_ip(host):
        return host
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not all(0 < len(label) <= 63 for label in labels):
        raise BadEntry("not a host name with at least two labels")
    return host


def url_key(raw: str) -> str:
    """A URL entry: host[:port] + path (+ `?query`), without scheme and fragment; http(s) only."""
    text = raw.strip()
    if "://" not in text:
        raise BadEntry("not a URL")
    try:
        url = ada_url.URL(text)
    except ValueError as error:
        raise BadEntry("not a valid URL") from error
    if url.protocol not in ("http:", "https:") or not url.hostname:
        raise BadEntry("not an http(s) URL")
    key = url.host.lower() + url.pathname + url.search
    if len(key) > MAX_KEY_LENGTH:
        raise BadEntry("URL too long")
    return key


def _entry(text: str) -> str:
    return url_key(text) if "://" in text else host_key(text)


def parse(text: str) -> Parsed:
    """Every entry of a list in any of the formats above, and the lines that fit none."""
    parsed = Parsed()
    for number, raw in enumerate(text.splitlines(), start=1):
        parsed.lines += 1
        line = raw.strip().lstrip("\ufeff")
        if not line or line[0] in "#!;[":
            continue
        try:
            if line.startswith('"'):
                parsed.entries.add(_csv_entry(line))
                continue
            if " #" in line or "\t#" in line:
                line = line.split("#", 1)[0].strip()
            words = line.split()
            if len(words) >= 2 and (words[0] in SINK_ADDRESSES or _is_ip(words[0])):
                for name in words[1:]:
                    if name.lower() not in HOSTS_FILE_NAMES:
                        parsed.entries.add(host_key(name))
                continue
            if len(words) != 1:
                raise BadEntry("more than one word, and not a hosts-file line")
            parsed.entries.add(_entry(words[0]))
        except BadEntry as problem:
            parsed.problems.append((number, str(problem)))
    return parsed


def _csv_entry(line: str) -> str:
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration) as error:
        raise BadEntry("malformed CSV") from error
    if len(row) < 3:
        raise BadEntry("a CSV line needs the URL in its third field")
    return url_key(row[2])


def candidates(href: str) -> list[str]:
    """The keys that block the (already normalised) destination `href`: its host and parent domains, the URL
    itself and every ancestor of its path."""
    parts = urlsplit(href)
    hostname = (parts.hostname or "").lower().rstrip(".")
    if not hostname:
        return []
    keys: list[str] = []
    if _is_ip(hostname):
        keys.append(hostname if ":" not in hostname else f"[{hostname}]")
    else:
        labels = hostname.split(".")
        keys.extend(".".join(labels[index:]) for index in range(len(labels) - 1))
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    path = parts.path or "/"
    if parts.query:
        keys.append(f"{host}{path}?{parts.query}")
    keys.append(host + path)
    segments = path.split("/")[1 : MAX_PATH_DEPTH + 1]
    for depth in range(len(segments) - 1, -1, -1):
        prefix = "/" + "/".join(segments[:depth])
        keys.append(host + prefix)
        if depth:
            keys.append(host + prefix + "/")
    return [key for key in dict.fromkeys(keys) if len(key) <= MAX_KEY_LENGTH]
