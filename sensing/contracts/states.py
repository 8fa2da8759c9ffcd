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
    """A density matrix in the Fock basis with a photon-number cutoff per mode.

    ``reference`` (optional): the state the source meant to prepare, before its loss (e.g. the
    target of a fidelity estimate), in the same basis.
    """

    density_matrix: np.ndarray
    cutoff: int
    classical: bool = False
    reference: np.ndarray | None = None

    def after_loss(self, transmissivity: float) -> np.ndarray:
        r"""Single-mode density matrix after pure loss :math:`\mathcal L_\eta(\rho) = \sum_k E_k\rho E_k^\dagger`,
        :math:`E_k = \sum_n\sqrt{\binom nk\eta^{n-k}(1-\eta)^k}\,|n-k\rangle\langle n|` (same cutoff: loss
        lowers the photon number)."""
        from scipy.special import comb

        rho = np.asarray(self.density_matrix, dtype=complex)
        eta = float(transmissivity)
        if eta == 1.0:
            return rho.copy()
        d = len(rho)
        n = np.arange(d)
        out = np.zeros((d, d), dtype=complex)
        for k in range(d):
            e = np.zeros((d, d))
            e[n[k:] - k, n[k:]] = np.sqrt(comb(n[k:], k) * eta ** (n[k:] - k) * (1 - eta) ** k)
            out += e @ rho @ e.T
        return out


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
class QubitState:
    r"""One copy of an n-qubit photonic register (dual-rail or polarisation encoding), with the
    noise that acts on it before a per-qubit measurement.

    Every qubit is one photon in two modes (two rails, or H/V polarisation), so losing the photon
    (source transmissivity ``survival`` times a detector's efficiency) is a heralded *erasure*:
    neither rail clicks. Pauli noise acts just before the measurement: depolarising
    :math:`\rho\mapsto(1-p)\rho+\tfrac p3\sum_\sigma\sigma\rho\sigma` and dephasing
    :math:`\rho\mapsto(1-q)\rho+qZ\rho Z` on every qubit (see :mod:`sensing.physics.shadows`).

    Subclasses hold the noiseless state: :class:`StabilizerState` (a stim circuit, any size) or
    :class:`QubitDensityState` (a dense vector or density matrix, up to ~12 qubits).

    Attributes
    ----------
    qubits : int
    survival : float
        Probability that a qubit's photon reaches the detectors (independent per qubit).
    depolarizing, dephasing : float
        Per-qubit Pauli-noise probabilities.
    encoding : str
        ``"dual_rail"`` or ``"polarization"`` (the same erasure model; recorded for provenance).
    """

    qubits: int
    survival: float = 1.0
    depolarizing: float = 0.0
    dephasing: float = 0.0
    encoding: str = "dual_rail"

    def noiseless_expectations(self, paulis) -> np.ndarray:
        """:math:`\\operatorname{tr}(P\\rho_0)` of the noiseless state for Pauli strings (subclasses)."""
        raise NotImplementedError

    def expectations(self, paulis) -> np.ndarray:
        r"""Exact :math:`\operatorname{tr}(P\rho)` of the state as measured (after the Pauli noise).

        Erasure does not enter: a surviving qubit's outcome is that of the noisy state's marginal.
        """
        from sensing.physics.shadows import pauli_noise_attenuation

        paulis = list(paulis)
        if not paulis:
            return np.zeros(0)
        return self.noiseless_expectations(paulis) * pauli_noise_attenuation(paulis, self.depolarizing, self.dephasing)

    def density_matrix(self) -> np.ndarray:
        r"""The measured (noisy) density matrix, big-endian, for small registers (``qubits <= 8``):
        the per-qubit depolarising and dephasing channels applied to the noiseless state."""
        if self.qubits > 8:
            raise ValueError(f"a dense density matrix of {self.qubits} qubits is too large (at most 8)")
        state = np.asarray(self.dense(), dtype=complex)
        rho = np.outer(state, state.conj()) if state.ndim == 1 else state.copy()
        n = self.qubits
        paulis = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.diag([1.0 + 0j, -1.0])]
        for q in range(n):
            def conj(u, r):
                t = r.reshape((2,) * 2 * n)
                t = np.moveaxis(np.tensordot(u, t, axes=([1], [q])), 0, q)
                t = np.moveaxis(np.tensordot(u.conj(), t, axes=([1], [n + q])), 0, n + q)
                return t.reshape(2**n, 2**n)
            p, d = self.depolarizing, self.dephasing
            if p:
                rho = (1 - p) * rho + p / 3 * sum(conj(u, rho) for u in paulis)
            if d:
                rho = (1 - d) * rho + d * conj(paulis[2], rho)
        return rho

    def bloch_vectors(self) -> np.ndarray:
        """Per-qubit :math:`(\\langle X\\rangle, \\langle Y\\rangle, \\langle Z\\rangle)` after the noise, shape ``(qubits, 3)``."""
        n = self.qubits
        strings = ["I" * q + letter + "I" * (n - q - 1) for q in range(n) for letter in "XYZ"]
        return self.expectations(strings).reshape(n, 3)


