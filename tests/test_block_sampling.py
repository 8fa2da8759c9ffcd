"""Block sampling (issue 10): exact sufficient-statistic samplers draw a block of repetitions in
one vectorised call. Its distribution is the per-repetition sampler's (checked against the exact
moments with tolerances from the standard error), and a repetition's numbers do not depend on how
many repetitions a run has or how tasks group them."""

import numpy as np
import pytest

import sensing
from sensing.detectors.counting import complex_wishart, complex_wishart_block
from sensing.pipelines.batches import REPETITION_BLOCK, Batch, block_generator
from sensing.pipelines.graph import sample_task
from sensing.pipelines.batches import Task
from tests.helpers import make_detector, make_scene


@pytest.mark.parametrize("dof, dim", [(3, 2), (10**6, 2), (1, 3), (50, 4)])
def test_wishart_block_has_the_wishart_moments(dof, dim):
    """E W = dof I and Var Re W_01 = dof / 2 for the complex Wishart; the block draws match
    within 5 standard errors, as do single draws (the same Bartlett construction)."""
    count = 20_000
    rng = np.random.default_rng(11)
    block = complex_wishart_block(rng, dof, dim, count)
    single = np.array([complex_wishart(rng, dof, dim) for _ in range(2000)])
    for draws in (block, single):
        n = draws.shape[0]
        diag = draws[:, np.arange(dim), np.arange(dim)].real
        assert np.all(np.abs(diag.mean(axis=0) - dof) < 5 * np.sqrt(dof / n))  # Var W_jj = dof
        off = draws[:, 0, 1].real
        assert abs(off.mean()) < 5 * np.sqrt(dof / 2 / n)
        assert abs(off.var() / (dof / 2) - 1) < 5 * np.sqrt(2 / n) * 1.5  # kurtosis margin for small dof
    np.testing.assert_allclose(block, np.conj(np.swapaxes(block, -1, -2)))  # Hermitian


@pytest.mark.parametrize("eps, copies", [(5e-3, 10**7), (20.0, 200), (1e-3, 1)])
def test_block_totals_have_the_exact_mean_and_covariance(eps, copies):
    """Totals of a block: mean c mu and covariance c C (Poisson plus thermal bunching), from the
    model's exact moments, within 5 standard errors; faint, bright (bunching) and one copy."""
    scene = make_scene(separation=0.6, photons_per_copy=eps)
    detector = make_detector(kind="spade", modes=3, efficiency=0.8, dark_counts=1e-4)
    model = detector.outcome_model(scene.prepare(detector.accepts))
    reps = 40_000
    stats = model.sample_block(np.random.default_rng(5), copies, reps)
    assert stats["totals"].shape == (reps, len(model.labels)) and np.all(stats["copies"] == copies)
    totals = stats["totals"].astype(float)
    mean, cov = copies * model.mean(), copies * model.covariance()
    se = np.sqrt(np.diag(cov) / reps)
    assert np.all(np.abs(totals.mean(axis=0) - mean) < 5 * se), ((totals.mean(axis=0) - mean) / se)
    centred = totals - totals.mean(axis=0)
    products = centred[:, :, None] * centred[:, None, :]
    sample_cov = products.mean(axis=0) * reps / (reps - 1)
    cov_se = products.std(axis=0) / np.sqrt(reps)  # s.e. of each covariance entry, from the sample
    cov_se = np.maximum(cov_se, 1.0 / reps)  # an entry with no event in the sample: s.e. at least 1/R
    assert np.all(np.abs(sample_cov - cov) < 5 * cov_se), ((sample_cov - cov) / cov_se)


def test_threshold_models_keep_the_per_repetition_sampler():
    scene = make_scene(separation=0.6, photons_per_copy=0.05)
    detector = make_detector(kind="camera", pixel_pitch=0.5, pixels=8, pixel_type="threshold")
    assert detector.outcome_model(scene.prepare(detector.accepts)).sample_block is None


def test_a_repetition_is_the_same_however_tasks_group_it():
    """Repetition r's statistics come from block r // REPETITION_BLOCK drawn whole: tasks
    covering (0..4), (5..20) and (0..40) agree on their common repetitions, bit for bit."""
    scene = make_scene(separation=0.4, photons_per_copy=0.01)
    detector = make_detector(kind="spade", modes=4)
    model = detector.outcome_model(scene.prepare(detector.accepts))
    batches = (Batch(0, 0, 5000), Batch(0, 1, 7000))
    whole = sample_task(model, 7, Task(0, 0, 0, tuple(range(41)), batches))
    for reps in (tuple(range(5)), tuple(range(5, 21)), (REPETITION_BLOCK,)):
        part = sample_task(model, 7, Task(0, 0, 0, reps, batches))
        np.testing.assert_array_equal(part["totals"], whole["totals"][list(reps)])
    by_hand = model.sample_block(block_generator(7, 0, 0, 1, batches[0]), 5000, REPETITION_BLOCK)["totals"]
    by_hand = by_hand + model.sample_block(block_generator(7, 0, 0, 1, batches[1]), 7000, REPETITION_BLOCK)["totals"]
    np.testing.assert_array_equal(whole["totals"][REPETITION_BLOCK:2 * REPETITION_BLOCK], by_hand)


def test_more_repetitions_keep_the_first_ones():
    config = {"name": "t", "seed": 3, "source": {"kind": "two_point", "separation": 0.5, "photons_per_copy": 0.01},
              "detectors": [{"name": "spade", "kind": "spade", "modes": 3}],
              "copies": [10**5, 10**6], "repetitions": 20}
    few = sensing.run(config, scheduler="synchronous", progress=False)
    many = sensing.run(config, {"repetitions": 37, "pipeline.repetitions_per_task": 5}, scheduler="synchronous", progress=False)
    np.testing.assert_array_equal(many["estimate"].isel(repetition=slice(0, 20)).values, few["estimate"].values)
