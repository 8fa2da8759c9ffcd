r"""Quantum memory and the collective (entanglement-assisted) Bell strategy.

:class:`QuantumMemory` is a reusable component: it holds modes (a stored reference, or
copies waiting for a collective measurement) and acts on them as a pure-loss channel of
transmissivity

.. math:: \eta_{mem} = \eta_{write/read}\; e^{-t/T},

with ``memory_efficiency`` the write-read efficiency, ``storage_time`` t and
``memory_coherence_time`` T (no decay when T is omitted). It applies itself to an SF program
(``LossChannel``) or to a covariance matrix (:func:`sensing.physics.gaussian.loss`, the same map).

The ``bell`` detector is the entanglement-assisted scheme of Oh et al. (PRL 133, 230604
(2024)) and Liu et al. (Science 389, 1332 (2025)); per mode (PHYSICS.md §0, §1.3-1.4):

1. two-mode squeezed vacuum ``S2gate(r)``, :math:`r = \mathrm{dB}\ln10/20`;
2. the idler is held in the quantum memory (and idler-arm loss);
3. the signal goes through the channel (:math:`D(\alpha)`) and signal-arm loss;
4. detector efficiency on both arms, a 50:50 beam splitter ``BSgate(pi/4, 0)``, homodyne of
   x on output 0 and p on output 1: :math:`\hat\alpha = (x_0/g_x) + i(p_1/g_p)`.

With transmissivities :math:`\eta_S` (signal, after the channel) and :math:`\eta_I`
(idler, memory included) the noise per mode is

.. math:: \sigma = E|\xi|^2 = \frac{(\eta_S+\eta_I)(\cosh 2r - 1) + 2
          - 2\sqrt{\eta_S\eta_I}\,\sinh 2r}{2\eta_S},

:math:`e^{-2r}` when lossless, PHYSICS.md's :math:`(\eta e^{-2r}+1-\eta)/\eta` for equal
arms, and :math:`(\cosh 2r - 1)/2 + 1/\eta_S \ge 1` for a useless memory
(:math:`\eta_I = 0`: heterodyne of a thermal probe, worse than the conventional scheme).
The detector reads these numbers off SF (covariance before the homodynes); the formula is
checked against it in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from sensing.contracts.engine import run_gaussian
from sensing.detectors.quadrature import ChannelDetector, squeezing_parameter
from sensing.physics.gaussian import homodyne_outcome, loss


class MemorySettings(BaseModel):
    """Fields of a quantum memory (mixed into the settings of detectors that store modes)."""

    memory_efficiency: float = Field(1.0, ge=0.0, le=1.0, description="write-read efficiency of the quantum memory")
    storage_time: float = Field(0.0, ge=0.0, description="time a mode spends in the memory (same unit as memory_coherence_time)")
    memory_coherence_time: float | None = Field(
        None, gt=0.0, description="1/e storage time T of the memory (transmissivity decays as exp(-t/T)); omit for no decay"
    )


@dataclass(frozen=True)
class QuantumMemory:
    r"""A quantum memory modelled as pure loss, :math:`\eta = \eta_{wr}\,e^{-t/T}`.

    Parameters
    ----------
    efficiency : float
        Write-read efficiency :math:`\eta_{wr}` in [0, 1].
    storage_time : float
        Storage time t.
    coherence_time : float or None
        Decay time T (``None``: no decay).
    """

    efficiency: float = 1.0
    storage_time: float = 0.0
    coherence_time: float | None = None

    @classmethod
    def from_settings(cls, settings: MemorySettings) -> "QuantumMemory":
        return cls(settings.memory_efficiency, settings.storage_time, settings.memory_coherence_time)

    @property
    def transmissivity(self) -> float:
        """Energy transmissivity of a stored mode, :math:`\\eta_{wr} e^{-t/T}`."""
        decay = 1.0 if self.coherence_time is None else float(np.exp(-self.storage_time / self.coherence_time))
        return float(self.efficiency * decay)

    def store(self, ops, modes) -> None:
        """Append the memory to an SF program context: ``LossChannel(transmissivity)`` on each mode."""
        for mode in modes if isinstance(modes, (list, tuple)) else [modes]:
            ops.LossChannel(self.transmissivity) | mode

    def apply(self, cov: np.ndarray, means: np.ndarray, modes: list[int]):
        """The memory on modes ``modes`` of a Gaussian state (numpy; the same map as :meth:`store`)."""
        n = cov.shape[0] // 2
        eta = np.ones(n)
        eta[list(modes)] = self.transmissivity
        return loss(cov, means, eta)


class BellSettings(MemorySettings):
    """Config of ``kind: bell``: TMSV probe, idler stored in a quantum memory, CV Bell measurement."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$", description="label of the detector in results")
    efficiency: float = Field(1.0, ge=0.0, le=1.0, description="homodyne detector efficiency (both arms)")
    kind: Literal["bell"] = "bell"
    squeezing_db: float = Field(5.0, ge=0.0, le=30.0, description="two-mode squeezing of the EPR source, in dB")
    signal_transmissivity: float = Field(1.0, gt=0.0, le=1.0, description="signal-arm transmission after the channel (collection loss)")
    idler_transmissivity: float = Field(1.0, ge=0.0, le=1.0, description="idler-arm transmission outside the memory")

    model_config = {"extra": "forbid"}


