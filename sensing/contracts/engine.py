"""The one place that runs Strawberry Fields programs.

Scenes and detectors *describe* states as SF ``Program`` objects; this module runs them
(the backend is chosen here, not in a scene or a detector) and returns typed states in SF
conventions (hbar = 2, xxpp, vacuum covariance = identity). Sweep-point caching of states and
their parameter derivatives is the study layer's (:mod:`sensing.study.runner`).

SF runs homodyne and heterodyne one shot per ``Engine.run``: programs run here carry no
measurements; copies are sampled vectorised by the detectors' outcome models.
"""

from __future__ import annotations

import numpy as np

from sensing.contracts.states import GaussianState

#: The backend every Gaussian program runs on.
GAUSSIAN_BACKEND = "gaussian"


def run_gaussian(program) -> GaussianState:
    """Run ``program`` (no measurements) on SF's Gaussian backend; its covariance and means."""
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    state = sf.Engine(GAUSSIAN_BACKEND).run(program).state
    return GaussianState(np.asarray(state.cov()), np.asarray(state.means()))
