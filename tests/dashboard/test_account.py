"""Account page: password change through mask.account.service."""

from __future__ import annotations

from mask.app import MaskApp
from tests.dashboard.conftest import PASSWORD, log_in, make_person, new_client


async def test_changing_the_password_logs_out_other_sessions(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    laptop = new_client(app)
    assert (await log_in(laptop, "ada@example.com")).status_code == 303
    wrong = await person.post("/app/account/password", {"current_password": "nope", "new_password": "new passphrase"})
    assert wrong.status_code == 422 and 'id="e-current_password"' in wrong.text
    short = await person.post("/app/account/password", {"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and 'id="e-new_password"' in short.text
    changed = await person.post(
        "/app/account/password", {"current_password": PASSWORD, "new_password": "new passphrase"}
    )
    assert changed.status_code == 303
    assert (await person.http.get("/app/account")).status_code == 200  # this session stays
    assert (await laptop.get("/app/account")).status_code == 303  # the other one is over
    assert (await log_in(new_client(app), "ada@example.com")).status_code == 401
    assert (await log_in(new_client(app), "ada@example.com", "new passphrase")).status_code == 303


async def test_unknown_pages_get_a_page_not_a_stack_trace(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    response = await person.http.get("/app/nothing/here/at/all")
    assert response.status_code == 404 and "Not found" in response.text and "<html" in response.text
