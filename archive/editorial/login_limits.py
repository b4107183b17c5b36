"""Log-in limits: failures counted per account and client together, and per client, in the database.

An attacker's wrong passwords use up their own tries: the account's owner, from another
address, is never refused because of them. One client trying many accounts is slowed by
the per-client limit. The counts live in the database, so every site worker and a
restarted site share them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive import store
from archive.editorial.accounts import normalise_email


@dataclass(frozen=True)
class LoginLimits:
    """(burst, refill per second) of each limit."""

    # One client on one account: 5 tries, then one a minute (slows guessing that password).
    account_client: tuple[int, float] = (5, 1 / 60)
    # One client on any account: 10 tries, then one every 6 s.
    client: tuple[int, float] = (10, 1 / 6)


def _buckets(email: str, client: str, limits: LoginLimits) -> tuple[store.Bucket, store.Bucket]:
    account = normalise_email(email)
    return (
        store.Bucket(f"account+client\0{account}\0{client}", *limits.account_client),
        store.Bucket(f"client\0{client}", *limits.client),
    )


def before_try(session: Session, email: str, client: str, limits: LoginLimits) -> float:
    """Take this try from both limits: 0.0 to go ahead, else seconds this client must wait."""
    return store.take_tokens(session, list(_buckets(email, client, limits)), store.now())


def after_success(session: Session, email: str, client: str, limits: LoginLimits) -> None:
    """The right password: this client's failures on the account are forgotten, its try given back."""
    account_client, by_client = _buckets(email, client, limits)
    store.empty_bucket(session, account_client)
    store.return_token(session, by_client, store.now())
