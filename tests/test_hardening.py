"""Nothing lost, nothing hung, nothing silently wrong (issue 9): write failures, checkpoints
tied to their point, a locked output folder, resource guards, the scheduler's origin, failures
named by sweep point, and TLS to a cluster."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sensing
from sensing.cli import main
from sensing.pipelines import cluster as cluster_module
from sensing.pipelines.checkpoint import FolderLock, PointStore

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
#: Two sweep points, a second or so on the synchronous scheduler.
SETS = ["copies=[2000, 20000]", "repetitions=4", "sweep={source.separation: [0.3, 1.0]}",
        "pipeline.batch_size=5000", "pipeline.batches_per_task=2", "pipeline.repetitions_per_task=2"]


def cli(*args: str, sets=SETS) -> list[str]:
    return [*args, *[x for s in sets for x in ("--set", s)]]


def run_quiet(out: Path, *extra: str, sets=SETS) -> int:
    return main(cli("run", str(CONFIG), "--out", str(out), "--scheduler", "synchronous", "--quiet", "--no-plots",
                    *extra, sets=sets))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished")
    assert run_quiet(out) == 0
    return out


def _checkpointed(tmp_path: Path, finished: Path) -> Path:
    """A folder whose run stopped after both points were checkpointed (no results.nc yet)."""
    out = tmp_path / "ck"
    store = PointStore(out)
    # keep the checkpoints of a finished run (as if it had stopped before writing results.nc)
    original = PointStore.discard
    PointStore.discard = lambda self: None
    try:
        assert run_quiet(out) == 0
    finally:
        PointStore.discard = original
    (out / "results.nc").unlink()
    assert store.exists() and store.path(0).is_file() and store.path(1).is_file()
    return out


# -- writes ------------------------------------------------------------------------------------
def test_file_size_limit_fails_in_one_line_and_keeps_old_results(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    before = (out / "results.nc").read_bytes()
    limit = len(before) // 3  # room for checkpoints (a few kB each), not for results.nc

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    command = [sys.executable, "-m", "sensing.cli", *cli("run", str(CONFIG), "--out", str(out), "--overwrite",
                                                         "--scheduler", "synchronous", "--quiet", "--no-plots")]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=cap, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "cannot write" in lines[0] and "results.nc" in lines[0] and "too large" in lines[0].lower()
    assert (out / "results.nc").read_bytes() == before
    assert not list(out.glob(".results.nc-*")), "a temporary was left behind"
    # the finished points are kept: resume writes the results once there is room
    assert run_quiet(out, "--resume", "--overwrite") == 0
    assert not list(out.glob(".*-*"))


def test_stale_temporaries_are_removed_by_the_next_write(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    (out / ".results.nc-abc123").write_bytes(b"half a file")
    assert run_quiet(out, "--overwrite") == 0
    assert not (out / ".results.nc-abc123").exists()


def test_plot_failure_costs_nothing(tmp_path, finished, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    before = (out / "results.nc").read_bytes()
    from sensing.analyzers.parameter_estimation import ParameterEstimation

    def broken(self, ds, folder):
        raise RuntimeError("no display")

    monkeypatch.setattr(ParameterEstimation, "plots", broken)
    code = main(cli("run", str(CONFIG), "--out", str(out), "--overwrite", "--scheduler", "synchronous", "--quiet"))
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no display" in err
    assert (out / "results.nc").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging-")]


# -- checkpoints ---------------------------------------------------------------------------------
def test_manifest_records_index_hash_and_fingerprint(tmp_path, finished):
    out = _checkpointed(tmp_path, finished)
    manifest = json.loads((out / "points" / "manifest.json").read_text())
    assert manifest["points"] == 2 and set(manifest["files"]) == {"0", "1"}
    import hashlib

    for key, entry in manifest["files"].items():
        path = out / "points" / entry["name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert PointStore._meta(path)["point"] == int(key)
        assert PointStore._meta(path)["fingerprint"] == manifest["fingerprint"]


def test_swapped_point_files_are_refused_by_name(tmp_path, finished, capsys):
    out = _checkpointed(tmp_path, finished)
    a, b = PointStore(out).path(0), PointStore(out).path(1)
    tmp = a.with_suffix(".tmp")
    a.rename(tmp), b.rename(a), tmp.rename(b)
    assert run_quiet(out, "--resume") == 2
    err = capsys.readouterr().err
    assert str(a) in err and "--overwrite" in err and not (out / "results.nc").exists()


def test_a_valid_npz_with_other_numbers_is_refused(tmp_path, finished, capsys):
    out = _checkpointed(tmp_path, finished)
    store = PointStore(out)
    with np.load(store.path(1), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k in arrays if k != "__layout__" and arrays[k].dtype.kind == "f" and arrays[k].size)
    arrays[key] = arrays[key] + 1.0
    with open(store.path(1), "wb") as handle:
        np.savez(handle, **arrays)
    assert run_quiet(out, "--resume") == 2
    err = capsys.readouterr().err
    assert str(store.path(1)) in err and "SHA-256" in err


def test_a_point_file_of_another_run_is_refused_even_with_a_matching_hash(tmp_path, finished, capsys):
    out = _checkpointed(tmp_path, finished)
    other = _checkpointed(tmp_path / "other", finished)  # noqa: F841 - same config: same fingerprint
    store = PointStore(out)
    # rewrite the manifest so that point 1's entry carries point 0's file and hash
    manifest = json.loads(store.manifest_path.read_text())
    shutil.copy(store.path(0), store.path(1))
    manifest["files"]["1"]["sha256"] = manifest["files"]["0"]["sha256"]
    store.manifest_path.write_text(json.dumps(manifest))
    assert run_quiet(out, "--resume") == 2
    err = capsys.readouterr().err
    assert str(store.path(1)) in err and "holds sweep point 0" in err


def test_edited_manifest_names_what_differs(tmp_path, finished, capsys):
    out = _checkpointed(tmp_path, finished)
    store = PointStore(out)
    manifest = json.loads(store.manifest_path.read_text())
    manifest["points"] = 3
    store.manifest_path.write_text(json.dumps(manifest))
    assert run_quiet(out, "--resume") == 2
    err = capsys.readouterr().err
    assert "3 sweep points (this config has 2)" in err and "fingerprint" not in err


def test_resume_after_good_checkpoints_is_identical(tmp_path, finished):
    import xarray as xr

    out = _checkpointed(tmp_path, finished)
    assert run_quiet(out, "--resume") == 0
    with xr.open_dataset(out / "results.nc", engine="h5netcdf") as a, \
            xr.open_dataset(finished / "results.nc", engine="h5netcdf") as b:
        assert a.load().drop_attrs().identical(b.load().drop_attrs())


def test_a_manifest_without_points_does_not_block_a_plain_run(tmp_path):
    out = tmp_path / "out"
    (out / "points").mkdir(parents=True)
    (out / "points" / "manifest.json").write_text("{}")
    assert run_quiet(out) == 0


def test_a_folder_in_use_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    with FolderLock(out):
        assert run_quiet(out) == 2
    err = capsys.readouterr().err
    assert "in use by another run" in err and f"pid {os.getpid()}" in err
    assert not (out / "results.nc").exists()
    assert run_quiet(out) == 0  # the lock dies with its holder


def test_a_folder_locked_by_another_process_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from sensing.pipelines.checkpoint import FolderLock\n"
        f"with FolderLock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run_quiet(out) == 2
        err = capsys.readouterr().err
        assert "in use by another run" in err and f"pid {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert run_quiet(out) == 0  # the lock died with its holder


# -- resources, scheduler --------------------------------------------------------------------------
def test_absurd_per_copy_cost_is_refused_at_validation(capsys):
    sets = ["detectors.camera.pixel_type=threshold", "source.photons_per_copy=100", "copies=[1e15]",
            "pipeline.batch_size=1e13"]
    assert main(cli("validate", str(CONFIG), sets=sets)) == 2
    err = capsys.readouterr().err
    assert "pipeline.max_hours" in err and "core-hours" in err and "camera" in err


def test_local_workers_are_capped_by_the_cores():
    cores = os.cpu_count() or 1
    assert cluster_module.local_workers(64) == cores
    assert cluster_module.local_workers(None) == min(cores, 8)
    assert cluster_module.local_workers(1) == 1


def test_a_config_cannot_name_a_cluster_address(capsys):
    assert main(cli("validate", str(CONFIG), sets=["pipeline.scheduler=tcp://10.0.0.1:8786"])) == 2
    err = capsys.readouterr().err
    assert "pipeline.scheduler" in err and "--scheduler" in err


def test_scheduler_is_printed_before_the_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(cli("run", str(CONFIG), "--out", str(out), "--scheduler", "synchronous", "--no-plots")) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "scheduler: synchronous"


def test_dask_config_address_is_used_when_nothing_else_is_given(monkeypatch):
    import dask

    with dask.config.set({"scheduler-address": "tcp://127.0.0.1:1"}):
        assert cluster_module.resolve_scheduler(None, "synchronous") == "tcp://127.0.0.1:1"
        assert cluster_module.resolve_scheduler("threads", "synchronous") == "threads"
    assert cluster_module.resolve_scheduler(None, "threads") == "threads"
    assert cluster_module.resolve_scheduler(None, None, lambda: "synchronous") == "synchronous"


@pytest.mark.slow
def test_scheduler_without_workers_is_reported(tmp_path, monkeypatch, capsys):
    from distributed import LocalCluster

    monkeypatch.setattr(cluster_module, "WORKER_TIMEOUT", 2)
    with LocalCluster(n_workers=0, dashboard_address=":0", host="127.0.0.1") as empty:
        start = time.monotonic()
        code = main(cli("run", str(CONFIG), "--out", str(tmp_path / "out"), "--scheduler", empty.scheduler_address,
                        "--quiet", "--no-plots"))
        took = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 1 and "has no workers (waited 2 s)" in err and took < 60
    assert len(err.strip().splitlines()) == 1


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_cluster_through_dask_security_config(tmp_path):
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    cert, key = _self_signed(tmp_path)
    tls = {"distributed.comm.tls.ca-file": str(cert), "distributed.comm.tls.client.cert": str(cert),
           "distributed.comm.tls.client.key": str(key), "distributed.comm.require-encryption": True}
    security = Security(tls_ca_file=str(cert), tls_client_cert=str(cert), tls_client_key=str(key),
                        tls_scheduler_cert=str(cert), tls_scheduler_key=str(key),
                        tls_worker_cert=str(cert), tls_worker_key=str(key), require_encryption=True)
    small = dict(s.split("=", 1) for s in SETS)
    small = {k: __import__("yaml").safe_load(v) for k, v in small.items()}
    reference = sensing.run(CONFIG, small, scheduler="synchronous")
    with LocalCluster(n_workers=1, threads_per_worker=1, protocol="tls://", host="127.0.0.1", security=security,
                      dashboard_address=":0") as tls_cluster:
        address = tls_cluster.scheduler_address
        assert address.startswith("tls://")
        with dask.config.set(tls):  # what ~/.config/dask/distributed.yaml would say
            ds = sensing.run(CONFIG, small, scheduler=address)
    assert ds.drop_attrs().identical(reference.drop_attrs())


def test_cluster_errors_are_named_by_point_never_by_task_key():
    from sensing.pipelines.graph import _cluster_error, describe_key

    describe = describe_key({(1, 2): "sweep[separation=1.0], detector 'spade'"}, {1: "sweep[separation=1.0]"})
    assert describe("sample-0123456789-1-2-7") == "sweep[separation=1.0], detector 'spade'"
    assert describe("analysis-0123456789-1-2") == "sweep[separation=1.0], detector 'spade'"
    assert describe("extra-0123456789-1") == "sweep[separation=1.0]"
    assert describe("_guard-deadbeef") == "a task of the run"

    class KilledWorker(Exception):
        pass

    text = _cluster_error(KilledWorker("Attempted to run task 'analysis-e42ddc1d6e-1-0' on 4 different workers"))
    assert "analysis-e42ddc1d6e" not in text and "out of memory" in text
    text = _cluster_error(OSError("Timed out trying to connect while running 'sample-e42ddc1d6e-1-0-3'"))
    assert "e42ddc1d6e" not in text and text.startswith("OSError:")
