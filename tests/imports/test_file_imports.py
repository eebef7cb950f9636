"""`POST /v1/imports` with a file: every source's columns, the options, bad input row by row, the report,
tenant isolation, and the round trip through MASK's own export."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.imports import ImportedLinkStats
from tests.conftest import Tenant, TenantFactory
from tests.domains import verify_domain
from tests.imports.helpers import all_links, report, run, start

KEYS = (
    "slug",
    "domain",
    "url",
    "title",
    "notes",
    "external_id",
    "tags",
    "utm_source",
    "archived",
    "disabled",
    "expires_at",
    "expired_url",
    "created_at",
)


def essence(link: dict[str, Any]) -> dict[str, Any]:
    return {key: link[key] for key in KEYS}


async def test_a_mask_export_imports_back_into_the_same_links(client: httpx.AsyncClient, tenant: Tenant) -> None:
    items = [
        {"url": "https://example.com/1", "slug": "one", "title": '=HYPERLINK("x")', "tags": ["a", "b"]},
        {"url": "https://example.com/2", "slug": "two", "notes": "line\nbreak, comma", "tags": ["x,y"]},
        {"url": "https://example.com/3?q=1&r=2", "title": "'quoted", "utm_source": "-mail", "archived": True},
        {"url": "https://example.com/4", "external_id": "crm-4", "title": "Café ünïcödé 🎉", "disabled": True},
        {
            "url": "https://example.com/5",
            "expires_at": "2099-01-01T00:00:00Z",
            "expired_url": "https://example.com/gone",
        },
    ]
    await client.post("/v1/links/bulk", json={"links": items}, headers=tenant.headers)
    before = sorted((essence(link) for link in await all_links(client, tenant)), key=lambda link: link["url"])
    exported = (await client.get("/v1/links/export?archived=all", headers=tenant.headers)).content
    ids = [link["id"] for link in await all_links(client, tenant)]
    await client.request("DELETE", "/v1/links/bulk", json={"ids": ids}, headers=tenant.headers)
    job = await run(client, tenant, exported, source="mask-csv")
    assert job["status"] == "completed" and job["counts"]["created"] == 5, job
    assert job["progress"] == {"done": 5, "total": 5}
    after = sorted((essence(link) for link in await all_links(client, tenant)), key=lambda link: link["url"])
    assert after == before


async def test_bitly_csv_rows_keep_their_back_halves_on_the_mapped_domain_with_clicks_apart(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await verify_domain(app, tenant, "go.brand.test")
    content = (
        b"Title,Long URL,Bitly link,Custom Bitly link,Date Created,Tags,Clicks\r\n"
        b"Spring,https://shop.example/spring,https://bit.ly/3abcDEF,go.brand.test/spring,2021-06-01T10:00:00+0000,"
        b'"sale,spring",1204\r\n'
        b"Plain,https://shop.example/plain,bit.ly/2xyz,,2020-01-02 03:04:05,,7\r\n"
    )
    job = await run(client, tenant, content, source="bitly-csv", domains={"bit.ly": "go.brand.test"})
    assert job["counts"] == {"created": 2, "updated": 0, "skipped": 0, "failed": 0}, job
    links = {link["slug"]: link for link in await all_links(client, tenant)}
    assert links["spring"]["short_url"] == "https://go.brand.test/spring"
    assert links["spring"]["tags"] == ["sale", "spring"] and links["spring"]["title"] == "Spring"
    assert links["spring"]["created_at"] == "2021-06-01T10:00:00Z"
    assert links["2xyz"]["domain"] == "go.brand.test" and links["2xyz"]["created_at"] == "2020-01-02T03:04:05Z"
    assert links["spring"]["clicks"] == 0  # what Bitly counted is never mixed into MASK's own clicks
    async with session_scope(app.context.sessionmaker) as session:
        stats = {row.link_id: row for row in (await session.execute(select(ImportedLinkStats))).scalars()}
    assert stats[links["spring"]["id"]].clicks == 1204 and stats[links["spring"]["id"]].source == "bitly-csv"
    assert stats[links["spring"]["id"]].original_short_url == "https://go.brand.test/spring"


SAMPLES = {
    "dub-csv": "link,url,clicks,createdAt,tags\nhttps://dub.sh/dub1,https://example.com/d,5,2024-01-01T00:00:00.000Z,x\n",
    "shlink-csv": "createdAt,domain,shortCode,shortUrl,longUrl,title,tags,visits\n"
    "2023-05-01T10:00:00+02:00,,shl1,https://s.test/shl1,https://example.com/s,Shlink,a|b,3\n",
    "yourls-csv": "keyword,url,title,timestamp,ip,clicks\n"
    "you1,https://example.com/y,YOURLS,2019-03-04 05:06:07,1.2.3.4,9\n",
    "kutt-csv": "address,target,description,visit_count,created_at\n"
    "kut1,https://example.com/k,Kutt,2,2022-02-02T02:02:02Z\n",
}


async def test_each_shorteners_export_format_is_read(client: httpx.AsyncClient, make_tenant: TenantFactory) -> None:
    for source, text in SAMPLES.items():
        tenant = await make_tenant()
        job = await run(client, tenant, text.encode(), source=source)
        assert job["counts"]["created"] == 1, (source, job)
        [link] = await all_links(client, tenant)
        assert link["slug"][:3] == source[:3] and link["url"].startswith("https://example.com/"), source
        if source == "shlink-csv":
            assert link["tags"] == ["a", "b"] and link["created_at"] == "2023-05-01T08:00:00Z"


async def test_a_generic_csv_needs_a_mapping_and_a_header_with_the_url(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    content = b"Ziel;Code;Name\nhttps://example.com/g;gen;Generic\n"
    no_mapping = await start(client, tenant, content, source="csv")
    assert no_mapping.status_code == 422 and no_mapping.json()["error"]["errors"][0]["param"] == "mapping"
    wrong = await start(client, tenant, content, source="csv", mapping={"url": "Target"})
    assert wrong.status_code == 422 and wrong.json()["error"]["errors"][0]["code"] == "missing_columns"
    bitly_header = await start(client, tenant, content, source="bitly-csv")
    assert bitly_header.status_code == 422
    job = await run(client, tenant, content, source="csv", mapping={"url": "Ziel", "slug": "Code", "title": "Name"})
    assert job["counts"]["created"] == 1
    [link] = await all_links(client, tenant)
    assert (link["slug"], link["title"]) == ("gen", "Generic")


async def test_bad_rows_are_refused_one_by_one_with_their_reason_and_the_rest_imported(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    content = (
        b"\xef\xbb\xbfurl;slug;title\r\n"
        b"https://example.com/ok;ok;Fine\r\n"
        b"javascript:alert(1);js;Bad\n"
        b"http://localhost:8000/x;loop;Loop\r"
        b"https://example.com/latin;latin;Caf\xe9\r\n"
        b"https://example.com/formula;formula;=cmd|' /C calc'!A0\n"
        b"https://example.com/many;many;a;b;c\n"
        b"https://example.com/reserved;v1;Reserved\n"
        b"not a url;nourl;x\n"
        b"https://example.com/dup;ok;Duplicate\n"
        b'"https://example.com/open;open;unclosed\n'
    )
    job = await run(client, tenant, content, source="csv", mapping={"url": "url", "slug": "slug", "title": "title"})
    assert job["status"] == "completed", job
    links = {link["slug"]: link for link in await all_links(client, tenant)}
    assert set(links) == {"ok", "formula", "latin"}
    assert links["latin"]["title"] == "Café"  # not UTF-8: the file is read as Windows-1252
    assert links["formula"]["title"] == "=cmd|' /C calc'!A0"
    lines = {int(line["row"]): line for line in await report(client, tenant, job["id"])}
    assert lines[2]["code"] == "invalid_scheme" or lines[2]["param"] == "url"
    assert lines[3]["code"] == "redirect_loop"
    assert lines[6]["code"] == "malformed_row"
    assert lines[7]["code"] == "reserved_slug"
    assert lines[8]["param"] == "url"
    assert lines[9]["outcome"] == "skipped" and lines[9]["code"] == "slug_taken"
    assert lines[10]["code"] == "malformed_row" and "CSV" in lines[10]["message"]
    assert job["counts"]["created"] + job["counts"]["failed"] + job["counts"]["skipped"] == job["progress"]["done"]


async def test_a_latin1_file_is_read_as_windows_1252(client: httpx.AsyncClient, tenant: Tenant) -> None:
    content = "url,slug,title\nhttps://example.com/c,cafe,Café – déjà vu\n".encode("cp1252")
    job = await run(client, tenant, content, source="mask-csv")
    assert job["counts"]["created"] == 1
    [link] = await all_links(client, tenant)
    assert link["title"] == "Café – déjà vu"


async def test_a_dry_run_reports_everything_and_writes_nothing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    content = b"url,slug\nhttps://example.com/a,a\njavascript:x,b\n"
    job = await run(client, tenant, content, source="mask-csv", dry_run=True)
    assert job["dry_run"] is True and job["counts"] == {"created": 1, "updated": 0, "skipped": 0, "failed": 1}
    assert await all_links(client, tenant) == []
    assert [line["row"] for line in await report(client, tenant, job["id"])] == ["2"]


async def test_conflicts_skip_rename_or_overwrite_but_never_anothers_link(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    ours, theirs = await make_tenant(), await make_tenant()
    await client.post("/v1/links", json={"url": "https://old.example/", "slug": "mine"}, headers=ours.headers)
    await client.post("/v1/links", json={"url": "https://theirs.example/", "slug": "theirs"}, headers=theirs.headers)
    content = b"url,slug,title\nhttps://new.example/,mine,New\nhttps://new.example/t,theirs,Grab\n"
    skipped = await run(client, ours, content, source="mask-csv", on_conflict="skip")
    assert skipped["counts"]["skipped"] == 2
    renamed = await run(client, ours, content, source="mask-csv", on_conflict="rename")
    assert renamed["counts"]["created"] == 2
    notes = await report(client, ours, renamed["id"])
    assert [line["outcome"] for line in notes] == ["renamed", "renamed"]
    overwritten = await run(client, ours, content, source="mask-csv", on_conflict="overwrite")
    assert overwritten["counts"]["updated"] == 1 and overwritten["counts"]["failed"] == 1
    mine = (await client.get("/v1/links/info?slug=mine", headers=ours.headers)).json()
    assert (mine["url"], mine["title"]) == ("https://new.example/", "New")
    their_link = (await client.get("/v1/links/info?slug=theirs", headers=theirs.headers)).json()
    assert their_link["url"] == "https://theirs.example/"


async def test_another_workspaces_import_and_report_are_not_found(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    ours, theirs = await make_tenant(), await make_tenant()
    job = await run(client, theirs, b"url\nhttps://example.com/\n", source="mask-csv")
    assert (await client.get(f"/v1/imports/{job['id']}", headers=ours.headers)).status_code == 404
    assert (await client.get(f"/v1/imports/{job['id']}/report", headers=ours.headers)).status_code == 404
    assert (await client.get("/v1/imports", headers=ours.headers)).json()["data"] == []
    reader = await make_tenant(scopes=["links:read"])
    refused = await start(client, reader, b"url\nhttps://example.com/\n", source="mask-csv")
    assert refused.status_code == 403


async def test_options_are_checked_before_the_job_starts(client: httpx.AsyncClient, tenant: Tenant) -> None:
    content = b"url\nhttps://example.com/\n"
    unknown = await start(client, tenant, content, source="mask-csv", domains={"bit.ly": "not-ours.example"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["errors"][0] == {
        "param": "domains.bit.ly",
        "code": "unknown_domain",
        "message": "`not-ours.example` is neither the default short domain nor one of this workspace's domains.",
    }
    assert (await start(client, tenant, content, source="nope")).status_code == 422
    assert (await start(client, tenant, b"", source="mask-csv")).json()["error"]["errors"][0]["code"] == "empty_file"
    no_file = await client.post("/v1/imports", json={"source": "mask-csv"}, headers=tenant.headers)
    assert no_file.status_code == 422 and no_file.json()["error"]["errors"][0]["param"] == "file"
    no_token = await client.post("/v1/imports", json={"source": "bitly"}, headers=tenant.headers)
    assert no_token.json()["error"]["errors"][0]["param"] == "token"
    too_big = await client.post(
        "/v1/imports",
        content=b"x" * 10,
        headers={**tenant.headers, "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "60000000"},
    )
    assert too_big.status_code == 413


async def test_naughty_strings_in_every_text_column_are_stored_exactly_or_refused_by_row(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    import csv
    import io
    import json

    from tests.conftest import corpus_path

    naughty: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["url", "slug", "title", "notes", "external_id", "tags", "utm_source"])
    for number, text in enumerate(naughty):
        writer.writerow([f"https://example.com/{number}", text[:64], text, text, f"{number}-{text}", text[:50], text])
    job = await run(client, tenant, buffer.getvalue().encode("utf-8"), source="mask-csv", on_conflict="rename")
    assert job["status"] == "completed", job
    assert job["progress"]["done"] == job["progress"]["total"]
    counts = job["counts"]
    assert counts["created"] + counts["failed"] == job["progress"]["total"] and counts["created"] > 0
    refused = {int(line["row"]) for line in await report(client, tenant, job["id"]) if line["outcome"] == "failed"}
    links = {link["url"]: link for link in await all_links(client, tenant)}
    for number, text in enumerate(naughty):
        link = links.get(f"https://example.com/{number}")
        if link is None:
            assert number + 1 in refused, text
            continue
        # A leading ' is the export's formula escape; a blank cell is no value.
        unescaped = text[1:] if text.startswith("'") else text
        stored = unescaped if text.strip() and unescaped else None
        assert link["title"] == stored and link["notes"] == stored and link["utm_source"] == stored, text


async def test_a_json_body_carries_the_file_as_text(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/imports",
        json={"source": "mask-csv", "file_content": "url,slug\nhttps://example.com/j,json\n"},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    from tests.imports.helpers import finished

    job = await finished(client, tenant, response.json()["id"])
    assert job["counts"]["created"] == 1
    assert [link["slug"] for link in await all_links(client, tenant)] == ["json"]


async def test_rows_naming_no_domain_go_to_the_workspaces_default_domain(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """The default domain is looked up once per batch (the runner's session holds no workspace row) and every
    row without a domain of its own lands there; a row naming the short domain keeps it."""
    await verify_domain(app, tenant, "go.brand.test")
    chosen = await client.patch("/v1/workspace", json={"default_domain": "go.brand.test"}, headers=tenant.headers)
    assert chosen.status_code == 200, chosen.text
    lines = ["url,slug,domain"] + [f"https://example.com/{n},d{n}," for n in range(30)]
    lines.append("https://example.com/short,kept,localhost:8000")
    job = await run(client, tenant, "\n".join(lines).encode(), source="mask-csv")
    assert job["counts"]["created"] == 31, job
    domains = {link["slug"]: link["domain"] for link in await all_links(client, tenant)}
    assert domains.pop("kept") == "localhost:8000"
    assert set(domains.values()) == {"go.brand.test"} and len(domains) == 30
