"""Editor log-in: Flask-Login sessions, CSRF on every state change, rate limits, safe redirects."""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from archive.config import Settings
from archive.editorial import accounts, login_limits
from web.context import archive

bp = Blueprint("auth", __name__, url_prefix="/editor")
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = None  # the log-in page says it all; a stray flash would show after log-in


@dataclass(frozen=True)
class Editor(UserMixin):  # type: ignore[misc]
    """The logged-in account as the request sees it (detached from the database session)."""

    id: int
    email: str
    name: str
    role: str
    session_version: int

    def get_id(self) -> str:
        # The version is part of the id: bumping it (logout, new password) voids every old cookie.
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        """Admins may also change show-wide settings."""
        return self.role == "admin"

    @classmethod
    def of(cls, user: Any) -> Editor:
        """From a users row."""
        return cls(user.id, user.email, user.name or user.email, user.role, user.session_version)


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login is untyped
def load_editor(user_id: str) -> Editor | None:
    """The cookie's account, only if it is enabled and the cookie's session version is current."""
    uid, _, version = user_id.partition(":")
    if not uid.isdigit() or not version.isdigit():
        return None
    with archive().db.session() as s:
        user = accounts.get_user(s, int(uid))
        if user is None or user.disabled or user.session_version != int(version):
            return None
        return Editor.of(user)


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Like login_required, and the account must be an admin."""

    @wraps(view)
    @login_required  # type: ignore[untyped-decorator]  # Flask-Login is untyped
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None, default: str = "/editor/") -> str:
    """A local path to continue to after log-in; anything that could leave the site gives `default`.

    >>> [safe_next(t, "/") for t in ["/editor/queue?x=1", "//evil.org", "/\\\\evil.org", "/\\t/evil.org",
    ...     "https:evil.org", "javascript:alert(1)", "http://evil.org/", "editor", "/%0a/evil", None]]
    ['/editor/queue?x=1', '/', '/', '/', '/', '/', '/', '/', '/', '/']
    """
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers drop tabs and newlines and read "\" as "/": "/\t/evil" and "/\evil" both go off-site.
    if "\\" in target or any(ord(c) < 0x21 or c == "\x7f" for c in target) or "%0" in target.lower():
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class PasswordForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    new = PasswordField("New password", validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD, max=1024)])
    again = PasswordField("New password again", validators=[DataRequired(), EqualTo("new")])


class EmptyForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF is untyped
    """A form with only the CSRF token (log out, publish, ...)."""


def _limits() -> login_limits.LoginLimits:
    """The log-in limits (tests set LOGIN_RATE_ACCOUNT_CLIENT and LOGIN_RATE_CLIENT to small ones)."""
    default = login_limits.LoginLimits()
    return login_limits.LoginLimits(
        account_client=current_app.config.get("LOGIN_RATE_ACCOUNT_CLIENT", default.account_client),
        client=current_app.config.get("LOGIN_RATE_CLIENT", default.client),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Log in with email and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data))
    error = None
    status = 200
    if form.validate_on_submit():
        email, client = form.email.data or "", request.remote_addr or "-"
        with archive().db.session() as s:
            # Counted per account and client together: someone else's failures never lock this client out.
            wait = login_limits.before_try(s, email, client, _limits())
        if wait > 0:
            error, status = "Too many attempts; wait a minute and try again.", 429
        else:
            with archive().db.session() as s:
                user = accounts.authenticate(s, email, form.password.data or "")
                editor = Editor.of(user) if user else None
                if editor is not None:
                    login_limits.after_success(s, email, client, _limits())
            if editor is None:
                error, status = "Wrong email or password.", 401
                current_app.logger.info("login failed email=%s client=%s", email, client)
            else:
                # A fresh session: whatever an attacker planted in the old one is gone.
                session.clear()
                login_user(editor)
                return redirect(safe_next(form.next.data))
    elif request.method == "POST":
        status = 400
    response = current_app.make_response((render_template("editor/login.html", form=form, error=error), status))
    if status == 429:
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Log out here and everywhere else this account is logged in."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    with archive().db.session() as s:
        user = accounts.get_user(s, current_user.id)
        if user is not None:
            accounts.end_sessions(user)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():  # type: ignore[no-untyped-def]
    """Change one's password; every other session of the account ends."""
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        with archive().db.session() as s:
            user = accounts.authenticate(s, current_user.email, form.current.data or "")
            if user is None:
                error = "The current password is wrong."
            else:
                accounts.set_password(s, user, form.new.data or "")
                editor = Editor.of(user)
        if error is None:
            session.clear()
            login_user(editor)
            flash("Password changed; other sessions were logged out.")
            return redirect(url_for("editor.queue"))
    return render_template("editor/password.html", form=form, error=error)


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over https (directly or via a proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


def _secret_key(settings: Settings) -> str:
    """The configured key, else one generated once and kept in the data directory (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    key = _read_key(path)
    if key:
        return key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: a worker reading at the same
    # moment sees no file or the whole key, never an empty one (it did, between create and write).
    fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=settings.data_dir)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if the name exists: never replaces another worker's key
        except FileExistsError:
            if not _read_key(path):
                # An empty file left by a version that crashed between creating and writing it.
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return _read_key(path)


def _read_key(path: Path) -> str:
    """The key in the file; empty when there is no file or nothing in it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def init(app: Flask, settings: Settings) -> None:
    """CSRF on every POST of the app, the login manager, cookie flags and the auth routes."""
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(settings)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["WTF_CSRF_TIME_LIMIT"] = 8 * 3600  # a long editing session still saves
    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    app.register_blueprint(bp)
