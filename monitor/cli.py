"""The `policywatch` command line: the only place that prints and chooses exit codes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from monitor.cli_common import common_options, format_option, open_db, parse_since
from monitor.config import Config, ConfigError
from monitor.output import single_line, table, terminal_text, to_json
from monitor.subscriptions import DOCUMENT_KINDS

# SQLAlchemy and the storage are imported by the commands that use them, not here: `crawl`
# starts its helper processes before it loads them (crawler.prestart), and a helper started by
# multiprocessing imports this module again.

logger = logging.getLogger(__name__)


# -- the group --------------------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="policywatch")
def cli(verbose: int) -> None:
    """Watch Chinese government sites for new and revised policy documents.

    \b
    Quick start (offline, on the bundled replica of the Guangdong sites):
      policywatch demo
    Your own sites:
      policywatch init --config policywatch.toml
      policywatch crawl --config policywatch.toml
      policywatch changes --since 2024-01-01 --format json
    """
    level = max(logging.WARNING - 10 * verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Scrapy sets its own loggers to DEBUG; the handler's level keeps them quiet unless -v.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
        if verbose == 0:
            handler.addFilter(_not_given_up)


def _not_given_up(record: logging.LogRecord) -> bool:
    """A page that failed every retry is recorded as a fetch error of its run and sampled in the
    crawl's summary ("! source: url: reason"); Scrapy's own ERROR line for it would say it a
    second time, once per page (-v shows it). A filter on the handler, not the logger's level:
    Scrapy resets its loggers' levels when it configures logging."""
    return record.name != "scrapy.downloadermiddlewares.retry"


