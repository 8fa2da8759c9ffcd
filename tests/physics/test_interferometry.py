"""Long-baseline interferometry physics (PHYSICS.md §3): oracles, exact checks, samplers.

Independent references used here: thewalrus Fock density matrices and photon-number
probabilities (not the module's count recursion), an SLD computed in Fock space, and the
van Cittert–Zernike integral by quadrature.
"""

import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from thewalrus.quantum import density_matrix, probabilities

from sensing.physics import interferometry as interf

@pytest.fixture
def rng():
    # local fixed seed, so the module also runs with --noconftest
    return np.random.default_rng(20261201)


# ---------------------------------------------------------------------------------------
# helpers (independent of the module's formulas)
# ---------------------------------------------------------------------------------------


def fock_matrix(photons_per_mode, visibility, cutoff):
    """Two-mode star state as a (cutoff^2 x cutoff^2) matrix, from thewalrus."""
    rho = interf.fock_density_matrix(0.5 * photons_per_mode, visibility, cutoff)
    return np.transpose(rho, (0, 2, 1, 3)).reshape(cutoff**2, cutoff**2)


def fock_sld_qfi(photons_per_mode, modulus, phase, cutoff=7, step=1e-4):
    """QFI matrix from the Fock density matrix: F_ab = 2 sum Re(<i|d_a rho|j><j|d_b rho|i>)/(l_i + l_j)."""

    def rho(m, p):
        return fock_matrix(photons_per_mode, m * np.exp(1j * p), cutoff)

    d_rho = [
        (rho(modulus + step, phase) - rho(modulus - step, phase)) / (2 * step),
        (rho(modulus, phase + step) - rho(modulus, phase - step)) / (2 * step),
    ]
    values, vectors = np.linalg.eigh(rho(modulus, phase))
    rotated = [vectors.conj().T @ d @ vectors for d in d_rho]
    total = values[:, None] + values[None, :]
    keep = total > 1e-14
    return np.array(
        [[2 * np.sum(np.real(a * b.T)[keep] / total[keep]) for b in rotated] for a in rotated]
    )


# ---------------------------------------------------------------------------------------
# state model and QFI
# ---------------------------------------------------------------------------------------


def test_state_convention_single_photon_block_physics_3_2():
    # rho = (1-eps)|00><00| + (eps/2)[... + g|01><10| + g*|10><01|] + O(eps^2); N_01 = <a0^dag a1> = (eps/2) g
    eps, g = 0.02, 0.6 * np.exp(0.7j)
    cutoff = 6  # neglected terms ~ (eps/2)^6
    rho = interf.fock_density_matrix(0.5 * eps, g, cutoff=cutoff)  # indices (m0, n0, m1, n1)
    coefficient_01_10 = rho[0, 1, 1, 0]  # <01|rho|10>
    assert coefficient_01_10 == pytest.approx(0.5 * eps * g, rel=2 * eps)
    assert abs(rho[1, 0, 0, 1] - np.conj(coefficient_01_10)) < 1e-15
    lowered = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    a0 = np.kron(lowered, np.eye(cutoff))
    a1 = np.kron(np.eye(cutoff), lowered)
    matrix = np.transpose(rho, (0, 2, 1, 3)).reshape(cutoff**2, cutoff**2)
    assert np.trace(matrix @ a0.conj().T @ a1) == pytest.approx(0.5 * eps * g, abs=1e-11)
    assert np.trace(matrix @ a0.conj().T @ a0).real == pytest.approx(0.5 * eps, abs=1e-11)


