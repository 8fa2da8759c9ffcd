"""Telescope arrays (issue 11): the array scene, the four schemes and the interferometry analysis.

Oracles: PHYSICS.md §3.2-3.4 closed forms, the exact Gaussian QFI, Strawberry Fields (Gaussian
and Fock backends) and thewalrus photon-number probabilities, and a van Cittert-Zernike
quadrature written here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats

from sensing.contracts.states import ApertureLight, FockState, GaussianState
from sensing.physics.gaussian import thermal_covariance
from sensing.physics.interferometry import (
    binary_visibility,
    direct_fisher_information_leading_order,
    exact_quantum_fisher_information,
    fiber_transmission,
    quantum_fisher_information_leading_order,
    uniform_disk_visibility,
)
from sensing.scenes.array import composite_visibility
from sensing.testing import build_detector, build_scene

BINARY = dict(kind="array", model="binary", baseline="40 m", wavelength="1550 nm", bandwidth="10 nm",
              separation="3 mas", position_angle="70 deg", flux_ratio=0.4)


def light_of(nbar, g, baseline_m=100.0, wavelength=1.55e-6):
    """Two apertures with a chosen visibility (tracked reference at the true phase)."""
    n = nbar * np.array([[1.0, g], [np.conj(g), 1.0]])
    return ApertureLight(n, np.array([[0.0, 0.0], [baseline_m, 0.0]]), wavelength,
                         np.angle(np.array([[1.0, g], [np.conj(g), 1.0]])))


def fisher(detector, light):
    model = detector.outcome_model(light)
    return model.visibility_fisher() / model.temporal_modes_per_copy, model


# -- scene ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    BINARY | {"photons_per_copy": 0.3},
    dict(kind="array", model="uniform_disk", apertures=[["0 m", "0 m"], ["30 m", "0 m"], ["10 m", "25 m"]],
         wavelength="800 nm", diameter="4 mas", position_east="1 mas", photons_per_copy=0.05),
    dict(kind="array", baseline="1 km", wavelength="550 nm", magnitude=3.0, band="V", position_north="0.01 mas"),
])
def test_array_state_closed_form_equals_strawberry_fields(settings):
    scene = build_scene(**settings)
    sf_state = scene.prepare(GaussianState)
    np.testing.assert_allclose(sf_state.cov, scene.covariance(), atol=1e-12)
    light = scene.prepare(ApertureLight)
    np.testing.assert_allclose(light.correlation, sf_state.photon_correlation(), atol=1e-12)
    assert sf_state.classical


def test_fock_state_single_photon_block_is_physics_3_2():
    """rho's one-photon block is (eps/2)[[1, g], [g*, 1]] in the |10>, |01> basis to O(eps^2)."""
    scene = build_scene(**BINARY, photons_per_copy=1e-4)
    g = scene.visibility()[0][0, 1]
    rho = scene.prepare(FockState).density_matrix  # (m0, n0, m1, n1)
    nbar = 1e-4
    np.testing.assert_allclose(rho[1, 1, 0, 0], nbar, rtol=5 * nbar)  # O(eps^2) corrections: relative 3.3 nbar
    np.testing.assert_allclose(rho[0, 0, 1, 1], nbar, rtol=5 * nbar)  # O(eps^2) corrections: relative 3.3 nbar
    # <10|rho|01> = rho[1,0,0,1] = <a0^dag a1>-like coherence: N_01 = nbar g  (so <01|rho|10> = nbar g)
    np.testing.assert_allclose(rho[0, 1, 1, 0], nbar * g, rtol=5 * nbar)  # O(eps^2) corrections: relative 3.3 nbar


def test_photons_from_magnitude_physics_10_2():
    """V = 0 in a 1 m aperture: ~1000 photons s^-1 cm^-2 A^-1 -> photons per mode ~ 7.9e-5 (PHYSICS 10.2)."""
    scene = build_scene(kind="array", baseline="100 m", wavelength="545 nm", bandwidth="10 nm", magnitude=0.0,
                        band="V", aperture_diameter="1 m")
    rate = scene.photons_per_aperture * scene.copies_per_second()
    assert 6.5e8 < rate < 9.5e8
    assert 6.5e-5 < scene.photons_per_aperture < 9.5e-5
    np.testing.assert_allclose(scene.copies_per_second(), 299_792_458.0 * 1e-8 / 545e-9**2)
    assert build_scene(kind="array", baseline="1 m", wavelength="1 um", photons_per_copy=0.1).copies_per_second() is None


