"""What the embedded cluster's workers receive and how they run (issue 10): the graph carries
settings, not arrays the workers rebuild in milliseconds, and the workers keep glibc's default
memory trimming (distributed's MALLOC_TRIM_THRESHOLD_=65536 made the same tasks 1.3-2.3x slower)."""

import os
import pickle

import numpy as np

from sensing.api import PlannedModel, build_model
from sensing.pipelines.cluster import _embedded_worker_environment, open_client
from tests.helpers import make_detector, make_scene


def test_pickled_detector_leaves_its_operator_cache_behind_and_rebuilds_it_identically():
    scene = make_scene(separation=0.4, photons_per_copy=0.01)
    camera = make_detector(kind="camera", pixel_pitch=0.1, pixels=120)
    model = build_model(scene, camera)
    assert camera.__dict__.get("_operator_cache")  # built and cached in this process
    blob = pickle.dumps(camera)
    assert len(blob) < 20_000, len(blob)  # the 120 pixel matrices (0.75 MB) are not in it
    copy = pickle.loads(blob)
    rebuilt = build_model(pickle.loads(pickle.dumps(scene)), copy)
    np.testing.assert_array_equal(rebuilt.mean(), model.mean())
    np.testing.assert_array_equal(rebuilt.covariance(), model.covariance())


def test_planned_model_is_used_here_and_rebuilt_bit_for_bit_where_unpickled():
    scene = make_scene(separation=0.7, photons_per_copy=0.02)
    camera = make_detector(kind="camera", pixel_pitch=0.25, pixels=24)
    model = build_model(scene, camera)
    planned = PlannedModel(model, scene, camera)
    assert planned() is model
    blob = pickle.dumps(planned)
    assert len(blob) < 20_000
    remote = pickle.loads(blob)()
    assert remote is not model
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(remote.sample_statistics(rng_a, 10**6)["totals"], model.sample_statistics(rng_b, 10**6)["totals"])
    np.testing.assert_array_equal(remote.mean(), model.mean())


def test_embedded_workers_keep_the_default_malloc_trimming(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert _embedded_worker_environment() == {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with open_client("local", 1) as client:
        seen = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(seen.values()) == [None]
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")  # a user's own setting wins
    assert _embedded_worker_environment() == {}
