"""Imports and exports in the dashboard: upload, preview, live progress, report, the export button, isolation."""

from __future__ import annotations

import csv
import io

import httpx

from mask.app import MaskApp
from tests.dashboard.conftest import make_person
from tests.waiting import eventually

CONTENT = b"Title,Long URL,Bitly link\nOne,https://example.com/1,bit.ly/one\nBad,javascript:x,bit.ly/bad\n"


async def test_a_member_previews_imports_and_follows_a_file_then_exports_it(
    app: MaskApp, client: httpx.AsyncClient
) -> None:
    person = await make_person(app, "ada@example.com")
    token = await person.csrf(f"{person.base}/imports")
    form = {"csrf_token": token, "source": "bitly-csv", "on_conflict": "skip"}
    files = {"file": ("bitly.csv", CONTENT, "text/csv")}
    preview = await person.http.post(f"{person.base}/imports/preview", data=form, files=files)
    assert preview.status_code == 200
    assert '<th scope="col">Long URL</th>' in preview.text and "https://example.com/1" in preview.text
    assert "<strong>url</strong> ← “Long URL”" in preview.text
    started = await person.http.post(f"{person.base}/imports", data=form, files=files)
    assert started.status_code == 303, started.text
    detail_url = started.headers["location"]

    async def completed() -> bool:
        page = await person.http.get(detail_url, headers={"HX-Request": "true"})
        return "<strong>completed</strong>" in page.text

    await eventually(completed, message="the import completing")
    page = await person.http.get(detail_url)
    assert "1 created" in page.text and "1 refused" in page.text and "report.csv" in page.text
    report = await person.http.get(detail_url + "/report.csv")
    assert [row["row"] for row in csv.DictReader(io.StringIO(report.text))] == ["2"]
    exported = await person.http.get(f"{person.base}/links/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(row["slug"], row["title"]) for row in rows] == [("one", "One")]
    listing = await person.http.get(f"{person.base}/links")
    assert f'href="{person.base}/links/export.csv"' in listing.text

    other = await make_person(app, "bob@example.com")
    foreign = detail_url.replace(person.base, other.base)
    assert (await other.http.get(foreign)).status_code == 404
    assert (await other.http.get(foreign + "/report.csv")).status_code == 404
    assert (await other.http.get(detail_url)).status_code in (403, 404)


async def test_a_file_without_a_url_column_is_refused_on_the_page(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    token = await person.csrf(f"{person.base}/imports")
    response = await person.http.post(
        f"{person.base}/imports",
        data={"csrf_token": token, "source": "csv"},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert response.status_code == 422 and "mapping" in response.text
