"""Two point sources on a 2-D image plane (circular Gaussian PSF): the scene, SPADE and the camera
against the 1-D closed forms (PHYSICS.md section 2: per photon, each separation component has QFI
1/(4 sigma^2)), against Strawberry Fields, and against an independent sampler."""

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf
from scipy.stats import poisson

from detectors import counting
from sensing.detectors.counting import DenseOutputs
from sensing.detectors.mode_sorting import crosstalk_unitary
from sensing.analyzers.fisher import detector_fisher_information, quantum_fisher_information
from sensing.cli import main
from sensing.contracts.states import HermiteGaussModes, HermiteGaussModes2D
from tests.helpers import make_detector, make_scene
from tests.test_counting_detectors import single_thermal_mode_p_value

SIGMA = 1.0
#: A camera of pitch sigma/10 over +-6 sigma per axis (14 400 pixels).
CAMERA_2D = dict(kind="camera", pixel_pitch=0.1, pixels=120)


def fisher_per_photon(detector, separation, eps=1e-4, **scene):
    s = make_scene(separation=separation, photons_per_copy=eps, psf_sigma=SIGMA, **scene)
    return detector_fisher_information(s, detector, ["separation"])[0, 0] / eps


# -- basis and state ---------------------------------------------------------------------------------
def test_two_dimensional_overlaps_are_products_and_capture_a_radial_poisson_weight():
    """c_(qx,qy)(X, Y) = c_qx(X) c_qy(Y); the weight kept by total order < N is P(Poisson((X^2+Y^2)/4s^2) < N)."""
    modes = HermiteGaussModes2D(per_axis=9, width=1.3)
    axis = HermiteGaussModes(9, 1.3)
    position = np.array([0.8, -1.1])
    amplitudes = modes.point_source_amplitudes(position)
    qx, qy = modes.orders
    assert modes.count == len(qx) == 45 and np.all(np.diff(qx + qy) >= 0)
    np.testing.assert_allclose(amplitudes, axis.point_source_amplitudes(0.8)[qx] * axis.point_source_amplitudes(-1.1)[qy], rtol=1e-14)
    captured = poisson.cdf(8, (position**2).sum() / (4 * 1.3**2))
    assert (amplitudes**2).sum() == pytest.approx(captured, rel=1e-13)


@pytest.mark.parametrize("orientation,centroid,brightness", [(0.0, 0.0, 0.5), (0.7, 0.3, 0.3), (-2.0, -0.2, 0.8)])
def test_strawberry_fields_state_equals_closed_form_in_2d(orientation, centroid, brightness):
    """SF (Thermal per source + PassiveChannel onto the product modes) builds Gamma = sum_s N_s c_s c_s^T."""
    scene = make_scene(separation=1.2, centroid=centroid, relative_brightness=brightness, photons_per_copy=0.02,
                       psf_sigma=1.5, dimensions=2, orientation=orientation, basis_modes=12)
    state = scene.state()
    assert state.modes == scene.modes and state.num_modes == 78
    np.testing.assert_allclose(state.photon_correlation(), scene.light().correlation, atol=1e-14)
    assert np.trace(state.photon_correlation()).real == pytest.approx(0.02, rel=1e-10)
    # the sources sit on the separation axis with their intensity centroid fixed: the second at centroid + (1-b) d
    direction = np.array([np.cos(orientation), np.sin(orientation)])
    expected = scene.modes.point_source_amplitudes((centroid + (1 - brightness) * 1.2) * direction)
    assert np.abs(scene.light().factor[:, 1]) == pytest.approx(np.sqrt(0.02 * brightness) * np.abs(expected), abs=1e-15)


@pytest.mark.parametrize("orientation", [0.0, 0.7, np.pi / 2])
def test_quantum_fisher_information_is_quarter_over_sigma_squared_at_every_orientation(orientation):
    """TNL 2016 in 2-D: the separation along any axis has QFI 1/(4 sigma^2) per photon (up to O(eps))."""
    eps, sigma = 1e-4, 2.0
    scene = make_scene(separation=0.5 * sigma, photons_per_copy=eps, psf_sigma=sigma, dimensions=2, orientation=orientation)
    qfi = quantum_fisher_information(scene, ["separation"])[0, 0]
    assert qfi / eps == pytest.approx(1 / (4 * sigma**2), rel=5 * eps + 1e-5)


def test_orientation_needs_two_dimensions():
    with pytest.raises(ValueError, match="dimensions"):
        make_scene(separation=1.0, photons_per_copy=0.01, orientation=0.3)


