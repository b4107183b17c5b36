"""Editor accounts: argon2id password hashes, roles, disabling, session invalidation."""

from __future__ import annotations

import contextlib
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.store.schema import User as User  # editors and the site type accounts with it
from archive.store.schema import utcnow

ROLES = ("editor", "admin")
MIN_PASSWORD = 10
# argon2-cffi's defaults are RFC 9106's second recommended (low-memory) argon2id profile.
HASHER = PasswordHasher()


# Verified against when the email is unknown, so a miss costs as much time as a hit.
@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, made on first use (argon2 takes ~0.3 s)."""
    return HASHER.hash("not a password of anyone")


class AccountError(Exception):
    """A bad email, role or password, or an unknown user."""


def normalise_email(email: str) -> str:
    """Emails compared without case or surrounding spaces.

    >>> normalise_email("  Ed@Example.ORG ")
    'ed@example.org'
    """
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"passwords need at least {MIN_PASSWORD} characters")


def add_user(session: Session, email: str, password: str, role: str = "editor", name: str = "") -> User:
    """Create an account; the email must be new."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 255:
        raise AccountError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if get_by_email(session, email) is not None:
        raise AccountError(f"{email} already has an account")
    _check_password(password)
    user = User(email=email, name=name.strip()[:255], password_hash=HASHER.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def get_by_email(session: Session, email: str) -> User | None:
    """The account with this email, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, user_id: int) -> User | None:
    """One account by id."""
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every account, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The enabled account these credentials open, else None; rehashes when the parameters changed."""
    user = get_by_email(session, email)
    if user is None:
        with contextlib.suppress(VerificationError):
            HASHER.verify(_dummy_hash(), password)
        return None
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user.disabled:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and end every session opened with the old one."""
    _check_password(password)
    user.password_hash = HASHER.hash(password)
    end_sessions(user)
    session.flush()


def end_sessions(user: User) -> None:
    """Invalidate every login cookie issued for this user so far."""
    user.session_version = (user.session_version or 0) + 1


def set_disabled(session: Session, user: User, disabled: bool = True) -> None:
    """Disable (or re-enable) an account; disabling also ends its sessions."""
    user.disabled = disabled
    if disabled:
        end_sessions(user)
    session.flush()
