"""Tests of hermes_model.scheduling: placements, imbalance, Algorithm 1, costs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_model import io, ndp, sparsity
from hermes_model import scheduling as sc


def _trace(rng: np.random.Generator, g: int = 2, t: int = 20, nl: int = 2, n: int = 64,
           p: float = 0.3) -> np.ndarray:
    return rng.random((g, t, nl, n)) < p


# ------------------------------------------------------------------------------------- placements


def test_round_robin_and_random_have_equal_counts() -> None:
    """Both placements put N/D neurons on every DIMM of every layer."""
    rr = sc.round_robin_placement(3, 40, 8)
    rnd = sc.random_placement(3, 40, 8, np.random.default_rng(1))
    for p in (rr, rnd):
        assert p.shape == (3, 40)
        assert np.array_equal(sc.placement_counts(p, 8), np.full((3, 8), 5))
    assert not np.array_equal(rr, rnd)


def test_random_placement_is_reproducible_from_the_rng() -> None:
    a = sc.random_placement(2, 30, 4, np.random.default_rng(7))
    b = sc.random_placement(2, 30, 4, np.random.default_rng(7))
    assert np.array_equal(a, b)


def test_balanced_placement_counts_and_makespan_bound() -> None:
    """Rounds of LPT: counts equal to ±1 and every DIMM within the largest weight of the mean."""
    rng = np.random.default_rng(3)
    f = rng.beta(0.3, 2.0, size=(4, 203))
    p = sc.balanced_placement(f, 8)
    counts = sc.placement_counts(p, 8)
    assert counts.max(axis=1).tolist() == [26] * 4 and counts.min(axis=1).tolist() == [25] * 4
    load = np.stack([np.bincount(p[i], weights=f[i], minlength=8) for i in range(4)])
    assert np.all(load.max(axis=1) <= load.mean(axis=1) + f.max(axis=1) + 1e-12)
    rr = sc.round_robin_placement(4, 203, 8)
    load_rr = np.stack([np.bincount(rr[i], weights=f[i], minlength=8) for i in range(4)])
    assert np.all(load.max(axis=1) <= load_rr.max(axis=1) + 1e-12)


def test_balanced_placement_ignores_hot_neurons_load() -> None:
    """Hot neurons weigh nothing: two heavy hot neurons do not push others off their DIMM."""
    f = np.array([[0.9, 0.9, 0.1, 0.1, 0.1, 0.1]])
    hot = np.array([[True, True, False, False, False, False]])
    p = sc.balanced_placement(f, 2, hot=hot)
    cold_load = np.bincount(p[0], weights=np.where(hot[0], 0, f[0]), minlength=2)
    assert np.allclose(cold_load, [0.2, 0.2])
    assert np.array_equal(sc.placement_counts(p, 2), [[3, 3]])


def test_bad_dimm_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="n_dimms"):
        sc.round_robin_placement(1, 4, 0)


# ---------------------------------------------------------------------------------- imbalance


def test_perfectly_balanced_placement_has_imbalance_one() -> None:
    """Every neuron fires at every step, each DIMM holds as many: I_win = I_tok = 1 exactly."""
    active = np.ones((2, 12, 3, 32), dtype=bool)
    loads = sc.dimm_loads(active, sc.round_robin_placement(3, 32, 8), 8)
    im = sc.imbalance(loads)
    assert im.window == 1.0 and im.per_token == 1.0
    assert np.all(im.layer_window == 1.0)


def test_imbalance_closed_form() -> None:
    """Two DIMMs, loads (3, 1) at one step: slowest / mean = 3 / 2."""
    loads = np.array([3, 1]).reshape(1, 1, 1, 2)
    im = sc.imbalance(loads)
    assert im.window == pytest.approx(1.5) and im.per_token == pytest.approx(1.5)


def test_per_token_imbalance_sees_what_window_sums_hide() -> None:
    """Loads (2, 0) then (0, 2): the window sums are even (1.0), each step waits for 2 (2.0)."""
    loads = np.array([[2, 0], [0, 2]]).reshape(1, 2, 1, 2)
    im = sc.imbalance(loads, window_tokens=2)
    assert im.window == pytest.approx(1.0)
    assert im.per_token == pytest.approx(2.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 7))
def test_imbalance_bounds(seed: int, window: int) -> None:
    """1 ≤ I_win ≤ I_tok ≤ D for any loads (the max of sums is at most the sum of maxes)."""
    rng = np.random.default_rng(seed)
    loads = rng.integers(0, 9, size=(2, 11, 3, 4))
    loads[..., 0] += 1
    im = sc.imbalance(loads, window)
    assert 1.0 <= im.window <= im.per_token + 1e-12 <= 4.0 + 1e-12


def test_dimm_loads_match_a_loop() -> None:
    rng = np.random.default_rng(5)
    x = _trace(rng, g=2, t=3, nl=2, n=10)
    d = rng.integers(0, 3, size=(2, 2, 10))
    loads = sc.dimm_loads(x, d, 3)
    for g in range(2):
        for t in range(3):
            for layer in range(2):
                want = np.bincount(d[g, layer][x[g, t, layer]], minlength=3)
                assert np.array_equal(loads[g, t, layer], want)


def test_batched_activity_is_the_union() -> None:
    a = np.zeros((4 * 3, 1, 2), dtype=bool)  # 4 sequences of 3 tokens
    a[0, 0, 0] = True    # sequence 0, token 0, neuron 0
    a[4, 0, 1] = True    # sequence 1, token 1, neuron 1
    b = sc.batched_activity(a, 4, 2)
    assert b.shape == (2, 3, 1, 2)
    assert b[0, 0, 0].tolist() == [True, False] and b[0, 1, 0].tolist() == [False, True]
    assert not b[1].any()
    with pytest.raises(ValueError, match="multiple"):
        sc.batched_activity(a, 4, 3)


# ------------------------------------------------------------------------------- Algorithm 1


def test_remap_layer_moves_most_activated_narrowing_neurons() -> None:
    """DIMM 0 carries 5+4+1, DIMM 1 nothing: gap 10; move 5 (gap 0), stop."""
    counts = np.array([5, 4, 1, 0])
    dimm_of = np.array([0, 0, 0, 1])
    new, moves = sc.remap_layer(counts, dimm_of, 2, max_moves_per_pair=10)
    assert new.tolist() == [1, 0, 0, 1] and moves.tolist() == [1]


def test_remap_layer_skips_a_move_that_would_not_narrow_the_gap() -> None:
    """Gap 2 with one neuron of count 2 on the heavy DIMM: moving it would flip the gap; stay."""
    new, moves = sc.remap_layer(np.array([2, 0]), np.array([0, 1]), 2, max_moves_per_pair=5)
    assert new.tolist() == [0, 1] and moves.tolist() == [0]


def test_remap_layer_pairs_heaviest_with_lightest() -> None:
    """Loads 8, 0, 6, 2 → pairs (0→1) and (2→3)."""
    counts = np.array([4, 4, 0, 3, 3, 1, 1])
    dimm_of = np.array([0, 0, 1, 2, 2, 3, 3])
    new, moves = sc.remap_layer(counts, dimm_of, 4, max_moves_per_pair=10)
    assert new[0] == 1 and new[1] == 0
    assert moves.tolist() == [1, 1]
    z = np.bincount(new, weights=counts, minlength=4)
    assert z.tolist() == [4, 4, 3, 5]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 9), st.integers(0, 20))
def test_remap_layer_conserves_and_never_widens(seed: int, d: int, cap: int) -> None:
    """Neurons are conserved, each pair's gap never grows, moves ≤ the cap."""
    rng = np.random.default_rng(seed)
    n = 60
    counts = rng.integers(0, 6, size=n)
    dimm_of = rng.integers(0, d, size=n)
    z0 = np.bincount(dimm_of, weights=counts, minlength=d)
    new, moves = sc.remap_layer(counts, dimm_of, d, max_moves_per_pair=cap)
    assert new.shape == (n,) and np.all((new >= 0) & (new < d))
    assert np.all(moves <= cap) and moves.sum() == int(np.sum(new != dimm_of))
    z1 = np.bincount(new, weights=counts, minlength=d)
    assert z1.sum() == z0.sum()
    order = np.argsort(-z0, kind="stable")
    for k in range(d // 2):
        h, c = order[k], order[d - 1 - k]
        assert abs(z1[h] - z1[c]) <= z0[h] - z0[c]
    assert z1.max() <= z0.max()


def test_remap_layer_respects_room() -> None:
    counts = np.array([1, 1, 1, 1, 1, 1])
    dimm_of = np.zeros(6, dtype=int)
    _, moves = sc.remap_layer(counts, dimm_of, 2, max_moves_per_pair=10, room=np.array([0, 1]))
    assert moves.tolist() == [1]


# ------------------------------------------------------------------------------ the simulation


def test_static_replay_equals_plain_loads() -> None:
    rng = np.random.default_rng(11)
    x = _trace(rng)
    p = sc.round_robin_placement(2, 64, 4)
    s = sc.simulate_windows(x, p, 4, remap=False)
    assert np.array_equal(s.loads, sc.dimm_loads(x, p, 4))
    assert s.moves.sum() == 0


def test_remap_never_uses_future_counts() -> None:
    """Two traces equal up to window k and adversarially different after it: every decision
    up to window k and every load up to its end are identical."""
    rng = np.random.default_rng(2)
    x = _trace(rng, g=1, t=30, nl=2, n=64, p=0.2)
    y = x.copy()
    k = 3
    cut = (k + 1) * sc.WINDOW_TOKENS
    # the future of y: everything that sat on the light DIMMs now fires, nothing else does
    y[:, cut:] = True
    p = sc.round_robin_placement(2, 64, 4)
    sx = sc.simulate_windows(x, p, 4, max_moves_per_pair=8)
    sy = sc.simulate_windows(y, p, 4, max_moves_per_pair=8)
    assert sx.moves.sum() > 0
    assert np.array_equal(sx.moves[:, :k + 1], sy.moves[:, :k + 1])
    assert np.array_equal(sx.loads[:, :cut], sy.loads[:, :cut])
    # the first window always runs on the initial placement
    assert np.array_equal(sx.loads[:, :sc.WINDOW_TOKENS], sc.dimm_loads(x[:, :5], p, 4))


def test_adversarial_future_defeats_the_causal_remap_but_not_hindsight() -> None:
    """Activity alternates between two neuron sets each window: a remap that learns from the
    last window moves the wrong neurons (worse than static); the hindsight oracle balances."""
    n, d = 8, 2
    p = np.array([[0, 0, 0, 0, 1, 1, 1, 1]])
    a = np.zeros((1, 20, 1, n), dtype=bool)
    for w in range(4):
        on = [0, 1] if w % 2 == 0 else [2, 3]  # two neurons of DIMM 0, a new pair each window
        a[0, 5 * w:5 * w + 5, 0, on] = True
    static = sc.simulate_windows(a, p, d, remap=False).imbalance().window
    causal = sc.simulate_windows(a, p, d, max_moves_per_pair=4).imbalance().window
    oracle = sc.simulate_windows(a, p, d, max_moves_per_pair=4, hindsight=True).imbalance().window
    assert static == pytest.approx(2.0)
    assert oracle == pytest.approx(1.0)
    assert causal > oracle


def test_capacity_is_respected() -> None:
    """DIMMs filled to within one neuron of capacity: no DIMM ever exceeds it."""
    rng = np.random.default_rng(4)
    x = _trace(rng, g=1, t=40, nl=2, n=64, p=0.25)
    x[..., :16] |= rng.random((1, 40, 2, 16)) < 0.6  # DIMM 0 of round robin... skewed
    p = sc.round_robin_placement(2, 64, 4)
    nb = np.array([100.0, 300.0])
    cap = float(sc.dimm_bytes(p, 4, nb).max()) + 300.0
    s = sc.simulate_windows(x, p, 4, max_moves_per_pair=50, neuron_bytes=nb, capacity_bytes=cap)
    assert s.moves.sum() > 0
    assert np.all(sc.dimm_bytes(s.dimm_of[0], 4, nb) <= cap)
    assert np.array_equal(sc.placement_counts(s.dimm_of, 4).sum(axis=-1), [[64, 64]])
    with pytest.raises(ValueError, match="neuron_bytes"):
        sc.simulate_windows(x, p, 4, capacity_bytes=cap)


def test_remap_lowers_imbalance_on_a_persistent_trace() -> None:
    """On a generated trace with temporal persistence, the causal remap beats the balanced
    static placement, and hindsight beats both."""
    rng = np.random.default_rng(0)
    g = sparsity.GroupTargets("mlp", 2048, 0.2, 0.4, (1, 10, 25), (0.9, 0.7, 0.6))
    tm = sparsity.build_trace_model([g], 2, 0.0, rng)
    tr = sparsity.generate_trace(tm, 4, rng, 60)
    x = tr.active.reshape(4, 60, 2, 2048)
    p = sc.balanced_placement(tm.frequencies, 8)
    stat = sc.simulate_windows(x, p, 8, remap=False).imbalance()
    caus = sc.simulate_windows(x, p, 8, max_moves_per_pair=32).imbalance()
    orac = sc.simulate_windows(x, p, 8, max_moves_per_pair=32, hindsight=True).imbalance()
    assert orac.window < caus.window < stat.window


# ------------------------------------------------------------------------------------- costs


def test_mlp_block_latency_closed_form() -> None:
    """Layer 0: GPU 10·1 + 2·3 = 16 vs DIMM 2·max(4, 1) = 8; layer 1: GPU 0 + 6 vs 2·5 = 10."""
    gpu = np.array([10, 0]).reshape(1, 1, 2)
    loads = np.array([[4, 1], [5, 5]]).reshape(1, 1, 2, 2)
    t = sc.mlp_block_latency_s(gpu, loads, gpu_neuron_s=1.0, dimm_neuron_s=2.0, sync_s=3.0)
    assert t.shape == (1, 1) and t[0, 0] == pytest.approx(26.0)
    t2 = sc.mlp_block_latency_s(gpu, loads, gpu_neuron_s=1.0, dimm_neuron_s=2.0, sync_s=3.0,
                                gpu_holds_neurons=np.array([True, False]))
    assert t2[0, 0] == pytest.approx(16.0 + 10.0)
    # the slowest DIMM sets the DIMM side: loads 1 and 9 cost 2·9 = 18, not 2·1
    t3 = sc.mlp_block_latency_s(np.zeros((1, 1, 1)), np.array([1, 9]).reshape(1, 1, 1, 2),
                                gpu_neuron_s=1.0, dimm_neuron_s=2.0, sync_s=3.0,
                                gpu_holds_neurons=False)
    assert t3[0, 0] == pytest.approx(18.0)


@pytest.mark.parametrize("pair", [0, 1])
def test_migration_cost_of_one_move(pair: int) -> None:
    """One neuron moved once over 20 steps, in either pair's slot: its link and host times and
    energies divided by 20."""
    system = io.load_system("hermes_paper")
    moves = np.zeros((1, 4, 1, 2), dtype=np.int64)
    moves[0, 1, 0, pair] = 1
    sched = sc.WindowSchedule(loads=np.zeros((1, 20, 1, 4), dtype=np.int64), moves=moves,
                              dimm_of=np.zeros((1, 1, 4), dtype=np.int64), window_tokens=5)
    nb = 30720.0
    c = sc.migration_cost(sched, [nb], link=system.dimm_link, dimm=system.dimm,
                          host_overhead_s=1e-5, projection_s=0.0)
    link = ndp.dimm_link_move(nb, system.dimm_link)
    host = ndp.host_move(nb, system.dimm, host_overhead_s=1e-5)
    assert c.bytes_per_step == pytest.approx(nb / 20)
    assert c.link_s_per_step == pytest.approx(float(link.time_s) / 20)
    assert c.host_s_per_step == pytest.approx(float(host.time_s) / 20)
    assert c.link_exposed_s_per_step == pytest.approx(c.link_s_per_step)
    assert c.host_s_per_step > c.link_s_per_step
    assert c.link_energy_j_per_step == pytest.approx(float(link.energy_j) / 20)
    assert c.host_energy_j_per_step == pytest.approx(float(host.energy_j) / 20)


def test_moves_per_projection() -> None:
    assert sc.moves_per_projection(10e-6, 2.5e-6) == 4
    assert sc.moves_per_projection(0.0, 1e-6) == 0
    with pytest.raises(ValueError):
        sc.moves_per_projection(1e-6, 0.0)


def test_projection_time_grows_with_the_model() -> None:
    system = io.load_system("hermes_paper")
    t13 = sc.projection_time_s(io.load_model("llama2_13b"), system)
    t70 = sc.projection_time_s(io.load_model("llama2_70b"), system)
    # a 5120² fp16 matrix read at under 1 TB/s takes more than 50 µs
    assert 50e-6 < t13 < t70


# ------------------------------------------------------------------- online hot/cold adjustment


def test_initial_state_anchors() -> None:
    """The paper's anchors: frequency < 2 % → 0, > 90 % → 15; monotone in between (the
    predictor's own binning, shared by the scheduler)."""
    f = np.array([0.0, 0.01, 0.019, 0.03, 0.5, 0.901, 0.95, 1.0])
    s = sc.initial_state(f)
    assert s[:3].tolist() == [0, 0, 0] and s[-3:].tolist() == [15, 15, 15]
    assert np.all(np.diff(s) >= 0) and 0 < s[3] < s[4] < 15


def test_adjust_hot_without_halves_is_static() -> None:
    rng = np.random.default_rng(8)
    a = _trace(rng, g=2, t=6, nl=2, n=20)
    hot0 = rng.random((2, 20)) < 0.3
    hs = sc.adjust_hot(a, hot0, np.zeros((2, 2, 20), dtype=int), None, token_half=False,
                       layer_half=False, swaps_per_step=5)
    assert np.array_equal(hs.gpu_active, (a & hot0).sum(axis=-1))
    assert np.array_equal(hs.cold_active, a & ~hot0)
    assert hs.swaps.sum() == 0


def test_token_half_brings_in_a_persistent_neuron() -> None:
    """Neuron 3 fires at every step from state 0: +4 per step, above T_h = 10 after three steps,
    so it is on the GPU from step 3 on; neuron 0 (resident, never fires) makes room."""
    a = np.zeros((1, 6, 1, 4), dtype=bool)
    a[0, :, 0, 3] = True
    hot0 = np.array([[True, False, False, False]])
    hs = sc.adjust_hot(a, hot0, np.zeros((1, 1, 4), dtype=int), None, token_half=True,
                       layer_half=False, swaps_per_step=1)
    assert hs.gpu_active[0, :, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert hs.swaps[0, :, 0].tolist() == [0, 0, 0, 1, 0, 0]


def test_token_half_wants_a_state_above_the_threshold_not_at_it() -> None:
    """Neuron 3 starts at exactly T_h = 10: not brought in before step 0; firing then lifts it
    to 14, so it is on the GPU from step 1."""
    a = np.zeros((1, 3, 1, 4), dtype=bool)
    a[0, :, 0, 3] = True
    hot0 = np.array([[True, False, False, False]])
    state0 = np.array([0, 0, 0, sc.HOT_THRESHOLD]).reshape(1, 1, 4)
    assert sc.HOT_THRESHOLD == 10
    hs = sc.adjust_hot(a, hot0, state0, None, token_half=True, layer_half=False, swaps_per_step=1)
    assert hs.gpu_active[0, :, 0].tolist() == [0, 1, 1]


def test_layer_half_follows_the_parents() -> None:
    """Child 1 of layer 1 has parents 0 and 1 of layer 0; when both fire (s2 = 2, 4 + 12 > 15)
    the child is brought in for that very step."""
    a = np.zeros((1, 3, 2, 2), dtype=bool)
    a[0, 1, 0, :] = True     # both parents fire at step 1
    a[0, 1, 1, 1] = True     # and the child with them
    hot0 = np.array([[False, False], [True, False]])
    par = np.full((2, 2, 2), -1)
    par[1, 1] = [0, 1]
    state0 = np.full((1, 2, 2), 4)
    hs = sc.adjust_hot(a, hot0, state0, par, token_half=False, layer_half=True, swaps_per_step=1)
    assert hs.gpu_active[0, :, 1].tolist() == [0, 1, 0]
    assert not hs.cold_active[0, 1, 1].any()
    with pytest.raises(ValueError, match="parents"):
        sc.adjust_hot(a, hot0, state0, None, token_half=False, layer_half=True, swaps_per_step=1)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 6))
