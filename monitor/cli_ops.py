"""Operations commands: schedule (the daemon), status, subscribers, digest and feed.

monitor/cli.py registers them; the library modules raise domain errors and the commands turn them
into one line and an exit code.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli_common import common_options, format_option, open_db, parse_since
from monitor.config import Config
from monitor.output import single_line, table, terminal_text, to_json
from monitor.subscriptions import DOCUMENT_KINDS

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _subscription_error(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


# -- schedule ---------------------------------------------------------------------------------
@click.command()
@click.option("--once", is_flag=True,
              help="Store the jobs, crawl every scheduled source now, send the immediate digest, exit.")
@click.option("--max-runtime", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop cleanly after this many seconds (tests, containers).")
@click.option("--jitter", type=click.IntRange(min=0), default=60, show_default=True, metavar="SECONDS",
              help="Random delay added to each crawl's cron time.")
@click.option("--daily-hour", type=click.IntRange(0, 23), default=7, show_default=True,
              help="Hour (local time) of the daily and weekly digests.")
@click.option("--weekly-day", type=click.Choice(WEEKDAYS), default="mon", show_default=True,
              help="Day of the weekly digest.")
@click.option("--immediate-interval", type=click.IntRange(min=1), default=300, show_default=True,
              metavar="SECONDS", help="How often 'immediate' subscribers' digests are checked.")
@click.option("--misfire-grace", type=click.IntRange(min=1), default=3600, show_default=True,
              metavar="SECONDS", help="A run missed by less than this still happens (once).")
@click.option("--timezone", default=None, help="Time zone of the cron schedules (default: local).")
@click.option("--db", "db_override", default=None, hidden=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: ./policywatch.toml).")
def schedule(config_path: str | None, db_override: str | None, once: bool, max_runtime: float | None,
             jitter: int, daily_hour: int, weekly_day: str, immediate_interval: int,
             misfire_grace: int, timezone: str | None) -> None:
    """Run crawls and digests on schedule, in the foreground (for systemd, supervisord, a container).

    Each source with a `schedule` (cron) gets a job; digests run every few minutes (immediate),
    daily and weekly. Jobs are stored in the database; a crawl of a source runs at most once at a
    time, across processes. SIGTERM or SIGINT stops it cleanly (exit 0).

    \b
    Examples:
      policywatch schedule --config /etc/policywatch.toml
      policywatch schedule --once                  # crawl everything now, send, exit
    """
    from monitor.config import load_config
    from monitor.scheduler import run_schedule

    config = load_config(config_path, required=True)
    if db_override:
        config.database_url = db_override
    if not logging.getLogger().handlers or logging.getLogger().level > logging.INFO:
        # a daemon logs each job's start and finish; -v is not needed for that
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            force=True)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    tz: Any = None
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise click.BadParameter(f"unknown time zone {timezone!r}", param_hint="--timezone") from None
    code = run_schedule(config, database_url_override=db_override, jitter=jitter, daily_hour=daily_hour,
                        weekly_day=weekly_day, immediate_interval=immediate_interval,
                        misfire_grace=misfire_grace, max_runtime=max_runtime, once=once, timezone=tz)
    sys.exit(code)


# -- status -----------------------------------------------------------------------------------
@click.command()
@format_option
@common_options
def status(config: Config, fmt: str) -> None:
    """Per source: the last run, the next scheduled run and consecutive failures.

    \b
    Example:
      policywatch status --format json
    """
    from monitor.scheduler import source_status

    open_db(config)  # the schema check, with its one-line error
    items = source_status(config)
    if fmt == "json":
        click.echo(to_json(items))
        return
    if not items:
        click.echo("no sources configured")
        return
    rows = []
    for i in items:
        run = i["last_run"]
        last = "never" if run is None else (
            f"{run['started_at'][:16].replace('T', ' ')} {run['status']} "
            f"{run['documents_seen']} docs {run['versions_new']} new versions {run['errors']} errors")
        nxt = i["next_run"][:16].replace("T", " ") if i["next_run"] else "-"
        rows.append([i["source"], i["schedule"] or "-", last, nxt, i["consecutive_failures"]])
    click.echo(table(["source", "schedule", "last run", "next run", "failures"], rows, max_width=70))


# -- subscribers ------------------------------------------------------------------------------
@click.group()
def subscribers() -> None:
    """Digest subscribers (the config's [[subscribers]] plus those added here)."""


@subscribers.command("add")
@click.argument("address")
@click.option("--cadence", type=click.Choice(["immediate", "daily", "weekly"]), default="daily",
              show_default=True)
@click.option("--source", "sources", multiple=True, help="Only events of this source (repeatable).")
@click.option("--type", "types", multiple=True, help="Only this event type (repeatable).")
@click.option("--keyword", "keywords", multiple=True,
              help="Only events whose title or text contains this word (repeatable).")
@click.option("--department", "departments", multiple=True,
              help="Only events naming this department (repeatable).")
@click.option("--kind", "kinds", multiple=True,
              help="Only documents of this kind (repeatable): " + ", ".join(DOCUMENT_KINDS) + ".")
@common_options
def subscribers_add(config: Config, address: str, cadence: str, sources: tuple[str, ...],
                    types: tuple[str, ...], keywords: tuple[str, ...], departments: tuple[str, ...],
                    kinds: tuple[str, ...]) -> None:
    """Add a subscriber, or change an existing one's cadence and filters.

    \b
    Example:
      policywatch subscribers add analyst@example.org --cadence immediate \\
          --keyword 数字经济 --type task_added --type new_edition
    """
    from monitor.subscriptions import SubscriptionError, normalize_filters, validate_email
    from storage.db import session_scope
    from storage.subscribers import get_subscriber, upsert_subscriber

    try:
        email = validate_email(address)
        filters = normalize_filters(
            {"sources": list(sources), "types": list(types), "keywords": list(keywords),
             "departments": list(departments), "kinds": list(kinds)},
            known_sources=[s.name for s in config.sources] if config.sources else None)
    except SubscriptionError as exc:
        raise _subscription_error(exc) from None
    sessions = open_db(config)
    with session_scope(sessions) as session:
        existing = get_subscriber(session, email)
        if existing is not None and existing.origin == "config":
            raise click.ClickException(f"{email} is defined in the config file: change it there")
        _, created = upsert_subscriber(session, email, cadence=cadence, filters=filters, origin="cli")
    click.echo(f"{'added' if created else 'updated'} {email} ({cadence})")


@subscribers.command("list")
@format_option
@common_options
def subscribers_list(config: Config, fmt: str) -> None:
    """List subscribers with their cadence, filters and delivered event count.

    \b
    Example:
      policywatch subscribers list --format json
    """
    from monitor.digest import sync_subscribers
    from monitor.subscriptions import describe_filters
    from storage.db import session_scope
    from storage.deliveries import delivery_counts
    from storage.subscribers import list_subscribers

    sessions = open_db(config)
    sync_subscribers(config, sessions)
    with session_scope(sessions) as session:
        counts = delivery_counts(session)
        items = [{
            "email": s.email, "cadence": s.cadence, "filters": s.filters or {}, "origin": s.origin,
            "created_at": s.created_at.isoformat(timespec="seconds"),
            "last_digest_at": s.last_digest_at.isoformat(timespec="seconds") if s.last_digest_at else None,
            "delivered": counts.get(s.id, 0),
        } for s in list_subscribers(session)]
    if fmt == "json":
        click.echo(to_json(items))
        return
    if not items:
        click.echo("no subscribers")
        return
    click.echo(table(["email", "cadence", "origin", "filters", "delivered", "last digest"],
                     [[i["email"], i["cadence"], i["origin"], describe_filters(i["filters"]),
                       i["delivered"], (i["last_digest_at"] or "-")[:16]] for i in items]))


@subscribers.command("remove")
@click.argument("address")
@common_options
def subscribers_remove(config: Config, address: str) -> None:
    """Remove a subscriber added with `subscribers add` (config ones: edit the config).

    \b
    Example:
      policywatch subscribers remove analyst@example.org
    """
    from storage.db import session_scope
    from storage.subscribers import get_subscriber, remove_subscriber

    sessions = open_db(config)
    with session_scope(sessions) as session:
        row = get_subscriber(session, address.strip())
        if row is None:
            raise click.ClickException(f"no subscriber {single_line(address.strip())!r}")
        if row.origin == "config":
            raise click.ClickException(f"{row.email} is defined in the config file: remove it there")
        remove_subscriber(session, row.email)
    click.echo(f"removed {row.email}")


# -- digest -----------------------------------------------------------------------------------
@click.command()
@click.option("--preview", "mode", flag_value="preview", help="Render without sending.")
@click.option("--send", "mode", flag_value="send", help="Send now and record the deliveries.")
@click.option("--to", "to", default=None, help="Only this subscriber.")
@click.option("--cadence", type=click.Choice(["immediate", "daily", "weekly"]), default=None,
              help="Only subscribers of this cadence (default: all).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="With --preview: write an .eml (whole message) or .html (HTML part) file.")
@format_option
@common_options
def digest(config: Config, mode: str | None, to: str | None, cadence: str | None, out: str | None,
           fmt: str) -> None:
    """Build the digests of pending events; preview them or send them now.

    Each event reaches each subscriber once: deliveries are recorded only after the SMTP server
    accepted the message; a failed send is retried at the next run. Nothing new, no email.

    \b
    Examples:
      policywatch digest --preview --to analyst@example.org
      policywatch digest --preview --to analyst@example.org --out digest.html
      policywatch digest --send
    """
    from monitor.digest import DigestBusy, run_digests
    from monitor.mailer import MailerError

    if mode is None:
        raise click.UsageError("give --preview or --send")
    if out and mode != "preview":
        raise click.UsageError("--out goes with --preview")
    sessions = open_db(config)
    try:
        outcomes = run_digests(config, sessions, cadence=cadence, to=to, send=(mode == "send"))
    except DigestBusy as exc:
        raise click.ClickException(str(exc)) from None
    except MailerError as exc:
        raise click.ClickException(str(exc)) from None
    if mode == "preview":
        _write_previews(outcomes, out, fmt)
        return
    if fmt == "json":
        click.echo(to_json([o.to_dict() for o in outcomes]))
    elif not outcomes:
        click.echo("no subscribers")
    else:
        for o in outcomes:
            if o.status == "sent":
                click.echo(f"sent {o.email}: {o.events} events")
            elif o.status == "failed":
                click.echo(f"FAILED {o.email}: {o.events} events stay pending: {o.error}", err=True)
            else:
                click.echo(f"nothing new for {o.email}")
    if any(o.status == "failed" for o in outcomes):
        sys.exit(1)


def _write_previews(outcomes: list[Any], out: str | None, fmt: str) -> None:
    ready = [o for o in outcomes if o.message is not None]
    if fmt == "json":
        click.echo(to_json([{**o.to_dict(), "subject": o.message["Subject"] if o.message else None,
                             "event_ids": o.digest.event_ids if o.digest else []} for o in outcomes]))
        if not out:
            return
    if not ready:
        if fmt != "json":
            click.echo("nothing new" if outcomes else "no subscribers")
        return
    if out:
        path = Path(out)
        for o in ready:
            target = path if len(ready) == 1 else path.with_name(f"{path.stem}-{o.email}{path.suffix}")
            if path.suffix.lower() in (".html", ".htm"):
                target.write_text(o.digest.html, encoding="utf-8")
            else:
                target.write_bytes(o.message.as_bytes())
            if fmt != "json":
                click.echo(f"wrote {target} ({o.events} events for {o.email})")
        return
    for o in ready:
        click.echo(f"To: {o.message['To']}\nSubject: {o.message['Subject']}\n")
        click.echo(terminal_text(o.digest.text))


# -- feed -------------------------------------------------------------------------------------
@click.command()
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file (default: stdout).")
@click.option("--since", default=None, help="Only events detected at or after this ISO date/time.")
@click.option("--source", default=None, help="Only this source.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="The newest N events.")
@click.option("--self-url", default=None, help="The feed's own public URL (rel=self link).")
@common_options
def feed(config: Config, out: str | None, since: str | None, source: str | None, limit: int,
         self_url: str | None) -> None:
    """An Atom 1.0 feed of the change events, newest first.

    \b
    Examples:
      policywatch feed --out /var/www/policywatch.atom
      policywatch feed --source gdii-notices --since 2024-01-01 --limit 50
    """
    from monitor.feed import atom_feed
    from storage.db import session_scope
    from storage.events import query_events

    sessions = open_db(config)
    with session_scope(sessions) as session:
        events = query_events(session, since=parse_since(since), source=source)[-limit:]
    title = f"policywatch: {source}" if source else "policywatch: changes"
    document = atom_feed(events, title=title, self_url=self_url)
    if out:
        Path(out).write_bytes(document)
        click.echo(f"wrote {out} ({len(events)} entries)", err=True)
    else:
        click.echo(document.decode("utf-8"), nl=False)
