"""Workers do not outlive a supervisor that is killed without a chance to stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

from tests.conftest import Backend, server_environment, start_server


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_stop_when_their_supervisor_is_killed(backend: Backend) -> None:
    env = server_environment(backend, AERODROME_WORKERS="2")
    supervisor, _url = start_server(env)
    workers = _children(supervisor.pid)
    assert len(workers) >= 2  # two workers (plus multiprocessing's resource tracker)
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait(timeout=15)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]
        # Nothing holds the port any more: a restarted server can bind it.
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", int(env["AERODROME_PORT"])))
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
