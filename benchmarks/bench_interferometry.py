"""Sampling speed of the telescope-array schemes, and the wall time of the shipped study.

Run: ``python -m benchmarks.bench_interferometry`` (add ``--no-study`` to skip the study).

On one core (BLAS limited to one thread), for the array scene of the shipped study at a 10 km
baseline (H = 1.6 binary, 1 m apertures, ~1e-5 photons per mode), prints per scheme:

* ``per copy``: copies per second of the per-copy sampler (P-function sampler for the thermal
  schemes, exact-table draw for GJC) followed by the reducer to the pattern histogram;
* ``statistics``: copies per second of the exact sufficient-statistic sampler (one multinomial
  draw of 1e12 copies: its cost does not grow with copies);

each also as a ratio to an anchor measured in the same run: numpy drawing as many standard
normals as copies (``Generator.standard_normal``), so the figures travel between machines.
Then the wall time of ``sensing run configs/interferometry.yaml --scheduler synchronous``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from sensing.contracts.states import ApertureLight
from sensing.testing import build_detector, build_scene

from benchmarks.timing import rate

SCENE = {"kind": "array", "model": "binary", "baseline": "10 km", "wavelength": "1550 nm", "bandwidth": "10 nm",
         "separation": "1.5 mas", "position_angle": "90 deg", "flux_ratio": 0.15, "magnitude": 1.6, "band": "H",
         "throughput": 0.3}
SCHEMES = {
    "intensity": {"kind": "intensity", "timing_jitter": "20 ps", "efficiency": 0.9},
    "direct": {"kind": "direct", "efficiency": 0.9},
    "entanglement_assisted": {"kind": "entanglement_assisted", "efficiency": 0.9, "resource_efficiency": 0.9},
    "memory_array": {"kind": "memory_array", "efficiency": 0.9, "memory_efficiency": 0.9},
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200_000, help="copies per per-copy sampler call")
    parser.add_argument("--no-study", action="store_true", help="skip timing the shipped study")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    scene = build_scene(**SCENE)
    light = scene.prepare(ApertureLight)
    with threadpool_limits(1):
        anchor = rate(lambda c: rng.standard_normal(c), args.copies)
        print(f"anchor (numpy standard_normal): {anchor:.3e} draws/s per core")
        print(f"{'scheme':>22}  {'per copy [copies/s]':>20}  {'/anchor':>8}  {'statistics [copies/s]':>22}  {'/anchor':>8}")
        for name, settings in SCHEMES.items():
            model = build_detector(**settings).outcome_model(light)
            per_copy = rate(lambda c: model.reduce(model.sample(rng, c)), args.copies)
            big = 10**12
            stats = rate(lambda c: model.sample_statistics(rng, c), big, min_seconds=0.5)
            print(f"{name:>22}  {per_copy:20.3e}  {per_copy / anchor:8.3f}  {stats:22.3e}  {stats / anchor:8.3g}")
    if not args.no_study:
        config = Path(__file__).resolve().parents[1] / "configs" / "interferometry.yaml"
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sensing.cli", "run", str(config), "--out", out,
                            "--scheduler", "synchronous", "--overwrite"], check=True, capture_output=True)
            print(f"shipped study configs/interferometry.yaml: {time.perf_counter() - start:.1f} s wall (synchronous)")


if __name__ == "__main__":
    main()
