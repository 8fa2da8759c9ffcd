"""``python -m benchmarks [--quick] [--only NAME ...]``: the benchmark table (see ``benchmarks/README.md``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.suite import BENCHMARKS, RESULTS, run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="Benchmarks whose every row is timed against an anchor measured in the same run.")
    parser.add_argument("--quick", action="store_true", help="short version (about 2 minutes): fewer and smaller runs")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each cheap figure (median; default 3, minimum 3)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"JSON-lines file the rows are appended to (default {RESULTS.name})")
    args = parser.parse_args(argv)
    run(args.only or list(BENCHMARKS), quick=args.quick, results=args.results, repeats=max(3, args.repeats),
        explicit=bool(args.only))


if __name__ == "__main__":
    main()
