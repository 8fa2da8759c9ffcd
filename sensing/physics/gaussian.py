r"""Gaussian-state information geometry: quantum and classical Fisher information.

Pure numpy functions (arrays in, arrays out) for Gaussian states in the Strawberry
Fields conventions used across the framework:

* :math:`\hbar = 2` by default, :math:`[\hat x, \hat p] = i\hbar`,
  :math:`\hat a = (\hat x + i\hat p)/\sqrt{2\hbar}`;
* **xxpp** ordering :math:`\hat r = (\hat x_1,\dots,\hat x_n,\hat p_1,\dots,\hat p_n)`;
* covariance :math:`V_{ij} = \tfrac12\langle\{\Delta\hat r_i,\Delta\hat r_j\}\rangle`, so the
  vacuum has :math:`V = (\hbar/2)\,I` (the identity for :math:`\hbar = 2`);
* symplectic form :math:`\Omega = \begin{pmatrix}0 & I\\ -I & 0\end{pmatrix}`.

Functions that transform a state return :class:`GaussianMoments`, a named
``(means, cov)`` pair (it unpacks like a tuple).

References
----------
.. [Monras2013] A. Monras, "Phase space formalism for quantum estimation of Gaussian
   states", arXiv:1303.3682 (2013).
.. [Safranek2019] D. Šafránek, "Estimation of Gaussian quantum states", J. Phys. A 52,
   035304 (2019), arXiv:1801.00299.
.. [Safranek2017] D. Šafránek, "Discontinuities of the quantum Fisher information and the
   Bures metric", Phys. Rev. A 95, 052320 (2017), arXiv:1612.04581.
.. [Nichols2018] R. Nichols, P. Liuzzo-Scorpo, P. A. Knott, G. Adesso, "Multiparameter
   Gaussian quantum metrology", Phys. Rev. A 98, 012114 (2018), arXiv:1711.09132.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import scipy.linalg

__all__ = [
    "GaussianMoments",
    "symplectic_form",
    "quantum_fisher_information",
    "quantum_fisher_information_pure",
    "thermal_quantum_fisher_information",
    "gaussian_outcome_fisher_information",
    "homodyne_outcome",
    "heterodyne_outcome",
    "rotate_quadratures",
    "loss",
    "thermal_covariance",
    "photon_correlation",
]


class GaussianMoments(NamedTuple):
    """First and second moments of a Gaussian state or of a Gaussian measurement outcome.

    Attributes
    ----------
    means : ndarray, shape (m,)
        Mean vector (xxpp order for states; the measured quadratures for outcomes).
    cov : ndarray, shape (m, m)
        Covariance matrix in the same order as ``means``.
    """

    means: np.ndarray
    cov: np.ndarray


# --------------------------------------------------------------------------------------
# Boundary validation helpers (public functions check their input once, here)
# --------------------------------------------------------------------------------------


def _as_phase_space_covariance(cov: np.ndarray, name: str = "cov") -> np.ndarray:
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] % 2:
        raise ValueError(f"{name} must be a square (2n, 2n) array in xxpp order; got shape {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(cov).max())):
        raise ValueError(f"{name} must be symmetric")
    return 0.5 * (cov + cov.T)


def _as_means(means: np.ndarray, size: int, name: str = "means") -> np.ndarray:
    means = np.asarray(means, dtype=float)
    if means.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},); got {means.shape}")
    return means


def _as_parameter_stack(derivatives, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Return derivatives as a (p, *shape) float array; a single derivative gets p = 1."""
    derivatives = np.asarray(derivatives, dtype=float)
    if derivatives.shape == shape:
        derivatives = derivatives[None]
    if derivatives.ndim != len(shape) + 1 or derivatives.shape[1:] != shape:
        raise ValueError(
            f"{name} must have shape (parameters, {', '.join(map(str, shape))}); got {derivatives.shape}"
        )
    return derivatives


def _per_mode(values, modes: int, name: str, low: float, high: float) -> np.ndarray:
    values = np.broadcast_to(np.asarray(values, dtype=float), (modes,)).copy()
    if np.any(values < low) or np.any(values > high) or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must lie in [{low}, {high}]; got {values}")
    return values


# --------------------------------------------------------------------------------------
# Phase-space basics
# --------------------------------------------------------------------------------------


def symplectic_form(modes: int) -> np.ndarray:
    r"""Symplectic form of ``modes`` bosonic modes in xxpp ordering.

    .. math:: \Omega = \begin{pmatrix} 0 & I_n \\ -I_n & 0 \end{pmatrix},
              \qquad [\hat r_i, \hat r_j] = i\hbar\,\Omega_{ij}.

    Parameters
    ----------
    modes : int
        Number of modes n.

    Returns
    -------
    ndarray, shape (2n, 2n)
    """
    identity = np.eye(modes)
    zeros = np.zeros((modes, modes))
    return np.block([[zeros, identity], [-identity, zeros]])


