"""`legami mailing …` commands."""

import imaplib
from contextlib import ExitStack

import click
from flask.cli import with_appcontext

from mailing import bounces, queue, scheduling, sending


@click.group("mailing", help="Mail queue and newsletters.")
def mailing_cli():
    pass


@mailing_cli.command("send-queued")
@with_appcontext
def send_queued():
    """Send the queued mail that is due now."""
    click.echo(f"Sent {queue.send_due()} messages.")


@mailing_cli.command("send-due")
@with_appcontext
def send_due():
    """Send the newsletters that are due and resume those a stopped sender left, once (for a
    cron install without `legami scheduler`). Those past the grace period become late."""
    late = scheduling.mark_late()
    runs = sending.run_due()
    for run in runs:
        outcome = run.outcome
        line = (
            f"Newsletter {run.newsletter_id} ({run.title}) "
            f"{'resumed' if run.resumed else 'started'}: {outcome.sent} sent, "
            f"{outcome.failed} failed ({outcome.skipped} unsubscribed or suppressed meanwhile), "
            f"{outcome.pending} left for a later run"
        )
        click.echo(
            line + ("; stopped: paused, cancelled or taken over." if outcome.paused else ".")
        )
    started = sum(not run.resumed for run in runs)
    click.echo(
        f"Newsletters: {started} started, {len(runs) - started} resumed, "
        f"{len(late)} past the grace period marked late."
    )


@mailing_cli.command("process-bounces")
@click.option("--maildir", type=click.Path(exists=True, file_okay=False), help="A Maildir folder.")
@click.option("--imap", "imap_url", help="imaps://user:password@host/INBOX")
@with_appcontext
def process_bounces(maildir, imap_url):
    """Read the bounce mailbox: hard bounces are marked and suppressed, mails to the
    unsubscribe address unsubscribe; each message is marked read, so a re-run skips it."""
    if bool(maildir) == bool(imap_url):
        raise click.UsageError("Give either --maildir PATH or --imap URL.")
    with ExitStack() as stack:

        def progress(total: int):
            bar = click.progressbar(length=total, label="Reading the mailbox")
            return stack.enter_context(bar).update

        try:
            if maildir:
                results = bounces.process_maildir(maildir, progress)
            else:
                results = bounces.process_imap(imap_url, progress)
        except (OSError, ValueError, imaplib.IMAP4.error) as exc:
            raise click.ClickException(str(exc)) from exc
    R = bounces.Result
    click.echo(
        f"Read {results.total()} messages: {results[R.BOUNCED]} hard bounces suppressed, "
        f"{results[R.UNSUBSCRIBED]} unsubscribed, {results[R.SOFT]} temporary failures "
        f"ignored, {results[R.KNOWN]} already recorded, {results[R.OTHER]} not ours."
    )
