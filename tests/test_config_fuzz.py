"""Property-based fuzzing of configs: mutations of the shipped config that are invalid by
construction (wrong types, negative / NaN / infinite numbers, unknown keys, missing fields,
broken YAML, bad ``--set`` paths) must all end in exit code 2 with a message on stderr and
never a traceback, through ``validate`` and ``run`` alike."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_cli

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
BASE = yaml.safe_load(CONFIG.read_text())
BASE.update(copies=[10, 20], repetitions=2, sweep={"source.separation": [0.5, 1.0]})

#: Numeric fields whose allowed range excludes every negative number, by path.
NON_NEGATIVE = ["seed", "copies.0", "copies.1", "repetitions", "source.photons_per_copy", "source.psf_sigma",
                "detectors.0.efficiency", "detectors.0.pixel_pitch", "detectors.0.pixels", "detectors.0.dark_counts",
                "detectors.1.efficiency", "detectors.1.modes", "detectors.2.efficiency", "pipeline.batch_size",
                "pipeline.batches_per_task", "pipeline.repetitions_per_task"]
#: Fields that must be present.
REQUIRED = ["seed", "source", "detectors", "source.kind", "detectors.0.kind", "detectors.0.name", "detectors.0.pixel_pitch"]
#: Mappings that accept no unknown key.
MAPPINGS = ["", "source", "detectors.0", "detectors.1", "analysis", "pipeline"]
WRONG_TYPES = st.one_of(st.text(alphabet="abcxyz", min_size=1, max_size=5), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), min_size=1, max_size=2))
NUMERIC = NON_NEGATIVE  # every one of them rejects a non-numeric value


def _node(raw, path: str):
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, (int(last) if isinstance(node, list) else last)


def _set(raw, path, value):
    node, key = _node(raw, path)
    node[key] = value
    return raw


def _delete(raw, path):
    node, key = _node(raw, path)
    del node[key]
    return raw


def _add_key(raw, path, key):
    node = raw if not path else _node(raw, path)[0][_node(raw, path)[1]]
    node[key] = 1
    return raw


def mutated(function, *args):
    return yaml.safe_dump(function(copy.deepcopy(BASE), *args), sort_keys=False), []


negative = st.builds(mutated, st.just(_set), st.sampled_from(NON_NEGATIVE),
                     st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False)))
non_finite = st.builds(mutated, st.just(_set), st.sampled_from(NUMERIC + ["source.separation", "source.centroid"]),
                       st.sampled_from([float("nan"), float("inf"), float("-inf")]))
wrong_type = st.builds(mutated, st.just(_set), st.sampled_from(NUMERIC), WRONG_TYPES)
missing = st.builds(mutated, st.just(_delete), st.sampled_from(REQUIRED))
unknown_key = st.builds(mutated, st.just(_add_key), st.sampled_from(MAPPINGS),
                        st.text(alphabet="qwvjz_", min_size=3, max_size=8))
broken_yaml = st.builds(lambda cut, junk: (yaml.safe_dump(BASE)[:cut] + "\n" + junk, []),
                        st.integers(0, 400), st.sampled_from(["{[unclosed", "key: [1, 2", "- : - :\n\t tab", "'open"]))
not_a_mapping = st.builds(lambda value: (yaml.safe_dump(value), []),
                          st.one_of(st.lists(st.integers(), max_size=3), st.integers(), st.text(alphabet="ab", max_size=3)))
bad_set = st.builds(lambda item: (yaml.safe_dump(BASE), [item]), st.sampled_from([
    "seed", "=5", "detectors.7.efficiency=0.5", "detectors.nosuch.efficiency=0.5", "source.nonexistent=1",
    "copies.x=1", "source.photons_per_copy.deep=1", "copies=[1, 2", "seed=-1", "detectors.camera.efficiency=[1]",
    "sweep.source.separation=[]", "pipeline.workers=0"]))
MALFORMED = st.one_of(negative, non_finite, wrong_type, missing, unknown_key, broken_yaml, not_a_mapping, bad_set)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MALFORMED, st.sampled_from(["validate", "run"]))
def test_malformed_configs_exit_2_with_a_message(case, command):
    text, sets = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(text)
        argv = [command, str(path), *[x for s in sets for x in ("--set", s)]]
        if command == "run":
            argv += ["--out", str(Path(folder) / "out"), "--scheduler", "synchronous", "--quiet", "--no-plots"]
        code, err = run_cli(argv)
        assert code == 2, (argv, text, err)
        assert err.strip() and "Traceback" not in err
        assert not (Path(folder) / "out").exists()
