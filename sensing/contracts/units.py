"""Physical units at the config boundary (contracts layer: scene and detector settings use it).

A config field declares its physical kind once, with an annotated type::

    class TelescopeSettings(BaseModel):
        diameter: Length                     # "2.4 m", "240 cm", 2.4
        wavelength: Wavelength               # "550 nm", "545 THz", 5.5e-7
        separation: Angle                    # "1.2 mas", "0.3 arcsec", 5.8e-9
        exposure: Duration                   # "2 h", 7200
        magnitude: Magnitude                 # 12.5, "12.5 mag"

Each value is converted **once**, at validation, to the canonical SI unit of its kind (m, rad,
s, Hz, W m⁻² Hz⁻¹); physics code downstream receives plain floats in those units. A bare
number is read in the field's ``default`` unit (the canonical unit unless stated). A wrong unit
(a length where an angle belongs), NaN, inf and booleans raise ``ValueError`` naming the expected
kind and the value, which pydantic reports with the field path (and
:class:`sensing.study.config.ConfigError` with it).

:func:`cf_units` gives the CF/UDUNITS-style ``units`` attribute string for results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

__all__ = [
    "PhysicalUnit",
    "Length",
    "Wavelength",
    "Angle",
    "Duration",
    "Frequency",
    "SpectralFluxDensity",
    "Magnitude",
    "Dimensionless",
    "to_canonical",
    "cf_units",
    "unit_of",
]


@dataclass(frozen=True)
class PhysicalUnit:
    """Annotation metadata: a float field holding a quantity of one physical kind.

    Parameters
    ----------
    unit : str
        Canonical unit the value is stored in (astropy syntax, e.g. ``"m"``, ``"rad"``,
        ``"W m-2 Hz-1"``, ``"mag"``).
    kind : str, optional
        Name of the physical kind in messages (default: astropy's physical type of ``unit``).
    default : str, optional
        Unit of a bare number (default: ``unit``).
    display : str, optional
        Unit for presenting values to people (plots, reports); storage stays in ``unit``.
    spectral : bool
        Also accept spectrally equivalent units (a frequency or photon energy for a wavelength).
    """

    unit: str
    kind: str | None = None
    default: str | None = None
    display: str | None = None
    spectral: bool = False

    # -- conversion ------------------------------------------------------------------------------
    @property
    def kind_name(self) -> str:
        if self.kind:
            return self.kind
        if self.unit == "mag":
            return "magnitude"
        import astropy.units as u  # here, not at module level: 0.2 s a run without physical units does not pay

        return str(u.Unit(self.unit).physical_type)

    def convert(self, value: Any) -> float:
        """Return ``value`` as a float in :attr:`unit`; raise ``ValueError`` naming the kind if it is not one."""
        return to_canonical(value, self)

    # -- pydantic hooks --------------------------------------------------------------------------
    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.convert, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler):
        out = handler(schema)
        out = handler.resolve_ref_schema(out)
        out.pop("type", None)
        out["anyOf"] = [{"type": "number"}, {"type": "string"}]
        out["description"] = (out.get("description", "") + f" [{self.kind_name}: a number in "
                              f"{self.default or self.unit} or a string with a unit, e.g. '1 {self.display or self.unit}']").strip()
        return out


def _article(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _reject(value: Any, spec: PhysicalUnit, reason: str) -> ValueError:
    return ValueError(f"expected {_article(spec.kind_name)} (e.g. '1 {spec.display or spec.unit}'), got {value!r}: {reason}")


def to_canonical(value: Any, spec: PhysicalUnit) -> float:
    """Convert a number, a string with a unit or an astropy Quantity to a float in ``spec.unit``.

    Raises
    ------
    ValueError
        On booleans, NaN/inf, unparsable strings and units of another physical kind.
    """
    if isinstance(value, bool) or value is None:
        raise _reject(value, spec, "not a number")
    if spec.unit == "mag":
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and text.endswith("mag"):
            text = text[:-3].strip()
        try:
            number = float(text)
        except (TypeError, ValueError):
            raise _reject(value, spec, "not a magnitude (a number, optionally followed by 'mag')") from None
        if not math.isfinite(number):
            raise _reject(value, spec, "not finite")
        if not MAGNITUDE_RANGE[0] <= number <= MAGNITUDE_RANGE[1]:
            raise _reject(value, spec, f"outside the magnitudes of real sources, {MAGNITUDE_RANGE[0]:g} (brighter than "
                                       f"the Sun) to {MAGNITUDE_RANGE[1]:g}")
        return number
    import astropy.units as u

    canonical = u.Unit(spec.unit)
    if isinstance(value, u.Quantity):
        quantity = value
    elif isinstance(value, str):
        try:
            quantity = u.Quantity(value.strip())
        except (TypeError, ValueError):
            raise _reject(value, spec, "not a number with a unit") from None
        if quantity.unit == u.dimensionless_unscaled and not _has_unit(value):
            quantity = quantity.value * u.Unit(spec.default or spec.unit)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _reject(value, spec, "not a number") from None
        quantity = number * u.Unit(spec.default or spec.unit)
    if quantity.isscalar is False:
        raise _reject(value, spec, "not a single value")
    try:
        result = float(quantity.to_value(canonical, equivalencies=u.spectral() if spec.spectral else []))
    except u.UnitConversionError:
        raise _reject(value, spec, f"its unit {quantity.unit.to_string()!r} is {_article(str(quantity.unit.physical_type))}, "
                                   f"not {_article(spec.kind_name)}") from None
    if not math.isfinite(result):
        raise _reject(value, spec, "not finite")
    return result


def _has_unit(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


def unit_of(annotation: Any) -> PhysicalUnit | None:
    """The :class:`PhysicalUnit` of an annotated type (or a pydantic ``FieldInfo``), else None."""
    metadata = getattr(annotation, "__metadata__", None) or getattr(annotation, "metadata", None) or ()
    for item in metadata:
        if isinstance(item, PhysicalUnit):
            return item
    return None


def cf_units(spec: PhysicalUnit | str) -> str:
    """CF/UDUNITS-style units string for an xarray ``attrs['units']``: ``"m"``, ``"rad"``, ``"W m-2 Hz-1"``.

    Products of base units are written with space-separated integer powers (UDUNITS syntax);
    ``"mag"`` and dimensionless give ``"mag"`` and ``"1"``.
    """
    text = spec.unit if isinstance(spec, PhysicalUnit) else spec
    if text == "mag":
        return "mag"
    import astropy.units as u

    unit = u.Unit(text)
    if unit == u.dimensionless_unscaled:
        return "1"
    if unit.scale != 1 or not unit.bases:
        return unit.to_string()
    parts = []
    order = sorted(zip(unit.bases, unit.powers), key=lambda bp: -float(bp[1]))
    for base, power in order:
        name = base.to_string()
        parts.append(name if power == 1 else f"{name}{int(power) if float(power).is_integer() else power}")
    return " ".join(parts)


#: Lengths (aperture diameters, baselines, positions in the pupil), stored in metres.
Length = Annotated[float, PhysicalUnit("m")]
#: Wavelengths, stored in metres; a frequency or photon energy is accepted too.
Wavelength = Annotated[float, PhysicalUnit("m", kind="wavelength", display="nm", spectral=True)]
#: Angles on the sky, stored in radians, presented in milliarcseconds.
Angle = Annotated[float, PhysicalUnit("rad", display="mas")]
#: Durations (observing time, exposures), stored in seconds.
Duration = Annotated[float, PhysicalUnit("s", kind="duration", display="h")]
#: Frequencies and bandwidths, stored in hertz.
Frequency = Annotated[float, PhysicalUnit("Hz")]
#: Spectral flux density f_nu, stored in W m^-2 Hz^-1, presented in jansky.
SpectralFluxDensity = Annotated[float, PhysicalUnit("W m-2 Hz-1", kind="spectral flux density", display="Jy")]
#: Vega magnitudes (a number, optionally with 'mag').
#: Magnitudes a config may give: the Sun is -26.7 in V, the faintest objects imaged about +32.
MAGNITUDE_RANGE = (-30.0, 40.0)
Magnitude = Annotated[float, PhysicalUnit("mag")]
#: Pure numbers (ratios such as obscuration, throughput); a unit string must cancel ('30 percent').
Dimensionless = Annotated[float, PhysicalUnit("", kind="dimensionless number")]
