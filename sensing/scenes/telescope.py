r"""Real telescopes for the ``two_point`` scene: PSF settings, physical units, photometry.

Config blocks (all optional; without them the scene is today's abstract Gaussian one):

* ``psf``: ``gaussian`` (width ``psf_sigma``), ``airy`` / ``annular`` (circular aperture with a
  central obscuration; width λ/D from ``telescope`` or given), ``slit`` (1-D), ``fits`` (a PSF image
  with its pixel scale, as poppy or hcipy write it) or ``array`` (inline samples).
* ``telescope``: ``aperture_diameter``, ``obscuration``, ``wavelength``, ``bandwidth``, ``throughput``
  in physical units (:mod:`sensing.contracts.units`).
* ``brightness``: a magnitude in a named band (``magnitude`` of both sources together, or
  ``magnitudes: [first, second]``), or a spectral flux density.
* ``observing_time``.

Everything is converted once, at validation: positions (``separation``, ``centroid``, widths) into
the scene's angle unit ``units`` (default ``mas`` with a telescope), the brightness into
``photons_per_copy`` = photons per temporal mode, and the band into copies per second
:math:`\Delta\nu = c\Delta\lambda/\lambda^2` (PHYSICS.md §10.2).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from sensing.contracts.units import Dimensionless, Duration, Length, Magnitude, SpectralFluxDensity, Wavelength
from sensing.physics import photometry
from sensing.physics.psf import PsfAdaptedModes, PupilPSF, SampledPSF, airy_psf, aperture_marginal_psf, slit_psf
from sensing.physics.pupil_modes import ApertureModes2D, SampledModes2D, adapted_basis_size

__all__ = ["PsfSettings", "TelescopeSettings", "BrightnessSettings", "Duration", "physical_inputs", "photometry_of",
           "build_psf_basis", "telescope_attrs", "angle_unit"]

#: Largest PSF-adapted basis the scene builds.
MAX_ADAPTED_MODES = 60
#: Weight of a shifted PSF the adapted basis may leave out at the farthest position searched.
ADAPTED_TAIL = 1e-11
#: Pupil quadrature nodes per panel for aperture PSFs (the chord rule converges exponentially).
APERTURE_NODES = 160


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GaussianPsf(_Strict):
    """``psf.kind: gaussian``: today's PSF, intensity standard deviation ``psf_sigma``."""

    kind: Literal["gaussian"] = "gaussian"


class AiryPsf(_Strict):
    """``psf.kind: airy``: circular aperture, optionally with a central obscuration."""

    kind: Literal["airy"] = "airy"
    width: float | None = Field(
        None, gt=0.0, description="lambda/D in the scene's `units` (or a string with an angle unit); default from `telescope`"
    )
    obscuration: float | None = Field(
        None, ge=0.0, lt=1.0, description="central obscuration, inner/outer diameter (default: telescope.obscuration, else 0)"
    )


class AnnularPsf(AiryPsf):
    """``psf.kind: annular``: an Airy PSF whose central obscuration must be given (here or in ``telescope``)."""

    kind: Literal["annular"] = "annular"


class SlitPsf(_Strict):
    """``psf.kind: slit``: a 1-D slit aperture of width D (sinc amplitude)."""

    kind: Literal["slit"] = "slit"
    width: float | None = Field(None, gt=0.0, description="lambda/D of the slit in `units`; default from `telescope`")


