"""GJC against Strawberry Fields' Fock backend (issue 11).

Separate from tests/test_interferometry.py because SF's Fock backend compiles its two-mode
gates with numba on first use (~30 s on this machine); the test itself is fast.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensing.physics.gaussian import thermal_covariance
from tests.test_interferometry import _chi_square, build_detector, light_of


@pytest.mark.slow
def test_gjc_table_and_sampler_agree_with_strawberry_fields_fock_backend():
    """The GJC circuit run in SF's Fock backend: thermal star pair, the single-photon Bell resource
    (|10> + e^{i delta}|01>)/sqrt 2, a 50:50 beam splitter per site, photon-number probabilities."""
    from sensing.sf_compat import import_strawberryfields

    sf = import_strawberryfields()
    nbar, g, delta, cutoff = 0.03, 0.6 * np.exp(0.5j), 0.3, 4
    n = nbar * np.array([[1, g], [np.conj(g), 1]])
    ket = np.zeros((cutoff, cutoff), complex)
    ket[1, 0], ket[0, 1] = 1 / np.sqrt(2), np.exp(1j * delta) / np.sqrt(2)

    def star(q):  # eigenmodes n(1 +- |g|), then BS(pi/4) and a phase: N = nbar [[1, g], [g*, 1]]
        sf.ops.Thermal(nbar * (1 + abs(g))) | q[0]
        sf.ops.Thermal(nbar * (1 - abs(g))) | q[1]
        sf.ops.BSgate(np.pi / 4, 0.0) | (q[0], q[1])
        sf.ops.Rgate(np.angle(g)) | q[1]

    check = sf.Program(2)
    with check.context as q:
        star(q)
    np.testing.assert_allclose(sf.Engine("gaussian").run(check).state.cov(), thermal_covariance(n), atol=1e-12)
    prog = sf.Program(4)  # modes (a0, a1, c0, c1)
    with prog.context as q:
        star(q)
        sf.ops.Ket(ket) | (q[2], q[3])
        sf.ops.BSgate(-np.pi / 4, 0.0) | (q[0], q[2])
        sf.ops.BSgate(-np.pi / 4, 0.0) | (q[1], q[3])
    probs = sf.Engine("fock", backend_options={"cutoff_dim": cutoff}).run(prog).state.all_fock_probs()
    probs = np.transpose(probs, (0, 2, 1, 3))  # (s0p1 = a0, s0p2 = c0, s1p1 = a1, s1p2 = c1)
    detector = build_detector(kind="entanglement_assisted", postselect_coincidences=False, star_cutoff=4,
                              delays=[delta], delay_reference="fixed")
    model = detector.outcome_model(light_of(nbar, g))
    table = np.zeros((5, 5, 5, 5))
    for k, p in zip(model.info["ports"], model.pattern_probabilities[1:-1]):
        table[k] = p
    table[0, 0, 0, 0] = model.pattern_probabilities[0]
    np.testing.assert_allclose(table[:3, :3, :3, :3], probs[:3, :3, :3, :3], atol=2e-4)
    copies = 200_000
    rows = model.sample(np.random.default_rng(12), copies)
    counts = np.bincount(model.pattern_index(rows), minlength=model.pattern_count).astype(float)
    sf_flat = np.array([probs[k] if max(k) < cutoff else table[k] for k in model.info["ports"]])
    expected = np.concatenate([[probs[0, 0, 0, 0]], sf_flat, [max(0.0, 1 - probs[0, 0, 0, 0] - sf_flat.sum())]]) * copies
    statistic, limit = _chi_square(counts, expected)
    assert statistic < limit, (statistic, limit)
