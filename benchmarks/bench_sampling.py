"""Sampling speed of the counting detectors against Strawberry Fields' own sampling.

Run: ``python -m benchmarks.bench_sampling`` (prints copies per second per core).

Measures, on one core (BLAS limited to one thread), for the superresolution scene at
d = 0.5 sigma with 5e-3 photons per copy:

* ``sufficient statistics``: the exact sampler of summed counts (complex Wishart + Poisson)
  that the pipeline uses for number-resolving outputs; its cost does not grow with copies;
* ``per copy``: the exact per-copy sampler followed by the reducer (what raw outcomes or
  threshold outputs need);
* ``Strawberry Fields``: ``Engine("gaussian").run`` of the scene's program followed by
  ``MeasureFock`` on the sorter's mode basis, one copy per run (the camera's pixels are not
  modes, so SF cannot sample the camera directly; the same Fock sampling is what a camera
  simulation through SF would start from).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sensing.sf_compat import import_strawberryfields
from sensing.testing import build_detector, build_scene

from benchmarks.timing import rate


def sf_rate(scene, runs: int) -> float:
    sf = import_strawberryfields()
    prog = scene.program()
    with prog.context as q:
        sf.ops.MeasureFock() | q
    start = time.perf_counter()
    for _ in range(runs):
        sf.Engine("gaussian").run(prog)
    return runs / (time.perf_counter() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf-runs", type=int, default=10, help="Engine.run calls timed for SF (default 10)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    scene = build_scene(separation=0.5, photons_per_copy=5e-3, basis_modes=8)
    detectors = {
        "camera (120 pixels)": build_detector(kind="camera", pixel_pitch=0.1, pixels=120),
        "spade (8 modes + bucket)": build_detector(kind="spade", modes=7),
    }
    with threadpool_limits(limits=1):
        sf_per_second = sf_rate(scene, args.sf_runs)
        print(f"Strawberry Fields, gaussian backend + MeasureFock (8 modes): {sf_per_second:,.2f} copies/s per core")
        print(f"{'detector':26s} {'sampler':24s} {'copies/s per core':>18s} {'x SF':>10s}")
        for name, detector in detectors.items():
            model = detector.outcome_model(scene.state())
            fast = rate(lambda c: model.sample_statistics(rng, c), 10**9)
            slow = rate(lambda c: model.reduce(model.sample(rng, c)), 10**6)
            for label, value in (("sufficient statistics", fast), ("per copy + reduce", slow)):
                print(f"{name:26s} {label:24s} {value:18.3e} {value / sf_per_second:10.2e}")


if __name__ == "__main__":
    main()
