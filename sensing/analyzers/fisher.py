"""Fisher information of detectors, and the quantum limit of the state.

Derivatives are central finite differences of states that Strawberry Fields builds at
``value -/+ step`` (the step of each :class:`~sensing.contracts.scene.Parameter`).
"""

from __future__ import annotations

import numpy as np

from sensing.physics.gaussian import quantum_fisher_information as gaussian_qfi


def detector_fisher_information(scene, detector, names: list[str], derivatives=None) -> np.ndarray:
    r"""Classical Fisher information matrix per copy of ``detector`` on ``scene``.

    :math:`J_{ij} = \partial_i\mu^T C^{-1}\partial_j\mu` with the exact per-copy mean
    :math:`\mu` and covariance :math:`C` of the detector's statistic (see
    :meth:`sensing.contracts.detector.OutcomeModel.fisher_contribution`).

    Parameters
    ----------
    scene, detector
    names : list of str
        Parameters, in the order of the matrix.
    derivatives : optional
        ``scene.state_derivatives(names)`` if already computed.

    Returns
    -------
    ndarray, shape ``(len(names), len(names))``
    """
    centre, pairs = derivatives or scene.state_derivatives(names)
    model = detector.outcome_model(centre)
    dmean = np.array([
        (detector.outcome_model(plus).mean() - detector.outcome_model(minus).mean()) / (2 * h)
        for minus, plus, h in pairs
    ])
    return model.fisher_contribution(dmean, None)


def quantum_fisher_information(scene, names: list[str], derivatives=None) -> np.ndarray:
    """Quantum Fisher information matrix per copy of the scene's one-copy state.

    Uses the Gaussian-state formula (Monras 2013; Safranek 2019) on SF's covariance
    matrices; see :func:`sensing.physics.gaussian.quantum_fisher_information`.
    """
    centre, pairs = derivatives or scene.state_derivatives(names)
    dcov = np.array([(plus.cov - minus.cov) / (2 * h) for minus, plus, h in pairs])
    dmeans = np.array([(plus.means - minus.means) / (2 * h) for minus, plus, h in pairs])
    return gaussian_qfi(centre.cov, dcov, dmeans)
