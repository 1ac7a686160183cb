"""`legami receipts ...`: receipts from the command line."""

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from legami.extensions import db
from legami.models import Organisation
from receipts import annual, archive
from receipts.export_cli import COMMANDS as EXPORT_COMMANDS


@click.group("receipts", help="Tax receipts.")
def receipts_cli():
    pass


@receipts_cli.command("issue-annual")
@click.option("--year", type=int, required=True, help="The year whose gifts the receipts list.")
@click.option("--organisation", "slug", help="Only this organisation (its slug).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    help="Processes rendering the PDFs (default: one per core).",
)
@with_appcontext
def issue_annual_command(year, slug, workers):
    """Issue the missing annual receipts of YEAR and store their PDFs (re-running is safe)."""
    organisation_id = None
    if slug:
        organisation_id = db.session.scalar(
            select(Organisation.id).where(Organisation.slug == slug)
        )
        if organisation_id is None:
            raise click.BadParameter(f"no organisation {slug!r}", param_hint="--organisation")
    with click.progressbar(length=1, label=f"Annual receipts {year}") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        outcome = annual.issue_annual(year, organisation_id, workers, progress)
    click.echo(
        f"{outcome.issued} annual receipts issued, {outcome.rendered} PDFs stored; "
        f"{outcome.skipped} donors already had theirs."
    )


@receipts_cli.command("check-archive")
@with_appcontext
def check_archive_command():
    """Re-read every stored receipt PDF and compare its SHA-256 (what the daily job does)."""
    check = archive.check_all()
    click.echo(f"{check.files_checked} files read; {len(check.problems)} missing or changed.")
    for problem in check.problems:
        click.echo(f"  {problem['number']} ({problem['file']}): {problem['problem']}")
    if check.problems:
        raise SystemExit(1)


for command in EXPORT_COMMANDS:
    receipts_cli.add_command(command)
