"""Fisher information of detectors, and the quantum limit of the state.

Derivatives are central finite differences at ``value -/+ step`` (the step of each
:class:`~sensing.contracts.scene.Parameter`). Scenes that give their light in closed form
(``scene.prepare(ThermalLight, values)``, a :class:`~sensing.contracts.states.ThermalLight` whose factor L is
tested against the state Strawberry Fields builds) are differentiated through that factor:
it resolves photon numbers far below the rounding level of a covariance matrix (faint
light, close sources) and it is smooth through the boundary d = 0, where the covariance is
even in the separation. Other scenes are differentiated through the states Strawberry
Fields builds.
"""

from __future__ import annotations

import numpy as np

from sensing.contracts.states import ThermalLight
from sensing.physics.gaussian import quantum_fisher_information as gaussian_qfi
from sensing.physics.gaussian import thermal_quantum_fisher_information


def _has_closed_form_light(scene) -> bool:
    """The scene provides closed-form ``ThermalLight`` (its factor L gives the exact QFI)."""
    return ThermalLight in scene.provides


def evaluation_point(scene, names: list[str]) -> dict[str, float]:
    r"""Where the Fisher information is evaluated: the true values, moved one step inside a bound.

    A parameter whose true value lies within one step of a bound of its search interval (the
    separation at d = 0) is a boundary point of the model. For a model even in the
    parameter about that bound, a central difference across it gives :math:`\partial\mu = 0`
    and a Fisher information of 0, while the information approached from inside is finite
    (SPADE: :math:`1/(4\sigma^2)` per photon for all d > 0). The Fisher information reported
    there is that one-sided limit, :math:`\lim_{\theta\to\theta_b^+}J(\theta)`, evaluated at
    :math:`\theta_b + h` with central differences that stay inside the region (error
    :math:`O(h^2)` for a model smooth in :math:`\theta^2`).
    """
    values = {}
    for name in names:
        p = scene.parameters[name]
        lower, upper = p.bounds
        value = p.value
        if value - p.step < lower:
            value = lower + p.step
        elif value + p.step > upper:
            value = upper - p.step
        values[name] = float(value)
    return values


def light_derivatives(scene, names: list[str], point: dict[str, float] | None = None):
    """The scene's closed-form light at ``point`` (default: true values) and central differences of its factor.

    Returns
    -------
    light, factor_derivatives
        ``factor_derivatives`` has shape ``(len(names), K, r)``.
    """
    point = dict(point or {})
    centre = scene.prepare(ThermalLight, point)
    derivatives = []
    for name in names:
        p = scene.parameters[name]
        value = point.get(name, p.value)
        plus = scene.prepare(ThermalLight, {**point, name: value + p.step}).factor
        minus = scene.prepare(ThermalLight, {**point, name: value - p.step}).factor
        derivatives.append((plus - minus) / (2 * p.step))
    return centre, np.array(derivatives)


def detector_fisher_information(scene, detector, names: list[str], derivatives=None) -> np.ndarray:
    r"""Classical Fisher information matrix per copy of ``detector`` on ``scene``.

    :math:`J_{ij} = \partial_i\mu^T C^{-1}\partial_j\mu` with the exact per-copy mean
    :math:`\mu` and covariance :math:`C` of the detector's statistic, bunching included (see
    :meth:`sensing.contracts.detector.OutcomeModel.fisher_contribution`): the information of
    the summed statistic over many copies, the one the estimator
    (:func:`sensing.analyzers.estimation.maximum_likelihood`) attains. At a bound of a
    parameter's range the value is the one-sided limit (:func:`evaluation_point`).

    Parameters
    ----------
    scene, detector
    names : list of str
        Parameters, in the order of the matrix.
    derivatives : optional
        ``scene.state_derivatives(names)`` if already computed (used only for scenes without
        closed-form light).

    Returns
    -------
    ndarray, shape ``(len(names), len(names))``
    """
    if _has_closed_form_light(scene):
        point = evaluation_point(scene, names)
        model = detector.outcome_model(scene.prepare(ThermalLight, point))
        dmean = []
        for name in names:
            h = scene.parameters[name].step
            plus = detector.outcome_model(scene.prepare(ThermalLight, {**point, name: point[name] + h})).mean()
            minus = detector.outcome_model(scene.prepare(ThermalLight, {**point, name: point[name] - h})).mean()
            dmean.append((plus - minus) / (2 * h))
        return model.fisher_contribution(np.array(dmean), None)
    centre, pairs = derivatives or scene.state_derivatives(names)
    model = detector.outcome_model(centre)
    dmean = np.array([
        (detector.outcome_model(plus).mean() - detector.outcome_model(minus).mean()) / (2 * h)
        for minus, plus, h in pairs
    ])
    return model.fisher_contribution(dmean, None)


def quantum_fisher_information(scene, names: list[str], derivatives=None) -> np.ndarray:
    r"""Quantum Fisher information matrix per copy of the scene's one-copy state.

    Scenes with closed-form thermal light: :func:`sensing.physics.gaussian.thermal_quantum_fisher_information`
    on the factor L and its derivatives (exact for any brightness, separation and
    photon number, including the limit at d = 0). Other scenes: the Gaussian-state formula
    (Monras 2013; Safranek 2019) on SF's covariance matrices,
    :func:`sensing.physics.gaussian.quantum_fisher_information`.
    """
    if _has_closed_form_light(scene):
        light, dfactor = light_derivatives(scene, names)
        return thermal_quantum_fisher_information(light.factor, dfactor)
    centre, pairs = derivatives or scene.state_derivatives(names)
    dcov = np.array([(plus.cov - minus.cov) / (2 * h) for minus, plus, h in pairs])
    dmeans = np.array([(plus.means - minus.means) / (2 * h) for minus, plus, h in pairs])
    return gaussian_qfi(centre.cov, dcov, dmeans)