def test_adjustment_conserves_gpu_memory_and_swap_budget(seed: int, k: int) -> None:
    """The GPU always holds as many neurons per layer as at the start, and each step brings in
    at most the budget; active neurons are split exactly between GPU and DIMMs."""
    rng = np.random.default_rng(seed)
    a = _trace(rng, g=2, t=8, nl=3, n=30, p=0.4)
    hot0 = rng.random((3, 30)) < 0.3
    par = rng.integers(-1, 30, size=(3, 30, 2))
    hs = sc.adjust_hot(a, hot0, sc.initial_state(rng.random((2, 3, 30))), par, token_half=True,
                       layer_half=True, swaps_per_step=k)
    assert np.all(hs.swaps <= k)
    assert np.array_equal(hs.gpu_active + hs.cold_active.sum(axis=-1), a.sum(axis=-1))


def test_swaps_per_projection_closed_form() -> None:
    link = io.load_system("hermes_paper").host_link
    nb = 30720.0
    proj = link.latency_s + 10 * nb / link.achievable_bandwidth_bytes_per_s
    assert sc.swaps_per_projection(proj * (1 + 1e-9), nb, link) == 10
    assert sc.swaps_per_projection(0.0, nb, link) == 0


# ------------------------------------------------------------------------ data, CLI, bench keys


