"""Classical-shadow speed: sampling against stim's own samplers, prediction against PennyLane.

    PYTHONPATH=. python benchmarks/bench_shadows.py [--quick]

Rows (one core: BLAS and numexpr threads limited to 1):

1. stabilizer snapshots/s (50-qubit GHZ and cluster states, random Pauli bases per snapshot):
   ``sensing.physics.shadows.sample_stabilizer_snapshots`` against, in the same run, (a) stim's
   ``TableauSimulator`` driven shot by shot with the same random bases (the direct stim way to
   get a random basis per shot) and (b) stim's compiled frame sampler for ONE fixed random
   basis for all shots (``compile_sampler().sample``: the throughput ceiling of stim, which
   cannot change bases per shot).
2. predictions/s: M = 10^4 Pauli strings of weight 1-4 from 10^5 snapshots of 50 qubits, by
   ``estimate_observables`` (bit-packed) against PennyLane's ``qml.ClassicalShadow.expval`` on
   the same snapshots (optional: ``pip install quantum-sensing-pipelines[bench]``; the row is
   skipped with a message if PennyLane is missing). PennyLane is timed on a subset of the
   observables and its rate per observable reported; its estimates are checked equal to ours.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sensing.physics import shadows as sh


def timed(function, *args, repeat: int = 1, **kwargs):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def stim_tableau_loop(circuit, bases: np.ndarray, seed: int) -> np.ndarray:
    """Snapshots with stim's TableauSimulator, one simulation per shot (state prepared each time)."""
    import stim

    shots, n = bases.shape
    out = np.empty((shots, n), dtype=bool)
    sim = stim.TableauSimulator(seed=seed)
    for s in range(shots):
        sim.set_inverse_tableau(stim.Tableau(n))
        sim.do_circuit(circuit)
        row = bases[s]
        sim.h(*np.flatnonzero(row == sh.X).tolist())
        sim.h_yz(*np.flatnonzero(row == sh.Y).tolist())
        out[s] = sim.measure_many(*range(n))
    return out


def stim_compiled_fixed_basis(circuit, basis_row: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """stim's compiled frame sampler: one fixed basis for every shot."""
    import stim

    c = circuit.copy()
    n = len(basis_row)
    c.append("H", np.flatnonzero(basis_row == sh.X).tolist())
    c.append("H_YZ", np.flatnonzero(basis_row == sh.Y).tolist())
    c.append("M", list(range(n)))
    return c.compile_sampler(seed=seed).sample(shots)


def random_paulis(rng, count: int, qubits: int, max_weight: int = 4) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        k = int(rng.integers(1, max_weight + 1))
        chars = ["I"] * qubits
        for site in rng.choice(qubits, k, replace=False):
            chars[site] = "XYZ"[rng.integers(3)]
        out.add("".join(chars))
    return sorted(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args(argv)
    n = 50
    shots = 5_000 if args.quick else 50_000
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=1):
        print(f"1. sampling random-Pauli snapshots, {n} qubits, {shots} snapshots, one core")
        for label, circuit in (("GHZ", sh.ghz_circuit(n)), ("cluster", sh.cluster_state_circuit(n))):
            ours, snaps = timed(sh.sample_stabilizer_snapshots, circuit, shots, np.random.default_rng(1))
            loop, _ = timed(stim_tableau_loop, circuit, snaps.bases, 1)
            fixed, _ = timed(stim_compiled_fixed_basis, circuit, snaps.bases[0], shots, 1, repeat=3)
            print(f"   {label:8s} sensing {shots / ours:10.0f}/s | stim TableauSimulator per shot {shots / loop:10.0f}/s "
                  f"(ratio {loop / ours:.2f}) | stim compiled sampler, one fixed basis {shots / fixed:10.0f}/s "
                  f"(ours is {ours / fixed:.1f}x slower)")
        m, t = (1_000, 10_240) if args.quick else (10_000, 100_000)  # t a multiple of 32: the mean uses every snapshot
        print(f"2. predicting M = {m} Pauli strings (weight 1-4) from {t} snapshots of {n} qubits, one core")
        snaps = sh.sample_stabilizer_snapshots(sh.cluster_state_circuit(n), t, np.random.default_rng(2))
        strings = random_paulis(rng, m, n)
        ours, est = timed(sh.estimate_observables, snaps, strings, repeat=2)
        print(f"   sensing estimate_observables: {ours:.2f} s = {m / ours:.0f} predictions/s "
              f"({m * t / ours:.2e} observable-snapshot pairs/s)")
        try:
            import pennylane as qml
        except ImportError:
            print("   PennyLane row skipped: PennyLane is not installed (pip install quantum-sensing-pipelines[bench])")
            return
        shadow = qml.ClassicalShadow(snaps.bits.astype(np.int8), snaps.bases.astype(np.int8))
        subset = strings[:: max(1, m // (20 if args.quick else 100))]
        observables = [qml.pauli.string_to_pauli_word(s.replace("I", "I")) for s in subset]
        start = time.perf_counter()
        theirs = np.array([shadow.expval(o, k=1) for o in observables], dtype=float)
        pl = time.perf_counter() - start
        index = [strings.index(s) for s in subset]
        agree = f"max |difference| {np.max(np.abs(theirs - est.mean[index])):.1e}"
        per_pl, per_ours = pl / len(subset), ours / m
        print(f"   PennyLane {qml.__version__} ClassicalShadow.expval: {len(subset)} observables in {pl:.2f} s = "
              f"{1 / per_pl:.1f} predictions/s; against ours: {agree}")
        print(f"   ratio: sensing is {per_pl / per_ours:.0f}x faster per prediction")


if __name__ == "__main__":
    main()
