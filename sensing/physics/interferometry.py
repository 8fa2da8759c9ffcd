r"""Long-baseline telescope-array interferometry with and without quantum networks.

Pure functions (arrays in, labelled results out) for the physics of PHYSICS.md §3:
source visibilities (van Cittert–Zernike), the per-temporal-mode thermal state of the
apertures, the Fisher information of every detection scheme (quantum limit, direct
beam combination, intensity interferometry, GJC entanglement-assisted, KBDL
memory-assisted), the entanglement they consume, and the conversion of Fisher
information into copies and observing time.

Conventions
-----------
* Strawberry Fields units: :math:`\hbar = 2`, **xxpp** ordering, vacuum covariance
  :math:`V = I` (PHYSICS.md §0).
* Aperture (telescope) mode :math:`\hat a_j` collects the field at position
  :math:`\mathbf x_j`; a plane wave :math:`e^{i(\mathbf k\cdot\mathbf x - \omega t)}` from
  angular position :math:`\boldsymbol\theta` has :math:`\mathbf k_\perp = 2\pi\boldsymbol\theta/\lambda`.
* Correlation matrix :math:`N_{ij} = \langle \hat a_i^\dagger \hat a_j\rangle
  = \bar n\, g_{ij}` with :math:`\bar n` the **photons per aperture per temporal mode** and
  :math:`g_{ij}` the complex visibility of baseline :math:`\mathbf B_{ij} = \mathbf x_j - \mathbf x_i`:

  .. math:: g(\mathbf B) = \frac{\int I(\boldsymbol\theta)\,
            e^{+2\pi i\,\mathbf B\cdot\boldsymbol\theta/\lambda}\,d^2\theta}
            {\int I(\boldsymbol\theta)\,d^2\theta}.

  For two apertures this is PHYSICS.md §3.2 with :math:`\varepsilon = 2\bar n` the photons
  per mode **summed over both telescopes** and :math:`g = g_{01} = |g|e^{i\varphi}`; the
  single-photon block of the density matrix is
  :math:`(\varepsilon/2)[|10\rangle\langle10| + |01\rangle\langle01| + g|01\rangle\langle10|
  + g^*|10\rangle\langle01|]` (tested against the Fock density matrix).
* Two-aperture scheme functions take ``photons_per_mode`` :math:`= \varepsilon` (both
  telescopes together), as PHYSICS.md §3.3 does.
* Fisher matrices are per copy (temporal mode), parameters ordered ``(|g|, phi)``.

References
----------
.. [GJC2012] D. Gottesman, T. Jennewein, S. Croke, "Longer-baseline telescopes using
   quantum repeaters", Phys. Rev. Lett. 109, 070503 (2012), arXiv:1107.2939.
.. [KBDL2019a] E. T. Khabiboulline, J. Borregaard, K. De Greve, M. D. Lukin, "Optical
   interferometry with quantum networks", Phys. Rev. Lett. 123, 070504 (2019).
.. [KBDL2019b] E. T. Khabiboulline, J. Borregaard, K. De Greve, M. D. Lukin,
   "Quantum-assisted telescope arrays", Phys. Rev. A 100, 022316 (2019).
.. [Tsang2011] M. Tsang, "Quantum nonlocality in weak-thermal-light interferometry",
   Phys. Rev. Lett. 107, 270402 (2011).
.. [BornWolf] M. Born, E. Wolf, *Principles of Optics*, §10.4 (van Cittert–Zernike theorem).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.linalg import LinAlgError
import scipy.linalg
import scipy.special

from sensing.physics.gaussian import symplectic_form, thermal_covariance

__all__ = [
    "SPEED_OF_LIGHT",
    "SourceVisibility",
    "CountDistribution",
    "SchemeOutcomes",
    "point_source_visibility",
    "binary_visibility",
    "uniform_disk_visibility",
    "array_visibility_matrix",
    "visibility_jacobian",
    "source_fisher_information",
    "photon_correlation_matrix",
    "aperture_covariance",
    "aperture_covariance_derivatives",
    "fock_density_matrix",
    "fiber_transmission",
    "thermal_quantum_fisher_information",
    "exact_quantum_fisher_information",
    "quantum_fisher_information_leading_order",
    "direct_fisher_information_leading_order",
    "intensity_fisher_information_leading_order",
    "gjc_fisher_information_leading_order",
    "kbdl_fisher_information",
    "two_mode_count_distribution",
    "combiner_correlation_matrix",
    "direct_count_distribution",
    "direct_fisher_information",
    "intensity_count_distribution",
    "intensity_fisher_information",
    "gjc_outcome_probabilities",
    "gjc_fisher_information",
    "sample_thermal_counts",
    "gjc_ebits_per_copy",
    "gjc_ebits_per_detected_photon",
    "kbdl_ebits_per_copy",
    "kbdl_ebits_per_detected_photon",
    "copies_to_precision",
    "temporal_modes_per_second",
    "observing_time",
]

SPEED_OF_LIGHT = 299_792_458.0  # m / s


class SourceVisibility(NamedTuple):
    """Complex visibility and its derivatives in the source parameters.

    Attributes
    ----------
    visibility : ndarray, complex
        :math:`g` for every baseline (shape of the broadcast inputs).
    derivatives : ndarray, complex, shape (n_parameters, ...)
        :math:`\\partial g/\\partial\\theta_k`, in the order of ``parameters``.
    parameters : tuple of str
        Names (and units) of the source parameters.
    """

    visibility: np.ndarray
    derivatives: np.ndarray
    parameters: tuple


class CountDistribution(NamedTuple):
    """Truncated photon-count distribution with exact parameter derivatives.

    Attributes
    ----------
    probabilities : ndarray, shape (cutoff, cutoff)
        :math:`P(n_0, n_1)` for :math:`0 \\le n_k <` cutoff.
    derivatives : ndarray, shape (n_parameters, cutoff, cutoff)
        :math:`\\partial P/\\partial\\theta_k`.
    tail_probability : float
        Probability outside the box, :math:`1 - \\sum P` (the truncation error).
    """

    probabilities: np.ndarray
    derivatives: np.ndarray
    tail_probability: float


class SchemeOutcomes(NamedTuple):
    """Outcome probabilities of a Fock-space scheme with their derivatives.

    Attributes
    ----------
    probabilities : ndarray
        Probabilities of the outcomes (axes = detectors, or one outcome axis).
    derivatives : ndarray, shape (n_parameters, ...)
        Derivatives with respect to ``(|g|, phi)``.
    tail_probability : float
        Probability lost to the Fock cutoff.
    """

    probabilities: np.ndarray
    derivatives: np.ndarray
    tail_probability: float


# --------------------------------------------------------------------------------------
# 1. Source visibilities (van Cittert–Zernike)
# --------------------------------------------------------------------------------------


def _baseline_phase(baseline, wavelength, offset):
    baseline = np.asarray(baseline, dtype=float)
    offset = np.asarray(offset, dtype=float)
    return 2.0 * np.pi * np.sum(baseline * offset, axis=-1) / np.asarray(wavelength, dtype=float)


def point_source_visibility(baseline, wavelength, position) -> SourceVisibility:
    r"""Visibility of a point star at angular position :math:`\boldsymbol\theta_0`.

    .. math:: g = e^{i\,2\pi\,\mathbf B\cdot\boldsymbol\theta_0/\lambda},\qquad
              \frac{\partial g}{\partial\theta_{0,k}} = \frac{2\pi i B_k}{\lambda}\,g .

    Parameters
    ----------
    baseline : array_like, shape (..., 2)
        :math:`\mathbf B = \mathbf x_1 - \mathbf x_0` in metres (east, north).
    wavelength : float or array_like
        Metres.
    position : array_like, shape (2,)
        Angular offset (east, north) in radians.

    Returns
    -------
    SourceVisibility
        Parameters ``("theta_east_rad", "theta_north_rad")``.
    """
    baseline = np.asarray(baseline, dtype=float)
    visibility = np.exp(1j * _baseline_phase(baseline, wavelength, position))
    factor = 2j * np.pi / np.asarray(wavelength, dtype=float)
    derivatives = np.stack([factor * baseline[..., 0] * visibility, factor * baseline[..., 1] * visibility])
    return SourceVisibility(visibility, derivatives, ("theta_east_rad", "theta_north_rad"))


def binary_visibility(baseline, wavelength, separation, position_angle, flux_ratio) -> SourceVisibility:
    r"""Visibility of a binary: primary at the origin, companion at separation :math:`s`.

    The companion sits at :math:`\boldsymbol\theta_2 = s(\sin\mathrm{PA}, \cos\mathrm{PA})`
    (east, north; PA measured from north through east) with flux ratio
    :math:`f = F_2/F_1`:

    .. math::
        g = \frac{1 + f e^{i\Phi}}{1 + f},\qquad
        \Phi = \frac{2\pi}{\lambda}\,\mathbf B\cdot\boldsymbol\theta_2,

    .. math::
        \partial_s g = \frac{i f e^{i\Phi}}{1+f}\,\frac{\Phi}{s},\quad
        \partial_{\mathrm{PA}} g = \frac{i f e^{i\Phi}}{1+f}\,\frac{2\pi s}{\lambda}
            (B_e\cos\mathrm{PA} - B_n\sin\mathrm{PA}),\quad
        \partial_f g = \frac{e^{i\Phi} - 1}{(1+f)^2}.

    Parameters
    ----------
    baseline : array_like, shape (..., 2)
        Metres (east, north).
    wavelength : float
        Metres.
    separation : float
        Radians.
    position_angle : float
        Radians, north through east.
    flux_ratio : float
        :math:`F_2/F_1 \ge 0`.

    Returns
    -------
    SourceVisibility
        Parameters ``("separation_rad", "position_angle_rad", "flux_ratio")``.
    """
    baseline = np.asarray(baseline, dtype=float)
    k = 2.0 * np.pi / float(wavelength)
    east, north = baseline[..., 0], baseline[..., 1]
    sin_pa, cos_pa = np.sin(position_angle), np.cos(position_angle)
    projected = east * sin_pa + north * cos_pa  # B . unit vector towards the companion
    phase = k * separation * projected
    companion = np.exp(1j * phase)
    norm = 1.0 + flux_ratio
    visibility = (1.0 + flux_ratio * companion) / norm
    d_separation = 1j * flux_ratio * companion / norm * k * projected
    d_angle = 1j * flux_ratio * companion / norm * k * separation * (east * cos_pa - north * sin_pa)
    d_flux = (companion - 1.0) / norm**2
    return SourceVisibility(
        visibility,
        np.stack([d_separation, d_angle, d_flux]),
        ("separation_rad", "position_angle_rad", "flux_ratio"),
    )


def uniform_disk_visibility(baseline, wavelength, diameter) -> SourceVisibility:
    r"""Visibility of a uniformly bright disk of angular diameter :math:`\theta_D` (centred).

    van Cittert–Zernike ([BornWolf]_) for :math:`I(\boldsymbol\theta) \propto
    \mathbb 1[|\boldsymbol\theta| \le \theta_D/2]`:

    .. math::
        g = \frac{2 J_1(x)}{x},\qquad x = \frac{\pi\,\theta_D\,|\mathbf B|}{\lambda},\qquad
        \frac{\partial g}{\partial\theta_D} = -\frac{2 J_2(x)}{x}\,\frac{\pi|\mathbf B|}{\lambda},

    using :math:`\frac{d}{dx}\frac{J_1(x)}{x} = -\frac{J_2(x)}{x}`; at :math:`x = 0`,
    :math:`g = 1` and the derivative vanishes. :math:`g` is real and changes sign at the
    nulls (:math:`x = 3.8317\ldots`), i.e. :math:`\varphi \in \{0, \pi\}`.

    Parameters
    ----------
    baseline : array_like, shape (..., 2)
        Baseline vectors (metres, east/north); only :math:`|\mathbf B|` enters.
    wavelength : float
        Metres.
    diameter : float
        Angular diameter :math:`\theta_D` in radians.

    Returns
    -------
    SourceVisibility
        Parameter ``("diameter_rad",)``.
    """
    baseline = np.asarray(baseline, dtype=float)
    length = np.linalg.norm(baseline, axis=-1)
    scale = np.pi * length / float(wavelength)
    x = scale * diameter
    small = np.abs(x) < 1e-8
    safe = np.where(small, 1.0, x)
    visibility = np.where(small, 1.0 - x**2 / 8.0, 2.0 * scipy.special.j1(safe) / safe)
    d_dx = np.where(small, -x / 4.0, -2.0 * scipy.special.jv(2, safe) / safe)
    return SourceVisibility(visibility.astype(complex), (d_dx * scale)[None].astype(complex), ("diameter_rad",))


def array_visibility_matrix(aperture_positions, wavelength, source_visibility, **source_parameters) -> np.ndarray:
    r"""Visibility matrix :math:`g_{ij} = g(\mathbf x_j - \mathbf x_i)` of an M-aperture array.

    Hermitian with unit diagonal because :math:`g(-\mathbf B) = g(\mathbf B)^*` for a real
    brightness distribution.

    Parameters
    ----------
    aperture_positions : array_like, shape (M, 2)
        Metres (east, north).
    wavelength : float
        Metres.
    source_visibility : callable
        One of :func:`point_source_visibility`, :func:`binary_visibility`,
        :func:`uniform_disk_visibility` (called as ``f(baselines, wavelength, **params)``).
    **source_parameters
        Passed to ``source_visibility``.

    Returns
    -------
    ndarray, shape (M, M), complex
    """
    positions = np.asarray(aperture_positions, dtype=float)
    baselines = positions[None, :, :] - positions[:, None, :]
    return np.asarray(source_visibility(baselines, wavelength, **source_parameters).visibility, dtype=complex)


def visibility_jacobian(visibility, visibility_derivatives) -> np.ndarray:
    r"""Jacobian :math:`\partial(|g|, \varphi)/\partial\theta` from :math:`\partial g/\partial\theta`.

    .. math::
        \partial_\theta|g| = \frac{\mathrm{Re}(g^*\partial_\theta g)}{|g|},\qquad
        \partial_\theta\varphi = \frac{\mathrm{Im}(g^*\partial_\theta g)}{|g|^2}.

    Parameters
    ----------
    visibility : complex
        :math:`g \neq 0` for one baseline (the phase is undefined at a null).
    visibility_derivatives : array_like, shape (n_parameters,)

    Returns
    -------
    ndarray, shape (2, n_parameters)
        Rows ``(|g|, phi)``.
    """
    g = complex(visibility)
    dg = np.asarray(visibility_derivatives, dtype=complex)
    modulus = abs(g)
    return np.stack([np.real(np.conj(g) * dg) / modulus, np.imag(np.conj(g) * dg) / modulus**2])


def source_fisher_information(fisher_visibility, jacobian) -> np.ndarray:
    r"""Chain rule :math:`F_\theta = J^T F_{(|g|,\varphi)} J` for source parameters.

    Parameters
    ----------
    fisher_visibility : array_like, shape (2, 2)
        Fisher matrix in ``(|g|, phi)`` for one baseline.
    jacobian : array_like, shape (2, n_parameters)
        From :func:`visibility_jacobian`.

    Returns
    -------
    ndarray, shape (n_parameters, n_parameters)
    """
    jacobian = np.asarray(jacobian, dtype=float)
    return jacobian.T @ np.asarray(fisher_visibility, dtype=float) @ jacobian


# --------------------------------------------------------------------------------------
# 2. The per-copy state of the apertures
# --------------------------------------------------------------------------------------


def photon_correlation_matrix(photons_per_aperture, visibility_matrix) -> np.ndarray:
    r"""Correlation matrix :math:`N_{ij} = \langle a_i^\dagger a_j\rangle = \bar n\, g_{ij}`.

    Parameters
    ----------
    photons_per_aperture : float
        :math:`\bar n`, mean photons per aperture per temporal mode (equal apertures).
        For two apertures :math:`\bar n = \varepsilon/2` of PHYSICS.md §3.2.
    visibility_matrix : array_like, shape (M, M) or complex scalar
        Hermitian :math:`g_{ij}` with unit diagonal; a scalar :math:`g` means two apertures
        with :math:`g_{01} = g`.

    Returns
    -------
    ndarray, shape (M, M), complex
    """
    g = np.asarray(visibility_matrix, dtype=complex)
    if g.ndim == 0:
        g = np.array([[1.0, g], [np.conj(g), 1.0]])
    return float(photons_per_aperture) * g


def aperture_covariance(photons_per_aperture, visibility_matrix, transmission=1.0, hbar=2.0) -> np.ndarray:
    r"""SF (xxpp) covariance of the thermal state of the apertures after arm transmission.

    .. math::
        V = \frac{\hbar}{2}\begin{pmatrix} I + 2\,\mathrm{Re}\,N & 2\,\mathrm{Im}\,N\\
            -2\,\mathrm{Im}\,N & I + 2\,\mathrm{Re}\,N\end{pmatrix},\qquad
        N \to \sqrt{\eta}\,N\sqrt{\eta}\ \ (\eta = \mathrm{diag}(\eta_j)),

    with :math:`N_{ij} = \langle a_i^\dagger a_j\rangle` (sign of the off-diagonal blocks as
    in PHYSICS.md §3.2 and :func:`sensing.physics.gaussian.thermal_covariance`; verified
    against the thewalrus Fock density matrix in the tests).

    Parameters
    ----------
    photons_per_aperture : float
    visibility_matrix : array_like or complex
    transmission : float or array_like, shape (M,)
        Power transmission of each arm.
    hbar : float

    Returns
    -------
    ndarray, shape (2M, 2M)
    """
    correlation = photon_correlation_matrix(photons_per_aperture, visibility_matrix)
    root = np.sqrt(np.broadcast_to(np.asarray(transmission, dtype=float), correlation.shape[:1]))
    return thermal_covariance(root[:, None] * correlation * root[None, :], hbar=hbar)


def _correlation_derivatives(photons_per_aperture, visibility):
    """dN/d|g| and dN/dphi for two apertures, shape (2, 2, 2)."""
    g = complex(visibility)
    unit = g / abs(g) if g != 0 else 1.0
    d_modulus = np.array([[0.0, unit], [np.conj(unit), 0.0]])
    d_phase = np.array([[0.0, 1j * g], [np.conj(1j * g), 0.0]])
    return float(photons_per_aperture) * np.stack([d_modulus, d_phase])


def aperture_covariance_derivatives(photons_per_aperture, visibility, hbar=2.0) -> np.ndarray:
    r"""Derivatives :math:`\partial V/\partial|g|`, :math:`\partial V/\partial\varphi` (two apertures).

    With :math:`\partial N/\partial|g| = \bar n\,[[0, e^{i\varphi}],[e^{-i\varphi}, 0]]` and
    :math:`\partial N/\partial\varphi = \bar n\,[[0, ig],[-ig^*, 0]]`, each
    :math:`\partial V` is the xxpp block form of :func:`aperture_covariance` without the
    identity.

    Returns
    -------
    ndarray, shape (2, 4, 4)
    """
    out = []
    for dn in _correlation_derivatives(photons_per_aperture, visibility):
        out.append((hbar / 2.0) * np.block([[2 * dn.real, 2 * dn.imag], [-2 * dn.imag, 2 * dn.real]]))
    return np.stack(out)


def fock_density_matrix(photons_per_aperture, visibility_matrix, cutoff, transmission=1.0) -> np.ndarray:
    r"""Fock-basis density matrix of the aperture state (thewalrus, SF index order).

    Parameters
    ----------
    photons_per_aperture : float
    visibility_matrix : array_like or complex
    cutoff : int
        Fock dimension per mode.
    transmission : float or array_like

    Returns
    -------
    ndarray, shape (cutoff,) * 2M
        :math:`\rho_{m_1 n_1 m_2 n_2\ldots}` (ket/bra index pairs per mode).
    """
    cov = aperture_covariance(photons_per_aperture, visibility_matrix, transmission)
    from thewalrus.quantum import density_matrix  # imported when needed: thewalrus (numba, sympy) costs about 1 s

    return density_matrix(np.zeros(cov.shape[0]), cov, cutoff=cutoff, hbar=2.0)


def fiber_transmission(baseline_km, loss_db_per_km=0.2) -> np.ndarray:
    r"""Power transmission of a fibre link, :math:`\eta = 10^{-\alpha L/10}`.

    Parameters
    ----------
    baseline_km : float or array_like
        Fibre length :math:`L` of one arm (km). For a combiner at the midpoint of a
        baseline :math:`B`, each arm has :math:`L = B/2`; PHYSICS.md §3.3 quotes
        :math:`\eta` per arm (10 km → 0.631, 100 km → 0.01, 300 km → 1e-6).
    loss_db_per_km : float
        :math:`\alpha`; 0.2 dB/km is telecom fibre at 1550 nm (visible-band fibre is far worse).

    Returns
    -------
    ndarray
    """
    return 10.0 ** (-float(loss_db_per_km) * np.asarray(baseline_km, dtype=float) / 10.0)


# --------------------------------------------------------------------------------------
# 3a. Quantum Fisher information
# --------------------------------------------------------------------------------------


def thermal_quantum_fisher_information(correlation, correlation_derivatives, hbar=2.0) -> np.ndarray:
    r"""Exact QFI matrix of an M-mode zero-mean thermal state for parameters of :math:`N`.

    With :math:`V` from :func:`aperture_covariance` and each :math:`\partial_k V` its
    block form without the identity (:math:`\partial_k N` in place of :math:`N`), the
    Monras/Šafránek mixed-state formula (PHYSICS.md §7.2) is evaluated directly:

    .. math::
        F_{kl} = \tfrac12\,\mathrm{vec}(\partial_k V)^T
        \big[V\otimes V - \tfrac{\hbar^2}{4}\Omega\otimes\Omega\big]^{-1}\mathrm{vec}(\partial_l V).

    The bracket is singular when a symplectic eigenvalue equals 1, i.e. when :math:`N` has
    a zero eigenvalue (e.g. a point source, :math:`|g| = 1`); use a full-rank :math:`N`.
    Cost :math:`O(M^6)`: meant for a handful of apertures.

    Parameters
    ----------
    correlation : array_like, shape (M, M)
        :math:`N_{ij} = \langle a_i^\dagger a_j\rangle`, positive definite.
    correlation_derivatives : array_like, shape (k, M, M)
        :math:`\partial N/\partial\theta_k` (Hermitian).
    hbar : float

    Returns
    -------
    ndarray, shape (k, k)
    """
    n = np.asarray(correlation, dtype=complex)
    derivatives = np.asarray(correlation_derivatives, dtype=complex)
    # Faint light: the bracket above is I - Omega x Omega + O(eps), numerically singular once
    # eps is below ~1e-8. The same QFI in the thermal eigenbasis of N (phase-insensitive
    # Gaussian family, the form of sensing.physics.gaussian.thermal_quantum_fisher_information),
    #     F_ij = sum_kl 2 Re[(dN_i)_kl conj((dN_j)_kl)] / (n_k + n_l + 2 n_k n_l),
    # divides quantities of the same order in the photon numbers, so it stays exact down to the
    # faintest light; it needs N of full rank (|g| < 1), as the bracket does.
    occupations, basis = np.linalg.eigh(0.5 * (n + n.conj().T))
    if occupations.min() <= 0:
        raise LinAlgError("Singular matrix: the photon correlation has a zero eigenvalue (|g| = 1); "
                          "its QFI diverges along that direction")
    rotated = np.conj(basis.T)[None] @ derivatives @ basis[None]  # (k, M, M) in the eigenbasis
    denominator = occupations[:, None] + occupations[None, :] + 2 * occupations[:, None] * occupations[None, :]
    weighted = rotated / denominator
    return 2.0 * np.real(np.einsum("ikl,jkl->ij", weighted, np.conj(rotated)))


def exact_quantum_fisher_information(photons_per_mode, visibility, hbar=2.0) -> np.ndarray:
    r"""Exact Gaussian QFI matrix in :math:`(|g|, \varphi)` of the two-aperture thermal state.

    Monras/Šafránek mixed-state formula in SF units (PHYSICS.md §7.2), evaluated directly
    (16 x 16 linear system):

    .. math::
        F_{ij} = \tfrac12\,\mathrm{vec}(\partial_i V)^T
        \big[V\otimes V - \tfrac{\hbar^2}{4}\Omega\otimes\Omega\big]^{-1}\mathrm{vec}(\partial_j V).

    The bracket is regular for :math:`|g| < 1` and :math:`\varepsilon > 0` (both symplectic
    eigenvalues :math:`1 + \varepsilon(1\pm|g|) > 1`).

    Parameters
    ----------
    photons_per_mode : float
        :math:`\varepsilon`, summed over both apertures.
    visibility : complex
        :math:`g`, :math:`0 < |g| < 1`.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    n = 0.5 * float(photons_per_mode)
    return thermal_quantum_fisher_information(
        photon_correlation_matrix(n, visibility), _correlation_derivatives(n, visibility), hbar=hbar
    )


