"""Small statistics of simulated experiments (pure functions)."""

from __future__ import annotations

import numpy as np


def spread_relative_error(estimates: np.ndarray) -> float:
    r"""Relative error estimated from the spread of independent repetitions.

    :math:`\hat\epsilon = s / |\bar\theta|` with :math:`\bar\theta` and :math:`s` the mean
    and the sample standard deviation (``ddof=1``) of the R repetitions' estimates: the
    error of one experiment with this many copies. ``inf`` if the mean is 0 or undefined.
    """
    estimates = np.asarray(estimates, dtype=float)
    mean = estimates.mean()
    if not np.isfinite(mean) or mean == 0:
        return float("inf")
    return float(estimates.std(ddof=1) / abs(mean))