def _williamson_frame(cov_vacuum_units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Symplectic eigenvalues and the frame that takes a derivative to the Williamson basis.

    For :math:`\tilde V = V/(\hbar/2) = S D S^T` with :math:`D = \nu\oplus\nu` returns
    ``(nu, frame, inverse_sqrt_cov)`` with ``frame`` :math:`= S^{-T}`, so that
    :math:`S^{-1}\,\partial\tilde V\,S^{-T} = \text{frame}^T\,\partial\tilde V\,\text{frame}`.

    Construction: :math:`M = \tilde V^{-1/2}\Omega\tilde V^{-1/2}` is real antisymmetric with
    eigenvalues :math:`\pm i/\nu_k`. The Hermitian matrix :math:`iM` is diagonalised with
    ``eigh`` (stable also for the highly degenerate spectra of many vacuum modes); an
    eigenvector :math:`u = \alpha + i\beta` of eigenvalue :math:`t = 1/\nu > 0` gives the
    orthonormal real pair :math:`\sqrt2\beta` (x column) and :math:`\sqrt2\alpha` (p column)
    of an orthogonal :math:`K` with :math:`K^T M K = \Omega D^{-1}`. Then
    :math:`S = \tilde V^{1/2} K D^{-1/2}` is symplectic, :math:`S D S^T = \tilde V`, and
    :math:`S^{-T} = \tilde V^{-1/2} K D^{1/2}`.
    """
    modes = cov_vacuum_units.shape[0] // 2
    eigenvalues, eigenvectors = np.linalg.eigh(cov_vacuum_units)
    if eigenvalues[0] <= 0:
        raise ValueError("cov is not positive definite; it is not the covariance of a quantum state")
    inverse_sqrt_cov = (eigenvectors / np.sqrt(eigenvalues)) @ eigenvectors.T
    antisymmetric = inverse_sqrt_cov @ symplectic_form(modes) @ inverse_sqrt_cov
    rates, vectors = np.linalg.eigh(1j * antisymmetric)
    rates, vectors = rates[modes:], vectors[:, modes:]  # the positive half, t = 1/nu
    orthogonal = np.sqrt(2.0) * np.concatenate([vectors.imag, vectors.real], axis=1)
    symplectic_eigenvalues = 1.0 / rates
    frame = inverse_sqrt_cov @ orthogonal * np.sqrt(np.concatenate([symplectic_eigenvalues] * 2))
    return symplectic_eigenvalues, frame, inverse_sqrt_cov


# --------------------------------------------------------------------------------------
# Quantum Fisher information
# --------------------------------------------------------------------------------------


def quantum_fisher_information(
    cov: np.ndarray,
    cov_derivatives: np.ndarray,
    means_derivatives: np.ndarray | None = None,
    hbar: float = 2.0,
    pure_tolerance: float = 1e-8,
    derivative_tolerance: float = 1e-4,
) -> np.ndarray:
    r"""Quantum Fisher information matrix of a Gaussian state (mixed or pure).

    Monras / Šafránek formula in SF units ([Monras2013]_, [Safranek2019]_, PHYSICS.md §7.2):

    .. math::
        F_{ij} = \tfrac12\,\mathrm{vec}(\partial_i V)^T
                 \big[V\otimes V - \tfrac{\hbar^2}{4}\,\Omega\otimes\Omega\big]^{-1}
                 \mathrm{vec}(\partial_j V)
                 + \partial_i\mu^T V^{-1}\partial_j\mu .

    **Evaluation in the Williamson basis (O(n^3), no 4n^2 x 4n^2 matrix).** Write
    :math:`V/(\hbar/2) = S(\nu\oplus\nu)S^T` and :math:`B_i = S^{-1}\partial_i V S^{-T}/(\hbar/2)`.
    Since :math:`S\Omega S^T = \Omega`, the bracket becomes
    :math:`(S\otimes S)(D\otimes D - \Omega\otimes\Omega)(S\otimes S)^T`, which is block
    diagonal over pairs of symplectic eigenmodes (k, l). Split each 2x2 block
    :math:`B^{kl} = [[a, b],[c, d]]` (rows :math:`x_k, p_k`, columns :math:`x_l, p_l`) into a
    passive part (commutes with the 2x2 symplectic form),
    :math:`s = ((a+d)/2,\,(b-c)/2)`, and an active part (anticommutes),
    :math:`t = ((a-d)/2,\,(b+c)/2)`. Then

    .. math::
        F_{ij} = \sum_{k,l}\Big[\frac{s^{kl}_i\cdot s^{kl}_j}{\nu_k\nu_l - 1}
                 + \frac{t^{kl}_i\cdot t^{kl}_j}{\nu_k\nu_l + 1}\Big]
                 + \partial_i\mu^T V^{-1}\partial_j\mu .

    (Single thermal mode: :math:`(\partial\nu)^2/(\nu^2-1) = 1/(\bar N(\bar N+1))`.)

    **Pure modes.** The bracket is singular only through the passive terms of pairs
    of pure modes (:math:`\nu_k = \nu_l = 1`). Those terms are treated exactly, without
    numerical regularisation:

    * Regular case: the passive part of the derivative on every pure-pure block
      vanishes. This always holds for families that stay pure (:math:`B = [\Omega, H]`
      anticommutes with :math:`\Omega`), and whenever the parameter point is an interior
      point of the physical region: the passive part on the pure modes is (twice) the
      first-order change of their photon-number correlation matrix, which is zero there
      and must stay positive semidefinite on both sides. The terms are then dropped.
      This is exactly Šafránek's regularised value :math:`\lim_{\eta\to0}F[(1+\eta)V]`:
      under :math:`V\to(1+\eta)V` the frame :math:`S` is unchanged, :math:`B` only scales by
      :math:`1+\eta` and :math:`\nu\to(1+\eta)\nu`, so every kept term is continuous in
      :math:`\eta` and the dropped ones are :math:`0/(2\eta + \eta^2)`. The limit is taken
      analytically; no Richardson extrapolation is needed. The active pure-pure terms
      have denominator 2 and reproduce the pure-state formula
      (:func:`quantum_fisher_information_pure`).
    * Boundary case: a non-vanishing passive derivative on a pure-pure block (for example
      the thermal photon number at :math:`\bar N = 0`, or the transmissivity of a lossy
      squeezed state at :math:`\eta = 1`). The regularised terms grow like
      :math:`|s|^2/(2\eta)`, and the QFI approached from inside the parameter range
      diverges (like :math:`1/\bar N`). The affected entries are returned as
      :math:`\pm\infty` and a ``RuntimeWarning`` is emitted.

    **Limitation (Šafránek's discontinuity, [Safranek2017]_).** At a point where a mode
    is pure but becomes mixed at second order in the parameter (for example
    :math:`V = (1+\theta^2) I` at :math:`\theta = 0`), the value returned is the SLD QFI at
    that point (the regularised limit above, 0 in the example), which can differ from
    :math:`\lim_{\theta'\to\theta} F(\theta')` (the Bures metric, 2 in the example). That
    difference depends on second derivatives, which this function does not receive.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
        Covariance matrix V (xxpp; vacuum :math:`(\hbar/2) I`), in units of
        quadrature squared.
    cov_derivatives : array_like, shape (p, 2n, 2n)
        :math:`\partial_i V` for each of the p parameters (a single (2n, 2n) array is
        taken as p = 1). Symmetrised before use.
    means_derivatives : array_like, shape (p, 2n), optional
        :math:`\partial_i\mu`; ``None`` means the means do not depend on the parameters.
    hbar : float, optional
        The :math:`\hbar` of the quadratures (2 in Strawberry Fields).
    pure_tolerance : float, optional
        A symplectic eigenvalue with :math:`\nu/(\hbar/2) - 1 \le` ``pure_tolerance`` is a pure
        mode. **Precision limit:** a covariance whose vacuum is the identity resolves the excess
        :math:`\nu - 1 = 2\bar N` of a nearly pure mode only to ~1e-16 absolute, so a mode with
        fewer than ~1e-8 photons is indistinguishable here from a pure one and its passive terms
        :math:`(\partial\bar N)^2/(\bar N(\bar N+1))`, which may hold most of the information
        (the odd mode of two close faint sources), are lost. For thermal light use
        :func:`thermal_quantum_fisher_information` on the factor of the photon correlation,
        which is exact there.
    derivative_tolerance : float, optional
        The passive derivative on pure-pure blocks counts as zero (regular case) when
        its norm is at most ``derivative_tolerance`` times :math:`\max(\|B_i\|_F, 1)`,
        i.e. small both relative to the whole derivative and in absolute terms (vacuum
        units per unit of the parameter). This absorbs the errors of finite-difference
        derivatives, including derivatives that are pure round-off (a parameter the
        state does not depend on). Lower it if a parameter's natural scale makes genuine
        boundary derivatives smaller than that.

    Returns
    -------
    ndarray, shape (p, p)
        Quantum Fisher information matrix, in inverse units of the parameters squared.

    Raises
    ------
    ValueError
        If the shapes do not match, ``cov`` is not positive definite, or it violates the
        uncertainty principle (a symplectic eigenvalue below :math:`\hbar/2`).

    Warns
    -----
    RuntimeWarning
        When the derivative changes the purity of a pure pair of modes to first order
        (boundary case above); those entries are infinite.

    See Also
    --------
    quantum_fisher_information_pure : the pure-state formula, an independent cross-check.
    """
    vacuum_variance = hbar / 2.0
    cov = _as_phase_space_covariance(cov)
    dimension = cov.shape[0]
    cov_derivatives = _as_parameter_stack(cov_derivatives, cov.shape, "cov_derivatives")
    cov_derivatives = 0.5 * (cov_derivatives + np.swapaxes(cov_derivatives, 1, 2))
    parameters = cov_derivatives.shape[0]
    if means_derivatives is None:
        means_derivatives = np.zeros((parameters, dimension))
    means_derivatives = _as_parameter_stack(means_derivatives, (dimension,), "means_derivatives")
    if means_derivatives.shape[0] != parameters:
        raise ValueError(
            f"cov_derivatives has {parameters} parameters but means_derivatives has "
            f"{means_derivatives.shape[0]}"
        )

    nu, frame, inverse_sqrt_cov = _williamson_frame(cov / vacuum_variance)
    if np.any(nu < 1.0 - pure_tolerance):
        raise ValueError(
            f"cov violates the uncertainty principle: smallest symplectic eigenvalue "
            f"{nu.min() * vacuum_variance:.6g} < hbar/2 = {vacuum_variance:g}"
        )
    nu = np.maximum(nu, 1.0)
    modes = nu.size

    # B_i = S^{-1} dV_i S^{-T} in vacuum units, split into 2x2 blocks per mode pair.
    blocks = np.swapaxes(frame, 0, 1) @ (cov_derivatives / vacuum_variance) @ frame
    xx, xp = blocks[:, :modes, :modes], blocks[:, :modes, modes:]
    px, pp = blocks[:, modes:, :modes], blocks[:, modes:, modes:]
    passive = np.stack([(xx + pp) / 2.0, (xp - px) / 2.0])  # (2, p, n, n)
    active = np.stack([(xx - pp) / 2.0, (xp + px) / 2.0])

    # Denominators nu_k nu_l -/+ 1; nu_k nu_l - 1 formed as excess products (no cancellation).
    excess = nu - 1.0
    pure = excess <= pure_tolerance
    passive_denominator = excess[:, None] + excess[None, :] + np.outer(excess, excess)
    pure_pair = pure[:, None] & pure[None, :]
    passive_weight = np.where(pure_pair, 0.0, 1.0 / np.where(pure_pair, 1.0, passive_denominator))
    active_weight = 1.0 / (np.outer(nu, nu) + 1.0)

    fisher = np.einsum("cikl,cjkl,kl->ij", passive, passive, passive_weight)
    fisher += np.einsum("cikl,cjkl,kl->ij", active, active, active_weight)

    whitened_means = means_derivatives @ inverse_sqrt_cov  # rows: V~^{-1/2} dmu_i
    fisher += whitened_means @ whitened_means.T / vacuum_variance

    if np.any(pure_pair):
        passive_on_pure = passive * pure_pair
        overlap = np.einsum("cikl,cjkl->ij", passive_on_pure, passive_on_pure)
        scale = derivative_tolerance * np.maximum(np.sqrt(np.einsum("ikl,ikl->i", blocks, blocks)), 1.0)
        boundary = np.abs(overlap) > np.outer(scale, scale)
        if np.any(boundary):
            warnings.warn(
                "the parameter derivative changes the purity of pure modes to first order "
                "(boundary of the physical parameter range): the quantum Fisher information "
                "diverges there; affected entries are set to +-inf",
                RuntimeWarning,
                stacklevel=2,
            )
            fisher = np.where(boundary, np.sign(overlap) * np.inf, fisher)
    return 0.5 * (fisher + fisher.T)


def quantum_fisher_information_pure(
    cov: np.ndarray,
    cov_derivatives: np.ndarray,
    means_derivatives: np.ndarray | None = None,
    hbar: float = 2.0,
) -> np.ndarray:
    r"""Quantum Fisher information matrix of a pure Gaussian state (independent cross-check).

    .. math::
        F_{ij} = \tfrac14\,\mathrm{tr}\big[V^{-1}\partial_i V\,V^{-1}\partial_j V\big]
                 + \partial_i\mu^T V^{-1}\partial_j\mu .

    Scaling with :math:`\hbar`: the covariance term is invariant under :math:`V\to cV`, so it
    carries no :math:`\hbar`; the displacement term carries :math:`V^{-1}\propto 2/\hbar`
    (for a coherent state, :math:`F = (2/\hbar)\,|\partial\mu|^2`). In :math:`\hbar = 1` units
    with :math:`\sigma = 2V` this is Šafránek's
    :math:`\tfrac14\mathrm{tr}[(\sigma^{-1}\partial\sigma)^2] + 2\,\partial d^T\sigma^{-1}\partial d`.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
        Covariance of a pure state (all symplectic eigenvalues :math:`\hbar/2`).
    cov_derivatives : array_like, shape (p, 2n, 2n)
        :math:`\partial_i V`; the family must stay pure.
    means_derivatives : array_like, shape (p, 2n), optional
        :math:`\partial_i\mu`.
    hbar : float, optional
        Used to check purity: :math:`(V\Omega)^2 = -(\hbar/2)^2 I`.

    Returns
    -------
    ndarray, shape (p, p)

    Raises
    ------
    ValueError
        If the shapes do not match or the state is not pure.
    """
    cov = _as_phase_space_covariance(cov)
    dimension = cov.shape[0]
    cov_derivatives = _as_parameter_stack(cov_derivatives, cov.shape, "cov_derivatives")
    parameters = cov_derivatives.shape[0]
    if means_derivatives is None:
        means_derivatives = np.zeros((parameters, dimension))
    means_derivatives = _as_parameter_stack(means_derivatives, (dimension,), "means_derivatives")
    omega = symplectic_form(dimension // 2)
    purity_defect = (cov @ omega) @ (cov @ omega) + (hbar / 2.0) ** 2 * np.eye(dimension)
    if np.abs(purity_defect).max() > 1e-8 * max(1.0, np.abs(cov).max()) ** 2:
        raise ValueError("cov is not the covariance of a pure state; use quantum_fisher_information")
    factor = scipy.linalg.cho_factor(cov)
    solved = np.stack([scipy.linalg.cho_solve(factor, d) for d in cov_derivatives])  # V^-1 dV_i
    fisher = 0.25 * np.einsum("ikl,jlk->ij", solved, solved)
    fisher += means_derivatives @ scipy.linalg.cho_solve(factor, means_derivatives.T)
    return 0.5 * (fisher + fisher.T)


# --------------------------------------------------------------------------------------
# Quantum Fisher information of thermal (classical, zero-mean) light from its factor
# --------------------------------------------------------------------------------------


def thermal_quantum_fisher_information(factor: np.ndarray, factor_derivatives: np.ndarray) -> np.ndarray:
    r"""Quantum Fisher information matrix of zero-mean thermal light given by a factor of its correlation.

    The state is the phase-insensitive Gaussian state with normally ordered correlation
    :math:`M = \langle a_i^\dagger a_j\rangle^T = LL^\dagger` (K modes, L is K x r, r the
    number of incoherent sources). With the thin singular value decomposition
    :math:`L = W\,\mathrm{diag}(s)\,V^\dagger` the thermal eigenmodes are the columns
    :math:`w_k` of W with mean photon numbers :math:`n_k = s_k^2`, and the SLD quantum Fisher
    information of a phase-insensitive family (the passive Williamson terms of
    :func:`quantum_fisher_information`, :math:`\nu_k = 2n_k + 1`, written in the complex
    form) is

    .. math::
        F_{ij} = \sum_{k,l}\frac{2\,\mathrm{Re}\big[(\partial_i M)_{kl}\,\overline{(\partial_j M)_{kl}}\big]}
                             {n_k + n_l + 2n_kn_l},

    summed over all pairs of eigenmodes, including the unpopulated ones. In terms of L,
    with :math:`A_i = W^\dagger\,\partial_i L\,V` and :math:`P = I - WW^\dagger`, every term is
    a ratio of quantities of the same order in the photon numbers, so nothing is divided by
    a small number:

    .. math::
        F_{ij} = 4\,\mathrm{Re}\,\mathrm{tr}\big[(P\partial_i L)^\dagger P\partial_j L\big]
                + \sum_{k,l\le r}\frac{2\,\mathrm{Re}\,X^i_{kl}\overline{X^j_{kl}}}{n_k + n_l + 2n_kn_l},
        \qquad X^i_{kl} = s_l\,(A_i)_{kl} + s_k\,\overline{(A_i)_{lk}} .

    The first term collects the pairs (populated, unpopulated) in closed form
    (:math:`2|s_k\bar A|^2/n_k` summed over the unpopulated modes). This is what makes the
    formula exact for faint light: the odd mode of two close sources holds
    :math:`n_- \approx \epsilon d^2/(16\sigma^2)` photons, far below the rounding level of a
    covariance matrix whose vacuum is the identity, yet its term
    :math:`(\partial n_-)^2/(n_-(1+n_-))` carries almost all of the information; the singular
    values of L resolve :math:`\sqrt{n_-}` to relative precision
    :math:`\sim 10^{-16}\,s_{max}/s_-`. Single thermal mode:
    :math:`F = (\partial\bar N)^2/(\bar N(\bar N+1))`.

    **Unpopulated source directions.** If L is rank deficient (two sources at the same
    point, :math:`n_k = 0` for a column of V), the (k, k) term is taken as its limit
    :math:`|(A_i)_{kl} + \overline{(A_i)_{lk}}|^2`, i.e. the value approached from inside the
    parameter region (the Bures-metric limit; e.g. the separation at d = 0 gets
    :math:`\epsilon/(4\sigma^2)`, not the SLD value of the singular point [Safranek2017]_).

    Parameters
    ----------
    factor : array_like, shape (K, r)
        L with :math:`\Gamma^T = LL^\dagger`, :math:`\Gamma_{ij} = \langle a_i^\dagger a_j\rangle`
        (photons per copy), real or complex.
    factor_derivatives : array_like, shape (p, K, r)
        :math:`\partial_i L` for each of the p parameters, in the same gauge as ``factor``
        (a single (K, r) array is taken as p = 1). Any smooth parametrisation of L works:
        the result depends on L only through :math:`LL^\dagger`.

    Returns
    -------
    ndarray, shape (p, p)
        Quantum Fisher information matrix per copy, in inverse units of the parameters squared.

    Raises
    ------
    ValueError
        If the shapes do not match or the values are not finite.

    References
    ----------
    .. [Nair2016] R. Nair, M. Tsang, "Far-field superresolution of thermal electromagnetic
       sources at the quantum limit", Phys. Rev. Lett. 117, 190801 (2016), arXiv:1604.00937.
    See also [Monras2013]_, [Safranek2019]_ (the passive Williamson terms).
    """
    factor = np.asarray(factor)
    if factor.ndim != 2:
        raise ValueError(f"factor must have shape (K, r); got {factor.shape}")
    derivatives = np.asarray(factor_derivatives)
    if derivatives.shape == factor.shape:
        derivatives = derivatives[None]
    if derivatives.ndim != 3 or derivatives.shape[1:] != factor.shape:
        raise ValueError(f"factor_derivatives must have shape (parameters, {factor.shape[0]}, {factor.shape[1]}); "
                         f"got {derivatives.shape}")
    if not (np.all(np.isfinite(factor)) and np.all(np.isfinite(derivatives))):
        raise ValueError("factor and factor_derivatives must be finite")
    left, singular, right_h = np.linalg.svd(factor, full_matrices=False)
    right = np.conj(right_h.T)
    photons = singular**2
    coefficients = np.conj(left.T) @ derivatives @ right  # A_i, (p, r, r)
    outside = derivatives - left @ (np.conj(left.T) @ derivatives)  # P dL_i, (p, K, r)
    fisher = 4.0 * np.einsum("ikr,jkr->ij", np.conj(outside), outside).real

    mixed = singular[None, :] * coefficients + singular[:, None] * np.conj(np.swapaxes(coefficients, 1, 2))
    denominator = photons[:, None] + photons[None, :] + 2.0 * np.outer(photons, photons)
    empty = denominator <= 0.0
    limit = coefficients + np.conj(np.swapaxes(coefficients, 1, 2))  # X / sqrt(denominator/2) as n_k, n_l -> 0
    weight = np.where(empty, 0.0, 2.0 / np.where(empty, 1.0, denominator))
    fisher += np.einsum("ikl,jkl,kl->ij", mixed, np.conj(mixed), weight).real
    fisher += np.einsum("ikl,jkl,kl->ij", limit, np.conj(limit), empty.astype(float)).real
    return 0.5 * (fisher + fisher.T)


# --------------------------------------------------------------------------------------
# Classical Fisher information of Gaussian outcomes
# --------------------------------------------------------------------------------------


def gaussian_outcome_fisher_information(
    mean_derivatives: np.ndarray | None,
    cov: np.ndarray,
    cov_derivatives: np.ndarray | None = None,
) -> np.ndarray:
    r"""Classical Fisher information matrix of a Gaussian outcome :math:`y\sim N(m(\theta),\Sigma(\theta))`.

    .. math::
        F_{ij} = \partial_i m^T\Sigma^{-1}\partial_j m
                 + \tfrac12\,\mathrm{tr}\big[\Sigma^{-1}\partial_i\Sigma\,\Sigma^{-1}\partial_j\Sigma\big].

    Use with :func:`homodyne_outcome` / :func:`heterodyne_outcome` for the per-shot
    information of homodyne and heterodyne detection.

    Parameters
    ----------
    mean_derivatives : array_like, shape (p, m), or None
        :math:`\partial_i m`; ``None`` when the mean does not depend on the parameters.
    cov : array_like, shape (m, m)
        Outcome covariance :math:`\Sigma` (positive definite).
    cov_derivatives : array_like, shape (p, m, m), optional
        :math:`\partial_i\Sigma`; ``None`` when the covariance does not depend on them.

    Returns
    -------
    ndarray, shape (p, p)
        Fisher information per outcome, in inverse units of the parameters squared.

    Raises
    ------
    ValueError
        If the shapes do not match, both derivatives are ``None``, or ``cov`` is not
        positive definite.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square (m, m) array; got shape {cov.shape}")
    size = cov.shape[0]
    if mean_derivatives is None and cov_derivatives is None:
        raise ValueError("give mean_derivatives, cov_derivatives or both")
    if mean_derivatives is not None:
        mean_derivatives = _as_parameter_stack(mean_derivatives, (size,), "mean_derivatives")
    if cov_derivatives is not None:
        cov_derivatives = _as_parameter_stack(cov_derivatives, cov.shape, "cov_derivatives")
    if mean_derivatives is None:
        mean_derivatives = np.zeros((cov_derivatives.shape[0], size))
    if cov_derivatives is None:
        cov_derivatives = np.zeros((mean_derivatives.shape[0], size, size))
    if mean_derivatives.shape[0] != cov_derivatives.shape[0]:
        raise ValueError("mean_derivatives and cov_derivatives disagree on the number of parameters")
    try:
        factor = scipy.linalg.cho_factor(0.5 * (cov + cov.T))
    except np.linalg.LinAlgError as error:
        raise ValueError("cov is not positive definite") from error
    solved = np.stack([scipy.linalg.cho_solve(factor, d) for d in cov_derivatives])
    fisher = mean_derivatives @ scipy.linalg.cho_solve(factor, mean_derivatives.T)
    fisher += 0.5 * np.einsum("ikl,jlk->ij", solved, solved)
    return 0.5 * (fisher + fisher.T)


# --------------------------------------------------------------------------------------
# Gaussian channels and measurements
# --------------------------------------------------------------------------------------


def loss(cov: np.ndarray, means: np.ndarray, transmissivity, hbar: float = 2.0) -> GaussianMoments:
    r"""Pure-loss channel on every mode (beam splitter of transmissivity :math:`\eta_k` with vacuum).

    .. math::
        V \to T V T + \tfrac{\hbar}{2}(I - T^2), \qquad \mu \to T\mu, \qquad
        T = \mathrm{diag}(\sqrt{\eta}, \sqrt{\eta}) \text{ (xxpp)},

    the same map as Strawberry Fields ``LossChannel``.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
    means : array_like, shape (2n,)
    transmissivity : float or array_like, shape (n,)
        Energy transmissivity per mode, in [0, 1].
    hbar : float, optional

    Returns
    -------
    GaussianMoments
        ``(means, cov)`` after the loss.
    """
    cov = _as_phase_space_covariance(cov)
    means = _as_means(means, cov.shape[0])
    modes = cov.shape[0] // 2
    amplitude = np.sqrt(np.tile(_per_mode(transmissivity, modes, "transmissivity", 0.0, 1.0), 2))
    new_cov = amplitude[:, None] * cov * amplitude[None, :] + np.diag((hbar / 2.0) * (1.0 - amplitude**2))
    return GaussianMoments(amplitude * means, new_cov)


def rotate_quadratures(cov: np.ndarray, means: np.ndarray, angles) -> GaussianMoments:
    r"""Phase rotation of every mode, :math:`\hat a_k \to e^{i\theta_k}\hat a_k` (SF ``Rgate``).

    .. math::
        \begin{pmatrix}\hat x_k\\ \hat p_k\end{pmatrix} \to
        \begin{pmatrix}\cos\theta_k & -\sin\theta_k\\ \sin\theta_k & \cos\theta_k\end{pmatrix}
        \begin{pmatrix}\hat x_k\\ \hat p_k\end{pmatrix},
        \qquad \mu\to R\mu,\quad V\to R V R^T .

    To homodyne the quadrature :math:`\hat x_\phi = \hat x\cos\phi + \hat p\sin\phi` of
    mode k (SF ``MeasureHomodyne(phi)``), rotate by :math:`\theta_k = -\phi` and measure
    :math:`\hat x_k`.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
    means : array_like, shape (2n,)
    angles : float or array_like, shape (n,)
        Rotation angle per mode, in radians.

    Returns
    -------
    GaussianMoments
        ``(means, cov)`` of the rotated state.
    """
    cov = _as_phase_space_covariance(cov)
    means = _as_means(means, cov.shape[0])
    modes = cov.shape[0] // 2
    angles = np.broadcast_to(np.asarray(angles, dtype=float), (modes,))
    cosine, sine = np.diag(np.cos(angles)), np.diag(np.sin(angles))
    rotation = np.block([[cosine, -sine], [sine, cosine]])
    return GaussianMoments(rotation @ means, rotation @ cov @ rotation.T)


def homodyne_outcome(
    cov: np.ndarray,
    means: np.ndarray,
    quadratures,
    efficiency=1.0,
    hbar: float = 2.0,
) -> GaussianMoments:
    r"""Outcome distribution of homodyne detection of a subset of quadratures.

    The detector efficiency :math:`\eta_d` is loss before an ideal homodyne detector:

    .. math::
        m = \sqrt{\eta_d}\,\mu_M, \qquad
        \Sigma = \sqrt{\eta_d}\,V_{MM}\sqrt{\eta_d} + \tfrac{\hbar}{2}(1-\eta_d)\,I .

    (PHYSICS.md §7.2 writes the same statistics rescaled by :math:`1/\sqrt{\eta_d}`,
    :math:`\Sigma = V_{MM} + \tfrac{\hbar}{2}\tfrac{1-\eta_d}{\eta_d}I`; the Fisher information is
    identical.) For rotated quadratures apply :func:`rotate_quadratures` first.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
    means : array_like, shape (2n,)
    quadratures : sequence of int
        Indices into the xxpp vector (k for :math:`x_k`, n + k for :math:`p_k`).
    efficiency : float or array_like, shape (len(quadratures),)
        Detector efficiency in [0, 1] per measured quadrature.
    hbar : float, optional

    Returns
    -------
    GaussianMoments
        ``(means, cov)`` of the measured quadrature values, in quadrature units.
    """
    cov = _as_phase_space_covariance(cov)
    means = _as_means(means, cov.shape[0])
    quadratures = np.atleast_1d(np.asarray(quadratures, dtype=int))
    if quadratures.ndim != 1 or np.any(quadratures < 0) or np.any(quadratures >= cov.shape[0]):
        raise ValueError(f"quadratures must be indices in [0, {cov.shape[0]}); got {quadratures}")
    efficiency = _per_mode(efficiency, quadratures.size, "efficiency", 0.0, 1.0)
    amplitude = np.sqrt(efficiency)
    measured_cov = cov[np.ix_(quadratures, quadratures)]
    outcome_cov = amplitude[:, None] * measured_cov * amplitude[None, :] + np.diag(
        (hbar / 2.0) * (1.0 - efficiency)
    )
    return GaussianMoments(amplitude * means[quadratures], outcome_cov)


def heterodyne_outcome(
    cov: np.ndarray, means: np.ndarray, efficiency=1.0, hbar: float = 2.0
) -> GaussianMoments:
    r"""Outcome distribution of heterodyne detection of every mode (SF ``MeasureHD``).

    The outcome is expressed in quadrature units,
    :math:`r = \sqrt{2\hbar}\,(\mathrm{Re}\,\hat\alpha, \mathrm{Im}\,\hat\alpha)` (xxpp over modes),
    with the efficiency :math:`\eta_d` modelled as loss first (:func:`loss`):

    .. math::
        m = \mu', \qquad \Sigma = V' + \tfrac{\hbar}{2} I,
        \qquad (\mu', V') = \text{loss}(\mu, V; \eta_d).

    Divide by :math:`\sqrt{2\hbar}` to get the statistics of :math:`\hat\alpha` itself.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
    means : array_like, shape (2n,)
    efficiency : float or array_like, shape (n,)
        Detector efficiency per mode, in [0, 1].
    hbar : float, optional

    Returns
    -------
    GaussianMoments
        ``(means, cov)`` of the heterodyne outcome in quadrature units (xxpp order).
    """
    lossy_means, lossy_cov = loss(cov, means, efficiency, hbar)
    return GaussianMoments(lossy_means, lossy_cov + (hbar / 2.0) * np.eye(lossy_cov.shape[0]))


# --------------------------------------------------------------------------------------
# Thermal (classical) light: normally ordered correlation <-> covariance
# --------------------------------------------------------------------------------------


def thermal_covariance(photon_correlation: np.ndarray, hbar: float = 2.0) -> np.ndarray:
    r"""Covariance of the zero-mean Gaussian state with :math:`N_{ij} = \langle a_i^\dagger a_j\rangle`.

    For a phase-insensitive state (:math:`\langle a_i a_j\rangle = 0`) and
    :math:`\hat a = (\hat x + i\hat p)/\sqrt{2\hbar}`:

    .. math::
        V = \frac{\hbar}{2}\begin{pmatrix} I + 2\,\mathrm{Re}\,N & 2\,\mathrm{Im}\,N \\
                                         -2\,\mathrm{Im}\,N & I + 2\,\mathrm{Re}\,N \end{pmatrix}.

    Derivation (:math:`\hbar = 2`, :math:`\hat x = \hat a + \hat a^\dagger`,
    :math:`\hat p = -i(\hat a - \hat a^\dagger)`):
    :math:`\tfrac12\langle\{\hat x_i, \hat p_j\}\rangle = i(N_{ji} - N_{ij})
    = 2\,\mathrm{Im}\,N_{ij}`, i.e. :math:`V_{x_i p_j} = +2\,\mathrm{Im}\,N_{ij}`. Checked against
    Strawberry Fields (Thermal + BSgate + Rgate, Fock-backend
    :math:`\mathrm{tr}(\rho\,a_0^\dagger a_1)`) in the tests; it agrees with PHYSICS.md §3.2.

    Parameters
    ----------
    photon_correlation : array_like, shape (n, n)
        Hermitian, positive semidefinite :math:`N` (mean photon numbers on the diagonal).
    hbar : float, optional

    Returns
    -------
    ndarray, shape (2n, 2n)
        Covariance matrix in xxpp order.

    Raises
    ------
    ValueError
        If :math:`N` is not square, Hermitian and positive semidefinite.
    """
    correlation = np.asarray(photon_correlation, dtype=complex)
    if correlation.ndim != 2 or correlation.shape[0] != correlation.shape[1]:
        raise ValueError(f"photon_correlation must be a square (n, n) array; got {correlation.shape}")
    scale = max(1.0, np.abs(correlation).max())
    if not np.allclose(correlation, correlation.conj().T, atol=1e-12 * scale):
        raise ValueError("photon_correlation must be Hermitian")
    if np.linalg.eigvalsh(0.5 * (correlation + correlation.conj().T))[0] < -1e-12 * scale:
        raise ValueError("photon_correlation must be positive semidefinite")
    identity = np.eye(correlation.shape[0])
    real, imaginary = correlation.real, correlation.imag
    return (hbar / 2.0) * np.block(
        [[identity + 2.0 * real, 2.0 * imaginary], [-2.0 * imaginary, identity + 2.0 * real]]
    )


def photon_correlation(cov: np.ndarray, means: np.ndarray | None = None, hbar: float = 2.0) -> np.ndarray:
    r"""Normally ordered correlation :math:`N_{ij} = \langle a_i^\dagger a_j\rangle` of a Gaussian state.

    Inverse of :func:`thermal_covariance` (exact for any Gaussian state; the anomalous
    moments :math:`\langle a_i a_j\rangle` do not enter):

    .. math::
        N = \tfrac14\big[\tilde V_{xx} + \tilde V_{pp} + i(\tilde V_{xp} - \tilde V_{px})\big]
            - \tfrac12 I + \bar\alpha\,\alpha^T,
        \qquad \tilde V = V/(\hbar/2),\quad \alpha = (\mu_x + i\mu_p)/\sqrt{2\hbar}.

    Parameters
    ----------
    cov : array_like, shape (2n, 2n)
    means : array_like, shape (2n,), optional
        Include the coherent part :math:`\alpha_i^*\alpha_j`; ``None`` means zero mean.
    hbar : float, optional

    Returns
    -------
    ndarray, shape (n, n), complex
    """
    cov = _as_phase_space_covariance(cov) / (hbar / 2.0)
    modes = cov.shape[0] // 2
    xx, xp, px, pp = cov[:modes, :modes], cov[:modes, modes:], cov[modes:, :modes], cov[modes:, modes:]
    correlation = 0.25 * (xx + pp + 1j * (xp - px)) - 0.5 * np.eye(modes)
    if means is not None:
        means = _as_means(means, 2 * modes)
        alpha = (means[:modes] + 1j * means[modes:]) / np.sqrt(2.0 * hbar)
        correlation = correlation + np.outer(alpha.conj(), alpha)
    return correlation
