"""Tests of the §III-B motivation quantities in hermes_model.scheduling: the prefill-fixed hot
set, its flips during decode, and the per-token oracle partition."""

from __future__ import annotations

import numpy as np
import pytest

from hermes_model import scheduling as sch


def test_prefill_hot_set_takes_top_k_with_ties_broken():
    f = np.array([[[0.1, 0.9, 0.5, 0.5]]])                      # (G=1, L=1, N=4)
    hot = sch.prefill_hot_set(f, [2], tie_break=[[0.0, 0.0, 0.1, 0.3]])
    assert hot.tolist() == [[[False, True, False, True]]]
    assert sch.prefill_hot_set(f, [0]).sum() == 0
    assert sch.prefill_hot_set(f, [4]).all()
    with pytest.raises(ValueError, match="gpu_neurons"):
        sch.prefill_hot_set(f, [5])


def test_no_change_gives_zero_flips():
    # every initially hot neuron keeps firing: its state stays 15, nothing flips
    dec = np.zeros((2, 128, 3, 10), dtype=bool)
    dec[..., :4] = True
    state0 = np.zeros((3, 10), dtype=np.int64)
    state0[:, :4] = 15
    r = sch.hot_flips(dec, state0)
    assert r.initially_hot.tolist() == [[4, 4, 4]] * 2
    assert r.flipped.sum() == 0 and r.share == 0.0


def test_silence_of_five_steps_flips_a_full_state():
    # 15 -> 10 after five silent steps (10 is not hot); four silent steps leave it at 11
    state0 = np.full((1, 2), 15)
    dec = np.ones((1, 20, 1, 2), dtype=bool)
    dec[0, 3:7, 0, 0] = False                                   # four silent steps
    dec[0, 10:15, 0, 1] = False                                 # five silent steps
    r = sch.hot_flips(dec, state0)
    assert r.flipped.tolist() == [[1]] and r.share == pytest.approx(0.5)
    # `among` restricts the initially hot set
    r2 = sch.hot_flips(dec, state0, among=np.array([[True, False]]))
    assert r2.initially_hot.tolist() == [[1]] and r2.share == 0.0
    assert np.isnan(sch.hot_flips(dec, np.zeros((1, 2))).share)


def test_oracle_closed_form_and_never_slower_than_a_fixed_partition():
    tg, td, sync, d = 1.0, 8.0, 2.0, 4
    # A = 10 active, k = 5: crossing n* = (8*10/4 - 4) / (1 + 2) = 16/3 -> clipped to 5:
    # max(5 + 4, 8*5/4) = 10; n_g = 0 costs 20
    t = sch.oracle_mlp_latency_s(np.array([[[10]]]), [5], n_dimms=d, gpu_neuron_s=tg,
                                 dimm_neuron_s=td, sync_s=sync)
    assert t.tolist() == [[10.0]]
    # an interior crossing: k = 10, sync 1.5: n* = (20 - 3) / 3 = 5.67; n_g = 5 costs
    # max(5 + 3, 10) = 10, n_g = 6 costs max(6 + 3, 8) = 9
    t1 = sch.oracle_mlp_latency_s(np.array([[[10]]]), [10], n_dimms=d, gpu_neuron_s=tg,
                                  dimm_neuron_s=td, sync_s=1.5)
    assert t1.tolist() == [[9.0]]
    # a costly synchronisation: the oracle keeps the GPU idle
    t0 = sch.oracle_mlp_latency_s(np.array([[[4]]]), [5], n_dimms=d, gpu_neuron_s=tg,
                                  dimm_neuron_s=td, sync_s=100.0)
    assert t0.tolist() == [[8.0]]
    rng = np.random.default_rng(3)
    g, steps, nl, n = 2, 30, 3, 64
    active = rng.random((g, steps, nl, n)) < 0.3
    k = np.array([0, 7, 20])
    hot = sch.prefill_hot_set(rng.random((g, nl, n)), k)
    place = rng.integers(0, d, size=(nl, n))
    fixed = sch.mlp_block_latency_s((active & hot[:, None]).sum(-1),
                                    sch.dimm_loads(active & ~hot[:, None], place, d),
                                    gpu_neuron_s=tg, dimm_neuron_s=td, sync_s=sync,
                                    gpu_holds_neurons=k > 0)
    oracle = sch.oracle_mlp_latency_s(active.sum(-1), k, n_dimms=d, gpu_neuron_s=tg,
                                      dimm_neuron_s=td, sync_s=sync)
    assert oracle.shape == fixed.shape == (g, steps)
    assert np.all(oracle <= fixed + 1e-12) and oracle.sum() < fixed.sum()
    # brute force over every integer n_g matches the closed form
    a = active.sum(-1)
    ng = np.arange(n + 1)[:, None, None, None]
    cost = np.maximum(tg * ng + 2 * sync * (ng > 0), td * (a - ng) / d)
    cost = np.where(ng <= np.minimum(a, k), cost, np.inf).min(axis=0).sum(-1)
    np.testing.assert_allclose(oracle, cost)


def test_stability_case_latencies_are_per_whole_model():
    """The replayed layers' mean latency is scaled to the model's layer count: the same trace
    counted as a model of twice the layers costs exactly twice; the oracle is never slower."""
    import dataclasses

    from hermes_model import io
    from hermes_model.cli import sparsity_targets

    model, system = io.load_model("llama2_13b"), io.load_system("hermes_paper", "paper")
    case = sch.make_case(model, system, sparsity_targets("llama2_13b", "relu"), batch=1,
                         rng=np.random.default_rng(0), n_layers_sim=2, n_sequences=2,
                         prefill_tokens=32, decode_tokens=32)
    res = sch.stability_case(case)
    twice = sch.stability_case(dataclasses.replace(case, n_layers_model=2 * case.n_layers_model))
    assert twice.fixed_latency_s == pytest.approx(2 * res.fixed_latency_s, rel=1e-12)
    assert twice.oracle_latency_s == pytest.approx(2 * res.oracle_latency_s, rel=1e-12)
    assert 0 < res.oracle_latency_s <= res.fixed_latency_s
    # 40 layers of at most ms each: the whole model's MLP blocks take well under a second
    assert res.fixed_latency_s < 1.0
