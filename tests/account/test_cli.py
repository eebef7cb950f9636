from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from mask.account import service as account_service
from mask.cli import cli
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope


def _log_in(database_url: str, email: str, password: str) -> str:
    async def main() -> str:
        context = AppContext.create(Settings(database_url=database_url))
        try:
            async with session_scope(context.sessionmaker) as session:
                user = await account_service.log_in(
                    session, email=email, password=password, ip=None, checkpoint=session.commit
                )
                return user.id
        finally:
            await context.engine.dispose()

    return asyncio.run(main())


def test_users_create_and_reset_password_from_the_command_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASK_DATABASE_URL", database_url)
    runner = CliRunner()
    created = runner.invoke(cli, ["users", "create", "ops@example.com"], input="first passphrase\nfirst passphrase\n")
    assert created.exit_code == 0, created.output
    user_id = created.stdout.strip().splitlines()[-1]
    assert user_id.startswith("usr_")
    assert _log_in(database_url, "ops@example.com", "first passphrase") == user_id

    reset = runner.invoke(
        cli, ["users", "reset-password", "OPS@example.com"], input="second passphrase\nsecond passphrase\n"
    )
    assert reset.exit_code == 0, reset.output
    assert _log_in(database_url, "ops@example.com", "second passphrase") == user_id
    with pytest.raises(account_service.LoginFailed):
        _log_in(database_url, "ops@example.com", "first passphrase")


def test_users_create_reports_a_bad_password_instead_of_storing_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASK_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["users", "create", "ops@example.com", "--password", "short"])
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output


def test_users_can_join_an_existing_workspace_as_members(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASK_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["workspaces", "create", "acme"]).exit_code == 0
    result = runner.invoke(
        cli,
        [
            "users",
            "create",
            "m@example.com",
            "--password",
            "member pass",
            "--workspace",
            "acme",
            "--role",
            "member",
        ],
    )
    assert result.exit_code == 0, result.output
    missing = runner.invoke(cli, ["users", "reset-password", "nobody@example.com", "--password", "whatever1"])
    assert missing.exit_code == 1 and "No user" in missing.output
