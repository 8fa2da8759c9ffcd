"""The shipped scene and analysis check suites (:mod:`sensing.testing`) on every registered plugin."""

import pytest

from sensing import testing
from sensing.study.registry import ANALYSES, SCENES


@pytest.mark.parametrize("kind", sorted(SCENES))
def test_scene_contract(kind):
    testing.check_scene(SCENES[kind])


@pytest.mark.parametrize("kind", sorted(ANALYSES))
def test_analysis_contract(kind, tmp_path):
    testing.check_analysis(ANALYSES[kind], out=tmp_path)


def test_a_scene_whose_closed_form_disagrees_with_sf_fails_the_suite(monkeypatch):
    from sensing.contracts.states import ThermalLight
    from sensing.scenes.two_point import TwoPointScene

    class Brighter(TwoPointScene):
        def light(self, values=None):
            light = super().light(values)
            return ThermalLight(light.factor * 1.01, light.modes)

    monkeypatch.setattr(testing, "build_scene", lambda seed=0, **s: Brighter(Brighter.Settings(**s), seed=seed))
    with pytest.raises(AssertionError, match="closed-form ThermalLight differs"):
        testing.check_scene(Brighter)
