"""The tabulated maximum-likelihood search (issue 10): its estimates are the roots of the exact
score, found independently here by Brent's method on the score evaluated point by point.

The fast path tabulates the linear score ``U = a . T - c b`` on the search grid and polishes its
spline root with a safeguarded secant on the exact score; these tests check the result against
``scipy.optimize.brentq`` on the exact :meth:`score`, in the regimes users reach: faint light at
tiny separations (a score that diverges like 1/d at d = 0), estimates at the bound d = 0,
bright light with bunching, threshold pixels, and a nuisance parameter.
"""

import numpy as np
import pytest
from scipy.optimize import brentq

from sensing.analyzers.estimation import GRID_POINTS, ROOT_TOLERANCE, maximum_likelihood
from sensing.detectors.counting import DenseOutputs
from tests.helpers import make_detector, make_scene
from tests.test_estimation import simulate


def exact_score(scene, detector, stats, r, theta):
    """U(theta) and I(theta) of repetition r from the model built at theta alone."""
    h = scene.parameters["separation"].step * 10
    model = detector.outcome_model(scene.prepare(detector.accepts, {"separation": np.array([theta])}))
    plus = detector.outcome_model(scene.prepare(detector.accepts, {"separation": np.array([theta + h])})).mean()
    minus = detector.outcome_model(scene.prepare(detector.accepts, {"separation": np.array([theta - h])})).mean()
    one = {k: np.asarray(v)[r:r + 1] for k, v in stats.items()}
    u, info = model.score(one, ((plus - minus) / (2 * h))[:, None, :])
    return float(u[0, 0]), float(info[0, 0, 0])


def brent_root(scene, detector, stats, r, estimate):
    """The exact score's root in the grid cell around ``estimate`` (bracketed by its grid neighbours)."""
    lo_bound, hi_bound = scene.parameters["separation"].bounds
    grid = np.linspace(lo_bound, hi_bound, GRID_POINTS)
    k = int(np.clip(np.searchsorted(grid, estimate) - 1, 0, GRID_POINTS - 2))
    a, b = grid[max(k - 1, 0)], grid[min(k + 2, GRID_POINTS - 1)]
    f = lambda t: exact_score(scene, detector, stats, r, t)[0]  # noqa: E731
    if f(a) * f(b) > 0:
        return None
    return brentq(f, a, b, xtol=1e-15, rtol=1e-15)


CASES = [
    # (detector, separation, photons per copy, copies): faint SPADE near d = 0, where U ~ 1/d
    (dict(kind="spade", modes=1), 0.05, 5e-3, 10**8),
    (dict(kind="spade", modes=8), 0.1, 5e-3, 10**7),
    (dict(kind="camera", pixel_pitch=0.25, pixels=24), 0.8, 5e-3, 10**7),
    (dict(kind="camera", pixel_pitch=0.5, pixels=12, dark_counts=1e-3), 1.3, 20.0, 10**4),  # bright: bunching
    (dict(kind="camera", pixel_pitch=0.5, pixels=12, pixel_type="threshold"), 1.5, 0.05, 10**5),
]


@pytest.mark.parametrize("detector_kw, separation, eps, copies", CASES)
def test_estimates_are_the_exact_score_roots(detector_kw, separation, eps, copies):
    """Every interior estimate equals Brent's root of the exact score within ROOT_TOLERANCE
    standard errors (plus rounding); estimates at the bound 0 have U <= 0 just inside it."""
    scene = make_scene(separation=separation, photons_per_copy=eps)
    detector = make_detector(**detector_kw)
    stats = simulate(scene, detector, copies, 12, seed=31)
    estimates = maximum_likelihood(scene, detector, stats, ["separation"])[:, 0]
    checked = 0
    for r, estimate in enumerate(estimates):
        u, info = exact_score(scene, detector, stats, r, max(estimate, 1e-6))
        if estimate < 1e-9:  # at the bound: the likelihood falls from 0 inwards
            assert exact_score(scene, detector, stats, r, 1e-3)[0] <= 0
            continue
        root = brent_root(scene, detector, stats, r, estimate)
        assert root is not None, (r, estimate)
        tolerance = 2 * ROOT_TOLERANCE / np.sqrt(info) + 1e-12 * max(1.0, abs(root))
        assert abs(estimate - root) <= tolerance, (r, estimate, root, tolerance)
        checked += 1
    assert checked >= 6  # most repetitions are interior roots: the comparison is not vacuous