def test_three_aperture_point_source_state_is_rank_one_and_matches_fock():
    positions = np.array([[0.0, 0.0], [30.0, 0.0], [10.0, 40.0]])
    position = np.array([2e-9, -1e-9])
    g = interf.array_visibility_matrix(positions, 1e-6, interf.point_source_visibility, position=position)
    np.testing.assert_allclose(g, g.conj().T)
    np.testing.assert_allclose(np.diag(g), 1.0)
    assert g[0, 2] == pytest.approx(np.exp(2j * np.pi * (positions[2] - positions[0]) @ position / 1e-6))
    assert np.linalg.matrix_rank(g, tol=1e-10) == 1  # a point source is fully coherent
    cutoff = 5  # neglected terms ~ nbar^5 = 1e-10
    rho = interf.fock_density_matrix(0.01, g, cutoff=cutoff)  # (m0, n0, m1, n1, m2, n2)
    matrix = np.transpose(rho, (0, 2, 4, 1, 3, 5)).reshape(cutoff**3, cutoff**3)
    lowered = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    eye = np.eye(cutoff)
    a = [np.kron(np.kron(lowered, eye), eye), np.kron(np.kron(eye, lowered), eye), np.kron(np.kron(eye, eye), lowered)]
    measured = np.array([[np.trace(matrix @ a[i].T @ a[j]) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(measured, 0.01 * g, atol=1e-9)


def test_three_aperture_disk_diameter_qfi_matches_fock_sld():
    positions = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 7.0]])
    wavelength, diameter, nbar = 550e-9, 2e-8, 0.02

    def correlation(d):
        return nbar * interf.array_visibility_matrix(positions, wavelength, interf.uniform_disk_visibility, diameter=d)

    baselines = positions[None, :, :] - positions[:, None, :]
    d_correlation = nbar * interf.uniform_disk_visibility(baselines, wavelength, diameter).derivatives
    gaussian = interf.thermal_quantum_fisher_information(correlation(diameter), d_correlation)[0, 0]

    cutoff, h = 4, 1e-12  # truncation ~ nbar^4 relative; O(h^2) differences

    def rho(d):
        cov = thermal_covariance_for_test(correlation(d))
        tensor = density_matrix(np.zeros(6), cov, cutoff=cutoff)
        return np.transpose(tensor, (0, 2, 4, 1, 3, 5)).reshape(cutoff**3, cutoff**3)

    d_rho = (rho(diameter + h) - rho(diameter - h)) / (2 * h)
    values, vectors = np.linalg.eigh(rho(diameter))
    rotated = vectors.conj().T @ d_rho @ vectors
    total = values[:, None] + values[None, :]
    keep = total > 1e-14
    brute = 2 * np.sum(np.abs(rotated[keep]) ** 2 / total[keep])
    assert gaussian == pytest.approx(brute, rel=1e-4)
    # with two apertures the M-mode QFI is the chain rule through (|g|, phi)
    pair = interf.uniform_disk_visibility(positions[1] - positions[0], wavelength, diameter)
    jacobian = interf.visibility_jacobian(pair.visibility, pair.derivatives)
    chain = interf.source_fisher_information(interf.exact_quantum_fisher_information(2 * nbar, pair.visibility), jacobian)
    two = interf.thermal_quantum_fisher_information(correlation(diameter)[:2, :2], d_correlation[:, :2, :2])
    np.testing.assert_allclose(two, chain, rtol=1e-10)


def thermal_covariance_for_test(correlation):
    """xxpp covariance written out in the test (hbar = 2), V = [[I+2ReN, 2ImN], [-2ImN, I+2ReN]]."""
    eye = np.eye(len(correlation))
    return np.block(
        [[eye + 2 * correlation.real, 2 * correlation.imag], [-2 * correlation.imag, eye + 2 * correlation.real]]
    )


@pytest.mark.parametrize(
    "eps, modulus, qfi_modulus, qfi_phase",
    [
        (1e-1, 0.5, 1.28569, 0.24096),
        (1e-2, 0.5, 1.32836, 0.24907),
        (1e-3, 0.5, 1.33283, 0.24991),
        (1e-2, 0.9, 5.25818, 0.80923),
        (1e-3, 0.3, 1.09840, 0.08996),
    ],
)
def test_exact_qfi_table_physics_3_3(eps, modulus, qfi_modulus, qfi_phase):
    g = modulus * np.exp(0.3j)
    exact = interf.exact_quantum_fisher_information(eps, g)
    # table quoted to 6 significant digits: relative tolerance from its rounding
    assert exact[0, 0] / eps == pytest.approx(qfi_modulus, rel=1e-5)
    assert exact[1, 1] / eps == pytest.approx(qfi_phase, rel=3e-5)
    assert abs(exact[0, 1]) < 1e-12
    leading = interf.quantum_fisher_information_leading_order(eps, g)
    assert leading[0, 0] / eps == pytest.approx(1 / (1 - modulus**2))
    assert leading[1, 1] / eps == pytest.approx(modulus**2)
    if eps <= 1e-2:  # leading order within 2% at small eps
        np.testing.assert_allclose(np.diag(exact), np.diag(leading), rtol=0.02)


