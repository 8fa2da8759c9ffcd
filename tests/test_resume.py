"""Checkpoint and resume: an interrupted run (client SIGKILLed) resumes, computes only the
missing sweep points, and ends identical to an uninterrupted run; a changed config is refused;
a failed run never touches earlier results. Target-precision runs are reproducible."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sensing
import sensing.api
from sensing.pipelines.checkpoint import PointStore
from sensing.study.config import checkpoints_for
from sensing.cli import main

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
#: Four sweep points, a second or so each on the synchronous scheduler.
SETS = ["copies=[2000, 20000]", "repetitions=6", "sweep={source.separation: [0.2, 0.5, 1.0, 1.5]}",
        "pipeline.batch_size=5000", "pipeline.batches_per_task=2", "pipeline.repetitions_per_task=3"]
POINTS, DETECTORS = 4, 3


def cli(*args: str, sets=SETS) -> list[str]:
    return [*args, *[x for s in sets for x in ("--set", s)]]


def load(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load().drop_attrs()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> xr.Dataset:
    out = tmp_path_factory.mktemp("reference")
    assert main(cli("run", str(CONFIG), "--out", str(out), "--scheduler", "synchronous", "--quiet", "--no-plots")) == 0
    assert not (out / "points").exists(), "checkpoints are removed once results.nc is written"
    return load(out / "results.nc")


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    """An output folder whose run was SIGKILLed after its first sweep point was checkpointed."""
    out = tmp_path_factory.mktemp("interrupted")
    command = [sys.executable, "-m", "sensing.cli", *cli("run", str(CONFIG), "--out", str(out),
                                                         "--scheduler", "synchronous", "--quiet", "--no-plots")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "points").glob("point-*.npz")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    done = sorted((out / "points").glob("point-*.npz"))
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    assert 0 < len(done) < POINTS and not (out / "results.nc").exists()
    return out


def test_resume_after_sigkill_is_identical_and_computes_only_missing_points(interrupted, uninterrupted, monkeypatch, capsys):
    # points the manifest lists (a file written just before the kill, not yet listed, is recomputed)
    done = len(json.loads((interrupted / "points" / "manifest.json").read_text())["files"])
    assert main(cli("run", str(CONFIG), "--out", str(interrupted), "--scheduler", "synchronous", "--quiet")) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(cli("run", str(CONFIG), "--out", str(interrupted), "--resume", "--set", "seed=7",
                    "--scheduler", "synchronous", "--quiet")) == 2
    assert "cannot resume" in capsys.readouterr().err

    built = []
    original = sensing.api.build_graph
    monkeypatch.setattr(sensing.api, "build_graph", lambda units, extra, *a: built.append(len(units)) or original(units, extra, *a))
    # name and scheduler are cosmetic: they may change between a run and its resumption
    assert main(cli("run", str(CONFIG), "--out", str(interrupted), "--resume", "--set", "name=renamed",
                    "--scheduler", "threads", "--quiet", "--no-plots")) == 0
    assert built == [(POINTS - done) * DETECTORS]
    got = load(interrupted / "results.nc")
    for v in got.variables:
        if not got[v].identical(uninterrupted[v]):
            d = got[v] != uninterrupted[v]
            raise AssertionError((v, np.argwhere(d.values), got[v].values[d.values], uninterrupted[v].values[d.values], done))
    assert got.identical(uninterrupted)
    assert not (interrupted / "points").exists()


def test_failed_run_keeps_earlier_results_and_names_the_point(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    sets = [*SETS, "sweep={source.separation: [0.5, 1.0]}"]
    assert main(cli("run", str(CONFIG), "--out", str(out), "--scheduler", "synchronous", "--quiet", "--no-plots", sets=sets)) == 0
    before = (out / "results.nc").read_bytes()

    def broken(scene, detector):
        if detector.name == "spade" and scene.parameters["separation"].value == 1.0:
            raise FloatingPointError("overflow\nin the model")
        return detector.outcome_model(scene.state())

    monkeypatch.setattr(sensing.api, "build_model", broken)
    code = main(cli("run", str(CONFIG), "--out", str(out), "--overwrite", "--scheduler", "synchronous", "--quiet", sets=sets))
    err = capsys.readouterr().err
    assert code == 1
    assert (out / "results.nc").read_bytes() == before
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert "sweep[separation=1.0], detector 'spade': FloatingPointError: overflow in the model" in lines[0]
    # a point that finished before the failure is kept (and the message says how to continue)
    assert ("--resume" in lines[0]) == PointStore(out).path(0).is_file()
    assert not PointStore(out).path(1).is_file()


def test_checkpoint_round_trip_is_exact(tmp_path):
    store = PointStore(tmp_path)
    value = {"scene": {"true": np.array([0.5]), "photons": 1e-3, "units": {"separation": "psf_sigma"}, "names": ["separation"]},
             "detectors": [{"fisher": np.array([[np.nan, np.inf], [1 / 3, -0.0]]), "count": np.int64(7), "none": None}]}
    store.save(3, value)
    back = store.load(3)
    assert back["scene"]["units"] == value["scene"]["units"] and back["scene"]["names"] == ["separation"]
    assert back["scene"]["photons"] == 1e-3 and back["detectors"][0]["none"] is None
    np.testing.assert_array_equal(back["detectors"][0]["fisher"], value["detectors"][0]["fisher"])
    assert back["detectors"][0]["count"] == 7 and back["detectors"][0]["count"].dtype == np.int64
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")], "no temporary files left behind"


def test_target_run_is_reproducible_and_equals_the_fixed_run_it_chose(tmp_path):
    target = {"copies": None, "sweep": {"source.separation": [1.0, 2.0]}, "repetitions": 6,
              "target": {"parameter": "separation", "relative_error": 0.2, "initial_copies": 1000, "max_copies": 256_000},
              "pipeline.batch_size": 3000}
    first = sensing.run(CONFIG, target, scheduler="synchronous", checkpoints=tmp_path)
    PointStore(tmp_path).path(1).unlink()  # as if interrupted after the rounds: resume reuses the chosen copies
    again = sensing.run(CONFIG, target, scheduler="threads", checkpoints=tmp_path, resume=True)
    assert first.drop_attrs().identical(again.drop_attrs())
    copies = [int(c) for c in first["copies"].values]
    assert copies == checkpoints_for(1000, 256_000)[:len(copies)]
    reached = first["copies_to_target"].values
    # the run stops at the first checkpoint where every unit met the target (here before the budget)
    assert copies[-1] < 256_000 and np.nanmax(reached) == copies[-1]
    error = first["estimate"].std("repetition", ddof=1) / abs(first["estimate"].mean("repetition"))
    met = (error.sel(parameter="separation") <= 0.2).values  # (separation, detector, copies)
    for index in np.ndindex(reached.shape):
        hits = np.flatnonzero(met[index])
        assert (np.isnan(reached[index]) and hits.size == 0) or reached[index] == copies[hits[0]]
    fixed = sensing.run(CONFIG, {**target, "target": None, "copies": copies}, scheduler="synchronous")
    assert fixed.drop_attrs().identical(first.drop_attrs().drop_vars("copies_to_target"))
