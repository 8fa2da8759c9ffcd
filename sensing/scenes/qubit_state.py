r"""Photonic qubit registers for classical shadows: stabilizer states of any size through ``stim``,
generic dense states of a few qubits, with Pauli noise and photon loss.

Encoding. Qubit :math:`q` is one photon in two modes :math:`(2q, 2q+1)`: dual rail
(:math:`|0_L\rangle = |1,0\rangle`, :math:`|1_L\rangle = |0,1\rangle`) or polarisation (H, V),
which are the same two-mode model. Loss of transmissivity :math:`\eta` on every mode removes the
photon with probability :math:`1-\eta`: the qubit is *erased* (no detector clicks), heralded, and
the shadow estimators account for it (:func:`sensing.physics.shadows.estimate_observables`).

The scene provides

* :class:`~sensing.contracts.states.StabilizerState` or
  :class:`~sensing.contracts.states.QubitDensityState` (the register, its noise and its
  transmissivity) for the shadow detectors;
* :class:`~sensing.contracts.states.GaussianState`: the first and second moments of the 2n
  optical modes (zero means; :math:`\Gamma_{ij} = \langle a_i^\dagger a_j\rangle` is block
  diagonal, per qubit :math:`\eta\,[[\rho_{00}, \rho_{10}], [\rho_{01}, \rho_{11}]]` of the
  qubit's reduced state, since :math:`a_{2q}^\dagger a_{2q+1} = |0_L\rangle\langle 1_L|`; :math:`\langle a_ia_j\rangle = 0`). This is the moment-matched Gaussian
  (the state itself is not Gaussian); for up to :data:`SF_STATE_MAX_QUBITS` qubits it is computed
  from the density matrix that Strawberry Fields' Fock backend builds from :meth:`program`
  (encoded register, then ``LossChannel`` on every mode), and the tests check the closed form
  against it.
"""

from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensing.contracts.engine import run_fock
from sensing.contracts.scene import Parameter, Scene
from sensing.contracts.states import GaussianState, QubitDensityState, QubitState, StabilizerState
from sensing.physics import shadows as sh
from sensing.physics.gaussian import thermal_covariance

#: Above this many qubits the Gaussian moments are computed in closed form (SF Fock state checked equal in tests).
SF_STATE_MAX_QUBITS = 3
#: Largest register held as a dense vector.
MAX_DENSE_QUBITS = 12
#: Largest stabilizer register.
MAX_STABILIZER_QUBITS = 1000
STABILIZER_FAMILIES = ("product", "ghz", "graph", "cluster")
DENSE_FAMILIES = ("w", "haar")


