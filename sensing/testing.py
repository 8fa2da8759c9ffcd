"""Check suites for plugins, shipped with the package (scikit-learn's ``check_estimator`` idea).

Every registered scene, detector and analysis is checked by the project's test suite with
these functions, and a third party can run them on its own plugins::

    from sensing.testing import check_detector
    check_detector(MyDetector)          # raises AssertionError naming the broken promise

Each ``check_*`` runs all checks of one contract; the individual ``check_detector_*``
functions are public too, so a test suite can parametrize over them. Statistical checks use
fixed seeds and tolerances of 4.5 standard errors, so a correct plugin fails with
probability below 1e-5 per check.
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from sensing.contracts.detector import add_statistics
from sensing.study.registry import DETECTORS, SCENES

#: Copies drawn by the sampler checks.
COPIES = 20_000
#: Tolerance of the statistical checks, in standard errors.
Z = 4.5


# -- builders ----------------------------------------------------------------------------------
def build_scene(seed: int = 0, **settings):
    """A registered scene from its config fields (``kind`` defaults to ``two_point``) and a root seed."""
    settings.setdefault("kind", "two_point")
    cls = SCENES[settings["kind"]]
    return cls(cls.Settings(**settings), seed=seed)


def build_detector(**settings):
    """A registered detector from its config fields (``name`` defaults to ``kind``)."""
    cls = DETECTORS[settings["kind"]]
    settings.setdefault("name", settings["kind"])
    return cls(cls.Settings(**settings))


def detector_case(detector_cls, case: int = 0):
    """``(scene, detector, outcome model)`` of one of the detector's :meth:`examples`."""
    scene_settings, detector_settings = detector_cls.examples()[case]
    scene = build_scene(**scene_settings)
    detector = detector_cls(detector_cls.Settings(**{"name": detector_cls.kind, **detector_settings}))
    return scene, detector, detector.outcome_model(scene.prepare(detector.accepts))


# -- detector checks -----------------------------------------------------------------------------
def check_detector_sampler_agrees_with_model(detector_cls, case: int = 0) -> None:
    """Per-copy samples: means within Z standard errors of the model's mean (from its own
    covariance), and the variance of the summed outputs against the model's covariance (its
    standard error from the sample's fourth moment: thermal light has heavy tails)."""
    _, _, model = detector_case(detector_cls, case)
    outcomes = np.asarray(model.sample(np.random.default_rng(1), COPIES), dtype=float)
    assert outcomes.shape == (COPIES, len(model.labels)), f"sample() shape {outcomes.shape}"
    mean = np.asarray(model.mean(), dtype=float)
    cov = np.asarray(model.covariance(), dtype=float)
    standard_error = np.sqrt(np.clip(np.diag(cov), 0, None) / COPIES)
    deviation = np.abs(outcomes.mean(axis=0) - mean)
    assert np.all(deviation <= Z * standard_error + 1e-12), \
        f"{detector_cls.__name__}: sample means off the model by {(deviation / np.maximum(standard_error, 1e-300)).max():.2f} s.e."
    total = outcomes.sum(axis=1)
    squared = (total - total.mean()) ** 2
    assert abs(squared.mean() - cov.sum()) <= Z * squared.std() / np.sqrt(COPIES), \
        f"{detector_cls.__name__}: variance of the summed outputs {squared.mean():.6g} vs model {cov.sum():.6g}"


def check_detector_statistics_add_up(detector_cls, case: int = 0) -> None:
    """``reduce`` of two batches added equals ``reduce`` of their union."""
    _, _, model = detector_case(detector_cls, case)
    outcomes = model.sample(np.random.default_rng(2), 3000)
    whole = model.reduce(outcomes)
    parts = add_statistics(model.reduce(outcomes[:1234]), model.reduce(outcomes[1234:]))
    assert whole.keys() == parts.keys(), f"reduce() entries differ: {sorted(whole)} vs {sorted(parts)}"
    for key in whole:
        np.testing.assert_allclose(parts[key], whole[key], rtol=1e-12, atol=1e-9, err_msg=key)


def check_detector_same_seed_same_numbers(detector_cls, case: int = 0) -> None:
    """The same generator state gives identical statistics; another seed gives others."""
    _, _, model = detector_case(detector_cls, case)
    a = model.sample_statistics(np.random.default_rng(3), 5000)
    b = model.sample_statistics(np.random.default_rng(3), 5000)
    c = model.sample_statistics(np.random.default_rng(4), 5000)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert any(not np.array_equal(a[k], c[k]) for k in a if k != "copies"), "a different seed gave the same numbers"


