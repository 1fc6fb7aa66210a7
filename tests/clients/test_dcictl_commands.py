"""Every `dcictl` command against a live server, as an admin (Basic), a team user (Basic) and
a remoteci (HMAC): what each returns, what a second read shows, and that another team's
user or remoteci can neither see nor change a team's resources.

`job-output` and `purge` print through dciclient's printer, which fails on the list and dict
they build (a dciclient bug); they are run through the same shell functions in-process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx
from dciclient.v1.api import context as dci_context
from dciclient.v1.shell_commands import job as job_commands
from dciclient.v1.shell_commands import purge as purge_commands

from tests.clients.conftest import DciWorld, dcictl
from tests.conftest import ADMIN, ADMIN_PASSWORD, basic


def _refused(out: Any, status: int) -> None:
    assert isinstance(out, dict), out
    assert out.get("status_code") == status, out
    assert out["message"]


def _deleted(out: Any) -> None:
    """A 204: dcictl prints nothing."""
    assert out == "", out


def _hmac_env(world: DciWorld, kind: str, agent: dict[str, Any]) -> dict[str, str]:
    base = {k: v for k, v in world.remoteci_env.items() if not k.startswith("DCI_")}
    return {
        **base,
        "DCI_CS_URL": world.url,
        "DCI_CLIENT_ID": f"{kind}/{agent['id']}",
        "DCI_API_SECRET": agent["api_secret"],
    }


def _names(listed: dict[str, Any], key: str) -> list[str]:
    return [item["name"] for item in listed[key]]


def test_teams(dci_world: DciWorld) -> None:
    env = dci_world.admin_env
    team = dcictl(env, "team-create", "--name", "blue", "--country", "FR")["team"]
    assert (team["name"], team["country"], team["state"]) == ("blue", "FR", "active")
    assert team["has_pre_release_access"] is False
    assert dcictl(env, "team-show", team["id"])["team"]["country"] == "FR"
    listed = dcictl(env, "team-list", "--where", "name:blue")
    assert (_names(listed, "teams"), listed["_meta"]["count"]) == (["blue"], 1)
    updated = dcictl(
        env, "team-update", team["id"], "--etag", team["etag"], "--name", "navy",
        "--country", "BE", "--no-external", "--pre-release-access",
    )["team"]  # fmt: skip
    assert (updated["name"], updated["country"], updated["external"]) == ("navy", "BE", False)
    assert updated["has_pre_release_access"] is True
    stale = dcictl(env, "team-update", team["id"], "--etag", team["etag"], "--name", "x")
    _refused(stale, 412)
    shown = dcictl(env, "team-show", team["id"])["team"]
    assert (shown["name"], shown["etag"]) == ("navy", updated["etag"])
    _deleted(dcictl(env, "team-delete", team["id"], "--etag", updated["etag"]))
    _refused(dcictl(env, "team-show", team["id"]), 404)
    assert "navy" not in _names(dcictl(env, "team-list"), "teams")


def test_a_team_user_sees_only_its_team_and_cannot_create_teams(dci_world: DciWorld) -> None:
    env = dci_world.user_env
    assert _names(dcictl(env, "team-list"), "teams") == [dci_world.team["name"]]
    _refused(dcictl(env, "team-create", "--name", "rogue"), 403)
    admin_team = dcictl(dci_world.admin_env, "team-list", "--where", "name:admin")["teams"][0]
    _refused(dcictl(env, "team-show", admin_team["id"]), 404)
    _refused(dcictl(env, "team-delete", admin_team["id"], "--etag", admin_team["etag"]), 404)


def test_users(dci_world: DciWorld) -> None:
    env = dci_world.admin_env
    created = dcictl(
        env, "user-create", "--name", "rosa", "--password", "rosa-password",
        "--email", "rosa@example.org",
    )["user"]  # fmt: skip
    # dcictl sends the name as the full name when none is given.
    assert (created["name"], created["email"], created["fullname"]) == (
        "rosa",
        "rosa@example.org",
        "rosa",
    )
    assert not {"password", "password_hash"} & set(created)
    assert dcictl(env, "user-show", created["id"])["user"]["email"] == "rosa@example.org"
    assert _names(dcictl(env, "user-list", "--where", "name:rosa"), "users") == ["rosa"]
    updated = dcictl(
        env, "user-update", created["id"], "--etag", created["etag"], "--fullname", "Rosa P."
    )["user"]
    assert dcictl(env, "user-show", created["id"])["user"]["fullname"] == "Rosa P."
    # The new password works: rosa can sign in with it and see herself.
    password = dcictl(
        env, "user-update", created["id"], "--etag", updated["etag"], "--password", "new-secret-1"
    )["user"]
    rosa_env = {**dci_world.admin_env, "DCI_LOGIN": "rosa", "DCI_PASSWORD": "new-secret-1"}
    assert _names(dcictl(rosa_env, "user-list"), "users") == ["rosa"]
    _deleted(dcictl(env, "user-delete", created["id"], "--etag", password["etag"]))
    _refused(dcictl(env, "user-show", created["id"]), 404)
    _refused(dcictl(rosa_env, "user-list"), 401)


def test_a_team_user_cannot_see_or_change_other_users(
    live_server_world: tuple[DciWorld, DciWorld],
) -> None:
    ours, theirs = live_server_world
    env = ours.user_env
    assert _names(dcictl(env, "user-list"), "users") == ["ours-user"]
    _refused(dcictl(env, "user-show", theirs.user["id"]), 404)
    stolen = dcictl(
        env, "user-update", theirs.user["id"], "--etag", theirs.user["etag"], "--password", "x" * 9
    )
    _refused(stolen, 404)
    own = dcictl(env, "user-show", ours.user["id"])["user"]
    renamed = dcictl(env, "user-update", own["id"], "--etag", own["etag"], "--name", "boss")
    _refused(renamed, 403)
    _refused(
        dcictl(env, "user-create", "--name", "n", "--password", "p" * 9, "--email", "n@x.io"), 403
    )


def test_products_and_their_teams(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    env = ours.admin_env
    product = dcictl(
        env, "product-create", "--name", "RHEL", "--label", "RHEL", "--description", "Linux"
    )["product"]
    assert (product["name"], product["label"], product["description"]) == ("RHEL", "RHEL", "Linux")
    assert dcictl(env, "product-show", product["id"])["product"]["label"] == "RHEL"
    assert "RHEL" in _names(dcictl(env, "product-list"), "products")
    updated = dcictl(
        env, "product-update", product["id"], "--etag", product["etag"], "--description", "OS"
    )["product"]
    assert dcictl(env, "product-show", product["id"])["product"]["description"] == "OS"
    attached = dcictl(env, "product-attach-team", product["id"], "--team-id", ours.team["id"])
    assert attached["product_team"]["team_id"] == ours.team["id"]
    _refused(dcictl(env, "product-attach-team", product["id"], "--team-id", ours.team["id"]), 409)
    listed = dcictl(env, "product-list-teams", product["id"])
    assert (_names(listed, "teams"), listed["_meta"]["count"]) == (["ours"], 1)
    # Another team's user may neither hand itself the product nor take it from us.
    intruder = theirs.user_env
    _refused(
        dcictl(intruder, "product-attach-team", product["id"], "--team-id", theirs.team["id"]), 403
    )
    _refused(
        dcictl(intruder, "product-detach-team", product["id"], "--team-id", ours.team["id"]), 403
    )
    assert dcictl(intruder, "product-list-teams", product["id"])["_meta"]["count"] == 0
    _deleted(dcictl(env, "product-detach-team", product["id"], "--team-id", ours.team["id"]))
    assert dcictl(env, "product-list-teams", product["id"])["teams"] == []
    _refused(dcictl(env, "product-detach-team", product["id"], "--team-id", ours.team["id"]), 404)
    _deleted(dcictl(env, "product-delete", product["id"], "--etag", updated["etag"]))
    _refused(dcictl(env, "product-show", product["id"]), 404)


def test_feeders(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    env = ours.admin_env
    feeder = dcictl(
        env, "feeder-create", "--name", "publisher", "--team-id", ours.team["id"],
        "--data", '{"source": "brew"}',
    )["feeder"]  # fmt: skip
    assert (feeder["data"], feeder["team_id"]) == ({"source": "brew"}, ours.team["id"])
    old_env = _hmac_env(ours, "feeder", feeder)
    assert dcictl(old_env, "topic-list")["_meta"]["count"] >= 1
    shown = dcictl(ours.user_env, "feeder-show", feeder["id"])["feeder"]
    assert shown["api_secret"] == feeder["api_secret"]
    assert _names(dcictl(ours.user_env, "feeder-list"), "feeders") == ["publisher"]
    assert dcictl(theirs.user_env, "feeder-list")["_meta"]["count"] == 0
    _refused(dcictl(theirs.user_env, "feeder-show", feeder["id"]), 404)
    # dcictl sends the team with every update; naming the same team is no move.
    updated = dcictl(
        ours.user_env, "feeder-update", feeder["id"], "--etag", feeder["etag"],
        "--name", "publisher-2", "--team-id", ours.team["id"],
    )["feeder"]  # fmt: skip
    assert updated["name"] == "publisher-2"
    moved = dcictl(
        ours.user_env, "feeder-update", feeder["id"], "--etag", updated["etag"],
        "--team-id", theirs.team["id"],
    )  # fmt: skip
    _refused(moved, 404)
    assert dcictl(env, "feeder-show", feeder["id"])["feeder"]["team_id"] == ours.team["id"]
    reset = dcictl(
        ours.user_env, "feeder-reset-api-secret", feeder["id"], "--etag", updated["etag"]
    )["feeder"]
    assert reset["api_secret"] not in ("", feeder["api_secret"])
    _refused(dcictl(old_env, "topic-list"), 401)
    assert dcictl(_hmac_env(ours, "feeder", reset), "topic-list")["_meta"]["count"] >= 1
    _deleted(dcictl(ours.user_env, "feeder-delete", feeder["id"], "--etag", reset["etag"]))
    assert dcictl(env, "feeder-list")["feeders"] == []


def test_topics_and_pull_secrets(dci_world: DciWorld, tmp_path: Path) -> None:
    env = dci_world.admin_env
    secret = {"auths": {"registry.example.org": {"auth": "c2VjcmV0"}}}
    topic = dcictl(
        env, "topic-create", "--name", "OCP-4.17", "--product-id", dci_world.product["id"],
        "--component_types", "ocp,storage,ceph", "--data", json.dumps({"pull_secret": secret}),
    )["topic"]  # fmt: skip
    assert topic["component_types"] == ["ocp", "storage", "ceph"]
    assert topic["product_id"] == dci_world.product["id"]
    assert dcictl(env, "topic-show", topic["id"])["topic"]["data"]["pull_secret"] == secret
    updated = dcictl(
        env, "topic-update", topic["id"], "--etag", topic["etag"], "--name", "OCP-4.17-GA",
        "--next-topic-id", dci_world.topic["id"], "--export-control", "--active",
    )["topic"]  # fmt: skip
    assert (updated["name"], updated["next_topic_id"], updated["export_control"]) == (
        "OCP-4.17-GA",
        dci_world.topic["id"],
        True,
    )
    # The team user may use the product, so it sees the new topic too.
    visible = _names(dcictl(dci_world.user_env, "topic-list"), "topics")
    assert "OCP-4.17-GA" in visible
    target = tmp_path / "pull-secret.json"
    dcictl(
        dci_world.user_env, "download-pull-secret", "--topic", "OCP-4.17-GA",
        "--destination", str(target),
    )  # fmt: skip
    assert json.loads(target.read_text()) == secret
    _refused(
        dcictl(dci_world.user_env, "topic-delete", topic["id"], "--etag", updated["etag"]), 403
    )
    _deleted(dcictl(env, "topic-delete", topic["id"], "--etag", updated["etag"]))
    _refused(dcictl(env, "topic-show", topic["id"]), 404)


def test_jobstates_are_shown_to_their_team_only(
    live_server_world: tuple[DciWorld, DciWorld],
) -> None:
    ours, theirs = live_server_world
    state = dcictl(
        ours.remoteci_env, "jobstate-create", "--job-id", ours.job["id"], "--status", "pre-run",
        "--comment", "installing",
    )["jobstate"]  # fmt: skip
    shown = dcictl(ours.user_env, "jobstate-show", state["id"])["jobstate"]
    assert (shown["job_id"], shown["status"], shown["comment"]) == (
        ours.job["id"],
        "pre-run",
        "installing",
    )
    _refused(dcictl(theirs.remoteci_env, "jobstate-show", state["id"]), 404)
    _refused(dcictl(theirs.user_env, "jobstate-show", state["id"]), 404)


def test_component_files(live_server_world: tuple[DciWorld, DciWorld], tmp_path: Path) -> None:
    ours, theirs = live_server_world
    component = ours.components[0]
    source = tmp_path / "sbom.json"
    source.write_bytes(b'{"packages": ["kernel", "glibc"]}')
    uploaded = dcictl(
        ours.admin_env, "component-file-upload", component["id"], "--path", str(source)
    )["file"]
    assert (uploaded["size"], uploaded["component_id"]) == (source.stat().st_size, component["id"])
    shown = dcictl(
        ours.user_env, "component-file-show", component["id"], "--file-id", uploaded["id"]
    )["file"]
    assert shown["sha256"] == uploaded["sha256"]
    listed = dcictl(ours.remoteci_env, "component-file-list", component["id"])
    assert [f["id"] for f in listed["files"]] == [uploaded["id"]]
    target = tmp_path / "downloaded.json"
    dcictl(
        ours.remoteci_env, "component-file-download", component["id"],
        "--file-id", uploaded["id"], "--target", str(target),
    )  # fmt: skip
    assert target.read_bytes() == source.read_bytes()
    # Only the catalog's publishers add or remove a public component's files.
    _refused(
        dcictl(ours.user_env, "component-file-upload", component["id"], "--path", str(source)),
        403,
    )
    # dcictl's component-file-delete prints nothing, refused or not: the file must remain.
    dcictl(
        theirs.user_env, "component-file-delete", component["id"],
        "--file-id", uploaded["id"], "--etag", uploaded["etag"],
    )  # fmt: skip
    assert dcictl(ours.user_env, "component-file-list", component["id"])["_meta"]["count"] == 1
    dcictl(
        ours.admin_env, "component-file-delete", component["id"],
        "--file-id", uploaded["id"], "--etag", uploaded["etag"],
    )  # fmt: skip
    assert dcictl(ours.user_env, "component-file-list", component["id"])["files"] == []
    gone = dcictl(
        ours.admin_env, "component-file-show", component["id"], "--file-id", uploaded["id"]
    )
    _refused(gone, 404)


def test_job_files_output_and_deletion(
    live_server_world: tuple[DciWorld, DciWorld], tmp_path: Path
) -> None:
    ours, theirs = live_server_world
    env, job_id = ours.remoteci_env, ours.job["id"]
    outputs = []
    for status, text in (("pre-run", "installing\n"), ("running", "testing\n")):
        state = dcictl(env, "jobstate-create", "--job-id", job_id, "--status", status)
        log = tmp_path / f"{status}.log"
        log.write_text(text)
        outputs.append(
            dcictl(
                env, "job-upload-file", job_id, "--name", f"{status}.log", "--path", str(log),
                "--jobstate-id", state["jobstate"]["id"], "--mime", "text/plain",
            )["file"]
        )  # fmt: skip
    listed = dcictl(ours.user_env, "file-list", job_id)
    assert sorted(_names(listed, "files")) == ["pre-run.log", "running.log"]
    first = outputs[0]
    shown = dcictl(ours.user_env, "file-show", first["id"])["file"]
    assert (shown["jobstate_id"], shown["mime"]) == (first["jobstate_id"], "text/plain")
    assert dcictl(env, "file-content", first["id"]) == "installing\n\n"  # print() adds one
    context = dci_context.build_dci_context(
        dci_cs_url=ours.url, dci_login="ours-user", dci_password="ours-password", max_retries=0
    )
    output = job_commands.output(context, argparse.Namespace(id=job_id))
    assert output == ["installing\n", "testing\n"]
    # Another team sees nothing of the job's files and cannot delete them.
    _refused(dcictl(theirs.remoteci_env, "file-show", first["id"]), 404)
    _refused(dcictl(theirs.remoteci_env, "file-content", first["id"]), 404)
    with httpx.Client(base_url=ours.url, headers=basic("theirs-user", "theirs-password")) as http:
        path = f"/api/v1/files/{first['id']}"
        assert http.delete(path, headers={"If-Match": first["etag"]}).status_code == 404
    _refused(dcictl(theirs.user_env, "file-list", job_id), 404)
    # dcictl's file-delete sends no If-Match: a file never changes, so none is needed.
    _refused(dcictl(theirs.remoteci_env, "file-delete", first["id"]), 404)
    _deleted(dcictl(env, "file-delete", first["id"]))
    _refused(dcictl(env, "file-show", first["id"]), 404)
    assert _names(dcictl(env, "file-list", job_id), "files") == ["running.log"]


def test_job_search(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    env = ours.remoteci_env
    dcictl(env, "job-update", ours.job["id"], "--tags", "nightly,x86")

    def found(query: str, who: dict[str, str] = env) -> list[str]:
        hits = dcictl(who, "job-search", "--query", query)["hits"]
        assert hits["total"]["value"] == len(hits["hits"])
        return [hit["_source"]["id"] for hit in hits["hits"]]

    mine = [ours.job["id"]]
    assert found("(name='conformance')") == mine
    assert found(f"(topic.name='{ours.topic['name']}')") == mine
    assert found("((components.type='ocp') and (components.version=~'1.*'))") == mine
    # Conditions on components combined together hold for one and the same component.
    assert found("((components.type='ocp') and (components.name='storage-1.0'))") == []
    assert found("(tags in ['nightly', 'ga']) and (team.name='ours')") == mine
    assert found("(tags not_in ['nightly'])") == []
    assert found("(name='nothing') or (remoteci.name='ours-lab')") == mine
    # The search keeps to the caller's team: their job is invisible, even by its own name.
    assert found("(team.name='theirs')") == []
    assert found("(name='conformance')", theirs.remoteci_env) == [theirs.job["id"]]
    admin_hits = dcictl(ours.admin_env, "job-search", "--query", "(name='conformance')")
    assert admin_hits["hits"]["total"]["value"] == 2
    source = admin_hits["hits"]["hits"][0]["_source"]
    assert {"topic", "remoteci", "team", "components"} <= set(source)
    _refused(dcictl(env, "job-search", "--query", "(secret='x')"), 400)
    _refused(dcictl(env, "job-search", "--query", "(name='x'"), 400)


def test_job_key_values(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    job_id = ours.job["id"]
    dcictl(ours.remoteci_env, "job-add-key-value", job_id, "boot_time", "41.5")
    dcictl(ours.remoteci_env, "job-add-key-value", job_id, "score", "3")
    _refused(dcictl(theirs.remoteci_env, "job-delete-key-value", job_id, "score"), 404)
    _deleted(dcictl(ours.user_env, "job-delete-key-value", job_id, "score"))
    shown = dcictl(ours.remoteci_env, "job-show", job_id)["job"]
    assert [(kv["key"], kv["value"]) for kv in shown["keys_values"]] == [("boot_time", 41.5)]
    _refused(dcictl(ours.remoteci_env, "job-delete-key-value", job_id, "score"), 404)


def test_remoteci_commands(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    env, remoteci = ours.user_env, ours.remoteci
    shown = dcictl(env, "remoteci-show", remoteci["id"])["remoteci"]
    assert shown["api_secret"] == remoteci["api_secret"]
    data = {"openshift": {"version": "4.16", "arch": "x86_64"}, "rack": 7}
    updated = dcictl(
        env, "remoteci-update", remoteci["id"], "--etag", shown["etag"], "--name", "lab-2",
        "--data", json.dumps(data), "--team-id", ours.team["id"],
    )["remoteci"]  # fmt: skip
    assert (updated["name"], updated["data"]) == ("lab-2", data)
    assert dcictl(env, "remoteci-get-data", remoteci["id"]) == data
    only = dcictl(ours.remoteci_env, "remoteci-get-data", remoteci["id"], "--keys", "rack,nope")
    assert only == {"rack": 7}
    _refused(dcictl(theirs.user_env, "remoteci-get-data", remoteci["id"]), 404)

    attached = dcictl(env, "remoteci-attach-user", remoteci["id"], "--user-id", ours.user["id"])
    assert attached["remoteci_user"]["user_id"] == ours.user["id"]
    again = ("remoteci-attach-user", remoteci["id"], "--user-id", ours.user["id"])
    _refused(dcictl(env, *again), 409)
    listed = dcictl(env, "remoteci-list-user", remoteci["id"])
    assert (_names(listed, "users"), listed["_meta"]["count"]) == (["ours-user"], 1)
    # Another team may neither attach its users to our remoteci nor ours to theirs.
    _refused(
        dcictl(
            theirs.user_env, "remoteci-attach-user", remoteci["id"], "--user-id", theirs.user["id"]
        ),
        404,
    )
    _refused(
        dcictl(env, "remoteci-attach-user", theirs.remoteci["id"], "--user-id", ours.user["id"]),
        404,
    )
    _refused(
        dcictl(env, "remoteci-attach-user", remoteci["id"], "--user-id", theirs.user["id"]), 400
    )
    _refused(dcictl(theirs.user_env, "remoteci-list-user", remoteci["id"]), 404)
    detach = ("remoteci-unattach-user", remoteci["id"], "--user-id", ours.user["id"])
    _deleted(dcictl(env, *detach))
    assert dcictl(env, "remoteci-list-user", remoteci["id"])["users"] == []
    _refused(dcictl(env, *detach), 404)

    _refused(
        dcictl(
            theirs.user_env, "remoteci-reset-api-secret", remoteci["id"], "--etag", updated["etag"]
        ),
        404,
    )
    reset = dcictl(env, "remoteci-reset-api-secret", remoteci["id"], "--etag", updated["etag"])
    new_secret = reset["remoteci"]["api_secret"]
    assert new_secret != remoteci["api_secret"]
    _refused(dcictl(ours.remoteci_env, "job-list"), 401)
    renewed = _hmac_env(ours, "remoteci", {**remoteci, "api_secret": new_secret})
    assert dcictl(renewed, "job-list")["_meta"]["count"] == 1
    _refused(
        dcictl(
            theirs.user_env, "remoteci-delete", remoteci["id"], "--etag", reset["remoteci"]["etag"]
        ),
        404,
    )
    _deleted(dcictl(env, "remoteci-delete", remoteci["id"], "--etag", reset["remoteci"]["etag"]))
    _refused(dcictl(env, "remoteci-show", remoteci["id"]), 404)
    assert dcictl(env, "remoteci-list")["remotecis"] == []


def test_pipelines_update_and_delete(live_server_world: tuple[DciWorld, DciWorld]) -> None:
    ours, theirs = live_server_world
    env = ours.user_env
    created = dcictl(env, "pipeline-create", "--name", "nightly", "--team-id", ours.team["id"])
    pipeline = created["pipeline"]
    updated = dcictl(
        env, "pipeline-update", pipeline["id"], "--etag", pipeline["etag"], "--name", "weekly",
        "--no-active",
    )["pipeline"]  # fmt: skip
    assert (updated["name"], updated["state"]) == ("weekly", "inactive")
    assert (
        dcictl(ours.remoteci_env, "pipeline-show", pipeline["id"])["pipeline"]["name"] == "weekly"
    )
    _refused(dcictl(theirs.user_env, "pipeline-show", pipeline["id"]), 404)
    _refused(
        dcictl(
            theirs.user_env,
            "pipeline-update",
            pipeline["id"],
            "--etag",
            updated["etag"],
            "--name",
            "x",
        ),
        404,
    )
    _refused(
        dcictl(theirs.user_env, "pipeline-delete", pipeline["id"], "--etag", updated["etag"]), 404
    )
    _refused(dcictl(env, "pipeline-delete", pipeline["id"], "--etag", pipeline["etag"]), 412)
    _deleted(dcictl(env, "pipeline-delete", pipeline["id"], "--etag", updated["etag"]))
    _refused(dcictl(env, "pipeline-show", pipeline["id"]), 404)
    assert dcictl(env, "pipeline-list")["pipelines"] == []


def test_purge_lists_then_removes_archived_rows(dci_world: DciWorld) -> None:
    env = dci_world.admin_env
    team = dcictl(env, "team-create", "--name", "short-lived")["team"]
    dcictl(env, "team-delete", team["id"], "--etag", team["etag"])
    context = dci_context.build_dci_context(
        dci_cs_url=dci_world.url, dci_login="admin", dci_password=ADMIN_PASSWORD, max_retries=0
    )
    listed = purge_commands.purge(context, argparse.Namespace(resource="teams", force=False))
    assert [t["name"] for t in listed["teams"]["teams"]] == ["short-lived"]
    purged = purge_commands.purge(context, argparse.Namespace(resource="teams", force=True))
    assert purged == {"teams": "1 item(s) purged"}
    with httpx.Client(base_url=dci_world.url, headers=ADMIN) as http:
        assert http.get("/api/v1/teams/purge").json()["_meta"]["count"] == 0
