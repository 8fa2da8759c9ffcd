r"""Maximum-likelihood estimation from reduced statistics, vectorised over repetitions.

The estimator relies only on what the detector's outcome model declares: a criterion that
locates the maximum (``model.locating_log_likelihood(statistics)`` on a batch of parameter
points, ``paired=True`` for repetition r at point r; by default the log-likelihood itself,
for counts the Poisson likelihood, which needs the means only) and the score and expected
information of its exact likelihood (``model.score(statistics, mean_derivatives)``), which
Fisher scoring follows to the estimate. It never branches on
the model's family, so a new detector brings its own likelihood. For photon counting on
thermal light that likelihood is the Gaussian one of the totals with the exact per-copy
covariance, bunching included (:meth:`sensing.detectors.counting.ClassicalCountingModel.log_likelihood`),
whose information is the Fisher information reported for the detector.
"""

from __future__ import annotations

import numpy as np

GRID_POINTS = 241
GOLDEN_ITERATIONS = 40
SCORING_ITERATIONS = 12
#: Relative eigenvalue threshold below which a direction of the information matrix counts
#: as unidentifiable (no step is taken along it).
SINGULAR_RCOND = 1e-10
#: Fisher scoring stops once every step is below this fraction of the search interval.
CONVERGED = 1e-12


def _model(scene, detector, values):
    return detector.outcome_model(scene.prepare(detector.accepts, values))


def _paired_log_likelihood(scene, detector, statistics, values) -> np.ndarray:
    """Log-likelihood of repetition r's statistics at its own parameter point r; shape (R,)."""
    return _model(scene, detector, values).locating_log_likelihood(statistics, paired=True)


def _golden(scene, detector, statistics, name, fixed, lo, hi) -> np.ndarray:
    """Vectorised golden-section maximisation of the likelihood in one parameter."""
    ratio = (np.sqrt(5) - 1) / 2
    a, b = lo.copy(), hi.copy()
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc = _paired_log_likelihood(scene, detector, statistics, {**fixed, name: c})
    fd = _paired_log_likelihood(scene, detector, statistics, {**fixed, name: d})
    for _ in range(GOLDEN_ITERATIONS):
        left = fc > fd  # the maximum lies in [a, d]
        a = np.where(left, a, c)
        b = np.where(left, d, b)
        keep, f_keep = np.where(left, c, d), np.where(left, fc, fd)  # the surviving interior point
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = _paired_log_likelihood(scene, detector, statistics, {**fixed, name: new})
        c, fc = np.where(left, new, keep), np.where(left, f_new, f_keep)
        d, fd = np.where(left, keep, new), np.where(left, f_keep, f_new)
    return 0.5 * (a + b)


def maximum_likelihood(scene, detector, statistics, names: list[str]) -> np.ndarray:
    r"""Maximum-likelihood estimates of ``names`` from each repetition's reduced statistics.

    1. The first parameter is located on a grid over its search interval with the model's
       locating criterion (for counts the Poisson likelihood, which needs the means only) and
       refined by golden-section search within the best grid cell;
       further parameters (nuisances) start at their configured values.
    2. All parameters are then refined jointly by Fisher scoring on the model's score,
       :math:`\theta \leftarrow \theta + \mathcal I(\theta)^{+} U(\theta)`, clipped to the
       bounds. For counting detectors U is the quasi-score of the totals with the exact
       covariance, so the estimate has asymptotic covariance :math:`\mathcal I^{-1}`, the
       reported Cramer-Rao bound, at every brightness.

    :math:`\mathcal I^{+}` is the pseudo-inverse (eigenvalues below ``SINGULAR_RCOND`` of the
    largest are dropped): along a direction the data do not inform (a singular information
    matrix, e.g. three parameters from binary SPADE) no step is taken, the estimate of that
    combination stays at its starting value, and the Cramer-Rao bound there is infinite
    (:func:`unidentifiable_parameters` names the parameters).

    Parameters
    ----------
    scene, detector
    statistics : dict
        ``copies`` (R,) and ``totals`` (R, n) for R repetitions.
    names : list of str

    Returns
    -------
    ndarray, shape ``(R, len(names))``
    """
    params = scene.parameters
    copies = np.asarray(statistics["copies"])
    reps = copies.shape[0]
    first = params[names[0]]
    fixed = {n: np.full(reps, params[n].value) for n in names[1:]}
    grid = np.linspace(*first.bounds, GRID_POINTS)
    model = _model(scene, detector, {names[0]: grid, **{n: params[n].value for n in names[1:]}})
    ll = model.locating_log_likelihood(statistics)  # (G, R): locate; the exact score refines below
    best = np.argmax(ll, axis=0)
    lo = grid[np.clip(best - 1, 0, GRID_POINTS - 1)]
    hi = grid[np.clip(best + 1, 0, GRID_POINTS - 1)]
    estimate = {names[0]: _golden(scene, detector, statistics, names[0], fixed, lo, hi), **fixed}
    estimate = _fisher_scoring(scene, detector, statistics, names, estimate)
    return np.stack([estimate[n] for n in names], axis=-1)


