"""`legami mailing …` commands."""

import click
from flask.cli import with_appcontext

from mailing import queue


@click.group("mailing", help="Mail queue and newsletters.")
def mailing_cli():
    pass


@mailing_cli.command("send-queued")
@with_appcontext
def send_queued():
    """Send the queued mail that is due now."""
    click.echo(f"Sent {queue.send_due()} messages.")
