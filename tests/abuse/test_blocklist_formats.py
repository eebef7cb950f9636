"""Blocklists as found in the wild: plain lists, hosts files, URLhaus CSV, each with malformed lines that are
reported and skipped, never fatal; and the keys a destination is looked up by."""

from __future__ import annotations

import pytest

from mask.kit.blocklist import candidates, parse

PLAIN = """\ufeff# a plain list
evil.example
  Phish.Example.\t
*.wild.example
||adblock.example^
http://login.bank-secure.example/verify?id=1
https://files.example/payload/
bücher-phish.example
not a domain
nodot
javascript:alert(1)
ftp://files.example/x
-bad-.example/x
evil2.example # inline comment
"""

HOSTS = """# hosts file
127.0.0.1 localhost
127.0.0.1 localhost.localdomain
::1 localhost ip6-localhost ip6-loopback
255.255.255.255 broadcasthost
0.0.0.0 0.0.0.0
0.0.0.0 ads.example tracker.example   # two on a line
0.0.0.0\ttabbed.example
127.0.0.1 good.example
0.0.0.0 http://not-a-name.example/
0.0.0.0 bad..example
0.0.0.0 *bad*.example
"""

URLHAUS = """################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs)            #
################################################################
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3100001","2026-12-01 10:00:00","http://198.51.100.7/bins/mozi.m","online","2026-12-01 10:00:00","malware_download","elf,Mozi","https://urlhaus.abuse.ch/url/3100001/","lrz_urlhaus"
"3100002","2026-12-01 10:01:00","https://drop.example/file.exe","offline","","malware_download","exe","https://urlhaus.abuse.ch/url/3100002/","anon"
"3100003","2026-12-01 10:02:00"
"3100004","2026-12-01 10:03:00","not a url","online","","malware_download","","",""
"3100005","2026-12-01 10:04:00","ftp://drop.example/x","online","","","","",""
"3100006","2026-12-01 10:05:00","http://[2001:db8::1]/x.sh","online","","","","",""
"unterminated,"http://x
"""


def test_plain_list_entries_and_its_malformed_lines() -> None:
    parsed = parse(PLAIN)
    assert parsed.entries == {
        "evil.example",
        "phish.example",
        "wild.example",
        "adblock.example",
        "login.bank-secure.example/verify?id=1",
        "files.example/payload/",
        "xn--bcher-phish-thb.example",
        "evil2.example",
    }
    assert [number for number, _ in parsed.problems] == [9, 10, 11, 12, 13]


def test_hosts_file_entries_skip_localhost_and_report_bad_names() -> None:
    parsed = parse(HOSTS)
    assert parsed.entries == {"ads.example", "tracker.example", "tabbed.example", "good.example"}
    assert [number for number, _ in parsed.problems] == [10, 11, 12]


def test_urlhaus_csv_takes_the_third_field_and_reports_short_or_bad_rows() -> None:
    parsed = parse(URLHAUS)
    assert parsed.entries == {"198.51.100.7/bins/mozi.m", "drop.example/file.exe", "[2001:db8::1]/x.sh"}
    assert [number for number, _ in parsed.problems] == [7, 8, 9, 11]


def test_a_file_of_only_garbage_yields_nothing_and_every_line_reported() -> None:
    parsed = parse("\x00\x01\n<html>\n%%%\n")
    assert parsed.entries == set()
    assert len(parsed.problems) == 3


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://a.b.evil.example/", ["a.b.evil.example", "b.evil.example", "evil.example", "a.b.evil.example/"]),
        (
            "http://files.example:8080/x/y?q=1",
            [
                "files.example",
                "files.example:8080/x/y?q=1",
                "files.example:8080/x/y",
                "files.example:8080/x",
                "files.example:8080/x/",
                "files.example:8080/",
            ],
        ),
        ("http://[2001:db8::1]/x.sh", ["[2001:db8::1]", "[2001:db8::1]/x.sh", "[2001:db8::1]/"]),
    ],
)
def test_a_destination_is_looked_up_by_its_host_parents_and_path_ancestors(href: str, expected: list[str]) -> None:
    assert candidates(href) == expected