def _fisher_scoring(scene, detector, statistics, names, estimate):
    params = scene.parameters
    lower = np.array([params[n].bounds[0] for n in names])
    upper = np.array([params[n].bounds[1] for n in names])
    theta = np.stack([estimate[n] for n in names], axis=-1)
    for _ in range(SCORING_ITERATIONS):
        values = {n: theta[:, i] for i, n in enumerate(names)}
        model = _model(scene, detector, values)
        dmean = []
        for i, n in enumerate(names):
            h = params[n].step * 10
            plus = _model(scene, detector, {**values, n: theta[:, i] + h}).mean()
            minus = _model(scene, detector, {**values, n: theta[:, i] - h}).mean()
            dmean.append((plus - minus) / (2 * h))
        score, information = model.score(statistics, np.stack(dmean, axis=1))  # (R, p), (R, p, p)
        finite = np.all(np.isfinite(information), axis=(-1, -2)) & np.all(np.isfinite(score), axis=-1)
        information = np.where(finite[:, None, None], information, 0.0)
        score = np.where(finite[:, None], score, 0.0)
        step = (np.linalg.pinv(information, rcond=SINGULAR_RCOND, hermitian=True) @ score[..., None])[..., 0]
        updated = np.clip(theta + step, lower, upper)
        converged = np.all(np.abs(updated - theta) <= CONVERGED * (upper - lower))
        theta = updated
        if converged:  # every repetition's step is below rounding of the estimate
            break
    return {n: theta[:, i] for i, n in enumerate(names)}


def unidentifiable_parameters(fisher: np.ndarray, names: list[str], rcond: float = SINGULAR_RCOND) -> dict:
    r"""Which parameters a (possibly singular) Fisher information matrix cannot identify.

    The Cramer-Rao bound of parameter i is :math:`[J^{-1}]_{ii}`; if J is singular, it is
    infinite for every parameter with weight on the null space of J (an eigenvector with
    eigenvalue below ``rcond`` times the largest), and finite for the others
    (:math:`[J^{+}]_{ii}` when :math:`e_i` is orthogonal to the null space).

    Parameters
    ----------
    fisher : ndarray, shape (p, p)
    names : list of str

    Returns
    -------
    dict
        ``crb_per_copy`` (p,) with ``inf`` for unidentifiable parameters, ``unidentifiable``
        (list of names) and ``reason`` (a sentence; empty if J is regular).
    """
    fisher = 0.5 * (np.asarray(fisher, dtype=float) + np.asarray(fisher, dtype=float).T)
    if not np.all(np.isfinite(fisher)):
        bad = [n for i, n in enumerate(names) if not np.all(np.isfinite(fisher[i]))]
        return {"crb_per_copy": np.full(len(names), np.nan), "unidentifiable": bad,
                "reason": f"Fisher information is not finite for {bad}"}
    values, vectors = np.linalg.eigh(fisher)
    null = values <= rcond * max(values.max(), 0.0) if values.max() > 0 else np.ones_like(values, dtype=bool)
    weight = (vectors[:, null] ** 2).sum(axis=1)
    affected = weight > 1e-12
    crb = np.where(affected, np.inf, np.diag(np.linalg.pinv(fisher, rcond=rcond, hermitian=True)))
    names_out = [n for n, a in zip(names, affected) if a]
    reason = ""
    if names_out:
        combos = [" + ".join(f"{v:.3g}*{n}" for v, n in zip(vectors[:, k], names) if abs(v) > 1e-6)
                  for k in np.flatnonzero(null)]
        reason = (f"the Fisher information matrix is singular (rank {int((~null).sum())} of {len(names)}): "
                  f"the statistic does not depend on {'; '.join(combos)} to first order, so "
                  f"{', '.join(names_out)} cannot be estimated from it (Cramer-Rao bound infinite)")
    return {"crb_per_copy": crb, "unidentifiable": names_out, "reason": reason}
