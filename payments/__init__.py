"""Payments: gifts by card (Stripe), bank transfer and offline; refunds; webhooks; totals."""

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from campaigns.panels import add_panel
    from donors.portal import add_portal_section
    from legami.access import add_home, add_menu
    from legami.cli import add_demo
    from legami.identifiers import format_iban
    from legami.models import Role
    from payments import (
        demo,
        giver_details,
        home,
        labels,
        ledger_staff_views,
        ledger_views,
        matching_views,
        page_views,
        portal,
        staff,
        views,
        wall,
    )

    labels.init_app(app)
    giver_details.connect_signals(app)
    matching_views.init_app(app)
    ledger_views.init_app(app)
    ledger_staff_views.init_app(app)
    page_views.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(portal.bp)
    add_portal_section(app, _l("Your gifts"), "payments_portal.gifts")
    add_portal_section(app, _l("Monthly gifts"), "payments_portal.monthly")
    app.jinja_env.globals["donor_wall"] = wall.recent_gifts
    app.jinja_env.globals["iban"] = format_iban
    add_panel(app, "payments/_give_panel.html")
    add_demo(app, demo.load)
    add_menu(
        app,
        _l("Donations"),
        "payments_staff.donations",
        Role.TREASURER,
        Role.STAFF,
        group="treasury",
    )
    add_menu(
        app,
        _l("Bank transfers"),
        "payments_staff.donations",
        Role.TREASURER,
        group="treasury",
        args={"method": "bank_transfer", "status": "pending"},
    )
    add_menu(
        app, _l("Bank statements"), "payments_staff.statements", Role.TREASURER, group="treasury"
    )
    add_menu(app, _l("Payment events"), "payments_staff.events", Role.TREASURER, group="treasury")
    add_home(app, "payments/staff/home.html", home.panel, Role.TREASURER, Role.STAFF, order=10)