@cli.command()
@common_options
def init(config: Config) -> None:
    """Create or upgrade the database schema (runs the migrations).

    \b
    Example:
      policywatch init --config policywatch.toml
    """
    from storage.db import redact, upgrade

    upgrade(config.database_url)
    click.echo(f"database ready: {redact(config.database_url)}")


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--url", "urls", multiple=True, help="Re-crawl this detail URL by hand (repeatable).")
@click.option("--source", "source_name", default=None, help="With --url: the source it belongs to.")
@click.option("--trigger", type=click.Choice(["manual", "schedule", "demo"]), default="manual",
              hidden=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@click.option("--distributed", is_flag=True,
              help="Be one of several workers sharing a Redis frontier (scrapy-redis).")
@click.option("--redis-url", envvar="POLICYWATCH_REDIS_URL", default=None,
              help="With --distributed: the Redis to share (or POLICYWATCH_REDIS_URL).")
@format_option
@common_options
def crawl(config: Config, sources: tuple[str, ...], urls: tuple[str, ...], source_name: str | None,
          trigger: str, quiet: bool, distributed: bool, redis_url: str | None, fmt: str) -> None:
    """Crawl sources (all configured ones by default) and record what changed.

    Sources crawl 32 at a time ([crawl] sources_at_once), the others wait their turn. Ctrl-C
    stops cleanly: what was fetched is stored, the runs end "interrupted" (exit 130).

    \b
    Examples:
      policywatch crawl                       # every configured source
      policywatch crawl gdii-notices gd-gkmlpt
      policywatch crawl --url https://gdii.gd.gov.cn/gkmlpt/content/4/4202/post_4202817.html
      policywatch crawl --distributed --redis-url redis://10.0.0.5:6379/0   # on each worker
    """
    from monitor.crawl import crawl as run_crawl
    from monitor.crawl import source_for_url

    if distributed and not redis_url:
        raise click.UsageError("--distributed needs --redis-url (or POLICYWATCH_REDIS_URL)")
    if urls and distributed:
        raise click.UsageError("--url crawls are never distributed")
    if urls:
        if sources:
            raise click.UsageError("give either source names or --url, not both")
        owners = {source_for_url(config, u, source_name).name for u in urls}
        if len(owners) > 1:
            raise click.UsageError("--url pages belong to several sources: crawl them one at a time")
        selected = [config.source(owners.pop())]
    elif sources:
        selected = [config.source(name) for name in sources]
    else:
        selected = list(config.sources)
        if not selected:
            raise ConfigError("no sources configured: add [[sources]] to the config "
                              "(see README, 'Configuration')")

    def progress(name: str, counts: dict[str, int]) -> None:
        if quiet:
            return
        mark = "done" if counts.get("final") else "..."
        click.echo(
            f"  {name}: {counts.get('pages_fetched', 0)} pages, "
            f"{counts.get('documents_seen', 0)} documents "
            f"({counts.get('documents_new', 0)} new, "
            f"{counts.get('versions_new', 0) - counts.get('documents_new', 0)} changed, "
            f"{counts.get('unchanged', 0)} unchanged), {counts.get('errors', 0)} errors {mark}",
            err=True)

    if not quiet:
        click.echo(f"crawling {', '.join(s.name for s in selected)}", err=True)
    reports = run_crawl(config, selected, urls=list(urls), trigger=trigger, progress=progress,
                        redis_url=redis_url if distributed else None)
    if fmt == "json":
        click.echo(to_json([r.to_dict() for r in reports]))
    else:
        rows = [[r.source, r.status, r.pages_fetched, r.documents_seen, r.documents_new,
                 r.versions_new - r.documents_new, r.unchanged, r.errors,
                 "baseline" if r.baseline else r.events] for r in reports]
        click.echo(table(["source", "status", "pages", "docs", "new", "changed", "unchanged",
                          "errors", "events"], rows))
        for r in reports:
            for sample in r.error_samples:
                click.echo(f"  ! {r.source}: {single_line(sample)}", err=True)
    if any(r.status == "interrupted" for r in reports):
        click.echo("interrupted: the crawl stopped before its end; what it fetched is stored, "
                   "and the next crawl sweeps the whole listing", err=True)
        sys.exit(130)
    if reports and all(r.status == "failed" for r in reports):
        sys.exit(1)


@cli.group()
def sources() -> None:
    """Configured sources."""


@sources.command("list")
@click.option("--builtin", is_flag=True, help="List the built-in source definitions instead.")
@format_option
@common_options
def sources_list(config: Config, builtin: bool, fmt: str) -> None:
    """List the configured sources (or the built-in ones) with their last crawl.

    \b
    Examples:
      policywatch sources list
      policywatch sources list --builtin --format json
    """
    from crawler.sources import source_from_dict
    from monitor.config import builtin_source_entries

    if builtin:
        items = [source_from_dict(dict(e)).describe() for e in builtin_source_entries()]
    else:
        items = [s.describe() for s in config.sources]
        last = _last_runs(config)
        for item in items:
            item["last_run"] = last.get(item["name"])
    if fmt == "json":
        click.echo(to_json(items))
        return
    rows = [[i["name"], i["kind"], i.get("schedule") or "", ", ".join(i["urls"]),
             (i.get("last_run") or {}).get("summary", "") if not builtin else i["description"]]
            for i in items]
    click.echo(table(["name", "kind", "schedule", "urls", "description" if builtin else "last run"],
                     rows))


def _last_runs(config: Config) -> dict[str, dict[str, Any]]:
    from storage.db import DatabaseError, session_scope
    from storage.documents import list_sources
    from storage.runs import last_run

    try:
        sessions = open_db(config)
    except DatabaseError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    with session_scope(sessions) as session:
        for row in list_sources(session):
            run = last_run(session, row.id)
            if run is not None:
                out[row.name] = {
                    "run_id": run.id, "status": run.status,
                    "started_at": run.started_at.isoformat(timespec="seconds"),
                    "documents_seen": run.documents_seen, "errors": run.errors,
                    "summary": f"{run.started_at:%Y-%m-%d %H:%M} {run.status} "
                               f"{run.documents_seen} docs {run.errors} errors",
                }
    return out


@cli.group()
def documents() -> None:
    """Stored documents."""




@documents.command("list")
@click.option("--source", default=None, help="Only this source.")
@click.option("--status", type=click.Choice(["active", "removed"]), default=None)
@click.option("--kind", default=None, type=click.Choice(DOCUMENT_KINDS),
              help="Only this kind of document (as `show` reads it from the title and text).")
@click.option("--match", default=None, metavar="TEXT",
              help="Only documents whose title or document number contains TEXT (taken literally).")
@click.option("--since", default=None,
              help="Only documents published on or after this ISO date (first seen, when the page "
                   "gives no date).")
@click.option("--limit", default=100, show_default=True)
@format_option
@common_options
def documents_list(config: Config, source: str | None, status: str | None, kind: str | None,
                   match: str | None, since: str | None, limit: int, fmt: str) -> None:
    """List stored documents, most recently seen first.

    \b
    Examples:
      policywatch documents list --source gdii-notices --format json
      policywatch documents list --kind proposal_reply --since 2024-01-01
      policywatch documents list --match 数字经济
    """
    from storage.db import session_scope
    from storage.documents import list_documents

    moment = parse_since(since)
    sessions = open_db(config)
    with session_scope(sessions) as session:
        rows = list_documents(session, source=source, limit=limit, status=status, kind=kind,
                              match=match, since=moment)
        items = [{
            "id": d.id, "source": name, "title": d.title, "doc_number": d.doc_number,
            "kind": d.kind, "published_on": d.published_on, "url": d.url,
            "versions": d.version_count, "status": d.status,
            "first_seen_at": d.first_seen_at.isoformat(timespec="seconds"),
            "last_seen_at": d.last_seen_at.isoformat(timespec="seconds"),
        } for d, name in rows]
    if fmt == "json":
        click.echo(to_json(items))
        return
    click.echo(table(["id", "source", "title", "doc_number", "published", "versions", "status", "last seen"],
                     [[i["id"], i["source"], i["title"], i["doc_number"] or "", (i["published_on"] or "")[:10],
                       i["versions"], i["status"], i["last_seen_at"][:16]] for i in items], max_width=50))


@cli.command()
@click.argument("doc")
@format_option
@common_options
def history(config: Config, doc: str, fmt: str) -> None:
    """The versions of one document (DOC: id, URL or a unique part of the title).

    \b
    Example:
      policywatch history 12
    """
    from storage.content import load_contents
    from storage.db import session_scope
    from storage.documents import resolve_document, versions_of

    sessions = open_db(config)
    with session_scope(sessions) as session:
        document = resolve_document(session, doc)
        versions = versions_of(session, document.id)
        load_contents(session, versions, ["normalized_text"])  # a few queries, not one a version
        items = [{
            "seq": v.seq, "fetched_at": v.fetched_at.isoformat(timespec="seconds"),
            "content_hash": v.content_hash[:12], "title": v.title, "url": v.url,
            "chars": len(v.normalized_text), "etag": v.etag, "last_modified": v.last_modified,
        } for v in versions]
        head = {"id": document.id, "title": document.title, "url": document.url,
                "status": document.status, "versions": items}
    if fmt == "json":
        click.echo(to_json(head))
        return
    click.echo(f"#{head['id']} {single_line(head['title'])}\n{head['url']}  [{head['status']}]")
    click.echo(table(["seq", "fetched_at", "hash", "chars", "title"],
                     [[i["seq"], i["fetched_at"], i["content_hash"], i["chars"], i["title"]]
                      for i in items]))


@cli.command()
@click.argument("doc")
@click.option("--version", "seq", type=int, default=None, help="Version number (default: latest).")
@format_option
@common_options
def show(config: Config, doc: str, seq: int | None, fmt: str) -> None:
    """A document's understood structure: metadata, outline, tasks, departments, targets.

    \b
    Examples:
      policywatch show 3
      policywatch show 3 --format json
    """
    from crawler.document import format_structure
    from storage.db import session_scope
    from storage.documents import resolve_document, version_or_latest

    sessions = open_db(config)
    with session_scope(sessions) as session:
        document = resolve_document(session, doc)
        version = version_or_latest(session, document.id, seq)
        payload = {"document": {"id": document.id, "url": document.url, "title": document.title,
                                "version": version.seq}, "structure": version.structure}
    if fmt == "json":
        click.echo(to_json(payload))
        return
    click.echo(f"#{document.id} v{version.seq} {single_line(document.url)}")
    click.echo(terminal_text(format_structure(payload["structure"])))


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--url", default=None, help="The page's address, for its relative links (default: the file's).")
@click.option("--as", "as_kind", type=click.Choice(["html", "text"]), default=None,
              help="Read the file as a web page or as plain text (default: guessed from its bytes).")