@dataclass(frozen=True)
class StabilizerState(QubitState):
    """A stabilizer state prepared from ``|0...0>`` by the unitary Clifford ``circuit`` (a ``stim.Circuit``)."""

    circuit: object = None

    def noiseless_expectations(self, paulis) -> np.ndarray:
        import stim

        sim = stim.TableauSimulator()
        sim.do_circuit(self.circuit)
        return np.array([float(sim.peek_observable_expectation(stim.PauliString(p.upper().replace("I", "_"))))
                         for p in paulis])

    def dense(self) -> np.ndarray:
        """Big-endian state vector (small n only; global phase arbitrary)."""
        from sensing.physics.shadows import stabilizer_state_vector

        return stabilizer_state_vector(self.circuit)


@dataclass(frozen=True)
class QubitDensityState(QubitState):
    """A generic qubit state: big-endian state vector ``(2**n,)`` or density matrix ``(2**n, 2**n)``."""

    density: np.ndarray = None

    def noiseless_expectations(self, paulis) -> np.ndarray:
        return dense_pauli_expectations(self.density, paulis)

    def dense(self) -> np.ndarray:
        return np.asarray(self.density)


def dense_pauli_expectations(state: np.ndarray, paulis) -> np.ndarray:
    r"""Exact :math:`\operatorname{tr}(P\rho)` for Pauli strings on a big-endian dense state.

    With :math:`P = i^{n_Y}X^{x}Z^{z}` (bit masks, qubit 0 the most significant bit),
    :math:`\operatorname{tr}(P\rho) = i^{n_Y}\sum_k(-1)^{|k\wedge z|}\rho_{k,k\oplus x}`, O(2^n) per string.
    """
    state = np.asarray(state, dtype=complex)
    dim = state.shape[0]
    n = dim.bit_length() - 1
    k = np.arange(dim)
    out = np.empty(len(paulis))
    for m, p in enumerate(paulis):
        p = p.upper()
        if len(p) != n:
            raise ValueError(f"Pauli string {p!r} has length {len(p)}; the state has {n} qubits")
        x = sum(1 << (n - 1 - q) for q, c in enumerate(p) if c in "XY")
        z = sum(1 << (n - 1 - q) for q, c in enumerate(p) if c in "ZY")
        ny = p.count("Y")
        parity = np.bitwise_count(k & z) & 1 if z else np.zeros(dim, dtype=np.int64)
        sign = 1 - 2 * parity.astype(np.int64)
        if state.ndim == 1:
            elements = state * np.conj(state[k ^ x])  # rho_{k, k^x} = psi_k conj(psi_{k^x})
        else:
            elements = state[k, k ^ x]
        out[m] = float(np.real((1j**ny) * np.sum(sign * elements)))
    return out


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
