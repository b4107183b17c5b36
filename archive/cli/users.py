"""`podarchive users`: editor and admin accounts (cli.Context arrives through click's ctx.obj)."""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.editorial import accounts, tokens


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def users() -> None:
    """Manage editor and admin accounts."""


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), default="editor", show_default=True)
@click.option("--name", default="", help="The name shown in revision history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def users_add(ctx: Any, email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account."""
    password = _read_password(password_stdin)
    try:
        with ctx.archive.db.session() as s:
            user = accounts.add_user(s, email, password, role=role, name=name)
            click.echo(f"added {user.email} ({user.role})")
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@users.command("passwd")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def users_passwd(ctx: Any, email: str, password_stdin: bool) -> None:
    """Set a new password; every open session of the account ends."""
    password = _read_password(password_stdin)
    try:
        with ctx.archive.db.session() as s:
            user = accounts.get_by_email(s, email)
            if user is None:
                raise accounts.AccountError(f"no account {email}")
            accounts.set_password(s, user, password)
            click.echo(f"password changed for {user.email}")
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@users.command("list")
@click.pass_obj
def users_list(ctx: Any) -> None:
    """Every account: email, role, state, last login."""
    with ctx.archive.db.session() as s:
        for u in accounts.list_users(s):
            last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            state = "disabled" if u.disabled else "active"
            click.echo(f"{u.email}\t{u.role}\t{state}\t{last}\t{u.name}")


@users.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Re-enable the account instead.")
@click.pass_obj
def users_disable(ctx: Any, email: str, enable: bool) -> None:
    """Disable an account (its sessions end at once), or re-enable it."""
    with ctx.archive.db.session() as s:
        user = accounts.get_by_email(s, email)
        if user is None:
            raise click.ClickException(f"no account {email}")
        accounts.set_disabled(s, user, not enable)
        click.echo(f"{'enabled' if enable else 'disabled'} {user.email}")


@users.command("token")
@click.argument("email")
@click.option("--name", default="", help='What the token is for, e.g. "Claude Desktop".')
@click.pass_obj
def users_token(ctx: Any, email: str, name: str) -> None:
    """Create an API token for assistants and scripts (MCP write tools); printed once, only its hash is kept."""
    try:
        with ctx.archive.db.session() as s:
            token, view = tokens.create_token(s, email, name)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)
    # The token alone on stdout (for scripts); the words about it on stderr.
    click.echo(f"token {view.id} of {view.email}, shown only now (revoke-token {view.id} revokes it)", err=True)


@users.command("tokens")
@click.argument("email", required=False)
@click.pass_obj
def users_tokens(ctx: Any, email: str | None) -> None:
    """Every API token (or one account's): id, email, name, created, last used."""
    with ctx.archive.db.session() as s:
        for t in tokens.list_tokens(s, email):
            used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
            click.echo(f"{t.id}\t{t.email}\t{t.name}\t{t.created_at.isoformat(timespec='minutes')}\t{used}")


@users.command("revoke-token")
@click.argument("token_id", type=int)
@click.pass_obj
def users_revoke_token(ctx: Any, token_id: int) -> None:
    """Delete an API token: assistants using it lose the write tools at once."""
    with ctx.archive.db.session() as s:
        if not tokens.revoke_token(s, token_id):
            raise click.ClickException(f"no token {token_id}")
    click.echo(f"revoked token {token_id}")