def test_paper_tables_carry_sources_and_are_not_model_outputs() -> None:
    fig13 = io.load_scheduling_table("paper_fig13")
    assert fig13["value"].tolist() == [1.63, 1.33, 1.29, 1.08, 1.11]
    assert set(fig13["numerator"]) | set(fig13["denominator"]) == set(sc.VARIANTS)
    assert fig13["source"].str.contains("Hermes").all()
    imb = io.load_scheduling_table("paper_imbalance")
    static = imb.set_index("claim").loc["static_imbalance"]
    assert (static["value_low"], static["value_high"]) == (1.2, 2.5)
    with pytest.raises(ValueError, match="unknown"):
        io.load_scheduling_table("fig99")


def test_balance_table_names_its_migration_per_decode_step(tmp_path, monkeypatch) -> None:
    """`balance` carries the remap's migration per decode step (``*_per_step``: a step of batch
    16 decodes 16 tokens), not per token; a table with the old ``*_per_token``
    migration columns is refused, naming the column it lacks."""
    bal = io.load_scheduling_table("balance")
    assert set(io.BALANCE_COLUMNS) <= set(bal.columns)
    assert not [c for c in bal.columns if c.endswith("_per_token") and c != "imbalance_per_token"]
    assert (bal.loc[bal["placement"] == "remapped", "migrated_bytes_per_step"] > 0).all()
    (tmp_path / "derived").mkdir()
    bal.rename(columns={"migrated_bytes_per_step": "migrated_bytes_per_token"}).to_csv(
        tmp_path / "derived" / "balance.csv", index=False)
    monkeypatch.setattr(io, "data_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match="migrated_bytes_per_step"):
        io.load_scheduling_table("balance")


def test_cli_balance_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`balance --json` on LLaMA2-13B: both imbalances reported, the remap's the lower."""
    import json

    from hermes_model import cli

    assert cli.main(["balance", "--model", "llama2_13b", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("imbalance_static", "imbalance_window", "imbalance_window_per_token",
                "migrated_bytes_per_step"):
        assert np.isfinite(out[key])
    assert 1.0 < out["imbalance_window"] < out["imbalance_static"]
    assert out["imbalance_window_hindsight"] < out["imbalance_window"]
    assert out["imbalance_window_per_token"] >= out["imbalance_window"]
    assert out["migrated_bytes_per_step"] > 0
    assert {"imbalance_static_llama2_13b", "imbalance_window_llama2_13b",
            "balance_s"} <= set(cli.BENCHMARKS)


def test_ablation_and_ratio_charts() -> None:
    """The chapter's two builders: encodings, axis titles, the reference ticks."""
    import pandas as pd

    from hermes_model import plotting

    df = pd.DataFrame({"model": ["A"] * 4, "batch": [1, 1, 4, 4],
                       "variant": ["x", "y", "x", "y"], "speedup": [1.0, 1.5, 1.0, 1.2]})
    spec = plotting.ablation_chart(df).to_dict()
    enc = spec["spec"]["encoding"]
    assert enc["y"]["title"] == "MLP-block speedup over the first variant (×)"
    assert enc["xOffset"]["sort"] == ["x", "y"] and spec["facet"]["column"]["field"] == "model"
    r = pd.DataFrame({"ratio": ["a", "b"], "model": [1.1, 1.0], "paper": [1.63, 1.33]})
    layers = plotting.ratio_chart(r).to_dict()["layer"]
    assert layers[0]["mark"]["type"] == "bar" and layers[1]["mark"]["type"] == "tick"
    assert layers[1]["encoding"]["y"]["field"] == "paper"
    with pytest.raises(ValueError):
        plotting.ratio_chart(r.drop(columns="paper"))


def _imb(window: float, per_token: float) -> sc.Imbalance:
    empty = np.zeros((1, 1))
    return sc.Imbalance(window=window, per_token=per_token, window_by_window=empty,
                        per_token_by_window=empty, layer_window=np.zeros((1, 1, 1)))


def test_remap_sentence_quotes_the_share_of_the_oracle_gain() -> None:
    text = sc.remap_sentence(_imb(1.2, 1.3), _imb(1.1, 1.2), _imb(1.0, 1.1), 8)
    assert text == ("Remapping on the previous window lowers the imbalance from 1.200 to 1.100 "
                    "(per token from 1.300 to 1.200), 50 % of what the hindsight oracle gets.")
    # no oracle gain: no 0 / 0 share; one DIMM: nothing to balance
    flat = sc.remap_sentence(_imb(1.0, 1.0), _imb(1.0, 1.0), _imb(1.0, 1.0), 2)
    assert "leaves the imbalance from 1.000 at 1.000" in flat and "no better" in flat
    assert "nan" not in flat
    assert sc.remap_sentence(_imb(1, 1), _imb(1, 1), _imb(1, 1), 1).startswith("With one DIMM")


def test_migration_text_without_moves_and_with_exposed_moves() -> None:
    none = sc.MigrationCost(bytes_per_step=0.0, link_s_per_step=0.0, host_s_per_step=0.0,
                            link_exposed_s_per_step=0.0, host_exposed_s_per_step=0.0,
                            link_energy_j_per_step=0.0, host_energy_j_per_step=0.0)
    assert sc.migration_text(none, 10.0, 1).startswith("With one DIMM nothing moves")
    assert sc.migration_text(none, 10.0, 8).startswith("The remap moves no neuron")
    some = sc.MigrationCost(bytes_per_step=1e5, link_s_per_step=2e-6, host_s_per_step=2e-5,
                            link_exposed_s_per_step=1e-6, host_exposed_s_per_step=1.5e-5,
                            link_energy_j_per_step=1e-6, host_energy_j_per_step=1e-5)
    text = sc.migration_text(some, 10.0, 8)
    assert "moves 1,000 kB" in text and "takes 20 µs" in text
    assert "10 µs of it beyond the projections" in text and text.endswith("10× longer")


def test_batch_divisors() -> None:
    assert sc.batch_divisors(16) == [1, 2, 4, 8, 16]
    assert sc.batch_divisors(1) == [1]


# ------------------------------------------------------------------ mutation-audit additions (3)


def test_balanced_placement_lpt_rounds_by_hand() -> None:
    """Weights 4, 3, 2, 1 on 2 DIMMs: round 1 gives 4|3, round 2 gives 2 to the lighter DIMM."""
    p = sc.balanced_placement(np.array([[4.0, 3.0, 2.0, 1.0]]), 2)
    assert p.tolist() == [[0, 1, 1, 0]]
    assert np.bincount(p[0], weights=[4, 3, 2, 1], minlength=2).tolist() == [5.0, 5.0]


def test_imbalance_by_window_arrays_by_hand() -> None:
    """Window 0: steps (2,0),(0,2) → I_win 1, I_tok 2; window 1: (3,1),(3,1) → 1.5 and 1.5;
    the totals are ratios of sums: 8/6 and 10/6."""
    loads = np.array([[2, 0], [0, 2], [3, 1], [3, 1]]).reshape(1, 4, 1, 2)
    im = sc.imbalance(loads, window_tokens=2)
    assert np.allclose(im.window_by_window, [[1.0, 1.5]])
    assert np.allclose(im.per_token_by_window, [[2.0, 1.5]])
    assert np.allclose(im.layer_window[..., 0], [[1.0, 1.5]])
    assert im.window == pytest.approx(8 / 6) and im.per_token == pytest.approx(10 / 6)


def test_imbalance_of_a_single_active_neuron() -> None:
    """One active neuron on one of two DIMMs (mean load 0.5 < 1): slowest / mean = 2."""
    im = sc.imbalance(np.array([1, 0]).reshape(1, 1, 1, 2))
    assert im.window == pytest.approx(2.0) and im.per_token == pytest.approx(2.0)


def _naive_remap(counts: np.ndarray, dimm_of: np.ndarray, d: int, cap: int,
                 room: np.ndarray | None) -> tuple[list[int], list[int]]:
    """Algorithm 1 one neuron at a time, as the module docstring states it."""
    new = [int(x) for x in dimm_of]
    z = [int(sum(c for c, j in zip(counts, dimm_of, strict=True) if j == k)) for k in range(d)]
    free = [10**9] * d if room is None else [int(r) for r in room]
    order = sorted(range(d), key=lambda k: -z[k])  # stable: ties keep index order
    moves = []
    for k in range(d // 2):
        h, lt = order[k], order[d - 1 - k]
        gap, moved, limit = z[h] - z[lt], 0, min(cap, max(free[lt], 0))
        cand = sorted((i for i in range(len(new)) if new[i] == h and counts[i] > 0),
                      key=lambda i: -counts[i])
        for i in cand:
            if moved >= limit or gap <= 0:
                break
            if counts[i] < gap:
                new[i], gap, moved = lt, gap - 2 * int(counts[i]), moved + 1
        free[lt] -= moved
        free[h] += moved
        moves.append(moved)
    return new, moves


def test_remap_layer_matches_a_one_neuron_at_a_time_reference() -> None:
    """The grouped moves of remap_layer equal the plain per-neuron loop (ties, caps, room)."""
    rng = np.random.default_rng(5)
    for _ in range(150):
        d = int(rng.integers(2, 7))
        n = int(rng.integers(1, 40))
        counts = rng.integers(0, 6, size=n) * rng.integers(1, 3, size=n)
        dimm_of = rng.integers(0, d, size=n)
        cap = int(rng.integers(0, 12))
        room = None if rng.random() < 0.5 else rng.integers(0, 5, size=d)
        new, moves = sc.remap_layer(counts, dimm_of, d, max_moves_per_pair=cap, room=room)
        ref_new, ref_moves = _naive_remap(counts, dimm_of, d, cap, room)
        assert new.tolist() == ref_new and moves.tolist() == ref_moves


def test_remap_layer_many_small_after_one_large() -> None:
    """Heavy DIMM 4 + ten 1s, light 0: gap 14 → move the 4 (gap 6) then three 1s (gap 0)."""
    counts = np.array([4] + [1] * 10 + [0])
    dimm_of = np.array([0] * 11 + [1])
    new, moves = sc.remap_layer(counts, dimm_of, 2, max_moves_per_pair=20)
    assert moves.tolist() == [4]
    assert new[:4].tolist() == [1, 1, 1, 1] and np.all(new[4:11] == 0)


def _history_trace() -> np.ndarray:
    """1-step windows: step 0 fires neurons 0, 1 (DIMM 0), step 1 fires neurons 2, 3 (DIMM 1)."""
    x = np.zeros((1, 3, 1, 4), dtype=bool)
    x[0, 0, 0, [0, 1]] = True
    x[0, 1, 0, [2, 3]] = True
    return x


def test_history_of_one_window_forgets_older_windows() -> None:
    """Window 1 moves neuron 0 to DIMM 1 (gap 2); window 2 sees only step 1 (neurons 2, 3 on
    DIMM 1) and moves neuron 2 to DIMM 0, not neuron 0 back (which older counts would do)."""
    s = sc.simulate_windows(_history_trace(), np.array([[0, 0, 1, 1]]), 2, window_tokens=1,
                            max_moves_per_pair=4, history_windows=1)
    assert s.dimm_of[0, 0].tolist() == [1, 0, 0, 1]
    assert s.moves[0, :, 0, 0].tolist() == [0, 1, 1]


def test_history_of_two_windows_uses_both() -> None:
    """history_windows=2: window 1 already decides on step 0 (move neuron 0); window 2 sums
    steps 0-1 (counts 1, 1, 1, 1 on DIMMs 1, 0, 1, 1: gap 2) and moves neuron 0 back."""
    s = sc.simulate_windows(_history_trace(), np.array([[0, 0, 1, 1]]), 2, window_tokens=1,
                            max_moves_per_pair=4, history_windows=2)
    assert s.moves[0, :, 0, 0].tolist() == [0, 1, 1]
    assert s.dimm_of[0, 0].tolist() == [0, 0, 1, 1]


def test_capacity_binds_with_neurons_of_two_bytes() -> None:
    """Four 2-B neurons per DIMM, capacity 10 B: DIMM 1 has room for one neuron, so window 1
    moves one of DIMM 0's always-active neurons, not the two an unbounded DIMM would take."""
    x = np.zeros((1, 10, 1, 8), dtype=bool)
    x[0, :, 0, :4] = True
    p = np.array([[0, 0, 0, 0, 1, 1, 1, 1]])
    free = sc.simulate_windows(x, p, 2, max_moves_per_pair=8)
    assert free.moves[0, 1, 0].tolist() == [2]
    s = sc.simulate_windows(x, p, 2, max_moves_per_pair=8, neuron_bytes=[2.0],
                            capacity_bytes=10.0)
    assert s.moves[0, 1, 0].tolist() == [1]
    assert np.all(sc.dimm_bytes(s.dimm_of[0], 2, [2.0]) <= 10.0)


# ------------------------------------------------------------------ mutation-audit additions (4)


def test_migration_cost_hides_moves_within_the_projection() -> None:
    """One move over 20 steps: a projection of a quarter of the link move leaves 3/4 of it
    exposed; one at least as long as the move hides it all."""
    system = io.load_system("hermes_paper")
    moves = np.zeros((1, 4, 1, 2), dtype=np.int64)
    moves[0, 2, 0, 1] = 1
    sched = sc.WindowSchedule(loads=np.zeros((1, 20, 1, 4), dtype=np.int64), moves=moves,
                              dimm_of=np.zeros((1, 1, 4), dtype=np.int64), window_tokens=5)
    nb = 30720.0
    link_s = float(ndp.dimm_link_move(nb, system.dimm_link).time_s)
    host_s = float(ndp.host_move(nb, system.dimm, host_overhead_s=1e-5).time_s)
    kw = {"link": system.dimm_link, "dimm": system.dimm, "host_overhead_s": 1e-5}
    c = sc.migration_cost(sched, [nb], projection_s=0.25 * link_s, **kw)
    assert c.link_s_per_step == pytest.approx(link_s / 20)
    assert c.link_exposed_s_per_step == pytest.approx(0.75 * link_s / 20)
    assert c.host_exposed_s_per_step == pytest.approx((host_s - 0.25 * link_s) / 20)
    hidden = sc.migration_cost(sched, [nb], projection_s=link_s, **kw)
    assert hidden.link_exposed_s_per_step == pytest.approx(0.0, abs=1e-18)
    assert hidden.link_s_per_step == pytest.approx(link_s / 20)


def test_capacity_counts_the_bytes_moved_by_earlier_layers() -> None:
    """Two layers of eight 2-B neurons, four per DIMM (16 B each), capacity 20 B, DIMM 0's four
    neurons of each layer always active: layer 0 moves two to DIMM 1 (room 2), filling it to
    20 B, so layer 1 finds no room and moves none."""
    x = np.zeros((1, 10, 2, 8), dtype=bool)
    x[0, :, :, :4] = True
    p = np.tile([0, 0, 0, 0, 1, 1, 1, 1], (2, 1))
    s = sc.simulate_windows(x, p, 2, max_moves_per_pair=8, neuron_bytes=[2.0, 2.0],
                            capacity_bytes=20.0)
    assert s.moves[0, 1].tolist() == [[2], [0]]
    assert sc.dimm_bytes(s.dimm_of[0], 2, [2.0, 2.0]).tolist() == [12.0, 20.0]


def _tiny_gpu_case(batch: int) -> tuple[sc.CaseSetup, np.ndarray, float]:
    """LLaMA2-13B, two replayed layers, a GPU whose budget holds 10.5 neurons per two layers."""
    from dataclasses import replace

    from hermes_model import cli, partition, shapes

    model = io.load_model("llama2_13b")
    system = io.load_system("hermes_paper")
    nb = shapes.neuron_bytes(model, "mlp")
    proj = model.n_layers * model.d_model * model.n_heads * model.head_dim * 2  # fp16, resident
    whole = 10.5 * nb * model.n_layers / 2  # the whole model's budget: 10.5 neurons per 2 layers
    mem = (whole + proj) / (0.9 * system.n_gpus)
    system = replace(system, gpu=replace(system.gpu, memory_bytes=mem))
    assert partition.gpu_neuron_budget_bytes(model, system) == pytest.approx(whole)
    targets = cli.sparsity_targets("llama2_13b", "relu")
    case = sc.make_case(model, system, targets, batch=batch, rng=np.random.default_rng(3),
                        n_layers_sim=2, n_sequences=4, prefill_tokens=4, decode_tokens=4)
    mlp = {g.name: g for g in targets.groups}["mlp"]
    tm = sparsity.build_trace_model([mlp], 2, targets.coupled_share, np.random.default_rng(3))
    return case, tm.frequencies, nb


def test_make_case_scales_the_gpu_budget_to_the_replayed_layers() -> None:
    """The budget of 2 of 40 layers holds 10 whole 30 KiB neurons: the hot set has at most 10."""
    case, _, _ = _tiny_gpu_case(batch=2)
    assert case.hot0.shape == (2, 13824)
    assert 0 < case.hot0.sum() <= 10


@pytest.mark.parametrize("batch", [1, 4])
def test_make_case_offline_frequency_of_a_batch_step(batch: int) -> None:
    """A neuron of per-token frequency f is active in a step of b tokens with 1 - (1 - f)^b."""
    case, f, _ = _tiny_gpu_case(batch=batch)
    assert f.shape == (2, 13824)
    assert np.allclose(case.offline_freq, 1.0 - (1.0 - f) ** batch)
    if batch == 1:
        assert np.allclose(case.offline_freq, f)
    assert case.offline_freq.min() >= 0.0 and case.offline_freq.max() <= 1.0
