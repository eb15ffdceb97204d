"""Tests of the offline partition (Eq. 1–7): oracles, the exchange property, a brute force, the MILP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hermes_model import io
from hermes_model import partition as pt


def make_problem(rng: np.random.Generator, *, n_layers: int = 4, per_layer: int = 40,
                 n_dimms: int = 3, budget_frac: float = 0.3, sync_s: float = 2e-6,
                 count: int = 1) -> pt.PartitionProblem:
    """A random instance with skewed frequencies, two neuron sizes and times like a GPU/DIMM."""
    layer = np.repeat(np.arange(n_layers), per_layer)
    freq = np.clip(rng.beta(0.4, 2.0, layer.size), 0.0, 1.0)
    neuron_bytes = np.where(np.arange(n_layers) % 2 == 0, 2.0e4, 4.9e4)
    total_bytes = float(np.sum(neuron_bytes[layer] * count))
    return pt.PartitionProblem(
        layer=layer, freq=freq, count=np.full(layer.size, count),
        gpu_neuron_s=neuron_bytes / 8e11, dimm_neuron_s=neuron_bytes / 1e11,
        neuron_bytes=neuron_bytes, sync_s=sync_s, gpu_budget_bytes=budget_frac * total_bytes,
        dimm_budget_bytes=total_bytes, n_dimms=n_dimms)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def gpu_mask(sol: pt.PartitionSolution) -> np.ndarray:
    return sol.assignment.gpu_count > 0


# ------------------------------------------------------------------------------ evaluation


def test_evaluate_matches_eq_1_to_7_by_hand() -> None:
    # Two layers, two DIMMs; layer 0: f = .9 (GPU), .5 (DIMM 0), .2 (DIMM 1); layer 1 all DIMM.
    p = pt.PartitionProblem(
        layer=np.array([0, 0, 0, 1, 1]), freq=np.array([0.9, 0.5, 0.2, 0.4, 0.4]),
        count=np.ones(5, dtype=np.int64), gpu_neuron_s=np.array([1.0, 1.0]),
        dimm_neuron_s=np.array([4.0, 2.0]), neuron_bytes=np.array([1.0, 1.0]), sync_s=0.25,
        gpu_budget_bytes=1.0, dimm_budget_bytes=2.0, n_dimms=2)
    a = pt.Assignment(gpu_count=np.array([1, 0, 0, 0, 0]),
                      dimm_count=np.array([[0, 1, 0, 1, 0], [0, 0, 1, 0, 1]], dtype=np.int32))
    c = pt.evaluate(p, a)
    # layer 0: GPU 0.9 + 2*0.25 = 1.4; DIMMs 4*.5 = 2.0 and 4*.2 = .8 -> 2.0
    # layer 1: no GPU neuron -> no sync; DIMMs 2*.4 = .8 each -> .8
    assert c.gpu_layer_s == pytest.approx([1.4, 0.0])
    assert c.layer_s == pytest.approx([2.0, 0.8])
    assert c.objective_s == pytest.approx(2.8)
    assert c.feasible
    assert c.gpu_neuron_share == pytest.approx(0.2)
    assert c.gpu_compute_share == pytest.approx(0.9 / 2.4)
    over = pt.Assignment(gpu_count=np.array([1, 1, 0, 0, 0]),
                         dimm_count=np.array([[0, 0, 0, 1, 0], [0, 0, 1, 0, 1]], dtype=np.int32))
    assert not pt.evaluate(p, over).feasible  # GPU budget is one neuron
    twice = pt.Assignment(gpu_count=np.array([1, 0, 0, 0, 0]),
                          dimm_count=np.array([[0, 1, 0, 1, 0], [0, 1, 1, 0, 1]], dtype=np.int32))
    assert not pt.evaluate(p, twice).feasible  # neuron 1 placed twice


def test_problem_validation(rng: np.random.Generator) -> None:
    p = make_problem(rng)
    with pytest.raises(ValueError, match="freq"):
        pt.PartitionProblem(**{**_fields(p), "freq": p.freq + 2})
    with pytest.raises(ValueError, match="n_dimms"):
        pt.PartitionProblem(**{**_fields(p), "n_dimms": 0})
    with pytest.raises(ValueError, match="layer"):
        pt.PartitionProblem(**{**_fields(p), "layer": p.layer + 100})


def _fields(p: pt.PartitionProblem) -> dict:
    return {name: getattr(p, name) for name in p.__dataclass_fields__}


# ------------------------------------------------------------------------------- oracles


def test_zero_budget_puts_nothing_on_the_gpu(rng: np.random.Generator) -> None:
    p = pt.PartitionProblem(**{**_fields(make_problem(rng)), "gpu_budget_bytes": 0.0})
    sol = pt.solve_fast(p)
    assert sol.assignment.gpu_count.sum() == 0
    assert sol.cost.feasible
    # All on DIMMs: the objective is at least the balanced DIMM time of every layer.
    mean = p.dimm_neuron_s * np.bincount(p.layer, weights=p.freq) / p.n_dimms
    assert sol.cost.objective_s >= mean.sum() * (1 - 1e-12)
    assert sol.lower_bound_s == pytest.approx(mean.sum())


def test_unlimited_budget_takes_exactly_the_neurons_that_help(rng: np.random.Generator) -> None:
    p = pt.PartitionProblem(**{**_fields(make_problem(rng)), "gpu_budget_bytes": 1e12})
    sol = pt.solve_fast(p)
    g = sol.assignment.gpu_count
    for lay in range(p.n_layers):
        sel = p.layer == lay
        f = np.sort(p.freq[sel])[::-1]
        # The best prefix of the layer (by brute force over prefix lengths).
        costs = [max(p.gpu_neuron_s[lay] * f[:k].sum() + 2 * p.sync_s * (k > 0),
                     p.dimm_neuron_s[lay] * f[k:].sum() / p.n_dimms) for k in range(f.size + 1)]
        assert g[sel].sum() == int(np.argmin(costs))
    # The GPU side never exceeds the (balanced) DIMM side by more than one neuron.
    assert sol.cost.feasible


def test_gpu_holds_the_most_frequent_neurons_of_each_layer(rng: np.random.Generator) -> None:
    p = make_problem(rng, n_layers=6, per_layer=300, budget_frac=0.15)
    sol = pt.solve_fast(p)
    on_gpu = gpu_mask(sol)
    assert 0 < on_gpu.sum() < p.n_neurons
    for lay in range(p.n_layers):
        sel = p.layer == lay
        if on_gpu[sel].any() and (~on_gpu[sel]).any():
            # A prefix of the frequency order, plus at most one neuron that fills the layer up
            # to its crossing (Lemma 1 is exact for the relaxation, not for whole neurons).
            f_gpu = np.sort(p.freq[sel][on_gpu[sel]])
            assert f_gpu[min(1, f_gpu.size - 1)] >= p.freq[sel][~on_gpu[sel]].max()


def test_exchange_never_helps_the_fast_solution(rng: np.random.Generator) -> None:
    # Swapping a GPU neuron with a more frequent DIMM neuron of its layer is allowed by the
    # budget; Lemma 1 says prefixes lose nothing, so the swap must not be an improvement here.
    p = make_problem(rng, n_layers=2, per_layer=200, budget_frac=0.2)
    sol = pt.solve_fast(p)
    g, d = sol.assignment.gpu_count.copy(), sol.assignment.dimm_count.copy()
    mixed = [lay for lay in range(p.n_layers) if 0 < g[p.layer == lay].sum() < 200]
    assert mixed
    lay0 = np.flatnonzero(p.layer == mixed[0])
    gpu_i = lay0[g[lay0] > 0]
    dimm_h = lay0[g[lay0] == 0]
    i = gpu_i[np.argmin(p.freq[gpu_i])]
    h = dimm_h[np.argmax(p.freq[dimm_h])]
    j = int(np.flatnonzero(d[:, h])[0])
    g[i], g[h] = 0, 1
    d[j, h], d[j, i] = 0, 1
    swapped = pt.evaluate(p, pt.Assignment(gpu_count=g, dimm_count=d))
    assert swapped.feasible
    assert swapped.objective_s >= sol.cost.objective_s - 1e-15


def test_sync_larger_than_the_layer_keeps_it_off_the_gpu(rng: np.random.Generator) -> None:
    p = make_problem(rng, budget_frac=1.0)
    layer_dimm_s = p.dimm_neuron_s * np.bincount(p.layer, weights=p.freq) / p.n_dimms
    big_sync = 0.51 * float(layer_dimm_s.max())  # 2 T_sync above every layer's DIMM time
    sol = pt.solve_fast(pt.PartitionProblem(**{**_fields(p), "sync_s": big_sync}))
    assert sol.assignment.gpu_count.sum() == 0


# --------------------------------------------------------------------- bounds and exactness


def brute_force(p: pt.PartitionProblem) -> float:
    best = np.inf
    n = p.count.size
    for units in itertools.product(range(p.n_dimms + 1), repeat=n):
        u = np.array(units)
        g = (u == 0).astype(np.int64)
        d = np.stack([(u == j + 1) for j in range(p.n_dimms)]).astype(np.int32)
        c = pt.evaluate(p, pt.Assignment(gpu_count=g, dimm_count=d))
        if c.feasible:
            best = min(best, c.objective_s)
    return best


def test_lower_bound_and_fast_solution_against_brute_force(rng: np.random.Generator) -> None:
    for seed in range(4):
        p = make_problem(np.random.default_rng(seed), n_layers=2, per_layer=4, n_dimms=2,
                         budget_frac=0.35, sync_s=1e-8)
        opt = brute_force(p)
        sol = pt.solve_fast(p)
        assert sol.cost.feasible
        assert sol.lower_bound_s <= opt * (1 + 1e-12)
        assert sol.cost.objective_s >= opt * (1 - 1e-12)
        # Eight neurons: whole-neuron effects are large; the fast solver stays within 35 %.
        assert sol.cost.objective_s <= 1.35 * opt


def test_bucket_problem_keeps_layer_loads(rng: np.random.Generator) -> None:
    p = make_problem(rng, n_layers=3, per_layer=100)
    b = pt.bucket_problem(p, 8)
    assert b.count.sum() == p.n_neurons
    assert np.bincount(b.layer) .tolist() == [8, 8, 8]
    assert np.bincount(b.layer, weights=b.freq * b.count) == pytest.approx(
        np.bincount(p.layer, weights=p.freq))


def test_fast_solver_against_the_milp_on_a_small_bucketed_instance(
        rng: np.random.Generator) -> None:
    # Two layers of 100 neurons in 4 buckets, 2 DIMMs: HiGHS proves optimality in seconds.
    p = pt.bucket_problem(make_problem(rng, n_layers=2, per_layer=100, n_dimms=2,
                                       budget_frac=0.2), 4)
    milp = pt.solve_milp(p, time_limit_s=30.0, mip_rel_gap=1e-6)
    assert milp.status == 0  # proven optimal
    fast = pt.solve_fast(p)
    assert pt.evaluate(p, milp.assignment).feasible
    assert fast.cost.feasible
    # The relaxation bounds the MILP optimum from below; the fast solver bounds it from above.
    assert fast.lower_bound_s <= milp.objective_s * (1 + 1e-9)
    assert milp.objective_s <= fast.cost.objective_s * (1 + 1e-9)
    gap = (fast.cost.objective_s - milp.dual_bound_s) / milp.dual_bound_s
    # 200 neurons: one neuron is ~0.5 % of a layer, so whole-neuron effects are visible here.
    assert gap < 5e-3


def test_full_size_solution_is_feasible_and_certified() -> None:
    rng = np.random.default_rng(3)
    p = make_problem(rng, n_layers=20, per_layer=5000, n_dimms=8, budget_frac=0.1)
    sol = pt.solve_fast(p)
    assert sol.cost.feasible
    # The solver's own sums agree with a recount from the assignment.
    again = pt.evaluate(p, sol.assignment)
    assert again.feasible
    assert again.objective_s == pytest.approx(sol.cost.objective_s, rel=1e-12)
    assert again.dimm_layer_s == pytest.approx(sol.cost.dimm_layer_s, rel=1e-12)
    assert again.dimm_bytes == pytest.approx(sol.cost.dimm_bytes, rel=1e-12)
    assert again.gpu_compute_share == pytest.approx(sol.cost.gpu_compute_share, rel=1e-12)
    # the GPU's share of the neurons, from the assignment's counts
    share = sol.assignment.gpu_count.sum() / p.count.sum()
    assert 0 < share < 1
    assert sol.cost.gpu_neuron_share == pytest.approx(share, rel=1e-12)
    assert again.gpu_neuron_share == pytest.approx(share, rel=1e-12)
    assert 0 <= sol.gap < 1e-3
    assert sol.cost.gpu_bytes <= p.gpu_budget_bytes


# ---------------------------------------------------------------------------------- wiring


def test_model_problem_times_and_shapes() -> None:
    model, system = io.load_model("llama2_13b"), io.load_system("hermes_paper")
    rng = np.random.default_rng(0)
    mlp = rng.random((model.n_layers, model.d_ffn)) * 0.3
    qkv = rng.random((model.n_layers, model.d_model)) * 0.3
    p = pt.model_problem(model, system, mlp, qkv)
    assert p.n_layers == 2 * model.n_layers
    assert p.n_neurons == model.n_layers * (model.d_ffn + model.d_model)
    assert p.layer_names[:2] == ("0.qkv", "0.mlp")
    # A GPU reads a neuron faster than one DIMM does (both memory-bound at batch 1).
    assert np.all(p.gpu_neuron_s < p.dimm_neuron_s)
    assert 0 < p.gpu_budget_bytes < system.gpu.memory_bytes
    assert p.sync_s > system.host_link.latency_s
    with pytest.raises(ValueError, match="shape"):
        pt.model_problem(model, system, mlp[:, :10], qkv)
    batched = pt.model_problem(model, system, mlp, qkv, batch=4)
    assert np.all(batched.freq >= p.freq)


def test_time_unit_is_a_token_at_batch_1_else_a_step() -> None:
    assert pt.time_unit(1) == "per token"
    assert pt.time_unit(16) == "per decode step of 16 tokens"


def test_objective_phrase_says_np_when_the_neurons_do_not_fit(rng: np.random.Generator) -> None:
    p = make_problem(rng)
    sol = pt.solve_fast(p)
    assert sol.cost.feasible
    assert pt.objective_phrase(p, sol.cost) == (
        f"the sparse FC blocks take {sol.cost.objective_s / 1e-3:.4g} ms per token")
    total = float(p.count @ p.neuron_bytes[p.layer])
    small = pt.PartitionProblem(**{**_fields(p), "n_dimms": 1,
                                   "dimm_budget_bytes": 0.1 * total})
    tight = pt.solve_fast(small)
    assert not tight.cost.feasible
    text = pt.objective_phrase(small, tight.cost)
    assert text.startswith("no placement fits (N.P.)") and "one DIMM's" in text
    assert text.endswith(f"would take {tight.cost.objective_s / 1e-3:.4g} ms per token")
    # a batch's step is not a token's: the unit says so
    assert pt.objective_phrase(p, sol.cost, 16) == (
        f"the sparse FC blocks take {sol.cost.objective_s / 1e-3:.4g} ms {pt.time_unit(16)}")
    # neurons that fit the GPU and the DIMMs together, placed over a DIMM's budget
    import dataclasses

    assert total <= p.gpu_budget_bytes + p.n_dimms * p.dimm_budget_bytes
    text = pt.objective_phrase(p, dataclasses.replace(sol.cost, feasible=False))
    assert text.startswith("the fast solver's placement overfills a DIMM")


# ------------------------------------------------------------------ mutation-audit additions (3)


def _unit_problem(layer: list[int], freq: list[float], count: list[int], neuron_bytes: list[float],
                  budget: float) -> pt.PartitionProblem:
    """One DIMM, unit GPU and DIMM times, no sync: layer cost max(G, F - G)."""
    nl = len(neuron_bytes)
    return pt.PartitionProblem(
        layer=np.array(layer), freq=np.array(freq), count=np.array(count),
        gpu_neuron_s=np.ones(nl), dimm_neuron_s=np.ones(nl), neuron_bytes=np.array(neuron_bytes),
        sync_s=0.0, gpu_budget_bytes=budget, dimm_budget_bytes=1e9, n_dimms=1)


def test_fast_solver_fills_the_crossing_with_the_best_fitting_cold_neuron() -> None:
    """Frequencies 3/8, 5/16, 3/16, 1/8 (F = 1, crossing 1/2): the prefix 3/8 plus the straddling
    5/16 costs 11/16, the prefix alone 5/8, the prefix plus 1/8 hits the crossing: 1/2 (optimal)."""
    p = _unit_problem([0, 0, 0, 0], [0.375, 0.3125, 0.1875, 0.125], [1, 1, 1, 1], [1.0], 100.0)
    sol = pt.solve_fast(p)
    assert sol.cost.objective_s == pytest.approx(0.5)
    assert sol.assignment.gpu_count.tolist() == [1, 0, 0, 1]
    assert sol.lower_bound_s == pytest.approx(0.5)


def test_fast_solver_keeps_earlier_candidates_whole_after_the_budget_cut() -> None:
    """Layer 0: ten 1-B neurons of f = 1/2 (crossing at 5 neurons), layer 1: ten 10-B ones.
    Budget 28 B: layer 0 takes its 5 (gain per byte 10x), layer 1 two (20 B), 3 B stay unused;
    cost 2.5 + max(1, 4) = 6.5, the optimum over all (k0, k1) with k0 + 10 k1 ≤ 28."""
    p = _unit_problem([0, 1], [0.5, 0.5], [10, 10], [1.0, 10.0], 28.0)
    sol = pt.solve_fast(p)
    assert sol.assignment.gpu_count.tolist() == [5, 2]
    brute = min(max(0.5 * k0, 5 - 0.5 * k0) + max(0.5 * k1, 5 - 0.5 * k1)
                for k0 in range(11) for k1 in range(11) if k0 + 10 * k1 <= 28)
    assert brute == pytest.approx(6.5)
    assert sol.cost.objective_s == pytest.approx(brute)
    # relaxation: layer 1 gets 23 B / 10 B = 2.3 neurons → 2.5 + (5 - 1.15)
    assert sol.lower_bound_s == pytest.approx(2.5 + 3.85)


def test_fast_solver_picks_a_cold_neuron_from_the_middle_of_the_layer() -> None:
    """Frequencies 7/8, 13/16, 1/2, 3/8 x 2 (F = 47/16, crossing 47/32): the prefix 7/8 plus the
    straddling 13/16 costs 27/16, plus the last class's 3/8 costs F - 5/4 = 27/16, plus the middle
    class's 1/2 costs max(11/8, 25/16) = 25/16, the brute-force optimum."""
    p = _unit_problem([0, 0, 0, 0], [0.875, 0.8125, 0.5, 0.375], [1, 1, 1, 2], [1.0], 100.0)
    brute = min(max(g, 47 / 16 - g) for g in (
        0.875 * a + 0.8125 * b + 0.5 * c + 0.375 * d
        for a in range(2) for b in range(2) for c in range(2) for d in range(3)))
    assert brute == pytest.approx(25 / 16)
    sol = pt.solve_fast(p)
    assert sol.assignment.gpu_count.tolist() == [1, 0, 1, 0]
    assert sol.cost.objective_s == pytest.approx(25 / 16)
    assert sol.lower_bound_s == pytest.approx(47 / 32)