class QubitStateSettings(BaseModel):
    """Config of ``source.kind: qubit_state``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["qubit_state"] = "qubit_state"
    state: Literal["product", "ghz", "graph", "cluster", "w", "haar"] = Field(
        "ghz", description="product, ghz, graph, cluster (stabilizer, any size); w, haar (dense, <= 12 qubits)")
    qubits: int = Field(ge=1, le=MAX_STABILIZER_QUBITS, description="number of qubits n (photons per copy before loss)")
    labels: str | None = Field(None, description="product: one of 0 1 + - r l per qubit (default all '0')")
    edges: list[tuple[int, int]] | None = Field(None, description="graph: edges (pairs of qubit indices)")
    rank: int = Field(1, ge=1, le=64, description="haar: rank of the random density matrix (1 = pure)")
    representation: Literal["auto", "dense"] = Field(
        "auto", description="auto: stim for stabilizer families; dense: a state vector (<= 12 qubits)")
    transmissivity: float = Field(1.0, gt=0.0, le=1.0, description="probability that a qubit's photon survives the source and channel")
    depolarizing: float = Field(0.0, ge=0.0, le=0.75, description="per-qubit depolarising probability before the measurement")
    dephasing: float = Field(0.0, ge=0.0, le=0.5, description="per-qubit dephasing probability before the measurement")
    encoding: Literal["dual_rail", "polarization"] = Field("dual_rail", description="photonic encoding of each qubit")

    @model_validator(mode="after")
    def _consistent(self):
        dense = self.state in DENSE_FAMILIES or self.representation == "dense"
        if dense and self.qubits > MAX_DENSE_QUBITS:
            raise ValueError(f"qubits: state {self.state!r} with representation {self.representation!r} is dense; "
                             f"at most {MAX_DENSE_QUBITS} qubits, got {self.qubits}")
        if self.state == "product" and self.labels is not None:
            if len(self.labels) != self.qubits or set(self.labels) - set("01+-rl"):
                raise ValueError(f"labels: need {self.qubits} characters from '01+-rl', got {self.labels!r}")
        if self.state == "graph":
            if not self.edges:
                raise ValueError("edges: state 'graph' needs a list of edges [[u, v], ...]")
            for i, (u, v) in enumerate(self.edges):
                if not (0 <= u < self.qubits and 0 <= v < self.qubits) or u == v:
                    raise ValueError(f"edges.{i}: ({u}, {v}) is not a pair of distinct qubits in 0..{self.qubits - 1}")
        elif self.edges is not None:
            raise ValueError(f"edges: only state 'graph' takes edges (state is {self.state!r})")
        return self


class QubitStateScene(Scene):
    r"""An n-qubit photonic register: stabilizer (product, GHZ, graph, cluster) or dense (W, Haar
    random from the run's task stream), with depolarising and dephasing noise and photon loss.

    ``parameters``: ``transmissivity`` :math:`\eta`, ``depolarizing`` :math:`p`, ``dephasing``
    :math:`q`. ``photons_per_copy``: :math:`n\eta`.
    """

    kind = "qubit_state"
    Settings = QubitStateSettings
    parameter_names = ("transmissivity", "depolarizing", "dephasing")
    default_analysis = "shadow_prediction"
    provides = frozenset({GaussianState, QubitState})

    #: Task stream of the Haar-random state.
    HAAR_STREAM = 0

    @classmethod
    def example(cls):
        return {"kind": "qubit_state", "state": "ghz", "qubits": 2, "transmissivity": 0.9, "depolarizing": 0.05}

    def __init__(self, settings: QubitStateSettings, seed: int = 0):
        super().__init__(settings, seed)
        s = settings
        self._parameters = {
            "transmissivity": Parameter("transmissivity", s.transmissivity, "1", (1e-6, 1.0), 1e-4),
            "depolarizing": Parameter("depolarizing", s.depolarizing, "1", (0.0, 0.75), 1e-4),
            "dephasing": Parameter("dephasing", s.dephasing, "1", (0.0, 0.5), 1e-4),
        }
        self.circuit = None
        if s.state in STABILIZER_FAMILIES:
            self.circuit = self.stabilizer_circuit(s)
        self._dense = None
        if s.state in DENSE_FAMILIES or s.representation == "dense":
            self._dense = self.dense_state(s, self.task_generator(self.HAAR_STREAM, s.qubits, s.rank))

    @staticmethod
    def stabilizer_circuit(s: QubitStateSettings):
        """The stim circuit of a stabilizer family."""
        if s.state == "product":
            return sh.product_state_circuit(s.labels or "0" * s.qubits)
        if s.state == "ghz":
            return sh.ghz_circuit(s.qubits)
        if s.state == "cluster":
            return sh.cluster_state_circuit(s.qubits)
        circuit = sh.graph_state_circuit(s.qubits, [tuple(e) for e in s.edges])
        circuit.append("I", list(range(s.qubits)))
        return circuit

    def dense_state(self, s: QubitStateSettings, rng: np.random.Generator) -> np.ndarray:
        """State vector (or density matrix, Haar with rank > 1) of the dense families, big-endian."""
        n = s.qubits
        if s.state == "w":
            psi = np.zeros(2**n, dtype=complex)
            psi[[1 << (n - 1 - q) for q in range(n)]] = 1 / np.sqrt(n)
            return psi
        if s.state == "haar":
            g = rng.normal(size=(2**n, s.rank)) + 1j * rng.normal(size=(2**n, s.rank))
            if s.rank == 1:
                return g[:, 0] / np.linalg.norm(g)
            rho = g @ g.conj().T
            return rho / np.trace(rho).real
        return sh.stabilizer_state_vector(self.circuit)

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self._parameters

    @property
    def photons_per_copy(self) -> float:
        return self.settings.qubits * self.settings.transmissivity

    # -- typed states ---------------------------------------------------------------------------
    def typed_state(self, state_type, values: Mapping[str, float] | None = None):
        v = self.values(values)
        common = dict(qubits=self.settings.qubits, survival=v["transmissivity"], depolarizing=v["depolarizing"],
                      dephasing=v["dephasing"], encoding=self.settings.encoding)
        if self._dense is not None:
            return QubitDensityState(**common, density=self._dense)
        return StabilizerState(**common, circuit=self.circuit)

    def encoded_density_matrix(self, values: Mapping[str, float] | None = None) -> np.ndarray:
        """The noisy register's density matrix embedded in the 2n modes with cutoff 2, SF index order
        ``(i0, i1, ..., j0, j1, ...)`` reshaped to a matrix over ``2**(2n)`` Fock states (lossless)."""
        register = self.typed_state(QubitState, values)
        rho = register.density_matrix()
        n = self.settings.qubits
        # logical |b> -> Fock |1-b, b> on modes (2q, 2q+1): index in the 2n-mode space (mode 0 most significant)
        fock_index = np.zeros(2**n, dtype=np.int64)
        for b in range(2**n):
            index = 0
            for q in range(n):
                bit = (b >> (n - 1 - q)) & 1
                index = (index << 2) | ((1 - bit) << 1) | bit
            fock_index[b] = index
        big = np.zeros((4**n, 4**n), dtype=complex)
        big[np.ix_(fock_index, fock_index)] = rho
        return big

    def program(self, values: Mapping[str, float] | None = None):
        """SF program of the encoded register (``DensityMatrix`` on 2n modes, cutoff 2) then
        ``LossChannel(transmissivity)`` on every mode; Fock backend, up to
        :data:`SF_STATE_MAX_QUBITS` qubits (a 2n-mode Fock space beyond that is too large)."""
        from sensing.sf_compat import import_strawberryfields

        n = self.settings.qubits
        if n > SF_STATE_MAX_QUBITS:
            raise ValueError(f"the SF Fock program of a {n}-qubit register is too large (at most {SF_STATE_MAX_QUBITS} qubits); "
                             "its states are built in closed form")
        sf = import_strawberryfields()
        v = self.values(values)
        modes = 2 * n
        dm = self.encoded_density_matrix(values).reshape((2,) * 2 * modes)
        # matrix order (i_0..i_{2n-1}, j_0..j_{2n-1}) -> SF order (i_0, j_0, i_1, j_1, ...)
        order = [a for m in range(modes) for a in (m, modes + m)]
        dm = np.transpose(dm, order)
        prog = sf.Program(modes)
        with prog.context as q:
            sf.ops.DensityMatrix(dm) | tuple(q)
            for m in range(modes):
                sf.ops.LossChannel(v["transmissivity"]) | q[m]
        return prog

    def sf_photon_correlation(self, values: Mapping[str, float] | None = None) -> np.ndarray:
        r""":math:`\Gamma_{ij} = \langle a_i^\dagger a_j\rangle` of the 2n modes from SF's Fock backend."""
        n = self.settings.qubits
        modes = 2 * n
        dm, _ = run_fock(self.program(values), cutoff=2)
        order = list(range(0, 2 * modes, 2)) + list(range(1, 2 * modes, 2))
        rho = np.transpose(dm, order).reshape(2**modes, 2**modes)
        occupation = (np.arange(2**modes)[:, None] >> (modes - 1 - np.arange(modes))[None, :]) & 1  # (states, modes)
        gamma = np.zeros((modes, modes), dtype=complex)
        for i in range(modes):
            for j in range(modes):
                # a_i^dag a_j |s> = |s - e_j + e_i> when s_j = 1 and (i == j or s_i = 0)
                for s in np.flatnonzero(occupation[:, j] == 1):
                    if i != j and occupation[s, i] == 1:
                        continue
                    t = s ^ (1 << (modes - 1 - j)) | (1 << (modes - 1 - i))
                    gamma[i, j] += rho[s, t]  # <a_i^dag a_j> = sum_s rho_{s,t} <t|a_i^dag a_j|s>
        return gamma

    def photon_correlation(self, values: Mapping[str, float] | None = None) -> np.ndarray:
        r"""Closed form of :math:`\Gamma` (block diagonal, one 2x2 block per qubit):
        :math:`\eta\,\tfrac12[[1+z, x+iy], [x-iy, 1-z]]` with the noisy Bloch vector (x, y, z)."""
        register = self.typed_state(QubitState, values)
        bloch = register.bloch_vectors()
        eta = register.survival
        n = self.settings.qubits
        gamma = np.zeros((2 * n, 2 * n), dtype=complex)
        for q, (x, y, z) in enumerate(bloch):
            # <a_{2q}^dag a_{2q+1}> = tr(rho |0><1|) = rho_10 = (x + i y)/2
            gamma[2 * q:2 * q + 2, 2 * q:2 * q + 2] = eta * 0.5 * np.array([[1 + z, x + 1j * y], [x - 1j * y, 1 - z]])
        return gamma

    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        """The moment-matched Gaussian state of the 2n modes (see the module docstring)."""
        n = self.settings.qubits
        gamma = self.sf_photon_correlation(values) if n <= SF_STATE_MAX_QUBITS else self.photon_correlation(values)
        cov = thermal_covariance(np.real_if_close(gamma) if np.allclose(gamma.imag, 0) else gamma)
        return GaussianState(np.asarray(cov, dtype=float), np.zeros(4 * n))
