"""Tests of the 4-bit predictor: the FSM, the binning, the rule, the table sizes, the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from hermes_model import io
from hermes_model import predictor as pr


def test_fsm_follows_the_papers_examples_and_saturates() -> None:
    # §IV-C: 7 -> 11 when active, 10 -> 9 when not; saturating at 15 and 0.
    s = pr.update_states(np.array([7, 10, 13, 0, 15]), np.array([True, False, True, False, True]))
    assert s.tolist() == [11, 9, 15, 0, 15]


def test_initial_binning_ends_and_stages() -> None:
    f = np.array([0.0, 0.019, 0.02, 0.0828, 0.5, 0.8999, 0.90, 0.9001, 1.0])
    s = pr.initial_states(f)
    assert s.tolist()[:2] == [0, 0]          # < 2 % -> 0
    assert s.tolist()[-2:] == [15, 15]       # > 90 % -> 15
    assert s[2] == 1 and s[6] == 14          # the 14 inner bins span [2 %, 90 %]
    grid = pr.initial_states(np.linspace(0, 1, 10001))
    assert np.all(np.diff(grid) >= 0)
    assert set(np.unique(grid).tolist()) == set(range(16))  # 16 stages


def test_rule_needs_a_correlated_neuron() -> None:
    states = np.arange(16)
    assert not pr.predict(states, np.zeros(16)).any()         # s1 <= 15 = T
    assert pr.predict(states, np.ones(16)).tolist() == [s > 9 for s in range(16)]
    assert pr.predict(states, np.full(16, 2)).tolist() == [s > 3 for s in range(16)]


def test_table_bytes_for_llama_7b_digest_18() -> None:
    n = 32 * (4096 + 11008)
    assert pr.state_table_bytes(n) / 1024 == pytest.approx(236.0, abs=0.01)
    # Two 14-bit indices (previous layer ≤ 16384 neurons) per neuron: 7x the state table.
    assert pr.correlation_table_bytes(n, 11008) == pytest.approx(7 * pr.state_table_bytes(n))
    state, corr = pr.model_table_bytes(io.load_model("llama2_7b"))
    assert state == pytest.approx(pr.state_table_bytes(n))
    assert corr > state


def test_mlp_predictor_cost_scales_with_rank() -> None:
    m = io.load_model("llama2_7b")
    a = pr.mlp_predictor_cost(m, rank=1024, bandwidth_bytes_per_s=1e12)
    b = pr.mlp_predictor_cost(m, rank=2048, bandwidth_bytes_per_s=1e12)
    assert b.parameters == 2 * a.parameters
    assert a.parameters == 32 * 1024 * (4096 + 11008)
    assert a.time_s == pytest.approx(a.bytes / 1e12)
    assert pr.rank_for_parameters(m, a.parameters) == pytest.approx(1024)


def test_correlation_table_finds_planted_parents() -> None:
    rng = np.random.default_rng(0)
    prev = rng.random((4000, 50)) < 0.3
    cur = rng.random((4000, 20)) < 0.05
    # neuron j of cur fires whenever prev neurons 2j and 2j+1 both fire
    for j in range(20):
        cur[:, j] |= prev[:, 2 * j] & prev[:, 2 * j + 1]
    table = pr.correlation_table(prev, cur, chunk=7)
    assert table.shape == (20, 2)
    assert all(set(table[j]) == {2 * j, 2 * j + 1} for j in range(20))


def _planted_trace(rng: np.random.Generator, n_seq: int = 6, n_tok: int = 60, n: int = 40
                   ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Two layers: layer 1 neuron j fires exactly when both parents (j, j+n/2) of layer 0 fire."""
    t = n_seq * n_tok
    l0 = rng.random((t, n)) < 0.5
    half = n // 2
    l1 = np.zeros((t, n), dtype=bool)
    l1[:, :half] = l0[:, :half] & l0[:, half:]
    parents = np.stack([np.r_[np.arange(half), np.arange(half)],
                        np.r_[np.arange(half, n), np.arange(half, n)]], axis=1)
    parents[half:] = [0, 1]  # the rest never fire; any parents
    return np.stack([l0, l1], axis=1), np.repeat(np.arange(n_seq), n_tok), [parents]


