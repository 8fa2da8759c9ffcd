"""Typed photonic states handed from scenes to detectors (the contracts layer).

Conventions (Strawberry Fields): hbar = 2, quadratures x = a + a^dagger and
p = -i(a - a^dagger), xxpp ordering, vacuum covariance = identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensing.physics.modes import HermiteGaussModes, HermiteGaussModes2D

HBAR = 2.0

@dataclass(frozen=True)
class GaussianState:
    """A Gaussian state of ``n`` modes: covariance (2n x 2n, xxpp, vacuum = I) and means.

    Attributes
    ----------
    cov, means : ndarray
        Strawberry Fields conventions (hbar = 2).
    modes : HermiteGaussModes or HermiteGaussModes2D or None
        The spatial modes the optical modes stand for, when the state lives in an
        image plane (detectors that act on positions use it).
    classical : bool
        True when the state is P-representable (thermal, coherent and their mixtures),
        which permits exact sampling of photon counts through the P function.
    """

    cov: np.ndarray
    means: np.ndarray
    modes: HermiteGaussModes | HermiteGaussModes2D | None = None
    classical: bool = False
    hbar: float = field(default=HBAR)

    @property
    def num_modes(self) -> int:
        return self.cov.shape[-1] // 2

    def photon_correlation(self) -> np.ndarray:
        r"""Normally ordered correlation :math:`\Gamma_{ij}=\langle a_i^\dagger a_j\rangle`
        (see :func:`sensing.physics.gaussian.photon_correlation`)."""
        from sensing.physics.gaussian import photon_correlation

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
    :math:`E[\alpha_i^*\alpha_j] = \Gamma_{ij} = \langle a_i^\dagger a_j\rangle`. The light is
    held through a factor :math:`L` with :math:`\Gamma^T = LL^\dagger` (K x r, r = rank, e.g.
    the source amplitudes :math:`L_{qs} = \sqrt{N_s}\,c_{qs}` of r incoherent point sources),
    so detectors never need the K x K matrix of a batch of parameter points.
    This is the fast path a scene computes without running Strawberry Fields; the tests
    check that it equals the state Strawberry Fields builds from the scene's program.

    Attributes
    ----------
    factor : ndarray, shape ``(..., K, r)``
        :math:`L` for each parameter point of a batch.
    modes : HermiteGaussModes or HermiteGaussModes2D
    """

    factor: np.ndarray
    modes: HermiteGaussModes | HermiteGaussModes2D

    @property
    def correlation(self) -> np.ndarray:
        r""":math:`\Gamma = \bar L L^T`, shape ``(..., K, K)``."""
        return np.conj(self.factor) @ np.swapaxes(self.factor, -1, -2)

    @classmethod
    def from_state(cls, state: GaussianState) -> "ThermalLight":
        r"""The light of a zero-mean classical state; L from the eigenvectors of :math:`\Gamma^T`.

        Eigenvalues below 1e-14 of the largest, or below 1e-14 photons (the rounding level of a
        covariance whose vacuum is the identity), are rounding noise and are dropped: the rank
        r of L is then the number of incoherent sources.
        """
        if state.modes is None or not state.classical or np.any(np.abs(state.means) > 1e-12):
            raise ValueError("ThermalLight needs a zero-mean classical state in image-plane modes")
        values, vectors = np.linalg.eigh(state.photon_correlation().T)
        keep = values > 1e-14 * max(values.max(), 1.0)
        return cls(vectors[:, keep] * np.sqrt(values[keep]), state.modes)


@dataclass(frozen=True)
class ChannelProbe:
    r"""What a channel-learning detector needs of a random displacement channel: the channel
    itself (its displacement distribution :math:`p(\alpha)`, see
    :mod:`sensing.physics.displacements`) and the query set :math:`\{\beta_q\}` of the task.

    The detector chooses the probe it sends (vacuum, squeezed, half of an EPR pair held in a
    memory) and builds its own outcome model from these.

    Attributes
    ----------
    channel : DisplacementDistribution
    queries : ndarray, complex, shape ``(Q, n)``
    """

    channel: object
    queries: np.ndarray

    @property
    def modes(self) -> int:
        return int(self.channel.modes)



@dataclass(frozen=True)
class ApertureLight:
    r"""Zero-mean thermal light collected by the apertures of a telescope array, per temporal mode.

    The state of one copy (one temporal mode) is the M-mode thermal state with
    :math:`N_{ij} = \langle a_i^\dagger a_j\rangle = \bar n_{ij}\,g_{ij}` (van Cittert-Zernike),
    i.e. covariance ``thermal_covariance(N)`` in SF conventions. Batched over parameter points
    like :class:`ThermalLight` (the leading dims of ``correlation``).

    Attributes
    ----------
    correlation : ndarray, complex, shape ``(..., M, M)``
        :math:`N_{ij}`.
    positions : ndarray, shape ``(M, 2)``
        Aperture positions (east, north), metres.
    wavelength : float
        Metres.
    reference_phase : ndarray, shape ``(M, M)``
        Phase of :math:`g_{ij}` at the scene's true parameter values (what a fringe tracker
        locks to); detectors with ``delay_reference: tracked`` set their delays relative to it.
    aperture_diameter : float
        Metres (free-space relays use it).
    modes_per_second : float or None
        Temporal modes per second (the optical bandwidth in Hz), when the scene knows it.
    """

    correlation: np.ndarray
    positions: np.ndarray
    wavelength: float
    reference_phase: np.ndarray
    aperture_diameter: float = 1.0
    modes_per_second: float | None = None

    classical = True

    @property
    def num_apertures(self) -> int:
        return int(self.positions.shape[0])

    def with_correlation(self, correlation: np.ndarray) -> "ApertureLight":
        """The same array with another correlation matrix (e.g. a perturbed visibility)."""
        return ApertureLight(np.asarray(correlation, dtype=complex), self.positions, self.wavelength,
                             self.reference_phase, self.aperture_diameter, self.modes_per_second)
