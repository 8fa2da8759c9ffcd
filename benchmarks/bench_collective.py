"""Speed of the collective (EPR + quantum memory + Bell) strategy at 100 modes.

Run: ``python -m benchmarks.bench_collective`` (one command; prints every figure).

Measures, on one core (BLAS limited to one thread), for the published task of
``configs/displacement_learning.yaml`` (100 modes, 8 queries, 5 dB, 99 % memory):

* ``copies/s per core``: ``sample_statistics`` of the Bell strategy's outcome model, i.e. what
  one pipeline batch does (exact per-copy phase draws + cos/sin + sums); the cost per copy is
  O(queries), independent of the number of modes;
* the same for a Strawberry Fields ``Engine.run`` of the per-mode Bell program with
  ``MeasureX``/``MeasureP`` (one mode of one copy per run; a 100-mode copy needs 100 runs).
  Not like for like (the pipeline sampler draws only the query phases, SF simulates every
  mode, and the SF figure includes its first call): ``python -m benchmarks --only collective``
  compares both sides computing the same per-copy terms, warmed;
* ``sample-complexity sweep``: wall time of the analysis' copies-needed sweep over
  n = 1..100 (12 values) for the conventional and the collective strategy, analytic and
  simulated where affordable, as configured in ``configs/displacement_learning.yaml``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from sensing.study.config import load_config
from sensing.study.registry import ANALYSES
from sensing.sf_compat import import_strawberryfields
from sensing.testing import build_detector, build_scene

from benchmarks.timing import rate

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "displacement_learning.yaml"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1 << 18, help="copies per sample_statistics call")
    parser.add_argument("--sf-runs", type=int, default=200, help="Strawberry Fields Engine.run calls to time")
    args = parser.parse_args(argv)
    raw, cfg = load_config(CONFIG)
    scene_settings = cfg.source.model_dump()
    bell_settings = next(d for d in cfg.detectors if d.kind == "bell").model_dump()
    with threadpool_limits(1):
        scene = build_scene(**scene_settings)
        detector = build_detector(**bell_settings)
        model = detector.outcome_model(scene.state())
        rng = np.random.default_rng(0)
        per_core = rate(lambda c: model.sample_statistics(rng, c), args.copies)
        print(f"collective (bell) strategy, {scene.settings.modes} modes, {scene.settings.queries} queries: "
              f"{per_core:.3g} copies/s per core (pipeline sampler)")
        one_query = build_scene(**{**scene_settings, "queries": 1})
        model1 = detector.outcome_model(one_query.state())
        print(f"  same with 1 query: {rate(lambda c: model1.sample_statistics(rng, c), args.copies):.3g} copies/s per core")

        sf = import_strawberryfields()
        prog = detector.program(0.3 + 0.1j, measure=True)
        start = time.perf_counter()
        for _ in range(args.sf_runs):
            sf.Engine("gaussian").run(prog)
        sf_mode_rate = args.sf_runs / (time.perf_counter() - start)
        print(f"  Strawberry Fields Engine.run (one mode of one copy per run): {sf_mode_rate:.3g} modes/s -> "
              f"{sf_mode_rate / scene.settings.modes:.3g} copies/s at {scene.settings.modes} modes "
              f"(x{per_core / (sf_mode_rate / scene.settings.modes):.2g} slower than the pipeline sampler; not like for like, "
              f"see python -m benchmarks --only collective)")

        analysis = ANALYSES["channel_learning"](cfg.analysis)
        conventional = analysis.conventional()
        start = time.perf_counter()
        collective = analysis._complexity(scene, detector)
        middle = time.perf_counter()
        reference = analysis._complexity(scene, conventional)
        end = time.perf_counter()
        modes = cfg.analysis.modes
        print(f"sample-complexity sweep to {modes[-1]} modes ({len(modes)} values, eps={cfg.analysis.epsilon}, "
              f"delta={cfg.analysis.delta}, simulated up to {cfg.analysis.empirical_max_copies:.0e} copies x "
              f"{cfg.analysis.empirical_repetitions} repetitions):")
        print(f"  collective: {middle - start:.2f} s wall; conventional: {end - middle:.2f} s wall")
        print(f"  {'modes':>5} {'collective N':>14} {'simulated':>10} {'conventional N':>15} {'simulated':>10} {'log10 adv':>9}")
        for i, n in enumerate(modes):
            print(f"  {n:>5} {collective['hoeffding'][i]:>14.3g} {collective['empirical'][i]:>10.4g} "
                  f"{reference['hoeffding'][i]:>15.3g} {reference['empirical'][i]:>10.4g} "
                  f"{np.log10(reference['hoeffding'][i] / collective['hoeffding'][i]):>9.2f}")


if __name__ == "__main__":
    main()
