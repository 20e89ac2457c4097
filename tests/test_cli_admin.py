"""``gis-enforcement webhooks add|remove`` and ``users key list``: unknown kinds and townships refused by name, a
receiver removed with its deliveries, a key's last use shown — run in-process against a database of its own in
the test cluster (the CLI commits)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.layers.jurisdiction import Jurisdiction

SECRET = "a-long-shared-secret"
URL = "https://receiver.example/hooks"


def _said(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join((result.output + getattr(result, "stderr", "")).split())


def test_webhooks_add_refuses_unknown_kinds_and_townships(runner: CliRunner, jurisdiction: Jurisdiction) -> None:
    bad = runner.invoke(app, ["webhooks", "add", URL, "--secret", SECRET, "--kind", "bogus.kind"])
    assert bad.exit_code == 2
    assert "kinds: unknown event kind(s) 'bogus.kind'" in _said(bad) and "report_in" in _said(bad)
    bad = runner.invoke(app, ["webhooks", "add", URL, "--secret", SECRET, "--township", "999"])
    assert bad.exit_code == 2 and "township: unknown township '999'" in _said(bad)
    town = str(jurisdiction.townships.iloc[0]["code"])
    good = runner.invoke(app, ["webhooks", "add", URL, "--secret", SECRET, "--kind", "whistle", "--township", town])
    assert good.exit_code == 0, good.output


def test_webhooks_remove(runner: CliRunner, cli_env: dict[str, str]) -> None:
    added = runner.invoke(app, ["webhooks", "add", URL + "/gone", "--secret", SECRET])
    assert added.exit_code == 0, added.output
    sid = int(added.stdout.split()[1])
    engine = create_engine(cli_env["DATABASE_URL"])
    try:
        with engine.begin() as conn:  # a pending delivery of an event recorded earlier
            conn.execute(text("INSERT INTO webhook_delivery (subscription_id, event_id) VALUES (:s, 1)"), {"s": sid})
        removed = runner.invoke(app, ["webhooks", "remove", str(sid)])
        assert removed.exit_code == 0 and f"webhook {sid} removed" in removed.stdout, removed.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM webhook_subscription WHERE id = :s"),
                                {"s": sid}).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM webhook_delivery WHERE subscription_id = :s"),
                                {"s": sid}).scalar_one() == 0
    finally:
        engine.dispose()
    assert URL + "/gone" not in runner.invoke(app, ["webhooks", "list"]).stdout
    again = runner.invoke(app, ["webhooks", "remove", str(sid)])
    assert again.exit_code == 2 and f"no webhook subscription {sid}" in _said(again)


def test_users_key_list_shows_the_last_use(runner: CliRunner, cli_env: dict[str, str]) -> None:
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from gis_enforcement.admin.credentials import authenticate_key

    added = runner.invoke(app, ["users", "add", "hooks.admin", "--role", "admin", "--unit", "district",
                                "--password", "a-long-password-1"])
    assert added.exit_code == 0, added.output
    made = runner.invoke(app, ["users", "key", "add", "hooks.admin", "--name", "大屏"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    listed = runner.invoke(app, ["users", "key", "list", "hooks.admin"], terminal_width=200)
    assert "last used" in listed.stdout and "never" in listed.stdout, listed.stdout
    engine = create_engine(cli_env["DATABASE_URL"])
    try:
        with Session(engine) as s:
            authenticate_key(s, key=key, at=datetime(2026, 5, 12, 15, 40, tzinfo=UTC))
            s.commit()
    finally:
        engine.dispose()
    listed = runner.invoke(app, ["users", "key", "list", "hooks.admin"], terminal_width=200)
    assert "2026-05-12T23:40:00+08:00" in listed.stdout and "never" not in listed.stdout, listed.stdout  # Beijing
    assert "user hooks.admin: admin of the district" in " ".join(added.stdout.split())


def test_users_add_checks_name_role_and_unit_before_asking_for_the_password(runner: CliRunner,
                                                                             jurisdiction: Jurisdiction) -> None:
    typed = "a-long-password-1\na-long-password-1\n"
    no_env = {"GISE_NEW_PASSWORD": None}
    town = str(jurisdiction.townships.iloc[0]["code"])
    for args, said in ((["--role", "sheriff", "--unit", "district"], "role: unknown role 'sheriff'"),
                       (["--role", "patrol", "--unit", "999"], "unit: '999' is not a township"),
                       (["--role", "supervisor", "--unit", "WATER"], "unit: a supervisor is scoped to the district"),
                       # a code nearly right is named, and the codes are listed
                       (["--role", "department_officer", "--unit", "TRAFIC_POLICE"],
                        "(did you mean 'TRAFFIC_POLICE'?); the codes: TOWN, PSB, TRAFFIC_POLICE")):
        refused = runner.invoke(app, ["users", "add", "early.check", *args], input=typed, env=no_env)
        assert refused.exit_code == 2 and said in _said(refused), _said(refused)
        assert "password:" not in refused.output, refused.output  # not asked for: the command stopped first
    added = runner.invoke(app, ["users", "add", "early.check", "--role", "patrol", "--unit", town], input=typed,
                          env=no_env)
    assert added.exit_code == 0 and "password:" in added.output, added.output
    again = runner.invoke(app, ["users", "add", "Early.Check", "--role", "patrol", "--unit", town], input=typed,
                          env=no_env)
    assert again.exit_code == 2 and "username: user 'early.check' exists" in _said(again), _said(again)
    assert "password:" not in again.output
    differ = runner.invoke(app, ["users", "add", "early.check2", "--role", "patrol", "--unit", town],
                           input="a-long-password-1\nanother-password-2\n", env=no_env)
    assert differ.exit_code == 2 and "password: the two passwords differ" in _said(differ)