def test_gaussian_qfi_matches_fock_sld_brute_force():
    # PHYSICS §7.3 row: eps=0.1, |g|=0.5, phi=0.3 -> F_|g| = 0.1285687, F_phi = 0.0240964
    exact = interf.exact_quantum_fisher_information(0.1, 0.5 * np.exp(0.3j))
    brute = fock_sld_qfi(0.1, 0.5, 0.3)
    # Fock truncation at 6 photons per mode (tail ~ 0.05^7) and O(h^2)=1e-8 finite differences
    np.testing.assert_allclose(brute, exact, atol=1e-6)
    assert exact[0, 0] == pytest.approx(0.1285687, rel=1e-6)
    assert exact[1, 1] == pytest.approx(0.0240964, rel=1e-5)


# ---------------------------------------------------------------------------------------
# exact count distributions vs thewalrus
# ---------------------------------------------------------------------------------------


def combiner_transfer(delay_phase, transmission):
    return np.sqrt(transmission / 2) * np.array(
        [[1, np.exp(-1j * delay_phase)], [1, -np.exp(-1j * delay_phase)]]
    )


def output_covariance(photons_per_mode, visibility, delay_phase, transmission):
    """Combiner output by symplectic transformation + loss (independent of the module's N_out)."""
    cov = interf.aperture_covariance(0.5 * photons_per_mode, visibility)
    u = np.array([[1, np.exp(-1j * delay_phase)], [1, -np.exp(-1j * delay_phase)]]) / np.sqrt(2)
    symplectic = np.block([[u.real, -u.imag], [u.imag, u.real]])
    out = symplectic @ cov @ symplectic.T
    return transmission * out + (1 - transmission) * np.eye(4)


def test_direct_count_distribution_matches_thewalrus():
    eps, g, delay, eta = 0.6, 0.7 * np.exp(1.1j), 0.4, 0.8
    cutoff = 8
    ours = interf.direct_count_distribution(eps, g, delay, eta, cutoff=cutoff)
    walrus = probabilities(np.zeros(4), output_covariance(eps, g, delay, eta), cutoff=cutoff)
    np.testing.assert_allclose(ours.probabilities, walrus, atol=1e-13)
    # exact recursion derivatives vs central differences of thewalrus probabilities (h = 1e-5)
    h = 1e-5
    for k, shift in enumerate([(h, 0), (0, h)]):
        plus = 0.7 + shift[0], 1.1 + shift[1]
        minus = 0.7 - shift[0], 1.1 - shift[1]
        numeric = (
            probabilities(np.zeros(4), output_covariance(eps, plus[0] * np.exp(1j * plus[1]), delay, eta), cutoff=cutoff)
            - probabilities(np.zeros(4), output_covariance(eps, minus[0] * np.exp(1j * minus[1]), delay, eta), cutoff=cutoff)
        ) / (2 * h)
        np.testing.assert_allclose(ours.derivatives[k], numeric, atol=1e-8)


def test_intensity_count_distribution_matches_thewalrus():
    eps, g = 0.8, 0.5 * np.exp(0.3j)
    ours = interf.intensity_count_distribution(eps, g, cutoff=8)
    walrus = probabilities(np.zeros(4), interf.aperture_covariance(0.5 * eps, g), cutoff=8)
    np.testing.assert_allclose(ours.probabilities, walrus, atol=1e-13)
    np.testing.assert_allclose(ours.derivatives[1], 0.0, atol=1e-15)  # no phase information


# ---------------------------------------------------------------------------------------
# scheme checkpoints
# ---------------------------------------------------------------------------------------