class BellMeasurement(ChannelDetector):
    """Entanglement-assisted strategy: EPR probe, stored idler, joint (Bell) measurement of signal and idler.

    ``copies_per_measurement`` is 1: each channel use is measured jointly with its own stored
    reference mode (the collective resource is the memory-held entanglement, not several
    channel uses).
    """

    kind = "bell"

    Settings = BellSettings
    copies_per_measurement = 1

    @classmethod
    def example(cls):
        scene = {"kind": "displacement_channel", "modes": 2, "distribution": "gaussian", "variance": 0.3, "correlation": 0.4,
                 "queries": 3, "query_amplitude": 0.8, "query_region": "gaussian"}
        return scene, {"kind": "bell", "name": "bell", "squeezing_db": 5.0, "memory_efficiency": 0.9, "efficiency": 0.95}

    @property
    def memory(self) -> QuantumMemory:
        return QuantumMemory.from_settings(self.settings)

    @property
    def arm_transmissivities(self) -> tuple[float, float]:
        """:math:`(\\eta_S, \\eta_I)`: total signal and idler transmission (memory and detectors included)."""
        s = self.settings
        return s.signal_transmissivity * s.efficiency, self.memory.transmissivity * s.idler_transmissivity * s.efficiency

    def program(self, displacement: complex = 0.0, measure: bool = False):
        """Two modes (0: signal, 1: idler): S2gate, memory, channel, losses, 50:50 BS (then MeasureX/MeasureP)."""
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        ops = sf.ops
        s = self.settings
        prog = sf.Program(2)
        with prog.context as q:
            ops.S2gate(squeezing_parameter(s.squeezing_db)) | (q[0], q[1])
            self.memory.store(ops, q[1])
            ops.LossChannel(s.idler_transmissivity) | q[1]
            if displacement != 0:
                ops.Dgate(abs(displacement), float(np.angle(displacement))) | q[0]
            ops.LossChannel(s.signal_transmissivity) | q[0]
            ops.LossChannel(s.efficiency) | q[0]
            ops.LossChannel(s.efficiency) | q[1]
            ops.BSgate(np.pi / 4, 0) | (q[0], q[1])
            if measure:
                ops.MeasureX | q[0]
                ops.MeasureP | q[1]
        return prog

    def measured_moments(self, displacement=0.0):
        state = run_gaussian(self.program(displacement))
        # x of mode 0 and p of mode 1 (xxpp indices 0 and 3); detector loss already in the program
        return homodyne_outcome(state.cov, state.means, [0, 3])

    def closed_form_noise_per_mode(self) -> float:
        """:math:`\\sigma` from the formula in the module docstring (cross-check of the SF value)."""
        eta_s, eta_i = self.arm_transmissivities
        r = squeezing_parameter(self.settings.squeezing_db)
        c, s = np.cosh(2 * r), np.sinh(2 * r)
        return float(((eta_s + eta_i) * (c - 1) + 2 - 2 * np.sqrt(eta_s * eta_i) * s) / (2 * eta_s))