def test_simulation_scores_a_planted_trace_by_hand() -> None:
    active, seq, parents = _planted_trace(np.random.default_rng(1))
    res = pr.simulate(active, seq, parents, prefill_tokens=10)
    # Recompute the confusion counts with an explicit loop over sequences and tokens.
    tp = fp = fn = tn = 0
    for s in np.unique(seq):
        toks = np.flatnonzero(seq == s)
        st = pr.initial_states(active[toks[:10], 1].mean(0))
        for t in toks[10:]:
            s2 = active[t, 0][parents[0]].sum(1)
            p = (st.astype(int) + 6 * s2) > 15
            r = active[t, 1]
            tp += int(np.sum(p & r))
            fp += int(np.sum(p & ~r))
            fn += int(np.sum(~p & r))
            tn += int(np.sum(~p & ~r))
            st = np.clip(st.astype(int) + np.where(r, 4, -1), 0, 15)
    assert (res.tp, res.fp, res.fn, res.tn) == (tp, fp, fn, tn)
    assert res.n_tokens == 6 * 50
    assert res.trivial_accuracy == pytest.approx((fp + tn) / (tp + fp + fn + tn))
    # Both parents firing make the child fire; the rule then catches it if its state is >= 4.
    assert res.recall > 0.5


def test_swap_keeps_the_gpu_set_size_and_follows_hot_neurons() -> None:
    active, seq, parents = _planted_trace(np.random.default_rng(2))
    gpu0 = np.zeros(active.shape[1:], dtype=bool)
    gpu0[:, 30:] = True  # start with 10 never-firing neurons per layer on the GPU
    res = pr.simulate(active, seq, parents, prefill_tokens=10, gpu_resident=gpu0)
    assert res.gpu_hit_share_static == 0.0
    assert res.gpu_hit_share > 0.3
    assert res.swaps_per_token > 0
    states = np.array([[12, 3, 11, 0], [1, 2, 3, 4]], dtype=np.int8)
    gpu = np.array([[False, True, False, True], [True, False, False, False]])
    moved = pr._swap(states, gpu, 10)
    assert moved == 2
    assert gpu[0].tolist() == [True, False, True, False]  # two hot in, two coldest out
    assert gpu.sum() == 3


def test_real_minilm_trace_reports_the_trivial_baseline() -> None:
    active, seq, _ = io.load_activation_masks("minilm")
    uniq = np.unique(seq)
    prof = np.isin(seq, uniq[::2])
    parents = [pr.correlation_table(active[prof, l - 1], active[prof, l])
               for l in range(1, active.shape[1])]
    res = pr.simulate(active[~prof], seq[~prof], parents, prefill_tokens=32)
    density = active[~prof][:, 1:].mean()
    # The trivial baseline is the sparsity of the scored tokens (prefill tokens excluded).
    assert 0.5 < res.trivial_accuracy < 1.0
    assert abs(res.trivial_accuracy - (1 - density)) < 0.05
    assert 0.0 < res.recall < 1.0 and 0.0 < res.precision < 1.0
    with pytest.raises(ValueError, match="parent tables"):
        pr.simulate(active, seq, parents[:1], prefill_tokens=32)


def test_static_gpu_hit_share_is_the_fired_share_on_the_offline_set() -> None:
    """The static hit share: scored firings of layers 1.. that land on the offline GPU set,
    over all scored firings (the prefill tokens and layer 0 are not scored)."""
    active, seq, parents = _planted_trace(np.random.default_rng(4))
    gpu0 = np.zeros(active.shape[1:], dtype=bool)
    gpu0[:, :5] = True  # five of the twenty firing neurons of each layer
    res = pr.simulate(active, seq, parents, prefill_tokens=10, gpu_resident=gpu0)
    hits = fired = 0
    for s in np.unique(seq):
        for t in np.flatnonzero(seq == s)[10:]:
            hits += int(np.sum(active[t, 1, :5]))
            fired += int(np.sum(active[t, 1]))
    assert hits > 0 and fired > hits
    assert res.gpu_hit_share_static == pytest.approx(hits / fired, rel=1e-12)
    assert 0.15 < res.gpu_hit_share_static < 0.35  # about 5 of 20 equally likely neurons


def test_correlation_table_ranks_by_phi_not_by_covariance() -> None:
    """Parents whose marginals differ: the blocked table picks the same two φ-top parents as
    `sparsity.top2_parents` (the whole φ matrix at once), not the largest covariances."""
    from hermes_model import sparsity

    rng = np.random.default_rng(3)
    rates = np.linspace(0.05, 0.9, 30)
    prev = rng.random((3000, 30)) < rates
    cur = (rng.random((3000, 12)) < 0.1) | (prev[:, :12] & (rng.random((3000, 12)) < 0.5))
    table = pr.correlation_table(prev, cur, chunk=5)
    np.testing.assert_array_equal(table, sparsity.top2_parents(prev, cur).T)
    # by hand for one neuron: φ = cov / (σ_x σ_y) over the previous layer
    x, y = prev.astype(float), cur[:, 7].astype(float)
    cov = (x * y[:, None]).mean(0) - x.mean(0) * y.mean()
    phi = cov / np.sqrt(x.mean(0) * (1 - x.mean(0)) * y.mean() * (1 - y.mean()))
    assert list(table[7]) == list(np.argsort(-phi)[:2])
