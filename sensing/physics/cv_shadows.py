r"""Continuous-variable classical shadows of one bosonic mode: homodyne (pattern functions) and heterodyne.

Pure functions (arrays in, arrays out).

Units (PHYSICS.md 4.2): quadratures with :math:`\hbar = 1`,
:math:`x_\theta = (a e^{-i\theta} + a^\dagger e^{i\theta})/\sqrt2 = x\cos\theta + p\sin\theta`,
vacuum variance 1/2. Strawberry Fields outcomes (:math:`\hbar = 2`) convert as
:math:`x = x_{\rm SF}/\sqrt{\hbar}`; Gaussian-state inputs here take SF covariances and means
(``hbar`` argument, default 2, ``(x, p)`` ordering) and convert internally.
Heterodyne outcomes are complex :math:`\hat\alpha` drawn from :math:`Q(\alpha) = \langle\alpha|\rho|\alpha\rangle/\pi`
(SF ``MeasureHD`` convention).

Homodyne shadow (pattern-function estimator; Leonhardt et al. 1995/96, Gandhari et al. 2022,
Becker et al. 2022): per shot :math:`\theta\sim U[0,\pi)`, outcome :math:`x`, and for :math:`m\ge n`

.. math::

    \hat\rho_{mn} = e^{i(m-n)\theta}F_{mn}(x),\qquad \hat\rho_{nm} = \overline{\hat\rho_{mn}},\\
    F_{mn}(x) = \tfrac12\int dk\,|k|\,e^{ikx}\sqrt{n!/m!}\,(-ik/\sqrt2)^{m-n}e^{-k^2/4}L_n^{(m-n)}(k^2/2).

Detector efficiency :math:`\eta` is modelled as a beam splitter before an ideal detector:
homodyne :math:`x_{\rm meas} = \sqrt\eta\,x_\theta + \sqrt{1-\eta}\,v`, :math:`v\sim N(0,1/2)`;
heterodyne :math:`\hat\alpha_{\rm meas} = \sqrt\eta\,\hat\alpha_Q + N(0,(1-\eta)/2)` per component
(both exact for the lossy state). Corrections available here:

* pattern functions: the loss-inverting kernel (Kiss, Herzog, Leonhardt, PRA 52, 2433 (1995);
  D'Ariano, Leonhardt, Paul, PRA 52, R1801 (1995)) multiplies the integrand by
  :math:`e^{(1-\eta)k^2/(4\eta)}` and evaluates at :math:`x/\sqrt\eta`; it converges only for
  :math:`\eta > 1/2`;
* homodyne quadrature moments and mean photon number: Hermite-polynomial deconvolution (any
  :math:`\eta > 0`);
* heterodyne moments and characteristic function: rescaling by :math:`1/\sqrt\eta` turns the data
  into an :math:`s`-ordered quasi-probability with noise :math:`1/\eta`, inverted with complex
  Hermite polynomials (any :math:`\eta > 0`).

References
----------
.. [GAG22] S. Gandhari, V. V. Albert, T. Gerrits, J. M. Taylor, M. J. Gullans, "Precision bounds on
   continuous-variable state tomography using classical shadows", arXiv:2211.05149.
.. [BDLR22] S. Becker, N. Datta, L. Lami, C. Rouze, "Classical shadow tomography for continuous
   variables quantum systems", arXiv:2211.07578.
.. [LMK96] U. Leonhardt, M. Munroe, T. Kiss, Th. Richter, M. G. Raymer, "Sampling of photon
   statistics and density matrix using homodyne detection", Opt. Commun. 127, 144 (1996).
.. [CG69] K. E. Cahill, R. J. Glauber, "Ordered expansions in boson amplitude operators",
   Phys. Rev. 177, 1857 (1969) (displacement matrix elements, Wigner as displaced parity).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numpy.polynomial import hermite_e
from scipy.interpolate import CubicSpline
from scipy.special import comb, eval_genlaguerre, gammaln, roots_legendre

#: Largest Fock index for which pattern functions are computed.
MAX_FOCK_INDEX = 30
#: :func:`sample_trig_polynomial` first evaluates the orders whose neglected rest is bounded by
#: this fraction of the constant term; only tries within that bound of the threshold use all orders.
TRIG_TAIL = 1e-3


class HomodyneSamples(NamedTuple):
    """Homodyne shots: ``phases`` :math:`\\theta\\in[0,\\pi)` and ``quadratures`` (:math:`\\hbar=1`), shape (shots,)."""

    phases: np.ndarray
    quadratures: np.ndarray


class RealEstimate(NamedTuple):
    """Estimate(s) with standard error(s) of the mean and the number of shots."""

    estimate: np.ndarray
    standard_error: np.ndarray
    shots: int


class ComplexEstimate(NamedTuple):
    """Complex estimate(s) with separate standard errors of the real and imaginary parts."""

    estimate: np.ndarray
    standard_error_real: np.ndarray
    standard_error_imag: np.ndarray
    shots: int


def _check_efficiency(efficiency: float, low: float = 0.0) -> float:
    efficiency = float(efficiency)
    if not low < efficiency <= 1:
        raise ValueError(f"detector efficiency must be in ({low}, 1], got {efficiency}")
    return efficiency


def _mean_se(values: np.ndarray, axis: int = -1):
    n = values.shape[axis]
    return values.mean(axis=axis), values.std(axis=axis, ddof=1) / np.sqrt(n)


def _complex_estimate(values: np.ndarray) -> ComplexEstimate:
    mean = values.mean(axis=-1)
    n = values.shape[-1]
    return ComplexEstimate(
        mean, values.real.std(axis=-1, ddof=1) / np.sqrt(n), values.imag.std(axis=-1, ddof=1) / np.sqrt(n), n
    )


# --------------------------------------------------------------------------------------------------
# Fock-space special functions
# --------------------------------------------------------------------------------------------------


def hermite_functions(max_index: int, x: np.ndarray) -> np.ndarray:
    r"""Oscillator eigenfunctions :math:`\psi_n(x)=\langle x|n\rangle` (:math:`\hbar=1`), shape ``(max_index+1,) + x.shape``.

    Stable three-term recurrence :math:`\psi_{n+1} = \sqrt{2/(n+1)}\,x\psi_n - \sqrt{n/(n+1)}\,\psi_{n-1}`,
    :math:`\psi_0 = \pi^{-1/4}e^{-x^2/2}`.
    """
    x = np.asarray(x, dtype=float)
    out = np.empty((max_index + 1,) + x.shape)
    out[0] = np.pi**-0.25 * np.exp(-0.5 * x**2)
    if max_index >= 1:
        out[1] = np.sqrt(2.0) * x * out[0]
    for n in range(1, max_index):
        out[n + 1] = np.sqrt(2.0 / (n + 1)) * x * out[n] - np.sqrt(n / (n + 1)) * out[n - 1]
    return out


def displacement_matrix(gamma: complex, cutoff: int) -> np.ndarray:
    r"""Matrix elements :math:`\langle m|D(\gamma)|n\rangle` for :math:`m,n<` ``cutoff`` ([CG69]_):

    .. math:: \langle m|D(\gamma)|n\rangle = \sqrt{n!/m!}\,\gamma^{m-n}e^{-|\gamma|^2/2}L_n^{(m-n)}(|\gamma|^2)
              \quad(m\ge n),\qquad \langle m|D(\gamma)|n\rangle = \overline{\langle n|D(-\gamma)|m\rangle}.
    """
    r2 = abs(gamma) ** 2
    out = np.zeros((cutoff, cutoff), dtype=complex)
    for m in range(cutoff):
        for n in range(m + 1):
            d = m - n
            mag = math.exp(0.5 * (gammaln(n + 1) - gammaln(m + 1)) - 0.5 * r2) * eval_genlaguerre(n, d, r2)
            out[m, n] = mag * gamma**d
            out[n, m] = mag * (-np.conj(gamma)) ** d
    return out


@functools.lru_cache(maxsize=64)
def _legendre(count: int):
    nodes, weights = roots_legendre(count)
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def _pattern_nodes(m: int, n: int, efficiency: float, x_extent: float):
    decay = (2 * efficiency - 1) / (4 * efficiency)  # net Gaussian rate of the k-integrand
    k_max = math.sqrt((m + n + 45.0) / decay)
    count = int(120 + 3 * k_max * x_extent / math.sqrt(efficiency) + 12 * (m + n))
    nodes, weights = _legendre(1 << max(7, math.ceil(math.log2(count))))  # few cached sizes
    k = 0.5 * k_max * (nodes + 1)
    return k, 0.5 * k_max * weights


def pattern_function(m: int, n: int, x: np.ndarray, efficiency: float = 1.0) -> np.ndarray:
    r"""Pattern function :math:`F_{mn}(x)` (real), optionally loss-inverting, for :math:`m\ge n`.

    Folding :math:`k\to-k` gives the real form evaluated by Gauss-Legendre quadrature:

    .. math:: F_{mn}(x) = c_d\int_0^\infty dk\,k\,G_{mn}(k)\,e^{(1-\eta)k^2/(4\eta)}
              \begin{cases}\cos(kx/\sqrt\eta) & d\ \text{even}\\ \sin(kx/\sqrt\eta) & d\ \text{odd}\end{cases},

    :math:`d=m-n`, :math:`c_d = (-1)^{\lfloor d/2\rfloor}`,
    :math:`G_{mn}(k) = \sqrt{n!/m!}(k/\sqrt2)^d e^{-k^2/4}L_n^{(d)}(k^2/2) = |\langle m|D(k/\sqrt2)|n\rangle|`-type
    factor (bounded by 1, evaluated in log form, no overflow). ``efficiency = 1``: ideal detector,
    :math:`F_{00}(x) = 2 - 4x\,\mathrm{Daw}(x)`. ``efficiency`` :math:`\eta\in(1/2,1)`: the kernel that
    is unbiased for :math:`\rho_{mn}` of the state *before* the loss (module docstring).

    Parameters
    ----------
    m, n : int
        Fock indices, :math:`0\le n\le m\le 30`.
    x : array_like
        Measured quadratures (:math:`\hbar=1`).
    efficiency : float
        Homodyne efficiency :math:`\eta > 1/2`.

    Returns
    -------
    ndarray
        :math:`F_{mn}(x)`, same shape as ``x``.
    """
    if not 0 <= n <= m <= MAX_FOCK_INDEX:
        raise ValueError(f"pattern_function needs 0 <= n <= m <= {MAX_FOCK_INDEX}, got m={m}, n={n}")
    efficiency = _check_efficiency(efficiency, low=0.5)
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1)
    extent = float(np.max(np.abs(flat))) if flat.size else 0.0
    k, w = _pattern_nodes(m, n, efficiency, extent)
    d = m - n
    log_g = 0.5 * (gammaln(n + 1) - gammaln(m + 1)) + d * np.log(k / np.sqrt(2)) - k**2 / 4
    log_g += (1 - efficiency) * k**2 / (4 * efficiency)
    weights = w * k * np.exp(log_g) * eval_genlaguerre(n, d, k**2 / 2) * (-1.0) ** (d // 2)
    trig = np.sin if d % 2 else np.cos
    scale = 1 / math.sqrt(efficiency)
    out = np.empty_like(flat)
    step = max(1, (1 << 22) // len(k))
    for a in range(0, flat.size, step):
        out[a : a + step] = trig(np.outer(flat[a : a + step] * scale, k)) @ weights
    return out.reshape(x.shape)


def _pattern_on_samples(m: int, n: int, x: np.ndarray, efficiency: float) -> np.ndarray:
    """F_mn at many shots through a cubic spline on a 0.005-spaced grid (error < 1e-8)."""
    if x.size < 4000:
        return pattern_function(m, n, x, efficiency)
    lo, hi = float(x.min()), float(x.max())
    grid = np.linspace(lo, hi, max(int((hi - lo) / 0.005) + 2, 16))
    return CubicSpline(grid, pattern_function(m, n, grid, efficiency))(x)


# --------------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------------


def _components(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rho = np.asarray(rho, dtype=complex)
    if rho.ndim == 1:
        return rho[None] / np.linalg.norm(rho), np.ones(1)
    lam, vec = np.linalg.eigh(rho)
    keep = lam > 1e-13
    return vec[:, keep].T, lam[keep] / lam[keep].sum()


def _gaussian_single_mode(cov, means, hbar):
    cov = np.asarray(cov, dtype=float)
    means = np.zeros(2) if means is None else np.asarray(means, dtype=float)
    if cov.shape != (2, 2) or means.shape != (2,):
        raise ValueError(f"single-mode Gaussian needs cov (2, 2) and means (2,), got {cov.shape}, {means.shape}")
    return cov, means, float(hbar)


def sample_homodyne_gaussian(
    cov: np.ndarray, means: np.ndarray | None, shots: int, rng: np.random.Generator,
    efficiency: float = 1.0, hbar: float = 2.0,
) -> HomodyneSamples:
    r"""Random-phase homodyne of a single-mode Gaussian state (SF ``cov``/``means``, ``(x, p)`` order).

    :math:`x_\theta\sim N\big(\sqrt{\eta}\,\mu_\theta,\ \eta\,\sigma_\theta^2 + (1-\eta)/2\big)` with
    :math:`\mu_\theta = (\mu_x\cos\theta+\mu_p\sin\theta)/\sqrt\hbar`,
    :math:`\sigma^2_\theta = u^TVu/\hbar`, :math:`u = (\cos\theta,\sin\theta)` (exact).
    """
    cov, means, hbar = _gaussian_single_mode(cov, means, hbar)
    efficiency = _check_efficiency(efficiency)
    theta = rng.uniform(0, np.pi, shots)
    c, s = np.cos(theta), np.sin(theta)
    mu = (means[0] * c + means[1] * s) / math.sqrt(hbar)
    var = (cov[0, 0] * c**2 + 2 * cov[0, 1] * c * s + cov[1, 1] * s**2) / hbar
    var = efficiency * var + (1 - efficiency) / 2
    x = math.sqrt(efficiency) * mu + np.sqrt(var) * rng.standard_normal(shots)
    return HomodyneSamples(theta, x)


def sample_homodyne_fock(
    rho: np.ndarray, shots: int, rng: np.random.Generator, efficiency: float = 1.0
) -> HomodyneSamples:
    r"""Random-phase homodyne of a Fock-space state (vector or density matrix, cutoff D), exact.

    Target :math:`p(x|\theta) = \sum_k\lambda_k|\sum_n e^{-in\theta}\psi_n(x)\phi_{k,n}|^2
    = \langle x_\theta|\rho|x_\theta\rangle` (eigendecomposition :math:`\rho=\sum_k\lambda_k|\phi_k\rangle\langle\phi_k|`).
    Rejection sampling with the :math:`\theta`-independent envelope (triangle inequality)
    :math:`p(x|\theta)\le E(x)=\sum_k\lambda_k\big(\sum_n|\phi_{k,n}||\psi_n(x)|\big)^2\le M g(x)`,
    :math:`g` a Gaussian with the envelope's centre and twice its variance (at least 1, so its tails
    are wider than the envelope's :math:`e^{-x^2}`); :math:`M` is the maximum of :math:`E/g` on a
    0.002-spaced grid times 1.05 (the envelope varies on scales :math:`\gtrsim 1/\sqrt{2D}`, so the
    margin covers the grid). Accepted draws follow :math:`p(x|\theta)` exactly. Efficiency: :math:`x\to\sqrt\eta x + \sqrt{1-\eta}v` (exact).
    """
    efficiency = _check_efficiency(efficiency)
    vecs, lam = _components(rho)
    dim = vecs.shape[1]
    max_n = dim - 1
    mags = np.abs(vecs)
    # theta-independent envelope E(x) = sum_k lam_k (sum_n |phi_kn| |psi_n(x)|)^2 >= p(x|theta)
    wide = 12.0 + 2 * math.sqrt(dim)
    grid = np.arange(-wide, wide, 0.002)
    envelope = (lam[:, None] * (mags @ np.abs(hermite_functions(max_n, grid))) ** 2).sum(0)
    norm = envelope.sum()
    centre = float((grid * envelope).sum() / norm)
    sigma = math.sqrt(max(2 * float(((grid - centre) ** 2 * envelope).sum() / norm), 1.0))

    def proposal(x):
        return np.exp(-0.5 * ((x - centre) / sigma) ** 2) / (sigma * math.sqrt(2 * np.pi))

    bound = 1.05 * float(np.max(envelope / proposal(grid)))
    phases = np.empty(0)
    xs = np.empty(0)
    while xs.size < shots:
        batch = min(int(1.3 * (shots - xs.size) * bound) + 64, max(1 << 12, (1 << 23) // dim))  # memory ~ 40 * dim * batch bytes
        theta = rng.uniform(0, np.pi, batch)
        x = centre + sigma * rng.standard_normal(batch)
        psi = hermite_functions(max_n, x)  # (D, batch)
        rotor = np.exp(-1j * theta)
        powers = np.empty((dim, batch), dtype=complex)
        powers[0] = 1.0
        for k in range(1, dim):
            powers[k] = powers[k - 1] * rotor
        amps = vecs @ (powers * psi)  # <x_theta|phi_k> up to conjugation, (K, batch)
        p = (lam[:, None] * np.abs(amps) ** 2).sum(0)
        accept = rng.random(batch) * bound * proposal(x) < p
        phases = np.concatenate([phases, theta[accept]])
        xs = np.concatenate([xs, x[accept]])
    phases, xs = phases[:shots], xs[:shots]
    if efficiency < 1:
        xs = math.sqrt(efficiency) * xs + math.sqrt((1 - efficiency) / 2) * rng.standard_normal(shots)
    return HomodyneSamples(phases, xs)


def sample_heterodyne_gaussian(
    cov: np.ndarray, means: np.ndarray | None, shots: int, rng: np.random.Generator,
    efficiency: float = 1.0, hbar: float = 2.0,
) -> np.ndarray:
    r"""Heterodyne outcomes :math:`\hat\alpha` of a single-mode Gaussian state, complex shape (shots,).

    :math:`(x,p)\sim N(\sqrt\eta\mu,\ \eta V + (1-\eta)\tfrac\hbar2 I + \tfrac\hbar2 I)`,
    :math:`\hat\alpha = (x+ip)/\sqrt{2\hbar}` (the Q function of the lossy state; exact).
    """
    cov, means, hbar = _gaussian_single_mode(cov, means, hbar)
    efficiency = _check_efficiency(efficiency)
    total = efficiency * cov + (1 - efficiency) * hbar / 2 * np.eye(2) + hbar / 2 * np.eye(2)
    xp = rng.multivariate_normal(math.sqrt(efficiency) * means, total, size=shots)
    return (xp[:, 0] + 1j * xp[:, 1]) / math.sqrt(2 * hbar)


def sample_heterodyne_fock(
    rho: np.ndarray, shots: int, rng: np.random.Generator, efficiency: float = 1.0
) -> np.ndarray:
    r"""Heterodyne outcomes from :math:`Q(\alpha)=\langle\alpha|\rho|\alpha\rangle/\pi` of a Fock-space state, exact.

    Grid-free rejection sampling: with :math:`P_D` the projector on :math:`n<D`,
    :math:`Q(\alpha)\le\lambda_{\max}\langle\alpha|P_D|\alpha\rangle/\pi = \lambda_{\max}D\,q(\alpha)`,
    where :math:`q = \frac1D\sum_{n<D}|\langle n|\alpha\rangle|^2/\pi` is the equal mixture of the
    Fock-state Q functions, sampled exactly: :math:`n` uniform, :math:`|\alpha|^2\sim\Gamma(n+1,1)`,
    uniform phase. Accept with probability
    :math:`\langle\alpha|\rho|\alpha\rangle/(\lambda_{\max}\langle\alpha|P_D|\alpha\rangle)`; mean
    acceptance :math:`1/(\lambda_{\max}D)`. Efficiency: :math:`\hat\alpha\to\sqrt\eta\hat\alpha +
    N(0,(1-\eta)/2)` per component (exact for the lossy state).
    """
    efficiency = _check_efficiency(efficiency)
    vecs, lam = _components(rho)
    dim = vecs.shape[1]
    lam_max = float(lam.max())
    out = np.empty(0, dtype=complex)
    while out.size < shots:
        batch = min(int(1.3 * (shots - out.size) * dim * lam_max) + 64, max(1 << 12, (1 << 23) // dim))
        level = rng.integers(0, dim, batch)
        alpha = np.sqrt(rng.gamma(level + 1.0)) * np.exp(2j * np.pi * rng.random(batch))
        overlaps = np.empty((dim, batch), dtype=complex)  # <n|alpha>
        overlaps[0] = np.exp(-0.5 * np.abs(alpha) ** 2)
        for k in range(1, dim):
            overlaps[k] = overlaps[k - 1] * alpha / math.sqrt(k)
        amps = vecs.conj() @ overlaps  # <phi_k|alpha>
        q = (lam[:, None] * np.abs(amps) ** 2).sum(0)
        envelope = lam_max * (np.abs(overlaps) ** 2).sum(0)
        out = np.concatenate([out, alpha[rng.random(batch) * envelope < q]])
    out = out[:shots]
    if efficiency < 1:
        noise = rng.standard_normal((2, shots)) * math.sqrt((1 - efficiency) / 2)
        out = math.sqrt(efficiency) * out + noise[0] + 1j * noise[1]
    return out


def _cos_sin_of_turns(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(\cos 2\pi u, \sin 2\pi u)` from one tangent, :math:`t = \tan\pi u`, :math:`r = 1/(1+t^2)`:
    :math:`\cos = 2r - 1`, :math:`\sin = 2tr` (numpy vectorises ``tan``, not ``cos``/``sin``; the same
    values to a few 1e-16)."""
    t = np.tan(np.pi * u)
    r = 1.0 / (1.0 + t * t)
    return 2.0 * r - 1.0, 2.0 * t * r


