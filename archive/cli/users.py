"""`podarchive users`: editor and admin accounts (cli.Context arrives through click's ctx.obj)."""

from __future__ import annotations

import sys
from typing import Any

import click

from archive.editorial import accounts


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
