"""Compatibility shim for Strawberry Fields 0.23 on current SciPy.

Strawberry Fields 0.23 (its last release) does ``from scipy.integrate import simps``;
SciPy 1.14 removed ``simps`` in favour of ``simpson``. :func:`install_simps_alias` restores
the old name as an alias, so SF imports on today's SciPy without pinning SciPy back.
:func:`import_strawberryfields` applies it just before importing SF: use it rather than
importing ``strawberryfields`` directly anywhere in the project.

Importing this module is cheap: ``scipy.integrate`` (0.3-0.9 s) is imported only when
Strawberry Fields is, so a run that never builds a state with SF does not pay for it.
"""

from __future__ import annotations


def install_simps_alias() -> None:
    """Give ``scipy.integrate`` the ``simps`` name SF 0.23 imports (``simpson``), if it lacks it.

    Idempotent; imports ``scipy.integrate``.
    """
    import scipy.integrate as integrate

    if not hasattr(integrate, "simps"):  # SciPy >= 1.14
        integrate.simps = integrate.simpson  # type: ignore[attr-defined]


def import_strawberryfields():
    """Return the ``strawberryfields`` module, imported after the SciPy shim.

    Returns
    -------
    module
        The imported ``strawberryfields`` package (``sf.hbar == 2`` is checked).
    """
    import warnings

    install_simps_alias()  # before SF's own `from scipy.integrate import simps`
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import strawberryfields as sf
    if sf.hbar != 2:
        raise RuntimeError(
            f"this framework uses hbar = 2 (the Strawberry Fields default); sf.hbar is {sf.hbar}"
        )
    return sf
