"""`mask plans list | set-limit`: the plan_limits table, as seeded by the migration and changed by an operator."""

from __future__ import annotations

from typer.testing import CliRunner

from mask.cli import cli


def test_plans_are_seeded_and_a_limit_can_be_changed_from_the_cli(database_url: str) -> None:
    runner = CliRunner()
    env = {"MASK_DATABASE_URL": database_url, "MASK_ENV": "test"}
    listed = runner.invoke(cli, ["plans", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == ["hobby\t60\t60", "pro\t600\t60", "enterprise\t6000\t60"]

    changed = runner.invoke(cli, ["plans", "set-limit", "pro", "1200", "--window-seconds", "60"], env=env)
    assert changed.exit_code == 0, changed.output
    assert "pro\t1200\t60" in runner.invoke(cli, ["plans", "list"], env=env).stdout

    refused = runner.invoke(cli, ["plans", "set-limit", "pro", "0"], env=env)
    assert refused.exit_code == 1 and "1 or more requests" in refused.output
    assert "pro\t1200\t60" in runner.invoke(cli, ["plans", "list"], env=env).stdout
