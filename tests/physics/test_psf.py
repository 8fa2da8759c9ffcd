"""Real-telescope PSFs: quantum limit, direct imaging, PSF-adapted and Hermite-Gauss sorters.

Oracles: PHYSICS.md §10.1 (closed forms, D = 2.4 m checkpoint) and §2.3 (Gaussian values).
Every library number is compared with an independent computation written here: direct
image-plane quadrature of the Airy / sinc closed forms (scipy.special Bessel functions),
Gauss-Legendre panels, with the asymptotic tails added where they matter.
"""

import numpy as np
import pytest
from scipy.special import jn_zeros, jv, roots_legendre

from sensing.physics import psf as P
from sensing.physics.modes import HermiteGaussModes, HermiteGaussModes2D

# -- independent image-plane quadrature --------------------------------------------------------
NODES, WEIGHTS = roots_legendre(24)


def panels(lo, hi, width):
    """Gauss-Legendre nodes/weights on [lo, hi] in panels of ``width`` (24 nodes each)."""
    edges = np.linspace(lo, hi, int(np.ceil((hi - lo) / width)) + 1)
    a, b = edges[:-1, None], edges[1:, None]
    return (0.5 * (b - a) * NODES + 0.5 * (b + a)).ravel(), (0.5 * (b - a) * WEIGHTS).ravel()


def bracket(x, eps=0.0):
    """Annular-aperture amplitude shape 2J1(x)/x - eps^2 2J1(eps x)/(eps x) and its x-derivative."""
    x = np.where(x == 0, 1e-300, x)
    value = 2 * jv(1, x) / x
    slope = -2 * jv(2, x) / x
    if eps > 0:
        value = value - eps**2 * 2 * jv(1, eps * x) / (eps * x)
        slope = slope + eps**3 * 2 * jv(2, eps * x) / (eps * x)
    return value, slope


class AiryCut:
    """Normalised 1-D Airy cut written from scratch (lambda/D = 1, R = pi), by line quadrature."""

    def __init__(self, reach=400.0):
        self.radius = np.pi
        x, w = panels(0.0, reach * self.radius, 2.0)
        value, slope = bracket(x)
        # int over theta of bracket(R theta)^2, plus the tails beyond u = R reach, where
        # (2 J1(u)/u)^2 averages 4/(pi u^3): 2 * 2/(pi U^2)
        end = reach * self.radius
        self.norm = (2 * np.sum(w * value**2) + 4 / (np.pi * end**2)) / self.radius
        self.reach = reach

    def psi(self, theta):
        return bracket(self.radius * theta)[0] / np.sqrt(self.norm)

    def dpsi(self, theta):
        return self.radius * bracket(self.radius * theta)[1] / np.sqrt(self.norm)


@pytest.fixture(scope="module")
def airy():
    return P.airy_psf(1.0, 1.0)  # angles in units of lambda/D


@pytest.fixture(scope="module")
def cut():
    return AiryCut()


# -- quantum limit --------------------------------------------------------------------------------
def test_airy_cut_quantum_limit_matches_line_quadrature(airy, cut):
    """K = int |psi'|^2 of the 1-D Airy cut is R^2/5 (not the 2-D R^2/4); rtol 1e-6."""
    x, w = panels(0.0, cut.reach, 0.5)
    k_quadrature = 2 * np.sum(w * cut.dpsi(x) ** 2)
    assert airy.separation_qfi == pytest.approx(np.pi**2 / 5, rel=1e-12)
    assert k_quadrature == pytest.approx(airy.separation_qfi, rel=1e-5)


def two_d_quantum_limit(eps, reach=3000.0):
    """<k_x^2> of the annular Airy pattern by radial quadrature of the closed form, tails added."""
    u, w = panels(0.0, reach, 1.0)
    value, slope = bracket(u, eps)
    # asymptotic averages (J_n(u)^2 ~ 1/(pi u)) of the integrands beyond the reach
    norm = np.sum(w * value**2 * u) + 4 * (1 + eps) / (np.pi * reach)
    gradient = np.sum(w * slope**2 * u) + 4 * (1 + eps**3) / (np.pi * reach)
    return 0.5 * gradient / norm  # int |d_x psi|^2 = 1/2 int |grad psi|^2 ; in units of R^2


