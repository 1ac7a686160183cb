"""Tax receipts: numbered, immutable PDFs for succeeded gifts; annual receipts; exports."""

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from donors.portal import add_portal_section
    from legami.access import add_home, add_menu
    from legami.cli import add_demo
    from legami.models import Role
    from legami.scheduler import add_job
    from receipts import (
        annual_views,
        api,
        archive,
        archive_views,
        cli,
        demo,
        export_views,
        home,
        issuing,
        labels,
        pdf,
        portal,
        report_views,
        settings_views,
        views,
    )

    labels.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(portal.bp)
    api.init_app(app)
    add_portal_section(app, _l("Your receipts"), "receipts_portal.receipts")
    annual_views.init_app(app)
    app.register_blueprint(settings_views.bp)
    app.register_blueprint(archive_views.bp)
    report_views.init_app(app)
    app.cli.add_command(cli.receipts_cli)
    issuing.connect_signals(app)
    add_demo(app, demo.load)
    add_job(app, "receipts.issue_due", issuing.issue_due, seconds=10)
    add_job(app, "receipts.render_due", pdf.render_due, seconds=30)
    add_job(app, "receipts.check_archive", archive.check_all, seconds=24 * 3600)
    add_home(app, "receipts/staff/home.html", home.panel, Role.TREASURER, order=20)
    add_menu(
        app, _l("Receipts"), "receipts_staff.receipts", Role.TREASURER, Role.STAFF, group="treasury"
    )
    add_menu(
        app,
        _l("Annual receipts"),
        "receipts_annual.annual_receipts",
        Role.TREASURER,
        group="treasury",
    )
    add_menu(app, _l("Receipt exports"), "receipts_exports.index", Role.TREASURER, group="treasury")
    add_menu(
        app, _l("Receipt settings"), "receipts_settings.index", Role.TREASURER, group="treasury"
    )
    add_menu(app, _l("Receipt archive"), "receipts_archive.index", Role.TREASURER, group="treasury")