def test_direct_detection_checkpoint_attains_qfi_phi():
    g = 0.5 * np.exp(1j * np.pi / 2)  # phi - delta = pi/2 with delta = 0
    direct = interf.direct_fisher_information(0.01, g)
    assert direct[1, 1] == pytest.approx(2.4907e-3, rel=2e-5)
    assert direct[1, 1] == pytest.approx(interf.exact_quantum_fisher_information(0.01, g)[1, 1], rel=1e-9)
    assert interf.direct_fisher_information_leading_order(0.01, g)[1, 1] == pytest.approx(2.5e-3)
    # only phi - delta matters
    shifted = interf.direct_fisher_information(0.01, 0.5 * np.exp(1j * (np.pi / 2 + 0.8)), delay_phase=0.8)
    np.testing.assert_allclose(shifted, direct, rtol=1e-9, atol=1e-15)


def test_direct_detection_matches_leading_order_formula():
    g = 0.5 * np.exp(1j * np.pi / 3)
    exact = interf.direct_fisher_information(1e-4, g, transmission=0.5)
    leading = interf.direct_fisher_information_leading_order(1e-4, g, transmission=0.5)
    np.testing.assert_allclose(exact, leading, rtol=2e-4)  # O(eta eps) corrections


def test_direct_information_scales_with_fiber_transmission():
    assert interf.fiber_transmission([10, 100, 300]) == pytest.approx([0.631, 0.01, 1e-6], rel=1e-3)
    g = 0.5 * np.exp(1j * np.pi / 2)
    eta = interf.fiber_transmission(np.array([0.0, 10.0, 100.0, 300.0]))
    per_eta = np.array([interf.direct_fisher_information(0.01, g, transmission=t)[1, 1] / t for t in eta])
    # F/eta -> eps|g|^2 / (1 + O(eta eps)); lossless value 2.4907e-3, at 300 km 2.5e-3
    assert per_eta[0] == pytest.approx(2.4907e-3, rel=2e-5)
    assert per_eta[-1] == pytest.approx(2.5e-3, rel=1e-5)
    assert np.all(np.diff(per_eta) > 0)
    # GJC and KBDL never transmit starlight: their model takes no link transmission at all
    assert interf.kbdl_fisher_information(0.01, g)[1, 1] == pytest.approx(2.5e-3)


@pytest.mark.parametrize("eps, expected", [(0.1, 1.812e-3), (0.01, 1.980e-5)])
def test_intensity_interferometry_checkpoints(eps, expected):
    fisher = interf.intensity_fisher_information(eps, 0.5)
    assert fisher[0, 0] == pytest.approx(expected, rel=3e-4)  # quoted to 4 digits
    assert fisher[1, 1] == 0.0
    leading = interf.intensity_fisher_information_leading_order(eps, 0.5)[0, 0]
    assert leading == pytest.approx(0.2 * eps**2)
    assert fisher[0, 0] == pytest.approx(leading, rel=1.5 * eps)


def test_epsilon_scaling_local_vs_nonlocal():
    epsilons = np.array([1e-4, 1e-3, 1e-2])
    g = 0.5 * np.exp(1j * np.pi / 3)
    intensity = [interf.intensity_fisher_information(e, g)[0, 0] for e in epsilons]
    direct = [interf.direct_fisher_information(e, g)[1, 1] for e in epsilons]
    qfi = [interf.exact_quantum_fisher_information(e, g)[0, 0] for e in epsilons]
    slope = lambda values: np.polyfit(np.log10(epsilons), np.log10(values), 1)[0]  # noqa: E731
    assert slope(intensity) == pytest.approx(2.0, abs=0.01)
    assert slope(direct) == pytest.approx(1.0, abs=0.01)
    assert slope(qfi) == pytest.approx(1.0, abs=0.01)
    gjc = [interf.gjc_fisher_information(e, g, star_cutoff=3)[1, 1] for e in (1e-3, 1e-2)]
    assert np.log10(gjc[1] / gjc[0]) == pytest.approx(1.0, abs=0.01)
    # at eps=1e-3 the local measurement is ~400x below the nonlocal direct measurement
    assert intensity[1] / interf.direct_fisher_information(1e-3, 0.5)[0, 0] < 1e-2


@pytest.mark.parametrize("offset, expected", [(np.pi / 2, 0.4958), (np.pi / 3, 0.4955)])
def test_gjc_to_direct_ratio_checkpoints(offset, expected):
    g = 0.5 * np.exp(1j * offset)
    direct = interf.direct_fisher_information(0.01, g)[1, 1]
    all_patterns = interf.gjc_fisher_information(0.01, g, postselect_coincidences=False)[1, 1]
    assert all_patterns / direct == pytest.approx(expected, abs=1e-4)  # PHYSICS quotes 4 digits


