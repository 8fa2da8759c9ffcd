"""Where the work runs: the embedded local default, a dask scheduler in-process, or an
existing dask cluster given by address."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import dask

LOCAL_SCHEDULERS = ("synchronous", "threads", "processes")


#: Address schemes of dask's communication layer.
ADDRESS_SCHEMES = ("tcp", "tls", "ucx", "inproc", "ws", "wss")


def check_scheduler(scheduler: str) -> None:
    """Refuse a malformed scheduler before any connection is tried.

    Raises
    ------
    ValueError
        Naming the value and what is allowed: ``synchronous``, ``threads``, ``processes``,
        ``local`` or ``SCHEME://HOST:PORT`` with a scheme of :data:`ADDRESS_SCHEMES` and a port
        from 1 to 65535.
    """
    if scheduler in LOCAL_SCHEDULERS or scheduler == "local":
        return
    allowed = ("allowed: synchronous, threads, processes, local, or an address SCHEME://HOST:PORT with SCHEME in "
               + ", ".join(ADDRESS_SCHEMES))
    scheme, sep, rest = scheduler.partition("://")
    if not sep or scheme not in ADDRESS_SCHEMES:
        raise ValueError(f"scheduler {scheduler!r} is not a scheduler name or address; {allowed}")
    if scheme == "inproc":
        return
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"scheduler {scheduler!r}: the address needs HOST:PORT with a port from 1 to 65535; {allowed}")


def resolve_scheduler(requested: str | None) -> str:
    """The scheduler a run uses: the request, else dask's configured address, else 'local'."""
    if requested:
        return requested
    address = dask.config.get("scheduler-address", None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
    return address or "local"


@contextlib.contextmanager
def open_client(scheduler: str, workers: int | None = None, client=None):
    """Yield a ``distributed.Client`` for the scheduler, or ``None`` for in-process dask.

    ``local`` starts an embedded ``LocalCluster`` (one single-threaded worker process per
    core by default) and shuts it down afterwards; an address (``tcp://HOST:PORT``)
    connects to an existing cluster; ``synchronous``, ``threads`` and ``processes`` use
    dask's in-process schedulers.
    """
    if client is not None:
        yield client
        return
    if scheduler in LOCAL_SCHEDULERS:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler == "local":
        n = workers or max(1, min(os.cpu_count() or 1, 8))
        with LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        ) as cluster, Client(cluster) as local:
            yield local
        return
    try:
        remote = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"cannot reach the dask scheduler at {scheduler!r}: {err}") from None
    with remote:
        yield remote


def show_progress(quiet: bool) -> bool:
    """Progress bars go to a terminal only, and never with ``--quiet``."""
    return not quiet and sys.stderr.isatty()
