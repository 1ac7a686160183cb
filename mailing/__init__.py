"""Mail: the sending layer (SMTP or outbox), transactional mail (thank-yous, receipts, portal
links), newsletters (composer, audience, scheduling, sending, bounces, report) and their API."""

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from legami.access import add_home, add_menu
    from legami.models import Role
    from legami.scheduler import add_job
    from mailing import (
        api,
        cli,
        donor_mail,
        home,
        mail_settings_views,
        newsletter_views,
        page_mail,
        queue,
        receipt_mail,
        report_back_views,
        scheduling,
        sending,
        sending_views,
        staff_mail,
        thanks,
        tracking_views,
        views,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(sending_views.bp)
    api.init_app(app)
    app.register_blueprint(tracking_views.bp)
    app.register_blueprint(newsletter_views.bp)
    app.register_blueprint(mail_settings_views.bp)
    app.register_blueprint(report_back_views.bp)
    app.jinja_env.globals["report_back_endpoint"] = "mailing_report_back.from_ledger"
    staff_mail.connect_signals(app)
    thanks.connect_signals(app)
    donor_mail.connect_signals(app)
    receipt_mail.connect_signals(app)
    page_mail.connect_signals(app)
    app.cli.add_command(cli.mailing_cli)
    add_job(app, "mailing.send_due", queue.send_due, seconds=15)
    add_job(
        app,
        scheduling.SYNC_JOB,
        scheduling.sync_running,
        seconds=app.config["NEWSLETTER_SYNC_SECONDS"],
        start_now=True,
    )
    # The date jobs start sends; this resumes one a dead or paused-then-resumed sender left.
    add_job(app, "newsletters.send_due", sending.send_due, seconds=20)
    add_home(app, "mailing/home.html", home.panel, Role.STAFF, order=30)
    add_menu(app, _l("Newsletters"), "newsletters.index", Role.STAFF, group="communication")
    add_menu(app, _l("Outbox"), "mailing.index", Role.STAFF, group="communication")
    add_menu(app, _l("Sender"), "newsletter_settings.index", Role.STAFF, group="communication")
