"""The benchmark suite behind ``python -m benchmarks``: every row is timed against an anchor
measured in the same run (see ``benchmarks/README.md`` for the rows and the results file).

Rules kept by every row:

* BLAS limited to one thread (``threadpoolctl`` in this process, ``OMP/OPENBLAS/MKL_NUM_THREADS=1``
  for the child processes);
* a figure that costs under a few seconds is the median of at least 3 repetitions, each after a
  warm-up call (first calls, e.g. Strawberry Fields' numba compilation, are timed and reported
  apart);
* per-copy samplers are compared with numpy drawing the same number of variates; sufficient-
  statistic samplers (``draws_per_copy() == 0``) are reported as calls per second and seconds per
  10^12 copies, never as copies per second.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SUPERRESOLUTION = CONFIGS / "superresolution.yaml"
RESULTS = Path(__file__).resolve().parent / "results.jsonl"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TINY_RUN = ["--set", "sweep={}", "--set", "copies=[1000]", "--set", "repetitions=2"]


@dataclass
class Row:
    """One printed (and recorded) figure: ``value`` against ``anchor_value`` measured in the same run."""

    row: str
    value: float
    unit: str
    anchor: str | None = None
    anchor_value: float | None = None
    ratio: float | None = None
    ratio_meaning: str | None = None
    target: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Context:
    quick: bool
    repeats: int
    explicit: bool = False  # benchmarks named with --only (run even where --quick would skip them)
    memo: dict = field(default_factory=dict)

    def once(self, key: str, compute: Callable):
        """A measurement shared by several rows of the run (computed on first use)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


# -- timing helpers -----------------------------------------------------------------------------
def child_env() -> dict:
    return {**os.environ, **ONE_THREAD}


def timed_process(args: list[str], cwd: Path | None = None) -> dict:
    """Wall and CPU seconds of one child process (``time.perf_counter`` and ``RUSAGE_CHILDREN``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd or tempfile.gettempdir(), env=child_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": done.stdout}


def median_process(args: list[str], repeats: int) -> dict:
    runs = [timed_process(args) for _ in range(repeats)]
    walls = [r["wall"] for r in runs]
    return {"wall": float(np.median(walls)), "cpu": float(np.median([r["cpu"] for r in runs])), "walls": walls,
            "stdout": runs[-1]["stdout"]}


def cli_run(config: Path, *extra: str, scheduler: str = "synchronous") -> dict:
    """Wall of ``python -m sensing.cli run`` into a fresh output folder."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        args = [sys.executable, "-m", "sensing.cli", "run", str(config), *extra, "--quiet", "--no-plots",
                "--out", str(Path(tmp) / "out")]
        if scheduler is not None:
            args += ["--scheduler", scheduler]
        return timed_process(args)


def median_cli_run(config: Path, *extra: str, repeats: int, scheduler: str = "synchronous") -> dict:
    runs = [cli_run(config, *extra, scheduler=scheduler) for _ in range(repeats)]
    walls = [r["wall"] for r in runs]
    return {"wall": float(np.median(walls)), "cpu": float(np.median([r["cpu"] for r in runs])), "walls": walls}


def per_second(function: Callable[[], object], repeats: int, min_seconds: float = 0.2) -> tuple[float, list[float]]:
    """Median calls per second of ``function()`` over ``repeats`` blocks of at least ``min_seconds``
    each, after one warm-up call."""
    function()
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            function()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(calls / elapsed)
    return float(np.median(rates)), rates


def import_anchor(ctx: Context) -> dict:
    """Wall of ``python -c "import numpy, scipy, xarray"`` (the anchor of every whole-process row)."""
    return ctx.once("import_anchor", lambda: median_process(
        [sys.executable, "-c", "import numpy, scipy, xarray"], max(3, ctx.repeats)))


# -- 1. fixed cost --------------------------------------------------------------------------------
IMPORT_TIMER = ("import time; start = time.perf_counter(); import {module}; "
                "print(time.perf_counter() - start)")
