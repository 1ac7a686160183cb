"""Staff login and role checks for the back office."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from legami import params
from legami.extensions import db
from legami.models import Role, User


def init_app(app, login_manager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        """`<id>:<session version>` (User.get_id); an older version is a session ended."""
        user_id, _, version = session_id.partition(":")
        try:
            user = db.session.get(User, params.parse(user_id, params.ID, "user"))
        except params.BadParameter:
            return None
        if user is None or not user.is_active or version != str(user.session_version):
            return None
        return user

    add_menu(app, _l("Organisations"), "staff.organisations", Role.TREASURER)
    add_menu(app, _l("Users"), "staff.users", Role.ADMIN)
    app.context_processor(lambda: {"staff_menu": menu_for(app, current_user)})


def roles_required(*roles: Role):
    """Anonymous -> login page; logged in without one of `roles` -> 403. Admin passes every check.

    The roles are kept on the view (`required_roles`) so tests can check every route has them.
    """
    allowed = {Role(r).value for r in roles} | {Role.ADMIN.value}

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not current_user.has_any_role(*allowed):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(allowed)
        return wrapper

    return decorator


def add_menu(app, label, endpoint: str, *roles: Role) -> None:
    """A back-office menu entry, shown to users holding one of `roles` (admin sees all)."""
    allowed = {Role(r).value for r in roles} | {Role.ADMIN.value}
    app.extensions.setdefault("legami.menu", []).append(
        {"label": label, "endpoint": endpoint, "roles": allowed}
    )


def menu_for(app, user) -> list[dict]:
    if user is None or not user.is_authenticated:
        return []
    return [
        item for item in app.extensions.get("legami.menu", []) if user.has_any_role(*item["roles"])
    ]