def test_gjc_coincidences_tend_to_half_of_direct_and_respect_delay():
    eps, g = 1e-3, 0.5 * np.exp(1j * (np.pi / 3 + 0.5))
    direct = interf.direct_fisher_information(eps, g, delay_phase=0.5)
    gjc = interf.gjc_fisher_information(eps, g, delay_phase=0.5, star_cutoff=3)
    assert gjc[1, 1] / direct[1, 1] == pytest.approx(0.5, abs=2e-3)  # O(eps) correction
    assert gjc[0, 0] / direct[0, 0] == pytest.approx(0.5, abs=2e-3)
    leading = interf.gjc_fisher_information_leading_order(eps, g, delay_phase=0.5)
    np.testing.assert_allclose(gjc, leading, rtol=3e-3)


def test_gjc_imperfect_resource_matches_effective_visibility_model():
    eps, g = 1e-3, 0.6 * np.exp(1j * np.pi / 4)
    kwargs = dict(resource_efficiency=0.7, resource_visibility=0.8)
    exact = interf.gjc_fisher_information(eps, g, star_cutoff=3, **kwargs)
    leading = interf.gjc_fisher_information_leading_order(eps, g, **kwargs)
    np.testing.assert_allclose(exact, leading, rtol=3e-3)


def test_kbdl_model_reduces_to_lossless_direct_and_decays():
    g = 0.5 * np.exp(1j * np.pi / 3)
    perfect = interf.kbdl_fisher_information(0.01, g, delay_phase=0.0)
    np.testing.assert_allclose(perfect, interf.direct_fisher_information_leading_order(0.01, g), rtol=1e-12)
    adapted = interf.kbdl_fisher_information(0.01, g)
    assert adapted[1, 1] == pytest.approx(0.01 * 0.25)
    noisy = interf.kbdl_fisher_information(
        0.01, g, memory_efficiency=0.5, storage_time=1.0, coherence_time=2.0, pair_fidelity=0.95
    )
    decay = np.exp(-0.5) * (4 * 0.95 - 1) / 3
    assert noisy[1, 1] == pytest.approx(0.5 * 0.01 * decay**2 * 0.25)


# ---------------------------------------------------------------------------------------
# entanglement accounting
# ---------------------------------------------------------------------------------------


def test_ebits_gjc_inverse_eps_vs_kbdl_log_eps_physics_3_4():
    eps = np.array([1e-2, 1e-3, 1e-4])
    gjc = interf.gjc_ebits_per_detected_photon(eps)
    kbdl = interf.kbdl_ebits_per_detected_photon(eps)
    np.testing.assert_allclose(gjc, [1e2, 1e3, 1e4])
    np.testing.assert_allclose(kbdl, [6.64, 9.97, 13.29], atol=0.01)
    np.testing.assert_allclose(np.diff(np.log10(gjc)), 1.0)  # x10 per decade
    np.testing.assert_allclose(np.diff(kbdl), np.log2(10), atol=1e-9)  # +3.32 per decade
    assert interf.gjc_ebits_per_copy() == 1.0
    assert interf.gjc_ebits_per_detected_photon(1e-2, per_coincidence=True) == pytest.approx(200)
    np.testing.assert_allclose(interf.kbdl_ebits_per_copy(eps), np.log2(1 / eps) * eps)


# ---------------------------------------------------------------------------------------
# source visibilities
# ---------------------------------------------------------------------------------------


def disk_visibility_quadrature(baseline_length, wavelength, diameter):
    """van Cittert–Zernike: (1/area) int_disk exp(2 pi i B x / lambda) d^2theta, reduced to 1-D."""
    radius = diameter / 2
    k = 2 * np.pi * baseline_length / wavelength

    def chord(x):
        return 2 * np.sqrt(max(radius**2 - x**2, 0.0)) * np.cos(k * x)

    value, _ = scipy.integrate.quad(chord, -radius, radius, limit=200, epsabs=0, epsrel=1e-12)
    return value / (np.pi * radius**2)