def check_detector_sufficient_statistics_match_per_copy(detector_cls, case: int = 0) -> None:
    """``sample_statistics`` (possibly an exact shortcut) and ``reduce(sample())`` agree in
    distribution: each entry's mean over repeated batches, two-sample z-test at Z s.e."""
    _, _, model = detector_case(detector_cls, case)
    rng = np.random.default_rng(5)
    copies, repeats = 300, 400
    fast = [model.sample_statistics(rng, copies) for _ in range(repeats)]
    slow = [model.reduce(model.sample(rng, copies)) for _ in range(repeats)]
    for key in fast[0]:
        a = np.array([np.asarray(d[key], dtype=float).ravel() for d in fast])
        b = np.array([np.asarray(d[key], dtype=float).ravel() for d in slow])
        se = np.sqrt(a.var(axis=0) / repeats + b.var(axis=0) / repeats)
        diff = np.abs(a.mean(axis=0) - b.mean(axis=0))
        assert np.all(diff[se > 0] < Z * se[se > 0]), (key, (diff / np.where(se > 0, se, 1)).max())
        assert np.all(diff[se == 0] == 0), key


def check_detector_likelihood_and_fisher(detector_cls, case: int = 0) -> None:
    """For models with a likelihood: the log-likelihood of sampled statistics is finite and
    largest near the truth on a batch of parameter points, and the Fisher contribution is a
    symmetric positive semidefinite matrix."""
    scene, detector, model = detector_case(detector_cls, case)
    if "likelihood" not in detector_cls.capabilities:
        return
    stats = model.sample_statistics(np.random.default_rng(6), 200_000)
    stats = {k: np.asarray(v)[None] for k, v in stats.items()}
    name = scene.parameter_names[0]
    p = scene.parameters[name]
    grid = p.value + p.step * 50 * np.array([-1.0, 0.0, 1.0])
    grid = np.clip(grid, *p.bounds)
    batch = detector.outcome_model(scene.prepare(detector.accepts, {name: grid}))
    ll = np.asarray(batch.log_likelihood(stats))
    assert ll.shape == (3, 1) and np.all(np.isfinite(ll)), f"log_likelihood shape {ll.shape} or non-finite"
    plus = detector.outcome_model(scene.prepare(detector.accepts, {name: p.value + p.step})).mean()
    minus = detector.outcome_model(scene.prepare(detector.accepts, {name: p.value - p.step})).mean()
    fisher = model.fisher_contribution(((plus - minus) / (2 * p.step))[None], None)
    assert fisher.shape == (1, 1) and np.all(np.isfinite(fisher)) and fisher[0, 0] >= -1e-12, fisher


def check_detector_bad_parameters_raise(detector_cls) -> None:
    """Out-of-range and unknown fields are validation errors naming the field."""
    _, detector_settings = detector_cls.example()
    settings = detector_cls.Settings
    for bad, field in (({"efficiency": 1.5}, "efficiency"), ({"no_such_field": 1}, "no_such_field")):
        try:
            settings(**{**detector_settings, **bad})
        except ValidationError as err:
            assert field in str(err), f"the error does not name {field!r}: {err}"
        else:
            raise AssertionError(f"{detector_cls.__name__}.Settings accepted {bad}")


def check_detector_declarations(detector_cls) -> None:
    """``kind``, ``Settings.kind``, ``accepts`` and an example scene that provides it."""
    assert isinstance(getattr(detector_cls, "kind", None), str), "kind must be declared on the class"
    scene_settings, detector_settings = detector_cls.example()
    assert detector_settings["kind"] == detector_cls.kind
    assert scene_settings["kind"] in SCENES, f"example scene kind {scene_settings['kind']!r} is not registered"
    scene_cls = SCENES[scene_settings["kind"]]
    assert detector_cls.accepts in scene_cls.provides, \
        f"{detector_cls.__name__} accepts {detector_cls.accepts.__name__}; its example scene provides {sorted(t.__name__ for t in scene_cls.provides)}"


DETECTOR_CHECKS = (
    check_detector_sampler_agrees_with_model,
    check_detector_statistics_add_up,
    check_detector_same_seed_same_numbers,
    check_detector_sufficient_statistics_match_per_copy,
    check_detector_likelihood_and_fisher,
)


def check_detector(detector_cls) -> None:
    """Run every detector check on every example of ``detector_cls``."""
    check_detector_declarations(detector_cls)
    check_detector_bad_parameters_raise(detector_cls)
    for case in range(len(detector_cls.examples())):
        for check in DETECTOR_CHECKS:
            check(detector_cls, case)


# -- scene checks ----------------------------------------------------------------------------------
def _omega(n: int) -> np.ndarray:
    return np.block([[np.zeros((n, n)), np.eye(n)], [-np.eye(n), np.zeros((n, n))]])


