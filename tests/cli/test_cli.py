"""The `aerodrome` command: configuration, migrations, start-up checks and administration."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from aerodrome.cli.main import app
from tests.conftest import ADMIN, Backend, _free_port, basic, start_server

runner = CliRunner()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AERODROME_DATA_DIR": str(tmp_path), "AERODROME_DATABASE_URL": "", **extra}


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        AERODROME_ADMIN_PASSWORD="hunter22",
        AERODROME_DATABASE_URL="postgresql://aero:dbsecret@db.example/aero",
    )
    result = runner.invoke(app, ["config", "show"], env=env)
    assert result.exit_code == 0, result.output
    assert "hunter22" not in result.output
    assert "dbsecret" not in result.output
    assert "admin_password = '********'" in result.output
    assert "database_url = 'postgresql+asyncpg://aero:********@db.example/aero'" in result.output


def test_config_file_and_environment_precedence(tmp_path: Path) -> None:
    config = tmp_path / "aerodrome.toml"
    config.write_text('[aerodrome]\nport = 9001\nlog_level = "debug"\n')
    result = runner.invoke(
        app, ["config", "show", "--config", str(config)], env=_env(tmp_path, AERODROME_PORT="9002")
    )
    assert result.exit_code == 0, result.output
    assert "port = 9002" in result.output
    assert "log_level = 'debug'" in result.output


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AERODROME_PORT": "eighty"}, "port: Input should be a valid integer"),
        ({"AERODROME_PORT": "70000"}, "port: Input should be less than or equal to 65535"),
        (
            {"AERODROME_DATABASE_URL": "mysql://x"},
            "database_url: Value error, must be a sqlite:// or postgresql:// URL",
        ),
        ({"AERODROME_PUBLIC_READS": "perhaps"}, "public_reads: Input should be a valid boolean"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    result = runner.invoke(app, ["config", "show"], env={**_env(tmp_path), **env})
    assert result.exit_code == 2
    assert "invalid configuration" in result.output
    assert expected in result.output


def test_bad_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = = 3\n")
    result = runner.invoke(app, ["config", "show", "--config", str(config)], env=_env(tmp_path))
    assert result.exit_code == 2
    assert "is not valid TOML" in result.output
    config.write_text("colour = 'red'\n")
    result = runner.invoke(app, ["config", "show", "--config", str(config)], env=_env(tmp_path))
    assert "colour: Extra inputs are not permitted" in result.output


def test_serve_refuses_older_and_unknown_schemas(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert runner.invoke(app, ["db", "upgrade", "0001"], env=env).exit_code == 0
    status = runner.invoke(app, ["db", "status"], env=env)
    assert "database: 0001" in status.output
    older = runner.invoke(app, ["serve"], env=env)
    assert older.exit_code == 1
    assert "older than this version of Aerodrome needs" in older.output
    assert "aerodrome db upgrade" in older.output
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "aerodrome.db") as connection:
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES ('9999')")
    unknown = runner.invoke(app, ["serve"], env=env)
    assert unknown.exit_code == 1
    assert "does not know" in unknown.output


def test_serve_on_empty_database_creates_admin_once(tmp_path: Path) -> None:
    env = {**os.environ, **_env(tmp_path), "AERODROME_PORT": str(_free_port())}
    env.pop("AERODROME_ADMIN_PASSWORD", None)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    process, url = start_server(env, first_log)
    process.terminate()
    process.wait(timeout=15)
    output = first_log.read_text()
    found = re.search(r"Created user admin with password (\S+)", output)
    assert found, output
    process, url = start_server(env, second_log)
    try:
        response = httpx.get(f"{url}/api/v1/identity", auth=("admin", found.group(1)))
        assert response.json()["identity"]["is_super_admin"] is True
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "Created user" not in second_log.read_text()


async def invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run a command in a thread: commands run their own event loop."""
    return await asyncio.to_thread(lambda: runner.invoke(app, args, env=env))


async def test_admin_commands_on_the_live_database(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    env = {
        "AERODROME_DATABASE_URL": backend.url,
        "AERODROME_DATA_DIR": str(backend.settings.data_dir),
    }
    team = await invoke(["team", "create", "red"], env=env)
    assert team.exit_code == 0, team.output
    user = await invoke(
        [
            "user",
            "create",
            "rosa",
            "--email",
            "rosa@example.org",
            "--team",
            "red",
            "--password",
            "rosa-password",
        ],
        env=env,
    )
    assert user.exit_code == 0, user.output
    token = await invoke(["token", "create", "--user", "rosa", "--name", "ci"], env=env)
    assert token.exit_code == 0, token.output
    bearer = {"Authorization": f"Bearer {token.output.strip()}"}
    me = (await client.get("/api/v1/identity", headers=bearer)).json()["identity"]
    assert (me["name"], [t["name"] for t in me["teams"].values()]) == ("rosa", ["red"])
    listed = await invoke(["token", "list", "--user", "rosa"], env=env)
    assert "ci" in listed.output
    assert "rosa" in (await invoke(["user", "list"], env=env)).output
    assert "red" in (await invoke(["team", "list"], env=env)).output
    changed = await invoke(["user", "passwd", "rosa", "--password", "another-password"], env=env)
    assert changed.exit_code == 0, changed.output
    assert (
        await client.get("/api/v1/identity", headers=basic("rosa", "another-password"))
    ).status_code == 200
    duplicate = await invoke(["team", "create", "red"], env=env)
    assert duplicate.exit_code == 1
    assert "conflicts" in duplicate.output
    assert (await client.get("/api/v1/teams/red", headers=ADMIN)).status_code == 200
