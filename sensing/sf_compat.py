"""Compatibility shim for Strawberry Fields 0.23 on current SciPy.

Strawberry Fields 0.23 (its last release) does ``from scipy.integrate import simps``;
SciPy 1.14 removed ``simps`` in favour of ``simpson``. Importing this module before
Strawberry Fields restores the old name as an alias, so SF imports on today's SciPy
without pinning SciPy back. Use :func:`import_strawberryfields` rather than importing
``strawberryfields`` directly anywhere in the project.
"""

from __future__ import annotations

import scipy.integrate as _integrate

if not hasattr(_integrate, "simps"):  # SciPy >= 1.14
    _integrate.simps = _integrate.simpson  # type: ignore[attr-defined]


def import_strawberryfields():
    """Return the ``strawberryfields`` module, imported after the SciPy shim.

    Returns
    -------
    module
        The imported ``strawberryfields`` package (``sf.hbar == 2`` is checked).
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import strawberryfields as sf
    if sf.hbar != 2:
        raise RuntimeError(
            f"this framework uses hbar = 2 (the Strawberry Fields default); sf.hbar is {sf.hbar}"
        )
    return sf
