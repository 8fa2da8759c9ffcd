"""Run time of the Gaussian quantum Fisher information (a benchmark, not a test).

Run: ``python -m benchmarks.bench_qfi`` (prints the best-of-5 seconds per call, one core).

``sensing.physics.gaussian.quantum_fisher_information`` evaluates the Monras/Safranek formula
in the Williamson basis, O(n^3) in the number of modes n, and never forms the
(2n)^2 x (2n)^2 bracket. The state is a random passive interferometer applied to n thermal
modes (occupations 0.01 ... 1, a quarter of the modes vacuum, so the pure-mode branch is
exercised); the parameters are the first three occupations. The test suite checks the memory
bound (tests/test_gaussian_fisher.py); this prints the time for n = 10, 50, 100, 200.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

from sensing.physics.gaussian import quantum_fisher_information


def thermal_state_through_interferometer(modes: int, rng: np.random.Generator):
    """Covariance (xxpp, hbar = 2) and its derivatives in the first three thermal occupations."""
    unitary, _ = np.linalg.qr(rng.normal(size=(modes, modes)) + 1j * rng.normal(size=(modes, modes)))
    orthogonal = np.block([[unitary.real, -unitary.imag], [unitary.imag, unitary.real]])
    occupations = np.geomspace(0.01, 1.0, modes)
    occupations[3 * modes // 4 :] = 0.0  # vacuum modes
    cov = orthogonal @ np.diag(np.tile(2 * occupations + 1, 2)) @ orthogonal.T
    derivatives = []
    for mode in range(3):
        unit = np.zeros(modes)
        unit[mode] = 2.0  # d(2N + 1)/dN
        derivatives.append(orthogonal @ np.diag(np.tile(unit, 2)) @ orthogonal.T)
    return cov, np.array(derivatives)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", type=int, nargs="+", default=[10, 50, 100, 200])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=1):
        print(f"{'modes':>6s} {'seconds per call':>18s}")
        for modes in args.modes:
            cov, derivatives = thermal_state_through_interferometer(modes, rng)
            seconds = min(timeit.repeat(lambda: quantum_fisher_information(cov, derivatives), number=1, repeat=5))
            print(f"{modes:6d} {seconds:18.4f}")


if __name__ == "__main__":
    main()
