r"""One star or two: error exponents and exact error probabilities of hypothesis tests.

Pure functions (arrays in, arrays out) for discriminating

* **H0**: one incoherent point source at the centroid carrying all the light, from
* **H1**: two incoherent point sources with separation :math:`d` and relative brightness
  :math:`e` (the companion's share), intensity-weighted centroid fixed at the optical axis,
  i.e. the star at :math:`-e d` and the companion at :math:`(1-e) d` (PHYSICS.md §6.3;
  :math:`e = 1/2` gives :math:`\pm d/2`, §6.2),

seen through a 1-D Gaussian PSF :math:`\psi(x) = (2\pi\sigma^2)^{-1/4} e^{-x^2/(4\sigma^2)}`
(:math:`\sigma` = intensity standard deviation, TNL 2016 convention).

Contents
--------
1. Classical discrimination of two outcome distributions: Chernoff exponent (fixed number
   of detected photons / copies), Poisson-model exponent for count rates, Kullback-Leibler
   (Stein) exponent, exact Bayes error of the likelihood-ratio test on N i.i.d. copies and the
   exact randomised Neyman-Pearson miss probability.
2. Quantum limits for small density matrices: quantum Chernoff exponent, quantum relative
   entropy, Helstrom error on k copies.
3. The one-vs-two-source states: the weak-source per-photon states (exact, in the span of
   the PSF shifts) and the exact thermal state at any photons per copy (Gaussian closed form
   and Fock-space density matrices).
4. Per-photon outcome rates of direct imaging (continuum and pixels), binary and full
   SPADE and SLIVER, with efficiency and dark counts.

Numerical stability: every outcome model carries the log-likelihood ratio
:math:`L = \ln(m_0/m_1)` computed analytically (``expm1``/``log1p`` forms), and the exponent
kernels work with :math:`h(z) = e^z - 1 - z`, so exponents down to :math:`10^{-30}`
(contrast :math:`10^{-10}`, separation :math:`0.01\sigma`) keep full relative precision.

Conventions for the quantum Gaussian (thermal) states: Strawberry Fields, :math:`\hbar = 2`,
xxpp ordering, vacuum covariance :math:`I` (see :mod:`sensing.physics.gaussian`).

References
----------
.. [Lu2018] X.-M. Lu, R. Nair, M. Tsang, "Quantum-optimal detection of one-versus-two
   incoherent optical sources with arbitrary separation", npj Quantum Inf. 4, 64 (2018),
   arXiv:1802.02300.
.. [Huang2021] Z. Huang, C. Lupo, "Quantum hypothesis testing for exoplanet detection",
   Phys. Rev. Lett. 127, 130502 (2021), arXiv:2106.00488.
.. [Audenaert2007] K. M. R. Audenaert et al., "Discriminating states: the quantum Chernoff
   bound", Phys. Rev. Lett. 98, 160501 (2007).
.. [Pirandola2008] S. Pirandola, S. Lloyd, "Computable bounds for the discrimination of
   Gaussian states", Phys. Rev. A 78, 012331 (2008).
.. [Tsang2016] M. Tsang, R. Nair, X.-M. Lu, "Quantum theory of superresolution for two
   incoherent optical point sources", PRX 6, 031033 (2016), arXiv:1511.00552.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import NamedTuple

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln, logsumexp, xlogy
from scipy.stats import poisson

from sensing.physics.gaussian import thermal_covariance
from sensing.physics.modes import HermiteGaussModes

__all__ = [
    "ChernoffBound",
    "OutcomeRates",
    "TwoHypotheses",
    "PhotonNumberBlocks",
    "ThermalChernoffBound",
    "HelstromError",
    "chernoff_exponent",
    "poisson_chernoff_exponent",
    "relative_entropy",
    "bayes_error",
    "neyman_pearson_miss",
    "poisson_count_bayes_error",
    "quantum_chernoff_exponent",
    "quantum_relative_entropy",
    "helstrom_error",
    "source_positions",
    "weak_source_states",
    "two_source_photon_correlation",
    "two_source_covariance",
    "thermal_chernoff_exponent",
    "thermal_relative_entropy",
    "thermal_density_matrices",
    "thermal_chernoff_exponent_fock",
    "thermal_helstrom_error",
    "thermal_repeated_helstrom_error",
    "IndependentOutputs",
    "ExactError",
    "two_group_bayes_error",
    "poisson_groups",
    "direct_imaging_rates",
    "camera_rates",
    "binary_spade_rates",
    "spade_rates",
    "sliver_rates",
    "binary_spade_exponent",
    "fixed_photon_number_exponent",
    "sliver_exponent",
]


# ======================================================================================
# Labelled results
# ======================================================================================


class ChernoffBound(NamedTuple):
    """An error exponent and the Chernoff parameter that attains it.

    Attributes
    ----------
    exponent : ndarray or float
        Error exponent per copy (per photon in the per-photon models), in nats.
    s : ndarray or float
        Optimal :math:`s \\in [0, 1]` (0.5 where the exponent is 0 and every s is optimal).
    """

    exponent: np.ndarray
    s: np.ndarray


class OutcomeRates(NamedTuple):
    """Mean counts per emitted photon of each detector outcome under H0 and H1.

    Attributes
    ----------
    null, alternative : ndarray, shape ``(..., outcomes)``
        :math:`m_0` and :math:`m_1` (efficiency and dark counts included).
    log_ratio : ndarray, shape ``(..., outcomes)``
        :math:`\\ln(m_0/m_1)`, computed without cancellation (``+inf`` where only
        :math:`m_0 > 0`, ``-inf`` where only :math:`m_1 > 0`, 0 where both vanish).
    """

    null: np.ndarray
    alternative: np.ndarray
    log_ratio: np.ndarray


class TwoHypotheses(NamedTuple):
    """A pair of objects (states, correlation matrices, ...) for H0 and H1."""

    null: np.ndarray
    alternative: np.ndarray


class PhotonNumberBlocks(NamedTuple):
    """Fock-space blocks of two thermal states by total photon number.

    Attributes
    ----------
    blocks : list of TwoHypotheses
        ``blocks[n]``: unnormalised ``(null, alternative)`` blocks of total photon number n.
    tail : TwoHypotheses
        Probability of more photons than the last block under each hypothesis.
    """

    blocks: list
    tail: TwoHypotheses


class ThermalChernoffBound(NamedTuple):
    """Quantum Chernoff exponent of Fock-truncated states with its truncation bound.

    Attributes
    ----------
    exponent : float
        :math:`-\\ln\\min_s \\mathrm{tr}\\,\\rho_0^s\\rho_1^{1-s}` from the truncated blocks.
    s : float
        Optimal Chernoff parameter.
    truncation_error : float
        Bound on :math:`|\\Delta\\,\\mathrm{tr}\\rho_0^s\\rho_1^{1-s}|` from the dropped
        photon-number blocks (Hölder: at most the largest dropped probability mass).
    """

    exponent: float
    s: float
    truncation_error: float


class HelstromError(NamedTuple):
    """Minimum error probability and a bound on its numerical truncation error."""

    error_probability: float
    truncation_error: float


# ======================================================================================
# Stable kernels
# ======================================================================================


def _h(z: np.ndarray) -> np.ndarray:
    """:math:`h(z) = e^z - 1 - z` without cancellation (Taylor series for |z| < 0.5)."""
    z = np.asarray(z, dtype=float)
    small = np.abs(z) < 0.5
    zs = np.where(small, z, 0.0)
    # h(z) = z^2 sum_{n>=2} z^(n-2)/n!, Horner form truncated at n = 22 (relative error < 1e-22).
    acc = np.full_like(zs, 1.0 / np.exp(gammaln(23)))
    for n in range(21, 1, -1):
        acc = acc * zs + 1.0 / np.exp(gammaln(n + 1))
    series = acc * zs * zs
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.expm1(np.where(small, 0.0, z)) - np.where(small, 0.0, z)
    return np.where(small, series, direct)


def _poisson_divergence(s, m0, m1, log_ratio):
    r"""Sum over outcomes of :math:`s m_0 + (1-s) m_1 - m_0^s m_1^{1-s}` (last axis), stably.

    With :math:`m_0 = m_1 e^{L}`: the summand is :math:`-m_1[h(sL) - s\,h(L)]`, free of
    cancellation for small :math:`|L|`. ``s`` broadcasts against ``m0[..., 0]``.
    """
    s = np.asarray(s, dtype=float)[..., None]
    both = (m0 > 0) & (m1 > 0)
    L = np.where(both, log_ratio, 0.0)
    near = both & (np.abs(L) <= 1.0)
    far = both & ~near
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t_near = -m1 * (_h(s * np.where(near, L, 0.0)) - s * _h(np.where(near, L, 0.0)))
        lm0 = np.log(np.where(far, m0, 1.0))
        lm1 = np.log(np.where(far, m1, 1.0))
        t_far = s * m0 + (1 - s) * m1 - np.exp(s * lm0 + (1 - s) * lm1)
    terms = np.where(near, t_near, 0.0) + np.where(far, t_far, 0.0)
    terms = terms + np.where((m0 > 0) & ~(m1 > 0), s * m0, 0.0) + np.where(~(m0 > 0) & (m1 > 0), (1 - s) * m1, 0.0)
    return terms.sum(axis=-1)


def _maximize_concave_on_unit_interval(fun, shape, iterations: int = 90):
    """Vectorised golden-section search for the maximum of concave ``fun(s)`` on [0, 1].

    ``fun`` maps an array of s of ``shape`` to values of ``shape``. The endpoints are
    evaluated too (the maximum may sit on the boundary, e.g. pure states). Returns (s, value).
    """
    g = (np.sqrt(5.0) - 1) / 2
    a, b = np.zeros(shape), np.ones(shape)
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = fun(c), fun(d)
    for _ in range(iterations):
        left = fc >= fd  # the maximum lies in [a, d]
        a = np.where(left, a, c)
        b = np.where(left, d, b)
        new = np.where(left, b - g * (b - a), a + g * (b - a))
        fnew = fun(new)
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, fnew, fd),
            np.where(left, fc, fnew),
        )
    s = np.where(fc >= fd, c, d)
    value = np.maximum(fc, fd)
    for end in (0.0, 1.0):
        f_end = fun(np.full(shape, end))
        better = f_end > value
        s, value = np.where(better, end, s), np.where(better, f_end, value)
    return s, value


def _log_ratio(m0, m1):
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(m0) - np.log(m1)
    return np.where((m0 > 0) & (m1 > 0), L, np.where(m0 > 0, np.inf, np.where(m1 > 0, -np.inf, 0.0)))


def _as_pair(p0, p1, log_ratio):
    p0 = np.asarray(p0, dtype=float)
    p1 = np.asarray(p1, dtype=float)
    p0, p1 = np.broadcast_arrays(p0, p1)
    if p0.ndim == 0:
        raise ValueError("outcome distributions need an outcome axis (last axis)")
    if np.any(p0 < 0) or np.any(p1 < 0) or not (np.all(np.isfinite(p0)) and np.all(np.isfinite(p1))):
        raise ValueError("outcome probabilities / rates must be finite and non-negative")
    L = _log_ratio(p0, p1) if log_ratio is None else np.broadcast_to(np.asarray(log_ratio, dtype=float), p0.shape)
    return p0, p1, L


# ======================================================================================
# 1. Classical discrimination
# ======================================================================================


def poisson_chernoff_exponent(rate0, rate1, log_ratio=None) -> ChernoffBound:
    r"""Chernoff exponent per photon of Poisson counts (weak-light model).

    With independent Poisson counts of means :math:`N m_{0,k}` / :math:`N m_{1,k}` in
    outcomes k (N = mean emitted photons), the Bayes error decays as
    :math:`e^{-N\xi}` with

    .. math:: \xi = \max_{0\le s\le1} \sum_k \big[s\,m_{0,k} + (1-s)\,m_{1,k}
              - m_{0,k}^s m_{1,k}^{1-s}\big].

    Parameters
    ----------
    rate0, rate1 : array_like, shape ``(..., outcomes)``
        Mean counts per photon under H0 and H1 (need not sum to one).
    log_ratio : array_like, optional
        :math:`\ln(m_0/m_1)` computed stably by the caller (see :class:`OutcomeRates`);
        computed from the rates if omitted.

    Returns
    -------
    ChernoffBound
        ``exponent`` and optimal ``s``, shape ``(...)``.

    References
    ----------
    [Lu2018]_ (Poisson QCB per photon); PHYSICS.md §6.2.
    """
    m0, m1, L = _as_pair(rate0, rate1, log_ratio)
    s, value = _maximize_concave_on_unit_interval(lambda s: _poisson_divergence(s, m0, m1, L), m0.shape[:-1])
    value = np.maximum(value, 0.0)
    s = np.where(value > 0, s, 0.5)
    return ChernoffBound(value[()], s[()])


def chernoff_exponent(p0, p1, log_ratio=None) -> ChernoffBound:
    r"""Classical Chernoff exponent per copy of two outcome distributions.

    .. math:: \xi = -\ln\min_{0\le s\le 1}\sum_k p_{0,k}^s\,p_{1,k}^{1-s},

    so that the Bayes error on N i.i.d. copies is :math:`P_e = e^{-N\xi + o(N)}`.
    Computed as :math:`-\ln(1 - c(s))` with :math:`c(s) = \sum_k[s p_0 + (1-s) p_1 -
    p_0^s p_1^{1-s}]` (the two agree for normalised distributions) to keep precision for tiny
    exponents. Identical distributions give 0, disjoint supports give ``inf``.

    Parameters
    ----------
    p0, p1 : array_like, shape ``(..., outcomes)``
        Normalised outcome distributions (any batch shape; outcomes on the last axis).
    log_ratio : array_like, optional
        :math:`\ln(p_0/p_1)` computed stably by the caller.

    Returns
    -------
    ChernoffBound

    References
    ----------
    H. Chernoff, Ann. Math. Stat. 23, 493 (1952); [Lu2018]_.
    """
    m0, m1, L = _as_pair(p0, p1, log_ratio)
    bound = poisson_chernoff_exponent(m0, m1, L)
    with np.errstate(divide="ignore"):
        exponent = -np.log1p(-np.minimum(bound.exponent, 1.0))
    return ChernoffBound(exponent[()], bound.s)


def relative_entropy(p0, p1, log_ratio=None) -> np.ndarray:
    r"""Kullback-Leibler divergence :math:`D(p_0\|p_1)`: the Stein exponent.

    .. math:: D = \sum_k \big[p_{0,k}\ln(p_{0,k}/p_{1,k}) - p_{0,k} + p_{1,k}\big]
              = \sum_k p_{1,k}\big[L_k e^{L_k} - e^{L_k} + 1\big],

    which equals the usual KL divergence for normalised distributions and the Poisson-model
    Stein exponent per photon for count rates. H0 = ``p0`` is the null whose false-alarm rate
    is held fixed; the miss probability decays as :math:`e^{-N D}`. ``inf`` where
    :math:`p_1 = 0 < p_0`.

    Parameters
    ----------
    p0, p1 : array_like, shape ``(..., outcomes)``
    log_ratio : array_like, optional

    Returns
    -------
    ndarray, shape ``(...)``
    """
    m0, m1, L = _as_pair(p0, p1, log_ratio)
    both = (m0 > 0) & (m1 > 0)
    Lb = np.where(both, L, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        near = np.abs(Lb) <= 1.0
        t_near = m1 * (Lb * np.expm1(Lb) - _h(Lb))
        t_far = xlogy(m0, m0) - xlogy(m0, np.where(both, m1, 1.0)) - m0 + m1
    terms = np.where(both, np.where(near, t_near, t_far), 0.0)
    terms = terms + np.where(~(m0 > 0) & (m1 > 0), m1, 0.0)
    terms = np.where((m0 > 0) & ~(m1 > 0), np.inf, terms)
    return terms.sum(axis=-1)[()]


_MAX_TYPES = 3_000_000


def _types(copies: int, outcomes: int) -> np.ndarray:
    """All count vectors (types) of ``copies`` draws over ``outcomes`` outcomes, shape (T, outcomes)."""
    n_types = comb(copies + outcomes - 1, outcomes - 1)
    if n_types > _MAX_TYPES:
        raise ValueError(
            f"{n_types} types of {copies} copies over {outcomes} outcomes; at most {_MAX_TYPES} "
            "(use fewer copies, merge outcomes, or a sufficient statistic)"
        )
    if outcomes == 1:
        return np.array([[copies]])
    if outcomes == 2:
        n = np.arange(copies + 1)
        return np.stack([n, copies - n], axis=1)
    bars = np.array(list(itertools.combinations(range(copies + outcomes - 1), outcomes - 1)))
    edges = np.concatenate([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), copies + outcomes - 1)], axis=1)
    return np.diff(edges, axis=1) - 1


def _type_log_probabilities(types, p):
    copies = types[0].sum()
    return gammaln(copies + 1) - gammaln(types + 1).sum(axis=1) + xlogy(types, p).sum(axis=1)


def _check_distribution(p, name):
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be a 1-D probability vector summing to 1; got {p}")
    return p / p.sum()


def _check_prior(prior):
    if not 0.0 < prior < 1.0:
        raise ValueError(f"prior must lie in (0, 1); got {prior}")
    return float(prior)


def bayes_error(p0, p1, copies: int, prior: float = 0.5) -> float:
    r"""Exact Bayes error of the optimal likelihood-ratio test on N i.i.d. copies.

    The type (count vector) :math:`n` is a sufficient statistic, so

    .. math:: P_e(N) = \sum_{n:\ \sum_k n_k = N}
              \min\big[\pi_0\,\mathrm{Mult}(n; N, p_0),\ \pi_1\,\mathrm{Mult}(n; N, p_1)\big],

    summed in log space (no underflow). Enumerates the :math:`\binom{N+K-1}{K-1}` types.

    Parameters
    ----------
    p0, p1 : array_like, shape ``(outcomes,)``
        Per-copy outcome distributions (few outcomes).
    copies : int
        N >= 0.
    prior : float
        :math:`\pi_0`, prior probability of H0.

    Returns
    -------
    float
    """
    p0, p1 = _check_distribution(p0, "p0"), _check_distribution(p1, "p1")
    prior = _check_prior(prior)
    types = _types(int(copies), p0.size)
    l0 = np.log(prior) + _type_log_probabilities(types, p0)
    l1 = np.log1p(-prior) + _type_log_probabilities(types, p1)
    return float(np.exp(logsumexp(np.minimum(l0, l1))))


def _neyman_pearson(l0, l1, false_alarm):
    """Randomised NP test on a finite outcome set with log-probabilities l0, l1; returns the miss."""
    with np.errstate(invalid="ignore"):
        llr = np.where(np.isneginf(l0) & np.isneginf(l1), -np.inf, l1 - l0)
    # Group equal likelihood ratios (ties must be randomised together).
    key = np.where(np.isfinite(llr), np.round(llr, 10), llr)
    groups, inverse = np.unique(-key, return_inverse=True)  # descending likelihood ratio
    p0g = np.bincount(inverse, weights=np.exp(l0), minlength=groups.size)
    p1g = np.bincount(inverse, weights=np.exp(l1), minlength=groups.size)
    cum0 = np.cumsum(p0g)
    j = int(np.searchsorted(cum0, false_alarm, side="left"))
    if j >= groups.size:
        return 0.0
    before = cum0[j] - p0g[j]
    gamma = 0.0 if p0g[j] == 0 else min(max((false_alarm - before) / p0g[j], 0.0), 1.0)
    return float((1 - gamma) * p1g[j] + p1g[j + 1:].sum())


def neyman_pearson_miss(p0, p1, copies: int, false_alarm: float) -> float:
    r"""Exact miss probability of the most powerful (randomised) test at a fixed false alarm.

    Neyman-Pearson: reject H0 for the types with the largest likelihood ratio
    :math:`\Lambda(n) = P_1(n)/P_0(n)`, randomising on the boundary level so that
    :math:`P_0(\text{reject}) = \alpha` exactly; the returned miss is
    :math:`\beta = P_1(\text{accept})`. For large N, :math:`\beta \approx e^{-N D(p_0\|p_1)}`
    (Stein).

    Parameters
    ----------
    p0, p1 : array_like, shape ``(outcomes,)``
    copies : int
    false_alarm : float
        :math:`\alpha \in [0, 1]`.

    Returns
    -------
    float
    """
    p0, p1 = _check_distribution(p0, "p0"), _check_distribution(p1, "p1")
    if not 0.0 <= false_alarm <= 1.0:
        raise ValueError(f"false_alarm must lie in [0, 1]; got {false_alarm}")
    types = _types(int(copies), p0.size)
    return _neyman_pearson(_type_log_probabilities(types, p0), _type_log_probabilities(types, p1), false_alarm)


def poisson_count_bayes_error(mean0, mean1, prior: float = 0.5, tail: float = 1e-16) -> np.ndarray:
    r"""Exact Bayes error when the sufficient statistic is one Poisson count.

    .. math:: P_e = \sum_{n\ge0}\min\big[\pi_0\,\mathrm{Pois}(n;\mu_0),\ \pi_1\,\mathrm{Pois}(n;\mu_1)\big],

    e.g. the total count in the non-HG0 outputs of binary SPADE over N photons
    (:math:`\mu = N m`). Truncated where both tails are below ``tail`` (absolute error
    <= ``tail``). Vectorised over broadcast ``mean0``, ``mean1``.

    Returns
    -------
    ndarray
    """
    prior = _check_prior(prior)
    mean0, mean1 = np.broadcast_arrays(np.asarray(mean0, dtype=float), np.asarray(mean1, dtype=float))
    if np.any(mean0 < 0) or np.any(mean1 < 0):
        raise ValueError("Poisson means must be non-negative")
    out = np.empty(mean0.shape)
    for idx in np.ndindex(mean0.shape):
        mu0, mu1 = mean0[idx], mean1[idx]
        top = int(max(poisson.isf(tail, mu0), poisson.isf(tail, mu1))) + 2
        n = np.arange(top + 1)
        l0 = np.log(prior) + poisson.logpmf(n, mu0)
        l1 = np.log1p(-prior) + poisson.logpmf(n, mu1)
        out[idx] = np.exp(logsumexp(np.minimum(l0, l1)))
    return out[()]


# ======================================================================================
# 2. Quantum limits for density matrices
# ======================================================================================

_RANK_TOL = 1e-13


def _as_density_matrix(rho, name):
    rho = np.asarray(rho)
    if rho.ndim != 2 or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {rho.shape}")
    if not np.allclose(rho, rho.conj().T, atol=1e-12):
        raise ValueError(f"{name} must be Hermitian")
    rho = 0.5 * (rho + rho.conj().T)
    trace = np.trace(rho).real
    if trace <= 0 or np.linalg.eigvalsh(rho)[0] < -1e-10 * trace:
        raise ValueError(f"{name} must be positive semidefinite with positive trace")
    return rho


def _eig_psd(rho):
    w, v = np.linalg.eigh(rho)
    w = np.where(w > _RANK_TOL * max(w.max(), 1e-300), w, 0.0)
    return w, v


def _power(w, s):
    """Eigenvalue powers with 0^s = 0 for every s (the s -> 0+ limit: support projector)."""
    with np.errstate(divide="ignore"):
        return np.where(w > 0, np.exp(np.multiply.outer(s, np.log(np.where(w > 0, w, 1.0)))), 0.0)


def _quantum_chernoff_trace(rho0, rho1):
    """Return f(s) = tr(rho0^s rho1^(1-s)) as a vectorised function of s."""
    a, u = _eig_psd(rho0)
    b, v = _eig_psd(rho1)
    overlap = np.abs(u.conj().T @ v) ** 2  # |<u_i|v_j>|^2

    def trace(s):
        s = np.asarray(s, dtype=float)
        return np.einsum("...i,ij,...j->...", _power(a, s), overlap, _power(b, 1 - s))

    return trace


def quantum_chernoff_exponent(rho0, rho1) -> ChernoffBound:
    r"""Quantum Chernoff exponent per copy.

    .. math:: \xi_Q = -\ln\min_{0\le s\le1}\mathrm{tr}\,\rho_0^s\rho_1^{1-s},
              \qquad P_{e,\min}(k) = e^{-k\xi_Q + o(k)}

    [Audenaert2007]_. Evaluated in the eigenbases,
    :math:`\mathrm{tr}\rho_0^s\rho_1^{1-s} = \sum_{ij} a_i^s b_j^{1-s}|\langle u_i|v_j\rangle|^2`,
    with :math:`0^s = 0` (rank-deficient states; the endpoints are the limits
    :math:`\mathrm{tr}\,\Pi_0\rho_1` and :math:`\mathrm{tr}\,\rho_0\Pi_1`). For pure
    :math:`\rho_0 = |\psi\rangle\langle\psi|` the minimum is :math:`\langle\psi|\rho_1|\psi\rangle`
    (s -> 0). Absolute accuracy ~1e-15 on the trace.

    Parameters
    ----------
    rho0, rho1 : array_like, shape ``(n, n)``
        Density matrices (trace one; the trace is not renormalised, so truncated states give
        the truncated quantity).

    Returns
    -------
    ChernoffBound
    """
    rho0, rho1 = _as_density_matrix(rho0, "rho0"), _as_density_matrix(rho1, "rho1")
    trace = _quantum_chernoff_trace(rho0, rho1)
    s, value = _maximize_concave_on_unit_interval(lambda s: -trace(s), ())
    with np.errstate(divide="ignore"):
        exponent = max(-np.log(max(-float(value), 0.0)), 0.0)
    return ChernoffBound(exponent, float(s) if exponent > 0 else 0.5)


def quantum_relative_entropy(rho0, rho1) -> float:
    r"""Quantum relative entropy :math:`D(\rho_0\|\rho_1) = \mathrm{tr}\rho_0(\ln\rho_0 - \ln\rho_1)`.

    The quantum Stein exponent (H0 = ``rho0`` the null with fixed false-alarm rate). Returns
    ``inf`` when the support of :math:`\rho_0` is not inside that of :math:`\rho_1`
    (weight of :math:`\rho_0` on the kernel of :math:`\rho_1` above 1e-12).

    Returns
    -------
    float
        In nats.
    """
    rho0, rho1 = _as_density_matrix(rho0, "rho0"), _as_density_matrix(rho1, "rho1")
    a, u = _eig_psd(rho0)
    b, v = _eig_psd(rho1)
    overlap = np.abs(u.conj().T @ v) ** 2
    if (a @ overlap[:, b == 0]).sum() > 1e-12:
        return float("inf")
    logb = np.log(np.where(b > 0, b, 1.0))
    return float(xlogy(a, a).sum() - a @ overlap @ np.where(b > 0, logb, 0.0))


def _compress_to_joint_support(rho0, rho1):
    w, v = _eig_psd(rho0 + rho1)
    basis = v[:, w > 0]
    return basis.conj().T @ rho0 @ basis, basis.conj().T @ rho1 @ basis


def _helstrom_tensor(rho0, rho1, copies, prior):
    big0, big1 = np.ones((1, 1)), np.ones((1, 1))
    for _ in range(copies):
        big0, big1 = np.kron(big0, rho0), np.kron(big1, rho1)
    lam = np.linalg.eigvalsh(prior * big0 - (1 - prior) * big1)
    return float(prior - lam[lam > 0].sum())


def _helstrom_pure_null(psi, rho1, copies, prior):
    r"""Helstrom error for :math:`|\psi\rangle^{\otimes k}` vs :math:`\rho_1^{\otimes k}` (secular equation)."""
    mu, v = _eig_psd(rho1)
    weight = np.abs(v.conj().T @ psi) ** 2
    keep = weight > 0
    mu, weight = mu[keep], weight[keep]
    types = _types(copies, mu.size)
    log_mult = gammaln(copies + 1) - gammaln(types + 1).sum(axis=1)
    W = np.exp(log_mult + xlogy(types, weight).sum(axis=1))
    logmu = np.log(np.where(mu > 0, mu, 1.0))
    # eigenvalue of R on a type: prod mu_j^n_j (zero if it uses a zero eigenvalue)
    M = np.exp(types @ logmu) * np.all(types[:, mu == 0] == 0, axis=1)
    q = 1 - prior

    def secular(lam):
        return prior * np.sum(W / (lam + q * M)) - 1.0

    # A = p|Psi><Psi| - q R has at most one positive eigenvalue lambda_+ (interlacing).
    lo = 1e-300
    if secular(lo) <= 0:
        return float(prior)
    lam = brentq(secular, lo, prior, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(prior - lam)


def helstrom_error(rho0, rho1, copies: int = 1, prior: float = 0.5, max_dimension: int = 1024) -> float:
    r"""Minimum error probability of discriminating :math:`\rho_0^{\otimes k}` from :math:`\rho_1^{\otimes k}`.

    .. math:: P_e = \tfrac12\big(1 - \|\pi_0\rho_0^{\otimes k} - \pi_1\rho_1^{\otimes k}\|_1\big)
              = \pi_0 - \sum_{\lambda>0}\lambda

    (Helstrom 1976), from exact eigenvalues. Both states are first compressed to the support
    of :math:`\rho_0+\rho_1` (rank r). If :math:`r^k \le` ``max_dimension`` the tensor power
    is diagonalised directly; otherwise, if :math:`\rho_0` is pure, the single positive
    eigenvalue of :math:`\pi_0|\Psi\rangle\langle\Psi| - \pi_1 R` is the root of the secular
    equation :math:`\pi_0\sum_J |\langle\Psi|v_J\rangle|^2/(\lambda + \pi_1 r_J) = 1`, where
    the eigenpairs of :math:`R = \rho_1^{\otimes k}` are grouped by type (permutation
    symmetry): exact, any k.

    Parameters
    ----------
    rho0, rho1 : array_like, shape ``(n, n)``
    copies : int
        k >= 1.
    prior : float
        :math:`\pi_0`.
    max_dimension : int
        Largest :math:`r^k` diagonalised directly.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If :math:`r^k` > ``max_dimension`` and :math:`\rho_0` is mixed.
    """
    rho0, rho1 = _as_density_matrix(rho0, "rho0"), _as_density_matrix(rho1, "rho1")
    prior = _check_prior(prior)
    if int(copies) < 1:
        raise ValueError(f"copies must be >= 1; got {copies}")
    c0, c1 = _compress_to_joint_support(rho0, rho1)
    r = c0.shape[0]
    if r ** int(copies) <= max_dimension:
        return _helstrom_tensor(c0, c1, int(copies), prior)
    a, u = _eig_psd(c0)
    if np.count_nonzero(a) == 1 and np.isclose(a.max(), 1.0, atol=1e-12):
        return _helstrom_pure_null(u[:, np.argmax(a)], c1, int(copies), prior)
    raise ValueError(
        f"joint support of rank {r}: {r}^{copies} > max_dimension = {max_dimension} and rho0 is mixed"
    )


# ======================================================================================
# 3. The one-vs-two-source states
# ======================================================================================


def source_positions(separation, relative_brightness) -> TwoHypotheses:
    r"""Positions of the sources under H0 and H1 with the intensity centroid on the axis.

    H0: one source at 0. H1: the star (weight :math:`1-e`) at :math:`-e d`, the companion
    (weight e) at :math:`(1-e)d` (PHYSICS.md §6.3).

    Returns
    -------
    TwoHypotheses
        ``null`` shape ``(..., 1)``, ``alternative`` shape ``(..., 2)``.
    """
    d = np.asarray(separation, dtype=float)
    e = np.asarray(relative_brightness, dtype=float)
    d, e = np.broadcast_arrays(d, e)
    return TwoHypotheses(np.zeros(d.shape + (1,)), np.stack([-e * d, (1 - e) * d], axis=-1))


def _check_source(separation, relative_brightness, sigma):
    if sigma <= 0:
        raise ValueError(f"sigma must be positive; got {sigma}")
    d = np.asarray(separation, dtype=float)
    e = np.asarray(relative_brightness, dtype=float)
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise ValueError(f"separation must be finite and >= 0; got {separation}")
    if np.any(e < 0) or np.any(e > 1):
        raise ValueError(f"relative_brightness must lie in [0, 1]; got {relative_brightness}")
    return np.broadcast_arrays(d, e)


def _basis_size(max_shift_over_2sigma: float, tail: float = 1e-17) -> int:
    q2 = max_shift_over_2sigma**2
    if q2 == 0:
        return 4
    q = int(np.ceil(q2))
    while poisson.logsf(q, q2) > np.log(tail):  # P(order > q) for a shift X: Poisson(q; X^2/4 sigma^2)
        q += 1
    return max(q + 2, 4)


def weak_source_states(separation: float, relative_brightness: float = 0.5, sigma: float = 1.0) -> TwoHypotheses:
    r"""Per-photon density matrices of H0 and H1 in the span of the PSF shifts (weak sources).

    .. math:: \sigma_0 = |\psi_0\rangle\langle\psi_0|,\qquad
              \sigma_1 = (1-e)|\psi_{-ed}\rangle\langle\psi_{-ed}| + e|\psi_{(1-e)d}\rangle\langle\psi_{(1-e)d}|.

    The three PSF shifts are expanded in Hermite-Gauss modes,
    :math:`\langle\phi_q|\psi_X\rangle = e^{-X^2/(8\sigma^2)}(X/2\sigma)^q/\sqrt{q!}` (TNL 2016,
    Eq. (4.4); truncated where the Poisson tail is < 1e-17, so the Gram matrix
    :math:`\langle\psi_X|\psi_Y\rangle = e^{-(X-Y)^2/(8\sigma^2)}` is reproduced to machine
    precision), then compressed onto their span (SVD): an exact representation of dimension
    <= 3 (1 at d = 0). Coordinates are computed from the HG expansion, not from the Gram
    matrix, so small separations keep their relative precision.

    Returns
    -------
    TwoHypotheses
        ``null`` and ``alternative``, real ``(r, r)`` density matrices, r <= 3.
    """
    (d, e) = _check_source(separation, relative_brightness, sigma)
    d, e = float(d), float(e)
    null_pos, alt_pos = source_positions(d, e)
    positions = np.concatenate([null_pos, alt_pos])
    modes = HermiteGaussModes(_basis_size(np.abs(positions).max() / (2 * sigma)), sigma)
    amplitudes = modes.point_source_amplitudes(positions).T  # (K, 3)
    u, sv, _ = np.linalg.svd(amplitudes, full_matrices=False)
    keep = sv > 1e-15 * sv[0]
    coords = u[:, keep].T @ amplitudes  # (r, 3): exact coordinates in the span
    rho0 = np.outer(coords[:, 0], coords[:, 0])
    rho1 = (1 - e) * np.outer(coords[:, 1], coords[:, 1]) + e * np.outer(coords[:, 2], coords[:, 2])
    return TwoHypotheses(rho0, rho1)


def two_source_photon_correlation(
    separation: float,
    relative_brightness: float,
    photons_per_copy: float,
    sigma: float = 1.0,
    basis_modes: int | None = None,
) -> TwoHypotheses:
    r"""Photon correlation matrices :math:`\Gamma = \langle a_q^\dagger a_r\rangle` of H0 and H1 (exact thermal state).

    Per copy (one temporal mode) every source is thermal, incoherent with the others; with
    HG amplitudes :math:`c_{qs} = \langle\phi_q|\psi_{X_s}\rangle`,

    .. math:: \Gamma^{(0)} = \epsilon\, c_0 c_0^T,\qquad
              \Gamma^{(1)} = \epsilon(1-e)\, c_\star c_\star^T + \epsilon e\, c_p c_p^T,

    :math:`\epsilon` = ``photons_per_copy`` (both hypotheses carry the same mean light), as
    in :class:`sensing.scenes.two_point.TwoPointScene`.

    Parameters
    ----------
    separation, relative_brightness, photons_per_copy, sigma : float
    basis_modes : int, optional
        HG modes kept (auto: Poisson tail of the farthest source < 1e-17).

    Returns
    -------
    TwoHypotheses
        Real symmetric ``(K, K)`` matrices.
    """
    (d, e) = _check_source(separation, relative_brightness, sigma)
    if photons_per_copy <= 0:
        raise ValueError(f"photons_per_copy must be positive; got {photons_per_copy}")
    null_pos, alt_pos = source_positions(float(d), float(e))
    count = basis_modes or _basis_size(float(np.abs(alt_pos).max()) / (2 * sigma))
    modes = HermiteGaussModes(count, sigma)
    c0 = modes.point_source_amplitudes(null_pos)  # (1, K)
    c1 = modes.point_source_amplitudes(alt_pos)  # (2, K)
    weights = photons_per_copy * np.array([1 - float(e), float(e)])
    return TwoHypotheses(photons_per_copy * c0.T @ c0, (c1.T * weights) @ c1)


def two_source_covariance(
    separation: float, relative_brightness: float, photons_per_copy: float, sigma: float = 1.0,
    basis_modes: int | None = None, hbar: float = 2.0,
) -> TwoHypotheses:
    r"""xxpp covariance matrices of H0 and H1 (zero means), SF conventions.

    :math:`V = (\hbar/2)\begin{pmatrix} I + 2\Gamma & 0\\ 0 & I + 2\Gamma\end{pmatrix}` for real
    :math:`\Gamma` (:func:`sensing.physics.gaussian.thermal_covariance`).
    """
    corr = two_source_photon_correlation(separation, relative_brightness, photons_per_copy, sigma, basis_modes)
    return TwoHypotheses(thermal_covariance(corr.null, hbar), thermal_covariance(corr.alternative, hbar))


def _as_correlation(corr, name):
    corr = np.asarray(corr)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1] or not np.allclose(corr, corr.conj().T, atol=1e-13):
        raise ValueError(f"{name} must be a Hermitian (n, n) photon correlation matrix")
    corr = 0.5 * (corr + corr.conj().T)
    if np.linalg.eigvalsh(corr)[0] < -1e-12 * max(1.0, np.abs(corr).max()):
        raise ValueError(f"{name} must be positive semidefinite")
    return corr


def _thermal_x(corr):
    """Eigen-decomposition of X = Gamma (1 + Gamma)^-1: returns (n_j, x_j, U) with zero modes set to 0."""
    n, u = np.linalg.eigh(corr)
    n = np.where(n > 1e-15 * max(n.max(), 1e-300), n, 0.0)
    return n, n / (1 + n), u


def thermal_chernoff_exponent(corr0, corr1) -> ChernoffBound:
    r"""Exact quantum Chernoff exponent per copy of two zero-mean thermal (gauge-invariant Gaussian) states.

    A thermal state with photon correlation :math:`\Gamma` is
    :math:`\rho = \det(I - X)\,\Gamma_2(X)`, :math:`X = \Gamma(I+\Gamma)^{-1}` (single-particle
    matrix, :math:`\Gamma_2(X) = \oplus_n X^{\otimes_s n}` its second quantisation), so
    :math:`\rho^s = \det(I-X)^s\,\Gamma_2(X^s)`, :math:`\Gamma_2(A)\Gamma_2(B) = \Gamma_2(AB)` and
    :math:`\mathrm{tr}\,\Gamma_2(A) = \det(I-A)^{-1}`; hence

    .. math:: \ln\mathrm{tr}\,\rho_0^s\rho_1^{1-s} = -s\sum_j\ln(1+n^{(0)}_j) - (1-s)\sum_j\ln(1+n^{(1)}_j)
              - \sum_k \ln\big(1 - \lambda_k(X_0^{s/2}X_1^{1-s}X_0^{s/2})\big),

    the gauge-invariant case of the Gaussian-state formula of [Pirandola2008]_ (no Fock
    truncation; the only approximation is the HG basis, truncated at 1e-17 by
    :func:`two_source_photon_correlation`). Vacuum modes (zero eigenvalues) give
    :math:`X^s = 0`, the s -> 0, 1 limits included.

    Parameters
    ----------
    corr0, corr1 : array_like, shape ``(n, n)``
        :math:`\Gamma^{(0)}, \Gamma^{(1)}`.

    Returns
    -------
    ChernoffBound
    """
    corr0, corr1 = _as_correlation(corr0, "corr0"), _as_correlation(corr1, "corr1")
    n0, x0, u0 = _thermal_x(corr0)
    n1, x1, u1 = _thermal_x(corr1)
    log_norm0, log_norm1 = -np.log1p(n0).sum(), -np.log1p(n1).sum()

    def log_trace(s):
        s = np.atleast_1d(np.asarray(s, dtype=float))
        out = np.empty(s.shape)
        for i, si in np.ndenumerate(s):
            half0 = (u0 * np.sqrt(_power(x0, np.array(si)))) @ u0.conj().T
            p1 = (u1 * _power(x1, np.array(1 - si))) @ u1.conj().T
            lam = np.linalg.eigvalsh(half0 @ p1 @ half0).clip(0.0, 1.0 - 1e-300)
            out[i] = si * log_norm0 + (1 - si) * log_norm1 - np.log1p(-lam).sum()
        return out

    s, value = _maximize_concave_on_unit_interval(lambda s: -log_trace(s).reshape(np.shape(s)), (), iterations=70)
    exponent = max(float(value), 0.0)
    return ChernoffBound(exponent, float(s) if exponent > 0 else 0.5)


def thermal_relative_entropy(corr0, corr1) -> float:
    r"""Exact quantum relative entropy :math:`D(\rho_0\|\rho_1)` of two zero-mean thermal states.

    With :math:`\ln\rho = \ln\det(I-X) + \hat a^\dagger(\ln X)\hat a`,

    .. math:: D = -S(\rho_0) + \ln\det(I+\Gamma^{(1)}) - \mathrm{tr}\big[\Gamma^{(0)}\ln X_1\big],
              \qquad S(\rho_0) = \sum_j\big[(1+n_j)\ln(1+n_j) - n_j\ln n_j\big],

    (:math:`n_j` the eigenvalues of :math:`\Gamma^{(0)}`, real symmetric correlation matrices
    as produced here; for complex :math:`\Gamma` read :math:`\Gamma^{(0)T}`).
    ``inf`` if the support of :math:`\Gamma^{(0)}` is not inside that of :math:`\Gamma^{(1)}`
    (then some photon states of H0 have no weight under H1). For the one-vs-two-source
    problem both orders are infinite at d > 0 (the three PSF shifts are linearly independent).
    """
    corr0, corr1 = _as_correlation(corr0, "corr0"), _as_correlation(corr1, "corr1")
    n0, _, u0 = _thermal_x(corr0)
    n1, x1, u1 = _thermal_x(corr1)
    # weight of Gamma0 on the kernel of Gamma1
    kernel = u1[:, n1 == 0]
    if np.abs(np.trace(kernel.conj().T @ corr0 @ kernel)) > 1e-13 * max(1.0, n0.sum()):
        return float("inf")
    entropy0 = (xlogy(1 + n0, 1 + n0) - xlogy(n0, n0)).sum()
    logx1 = np.where(x1 > 0, np.log(np.where(x1 > 0, x1, 1.0)), 0.0)
    cross = np.einsum("ij,ji->", (u1 * logx1) @ u1.conj().T, corr0).real  # tr(ln X1 Gamma0) (real Gamma)
    return float(-entropy0 + np.log1p(n1).sum() - cross)


def _mode_support(corr0, corr1):
    """Orthonormal modes spanning the supports of both correlation matrices (K, r)."""
    w, v = np.linalg.eigh(corr0 + corr1)
    return v[:, w > 1e-14 * w.max()]


def thermal_density_matrices(corr0, corr1, max_photons: int = 4):
    r"""Fock-space density matrices of two thermal states, blocked by total photon number.

    The states are first restricted to the r <= 3 modes spanning both correlation matrices
    (a common passive unitary; every discrimination quantity is invariant), then expanded in
    Fock space with ``thewalrus.quantum.density_matrix`` (per-mode cutoff ``max_photons + 1``,
    so every state of total photon number <= ``max_photons`` is complete). Thermal states
    commute with the total photon number, so each state is the direct sum of its blocks.

    Returns
    -------
    PhotonNumberBlocks
        ``blocks[n]`` = unnormalised ``(null, alternative)`` blocks of total photon number n;
        ``tail`` = probability of more than ``max_photons`` photons under each hypothesis
        (from the geometric photon-number distributions of the eigenmodes; absolute error
        ~1e-16).
    """
    from thewalrus.quantum import density_matrix

    corr0, corr1 = _as_correlation(corr0, "corr0"), _as_correlation(corr1, "corr1")
    basis = _mode_support(corr0, corr1)
    r = basis.shape[1]
    cutoff = int(max_photons) + 1
    states = []
    for corr in (corr0, corr1):
        small = basis.conj().T @ corr @ basis
        cov = thermal_covariance(0.5 * (small + small.conj().T))
        rho = density_matrix(np.zeros(2 * r), cov.real, cutoff=cutoff, hbar=2)
        order = [2 * i for i in range(r)] + [2 * i + 1 for i in range(r)]
        states.append(np.transpose(rho, order).reshape(cutoff**r, cutoff**r))
    numbers = np.array(list(itertools.product(range(cutoff), repeat=r))).sum(axis=1)
    blocks = []
    for n in range(cutoff):
        idx = np.flatnonzero(numbers == n)
        blocks.append(TwoHypotheses(states[0][np.ix_(idx, idx)], states[1][np.ix_(idx, idx)]))
    tails = []
    for corr in (corr0, corr1):
        occupations = np.linalg.eigvalsh(corr).clip(0.0)
        pmf = np.zeros(cutoff)
        pmf[0] = 1.0
        for nj in occupations:
            geometric = np.exp(np.arange(cutoff) * np.log(nj / (1 + nj))) / (1 + nj) if nj > 1e-300 else np.eye(1, cutoff)[0]
            pmf = np.convolve(pmf, geometric)[:cutoff]
        # tail = 1 - sum(pmf); computed as the sum of complementary terms would need all n,
        # so take the direct difference (absolute error ~1e-16).
        tails.append(max(1.0 - pmf.sum(), 0.0))
    return PhotonNumberBlocks(blocks, TwoHypotheses(*tails))


def thermal_chernoff_exponent_fock(corr0, corr1, max_photons: int = 4) -> ThermalChernoffBound:
    r"""Quantum Chernoff exponent of two thermal states from Fock-space blocks (cross-check).

    .. math:: \mathrm{tr}\rho_0^s\rho_1^{1-s} = \sum_{n\le n_{\max}}\mathrm{tr}\,B_{0,n}^s B_{1,n}^{1-s} + R(s),
              \qquad 0 \le R(s) \le t_0^s t_1^{1-s} \le \max(t_0, t_1)

    (Hölder), with :math:`t_h` the photon-number tails of :func:`thermal_density_matrices`.
    """
    blocks, tail = thermal_density_matrices(corr0, corr1, max_photons)
    traces = []
    for b0, b1 in blocks:
        a, u = _eig_psd(b0) if np.abs(b0).max() > 0 else (np.zeros(len(b0)), np.eye(len(b0)))
        b, v = _eig_psd(b1) if np.abs(b1).max() > 0 else (np.zeros(len(b1)), np.eye(len(b1)))
        traces.append((a, b, np.abs(u.conj().T @ v) ** 2))

    def trace(s):
        s = np.asarray(s, dtype=float)
        return sum(np.einsum("...i,ij,...j->...", _power(a, s), o, _power(b, 1 - s)) for a, b, o in traces)

    s, value = _maximize_concave_on_unit_interval(lambda s: -trace(s), ())
    exponent = max(-np.log(-float(value)), 0.0)
    return ThermalChernoffBound(exponent, float(s), float(max(tail.null, tail.alternative)))


def thermal_helstrom_error(
    corr0, corr1, copies: int = 1, prior: float = 0.5, max_photons: int = 2, max_block_dimension: int = 243,
) -> HelstromError:
    r"""Helstrom error of k stored copies of two thermal states, from photon-number blocks.

    Both :math:`\rho_h^{\otimes k}` are block diagonal in the photon-number pattern
    :math:`(n_1,\dots,n_k)`, so

    .. math:: \|\pi_0\rho_0^{\otimes k} - \pi_1\rho_1^{\otimes k}\|_1 =
              \sum_{\text{types}} \binom{k}{m_0,\dots,m_{n_{\max}}}
              \Big\|\pi_0\bigotimes_i B_{0,n_i} - \pi_1\bigotimes_i B_{1,n_i}\Big\|_1 + \ldots,

    each pattern class (type) diagonalised once (permutation symmetry). Patterns with a block
    larger than ``max_block_dimension`` or a photon number above ``max_photons`` are not
    diagonalised; their contribution to :math:`\|\cdot\|_1` lies between :math:`|\pi_0 w_0 -
    \pi_1 w_1|` and :math:`\pi_0 w_0 + \pi_1 w_1` (w the block weights), so the midpoint is used
    and half the width goes into ``truncation_error``.

    Returns
    -------
    HelstromError
    """
    prior = _check_prior(prior)
    blocks, tail = thermal_density_matrices(corr0, corr1, max_photons)
    q = 1 - prior
    weights = [(np.trace(b0).real, np.trace(b1).real) for b0, b1 in blocks]
    norm = 0.0
    error = 0.0
    levels = len(blocks)
    for pattern_type in _types(int(copies), levels):
        mult = np.exp(gammaln(copies + 1) - gammaln(pattern_type + 1).sum())
        pattern = np.repeat(np.arange(levels), pattern_type)
        w0 = np.prod([weights[n][0] for n in pattern])
        w1 = np.prod([weights[n][1] for n in pattern])
        dim = int(np.prod([blocks[n].null.shape[0] for n in pattern]))
        if dim > max_block_dimension:
            norm += mult * 0.5 * (abs(prior * w0 - q * w1) + prior * w0 + q * w1)
            error += mult * 0.25 * (prior * w0 + q * w1 - abs(prior * w0 - q * w1))
            continue
        big0, big1 = np.ones((1, 1)), np.ones((1, 1))
        for n in pattern:
            big0, big1 = np.kron(big0, blocks[n].null), np.kron(big1, blocks[n].alternative)
        norm += mult * np.abs(np.linalg.eigvalsh(prior * big0 - q * big1)).sum()
    # Copies with more than max_photons photons: total weight <= k * tail under each hypothesis.
    missing = 1.0 - (1.0 - max(tail.null, tail.alternative)) ** copies
    error += 0.5 * missing
    return HelstromError(float(0.5 * (1 - norm)), float(error))


def thermal_repeated_helstrom_error(corr0, corr1, copies: int = 1, prior: float = 0.5, max_photons: int = 2) -> float:
    r"""Exact Bayes error of the single-copy Helstrom measurement repeated on each of k copies.

    The single-copy Helstrom measurement projects on the positive and negative parts of
    :math:`\pi_0\rho_0 - \pi_1\rho_1`. Both thermal states commute with the total photon
    number, so it first reads the photon number n (which loses nothing) and then projects
    with :math:`P_\pm^{(n)}`, the spectral projectors of :math:`\pi_0B_{0,n} - \pi_1B_{1,n}`
    in block n. Blocks above ``max_photons`` are not split: their outcome is "more than
    ``max_photons`` photons" (a legitimate measurement, worse than Helstrom's on those blocks
    by at most their weight). Each copy gives one of :math:`2(n_{\max}+1)+1` outcomes with

    .. math:: p_h(n, \pm) = \mathrm{tr}\,P_\pm^{(n)}B_{h,n},\qquad p_h(>n_{\max}) = t_h,

    and the optimal classical decision on k i.i.d. outcomes errs with :func:`bayes_error`
    (exact sum over the types). At k = 1 this is the single-copy Helstrom error up to the
    unsplit tail.

    Returns
    -------
    float
    """
    prior = _check_prior(prior)
    blocks, tail = thermal_density_matrices(corr0, corr1, max_photons)
    p0, p1 = [], []
    for b0, b1 in blocks:
        lam, vec = np.linalg.eigh(prior * b0 - (1 - prior) * b1)
        plus = vec[:, lam > 0]
        for p, b in ((p0, b0), (p1, b1)):
            inside = float(np.trace(plus.conj().T @ b @ plus).real) if plus.size else 0.0
            whole = float(np.trace(b).real)
            p.extend([max(inside, 0.0), max(whole - inside, 0.0)])
    p0.append(tail.null)
    p1.append(tail.alternative)
    p0, p1 = np.array(p0), np.array(p1)
    return bayes_error(p0 / p0.sum(), p1 / p1.sum(), int(copies), prior)


# ======================================================================================
# 4. Detector outcome rates (weak-source, per emitted photon)
# ======================================================================================


def _rates(p0, p1, dp, efficiency, dark_counts) -> OutcomeRates:
    """Apply efficiency and dark counts; log-ratio from the stable difference dp = p1 - p0."""
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency must lie in (0, 1]; got {efficiency}")
    dark = np.asarray(dark_counts, dtype=float)
    if np.any(dark < 0):
        raise ValueError(f"dark_counts must be >= 0; got {dark_counts}")
    m0 = efficiency * p0 + dark
    m1 = efficiency * p1 + dark
    dm = efficiency * dp
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(m0 > 0, dm / np.where(m0 > 0, m0, 1.0), 0.0)
        L = np.where(np.abs(ratio) < 0.5, -np.log1p(ratio), np.log(m0) - np.log(m1))
    L = np.where((m0 > 0) & (m1 > 0), L, np.where(m0 > 0, np.inf, np.where(m1 > 0, -np.inf, 0.0)))
    return OutcomeRates(m0, m1, L)


def _neg_expm1_mixture(a0, a1, e):
    """1 - [(1-e) e^{-a0} + e e^{-a1}] without cancellation (a >= 0)."""
    return -(1 - e) * np.expm1(-a0) - e * np.expm1(-a1)


def binary_spade_rates(separation, relative_brightness=0.5, sigma=1.0, efficiency=1.0, dark_counts=0.0) -> OutcomeRates:
    r"""Binary SPADE (HG0 vs the rest) per photon: outcomes ``[HG0, rest]``.

    .. math:: P_1(\text{rest}) = 1 - (1-e)\,e^{-e^2d^2/(4\sigma^2)} - e\,e^{-(1-e)^2d^2/(4\sigma^2)},
              \qquad P_0(\text{rest}) = 0,

    (:math:`|\langle\phi_0|\psi_X\rangle|^2 = e^{-X^2/(4\sigma^2)}`, TNL 2016), computed with
    ``expm1``. ``dark_counts``: mean dark counts per outcome per emitted photon.

    Returns
    -------
    OutcomeRates
        Shape ``(..., 2)``.
    """
    d, e = _check_source(separation, relative_brightness, sigma)
    rest = _neg_expm1_mixture((e * d / (2 * sigma)) ** 2, ((1 - e) * d / (2 * sigma)) ** 2, e)
    p0 = np.stack([np.ones_like(d), np.zeros_like(d)], axis=-1)
    p1 = np.stack([1 - rest, rest], axis=-1)
    dp = np.stack([-rest, rest], axis=-1)
    return _rates(p0, p1, dp, efficiency, dark_counts)


def spade_rates(separation, relative_brightness=0.5, sigma=1.0, orders: int = 12, efficiency=1.0, dark_counts=0.0) -> OutcomeRates:
    r"""Full SPADE per photon: outcomes HG0 .. HG(orders-2) and a last bin for higher orders.

    .. math:: P(q\mid X) = e^{-Q_X}Q_X^q/q!,\quad Q_X = X^2/(4\sigma^2);\qquad
              P_1(q) = (1-e)P(q\mid -ed) + e\,P(q\mid(1-e)d).

    Returns
    -------
    OutcomeRates
        Shape ``(..., orders)``.
    """
    d, e = _check_source(separation, relative_brightness, sigma)
    q = np.arange(orders - 1)
    qa = ((e * d / (2 * sigma)) ** 2)[..., None]
    qb = (((1 - e) * d / (2 * sigma)) ** 2)[..., None]
    pa, pb = poisson.pmf(q, qa), poisson.pmf(q, qb)
    ta, tb = poisson.sf(orders - 2, qa), poisson.sf(orders - 2, qb)
    p1 = np.concatenate([(1 - e)[..., None] * pa + e[..., None] * pb, (1 - e)[..., None] * ta + e[..., None] * tb], axis=-1)
    p0 = np.zeros_like(p1)
    p0[..., 0] = 1.0
    dp = p1.copy()
    dp[..., 0] = -_neg_expm1_mixture(qa[..., 0], qb[..., 0], e)
    return _rates(p0, p1, dp, efficiency, dark_counts)


def sliver_rates(separation, relative_brightness=0.5, sigma=1.0, efficiency=1.0, dark_counts=0.0) -> OutcomeRates:
    r"""SLIVER (image-inversion interferometer about the axis) per photon: outcomes ``[even, odd]``.

    .. math:: P(\text{odd}\mid X) = \tfrac12\big(1 - \langle\psi_X|\psi_{-X}\rangle\big)
              = \tfrac12\big(1 - e^{-X^2/(2\sigma^2)}\big)

    (PHYSICS.md §2.2 with X = d/2), mixed over the two sources; H0 (X = 0) never gives odd.

    Returns
    -------
    OutcomeRates
        Shape ``(..., 2)``.
    """
    d, e = _check_source(separation, relative_brightness, sigma)
    odd = 0.5 * _neg_expm1_mixture((e * d) ** 2 / (2 * sigma**2), ((1 - e) * d) ** 2 / (2 * sigma**2), e)
    p0 = np.stack([np.ones_like(d), np.zeros_like(d)], axis=-1)
    p1 = np.stack([1 - odd, odd], axis=-1)
    dp = np.stack([-odd, odd], axis=-1)
    return _rates(p0, p1, dp, efficiency, dark_counts)


def _intensity_ratio_minus_one(x, d, e, sigma):
    r""":math:`f_1(x)/f_0(x) - 1` for the H1 mixture vs the H0 Gaussian, without cancellation.

    With :math:`a = -(2xed + e^2d^2)/(2\sigma^2)`, :math:`b = (2x(1-e)d - (1-e)^2d^2)/(2\sigma^2)`:
    :math:`(1-e)e^a + e\,e^b - 1 = -e(1-e)d^2/(2\sigma^2) + (1-e)h(a) + e\,h(b)` (the terms
    linear in x cancel exactly because the centroid is fixed).
    """
    a = -(2 * x * e * d + (e * d) ** 2) / (2 * sigma**2)
    b = (2 * x * (1 - e) * d - ((1 - e) * d) ** 2) / (2 * sigma**2)
    return -e * (1 - e) * d**2 / (2 * sigma**2) + (1 - e) * _h(a) + e * _h(b)


def _gaussian(x, sigma):
    return np.exp(-(x**2) / (2 * sigma**2)) / np.sqrt(2 * np.pi * sigma**2)


def direct_imaging_rates(
    separation, relative_brightness=0.5, sigma=1.0, efficiency=1.0, dark_density=0.0, step=None, reach=14.0,
) -> OutcomeRates:
    r"""Continuum direct imaging per photon, as quadrature cells for the exponent integrals.

    .. math:: f_0(x) = \mathcal N(x; 0, \sigma^2),\qquad
              f_1(x) = (1-e)\mathcal N(x; -ed, \sigma^2) + e\,\mathcal N(x; (1-e)d, \sigma^2),

    and the outcome "cell i" has mean :math:`w_i(\eta f(x_i) + b)` on a uniform grid
    (trapezoid rule: spectrally accurate for these smooth, Gaussian-decaying integrands; the
    exponent summands are homogeneous of degree one in :math:`(m_0, m_1)`, so weights factor
    out). The log ratio uses :func:`_intensity_ratio_minus_one`. ``dark_density`` b: dark counts
    per emitted photon per unit length. Grid: step ``sigma/16`` (default) over
    ``[-reach*sigma - d, reach*sigma + d]``.

    Returns
    -------
    OutcomeRates
        Shape ``(cells,)`` (scalar separation and brightness).
    """
    d, e = _check_source(separation, relative_brightness, sigma)
    d, e = float(d), float(e)
    h = step or sigma / 16
    half = reach * sigma + d
    x = np.arange(-np.ceil(half / h), np.ceil(half / h) + 1) * h
    f0 = _gaussian(x, sigma)
    u = _intensity_ratio_minus_one(x, d, e, sigma)
    f1 = f0 * (1 + u)
    return _rates(h * f0, h * f1, h * f0 * u, efficiency, h * dark_density)


def camera_rates(
    separation, relative_brightness=0.5, sigma=1.0, edges=None, efficiency=1.0, dark_counts=0.0, nodes=24,
) -> OutcomeRates:
    r"""Pixelated camera per photon: pixel k collects :math:`\int_{e_k}^{e_{k+1}} f(x)\,dx`.

    Gauss-Legendre quadrature (``nodes`` per pixel) of :math:`f_0` and of the stable
    difference :math:`f_1 - f_0 = f_0\,u`. Light outside the sensor is lost (Poisson
    thinning); ``dark_counts`` per pixel per emitted photon.

    Parameters
    ----------
    edges : array_like
        Pixel edges (default: 8 pixels of width sigma centred on the axis).

    Returns
    -------
    OutcomeRates
        Shape ``(pixels,)``.
    """
    from scipy.special import roots_legendre

    d, e = _check_source(separation, relative_brightness, sigma)
    d, e = float(d), float(e)
    edges = np.arange(-4, 5) * sigma if edges is None else np.asarray(edges, dtype=float)
    t, w = roots_legendre(nodes)
    lo, hi = edges[:-1, None], edges[1:, None]
    x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
    weights = 0.5 * (hi - lo) * w
    f0 = _gaussian(x, sigma)
    u = _intensity_ratio_minus_one(x, d, e, sigma)
    p0 = (weights * f0).sum(axis=1)
    dp = (weights * f0 * u).sum(axis=1)
    return _rates(p0, p0 + dp, dp, efficiency, dark_counts)


# --------------------------------------------------------------------------------------
# Closed forms (PHYSICS.md §6.2, §6.3)
# --------------------------------------------------------------------------------------


def binary_spade_exponent(separation, relative_brightness=0.5, sigma=1.0):
    r"""Poisson-model QCB per photon, attained by binary SPADE ([Lu2018]_, [Huang2021]_).

    .. math:: \xi = 1 - \langle\psi_0|\sigma_1|\psi_0\rangle
              = 1 - (1-e)\,e^{-e^2d^2/(4\sigma^2)} - e\,e^{-(1-e)^2d^2/(4\sigma^2)}
              \ \overset{e=1/2}{=}\ 1 - e^{-Q},\quad Q = d^2/(16\sigma^2).
    """
    d, e = _check_source(separation, relative_brightness, sigma)
    return _neg_expm1_mixture((e * d / (2 * sigma)) ** 2, ((1 - e) * d / (2 * sigma)) ** 2, e)[()]


def fixed_photon_number_exponent(separation, relative_brightness=0.5, sigma=1.0):
    r"""QCB per photon with a fixed number of detected photons: :math:`-\ln\langle\psi_0|\sigma_1|\psi_0\rangle` (= Q at e = 1/2)."""
    return -np.log1p(-binary_spade_exponent(separation, relative_brightness, sigma))


def sliver_exponent(separation, relative_brightness=0.5, sigma=1.0):
    r"""SLIVER Poisson exponent per photon: :math:`P_1(\text{odd})`; at e = 1/2, :math:`(1 - e^{-d^2/(8\sigma^2)})/2`."""
    d, e = _check_source(separation, relative_brightness, sigma)
    return (0.5 * _neg_expm1_mixture((e * d) ** 2 / (2 * sigma**2), ((1 - e) * d) ** 2 / (2 * sigma**2), e))[()]


# ======================================================================================
# 5. Exact error probabilities of a counting detector's likelihood-ratio test on c copies
# ======================================================================================


def poisson_groups(m0, m1, rtol=1e-12):
    """Merge Poisson outputs into groups with one log ratio: ``[(a0, a1), ...]``.

    Outputs lit under one hypothesis only are merged into one group per hypothesis; outputs
    with equal rates are ancillary and dropped.
    """
    m0, m1 = np.asarray(m0, float), np.asarray(m1, float)
    only1 = (m0 == 0) & (m1 > 0)
    only0 = (m1 == 0) & (m0 > 0)
    both = (m0 > 0) & (m1 > 0)
    groups = []
    if only1.any():
        groups.append((0.0, float(m1[only1].sum())))
    if only0.any():
        groups.append((float(m0[only0].sum()), 0.0))
    idx = np.flatnonzero(both)
    ratios = np.log(m1[idx]) - np.log(m0[idx])
    order = np.argsort(ratios)
    current, ref = [], None
    for i in order:
        if ref is None or abs(ratios[i] - ref) > rtol * max(1.0, abs(ref)) + 1e-15:
            if current:
                groups.append(current)
            current, ref = [idx[i]], ratios[i]
        else:
            current.append(idx[i])
    if current:
        groups.append(current)
    out = []
    for g in groups:
        if isinstance(g, tuple):
            out.append(g)
        else:
            a0, a1 = float(m0[g].sum()), float(m1[g].sum())
            if abs(np.log(a1) - np.log(a0)) > 1e-15:  # equal rates: ancillary
                out.append((a0, a1))
    return out


def _poisson_min_tail_sum(lw0, lw1, a0, a1, c):
    r"""log of :math:`\sum_t \min(w_0\,\mathrm{Pois}(t; c a_0), w_1\,\mathrm{Pois}(t; c a_1))`, vectorised over w."""
    if a0 == a1:
        return np.minimum(lw0, lw1)
    if a0 == 0:
        return np.minimum(lw0, lw1 - c * a1)
    if a1 == 0:
        return np.minimum(lw0 - c * a0, lw1)
    # w1 Pois1 > w0 Pois0  <=>  t ln(a1/a0) > lw0 - lw1 + c (a1 - a0)
    slope = np.log(a1) - np.log(a0)
    t = np.floor((lw0 - lw1 + c * (a1 - a0)) / slope)
    if slope > 0:  # t > t*: min is the H0 term (sf); t <= t*: the H1 term (cdf)
        h0, h1 = poisson.logsf(t, c * a0), poisson.logcdf(t, c * a1)
    else:
        h0, h1 = poisson.logcdf(t, c * a0), poisson.logsf(t, c * a1)
    return np.logaddexp(lw0 + h0, lw1 + h1)


def two_group_bayes_error(groups, copies: float, prior: float = 0.5) -> float:
    r"""Exact Bayes error of the LRT on independent Poisson totals of at most two groups.

    .. math:: P_e = \sum_{t_B}\sum_{t_A}\min\big[\pi_0 P_0(t_A)P_0(t_B),\ \pi_1 P_1(t_A)P_1(t_B)\big],

    the inner sum in closed form (the likelihood ratio is monotone in :math:`t_A`, so it splits
    into one Poisson tail per hypothesis), the outer one over the bulk of both hypotheses
    (14 standard deviations plus 50 counts either side: the dropped tails are below 1e-40).
    Returns NaN for more than two groups (:class:`IndependentOutputs` handles any number).
    """
    c = float(copies)
    if len(groups) > 2:
        return float("nan")
    lw0, lw1 = np.log(prior), np.log1p(-prior)
    if not groups:
        return float(min(prior, 1 - prior))
    if len(groups) == 1:
        (a0, a1), = groups
        return float(np.exp(_poisson_min_tail_sum(np.array([lw0]), np.array([lw1]), a0, a1, c))[0])
    (a0, a1), (b0, b1) = sorted(groups, key=lambda g: max(g))  # enumerate the group with fewer counts
    parts = []
    for mean in (c * a0, c * a1):
        spread = 14 * np.sqrt(mean) + 50
        parts.append(np.arange(max(0.0, np.floor(mean - spread)), np.ceil(mean + spread) + 1))
    t = np.unique(np.concatenate(parts))
    with np.errstate(divide="ignore"):
        l0 = lw0 + (poisson.logpmf(t, c * a0) if a0 > 0 else np.where(t == 0, 0.0, -np.inf))
        l1 = lw1 + (poisson.logpmf(t, c * a1) if a1 > 0 else np.where(t == 0, 0.0, -np.inf))
        terms = _poisson_min_tail_sum(l0, l1, b0, b1, c)
    return float(np.exp(logsumexp(terms)))


class ExactError(NamedTuple):
    """An error probability with a bound on its numerical error.

    Attributes
    ----------
    probability : float
        Bayes error (symmetric setting) or miss probability (asymmetric setting).
    relative_accuracy : float
        Bound on ``|computed - true| / true`` from the lattice rounding, the dropped Poisson /
        binomial tails and floating point (0 up to round-off where the sum is exact).
    """

    probability: float
    relative_accuracy: float


#: Tail mass of each output's total left out of the lattice (per hypothesis and output).
_TAIL = 1e-18
#: Largest lattice (FFT length) of the log-likelihood ratio.
LATTICE_POINTS = 1 << 17


class IndependentOutputs:
    r"""A counting detector's outputs as independent Poisson counts or Bernoulli clicks per copy.

    Per copy, output k counts :math:`n_k \sim \mathrm{Pois}(m_{h,k})` (number-resolving) or
    clicks with probability :math:`q_{h,k}` (threshold), independently across outputs, under
    hypothesis h. Over c copies the totals :math:`T_k` (Poisson :math:`c\,m_{h,k}` or binomial
    :math:`(c, q_{h,k})`) are sufficient, and the log-likelihood ratio is linear in them:

    .. math:: \Lambda = \ln\frac{P_1}{P_0} = \sum_k w_k T_k + c\,\kappa,\qquad
              w_k = \ln\frac{m_{1k}}{m_{0k}},\ \kappa = -\sum_k (m_{1k}-m_{0k})
              \quad\text{or}\quad
              w_k = \ln\frac{q_{1k}(1-q_{0k})}{q_{0k}(1-q_{1k})},\ \kappa = \sum_k\ln\frac{1-q_{1k}}{1-q_{0k}} .

    This is the exact law of weak (or coherent) light with dark counts, and of any light whose
    outputs are Poisson; for thermal light at :math:`\epsilon` photons per copy it neglects the
    bunching (correlations of order :math:`\epsilon` per detected photon).

    Parameters
    ----------
    null, alternative : array_like, shape ``(outputs,)``
        Per-copy means (``family="poisson"``) or click probabilities (``"bernoulli"``).
    family : {"poisson", "bernoulli"}
    log_ratio : array_like, optional
        :math:`\ln(m_0/m_1)` computed stably by the caller (as :class:`OutcomeRates`).

    Notes
    -----
    Outputs lit under one hypothesis only enter as the probability that they stay dark under
    the other (then the test is sure), ancillary outputs (equal laws) are dropped, and the
    remaining K outputs are *finite* (Poisson outputs with one log ratio are merged).
    Error probabilities on c copies (:meth:`bayes_error`, :meth:`neyman_pearson_miss`):

    * K <= 2 Poisson groups: the closed-form double sum :func:`two_group_bayes_error`
      (Bayes error, exact);
    * otherwise the law of :math:`\Lambda` under an exponentially tilted measure
      :math:`P_s \propto P_0^sP_1^{1-s}` (independent Poisson/binomial totals again) on a
      lattice of spacing :math:`\delta_h`: each output's contribution :math:`w_kT_k` is
      rounded to the lattice (error at most :math:`\delta_h/2` per output, whatever the counts;
      exact when K = 1, spacing :math:`|w_1|`) and the outputs are convolved by FFT. Since
      :math:`\min(\pi_0P_0, \pi_1P_1) = Z_s P_s\,g(\Lambda)` with
      :math:`g(\lambda) = \min(\pi_0e^{-(1-s)\lambda}, \pi_1e^{s\lambda})` and
      :math:`|\ln g(\lambda) - \ln g(\lambda')| \le \max(s, 1-s)|\lambda-\lambda'|`, the
      rounding changes :math:`P_e` by a factor within :math:`e^{\pm\max(s,1-s)\Delta}`,
      :math:`\Delta = \sum_k \max_t|w_kt - \delta_h\,\mathrm{round}(w_kt/\delta_h)|`; that,
      the dropped tails (1e-18 per output) and round-off make ``relative_accuracy``. s is the
      minimiser of the Chernoff bound at c copies, which puts the threshold in the bulk of
      :math:`P_s`, so error probabilities down to 1e-300 keep their relative precision.
    """

    def __init__(self, null, alternative, family: str = "poisson", log_ratio=None):
        if family not in ("poisson", "bernoulli"):
            raise ValueError(f"family must be 'poisson' or 'bernoulli'; got {family!r}")
        m0, m1, L = _as_pair(np.atleast_1d(null), np.atleast_1d(alternative), log_ratio)
        if m0.ndim != 1:
            raise ValueError("IndependentOutputs takes one parameter point: 1-D null and alternative")
        if family == "bernoulli" and (np.any(m0 > 1) or np.any(m1 > 1)):
            raise ValueError("click probabilities must lie in [0, 1]")
        self.family = family
        self.null, self.alternative, self.log_ratio = m0, m1, L
        only1 = (m0 == 0) & (m1 > 0)
        only0 = (m1 == 0) & (m0 > 0)
        finite = (m0 > 0) & (m1 > 0) & (L != 0)
        if family == "bernoulli":
            self._log_dark1 = float(self.copies_log_zero(m1[only1]))  # per copy: ln P1(no click)
            self._log_dark0 = float(self.copies_log_zero(m0[only0]))
            q0, q1 = m0[finite], m1[finite]
            sure = (q0 >= 1) | (q1 >= 1)
            if np.any(sure):
                raise ValueError("a click probability of 1 under one hypothesis only is not supported")
            log_miss_ratio = np.log1p(-q1) - np.log1p(-q0)  # ln((1-q1)/(1-q0))
            self.weights = -L[finite] - log_miss_ratio
            self.offset = float(log_miss_ratio.sum())
            self._finite = (q0, q1, L[finite])
        else:
            self._log_dark1 = -float(m1[only1].sum())
            self._log_dark0 = -float(m0[only0].sum())
            # merge outputs with one log ratio (their totals add); the weight is the stable
            # per-output log ratio of the group's first output
            idx = np.flatnonzero(finite)
            idx = idx[np.argsort(L[idx], kind="stable")]
            a0, a1, ratios = [], [], []
            for i in idx:
                if ratios and abs(L[i] - ratios[-1]) <= 1e-12 * max(1.0, abs(ratios[-1])):
                    a0[-1] += m0[i]
                    a1[-1] += m1[i]
                else:
                    a0.append(m0[i])
                    a1.append(m1[i])
                    ratios.append(L[i])
            a0, a1, ratios = np.array(a0, float), np.array(a1, float), np.array(ratios, float)
            self.weights = -ratios
            self.offset = -float((a1 - a0).sum()) if a0.size else 0.0
            self._finite = (a0, a1, ratios)
        self._groups = poisson_groups(m0, m1) if family == "poisson" else None

    @staticmethod
    def copies_log_zero(q):
        """Per copy, ln P(no click in any of the outputs ``q``)."""
        return np.log1p(-np.asarray(q, float)).sum()

    # -- exponents --------------------------------------------------------------------
    def log_chernoff_coefficient(self, s, copies=1.0):
        r""":math:`\ln\sum P_0^sP_1^{1-s}` of c copies (all outputs), vectorised over s."""
        s = np.asarray(s, float)
        m0, m1, L = self.null, self.alternative, self.log_ratio
        if self.family == "poisson":
            return -copies * _poisson_divergence(s, m0, m1, L)
        with np.errstate(divide="ignore"):
            Lm = np.where((m0 < 1) & (m1 < 1), np.log1p(-np.minimum(m0, 1 - 1e-300)) - np.log1p(-np.minimum(m1, 1 - 1e-300)), 0.0)
        per_output = (_poisson_divergence(s[..., None], m0[:, None], m1[:, None], L[:, None])
                      + _poisson_divergence(s[..., None], (1 - m0)[:, None], (1 - m1)[:, None], Lm[:, None]))
        with np.errstate(divide="ignore"):
            return copies * np.log1p(-np.minimum(per_output, 1.0)).sum(axis=-1)

    def chernoff_exponent(self) -> ChernoffBound:
        r"""Chernoff exponent per copy, :math:`-\min_s\ln\sum P_0^sP_1^{1-s}` (s as in :func:`poisson_chernoff_exponent`)."""
        s, value = _maximize_concave_on_unit_interval(lambda s: -self.log_chernoff_coefficient(s), ())
        value = max(float(value), 0.0)
        return ChernoffBound(value, float(s) if value > 0 else 0.5)

    def chernoff_bound(self, copies, prior=0.5) -> ChernoffBound:
        r"""Chernoff bound at c copies, :math:`\min_s \pi_0^s\pi_1^{1-s}\sum P_0^sP_1^{1-s}` (``exponent``: its log, negated)."""
        prior = _check_prior(prior)
        lp0, lp1 = np.log(prior), np.log1p(-prior)
        s, value = _maximize_concave_on_unit_interval(
            lambda s: -(s * lp0 + (1 - s) * lp1 + self.log_chernoff_coefficient(s, copies)), ())
        return ChernoffBound(float(value), float(s))

    def stein_exponent(self) -> float:
        r"""Relative entropy :math:`D(P_0\|P_1)` per copy (the Stein exponent of the miss probability)."""
        m0, m1, L = self.null, self.alternative, self.log_ratio
        if self.family == "poisson":
            return float(relative_entropy(m0, m1, L))
        if np.any((m0 >= 1) & (m1 < 1)):
            return float("inf")
        ok = m0 < 1
        q0, q1 = m0[ok], m1[ok]
        with np.errstate(divide="ignore"):
            Lm = np.where(q1 < 1, np.log1p(-q0) - np.log1p(-np.minimum(q1, 1 - 1e-300)), np.inf)
        return float(relative_entropy(q0, q1, L[ok]) + relative_entropy(1 - q0, 1 - q1, Lm))

    def log_likelihood_ratio(self, totals, copies):
        r""":math:`\ln P_1/P_0` of totals ``(..., outputs)`` over ``copies`` (+-inf where one hypothesis is impossible)."""
        totals = np.asarray(totals, float)
        copies = np.asarray(copies, float)
        m0, m1, L = self.null, self.alternative, self.log_ratio
        both = (m0 > 0) & (m1 > 0)
        w = np.where(both, -L, 0.0)
        if self.family == "poisson":
            const = -np.where(both, m1 - m0, 0.0).sum()
        else:
            lm = np.where(both, np.log1p(-np.minimum(m1, 1 - 1e-16)) - np.log1p(-np.minimum(m0, 1 - 1e-16)), 0.0)
            w = w - lm
            const = lm.sum()
        finite = totals @ w + copies * const
        # outputs dark under one hypothesis: a count there is impossible under it
        lit0 = (totals[..., (m0 == 0) & (m1 > 0)] > 0).any(axis=-1)
        lit1 = (totals[..., (m1 == 0) & (m0 > 0)] > 0).any(axis=-1)
        if self.family == "poisson":
            dark1_rate, dark0_rate = m1[(m0 == 0) & (m1 > 0)].sum(), m0[(m1 == 0) & (m0 > 0)].sum()
            finite = finite - copies * dark1_rate + copies * dark0_rate
        else:
            finite = finite + copies * (self.copies_log_zero(m1[(m0 == 0) & (m1 > 0)]) - self.copies_log_zero(m0[(m1 == 0) & (m0 > 0)]))
        return np.where(lit0 & ~lit1, np.inf, np.where(lit1 & ~lit0, -np.inf, finite))

    # -- the lattice laws of the log-likelihood ratio ----------------------------------------
    def _count_law(self, k, copies, which):
        """(law, mean, variance) of output k's total under ``"null"``, ``"alternative"`` or the tilt P_s (a float s)."""
        a0, a1, L = self._finite
        if self.family == "poisson":
            mean = copies * (a0[k] if which == "null" else a1[k] if which == "alternative" else a1[k] * np.exp(which * L[k]))
            return _CountLaw(mean), mean, mean
        q0, q1 = a0[k], a1[k]
        if which in ("null", "alternative"):
            q = q0 if which == "null" else q1
        else:
            la = which * np.log(q0) + (1 - which) * np.log(q1)
            lb = which * np.log1p(-q0) + (1 - which) * np.log1p(-q1)
            q = np.exp(la - np.logaddexp(la, lb))
        n = int(round(copies))
        return _CountLaw(n * q, trials=n, q=q), n * q, n * q * (1 - q)

    def _bulk_of(self, k, copies, s):
        """Counts [lo, hi] of output k's total holding all but 1e-18 per side of P_s, and the P_s mass outside."""
        tilted, mean, var = self._count_law(k, copies, s)
        lo, hi = _bulk(mean, var)
        if self.family == "bernoulli":
            hi = min(hi, int(round(copies)))
        if mean < 1e3:  # the Bernstein margin of 30 counts is loose for small means
            lo, hi = _tighten(tilted, lo, hi, mean)
        outside = float(np.exp(np.logaddexp(tilted.logcdf(lo - 1) if lo > 0 else -np.inf, tilted.logsf(hi))))
        return lo, hi, outside

    def _cells(self, k, copies, bulk, spacing):
        """Lattice cells of output k: (j, log P0(cell), log P1(cell), rounding bound).

        Cells hold the counts t with round(w_k t / spacing) = j; their probabilities are exact
        (per count, or Poisson/binomial CDF differences when a cell holds many counts).
        """
        wk = self.weights[k]
        lo, hi, _ = bulk
        laws = [self._count_law(k, copies, h)[0] for h in ("null", "alternative")]
        step = spacing / abs(wk)  # counts per cell
        if step < 4:
            t = np.arange(lo, hi + 1)
            exact = wk * t / spacing
            j = np.round(exact).astype(np.int64)
            bound = float(np.max(np.abs(exact - j))) * spacing
            out = []
            for law in laws:
                lp = law.logpmf(t)
                top = lp.max()
                cell = np.bincount(j - j.min(), weights=np.exp(lp - top))
                with np.errstate(divide="ignore"):
                    out.append(np.log(cell) + top)
            cells = np.arange(j.min(), j.max() + 1)
            return cells, out[0], out[1], bound
        # cell j' (of |w_k|) holds t in [ceil((j' - 1/2) step), ceil((j' + 1/2) step) - 1]
        first, last = int(np.floor(lo / step + 0.5)), int(np.floor(hi / step + 0.5))
        jp = np.arange(first, last + 1)
        start = np.maximum(np.ceil((jp - 0.5) * step), lo)
        stop = np.minimum(np.ceil((jp + 0.5) * step) - 1, hi)
        keep = stop >= start
        jp, start, stop = jp[keep], start[keep], stop[keep]
        edges = np.append(start - 1, stop[-1])  # cell i holds (edges[i], edges[i + 1]]
        out = []
        for law in laws:
            below = stop <= law.mean()
            need_cdf = np.zeros(len(edges), bool)
            need_cdf[:-1] |= below
            need_cdf[1:] |= below
            cdf = np.full(len(edges), np.nan)
            sf = np.full(len(edges), np.nan)
            cdf[need_cdf] = law.logcdf(edges[need_cdf])
            need_sf = np.zeros(len(edges), bool)
            need_sf[:-1] |= ~below
            need_sf[1:] |= ~below
            sf[need_sf] = law.logsf(edges[need_sf])
            with np.errstate(divide="ignore", invalid="ignore"):
                cb, ca = cdf[1:], cdf[:-1]
                sa, sb = sf[:-1], sf[1:]
                lower = cb + np.log1p(-np.exp(np.minimum(ca - cb, 0.0)))
                upper = sa + np.log1p(-np.exp(np.minimum(sb - sa, 0.0)))
            out.append(np.where(below, lower, upper))
        j = np.sign(wk).astype(np.int64) * jp
        order = np.argsort(j)
        return j[order], out[0][order], out[1][order], spacing / 2

    def _lattice(self, copies, s, tilt0, tilt1, delta_target):
        r"""Exact laws of the rounded ratio :math:`\Lambda_r` under H0 and H1 on a lattice.

        Each output's contribution :math:`w_kT_k` is rounded to the lattice; the probabilities
        are the exact ones of the totals. The convolutions run on the laws tilted by
        :math:`e^{\theta\Lambda_r}` (``tilt0``, ``tilt1``; exact on the lattice, undone after),
        which puts the region that matters in their bulk; output by output, cells below 1e-22 of
        the running maximum are trimmed (their mass is counted as dropped).

        Returns ``(values, log_p0, log_p1, delta, dropped)``: lattice values of
        :math:`\Lambda_r`, log cell probabilities, the rounding bound
        :math:`\Delta \ge |\Lambda - \Lambda_r|` and the tilted mass left out.
        """
        from scipy import fft

        w = self.weights
        K = len(w)
        bulks = [self._bulk_of(k, copies, s) for k in range(K)]
        dropped = float(sum(b[2] for b in bulks))
        if K == 1:
            spacing = abs(w[0])
        else:
            widths = sum(abs(wk) * (b[1] - b[0]) for wk, b in zip(w, bulks))
            # the rounding must also be small against the spread of the ratio itself
            spread = np.sqrt(sum(wk**2 * self._count_law(k, copies, s)[2] for k, wk in enumerate(w)))
            target = min(delta_target, 0.05 * spread) if spread > 0 else delta_target
            spacing = max(2 * target / K, widths / (LATTICE_POINTS - 2 * K), 1e-300)
        cells = [self._cells(k, copies, bulks[k], spacing) for k in range(K)]
        delta = float(sum(c[3] for c in cells)) if K > 1 else 0.0
        results = []
        for which, theta in ((1, tilt0), (2, tilt1)):
            arrays, starts, scale = [], [], 0.0
            for c in cells:
                j = c[0]
                tilted = c[which] + theta * spacing * j
                top = np.max(tilted)
                mass = np.exp(tilted - top)
                total = mass.sum()  # each array sums to one: every spectrum is bounded by one
                scale += top + np.log(total)
                dense = np.zeros(int(j[-1] - j[0]) + 1)
                dense[j - j[0]] = mass / total
                arrays.append(dense)
                starts.append(int(j[0]))
            first, conv, aliased = _convolve_window(arrays, starts)
            dropped += aliased
            index = first + np.arange(len(conv))
            with np.errstate(divide="ignore"):
                logs = np.log(np.clip(conv, 0.0, None)) + scale - theta * spacing * index
            results.append((index, logs))
        (i0, l0), (i1, l1) = results
        first, last = min(i0[0], i1[0]), max(i0[-1], i1[-1])
        index = np.arange(first, last + 1)
        log0 = np.full(index.shape, -np.inf)
        log1 = np.full(index.shape, -np.inf)
        log0[i0 - first] = l0
        log1[i1 - first] = l1
        values = copies * self.offset + spacing * index
        return values, log0, log1, delta, dropped

    def bayes_error(self, copies, prior=0.5, delta_target: float = 0.1) -> ExactError:
        r"""Bayes error of the likelihood-ratio test on c copies (see the class notes).

        With :math:`A_h` the priors times the probability that the outputs dark under the other
        hypothesis stay dark, and :math:`\Lambda_r` the lattice-rounded ratio of the finite
        outputs (:math:`|\Lambda-\Lambda_r| \le \Delta`),

        .. math:: \hat P = A_0P_0(\Lambda_r > 	au) + A_1P_1(\Lambda_r \le 	au),\qquad 	au = \ln(A_0/A_1),

        is the exact error of the rounded test, so :math:`P_e \le \hat P`; the two tests differ
        only where :math:`|\Lambda - 	au| \le \Delta`, where :math:`A_0P_0/A_1P_1 \in e^{\pm\Delta}`,
        hence :math:`\hat P - P_e \le (e^\Delta - 1)\sum_{|\lambda-	au|\le\Delta}\min(A_0P_0, A_1P_1)(\Lambda_r=\lambda)`
        (second order in the lattice spacing). The midpoint of that bracket is returned, with
        its half-width, the dropped tails (times the Chernoff bound) and round-off in
        ``relative_accuracy``. The laws are tilted to :math:`P_s`, s minimising the Chernoff
        bound at c copies, so tiny errors keep their relative precision.

        Parameters
        ----------
        copies : float
            c (any positive real for Poisson outputs; a whole number for clicks).
        prior : float
            :math:`\pi_0`.
        delta_target : float
            Rounding bound :math:`\Delta` the lattice aims at (coarser if the lattice would
            exceed :data:`LATTICE_POINTS`).
        """
        prior = _check_prior(prior)
        c = float(copies)
        if self.family == "poisson" and len(self._groups) <= 2:
            return ExactError(two_group_bayes_error(self._groups, c, prior), 1e-12)
        la0 = np.log(prior) + c * self._log_dark0
        la1 = np.log1p(-prior) + c * self._log_dark1
        if len(self.weights) == 0:
            return ExactError(float(np.exp(min(la0, la1))), 1e-15)
        finite = _FiniteView(self)
        s, value = _maximize_concave_on_unit_interval(
            lambda s: -(s * la0 + (1 - s) * la1 + finite.log_coefficient(s, c)), ())
        s, log_bound = float(s), -float(value)
        values, log0, log1, delta, dropped = self._lattice(c, s, 1 - s, -s, delta_target)
        tau = la0 - la1
        above = values > tau
        with np.errstate(divide="ignore"):
            log_p = logsumexp(np.concatenate([la0 + log0[above], la1 + log1[~above], [-np.inf]]))
            near = np.abs(values - tau) <= delta
            log_w = logsumexp(np.concatenate([np.minimum(la0 + log0[near], la1 + log1[near]), [-np.inf]]))
        p_hat = float(np.exp(log_p))
        if p_hat == 0.0:
            return ExactError(0.0, float("inf"))
        with np.errstate(over="ignore"):
            half = min(0.5 * np.expm1(delta) * np.exp(log_w - log_p), 1.0)
        accuracy = half + (dropped * np.exp(log_bound - log_p)) + 1e-10
        return ExactError(p_hat * (1 - half), float(accuracy))

    def neyman_pearson_miss(self, copies, false_alarm, delta_target: float = 0.1) -> ExactError:
        r"""Miss probability of the most powerful test at false-alarm rate :math:`\alpha` on c copies.

        Neyman-Pearson: reject H0 when :math:`\Lambda` exceeds a threshold, randomising on the
        boundary so that :math:`P_0(	ext{reject}) = lpha` exactly; :math:`eta =
        P_1(	ext{accept})`. Outputs dark under H0 reject for free (a factor :math:`P_1(	ext{dark})`
        on :math:`eta`); outputs dark under H1 accept for free (:math:`lpha / P_0(	ext{dark})`
        is spent on the rest). The same test on the lattice-rounded ratio :math:`\Lambda_r`
        (threshold :math:`\eta_r`, randomised on the boundary cell, level exactly
        :math:`lpha`) has the exact miss :math:`\hateta \ge eta`; comparing both with
        :math:`\mathrm E_1[\phi] = \mathrm E_0[(e^\Lambda - e^{\eta_r})\phi] + e^{\eta_r}lpha`
        gives :math:`\hateta - eta \le e^{\eta_r}(e^\Delta - 1)P_0(|\Lambda_r - \eta_r| \le 2\Delta)`.
        The midpoint is returned, half the width (plus dropped tails and round-off) as
        ``relative_accuracy``; with one finite output the lattice is exact.
        """
        if not 0.0 < false_alarm < 1.0:
            raise ValueError(f"false_alarm must lie in (0, 1); got {false_alarm}")
        c = float(copies)
        alpha = false_alarm * np.exp(-c * self._log_dark0)
        dark1 = np.exp(c * self._log_dark1)
        if alpha >= 1.0 or dark1 == 0.0:
            return ExactError(0.0, 0.0)
        if len(self.weights) == 0:
            return ExactError(float(dark1 * (1 - alpha)), 1e-15)
        if len(self.weights) == 1:
            return ExactError(float(dark1 * self._single_output_miss(c, alpha)), 1e-12)
        values, log0, log1, delta, dropped = self._lattice(c, 1.0, 0.0, -1.0, delta_target)
        p0 = np.exp(log0)
        order = np.argsort(-values)  # reject from the largest log ratio down
        cum = np.cumsum(p0[order])
        j = min(int(np.searchsorted(cum, alpha, side="left")), len(order) - 1)
        edge = order[j]
        before = cum[j] - p0[edge]
        gamma = 0.0 if p0[edge] == 0 else min(max((alpha - before) / p0[edge], 0.0), 1.0)
        with np.errstate(divide="ignore"):
            log_miss = logsumexp(np.concatenate([log1[order[j + 1:]], [log1[edge] + np.log1p(-gamma) if gamma < 1 else -np.inf]]))
        if not np.isfinite(log_miss):
            return ExactError(0.0, 0.0)
        eta = values[edge]
        window = p0[np.abs(values - eta) <= 2 * delta].sum()
        with np.errstate(over="ignore"):
            half = min(0.5 * np.expm1(delta) * window * np.exp(eta - log_miss), 1.0)
        accuracy = half + dropped * np.exp(eta + delta - log_miss) + 1e-10
        return ExactError(float(dark1 * np.exp(log_miss) * (1 - half)), float(accuracy))


    def _single_output_miss(self, copies, alpha):
        r"""NP miss with one finite output: the ratio is monotone in its total T, so the test is
        a threshold on T (randomised on the boundary count), summed with exact CDFs."""
        law0 = self._count_law(0, copies, "null")[0]
        law1 = self._count_law(0, copies, "alternative")[0]
        lo, hi = 0, int(np.ceil(law0.mean() + 40 * np.sqrt(law0.mean() + 1) + 100))
        if self.family == "bernoulli":
            hi = min(hi, int(round(copies)))
        if self.weights[0] > 0:  # reject for large T: boundary b with P0(T > b) <= alpha < P0(T >= b)
            while hi - lo > 1:
                m = (lo + hi) // 2
                lo, hi = (m, hi) if np.exp(law0.logsf(m - 1)) > alpha else (lo, m)
            b = lo
            above, at = np.exp(law0.logsf(b)), np.exp(law0.logpmf(b))
            gamma = min(max((alpha - above) / at, 0.0), 1.0) if at > 0 else 0.0
            return float(np.exp(law1.logcdf(b - 1)) + (1 - gamma) * np.exp(law1.logpmf(b)))
        # reject for small T: boundary b with P0(T < b) <= alpha < P0(T <= b)
        while hi - lo > 1:
            m = (lo + hi) // 2
            lo, hi = (lo, m) if np.exp(law0.logcdf(m)) > alpha else (m, hi)
        b = lo if np.exp(law0.logcdf(lo)) > alpha else hi
        below, at = np.exp(law0.logcdf(b - 1)), np.exp(law0.logpmf(b))
        gamma = min(max((alpha - below) / at, 0.0), 1.0) if at > 0 else 0.0
        return float(np.exp(law1.logsf(b)) + (1 - gamma) * np.exp(law1.logpmf(b)))


