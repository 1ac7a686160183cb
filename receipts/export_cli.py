"""`legami receipts export-...`: the treasurer's exports from the command line (audited as
done by no user)."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from legami.csv_export import write_xlsx
from receipts import exports


def _organisation_id(slug: str | None) -> int | None:
    if not slug:
        return None
    found = exports.find_organisation(slug)
    if found is None:
        raise click.BadParameter(f"no organisation {slug!r}", param_hint="--organisation")
    return found.id


def _scope(year, date_from, date_to, organisation, campaign) -> exports.Scope:
    campaign_id = None
    if campaign:
        found = exports.find_campaign(campaign)
        if found is None:
            raise click.BadParameter(f"no campaign {campaign!r}", param_hint="--campaign")
        campaign_id = found.id
    return exports.Scope(
        year=year,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
        organisation_id=_organisation_id(organisation),
        campaign_id=campaign_id,
    )


def scope_options(command):
    for option in reversed(
        [
            click.option("--year", type=int, help="Receipts issued in this year."),
            click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"])),
            click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"])),
            click.option("--organisation", help="Only this organisation (its slug)."),
            click.option("--campaign", help="Only receipts for gifts to this campaign (slug)."),
        ]
    ):
        command = option(command)
    return command


@click.command("export-zip")
@scope_options
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_zip(year, date_from, date_to, organisation, campaign, out):
    """The receipts' PDFs and an index.csv in the ZIP file OUT."""
    scope = _scope(year, date_from, date_to, organisation, campaign)
    total = len(exports.receipt_ids(scope))
    exports.record(None, "zip", **scope.describe())
    with out.open("wb") as handle, click.progressbar(length=total, label="Receipts") as bar:
        written = exports.write_zip(scope, handle, bar.update)
    click.echo(f"{written} receipts written to {out}")


@click.command("export-ledger")
@scope_options
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_ledger(year, date_from, date_to, organisation, campaign, out):
    """The receipts' ledger in OUT: CSV, or XLSX when OUT ends in .xlsx."""
    scope = _scope(year, date_from, date_to, organisation, campaign)
    fmt = "xlsx" if out.suffix.lower() == ".xlsx" else "csv"
    exports.record(None, "ledger", format=fmt, **scope.describe())
    if fmt == "xlsx":
        with out.open("wb") as handle:
            write_xlsx("Receipts", exports.LEDGER_HEADER, exports.ledger_rows(scope), handle)
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(exports.ledger_csv(scope))
    click.echo(f"Ledger written to {out}")


@click.command("export-precompilata")
@click.option("--year", type=int, required=True, help="The year of the gifts.")
@click.option("--organisation", required=True, help="The organisation (its slug).")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_precompilata(year, organisation, out):
    """The precompilata prospetto in OUT (not the file the Agenzia receives: its record
    layout is not implemented), the worksheet beside it (OUT's name with -foglio) and the
    donors left out (-esclusi: no codice fiscale, or a wrong check character)."""
    found = exports.find_organisation(organisation)
    if found is None:
        raise click.BadParameter(f"no organisation {organisation!r}", param_hint="--organisation")
    suffix = out.suffix or ".csv"
    sheet = out.with_name(f"{out.stem}-foglio{suffix}")
    apart = out.with_name(f"{out.stem}-esclusi{suffix}")
    exports.record(None, "precompilata", year=year, organisation=found.id)
    out.write_text(exports.prospetto_csv(year, found), encoding="utf-8")
    sheet.write_text(exports.worksheet_csv(year, found.id), encoding="utf-8")
    apart.write_text(exports.left_out_csv(year, found.id), encoding="utf-8")
    click.echo(f"Prospetto written to {out}; worksheet in {sheet}; donors left out in {apart}")


COMMANDS = [export_zip, export_ledger, export_precompilata]
