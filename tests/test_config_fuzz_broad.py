"""Broad property-based fuzzing (issue 9): at least 1000 generated configs, valid and not, over
every shipped config, with sweeps over any swept field (names that collide with result
variables and dims included), hostile YAML (aliases, depth, encodings, duplicate keys, tags),
non-finite strings and booleans. Every one ends in exit 0 or 2 within a bounded time, never a
traceback; and a sample of valid sweeps is run end to end, keeping the swept values."""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_cli

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SHIPPED = {p.name: yaml.safe_load(p.read_text()) for p in sorted(CONFIGS.glob("*.yaml"))}
#: Seconds one validation may take (the largest shipped config validates in about 3 s).
VALIDATE_SECONDS = 30.0


def _numeric_fields(raw: dict) -> list[str]:
    """Dotted paths of every numeric scalar of a config's source and detectors (by name)."""
    paths = []
    for key, value in (raw.get("source") or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            paths.append(f"source.{key}")
    for det in raw.get("detectors") or []:
        for key, value in det.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                paths.append(f"detectors.{det['name']}.{key}")
    return paths


FIELDS = {name: _numeric_fields(raw) for name, raw in SHIPPED.items()}
#: Values a fuzzed field or sweep may take: plausible, out of range, non-finite, strings, booleans.
VALUES = st.one_of(
    st.floats(min_value=-2.0, max_value=3.0, allow_nan=False),
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([0, 0.0, 1, 1e-12, 1e300, True, False, None, "nan", "inf", "-Infinity", "NaN", "1e-3", "abc", [],
                     {"a": 1}, "0x10", ".inf"]),
)


def _small(raw: dict) -> dict:
    """The config cut down so that validation stays fast (few copies, one or two sweep points)."""
    raw = copy.deepcopy(raw)
    raw["copies"] = [100, 1000] if raw.get("copies") is not None else raw.get("copies")
    raw["repetitions"] = 2
    raw.pop("sweep", None)
    return raw


@st.composite
def generated(draw):
    name = draw(st.sampled_from(sorted(SHIPPED)))
    raw = _small(SHIPPED[name])
    fields = FIELDS[name]
    kind = draw(st.sampled_from(["sweep", "sweep", "field", "sweep_pair", "hostile"]))
    if kind == "hostile" or not fields:
        return draw(HOSTILE), []
    if kind == "field":
        return yaml.safe_dump(raw, sort_keys=False), [f"{draw(st.sampled_from(fields))}={yaml.safe_dump(draw(VALUES)).strip().splitlines()[0]}"]
    count = 2 if kind == "sweep_pair" else 1
    chosen = draw(st.lists(st.sampled_from(fields), min_size=count, max_size=count, unique=True))
    raw["sweep"] = {f: draw(st.lists(VALUES, min_size=1, max_size=3)) for f in chosen}
    try:
        return yaml.safe_dump(raw, sort_keys=False), []
    except yaml.YAMLError:  # pragma: no cover - every value above is representable
        return "{}", []


BASE_TEXT = yaml.safe_dump(_small(SHIPPED["superresolution.yaml"]), sort_keys=False)
HOSTILE = st.one_of(
    st.builds(lambda n: "a: &a [" + ",".join(["x"] * 9) + "]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(n)),
        st.integers(1, 8)),                                                       # alias bombs
    st.builds(lambda n: "seed: " + "[" * n + "1" + "]" * n + "\n", st.integers(30, 20000)),   # deep lists
    st.builds(lambda n: "".join("{a: " for _ in range(n)) + "1" + "}" * n, st.integers(30, 5000)),  # deep maps
    st.builds(lambda k: BASE_TEXT + f"\n{k}: 7\n", st.sampled_from(["seed", "name", "repetitions"])),  # duplicates
    st.builds(lambda tag: BASE_TEXT.replace("name: superresolution", f"name: {tag} c3VwZXI="),
              st.sampled_from(["!!binary", "!!python/object:os.system", "!custom", "!!set", "!!timestamp"])),
    st.builds(lambda junk: BASE_TEXT + junk, st.sampled_from(["\n\x00\x01", "\n- : :", "\n\t\tkey: 1", "\n%YAML 9.9"])),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"])


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(generated(), ENCODINGS)
def test_a_thousand_generated_configs_exit_0_or_2_without_tracebacks(case, encoding):
    text, sets = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        try:
            path.write_bytes(text.encode(encoding))
        except UnicodeEncodeError:
            path.write_bytes(text.encode("utf-8"))
        start = time.monotonic()
        code, err = run_cli(["validate", str(path), *[x for s in sets for x in ("--set", s)]])
        took = time.monotonic() - start
    assert code in (0, 2), (code, text[:300], sets, err[-2000:])
    assert "Traceback" not in err, err[-2000:]
    assert code == 0 or err.strip(), "a refusal must say why"
    assert took < VALIDATE_SECONDS, (took, text[:200])


SWEEPABLE = [f for f in FIELDS["superresolution.yaml"] if f != "source.photons_per_copy"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.sampled_from(SWEEPABLE), st.lists(st.floats(0.05, 0.95), min_size=2, max_size=2, unique=True))
def test_valid_sweeps_run_and_keep_their_values(field, values):
    raw = _small(SHIPPED["superresolution.yaml"])
    raw["detectors"][0].update(pixels=12, pixel_pitch=0.6)
    raw["sweep"] = {field: values}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        out = Path(folder) / "out"
        code, err = run_cli(["run", str(path), "--out", str(out), "--scheduler", "synchronous", "--quiet"])
        if code == 2:  # refused at validation (a value outside the field's range): said why, wrote nothing
            assert err.strip() and not (out / "results.nc").exists()
            return
        assert code == 0, err
        with xr.open_dataset(out / "results.nc", engine="h5netcdf") as ds:
            dims = __import__("json").loads(ds.attrs["sweep_dims"])
            assert len(dims) == 1
            assert list(ds[dims[0]].values) == values
            assert all(ds[v].dims[0] == dims[0] for v in ds.data_vars)
        assert (out / "summary.txt").exists()
