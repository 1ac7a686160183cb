"""Campaigns that fund generative pacts and community labs; their public and staff pages."""

from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from campaigns import api, demo, labels, panels, restitution_views, staff, views
    from legami.access import add_menu
    from legami.api import document
    from legami.cli import add_demo
    from legami.models import Role

    labels.init_app(app)
    panels.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(api.bp)
    restitution_views.init_app(app)
    document(app, api.PATHS, api.SCHEMAS)
    add_menu(app, _l("Campaigns"), "campaigns_staff.campaigns", Role.STAFF, group="fundraising")
    add_menu(app, _l("Pacts"), "campaigns_staff.pacts", Role.STAFF, group="fundraising")
    add_menu(app, _l("Labs"), "campaigns_staff.labs", Role.STAFF, group="fundraising")
    add_demo(app, demo.load)