VALIDATE_PROBE = (
    "import sys\n"
    "from sensing.cli import main\n"
    "try:\n    main(['validate', {config!r}])\n"
    "except SystemExit:\n    pass\n"
    "import json\n"
    "print('\\n' + json.dumps({{m: m in sys.modules for m in ('strawberryfields', 'matplotlib', 'dask.distributed')}}))\n"
)


def bench_fixed_cost(ctx: Context) -> Iterator[Row]:
    anchor = import_anchor(ctx)
    tiny = median_cli_run(SUPERRESOLUTION, *TINY_RUN, repeats=max(3, ctx.repeats))
    ctx.memo["tiny_run"] = tiny
    yield Row("fixed: 1-point tiny run (imports included)", tiny["wall"], "s", "python -c 'import numpy, scipy, xarray'",
              anchor["wall"], tiny["wall"] / anchor["wall"], "value/anchor", "<= 3 s",
              {"walls": tiny["walls"], "cpu": tiny["cpu"], "anchor_walls": anchor["walls"]})
    api = [float(timed_process([sys.executable, "-c", IMPORT_TIMER.format(module="sensing.api")])["stdout"])
           for _ in range(max(3, ctx.repeats))]
    base = [float(timed_process([sys.executable, "-c", IMPORT_TIMER.format(module="numpy, scipy, xarray")])["stdout"])
            for _ in range(max(3, ctx.repeats))]
    yield Row("fixed: import sensing.api (in process)", float(np.median(api)), "s", "import numpy, scipy, xarray (in process)",
              float(np.median(base)), float(np.median(api) / np.median(base)), "value/anchor", None,
              {"samples": api, "anchor_samples": base})
    probe = timed_process([sys.executable, "-c", VALIDATE_PROBE.format(config=str(SUPERRESOLUTION))])
    loaded = json.loads(probe["stdout"].strip().splitlines()[-1])
    for module in ("strawberryfields", "matplotlib"):
        yield Row(f"fixed: `sensing validate` imports {module}", float(loaded[module]), "1=yes 0=no", None, None, None,
                  None, "0 (lazy import)", {"validate_wall": probe["wall"]})


# -- 2. per-point and per-repetition cost -----------------------------------------------------------
def separations(points: int) -> str:
    values = np.linspace(0.05, 2.0, points) if points > 1 else np.array([0.5])
    return "sweep={source.separation: [" + ", ".join(f"{v:.6g}" for v in values) + "]}"


def fit_line(xs, ys) -> tuple[float, float]:
    """Least squares ``y = a + b x``: returns ``(a, b)``."""
    b, a = np.polyfit(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), 1)
    return float(a), float(b)


def sweep_wall(ctx: Context, points: int) -> dict:
    return ctx.once(f"sweep{points}", lambda: cli_run(SUPERRESOLUTION, "--set", separations(points)))


def bench_sweep(ctx: Context) -> Iterator[Row]:
    anchor = import_anchor(ctx)
    sizes = (1, 3, 9) if ctx.quick else (3, 9, 27)
    walls = [sweep_wall(ctx, p)["wall"] for p in sizes]
    a, b = fit_line(sizes, walls)
    info = {"points": list(sizes), "walls": walls}
    yield Row(f"sweep fit: fixed cost a ({'/'.join(map(str, sizes))} points)", a, "s",
              "python -c 'import numpy, scipy, xarray'", anchor["wall"], a / anchor["wall"], "value/anchor", "<= 3 s", info)
    yield Row("sweep fit: cost per sweep point b", 1e3 * b, "ms", None, None, None, None, "<= 50 ms", info)
    # linearity check: the slope between the two larger sweeps against the one between the two smaller
    low = (walls[1] - walls[0]) / (sizes[1] - sizes[0])
    high = (walls[2] - walls[1]) / (sizes[2] - sizes[1])
    yield Row(f"sweep: cost per point {sizes[1]}->{sizes[2]} points", 1e3 * high, "ms",
              f"cost per point {sizes[0]}->{sizes[1]} points, ms", 1e3 * low, high / low, "value/anchor (1 if linear)",
              None, info)
    reps = (25, 50, 100)
    # 1 point with the shipped 100 repetitions is the 1-point sweep run: measured once, used twice
    rep_walls = [(sweep_wall(ctx, 1) if r == 100 else
                  cli_run(SUPERRESOLUTION, "--set", separations(1), "--set", f"repetitions={r}"))["wall"] for r in reps]
    a_r, b_r = fit_line(reps, rep_walls)
    yield Row("sweep fit: cost per repetition (1 point, 25/50/100)", 1e3 * b_r, "ms", None, None, None, None, "<= 5 ms",
              {"repetitions": list(reps), "walls": rep_walls, "intercept": a_r})