@pytest.mark.parametrize("eps", [0.0, 0.33, 0.6])
def test_annular_aperture_quantum_limit_closed_form(eps):
    """K = (pi D/lambda)^2 (1 + eps^2)/4 (PHYSICS 10.1): closed form, 1-D marginal model, 2-D quadrature (rtol 2e-5)."""
    closed = P.annular_aperture_qfi(1.0, 1.0, eps) / np.pi**2
    assert closed == pytest.approx((1 + eps**2) / 4, rel=1e-15)
    assert P.aperture_marginal_psf(1.0, 1.0, eps).separation_qfi / np.pi**2 == pytest.approx(closed, rel=1e-10)
    assert two_d_quantum_limit(eps) == pytest.approx(closed, rel=2e-5)


def test_slit_quantum_limit_closed_form():
    """Slit: K = (pi D/lambda)^2/3; the sinc's |psi'|^2 integrated on the line (tail ~ 1/reach, added)."""
    psf = P.slit_psf(2.0, 1.0)
    radius = 2 * np.pi
    reach = 2000.0
    x, w = panels(-reach, reach, 0.25)
    dpsi = psf.derivative(x, 1)
    # independent: psi = sqrt(R/pi) sin(Rx)/(Rx); |psi'|^2 ~ (R/pi) R^2 cos^2/(R x)^2 -> tail 2 R/(2 pi x_max) ...
    u = radius * x
    by_hand = np.sqrt(radius / np.pi) * radius * (u * np.cos(u) - np.sin(u)) / u**2
    np.testing.assert_allclose(dpsi, by_hand, rtol=1e-9, atol=1e-12)
    tail = 2 * (radius / np.pi) / (2 * reach)  # 2 sides x (R/pi) int_reach^inf cos^2/x^2
    assert np.sum(w * by_hand**2) + tail == pytest.approx(P.slit_qfi(2.0, 1.0), rel=1e-5)
    assert psf.separation_qfi == pytest.approx(P.slit_qfi(2.0, 1.0), rel=1e-12)


def test_hubble_checkpoint_physics_10_1():
    """D = 2.4 m, lambda = 550 nm, eps = 0.33: K = 5.21e13 rad^-2, one-photon CRB 28.6 mas (PHYSICS 10.1)."""
    k = P.annular_aperture_qfi(2.4, 550e-9, 0.33)
    assert k == pytest.approx(5.21e13, rel=1e-3)
    mas = np.degrees(1 / np.sqrt(k)) * 3600e3
    assert mas == pytest.approx(28.6, rel=2e-3)
    assert P.aperture_marginal_psf(2.4, 550e-9, 0.33).separation_qfi == pytest.approx(k, rel=1e-9)


@pytest.mark.parametrize("d", [0.3, 1.0])
def test_separation_qfi_is_the_mixture_qfi_at_any_separation(airy, cut, d):
    """SLD-QFI of rho = (|psi+><psi+| + |psi-><psi-|)/2 built by quadrature equals int |psi'|^2 (rtol 1e-4)."""
    x, w = panels(-cut.reach, cut.reach, 0.25)
    functions = np.array([cut.psi(x - d / 2), cut.psi(x + d / 2), -0.5 * cut.dpsi(x - d / 2), 0.5 * cut.dpsi(x + d / 2)])
    q, r = np.linalg.qr((functions * np.sqrt(w)).T)
    c = r  # columns of coefficients of the 4 functions in the orthonormal basis q
    psi_p, psi_m, dpsi_p, dpsi_m = c.T
    rho = 0.5 * (np.outer(psi_p, psi_p) + np.outer(psi_m, psi_m))
    drho = 0.5 * (np.outer(dpsi_p, psi_p) + np.outer(psi_p, dpsi_p) + np.outer(dpsi_m, psi_m) + np.outer(psi_m, dpsi_m))
    lam, vec = np.linalg.eigh(rho)
    dr = vec.T @ drho @ vec
    total = lam[:, None] + lam[None, :]
    keep = total > 1e-12
    qfi = 2 * np.sum(dr[keep] ** 2 / total[keep])
    assert qfi == pytest.approx(airy.separation_qfi, rel=1e-4)


