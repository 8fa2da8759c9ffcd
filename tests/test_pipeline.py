"""The pipeline gives identical numbers whatever the scheduler, the number of workers and the
grouping of batches into tasks (seeds are keyed by batch, sums of integers are exact)."""

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sensing
import sensing.api
from sensing.pipelines.batches import plan_tasks, segment_batches
from sensing.study.config import PipelineSettings

CONFIG = {
    "name": "tiny",
    "seed": 99,
    "source": {"kind": "two_point", "separation": 0.5, "photons_per_copy": 0.01},
    "detectors": [
        {"name": "camera", "kind": "camera", "pixel_pitch": 0.5, "pixels": 12, "pixel_type": "threshold"},
        {"name": "spade", "kind": "spade", "modes": 4, "efficiency": 0.9},
    ],
    "copies": [1000, 30000],
    "repetitions": 5,
    "sweep": {"source.separation": [0.3, 1.0]},
    "pipeline": {"batch_size": 7000, "batches_per_task": 2, "repetitions_per_task": 2},
}


def numbers(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_attrs()


@pytest.fixture(scope="module")
def reference():
    return sensing.run(CONFIG, scheduler="synchronous")


def test_threads_give_identical_results(reference):
    xr.testing.assert_identical(numbers(sensing.run(CONFIG, scheduler="threads")), numbers(reference))


@pytest.mark.parametrize("workers", [1, 2])
def test_local_cluster_gives_identical_results(reference, workers):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        ds = sensing.run(CONFIG, client=client)
    xr.testing.assert_identical(numbers(ds), numbers(reference))


def test_task_grouping_does_not_change_results(reference):
    regrouped = sensing.run(CONFIG, {"pipeline.batches_per_task": 1, "pipeline.repetitions_per_task": 5}, scheduler="synchronous")
    xr.testing.assert_identical(numbers(regrouped), numbers(reference))


def test_different_seed_gives_different_estimates(reference):
    other = sensing.run(CONFIG, {"seed": 100}, scheduler="synchronous")
    assert not np.array_equal(other["estimate"].values, reference["estimate"].values)
    xr.testing.assert_identical(other["fisher_information"], reference["fisher_information"])


def test_results_schema(reference):
    ds = reference
    assert ds["estimate"].dims == ("separation", "detector", "copies", "repetition", "parameter")
    assert ds["fisher_information"].dims == ("separation", "detector", "parameter")
    assert ds["quantum_fisher_information_per_photon"].dims == ("separation", "parameter")
    assert list(ds["detector"].values) == ["camera", "spade"]
    assert list(ds["copies"].values) == [1000, 30000]
    expected = 1 / (ds["fisher_information"] * ds["copies"])
    xr.testing.assert_allclose(ds["crb"], expected.transpose(*ds["crb"].dims))
    assert "config" in ds.attrs and "versions" in ds.attrs and ds.attrs["seed"] == 99


def test_batches_cover_the_checkpoints_exactly():
    segments = segment_batches([1000, 30000], 7000)
    assert [sum(b.copies for b in seg) for seg in segments] == [1000, 29000]
    assert max(b.copies for seg in segments for b in seg) <= 7000
    tasks = plan_tasks(0, 0, [1000, 30000], 5, PipelineSettings(batch_size=7000, batches_per_task=2, repetitions_per_task=2))
    covered = {(r, b.segment, b.index) for t in tasks for r in t.repetitions for b in t.batches}
    assert len(covered) == sum(len(s) for s in segments) * 5 == sum(len(t.repetitions) * len(t.batches) for t in tasks)


def test_each_sweep_point_state_is_built_once_whatever_the_detectors(monkeypatch):
    """No one-copy state (SF or closed form) of a sweep point is computed twice, however many
    detectors and the quantum limit use it."""
    from sensing.scenes.two_point import TwoPointScene

    built = []
    state, typed = TwoPointScene.state, TwoPointScene.typed_state

    def record(kind, original):
        def wrapper(self, *args):
            values = args[-1] if args and isinstance(args[-1], dict) else None
            if all(np.ndim(v) == 0 for v in (values or {}).values()):  # batched likelihood grids are not states
                built.append((id(self), kind, args[0] if kind == "typed" else None,
                              tuple(sorted((values or {}).items()))))
            return original(self, *args)
        return wrapper

    monkeypatch.setattr(TwoPointScene, "state", record("sf", state))
    monkeypatch.setattr(TwoPointScene, "typed_state", record("typed", typed))
    config = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
    overrides = {"copies": [1000], "repetitions": 2, "sweep": {"source.separation": [0.3, 1.0]},
                 "detectors.camera.pixels": 10}
    ds = sensing.api.run(config, overrides, scheduler="synchronous")
    assert ds.sizes["detector"] == 3 and built
    assert len(built) == len(set(built)), [b for b in built if built.count(b) > 1][:3]
