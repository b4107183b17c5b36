"""Editors' API tokens for assistants and scripts: shown once, kept as a SHA-256, revoked by deletion."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.editorial.accounts import User, get_by_email
from archive.store.schema import ApiToken, utcnow

PREFIX = "pa_"
# Coarse on purpose: a write per request would put every assistant call in the database's write queue.
LAST_USED_GRAIN = timedelta(hours=1)


class TokenError(Exception):
    """No such account or token, or the account is disabled."""


@dataclass(frozen=True)
class TokenView:
    """A token as its owner lists it (never the token itself)."""

    id: int
    email: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def digest(token: str) -> str:
    """What the database keeps of a token.

    The tokens are 256 random bits, so a fast hash is as safe as a slow one: nobody can
    guess their way back from it, and checking one costs no argon2 round per request.

    >>> digest("pa_x") == hashlib.sha256(b"pa_x").hexdigest()
    True
    """
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, email: str, name: str = "") -> tuple[str, TokenView]:
    """A new token for an enabled account: (the token, shown only now; its listing)."""
    user = get_by_email(session, email)
    if user is None:
        raise TokenError(f"no account {email}")
    if user.disabled:
        raise TokenError(f"{user.email} is disabled")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip()[:255], token_hash=digest(token))
    session.add(row)
    session.flush()
    return token, TokenView(row.id, user.email, row.name, row.created_at, None)


def token_user(session: Session, token: str) -> User | None:
    """The enabled account a token belongs to, else None (unknown, revoked or disabled)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == digest(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if user.disabled:
        return None
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_GRAIN:
        api_token.last_used_at = now
        session.flush()
    return user


def list_tokens(session: Session, email: str | None = None) -> list[TokenView]:
    """Every token (or one account's), oldest first."""
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if email is not None:
        query = query.where(User.email == email.strip().lower())
    return [TokenView(t.id, e, t.name, t.created_at, t.last_used_at) for t, e in session.execute(query)]


def revoke_token(session: Session, token_id: int) -> bool:
    """Delete a token; False when there was none with this id."""
    done = session.execute(delete(ApiToken).where(ApiToken.id == token_id))
    return bool(getattr(done, "rowcount", 0))
