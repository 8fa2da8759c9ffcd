"""One BLAS thread wherever numbers are computed, so that results are bit-identical.

The rounding of a matrix product depends on how many BLAS threads share it, so every number
of a run is computed with one BLAS thread: :func:`sensing.run` holds :func:`single_threaded`
for the whole run (planning, in-process tasks, assembly), and each dask task enters it again
(which is what limits a cluster worker's own process).

The OpenBLAS builds NumPy and SciPy ship have one thread pool per process, and threadpoolctl
lets only one Python thread (the first to set a limit) change it: limits must therefore be
set by the thread that runs the whole computation, not per task from dask's worker threads.
``threadpoolctl.threadpool_limits`` also rescans the loaded libraries on every call
(milliseconds); threadpoolctl's cached controller makes entering the limit cost microseconds.
"""

from __future__ import annotations

import contextlib
import threading

_local = threading.local()


@contextlib.contextmanager
def single_threaded():
    """Run the block with one BLAS/OpenMP thread (re-entrant: nested blocks cost nothing)."""
    depth = getattr(_local, "depth", 0)
    if depth:
        _local.depth = depth + 1
        try:
            yield
        finally:
            _local.depth = depth
        return
    import scipy.linalg  # noqa: F401 - SciPy's own OpenBLAS is loaded before the scan
    from threadpoolctl import get_cached_controller

    _local.depth = 1
    try:
        with get_cached_controller().limit(limits=1):
            yield
    finally:
        _local.depth = 0


def pin_single_thread() -> None:
    """Limit this process to one BLAS thread for good (dask cluster workers: the process is
    the run's, and its worker threads cannot each set the process-wide limit)."""
    if getattr(pin_single_thread, "done", False):
        return
    import scipy.linalg  # noqa: F401
    from threadpoolctl import get_cached_controller

    get_cached_controller().limit(limits=1)
    pin_single_thread.done = True
