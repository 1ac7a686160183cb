"""`legami donors ...`: donor files from and to the command line."""

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from donors import importing
from donors.import_files import read_file
from donors.import_plan import describe
from donors.import_presets import PRESETS, ROW_STATUSES, TIMEZONES, header_key
from donors.models import ImportOutcome
from legami.extensions import db
from legami.validation import Invalid


@click.group("donors", help="Donor files: import (and export).")
def donors_cli():
    pass


def _mapping(job, overrides: str | None, status: str | None, timezone: str | None) -> dict:
    """The preset's mapping, with columns named in `overrides` ({"header": "target"}) changed."""
    mapping = dict(job.mapping)
    if overrides:
        try:
            chosen = {header_key(k): v for k, v in json.loads(overrides).items()}
        except (ValueError, AttributeError) as exc:
            raise click.BadParameter('a JSON object such as {"E-mail": "email"}') from exc
        headers, _ = read_file(importing.stored_file(job))
        unknown = set(chosen) - {header_key(h) for h in headers}
        if unknown:
            raise click.BadParameter(f"no such column: {', '.join(sorted(unknown))}")
        mapping["columns"] = [
            chosen.get(header_key(h), target)
            for h, target in zip(headers, mapping["columns"], strict=True)
        ]
    if status:
        mapping["status"] = status
    if timezone:
        mapping["timezone"] = timezone
    return mapping


@donors_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="generic", show_default=True)
@click.option("--dry-run", is_flag=True, help="Report what would happen; change nothing.")
@click.option("--mapping", "overrides", help='Columns to map otherwise: {"Header": "target"}.')
@click.option(
    "--status",
    type=click.Choice(sorted(ROW_STATUSES)),
    help="What every row is: subscribed (consents), unsubscribed, cleaned (bounced), or rows "
    "(each row's columns say). Default: a Mailchimp export's status, else rows.",
)
@click.option("--timezone", type=click.Choice(sorted(TIMEZONES)), help="Zone of times without one.")
@click.option("--verbose", "-v", is_flag=True, help="List every row, not only the rejected.")
@with_appcontext
def import_command(file, preset, dry_run, overrides, status, timezone, verbose):
    """Import donors from a CSV or XLSX file (matched by e-mail; importing again is harmless)."""
    with force_locale("en"):  # the language of the rest of the command line
        _import(file, preset, dry_run, overrides, status, timezone, verbose)


def _import(file, preset, dry_run, overrides, status, timezone, verbose):
    try:
        with file.open("rb") as upload:
            job = importing.create_job(file.name, upload, preset, None)
        db.session.commit()  # kept like an upload: its columns can still be chosen on the web
        importing.set_mapping(job, _mapping(job, overrides, status, timezone))
    except Invalid as invalid:
        raise click.ClickException(" ".join(str(m) for m in invalid.errors.values())) from invalid
    db.session.commit()
    headers, _ = read_file(importing.stored_file(job))
    for header, target in zip(headers, job.mapping["columns"], strict=True):
        click.echo(f"  {header or '?'} -> {target}")
    label = "Checking" if dry_run else "Importing"
    with click.progressbar(length=job.total_rows, label=f"{label} {job.total_rows} rows") as bar:
        if dry_run:
            job = importing.check(job.id, bar.update)
        else:
            importing.claim(job.id)
            job = importing.run(job.id, bar.update)
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{job.created} {verb} created, {job.updated} updated, {job.skipped} skipped, "
        f"{job.rejected} rejected (import #{job.id})."
    )
    shown = importing.rows_query(job.id, dry_run, None if verbose else ImportOutcome.REJECT)
    for row in db.session.scalars(shown):
        click.echo(f"  row {row.row_number} {row.outcome}: {describe(row.reason)}")
