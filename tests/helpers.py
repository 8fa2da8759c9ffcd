"""Builders shared by the tests (the public ones of :mod:`sensing.testing`), and a quiet CLI call."""

import contextlib
import io

from sensing.testing import build_detector as make_detector
from sensing.testing import build_scene as make_scene


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``sensing`` with ``argv`` in-process: its exit code and what it wrote on stderr."""
    from sensing.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code
    return code, err.getvalue()


__all__ = ["make_detector", "make_scene", "run_cli"]
