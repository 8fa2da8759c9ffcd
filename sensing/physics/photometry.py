r"""Photon rates and photons per temporal mode of a star seen through a telescope.

Plain floats in SI units throughout (metres, seconds, hertz, W m⁻² Hz⁻¹); magnitudes are
Vega-system magnitudes. The chain (PHYSICS.md §10.2):

.. math:: F_\nu = F_{\nu,0}\,10^{-0.4m},\qquad
          \dot N = \frac{F_\nu}{h\nu}\,\Delta\nu\,A\,\tau,\qquad
          \Delta\nu = \frac{c\,\Delta\lambda}{\lambda^2},\qquad
          \epsilon = \dot N/\Delta\nu ,

with A the collecting area :math:`\pi D^2(1-\epsilon_o^2)/4`, τ the throughput, and one
temporal mode per 1/Δν seconds (so copies = observing time × Δν). The band is taken as narrow
(:math:`F_\nu` and ν constant across it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "PhotometricBand",
    "BANDS",
    "PLANCK",
    "SPEED_OF_LIGHT",
    "JANSKY",
    "flux_density_from_magnitude",
    "collecting_area",
    "bandwidth_hz",
    "photon_rate",
    "photons_per_mode",
    "temporal_modes",
    "photon_rate_from_magnitude",
]

#: CODATA 2018 exact SI values (also astropy.constants.h, c).
PLANCK = 6.62607015e-34  # J s
SPEED_OF_LIGHT = 299_792_458.0  # m / s
#: 1 Jy = 1e-26 W m^-2 Hz^-1.
JANSKY = 1e-26


@dataclass(frozen=True)
class PhotometricBand:
    """A photometric band: Vega zero-point flux density and effective wavelength.

    Attributes
    ----------
    name : str
    zero_point_jy : float
        Flux density of a magnitude-0 star, Jy.
    effective_wavelength : float
        Metres.
    reference : str
    """

    name: str
    zero_point_jy: float
    effective_wavelength: float
    reference: str


_BCP98 = ("Bessell, Castelli & Plez 1998, A&A 333, 231, Table A2 (Johnson-Cousins-Glass, Vega = 0.03 mag); "
          "values entered from that table, not re-derived here")

#: Johnson-Cousins UBVRI and Bessell-Brett JHK zero points (f_nu of a magnitude-0 star).
BANDS: dict[str, PhotometricBand] = {
    band.name: band
    for band in (
        PhotometricBand("U", 1790.0, 366e-9, _BCP98),
        PhotometricBand("B", 4063.0, 438e-9, _BCP98),
        PhotometricBand("V", 3636.0, 545e-9, _BCP98),
        PhotometricBand("R", 3064.0, 641e-9, _BCP98),
        PhotometricBand("I", 2416.0, 798e-9, _BCP98),
        PhotometricBand("J", 1589.0, 1220e-9, _BCP98),
        PhotometricBand("H", 1021.0, 1630e-9, _BCP98),
        PhotometricBand("K", 640.0, 2190e-9, _BCP98),
    )
}


def flux_density_from_magnitude(magnitude, band: str = "V"):
    r"""Spectral flux density :math:`F_\nu = F_{\nu,0}10^{-0.4m}` in W m⁻² Hz⁻¹.

    Raises
    ------
    ValueError
        If ``band`` is not in :data:`BANDS`.
    """
    if band not in BANDS:
        raise ValueError(f"unknown photometric band {band!r}; known: {', '.join(BANDS)}")
    return BANDS[band].zero_point_jy * JANSKY * 10.0 ** (-0.4 * np.asarray(magnitude, dtype=float))


def collecting_area(diameter, obscuration=0.0):
    r"""Collecting area :math:`\pi D^2(1-\epsilon_o^2)/4` in m² (ε_o: inner/outer diameter)."""
    d = np.asarray(diameter, dtype=float)
    return np.pi * d**2 * (1.0 - np.asarray(obscuration, dtype=float) ** 2) / 4.0


def bandwidth_hz(wavelength, bandwidth):
    r"""Optical bandwidth :math:`\Delta\nu = c\,\Delta\lambda/\lambda^2` in Hz (= temporal modes per second)."""
    lam = np.asarray(wavelength, dtype=float)
    return SPEED_OF_LIGHT * np.asarray(bandwidth, dtype=float) / lam**2


def photon_rate(flux_density, wavelength, bandwidth, diameter, obscuration=0.0, throughput=1.0):
    r"""Detected photons per second, :math:`\dot N = F_\nu\,\Delta\nu\,A\,\tau/(h\nu)`.

    Parameters
    ----------
    flux_density : float or ndarray
        :math:`F_\nu`, W m⁻² Hz⁻¹.
    wavelength, bandwidth : float
        Central wavelength λ and bandwidth Δλ, metres.
    diameter : float
        Aperture diameter, metres.
    obscuration : float
        Central obscuration ratio (diameters).
    throughput : float
        Fraction of collected photons detected (optics × filter × quantum efficiency).

    Returns
    -------
    float or ndarray, photons s⁻¹
    """
    nu = SPEED_OF_LIGHT / np.asarray(wavelength, dtype=float)
    energy = PLANCK * nu
    return (np.asarray(flux_density, dtype=float) / energy * bandwidth_hz(wavelength, bandwidth)
            * collecting_area(diameter, obscuration) * throughput)


def photons_per_mode(flux_density, wavelength, diameter, obscuration=0.0, throughput=1.0):
    r"""Mean photons per temporal mode, :math:`\epsilon = \dot N/\Delta\nu = F_\nu A\tau/(h\nu)`.

    Independent of the bandwidth (narrow band). Dimensionless.
    """
    nu = SPEED_OF_LIGHT / np.asarray(wavelength, dtype=float)
    return np.asarray(flux_density, dtype=float) * collecting_area(diameter, obscuration) * throughput / (PLANCK * nu)


def temporal_modes(observing_time, wavelength, bandwidth):
    r"""Temporal modes (copies) in an observation: :math:`T\,\Delta\nu` (observing time in seconds)."""
    return np.asarray(observing_time, dtype=float) * bandwidth_hz(wavelength, bandwidth)


def photon_rate_from_magnitude(magnitude, band, bandwidth, diameter, obscuration=0.0, throughput=1.0,
                               wavelength=None):
    """Photons per second from a magnitude in a named band (λ defaults to the band's effective wavelength)."""
    lam = BANDS[band].effective_wavelength if wavelength is None and band in BANDS else wavelength
    return photon_rate(flux_density_from_magnitude(magnitude, band), lam, bandwidth, diameter, obscuration, throughput)
