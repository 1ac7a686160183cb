"""Mail: the sending layer (SMTP or outbox), staff mail; newsletters later."""

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from legami.access import add_menu
    from legami.models import Role
    from legami.scheduler import add_job
    from mailing import cli, donor_mail, queue, receipt_mail, staff_mail, thanks, views
    from mailing import scheduling, tracking_views

    app.register_blueprint(views.bp)
    app.register_blueprint(tracking_views.bp)
    staff_mail.connect_signals(app)
    thanks.connect_signals(app)
    donor_mail.connect_signals(app)
    receipt_mail.connect_signals(app)
    app.cli.add_command(cli.mailing_cli)
    add_job(app, "mailing.send_due", queue.send_due, seconds=15)
    add_job(
        app,
        scheduling.SYNC_JOB,
        scheduling.sync_running,
        seconds=app.config["NEWSLETTER_SYNC_SECONDS"],
        start_now=True,
    )
    add_menu(app, _l("Outbox"), "mailing.index", Role.STAFF)
