"""`aerodrome stats clean-nonces`: stats maintenance (the server also does it daily)."""

from __future__ import annotations

import typer
from rich.console import Console

from aerodrome.cli.common import run_with_database, settings_or_exit
from aerodrome.db.session import Database
from aerodrome.stats import keys

stats_app = typer.Typer(help="Non-functional stats.", no_args_is_help=True)
console = Console(soft_wrap=True)


@stats_app.command("clean-nonces")
def clean_nonces() -> None:
    """Remove the OAuth nonces whose timestamps can no longer be accepted."""
    settings = settings_or_exit()

    async def action(database: Database) -> int:
        async with database.unit_of_work() as session:
            return await keys.clean_nonces(session, window_seconds=settings.oauth_timestamp_window)

    removed = run_with_database(settings, action)
    console.print(f"removed {removed} expired nonces")