# -- direct imaging ---------------------------------------------------------------------------------
def test_airy_direct_imaging_matches_dense_grid(airy, cut):
    """J_DI(d = 0.5 lambda/D) vs a dense trapezoid grid over the same field (rtol 1e-5)."""
    d = 0.5
    x = np.linspace(-200, 200, 400_001)
    f = 0.5 * (cut.psi(x - d / 2) ** 2 + cut.psi(x + d / 2) ** 2)
    df = 0.5 * (-cut.psi(x - d / 2) * cut.dpsi(x - d / 2) + cut.psi(x + d / 2) * cut.dpsi(x + d / 2))
    dense = np.trapezoid(df**2 / f, x)
    assert P.direct_imaging_fisher(airy, d) == pytest.approx(dense, rel=1e-5)


def test_airy_direct_imaging_small_separation_is_linear_in_d(airy, cut):
    """Zeros of the Airy amplitude temper Rayleigh's curse: J_DI -> d * pi * sum_k psi'(x_k)^2 (x_k > 0 zeros).

    Near a zero f ~ a^2 (u^2 + d^2/4), whose Fisher integral is pi a^2 d/2 per zero (two signs of x_k).
    Independent oracle: Bessel zeros j_{1,k}/pi inside the library's 200 lambda/D field; rtol 1e-4 at d = 1e-5.
    """
    zeros = jn_zeros(1, 700) / np.pi
    zeros = zeros[zeros < 200]
    slope = np.pi * np.sum(cut.dpsi(zeros) ** 2)
    d = np.array([1e-5, 1e-3])
    j = P.direct_imaging_fisher(airy, d)
    assert j[0] / d[0] == pytest.approx(slope, rel=1e-4)
    assert j[1] / d[1] == pytest.approx(slope, rel=5e-3)
    assert j[1] / airy.separation_qfi < 1e-3  # still far below the quantum limit


# -- mode sorters ------------------------------------------------------------------------------------
def test_psf_adapted_modes_are_gram_schmidt_of_derivatives(airy, cut):
    """phi_0 = psi and phi_1 = -psi'/||psi'|| by closed form (atol 1e-9); overlaps by line quadrature (1e-6)."""
    modes = P.PsfAdaptedModes(airy, 6)
    x = np.linspace(-6, 6, 61)
    phi = modes.functions(x)
    np.testing.assert_allclose(phi[0], cut.psi(x), atol=1e-9)
    np.testing.assert_allclose(phi[1], -cut.dpsi(x) / np.sqrt(airy.separation_qfi), atol=1e-9)
    # orthonormality on the image plane
    xs, ws = panels(-60, 60, 0.25)
    phi_s = modes.functions(xs)
    gram = (phi_s * ws) @ phi_s.T
    np.testing.assert_allclose(gram, np.eye(6), atol=2e-3)  # 60 lambda/D field: Airy tails ~1e-3 outside
    shift = 0.7
    by_hand = np.sum(ws * cut.psi(xs) * cut.psi(xs - shift)), -np.sum(ws * cut.dpsi(xs) * cut.psi(xs - shift))
    amplitudes = modes.point_source_amplitudes(np.array([shift]))[0]
    assert amplitudes[0] == pytest.approx(by_hand[0], abs=2e-3)
    assert amplitudes[1] == pytest.approx(by_hand[1] / np.sqrt(airy.separation_qfi), abs=2e-3)
    # basis error 1 - sum_q |<phi_q|psi_X>|^2: zero on axis, grows with the shift for 6 modes,
    # and 40 modes (stable Stieltjes recurrence) hold a 3 lambda/D shift to rounding
    error = modes.basis_error(np.array([0.0, 0.2, 1.0]))
    assert abs(error[0]) < 1e-14 and 1e-13 < error[1] < 1e-11 and error[2] == pytest.approx(1.66e-4, rel=1e-2)
    assert np.max(np.abs(P.PsfAdaptedModes(airy, 40).basis_error(np.array([1.0, 3.0])))) < 1e-13


