"""``flask --app app users ...``: manage users from an operator's shell (no HTTP, no authentication).

The same service functions as ``/user`` and ``/group``, called without a caller, so nothing is
checked: whoever can run this command can reach the database anyway. A password not given with
``--password`` is prompted for (twice, hidden), so that it stays out of the shell history.
"""

import json
import os

import click
from flask.cli import with_appcontext

from app.core.errors import ApiError
from app.core.permissions import CAMUNDA_ADMIN
from app.services.identity import bootstrap, groups, passwords, users
from schemas.identity import UserQuery, user_profile_dto


@click.group("users")
def users_cli():
    """Manage users (and administrators)."""


def _password(given):
    password = given if given is not None else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.ClickException("the password must not be empty")
    if len(password) > passwords.MAX_PASSWORD_LENGTH:
        raise click.ClickException(f"the password must be at most {passwords.MAX_PASSWORD_LENGTH} characters")
    return password


def _run(action):
    try:
        return action()
    except ApiError as error:
        raise click.ClickException(error.message) from None


@users_cli.command("create")
@click.argument("user_id")
@click.option("--password", default=None, help="The password (prompted for when not given).")
@click.option("--first-name", default=None)
@click.option("--last-name", default=None)
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Also make the user a member of camunda-admin (may do everything).")
@with_appcontext
def create(user_id, password, first_name, last_name, email, admin):
    """Create a user."""
    profile = {"id": user_id, "first_name": first_name, "last_name": last_name, "email": email}
    _run(lambda: users.create_user(None, profile, _password(password)))
    if admin:
        bootstrap.ensure_admin_group()
        _run(lambda: groups.add_member(None, CAMUNDA_ADMIN, user_id))
    click.echo(f"created user {user_id}" + (" (administrator)" if admin else ""))


@users_cli.command("set-password")
@click.argument("user_id")
@click.option("--password", default=None, help="The new password (prompted for when not given).")
@with_appcontext
def set_password(user_id, password):
    """Set a user's password (running web processes notice within AUTH_CACHE_SECONDS)."""
    _run(lambda: users.get_user(None, user_id))
    users.set_password(user_id, _password(password))
    click.echo(f"password of {user_id} set")


@users_cli.command("delete")
@click.argument("user_id")
@with_appcontext
def delete(user_id):
    """Delete a user with its memberships and authorizations."""
    _run(lambda: users.get_user(None, user_id))
    users.delete_user(None, user_id)
    click.echo(f"deleted user {user_id}")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print UserProfileDto JSON instead of a table.")
@with_appcontext
def list_users(as_json):
    """List the users and whether each is an administrator."""
    rows = users.list_users(None, UserQuery())
    if as_json:
        click.echo(json.dumps([user_profile_dto(row) for row in rows], indent=2))
        return
    if not rows:
        click.echo("no users")
        return
    table = [("ID", "FIRST NAME", "LAST NAME", "EMAIL", "ADMIN", "PASSWORD")]
    table += [(row["id"], row["first_name"] or "", row["last_name"] or "", row["email"] or "",
               "yes" if groups.is_member(row["id"], CAMUNDA_ADMIN) else "",
               "set" if row["password_hash"] else "none") for row in rows]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(table[0]))]
    for line in table:
        click.echo("  ".join(str(value).ljust(width) for value, width in zip(line, widths)).rstrip())


@users_cli.command("bootstrap")
@with_appcontext
def bootstrap_admin():
    """Create or update the administrator named by JOBSERVICE_ADMIN_USER / JOBSERVICE_ADMIN_PASSWORD
    (the Procfile's release step runs this; without the variables it does nothing)."""
    user_id = os.environ.get(bootstrap.ADMIN_USER_VARIABLE) or None
    password = os.environ.get(bootstrap.ADMIN_PASSWORD_VARIABLE) or None
    if user_id is None and password is None:
        click.echo(f"{bootstrap.ADMIN_USER_VARIABLE} is not set: no administrator to create or update")
        return
    if user_id is None or password is None:
        raise click.ClickException(f"set both {bootstrap.ADMIN_USER_VARIABLE} and "
                                   f"{bootstrap.ADMIN_PASSWORD_VARIABLE}, or neither")
    outcome = _run(lambda: bootstrap.bootstrap_administrator(user_id, password))
    click.echo(f"administrator {user_id}: {outcome}")