# -- 3. two workers against one ------------------------------------------------------------------------
def bench_workers(ctx: Context) -> Iterator[Row]:
    if ctx.quick and not ctx.explicit:
        print("workers: skipped in --quick (two cluster runs of the 27-point sweep); run it with --only workers", flush=True)
        return
    points = 9 if ctx.quick else 27
    sweep = ["--set", separations(points)]
    one = cli_run(SUPERRESOLUTION, *sweep, "--set", "pipeline.workers=1", scheduler="local")
    two = cli_run(SUPERRESOLUTION, *sweep, "--set", "pipeline.workers=2", scheduler="local")
    yield Row(f"workers: {points}-point sweep, local cluster, 2 workers", two["wall"], "s", "same, 1 worker", one["wall"],
              one["wall"] / two["wall"], "speed-up anchor/value", ">= 1.8x",
              {"cpu_two": two["cpu"], "cpu_one": one["cpu"]})
    if ctx.quick:
        return
    # The same sweep with ten times the repetitions: the work a cluster shares grows tenfold while
    # its start, the imports on the workers and the client's planning stay the same (Amdahl).
    heavy = [*sweep, "--set", "repetitions=1000"]
    one = cli_run(SUPERRESOLUTION, *heavy, "--set", "pipeline.workers=1", scheduler="local")
    two = cli_run(SUPERRESOLUTION, *heavy, "--set", "pipeline.workers=2", scheduler="local")
    yield Row(f"workers: {points}-point sweep x 1000 repetitions, local cluster, 2 workers", two["wall"], "s",
              "same, 1 worker", one["wall"], one["wall"] / two["wall"], "speed-up anchor/value", ">= 1.8x",
              {"cpu_two": two["cpu"], "cpu_one": one["cpu"]})


# -- 4. shipped configs ----------------------------------------------------------------------------------
TARGETS = {"superresolution": "<= 4 s", "superresolution_2d": "<= 8 s"}


def bench_configs(ctx: Context) -> Iterator[Row]:
    anchor = import_anchor(ctx)
    configs = [SUPERRESOLUTION] if ctx.quick else sorted(CONFIGS.glob("*.yaml"))
    for config in configs:
        if config == SUPERRESOLUTION:
            sync = sweep_wall(ctx, 9)  # the shipped sweep has 9 separations: the same run as the 9-point fit
        else:
            sync = cli_run(config)
        target = TARGETS.get(config.stem, "< 60 s")
        yield Row(f"config {config.stem}: synchronous", sync["wall"], "s", "python -c 'import numpy, scipy, xarray'",
                  anchor["wall"], sync["wall"] / anchor["wall"], "value/anchor", target, {"cpu": sync["cpu"]})
        default = cli_run(config, scheduler=None)
        yield Row(f"config {config.stem}: default scheduler", default["wall"], "s", "same, synchronous", sync["wall"],
                  default["wall"] / sync["wall"], "value/anchor", target, {"cpu": default["cpu"]})


