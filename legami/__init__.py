"""Legami: community fundraising for the network's generative pacts and community labs."""

import importlib
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from legami import params
from legami.config import ROOT, load_config
from legami.extensions import babel, csrf, db, limiter, login_manager, migrate

# The domain packages the shell loads by name, in dependency order; each has init_app(app).
DOMAIN_PACKAGES = ("campaigns", "donors", "payments", "receipts", "mailing")


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    instance = Path(instance_path or os.environ.get("LEGAMI_INSTANCE") or ROOT / "instance")
    app = Flask(
        "legami",
        instance_path=str(instance.resolve()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(instance, config))
    params.init_app(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N reverse proxies the client is the Nth address from the right.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=app.config["TRUSTED_PROXIES"]
        )

    from legami import (
        access,
        api,
        auth_views,
        cli,
        i18n,
        job_views,
        problems,
        security,
        staff_views,
        uploads,
        validation,
    )
    from legami.markdown import render_markdown

    i18n.init_app(app, babel)
    app.add_template_filter(render_markdown, "markdown")
    access.init_app(app, login_manager)
    security.init_app(app)
    problems.init_app(app)
    validation.init_app(app)
    uploads.init_app(app)
    api.init_app(app)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(staff_views.bp)
    job_views.init_app(app)
    cli.init_app(app)
    for name in DOMAIN_PACKAGES:
        importlib.import_module(name).init_app(app)
    return app
