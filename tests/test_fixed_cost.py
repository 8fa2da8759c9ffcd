"""The fixed cost of a run: what a validate or a small run imports, and the shortcuts taken for it.

A run imports only the plugins its config names (the registries list the entry points' names
without importing them) and none of the heavy libraries the superresolution study does not use.
The import checks run in a fresh interpreter: in the test session everything is long imported.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import poisson

from sensing.scenes.two_point import _poisson_isf
from sensing.study import config as config_module
from sensing.study.config import config_model, expand_sweep, read_raw, validate
from sensing.study.registry import ANALYSES, DETECTORS, SCENES

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SHIPPED = CONFIGS / "superresolution.yaml"
#: Libraries the superresolution study never uses (seconds of imports between them).
HEAVY = ["strawberryfields", "thewalrus", "stim", "astropy", "scipy.integrate", "scipy.stats", "scipy.signal", "numba", "sympy"]
#: Plugin modules the superresolution config does not name.
UNNAMED = ["sensing.scenes.array", "sensing.scenes.qubit_state", "sensing.scenes.cv_state", "sensing.scenes.displacement",
           "sensing.detectors.interferometry", "sensing.detectors.shadows", "sensing.detectors.cv_shadows",
           "sensing.detectors.memory", "sensing.detectors.quadrature", "sensing.detectors.inversion",
           "sensing.analyzers.hypothesis_testing", "sensing.analyzers.shadows", "sensing.analyzers.channel_learning",
           "sensing.analyzers.interferometry"]


def imported_after(code: str) -> set[str]:
    """The modules of ``HEAVY + UNNAMED + ['matplotlib']`` present after running ``code`` in a new interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps([m for m in {HEAVY + UNNAMED + ['matplotlib']!r} if m in sys.modules]))
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_validate_imports_only_the_named_plugins_and_no_heavy_library():
    found = imported_after(
        f"""
        from sensing.cli import main
        assert main(["validate", {str(SHIPPED)!r}]) == 0
        """
    )
    assert found == set()


def test_a_run_without_plots_imports_only_the_named_plugins_and_no_heavy_library(tmp_path):
    out = tmp_path / "run"
    found = imported_after(
        f"""
        from sensing.cli import main
        assert main(["run", {str(SHIPPED)!r}, "--set", "sweep={{}}", "--set", "copies=[1000]", "--set", "repetitions=2",
                     "--scheduler", "synchronous", "--quiet", "--no-plots", "--out", {str(out)!r}]) == 0
        """
    )
    assert found == set()
    assert (out / "results.nc").is_file() and not list(out.glob("*.png"))


def test_listing_kinds_imports_no_plugin():
    found = imported_after(
        """
        from sensing.study.registry import ANALYSES, DETECTORS, SCENES
        assert "interferometry" in ANALYSES and "direct" in DETECTORS and "array" in SCENES
        assert "no_such_kind" not in DETECTORS
        assert len(list(SCENES)) == len(SCENES) >= 5
        """
    )
    assert found == set()


def test_the_registries_list_every_entry_point_and_load_each_kind_as_declared():
    for registry in (SCENES, DETECTORS, ANALYSES):
        kinds = list(registry)
        assert kinds == sorted(kinds) and len(set(kinds)) == len(kinds)
        for kind, cls in registry.items():
            assert cls.kind == kind
        with pytest.raises(KeyError):
            registry["no_such_kind"]


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_model_of_the_named_kinds_validates_shipped_configs_as_the_full_model(path):
    """Every sweep point of every shipped config validates to the same dump through the model
    of its named kinds (what a run uses) and through the model of every registered kind."""
    raw = read_raw(path)
    named = config_module._named_kinds(raw)
    assert named is not None
    narrow = config_module._model(*named)
    assert narrow is not config_model()
    cfg = validate(raw)
    _, points = expand_sweep(raw, cfg)
    assert type(cfg) is narrow and all(type(p) is narrow for _, p in points)
    assert cfg.model_dump() == config_model().model_validate(raw).model_dump()


def test_an_unknown_kind_is_reported_with_every_registered_kind():
    raw = read_raw(SHIPPED)
    raw["detectors"][1]["kind"] = "no_such_detector"
    assert config_module._named_kinds(raw) is None
    with pytest.raises(config_module.ConfigError) as err:
        validate(raw)
    (path, message), = err.value.problems
    assert path == "detectors.1"
    for kind in DETECTORS:
        assert repr(kind) in message


def test_a_bad_field_of_a_named_kind_is_reported_as_by_the_full_model():
    raw = read_raw(SHIPPED)
    raw["detectors"][0]["efficiency"] = 1.5
    raw["detectors"][1]["colour"] = "red"
    with pytest.raises(config_module.ConfigError) as err:
        validate(raw)
    with pytest.raises(Exception) as full:
        config_model().model_validate(raw)
    assert err.value.problems == config_module._problems(full.value)
    assert [p for p, _ in err.value.problems] == ["detectors.0.efficiency", "detectors.1.colour"]


@pytest.mark.parametrize("tail", [1e-13, 1e-11, 1e-3, 0.5, 1e-17])
def test_poisson_isf_equals_scipy_stats(tail):
    """The scene's basis size uses ``_poisson_isf`` in place of ``scipy.stats.poisson.isf``:
    equal (bit for bit; NaN where SciPy gives NaN) on 20 000 means from 1e-12 to 200."""
    means = np.concatenate([np.geomspace(1e-12, 200.0, 10_000), np.linspace(0.0, 81.0, 10_001)[1:]])
    ours = np.array([_poisson_isf(tail, m) for m in means])
    np.testing.assert_array_equal(ours, poisson.isf(tail, means))


def test_register_and_unregister_on_the_lazy_registry():
    from sensing.study.registry import PluginError

    class Extra:
        kind = "extra_test_detector"

    class Impostor:
        kind = "camera"

    assert "extra_test_detector" not in DETECTORS
    DETECTORS.register(Extra)
    try:
        assert DETECTORS["extra_test_detector"] is Extra and list(DETECTORS)[-1] == "extra_test_detector"
        DETECTORS.register(Extra)  # the same class again: no error
    finally:
        DETECTORS.unregister("extra_test_detector")
    assert "extra_test_detector" not in DETECTORS and "extra_test_detector" not in list(DETECTORS)
    with pytest.raises(KeyError):
        DETECTORS["extra_test_detector"]
    with pytest.raises(PluginError, match="already registered"):
        DETECTORS.register(Impostor)
    assert DETECTORS["camera"] is not Impostor