# -- 5. per-copy samplers against the random-number limit ------------------------------------------------
def bench_samplers(ctx: Context) -> Iterator[Row]:
    from sensing.study.registry import DETECTORS
    from sensing.testing import detector_case

    rng = np.random.default_rng(1)
    draws_per_call = 2_000_000 if not ctx.quick else 500_000
    for kind in sorted(DETECTORS):
        for case in range(len(DETECTORS[kind].examples())):
            _, _, model = detector_case(DETECTORS[kind], case)
            draws = model.draws_per_copy()
            name = f"sampler {kind}[{case}]"
            if draws > 0:
                copies = int(min(1e8, max(1e3, draws_per_call / draws)))
                variates = int(round(copies * draws))
                ours, _ = per_second(lambda: model.sample_statistics(rng, copies), ctx.repeats)
                normal, _ = per_second(lambda: rng.standard_normal(variates), ctx.repeats)
                uniform, _ = per_second(lambda: rng.random(variates), ctx.repeats)
                yield Row(name, ours * copies, "copies/s", f"rng.standard_normal, {draws:g} per copy", normal * copies,
                          ours / normal, "fraction of the random-number limit", ">= 0.5",
                          {"draws_per_copy": draws, "copies_per_call": copies, "model": type(model).__name__,
                           "uniform_limit_copies_per_s": uniform * copies, "fraction_of_uniform": ours / uniform})
            else:
                copies = 10**12  # one call draws the totals of 1e12 copies: its time is the s per 1e12 copies
                calls, _ = per_second(lambda: model.sample_statistics(rng, copies), ctx.repeats)
                normal, _ = per_second(lambda: rng.standard_normal(1_000_000), ctx.repeats)
                anchor_seconds = 1e12 / (normal * 1e6)  # numpy drawing one normal per copy, 1e12 copies (linear)
                yield Row(f"{name} sufficient statistics: calls", calls, "calls/s", None, None, None, None, None,
                          {"copies_per_call": copies, "model": type(model).__name__})
                yield Row(f"{name} sufficient statistics: per 1e12 copies", 1.0 / calls, "s", "rng.standard_normal, 1 per copy",
                          anchor_seconds, anchor_seconds * calls, "anchor/value", None, {"copies_per_call": copies})


# -- 6./7. Strawberry Fields and thewalrus on the superresolution light ------------------------------------
def superresolution_light():
    """The superresolution scene (d = 0.5 sigma, 5e-3 photons per copy) in 8 Hermite-Gauss modes and
    the exact per-copy counting model of an ideal 8-mode SPADE (no bucket, no loss, no dark
    counts): its outputs are exactly the scene's 8 modes, what SF and thewalrus sample."""
    from sensing.testing import build_detector, build_scene

    scene = build_scene(separation=0.5, photons_per_copy=5e-3, basis_modes=8)
    spade = build_detector(kind="spade", modes=8, bucket=False, efficiency=1.0)
    return scene, spade.outcome_model(scene.prepare(spade.accepts))


def bench_strawberryfields(ctx: Context) -> Iterator[Row]:
    from sensing.sf_compat import import_strawberryfields

    if ctx.quick and not ctx.explicit:
        print("strawberryfields: skipped in --quick (with numba's on-disk cache empty its first MeasureFock compiles "
              "for about a minute); "
              "run it with --only strawberryfields", flush=True)
        return

    sf = import_strawberryfields()
    scene, model = superresolution_light()
    prog = scene.program()
    with prog.context as q:
        sf.ops.MeasureFock() | q
    rng = np.random.default_rng(2)
    start = time.perf_counter()
    sf.Engine("gaussian").run(prog)
    first = time.perf_counter() - start
    # Warm-up until 3 copies had photons: only 0.5 % of copies do, and the first non-empty copies
    # compile further numba code (one empty warm-up call left that inside the "warm" rate).
    lit, warm_runs, start = 0, 0, time.perf_counter()
    while lit < 3 and warm_runs < 5000:
        lit += int(np.sum(sf.Engine("gaussian").run(prog).samples) > 0)
        warm_runs += 1
    warm_up = time.perf_counter() - start
    runs = 3 if ctx.quick else 10
    sf_rate, samples = per_second(lambda: [sf.Engine("gaussian").run(prog) for _ in range(runs)], ctx.repeats, 0.5)
    sf_rate *= runs
    copies = 100_000
    ours, _ = per_second(lambda: model.reduce(model.sample(rng, copies)), ctx.repeats)
    yield Row("SF: first Engine.run + MeasureFock in the process", first, "s", "warm Engine.run, s per copy", 1 / sf_rate,
              first * sf_rate, "value/anchor", None, {})
    yield Row("SF: warm-up until 3 non-empty copies (compilation)", warm_up, "s", "the same runs at the warm rate, s",
              warm_runs / sf_rate, warm_up * sf_rate / warm_runs, "value/anchor", None,
              {"warm_up_runs": warm_runs, "lit_copies": lit})
    yield Row("SF: per-copy counts, 8 HG modes, ours (sample+reduce)", ours * copies, "copies/s",
              "SF Engine('gaussian').run + MeasureFock, warm", sf_rate, ours * copies / sf_rate, "ours/SF", None,
              {"copies_per_call": copies})