def quantum_fisher_information_leading_order(photons_per_mode, visibility) -> np.ndarray:
    r"""Leading-order QFI, :math:`\mathrm{diag}(\varepsilon/(1-|g|^2),\ \varepsilon|g|^2)` (PHYSICS.md §3.3).

    Per detected photon these are the qubit (Bloch-vector) QFIs :math:`1/(1-|g|^2)` and
    :math:`|g|^2`.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    eps, modulus = float(photons_per_mode), abs(complex(visibility))
    return np.diag([eps / (1.0 - modulus**2), eps * modulus**2])


# --------------------------------------------------------------------------------------
# 3b. Leading-order closed forms of the detection schemes
# --------------------------------------------------------------------------------------


def _click_pair_fisher(rate, modulus, phase_offset, visibility_factor=1.0):
    # Two outcomes with probabilities rate/2 (1 +- x), x = D |g| cos(phi - delta):
    # F = rate dx dx^T / (1 - x^2) (the no-click outcome contributes at O(rate^2)).
    x = visibility_factor * modulus * np.cos(phase_offset)
    dx = visibility_factor * np.array([np.cos(phase_offset), -modulus * np.sin(phase_offset)])
    return rate * np.outer(dx, dx) / (1.0 - x**2)


def direct_fisher_information_leading_order(photons_per_mode, visibility, delay_phase=0.0, transmission=1.0):
    r"""Direct beam combination (50:50, delay :math:`\delta`, photon counting), O(ε).

    .. math::
        F = \frac{\eta\varepsilon}{1 - |g|^2\cos^2\psi}
            \begin{pmatrix}\cos^2\psi & -|g|\sin\psi\cos\psi\\
                           -|g|\sin\psi\cos\psi & |g|^2\sin^2\psi\end{pmatrix},
        \qquad \psi = \varphi - \delta

    (PHYSICS.md §3.3, rank one: a single click distinguishes only the two ports).
    :math:`\eta` is the transmission of each arm (symmetric).

    Returns
    -------
    ndarray, shape (2, 2)
    """
    g = complex(visibility)
    return _click_pair_fisher(transmission * photons_per_mode, abs(g), np.angle(g) - delay_phase)


def intensity_fisher_information_leading_order(photons_per_mode, visibility) -> np.ndarray:
    r"""Intensity (HBT) interferometry, O(ε²): :math:`F_{|g|} = \varepsilon^2|g|^2/(1+|g|^2)`.

    From :math:`P(1,1) \approx (\varepsilon/2)^2(1+|g|^2)` (PHYSICS.md §3.3); the phase is
    not measured (:math:`F_\varphi = 0`).

    Returns
    -------
    ndarray, shape (2, 2)
    """
    eps, modulus = float(photons_per_mode), abs(complex(visibility))
    return np.diag([eps**2 * modulus**2 / (1.0 + modulus**2), 0.0])


def gjc_fisher_information_leading_order(
    photons_per_mode, visibility, delay_phase=0.0, resource_efficiency=1.0, resource_visibility=1.0
):
    r"""GJC entanglement-assisted scheme ([GJC2012]_), O(ε).

    A star photon at one site and the shared photon of
    :math:`(|10\rangle + e^{i\delta}|01\rangle)/\sqrt2` coincide (one click per site) with
    probability :math:`\approx \eta_r\varepsilon/2`; conditioned on that, the four click
    patterns are a two-port interference with fringe :math:`V_r|g|\cos(\varphi-\delta)`.
    Hence half the lossless direct information, with the resource visibility in the fringe:

    .. math::
        F_{\mathrm{GJC}} \approx \tfrac12\,\eta_r\,
        F_{\mathrm{direct}}(\varepsilon, V_r g, \delta; \eta = 1),

    (derivatives still taken in the true :math:`|g|`). Independent of the starlight
    baseline loss (the star photon is detected locally). Resource model: efficiency
    :math:`\eta_r` (probability that the shared photon is present) and visibility
    :math:`V_r` (coherence of the single-photon Bell state; :math:`V_r = 2F - 1` for a
    dephased state of fidelity :math:`F`).

    Returns
    -------
    ndarray, shape (2, 2)
    """
    g = complex(visibility)
    return _click_pair_fisher(
        0.5 * resource_efficiency * photons_per_mode, abs(g), np.angle(g) - delay_phase, resource_visibility
    )


def kbdl_fisher_information(
    photons_per_mode,
    visibility,
    delay_phase=None,
    memory_efficiency=1.0,
    storage_time=0.0,
    coherence_time=np.inf,
    pair_fidelity=1.0,
    pairs_per_photon=1,
) -> np.ndarray:
    r"""KBDL memory-assisted interferometry ([KBDL2019a]_, [KBDL2019b]_), model at O(ε).

    **[M] model.** The protocol stores the photon (and its time-bin index, in a binary
    code of :math:`\log_2 M` qubits) in quantum memories and reads out the which-site
    phase by nonlocal parity checks, so it acts as lossless direct detection without
    transmitting starlight. Imperfections are modelled as

    .. math::
        F_{\mathrm{KBDL}} = F_{\mathrm{direct}}\big(\varepsilon, D g, \delta;\
            \eta = \eta_m\big),\qquad
        D = e^{-t/T_2}\Big(\frac{4F-1}{3}\Big)^{k},

    with memory efficiency :math:`\eta_m`, storage time :math:`t`, memory coherence time
    :math:`T_2`, Werner-pair fidelity :math:`F` (a Werner pair shrinks the Bloch vector,
    hence the visibility, by :math:`(4F-1)/3`) and :math:`k` pairs consumed per detected
    photon's phase readout. The derivative is still with respect to the true :math:`|g|`.
    With ``delay_phase=None`` the readout basis is assumed adapted to the phase
    (:math:`\psi = \pi/2`), giving :math:`F_\varphi = \eta_m\varepsilon D^2|g|^2`, the
    ":math:`\eta_\mathrm{eff}\,\varepsilon|g|^2`" of PHYSICS.md §3.3. No dependence on the
    baseline length.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    g = complex(visibility)
    offset = np.pi / 2 if delay_phase is None else np.angle(g) - delay_phase
    decay = np.exp(-storage_time / coherence_time) * ((4.0 * pair_fidelity - 1.0) / 3.0) ** pairs_per_photon
    return _click_pair_fisher(memory_efficiency * photons_per_mode, abs(g), offset, decay)


