"""Every random draw comes from the root seed by position (sensing.contracts.seeds)."""

from pathlib import Path

import numpy as np

from sensing.api import run
from sensing.testing import build_scene

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "displacement_learning.yaml"
#: A small channel-learning run whose empirical sample-complexity simulations run for every detector.
SMALL = {"copies": [500, 1000], "repetitions": 3, "source.modes": 2, "source.queries": 3,
         "analysis.modes": [1, 2], "analysis.empirical_max_copies": 3000, "analysis.empirical_repetitions": 8,
         "pipeline.batch_size": 500}


def _run(**extra):
    return run(CONFIG, {**SMALL, **extra}, scheduler="synchronous")


def test_renaming_a_detector_changes_no_number():
    before = _run()
    names = list(before["detector"].values)
    renamed = _run(**{f"detectors.{i}.name": f"renamed_{i}" for i in range(len(names))})
    assert list(renamed["detector"].values) == [f"renamed_{i}" for i in range(len(names))]
    empirical = before["copies_needed_empirical"].values
    assert np.isfinite(empirical).any(), "the check needs empirical runs to compare"
    for name in before.data_vars:
        np.testing.assert_array_equal(renamed[name].values, before[name].values, err_msg=name)


def test_root_seed_decides_the_query_set_and_the_data():
    a, b = _run(), _run(seed=12345)
    assert not np.array_equal(a["estimate_real"].values, b["estimate_real"].values)
    settings = {"kind": "displacement_channel", "modes": 3, "queries": 4}
    same = build_scene(**settings, seed=7).queries, build_scene(**settings, seed=7).queries
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], build_scene(**settings, seed=8).queries)


def test_random_mixture_components_come_from_the_root_seed():
    settings = {"kind": "displacement_channel", "modes": 2, "distribution": "mixture", "random_components": 5}
    one, again, other = (build_scene(**settings, seed=s).channel for s in (3, 3, 4))
    np.testing.assert_array_equal(one.displacements, again.displacements)
    assert not np.allclose(one.displacements, other.displacements)
