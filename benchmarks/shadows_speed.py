"""Speed of the qubit-shadow sampler and estimator: PYTHONPATH=. python benchmarks/shadows_speed.py (no asserts)."""
import time, numpy as np
from sensing.physics import shadows as sh
rng = np.random.default_rng(0)
n = 50
for label, circ in [("GHZ", sh.ghz_circuit(n)), ("cluster", sh.cluster_state_circuit(n))]:
    t = time.perf_counter(); snaps = sh.sample_stabilizer_snapshots(circ, 100_000, rng); dt = time.perf_counter() - t
    print(f"{label} 50 qubits: 1e5 snapshots in {dt:.2f} s = {1e5/dt:.0f} snapshots/s")
t = time.perf_counter(); sh.sample_stabilizer_snapshots(sh.cluster_state_circuit(100), 20_000, rng); dt = time.perf_counter() - t
print(f"cluster 100 qubits: {2e4/dt:.0f} snapshots/s")
strings = set()
while len(strings) < 10_000:
    k = rng.integers(1, 5); sites = rng.choice(n, k, replace=False)
    chars = ["I"] * n
    for s in sites: chars[s] = "XYZ"[rng.integers(3)]
    strings.add("".join(chars))
strings = sorted(strings)
for batches in (1, sh.median_of_means_batches(len(strings), 0.01)):
    t = time.perf_counter(); est = sh.estimate_observables(snaps, strings, batches=batches); dt = time.perf_counter() - t
    print(f"predict 1e4 observables (weight 1-4) x 1e5 snapshots x 50 qubits, K={batches}: {dt:.2f} s = {1e4*1e5/dt:.2e} (observable x snapshot)/s")
t = time.perf_counter(); sh.sample_dense_snapshots(np.ones(2**12)/64, 100_000, rng); dt = time.perf_counter() - t
print(f"dense 12-qubit sampler: {1e5/dt:.0f} snapshots/s")