# --------------------------------------------------------------------------------------
# 3c. Exact photon-counting distributions of two-mode thermal states
# --------------------------------------------------------------------------------------


def two_mode_count_distribution(correlation, cutoff, correlation_derivatives=None) -> CountDistribution:
    r"""Exact joint photon-count distribution of a zero-mean two-mode Gaussian state
    with :math:`\langle a_i a_j\rangle = 0`, and its derivatives.

    The generating function is
    :math:`\sum P(n_0,n_1) z_0^{n_0}z_1^{n_1} = 1/\det[I + N(I - Z)]`, i.e.
    :math:`1/D(z)` with
    :math:`D = A - B z_0 - C z_1 + c\, z_0 z_1`, :math:`a = N_{00}`, :math:`b = N_{11}`,
    :math:`c = \det N`, :math:`A = 1 + a + b + c`, :math:`B = a + c`, :math:`C = b + c`.
    Matching powers in :math:`D\cdot G = 1` gives the exact recursion

    .. math::
        A\,P_{ij} = \delta_{i0}\delta_{j0} + B\,P_{i-1,j} + C\,P_{i,j-1} - c\,P_{i-1,j-1},

    and differentiating it gives :math:`\partial P` from :math:`\partial N` exactly.

    Parameters
    ----------
    correlation : array_like, shape (2, 2)
        :math:`N_{ij} = \langle a_i^\dagger a_j\rangle` of the detected modes.
    cutoff : int
        Counts :math:`0..\mathrm{cutoff}-1` per mode.
    correlation_derivatives : array_like, shape (k, 2, 2), optional

    Returns
    -------
    CountDistribution
    """
    n = np.asarray(correlation, dtype=complex)
    dn = np.zeros((0, 2, 2), complex) if correlation_derivatives is None else np.asarray(correlation_derivatives, complex)
    a, b = n[0, 0].real, n[1, 1].real
    c = a * b - abs(n[0, 1]) ** 2
    da, db = dn[:, 0, 0].real, dn[:, 1, 1].real
    dc = da * b + a * db - 2.0 * np.real(np.conj(n[0, 1]) * dn[:, 0, 1])
    big_a, big_b, big_c = 1 + a + b + c, a + c, b + c
    d_big_a, d_big_b, d_big_c = da + db + dc, da + dc, db + dc
    p = np.zeros((cutoff, cutoff))
    dp = np.zeros((len(dn), cutoff, cutoff))
    for i in range(cutoff):
        for j in range(cutoff):
            value = 1.0 if i == j == 0 else 0.0
            dvalue = np.zeros(len(dn))
            if i:
                value += big_b * p[i - 1, j]
                dvalue = dvalue + d_big_b * p[i - 1, j] + big_b * dp[:, i - 1, j]
            if j:
                value += big_c * p[i, j - 1]
                dvalue = dvalue + d_big_c * p[i, j - 1] + big_c * dp[:, i, j - 1]
            if i and j:
                value -= c * p[i - 1, j - 1]
                dvalue = dvalue - dc * p[i - 1, j - 1] - c * dp[:, i - 1, j - 1]
            p[i, j] = value / big_a
            dp[:, i, j] = (dvalue - d_big_a * p[i, j]) / big_a
    return CountDistribution(p, dp, float(1.0 - p.sum()))


