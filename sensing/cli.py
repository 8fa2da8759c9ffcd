"""Command line: ``sensing run CONFIG`` and ``sensing validate CONFIG``.

Exit codes: 0 success; 2 invalid config or refused output (nothing written); 1 a failure
while running (the message names the sweep point and detector; finished sweep points are
kept in ``OUT/points`` for ``--resume``); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sensing", description="Quantum sensing pipelines: run and check configured studies.")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("config", help="YAML config file (see configs/)")
    common.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE", default=[],
                        help="override a config field, e.g. --set source.photons_per_copy=1e-3 (value parsed as YAML); repeatable")
    run = sub.add_parser("run", parents=[common], help="run a config and write results.nc, plots and a summary")
    run.add_argument("--out", type=Path, default=None, help="output folder (default: results/<config name>)")
    run.add_argument("--scheduler", default=None,
                     help="dask scheduler: tcp://HOST:PORT of an existing cluster, 'local' (default), 'threads' or 'synchronous'")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing results.nc (kept until the new one is complete) and discard checkpoints of an unfinished run")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in the output folder: compute only the sweep points not yet checkpointed")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--debug", action="store_true", help="show the full traceback of a failure")
    sub.add_parser("validate", parents=[common], help="check a config; exit 0 if valid, 2 with the problems if not")
    _add_predict_parser(sub)
    _add_export_parser(sub)
    return parser


def _report(err) -> None:
    print("error: invalid configuration", file=sys.stderr)
    for path, message in err.problems:
        print(f"  {path}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export":
        return _export(args)
    if args.command == "predict":
        return _predict(args)
    from sensing.pipelines.graph import PointFailure
    from sensing.study.config import ConfigError, parse_overrides

    try:
        overrides = parse_overrides(args.overrides)
        if args.command == "validate":
            from sensing.api import plan

            from sensing.api import estimate_seconds

            _, cfg, dims, built = plan(args.config, overrides)
            points = len(built)
            copies = f"copies up to {max(cfg.copies):.3g}" if cfg.copies else f"copies up to {cfg.target.max_copies:.3g} (target)"
            cost = estimate_seconds(cfg, built)
            print(f"{args.config}: valid ({points} sweep point{'s' * (points != 1)}, "
                  f"{len(cfg.detectors)} detector{'s' * (len(cfg.detectors) != 1)}, {copies}; "
                  f"estimated sampling {_duration(cost)} on one core, before the analysis)")
            return EXIT_OK
        return _run(args, overrides)
    except ConfigError as err:
        _report(err)
        return EXIT_USAGE
    except FileExistsError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except PointFailure as err:  # a sweep point's model failed while planning
        if getattr(args, "debug", False):
            raise
        print(f"error: the run failed, no results were written: {_one_line(err)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; finished sweep points are kept in the output folder: continue with --resume", file=sys.stderr)
        return 130
    except Exception as err:  # a bug, not bad input: one line, the traceback only with --debug
        if getattr(args, "debug", False):
            raise
        print(f"error: internal error ({_one_line(err)}); please report it, with the traceback that --debug shows",
              file=sys.stderr)
        return EXIT_FAILED


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.2g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def _run(args, overrides) -> int:
    from sensing.pipelines.checkpoint import FolderLock

    out = Path(args.out or Path("results") / Path(args.config).stem)
    planned = _check_run_inputs(args, overrides, out)
    with FolderLock(out):
        return _run_locked(args, overrides, planned, out)


def _check_run_inputs(args, overrides, out: Path):
    """Every refusal of ``sensing run`` (exit 2) before anything is touched."""
    from sensing.api import plan
    from sensing.pipelines.cluster import check_scheduler
    from sensing.study.config import ConfigError

    planned = plan(args.config, overrides)  # every config problem before anything is touched
    if args.scheduler:
        try:
            check_scheduler(args.scheduler)  # parsed before any connection is tried
        except ValueError as err:
            raise ConfigError([("--scheduler", str(err))]) from None
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {str(out)!r} is a file, not a folder (nothing was changed)")
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise FileExistsError(f"--out {str(out)!r}: {str(probe)!r} is not writable (nothing was changed)")
    return planned


def _run_locked(args, overrides, planned, out: Path) -> int:
    import shutil
    import tempfile

    from sensing import results
    from sensing.api import run
    from sensing.pipelines.checkpoint import PointStore, WriteError, atomic_write
    from sensing.pipelines.cluster import show_progress
    from sensing.study.config import ConfigError
    from sensing.snapshots import write_artifacts
    from sensing.study.registry import ANALYSES

    cfg = planned[1]
    results.check_writable(out, args.overwrite)
    for name in ANALYSES[cfg.analysis.kind].artifact_files:
        if (out / name).exists() and not args.overwrite:
            raise FileExistsError(f"{out / name} exists; pass --overwrite to replace it (nothing was changed)")
    store = PointStore(out)
    if store.exists() and not args.resume:
        if not store.has_points():
            store.discard()  # a run stopped before any point finished: nothing to keep
        elif not args.overwrite:
            raise FileExistsError(f"{store.folder} holds checkpoints of an unfinished run; pass --resume to continue it "
                                  "or --overwrite to discard them and start again (nothing was changed)")
        else:
            store.discard()

    def kept() -> str:
        return f"; finished sweep points are kept in {store.folder} (continue with --resume)" if store.has_points() else ""

    start = time.perf_counter()
    artifacts: dict = {}
    try:
        ds = run(args.config, overrides, scheduler=args.scheduler, progress=show_progress(args.quiet),
                 checkpoints=out, resume=args.resume, planned=planned, artifacts=artifacts,
                 announce=None if args.quiet else (lambda where: print(f"scheduler: {where}", file=sys.stderr)))
    except Exception as err:  # a failed run: one line naming what failed (a PointFailure names the sweep point)
        if args.debug or isinstance(err, (ConfigError, FileExistsError)):
            raise
        if store.exists() and not store.has_points():
            store.discard()  # nothing finished: leave the folder as it was
        print(f"error: the run failed, no results were written: {_one_line(err)}{kept()}", file=sys.stderr)
        return EXIT_FAILED

    # Everything that can fail after sampling (encoding, plots, summary) happens before
    # results.nc is touched; the outputs then replace the old ones together.
    analysis = ANALYSES[cfg.analysis.kind](cfg.analysis)
    staging = None
    try:
        content = results.encode(ds)
        text = analysis.summary(ds)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
        plots = [] if args.no_plots else analysis.plots(ds, staging)
        kept_data = write_artifacts(out, artifacts, overwrite=args.overwrite)  # e.g. snapshots.nc (before results.nc)
        path = results.write(content, out, overwrite=args.overwrite)
        written = [path] + kept_data
        for plot in plots:
            os.replace(plot, out / Path(plot).name)
            written.append(out / Path(plot).name)
        atomic_write(out / "summary.txt", (text + "\n").encode())
    except WriteError as err:
        print(f"error: {err}; no results were written{kept()}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        if args.debug:
            raise
        print(f"error: the results could not be prepared ({_one_line(err)}); no results were written{kept()}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    store.discard()  # results.nc holds everything now
    if not args.quiet:
        print(text)
        print(f"\n{cfg.name}: {time.perf_counter() - start:.1f} s; wrote " + ", ".join(str(p) for p in written + [out / 'summary.txt']))
    return EXIT_OK


# -- sensing predict RUN_DIR: measure first, ask later ---------------------------------------------
def _add_predict_parser(sub) -> None:
    predict = sub.add_parser("predict", help="predict new properties from the snapshots a run kept (writes predictions.nc)")
    predict.add_argument("run_dir", type=Path, help="output folder of `sensing run` (results.nc, snapshots.nc)")
    predict.add_argument("--observable", action="append", default=[], metavar="PAULI",
                         help="a Pauli string, dense 'XZIIY' or sparse 'X0 Z3'; repeatable")
    predict.add_argument("--observable-file", type=Path, default=None,
                         help="YAML: a list of observables, or a mapping of analysis fields (observables, fidelity, "
                              "renyi2_subsystems, density_elements, wigner_points, ...)")
    predict.add_argument("--out", type=Path, default=None, help="folder of predictions.nc (default: RUN_DIR)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing predictions.nc")
    predict.add_argument("--quiet", action="store_true", help="no table of predictions")


def _predict(args) -> int:
    from sensing.api import PREDICTIONS_FILE, predict
    from sensing.snapshots import SnapshotStoreError
    from sensing.study.config import ConfigError

    try:
        ds = predict(args.run_dir, args.observable, args.observable_file, out=args.out, overwrite=args.overwrite)
    except ConfigError as err:
        _report(err)
        return EXIT_USAGE
    except (FileExistsError, SnapshotStoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # e.g. cannot write predictions.nc: one line naming the path
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    if not args.quiet:
        sweep = [d for d in ds["prediction"].dims if d not in ("detector", "copies", "observable")]
        first = ds.isel({d: 0 for d in sweep}).isel(copies=-1)
        for d in first["detector"].values:
            print(f"detector {d} ({int(ds['copies'].values[-1])} snapshots):")
            for j, name in enumerate(first["observable"].values):
                tv = float(first["true_value"].values[j])
                print(f"  {str(name)[:48]:>48}: {float(first['prediction'].sel(detector=d).values[j]):+.5f} "
                      f"+- {float(first['standard_error'].sel(detector=d).values[j]):.5f}"
                      + (f"   (true {tv:+.5f})" if tv == tv else ""))
        print(f"wrote {(args.out or args.run_dir) / PREDICTIONS_FILE}")
    return EXIT_OK


# -- sensing export RUN_DIR --fits (self-contained block) ---------------------------------------
def _add_export_parser(sub) -> None:
    export = sub.add_parser("export", help="write a finished run's camera images and result tables as FITS")
    export.add_argument("run_dir", type=Path, help="output folder of `sensing run` (holds results.nc)")
    export.add_argument("--fits", action="store_true", required=True, help="export as FITS (images with WCS, tables with units)")
    export.add_argument("--out", type=Path, default=None, help="folder for the FITS files (default: RUN_DIR/fits)")
    export.add_argument("--overwrite", action="store_true", help="replace existing FITS files")


def _export(args) -> int:
    from sensing.export import ExportError, export_fits

    try:
        written = export_fits(args.run_dir, args.out, overwrite=args.overwrite)
    except (ExportError, FileExistsError) as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_USAGE
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
