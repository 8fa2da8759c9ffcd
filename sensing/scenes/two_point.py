"""Two incoherent point sources seen through a point-spread function (Gaussian by default).

Tsang, Nair and Lu, "Quantum theory of superresolution for two incoherent optical point
sources", PRX 6, 031033 (2016), arXiv:1511.00552. Real telescopes (Airy / annular / slit /
measured PSFs, physical units, photometry): :mod:`sensing.scenes.telescope` and
docs/telescopes.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

from sensing.contracts.scene import Parameter, Scene
from sensing.contracts.states import GaussianState, HermiteGaussModes, HermiteGaussModes2D, ThermalLight
from sensing.scenes.telescope import (PsfSettings, TelescopeSettings, BrightnessSettings, Duration, physical_inputs,
                                      build_psf_basis, photometry_of, telescope_attrs)

#: Largest Hermite-Gauss basis the scene builds (the state must be captured to 1e-13).
MAX_BASIS_MODES = 80
#: Largest number of orders per axis of a 2-D basis (total order < 40: 820 modes).
MAX_BASIS_ORDERS_2D = 40


def _poisson_isf(tail: float, mean: float) -> float:
    """``scipy.stats.poisson.isf(tail, mean)`` for ``0 < tail < 1`` and ``mean > 0``: the least
    ``k`` with ``P(N > k) <= tail``, computed as SciPy does (its ppf at ``1 - tail``, from
    ``pdtrik`` and ``pdtr``) without importing ``scipy.stats`` (0.4-0.7 s of a run's fixed cost).
    ``tests/test_fixed_cost.py`` checks it equals SciPy's on a grid of means."""
    q = 1.0 - tail
    k = np.ceil(special.pdtrik(q, mean))
    below = np.maximum(k - 1, 0)
    return float(below if special.pdtr(below, mean) >= q else k)


class TwoPointSettings(BaseModel):
    """Config of ``source.kind: two_point``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["two_point"] = "two_point"
    separation: float = Field(ge=0.0, description="distance between the sources, in `units`")
    centroid: float = Field(
        0.0, description="position of the sources' centroid relative to the optical axis (see `centroid_convention`)"
    )
    centroid_convention: Literal["intensity", "midpoint"] = Field(
        "intensity",
        description="intensity: `centroid` is the intensity-weighted mean position (1-b) X1 + b X2, held fixed as the "
        "separation varies (the default: the superresolution literature's convention); "
        "midpoint (the behaviour before 0.2): `centroid` is (X1 + X2)/2, so for b != 0.5 the intensity "
        "centroid moves with the separation and a camera learns the separation from that shift. "
        "The two agree for equal sources (relative_brightness 0.5).",
    )
    relative_brightness: float = Field(
        0.5, gt=0.0, lt=1.0, description="fraction of the photons that come from the second source (0.5: equal)"
    )
    photons_per_copy: float | None = Field(
        None, gt=0.0, le=100.0,
        description="mean photons per temporal mode (one copy) from both sources together (or give `brightness` and `telescope`)",
    )
    psf_sigma: float = Field(1.0, gt=0.0, description="intensity standard deviation of the Gaussian PSF, in `units`")
    units: str = Field("psf_sigma", min_length=1, description="the length unit of all positions")
    basis_modes: int | None = Field(
        None, ge=2, le=MAX_BASIS_MODES,
        description="Hermite-Gauss modes of the image-plane basis (auto if omitted); in 2-D the orders per axis "
        f"(modes with qx + qy < basis_modes, at most {MAX_BASIS_ORDERS_2D})",
    )
    dimensions: Literal[1, 2] = Field(1, description="1: a line image plane; 2: a plane with a circular Gaussian PSF")
    orientation: float = Field(
        0.0, ge=-2 * np.pi, le=2 * np.pi,
        description="2-D only: angle of the separation axis from the x axis, in radians (the centroid lies on this axis)",
    )

    psf: PsfSettings | None = Field(
        None, description="point-spread function: gaussian (default; width psf_sigma), airy, annular, slit (1-D), fits, array"
    )
    telescope: TelescopeSettings | None = Field(
        None, description="aperture, band and throughput in physical units (sets the Airy PSF and the photometry)"
    )
    brightness: BrightnessSettings | None = Field(
        None, description="source brightness (magnitude in a band or spectral flux density): sets photons_per_copy"
    )
    observing_time: Duration | None = Field(
        None, gt=0.0, description="planned observing time (e.g. '2 h'; needs telescope.bandwidth): copies = time x bandwidth"
    )

    @model_validator(mode="before")
    @classmethod
    def _physical_units(cls, data):
        return physical_inputs(data)

    @model_validator(mode="after")
    def _photometry(self):
        return photometry_of(self)

    @model_validator(mode="after")
    def _two_dimensional_fields(self):
        if self.dimensions == 1 and self.orientation != 0.0:
            raise ValueError("orientation needs dimensions: 2 (a 1-D image plane has no direction to rotate)")
        if self.dimensions == 2 and self.basis_modes is not None and self.basis_modes > MAX_BASIS_ORDERS_2D:
            raise ValueError(f"basis_modes = {self.basis_modes} orders per axis in 2-D; at most {MAX_BASIS_ORDERS_2D}")
        return self


class TwoPointScene(Scene):
    r"""Two incoherent thermal point sources a distance ``separation`` apart about ``centroid``.

    Positions (b = ``relative_brightness``, the second source's share of the photons):

    * ``centroid_convention: intensity`` (the default): :math:`X_1 = c - b\,d`,
      :math:`X_2 = c + (1-b)\,d`, so the intensity centroid :math:`(1-b)X_1 + bX_2 = c`
      stays fixed when d changes. This is the convention of the superresolution literature
      for unequal sources (e.g. the faint-companion model of Huang & Lupo, arXiv:2106.00488,
      PHYSICS.md §6.3: star at :math:`-e d`, planet at :math:`(1-e)d`). With the centroid known, a
      camera then shows the Rayleigh curse for every b.
    * ``centroid_convention: midpoint`` (selectable; the behaviour of earlier versions): :math:`X_{1,2} = c \mp d/2`. For b ≠ 1/2 the
      intensity centroid :math:`c + (b - 1/2)d` moves with d, so a camera learns d at first
      order from the centroid shift (psf_sigma 0.7, d = 0.37 sigma: 0.194 per photon and unit length squared for b = 0.2, against
      0.033 for equal sources): information about d that comes from knowing the midpoint,
      not from resolving the sources.

    Each source emits weak thermal light; per copy (one temporal mode) the first sends
    :math:`N_1 = \epsilon(1-b)` and the second :math:`N_2 = \epsilon b` mean photons into
    its shifted PSF mode :math:`\psi_{X_s}`, with :math:`\epsilon` = ``photons_per_copy``
    and :math:`b` = ``relative_brightness``. The image-plane field, written in a fixed
    Hermite-Gauss basis :math:`\{\phi_q\}` centred on the optical axis, is a zero-mean
    Gaussian state with

    .. math:: \Gamma_{qr} = \langle a_q^\dagger a_r\rangle = \sum_s N_s\, c_{qs} c_{rs},
              \qquad c_{qs} = \langle\phi_q|\psi_{X_s}\rangle .

    As a Strawberry Fields program: one thermal mode per source with
    :math:`N_s/\kappa` photons, then the passive linear-optical map
    :math:`T = \sqrt\kappa\,[c_1, c_2]` onto the basis modes (``PassiveChannel``);
    :math:`\kappa = 1/\lambda_{max}(C^T C)` is the collection efficiency that makes T a
    contraction (the aperture collects a small part of each source's emission).

    With ``dimensions: 2`` the image plane is a plane, the PSF is circular Gaussian (intensity
    standard deviation sigma in x and y) and the sources sit at
    :math:`X_{1,2}(\cos\theta, \sin\theta)` with :math:`X_{1,2}` as above, θ = ``orientation``: the
    centroid is measured along the separation axis. The basis is the product Hermite-Gauss
    basis truncated by total order (:class:`~sensing.contracts.states.HermiteGaussModes2D`), with
    :math:`c_{(q_x q_y)s} = c_{q_x}(X_s)\,c_{q_y}(Y_s)`; the program is the same construction.
    """

    kind = "two_point"

    Settings = TwoPointSettings
    parameter_names = ("separation", "centroid", "relative_brightness")
    provides = frozenset({GaussianState, ThermalLight})

    @classmethod
    def example(cls):
        return {"kind": "two_point", "separation": 0.8, "photons_per_copy": 0.6, "relative_brightness": 0.4}

    def __init__(self, settings: TwoPointSettings, seed: int = 0):
        super().__init__(settings, seed)
        s = settings
        self.psf_basis = build_psf_basis(s)  # None: the Gaussian PSF of psf_sigma (Hermite-Gauss basis)
        sigma = s.psf_sigma if self.psf_basis is None else self.psf_basis.scale
        search_separation = max(4.0 * sigma, 3.0 * s.separation)
        self._parameters = {
            "separation": Parameter("separation", s.separation, s.units, (0.0, search_separation), 1e-4 * sigma),
            "centroid": Parameter("centroid", s.centroid, s.units, (s.centroid - 2 * sigma, s.centroid + 2 * sigma), 1e-4 * sigma),
            "relative_brightness": Parameter("relative_brightness", s.relative_brightness, "", (1e-3, 1 - 1e-3), 1e-5),
        }
        # The basis must hold every source position the estimator may try (in 2-D the
        # captured weight depends on the distance from the axis only, see HermiteGaussModes2D).
        far_share = max(s.relative_brightness, 1 - s.relative_brightness) if s.centroid_convention == "intensity" else 0.5
        reach = abs(s.centroid) + 2 * sigma + far_share * search_separation
        if self.psf_basis is not None:
            self.modes = self.psf_basis.modes(reach, s.basis_modes, s.dimensions, s.orientation)
        elif s.dimensions == 1:
            self.modes = HermiteGaussModes(s.basis_modes or self.basis_size(reach / (2 * sigma)), sigma, 0.0)
        else:
            size = s.basis_modes or self.basis_size(reach / (2 * sigma), limit=MAX_BASIS_ORDERS_2D)
            self.modes = HermiteGaussModes2D(size, sigma)

    @staticmethod
    def basis_size(shift: float, tail: float = 1e-13, limit: int = MAX_BASIS_MODES) -> int:
        """Smallest Hermite-Gauss basis (orders per axis) holding a PSF shifted by ``shift`` = X/(2 sigma) to ``tail``."""
        q = int(_poisson_isf(tail, shift**2)) + 2 if shift > 0 else 2
        if q > limit:
            raise ValueError(
                f"source.separation/centroid reach {2 * shift:.3g} PSF widths off axis; the Hermite-Gauss "
                f"basis would need {q} > {limit} orders: keep the sources within ~{'8' if limit == MAX_BASIS_MODES else '6'} psf_sigma"
            )
        return max(q, 8)

    @property
    def parameters(self) -> dict[str, Parameter]:
        return self._parameters

    @property
    def photons_per_copy(self) -> float:
        return self.settings.photons_per_copy

    # -- real telescopes ------------------------------------------------------------------------
    def copies_per_second(self) -> float | None:
        r"""Temporal modes (copies) per second, :math:`\Delta\nu = c\,\Delta\lambda/\lambda^2` (Hz), or None
        when the scene has no physical units (no ``telescope``). PHYSICS.md §10.2."""
        t = self.settings.telescope
        if t is None:
            return None
        from sensing.physics.photometry import bandwidth_hz

        return float(bandwidth_hz(t.wavelength, t.bandwidth))

    def physical(self) -> dict:
        """Telescope, photometry and unit facts for results attributes (empty without a telescope)."""
        return telescope_attrs(self)

    @property
    def psf_name(self) -> str:
        return "gaussian" if self.psf_basis is None else self.psf_basis.name

    def basis_error(self, values: Mapping[str, float] | None = None) -> float:
        r"""Weight of the sources' PSFs outside the finite image-plane basis at ``values`` (default: the truth):
        :math:`\max_s (1-\sum_q|\langle\phi_q|\psi_{X_s}\rangle|^2)`. The QFI and every
        detector's statistics are exact for the state projected on the basis."""
        full = {**self.values(), **(values or {})}
        amplitudes, _ = self._sources(full)
        return float(np.max(1.0 - np.sum(np.abs(amplitudes) ** 2, axis=-1)))

    # -- closed form ----------------------------------------------------------------
    def _sources(self, values: Mapping[str, np.ndarray]):
        d = np.asarray(values["separation"], dtype=float)
        c = np.asarray(values["centroid"], dtype=float)
        b = np.asarray(values["relative_brightness"], dtype=float)
        eps = self.settings.photons_per_copy
        if self.settings.centroid_convention == "intensity":
            first, second = c - b * d, c + (1 - b) * d  # (1 - b) X1 + b X2 = c
        else:
            first, second = c - d / 2, c + d / 2
        positions = np.stack(np.broadcast_arrays(first, second), axis=-1)  # (..., 2) along the axis
        photons = np.stack(np.broadcast_arrays(eps * (1 - b), eps * b), axis=-1)  # (..., 2)
        if self.settings.dimensions == 2:
            theta = self.settings.orientation
            positions = positions[..., None] * np.array([np.cos(theta), np.sin(theta)])  # (..., 2 sources, xy)
        amplitudes = self.modes.point_source_amplitudes(positions)  # (..., 2, K)
        return amplitudes, photons

    def light(self, values: Mapping[str, np.ndarray] | None = None) -> ThermalLight:
        r"""Closed-form image-plane light, vectorised: each value may be an array (broadcast).

        The factor is the source amplitudes, :math:`L_{qs} = \sqrt{N_s}\,c_{qs}`
        (:math:`\Gamma = \Gamma^T = LL^T`, real).
        """
        full = {**self.values(), **(values or {})}
        amplitudes, photons = self._sources(full)
        return ThermalLight(np.swapaxes(amplitudes * np.sqrt(photons)[..., None], -1, -2), self.modes)

    # -- Strawberry Fields --------------------------------------------------------------
    def program(self, values: Mapping[str, float] | None = None):
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        ops = sf.ops
        amplitudes, photons = self._sources(self.values(values))
        columns = amplitudes.T  # (K, 2): c_qs
        kappa = 1.0 / np.linalg.norm(columns, 2) ** 2
        k = self.modes.count
        transfer = np.zeros((k, k))
        transfer[:, :2] = np.sqrt(kappa) * columns
        prog = sf.Program(k)
        with prog.context as q:
            for s in range(2):
                ops.Thermal(photons[s] / kappa) | q[s]
            ops.PassiveChannel(transfer) | q
        return prog

    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        state = self.run_gaussian(self.program(values))
        return replace(state, modes=self.modes, classical=True)

    def typed_state(self, state_type, values=None) -> ThermalLight:
        """:class:`ThermalLight` in closed form (:meth:`light`; equal to SF's state, tested)."""
        return self.light(values)