@format_option
def inspect(path: str, url: str | None, as_kind: str | None, fmt: str) -> None:
    """What policywatch understands of one file or URL, without a crawl or a database.

    PATH is a page saved from a site, a document's plain text (UTF-8 or GBK), a PDF, DOCX or DOC
    attachment, - for stdin, or an http(s) URL (fetched once, as a browser would). The crawl's
    own extraction reads it: check a new site's pages before adding it as a source, or read a
    document someone sent you.

    \b
    Examples:
      policywatch inspect https://gdii.gd.gov.cn/zwgk/tzgg1011/content/post_4381500.html
      policywatch inspect post_4381500.html --url https://gdii.gd.gov.cn/…/post_4381500.html
      policywatch inspect 答复.pdf --format json
    """
    from crawler.document import format_structure
    from monitor.inspect_file import InspectError, fetch, inspect_bytes

    content_type = None
    try:
        if path.startswith(("http://", "https://")):
            body, content_type, final_url = fetch(path)
            url = url or final_url  # after redirects: what the page's relative links resolve from
        elif path == "-":
            body = click.get_binary_stream("stdin").read()
        else:
            body = Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    except InspectError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        payload = inspect_bytes(body, path, url=url, as_kind=as_kind, content_type=content_type)
    except InspectError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(to_json(payload))
        return
    head = f"{single_line(payload['title'] or '(no title)')}  [{payload['read_as']}"
    head += f", {payload['encoding']}]" if payload["encoding"] else "]"
    click.echo(head)
    click.echo(terminal_text(format_structure(payload["structure"])))
    if payload["attachments"]:
        click.echo("== 附件 attachments ==")
        for a in payload["attachments"]:
            click.echo(f"  {single_line(a['name'] or '')}  {single_line(a['url'])}")


