"""Scaling figures of the pipeline (a benchmark, not a test): one command prints them all.

    python -m benchmarks.bench_scaling [--quick]

1. Peak resident memory of a per-copy-sampled run (threshold camera) for 1e7 and 1e9 copies,
   each in its own subprocess (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), and their ratio.
2. Seconds for 1e12 copies with the exact sufficient-statistic sampler (complex Wishart,
   number-resolving camera), with the default batch size (1e4 batches per repetition) and with
   one batch.
3. Wall-clock seconds of the shipped sweep on an embedded LocalCluster of 1 and of 2 workers
   (cluster start-up included) and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "superresolution.yaml"
ONE_CAMERA = {"sweep": {}, "repetitions": 2, "detectors": [
    {"name": "camera", "kind": "camera", "pixel_pitch": 0.1, "pixels": 120, "efficiency": 0.9}]}


def _child(spec: dict) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import resource

    import sensing

    start = time.perf_counter()
    ds = sensing.run(CONFIG, spec["overrides"], scheduler=spec["scheduler"])
    seconds = time.perf_counter() - start
    assert ds["estimate"].notnull().all()
    print(json.dumps({"seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(overrides: dict, scheduler: str) -> dict:
    spec = json.dumps({"overrides": overrides, "scheduler": scheduler})
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_scaling, json; bench_scaling._child(json.loads({spec!r}))"
    if scheduler == "local":
        code = "if __name__ == '__main__':\n    " + code.replace("; ", "\n    ")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e8 instead of 1e9 copies for the memory figure")
    args = parser.parse_args()
    large = 10**8 if args.quick else 10**9

    import os

    print(f"load average before the benchmark: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
          "(other processes on the machine distort the speed-up figure)")
    print("peak RSS, threshold camera (per-copy sampler), batch_size 1e7, synchronous scheduler, 2 repetitions")
    rss = {}
    for copies in (10**7, large):
        threshold = {**ONE_CAMERA, "copies": [copies], "pipeline": {"batch_size": 10**7},
                     "detectors": [{**ONE_CAMERA["detectors"][0], "pixel_type": "threshold"}]}
        r = measure(threshold, "synchronous")
        rss[copies] = r["peak_rss_mib"]
        print(f"  {copies:.0e} copies: peak RSS {r['peak_rss_mib']:.0f} MiB, {r['seconds']:.1f} s")
    print(f"  ratio {large:.0e}/1e7: {rss[large] / rss[10**7]:.3f} (must be <= 1.5)")

    print("1e12 copies, number-resolving camera (complex-Wishart sufficient statistics), 2 repetitions")
    for batch in (10**8, 10**12):
        r = measure({**ONE_CAMERA, "copies": [10**12], "pipeline": {"batch_size": batch}}, "synchronous")
        print(f"  batch_size {batch:.0e} ({10**12 // batch} batches per repetition): {r['seconds']:.2f} s "
              "(run total, including the analysis)")

    import numpy as np

    from sensing.api import build_model, plan

    _, _, _, built = plan(CONFIG, {**ONE_CAMERA, "copies": [10**12]})
    model = build_model(built[0][1], built[0][2][0])
    start = time.perf_counter()
    model.sample_statistics(np.random.default_rng(1), 10**12)
    print(f"  one sample_statistics call for 1e12 copies alone: {1e3 * (time.perf_counter() - start):.2f} ms")

    print("shipped sweep (configs/superresolution.yaml: 9 points x 3 detectors), embedded LocalCluster")
    seconds = {}
    for workers in (1, 2):
        seconds[workers] = measure({"pipeline.workers": workers}, "local")["seconds"]
        print(f"  {workers} worker{'s' * (workers > 1)}: {seconds[workers]:.1f} s")
    print(f"  speed-up 2 vs 1 workers: {seconds[1] / seconds[2]:.2f}x")


if __name__ == "__main__":
    main()
