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


#: The backend every non-Gaussian (Fock-space) program runs on.
FOCK_BACKEND = "fock"


def run_fock(program, cutoff: int):
    """Run ``program`` (no measurements) on SF's Fock backend with ``cutoff`` levels per mode.

    Returns
    -------
    (rho, trace) : ndarray, float
        The reduced density matrix of all modes, shape ``(cutoff,) * 2 * modes`` (SF index
        order ``i0, j0, i1, j1, ...``) and its trace (below 1 when the cutoff truncates).
    """
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    state = sf.Engine(FOCK_BACKEND, backend_options={"cutoff_dim": int(cutoff)}).run(program).state
    return np.asarray(state.dm()), float(np.real(state.trace()))
