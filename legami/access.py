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

    add_menu(app, _l("Organisations"), "staff.organisations", Role.TREASURER, group="admin")
    add_menu(app, _l("Users"), "staff.users", Role.ADMIN, group="admin")
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


# The back office's menu groups, by job, in the order the navigation shows them.
MENU_GROUPS = {
    "fundraising": _l("Fundraising"),
    "donors": _l("Donors"),
    "communication": _l("Communication"),
    "treasury": _l("Treasury"),
    "admin": _l("Administration"),
}


def add_menu(app, label, endpoint: str, *roles: Role, group: str, args: dict | None = None) -> None:
    """A back-office menu entry in one of MENU_GROUPS, shown to users holding one of `roles`
    (admin sees all); `args` are the link's query (a filtered list)."""
    if group not in MENU_GROUPS:
        raise ValueError(f"unknown menu group {group!r}")
    allowed = {Role(r).value for r in roles} | {Role.ADMIN.value}
    app.extensions.setdefault("legami.menu", []).append(
        {"label": label, "endpoint": endpoint, "args": args or {}, "roles": allowed, "group": group}
    )


def menu_for(app, user) -> list[dict]:
    """The menu groups the user may see, each with its entries in the order they were added:
    [{"key", "label", "items"}]; groups with no entry for the user are left out."""
    if user is None or not user.is_authenticated:
        return []
    entries = [
        item for item in app.extensions.get("legami.menu", []) if user.has_any_role(*item["roles"])
    ]
    groups = []
    for key, label in MENU_GROUPS.items():
        items = [item for item in entries if item["group"] == key]
        if items:
            groups.append({"key": key, "label": label, "items": items})
    return groups


def add_home(app, template: str, provider, *roles: Role, order: int = 50) -> None:
    """A panel of the staff home for users holding one of `roles` (admin sees all): the
    `template` rendered with `provider(user)`, a mapping of to-dos and figures. Panels show
    by `order` (to-dos first, then figures), then in the order they were added."""
    allowed = {Role(r).value for r in roles} | {Role.ADMIN.value}
    app.extensions.setdefault("legami.home", []).append(
        {"template": template, "provider": provider, "roles": allowed, "order": order}
    )


def home_for(app, user) -> list[tuple[str, dict]]:
    """The staff home's panels for the user, in the order they were added: (template, data)."""
    return [
        (panel["template"], panel["provider"](user))
        for panel in sorted(app.extensions.get("legami.home", []), key=lambda p: p["order"])
        if user.has_any_role(*panel["roles"])
    ]
