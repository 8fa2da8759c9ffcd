"""Maximum-likelihood estimation from reduced statistics, vectorised over repetitions."""

from __future__ import annotations

import numpy as np

GRID_POINTS = 241
GOLDEN_ITERATIONS = 40
SCORING_ITERATIONS = 12


def _model(scene, detector, values):
    return detector.outcome_model(scene.light(values))


def _paired_log_likelihood(scene, detector, statistics, values) -> np.ndarray:
    """Log-likelihood of repetition r's statistics at its own parameter point r; shape (R,)."""
    model = _model(scene, detector, values)
    mean = model.mean()  # (R, n)
    totals = np.asarray(statistics["totals"], dtype=float)
    copies = np.asarray(statistics["copies"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if model.family == "clicks":
            ll = (totals * np.log(mean)).sum(-1) + ((copies[:, None] - totals) * np.log1p(-mean)).sum(-1)
        else:
            ll = (np.where(totals > 0, totals * np.log(mean), 0.0)).sum(-1) - copies * mean.sum(-1)
    return np.nan_to_num(ll, nan=-np.inf)


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

    The first parameter is located on a grid over its search interval and refined by
    golden-section search within the best grid cell; further parameters (nuisances) start
    at their configured values and all are then refined jointly by Fisher scoring,
    :math:`\theta \leftarrow \theta + I(\theta)^{-1} s(\theta)`, clipped to the bounds.

    Parameters
    ----------
    statistics : dict
        ``copies`` (R,) and ``totals`` (R, n) for R repetitions.

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
    ll = model.log_likelihood(statistics)  # (G, R)
    best = np.argmax(ll, axis=0)
    lo = grid[np.clip(best - 1, 0, GRID_POINTS - 1)]
    hi = grid[np.clip(best + 1, 0, GRID_POINTS - 1)]
    estimate = {names[0]: _golden(scene, detector, statistics, names[0], fixed, lo, hi), **fixed}
    if len(names) > 1:
        estimate = _fisher_scoring(scene, detector, statistics, names, estimate)
    return np.stack([estimate[n] for n in names], axis=-1)


def _fisher_scoring(scene, detector, statistics, names, estimate):
    params = scene.parameters
    totals = np.asarray(statistics["totals"], dtype=float)
    copies = np.asarray(statistics["copies"], dtype=float)
    lower = np.array([params[n].bounds[0] for n in names])
    upper = np.array([params[n].bounds[1] for n in names])
    theta = np.stack([estimate[n] for n in names], axis=-1)
    for _ in range(SCORING_ITERATIONS):
        values = {n: theta[:, i] for i, n in enumerate(names)}
        model = _model(scene, detector, values)
        mean, family = model.mean(), model.family
        dmean = []
        for i, n in enumerate(names):
            h = params[n].step * 10
            plus = _model(scene, detector, {**values, n: theta[:, i] + h}).mean()
            minus = _model(scene, detector, {**values, n: theta[:, i] - h}).mean()
            dmean.append((plus - minus) / (2 * h))
        dmean = np.stack(dmean, axis=1)  # (R, p, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            if family == "clicks":
                weight = np.where(mean > 0, 1.0 / (mean * (1 - mean)), 0.0)
                residual = totals - copies[:, None] * mean
            else:
                weight = np.where(mean > 0, 1.0 / mean, 0.0)
                residual = totals - copies[:, None] * mean
        score = np.einsum("rpk,rk->rp", dmean, residual * weight)
        info = copies[:, None, None] * np.einsum("rpk,rqk,rk->rpq", dmean, dmean, weight)
        step = np.linalg.solve(info + 1e-300 * np.eye(len(names)), score[..., None])[..., 0]
        theta = np.clip(theta + step, lower, upper)
    return {n: theta[:, i] for i, n in enumerate(names)}
