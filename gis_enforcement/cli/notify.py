"""``gis-enforcement webhooks …`` and ``deliver``: receivers of case events and the delivery pass."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gis_enforcement.cli.common import app, err, fail, open_platform, out
from gis_enforcement.errors import EnforcementError

webhooks_app = typer.Typer(help="Webhook receivers of case events (signed, retried until accepted).",
                           no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="where batches of events are POSTed")],
    secret: Annotated[str, typer.Option(help="shared secret for the X-GISE-Signature HMAC (≥ 16 characters)")],
    kind: Annotated[list[str] | None, typer.Option(help="only this event kind, e.g. whistle, report_in, warning "
                                                   "(repeatable)")] = None,
    township: Annotated[str | None, typer.Option(help="only cases of this township (its code)")] = None,
    description: Annotated[str | None, typer.Option(help="who receives it")] = None,
) -> None:
    """Register a receiver for the events recorded from now on."""
    from gis_enforcement.dispatch.outbox import subscribe

    try:
        plat = open_platform()
        with plat.transaction() as session:
            sub = subscribe(session, url=url, secret=secret, kinds=kind or None, township=township,
                            description=description)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"webhook {sub['id']} → {sub['url']}")


@webhooks_app.command("list")
def webhooks_list() -> None:
    """Every receiver and its delivery state."""
    from gis_enforcement.storage import outbox_repo

    try:
        plat = open_platform()
        with plat.transaction() as session:
            subs = outbox_repo.subscriptions(session)
    except EnforcementError as exc:
        fail(exc)
        return
    table = Table(title="webhooks")
    for col in ("id", "url", "active", "kinds", "township", "delivered", "pending", "attempts", "next try", "error"):
        table.add_column(col)
    for s in subs:
        table.add_row(str(s["id"]), s["url"], "yes" if s["active"] else "paused", ",".join(s["kinds"] or ["*"]),
                      s["township"] or "*", str(s["delivered"]), str(s["pending"]), str(s["attempts"] or "—"),
                      s["next_attempt_at"].isoformat(timespec="seconds") if s["next_attempt_at"] else "—",
                      s["last_error"] or "")
    out.print(table)


def _set_active(subscription_id: int, active: bool) -> None:
    from gis_enforcement.dispatch.outbox import set_active

    try:
        plat = open_platform()
        with plat.transaction() as session:
            set_active(session, subscription_id=subscription_id, active=active)
    except EnforcementError as exc:
        fail(exc)
    out.print(f"webhook {subscription_id} {'resumed' if active else 'paused'}")


@webhooks_app.command("pause")
def webhooks_pause(subscription_id: int) -> None:
    """Stop queueing events for a receiver (what is pending stays pending)."""
    _set_active(subscription_id, False)


@webhooks_app.command("resume")
def webhooks_resume(subscription_id: int) -> None:
    """Queue events for a paused receiver again."""
    _set_active(subscription_id, True)


@webhooks_app.command("remove")
def webhooks_remove(subscription_id: int) -> None:
    """Remove a receiver and its deliveries, pending ones included (``pause`` keeps them instead)."""
    from gis_enforcement.dispatch.outbox import unsubscribe

    try:
        plat = open_platform()
        with plat.transaction() as session:
            unsubscribe(session, subscription_id=subscription_id)
    except EnforcementError as exc:
        fail(exc)
    out.print(f"webhook {subscription_id} removed")


@app.command("deliver")
def deliver_cmd() -> None:
    """One webhook delivery pass now (``serve`` runs one every few seconds): pending events, oldest first."""
    from datetime import UTC, datetime

    from gis_enforcement.dispatch.outbox import deliver_due, http_sender

    try:
        plat = open_platform()
        report = deliver_due(plat.transaction, now=lambda: datetime.now(UTC),
                             send=http_sender(plat.settings.webhook_timeout_s))
    except EnforcementError as exc:
        fail(exc)
        return
    for sid, error in report.failed.items():
        err.print(f"[yellow]webhook {sid}[/]: {error} — retried later with back-off")
    out.print(f"{report.events_delivered:,} event(s) delivered to {len(report.delivered)} receiver(s)")
    if report.failed:
        raise typer.Exit(code=1)
