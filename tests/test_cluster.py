"""Runs on a real dask cluster: a scheduler and two workers started with dask's own commands
as separate processes on loopback. Results must be bit-identical to every in-process
scheduler, survive a worker killed mid-run, and a failing task must name its sweep point."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import xarray as xr

import sensing
from sensing.pipelines.graph import PointFailure, Unit, build_graph, execute

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
DASK = str(Path(sys.executable).with_name("dask"))
#: Two sweep points, three detectors, a few tasks per detector.
SMALL = {"copies": [2000, 20000], "repetitions": 4, "sweep": {"source.separation": [0.3, 1.0]},
         "pipeline.batch_size": 5000, "pipeline.batches_per_task": 2, "pipeline.repetitions_per_task": 2}
#: Per-copy (threshold camera) sampling in many small tasks: long enough to kill a worker in the middle.
SLOW = {**SMALL, "copies": [100_000, 600_000], "detectors.camera.pixel_type": "threshold",
        "pipeline.batch_size": 100_000, "pipeline.batches_per_task": 1, "pipeline.repetitions_per_task": 1}
pytestmark = pytest.mark.slow


def numbers(ds: xr.Dataset) -> xr.Dataset:
    """The dataset without its attributes (creation time, versions): what must be bit-identical."""
    return ds.drop_attrs()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_worker(address: str) -> subprocess.Popen:
    return subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                             "--host", "127.0.0.1", "--death-timeout", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_workers(client, n: int, processes: list[subprocess.Popen], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info(n_workers=-1)["workers"]) < n:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a dask process exited while the cluster was starting")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} dask workers did not connect within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster():
    """``(address, client, processes)`` of an external scheduler with two single-threaded workers."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    processes = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard", "--dashboard-address", "127.0.0.1:0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        processes += [_start_worker(address) for _ in range(2)]
        client = Client(address, timeout="60s")
        try:
            _wait_for_workers(client, 2, processes)
            yield address, client, processes
        finally:
            client.close()
    finally:
        for p in reversed(processes):
            p.kill()
            p.wait(timeout=30)


@pytest.fixture(scope="module")
def reference():
    return sensing.run(CONFIG, SMALL, scheduler="synchronous")


def test_external_cluster_matches_every_scheduler(cluster, reference):
    address, client, _ = cluster
    remote = sensing.run(CONFIG, SMALL, scheduler=address)
    assert numbers(remote).identical(numbers(reference))
    # with a client that stays open, every future of the run is released as it finishes
    assert numbers(sensing.run(CONFIG, SMALL, client=client)).identical(numbers(reference))
    held = lambda: client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))  # noqa: E731
    deadline = time.monotonic() + 10  # releases reach the scheduler asynchronously
    while held() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert held() == 0
    threads = sensing.run(CONFIG, SMALL, scheduler="threads")
    assert numbers(threads).identical(numbers(reference))
    for workers in (1, 2):
        local = sensing.run(CONFIG, {**SMALL, "pipeline.workers": workers}, scheduler="local")
        assert numbers(local).identical(numbers(reference)), f"LocalCluster({workers})"


def test_scheduler_address_from_dask_config(cluster, reference):
    import dask

    address, client, _ = cluster
    with dask.config.set({"scheduler-address": address}):
        ds = sensing.run(CONFIG, SMALL)
    assert numbers(ds).identical(numbers(reference))


def test_worker_killed_mid_run_changes_nothing(cluster):
    """A third worker joins, takes tasks, and is SIGKILLed while it runs them; dask reruns its work."""
    address, client, processes = cluster
    expected = sensing.run(CONFIG, SLOW, scheduler="synchronous")
    before = set(client.scheduler_info(n_workers=-1)["workers"])
    victim = _start_worker(address)
    processes.append(victim)
    _wait_for_workers(client, len(before) + 1, processes)
    victim_address = (set(client.scheduler_info(n_workers=-1)["workers"]) - before).pop()

    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("ds", sensing.run(CONFIG, SLOW, scheduler=address)))
    thread.start()
    killed_while_busy = False
    deadline = time.monotonic() + 120
    while thread.is_alive() and time.monotonic() < deadline:
        if client.processing().get(victim_address):
            os.kill(victim.pid, signal.SIGKILL)
            killed_while_busy = True
            break
        time.sleep(0.02)
    thread.join(timeout=300)
    assert killed_while_busy, "the extra worker never received a task; the test did not exercise a failure"
    assert victim.wait(timeout=30) == -signal.SIGKILL
    assert numbers(outcome["ds"]).identical(numbers(expected))


def test_failing_task_names_its_sweep_point_on_the_cluster(cluster):
    _, client, _ = cluster
    label = "sweep[source.separation=0.3], detector 'camera'"
    # builtins only, so the external workers can unpickle the callables
    unit = Unit(0, 0, label, make_model=partial(int, "not a number"), analyze=len)
    outputs, samplers = build_graph([unit], [], 1, [10], 2, sensing.study.config.PipelineSettings())
    with pytest.raises(PointFailure, match=r"sweep\[source\.separation=0\.3\], detector 'camera': ValueError"):
        execute(outputs, samplers, "remote", client, False, lambda name, value: None)