def _bulk(mean, variance):
    r"""Counts [lo, hi] holding all but < 1e-18 of a Poisson or binomial law on each side.

    Bernstein: :math:`P(|X - \mu| \ge x) \le e^{-x^2/(2(v + x/3))}`; :math:`x = 9.2\sqrt v + 30`
    gives an exponent above 41.5 (:math:`e^{-41.5} < 10^{-18}`).
    """
    x = 9.2 * np.sqrt(variance) + 30
    return max(int(np.floor(mean - x)), 0), int(np.ceil(mean + x))


class _CountLaw:
    """Poisson (mean) or binomial (trials, q) law of a total: log pmf, cdf and sf from scipy.special."""

    def __init__(self, mean, trials=None, q=None):
        self.mu, self.trials, self.q = float(mean), trials, q

    def mean(self):
        return self.mu

    def logpmf(self, t):
        t = np.asarray(t, float)
        if self.trials is None:
            return xlogy(t, self.mu) - self.mu - gammaln(t + 1)
        n, q = self.trials, self.q
        return gammaln(n + 1) - gammaln(t + 1) - gammaln(n - t + 1) + xlogy(t, q) + xlogy(n - t, 1 - q)

    def logcdf(self, t):
        from scipy.special import bdtr, pdtr

        t = np.asarray(t, float)
        with np.errstate(divide="ignore"):
            if self.trials is None:
                return np.where(t < 0, -np.inf, np.log(pdtr(np.maximum(t, 0), self.mu)))
            return np.where(t < 0, -np.inf, np.log(bdtr(np.maximum(t, 0), self.trials, self.q)))

    def logsf(self, t):
        from scipy.special import bdtrc, pdtrc

        t = np.asarray(t, float)
        with np.errstate(divide="ignore"):
            if self.trials is None:
                return np.where(t < 0, 0.0, np.log(pdtrc(np.maximum(t, 0), self.mu)))
            return np.where(t < 0, 0.0, np.where(t >= self.trials, -np.inf, np.log(bdtrc(np.clip(t, 0, self.trials), self.trials, self.q))))


