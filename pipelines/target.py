"""Runs to a target precision: sample checkpoint segments until the estimated error is small enough.

The copy checkpoints of a target run are ``initial_copies * 2**k`` (the last one capped at
``max_copies``). Round k samples segment k of every (sweep point, detector), with exactly
the batches, seeds and tree sums of a fixed-copies run whose ``copies`` are those
checkpoints, adds it to the statistics so far, and evaluates every unit's estimated relative
error. The run stops after the first round at which every unit has reached the target, or
when ``max_copies`` is reached. Batches are taken in seed order and the rule depends only on
the statistics, so the stopping point is reproducible, and the results are identical to
those of a fixed run with the checkpoints that were used.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from sensing.study.config import checkpoints_for
from sensing.pipelines.graph import Unit, accumulate, build_segment_graph, describe_key, execute, guarded_call


def relative_targets(target, built) -> dict[int, float]:
    """The relative-error target of each sweep point: ``target.relative_error``, or a target in physical
    units, ``target.precision`` ('1 mas', or a number in the parameter's unit), divided by the parameter's
    |true value| at that point (the estimated relative error is the repetitions' spread over |mean|).

    Raises
    ------
    ValueError
        If the precision's unit does not convert to the parameter's, or the true value is 0.
    """
    if target.precision is None:
        return {point: float(target.relative_error) for point in range(len(built))}
    import astropy.units as u

    out = {}
    for point, (_, scene, *_) in enumerate(built):
        parameter = scene.parameters[target.parameter]
        given = target.precision
        if isinstance(given, str):
            try:
                quantity = u.Quantity(given.strip())
                given = (quantity.value if quantity.unit == u.dimensionless_unscaled
                         else quantity.to_value(u.Unit(parameter.unit)))
            except (TypeError, ValueError, u.UnitConversionError) as err:
                raise ValueError(f"target.precision: {target.precision!r} does not convert to the unit "
                                 f"{parameter.unit!r} of {target.parameter!r}: {err}") from None
        if not float(given) > 0 or parameter.value == 0:
            raise ValueError(f"target.precision: needs a positive precision and a non-zero true value of "
                             f"{target.parameter!r} (got {target.precision!r}, true value {parameter.value})")
        out[point] = float(given) / abs(parameter.value)
    return out


def run_to_target(units: list[Unit], precision: dict[tuple[int, int], Callable[[dict], float]], seed: int,
                  initial: int, maximum: int, relative_error: float | dict[int, float], repetitions: int, pipeline,
                  scheduler: str, client, progress: bool) -> tuple[list[int], dict, dict]:
    """Sample round after round until every unit's estimated relative error is at most the target.

    Parameters
    ----------
    precision : dict
        ``{(point, detector): f(statistics) -> estimated relative error}``; statistics have
        shape ``(1, R, ...)`` (one checkpoint).
    relative_error : float or dict
        The target, or ``{point: target}`` (:func:`relative_targets`).

    Returns
    -------
    checkpoints : list of int
        The copy checkpoints used.
    statistics : dict
        ``{(point, detector): statistics at every checkpoint, shape (checkpoints, R, ...)}``.
    reached : dict
        ``{(point, detector): first checkpoint whose estimated error met the target, or None}``.
    """
    plan = checkpoints_for(initial, maximum)
    totals: dict[tuple[int, int], Any] = {}
    history: dict[tuple[int, int], list] = {(u.point, u.detector): [] for u in units}
    reached: dict[tuple[int, int], int | None] = {key: None for key in history}
    labels = {(u.point, u.detector): u.label for u in units}
    describe = describe_key(labels, {})
    for segment, copies in enumerate(plan):
        outputs, samplers = build_segment_graph(units, seed, plan, segment, repetitions, pipeline)
        got: dict = {}
        execute(outputs, samplers, scheduler, client, progress, got.__setitem__, description=f"sampling to {copies:.3g} copies",
                describe=describe)
        for (_, point, detector), stats in got.items():
            key = (point, detector)
            totals[key] = accumulate(totals.get(key), stats)
            history[key].append(totals[key])
        checks = {("check",) + key: guarded_call(labels[key], precision[key], {k: v[None] for k, v in totals[key].items()})
                  for key in history if reached[key] is None}
        errors: dict = {}
        execute(checks, [], scheduler, client, False, errors.__setitem__, describe=describe)
        for (_, point, detector), error in errors.items():
            if error <= (relative_error[point] if isinstance(relative_error, dict) else relative_error):
                reached[(point, detector)] = copies
        if all(v is not None for v in reached.values()):
            plan = plan[:segment + 1]
            break
    statistics = {key: {k: np.stack([h[k] for h in rows]) for k in rows[0]} for key, rows in history.items()}
    return plan, statistics, reached