def bench_thewalrus(ctx: Context) -> Iterator[Row]:
    from sensing.sf_compat import import_strawberryfields
    from thewalrus.samples import hafnian_sample_classical_state

    sf = import_strawberryfields()
    scene, model = superresolution_light()
    cov = sf.Engine("gaussian").run(scene.program()).state.cov()  # xxpp, hbar = 2 (SF's default)
    rng = np.random.default_rng(3)
    copies = 100_000  # the same in --quick: the ratio depends on the copies per call (ours is mostly empty copies)
    walrus, _ = per_second(lambda: hafnian_sample_classical_state(cov, copies), ctx.repeats)
    ours, _ = per_second(lambda: model.sample(rng, copies), ctx.repeats)
    yield Row("thewalrus: classical-light counts, 8 HG modes, ours per copy", ours * copies, "copies/s",
              "thewalrus hafnian_sample_classical_state, warm", walrus * copies, ours / walrus, "ours/thewalrus", None,
              {"copies_per_call": copies})


# -- 8. the collective strategy like for like -------------------------------------------------------------
def bench_collective(ctx: Context) -> Iterator[Row]:
    from sensing.sf_compat import import_strawberryfields
    from sensing.study.config import load_config
    from sensing.testing import build_detector, build_scene

    sf = import_strawberryfields()
    _, cfg = load_config(CONFIGS / "displacement_learning.yaml")
    scene = build_scene(**cfg.source.model_dump())
    detector = build_detector(**next(d for d in cfg.detectors if d.kind == "bell").model_dump())
    start = time.perf_counter()
    sf.Engine("gaussian").run(detector.program(0.3 + 0.1j, measure=True))
    first = time.perf_counter() - start  # the process's first SF run of this program (before any other)
    model = detector.outcome_model(scene.prepare(detector.accepts))
    modes, queries = scene.settings.modes, scene.settings.queries
    gain, _ = detector.gain_and_noise()
    m0 = detector.measured_moments(0.0)[0]
    rng = np.random.default_rng(4)

    def terms(estimates):
        """Per-copy statistic exp(beta . a* - beta* . a) of every query from full estimates (copies, n)."""
        inner = estimates.conj() @ model.queries.T  # sum_j conj(a_j) beta_qj
        return np.exp(inner - inner.conj())

    def sf_copy():
        """One copy through SF: the channel's displacement drawn (as ours), then every mode's Bell
        program (signal displaced, MeasureX / MeasureP), the 8 query terms from the 100 estimates."""
        alpha = model.channel.sample(rng, 1)[0]
        estimates = np.empty(modes, dtype=complex)
        for j in range(modes):
            result = sf.Engine("gaussian").run(detector.program(complex(alpha[j]), measure=True))
            x, p = np.ravel(result.samples)[:2]
            estimates[j] = (x - m0[0]) / gain[0] + 1j * (p - m0[1]) / gain[1]
        return terms(estimates[None])

    sf_rate, _ = per_second(sf_copy, ctx.repeats, 0.5)
    copies = 20_000
    ours_full, _ = per_second(lambda: terms(model.sample_estimates(rng, copies)), ctx.repeats)
    yield Row("collective: first SF Engine.run of the Bell program (1 mode)", first, "s",
              "warm SF, s per mode", 1 / (sf_rate * modes), first * sf_rate * modes, "value/anchor", None, {})
    yield Row(f"collective: {modes}-mode outcome -> {queries} query terms, ours", ours_full * copies,
              "copies/s", f"SF: {modes} Bell Engine.runs per copy, same terms, warm", sf_rate, ours_full * copies / sf_rate,
              "ours/SF", None, {"copies_per_call": copies})
    big = 1 << 18 if not ctx.quick else 1 << 16
    draws = model.draws_per_copy()
    pipeline, _ = per_second(lambda: model.sample_statistics(rng, big), ctx.repeats)
    normal, _ = per_second(lambda: rng.standard_normal(int(big * draws)), ctx.repeats)
    yield Row(f"collective: pipeline sampler ({queries} query phases per copy)", pipeline * big, "copies/s",
              f"rng.standard_normal, {draws:g} per copy", normal * big, pipeline / normal,
              "fraction of the random-number limit", ">= 0.5", {"draws_per_copy": draws})
    yield Row("collective: pipeline sampler vs our full per-copy outcome", pipeline * big, "copies/s",
              f"ours, full {modes}-mode outcome per copy", ours_full * copies, pipeline * big / (ours_full * copies),
              "value/anchor (the statistic needs only the query phases)", None, {})


