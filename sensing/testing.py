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