def test_composite_visibility_reduces_to_physics_sources_and_derivatives_match_differences():
    b = np.array([[35.0, 12.0], [900.0, -300.0]])
    lam = 1.2e-6
    zero = dict(position_east=0.0, position_north=0.0, diameter=0.0, separation=0.0, position_angle=0.0, flux_ratio=0.0)
    binary = zero | dict(separation=2e-9, position_angle=0.4, flux_ratio=0.3)
    g, _ = composite_visibility(b, lam, binary)
    np.testing.assert_allclose(g, binary_visibility(b, lam, 2e-9, 0.4, 0.3).visibility, rtol=1e-13)
    disk = zero | dict(diameter=3e-9)
    np.testing.assert_allclose(composite_visibility(b, lam, disk)[0], uniform_disk_visibility(b, lam, 3e-9).visibility)
    full = dict(position_east=1e-10, position_north=-2e-10, diameter=1e-9, separation=2e-9, position_angle=0.4, flux_ratio=0.3)
    g, dg = composite_visibility(b, lam, full)
    for name, value in full.items():
        h = 1e-6 * (abs(value) or 1e-9)
        plus = composite_visibility(b, lam, full | {name: value + h})[0]
        minus = composite_visibility(b, lam, full | {name: value - h})[0]
        np.testing.assert_allclose(dg[name], (plus - minus) / (2 * h), rtol=1e-6, atol=1e-9 * np.abs(dg[name]).max(), err_msg=name)


def test_uniform_disk_visibility_is_van_cittert_zernike_quadrature():
    """g(B) = int_disk exp(2 pi i B theta / lambda) / area: a 1-D quadrature over the chord lengths."""
    radius, lam = 0.5 * 2e-8, 1e-6
    for length in (3.0, 40.0, 61.0, 120.0):
        k = 2 * np.pi * length / lam
        integral, _ = scipy.integrate.quad(lambda t: 2 * np.sqrt(radius**2 - t**2) * np.cos(k * t), -radius, radius,
                                           limit=400, epsabs=1e-30)
        expected = integral / (np.pi * radius**2)
        scene = build_scene(kind="array", model="uniform_disk", baseline=length, wavelength=lam, diameter=2 * radius,
                            photons_per_copy=0.01)
        np.testing.assert_allclose(scene.visibility()[0][0, 1].real, expected, atol=1e-9)


# -- weak-source closed forms (within 2%) --------------------------------------------------------------
EPS = 1e-4


@pytest.mark.parametrize("settings", [
    dict(kind="direct", loss_db_per_km=2.0, efficiency=0.8),
    dict(kind="memory_array", memory_efficiency=0.6, pair_fidelity=0.97, storage_time="1 ms", memory_coherence_time="20 ms"),
    dict(kind="entanglement_assisted", resource_efficiency=0.7, resource_fidelity=0.9),
    dict(kind="entanglement_assisted", postselect_coincidences=False),
    dict(kind="intensity", efficiency=0.9),
    dict(kind="intensity", modes_per_bin=7),
])
def test_weak_source_fisher_matches_closed_form(settings):
    scene = build_scene(**BINARY, photons_per_copy=EPS / 2)
    detector = build_detector(**settings)
    f, model = fisher(detector, scene.prepare(ApertureLight))
    closed = model.closed_form_fisher()
    live = np.diag(closed) > 0
    np.testing.assert_allclose(np.diag(f)[live], np.diag(closed)[live], rtol=0.02)
    assert np.all(np.diag(f)[~live] == 0)


def test_intensity_scales_as_photons_squared_and_the_others_linearly():
    ratios = {}
    for kind in ("intensity", "direct", "entanglement_assisted", "memory_array"):
        values = []
        for nbar in (5e-5, 1e-4):
            scene = build_scene(**BINARY, photons_per_copy=nbar)
            values.append(fisher(build_detector(kind=kind), scene.prepare(ApertureLight))[0][0, 0])
        ratios[kind] = values[1] / values[0]
    np.testing.assert_allclose(ratios["intensity"], 4.0, rtol=1e-3)
    for kind in ("direct", "entanglement_assisted", "memory_array"):
        np.testing.assert_allclose(ratios[kind], 2.0, rtol=1e-3, err_msg=kind)


