"""`aerodrome keys add|list|del`: OAuth client keys of stats submitters (NFSS's keys-*)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aerodrome.cli.common import run_with_database, settings_or_exit
from aerodrome.db.resources import Row
from aerodrome.db.session import Database
from aerodrome.stats import keys

keys_app = typer.Typer(help="OAuth client keys of stats submitters.", no_args_is_help=True)
console = Console(soft_wrap=True)
TEMPLATE = Path(__file__).with_name("submitter_template.py.txt")


@keys_app.command("add")
def add_key(
    name: Annotated[str, typer.Option(prompt="Client name", help="Who will submit data.")],
    contact: Annotated[
        str, typer.Option(prompt="Contact e-mail", help="Whom to ask about this client.")
    ],
    url: Annotated[
        str | None, typer.Option(help="Server URL the client submits to (default: this one).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the submitter script.")
    ] = None,
) -> None:
    """Create a client key and write a ready-to-run Python script that submits with it."""
    settings = settings_or_exit()

    async def action(database: Database) -> Row:
        async with database.unit_of_work() as session:
            return await keys.add_key(session, name=name, contact=contact)

    row = run_with_database(settings, action)
    server = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    slug = re.sub(r"[^A-Za-z0-9]+", "_", row["name"]).strip("_").lower() or "client"
    path = output or Path(f"nfss_submit_{slug}.py")
    write_script(path, server=server, key=row["key"], secret=row["secret"], name=row["name"])
    console.print(f"client key {row['key']} created for {row['name']}")
    console.print(f"submitter script written to {path} (it holds the secret: keep it private)")


def write_script(path: Path, *, server: str, key: str, secret: str, name: str) -> None:
    text = TEMPLATE.read_text()
    for placeholder, value in {
        "@SERVER@": server,
        "@CLIENT_KEY@": key,
        "@CLIENT_SECRET@": secret,
        "@CLIENT_NAME@": name,
    }.items():
        text = text.replace(placeholder, repr(value)[1:-1])
    path.write_text(text)
    path.chmod(0o700)  # it holds the client's secret


@keys_app.command("list")
def list_keys() -> None:
    """List the client keys (secrets are never shown again)."""

    async def action(database: Database) -> list[Row]:
        async with database.unit_of_work(write=False) as session:
            return await keys.list_keys(session)

    # One line per key, never truncated: the key is what `keys del` needs.
    for row in run_with_database(settings_or_exit(), action):
        created = row["created_at"].isoformat(timespec="seconds")
        console.print(f"{row['key']}  {row['name']} <{row['contact']}>  {created}", highlight=False)


@keys_app.command("del")
def delete_key(key: str) -> None:
    """Revoke a client key."""

    async def action(database: Database) -> None:
        async with database.unit_of_work() as session:
            await keys.delete_key(session, key)

    run_with_database(settings_or_exit(), action)
    console.print(f"client key {key} deleted")