# -- SPADE ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("orientation", [0.0, 0.7])
def test_two_dimensional_spade_equals_one_dimensional_spade_of_the_same_orders(orientation):
    """Sorting every HG(qx, qy) of total order < 4 (10 modes) gives the 1-D information of HG0..HG3:
    within an order the photons split binomially (cos^2, sin^2 of the orientation) whatever the
    separation, so that split carries no information (finite differences: rel 1e-6)."""
    one_d = fisher_per_photon(make_detector(kind="spade", modes=4), 0.6, eps=1e-3)
    two_d = fisher_per_photon(make_detector(kind="spade", modes=10), 0.6, eps=1e-3, dimensions=2, orientation=orientation)
    assert two_d == pytest.approx(one_d, rel=1e-6)


@pytest.mark.parametrize("separation", [0.1, 0.5, 1.0])
def test_two_dimensional_spade_reaches_quantum_limit_rotated(separation):
    """Ideal 2-D SPADE of total order < 10 (55 modes), axis at 0.7 rad: 1/(4 sigma^2) within 2%."""
    spade = make_detector(kind="spade", modes=55)
    j = fisher_per_photon(spade, separation, eps=5e-3, dimensions=2, orientation=0.7)
    assert j == pytest.approx(1 / (4 * SIGMA**2), rel=0.02)


@pytest.mark.parametrize("orientation", [0.0, 1.1])
def test_two_dimensional_binary_spade_matches_closed_form(orientation):
    """HG00 versus the rest at d = 0.5 sigma: 0.248052 (PHYSICS.md 2.3) at any orientation (rel 3e-4)."""
    binary = make_detector(kind="spade", modes=1)
    assert fisher_per_photon(binary, 0.5, dimensions=2, orientation=orientation) == pytest.approx(0.248052, rel=3e-4)


def test_two_dimensional_crosstalk_couples_modes_one_order_apart():
    """HG00 leaks to HG10 and HG01 with probability c each (first order), not to HG11 or HG20."""
    modes = HermiteGaussModes2D(per_axis=4, width=1.0)
    pairs = modes.neighbour_pairs(6)
    assert modes.labels(6) == ["HG0_0", "HG0_1", "HG1_0", "HG0_2", "HG1_1", "HG2_0"]
    u = crosstalk_unitary(6, 0.01, pairs)
    np.testing.assert_allclose(u.conj().T @ u, np.eye(6), atol=1e-12)
    leak = np.abs(u[:, 0]) ** 2
    assert leak[1] == pytest.approx(0.01, rel=0.05) and leak[2] == pytest.approx(0.01, rel=0.05)
    assert leak[3:].max() < 1e-3


# -- camera -----------------------------------------------------------------------------------------------
def test_two_dimensional_camera_along_x_equals_one_dimensional_camera():
    """Orientation 0: the y profile is the same for both sources, so a 60 x 60 camera (3600 pixels,
    Fisher information through the low-rank Woodbury path) has the information of its 60-pixel row (rel 1e-6)."""
    pixels = dict(kind="camera", pixel_pitch=0.2, pixels=60)
    two_d = fisher_per_photon(make_detector(**pixels), 0.8, dimensions=2)
    assert two_d == pytest.approx(fisher_per_photon(make_detector(**pixels), 0.8), rel=1e-6)


@pytest.mark.parametrize("separation,ratio", [(0.5, 0.11153), (1.0, 0.34326), (2.0, 0.73391)])
@pytest.mark.parametrize("orientation", [0.0, 0.7])
def test_two_dimensional_camera_information_against_quantum_limit(separation, ratio, orientation):
    """J_direct / QFI at d/sigma = 0.5, 1, 2 (PHYSICS.md 2.3), separation axis at 0 or 0.7 rad.

    Pixels of sigma/10 lower J by 1.2e-3 .. 1.6e-3 relative (the same in 1-D, where pitch sigma/50
    is within 2e-3 of the table's continuum values): tolerance 2.5e-3.
    """
    j = fisher_per_photon(make_detector(**CAMERA_2D), separation, dimensions=2, orientation=orientation)
    assert j / 0.25 == pytest.approx(ratio, rel=2.5e-3)


def test_separable_pixels_equal_dense_region_integrals():
    """The separable contraction (never forming K x K matrices) against dense M_ij = Mx_i (x) My_j,
    for batched means, responses and threshold probabilities (rel 1e-10)."""
    scene = make_scene(separation=0.9, centroid=0.2, relative_brightness=0.3, photons_per_copy=0.4,
                       dimensions=2, orientation=0.5, basis_modes=10)
    camera = make_detector(kind="camera", pixel_pitch=0.7, pixels=4, pixel_type="threshold", efficiency=0.8)
    light = scene.light({"separation": np.array([0.3, 0.9, 1.7])})
    separable, labels = camera.operators(scene.modes)
    dense = DenseOutputs(separable.dense())
    np.testing.assert_allclose(separable.traces(light.factor), dense.traces(light.factor), rtol=1e-10, atol=1e-18)
    np.testing.assert_allclose(separable.responses(light.factor), dense.responses(light.factor), rtol=1e-10, atol=1e-18)
    fast = counting.ClassicalCountingModel(light.factor, separable, 0.8, 0.0, True, labels)
    slow = counting.ClassicalCountingModel(light.factor, dense, 0.8, 0.0, True, labels)
    np.testing.assert_allclose(fast.mean(), slow.mean(), rtol=1e-10)


