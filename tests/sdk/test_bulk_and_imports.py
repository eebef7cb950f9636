"""The SDK's bulk calls, export and imports against a served MASK."""

from __future__ import annotations

import csv
import io

import pytest
from mask_sdk.models import LinkCreate

from tests.sdk.conftest import SdkServer, eventually

pytestmark = pytest.mark.slow


def test_bulk_calls_export_and_an_import_round_trip(server: SdkServer) -> None:
    with server.client(server.workspace().key) as client:
        created = client.links.bulk_create(
            links=[LinkCreate(url="https://example.com/a", slug="sdk-a", tags=["x"]), {"url": "javascript:alert(1)"}]
        )
        assert (created.succeeded, created.failed) == (1, 1)
        assert created.data[1].error is not None and created.data[1].error.errors
        link_id = created.data[0].id
        assert link_id is not None
        updated = client.links.bulk_update(ids=[link_id], set={"tags_add": ["y"], "archived": True})
        assert updated.data[0].link is not None and updated.data[0].link.tags == ["x", "y"]
        exported = client.links.export(archived="all")
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert [row["slug"] for row in rows] == ["sdk-a"]
        deleted = client.links.bulk_delete(ids=[link_id])
        assert deleted.data[0].status == 200
        job = client.imports.create(source="mask-csv", file_content=exported)

        def done() -> bool:
            return client.imports.get(job.id).status == "completed"

        eventually(done, message="the import completing")
        finished = client.imports.get(job.id)
        assert finished.counts.created == 1
        assert client.imports.list().data[0].id == job.id
        assert client.imports.report(job.id).startswith("row,outcome")
        assert client.links.info(slug="sdk-a").tags == ["x", "y"]
