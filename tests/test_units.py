"""Units at the config boundary (sensing.contracts.units) and photometry (sensing.physics.photometry).

Hand arithmetic below is written out digit by digit (CODATA h and c exact; zero point from
Bessell, Castelli & Plez 1998, A&A 333, 231, Table A2: V = 0 is 3636 Jy).
"""

import math
from typing import Annotated

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from sensing.physics import photometry as ph
from sensing.contracts.units import (
    Angle,
    Dimensionless,
    Duration,
    Length,
    Magnitude,
    PhysicalUnit,
    SpectralFluxDensity,
    Wavelength,
    cf_units,
    unit_of,
)


class Telescope(BaseModel):
    diameter: Length = 1.0
    wavelength: Wavelength = 550e-9
    separation: Angle = 0.0
    exposure: Duration = 1.0
    flux: SpectralFluxDensity = 0.0
    magnitude: Magnitude = 0.0
    obscuration: Dimensionless = 0.0
    offset: Annotated[float, PhysicalUnit("rad", default="mas")] = 0.0


MAS = math.pi / 180 / 3600 / 1000  # 4.84813681e-9 rad


# -- photometry -----------------------------------------------------------------------------------
def test_zero_magnitude_star_through_one_metre_aperture_physics_10_2():
    """V = 0, D = 1 m, 10 nm at 550 nm. By hand:

    h nu  = 6.62607015e-34 * 299792458 / 550e-9        = 3.611720e-19 J
    F/h nu = 3636e-26 / 3.611720e-19                   = 1.006723e-4 photons s^-1 m^-2 Hz^-1
    d nu  = 299792458 * 10e-9 / (550e-9)^2              = 9.910494e12 Hz (temporal modes per second)
    A     = pi/4                                        = 0.7853982 m^2
    rate  = 1.006723e-4 * 9.910494e12 * 0.7853982       = 7.836011e8 photons s^-1
    per mode = 1.006723e-4 * 0.7853982                  = 7.906787e-5
    per hour = 3600 * 9.910494e12                       = 3.567778e16 copies
    rule of thumb check: 1.006723e-4 * (c 1e-10/lambda^2 = 9.910494e10) * 1e-4 = 997.7 photons s^-1 cm^-2 A^-1
    """
    flux = ph.flux_density_from_magnitude(0.0, "V")
    assert flux == pytest.approx(3636e-26, rel=1e-12)
    rate = ph.photon_rate(flux, 550e-9, 10e-9, 1.0)
    per_mode = ph.photons_per_mode(flux, 550e-9, 1.0)
    modes_per_second = ph.bandwidth_hz(550e-9, 10e-9)
    assert modes_per_second == pytest.approx(9.910494e12, rel=1e-6)
    assert rate == pytest.approx(7.836011e8, rel=1e-6)
    assert per_mode == pytest.approx(7.906787e-5, rel=1e-6)
    assert rate / modes_per_second == pytest.approx(per_mode, rel=1e-12)
    assert ph.temporal_modes(3600.0, 550e-9, 10e-9) == pytest.approx(3.567778e16, rel=1e-6)
    per_cm2_angstrom = ph.photon_rate(flux, 550e-9, 1e-10, 2 / math.sqrt(math.pi) * 1e-2)
    assert per_cm2_angstrom == pytest.approx(997.71, rel=1e-4)
    # PHYSICS 10.2 ([M] rule of thumb 1000 photons/s/cm^2/A -> 7.9e8 /s and 7.9e-5 per mode): 1 % soft check
    assert rate == pytest.approx(7.9e8, rel=1e-2)
    assert per_mode == pytest.approx(7.9e-5, rel=1e-2)