def test_gjc_is_half_of_lossless_direct_when_all_outcomes_are_kept():
    """PHYSICS 3.3 checkpoint: eps = 0.01, |g| = 0.5, phi - delta = pi/2 -> 0.4958 (all outcomes);
    the ratio tends to 1/2 as eps -> 0. Coincidence post-selection discards two-photon patterns: 0.4901."""
    g = 0.5 * np.exp(0.3j)
    light = light_of(0.005, g)
    settings = dict(delays=[-np.pi / 2], delay_reference="tracked")
    direct, _ = fisher(build_detector(kind="direct", loss_db_per_km=0.0, cutoff=8, **settings), light)
    kept, _ = fisher(build_detector(kind="entanglement_assisted", postselect_coincidences=False, star_cutoff=4, **settings), light)
    post, _ = fisher(build_detector(kind="entanglement_assisted", postselect_coincidences=True, star_cutoff=4, **settings), light)
    np.testing.assert_allclose(kept[1, 1] / direct[1, 1], 0.4958, atol=2e-4)
    np.testing.assert_allclose(post[1, 1] / direct[1, 1], 0.4901, atol=2e-4)
    np.testing.assert_allclose(direct[1, 1], 2.4907e-3, rtol=2e-4)  # = exact QFI_phi (attained)
    weak = light_of(5e-6, g)
    d, _ = fisher(build_detector(kind="direct", loss_db_per_km=0.0, **settings), weak)
    k, _ = fisher(build_detector(kind="entanglement_assisted", postselect_coincidences=False, **settings), weak)
    np.testing.assert_allclose(k[1, 1] / d[1, 1], 0.5, atol=1e-4)


def test_direct_falls_with_link_transmission_while_quantum_network_schemes_do_not():
    g = 0.6 * np.exp(-0.4j)
    kinds = dict(direct={"kind": "direct"}, gjc={"kind": "entanglement_assisted"},
                 kbdl={"kind": "memory_array", "memory_efficiency": 0.5})
    info = {k: [] for k in kinds}
    baselines = (2e3, 60e3, 200e3)
    for b in baselines:
        light = light_of(1e-5, g, baseline_m=b)
        for name, settings in kinds.items():
            info[name].append(fisher(build_detector(**settings), light)[0][1, 1])
    for name in ("gjc", "kbdl"):
        np.testing.assert_allclose(info[name], info[name][0], rtol=1e-12)
    eta = fiber_transmission(np.array(baselines) / 2e3, 0.2)
    np.testing.assert_allclose(np.array(info["direct"]) / info["direct"][0], eta / eta[0], rtol=1e-3)


def test_quantum_fisher_information_exact_and_leading_order():
    """The analysis's QFI is the exact Gaussian QFI (physics) and tends to PHYSICS 3.3 as eps -> 0."""
    from sensing.analyzers.interferometry import Interferometry, InterferometrySettings

    analysis = Interferometry(InterferometrySettings())
    for nbar in (5e-2, 5e-4, 5e-6):
        scene = build_scene(**BINARY, photons_per_copy=nbar)
        g = scene.visibility()[0][0, 1]
        result = analysis.analyze_scene(scene)
        np.testing.assert_allclose(result["qfi"], exact_quantum_fisher_information(2 * nbar, g), rtol=1e-9, atol=1e-15)
        leading = quantum_fisher_information_leading_order(2 * nbar, g)
        np.testing.assert_allclose(np.diag(result["qfi"]), np.diag(leading), rtol=3 * (2 * nbar) + 1e-6)
    # PHYSICS 3.3 table row eps = 1e-2, |g| = 0.5 (phi = 0.3): 1.32836 and 0.24907 per eps
    np.testing.assert_allclose(np.diag(exact_quantum_fisher_information(1e-2, 0.5 * np.exp(0.3j))) / 1e-2,
                               [1.32836, 0.24907], atol=5e-6)  # the table's rounding


def test_no_scheme_beats_the_quantum_limit():
    scene = build_scene(**BINARY, photons_per_copy=0.05)
    from sensing.analyzers.interferometry import Interferometry, InterferometrySettings

    qfi = Interferometry(InterferometrySettings()).analyze_scene(scene)["qfi"]
    for kind in ("intensity", "direct", "entanglement_assisted", "memory_array"):
        f, _ = fisher(build_detector(kind=kind, loss_db_per_km=0.0) if kind == "direct" else build_detector(kind=kind),
                      scene.prepare(ApertureLight))
        assert np.all(np.diag(f) <= np.diag(qfi) * (1 + 1e-9)), kind


