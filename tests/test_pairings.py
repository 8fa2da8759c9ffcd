"""Every pairing of scene, analysis and detector that cannot work is refused by validation
(exit 2, a message naming the field and what would be allowed), and every one that can passes."""

import itertools

import pytest
import yaml

from sensing.cli import main
from sensing.study.config import pairing_problems
from sensing.study.registry import ANALYSES, DETECTORS, SCENES


def _example_scene(kind):
    for detector in DETECTORS.values():
        scene, _ = detector.example()
        if scene["kind"] == kind:
            return scene
    raise AssertionError(f"no detector example uses source kind {kind!r}")


def _compatible(scene_cls, analysis_cls, detector_cls):
    return (detector_cls.accepts in scene_cls.provides and analysis_cls.scene_provides <= scene_cls.provides
            and analysis_cls.detector_capabilities <= detector_cls.capabilities)


#: Pairs whose state types match but whose shapes cannot: single-mode CV shadows on the
#: multi-aperture Fock state of an array (refused at validation, naming the detector).
SHAPE_MISMATCHES = {("array", "random_phase_homodyne"), ("array", "heterodyne_shadow")}

CASES = list(itertools.product(sorted(SCENES), sorted(ANALYSES), sorted(DETECTORS)))


@pytest.mark.parametrize("scene,analysis,detector", CASES)
def test_every_pairing_is_refused_or_accepted_by_validate(scene, analysis, detector, tmp_path, capsys):
    scene_cls, analysis_cls, detector_cls = SCENES[scene], ANALYSES[analysis], DETECTORS[detector]
    config = {"seed": 1, "copies": [100], "repetitions": 2, "source": _example_scene(scene),
              "detectors": [detector_cls.example()[1]], "analysis": {"kind": analysis}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    if _compatible(scene_cls, analysis_cls, detector_cls) and (scene, detector) not in SHAPE_MISMATCHES:
        assert code == 0, err
        assert not pairing_problems(scene_cls, analysis_cls, [detector_cls])
    elif _compatible(scene_cls, analysis_cls, detector_cls):  # right state type, wrong number of modes
        assert code == 2 and "Traceback" not in err and "detectors.0" in err and "one mode" in err, err
    else:
        assert code == 2, err
        assert "Traceback" not in err
        assert ("detectors.0.kind" in err) or ("analysis.kind" in err), err
        assert "allowed here" in err or "analyses it can serve" in err, err


def test_parameter_estimation_on_a_displacement_channel_is_refused_at_validation(tmp_path, capsys):
    """Once a config that passed validate and died in run with AttributeError."""
    config = {"seed": 1, "copies": [100], "source": _example_scene("displacement_channel"),
              "detectors": [DETECTORS["heterodyne"].example()[1]], "analysis": {"kind": "parameter_estimation"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "needs detectors with ['likelihood']" in err and "'heterodyne'" in err
