"""Donors: people and organisations who give; the CRM grows here."""


def init_app(app) -> None:
    from donors import (
        dashboard_views,
        models,  # noqa: F401 - the tables must be known to migrations
        views,
    )

    views.init_app(app)
    dashboard_views.init_app(app)

    from donors import merge_views, privacy_views

    merge_views.init_app(app)
    privacy_views.init_app(app)

    from donors import consent_views, portal_views

    consent_views.init_app(app)
    portal_views.init_app(app)

    from donors import cli, import_views

    import_views.init_app(app)
    app.cli.add_command(cli.donors_cli)

    from donors import api, segment_views, suggestion_views

    segment_views.init_app(app)
    api.init_app(app)
    suggestion_views.init_app(app)
