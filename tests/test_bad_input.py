"""Bad input ends in exit code 2 with a message naming the field, the value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sensing.cli import main
from sensing.study.registry import DETECTORS, SCENES, load_plugins

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"


def refused(capsys, *argv: str) -> str:
    assert main(["validate", str(CONFIG), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize("setting, expected", [
    ("source.photons_per_copy=-0.1", "source.photons_per_copy"),
    ("detectors.camera.efficiency=1.5", "detectors.0.efficiency"),
    ("detectors.spade.efficiency=-0.01", "detectors.1.efficiency"),
    ("detectors.camera.dark_counts=.nan", "detectors.0.dark_counts: must be a finite number, got nan"),
    ("source.psf_sigma=.inf", "source.psf_sigma: must be a finite number, got inf"),
    ("copies=[1000, 1500.5]", "copies.1"),
    ("copies=[1e4, 1e3]", "copies.1: copies must increase strictly"),
    ("copies=[1e16]", "copies.0"),
    ("repetitions=1", "repetitions"),
    ("seed=-3", "seed"),
    ("detectors.camera.kind=telescope", "detectors.0"),
    ("detectors.camera.pixels=0", "detectors.0.pixels"),
    ("pipeline.batch_size=0", "pipeline.batch_size"),
    ("sweep={source.separation: []}", "sweep.source.separation: needs at least one value"),
    ("sweep={source.separation: [0.5, -1.0]}", "sweep[source.separation=-1.0]: source.separation"),
    ("sweep={seed: [1, 2]}", "only source and detector fields can be swept"),
    ("surprise=1", "surprise: unknown field"),
])
def test_out_of_range_fields_are_named(capsys, setting, expected):
    assert expected in refused(capsys, "--set", setting)


@pytest.mark.parametrize("settings, expected", [
    (["copies=[1e15]", "pipeline.batch_size=1", "pipeline.batches_per_task=1"], "pipeline.batch_size: the run would have"),
    (["repetitions=100000", "copies=[1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]"],
     "repetitions: the run would keep"),
    (["sweep={source.separation: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]," 
      " source.photons_per_copy: [" + ", ".join(["0.001"] * 1000) + "]}"], "sweep: 11000 sweep points"),
])
def test_absurd_sizes_are_refused_before_any_work(capsys, settings, expected):
    assert expected in refused(capsys, *[x for s in settings for x in ("--set", s)])


def test_target_and_copies_are_exclusive(capsys):
    target = "target={parameter: separation, relative_error: 0.01, max_copies: 1e10}"
    assert "copies: give either copies" in refused(capsys, "--set", target)
    assert "copies: give either copies" in refused(capsys, "--set", "copies=null")
    err = refused(capsys, "--set", "copies=null", "--set", "target={parameter: centroid, relative_error: 0.01, max_copies: 1e10}")
    assert "target.parameter: 'centroid' is not estimated" in err
    err = refused(capsys, "--set", "copies=null", "--set", "target={parameter: separation, relative_error: 1.5, max_copies: 1e10}")
    assert "target.relative_error" in err
    assert main(["validate", str(CONFIG), "--set", "copies=null", "--set", target]) == 0


def test_detector_a_scene_cannot_serve_is_refused(capsys):
    load_plugins()
    provides = SCENES["two_point"].provides
    foreign = [kind for kind, cls in DETECTORS.items() if cls.accepts not in provides]
    assert foreign, "the quadrature and memory detectors need a displacement channel"
    example = DETECTORS[foreign[0]].example()[1]
    err = refused(capsys, "--set", f"detectors=[{example!r}]")
    assert "detectors.0.kind" in err and "needs a source providing" in err


def test_yaml_is_read_with_the_safe_loader(tmp_path, capsys):
    marker = tmp_path / "executed"
    evil = tmp_path / "evil.yaml"
    evil.write_text(CONFIG.read_text() + f"\nextra: !!python/object/apply:os.system ['touch {marker}']\n")
    assert main(["validate", str(evil)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert not marker.exists()


def test_run_refuses_bad_input_without_writing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(CONFIG), "--out", str(out), "--set", "detectors.camera.efficiency=2", "--quiet"]) == 2
    assert not out.exists()
    assert "detectors.0.efficiency" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["tcp://host:notaport", "foo://", "tcp://localhost:99999", "nonsense"])
def test_malformed_scheduler_is_refused_before_any_connection(capsys, address, tmp_path):
    code = main(["run", str(CONFIG), "--out", str(tmp_path / "out"), "--scheduler", address, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_out_that_is_a_file_is_refused_with_exit_2(capsys, tmp_path):
    target = tmp_path / "results"
    target.write_text("not a folder")
    assert main(["run", str(CONFIG), "--out", str(target), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "not a folder"
