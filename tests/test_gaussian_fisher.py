"""Gaussian QFI / homodyne / heterodyne Fisher information against PHYSICS.md §0, §3.2-3.3, §7.

States are built by Strawberry Fields programs (gaussian backend; Fock backend or the SF
Fock-basis density matrix for the brute-force SLD checks); parameter derivatives are
central finite differences of those SF states.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.optimize

from sensing.physics.gaussian import (
    GaussianMoments,
    gaussian_outcome_fisher_information,
    heterodyne_outcome,
    homodyne_outcome,
    loss,
    photon_correlation,
    quantum_fisher_information,
    quantum_fisher_information_pure,
    rotate_quadratures,
    symplectic_form,
    thermal_covariance,
)
from sensing.sf_compat import import_strawberryfields

sf = import_strawberryfields()
ops = sf.ops

# SF warns when a program has uncoupled modes; several test states do on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:The circuit consists of .* disconnected components")

HBAR = 2.0
STEP = 1e-5  # central-difference step: truncation ~STEP**2, round-off ~1e-16/STEP


# --------------------------------------------------------------------------------------
# Helpers: SF programs -> moments, central differences
# --------------------------------------------------------------------------------------


def gaussian_moments(modes: int, prepare) -> GaussianMoments:
    """Run ``prepare(q)`` in an SF program on the gaussian backend; return (means, cov)."""
    program = sf.Program(modes)
    with program.context as q:
        prepare(q)
    state = sf.Engine("gaussian").run(program).state
    return GaussianMoments(state.means(), state.cov())


def central_differences(moments_of, parameters, step: float = STEP):
    """Derivatives (means (p, m), cov (p, m, m)) of ``moments_of(parameters)`` by central differences."""
    parameters = np.asarray(parameters, dtype=float)
    mean_derivatives, cov_derivatives = [], []
    for index in range(parameters.size):
        shift = np.zeros_like(parameters)
        shift[index] = step
        plus, minus = moments_of(parameters + shift), moments_of(parameters - shift)
        mean_derivatives.append((plus.means - minus.means) / (2 * step))
        cov_derivatives.append((plus.cov - minus.cov) / (2 * step))
    return np.array(mean_derivatives), np.array(cov_derivatives)


def qfi_of(moments_of, parameters, step: float = STEP) -> np.ndarray:
    mean_derivatives, cov_derivatives = central_differences(moments_of, parameters, step)
    return quantum_fisher_information(moments_of(parameters).cov, cov_derivatives, mean_derivatives)


def outcome_cfi(outcome_of, parameters, step: float = STEP) -> np.ndarray:
    """Classical FI of a Gaussian outcome whose moments are ``outcome_of(parameters)``."""
    mean_derivatives, cov_derivatives = central_differences(outcome_of, parameters, step)
    return gaussian_outcome_fisher_information(mean_derivatives, outcome_of(parameters).cov, cov_derivatives)


def sld_quantum_fisher_information(density_of, parameters, step: float = 1e-4) -> np.ndarray:
    r"""Brute-force SLD QFI in the eigenbasis of rho (Fock space).

    :math:`F_{ij} = \sum_{kl} 2\,\mathrm{Re}(\partial_i\rho_{kl}\partial_j\rho_{lk})/(p_k+p_l)`,
    over pairs with :math:`p_k + p_l > 0`.
    """
    parameters = np.asarray(parameters, dtype=float)
    density = density_of(parameters)
    derivatives = []
    for index in range(parameters.size):
        shift = np.zeros_like(parameters)
        shift[index] = step
        derivatives.append((density_of(parameters + shift) - density_of(parameters - shift)) / (2 * step))
    populations, basis = np.linalg.eigh(density)
    in_eigenbasis = [basis.conj().T @ d @ basis for d in derivatives]
    denominator = populations[:, None] + populations[None, :]
    weight = np.where(denominator > 1e-12, 2.0 / np.where(denominator > 1e-12, denominator, 1.0), 0.0)
    return np.array([[np.sum(weight * (a * b.T).real) for b in in_eigenbasis] for a in in_eigenbasis])


def weak_thermal_light(visibility_modulus: float, visibility_phase: float, flux: float, modes: int = 2):
    r"""PHYSICS.md §3.2 state, :math:`N = (\epsilon/2)[[1, g],[g^*, 1]]`, from an SF program.

    Thermal states with :math:`(\epsilon/2)(1\pm|g|)` photons, a 50:50 ``BSgate`` and
    ``Rgate(phi)`` on mode 1 give :math:`N_{01} = (\epsilon/2)|g|e^{i\phi}` (checked in
    :func:`test_weak_thermal_light_program_has_the_physics_md_photon_correlation`). Extra
    modes stay in vacuum.
    """

    def prepare(q):
        ops.Thermal(flux / 2 * (1 + visibility_modulus)) | q[0]
        ops.Thermal(flux / 2 * (1 - visibility_modulus)) | q[1]
        ops.BSgate(np.pi / 4, 0) | (q[0], q[1])
        ops.Rgate(visibility_phase) | q[1]

    return gaussian_moments(modes, prepare)


def homodyne(moments: GaussianMoments, angle: float = 0.0, efficiency: float = 1.0) -> GaussianMoments:
    """Homodyne of x_angle = x cos(angle) + p sin(angle) of mode 0 (SF MeasureHomodyne(angle))."""
    rotated = rotate_quadratures(moments.cov, moments.means, -angle)
    return homodyne_outcome(rotated.cov, rotated.means, [0], efficiency=efficiency)


def heterodyne(moments: GaussianMoments) -> GaussianMoments:
    return heterodyne_outcome(moments.cov, moments.means)


def passive_symplectic(unitary: np.ndarray) -> np.ndarray:
    """xxpp symplectic matrix of the interferometer a -> U a."""
    return np.block([[unitary.real, -unitary.imag], [unitary.imag, unitary.real]])


# --------------------------------------------------------------------------------------
# Conventions (PHYSICS.md §0, §3.2)
# --------------------------------------------------------------------------------------


def test_symplectic_form_is_the_xxpp_commutator_matrix():
    from thewalrus.symplectic import sympmat

    omega = symplectic_form(3)
    np.testing.assert_array_equal(omega, sympmat(3))
    np.testing.assert_array_equal(omega @ omega, -np.eye(6))
    # SF vacuum is V = (hbar/2) I = I, and an SF pure state saturates the uncertainty
    # relation in this ordering: (V Omega)^2 = -(hbar/2)^2 I.
    vacuum = gaussian_moments(3, lambda q: None)
    np.testing.assert_allclose(vacuum.cov, np.eye(6), atol=1e-14)

    def entangled(q):
        ops.Sgate(0.4, 0.2) | q[0]
        ops.S2gate(0.6, 0.5) | (q[1], q[2])
        ops.BSgate(0.3, 0.9) | (q[0], q[2])

    cov = gaussian_moments(3, entangled).cov
    np.testing.assert_allclose((cov @ omega) @ (cov @ omega), -np.eye(6), atol=1e-12)


def test_thermal_covariance_sign_matches_strawberry_fields_fock_representation():
    """V_{x_i p_j} = +2 Im N_ij for N_ij = <a_i^dag a_j> = tr(rho a_i^dag a_j), rho from SF in Fock basis."""
    state_program = sf.Program(2)
    with state_program.context as q:
        ops.Thermal(0.2) | q[0]
        ops.Thermal(0.05) | q[1]
        ops.BSgate(0.4, 0.7) | (q[0], q[1])
        ops.Rgate(0.2) | q[1]
    state = sf.Engine("gaussian").run(state_program).state
    cutoff = 14
    density = state.reduced_dm([0, 1], cutoff=cutoff).transpose(0, 2, 1, 3).reshape(cutoff**2, cutoff**2)
    annihilation = np.diag(np.sqrt(np.arange(1, cutoff)), 1)
    lowering = [np.kron(annihilation, np.eye(cutoff)), np.kron(np.eye(cutoff), annihilation)]
    correlation_fock = np.array(
        [[np.trace(density @ lowering[i].T @ lowering[j]) for j in range(2)] for i in range(2)]
    )
    assert abs(correlation_fock[0, 1].imag) > 0.01  # a genuinely complex correlation
    np.testing.assert_allclose(photon_correlation(state.cov()), correlation_fock, atol=1e-7)
    np.testing.assert_allclose(thermal_covariance(correlation_fock), state.cov(), atol=1e-6)
    # The opposite sign convention would be wrong by 4 |Im N_01|:
    flipped = thermal_covariance(correlation_fock.conj())
    assert np.abs(flipped - state.cov()).max() > 0.1


def test_weak_thermal_light_program_has_the_physics_md_photon_correlation():
    flux, modulus, phase = 0.1, 0.5, 0.3
    moments = weak_thermal_light(modulus, phase, flux)
    visibility = modulus * np.exp(1j * phase)
    expected = flux / 2 * np.array([[1, visibility], [np.conj(visibility), 1]])
    np.testing.assert_allclose(photon_correlation(moments.cov), expected, atol=1e-14)
    np.testing.assert_allclose(thermal_covariance(expected), moments.cov, atol=1e-14)


def test_photon_correlation_inverts_thermal_covariance_and_adds_coherent_part():
    rng = np.random.default_rng(7)
    amplitudes = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    correlation = amplitudes.conj().T @ amplitudes / 4
    np.testing.assert_allclose(photon_correlation(thermal_covariance(correlation)), correlation, atol=1e-14)
    # Coherent state: N = alpha^* alpha^T (PHYSICS.md §0: <x> = 2 Re alpha, <p> = 2 Im alpha).
    coherent = gaussian_moments(2, lambda q: (ops.Dgate(0.3, 0.4) | q[0], ops.Dgate(0.5, -1.0) | q[1]))
    alpha = np.array([0.3 * np.exp(0.4j), 0.5 * np.exp(-1.0j)])
    np.testing.assert_allclose(
        photon_correlation(coherent.cov, coherent.means), np.outer(alpha.conj(), alpha), atol=1e-14
    )


def test_loss_matches_sf_loss_channel_and_the_lossy_epr_noise():
    transmissivities = [0.9, 0.6, 0.3]

    def squeezed_displaced(q):
        ops.Sgate(0.7, 0.3) | q[0]
        ops.S2gate(0.5) | (q[1], q[2])
        ops.Dgate(0.4, 0.2) | q[1]

    state = gaussian_moments(3, squeezed_displaced)

    def lossy(q):
        squeezed_displaced(q)
        for mode, transmissivity in enumerate(transmissivities):
            ops.LossChannel(transmissivity) | q[mode]

    expected = gaussian_moments(3, lossy)
    result = loss(state.cov, state.means, transmissivities)
    np.testing.assert_allclose(result.means, expected.means, atol=1e-13)
    np.testing.assert_allclose(result.cov, expected.cov, atol=1e-13)
    # PHYSICS.md §0: 10 dB TMSV with eta = 0.9 per arm -> EPR noise 0.190 of vacuum.
    squeezing = 10 * np.log(10) / 20
    epr = gaussian_moments(2, lambda q: ops.S2gate(squeezing) | (q[0], q[1]))
    lossy_epr = loss(epr.cov, epr.means, 0.9)
    difference = np.array([1.0, -1.0, 0.0, 0.0])
    noise_relative_to_vacuum = difference @ lossy_epr.cov @ difference / HBAR
    assert noise_relative_to_vacuum == pytest.approx(0.9 * 0.1 + 0.1, abs=1e-12)
    assert noise_relative_to_vacuum == pytest.approx(0.190, abs=5e-4)


def test_rotate_quadratures_is_the_sf_rgate():
    def prepare(q):
        ops.Sgate(0.6) | q[0]
        ops.Dgate(0.8, 0.1) | q[0]
        ops.Squeezed(0.3, 1.0) | q[1]

    state = gaussian_moments(2, prepare)
    angles = [0.7, -1.2]

    def rotated(q):
        prepare(q)
        ops.Rgate(angles[0]) | q[0]
        ops.Rgate(angles[1]) | q[1]

    expected = gaussian_moments(2, rotated)
    result = rotate_quadratures(state.cov, state.means, angles)
    np.testing.assert_allclose(result.means, expected.means, atol=1e-13)
    np.testing.assert_allclose(result.cov, expected.cov, atol=1e-13)


def test_heterodyne_outcome_has_the_measurehd_variance_of_one_half_per_component():
    """PHYSICS.md §0: MeasureHD on |alpha> gives mean alpha, variance 1/2 per real component."""
    coherent = gaussian_moments(1, lambda q: ops.Coherent(0.7, 0.5) | q[0])
    outcome = heterodyne_outcome(coherent.cov, coherent.means)
    scale = np.sqrt(2 * HBAR)  # r = sqrt(2 hbar) (Re alpha, Im alpha)
    np.testing.assert_allclose(outcome.means / scale, [0.7 * np.cos(0.5), 0.7 * np.sin(0.5)], atol=1e-14)
    np.testing.assert_allclose(outcome.cov / scale**2, 0.5 * np.eye(2), atol=1e-14)


# --------------------------------------------------------------------------------------
# PHYSICS.md §7.3 checkpoints (hbar = 2), to 1e-6
# --------------------------------------------------------------------------------------


def thermal(photons):
    return gaussian_moments(1, lambda q: ops.Thermal(photons[0]) | q[0])


@pytest.mark.parametrize(
    "mean_photons, qfi_table, homodyne_table, heterodyne_table",
    [(0.1, 9.0909, 1.3889, 0.8264), (1.0, 0.5, 0.2222, 0.25), (3.0, 0.08333, 0.0408, 0.0625)],
)
def test_thermal_photon_number_qfi_is_bose_einstein_and_beats_quadrature_detection(
    mean_photons, qfi_table, homodyne_table, heterodyne_table
):
    qfi = qfi_of(thermal, [mean_photons])[0, 0]
    homodyne_fisher = outcome_cfi(lambda n: homodyne(thermal(n)), [mean_photons])[0, 0]
    heterodyne_fisher = outcome_cfi(lambda n: heterodyne(thermal(n)), [mean_photons])[0, 0]
    assert qfi == pytest.approx(1 / (mean_photons * (mean_photons + 1)), rel=1e-6)
    assert homodyne_fisher == pytest.approx(2 / (2 * mean_photons + 1) ** 2, rel=1e-6)
    assert heterodyne_fisher == pytest.approx(1 / (mean_photons + 1) ** 2, rel=1e-6)
    # The table's rounded values.
    assert qfi == pytest.approx(qfi_table, rel=1e-4)
    assert homodyne_fisher == pytest.approx(homodyne_table, rel=2e-3)
    assert heterodyne_fisher == pytest.approx(heterodyne_table, rel=1e-3)


@pytest.mark.parametrize("mean_photons", [0.1, 1.0])
def test_thermal_photon_counting_attains_the_qfi(mean_photons):
    """Photon counting on a thermal state attains 1/(N(N+1)) (PHYSICS.md §7.2).

    Photon-number probabilities from SF (``fock_prob``); SF's Gaussian ``fock_prob`` loses
    accuracy above ~40 photons, so the N = 3 case (tail (3/4)^n) is not checked this way.
    """
    photon_numbers = range(36 if mean_photons >= 1 else 20)

    def probabilities(photons):
        state = sf.Engine("gaussian").run(_thermal_program(photons)).state
        return np.array([state.fock_prob([n], cutoff=40) for n in photon_numbers])

    p = probabilities(mean_photons)
    dp = (probabilities(mean_photons + STEP) - probabilities(mean_photons - STEP)) / (2 * STEP)
    counting_fisher = np.sum(dp**2 / p)
    qfi = qfi_of(thermal, [mean_photons])[0, 0]
    assert counting_fisher == pytest.approx(qfi, rel=1e-6)
    assert qfi == pytest.approx(1 / (mean_photons * (mean_photons + 1)), rel=1e-6)


def _thermal_program(photons: float):
    program = sf.Program(1)
    with program.context as q:
        ops.Thermal(photons) | q[0]
    return program


@pytest.mark.parametrize(
    "parameter, point, qfi_expected",
    [("x_shift", 0.0, 2 / HBAR), ("real_amplitude", 0.4, 4.0)],
)
def test_coherent_displacement_heterodyne_is_half_homodyne(parameter, point, qfi_expected):
    """Coherent state: shift of <x> (QFI 2/hbar = 1) and real alpha (QFI 4), §7.3 rows 2-3."""

    def coherent(theta):
        # <x> = sqrt(2 hbar) Re alpha (PHYSICS.md §0)
        alpha = 0.4 + theta[0] / np.sqrt(2 * HBAR) if parameter == "x_shift" else theta[0]
        return gaussian_moments(1, lambda q: ops.Dgate(alpha) | q[0])

    qfi = qfi_of(coherent, [point])[0, 0]
    homodyne_x = outcome_cfi(lambda t: homodyne(coherent(t)), [point])[0, 0]
    heterodyne_fisher = outcome_cfi(lambda t: heterodyne(coherent(t)), [point])[0, 0]
    assert qfi == pytest.approx(qfi_expected, abs=1e-6)
    assert homodyne_x == pytest.approx(qfi_expected, abs=1e-6)
    assert heterodyne_fisher == pytest.approx(qfi_expected / 2, abs=1e-6)
    assert heterodyne_fisher == pytest.approx(homodyne_x / 2, rel=1e-9)


def test_coherent_phase_qfi_is_four_alpha_squared():
    """|alpha| = 1.5: QFI 4|alpha|^2 = 9, homodyne at the optimal quadrature 9, heterodyne 4.5."""
    modulus = 1.5

    def rotated_coherent(phase):
        return gaussian_moments(1, lambda q: ops.Coherent(modulus, phase[0]) | q[0])

    def homodyne_cfi(measurement_angle):
        return outcome_cfi(lambda t: homodyne(rotated_coherent(t), measurement_angle), [0.0])[0, 0]

    qfi = qfi_of(rotated_coherent, [0.0])[0, 0]
    heterodyne_fisher = outcome_cfi(lambda t: heterodyne(rotated_coherent(t)), [0.0])[0, 0]
    assert qfi == pytest.approx(4 * modulus**2, rel=1e-6)
    assert qfi == pytest.approx(9.0, abs=1e-6)
    assert homodyne_cfi(np.pi / 2) == pytest.approx(9.0, rel=1e-6)  # p quadrature for real alpha
    assert homodyne_cfi(np.pi / 3) < 9.0
    assert heterodyne_fisher == pytest.approx(2 * modulus**2, rel=1e-6)


@pytest.mark.parametrize("squeezing", [0.3, 0.8])
def test_squeezing_strength_qfi_is_two(squeezing):
    qfi = qfi_of(lambda r: gaussian_moments(1, lambda q: ops.Sgate(r[0]) | q[0]), [squeezing])
    assert qfi[0, 0] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("squeezing, qfi_table", [(0.3, 0.810656), (0.8, 11.286646)])
def test_squeezed_vacuum_phase_qfi_is_attained_by_homodyne_at_the_optimal_angle(squeezing, qfi_table):
    """QFI = 2 sinh^2 2r = 8 n(n+1); the best homodyne angle attains it (§7.3)."""

    def rotated_squeezed(phase):
        return gaussian_moments(1, lambda q: (ops.Sgate(squeezing) | q[0], ops.Rgate(phase[0]) | q[0]))

    plus, minus = rotated_squeezed([STEP]), rotated_squeezed([-STEP])
    centre = rotated_squeezed([0.0])

    def homodyne_cfi(measurement_angle):
        outcomes = [homodyne(m, measurement_angle) for m in (plus, centre, minus)]
        return gaussian_outcome_fisher_information(
            None, outcomes[1].cov, [(outcomes[0].cov - outcomes[2].cov) / (2 * STEP)]
        )[0, 0]

    qfi = qfi_of(rotated_squeezed, [0.0])[0, 0]
    angles = np.linspace(0, np.pi, 721)
    best = angles[np.argmax([homodyne_cfi(a) for a in angles])]
    optimum = scipy.optimize.minimize_scalar(
        lambda a: -homodyne_cfi(a), bounds=(best - np.pi / 360, best + np.pi / 360), method="bounded",
        options={"xatol": 1e-10},
    )
    sinh_squared = np.sinh(squeezing) ** 2
    assert qfi == pytest.approx(2 * np.sinh(2 * squeezing) ** 2, rel=1e-6)
    assert qfi == pytest.approx(8 * sinh_squared * (sinh_squared + 1), rel=1e-6)
    assert qfi == pytest.approx(qfi_table, abs=1e-6)
    assert -optimum.fun == pytest.approx(qfi, rel=1e-6)


def test_squeezed_thermal_displacement_qfi_is_inverse_x_variance():
    """N = 0.5, r = 0.5, <x> shift: QFI = homodyne = 1/V_xx = 1.359141, heterodyne 0.576117."""

    def shifted(x_shift):
        return gaussian_moments(
            1,
            lambda q: (
                ops.Thermal(0.5) | q[0],
                ops.Sgate(0.5) | q[0],
                ops.Xgate(x_shift[0]) | q[0],
            ),
        )

    qfi = qfi_of(shifted, [0.0])[0, 0]
    homodyne_x = outcome_cfi(lambda t: homodyne(shifted(t)), [0.0])[0, 0]
    heterodyne_fisher = outcome_cfi(lambda t: heterodyne(shifted(t)), [0.0])[0, 0]
    x_variance = shifted([0.0]).cov[0, 0]
    assert qfi == pytest.approx(1 / x_variance, rel=1e-6)
    assert qfi == pytest.approx(1.359141, abs=1e-6)
    assert homodyne_x == pytest.approx(1.359141, abs=1e-6)
    assert heterodyne_fisher == pytest.approx(1 / (x_variance + HBAR / 2), rel=1e-6)
    assert heterodyne_fisher == pytest.approx(0.576117, abs=1e-6)


# --------------------------------------------------------------------------------------
# PHYSICS.md §3.3: two-mode weak thermal light (stellar interferometry)
# --------------------------------------------------------------------------------------


def weak_thermal_qfi(flux, modulus, phase, modes=2):
    return qfi_of(lambda v: weak_thermal_light(v[0], v[1], flux, modes), [modulus, phase])


@pytest.mark.parametrize(
    "flux, modulus, qfi_modulus_per_flux, qfi_phase_per_flux",
    [
        (1e-1, 0.5, 1.28569, 0.24096),
        (1e-2, 0.5, 1.32836, 0.24907),
        (1e-3, 0.5, 1.33283, 0.24991),
        (1e-2, 0.9, 5.25818, 0.80923),
        (1e-3, 0.3, 1.09840, 0.08996),
    ],
)
def test_weak_thermal_light_qfi_matches_the_stellar_interferometry_table(
    flux, modulus, qfi_modulus_per_flux, qfi_phase_per_flux
):
    """Exact Gaussian QFI / eps at phi = 0.3; the table is rounded to 5 decimals (abs 5e-6)."""
    qfi = weak_thermal_qfi(flux, modulus, 0.3)
    assert qfi[0, 0] / flux == pytest.approx(qfi_modulus_per_flux, abs=5e-6)
    assert qfi[1, 1] / flux == pytest.approx(qfi_phase_per_flux, abs=5e-6)
    # Leading order in eps: the qubit (Bloch vector) QFIs, and a diagonal matrix.
    assert qfi[0, 0] / flux == pytest.approx(1 / (1 - modulus**2), rel=3 * flux)
    assert qfi[1, 1] / flux == pytest.approx(modulus**2, rel=3 * flux)
    assert abs(qfi[0, 1]) < 1e-6 * np.sqrt(qfi[0, 0] * qfi[1, 1])


def test_weak_thermal_light_qfi_matches_fock_space_sld():
    """§7.3 last row: F_|g| = 0.1285687, F_phi = 0.0240964 at eps = 0.1, |g| = 0.5, phi = 0.3."""
    cutoff = 8

    def density(visibility):
        program = sf.Program(2)
        with program.context as q:
            ops.Thermal(0.05 * (1 + visibility[0])) | q[0]
            ops.Thermal(0.05 * (1 - visibility[0])) | q[1]
            ops.BSgate(np.pi / 4, 0) | (q[0], q[1])
            ops.Rgate(visibility[1]) | q[1]
        state = sf.Engine("gaussian").run(program).state
        rho = state.reduced_dm([0, 1], cutoff=cutoff)
        return rho.transpose(0, 2, 1, 3).reshape(cutoff**2, cutoff**2)

    sld = sld_quantum_fisher_information(density, [0.5, 0.3])
    gaussian = weak_thermal_qfi(0.1, 0.5, 0.3)
    np.testing.assert_allclose(gaussian, sld, atol=2e-7)
    assert gaussian[0, 0] == pytest.approx(0.1285687, abs=1e-6)
    assert gaussian[1, 1] == pytest.approx(0.0240964, abs=1e-6)


def test_weak_thermal_light_qfi_unchanged_by_eighteen_extra_vacuum_modes():
    """Appending pure (vacuum) modes must not change the QFI (singular-bracket case)."""
    two_modes = weak_thermal_qfi(1e-2, 0.5, 0.3, modes=2)
    twenty_modes = weak_thermal_qfi(1e-2, 0.5, 0.3, modes=20)
    np.testing.assert_allclose(twenty_modes, two_modes, rtol=1e-9, atol=1e-15)


def test_qfi_invariant_under_a_fixed_fifty_mode_interferometer_with_squeezed_pure_modes():
    """Mix the weak thermal pair with squeezed and displaced pure modes over 50 modes.

    The QFI is invariant under parameter-independent unitaries and additive over the
    parameter-independent pure modes (which contribute nothing), so it equals the 2-mode
    value, now with the pure subspace not aligned with any mode. The evaluation allocates
    O(n^2) memory, never a (2n)^2 x (2n)^2 matrix.
    """
    modes = 50
    rng = np.random.default_rng(20261125)
    unitary, triangle = np.linalg.qr(rng.normal(size=(modes, modes)) + 1j * rng.normal(size=(modes, modes)))
    unitary = unitary * (np.diag(triangle) / np.abs(np.diag(triangle)))  # Haar-random
    flux, modulus, phase = 1e-2, 0.5, 0.3

    def prepare(visibility):
        def program_body(q):
            ops.Thermal(flux / 2 * (1 + visibility[0])) | q[0]
            ops.Thermal(flux / 2 * (1 - visibility[0])) | q[1]
            ops.BSgate(np.pi / 4, 0) | (q[0], q[1])
            ops.Rgate(visibility[1]) | q[1]
            for mode in range(2, 8):
                ops.Sgate(0.2 * mode, 0.3 * mode) | q[mode]
            ops.Dgate(0.7) | q[9]

        return program_body

    state = gaussian_moments(modes, lambda q: (prepare([modulus, phase])(q), ops.Interferometer(unitary) | q))
    # Derivatives: SF states before the interferometer, then the fixed symplectic map.
    symplectic = passive_symplectic(unitary)
    before = gaussian_moments(modes, prepare([modulus, phase]))
    np.testing.assert_allclose(symplectic @ before.cov @ symplectic.T, state.cov, atol=1e-10)
    mean_derivatives, cov_derivatives = central_differences(
        lambda v: gaussian_moments(modes, prepare(v)), [modulus, phase]
    )
    cov_derivatives = symplectic @ cov_derivatives @ symplectic.T
    mean_derivatives = mean_derivatives @ symplectic.T

    # Closed form in the Williamson basis: O(n^3) time and only O(n^2) memory. Track the peak
    # of new allocations during the call (numpy reports its buffers to tracemalloc): a few
    # dozen (2n x 2n) arrays, against the (2n)^4 entries (800 MB here) of the Kronecker bracket
    # [V (x) V - Omega (x) Omega] that the textbook formula would invert. Timing is in
    # benchmarks/bench_qfi.py.
    tracemalloc.start()
    try:
        qfi = quantum_fisher_information(state.cov, cov_derivatives, mean_derivatives)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    phase_space_matrix_bytes = (2 * modes) ** 2 * np.dtype(float).itemsize

    np.testing.assert_allclose(qfi, weak_thermal_qfi(flux, modulus, phase), rtol=1e-7, atol=1e-12)
    print("PEAK", peak_bytes / phase_space_matrix_bytes)
    assert peak_bytes < 64 * phase_space_matrix_bytes, peak_bytes / phase_space_matrix_bytes


# --------------------------------------------------------------------------------------
# Cross-checks of the mixed-state formula
# --------------------------------------------------------------------------------------


def test_pure_state_formula_agrees_with_mixed_state_formula_on_pure_states():
    """Three-mode pure state; parameters: squeezing, two-mode squeezing, BS angle, phase, displacement."""

    def pure_state(theta):
        def prepare(q):
            ops.Sgate(theta[0], 0.4) | q[0]
            ops.S2gate(theta[1], 0.1) | (q[1], q[2])
            ops.BSgate(theta[2], 0.3) | (q[0], q[1])
            ops.Rgate(theta[3]) | q[2]
            ops.Dgate(theta[4], 0.6) | q[0]
            ops.BSgate(0.5, -0.2) | (q[1], q[2])

        return gaussian_moments(3, prepare)

    point = [0.5, 0.4, 0.7, 0.2, 0.9]
    mean_derivatives, cov_derivatives = central_differences(pure_state, point)
    cov = pure_state(point).cov
    mixed = quantum_fisher_information(cov, cov_derivatives, mean_derivatives)
    pure = quantum_fisher_information_pure(cov, cov_derivatives, mean_derivatives)
    np.testing.assert_allclose(mixed, pure, rtol=1e-8, atol=1e-8)
    assert np.all(np.linalg.eigvalsh(mixed) > 1e-3)  # five independent directions


def test_mixed_state_qfi_matches_fock_backend_sld_for_displaced_squeezed_thermal_light():
    """Parameters (N, r, displacement, phase rotation); SF Fock backend + brute-force SLD.

    The phase rotation moves both the means and the squeezing axis, so it is correlated
    with the displacement: the QFI matrix has off-diagonal entries.
    """
    cutoff = 40

    def prepare(theta):
        def body(q):
            ops.Thermal(theta[0]) | q[0]
            ops.Sgate(theta[1], 0.5) | q[0]
            ops.Dgate(theta[2], 0.4) | q[0]
            ops.Rgate(theta[3]) | q[0]

        return body

    def density(theta):
        program = sf.Program(1)
        with program.context as q:
            prepare(theta)(q)
        return sf.Engine("fock", backend_options={"cutoff_dim": cutoff}).run(program).state.dm()

    point = [0.3, 0.35, 0.45, 0.2]
    sld = sld_quantum_fisher_information(density, point)
    gaussian = qfi_of(lambda theta: gaussian_moments(1, prepare(theta)), point)
    np.testing.assert_allclose(gaussian, sld, rtol=1e-6, atol=1e-7)
    assert abs(gaussian[2, 3]) > 0.05 * np.sqrt(gaussian[2, 2] * gaussian[3, 3])  # correlated parameters


def test_qfi_does_not_depend_on_the_hbar_convention():
    """Quadratures scale as sqrt(hbar): V -> (hbar/2) V, mu -> sqrt(hbar/2) mu; Fisher info is physical."""

    def state(theta):
        return gaussian_moments(
            2,
            lambda q: (
                ops.Thermal(theta[0]) | q[0],
                ops.S2gate(theta[1]) | (q[0], q[1]),
                ops.Dgate(theta[2], 0.3) | q[1],
            ),
        )

    point = [0.4, 0.3, 0.8]
    mean_derivatives, cov_derivatives = central_differences(state, point)
    cov = state(point).cov
    reference = quantum_fisher_information(cov, cov_derivatives, mean_derivatives)
    for hbar in (1.0, 1 / np.pi):
        scale = hbar / 2.0
        rescaled = quantum_fisher_information(
            cov * scale, cov_derivatives * scale, mean_derivatives * np.sqrt(scale), hbar=hbar
        )
        np.testing.assert_allclose(rescaled, reference, rtol=1e-12)
    pure = gaussian_moments(1, lambda q: (ops.Sgate(0.6) | q[0]))
    derivative = np.array([[1.0, 0.5]])
    pure_reference = quantum_fisher_information_pure(pure.cov, [np.diag([1.0, 2.0])], derivative)
    pure_hbar_one = quantum_fisher_information_pure(
        pure.cov / 2, [np.diag([1.0, 2.0]) / 2], derivative / np.sqrt(2), hbar=1.0
    )
    np.testing.assert_allclose(pure_hbar_one, pure_reference, rtol=1e-12)


# --------------------------------------------------------------------------------------
# Detector efficiency and the pure-mode singularities (Šafránek)
# --------------------------------------------------------------------------------------


def test_homodyne_efficiency_is_loss_before_an_ideal_detector():
    efficiency = 0.7

    def state(x_shift, lossy=False):
        def prepare(q):
            ops.Squeezed(0.6) | q[0]
            ops.Xgate(x_shift[0]) | q[0]
            if lossy:
                ops.LossChannel(efficiency) | q[0]

        return gaussian_moments(1, prepare)

    detected = homodyne(state([0.2]), efficiency=efficiency)
    ideal_after_loss = homodyne(state([0.2], lossy=True))
    np.testing.assert_allclose(detected.means, ideal_after_loss.means, atol=1e-14)
    np.testing.assert_allclose(detected.cov, ideal_after_loss.cov, atol=1e-14)
    # PHYSICS.md §7.2 (rescaled outcome): Sigma = V_xx + (hbar/2)(1 - eta)/eta, same Fisher information.
    cfi = outcome_cfi(lambda t: homodyne(state(t), efficiency=efficiency), [0.2])[0, 0]
    x_variance = state([0.2]).cov[0, 0]
    assert cfi == pytest.approx(1 / (x_variance + HBAR / 2 * (1 - efficiency) / efficiency), rel=1e-6)


def test_qfi_diverges_at_the_purity_boundary_of_thermal_light():
    """N = 0 is the edge of the parameter range: F = 1/(N(N+1)) -> infinity (boundary case)."""
    vacuum = thermal([0.0])
    photon_number_derivative = thermal_covariance(np.eye(1)) - thermal_covariance(np.zeros((1, 1)))
    with pytest.warns(RuntimeWarning, match="purity"):
        qfi = quantum_fisher_information(vacuum.cov, [photon_number_derivative])
    assert qfi[0, 0] == np.inf
    small = 1e-6
    near_vacuum = quantum_fisher_information(thermal([small]).cov, [photon_number_derivative])
    assert near_vacuum[0, 0] == pytest.approx(1 / (small * (1 + small)), rel=1e-6)


def test_loss_qfi_of_squeezed_vacuum_diverges_at_unit_transmissivity():
    squeezed = gaussian_moments(1, lambda q: ops.Sgate(0.5) | q[0])
    transmissivity_derivative = squeezed.cov - np.eye(2)  # d/d eta of eta V + (1 - eta) I
    with pytest.warns(RuntimeWarning, match="purity"):
        at_one = quantum_fisher_information(squeezed.cov, [transmissivity_derivative])
    assert at_one[0, 0] == np.inf
    near_one = [quantum_fisher_information(loss(squeezed.cov, squeezed.means, 1 - d).cov,
                                           [transmissivity_derivative])[0, 0] for d in (1e-3, 1e-4)]
    assert near_one[1] == pytest.approx(10 * near_one[0], rel=0.02)  # grows like 1/(1 - eta)


def test_sld_value_returned_where_purity_changes_only_at_second_order():
    """Šafránek's discontinuity: V = (1 + theta^2) I is pure at theta = 0 with dV = 0.

    The function returns the SLD QFI there (0), while lim_{theta -> 0} F(theta) = 2
    (the Bures metric). Documented limitation.
    """
    assert quantum_fisher_information(np.eye(2), [np.zeros((2, 2))])[0, 0] == 0.0
    theta = 1e-3
    nearby = quantum_fisher_information((1 + theta**2) * np.eye(2), [2 * theta * np.eye(2)])[0, 0]
    assert nearby == pytest.approx(2.0, rel=1e-5)


def test_round_off_derivatives_on_pure_modes_give_no_spurious_infinity():
    """A parameter the state does not depend on, whose finite-difference derivative is pure
    round-off (~1e-16/STEP), must get ~0 information, not the boundary-case infinity; the
    squeezing of a vacuum mode ahead of strong fixed squeezers keeps QFI = 2."""

    def state(squeezing):
        def prepare(q):
            ops.Sgate(squeezing[0]) | q[1]  # on vacuum: QFI 2, then fixed unitaries
            ops.Sgate(2.0, 0.3) | q[0]
            ops.S2gate(1.5) | (q[0], q[1])

        return gaussian_moments(2, prepare)

    mean_derivative, cov_derivative = central_differences(state, [0.6])
    cov = state([0.6]).cov
    rng = np.random.default_rng(11)
    round_off = rng.normal(scale=1e-16 / STEP * np.abs(cov).max(), size=cov.shape)
    cov_derivatives = np.stack([round_off + round_off.T, cov_derivative[0]])
    mean_derivatives = np.stack([np.zeros(4), mean_derivative[0]])
    qfi = quantum_fisher_information(cov, cov_derivatives, mean_derivatives)
    pure = quantum_fisher_information_pure(cov, cov_derivatives, mean_derivatives)
    assert np.all(np.isfinite(qfi))
    assert abs(qfi[0, 0]) < 1e-10 and abs(qfi[0, 1]) < 1e-6
    assert qfi[1, 1] == pytest.approx(2.0, rel=1e-6)
    np.testing.assert_allclose(qfi, pure, atol=1e-6)


def test_unphysical_covariances_are_rejected():
    with pytest.raises(ValueError, match="uncertainty"):
        quantum_fisher_information(np.diag([0.5, 0.5]), [np.eye(2)])
    with pytest.raises(ValueError, match="pure"):
        quantum_fisher_information_pure(thermal([0.5]).cov, [np.eye(2)])
    with pytest.raises(ValueError, match="shape"):
        quantum_fisher_information(np.eye(2), np.eye(4))
