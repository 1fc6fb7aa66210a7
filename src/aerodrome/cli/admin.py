"""`aerodrome user|team|token`: identity administration on the server's own database."""

from __future__ import annotations

from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from aerodrome.cli.common import fail, run_with_database, settings_or_exit
from aerodrome.db.resources import ListQuery, Row
from aerodrome.db.session import Database
from aerodrome.identity import schemas
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity

user_app = typer.Typer(help="Users.", no_args_is_help=True)
team_app = typer.Typer(help="Teams.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
console = Console(soft_wrap=True)

# Whoever can run the CLI on the server can open its database: they act as super admin.
OPERATOR = Identity(kind="user", id=None, name="operator", is_super_admin=True)
ALL = ListQuery(limit=10_000)
M = TypeVar("M", bound=BaseModel)


def _table(rows: list[Row], columns: list[str]) -> None:
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def _validated(schema: type[M], **values: object) -> M:
    try:
        return schema(**values)
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


@team_app.command("create")
def create_team(
    name: str, reads_all: Annotated[bool, typer.Option(help="May read every team.")] = False
) -> None:
    """Create a team."""
    data = _validated(schemas.TeamCreate, name=name, reads_all=reads_all)

    async def action(database: Database) -> Row:
        async with database.unit_of_work() as session:
            return await identity_service.team_service.create(session, OPERATOR, data)

    row = run_with_database(settings_or_exit(), action)
    console.print(f"team {row['name']} created: {row['id']}")


@team_app.command("list")
def list_teams() -> None:
    """List teams."""

    async def action(database: Database) -> list[Row]:
        async with database.unit_of_work(write=False) as session:
            return (await identity_service.team_service.list(session, OPERATOR, ALL)).rows

    _table(run_with_database(settings_or_exit(), action), ["id", "name", "reads_all", "state"])


@user_app.command("create")
def create_user(
    name: str,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team name (repeatable).")] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a user, optionally in some teams."""

    async def action(database: Database) -> Row:
        async with database.unit_of_work() as session:
            team_ids = [
                (await identity_service.team_service.get(session, OPERATOR, t))["id"]
                for t in team or []
            ]
            data = _validated(
                schemas.UserCreate, name=name, email=email, password=password, team_ids=team_ids
            )
            return await identity_service.user_service.create(session, OPERATOR, data)

    row = run_with_database(settings_or_exit(), action)
    console.print(f"user {row['name']} created: {row['id']}")


@user_app.command("list")
def list_users() -> None:
    """List users."""

    async def action(database: Database) -> list[Row]:
        async with database.unit_of_work(write=False) as session:
            return (await identity_service.user_service.list(session, OPERATOR, ALL)).rows

    _table(run_with_database(settings_or_exit(), action), ["id", "name", "email", "state"])


@user_app.command("passwd")
def set_password(
    name: str,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Set a user's password."""
    data = _validated(schemas.UserUpdate, password=password)

    async def action(database: Database) -> None:
        async with database.unit_of_work() as session:
            user = await identity_service.user_service.get(session, OPERATOR, name)
            await identity_service.user_service.update(
                session, OPERATOR, str(user["id"]), if_match=user["etag"], data=data
            )

    run_with_database(settings_or_exit(), action)
    console.print(f"password of {name} changed")


@token_app.command("create")
def create_token(
    user: Annotated[str, typer.Option(help="User name or e-mail.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    expires_in_days: Annotated[int | None, typer.Option(help="Lifetime in days.")] = None,
) -> None:
    """Create a bearer token; it is printed once and never stored."""
    data = _validated(schemas.TokenCreate, name=name, expires_in_days=expires_in_days)

    async def action(database: Database) -> str:
        async with database.unit_of_work() as session:
            owner = await identity_service.find_user(session, user)
            _row, token = await identity_service.create_token(session, owner["id"], data)
            return token

    print(run_with_database(settings_or_exit(), action))


@token_app.command("list")
def list_tokens(user: Annotated[str, typer.Option(help="User name or e-mail.")]) -> None:
    """List a user's tokens."""

    async def action(database: Database) -> list[Row]:
        async with database.unit_of_work(write=False) as session:
            owner = await identity_service.find_user(session, user)
            return await identity_service.list_tokens(session, owner["id"])

    rows = run_with_database(settings_or_exit(), action)
    _table(rows, ["id", "name", "created_at", "expires_at", "revoked_at"])
