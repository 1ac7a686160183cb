"""Tax receipts: numbered, immutable PDFs for succeeded gifts; annual receipts; exports."""


def init_app(app) -> None:
    from receipts import models  # noqa: F401