@cli.command()
@click.option("--since", default=None, help="Only events detected at or after this ISO date/time.")
@click.option("--source", default=None, help="Only this source.")
@click.option("--type", "types", multiple=True, help="Only this event type (repeatable).")
@click.option("--document", "doc", default=None, metavar="DOC",
              help="Only this document's events (id, URL or a unique part of the title).")
@click.option("--after-id", default=None, type=click.IntRange(min=0), metavar="ID",
              help="Only events with an id above ID (ids grow: what a script that handled ID has "
                   "not seen, but see the README on concurrent crawls).")
@click.option("--limit", default=None, type=int)
@format_option
@common_options
def changes(config: Config, since: str | None, source: str | None, types: tuple[str, ...],
            doc: str | None, after_id: int | None, limit: int | None, fmt: str) -> None:
    """Change events, oldest first; --format json is the stable contract for scripts.

    \b
    Examples:
      policywatch changes --since 2024-03-01
      policywatch changes --type task_added --type new_edition --format json
      policywatch changes --document 12
      policywatch changes --after-id 340 --format json   # the events after event 340
    """
    from monitor.events import EVENT_TYPES
    from storage.db import session_scope
    from storage.documents import resolve_document
    from storage.events import query_events

    for t in types:
        if t not in EVENT_TYPES:
            raise click.BadParameter(f"unknown event type {t!r} (known: {', '.join(EVENT_TYPES)})",
                                     param_hint="--type")
    sessions = open_db(config)
    with session_scope(sessions) as session:
        document_id = resolve_document(session, doc).id if doc is not None else None
        events = query_events(session, since=parse_since(since), source=source,
                              types=list(types) or None, document_id=document_id,
                              after_id=after_id, limit=limit)
    if fmt == "json":
        click.echo(to_json(events))
        return
    if not events:
        click.echo("no changes")
        return
    click.echo(table(["id", "detected", "type", "source", "doc", "task", "summary"],
                     [[e["id"], e["detected_at"][:16], e["type"], e["source"] or "",
                       (e["document"] or {}).get("id", ""),
                       (e["task"] or {}).get("label") or "", e["summary"]] for e in events],
                     max_width=70))


@cli.command()
@click.option("--dir", "workdir", type=click.Path(file_okay=False), default="policywatch-demo",
              show_default=True, help="Where the demo keeps its config and database.")
@click.option("--keep-serving", is_flag=True, help="Keep the replica running after the demo.")
def demo(workdir: str, keep_serving: bool) -> None:
    """Crawl the bundled replica of the Guangdong sites twice and show what changed. Offline.

    Serves a local copy of gd.gov.cn, gdii.gd.gov.cn, gz.gov.cn and gxj.gz.gov.cn on 127.0.0.1,
    crawls it into a fresh SQLite database, switches the replica to its next release (one new
    document, one revised one), crawls again and prints the change events.

    \b
    Example:
      policywatch demo --dir /tmp/pw-demo
    """
    from monitor.demo import run_demo

    code = run_demo(workdir, echo=click.echo, keep_serving=keep_serving)
    sys.exit(code)


def _register_commands() -> None:
    """Commands that live in modules of their own (diffs, scheduler, digests, feed)."""
    from monitor.cli_diff import compare, diff
    from monitor.cli_ops import digest, feed, schedule, status, subscribers

    for command in (diff, compare, schedule, status, subscribers, digest, feed):
        cli.add_command(command)


_register_commands()


# -- entry point ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a user's mistake becomes one line on stderr and a non-zero exit."""
    try:
        cli.main(args=argv, prog_name="policywatch", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "policywatch"
        click.echo(f"error: {exc.format_message()} (see '{where} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        line = _error_line(exc)
        if line is None:
            raise
        click.echo(line, err=True)
        sys.exit(2)
    sys.exit(0)


def _error_line(exc: Exception) -> str | None:
    """The one line for an error that is the user's or the database's, not a bug (None)."""
    # imported here, not at the top (see there); an error of theirs means they are loaded
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from storage.db import DatabaseError
    from storage.documents import NotFound

    if isinstance(exc, DatabaseError | NotFound):
        return f"error: {exc}"
    if isinstance(exc, OperationalError):
        return f"error: database: {single_line(exc.orig)}"
    if isinstance(exc, SQLAlchemyError):
        return f"error: database: {single_line(exc)}"
    if isinstance(exc, OSError):
        return f"error: {exc}"
    return None


if __name__ == "__main__":
    main()
