"""`aerodrome`: serve, migrate, inspect the configuration and administer identities."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from aerodrome.cli import admin, keys
from aerodrome.cli import stats as stats_cli
from aerodrome.cli.common import fail, run_with_database, settings_or_exit
from aerodrome.db import migrate
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.ops.access_log import configure_logging, logging_config
from aerodrome.settings import CONFIG_FILE_ENV, Settings

app = typer.Typer(
    help="Aerodrome CI server.", no_args_is_help=True, pretty_exceptions_show_locals=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.team_app, name="team")
app.add_typer(admin.token_app, name="token")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(stats_cli.stats_app, name="stats")
console = Console(soft_wrap=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML settings file.", exists=True)
]


def _use_config(config: Path | None) -> None:
    # Through the environment, so that every uvicorn worker process reads the same file.
    if config is not None:
        os.environ[CONFIG_FILE_ENV] = str(config.resolve())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the HTTP server (upgrading an empty database first)."""
    _use_config(config)
    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v}
    for name, value in overrides.items():
        os.environ[f"AERODROME_{name.upper()}"] = str(value)
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_prepare_database(settings))
    uvicorn.run(
        "aerodrome.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=logging_config(settings.log_level),
        access_log=False,
        log_level=settings.log_level,
        proxy_headers=True,
        # Open keep-alive or streaming connections must not hold a stopping server forever.
        timeout_graceful_shutdown=10,
    )


async def _prepare_database(settings: Settings) -> None:
    database = Database(settings)
    try:
        await migrate.ensure_schema(database, settings.effective_database_url, upgrade_empty=True)
        admin_password = settings.admin_password
        async with database.unit_of_work() as session:
            generated = await identity_service.ensure_admin(
                session, admin_password.get_secret_value() if admin_password else None
            )
        if generated:
            console.print(
                f"Created user [bold]admin[/] with password [bold]{generated}[/] "
                "(shown once: change it, or set AERODROME_ADMIN_PASSWORD before first start)."
            )
    except migrate.SchemaError as exc:
        fail(str(exc))
    finally:
        await database.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
    config: ConfigOption = None,
) -> None:
    """Apply the schema migrations."""
    _use_config(config)
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(migrate.upgrade(settings.effective_database_url, revision))
    console.print(f"Database schema at {revision}.")


@db_app.command("status")
def db_status(config: ConfigOption = None) -> None:
    """Show the schema revision of the database and of the code."""
    _use_config(config)

    async def status(database: Database) -> migrate.SchemaStatus:
        return await migrate.schema_status(database)

    result = run_with_database(settings_or_exit(), status)
    current = ", ".join(sorted(result.current)) or "empty"
    console.print(f"database: {current}  code: {', '.join(sorted(result.head))}")


@config_app.command("show")
def config_show(config: ConfigOption = None) -> None:
    """Print the effective settings, secrets masked."""
    _use_config(config)
    for name, value in settings_or_exit().masked().items():
        console.print(f"{name} = {value!r}", highlight=False)
