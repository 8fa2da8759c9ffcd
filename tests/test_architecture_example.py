"""The worked example of docs/architecture.md runs: a third-party detector written only against
the contracts registers, passes the shipped check suite, and serves a study whose information
stays below the quantum limit."""

import re
from pathlib import Path

import numpy as np
import pytest

import sensing
from sensing import testing
from sensing.study.registry import DETECTORS

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


@pytest.fixture
def slit_photometer():
    text = DOC.read_text()
    block = re.search(r"### Worked example.*?```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102  (the project's own documentation)
    cls = namespace["SlitPhotometer"]
    DETECTORS.register(cls)
    yield cls
    DETECTORS.unregister(cls.kind)


def test_worked_example_passes_the_detector_check_suite(slit_photometer):
    testing.check_detector(slit_photometer)


def test_worked_example_serves_a_study_below_the_quantum_limit(slit_photometer):
    config = {"seed": 7, "copies": [2000, 20000], "repetitions": 4,
              "source": {"kind": "two_point", "separation": 0.6, "photons_per_copy": 0.05},
              "detectors": [{"kind": "slit_photometer", "name": "slit", "width": 1.0}],
              "analysis": {"kind": "parameter_estimation"}}
    ds = sensing.run(config, scheduler="synchronous")
    fisher = float(ds["fisher_information"].sel(detector="slit", parameter="separation"))
    quantum = float(ds["quantum_fisher_information"].sel(parameter="separation"))
    assert 0 < fisher < quantum
    # 1/(4 sigma^2) per photon (PHYSICS 2.2) to first order in the photons per copy (exact thermal state)
    np.testing.assert_allclose(quantum / 0.05, 0.25, rtol=0.05)
