r"""A telescope array observing a weak thermal source (``source.kind: array``).

Two or more apertures at configured positions (east, north) collect the light of a point
star, a binary or a uniformly bright disk. Per copy (one temporal mode of the light) the
apertures hold the M-mode thermal state with

.. math:: N_{ij} = \langle a_i^\dagger a_j\rangle = \bar n\, g(\mathbf x_j - \mathbf x_i),

:math:`\bar n` the photons per aperture per temporal mode and :math:`g` the complex visibility
of the source (van Cittert-Zernike, :mod:`sensing.physics.interferometry`). The source model
is one formula for all three kinds: a uniform disk of angular diameter :math:`\theta_D`
(:math:`\theta_D = 0`: a point) centred at :math:`\boldsymbol\theta_0`, plus an optional point
companion at separation :math:`s`, position angle PA and flux ratio :math:`f`:

.. math:: g = e^{i 2\pi\mathbf B\cdot\boldsymbol\theta_0/\lambda}\,
          \frac{g_D(\mathbf B) + f e^{i 2\pi\mathbf B\cdot\boldsymbol\theta_2/\lambda}}{1+f},
          \qquad g_D = \frac{2J_1(x)}{x},\ x = \frac{\pi\theta_D|\mathbf B|}{\lambda}.

``model`` says which fields must be given (a binary needs ``separation`` and ``flux_ratio``,
a uniform disk its ``diameter``), and which are the source parameters an analysis reports.

Photons per copy are given directly or derived from a magnitude or a flux density
(:mod:`sensing.physics.photometry`, PHYSICS.md §10.2): :math:`\bar n = F_\nu A\tau/(h\nu)`.
Temporal modes per second (copies per second) are the bandwidth in Hz,
:math:`\Delta\nu = c\Delta\lambda/\lambda^2`.

The SF program: one ``Thermal`` mode per eigenvalue of :math:`N` followed by the
``Interferometer`` of its eigenvectors (conjugated, SF's convention), run on the Gaussian
backend; :class:`~sensing.contracts.states.ApertureLight` is the same state in closed form
(tested equal), batched over parameter points.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sensing.contracts.scene import Parameter, Scene
from sensing.contracts.states import ApertureLight, FockState, GaussianState
from sensing.contracts.units import Angle, Dimensionless, Length, Magnitude, SpectralFluxDensity, Wavelength
from sensing.physics import photometry
from sensing.physics.interferometry import (
    binary_visibility,
    fock_density_matrix,
    point_source_visibility,
    uniform_disk_visibility,
)
from sensing.physics.gaussian import thermal_covariance

#: Most apertures an array scene may have (the exact QFI is O(M^6)).
MAX_APERTURES = 12
#: Largest Fock cutoff per mode of the FockState the scene provides (and at most 3 apertures).
MAX_FOCK_CUTOFF = 6

SOURCE_PARAMETERS = ("position_east", "position_north", "diameter", "separation", "position_angle", "flux_ratio")


#: Faintest light per aperture per temporal mode (products of such numbers stay normal floats).
MIN_PHOTONS = 1e-30

class ArraySettings(BaseModel):
    """Config of ``source.kind: array``. Lengths, angles and wavelengths take units ('10 km', '1.2 mas', '550 nm')."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["array"] = "array"
    model: Literal["point", "binary", "uniform_disk"] = Field("point", description="source model")
    baseline: Length | None = Field(None, gt=0.0, description="two apertures this far apart (alternative to apertures)")
    baseline_angle: Angle = Field(0.0, description="direction of `baseline` from east through north")
    apertures: list[tuple[Length, Length]] | None = Field(
        None, min_length=2, max_length=MAX_APERTURES, description="aperture positions (east, north)"
    )
    wavelength: Wavelength = Field(gt=0.0, description="central wavelength")
    bandwidth: Length | None = Field(
        None, gt=0.0, description="optical bandwidth in wavelength (e.g. '10 nm'); gives copies per second = c dl / l^2"
    )
    position_east: Angle = Field(0.0, description="sky offset (east) of the source (disk centre / primary) from the phase centre")
    position_north: Angle = Field(0.0, description="sky offset (north) of the source from the phase centre")
    diameter: Angle = Field(0.0, ge=0.0, description="uniform_disk: angular diameter of the disk (0: a point)")
    separation: Angle = Field(0.0, ge=0.0, description="binary: angular separation of the companion")
    position_angle: Angle = Field(0.0, description="binary: position angle of the companion, north through east")
    flux_ratio: float = Field(0.0, ge=0.0, le=1e3, description="binary: companion flux / primary flux")
    photons_per_copy: float | None = Field(
        None, ge=MIN_PHOTONS, le=100.0,
        description=f"mean photons per aperture per temporal mode, {MIN_PHOTONS:g} to 100 (or give magnitude / flux_density)"
    )
    magnitude: Magnitude | None = Field(None, description="Vega magnitude of the whole source in `band`")
    band: str = Field("V", description=f"photometric band of `magnitude`: one of {', '.join(photometry.BANDS)}")
    flux_density: SpectralFluxDensity | None = Field(None, gt=0.0, description="f_nu of the whole source (e.g. '10 Jy')")
    aperture_diameter: Length = Field(1.0, gt=0.0, description="diameter of each aperture")
    throughput: Dimensionless = Field(1.0, gt=0.0, le=1.0, description="fraction of collected photons reaching the scheme")
    fock_cutoff: int = Field(4, ge=2, le=MAX_FOCK_CUTOFF, description="Fock cutoff per mode of the FockState (small arrays)")

    @model_validator(mode="after")
    def _consistent(self):
        if (self.baseline is None) == (self.apertures is None):
            raise ValueError("give exactly one of baseline (two apertures) and apertures (a list of (east, north) positions)")
        given = [n for n in ("photons_per_copy", "magnitude", "flux_density") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of photons_per_copy, magnitude and flux_density (got {given or 'none'})")
        if self.magnitude is not None and self.band not in photometry.BANDS:
            raise ValueError(f"band {self.band!r} is not known; allowed: {', '.join(photometry.BANDS)}")
        if self.model == "binary" and (self.separation <= 0 or self.flux_ratio <= 0):
            raise ValueError("model binary needs separation > 0 and flux_ratio > 0")
        if self.model == "uniform_disk" and self.diameter <= 0:
            raise ValueError("model uniform_disk needs diameter > 0")
        if self.model != "binary" and (self.separation > 0 or self.flux_ratio > 0):
            raise ValueError(f"separation and flux_ratio describe a binary; model is {self.model!r} (set model: binary)")
        if self.model != "uniform_disk" and self.diameter > 0:
            raise ValueError(f"diameter describes a uniform disk; model is {self.model!r} (set model: uniform_disk)")
        positions = self.positions()
        if np.any(np.linalg.norm(positions[:, None] - positions[None], axis=-1)[~np.eye(len(positions), dtype=bool)] == 0):
            raise ValueError("two apertures are at the same position")
        return self

    def positions(self) -> np.ndarray:
        """Aperture positions (east, north) in metres, shape (M, 2)."""
        if self.apertures is not None:
            return np.asarray(self.apertures, dtype=float)
        direction = np.array([np.cos(self.baseline_angle), np.sin(self.baseline_angle)])
        return np.stack([np.zeros(2), self.baseline * direction])


def composite_visibility(baselines, wavelength, values: Mapping[str, np.ndarray]):
    r"""Visibility of a uniform disk (or point) plus a point companion, and its derivatives.

    .. math:: g = p\,\Big[g_B + \frac{g_D - 1}{1+f}\Big],\qquad
              p = e^{i2\pi\mathbf B\cdot\boldsymbol\theta_0/\lambda},\
              g_B = \frac{1 + f e^{i\Phi_2}}{1+f},

    with :math:`p`, :math:`g_B`, :math:`g_D` (and their derivatives) from
    :func:`~sensing.physics.interferometry.point_source_visibility`,
    :func:`~sensing.physics.interferometry.binary_visibility` and
    :func:`~sensing.physics.interferometry.uniform_disk_visibility`.

    Parameters
    ----------
    baselines : ndarray, shape (..., 2)
        Metres.
    wavelength : float
    values : mapping
        Scalars (one parameter point) for the six :data:`SOURCE_PARAMETERS`.

    Returns
    -------
    visibility : ndarray, complex, shape (...)
    derivatives : dict of ndarray
        :math:`\partial g/\partial\theta` for each source parameter.
    """
    v = {k: float(values[k]) for k in SOURCE_PARAMETERS}
    point = point_source_visibility(baselines, wavelength, np.array([v["position_east"], v["position_north"]]))
    binary = binary_visibility(baselines, wavelength, v["separation"], v["position_angle"], v["flux_ratio"])
    disk = uniform_disk_visibility(baselines, wavelength, v["diameter"])
    norm = 1.0 + v["flux_ratio"]
    inner = binary.visibility + (disk.visibility - 1.0) / norm
    p = point.visibility
    derivatives = {
        "position_east": point.derivatives[0] * inner,
        "position_north": point.derivatives[1] * inner,
        "diameter": p * disk.derivatives[0] / norm,
        "separation": p * binary.derivatives[0],
        "position_angle": p * binary.derivatives[1],
        "flux_ratio": p * (binary.derivatives[2] - (disk.visibility - 1.0) / norm**2),
    }
    return p * inner, derivatives


class ArrayScene(Scene):
    """Apertures of a telescope array observing a weak thermal source (see the module docstring)."""

    kind = "array"
    Settings = ArraySettings
    parameter_names = SOURCE_PARAMETERS
    default_analysis = "interferometry"
    provides = frozenset({GaussianState, ApertureLight, FockState})

    @classmethod
    def example(cls):
        return {"kind": "array", "model": "binary", "baseline": "40 m", "wavelength": "1550 nm", "bandwidth": "10 nm",
                "separation": "3 mas", "position_angle": "70 deg", "flux_ratio": 0.4, "photons_per_copy": 0.2}

    def __init__(self, settings: ArraySettings, seed: int = 0):
        super().__init__(settings, seed)
        s = settings
        self.positions = s.positions()
        self.baselines = self.positions[None, :, :] - self.positions[:, None, :]
        longest = float(np.linalg.norm(self.baselines, axis=-1).max())
        scale = s.wavelength / (2 * np.pi * longest)  # radians per radian of fringe phase
        self.angular_scale = scale
        reach = max(20 * scale, 3 * max(abs(s.position_east), abs(s.position_north)))
        self._parameters = {
            "position_east": Parameter("position_east", s.position_east, "rad", (-reach, reach), 1e-4 * scale),
            "position_north": Parameter("position_north", s.position_north, "rad", (-reach, reach), 1e-4 * scale),
            "diameter": Parameter("diameter", s.diameter, "rad", (0.0, max(60 * scale, 3 * s.diameter)), 1e-4 * scale),
            "separation": Parameter("separation", s.separation, "rad", (0.0, max(60 * scale, 3 * s.separation)), 1e-4 * scale),
            "position_angle": Parameter("position_angle", s.position_angle, "rad",
                                        (min(-np.pi, s.position_angle), max(np.pi, s.position_angle)), 1e-5),
            "flux_ratio": Parameter("flux_ratio", s.flux_ratio, "1", (0.0, max(1.0, 3 * s.flux_ratio)), 1e-5),
        }
        if s.photons_per_copy is not None:
            self.photons_per_aperture = float(s.photons_per_copy)
        else:
            flux = s.flux_density if s.flux_density is not None else float(photometry.flux_density_from_magnitude(s.magnitude, s.band))
            self.photons_per_aperture = float(photometry.photons_per_mode(flux, s.wavelength, s.aperture_diameter, 0.0, s.throughput))
            if not MIN_PHOTONS <= self.photons_per_aperture <= 100.0:
                raise ValueError(f"the source gives {self.photons_per_aperture:.3g} photons per aperture per temporal mode; "
                                 f"allowed {MIN_PHOTONS:g} to 100 (below, every scheme's information underflows)")
        truth, _ = composite_visibility(self.baselines, s.wavelength, self.values())
        self.reference_phase = np.angle(truth)

    # -- declarations -----------------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, Parameter]:
        return self._parameters

    @property
    def photons_per_copy(self) -> float:
        """Mean photons per temporal mode summed over all apertures (:math:`\\varepsilon` for two)."""
        return self.photons_per_aperture * len(self.positions)

    @property
    def num_apertures(self) -> int:
        return len(self.positions)

    def source_parameters(self) -> list[str]:
        """The parameters that describe the configured source model."""
        return {"point": ["position_east"], "binary": ["separation", "flux_ratio"],
                "uniform_disk": ["diameter"]}[self.settings.model]

    def copies_per_second(self) -> float | None:
        """Temporal modes per second, :math:`\\Delta\\nu = c\\Delta\\lambda/\\lambda^2` (None without a bandwidth)."""
        s = self.settings
        if s.bandwidth is None:
            return None
        return float(photometry.bandwidth_hz(s.wavelength, s.bandwidth))

    # -- closed form --------------------------------------------------------------------------
    def visibility(self, values: Mapping[str, float] | None = None):
        """``(g, {name: dg})`` for every baseline (M x M) at one parameter point."""
        return composite_visibility(self.baselines, self.settings.wavelength, self.values(values))

    def correlation(self, values: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """:math:`N = \\bar n g`, batched over array-valued parameters: shape ``(..., M, M)``."""
        full = self.values(values) if not values else {**self.values(), **{k: np.asarray(v, float) for k, v in values.items()}}
        shape = np.broadcast_shapes(*(np.shape(v) for v in full.values()))
        flat = {k: np.broadcast_to(np.asarray(v, float), shape).ravel() for k, v in full.items()}
        count = int(np.prod(shape, dtype=int))
        out = np.empty((count, self.num_apertures, self.num_apertures), dtype=complex)
        for i in range(count):
            out[i] = composite_visibility(self.baselines, self.settings.wavelength, {k: v[i] for k, v in flat.items()})[0]
        return self.photons_per_aperture * out.reshape(*shape, self.num_apertures, self.num_apertures)

    def light(self, values: Mapping[str, np.ndarray] | None = None) -> ApertureLight:
        return ApertureLight(self.correlation(values), self.positions, self.settings.wavelength, self.reference_phase,
                             self.settings.aperture_diameter, self.copies_per_second())

    # -- Strawberry Fields ------------------------------------------------------------------------
    def program(self, values: Mapping[str, float] | None = None):
        from sensing.sf_compat import import_strawberryfields

        sf = import_strawberryfields()
        ops = sf.ops
        n = self.correlation(values)
        photons, vectors = np.linalg.eigh(n)
        prog = sf.Program(self.num_apertures)
        with prog.context as q:
            for k, value in enumerate(np.clip(photons, 0.0, None)):
                ops.Thermal(float(value)) | q[k]
            ops.Interferometer(vectors.conj()) | q
        return prog

    def state(self, values: Mapping[str, float] | None = None) -> GaussianState:
        return replace(self.run_gaussian(self.program(values)), classical=True)

    def covariance(self, values: Mapping[str, float] | None = None) -> np.ndarray:
        """Closed-form SF covariance of one copy (equal to :meth:`state`'s, tested)."""
        return thermal_covariance(self.correlation(values))

    def typed_state(self, state_type, values=None):
        if state_type is ApertureLight:
            return self.light(values)
        if state_type is FockState:
            if self.num_apertures > 3:
                raise ValueError(f"the Fock state of {self.num_apertures} apertures is too large; at most 3 apertures")
            cutoff = self.settings.fock_cutoff
            rho = fock_density_matrix(1.0, self.correlation(values), cutoff)
            return FockState(rho, cutoff, classical=True)
        return super().typed_state(state_type, values)
