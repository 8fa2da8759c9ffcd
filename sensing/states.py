"""Photonic states handed from scenes to detectors.

Conventions (Strawberry Fields): hbar = 2, quadratures x = a + a^dagger and
p = -i(a - a^dagger), xxpp ordering, vacuum covariance = identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial

import numpy as np
from scipy.special import roots_legendre

HBAR = 2.0


@dataclass(frozen=True)
class HermiteGaussModes:
    r"""A basis of 1-D Hermite-Gauss spatial modes in the image plane.

    Mode :math:`q` is :math:`\phi_q(x) = (2\pi\sigma^2)^{-1/4} e^{-(x-c)^2/(4\sigma^2)}
    H_q\big((x-c)/(\sqrt2\sigma)\big)/\sqrt{2^q q!}`, so :math:`|\phi_0|^2` is the
    normal density of standard deviation :math:`\sigma` (the PSF width of Tsang, Nair and
    Lu, PRX 6, 031033 (2016)).

    Parameters
    ----------
    count : int
        Number of modes kept (q = 0 .. count-1).
    width : float
        Intensity standard deviation sigma of mode 0, in the config's length units.
    center : float
        Position of the basis centre (the optical axis).
    """

    count: int
    width: float
    center: float = 0.0

    def functions(self, x: np.ndarray) -> np.ndarray:
        """Mode amplitudes at positions ``x``; shape ``(count, len(x))`` (stable recurrence)."""
        u = (np.asarray(x, dtype=float) - self.center) / (np.sqrt(2.0) * self.width)
        out = np.empty((self.count, u.size))
        out[0] = (2 * np.pi * self.width**2) ** -0.25 * np.exp(-(u**2) / 2)
        if self.count > 1:
            out[1] = np.sqrt(2.0) * u * out[0]
        for q in range(2, self.count):
            out[q] = np.sqrt(2.0 / q) * u * out[q - 1] - np.sqrt((q - 1) / q) * out[q - 2]
        return out

    def point_source_amplitudes(self, positions: np.ndarray) -> np.ndarray:
        r"""Overlaps :math:`\langle\phi_q|\psi_X\rangle` of the basis with the PSF centred at X.

        :math:`\langle\phi_q|\psi_X\rangle = e^{-Q/2}\,(X/2\sigma)^q/\sqrt{q!}`,
        :math:`Q = X^2/(4\sigma^2)` (TNL 2016, Eq. (4.4)); vectorised over ``positions``.

        Returns
        -------
        ndarray, shape ``positions.shape + (count,)``
        """
        shift = (np.asarray(positions, dtype=float) - self.center) / (2.0 * self.width)
        q = np.arange(self.count)
        norm = np.array([1.0 / np.sqrt(float(factorial(k))) for k in q])
        return np.exp(-(shift[..., None] ** 2) / 2.0) * shift[..., None] ** q * norm

    def region_operators(self, edges: np.ndarray, nodes: int = 24) -> np.ndarray:
        r"""Matrices :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}} \phi_q\phi_r\,dx` of intervals.

        The photon number in region k is :math:`\hat a^\dagger M_k \hat a` in this basis.
        Gauss-Legendre quadrature with ``nodes`` points per interval (exact to machine
        precision for intervals up to a few sigma wide).

        Returns
        -------
        ndarray, shape ``(len(edges) - 1, count, count)``
        """
        edges = np.asarray(edges, dtype=float)
        t, w = roots_legendre(nodes)
        lo, hi = edges[:-1, None], edges[1:, None]
        x = 0.5 * (hi - lo) * t + 0.5 * (hi + lo)
        weights = 0.5 * (hi - lo) * w
        phi = self.functions(x.ravel()).reshape(self.count, *x.shape)
        return np.einsum("qkn,rkn,kn->kqr", phi, phi, weights)


@dataclass(frozen=True)
class GaussianState:
    """A Gaussian state of ``n`` modes: covariance (2n x 2n, xxpp, vacuum = I) and means.

    Attributes
    ----------
    cov, means : ndarray
        Strawberry Fields conventions (hbar = 2).
    modes : HermiteGaussModes or None
        The spatial modes the optical modes stand for, when the state lives in an
        image plane (detectors that act on positions use it).
    classical : bool
        True when the state is P-representable (thermal, coherent and their mixtures),
        which permits exact sampling of photon counts through the P function.
    """

    cov: np.ndarray
    means: np.ndarray
    modes: HermiteGaussModes | None = None
    classical: bool = False
    hbar: float = field(default=HBAR)

    @property
    def num_modes(self) -> int:
        return self.cov.shape[-1] // 2

    def photon_correlation(self) -> np.ndarray:
        r"""Normally ordered correlation :math:`\Gamma_{ij}=\langle a_i^\dagger a_j\rangle`
        (see :func:`sensing.gaussian.photon_correlation`)."""
        from sensing.gaussian import photon_correlation

        return photon_correlation(self.cov, self.means, self.hbar)

    def tensor_power(self, copies: int) -> "GaussianState":
        """The state of ``copies`` independent copies (direct sum of covariances, xxpp)."""
        n = self.num_modes
        eye = np.eye(copies)
        blocks = [[np.kron(eye, self.cov[a * n:(a + 1) * n, b * n:(b + 1) * n]) for b in (0, 1)] for a in (0, 1)]
        means = np.concatenate([np.tile(self.means[:n], copies), np.tile(self.means[n:], copies)])
        return GaussianState(np.block(blocks), means, None, self.classical, self.hbar)


@dataclass(frozen=True)
class FockState:
    """A density matrix in the Fock basis with a photon-number cutoff per mode."""

    density_matrix: np.ndarray
    cutoff: int
    classical: bool = False


@dataclass(frozen=True)
class ThermalLight:
    r"""Zero-mean classical light in an image plane, in closed form, vectorised over parameters.

    The P function is a circular complex Gaussian with
    :math:`E[\alpha_i^*\alpha_j] = \Gamma_{ij} = \langle a_i^\dagger a_j\rangle`.
    This is the fast path a scene computes without running Strawberry Fields; the tests
    check that it equals the state Strawberry Fields builds from the scene's program.

    Attributes
    ----------
    correlation : ndarray, shape ``(..., K, K)``
        :math:`\Gamma` for each parameter point of a batch.
    modes : HermiteGaussModes
    """

    correlation: np.ndarray
    modes: HermiteGaussModes

    @classmethod
    def from_state(cls, state: GaussianState) -> "ThermalLight":
        if state.modes is None or not state.classical or np.any(np.abs(state.means) > 1e-12):
            raise ValueError("ThermalLight needs a zero-mean classical state in image-plane modes")
        return cls(state.photon_correlation(), state.modes)
