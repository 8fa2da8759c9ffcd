"""The shipped detector check suite (:mod:`sensing.testing`) on every registered detector.

Each detector supplies ``example()`` (and ``examples()``, e.g. the same detector on a 2-D image
plane): a small exact scene and detector configuration; the checks are described in
:mod:`sensing.testing`.
"""

import pytest

from sensing import testing
from sensing.study.registry import DETECTORS

KINDS = sorted(DETECTORS)
CASES = [pytest.param(kind, i, id=f"{kind}-{i}") for kind in KINDS for i in range(len(DETECTORS[kind].examples()))]


@pytest.mark.parametrize("check", testing.DETECTOR_CHECKS, ids=lambda c: c.__name__.removeprefix("check_detector_"))
@pytest.mark.parametrize("kind,case", CASES)
def test_detector_contract(kind, case, check):
    check(DETECTORS[kind], case)


@pytest.mark.parametrize("kind", KINDS)
def test_detector_declarations_and_bad_parameters(kind):
    testing.check_detector_declarations(DETECTORS[kind])
    testing.check_detector_bad_parameters_raise(DETECTORS[kind])


def test_a_broken_detector_fails_the_suite():
    """The suite can fail: a camera whose sampler drops 30% of the photons is caught."""
    from sensing.detectors.counting import Camera, ClassicalCountingModel

    class Dim(ClassicalCountingModel):
        def sample(self, rng, copies):
            out = super().sample(rng, copies)
            return rng.binomial(out, 0.7)

    class BrokenCamera(Camera):
        def outcome_model(self, light):
            good = super().outcome_model(light)
            bad = Dim.__new__(Dim)
            bad.__dict__.update(good.__dict__)
            return bad

    with pytest.raises(AssertionError, match="sample means off the model"):
        testing.check_detector_sampler_agrees_with_model(BrokenCamera, 0)