def test_low_rank_fisher_information_equals_dense_covariance(monkeypatch):
    """The Woodbury evaluation used for many pixels equals dC^-1 d with the dense covariance (rel 1e-9)."""
    scene = make_scene(separation=0.7, centroid=0.2, relative_brightness=0.35, photons_per_copy=0.05)
    camera = make_detector(kind="camera", pixel_pitch=0.3, pixels=40, dark_counts=1e-4)
    monkeypatch.setattr(counting, "WOODBURY_OUTPUTS", 10**9)
    dense = detector_fisher_information(scene, camera, ["separation", "centroid"])
    monkeypatch.setattr(counting, "WOODBURY_OUTPUTS", 0)
    low_rank = detector_fisher_information(scene, camera, ["separation", "centroid"])
    np.testing.assert_allclose(low_rank, dense, rtol=1e-9, atol=1e-12 * np.abs(dense).max())


def test_large_camera_model_memory_stays_bounded():
    """A 100 x 100 camera on a 406-mode basis: building the model, batched means over a 241-point
    MLE grid, the per-pixel responses and the Fisher information allocate < 100 MB at peak
    (dense per-pixel K x K matrices would need 10^4 * 406^2 * 8 B = 13 GB)."""
    scene = make_scene(separation=0.5, photons_per_copy=1e-3, dimensions=2, orientation=0.3)
    camera = make_detector(kind="camera", pixel_pitch=0.12, pixels=100)
    grid = np.linspace(0.0, 4.0, 241)
    scene.state()  # import and warm up Strawberry Fields outside the measurement
    tracemalloc.start()
    try:
        model = camera.outcome_model(scene.light())
        batch_mean = camera.outcome_model(scene.light({"separation": grid})).mean()
        responses = model._responses()
        fisher = detector_fisher_information(scene, camera, ["separation"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    operators = model.outputs
    assert operators.x_matrices.nbytes + operators.y_matrices.nbytes < 2e6  # 2 x 100 x 28 x 28 doubles
    assert batch_mean.shape == (241, 10_000) and responses.shape == (10_000, 2, 2)
    assert fisher[0, 0] > 0
    assert peak < 100e6, peak / 1e6  # about 60 MB: SF covariances, the (241, 10^4) means, bounded chunks


def test_two_dimensional_camera_sampler_single_thermal_mode_bose_einstein_times_multinomial():
    """Zero separation, centroid 0.4 along 0.7 rad: one thermal mode centred at (X, Y). Total detected
    photons are Bose-Einstein and each lands in pixel (i, j) with probability
    p_i(X) p_j(Y) / sum (erf pixel integrals). Chi-square at a fixed seed (p > 1e-3)."""
    eps, eta, pitch, centroid, angle = 0.9, 0.75, 0.7, 0.4, 0.7
    scene = make_scene(separation=0.0, centroid=centroid, photons_per_copy=eps, dimensions=2, orientation=angle, basis_modes=16)
    camera = make_detector(kind="camera", pixel_pitch=pitch, pixels=2, efficiency=eta)
    edges = pitch * (np.arange(3) - 1.0)
    px = np.diff(0.5 * (1 + erf((edges - centroid * np.cos(angle)) / np.sqrt(2))))
    py = np.diff(0.5 * (1 + erf((edges - centroid * np.sin(angle)) / np.sqrt(2))))
    p = np.outer(px, py).ravel()  # pixel (i, j) is output i * 2 + j
    model = camera.outcome_model(scene.state())
    assert single_thermal_mode_p_value(model, eta * eps * p.sum(), p / p.sum(), np.random.default_rng(31)) > 1e-3


def test_two_dimensional_camera_refuses_too_many_pixels():
    scene = make_scene(separation=0.5, photons_per_copy=1e-3, dimensions=2, basis_modes=8)
    with pytest.raises(ValueError, match="pixels"):
        make_detector(kind="camera", pixel_pitch=0.01, pixels=1000).operators(scene.modes)
    with pytest.raises(ValueError, match="threshold"):
        make_detector(kind="camera", pixel_pitch=0.1, pixels=50, pixel_type="threshold").operators(scene.modes)


def test_shipped_two_dimensional_config_validates():
    assert main(["validate", str(Path(__file__).resolve().parents[1] / "configs" / "superresolution_2d.yaml")]) == 0