def test_checkpoints_stacked_give_the_same_estimates_as_one_by_one():
    """analyze_detector stacks every copy checkpoint into one search: the same numbers as one at a time."""
    scene = make_scene(separation=0.3, photons_per_copy=5e-3)
    detector = make_detector(kind="spade", modes=4)
    a = simulate(scene, detector, 10**6, 6, seed=3)
    b = simulate(scene, detector, 10**7, 6, seed=4)
    both = {k: np.concatenate([a[k], b[k]]) for k in a}
    together = maximum_likelihood(scene, detector, both, ["separation"])
    apart = np.concatenate([maximum_likelihood(scene, detector, a, ["separation"]),
                            maximum_likelihood(scene, detector, b, ["separation"])])
    np.testing.assert_allclose(together, apart, rtol=0, atol=1e-12)


def test_nuisance_parameters_still_refined_jointly():
    """Separation with the centroid as a nuisance: the joint Fisher scoring still runs, and
    the estimates' spread matches the CRB of the 2-parameter Fisher matrix within 4.5 s.e."""
    from sensing.analyzers.fisher import detector_fisher_information

    scene = make_scene(separation=0.8, photons_per_copy=5e-3)
    detector = make_detector(kind="camera", pixel_pitch=0.25, pixels=32)
    copies, reps = 10**7, 300
    stats = simulate(scene, detector, copies, reps, seed=12)
    est = maximum_likelihood(scene, detector, stats, ["separation", "centroid"])
    crb = np.diag(np.linalg.inv(detector_fisher_information(scene, detector, ["separation", "centroid"]))) / copies
    errors = est - np.array([0.8, 0.0])
    squared = errors ** 2
    se = squared.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(squared.mean(axis=0) - crb) < 4.5 * se), (squared.mean(axis=0) / crb)


def test_dense_outputs_responses_from_eigen_rows_equal_the_dense_product():
    """L^dagger M_k L from the truncated eigen-rows equals the dense product, for positive and
    indefinite Hermitian M_k, real and complex factors, batched and not."""
    rng = np.random.default_rng(5)
    k = 6
    low_rank = rng.normal(size=(4, k, 2)) + 1j * rng.normal(size=(4, k, 2))
    positive = low_rank @ np.conj(np.swapaxes(low_rank, 1, 2))  # rank 2 of 6
    sym = rng.normal(size=(3, k, k))
    indefinite = sym + np.swapaxes(sym, 1, 2)
    zero = np.zeros((1, k, k))
    for matrices in (positive, indefinite, np.concatenate([positive, zero])):
        outputs = DenseOutputs(matrices)
        for factor in (rng.normal(size=(k, 2)), rng.normal(size=(5, k, 3)) + 1j * rng.normal(size=(5, k, 3))):
            dense = np.swapaxes(np.conj(factor), -1, -2)[..., None, :, :] @ (matrices @ factor[..., None, :, :])
            np.testing.assert_allclose(outputs.responses(factor), dense, rtol=0,
                                       atol=1e-13 * np.abs(dense).max())
    assert DenseOutputs(positive)._eigenrows()[0].shape[1] == 2  # the rank, not the dimension


def test_mse_below_the_quantum_limit_only_where_flagged_biased():
    """At d = 0.05 sigma with 10^4 copies most estimates sit at the bound 0: the estimator is
    biased and its mse falls below the quantum CRB (which holds for unbiased estimators). Every
    cell where the mse beats quantum_crb by more than 3.5 of its standard errors is flagged
    ``biased``; with 10^8 copies (efficient regime) nothing is flagged."""
    import sensing

    config = {"name": "t", "seed": 5, "source": {"kind": "two_point", "separation": 0.05, "photons_per_copy": 5e-3},
              "detectors": [{"name": "binary", "kind": "spade", "modes": 1}, {"name": "spade", "kind": "spade", "modes": 6}],
              "copies": [10**4, 10**8], "repetitions": 80}
    ds = sensing.run(config, scheduler="synchronous", progress=False).isel(parameter=0)
    assert int(ds["biased"].sel(copies=10**4, detector="binary")) == 1
    assert float(ds["mse"].sel(copies=10**4, detector="binary")) < float(ds["quantum_crb"].sel(copies=10**4))
    beaten = (ds["quantum_crb"] - ds["mse"]) / ds["mse_standard_error"] > 3.5
    assert not bool((beaten & (ds["biased"] == 0)).any())
    assert int(ds["biased"].sel(copies=10**8).sum()) == 0