def _convolve_window(arrays, starts):
    """Full linear convolution of arrays (array k holds lattice points ``starts[k]`` + i) by one FFT product.

    Returns ``(first, values, aliased)``: the law of the sum on the points ``first`` + i (no
    aliasing: the FFT is as long as the full support).
    """
    from scipy import fft

    full = sum(len(a) - 1 for a in arrays) + 1
    n_fft = fft.next_fast_len(full, real=True)
    spectrum = None
    for a in arrays:
        f = fft.rfft(a, n_fft)
        spectrum = f if spectrum is None else spectrum * f
    return sum(starts), fft.irfft(spectrum, n_fft)[:full], 0.0


def _tighten(law, lo, hi, mean, log_tail=np.log(_TAIL)):
    """Shrink [lo, hi] (from :func:`_bulk`) to the counts whose tails beyond are still >= 1e-18 (bisection)."""
    def search(a, b, inside):
        # largest/smallest integer in [a, b] where ``inside`` holds, inside monotone
        while b - a > 1:
            m = (a + b) // 2
            if inside(m):
                a = m
            else:
                b = m
        return a, b

    top = int(np.ceil(mean))
    if hi > top:
        _, b = search(top, hi, lambda t: law.logsf(t) >= log_tail)  # P(T > t) >= tail
        hi = min(hi, b)
    bottom = int(np.floor(mean))
    if lo < bottom:
        a, _ = search(lo, bottom, lambda t: law.logcdf(t) < log_tail)  # P(T <= t) < tail
        lo = max(lo, a)
    return lo, hi


class _FiniteView:
    """The finite outputs alone (the Chernoff coefficient of the tilted measure's normaliser)."""

    def __init__(self, outputs: IndependentOutputs):
        a0, a1, L = outputs._finite
        self.family = outputs.family
        self.a0, self.a1, self.L = a0, a1, L

    def log_coefficient(self, s, copies):
        s = np.asarray(s, float)
        if self.family == "poisson":
            return -copies * _poisson_divergence(s, self.a0, self.a1, self.L)
        Lm = np.log1p(-self.a0) - np.log1p(-self.a1)
        per_output = (_poisson_divergence(s[..., None], self.a0[:, None], self.a1[:, None], self.L[:, None])
                      + _poisson_divergence(s[..., None], (1 - self.a0)[:, None], (1 - self.a1)[:, None], Lm[:, None]))
        return copies * np.log1p(-per_output).sum(axis=-1)