def test_uniform_disk_diameter_fisher_follows_2j1_model():
    """F_D = J^T F J with dg/dD = -2 J2(x)/x * pi B / lambda; at weak light and delay = phase (psi = 0)
    direct detection gives eta eps (dg/dD)^2 / (1 - g^2) (PHYSICS 3.3 with the 2J1(x)/x model), and the
    chain rule agrees with finite differences of the exact pattern probabilities in the diameter."""
    from sensing.analyzers.interferometry import Interferometry, InterferometrySettings

    nbar, length, lam, diameter = 1e-4, 50.0, 1e-6, 4e-9
    scene = build_scene(kind="array", model="uniform_disk", baseline=length, wavelength=lam, diameter=diameter,
                        photons_per_copy=nbar)
    x = np.pi * diameter * length / lam
    g = 2 * scipy.special.j1(x) / x
    np.testing.assert_allclose(scene.visibility()[0][0, 1], g, rtol=1e-12)
    slope = -2 * scipy.special.jv(2, x) / x * np.pi * length / lam
    detector = build_detector(kind="direct", loss_db_per_km=0.0, delays=[0.0])
    light = scene.prepare(ApertureLight)
    analysis = Interferometry(InterferometrySettings())
    scene_result = analysis.analyze_scene(scene)
    result = analysis.analyze_detector(scene, detector, {"copies": np.zeros((0, 1))})
    closed = 2 * nbar * slope**2 / (1 - g**2)
    np.testing.assert_allclose(result["source"][0], closed, rtol=0.02)
    h = 1e-4 * diameter
    model = detector.outcome_model(light)
    plus = detector.outcome_model(scene.prepare(ApertureLight, {"diameter": diameter + h})).pattern_probabilities
    minus = detector.outcome_model(scene.prepare(ApertureLight, {"diameter": diameter - h})).pattern_probabilities
    dp = (plus - minus) / (2 * h)
    p = model.pattern_probabilities
    np.testing.assert_allclose(result["source"][0], np.sum(dp[p > 0] ** 2 / p[p > 0]), rtol=1e-5)
    assert np.isfinite(scene_result["qfi_source"][0]) and scene_result["qfi_source"][0] >= result["source"][0]