def test_magnitudes_obscuration_and_throughput_scale_the_rate():
    """m = 5 divides by 100; eps_o = 0.33 removes 10.89 % of the area; throughput multiplies."""
    base = ph.photon_rate_from_magnitude(0.0, "V", 10e-9, 2.4, wavelength=550e-9)
    fainter = ph.photon_rate_from_magnitude(5.0, "V", 10e-9, 2.4, obscuration=0.33, throughput=0.4, wavelength=550e-9)
    assert fainter / base == pytest.approx(0.01 * (1 - 0.33**2) * 0.4, rel=1e-12)
    rates = ph.photon_rate_from_magnitude(np.array([0.0, 2.5]), "V", 10e-9, 1.0)
    assert rates[1] / rates[0] == pytest.approx(0.1, rel=1e-12)


def test_zero_point_table_is_cited_and_unknown_band_rejected():
    for band in ph.BANDS.values():
        assert "Bessell" in band.reference and band.zero_point_jy > 0 and 3e-7 < band.effective_wavelength < 3e-6
    with pytest.raises(ValueError, match="unknown photometric band 'Z'"):
        ph.flux_density_from_magnitude(0.0, "Z")


# -- units -----------------------------------------------------------------------------------------
def test_strings_with_units_convert_once_to_canonical():
    t = Telescope(diameter="10 km", wavelength="550 nm", separation="1.2 mas", exposure="2 h",
                  flux="3636 Jy", magnitude="12.5 mag", obscuration="33 percent", offset=1.2)
    assert t.diameter == pytest.approx(1e4, rel=1e-15)
    assert t.wavelength == pytest.approx(5.5e-7, rel=1e-15)
    assert t.separation == pytest.approx(1.2 * MAS, rel=1e-12)
    assert t.exposure == 7200.0
    assert t.flux == pytest.approx(3.636e-23, rel=1e-12)
    assert t.magnitude == 12.5
    assert t.obscuration == pytest.approx(0.33, rel=1e-12)
    assert t.offset == pytest.approx(1.2 * MAS, rel=1e-12)  # bare number in the field's default unit


def test_bare_numbers_take_the_default_unit_and_wavelength_accepts_frequency():
    t = Telescope(diameter=2.4, separation=5e-9, wavelength="545.077196 THz", magnitude=3, offset="0.5 arcsec")
    assert (t.diameter, t.separation, t.magnitude) == (2.4, 5e-9, 3.0)
    assert t.wavelength == pytest.approx(550e-9, rel=1e-8)
    assert t.offset == pytest.approx(500 * MAS, rel=1e-12)
    assert Telescope(diameter="2.4").diameter == 2.4


@pytest.mark.parametrize(
    "field, value, kind",
    [
        ("separation", "10 km", "expected an angle"),
        ("diameter", "1.2 mas", "expected a length"),
        ("wavelength", "2 h", "expected a wavelength"),
        ("exposure", "3 m", "expected a duration"),
        ("flux", "5 W", "expected a spectral flux density"),
        ("obscuration", "3 m", "expected a dimensionless number"),
        ("magnitude", "bright", "expected a magnitude"),
    ],
)
def test_wrong_units_are_rejected_naming_the_kind(field, value, kind):
    with pytest.raises(ValidationError) as info:
        Telescope(**{field: value})
    message = str(info.value)
    assert kind in message and repr(value) in message and field in message


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "nan m", "-inf m", "", None, [1.0]])
def test_booleans_and_non_finite_values_are_rejected(value):
    with pytest.raises(ValidationError, match="expected a length"):
        Telescope(diameter=value)


def test_cf_units_strings_for_results_attrs():
    assert cf_units(unit_of(Length)) == "m"
    assert cf_units(unit_of(Angle)) == "rad"
    assert cf_units(unit_of(Duration)) == "s"
    assert cf_units(unit_of(Magnitude)) == "mag"
    assert cf_units(unit_of(Dimensionless)) == "1"
    assert set(cf_units(unit_of(SpectralFluxDensity)).split()) == {"W", "m-2", "Hz-1"}
    assert unit_of(Angle).display == "mas"
    assert unit_of(Telescope.model_fields["separation"]).unit == "rad"