def _fisher_from_distribution(probabilities, derivatives, floor=0.0):
    p = np.asarray(probabilities).reshape(-1)
    dp = np.asarray(derivatives).reshape(len(derivatives), -1)
    keep = p > floor
    return (dp[:, keep] / p[keep]) @ dp[:, keep].T


def combiner_correlation_matrix(photons_per_mode, visibility, delay_phase=0.0, transmission=1.0):
    r"""Output correlation matrix of the 50:50 combiner with delay and arm loss.

    Outputs :math:`b_\pm = (\sqrt\eta a_0 \pm e^{-i\delta}\sqrt\eta a_1)/\sqrt2 + \text{vacuum}`,
    i.e. :math:`b = U a` with :math:`U = \sqrt{\eta/2}\,[[1, e^{-i\delta}],[1, -e^{-i\delta}]]`,
    so :math:`N_{\mathrm{out}} = U^* N U^T`:

    .. math::
        \langle b_\pm^\dagger b_\pm\rangle = \frac{\eta\varepsilon}{2}\,(1 \pm |g|\cos(\varphi-\delta)),
        \qquad \langle b_+^\dagger b_-\rangle = -i\,\frac{\eta\varepsilon}{2}|g|\sin(\varphi-\delta).

    A thermal state stays thermal under passive optics and loss, so the output counts are
    given exactly by :func:`two_mode_count_distribution`.

    Returns
    -------
    CorrelationAndDerivatives : ndarray, shape (3, 2, 2)
        Index 0: :math:`N_{\mathrm{out}}`; 1, 2: its derivatives in :math:`|g|, \varphi`.
    """
    n = 0.5 * float(photons_per_mode)
    u = np.sqrt(transmission / 2.0) * np.array([[1.0, np.exp(-1j * delay_phase)], [1.0, -np.exp(-1j * delay_phase)]])
    stack = np.concatenate([photon_correlation_matrix(n, visibility)[None], _correlation_derivatives(n, visibility)])
    return np.einsum("ki,sij,lj->skl", u.conj(), stack, u)


