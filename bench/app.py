"""The app the benchmarks serve: Legami as configured by the environment, plus a bare route."""

from legami import create_app


def create():
    app = create_app()

    @app.get("/bench/bare")
    def bare():
        return "ok"

    return app