def test_uniform_disk_visibility_and_diameter_fisher_vs_quadrature():
    wavelength, diameter = 550e-9, 2e-8  # 4 mas
    lengths = np.array([0.5, 3.0, 6.0, 9.0, 14.0])  # beyond the first null at 8.4 m
    model = interf.uniform_disk_visibility(np.stack([lengths * 0.6, lengths * 0.8], axis=-1), wavelength, diameter)
    quadrature = np.array([disk_visibility_quadrature(b, wavelength, diameter) for b in lengths])
    np.testing.assert_allclose(model.visibility.real, quadrature, atol=1e-10)
    np.testing.assert_allclose(model.visibility.imag, 0.0)
    h = 1e-12
    numeric = np.array(
        [
            (disk_visibility_quadrature(b, wavelength, diameter + h) - disk_visibility_quadrature(b, wavelength, diameter - h)) / (2 * h)
            for b in lengths
        ]
    )
    np.testing.assert_allclose(model.derivatives[0].real, numeric, rtol=1e-5)
    # diameter Fisher through the chain rule with the exact QFI, vs quadrature-based |g|(D)
    eps = 1e-3
    for b, g, dg, dg_numeric in zip(lengths, model.visibility, model.derivatives[0], numeric):
        jacobian = interf.visibility_jacobian(g, [dg])
        fisher = interf.source_fisher_information(interf.exact_quantum_fisher_information(eps, g), jacobian)
        modulus = abs(g.real)
        d_modulus = np.sign(g.real) * dg_numeric
        expected = interf.exact_quantum_fisher_information(eps, modulus)[0, 0] * d_modulus**2
        assert fisher[0, 0] == pytest.approx(expected, rel=1e-5)


def test_point_and_binary_visibility_derivatives():
    wavelength = 1e-6
    baselines = np.array([[10.0, 3.0], [-4.0, 25.0]])
    h = 1e-12
    position = np.array([3e-8, -1e-8])
    point = interf.point_source_visibility(baselines, wavelength, position)
    np.testing.assert_allclose(point.visibility, np.exp(2j * np.pi * baselines @ position / wavelength))
    for k in range(2):
        step = np.eye(2)[k] * h
        numeric = (
            interf.point_source_visibility(baselines, wavelength, position + step).visibility
            - interf.point_source_visibility(baselines, wavelength, position - step).visibility
        ) / (2 * h)
        np.testing.assert_allclose(point.derivatives[k], numeric, rtol=1e-5)
    parameters = np.array([5e-8, 0.7, 0.3])
    binary = interf.binary_visibility(baselines, wavelength, *parameters)
    companion = 5e-8 * np.array([np.sin(0.7), np.cos(0.7)])
    direct_sum = (1 + 0.3 * interf.point_source_visibility(baselines, wavelength, companion).visibility) / 1.3
    np.testing.assert_allclose(binary.visibility, direct_sum)
    for k, scale in enumerate([1e-14, 1e-6, 1e-6]):
        step = np.eye(3)[k] * scale
        numeric = (
            interf.binary_visibility(baselines, wavelength, *(parameters + step)).visibility
            - interf.binary_visibility(baselines, wavelength, *(parameters - step)).visibility
        ) / (2 * scale)
        np.testing.assert_allclose(binary.derivatives[k], numeric, rtol=1e-5, atol=1e-9)


# ---------------------------------------------------------------------------------------
# samplers vs thewalrus
# ---------------------------------------------------------------------------------------


def chi_square_statistic(counts, expected_probabilities, copies):
    """Pearson chi-square with bins of expected count >= 5; the rest lumped into one bin."""
    expected = expected_probabilities.reshape(-1) * copies
    observed = counts.reshape(-1)
    big = expected >= 5
    obs = np.append(observed[big], observed[~big].sum())
    exp = np.append(expected[big], copies - expected[big].sum())
    statistic = np.sum((obs - exp) ** 2 / exp)
    return statistic, len(obs) - 1


