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
#: Bisection steps for a root inside one grid cell: 2^-48 of a cell is below the rounding of the estimate.
BISECTIONS = 48
#: The exact root is refined until its step is below this many standard errors.
ROOT_TOLERANCE = 1e-6
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

    1. The first parameter is located on a grid of ``GRID_POINTS`` over its search interval
       with the model's locating criterion (for counts the Poisson likelihood, which needs
       the means only); further parameters (nuisances) start at their configured values.
    2. The estimate of the first parameter is the root of the model's exact score U(θ)
       nearest that grid point (a local maximum of the likelihood, or a bound where the
       likelihood increases towards it). For models whose score is linear in the statistic,
       :math:`U(\theta) = a(\theta)\cdot T - c\,b(\theta)` (``model.score_coefficients``:
       counting detectors, whose quasi-score is
       :math:`\partial\mu^TC^{-1}(T - c\mu)`), ``a`` and ``b`` are tabulated once on the grid,
       for all repetitions and copy checkpoints together, and again at the cells' midpoints:
       U at every grid point is one matrix product, which brackets the root in one grid
       cell. The root of U's local cubic through grid and midpoints is the estimate where
       it agrees with the cubic through the grid alone within ``ROOT_TOLERANCE`` standard
       errors (:func:`_table_roots`); elsewhere it starts a safeguarded secant iteration on
       the exact score (:func:`_refine_root`), which stops once its step is below that.
       Other models are refined by golden-section search on the locating criterion in the
       best grid cell.
    3. With several parameters, all are then refined jointly by Fisher scoring on the
       model's score, :math:`\theta \leftarrow \theta + \mathcal I(\theta)^{+} U(\theta)`,
       clipped to the bounds (with one parameter and a linear score, step 2 already is the
       root of this iteration). For counting detectors U is the quasi-score of the totals
       with the exact covariance, so the estimate has asymptotic covariance
       :math:`\mathcal I^{-1}`, the reported Cramer-Rao bound, at every brightness.

    :math:`\mathcal I^{+}` is the pseudo-inverse (eigenvalues below ``SINGULAR_RCOND`` of the
    largest are dropped): along a direction the data do not inform (a singular information
    matrix, e.g. three parameters from binary SPADE) no step is taken, the estimate of that
    combination stays at its starting value, and the Cramer-Rao bound there is infinite
    (:func:`unidentifiable_parameters` names the parameters).

    Parameters
    ----------
    scene, detector
    statistics : dict
        ``copies`` (R,) and ``totals`` (R, n) for R repetitions (any number of copy
        checkpoints may be stacked along R).
    names : list of str

    Returns
    -------
    ndarray, shape ``(R, len(names))``
    """
    params = scene.parameters
    copies = np.asarray(statistics["copies"])
    reps = copies.shape[0]
    first = params[names[0]]
    nuisances = {n: params[n].value for n in names[1:]}
    fixed = {n: np.full(reps, value) for n, value in nuisances.items()}
    grid = np.linspace(*first.bounds, GRID_POINTS)
    model = _model(scene, detector, {names[0]: grid, **nuisances})
    ll = model.locating_log_likelihood(statistics)  # (G, R): locate; the exact score refines below
    best = np.argmax(ll, axis=0)
    if hasattr(model, "score_coefficients"):
        table = _score_table(scene, detector, names[0], nuisances, grid, model)
        # The midpoint table costs as much as one exact step for G - 1 repetitions, which it
        # usually saves: worth it only with at least that many repetitions.
        midpoints = (_score_table(scene, detector, names[0], nuisances, 0.5 * (grid[:-1] + grid[1:]))
                     if reps >= GRID_POINTS - 1 else None)
        start, lo, hi = _table_roots(grid, table, midpoints, statistics, best)
        root = _refine_root(scene, detector, statistics, names[0], nuisances, start, lo, hi)
        estimate = {names[0]: root, **fixed}
        if len(names) == 1:
            return root[:, None]
    else:
        lo = grid[np.clip(best - 1, 0, GRID_POINTS - 1)]
        hi = grid[np.clip(best + 1, 0, GRID_POINTS - 1)]
        estimate = {names[0]: _golden(scene, detector, statistics, names[0], fixed, lo, hi), **fixed}
    estimate = _fisher_scoring(scene, detector, statistics, names, estimate)
    return np.stack([estimate[n] for n in names], axis=-1)


def _mean_derivative(scene, detector, values, name):
    """Central difference of the per-copy mean in ``name`` at the batch of points ``values``
    (step ten times the parameter's state step), shape ``(R, n)``."""
    h = scene.parameters[name].step * 10
    plus = _model(scene, detector, {**values, name: values[name] + h}).mean()
    minus = _model(scene, detector, {**values, name: values[name] - h}).mean()
    return (plus - minus) / (2 * h)


def _score_table(scene, detector, name, nuisances, points, model=None):
    """``(a, b, information)`` of the linear score at ``points`` of ``name``: shapes (P, n), (P,), (P,) per copy."""
    values = {name: points, **nuisances}
    model = model if model is not None else _model(scene, detector, values)
    a, b, information = model.score_coefficients(_mean_derivative(scene, detector, values, name)[:, None, :])
    return a[:, 0, :], b[:, 0], information[:, 0, 0]


def _cubic_roots(nodes, a, b, cells, totals, copies):
    """Roots of U = a.T - c b inside cell ``cells[r]`` of equally spaced ``nodes`` (where U falls
    through zero), from the cubic through U at the cell's ends and their neighbours (the four
    nearest nodes; one-sided at the ends of the grid), by bisection. Its error falls as the
    fourth power of the spacing."""
    last = nodes.size - 1
    start = np.clip(cells - 1, 0, last - 3)
    stencil = start[:, None] + np.arange(4)  # (r, 4) node indices
    values = np.einsum("rjn,rn->rj", a[stencil], totals) - copies[:, None] * b[stencil]
    pattern = cells - start  # 0: one-sided at the first cell, 1: centred, 2: one-sided at the last
    coefficients = np.einsum("rpj,rj->pr", _LAGRANGE[pattern], values)  # U(t) = sum_p c_p t^p, t in [0, 1]
    left, right = np.zeros(cells.size), np.ones(cells.size)
    for _ in range(BISECTIONS):
        mid = 0.5 * (left + right)
        value = ((coefficients[3] * mid + coefficients[2]) * mid + coefficients[1]) * mid + coefficients[0]
        up = value >= 0
        left, right = np.where(up, mid, left), np.where(up, right, mid)
    return nodes[cells] + 0.5 * (left + right) * (nodes[cells + 1] - nodes[cells])


#: Inverse Vandermonde matrices of the node offsets (0, 1, 2, 3), (-1, 0, 1, 2) and (-2, -1, 0, 1)
#: from the cell's left end: power coefficients of the cubic through four values.
_LAGRANGE = np.stack([np.linalg.inv(np.vander(np.arange(4.0) + shift, 4, increasing=True)) for shift in (0, -1, -2)])


def _table_roots(grid, table, midpoints, statistics, best):
    r"""Each repetition's root of :math:`U(\theta) = a(\theta)\cdot T - c\,b(\theta)` nearest
    its located grid point, from ``table = (a, b, information)`` on ``grid`` and the same at
    the cell midpoints (``midpoints``; None: every root is left to the exact iteration).
    Returns ``(estimate, lo, hi)``: ``lo < hi`` brackets a root the exact iteration
    (:func:`_refine_root`) must still polish; ``lo == hi`` marks a final estimate.

    U is known exactly at the grid points (one matrix product for all repetitions).
    Candidates are the grid cells where U falls through zero (a local maximum of the
    likelihood) and the bounds where U points out of the interval (the likelihood
    increases towards the bound, where the clipped Fisher-scoring iteration stops). The
    candidate nearest ``best`` is taken. Inside its cell the root of the local cubic
    interpolant of U through the grid and through grid and midpoints (exact at all of them,
    :func:`_cubic_roots`) is found by bisection; the interpolant's error falls as the fourth
    power of the spacing, so the difference of the two roots bounds the finer one's error
    about fifteen times over.
    Where that difference is at most ``ROOT_TOLERANCE`` standard errors the finer root is
    the estimate; elsewhere (a score varying faster than the grid resolves, e.g. like 1/d
    next to d = 0) the finer cell is the bracket of the exact iteration. A repetition with
    no candidate (U not finite anywhere) keeps its grid point.
    """
    a, b, information = table
    totals = np.asarray(statistics["totals"], dtype=float)
    copies = np.asarray(statistics["copies"], dtype=float)
    score = totals @ a.T - copies[:, None] * b[None, :]  # (R, G): U at every grid point
    g = grid.size
    with np.errstate(invalid="ignore"):
        falls = (score[:, :-1] >= 0) & (score[:, 1:] < 0)  # (R, G-1): a root inside cell k
        lower = score[:, 0] < 0
        upper = score[:, -1] >= 0
    position = np.concatenate([np.arange(g - 1) + 0.5, [0.0, g - 1.0]])
    valid = np.concatenate([falls, lower[:, None], upper[:, None]], axis=1)
    distance = np.where(valid, np.abs(position[None, :] - best[:, None]), np.inf)
    choice = np.argmin(distance, axis=1)
    found = np.isfinite(distance[np.arange(choice.size), choice])
    estimate = np.where(found & (choice == g - 1), grid[0], grid[best])
    estimate = np.where(found & (choice == g), grid[-1], estimate)
    lo, hi = estimate.copy(), estimate.copy()
    inside = np.flatnonzero(found & (choice < g - 1))
    if inside.size:
        cell, t, c = choice[inside], totals[inside], copies[inside]
        coarse = _cubic_roots(grid, a, b, cell, t, c)
        if midpoints is None:  # no check of the cubic: the exact iteration polishes every root
            estimate[inside] = coarse
            lo[inside], hi[inside] = grid[cell], grid[cell + 1]
            return estimate, lo, hi
        mid_a, mid_b, _ = midpoints
        nodes = np.empty(2 * g - 1)
        nodes[0::2], nodes[1::2] = grid, 0.5 * (grid[:-1] + grid[1:])
        fine_a = np.empty((2 * g - 1, a.shape[1]))
        fine_a[0::2], fine_a[1::2] = a, mid_a
        fine_b = np.empty(2 * g - 1)
        fine_b[0::2], fine_b[1::2] = b, mid_b
        at_mid = np.einsum("rn,rn->r", mid_a[cell], t) - c * mid_b[cell]  # exact U at the cell's midpoint
        fine_cell = 2 * cell + (at_mid >= 0)  # the half where U still falls through zero
        fine = _cubic_roots(nodes, fine_a, fine_b, fine_cell, t, c)
        with np.errstate(divide="ignore", invalid="ignore"):
            standard_error = 1 / np.sqrt(c * np.maximum(information[cell], information[cell + 1]))
        settled = np.abs(fine - coarse) <= ROOT_TOLERANCE * standard_error
        estimate[inside] = fine
        lo[inside] = np.where(settled, fine, nodes[fine_cell])
        hi[inside] = np.where(settled, fine, nodes[fine_cell + 1])
    return estimate, lo, hi


def _exact_score(scene, detector, statistics, name, nuisances, theta):
    """The exact score and expected information of each repetition at its own ``theta``, shape (R,)."""
    values = {name: theta, **nuisances}
    dmean = _mean_derivative(scene, detector, values, name)
    score, information = _model(scene, detector, values).score(statistics, dmean[:, None, :])
    return score[:, 0], information[:, 0, 0]


def _refine_root(scene, detector, statistics, name, nuisances, start, lo, hi) -> np.ndarray:
    r"""Roots of the exact score from ``start`` inside brackets ``[lo, hi]`` with
    :math:`U(lo) \ge 0 > U(hi)` (``lo == hi``: the estimate is a bound, nothing to do).

    The first step is a Fisher-scoring step :math:`U/\mathcal I`, later ones secant steps;
    a step that leaves the bracket is replaced by bisection, and every evaluation of U
    shrinks the bracket, so the iteration cannot diverge. Repetition r stops once its step
    is at most ``ROOT_TOLERANCE`` standard errors :math:`\mathcal I_r^{-1/2}` (or
    ``CONVERGED`` of the search interval); the model is evaluated only at the repetitions
    still moving.
    """
    width = np.subtract(*scene.parameters[name].bounds[::-1])
    theta, lo, hi = start.copy(), lo.copy(), hi.copy()
    active = np.flatnonzero(hi > lo)
    previous = None
    for _ in range(SCORING_ITERATIONS):
        if active.size == 0:
            break
        sub = {k: np.asarray(v)[active] for k, v in statistics.items()}
        x = theta[active]
        u, info = _exact_score(scene, detector, sub, name, {k: np.full(active.size, v) for k, v in nuisances.items()}, x)
        u = np.where(np.isfinite(u), u, 0.0)
        rising = u >= 0
        lo[active] = np.where(rising, np.maximum(lo[active], x), lo[active])
        hi[active] = np.where(rising, hi[active], np.minimum(hi[active], x))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(info > 0, u / info, 0.0)
            if previous is not None:
                x_old, u_old = previous
                slope = (u - u_old) / (x - x_old)
                step = np.where(np.isfinite(slope) & (slope < 0), -u / slope, step)
            tolerance = np.maximum(CONVERGED * width, ROOT_TOLERANCE / np.sqrt(np.where(info > 0, info, np.inf)))
        new = x + step
        outside = ~((new > lo[active]) & (new < hi[active]))
        new = np.where(outside & (step != 0), 0.5 * (lo[active] + hi[active]), new)
        theta[active] = new
        moving = np.abs(new - x) > tolerance
        previous = (x[moving], u[moving])
        active = active[moving]
    return theta


def _fisher_scoring(scene, detector, statistics, names, estimate):
    params = scene.parameters
    lower = np.array([params[n].bounds[0] for n in names])
    upper = np.array([params[n].bounds[1] for n in names])
    theta = np.stack([estimate[n] for n in names], axis=-1)
    for _ in range(SCORING_ITERATIONS):
        values = {n: theta[:, i] for i, n in enumerate(names)}
        model = _model(scene, detector, values)
        dmean = np.stack([_mean_derivative(scene, detector, values, n) for n in names], axis=1)
        score, information = model.score(statistics, dmean)  # (R, p), (R, p, p)
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