# -- entanglement ------------------------------------------------------------------------------------
def test_kbdl_spends_log_ebits_and_gjc_inverse_eps_per_detected_photon():
    """Over four decades of photons per mode: GJC x eps = 1 (O(1/eps)); KBDL / log2(1/eps) stays within 5%."""
    eps_values = np.array([1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
    gjc, kbdl = [], []
    for eps in eps_values:
        light = light_of(eps / 2, 0.5)
        gjc.append(build_detector(kind="entanglement_assisted", delays=[0.0]).outcome_model(light).ebits_per_detected_photon)
        kbdl.append(build_detector(kind="memory_array").outcome_model(light).ebits_per_detected_photon)
    np.testing.assert_allclose(np.array(gjc) * eps_values, 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.array(kbdl) / np.log2(1 / eps_values), 1.0, rtol=0.05)
    assert kbdl[-1] / kbdl[0] < 3.5 and gjc[-1] / gjc[0] == pytest.approx(1e4)
    for kind in ("direct", "intensity"):
        assert build_detector(kind=kind).outcome_model(light_of(1e-3, 0.5)).ebits_per_copy == 0.0


# -- samplers against Strawberry Fields / thewalrus ---------------------------------------------------------
#: Chi-square tolerance: the statistic must stay below the 1 - 1e-4 quantile (a correct sampler fails 1e-4 of seeds).
ALPHA = 1e-4


def _chi_square(counts, expected):
    keep = expected >= 5
    observed = np.append(counts[keep], counts[~keep].sum())
    predicted = np.append(expected[keep], expected[~keep].sum())
    if predicted[-1] < 5:
        observed, predicted = observed[:-1], predicted[:-1]
        observed[-1] += counts[~keep].sum()
        predicted[-1] += expected[~keep].sum()
    statistic = np.sum((observed - predicted) ** 2 / predicted)
    return statistic, scipy.stats.chi2.ppf(1 - ALPHA, len(observed) - 1)


def _sf_combiner_probabilities(n, transfer, cutoff):
    """SF Gaussian backend: the thermal pair, then the passive combiner; fock_prob of every pattern."""
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    values, vectors = np.linalg.eigh(n)
    prog = sf.Program(2)
    with prog.context as q:
        for k in range(2):
            sf.ops.Thermal(float(max(values[k], 0.0))) | q[k]
        sf.ops.Interferometer(vectors.conj()) | q
        sf.ops.PassiveChannel(transfer) | q
    state = sf.Engine("gaussian").run(prog).state
    return np.array([[state.fock_prob([a, b], cutoff=30) for b in range(cutoff)] for a in range(cutoff)])


@pytest.mark.parametrize("kind,settings", [
    ("direct", dict(loss_db_per_km=3.0, efficiency=0.9, delays=[0.7])),
    ("memory_array", dict(memory_efficiency=0.8, pair_fidelity=0.85, delays=[0.2])),
    ("intensity", dict(efficiency=0.7)),
])
def test_thermal_sampler_agrees_with_strawberry_fields(kind, settings):
    scene = build_scene(**BINARY, photons_per_copy=0.4)
    light = scene.prepare(ApertureLight)
    detector = build_detector(kind=kind, cutoff=8, **settings)
    model = detector.outcome_model(light)
    transfer = detector.transfers(light)[0]
    sf_table = _sf_combiner_probabilities(np.asarray(light.correlation), transfer, 8)
    if kind == "memory_array":
        swap = detector.swap_probability()
        sf_table = (1 - swap) * sf_table + swap * sf_table.T
    copies = 100_000
    rows = model.sample(np.random.default_rng(11), copies)
    counts = np.bincount(model.pattern_index(rows), minlength=model.pattern_count)
    expected_box = np.append(sf_table.reshape(-1)[1:], 1 - sf_table.sum())
    expected = np.concatenate([[sf_table[0, 0]], expected_box]) * copies
    statistic, limit = _chi_square(counts.astype(float), expected)
    assert statistic < limit, (statistic, limit)
    np.testing.assert_allclose(model.pattern_probabilities[1:-1], sf_table.reshape(-1)[1:], rtol=1e-9, atol=1e-15)


# -- estimator ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["direct", "memory_array", "entanglement_assisted"])
def test_fringe_estimator_is_unbiased_and_does_not_beat_the_bound(kind):
    g = 0.55 * np.exp(0.8j)
    light = light_of(1e-3, g)
    detector = build_detector(kind=kind)
    model = detector.outcome_model(light)
    rng = np.random.default_rng(21)
    reps, copies = 400, 10**8
    stats = [model.sample_statistics(rng, copies) for _ in range(reps)]
    stats = {k: np.stack([s[k] for s in stats]) for k in stats[0]}
    est = model.estimate_visibility(stats)
    crb = np.diag(np.linalg.inv(model.visibility_fisher())) / copies
    truth = np.array([abs(g), np.angle(g)])
    error = est - truth
    se = error.std(axis=0) / np.sqrt(reps)
    assert np.all(np.abs(error.mean(axis=0)) < 4.5 * se), (error.mean(axis=0), se)
    mse = (error**2).mean(axis=0)
    # 4.5 standard errors of a variance from 400 draws: sqrt(2/400) * 4.5 = 0.32
    assert np.all(mse > crb * (1 - 0.32)), (mse, crb)
    assert np.all(mse < 2.0 * crb), (mse, crb)


# -- units and the study -------------------------------------------------------------------------------------
def test_bad_units_are_config_errors_naming_the_field():
    from sensing.study.config import ConfigError, load_config

    config = {"seed": 1, "copies": [100], "source": {**BINARY, "photons_per_copy": 0.1, "baseline": "1.2 mas"},
              "detectors": [{"kind": "direct", "name": "d"}]}
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "source" in str(err.value) and "baseline" in str(err.value) and "length" in str(err.value)
    config["source"]["baseline"] = "10 km"
    config["detectors"][0]["delays"] = ["3 m"]
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert "delays" in str(err.value) and "angle" in str(err.value)


def test_study_runs_with_units_and_shows_the_crossover(tmp_path):
    from sensing.api import run
    from sensing.analyzers.interferometry import Interferometry, InterferometrySettings

    config = {
        "seed": 3, "copies": [10**9, 10**10], "repetitions": 4, "pipeline": {"batch_size": 10**10},
        "source": {**BINARY, "magnitude": 1.0, "band": "H", "throughput": 0.3, "separation": "1.5 mas",
                   "position_angle": "90 deg", "flux_ratio": 0.15},
        "sweep": {"source.baseline": ["1 km", "100 km", "300 km"]},
        "detectors": [{"kind": "direct", "name": "direct"}, {"kind": "memory_array", "name": "kbdl", "pair_rate": "1 MHz", "memory_efficiency": 0.5},
                      {"kind": "intensity", "name": "hbt", "timing_jitter": "20 ps"}],
        "analysis": {"kind": "interferometry"},
    }
    ds = run(config, scheduler="synchronous")
    assert ds["baseline_length"].attrs["units"] == "m"
    np.testing.assert_allclose(ds["baseline_length"].values, [1e3, 1e5, 3e5])
    assert ds["observing_time_visibility"].attrs["units"] == "s"
    phase = ds["fisher_visibility"].sel(visibility_parameter="phase")
    assert phase.sel(detector="direct").values[0] > phase.sel(detector="kbdl").values[0]
    assert phase.sel(detector="direct").values[-1] < phase.sel(detector="kbdl").values[-1]
    assert np.all(phase.sel(detector="hbt").values == 0)
    rate = ds["scheme_copies_per_second"].sel(detector="kbdl").values
    ebits = ds["ebits_per_copy"].sel(detector="kbdl").values
    np.testing.assert_allclose(rate, np.minimum(1e6 / ebits, ds["copies_per_second"].values))
    np.testing.assert_allclose(ds["observing_time_visibility"], ds["copies_to_precision_visibility"] / ds["scheme_copies_per_second"])
    analysis = Interferometry(InterferometrySettings())
    text = analysis.summary(ds)
    assert "kbdl overtakes direct" in text
    files = analysis.plots(ds, tmp_path)
    assert {f.name for f in files} == {"information_vs_baseline.png", "observing_time_vs_baseline.png", "ebits_per_photon.png"}


def test_gjc_amplitude_derivative_near_a_point_source():
    """Within two steps of |g| = 1 the GJC table uses a backward difference (|g| > 1 is no state):
    it agrees with a central difference of a smaller step, and a point star (|g| = 1) runs, with
    half the lossless-direct phase information at weak light."""
    from sensing.physics.interferometry import gjc_outcome_probabilities

    g = (1 - 1e-3) * np.exp(0.4j)
    backward = gjc_outcome_probabilities(0.01, g, 0.1, step=1e-3).derivatives
    central = gjc_outcome_probabilities(0.01, g, 0.1, step=1e-4).derivatives
    np.testing.assert_allclose(backward, central, atol=1e-9 * np.abs(central).max())
    scene = build_scene(kind="array", baseline="2 km", wavelength="800 nm", photons_per_copy=5e-6, position_east="0.01 mas")
    assert abs(scene.visibility()[0][0, 1]) == pytest.approx(1.0)
    light = scene.prepare(ApertureLight)
    gjc, _ = fisher(build_detector(kind="entanglement_assisted", postselect_coincidences=False), light)
    direct, _ = fisher(build_detector(kind="direct", loss_db_per_km=0.0), light)
    np.testing.assert_allclose(gjc[1, 1] / direct[1, 1], 0.5, atol=1e-4)


def test_intensity_time_bin_sampler_agrees_with_strawberry_fields():
    """A time bin of K = 3 modes: the Wishart P-function sampler against the three-fold convolution
    of SF's one-mode photon-number table (chi-square at the ALPHA quantile)."""
    import scipy.signal

    scene = build_scene(**BINARY, photons_per_copy=0.15)
    light = scene.prepare(ApertureLight)
    detector = build_detector(kind="intensity", modes_per_bin=3, efficiency=0.8, cutoff=10)
    model = detector.outcome_model(light)
    one = _sf_combiner_probabilities(np.asarray(light.correlation), detector.transfers(light)[0], 10)
    table = one
    for _ in range(2):
        table = scipy.signal.convolve(table, one, method="direct")[:10, :10]
    copies = 100_000
    counts = np.bincount(model.pattern_index(model.sample(np.random.default_rng(13), copies)), minlength=model.pattern_count)
    expected = np.concatenate([[table[0, 0]], table.reshape(-1)[1:], [1 - table.sum()]]) * copies
    statistic, limit = _chi_square(counts.astype(float), expected)
    assert statistic < limit, (statistic, limit)
    np.testing.assert_allclose(model.pattern_probabilities[1:-1], table.reshape(-1)[1:], rtol=1e-9, atol=1e-15)
