"""Hostile or malformed config input is refused quickly with exit 2 and one line naming the
problem: alias bombs, deep nesting, duplicate keys, tags, encodings, booleans and non-finite
numbers spelled as strings."""

from pathlib import Path

import pytest

from sensing.cli import main

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
ALIAS_BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"]
                       + [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
                          for p, c in zip("abcdefgh", "bcdefghi")]) + "\n"


def _refused(capsys, path, *sets):
    code = main(["validate", str(path), *[a for s in sets for a in ("--set", s)]])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("text,needle", [
    (ALIAS_BOMB, "aliases"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    (SHIPPED.read_text() + "\nseed: 5\n", "duplicate key 'seed'"),
    (SHIPPED.read_text().replace("name: superresolution", "name: !!binary aGVsbG8="), "tag"),
    (SHIPPED.read_text() + "\nx: !!python/object/apply:os.system ['true']\n", "tag"),
])
def test_hostile_yaml_is_refused(tmp_path, capsys, text, needle):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert needle in _refused(capsys, path)


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_text_that_is_not_utf8_is_refused(tmp_path, capsys, encoding):
    path = tmp_path / "c.yaml"
    path.write_bytes(SHIPPED.read_text().replace("# ", "# é ").encode(encoding))
    assert "not UTF-8" in _refused(capsys, path)


def test_binary_file_is_refused(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    assert "config" in _refused(capsys, path)


@pytest.mark.parametrize("override,field", [
    ("source.separation=true", "source.separation"),
    ("detectors.spade.modes=true", "detectors.1.modes"),
    ("source.centroid=nan", "source.centroid"),
    ("source.psf_sigma=inf", "source.psf_sigma"),
    ("detectors.camera.pixel_pitch=Infinity", "detectors.0.pixel_pitch"),
    ('source.centroid="nan"', "source.centroid"),
])
def test_booleans_and_non_finite_strings_are_not_numbers(capsys, override, field):
    err = _refused(capsys, SHIPPED, override)
    assert field in err


def test_deeply_nested_override_is_refused(capsys):
    err = _refused(capsys, SHIPPED, "source.centroid=" + "[" * 3000 + "]" * 3000)
    assert "nested deeper" in err
