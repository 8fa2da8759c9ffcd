"""One contract suite for every registered detector (scikit-learn's check_estimator idea).

Each detector supplies ``example()`` (and ``examples()``, e.g. the same detector on a 2-D image
plane): a small exact scene and detector configuration. The
checks: the sampler agrees with the exact outcome model (means within 4.5 standard errors,
from the model's own covariance); statistics add up across batches; the same seed gives the
same numbers; the exact sufficient-statistic sampler agrees with per-copy sampling; bad
parameters raise a validation error naming the field.
"""

import numpy as np
import pytest
from pydantic import ValidationError

from sensing.contracts.detector import add_statistics
from sensing.study.registry import DETECTORS, SCENES
from tests.helpers import make_detector, make_scene

KINDS = sorted(DETECTORS)
CASES = [pytest.param(kind, i, id=f"{kind}-{i}") for kind in KINDS for i in range(len(DETECTORS[kind].examples()))]
COPIES = 20_000


def build(kind, case=0):
    scene_settings, detector_settings = DETECTORS[kind].examples()[case]
    scene = make_scene(**scene_settings)
    detector = make_detector(**detector_settings)
    return scene, detector, detector.outcome_model(scene.state())


@pytest.mark.parametrize("kind,case", CASES)
def test_sampler_agrees_with_outcome_model(kind, case):
    _, _, model = build(kind, case)
    outcomes = np.asarray(model.sample(np.random.default_rng(1), COPIES), dtype=float)
    mean = np.asarray(model.mean(), dtype=float)
    standard_error = np.sqrt(np.clip(np.diag(np.asarray(model.covariance(), dtype=float)), 0, None) / COPIES)
    deviation = np.abs(outcomes.mean(axis=0) - mean)
    assert outcomes.shape == (COPIES, len(model.labels))
    assert np.all(deviation <= 4.5 * standard_error + 1e-12), (deviation / standard_error).max()
    # covariance, through the variance of the summed outputs; its standard error is estimated
    # from the fourth moment of the same sample (thermal light has heavy tails)
    total = outcomes.sum(axis=1)
    squared = (total - total.mean()) ** 2
    predicted = float(np.asarray(model.covariance(), dtype=float).sum())
    assert abs(squared.mean() - predicted) <= 4.5 * squared.std() / np.sqrt(COPIES)


@pytest.mark.parametrize("kind,case", CASES)
def test_statistics_add_up_across_batches(kind, case):
    _, _, model = build(kind, case)
    outcomes = model.sample(np.random.default_rng(2), 3000)
    whole = model.reduce(outcomes)
    parts = add_statistics(model.reduce(outcomes[:1234]), model.reduce(outcomes[1234:]))
    assert whole.keys() == parts.keys()
    for key in whole:
        np.testing.assert_allclose(parts[key], whole[key], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("kind,case", CASES)
def test_same_seed_same_numbers(kind, case):
    _, _, model = build(kind, case)
    a = model.sample_statistics(np.random.default_rng(3), 5000)
    b = model.sample_statistics(np.random.default_rng(3), 5000)
    c = model.sample_statistics(np.random.default_rng(4), 5000)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(not np.array_equal(a[k], c[k]) for k in a if k != "copies")


@pytest.mark.parametrize("kind,case", CASES)
def test_sufficient_statistic_sampler_matches_per_copy_sampling(kind, case):
    """sample_statistics (possibly an exact shortcut) and reduce(sample()) agree in distribution.

    Each entry's mean over repeated batches is compared by a two-sample z-test at 4.5 s.e.
    """
    _, _, model = build(kind, case)
    rng = np.random.default_rng(5)
    copies, repeats = 300, 400
    fast = [model.sample_statistics(rng, copies) for _ in range(repeats)]
    slow = [model.reduce(model.sample(rng, copies)) for _ in range(repeats)]
    for key in fast[0]:
        a = np.array([np.asarray(d[key], dtype=float).ravel() for d in fast])
        b = np.array([np.asarray(d[key], dtype=float).ravel() for d in slow])
        se = np.sqrt(a.var(axis=0) / repeats + b.var(axis=0) / repeats)
        diff = np.abs(a.mean(axis=0) - b.mean(axis=0))
        assert np.all(diff[se > 0] < 4.5 * se[se > 0]), (key, (diff / np.where(se > 0, se, 1)).max())
        assert np.all(diff[se == 0] == 0), key


@pytest.mark.parametrize("kind", KINDS)
def test_bad_parameters_raise(kind):
    _, detector_settings = DETECTORS[kind].example()
    settings = DETECTORS[kind].Settings
    with pytest.raises(ValidationError) as err:
        settings(**{**detector_settings, "efficiency": 1.5})
    assert "efficiency" in str(err.value)
    with pytest.raises(ValidationError) as err:
        settings(**{**detector_settings, "no_such_field": 1})
    assert "no_such_field" in str(err.value)


@pytest.mark.parametrize("kind", KINDS)
def test_example_scene_is_registered(kind):
    scene_settings, _ = DETECTORS[kind].example()
    assert scene_settings["kind"] in SCENES
