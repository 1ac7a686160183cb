"""Other packages add boxes to the campaign page (the gift button, the donor wall)
without campaigns knowing them: a list of template names the page includes."""


def add_panel(app, template: str) -> None:
    app.extensions.setdefault("campaigns.panels", []).append(template)


def init_app(app) -> None:
    app.extensions.setdefault("campaigns.panels", [])
    app.context_processor(lambda: {"campaign_panels": app.extensions["campaigns.panels"]})
