"""Maximum-likelihood estimation from reduced statistics: efficiency against the Cramer-Rao bound."""

import numpy as np
import pytest

from sensing.analyzers.estimation import maximum_likelihood
from sensing.analyzers.fisher import detector_fisher_information
from tests.helpers import make_detector, make_scene


def simulate(scene, detector, copies, repetitions, seed):
    model = detector.outcome_model(scene.state())
    rng = np.random.default_rng(seed)
    draws = [model.sample_statistics(rng, copies) for _ in range(repetitions)]
    return {k: np.array([d[k] for d in draws]) for k in draws[0]}


def assert_mse_at_cramer_rao_bound(errors, bound, z=4.5):
    """The mean squared error over repetitions equals the Cramer-Rao bound within ``z`` standard
    errors, both ways: above it, the estimator is inefficient; below it, the Fisher information
    or the estimator is wrong. S.e. of the MSE from the sample, std(error^2) / sqrt(R) (about
    sqrt(2/R) MSE for Gaussian errors)."""
    squared = np.asarray(errors) ** 2
    mse = squared.mean(axis=0)
    se = squared.std(axis=0, ddof=1) / np.sqrt(squared.shape[0])
    assert np.all(np.abs(mse - bound) < z * se), (bound / mse, se / mse)


@pytest.mark.parametrize("kind", [dict(kind="spade", modes=8), dict(kind="spade", modes=1)])
def test_spade_estimator_is_efficient_tsang2016(kind):
    """Ideal SPADE at d = 0.5 sigma with 2e6 detected photons: the MSE attains the CRB.

    With R = 800 repetitions the MSE has relative standard error ~sqrt(2/R) = 0.05; the MSE
    must equal the CRB within 4.5 of them (the test was crb/mse >= 0.8, one-sided, ~3 s.e.).
    """
    eps, copies, reps = 5e-3, 400_000_000, 800
    scene = make_scene(separation=0.5, photons_per_copy=eps)
    detector = make_detector(**kind)
    stats = simulate(scene, detector, copies, reps, seed=7)
    estimates = maximum_likelihood(scene, detector, stats, ["separation"])[:, 0]
    crb = 1 / (copies * detector_fisher_information(scene, detector, ["separation"])[0, 0])
    mse = np.mean((estimates - 0.5) ** 2)
    assert_mse_at_cramer_rao_bound(estimates - 0.5, crb)
    assert abs(estimates.mean() - 0.5) < 4 * np.sqrt(mse / reps)  # unbiased within 4 s.e.


def test_camera_estimator_reaches_its_own_bound():
    eps, copies, reps = 5e-3, 20_000_000, 600
    scene = make_scene(separation=1.0, photons_per_copy=eps)
    detector = make_detector(kind="camera", pixel_pitch=0.25, pixels=32, efficiency=0.8, dark_counts=1e-4)
    stats = simulate(scene, detector, copies, reps, seed=8)
    estimates = maximum_likelihood(scene, detector, stats, ["separation"])[:, 0]
    crb = 1 / (copies * detector_fisher_information(scene, detector, ["separation"])[0, 0])
    assert_mse_at_cramer_rao_bound(estimates - 1.0, crb)  # relative s.e. of the MSE ~sqrt(2/600) = 0.06


def test_threshold_camera_estimates_from_clicks():
    eps, copies, reps = 0.05, 500_000, 200
    scene = make_scene(separation=1.5, photons_per_copy=eps)
    detector = make_detector(kind="camera", pixel_pitch=0.5, pixels=16, pixel_type="threshold")
    stats = simulate(scene, detector, copies, reps, seed=9)
    estimates = maximum_likelihood(scene, detector, stats, ["separation"])[:, 0]
    crb = 1 / (copies * detector_fisher_information(scene, detector, ["separation"])[0, 0])
    # composite (per-pixel) click likelihood; relative s.e. of the MSE ~sqrt(2/200) = 0.1
    assert_mse_at_cramer_rao_bound(estimates - 1.5, crb)


def test_joint_estimation_of_separation_and_brightness():
    """Fisher scoring over (separation, relative_brightness): covariance of estimates near the inverse FIM."""
    eps, copies, reps = 1e-2, 50_000_000, 600
    scene = make_scene(separation=1.2, relative_brightness=0.3, photons_per_copy=eps)
    detector = make_detector(kind="camera", pixel_pitch=0.2, pixels=50)
    names = ["separation", "relative_brightness"]
    stats = simulate(scene, detector, copies, reps, seed=10)
    estimates = maximum_likelihood(scene, detector, stats, names)
    bound = np.linalg.inv(copies * detector_fisher_information(scene, detector, names))
    errors = estimates - np.array([1.2, 0.3])
    mse = (errors**2).mean(0)
    assert_mse_at_cramer_rao_bound(errors, np.diag(bound))  # relative s.e. ~sqrt(2/600) = 0.06
    assert np.all(np.abs(errors.mean(0)) < 4 * np.sqrt(mse / reps))