def sample_trig_polynomial(
    rng: np.random.Generator, g0: np.ndarray, a: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    r"""One phase per column from the density :math:`f(\varphi)\propto g_0 + 2\sum_{d\ge1}(a_d\cos d\varphi - b_d\sin d\varphi)`
    on :math:`[0, 2\pi)` (:math:`g_d = a_d + ib_d`, i.e. :math:`g_0 + 2\,\mathrm{Re}\sum_d g_de^{id\varphi}`; a
    nonnegative trigonometric polynomial per column), exact.

    Rejection from the uniform phase with the bound :math:`B = g_0 + 2\sum_d|g_d| \ge f`: a try
    with uniform u is accepted iff :math:`uB < f(\varphi)`. Tries with :math:`uB < g_0 - 2\sum_d|g_d|`
    (a lower bound of f) are accepted without evaluating f (a squeeze); the others evaluate f by
    Clenshaw's recurrences in :math:`\cos\varphi` (Chebyshev T for a, U for b), first with the
    lowest orders whose rest is bounded by :data:`TRIG_TAIL` :math:`g_0` (decisive unless the try lies
    within that bound of f, where all orders are evaluated: still exact). Rejected
    columns try again; once few are left, each draws several proposals at once and keeps its
    first accepted one (the same law: the proposals are independent). Two uniforms per try;
    mean tries per column :math:`B/g_0` (a little more for the last few columns).

    Parameters
    ----------
    g0 : ndarray (m,)
        Positive constant terms.
    a, b : ndarray (K, m)
        Real and imaginary parts of the coefficients of :math:`e^{id\varphi}`, d = 1..K
        (``b = None``: all zero).

    Returns
    -------
    cos, sin : ndarray (m,)
        Cosine and sine of the drawn phases (what the statistics need).
    tries : int
        Proposals drawn in all (for the draw count).
    """
    m = len(g0)
    cos, sin = np.empty(m), np.empty(m)
    if m == 0:
        return cos, sin, 0
    rows = np.arange(m)
    g0 = np.asarray(g0, dtype=float)
    mags = np.abs(a + 1j * b) if b is not None else np.abs(a)
    spread = 2 * mags.sum(axis=0)
    bound, lower = g0 + spread, g0 - spread
    lower[~(g0 > 0)] = np.inf  # a vanishing density (underflow far in a tail): the uniform phase
    # only multiples of `step` present (e.g. 2 for parity states): a polynomial in e^{i step phi}
    present = np.flatnonzero(mags.max(axis=1, initial=0.0) > 0) + 1
    step = int(np.gcd.reduce(present)) if present.size else 1
    a, mags = a[step - 1::step], mags[step - 1::step]
    b = None if b is None else b[step - 1::step]
    # the first `order` orders decide a try unless it falls within the rest's bound (then all orders);
    # the order is chosen on a few rows (efficiency only), the rest is bounded on every row
    probe = slice(0, min(m, 512))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (2 * np.cumsum(mags[::-1, probe], axis=0)[::-1] / g0[probe]).max(axis=1) if len(mags) else np.zeros(0)
    small = np.flatnonzero(ratio <= TRIG_TAIL)
    order = int(small[0]) if small.size else len(mags)
    rest = 2 * mags[order:].sum(axis=0)
    tries = 0
    tail = max(32, m // 64)
    while rows.size:
        if rows.size > tail:
            cols = np.arange(rows.size)
        else:  # few rows left: several proposals each at once (the first accepted one is kept)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps = np.nan_to_num(np.ceil(bound / g0), nan=1.0, posinf=64.0)
            cols = np.repeat(np.arange(rows.size), np.clip(reps, 1, 64).astype(np.int64))
        n = cols.size
        tries += n
        c, s = _cos_sin_of_turns(rng.random(n))
        level = rng.random(n) * bound[cols]
        cp, sp = c, s
        for _ in range(step - 1):  # cos and sin of step * phi
            cp, sp = cp * c - sp * s, sp * c + cp * s
        accept = level < lower[cols]  # squeeze: below the lower bound of f
        test = np.flatnonzero(~accept)
        whole = n == rows.size and 2 * test.size > n  # most need f: evaluate all, without gathering
        if whole:
            test = np.arange(n)
        if test.size:
            ct, st, where = cp[test], sp[test], cols[test]
            at = a if whole else a[:, where]
            bt = None if b is None else (b if whole else b[:, where])
            f = g0[where] + 2 * _clenshaw(ct, st, at[:order], None if bt is None else bt[:order])
            eps = rest[where]
            unsure = np.flatnonzero(np.abs(level[test] - f) <= eps)
            if unsure.size:  # all orders for the few tries the truncation cannot decide
                f[unsure] = g0[where[unsure]] + 2 * _clenshaw(ct[unsure], st[unsure], at[:, unsure],
                                                              None if bt is None else bt[:, unsure])
            accept[test] = level[test] < f
        hits = np.flatnonzero(accept)
        first_row, first = np.unique(cols[hits], return_index=True)  # each row's first accepted proposal
        cos[rows[first_row]], sin[rows[first_row]] = c[hits[first]], s[hits[first]]
        keep = np.ones(rows.size, dtype=bool)
        keep[first_row] = False
        rows, g0, bound, lower, rest, a = rows[keep], g0[keep], bound[keep], lower[keep], rest[keep], a[:, keep]
        if b is not None:
            b = b[:, keep]
    return cos, sin, tries


def _clenshaw(c: np.ndarray, s: np.ndarray, a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    r""":math:`\sum_{d=1}^{K}(a_d\cos d\varphi - b_d\sin d\varphi)` from :math:`\cos\varphi`, :math:`\sin\varphi` by
    Clenshaw's recurrence :math:`y_k = a_k + 2\cos\varphi\,y_{k+1} - y_{k+2}` (Chebyshev T:
    :math:`\cos\varphi\,y_1 - y_2`; U for the sines: :math:`\sin\varphi\,z_1`)."""
    n = c.shape[0]
    x2 = 2 * c
    y1, y2, tmp = np.zeros(n), np.zeros(n), np.empty(n)
    for k in range(a.shape[0] - 1, -1, -1):
        np.multiply(x2, y1, out=tmp)
        tmp += a[k]
        tmp -= y2
        y1, y2, tmp = tmp, y1, y2
    value = c * y1 - y2
    if b is not None and b.shape[0]:
        z1, z2 = np.zeros(n), np.zeros(n)
        for k in range(b.shape[0] - 1, -1, -1):
            np.multiply(x2, z1, out=tmp)
            tmp += b[k]
            tmp -= z2
            z1, z2, tmp = tmp, z1, z2
        value -= s * z1
    return value


def heterodyne_polar_coefficients(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Constants of :math:`\langle\alpha|\rho|\alpha\rangle` in polar form, :math:`\alpha=\sqrt t\,e^{i\varphi}`:

    .. math:: \langle\alpha|\rho|\alpha\rangle = g_0(t) + 2\,\mathrm{Re}\sum_{d\ge1}g_d(t)e^{id\varphi},\qquad
              g_d(t) = e^{-t}\sum_m \frac{\rho_{m,m+d}\,t^{m+d/2}}{\sqrt{m!(m+d)!}} = \sum_s C_{sd}\,e^{-t}t^{s/2}.

    Returns ``C`` complex ``(2D-1, D)`` (rows s = 2m + d) and the radial weights
    :math:`\rho_{nn}` (``g_0`` is the mixture :math:`\sum_n\rho_{nn}\Gamma(n+1)` density of t).
    """
    rho = np.asarray(rho, dtype=complex)
    dim = len(rho)
    coef = np.zeros((2 * dim - 1, dim), dtype=complex)
    for d in range(dim):
        m = np.arange(dim - d)
        coef[2 * m + d, d] = rho[m, m + d] * np.exp(-0.5 * (gammaln(m + 1) + gammaln(m + d + 1)))
    weights = np.clip(np.real(np.diag(rho)), 0, None)
    return coef, weights / weights.sum()


def _polar_phases(rng: np.random.Generator, coef: np.ndarray, powers: np.ndarray):
    """Phases from :func:`sample_trig_polynomial` with :math:`g = C^T P`: the even and odd orders use
    only the even and odd powers (half the products each), the imaginary part only when nonzero."""
    a = np.empty((coef.shape[1], powers.shape[1]))
    imag = bool(np.any(coef.imag))
    b = np.empty_like(a) if imag else None
    for parity in (0, 1):
        c = coef[parity::2, parity::2]  # rows s and columns d of this parity
        p = powers[parity::2]
        a[parity::2] = np.ascontiguousarray(c.real.T) @ p
        if imag:
            b[parity::2] = np.ascontiguousarray(c.imag.T) @ p
    return sample_trig_polynomial(rng, a[0], a[1:], None if b is None else b[1:])


def sample_heterodyne_polar(rho: np.ndarray, shots: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    r"""Heterodyne outcomes of a Fock-space density matrix (ideal detector), exact, in polar form.

    The radius is drawn from its exact marginal, :math:`t = |\alpha|^2\sim\sum_n\rho_{nn}\Gamma(n+1, 1)`
    (the phase average of :math:`Q` keeps the diagonal), then the phase from its exact
    conditional law, the trigonometric polynomial :math:`Q(\sqrt t e^{i\varphi})` in
    :math:`\varphi` (:func:`heterodyne_polar_coefficients`, :func:`sample_trig_polynomial`). For an
    inefficient detector pass the lossy state (heterodyne with efficiency :math:`\eta` is the
    Q function of :math:`\mathcal L_\eta(\rho)`, as :func:`sample_heterodyne_fock` draws it).

    Returns ``(t, cos, sin, draws)``: :math:`|\alpha|^2`, :math:`\cos\varphi`, :math:`\sin\varphi`
    and the random numbers drawn (a uniform per level; the gamma variate: one exponential for
    :math:`n = 0`, else a normal and a uniform per Marsaglia-Tsang try, counted as two; two uniforms
    per phase try).
    """
    coef, weights = heterodyne_polar_coefficients(rho)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    level = np.minimum(cdf.searchsorted(rng.random(shots), side="right"), len(weights) - 1)
    t = rng.standard_gamma(level + 1.0)
    powers = np.empty((coef.shape[0], shots))  # e^{-t} t^{s/2}, s = 0..2D-2, by a cumulative product
    powers[0] = np.exp(-t)
    root = np.sqrt(t)
    for k in range(1, len(powers)):
        np.multiply(powers[k - 1], root, out=powers[k])
    cos, sin, tries = _polar_phases(rng, coef, powers)
    gamma_draws = np.where(level == 0, 1, 2).sum()  # numpy: an exponential for shape 1, else Marsaglia-Tsang
    return t, cos, sin, int(shots + gamma_draws + 2 * tries)


def quadrature_marginal_envelope(weights: np.ndarray) -> tuple[float, float]:
    r"""Gaussian proposal :math:`N(0, \sigma^2)` and bound M with :math:`\sum_n w_n\psi_n(x)^2 \le M g_\sigma(x)`.

    The phase-averaged quadrature law of a state with photon-number weights :math:`w_n` (even in
    x). :math:`\sigma^2` is the best of a few multiples of the law's variance
    :math:`\sum_n w_n(n + 1/2)` (at least 3/4, so the Gaussian's tails are wider than the law's
    :math:`x^{2n}e^{-x^2}`); M is the maximum of the ratio on a 0.002-spaced grid times 1.05 (the
    law varies on scales :math:`\gtrsim 1/\sqrt{2D}`, so the margin covers the grid), as in
    :func:`sample_homodyne_fock`.
    """
    weights = np.asarray(weights, dtype=float)
    dim = len(weights)
    wide = 12.0 + 2 * math.sqrt(dim)
    grid = np.arange(0.0, wide, 0.002)
    law = weights @ hermite_functions(dim - 1, grid) ** 2
    variance = float(weights @ (np.arange(dim) + 0.5))
    best = None
    for factor in (0.8, 1.0, 1.25, 1.5, 2.0, 3.0):
        sigma = math.sqrt(max(factor * variance, 0.75))
        g = np.exp(-0.5 * (grid / sigma) ** 2) / (sigma * math.sqrt(2 * np.pi))
        bound = 1.05 * float(np.max(law / g))
        if best is None or bound < best[1]:
            best = (sigma, bound)
    return best


def sample_homodyne_polar(
    rho: np.ndarray, shots: int, rng: np.random.Generator, envelope: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    r"""Random-phase homodyne of a Fock-space density matrix (ideal detector), exact, as
    :math:`(x, \varphi)` with :math:`\varphi` uniform on :math:`[0, 2\pi)`.

    The pair :math:`(\varphi, x_\varphi)` folded to :math:`[0,\pi)` (:math:`x_{\varphi+\pi} = -x_\varphi`)
    is the shot :math:`(\theta, x_\theta)` of :func:`sample_homodyne_fock`; statistics odd in both
    (:math:`x\cos\theta`, :math:`x\sin\theta`, :math:`x^2`) are the same for either. Drawn as the exact
    marginal of x, :math:`\sum_n\rho_{nn}\psi_n(x)^2` (the phase average keeps the diagonal; by
    rejection from :func:`quadrature_marginal_envelope`), then the phase from its exact
    conditional law, the trigonometric polynomial
    :math:`\langle x_\varphi|\rho|x_\varphi\rangle = \sum_{mn}\rho_{mn}\psi_m\psi_n e^{i(n-m)\varphi}`
    (:func:`sample_trig_polynomial`). For an inefficient detector pass the lossy state.

    Returns ``(x, cos, sin, draws)``: quadratures, :math:`\cos\varphi`, :math:`\sin\varphi` and the
    random numbers drawn (two per x proposal, two per phase try).
    """
    rho = np.asarray(rho, dtype=complex)
    dim = len(rho)
    weights = np.clip(np.real(np.diag(rho)), 0, None)
    weights = weights / weights.sum()
    sigma, bound = envelope if envelope is not None else quadrature_marginal_envelope(weights)
    norm = 1.0 / (sigma * math.sqrt(2 * np.pi))
    xs, psis, draws, filled = [], [], 0, 0
    while filled < shots:
        k = int(1.1 * (shots - filled) * bound) + 16
        z = sigma * rng.standard_normal(k)
        u = rng.random(k)
        draws += 2 * k
        psi = hermite_functions(dim - 1, z)
        law = weights @ (psi * psi)
        accept = np.flatnonzero(u * bound * norm * np.exp(-0.5 * (z / sigma) ** 2) < law)[: shots - filled]
        xs.append(z[accept])
        psis.append(np.take(psi, accept, axis=1))  # C-contiguous rows (BLAS below)
        filled += accept.size
    x = np.concatenate(xs)
    psi = np.concatenate(psis, axis=1)
    psi = np.ascontiguousarray(psi)
    imag = bool(np.any(rho.imag))
    a = np.zeros((dim, shots))
    b = np.zeros((dim, shots)) if imag else None
    products = np.empty((dim, shots))
    for d in range(dim):  # g_d(x) = sum_m rho_{m,m+d} psi_m psi_{m+d} (real and imaginary parts apart: real BLAS)
        coef = rho[np.arange(dim - d), np.arange(d, dim)]
        if not np.any(coef):
            continue
        np.multiply(psi[: dim - d], psi[d:], out=products[: dim - d])
        np.matmul(np.ascontiguousarray(coef.real), products[: dim - d], out=a[d])
        if imag:
            np.matmul(np.ascontiguousarray(coef.imag), products[: dim - d], out=b[d])
    cos, sin, tries = sample_trig_polynomial(rng, a[0], a[1:], b[1:] if imag else None)
    return x, cos, sin, draws + 2 * tries


# --------------------------------------------------------------------------------------------------
# Homodyne estimators
# --------------------------------------------------------------------------------------------------


def homodyne_single_shots(samples: HomodyneSamples, m: int, n: int, efficiency: float = 1.0) -> np.ndarray:
    r"""Per-shot :math:`\hat\rho_{mn}` (complex, shape (shots,)); any order of m, n."""
    if m >= n:
        return np.exp(1j * (m - n) * samples.phases) * _pattern_on_samples(m, n, samples.quadratures, efficiency)
    return np.conj(homodyne_single_shots(samples, n, m, efficiency))


def estimate_density_matrix(samples: HomodyneSamples, cutoff: int, efficiency: float = 1.0) -> ComplexEstimate:
    r"""Homodyne-shadow estimate of :math:`\rho_{mn}` for :math:`m,n<` ``cutoff`` (matrices).

    Each element is unbiased for any state (no truncation bias; the cutoff only selects which
    elements are estimated). ``efficiency`` selects the loss-inverting pattern functions
    (:math:`\eta>1/2`). Returns the matrix and element-wise standard errors.
    """
    est = np.zeros((cutoff, cutoff), dtype=complex)
    se_r = np.zeros((cutoff, cutoff))
    se_i = np.zeros((cutoff, cutoff))
    for m in range(cutoff):
        for n in range(m + 1):
            e = _complex_estimate(homodyne_single_shots(samples, m, n, efficiency))
            est[m, n], se_r[m, n], se_i[m, n] = e.estimate, e.standard_error_real, e.standard_error_imag
            est[n, m], se_r[n, m], se_i[n, m] = np.conj(e.estimate), e.standard_error_real, e.standard_error_imag
    return ComplexEstimate(est, se_r, se_i, len(samples.phases))


def estimate_photon_distribution(samples: HomodyneSamples, cutoff: int, efficiency: float = 1.0) -> RealEstimate:
    r"""Photon-number probabilities :math:`p_n=\rho_{nn}` for :math:`n<` ``cutoff``: :math:`\hat p_n = F_{nn}(x)`."""
    shots = np.stack([_pattern_on_samples(k, k, samples.quadratures, efficiency) for k in range(cutoff)])
    mean, se = _mean_se(shots)
    return RealEstimate(mean, se, shots.shape[1])


def _deconvolved_power(x: np.ndarray, order: int, efficiency: float) -> np.ndarray:
    """Unbiased estimate of x_theta**order from x = sqrt(eta) x_theta + sqrt(1-eta) v (Hermite)."""
    y = x / math.sqrt(efficiency)
    s2 = (1 - efficiency) / (2 * efficiency)
    if s2 == 0:
        return y**order
    s = math.sqrt(s2)
    coef = np.zeros(order + 1)
    coef[order] = 1.0
    return s**order * hermite_e.hermeval(y / s, coef)


def estimate_quadrature_moment(
    samples: HomodyneSamples, order: int, phase: float = 0.0, efficiency: float = 1.0
) -> RealEstimate:
    r"""Moment :math:`\langle x_\varphi^q\rangle` from random-phase homodyne.

    :math:`x_\theta^q` contains only harmonics :math:`e^{ij\theta}`, :math:`|j|\le q`,
    :math:`j\equiv q \pmod 2`, which are orthogonal on :math:`[0,\pi)`, hence the single-shot
    estimator :math:`\widehat{x^q}\,D_q(\theta-\varphi)`,
    :math:`D_q(u)=\sum_{j=-q,\,\text{step }2}^{q}e^{iju}` (e.g. :math:`2\cos u` for q = 1,
    :math:`1+2\cos 2u` for q = 2). Loss: :math:`\widehat{x^q} = s^q\mathrm{He}_q(x/(\sqrt\eta s))`,
    :math:`s^2=(1-\eta)/(2\eta)`, unbiased for :math:`x_\theta^q` (Appell property of
    :math:`\mathrm{He}_q`).
    """
    efficiency = _check_efficiency(efficiency)
    u = samples.phases - phase
    kernel = sum(np.cos(j * u) for j in range(-order, order + 1, 2))
    shots = _deconvolved_power(samples.quadratures, order, efficiency) * kernel
    mean, se = _mean_se(shots)
    return RealEstimate(np.asarray(mean), np.asarray(se), len(shots))


def estimate_mean_photon_number(samples: HomodyneSamples, efficiency: float = 1.0) -> RealEstimate:
    r""":math:`\langle a^\dagger a\rangle = \overline{\langle x_\theta^2\rangle}_\theta - 1/2`: single shot
    :math:`(x^2-1/2)/\eta` (unbiased for the state before the loss)."""
    efficiency = _check_efficiency(efficiency)
    shots = (samples.quadratures**2 - 0.5) / efficiency
    mean, se = _mean_se(shots)
    return RealEstimate(np.asarray(mean), np.asarray(se), len(shots))


def _fock_functional_shots(samples: HomodyneSamples, operators: np.ndarray, efficiency: float) -> np.ndarray:
    """Per-shot tr(A_j rho_hat) = sum_mn A_j,nm rho_hat_mn for Fock matrices A_j, shape (J, shots).

    ``operators`` has shape (J, D, D); each rho_hat_mn (m >= n) is computed once for all j.
    """
    operators = np.asarray(operators, dtype=complex)
    cutoff = operators.shape[1]
    total = np.zeros((operators.shape[0], len(samples.phases)), dtype=complex)
    for m in range(cutoff):
        for n in range(m + 1):
            lower, upper = operators[:, n, m], operators[:, m, n]
            if not (np.any(lower) or np.any(upper)):
                continue
            shot = homodyne_single_shots(samples, m, n, efficiency)
            total += lower[:, None] * shot[None]
            if m != n:
                total += upper[:, None] * np.conj(shot)[None]
    return total


def estimate_fidelity(samples: HomodyneSamples, target: np.ndarray, efficiency: float = 1.0) -> RealEstimate:
    r"""Fidelity :math:`\operatorname{tr}(\sigma\rho)` (:math:`=\langle\psi|\rho|\psi\rangle` for a pure target)
    with a Fock-space target (vector or density matrix): single shot
    :math:`\sum_{mn}\sigma_{nm}\hat\rho_{mn}`; exact (no truncation bias) because only elements
    inside the target's support enter."""
    target = np.asarray(target, dtype=complex)
    sigma = np.outer(target, target.conj()) if target.ndim == 1 else target
    shots = np.real(_fock_functional_shots(samples, sigma[None], efficiency))[0]
    mean, se = _mean_se(shots)
    return RealEstimate(np.asarray(mean), np.asarray(se), len(shots))


def wigner_operator(alpha: complex, cutoff: int) -> np.ndarray:
    r"""Truncated :math:`\tfrac2\pi D(\alpha)(-1)^{N}D(\alpha)^\dagger = \tfrac2\pi D(2\alpha)(-1)^N` in Fock space,
    so that :math:`W(\alpha)=\operatorname{tr}[\rho\,\cdot]` with :math:`\int W\,d^2\alpha = 1` ([CG69]_)."""
    return (2 / np.pi) * displacement_matrix(2 * alpha, cutoff) * (-1.0) ** np.arange(cutoff)[None, :]


def estimate_wigner(
    samples: HomodyneSamples, alphas: np.ndarray, cutoff: int, efficiency: float = 1.0
) -> RealEstimate:
    r"""Wigner function :math:`W(\alpha)` (normalised in :math:`d^2\alpha`) at points ``alphas``.

    :math:`\hat W(\alpha) = \sum_{m,n<D}\hat\rho_{mn}\,\langle n|\tfrac2\pi D(2\alpha)(-1)^N|m\rangle`.
    The displaced-parity kernel has no bounded pattern function, so the Fock space is truncated at
    ``cutoff``: unbiased for states supported below the cutoff, otherwise biased by the neglected
    elements (choose the cutoff from the photon-number estimate).
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=complex))
    operators = np.stack([wigner_operator(a, cutoff) for a in alphas])
    shots = np.real(_fock_functional_shots(samples, operators, efficiency))
    mean, se = _mean_se(shots)
    return RealEstimate(mean, se, shots.shape[1])


# --------------------------------------------------------------------------------------------------
# Heterodyne estimators
# --------------------------------------------------------------------------------------------------


def _complex_hermite(z: np.ndarray, q: int, p: int, variance: float) -> np.ndarray:
    r""":math:`H_{q,p}(z) = \sum_j (-1)^j\binom qj\binom pj j!\,\sigma^{2j}z^{q-j}\bar z^{p-j}`; for
    :math:`z = w + \nu`, :math:`E|\nu|^2=\sigma^2` complex Gaussian: :math:`E_\nu H_{q,p}(z) = w^q\bar w^p`."""
    total = np.zeros_like(z, dtype=complex)
    for j in range(min(q, p) + 1):
        total += (-1) ** j * comb(q, j) * comb(p, j) * math.factorial(j) * variance**j * z ** (q - j) * np.conj(z) ** (p - j)
    return total


def heterodyne_moment(
    samples: np.ndarray, q: int, p: int, ordering: str = "antinormal", efficiency: float = 1.0
) -> ComplexEstimate:
    r"""Ordered moments from heterodyne: antinormal :math:`\langle a^q a^{\dagger p}\rangle` or normal
    :math:`\langle a^{\dagger p}a^q\rangle`.

    Ideal detector: :math:`E[\hat\alpha^q\bar{\hat\alpha}^p] = \langle a^q a^{\dagger p}\rangle`.
    With efficiency :math:`\eta`: :math:`\bar\alpha=\hat\alpha/\sqrt\eta = \alpha_P + \nu`,
    :math:`E|\nu|^2 = 1/\eta` (P-function plus Gaussian noise), so the normal moment is
    :math:`E\,H_{q,p}(\bar\alpha;1/\eta)` and the antinormal one
    :math:`\sum_j\binom qj\binom pj j!\,\langle a^{\dagger p-j}a^{q-j}\rangle`.
    """
    efficiency = _check_efficiency(efficiency)
    z = np.asarray(samples, dtype=complex) / math.sqrt(efficiency)
    if ordering == "normal":
        shots = _complex_hermite(z, q, p, 1 / efficiency)
    elif ordering == "antinormal":
        shots = sum(
            comb(q, j) * comb(p, j) * math.factorial(j) * _complex_hermite(z, q - j, p - j, 1 / efficiency)
            for j in range(min(q, p) + 1)
        )
    else:
        raise ValueError(f"ordering must be 'normal' or 'antinormal', got {ordering!r}")
    return _complex_estimate(np.asarray(shots))


def heterodyne_mean_photon_number(samples: np.ndarray, efficiency: float = 1.0) -> RealEstimate:
    r""":math:`\langle a^\dagger a\rangle = (E|\hat\alpha|^2 - 1)/\eta`."""
    efficiency = _check_efficiency(efficiency)
    shots = (np.abs(samples) ** 2 - 1) / efficiency
    mean, se = _mean_se(shots)
    return RealEstimate(np.asarray(mean), np.asarray(se), len(shots))


def heterodyne_characteristic_function(
    samples: np.ndarray, betas: np.ndarray, efficiency: float = 1.0
) -> ComplexEstimate:
    r"""Symmetric characteristic function :math:`\chi(\beta)=\operatorname{tr}[\rho D(\beta)]` from heterodyne.

    Ideal: :math:`E[e^{\beta\bar{\hat\alpha}-\bar\beta\hat\alpha}] = \chi(\beta)e^{-|\beta|^2/2}`. With
    efficiency :math:`\eta` and :math:`\bar\alpha=\hat\alpha/\sqrt\eta`:
    :math:`\hat\chi(\beta) = e^{|\beta|^2(1/\eta-1/2)}\,\overline{e^{\beta\bar{\bar\alpha}-\bar\beta\bar\alpha}}`.
    """
    efficiency = _check_efficiency(efficiency)
    z = np.asarray(samples, dtype=complex) / math.sqrt(efficiency)
    betas = np.atleast_1d(np.asarray(betas, dtype=complex))
    gain = np.exp(np.abs(betas) ** 2 * (1 / efficiency - 0.5))
    shots = gain[:, None] * np.exp(betas[:, None] * np.conj(z)[None] - np.conj(betas)[:, None] * z[None])
    return _complex_estimate(shots)