def two_mode_sorter_by_hand(cut, k, d):
    """Fisher of the sorter {psi, psi'/||psi'||, bucket} at separation d, overlaps by line quadrature."""
    xs, ws = panels(-cut.reach, cut.reach, 0.25)

    def probabilities(dd):
        out = []
        for X in (dd / 2, -dd / 2):
            shifted = cut.psi(xs - X)
            out.append([np.sum(ws * cut.psi(xs) * shifted) ** 2, np.sum(ws * cut.dpsi(xs) * shifted) ** 2 / k])
        p = 0.5 * np.sum(out, axis=0)
        return np.append(p, 1 - p.sum())

    h = 1e-4 * d
    p, dp = probabilities(d), (probabilities(d + h) - probabilities(d - h)) / (2 * h)
    return np.sum(dp**2 / p)


def test_psf_adapted_sorter_reaches_quantum_limit_airy(airy, cut):
    """PSF-adapted SPADE attains K as d -> 0 (rtol 1e-6); 2 modes + bucket agree with a hand computation."""
    k = airy.separation_qfi
    d = np.array([1e-3, 1e-2, 0.1])
    full = P.mode_sorter_fisher(P.PsfAdaptedModes(airy, 8).point_source_amplitudes, d)
    np.testing.assert_allclose(full / k, 1.0, rtol=1e-6)
    two = P.mode_sorter_fisher(P.PsfAdaptedModes(airy, 2).point_source_amplitudes, np.array([0.5]))[0]
    assert two == pytest.approx(two_mode_sorter_by_hand(cut, k, 0.5), rel=1e-4)
    assert two / k == pytest.approx(0.99943, abs=2e-5)


def test_hermite_gauss_sorter_on_airy_falls_short(airy, cut):
    """An HG sorter (width = overlap-best Gaussian) on the Airy cut: small-d Fisher = sum_{odd q<M} <HG_q|psi'>^2 < K.

    The oracle sums the odd-mode projections of psi' by line quadrature (rtol 1e-5). Losses
    measured: 14.6 % (M = 2), 8.4 % (4), 4.7 % (8).
    """
    k = airy.separation_qfi
    sigma = P.gaussian_fit_width(airy, "overlap")
    assert sigma == pytest.approx(0.3787, abs=2e-4)
    xs, ws = panels(-40, 40, 0.1)
    expected = {2: 0.8542, 4: 0.9163, 8: 0.9530}
    for count, fraction in expected.items():
        basis = HermiteGaussModes(count, sigma)
        projections = (basis.functions(xs) * ws) @ cut.dpsi(xs)
        oracle = np.sum(projections[1::2] ** 2) / k
        measured = P.mode_sorter_fisher(lambda X: P.projected_amplitudes(basis, airy, X), np.array([1e-3]))[0] / k
        assert measured == pytest.approx(oracle, rel=1e-4)
        assert measured == pytest.approx(fraction, abs=2e-4)
    adapted = P.mode_sorter_fisher(P.PsfAdaptedModes(airy, 4).point_source_amplitudes, np.array([1e-3]))[0] / k
    assert adapted > 0.99999 > 0.92 > expected[4]


def test_gaussian_stand_in_underestimates_airy_quantum_limit(airy):
    """Intensity-fitted Gaussian sigma ~ 0.425 lambda/D (PHYSICS 10.1 [M]: 0.42-0.44); 1/(4 sigma^2) is 0.56 of the 2-D K."""
    sigma = P.gaussian_fit_width(airy, "intensity")
    assert 0.42 < sigma < 0.44
    ratio = 1 / (4 * sigma**2) / P.circular_aperture_qfi(1.0, 1.0)
    assert ratio == pytest.approx(0.5600, abs=5e-4)


# -- Gaussian through the generic path (PHYSICS 2.3) -------------------------------------------------
D_TABLE = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 4.0])
J_DIRECT = np.array([1.24994e-5, 1.24379e-3, 0.0278818, 0.085816, 0.183478, 0.244586])
J_BINARY = np.array([0.249999, 0.249922, 0.248052, 0.242269, 0.220051, 0.145494])