class FitsPsf(_Strict):
    """``psf.kind: fits``: a PSF image (2-D, or a 1-D profile) read with astropy.io.fits."""

    kind: Literal["fits"] = "fits"
    path: str = Field(min_length=1, description="FITS file; the optical axis is at pixel (n // 2) of each axis")
    hdu: int | str = Field(0, description="HDU index or name holding the image")
    pixel_scale: float | None = Field(
        None, gt=0.0,
        description="angle per pixel in `units` (or with a unit); default from the header: PIXELSCL (arcsec, poppy) "
        "or CDELT1 with CUNIT1 (default deg)",
    )
    intensity: bool = Field(True, description="the image holds intensities (amplitude = sqrt); false: signed amplitudes")

    _image: np.ndarray | None = PrivateAttr(None)
    _header_scale: float | None = PrivateAttr(None)  # rad per pixel from the header

    @model_validator(mode="after")
    def _readable(self):
        import astropy.units as u
        from astropy.io import fits

        path = Path(self.path).expanduser()
        try:
            with fits.open(path) as hdul:
                hdu = hdul[self.hdu]
                data = np.asarray(hdu.data, dtype=float)
                header = hdu.header
        except (OSError, KeyError, IndexError, TypeError, ValueError) as err:
            raise ValueError(f"path: cannot read a PSF image from {self.path!r} (hdu {self.hdu!r}): {err}") from None
        data = np.squeeze(data)
        if data.ndim not in (1, 2) or min(data.shape) < 1 or not np.all(np.isfinite(data)):
            raise ValueError(f"path: {self.path!r} must hold a finite 1-D or 2-D image, got shape {np.shape(data)}")
        self._image = data
        if "PIXELSCL" in header:
            self._header_scale = float(header["PIXELSCL"]) * u.arcsec.to(u.rad)
        elif "CDELT1" in header:
            self._header_scale = abs(float(header["CDELT1"])) * u.Unit(str(header.get("CUNIT1", "deg")).strip() or "deg").to(u.rad)
        return self


class ArrayPsf(_Strict):
    """``psf.kind: array``: PSF samples given inline (a list, or a list of rows)."""

    kind: Literal["array"] = "array"
    values: list[float] | list[list[float]] = Field(min_length=1, description="samples; the axis is at index n // 2")
    pixel_scale: float = Field(gt=0.0, description="angle per sample in `units` (or a string with a unit)")
    intensity: bool = Field(True, description="the values are intensities (amplitude = sqrt); false: signed amplitudes")

    @field_validator("values")
    @classmethod
    def _rectangular(cls, v):
        a = np.asarray(v, dtype=float)
        if a.dtype == object or a.ndim not in (1, 2) or not np.all(np.isfinite(a)):
            raise ValueError("must be a list of finite numbers or a rectangular list of rows")
        return v


PsfSettings = Annotated[Union[GaussianPsf, AiryPsf, AnnularPsf, SlitPsf, FitsPsf, ArrayPsf], Field(discriminator="kind")]


class TelescopeSettings(_Strict):
    """``source.telescope``: the collecting optics, in physical units."""

    aperture_diameter: Length = Field(gt=0.0, description="aperture diameter D, e.g. '2.4 m'")
    obscuration: Dimensionless = Field(0.0, ge=0.0, lt=1.0, description="central obscuration, inner/outer diameter")
    wavelength: Wavelength = Field(gt=0.0, description="central wavelength, e.g. '550 nm'")
    bandwidth: Length = Field(gt=0.0, description="optical bandwidth as a wavelength interval, e.g. '10 nm'")
    throughput: Dimensionless = Field(1.0, gt=0.0, le=1.0, description="optics x filter x detector efficiency upstream of the detectors")

    @model_validator(mode="after")
    def _narrow_band(self):
        if self.bandwidth >= self.wavelength:
            raise ValueError(f"bandwidth: {self.bandwidth:.3g} m is not narrower than the wavelength {self.wavelength:.3g} m")
        return self