BENCHMARKS: dict[str, Callable[[Context], Iterator[Row]]] = {
    "fixed_cost": bench_fixed_cost,
    "sweep": bench_sweep,
    "workers": bench_workers,
    "configs": bench_configs,
    "samplers": bench_samplers,
    "strawberryfields": bench_strawberryfields,
    "thewalrus": bench_thewalrus,
    "collective": bench_collective,
}


# -- recording and printing ----------------------------------------------------------------------------------
def provenance() -> dict:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--",
                                     ".", ":!benchmarks/results.jsonl"],
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    return {"git_commit": commit or None, "git_dirty": dirty, "python": platform.python_version(),
            "numpy": np.__version__, "cpu_count": os.cpu_count(), "machine": platform.machine()}


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return f"{value:.3g}"


def print_row(row: Row, out=sys.stdout) -> None:
    print(f"{row.row:66.66s} {fmt(row.value):>10s} {row.unit:10.10s} {fmt(row.anchor_value):>10s} {fmt(row.ratio):>9s} "
          f"{(row.target or '-'):>9s}  {row.anchor or ''}", file=out, flush=True)


HEADER = f"{'row':66s} {'value':>10s} {'unit':10s} {'anchor':>10s} {'ratio':>9s} {'target':>9s}  anchor is"


def run(names: list[str], quick: bool, results: Path = RESULTS, repeats: int | None = None,
        explicit: bool = False) -> list[Row]:
    from threadpoolctl import threadpool_limits

    ctx = Context(quick=quick, repeats=repeats or 3, explicit=explicit)
    meta = provenance()
    rows: list[Row] = []
    print(f"python {meta['python']}, numpy {meta['numpy']}, {meta['cpu_count']} CPUs, commit {meta['git_commit']}"
          f"{' (dirty)' if meta['git_dirty'] else ''}, load average {os.getloadavg()[0]:.2f}; one BLAS thread; "
          f"{'quick' if quick else 'full'} run")
    print(HEADER)
    start = time.perf_counter()
    with threadpool_limits(limits=1), results.open("a") as sink:
        for name in names:
            try:
                for row in BENCHMARKS[name](ctx):
                    rows.append(row)
                    print_row(row)
                    record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **meta,
                              "benchmark": name, "quick": quick, "load_average": os.getloadavg()[0], **asdict(row)}
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
            except Exception as error:  # one failing benchmark must not hide the others
                print(f"{name}: FAILED: {type(error).__name__}: {str(error)[:500]}", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s wall; rows appended to {results}")
    return rows