def test_gaussian_generic_path_reproduces_tnl_table():
    """QFI 1/4, J_DI, SPADE = 1/4 and binary SPADE of PHYSICS 2.3 (rtol 1e-4 = the table's digits)."""
    g = P.gaussian_psf(1.0)
    assert g.separation_qfi == pytest.approx(0.25, rel=1e-12)
    np.testing.assert_allclose(P.direct_imaging_fisher(g, D_TABLE), J_DIRECT, rtol=1e-4)
    spade = P.mode_sorter_fisher(P.PsfAdaptedModes(g, 12).point_source_amplitudes, D_TABLE)
    np.testing.assert_allclose(spade, 0.25, rtol=1e-5)
    binary = P.mode_sorter_fisher(P.PsfAdaptedModes(g, 1).point_source_amplitudes, D_TABLE)
    np.testing.assert_allclose(binary, J_BINARY, rtol=1e-5)


def test_psf_adapted_modes_of_gaussian_are_hermite_gauss():
    """Gram-Schmidt of (-d)^q psi for a Gaussian gives the HG modes, signs included (atol 1e-12)."""
    g = P.gaussian_psf(0.7)
    adapted, hg = P.PsfAdaptedModes(g, 10, 0.2), HermiteGaussModes(10, 0.7, 0.2)
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(adapted.functions(x), hg.functions(x), atol=1e-12)
    np.testing.assert_allclose(adapted.point_source_amplitudes(x), hg.point_source_amplitudes(x), atol=1e-12)
    edges = np.linspace(-2, 2, 6)
    np.testing.assert_allclose(adapted.region_operators(edges), hg.region_operators(edges), atol=1e-12)
    assert adapted.labels(3) == ["PA0", "PA1", "PA2"] and adapted.neighbour_pairs(3) == [(0, 1), (1, 2)]