class BrightnessSettings(_Strict):
    """``source.brightness``: exactly one of ``magnitude``, ``magnitudes``, ``flux_density``."""

    magnitude: Magnitude | None = Field(None, description="Vega magnitude of both sources together in `band`")
    magnitudes: list[Magnitude] | None = Field(
        None, min_length=2, max_length=2, description="[first, second] Vega magnitudes in `band` (sets relative_brightness)"
    )
    band: str = Field("V", description=f"photometric band of the magnitudes: {', '.join(photometry.BANDS)}")
    flux_density: SpectralFluxDensity | None = Field(
        None, gt=0.0, description="spectral flux density f_nu of both sources together, e.g. '3.6 kJy'"
    )

    @model_validator(mode="after")
    def _one_of(self):
        given = [n for n in ("magnitude", "magnitudes", "flux_density") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of magnitude, magnitudes, flux_density (got {given or 'none'})")
        if self.band not in photometry.BANDS:
            raise ValueError(f"band: unknown photometric band {self.band!r}; known: {', '.join(photometry.BANDS)}")
        return self

    def flux_densities(self) -> np.ndarray:
        """f_nu of the sources in W m^-2 Hz^-1: one value (together) or two (first, second)."""
        if self.flux_density is not None:
            return np.array([self.flux_density])
        mags = [self.magnitude] if self.magnitude is not None else self.magnitudes
        return np.atleast_1d(photometry.flux_density_from_magnitude(np.array(mags, dtype=float), self.band))


# ---------------------------------------------------------------------------------------------
# validation hooks of TwoPointSettings
# ---------------------------------------------------------------------------------------------
def angle_unit(units: str) -> u.Unit | None:
    """The astropy angle unit named by ``units`` ('mas', 'arcsec', 'rad', ...), else None (abstract units)."""
    import astropy.units as u  # in the functions that use it: 0.2 s a run in abstract units does not pay

    try:
        unit = u.Unit(units)
    except (ValueError, TypeError):
        return None
    return unit if unit.physical_type == "angle" else None


def _is_quantity(value) -> bool:
    """Whether ``value`` is an astropy Quantity (there is none unless ``astropy.units`` is imported)."""
    units = sys.modules.get("astropy.units")
    return units is not None and isinstance(value, units.Quantity)


def _to_scene_units(value, field: str, units: str):
    """A position or width given with a unit, converted to the scene's ``units`` (numbers pass through)."""
    if isinstance(value, bool) or not (isinstance(value, str) or _is_quantity(value)):
        return value
    import astropy.units as u

    try:
        quantity = value if isinstance(value, u.Quantity) else u.Quantity(value.strip())
    except (TypeError, ValueError):
        raise ValueError(f"{field}: expected a number or an angle with a unit (e.g. '5 mas'), got {value!r}") from None
    if quantity.unit == u.dimensionless_unscaled:
        return float(quantity.value)
    unit = angle_unit(units)
    if quantity.unit.physical_type != "angle":
        raise ValueError(f"{field}: expected an angle (e.g. '5 mas' or '0.01 arcsec'), got {value!r} "
                         f"({quantity.unit.physical_type})")
    if unit is None:
        raise ValueError(f"{field}: {value!r} is an angle on the sky, but source.units is {units!r} (abstract); "
                         "set source.units to an angle unit (mas, arcsec, rad) or give a telescope")
    return float(quantity.to_value(unit))


def physical_inputs(data):
    """Before-validation of ``source``: default ``units: mas`` with a telescope; positions with units converted."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if data.get("telescope") is not None and "units" not in data:
        data["units"] = "mas"
    units = data.get("units", "psf_sigma")
    if not isinstance(units, str):
        return data
    for name in ("separation", "centroid", "psf_sigma"):
        if name in data:
            data[name] = _to_scene_units(data[name], name, units)
    psf = data.get("psf")
    if isinstance(psf, dict):
        psf = dict(psf)
        for name in ("width", "pixel_scale"):
            if name in psf:
                psf[name] = _to_scene_units(psf[name], f"psf.{name}", units)
        data["psf"] = psf
    return data


def photometry_of(settings):
    """After-validation: photons per copy from the brightness, consistency of the physical blocks."""
    s = settings
    tel, bright = s.telescope, s.brightness
    if tel is not None and angle_unit(s.units) is None:
        raise ValueError(f"units: with a telescope the positions are angles on the sky; units must be an angle unit "
                         f"(mas, arcsec, rad), got {s.units!r}")
    if bright is not None:
        if tel is None:
            raise ValueError("brightness: needs a telescope (aperture_diameter, wavelength, bandwidth) to give photons per copy")
        if s.photons_per_copy is not None:
            raise ValueError("photons_per_copy: give photons_per_copy or brightness, not both")
        flux = bright.flux_densities()
        if flux.size == 2:
            if "relative_brightness" in s.model_fields_set:
                raise ValueError("relative_brightness: brightness.magnitudes already sets it; give one of them")
            s.relative_brightness = float(flux[1] / flux.sum())
            if not 1e-6 < s.relative_brightness < 1 - 1e-6:
                raise ValueError(f"brightness.magnitudes: the sources differ by too much (relative_brightness {s.relative_brightness:.3g})")
        eps = float(photometry.photons_per_mode(flux.sum(), tel.wavelength, tel.aperture_diameter, tel.obscuration,
                                                tel.throughput))
        if not 0 < eps <= 100:
            raise ValueError(f"brightness: gives {eps:.3g} photons per temporal mode; allowed (0, 100]")
        s.photons_per_copy = eps
    if s.photons_per_copy is None:
        raise ValueError("photons_per_copy: field required (or give brightness with a telescope)")
    if s.observing_time is not None and tel is None:
        raise ValueError("observing_time: needs a telescope (its bandwidth sets the copies per second)")
    psf = s.psf
    if psf is not None and psf.kind in ("airy", "annular", "slit") and psf.width is None and tel is None:
        raise ValueError(f"psf.width: a {psf.kind} PSF needs its width lambda/D (in `units`) or a telescope")
    if psf is not None and psf.kind == "annular":
        obscuration = psf.obscuration if psf.obscuration is not None else (tel.obscuration if tel else 0.0)
        if not obscuration > 0:
            raise ValueError("psf.obscuration: an annular PSF needs 0 < obscuration < 1 (here or in telescope)")
    if psf is not None and psf.kind == "slit" and s.dimensions != 1:
        raise ValueError("psf.kind: a slit PSF is 1-D; use dimensions: 1")
    if psf is not None and psf.kind in ("fits", "array"):
        ndim = np.ndim(psf._image) if psf.kind == "fits" else np.ndim(psf.values)
        if s.dimensions == 2 and ndim != 2:
            raise ValueError(f"psf: dimensions: 2 needs a 2-D PSF image, got a {ndim}-D one")
        if s.dimensions == 2 and s.orientation != 0.0:
            raise ValueError("orientation: a sampled (fits/array) PSF is sorted along its x axis; use orientation 0 "
                             "(rotate the image instead)")
        if psf.kind == "fits" and psf.pixel_scale is None:
            if psf._header_scale is None:
                raise ValueError("psf.pixel_scale: not given and the FITS header has neither PIXELSCL nor CDELT1")
            unit = angle_unit(s.units)
            if unit is None:
                raise ValueError(f"psf.pixel_scale: the header gives an angle but source.units is {s.units!r}; "
                                 "give pixel_scale in the scene's units or use an angle unit")
            import astropy.units as u

            psf.pixel_scale = float((psf._header_scale * u.rad).to_value(unit))
    return s


# ---------------------------------------------------------------------------------------------
# the PSF and its basis
# ---------------------------------------------------------------------------------------------
@dataclass
class PsfBasis:
    """A non-Gaussian PSF of the scene: its 1-D profile (or 2-D pupil) and how to build its adapted basis.

    ``scale`` is the Gaussian-equivalent width :math:`1/(2\\sqrt K)` (K the quantum limit per photon
    of the 1-D / axis-marginal PSF): it sizes search ranges and finite-difference steps as
    ``psf_sigma`` does for the Gaussian.
    """

    name: str
    axis_psf: PupilPSF  # the 1-D PSF (1-D scene) or the k_parallel marginal (2-D scene)
    make_2d: object = None  # count -> 2-D basis

    @property
    def scale(self) -> float:
        return float(1.0 / (2.0 * np.sqrt(self.axis_psf.separation_qfi)))

    def modes(self, reach: float, basis_modes: int | None, dimensions: int, orientation: float):
        count = basis_modes or adapted_basis_size(self.axis_psf, reach, ADAPTED_TAIL, MAX_ADAPTED_MODES)
        if dimensions == 1:
            return PsfAdaptedModes(self.axis_psf, count)
        return self.make_2d(count, orientation)


def _width(psf, settings) -> float:
    if psf.width is not None:
        return float(psf.width)
    import astropy.units as u

    t = settings.telescope
    return float((t.wavelength / t.aperture_diameter * u.rad).to_value(angle_unit(settings.units)))


def build_psf_basis(settings) -> PsfBasis | None:
    """The scene's PSF (None for the Gaussian of ``psf_sigma``, which keeps the Hermite-Gauss basis)."""
    psf = settings.psf
    if psf is None and settings.telescope is None or psf is not None and psf.kind == "gaussian":
        return None
    kind = "airy" if psf is None else psf.kind
    if kind in ("airy", "annular"):
        width = _width(psf or AiryPsf(), settings)
        obscuration = psf.obscuration if psf is not None and psf.obscuration is not None else (
            settings.telescope.obscuration if settings.telescope is not None else 0.0)
        name = f"{'annular' if obscuration > 0 else 'airy'}(lambda/D={width:.4g} {settings.units}, obscuration={obscuration:.3g})"
        if settings.dimensions == 1:
            return PsfBasis(name + " line cut", airy_psf(1.0, width, obscuration, APERTURE_NODES))
        axis = aperture_marginal_psf(1.0, width, obscuration, APERTURE_NODES)
        return PsfBasis(name, axis, lambda n, theta: ApertureModes2D(width, obscuration, n, theta, APERTURE_NODES))
    if kind == "slit":
        width = _width(psf, settings)
        return PsfBasis(f"slit(lambda/D={width:.4g} {settings.units})", slit_psf(1.0, width, APERTURE_NODES))
    image = np.asarray(psf._image if kind == "fits" and psf._image is not None else
                       (_reload(psf) if kind == "fits" else psf.values), dtype=float)
    scale = float(psf.pixel_scale)
    label = f"{kind}({'x'.join(map(str, image.shape))} samples at {scale:.4g} {settings.units})"
    if image.ndim == 1:
        return PsfBasis(label, SampledPSF(image[None, :], scale, psf.intensity).row(0))
    sampled = SampledPSF(image, scale, psf.intensity)
    if settings.dimensions == 1:
        return PsfBasis(label + " row through the axis", sampled.row())
    return PsfBasis(label, sampled.marginal(), lambda n, theta: SampledModes2D(sampled, n))


def _reload(psf: FitsPsf) -> np.ndarray:
    from astropy.io import fits

    with fits.open(Path(psf.path).expanduser()) as hdul:
        return np.squeeze(np.asarray(hdul[psf.hdu].data, dtype=float))


def telescope_attrs(scene) -> dict:
    """Physical facts of a scene for results attributes (SI units; empty dict without a telescope)."""
    s = scene.settings
    t = s.telescope
    if t is None:
        return {}
    import astropy.units as u

    rate = scene.copies_per_second()
    out = {
        "aperture_diameter_m": t.aperture_diameter, "obscuration": t.obscuration, "wavelength_m": t.wavelength,
        "bandwidth_m": t.bandwidth, "throughput": t.throughput, "copies_per_second_hz": rate,
        "photons_per_second": s.photons_per_copy * rate, "position_units": s.units, "psf": scene.psf_name,
        "lambda_over_d": float((t.wavelength / t.aperture_diameter * u.rad).to_value(angle_unit(s.units))),
    }
    if s.brightness is not None:
        b = s.brightness
        out["brightness"] = (f"{b.band} = {b.magnitude}" if b.magnitude is not None else
                             f"{b.band} = {b.magnitudes}" if b.magnitudes is not None else f"f_nu = {b.flux_density} W m-2 Hz-1")
        if b.flux_density is None:
            out["zero_point"] = (f"{photometry.BANDS[b.band].zero_point_jy} Jy ({b.band}); "
                                 + photometry.BANDS[b.band].reference)
    if s.observing_time is not None:
        out["observing_time_s"] = s.observing_time
    return out