def direct_count_distribution(photons_per_mode, visibility, delay_phase=0.0, transmission=1.0, cutoff=12):
    r"""Exact number-resolved count distribution of the two combiner outputs.

    See :func:`combiner_correlation_matrix` and :func:`two_mode_count_distribution`.

    Returns
    -------
    CountDistribution
        Axes (port +, port -); derivatives in ``(|g|, phi)``.
    """
    stack = combiner_correlation_matrix(photons_per_mode, visibility, delay_phase, transmission)
    return two_mode_count_distribution(stack[0], cutoff, stack[1:])


def direct_fisher_information(photons_per_mode, visibility, delay_phase=0.0, transmission=1.0, cutoff=12):
    r"""Exact Fisher matrix of direct detection (all number-resolved outcomes).

    :math:`F_{ij} = \sum_{n_+, n_-} \partial_i P\,\partial_j P / P` over the truncated box;
    the neglected mass is ``direct_count_distribution(...).tail_probability``
    (:math:`\sim(\eta\varepsilon)^{\mathrm{cutoff}}`). Checkpoint (PHYSICS.md §3.3):
    ε = 0.01, |g| = 0.5, φ − δ = π/2 gives :math:`F_\varphi = 2.4907\times10^{-3}` = exact QFI.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    dist = direct_count_distribution(photons_per_mode, visibility, delay_phase, transmission, cutoff)
    return _fisher_from_distribution(dist.probabilities, dist.derivatives)


def intensity_count_distribution(photons_per_mode, visibility, transmission=1.0, cutoff=12):
    r"""Exact joint count distribution of local photon counting at the two sites (HBT).

    The detected modes are the (lossy) aperture modes themselves,
    :math:`N \to \eta N`; see :func:`two_mode_count_distribution`.

    Returns
    -------
    CountDistribution
        Axes (site 0, site 1); derivatives in ``(|g|, phi)`` (the phase derivative vanishes).
    """
    n = 0.5 * float(photons_per_mode) * transmission
    return two_mode_count_distribution(
        photon_correlation_matrix(n, visibility), cutoff, _correlation_derivatives(n, visibility)
    )


def intensity_fisher_information(photons_per_mode, visibility, transmission=1.0, cutoff=12):
    r"""Exact Fisher matrix of intensity interferometry from the full PNR joint distribution.

    Any classical post-processing of the two local count records (e.g. the coincidence
    correlation :math:`\langle n_0 n_1\rangle - \langle n_0\rangle\langle n_1\rangle
    = \bar n^2|g|^2`) carries at most this information. Checkpoints (PHYSICS.md §3.3,
    |g| = 0.5): ε = 0.1 → :math:`F_{|g|} = 1.812\times10^{-3}`; ε = 0.01 →
    :math:`1.980\times10^{-5}`; leading order :math:`\varepsilon^2|g|^2/(1+|g|^2)`.

    Returns
    -------
    ndarray, shape (2, 2)
    """
    dist = intensity_count_distribution(photons_per_mode, visibility, transmission, cutoff)
    return _fisher_from_distribution(dist.probabilities, dist.derivatives)


def sample_thermal_counts(correlation, copies, rng, transfer=None) -> np.ndarray:
    r"""Vectorised photon-count sampler for a thermal state through passive optics.

    Uses the Glauber–Sudarshan representation: a thermal state with
    :math:`N_{ij} = \langle a_i^\dagger a_j\rangle` is a Gaussian mixture of coherent states,
    :math:`\alpha \sim \mathcal{CN}(0, N^T)` (:math:`\langle\alpha_i^*\alpha_j\rangle = N_{ij}`).
    A passive (possibly lossy) network :math:`b = T a` maps :math:`\alpha \to T\alpha`,
    and the counts are independent Poisson with means :math:`|(T\alpha)_k|^2`.

    Parameters
    ----------
    correlation : array_like, shape (M, M)
    copies : int
    rng : numpy.random.Generator
    transfer : array_like, shape (K, M), optional
        Amplitude transfer matrix (identity: local counting).

    Returns
    -------
    ndarray of int, shape (copies, K)
    """
    n = np.asarray(correlation, dtype=complex)
    values, vectors = np.linalg.eigh(n.T)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    z = (rng.standard_normal((copies, n.shape[0])) + 1j * rng.standard_normal((copies, n.shape[0]))) / np.sqrt(2.0)
    alpha = z @ root.T
    if transfer is not None:
        alpha = alpha @ np.asarray(transfer, dtype=complex).T
    return rng.poisson(np.abs(alpha) ** 2)


# --------------------------------------------------------------------------------------
# 3d. GJC in Fock space
# --------------------------------------------------------------------------------------


def _balanced_beamsplitter(dim):
    # Two-mode 50:50 beam splitter exp[(pi/4)(a^dag c - a c^dag)] on a (dim x dim) box.
    # The generator conserves a^dag a + c^dag c, so blocks with total <= dim - 1 are exact.
    lower = np.diag(np.sqrt(np.arange(1, dim)), 1)
    a = np.kron(lower, np.eye(dim))
    c = np.kron(np.eye(dim), lower)
    return scipy.linalg.expm((np.pi / 4.0) * (a.T @ c - a @ c.T))


def gjc_outcome_probabilities(
    photons_per_mode,
    visibility,
    delay_phase=0.0,
    resource_efficiency=1.0,
    resource_visibility=1.0,
    star_cutoff=4,
    step=1e-3,
) -> SchemeOutcomes:
    r"""Exact Fock-space outcome probabilities of the GJC scheme ([GJC2012]_).

    Modes per site j: star mode :math:`a_j` and resource mode :math:`c_j`. Resource state

    .. math::
        \rho_r = \eta_r\Big[\tfrac12(|10\rangle\langle10| + |01\rangle\langle01|)
        + \tfrac{V_r}{2}(e^{-i\delta}|10\rangle\langle01| + e^{i\delta}|01\rangle\langle10|)\Big]
        + (1-\eta_r)|00\rangle\langle00|,

    i.e. :math:`(|10\rangle + e^{i\delta}|01\rangle)/\sqrt2` with efficiency :math:`\eta_r`
    and coherence :math:`V_r`. At each site :math:`a_j, c_j` meet on a 50:50 beam splitter and
    both outputs are counted (PNR). The star state is the thewalrus Fock density matrix
    (total truncation ``star_cutoff - 1`` photons per mode; neglected mass returned).
    Derivatives in :math:`(|g|, \varphi)` by a fourth-order central difference of the star
    state with step ``step`` (error :math:`O(h^4)`, about 1e-12 relative); within two steps of
    :math:`|g| = 1` (a point source) the amplitude derivative is a fourth-order backward difference.

    Returns
    -------
    SchemeOutcomes
        ``probabilities`` with axes (site 0 port 1, site 0 port 2, site 1 port 1, site 1 port 2),
        each of size ``star_cutoff + 1``.
    """
    g = complex(visibility)
    modulus, phase = abs(g), np.angle(g)
    dim = star_cutoff + 1
    bs = _balanced_beamsplitter(dim)  # acts on (a_j, c_j) of one site
    resource = np.zeros((dim,) * 4, complex)  # (c0, c1, c0', c1')
    resource[0, 0, 0, 0] = 1.0 - resource_efficiency
    half = 0.5 * resource_efficiency
    resource[1, 0, 1, 0] = resource[0, 1, 0, 1] = half
    resource[1, 0, 0, 1] = half * resource_visibility * np.exp(-1j * delay_phase)
    resource[0, 1, 1, 0] = half * resource_visibility * np.exp(1j * delay_phase)

    def probabilities(mod, ph):
        star = fock_density_matrix(0.5 * photons_per_mode, mod * np.exp(1j * ph), star_cutoff)
        # SF order (a0, a0', a1, a1') -> (a0, a1, a0', a1'), embed into dim
        star = np.transpose(star, (0, 2, 1, 3))
        box = np.zeros((dim,) * 4, complex)
        box[:star_cutoff, :star_cutoff, :star_cutoff, :star_cutoff] = star
        joint = np.einsum("abAB,cdCD->acbdACBD", box, resource)  # (a0,c0,a1,c1 | bras)
        rho = joint.reshape((dim * dim,) * 4)  # (site0, site1 | site0', site1')
        # P(x, y) = sum U[x,s] U[y,t] rho[s,t,S,T] U*[x,S] U*[y,T]: one site at a time
        kets = np.tensordot(bs, np.tensordot(bs, rho, axes=(1, 0)), axes=(1, 1))  # (y, x, S, T)
        bras = np.einsum("yxST,xS->yxT", kets, bs.conj())
        diag = np.einsum("yxT,yT->xy", bras, bs.conj())
        return np.real(diag).reshape((dim,) * 4)

    base = probabilities(modulus, phase)
    derivatives = []
    for shift in (np.array([step, 0.0]), np.array([0.0, step])):
        if shift[0] and modulus + 2 * step > 1.0:
            # |g| within 2 steps of 1 (a point source): |g| > 1 is no state, so a fourth-order
            # backward difference (25 f0 - 48 f-1 + 36 f-2 - 16 f-3 + 3 f-4) / 12h
            terms = [probabilities(modulus - k * step, phase) for k in (1, 2, 3, 4)]
            derivatives.append((25 * base - 48 * terms[0] + 36 * terms[1] - 16 * terms[2] + 3 * terms[3]) / (12.0 * step))
            continue
        terms = [probabilities(modulus + k * shift[0], phase + k * shift[1]) for k in (-2, -1, 1, 2)]
        derivatives.append((terms[0] - 8 * terms[1] + 8 * terms[2] - terms[3]) / (12.0 * step))
    return SchemeOutcomes(base, np.stack(derivatives), float(1.0 - base.sum()))


def gjc_fisher_information(
    photons_per_mode,
    visibility,
    delay_phase=0.0,
    resource_efficiency=1.0,
    resource_visibility=1.0,
    postselect_coincidences=True,
    star_cutoff=4,
) -> np.ndarray:
    r"""Exact Fisher matrix of GJC in :math:`(|g|, \varphi)`.

    With ``postselect_coincidences`` the record keeps the four detector patterns with
    exactly one photon at each site and lumps every other pattern into one "reject"
    outcome (the scheme of [GJC2012]_); otherwise all PNR patterns are used.
    Ratio to lossless direct detection → 1/2 as ε → 0 in both cases. The PHYSICS.md §3.3
    checkpoints (0.4958 at φ − δ = π/2 and 0.4955 at π/3 for ε = 0.01, |g| = 0.5) are the
    **all-pattern** values (reproduced: 0.49577, 0.49548); strict one-click-per-site
    post-selection gives 0.49013 and 0.48972 (the discarded two-photon patterns still carry
    O(ε²) phase information).

    Returns
    -------
    ndarray, shape (2, 2)
    """
    out = gjc_outcome_probabilities(
        photons_per_mode, visibility, delay_phase, resource_efficiency, resource_visibility, star_cutoff
    )
    p, dp = out.probabilities, out.derivatives
    if not postselect_coincidences:
        return _fisher_from_distribution(p, dp)
    per_site = np.add.outer(np.arange(p.shape[0]), np.arange(p.shape[1]))
    mask = (per_site[:, :, None, None] == 1) & (per_site[None, None, :, :] == 1)
    kept_p, kept_dp = p[mask], dp[:, mask]
    coarse_p = np.append(kept_p, 1.0 - kept_p.sum())
    coarse_dp = np.concatenate([kept_dp, -kept_dp.sum(axis=1, keepdims=True)], axis=1)
    return _fisher_from_distribution(coarse_p, coarse_dp)


# --------------------------------------------------------------------------------------
# 4. Entanglement consumption
# --------------------------------------------------------------------------------------


def gjc_ebits_per_copy(baselines=1) -> float:
    r"""GJC: one distributed single-photon Bell pair per temporal mode per baseline.

    The arrival time of a star photon is unknown, so a resource photon must be present in
    every detector time bin ([GJC2012]_; PHYSICS.md §3.4 [M], order-of-magnitude model).
    """
    return float(baselines)


def gjc_ebits_per_detected_photon(photons_per_mode, baselines=1, per_coincidence=False):
    r"""GJC ebits per arriving star photon, :math:`\approx 1/\varepsilon` (or :math:`2/\varepsilon`
    per successful coincidence, which occurs with probability :math:`\approx\varepsilon/2`)."""
    eps = np.asarray(photons_per_mode, dtype=float)
    return gjc_ebits_per_copy(baselines) / (0.5 * eps if per_coincidence else eps)


def kbdl_ebits_per_copy(photons_per_mode, window_bins=None, overhead_ebits=0.0):
    r"""KBDL ebits per temporal mode ([KBDL2019a]_; PHYSICS.md §3.4 [M]).

    A window of :math:`M` time bins with :math:`M\varepsilon \lesssim 1` (default
    :math:`M = \mathrm{round}(1/\varepsilon)`) stores the arrival-time index in
    :math:`\log_2 M` memory qubits per site; the nonlocal parity checks that read out the
    phase cost :math:`\log_2 M + c` ebits per window:

    .. math:: e_{\mathrm{copy}} = \frac{\log_2 M + c}{M}.
    """
    eps = np.asarray(photons_per_mode, dtype=float)
    bins = np.maximum(1, np.round(1.0 / eps)) if window_bins is None else np.asarray(window_bins, float)
    return (np.log2(bins) + overhead_ebits) / bins


def kbdl_ebits_per_detected_photon(photons_per_mode, window_bins=None, overhead_ebits=0.0):
    r"""KBDL ebits per arriving photon, :math:`(\log_2 M + c)/(M\varepsilon) \approx \log_2(1/\varepsilon)`:
    the "exponential decrease in required entanglement bandwidth" of [KBDL2019a]_.
    (ε = 1e−2, 1e−3, 1e−4 → 6.6, 10.0, 13.3 with c = 0.)"""
    eps = np.asarray(photons_per_mode, dtype=float)
    return kbdl_ebits_per_copy(eps, window_bins, overhead_ebits) / eps


# --------------------------------------------------------------------------------------
# 5. Copies and observing time
# --------------------------------------------------------------------------------------


def copies_to_precision(fisher, target_sigma):
    r"""Copies needed for a Cramér–Rao standard deviation ``target_sigma``.

    Scalar: :math:`\nu = 1/(F\sigma^2)`. Matrix: per parameter,
    :math:`\nu_k = (F^{-1})_{kk}/\sigma_k^2` (other parameters unknown).

    Returns
    -------
    ndarray
        Copies (not rounded).
    """
    fisher = np.asarray(fisher, dtype=float)
    sigma = np.asarray(target_sigma, dtype=float)
    if fisher.ndim == 2:
        return np.diag(np.linalg.inv(fisher)) / sigma**2
    return 1.0 / (fisher * sigma**2)


def temporal_modes_per_second(wavelength, bandwidth_wavelength):
    r"""Temporal modes per second, :math:`\Delta\nu = c\,\Delta\lambda/\lambda^2` (Hz).

    (10 nm at 550 nm → 9.9e12 s⁻¹; PHYSICS.md §10.2.)
    """
    return SPEED_OF_LIGHT * np.asarray(bandwidth_wavelength, float) / np.asarray(wavelength, float) ** 2


def observing_time(copies, wavelength, bandwidth_wavelength):
    r"""Observing time in seconds, :math:`t = \nu/\Delta\nu`."""
    return np.asarray(copies, float) / temporal_modes_per_second(wavelength, bandwidth_wavelength)