@pytest.mark.parametrize("scheme", ["direct", "intensity"])
def test_thermal_count_sampler_agrees_with_thewalrus(scheme, rng):
    eps, g, delay, eta = 0.8, 0.6 * np.exp(0.9j), 0.3, 0.7
    copies, cutoff = 100_000, 12
    correlation = interf.photon_correlation_matrix(0.5 * eps, g)
    if scheme == "direct":
        transfer = combiner_transfer(delay, eta)
        cov = output_covariance(eps, g, delay, eta)
    else:
        transfer = None
        cov = interf.aperture_covariance(0.5 * eps, g)
    samples = interf.sample_thermal_counts(correlation, copies, rng, transfer)
    assert samples.shape == (copies, 2)
    clipped = np.minimum(samples, cutoff - 1)
    histogram = np.zeros((cutoff, cutoff))
    np.add.at(histogram, (clipped[:, 0], clipped[:, 1]), 1)
    expected = probabilities(np.zeros(4), cov, cutoff=cutoff)
    statistic, dof = chi_square_statistic(histogram, expected, copies)
    # fixed seed; fails with probability 1e-4 under the null
    assert statistic < scipy.stats.chi2.ppf(1 - 1e-4, dof)
    # the test can fail: |g| = 0.75 instead of 0.6 is rejected
    wrong = probabilities(
        np.zeros(4),
        output_covariance(eps, 0.75 * np.exp(0.9j), delay, eta)
        if scheme == "direct"
        else interf.aperture_covariance(0.5 * eps, 0.75 * np.exp(0.9j)),
        cutoff=cutoff,
    )
    assert chi_square_statistic(histogram, wrong, copies)[0] > scipy.stats.chi2.ppf(1 - 1e-4, dof)


# ---------------------------------------------------------------------------------------
# copies and observing time
# ---------------------------------------------------------------------------------------


def test_copies_and_observing_time_physics_10_2():
    assert interf.temporal_modes_per_second(550e-9, 10e-9) == pytest.approx(9.91e12, rel=1e-3)
    fisher = interf.direct_fisher_information_leading_order(7.9e-5, 0.5j)[1, 1]
    copies = interf.copies_to_precision(fisher, 0.01)
    assert copies == pytest.approx(1 / (7.9e-5 * 0.25 * 1e-4))
    assert interf.observing_time(copies, 550e-9, 10e-9) == pytest.approx(copies * (550e-9) ** 2 / (299_792_458.0 * 10e-9), rel=1e-12)
    matrix = np.array([[4.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(interf.copies_to_precision(matrix, 0.1), np.diag(np.linalg.inv(matrix)) / 0.01)


def test_thermal_qfi_is_exact_from_faint_to_bright_light():
    """The eigenbasis form equals the Monras/Safranek bracket where that is well conditioned, and
    the leading order in the faint limit, where the bracket is numerically singular."""
    from sensing.physics.gaussian import symplectic_form, thermal_covariance
    from sensing.physics.interferometry import (
        _correlation_derivatives, photon_correlation_matrix, quantum_fisher_information_leading_order,
        thermal_quantum_fisher_information)

    def bracket_form(n, d, hbar=2.0):  # independent: PHYSICS 7.2 in phase space
        cov = thermal_covariance(n, hbar=hbar)
        dcov = np.stack([(hbar / 2) * np.block([[2 * x.real, 2 * x.imag], [-2 * x.imag, 2 * x.real]]) for x in d])
        omega = symplectic_form(n.shape[0])
        vecs = dcov.reshape(len(dcov), -1)
        return 0.5 * vecs @ np.linalg.solve(np.kron(cov, cov) - (hbar**2 / 4) * np.kron(omega, omega), vecs.T)

    for eps, g in [(3.0, -0.2 + 0.1j), (0.5, 0.3 + 0.4j), (1e-3, 0.7j)]:
        n, d = photon_correlation_matrix(eps / 2, g), _correlation_derivatives(eps / 2, g)
        np.testing.assert_allclose(thermal_quantum_fisher_information(n, d), bracket_form(n, d), rtol=1e-9, atol=1e-12 * eps)
    for eps in (1e-12, 1e-20, 1e-30):
        g = 0.5 + 0.2j
        n, d = photon_correlation_matrix(eps / 2, g), _correlation_derivatives(eps / 2, g)
        np.testing.assert_allclose(thermal_quantum_fisher_information(n, d) / eps,
                                   quantum_fisher_information_leading_order(eps, g) / eps, rtol=1e-9, atol=1e-12)
