"""A confirmation step before an action that cannot be undone, working without script.

The action's form posts as usual; its view checks the input, then, unless the post says
`confirmed=1`, answers with a page that says what will happen (amounts, who is mailed) and
posts the same fields again, confirmed. Nothing changes before that second post.
"""

from flask import render_template, request

CONFIRMED = "confirmed"


def confirmed() -> bool:
    return request.form.get(CONFIRMED) == "1"


def ask(title: str, consequences: list[str], button: str, back: str):
    """The confirmation page: `consequences` listed, `button` re-posts the request's fields
    to the same address with `confirmed=1`, a link goes `back` without doing anything."""
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", CONFIRMED)
    ]
    return render_template(
        "legami/confirm.html",
        title=title,
        consequences=consequences,
        button=button,
        back=back,
        action=request.path,
        fields=fields,
    )
