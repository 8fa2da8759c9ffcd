r"""Point-spread functions of real telescopes, their quantum limit and PSF-adapted modes.

Every 1-D PSF here is held through its **pupil** (spatial-frequency) amplitude
:math:`\tilde\psi(k)` on a quadrature rule, with

.. math:: \psi(x) = \int \tilde\psi(k)\, e^{ikx}\, \frac{dk}{2\pi}, \qquad
          \int |\psi|^2 dx = \int |\tilde\psi|^2 \frac{dk}{2\pi} = 1 .

Positions x are angles on the sky in radians and k is in rad⁻¹; a pupil coordinate u (metres)
maps to :math:`k = 2\pi u/\lambda`. Holding the pupil makes the quantities of the
superresolution problem exact and cheap:

* the quantum limit per photon for the separation of two equal incoherent sources,
  :math:`K = \int|\partial_x\psi|^2 dx = \langle k^2\rangle` for a real symmetric ψ
  (Tsang, Nair, Lu, PRX 6, 031033 (2016)); PHYSICS.md §10.1;
* the PSF-adapted modes (Gram–Schmidt of ψ, −∂ψ, ∂²ψ, …; Rehacek, Paúr, Stoklasa, Hradil,
  Sánchez-Soto, Opt. Lett. 42, 231 (2017)) are, in the pupil, :math:`(-i)^q p_q(k)\tilde\psi(k)`
  with :math:`p_q` the orthonormal polynomials of the measure :math:`|\tilde\psi|^2 dk/2\pi`;
  they are computed by the discretised Stieltjes procedure (stable, no moment matrix);
* overlaps with a shifted PSF are one sum: :math:`\langle\phi_q|\psi_X\rangle =
  \int i^q p_q(k) e^{-ikX} |\tilde\psi|^2 dk/2\pi`.

For a 2-D pupil and sources displaced along x, the QFI and the PSF-adapted sorter statistics
depend on the pupil only through the **k_x marginal** of :math:`|\tilde\psi(k_x,k_y)|^2`; the 1-D
PSF whose pupil intensity is that marginal (:func:`aperture_marginal_psf`,
:meth:`SampledPSF.marginal`) reproduces them exactly (direct imaging does not reduce this way and
is computed from the 2-D intensity, :meth:`SampledPSF.direct_imaging_fisher`).

Conventions: all functions take and return plain floats/arrays in SI units (radians, metres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable, ClassVar

import numpy as np
from scipy.special import j1, jv, roots_legendre

from sensing.physics.modes import region_integrals

__all__ = [
    "PupilPSF",
    "gaussian_psf",
    "airy_psf",
    "aperture_marginal_psf",
    "slit_psf",
    "airy_amplitude_2d",
    "circular_aperture_qfi",
    "annular_aperture_qfi",
    "slit_qfi",
    "SampledPSF",
    "PsfAdaptedModes",
    "projected_amplitudes",
    "projected_amplitudes_2d",
    "mode_sorter_fisher",
    "direct_imaging_fisher",
    "gaussian_fit_width",
]


# ---------------------------------------------------------------------------------------------
# 1-D PSF through its pupil
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PupilPSF:
    r"""A 1-D PSF amplitude given by its pupil amplitude on a quadrature rule.

    :math:`\psi(x) = \sum_j w_j\,\tilde\psi(k_j)\,e^{ik_jx}`, where the weights :math:`w_j`
    include the :math:`1/2\pi` of the inverse Fourier transform, so that
    :math:`\sum_j w_j|\tilde\psi(k_j)|^2 = 1` (normalised at construction).

    Parameters
    ----------
    frequencies : ndarray
        Quadrature nodes :math:`k_j` in rad⁻¹ (symmetric about 0 for a symmetric PSF).
    weights : ndarray
        Quadrature weights (including 1/2π).
    pupil : ndarray
        Pupil amplitude :math:`\tilde\psi(k_j)` (real for an unaberrated pupil).
    width : float
        A characteristic angular width (rad) used to size image-plane grids: σ for a Gaussian,
        λ/D for an aperture, the pixel scale times a few for a sampled PSF.
    name : str
        Short description for labels and attrs.
    closed_form : callable, optional
        ``closed_form(x, order)`` returning the amplitude (order 0) or its first derivative
        (order 1) in closed form, or ``None`` to fall back to the pupil sum. Used only to make
        image-plane quadrature fast; it must agree with the pupil sum.
    """

    frequencies: np.ndarray
    weights: np.ndarray
    pupil: np.ndarray
    width: float
    name: str = "psf"
    closed_form: Callable[[np.ndarray, int], np.ndarray | None] | None = field(default=None, repr=False)

    dimensions: ClassVar[int] = 1

    def __post_init__(self):
        k = np.asarray(self.frequencies, dtype=float)
        w = np.asarray(self.weights, dtype=float)
        p = np.asarray(self.pupil)
        norm = np.sqrt(np.sum(w * np.abs(p) ** 2))
        object.__setattr__(self, "frequencies", k)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "pupil", p / norm)

    # -- the measure |psi~|^2 dk / 2 pi ----------------------------------------------------------
    @property
    def masses(self) -> np.ndarray:
        r"""Point masses :math:`w_j|\tilde\psi(k_j)|^2` of the spatial-frequency distribution (sum 1)."""
        return self.weights * np.abs(self.pupil) ** 2

    @property
    def separation_qfi(self) -> float:
        r"""Quantum Fisher information per photon for the separation of two equal sources.

        :math:`K = \int|\partial_x\psi|^2dx - \big|\int\psi^*\partial_x\psi\,dx\big|^2
        = \langle k^2\rangle - \langle k\rangle^2` (rad⁻²). For a real symmetric ψ this is
        :math:`\int|\partial_x\psi|^2dx`, independent of the separation (TNL 2016, Eq. (3.15);
        PHYSICS.md §10.1).
        """
        m = self.masses
        mean = np.sum(m * self.frequencies)
        return float(np.sum(m * self.frequencies**2) - mean**2)

    # -- image plane -------------------------------------------------------------------------------
    def derivative(self, x: np.ndarray, order: int = 0, chunk: int = 4096) -> np.ndarray:
        r""":math:`\partial_x^n\psi(x) = \sum_j w_j (ik_j)^n\tilde\psi(k_j)e^{ik_jx}` (real part for a
        symmetric real pupil; complex otherwise). Units rad^{-1/2-n}."""
        x = np.asarray(x, dtype=float)
        if self.closed_form is not None and order <= 1:
            value = self.closed_form(x, order)
            if value is not None:
                return value
        coefficient = self.weights * (1j * self.frequencies) ** order * self.pupil
        flat = x.ravel()
        out = np.empty(flat.size, dtype=complex)
        for start in range(0, flat.size, chunk):
            part = flat[start:start + chunk]
            out[start:start + chunk] = np.exp(1j * part[:, None] * self.frequencies) @ coefficient
        out = out.reshape(x.shape)
        return out.real if self.is_real else out

    def amplitude(self, x: np.ndarray) -> np.ndarray:
        """PSF amplitude ψ(x), rad^-1/2 (see :meth:`derivative`)."""
        return self.derivative(x, 0)

    def intensity(self, x: np.ndarray) -> np.ndarray:
        """Photon density |ψ(x)|² per radian (integrates to 1)."""
        return np.abs(self.amplitude(x)) ** 2

    @cached_property
    def is_real(self) -> bool:
        """True when ψ is real: a real pupil symmetric in k (checked on the nodes)."""
        k, p = self.frequencies, self.pupil
        order = np.argsort(k)
        return bool(np.allclose(k[order], -k[order][::-1], atol=1e-12 * np.max(np.abs(k)))
                    and np.allclose(np.imag(p), 0.0) and np.allclose(p[order], p[order][::-1]))

    def shifted_overlap(self, shifts: np.ndarray) -> np.ndarray:
        r"""Overlap :math:`\langle\psi|\psi_X\rangle = \int|\tilde\psi|^2e^{-ikX}dk/2\pi` (real part)."""
        shifts = np.asarray(shifts, dtype=float)
        return (np.exp(-1j * shifts[..., None] * self.frequencies) @ self.masses).real


@lru_cache(maxsize=32)
def _legendre_roots(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return roots_legendre(nodes)


def _legendre(a: float, b: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = _legendre_roots(nodes)
    return 0.5 * (b - a) * t + 0.5 * (b + a), 0.5 * (b - a) * w


def _aperture_chords(radius: float, inner: float, nodes: int):
    r"""Nodes and weights on [−R, R] for integrands built from √(R²−k²) and √(r²−k²)₊.

    Panels [−r, r] and r ≤ |k| ≤ R with the substitutions k = r sin t and k = R sin t, which make
    the square-root edges smooth (the Gauss–Legendre rule then converges exponentially).
    """
    ks, ws = [], []
    if inner > 0:
        t, w = _legendre(-np.pi / 2, np.pi / 2, nodes)
        ks.append(inner * np.sin(t))
        ws.append(w * inner * np.cos(t))
        t0 = np.arcsin(inner / radius)
    else:
        t0 = 0.0
    t, w = _legendre(t0, np.pi / 2, nodes)
    for sign in (1.0, -1.0):
        ks.append(sign * radius * np.sin(t))
        ws.append(w * radius * np.cos(t))
    return np.concatenate(ks), np.concatenate(ws)


def _chord(radius: float, k: np.ndarray) -> np.ndarray:
    return 2.0 * np.sqrt(np.clip(radius**2 - k**2, 0.0, None))


def gaussian_psf(sigma: float, nodes: int = 512, reach: float = 10.0) -> PupilPSF:
    r"""Gaussian PSF of intensity standard deviation σ (rad): :math:`\psi=(2\pi\sigma^2)^{-1/4}e^{-x^2/4\sigma^2}`.

    Pupil :math:`\tilde\psi(k) = (8\pi\sigma^2)^{1/4}e^{-\sigma^2k^2}` on Gauss–Legendre nodes in
    :math:`|k| \le` ``reach``/σ; the image-plane sum is accurate for :math:`|x| \lesssim` ``nodes``σ/(2·reach).
    Quantum limit :math:`K = 1/(4\sigma^2)` (TNL 2016).
    """
    k, w = _legendre(-reach / sigma, reach / sigma, nodes)
    pupil = (8 * np.pi * sigma**2) ** 0.25 * np.exp(-(sigma * k) ** 2)

    def closed(x, order):
        g = (2 * np.pi * sigma**2) ** -0.25 * np.exp(-(x**2) / (4 * sigma**2))
        return g if order == 0 else -x / (2 * sigma**2) * g

    return PupilPSF(k, w / (2 * np.pi), pupil, sigma, f"gaussian(sigma={sigma:.4g})", closed)


def airy_psf(diameter: float, wavelength: float, obscuration: float = 0.0, nodes: int = 600) -> PupilPSF:
    r"""1-D cut through the Airy (or annular-aperture) amplitude, as a line image plane.

    .. math:: \psi(\theta) \propto \frac{2J_1(x)}{x} - \epsilon_o^2\,\frac{2J_1(\epsilon_o x)}{\epsilon_o x},
              \qquad x = \pi D\theta/\lambda ,

    normalised on the line. Its 1-D pupil is the projection of the annulus onto k_x,
    :math:`\tilde\psi(k)\propto 2\sqrt{R^2-k^2}-2\sqrt{r^2-k^2}_+`, R = πD/λ, r = ε_oR, so its
    quantum limit is :math:`\langle k^2\rangle = R^2/5` for ε_o = 0 — **not** the 2-D aperture's
    R²/4 (:func:`circular_aperture_qfi`), because a line cut is a different (1-D) instrument;
    use :func:`aperture_marginal_psf` for the 2-D telescope's quantum limit and sorter statistics.

    Parameters
    ----------
    diameter, wavelength : float
        Aperture diameter D and wavelength λ, metres.
    obscuration : float
        Central obscuration ratio ε_o (inner/outer diameter), 0 ≤ ε_o < 1.
    """
    radius = np.pi * diameter / wavelength
    inner = obscuration * radius
    k, w = _aperture_chords(radius, inner, nodes)
    pupil = _chord(radius, k) - _chord(inner, k)
    # Normalisation of the closed form (Parseval on the same pupil): psi = c * bracket(R theta).
    # bracket(R theta) = FT[pupil]/(pi R^2) with FT[f](theta) = int f e^{ik theta} dk.
    norm = np.sqrt(np.sum(w / (2 * np.pi) * pupil**2))
    scale = np.pi * radius**2 / (2 * np.pi * norm)  # psi = (1/2pi) FT[pupil]/norm = scale * bracket

    def bracket(x, order):
        x = np.where(x == 0, 1e-300, x)
        if order == 0:
            value = 2 * j1(x) / x
            if obscuration > 0:
                value = value - obscuration**2 * 2 * j1(obscuration * x) / (obscuration * x)
            return value
        value = -2 * jv(2, x) / x  # d/dx [2 J1(x)/x] = -2 J2(x)/x
        if obscuration > 0:
            value = value + obscuration**3 * 2 * jv(2, obscuration * x) / (obscuration * x)
        return value

    def closed(theta, order):
        return scale * radius**order * bracket(radius * theta, order)

    label = f"airy_cut(D={diameter:.4g} m, lambda={wavelength:.4g} m, obscuration={obscuration:.3g})"
    return PupilPSF(k, w / (2 * np.pi), pupil, wavelength / diameter, label, closed)


def aperture_marginal_psf(diameter: float, wavelength: float, obscuration: float = 0.0, nodes: int = 600) -> PupilPSF:
    r"""The 1-D equivalent of a 2-D circular/annular aperture for sources displaced along x.

    Its pupil intensity is the k_x marginal of the uniform (annular) 2-D pupil,
    :math:`|\tilde\psi(k)|^2 \propto \sqrt{R^2-k^2}-\sqrt{r^2-k^2}_+`. It reproduces exactly the
    2-D quantum limit :math:`K = R^2(1+\epsilon_o^2)/4` and the statistics of the PSF-adapted
    mode sorter built for x displacements (both depend on the pupil only through this
    marginal). Its image-plane intensity is **not** the Airy pattern: for direct imaging use the
    2-D intensity (:func:`airy_amplitude_2d`, :class:`SampledPSF`).
    """
    radius = np.pi * diameter / wavelength
    inner = obscuration * radius
    k, w = _aperture_chords(radius, inner, nodes)
    pupil = np.sqrt(_chord(radius, k) - _chord(inner, k))
    label = f"aperture_marginal(D={diameter:.4g} m, lambda={wavelength:.4g} m, obscuration={obscuration:.3g})"
    return PupilPSF(k, w / (2 * np.pi), pupil, wavelength / diameter, label)


def slit_psf(width: float, wavelength: float, nodes: int = 600) -> PupilPSF:
    r"""1-D slit aperture of width D: :math:`\psi(\theta) = \sqrt{R/\pi}\,\mathrm{sinc}(R\theta)`, R = πD/λ.

    Uniform pupil on [−R, R]; quantum limit :math:`K = R^2/3` (:func:`slit_qfi`).
    """
    radius = np.pi * width / wavelength
    k, w = _legendre(-radius, radius, nodes)

    def closed(theta, order):
        x = radius * theta
        c = np.sqrt(radius / np.pi)
        small = np.abs(x) < 1e-4
        xs = np.where(small, 1.0, x)
        if order == 0:
            return c * np.where(small, 1 - x**2 / 6, np.sin(xs) / xs)
        return c * radius * np.where(small, -x / 3, (xs * np.cos(xs) - np.sin(xs)) / xs**2)

    label = f"slit(D={width:.4g} m, lambda={wavelength:.4g} m)"
    return PupilPSF(k, w / (2 * np.pi), np.ones_like(k), wavelength / width, label, closed)


# ---------------------------------------------------------------------------------------------
# 2-D aperture closed forms
# ---------------------------------------------------------------------------------------------
def airy_amplitude_2d(theta_x: np.ndarray, theta_y: np.ndarray, diameter: float, wavelength: float,
                      obscuration: float = 0.0) -> np.ndarray:
    r"""Normalised 2-D amplitude of a circular (annular) aperture, rad⁻¹.

    .. math:: \psi(\boldsymbol\theta) = \frac{R}{2\sqrt{\pi(1-\epsilon_o^2)}}
              \left[\frac{2J_1(x)}{x} - \epsilon_o^2\frac{2J_1(\epsilon_o x)}{\epsilon_o x}\right],
              \quad x = R|\boldsymbol\theta|,\ R = \pi D/\lambda,

    with :math:`\int|\psi|^2 d^2\theta = 1` (Parseval: the bracket is the Fourier transform of the
    annulus divided by πR²).
    """
    radius = np.pi * diameter / wavelength
    x = radius * np.hypot(theta_x, theta_y)
    x = np.where(x == 0, 1e-300, x)
    bracket = 2 * j1(x) / x
    if obscuration > 0:
        bracket = bracket - obscuration**2 * 2 * j1(obscuration * x) / (obscuration * x)
    return radius / (2 * np.sqrt(np.pi * (1 - obscuration**2))) * bracket


def circular_aperture_qfi(diameter: float, wavelength: float) -> float:
    r"""Quantum limit per photon of a circular aperture: :math:`K = (\pi D/\lambda)^2/4` rad⁻² (PHYSICS §10.1)."""
    return annular_aperture_qfi(diameter, wavelength, 0.0)


def annular_aperture_qfi(diameter: float, wavelength: float, obscuration: float) -> float:
    r"""Annular aperture: :math:`K = (\pi D/\lambda)^2(1+\epsilon_o^2)/4` rad⁻².

    :math:`\langle k_x^2\rangle` over the annulus: :math:`\tfrac12\langle|k|^2\rangle =
    \tfrac14(R^4-r^4)/(R^2-r^2) = (R^2+r^2)/4`.
    """
    return float((np.pi * diameter / wavelength) ** 2 * (1 + obscuration**2) / 4)


def slit_qfi(width: float, wavelength: float) -> float:
    r"""1-D slit: :math:`K = (\pi D/\lambda)^2/3` rad⁻² (uniform pupil on [−R, R])."""
    return float((np.pi * width / wavelength) ** 2 / 3)


# ---------------------------------------------------------------------------------------------
# Sampled (measured) PSF
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SampledPSF:
    r"""A PSF sampled on a regular 2-D grid (e.g. read from a FITS image), with its pixel scale.

    The samples are taken as point samples of a band-limited amplitude (trigonometric, i.e.
    Fourier, interpolation between them). For an **intensity-only** measurement
    (``intensity=True``) the amplitude is assumed real and non-negative,
    :math:`\psi = \sqrt{I}`: the phase is not measured, and for a PSF with sign changes (Airy
    rings) :math:`\sqrt I = |\psi|` has kinks at the zeros, so its pupil is not band-limited and
    the interpolation is approximate there. :math:`\int|\partial_x|\psi||^2 = \int|\partial_x\psi|^2`,
    so the quantum limit is unaffected in the continuum — but not on a grid: for a 2-D Airy image at
    λ/(4D) per pixel the sampled :math:`\sqrt I` gives 0.92 of K (the signed amplitude 0.994 in a
    64 λ/D field; tests/physics/test_psf.py). Direct imaging from the grid cannot resolve the
    sub-pixel valleys at the zeros, so it is meaningful only for d above a few pixels.

    Parameters
    ----------
    values : ndarray, shape (ny, nx)
        Samples; axis 1 is x (the separation axis), axis 0 is y. The grid centre
        (index n//2) is the optical axis.
    pixel_scale : float
        Angle per pixel, rad (the same along x and y).
    intensity : bool
        True if ``values`` are intensities (then ψ = sqrt(max(values, 0))).
    """

    values: np.ndarray
    pixel_scale: float
    intensity: bool = False

    dimensions: ClassVar[int] = 2

    @property
    def amplitude_samples(self) -> np.ndarray:
        """Normalised amplitude samples (∑|ψ|² Δ² = 1), rad⁻¹."""
        v = np.asarray(self.values, dtype=float)
        a = np.sqrt(np.clip(v, 0.0, None)) if self.intensity else v
        return a / np.sqrt(np.sum(a**2) * self.pixel_scale**2)

    def _spectrum(self):
        a = self.amplitude_samples
        ny, nx = a.shape
        # Samples at x_n = (n - nx//2) Delta; ifftshift puts the axis at index 0.
        spectrum = np.fft.fft2(np.fft.ifftshift(a)) * self.pixel_scale**2
        kx = 2 * np.pi * np.fft.fftfreq(nx, self.pixel_scale)
        ky = 2 * np.pi * np.fft.fftfreq(ny, self.pixel_scale)
        return spectrum, kx, ky

    def separation_qfi(self) -> float:
        r"""Quantum limit per photon for separation along x: :math:`\langle k_x^2\rangle-\langle k_x\rangle^2`
        of the discrete spectrum (spectral derivative; exact for a band-limited amplitude)."""
        return self.marginal().separation_qfi

    def marginal(self) -> PupilPSF:
        r"""The 1-D equivalent PSF for x displacements: pupil intensity = k_x marginal of :math:`|\tilde\psi|^2`.

        Exact for the quantum limit and for PSF-adapted sorter statistics (module docstring).
        """
        spectrum, kx, ky = self._spectrum()
        ny, nx = spectrum.shape
        dk_y = 2 * np.pi / (ny * self.pixel_scale)
        dk_x = 2 * np.pi / (nx * self.pixel_scale)
        marginal = np.sum(np.abs(spectrum) ** 2, axis=0) * dk_y / (2 * np.pi)
        return PupilPSF(kx, np.full(nx, dk_x / (2 * np.pi)), np.sqrt(marginal), 4 * self.pixel_scale, "sampled_marginal")

    def row(self, index: int | None = None) -> PupilPSF:
        """The 1-D PSF of one row (the cut through the axis by default), band-limited interpolation."""
        a = self.amplitude_samples
        ny, nx = a.shape
        line = a[ny // 2 if index is None else index]
        spectrum = np.fft.fft(np.fft.ifftshift(line)) * self.pixel_scale
        kx = 2 * np.pi * np.fft.fftfreq(nx, self.pixel_scale)
        dk = 2 * np.pi / (nx * self.pixel_scale)
        return PupilPSF(kx, np.full(nx, dk / (2 * np.pi)), spectrum, 4 * self.pixel_scale, "sampled_row")

    def shifted_intensity(self, shift_x: float) -> np.ndarray:
        """Intensity samples of the PSF displaced by ``shift_x`` rad along x (Fourier shift)."""
        spectrum, kx, ky = self._spectrum()
        shifted = np.fft.fftshift(np.fft.ifft2(spectrum * np.exp(-1j * kx * shift_x)[None, :])) / self.pixel_scale**2
        return np.abs(shifted) ** 2

    def direct_imaging_fisher(self, separation: float) -> float:
        r"""Direct-imaging Fisher information per photon for two equal sources at ±d/2 along x, rad⁻².

        :math:`J = \sum (\partial_d f)^2/f\,\Delta^2` over the grid, f the mean of the two displaced
        intensities, :math:`\partial_d f` from the spectral derivative of the shifted
        amplitudes. Continuum-camera limit sampled at the grid: accurate when the PSF is well
        sampled and d is larger than the pixel-grid's resolution of the intensity zeros.
        """
        spectrum, kx, ky = self._spectrum()
        half = separation / 2

        def field(shift, derivative):
            factor = np.exp(-1j * kx * shift) * (-1j * kx) ** derivative
            return np.fft.ifft2(spectrum * factor[None, :]) / self.pixel_scale**2

        plus, minus = field(half, 0), field(-half, 0)
        dplus, dminus = field(half, 1), field(-half, 1)
        f = 0.5 * (np.abs(plus) ** 2 + np.abs(minus) ** 2)
        # d/dd psi(x - d/2) = 1/2 * (d/dX psi(x - X)) at X = d/2
        df = 0.5 * (np.real(np.conj(plus) * dplus) - np.real(np.conj(minus) * dminus))
        keep = f > 1e-300
        return float(np.sum(df[keep] ** 2 / f[keep]) * self.pixel_scale**2)


# ---------------------------------------------------------------------------------------------
# PSF-adapted modes
# ---------------------------------------------------------------------------------------------
def _stieltjes(nodes: np.ndarray, masses: np.ndarray, count: int):
    """Orthonormal polynomials of a discrete measure by the discretised Stieltjes procedure.

    Returns the three-term recurrence ``(alpha, beta)``: :math:`\\sqrt{\\beta_{n+1}}p_{n+1} =
    (k-\\alpha_n)p_n - \\sqrt{\\beta_n}p_{n-1}` (Gautschi, *Orthogonal Polynomials*, §2.2.3).
    """
    alpha = np.zeros(count)
    beta = np.zeros(count)
    p_prev = np.zeros_like(nodes)
    p = np.ones_like(nodes) / np.sqrt(np.sum(masses))
    for n in range(count):
        alpha[n] = np.sum(masses * nodes * p**2)
        if n + 1 == count:
            break
        q = (nodes - alpha[n]) * p - (np.sqrt(beta[n]) * p_prev if n > 0 else 0.0)
        beta[n + 1] = np.sum(masses * q**2)
        if beta[n + 1] <= 1e-28 * max(1.0, np.max(nodes**2)):
            raise ValueError(f"the PSF's pupil supports only {n + 1} independent modes on its quadrature rule")
        p_prev, p = p, q / np.sqrt(beta[n + 1])
    return alpha, beta


@dataclass(frozen=True, eq=False)
class PsfAdaptedModes:
    r"""PSF-adapted modes: Gram–Schmidt orthonormalisation of ψ, −∂ψ, ∂²ψ, … (Rehacek et al. 2017).

    In the pupil, mode q is :math:`\tilde\phi_q(k) = (-i)^q p_q(k)\,\tilde\psi(k)` with
    :math:`p_q` the orthonormal polynomials of :math:`d\mu = |\tilde\psi|^2dk/2\pi` (positive
    leading coefficient), i.e. exactly the Gram–Schmidt sequence of :math:`(-\partial_x)^q\psi`.
    For a Gaussian PSF they are the Hermite–Gauss modes of :class:`HermiteGaussModes`, signs
    included. The recurrence comes from the Stieltjes procedure on the PSF's quadrature rule
    (numerically stable; no moment or Gram matrix is inverted).

    Exposes the interface of :class:`~sensing.physics.modes.HermiteGaussModes` (``count``,
    ``center``, ``dimensions``, ``labels``, ``neighbour_pairs``, ``functions``,
    ``point_source_amplitudes``, ``region_operators``), positions in radians.

    Parameters
    ----------
    psf : PupilPSF
    count : int
        Number of modes.
    center : float
        Optical axis (rad).
    """

    psf: PupilPSF
    count: int
    center: float = 0.0

    dimensions: ClassVar[int] = 1

    def __post_init__(self):
        alpha, beta = _stieltjes(self.psf.frequencies, self.psf.masses, self.count)
        object.__setattr__(self, "_recurrence", (alpha, beta))

    def polynomials(self, k: np.ndarray) -> np.ndarray:
        """Orthonormal polynomials :math:`p_q(k)`, shape ``(count,) + k.shape``."""
        alpha, beta = self._recurrence
        k = np.asarray(k, dtype=float)
        out = np.empty((self.count,) + k.shape)
        out[0] = 1.0
        if self.count > 1:
            out[1] = (k - alpha[0]) * out[0] / np.sqrt(beta[1])
        for n in range(1, self.count - 1):
            out[n + 1] = ((k - alpha[n]) * out[n] - np.sqrt(beta[n]) * out[n - 1]) / np.sqrt(beta[n + 1])
        return out

    def labels(self, count: int) -> list[str]:
        """Names of the first ``count`` modes: ``PA0``, ``PA1``, ..."""
        return [f"PA{q}" for q in range(count)]

    def neighbour_pairs(self, count: int) -> list[tuple[int, int]]:
        """Pairs (q, q + 1) of the first ``count`` modes (the crosstalk neighbours of a sorter)."""
        return [(q, q + 1) for q in range(count - 1)]

    def _phases(self) -> np.ndarray:
        return (-1j) ** np.arange(self.count)

    def functions(self, x: np.ndarray, chunk: int = 2048) -> np.ndarray:
        r"""Mode amplitudes :math:`\phi_q(x)`, shape ``(count, len(x))``, rad^-1/2."""
        x = np.asarray(x, dtype=float).ravel() - self.center
        psf = self.psf
        coefficient = self.polynomials(psf.frequencies) * (psf.weights * psf.pupil) * self._phases()[:, None]
        out = np.empty((self.count, x.size), dtype=complex)
        for start in range(0, x.size, chunk):
            part = x[start:start + chunk]
            out[:, start:start + chunk] = coefficient @ np.exp(1j * psf.frequencies[:, None] * part[None, :])
        return out.real if psf.is_real else out

    def point_source_amplitudes(self, positions: np.ndarray) -> np.ndarray:
        r"""Overlaps :math:`\langle\phi_q|\psi_X\rangle = \int i^q p_q(k)e^{-ik(X-c)}\,d\mu(k)`.

        Returns
        -------
        ndarray, shape ``positions.shape + (count,)`` (real for a real symmetric PSF)
        """
        positions = np.asarray(positions, dtype=float) - self.center
        psf = self.psf
        weighted = self.polynomials(psf.frequencies) * psf.masses * np.conj(self._phases())[:, None]  # (q, j)
        out = np.exp(-1j * positions[..., None] * psf.frequencies) @ weighted.T
        return out.real if psf.is_real else out

    def point_source_derivatives(self, positions: np.ndarray) -> np.ndarray:
        r""":math:`\partial_X\langle\phi_q|\psi_X\rangle = \int i^q p_q(k)(-ik)e^{-ik(X-c)}d\mu`."""
        positions = np.asarray(positions, dtype=float) - self.center
        psf = self.psf
        weighted = self.polynomials(psf.frequencies) * psf.masses * (-1j * psf.frequencies) * np.conj(self._phases())[:, None]
        out = np.exp(-1j * positions[..., None] * psf.frequencies) @ weighted.T
        return out.real if psf.is_real else out

    def basis_error(self, positions: np.ndarray) -> np.ndarray:
        r"""Norm of the shifted PSF outside the basis: :math:`1-\sum_q|\langle\phi_q|\psi_X\rangle|^2`."""
        return 1.0 - np.sum(np.abs(self.point_source_amplitudes(positions)) ** 2, axis=-1)

    def region_operators(self, edges: np.ndarray, nodes: int = 24) -> np.ndarray:
        r"""Matrices :math:`(M_k)_{qr} = \int_{e_k}^{e_{k+1}}\phi_q^*\phi_r\,dx` of camera pixels.

        Gauss–Legendre with ``nodes`` points per pixel (pixels up to about λ/D wide).

        Returns
        -------
        ndarray, shape ``(len(edges) - 1, count, count)``
        """
        return region_integrals(self.functions, self.count, edges, nodes)


# ---------------------------------------------------------------------------------------------
# Fisher information of measurements
# ---------------------------------------------------------------------------------------------
def projected_amplitudes(basis, psf: PupilPSF, positions: np.ndarray, extent: float | None = None,
                         nodes: int = 4000) -> np.ndarray:
    r"""Overlaps :math:`\langle\phi_q|\psi_X\rangle = \int\phi_q^*(x)\psi(x-X)dx` of any basis with any PSF.

    Image-plane Gauss–Legendre quadrature on :math:`|x-c| \le` ``extent`` (default 40 ψ widths);
    meant for bases whose functions decay fast (e.g. Hermite–Gauss modes on an Airy PSF).

    Returns
    -------
    ndarray, shape ``positions.shape + (basis.count,)``
    """
    extent = 40 * psf.width if extent is None else extent
    center = getattr(basis, "center", 0.0)
    x, w = _legendre(center - extent, center + extent, nodes)
    phi = np.conj(basis.functions(x)) * w  # (q, n)
    positions = np.asarray(positions, dtype=float)
    shifted = psf.amplitude(x[None, :] - positions.ravel()[:, None])  # (p, n)
    return (shifted @ phi.T).reshape(positions.shape + (basis.count,))


def projected_amplitudes_2d(basis, amplitude: Callable[[np.ndarray, np.ndarray], np.ndarray], positions: np.ndarray,
                            extent: float, nodes: int = 240) -> np.ndarray:
    r"""Overlaps :math:`\langle\phi_{q_x}\phi_{q_y}|\psi_{X,Y}\rangle` of a separable 2-D basis with any 2-D PSF.

    For :class:`~sensing.physics.modes.HermiteGaussModes2D` (``basis.axis.functions``,
    ``basis.orders``) and an amplitude ``amplitude(theta_x, theta_y)`` such as
    :func:`airy_amplitude_2d`; tensor Gauss–Legendre grid on the square :math:`|x|,|y| \le` ``extent``
    (the basis functions must have decayed there).

    Parameters
    ----------
    positions : ndarray, shape ``(..., 2)``
        (X, Y) of each point source, rad.

    Returns
    -------
    ndarray, shape ``positions.shape[:-1] + (basis.count,)``
    """
    x, w = _legendre(-extent, extent, nodes)
    axis = basis.axis.functions(x) * w  # (orders, n): weighted 1-D factors
    qx, qy = basis.orders
    positions = np.asarray(positions, dtype=float)
    flat = positions.reshape(-1, 2)
    out = np.empty((flat.shape[0], basis.count))
    for i, (px, py) in enumerate(flat):
        psi = amplitude(x[None, :] - px, x[:, None] - py)  # (y, x)
        projected = axis @ psi @ axis.T  # [q_y, q_x]
        out[i] = projected[qy, qx]
    return out.reshape(positions.shape[:-1] + (basis.count,))


def mode_sorter_fisher(amplitudes: Callable[[np.ndarray], np.ndarray], separations: np.ndarray,
                       centroid: float = 0.0, bucket: bool = True, step: float = 1e-4) -> np.ndarray:
    r"""Fisher information per photon about the separation d of a mode sorter, two equal sources.

    .. math:: p_q(d) = \tfrac12\big(|c_q(c_0+d/2)|^2 + |c_q(c_0-d/2)|^2\big),\qquad
              J(d) = \sum_q \frac{(\partial_d p_q)^2}{p_q},

    with :math:`c_q(X) = \langle\phi_q|\psi_X\rangle` given by ``amplitudes`` (e.g.
    ``basis.point_source_amplitudes`` or a partial of :func:`projected_amplitudes`). With
    ``bucket`` the light outside the sorted modes, :math:`1-\sum_q p_q`, is one more outcome.
    :math:`\partial_d` by a central difference of relative step ``step`` (exact to O(step²)).

    Returns
    -------
    ndarray, shape ``separations.shape`` (rad⁻² when positions are in rad)
    """
    d = np.atleast_1d(np.asarray(separations, dtype=float))
    h = step * np.where(d > 0, d, 1.0)

    def probabilities(dd):
        plus = np.abs(amplitudes(centroid + dd / 2)) ** 2
        minus = np.abs(amplitudes(centroid - dd / 2)) ** 2
        p = 0.5 * (plus + minus)
        if bucket:
            p = np.concatenate([p, 1.0 - np.sum(p, axis=-1, keepdims=True)], axis=-1)
        return p

    # A bucket holding less than ``floor`` is rounding error of 1 - sum(p), not information.
    floor = 1e-12

    p = probabilities(d)
    dp = (probabilities(d + h) - probabilities(d - h)) / (2 * h[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 1e-300, dp**2 / p, 0.0)
    if bucket:
        terms[..., -1] = np.where(p[..., -1] > floor, terms[..., -1], 0.0)
    return np.sum(terms, axis=-1).reshape(np.shape(separations))


def _minima(psf: PupilPSF, extent: float, samples: int) -> np.ndarray:
    """Intensity minima on |x| <= extent: grid bracketing, then golden-section refinement (all at once)."""
    x = np.linspace(-extent, extent, samples)
    i = psf.intensity(x)
    inner = np.flatnonzero((i[1:-1] < i[:-2]) & (i[1:-1] <= i[2:])) + 1
    lo, hi = x[inner - 1], x[inner + 1]
    ratio = (np.sqrt(5.0) - 1) / 2
    for _ in range(80):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        left = psf.intensity(a) < psf.intensity(b)
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
    return 0.5 * (lo + hi)


def direct_imaging_fisher(psf: PupilPSF, separations: np.ndarray, extent: float | None = None,
                          nodes: int = 16) -> np.ndarray:
    r"""Direct-imaging (continuum camera) Fisher information per photon, two equal sources at ±d/2.

    .. math:: J_{DI}(d) = \int \frac{(\partial_d f)^2}{f}dx,\qquad
              f = \tfrac12\big[I(x-d/2)+I(x+d/2)\big],\ I = |\psi|^2 .

    Gauss–Legendre panels on :math:`|x| \le` ``extent`` (default 200 widths), graded
    geometrically around every intensity minimum down to d/100, because near a zero of ψ
    f is a Lorentzian-like valley of width ~d: PSFs with zeros (Airy, sinc) have
    :math:`J_{DI} \approx d\,\frac{\pi}{2}\sum_k\psi'(x_k)^2` as d → 0 (linear, not the
    Gaussian :math:`d^2/8\sigma^4`). Tail beyond ``extent`` neglected (relative ~(width/extent)²
    for Airy tails).

    Returns
    -------
    ndarray, shape ``separations.shape``
    """
    extent = 200 * psf.width if extent is None else extent
    minima = _minima(psf, extent, int(40 * extent / psf.width) + 1)
    t, w = roots_legendre(nodes)
    out = []
    for d in np.atleast_1d(np.asarray(separations, dtype=float)):
        breaks = [-extent, extent, 0.0]
        base = np.linspace(-extent, extent, int(4 * extent / psf.width) + 1)
        breaks.extend(base)
        for m in minima:
            offsets = d * np.geomspace(0.01, 1000.0, 13)
            offsets = offsets[offsets < psf.width]
            breaks.extend(m + offsets)
            breaks.extend(m - offsets)
            breaks.append(m)
        b = np.unique(np.clip(breaks, -extent, extent))
        lo, hi = b[:-1, None], b[1:, None]
        x = (0.5 * (hi - lo) * t + 0.5 * (hi + lo)).ravel()
        weight = (0.5 * (hi - lo) * w).ravel()
        a_p, a_m = psf.amplitude(x - d / 2), psf.amplitude(x + d / 2)
        g_p, g_m = psf.derivative(x - d / 2, 1), psf.derivative(x + d / 2, 1)
        f = 0.5 * (np.abs(a_p) ** 2 + np.abs(a_m) ** 2)
        # d/dd |psi(x - d/2)|^2 = -Re(conj(psi) psi')(x - d/2); d/dd |psi(x + d/2)|^2 = +Re(...)(x + d/2)
        df = 0.5 * (-np.real(np.conj(a_p) * g_p) + np.real(np.conj(a_m) * g_m))
        keep = f > 1e-300
        out.append(np.sum(weight[keep] * df[keep] ** 2 / f[keep]))
    return np.asarray(out).reshape(np.shape(separations))


def gaussian_fit_width(psf: PupilPSF, method: str = "overlap") -> float:
    r"""Width σ (rad) of the Gaussian stand-in for a PSF.

    ``"overlap"``: maximises the mode overlap :math:`|\langle\mathrm{HG}_0^\sigma|\psi\rangle|^2`
    (the Gaussian a Hermite–Gauss sorter should be matched to). ``"intensity"``: least-squares fit
    of the peak-normalised intensity :math:`e^{-x^2/2\sigma^2}` to :math:`I(x)/I(0)` inside the
    first minimum (the usual "Gaussian fit to the core").
    """
    from scipy.optimize import minimize_scalar

    from sensing.physics.modes import region_integrals, HermiteGaussModes

    if method == "overlap":
        def loss(s):
            return -np.abs(projected_amplitudes(HermiteGaussModes(1, s), psf, np.zeros(1))[0, 0]) ** 2
    elif method == "intensity":
        first = _minima(psf, 10 * psf.width, 20001)
        edge = np.min(np.abs(first)) if first.size else 3 * psf.width
        x = np.linspace(-edge, edge, 2001)
        profile = psf.intensity(x) / psf.intensity(np.zeros(1))[0]

        def loss(s):
            return np.sum((profile - np.exp(-(x**2) / (2 * s**2))) ** 2)
    else:
        raise ValueError(f"method must be 'overlap' or 'intensity', got {method!r}")
    result = minimize_scalar(loss, bounds=(0.05 * psf.width, 3 * psf.width), method="bounded",
                             options={"xatol": 1e-10 * psf.width})
    return float(result.x)