def check_scene(scene_cls) -> None:
    """Declarations, parameters, a physical SF state, every provided typed state, and a task
    that depends on the root seed only.

    - ``kind`` on the class and in ``Settings``; ``GaussianState`` among ``provides``;
    - every parameter's value inside its search bounds, a positive finite-difference step;
    - :meth:`program` builds an SF ``Program``; the state has a symmetric covariance obeying the
      uncertainty principle :math:`V + i\\Omega \\ge 0` (hbar = 2);
    - a ``ThermalLight`` it provides equals the SF state's photon correlation (closed form
      against SF, 1e-10 absolute);
    - changing a parameter changes the state; the same seed gives the same state.
    """
    from sensing.contracts.states import GaussianState, ThermalLight

    assert isinstance(getattr(scene_cls, "kind", None), str), "kind must be declared on the class"
    settings = scene_cls.example()
    assert settings["kind"] == scene_cls.kind
    assert GaussianState in scene_cls.provides, "every scene provides its SF state (GaussianState)"
    scene = build_scene(seed=11, **settings)
    assert list(scene.parameters) and tuple(scene.parameters) == tuple(scene_cls.parameter_names), \
        f"parameters {list(scene.parameters)} vs parameter_names {scene_cls.parameter_names}"
    for name, p in scene.parameters.items():
        assert p.bounds[0] <= p.value <= p.bounds[1], f"{name}: value {p.value} outside bounds {p.bounds}"
        assert p.step > 0, f"{name}: finite-difference step must be positive"
    program = scene.program()
    assert type(program).__name__ == "Program", f"program() returned {type(program).__name__}"
    state = scene.prepare(GaussianState)
    n = state.num_modes
    assert np.allclose(state.cov, state.cov.T, atol=1e-12), "covariance not symmetric"
    lowest = np.linalg.eigvalsh(state.cov + 1j * _omega(n)).min()
    assert lowest >= -1e-9, f"covariance violates the uncertainty principle (eigenvalue {lowest:.3g})"
    for state_type in scene_cls.provides:
        prepared = scene.prepare(state_type)
        assert isinstance(prepared, state_type), f"prepare({state_type.__name__}) returned {type(prepared).__name__}"
    if ThermalLight in scene_cls.provides:
        light = scene.prepare(ThermalLight)
        np.testing.assert_allclose(light.correlation, state.photon_correlation(), atol=1e-10,
                                   err_msg="closed-form ThermalLight differs from the SF state")
    name, p = next(iter(scene.parameters.items()))
    moved = scene.prepare(GaussianState, {name: min(p.value + 100 * p.step, p.bounds[1])})
    assert not (np.allclose(moved.cov, state.cov) and np.allclose(moved.means, state.means)), \
        f"the state does not depend on {name!r}"
    again = build_scene(seed=11, **settings)
    for state_type in scene_cls.provides:
        a, b = scene.prepare(state_type), again.prepare(state_type)
        for field in ("cov", "means", "factor", "queries"):
            if hasattr(a, field):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"same seed, {field}")


# -- analysis checks -------------------------------------------------------------------------------
def analysis_case(analysis_cls) -> dict:
    """A tiny run config pairing the analysis with a registered scene and detector that serve it."""
    from sensing.study.config import pairing_problems

    for detector_cls in DETECTORS.values():
        scene_settings, detector_settings = detector_cls.example()
        scene_cls = SCENES[scene_settings["kind"]]
        if not pairing_problems(scene_cls, analysis_cls, [detector_cls]):
            return {"seed": 5, "copies": [200, 400], "repetitions": 3, "source": scene_settings,
                    "detectors": [detector_settings], "analysis": analysis_cls.example()}
    raise AssertionError(f"no registered scene and detector serve analysis {analysis_cls.kind!r}")


def check_analysis(analysis_cls, out=None) -> None:
    """A tiny run through :func:`sensing.run`: every schema variable present, labelled
    (``long_name``), with dims among the declared ``result_dims``; no NaN unless the variable says
    why; the same config and seed give identical numbers; plots and summary render."""
    import tempfile
    from pathlib import Path

    from sensing.api import run

    assert isinstance(getattr(analysis_cls, "kind", None), str), "kind must be declared on the class"
    assert analysis_cls.schema, "an analysis declares the schema of its variables"
    config = analysis_case(analysis_cls)
    ds = run(config, scheduler="synchronous")
    missing = set(analysis_cls.schema) - set(ds.data_vars)
    assert not missing, f"schema variables missing from the results: {sorted(missing)}"
    for name in analysis_cls.schema:
        assert ds[name].attrs.get("long_name"), f"{name} has no long_name"
        assert set(ds[name].dims) <= analysis_cls.result_dims, f"{name} dims {ds[name].dims} not in result_dims"
    again = run(config, scheduler="synchronous")
    for name in ds.data_vars:
        np.testing.assert_array_equal(again[name].values, ds[name].values, err_msg=f"same seed, {name}")
    analysis = analysis_cls(analysis_cls.Settings(**config["analysis"]))
    assert analysis.summary(ds).strip(), "summary is empty"
    with tempfile.TemporaryDirectory() as tmp:
        files = analysis.plots(ds, Path(out or tmp))
        assert all(Path(f).exists() for f in files), "plots() returned files that do not exist"