@pytest.mark.parametrize("intensity", [False, True])
def test_sampled_gaussian_reproduces_gaussian_results(intensity):
    """A 64 x 64 image of the circular Gaussian at 0.5 sigma per pixel (as read from FITS).

    Sampling error: the Gaussian's pupil beyond Nyquist (pi/Delta) carries exp(-2 (pi sigma/Delta)^2)
    = 5e-35 of the norm, and the 32 sigma field truncates exp(-128): both far below the asserted
    rtol 1e-8 (quantum limit, sorters) and 1e-6 (direct imaging: grid sum of (df)^2/f).
    """
    sigma, pixel = 1.0, 0.5
    n = 64
    x = (np.arange(n) - n // 2) * pixel
    amplitude = np.outer(np.exp(-(x**2) / (4 * sigma**2)), np.exp(-(x**2) / (4 * sigma**2)))
    sampled = P.SampledPSF(amplitude**2 if intensity else 3.0 * amplitude, pixel, intensity=intensity)
    assert sampled.separation_qfi() == pytest.approx(0.25, rel=1e-8)
    assert sampled.direct_imaging_fisher(0.5) == pytest.approx(0.0278818, rel=1e-5)
    assert sampled.direct_imaging_fisher(2.0) == pytest.approx(0.183478, rel=1e-5)
    marginal = sampled.marginal()
    binary = P.mode_sorter_fisher(P.PsfAdaptedModes(marginal, 1).point_source_amplitudes, np.array([0.5, 1.0]))
    np.testing.assert_allclose(binary, [0.248052, 0.242269], rtol=1e-5)
    spade = P.mode_sorter_fisher(P.PsfAdaptedModes(marginal, 10).point_source_amplitudes, np.array([0.1, 1.0]))
    np.testing.assert_allclose(spade, 0.25, rtol=1e-6)
    row = sampled.row()
    np.testing.assert_allclose(row.amplitude(np.array([0.0, 0.3, 1.7])),
                               (2 * np.pi) ** -0.25 * np.exp(-np.array([0.0, 0.3, 1.7]) ** 2 / 4), rtol=1e-8)


def test_coarse_sampling_error_is_visible():
    """At 2.5 sigma per pixel the aliased pupil tail exp(-2 (pi/2.5)^2) ~ 4e-2 shows: the QFI is off by > 1e-3."""
    n, pixel = 16, 2.5
    x = (np.arange(n) - n // 2) * pixel
    amplitude = np.outer(np.exp(-(x**2) / 4), np.exp(-(x**2) / 4))
    error = abs(P.SampledPSF(amplitude, pixel).separation_qfi() / 0.25 - 1)
    assert error > 1e-3


def test_sampled_airy_quantum_limit_and_intensity_only_bias():
    """A 2-D Airy image at lambda/(4D) per pixel, 64 lambda/D field (256^2 pixels).

    Signed amplitude: K within 0.6 % of (pi D/lambda)^2/4 (the 1/r^3 intensity tail outside the field;
    measured 0.9943, 0.9971, 0.9986 for 64, 128, 256 lambda/D). Intensity only, psi = sqrt(I) = |psi|:
    the kinks at the dark rings are not band-limited, so the sampled spectrum misses ~8 % of K
    (measured 0.917): a measured intensity PSF with zeros needs finer sampling or the pupil.
    """
    n, pixel = 256, 0.25
    x = (np.arange(n) - n // 2) * pixel
    tx, ty = np.meshgrid(x, x)
    amplitude = P.airy_amplitude_2d(tx, ty, 1.0, 1.0)
    k = P.circular_aperture_qfi(1.0, 1.0)
    signed = P.SampledPSF(amplitude, pixel).separation_qfi() / k
    assert 0.994 < signed < 1.0
    intensity_only = P.SampledPSF(amplitude**2, pixel, intensity=True).separation_qfi() / k
    assert 0.90 < intensity_only < 0.93
    modes = P.PsfAdaptedModes(P.SampledPSF(amplitude, pixel).marginal(), 8)
    spade = P.mode_sorter_fisher(modes.point_source_amplitudes, np.array([0.01, 0.1]))
    np.testing.assert_allclose(spade / (signed * k), 1.0, rtol=1e-6)


def test_psf_adapted_camera_pixels_add_up_to_the_identity(airy):
    """region_operators over a +-60 lambda/D camera sum to the identity (Airy tails outside: atol 3e-3)
    and a single pixel's operator is Hermitian positive semidefinite (the detectors' camera contract)."""
    modes = P.PsfAdaptedModes(airy, 5)
    edges = np.linspace(-60, 60, 241)
    operators = modes.region_operators(edges)
    np.testing.assert_allclose(operators.sum(axis=0), np.eye(5), atol=3e-3)
    np.testing.assert_allclose(operators[120], operators[120].T, atol=1e-15)
    assert np.min(np.linalg.eigvalsh(operators[120])) > -1e-14


def test_hermite_gauss_2d_sorter_on_2d_airy_loses_29_percent():
    """A 2-D HG sorter (sigma = 0.42 lambda/D, total order < 2 and < 4) on the 2-D Airy pattern.

    Small-d Fisher = sum over qx odd, qy even of <HG_qx HG_qy | d_x psi>^2; oracle by a uniform
    0.02 lambda/D grid Riemann sum of the closed-form gradient (rtol 1e-4). Measured: 0.7120 (3 modes),
    0.7127 (10 modes) of K = (pi D/lambda)^2/4 -- the 1-D cut loses far less (14.6 %, 8.4 %).
    """
    k = P.circular_aperture_qfi(1.0, 1.0)
    step = 0.02
    x = np.arange(-8, 8 + step / 2, step)
    tx, ty = np.meshgrid(x, x)
    r = np.hypot(tx, ty)
    radius = np.pi
    u = np.where(r == 0, 1e-300, radius * r)
    slope = radius / (2 * np.sqrt(np.pi)) * radius * (-2 * jv(2, u) / u)
    d_x_psi = slope * tx / np.where(r == 0, 1.0, r)

    def amplitude(a, b):
        return P.airy_amplitude_2d(a, b, 1.0, 1.0)

    for per_axis, fraction in [(2, 0.7120), (4, 0.7127)]:
        basis = HermiteGaussModes2D(per_axis, 0.42)
        factors = basis.axis.functions(x)
        projections = factors @ d_x_psi @ factors.T * step**2  # [q_y, q_x]
        qx, qy = basis.orders
        odd = (qx % 2 == 1) & (qy % 2 == 0)
        oracle = np.sum(projections[qy[odd], qx[odd]] ** 2) / k
        measured = P.mode_sorter_fisher(
            lambda X: P.projected_amplitudes_2d(basis, amplitude, np.stack([X, 0 * X], -1), 8.0), np.array([1e-3])
        )[0] / k
        assert measured == pytest.approx(oracle, rel=1e-4)
        assert measured == pytest.approx(fraction, abs=3e-4)