def test_certified_gap_is_relative_to_the_lower_bound() -> None:
    """The instance above with the budget cut: objective 6.5, bound 6.35, gap 0.15 / 6.35."""
    p = _unit_problem([0, 1], [0.5, 0.5], [10, 10], [1.0, 10.0], 28.0)
    sol = pt.solve_fast(p)
    assert sol.gap == pytest.approx(0.15 / 6.35)
    exact = pt.solve_fast(_unit_problem([0, 0, 0, 0], [0.375, 0.3125, 0.1875, 0.125],
                                        [1, 1, 1, 1], [1.0], 100.0))
    assert exact.gap == pytest.approx(0.0, abs=1e-12)


def test_milp_respects_each_dimms_capacity(rng: np.random.Generator) -> None:
    """The same small instance with DIMMs just large enough for half the cold neurons each:
    the MILP's placement fits every DIMM."""
    base = make_problem(rng, n_layers=2, per_layer=100, n_dimms=2, budget_frac=0.2)
    total = float(base.count @ base.neuron_bytes[base.layer])
    tight = pt.PartitionProblem(**{**_fields(base),
                                   "dimm_budget_bytes": 0.42 * total})
    p = pt.bucket_problem(tight, 4)
    milp = pt.solve_milp(p, time_limit_s=30.0, mip_rel_gap=1e-6)
    cost = pt.evaluate(p, milp.assignment)
    assert cost.feasible
    assert np.all(cost.dimm_bytes <= 0.42 * total * (1 + 1e-9))
    assert cost.dimm_bytes.sum() >= 0.8 * total * (1 - 1e-9)  # the GPU holds at most 20 %


def test_fast_solver_straddling_class_counts_its_whole_neurons_in_the_load() -> None:
    """Three neurons of f = 1/2, two of 3/8, one of 1/4 (F = 5/2, crossing 5/4): the crossing
    falls after two whole neurons of the first class (load 1), so the rest, 1/4, is filled
    exactly by the 1/4 neuron: cost 5/4, the brute-force optimum. A third 1/2 neuron would cost
    3/2, one of 3/8 cost 11/8."""
    p = _unit_problem([0, 0, 0], [0.5, 0.375, 0.25], [3, 2, 1], [1.0], 100.0)
    brute = min(max(g, 2.5 - g) for g in (0.5 * a + 0.375 * b + 0.25 * c
                                          for a in range(4) for b in range(3) for c in range(2)))
    assert brute == 1.25
    sol = pt.solve_fast(p)
    assert sol.cost.objective_s == pytest.approx(brute)
    assert sol.assignment.gpu_count.tolist() == [2, 0, 1]
