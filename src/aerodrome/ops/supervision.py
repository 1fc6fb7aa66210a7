"""Worker processes end with the supervisor that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys

logger = logging.getLogger("aerodrome.supervision")

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def end_with_supervisor() -> None:
    """Have the kernel send this worker SIGTERM (a graceful stop) when its supervisor dies.

    uvicorn's supervisor stops its workers when it is stopped, but not when it is killed
    (SIGKILL, the OOM killer): the orphaned workers would keep serving on the inherited
    socket, so a restarted server could not bind its port. Linux only; elsewhere a no-op.
    """
    supervisor = multiprocessing.parent_process()
    if supervisor is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        logger.warning("cannot tie the worker to its supervisor: errno %d", ctypes.get_errno())
        return
    if os.getppid() != supervisor.pid:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
