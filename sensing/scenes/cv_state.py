r"""One bosonic mode prepared in Strawberry Fields' Fock backend, sent through loss: Fock, coherent,
cat, squeezed, displaced squeezed, thermal and squeezed thermal states (for CV classical shadows).

The program (SF ops ``Fock``, ``Coherent``, ``Catstate``, ``Squeezed``, ``DisplacedSqueezed``,
``Thermal`` then ``Sgate``, and ``LossChannel(transmissivity)``) runs on the Fock backend with
``cutoff`` levels (:func:`sensing.contracts.engine.run_fock`); a state whose trace falls below
``1 - 1e-6`` is refused (raise the cutoff). The scene provides

* :class:`~sensing.contracts.states.FockState`: the density matrix after the loss, with the
  noiseless prepared state as ``reference`` (the natural fidelity target);
* :class:`~sensing.contracts.states.GaussianState`: the first and second moments of that state
  (exact for the Gaussian families; the moment-matched Gaussian for Fock and cat states).

Conventions: SF's :math:`\hbar = 2` for the Gaussian moments; amplitudes :math:`\alpha` as in
``Dgate`` (:math:`\langle a\rangle = \alpha`); squeezing in dB, :math:`r = \mathrm{dB}\ln 10/20`.
"""

from __future__ import annotations

from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sensing.contracts.engine import run_fock
from sensing.contracts.scene import Parameter, Scene
from sensing.contracts.states import FockState, GaussianState

MAX_CUTOFF = 40


class CVStateSettings(BaseModel):
    """Config of ``source.kind: cv_state``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["cv_state"] = "cv_state"
    state: Literal["fock", "coherent", "cat", "squeezed", "displaced_squeezed", "thermal", "squeezed_thermal"] = Field(
        "cat", description="family of the prepared single-mode state")
    photons: int = Field(1, ge=0, le=MAX_CUTOFF - 1, description="fock: photon number n of |n>")
    alpha: tuple[float, float] = Field((1.0, 0.0), description="coherent, cat, displaced_squeezed: [Re, Im] of the amplitude alpha")
    cat_parity: Literal["even", "odd"] = Field("even", description="cat: |alpha> + |-alpha> (even) or |alpha> - |-alpha> (odd)")
    squeezing_db: float = Field(3.0, ge=0.0, le=15.0, description="squeezed families: squeezing in dB")
    squeezing_angle: float = Field(0.0, ge=-np.pi, le=np.pi, description="squeezed families: angle phi of Sgate(r, phi), rad")
    thermal_photons: float = Field(0.2, ge=0.0, le=10.0, description="thermal, squeezed_thermal: mean thermal photon number")
    transmissivity: float = Field(1.0, gt=0.0, le=1.0, description="transmissivity eta of the loss after the source")
    cutoff: int = Field(20, ge=2, le=MAX_CUTOFF, description="Fock cutoff of the SF simulation")


class CVStateScene(Scene):
    r"""A single-mode state through a loss channel, built by SF's Fock backend.

    ``parameters``: ``transmissivity`` :math:`\eta`. ``photons_per_copy``: :math:`\langle a^\dagger a\rangle`
    after the loss.
    """

    kind = "cv_state"
    Settings = CVStateSettings
    parameter_names = ("transmissivity",)
    default_analysis = "shadow_prediction"
    provides = frozenset({GaussianState, FockState})

    @classmethod
    def example(cls):
        return {"kind": "cv_state", "state": "cat", "alpha": [1.0, 0.0], "transmissivity": 0.9, "cutoff": 14}

    def __init__(self, settings: CVStateSettings, seed: int = 0):
        super().__init__(settings, seed)
        self._parameters = {"transmissivity": Parameter("transmissivity", settings.transmissivity, "1", (1e-6, 1.0), 1e-4)}

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self._parameters

    @property
    def photons_per_copy(self) -> float:
        rho = self.prepare(FockState).density_matrix
        return float(np.real(np.trace(np.diag(np.arange(len(rho))) @ rho)))

    def program(self, values: Mapping[str, float] | None = None, loss: bool = True):
        """The SF program: preparation, then ``LossChannel(transmissivity)`` (if ``loss``)."""
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        s = self.settings
        v = self.values(values)
        a = complex(*s.alpha)
        r = s.squeezing_db * np.log(10.0) / 20.0
        prog = sf.Program(1)
        with prog.context as q:
            if s.state == "fock":
                sf.ops.Fock(s.photons) | q[0]
            elif s.state == "coherent":
                sf.ops.Coherent(abs(a), np.angle(a)) | q[0]
            elif s.state == "cat":
                sf.ops.Catstate(abs(a), np.angle(a), 0 if s.cat_parity == "even" else 1) | q[0]
            elif s.state == "squeezed":
                sf.ops.Squeezed(r, s.squeezing_angle) | q[0]
            elif s.state == "displaced_squeezed":
                sf.ops.DisplacedSqueezed(abs(a), np.angle(a), r, s.squeezing_angle) | q[0]
            elif s.state == "thermal":
                sf.ops.Thermal(s.thermal_photons) | q[0]
            else:
                sf.ops.Thermal(s.thermal_photons) | q[0]
                sf.ops.Sgate(r, s.squeezing_angle) | q[0]
            if loss:
                sf.ops.LossChannel(v["transmissivity"]) | q[0]
        return prog

    def _density(self, program) -> np.ndarray:
        rho, trace = run_fock(program, self.settings.cutoff)
        if trace < 1 - 1e-6:
            raise ValueError(f"cutoff {self.settings.cutoff} truncates the {self.settings.state} state "
                             f"(trace {trace:.6f}); raise source.cutoff (at most {MAX_CUTOFF})")
        return rho / trace

    def typed_state(self, state_type, values: Mapping[str, float] | None = None):
        rho = self._density(self.program(values))
        reference = self._density(self.program(values, loss=False))
        return FockState(rho, self.settings.cutoff, classical=self.settings.state in ("coherent", "thermal"), reference=reference)

    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        r"""First and second moments of the lossy state (SF units, :math:`\hbar=2`):
        :math:`\langle x\rangle = 2\,\mathrm{Re}\langle a\rangle`, :math:`\langle p\rangle = 2\,\mathrm{Im}\langle a\rangle`,
        covariances from :math:`\langle a^2\rangle` and :math:`\langle a^\dagger a\rangle`."""
        rho = self.prepare(FockState, values).density_matrix
        d = len(rho)
        a = np.diag(np.sqrt(np.arange(1, d)), 1)
        ea = np.trace(rho @ a)
        ea2 = np.trace(rho @ a @ a)
        en = np.real(np.trace(rho @ a.conj().T @ a))
        # x = a + a^dag, p = -i(a - a^dag) (hbar = 2)
        ex2 = 2 * np.real(ea2) + 2 * en + 1
        ep2 = -2 * np.real(ea2) + 2 * en + 1
        exp_sym = 2 * np.imag(ea2)  # <(xp + px)/2>
        mx, mp = 2 * np.real(ea), 2 * np.imag(ea)
        cov = np.array([[ex2 - mx**2, exp_sym - mx * mp], [exp_sym - mx * mp, ep2 - mp**2]])
        return GaussianState(cov, np.array([mx, mp]))
