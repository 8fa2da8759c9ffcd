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
    if scheduler in LOCAL_SCHEDULERS or scheduler in ("local", "auto"):
        return
    allowed = ("allowed: auto, synchronous, threads, processes, local, or an address SCHEME://HOST:PORT with SCHEME in "
               + ", ".join(ADDRESS_SCHEMES))
    scheme, sep, rest = scheduler.partition("://")
    if not sep or scheme not in ADDRESS_SCHEMES:
        raise ValueError(f"scheduler {scheduler!r} is not a scheduler name or address; {allowed}")
    if scheme == "inproc":
        return
    host, colon, port = rest.rpartition(":")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"scheduler {scheduler!r}: the address needs HOST:PORT with a port from 1 to 65535; {allowed}")


def configured_address() -> str | None:
    """The scheduler address of dask's own configuration (``scheduler-address``, e.g. from
    ``DASK_SCHEDULER_ADDRESS`` or ``~/.config/dask/*.yaml``), or ``None``."""
    return dask.config.get("scheduler-address", None) or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


def resolve_scheduler(requested: str | None, configured: str | None = None, auto=None) -> str:
    """The scheduler a run uses.

    The first that is set decides: ``requested`` (command line or API argument), dask's own
    ``scheduler-address``, ``configured`` (a config's ``pipeline.scheduler``, which may only
    name an in-process choice), else ``'auto'``. ``'auto'`` becomes ``auto()`` when a
    callable is given (the run's choice by the size of its work), else stays ``'auto'``.
    A cluster address never comes from a config file.
    """
    choice = requested or configured_address() or configured or "auto"
    if choice == "auto" and auto is not None:
        return auto()
    return choice


#: Seconds to reach a scheduler, and then to see its first worker, before a run gives up.
CONNECT_TIMEOUT = 20
WORKER_TIMEOUT = 30


def local_workers(requested: int | None) -> int:
    """Worker processes of the embedded LocalCluster: ``requested`` (``pipeline.workers``),
    never more than the machine's cores; by default one per core, at most 8."""
    cores = os.cpu_count() or 1
    if requested is None:
        return max(1, min(cores, 8))
    return max(1, min(int(requested), cores))


def _embedded_worker_environment() -> dict:
    """dask config for the embedded LocalCluster's worker processes.

    distributed starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (glibc then returns
    freed memory to the system at once, to keep long-lived workers' memory low). The analyses
    allocate and free arrays of a few hundred kB thousands of times, and with that setting
    every one is a fresh mapping: the same tasks ran 1.3-2.3x slower on a worker than in the
    client. The embedded workers live for one run, so they keep glibc's default (unless
    ``MALLOC_TRIM_THRESHOLD_`` is set in the environment, which then wins).
    """
    if "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return {}
    return {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


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
        import dask

        n = local_workers(workers)
        with dask.config.set(_embedded_worker_environment()), LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        ) as cluster, Client(cluster) as local:
            yield local
        return
    try:
        remote = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"cannot reach the dask scheduler at {scheduler!r} within {CONNECT_TIMEOUT} s: "
                              f"{' '.join(str(err).split())}") from None
    with remote:
        try:
            remote.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (TimeoutError, OSError):
            raise ConnectionError(f"the dask scheduler at {scheduler!r} has no workers (waited {WORKER_TIMEOUT} s); "
                                  "start some with `dask worker ADDRESS --nthreads 1`") from None
        yield remote


def show_progress(quiet: bool) -> bool:
    """Progress bars go to a terminal only, and never with ``--quiet``."""
    return not quiet and sys.stderr.isatty()
