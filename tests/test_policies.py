"""Tests of hermes_model.policies: oracles, N.P. cases, monotonicity, the band, the CLI."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from hermes_model import cli, io, policies, shapes
from hermes_model.policies import Assumptions, Policy

MODELS = ("opt_13b", "opt_66b", "llama2_70b", "falcon_40b")


@pytest.fixture(scope="module")
def system():
    return io.load_system("hermes_paper", "paper")


@pytest.fixture(scope="module")
def inputs():
    return io.load_generator_inputs()


def opts(inputs, slug: str, **kw) -> Assumptions:
    return Assumptions(activity=policies.activity_from_inputs(inputs[slug]), **kw)


def test_policy_names_are_exact():
    """The CLI names of the issue, in the registry, every one a function of one signature."""
    assert [p.value for p in Policy] == ["accelerate", "flexgen", "dejavu", "hermes-host",
                                         "hermes-base", "hermes", "gpu-only"]
    assert set(policies.POLICIES) == set(Policy)


@pytest.mark.parametrize("slug", MODELS)
@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("batch", [1, 4])
def test_total_is_sum_of_breakdown_and_tokens_per_s_definition(system, inputs, slug, policy,
                                                               batch):
    """total = Σ breakdown = prefill + gen_len × decode step; tokens/s = b·gen / total."""
    model = io.load_model(slug)
    e = policies.estimate(policy, model, system, batch=batch, prompt_len=64, gen_len=32,
                          options=opts(inputs, slug))
    if not e.supported:
        assert e.reason and e.tokens_per_s == 0
        return
    assert set(e.breakdown_s) == set(policies.CATEGORIES)
    assert all(v >= 0 for v in e.breakdown_s.values())
    assert math.isclose(e.total_s, sum(e.breakdown_s.values()), rel_tol=1e-12)
    assert math.isclose(e.total_s, e.prefill_s + 32 * e.decode_step_s, rel_tol=1e-9)
    assert math.isclose(e.tokens_per_s, batch * 32 / e.total_s, rel_tol=1e-12)
    assert e.breakdown_s["prefill"] == e.prefill_s


@pytest.mark.parametrize("policy", [Policy.FLEXGEN, Policy.DEJAVU])
@pytest.mark.parametrize("slug", ["llama2_70b", "falcon_40b", "llama2_13b"])
def test_opt_only_policies_are_np_elsewhere(system, inputs, policy, slug):
    """FlexGen and Deja Vu support OPT only (the paper's N.P.)."""
    e = policies.estimate(policy, io.load_model(slug), system, options=opts(inputs, slug))
    assert not e.supported and "OPT" in e.reason


def test_dimm_capacity_in_gib(inputs):
    """LLaMA2-70B (128.5 GiB of fp16 weights) does not fit four 32 GiB DIMMs; it fits eight."""
    model = io.load_model("llama2_70b")
    assert 128 * 2**30 < shapes.weight_bytes(model) < 130 * 2**30
    for n, ok in ((4, False), (8, True)):
        s = io.load_system("hermes_paper", n_dimms=n)
        for pol in ("hermes", "hermes-base"):
            e = policies.estimate(pol, model, s, options=opts(inputs, "llama2_70b"))
            assert e.supported is ok
            if not ok:
                assert "GiB" in e.reason and "NDP-DIMM" in e.reason


def test_gpu_only_capacity(inputs):
    """OPT-13B (24 GiB) does not fit one 24 GiB GPU after the workspace; it fits two."""
    model = io.load_model("opt_13b")
    one = policies.estimate("gpu-only", model, io.load_system("hermes_paper"))
    two = policies.estimate("gpu-only", model, io.load_system("hermes_paper", n_gpus=2))
    assert not one.supported and "GPU" in one.reason
    assert two.supported and two.breakdown_s["communication"] > 0


def test_sparse_policies_need_activity(system):
    e = policies.estimate("hermes", io.load_model("opt_13b"), system, options=Assumptions())
    assert not e.supported and "activation statistics" in e.reason


def test_bad_run_shape_raises(system, inputs):
    with pytest.raises(ValueError, match="batch"):
        policies.estimate("hermes", io.load_model("opt_13b"), system, batch=0,
                          options=opts(inputs, "opt_13b"))
    with pytest.raises(ValueError, match="unknown policy"):
        policies.estimate("vllm", io.load_model("opt_13b"), system)
    with pytest.raises(ValueError, match="gather_penalty"):
        Assumptions(gather_penalty=0.5)


@pytest.mark.parametrize("policy", ["accelerate", "flexgen", "dejavu", "hermes-host", "hermes"])
def test_more_link_bandwidth_never_slows(system, inputs, policy):
    """Monotonicity: a faster host link never lowers tokens/s of a policy that uses it."""
    model = io.load_model("opt_66b")
    tps = [policies.estimate(policy, model, system, batch=b,
                             options=opts(inputs, "opt_66b", link_bandwidth_scale=s)).tokens_per_s
           for b in (1, 8) for s in (0.25, 0.5, 1.0, 2.0)]
    for b in range(2):
        row = tps[4 * b:4 * b + 4]
        assert all(x <= y * (1 + 1e-12) for x, y in itertools.pairwise(row))
        assert row[-1] > row[0]


@pytest.mark.parametrize("slug", ["opt_13b", "falcon_40b", "llama2_70b"])
def test_more_dimms_never_slow_hermes(inputs, slug):
    """Monotonicity: more NDP-DIMMs never slow Hermes once the model fits."""
    model = io.load_model(slug)
    vals = []
    for n in (1, 2, 4, 8, 16):
        e = policies.estimate("hermes", model, io.load_system("hermes_paper", n_dimms=n),
                              options=opts(inputs, slug))
        vals.append(e.tokens_per_s if e.supported else None)
    fit = [v for v in vals if v is not None]
    assert fit and all(x <= y * (1 + 1e-9) for x, y in itertools.pairwise(fit))
    # once supported, always supported with more DIMMs
    first = vals.index(fit[0])
    assert all(v is not None for v in vals[first:])


def test_more_gpu_memory_never_slows_hermes(inputs):
    model = io.load_model("llama2_70b")
    vals = [policies.estimate("hermes", model, io.load_system("hermes_paper"),
                              options=opts(inputs, "llama2_70b", gpu_workspace_frac=w)).tokens_per_s
            for w in (0.4, 0.2, 0.1, 0.0)]
    assert all(x <= y * (1 + 1e-9) for x, y in itertools.pairwise(vals))


def test_sparsity_helps_hermes_over_base(system, inputs):
    """With the same hardware, using sparsity (Hermes) beats Hermes-base at batch 1."""
    for slug in MODELS:
        m = io.load_model(slug)
        h = policies.estimate("hermes", m, system, options=opts(inputs, slug))
        b = policies.estimate("hermes-base", m, system, options=opts(inputs, slug))
        assert h.tokens_per_s > b.tokens_per_s


def test_accelerate_pageable_is_slower_than_flexgen(system, inputs):
    """Oracle: with no weights resident, Accelerate moves every layer at the pageable rate
    without overlap: its decode step is at least the layer bytes over that rate."""
    model = io.load_model("opt_30b")
    e = policies.estimate("accelerate", model, system, options=opts(inputs, "opt_30b"))
    f = policies.estimate("flexgen", model, system, options=opts(inputs, "opt_30b"))
    bw = (system.host_link.achievable_bandwidth_bytes_per_s * policies.PAGEABLE_COPY_FRAC)
    assert e.decode_step_s >= model.n_layers * shapes.layer_weight_bytes(model) / bw
    assert f.tokens_per_s > e.tokens_per_s


@pytest.mark.parametrize("batch", [1, 16])
def test_dejavu_step_by_hand(system, inputs, batch):
    """Deja Vu with nothing resident (OPT-66B, paper profile): per layer the host learns the
    predicted neurons (4-byte indices), reads and writes them at its DRAM bandwidth and copies
    them, and attention's weights are copied too; the exposed part of that chain over the GPU's
    work is communication, and so is the LM head, copied every step from host memory."""
    m = io.load_model("opt_66b")
    o = opts(inputs, "opt_66b")
    gen = 8
    e = policies.estimate("dejavu", m, system, batch=batch, prompt_len=64, gen_len=gen,
                          options=o)
    sh, r = policies._shape(m, "fp16"), policies._rates(m, system, o)
    link, lat = r.link_bw, r.link_lat
    union = e.details["mlp_union_density"]
    mlp = union * sh.mlp_bytes
    attn = o.dejavu_head_density * (sh.qkv_bytes + sh.proj_bytes)
    chain = ((lat + union * m.d_ffn * 4 / link) + 2 * mlp / r.host_bw + r.host_t0
             + (lat + attn / link) + (lat + mlp / link))
    fc = max((attn + mlp) / r.gpu_bw, 2 * batch * (attn + mlp) / 2 / r.gpu_flops) + 5 * r.t0
    ctx = np.arange(65, 65 + gen, dtype=float)  # the new token attends to itself too
    att = np.maximum(batch * sh.kv_layer_token * ctx / r.gpu_bw,
                     4 * batch * m.n_heads * m.head_dim * ctx / r.gpu_flops) + r.t0
    head_copy = lat + sh.lm_head_bytes / link
    want = m.n_layers * np.maximum(chain - (fc + att), 0).sum() + gen * head_copy
    assert e.breakdown_s["communication"] == pytest.approx(want, rel=1e-9)
    assert e.details["streamed_bytes_per_step"] == pytest.approx(m.n_layers * (attn + mlp))


def test_dejavu_resident_neurons_are_gathered_on_the_gpu(system, inputs):
    """With the GPU filled first, OPT-13B keeps all but its coldest neurons there: the step
    computes the resident ones it needs through a gather (gamma) or all of them densely,
    whichever is faster, as Hermes' GPU does; with a gamma of 1 (a fused gather, no extra
    kernel) the gathered pass is the cheaper one and the step is faster."""
    m = io.load_model("opt_13b")
    o = dataclasses.replace(opts(inputs, "opt_13b"), offload_resident=True)
    base = policies.estimate("dejavu", m, system, batch=1, options=o)
    fused = policies.estimate("dejavu", m, system, batch=1,
                              options=dataclasses.replace(o, gather_penalty=1.0))
    assert base.details["resident_bytes"] > 0.75 * m.n_layers * (
        policies._shape(m, "fp16").mlp_bytes)
    assert fused.breakdown_s["fc"] < base.breakdown_s["fc"]
    sh, r = policies._shape(m, "fp16"), policies._rates(m, system, o)
    rate, count = policies.neuron_classes(0.03, inputs["opt_13b"]["hot_share_80"], m.d_ffn,
                                          batch=1, n_classes=o.n_activity_classes)
    # everything the GPU computes, at gamma 1 and no extra kernel: attention's weights, then
    # every needed MLP neuron, resident or copied (both read once)
    attn = sh.qkv_bytes + sh.proj_bytes
    need = float(rate @ count) / m.d_ffn * sh.mlp_bytes
    per_layer = (attn + need) / r.gpu_bw + 5 * r.t0
    assert fused.breakdown_s["fc"] / 128 / m.n_layers == pytest.approx(per_layer, rel=1e-9)


def test_gpu_only_gathers_its_split_logits(inputs):
    """GPU only on 5 A100s (LLaMA2-70B): two ring all-reduces of the hidden state per layer,
    and the LM head's logits, split by vocabulary rows, gathered once per step."""
    m = io.load_model("llama2_70b")
    s = io.load_system("hermes_paper", gpu="a100_40g_sxm4", n_gpus=5)
    for batch in (1, 16):
        e = policies.estimate("gpu-only", m, s, batch=batch, prompt_len=64, gen_len=4,
                              options=opts(inputs, "llama2_70b"))
        r = policies._rates(m, s, Assumptions())
        n, W, lat = 5, r.nvlink_bw, r.nvlink_lat
        ring = 2 * (n - 1) * (lat + batch * m.d_model * 2 / (n * W))
        logits = (n - 1) * (lat + batch * m.vocab_size * 2 / (n * W))
        want = m.n_layers * 2 * ring + logits
        assert e.breakdown_s["communication"] / 4 == pytest.approx(want, rel=1e-12)


def test_pageable_fraction_matches_measurement():
    """PAGEABLE_COPY_FRAC is the measured pageable/pinned H2D ratio (copies ≥ 32 MiB)."""
    m = io.load_measurements("gpu_h200_20261126")
    h2d = m[(m["kind"] == "h2d") & (m["bytes"] >= 32 * 2**20)]
    ratio = (h2d[h2d["pinned"] == 0]["gbps"].median() / h2d[h2d["pinned"] == 1]["gbps"].median())
    assert ratio == pytest.approx(policies.PAGEABLE_COPY_FRAC, rel=0.05)


def test_hot_cold_split_limits():
    """A zero budget leaves the GPU idle; an unlimited budget stops at the crossing, where both
    sides take the same time; infinitely costly sync keeps everything cold."""
    rate = np.array([0.9, 0.5, 0.1, 0.01])
    count = np.array([100.0, 100.0, 100.0, 100.0])
    blk = policies.Block(rate=rate, count=count, neuron_bytes=1000.0, gpu_active_s=1e-8,
                         gpu_dense_s=1e-8, cold_s=1e-7, gpu_fixed_s=1e-6, cold_fixed_s=0.0)
    (z,) = policies.hot_cold_split([blk], budget_bytes=0.0, n_cold=2)
    assert z.gpu_load == 0 and z.time_s == pytest.approx(1e-7 * (rate @ count) / 2)
    (f,) = policies.hot_cold_split([blk], budget_bytes=1e12, n_cold=2)
    assert f.gpu_compute_s + f.gpu_fixed_s == pytest.approx(f.cold_s, rel=1e-9)
    assert f.time_s < z.time_s
    slow = dataclasses.replace(blk, gpu_fixed_s=1.0)
    (s,) = policies.hot_cold_split([slow], budget_bytes=1e12, n_cold=2)
    assert s.gpu_load == 0


def test_hot_cold_split_is_the_optimum_on_random_blocks():
    """Oracle on 60 random pairs of blocks: rates, costs of both GPU kernels, the gather's
    kernel, the cold side's fixed cost and the budget drawn at random (seeded)."""
    rng = np.random.default_rng(20261126)
    for _ in range(60):
        blocks = []
        for _b in range(2):
            rate = np.sort(rng.uniform(0.001, 1.0, 4))[::-1]
            blocks.append(policies.Block(
                rate=rate, count=rng.uniform(50, 500, 4), neuron_bytes=float(rng.uniform(5e2, 4e3)),
                gpu_active_s=float(rng.uniform(5e-9, 8e-8)), gpu_dense_s=float(rng.uniform(5e-9, 3e-8)),
                cold_s=float(rng.uniform(3e-8, 3e-7)), gpu_fixed_s=float(rng.uniform(0, 5e-6)),
                cold_fixed_s=float(rng.uniform(0, 8e-6)),
                gather_kernel_s=float(rng.uniform(0, 6e-6))))
        budget = float(rng.choice([1e12, rng.uniform(1e4, 1e6)]))
        n_cold = int(rng.choice([1, 2, 8]))
        got = sum(t.time_s for t in policies.hot_cold_split(blocks, budget_bytes=budget,
                                                            n_cold=n_cold))
        best = _brute_layer_s(blocks, budget, n_cold)
        assert best * (1 - 1e-2) <= got <= best * (1 + 1e-9)


def test_gather_kernel_is_paid_only_by_the_gathered_kernel():
    """Every held neuron always active: the dense kernel does the same work without the gather,
    so the gather's own kernel must not appear in the block's GPU time."""
    rate, count = np.array([1.0]), np.array([100.0])
    blk = policies.Block(rate=rate, count=count, neuron_bytes=1000.0, gpu_active_s=3e-8,
                         gpu_dense_s=1e-8, cold_s=1e-6, gpu_fixed_s=1e-6, cold_fixed_s=0.0,
                         gather_kernel_s=5e-6)
    (t,) = policies.hot_cold_split([blk], budget_bytes=1e12, n_cold=1)
    assert t.gpu_neurons > 0
    assert t.gpu_compute_s == pytest.approx(1e-8 * t.gpu_neurons)
    assert t.gpu_fixed_s == pytest.approx(1e-6)
    assert t.time_s == pytest.approx(max(1e-8 * t.gpu_neurons + 1e-6, t.cold_s))
    # rare neurons: the gathered kernel wins and carries its kernel
    rare = dataclasses.replace(blk, rate=np.array([0.3]), count=np.array([10000.0]),
                               gpu_dense_s=1e-6)
    (g,) = policies.hot_cold_split([rare], budget_bytes=1e12, n_cold=1)
    assert g.gpu_load > 0
    assert g.gpu_compute_s == pytest.approx(3e-8 * g.gpu_load + 5e-6)


def test_hermes_base_dense_layers_are_balanced(system, inputs):
    """The DIMM imbalance is that of Hermes' remapped cold neurons: Hermes-base's evenly split
    dense layers do not pay it; Hermes does."""
    m = io.load_model("llama2_70b")
    base = [policies.estimate("hermes-base", m, system, batch=1,
                              options=opts(inputs, "llama2_70b", dimm_imbalance=x)).tokens_per_s
            for x in (1.0, 1.5)]
    assert base[0] == base[1]
    herm = [policies.estimate("hermes", m, system, batch=1,
                              options=opts(inputs, "llama2_70b", dimm_imbalance=x)).tokens_per_s
            for x in (1.0, 1.5)]
    assert herm[1] < herm[0]


def test_lm_head_off_the_gpu_runs_at_the_cold_sides_rate(system, inputs):
    """An LM head kept off the GPU is computed where it lives: by the NDP cores of every DIMM
    (Hermes) or by the host CPU (Hermes-host). By hand at batch 16: the change in "others" per
    step is the head's roofline there minus the GPU's head. "Communication": Hermes loses the
    head's two copies (the final hidden state in, the sampled token ids out); Hermes-host, whose
    activations live on the GPU, trades the token ids for the final hidden state out (the
    looked-up rows come back either way). (Hermes-base's freed GPU memory also changes how many
    layers it holds, so its "others" cannot isolate the head.)
    """
    m = io.load_model("opt_13b")
    o = opts(inputs, "opt_13b")
    r = policies._rates(m, system, o)
    head_bytes = m.vocab_size * m.word_embed_proj_dim * 2
    elems, b, D = head_bytes / 2, 16, system.n_dimms
    gpu_head = max(head_bytes / r.gpu_bw, 2 * b * elems / r.gpu_flops) + r.t0
    head_io = _head_io_s(system, m, b)
    cold_head = {"hermes": max(head_bytes / (D * r.dimm_stream_bw), b * elems / (D * r.dimm_mac)),
                 "hermes-host": max(head_bytes / r.host_bw, 2 * b * elems / r.host_flops)}
    for pol, want in cold_head.items():
        on = policies.estimate(pol, m, system, batch=b, gen_len=8, options=o)
        off = policies.estimate(pol, m, system, batch=b, gen_len=8,
                                options=dataclasses.replace(o, lm_head_on_gpu=False))
        got = (off.breakdown_s["others"] - on.breakdown_s["others"]) / 8
        assert got == pytest.approx(want - gpu_head, rel=1e-9)
        comm = (on.breakdown_s["communication"] - off.breakdown_s["communication"]) / 8
        off_io = 2 * _sync_s(system, m, b) if pol == "hermes-host" else 0.0
        assert comm == pytest.approx(head_io - off_io, rel=1e-9)

def _brute_layer_s(blocks, budget_bytes, n_cold, grid=2001):
    """Oracle: the fastest layer over every held-neuron count of each block (most frequent
    first, within the budget), each block at min(dense, gathered) GPU time vs its cold side."""
    curves = []
    for b in blocks:
        o = np.argsort(-b.rate)
        cum_n = np.concatenate([[0], np.cumsum(b.count[o])])
        cum_l = np.concatenate([[0], np.cumsum((b.rate * b.count)[o])])
        c = np.linspace(0, min(cum_n[-1], budget_bytes / b.neuron_bytes), grid)
        g = np.interp(c, cum_n, cum_l)
        gpu = (np.minimum(b.gpu_dense_s * c, b.gpu_active_s * g + b.gather_kernel_s)
               + np.where(c > 0, b.gpu_fixed_s, 0))
        cold = b.cold_s * (cum_l[-1] - g) / n_cold + np.where(cum_l[-1] - g > 1e-9,
                                                               b.cold_fixed_s, 0.0)
        curves.append((c * b.neuron_bytes, np.maximum(gpu, cold)))
    (b0, t0), (b1, t1) = curves
    return min(t + t1[b1 <= budget_bytes - x + 1e-9].min() for x, t in zip(b0, t0, strict=True))


@pytest.mark.parametrize("cold_fixed_s", [0.0, 6e-6])
@pytest.mark.parametrize("gather_kernel_s", [0.0, 4e-6])
@pytest.mark.parametrize("budget", [1e12, 3e5])
def test_hot_cold_split_is_the_optimum_with_dense_kernels(budget, gather_kernel_s, cold_fixed_s):
    """Oracle: the split is as fast as a brute-force search over held neurons when the GPU may
    compute its hot neurons densely. Very frequent neurons with a costly gather make the dense
    kernel worth holding beyond the gathered crossing (the split once ignored that)."""
    rate = np.array([0.97, 0.9, 0.3, 0.05])
    count = np.array([100.0, 100.0, 300.0, 1000.0])
    mk = lambda nb: policies.Block(rate=rate, count=count, neuron_bytes=nb, gpu_active_s=3e-8,
                                   gpu_dense_s=1e-8, cold_s=1e-7, gpu_fixed_s=1e-6,
                                   cold_fixed_s=cold_fixed_s, gather_kernel_s=gather_kernel_s)
    blocks = (mk(1000.0), mk(2000.0))
    split = policies.hot_cold_split(blocks, budget_bytes=budget, n_cold=8)
    got = sum(t.time_s for t in split)
    best = _brute_layer_s(blocks, budget, 8)
    # never slower than the search, and not faster than its grid's resolution allows
    assert best * (1 - 5e-3) <= got <= best * (1 + 1e-9)
    assert sum(t.gpu_bytes for t in split) <= budget * (1 + 1e-9)


def _sync_s(system, model, batch):
    """One synchronisation: the batch's hidden states over the host link (s)."""
    link = system.host_link
    return link.latency_s + batch * model.d_model * 2 / link.achievable_bandwidth_bytes_per_s


def _qkv_sync_s(system, model, batch):
    """One transfer of q/k/v (or their partial sums) over the host link (s)."""
    link = system.host_link
    qkv = (model.n_heads + 2 * model.n_kv_heads) * model.head_dim
    return link.latency_s + batch * qkv * 2 / link.achievable_bandwidth_bytes_per_s


def _every_dimm_s(system, model, batch, d=8):
    """The hidden state from the GPU to every one of d DIMMs: d copies in one transfer, or one
    copy and an all-gather over DIMM-link (the reduce-scatter's time), whichever is faster."""
    return min(_sync_s(system, model, d * batch),
               _sync_s(system, model, batch) + _rs_s(system, batch * model.d_model * 2, d))


def _head_io_s(system, model, batch):
    """The LM head's two copies a step, by hand (s): a hidden state (Hermes, Hermes-base: the
    final one to the GPU; Hermes-host: the looked-up embedding rows to the GPU) and the batch's
    sampled token ids (4 B each) back."""
    link = system.host_link
    return (_sync_s(system, model, batch)
            + link.latency_s + batch * 4 / link.achievable_bandwidth_bytes_per_s)


def _rs_s(system, nbytes, d=8):
    """Recursive-halving reduce-scatter over DIMM-link among d = 2^k DIMMs, by hand (s)."""
    link = system.dimm_link
    k = int(np.log2(d))
    return k * link.latency_s + (d - 1) / d * nbytes / link.achievable_bandwidth_bytes_per_s


@pytest.mark.parametrize(("pol", "slug", "batch"), [("hermes", "opt_13b", 1),
                                                    ("hermes", "llama2_70b", 4),
                                                    ("hermes-host", "llama2_70b", 1)])
def test_decode_communication_counts_only_link_crossings(system, inputs, pol, slug, batch):
    """Oracle on the data flow. With both blocks' time set by their cold side (the GPU's syncs
    hidden), decode communication is what crosses a link outside the GPU's share: Hermes sends
    the attention output to the GPU and the projection's output back to every DIMM (one sync
    and one transfer of 8 copies per layer) and its DIMMs reduce their partial sums over
    DIMM-link (q/k/v reduce-scattered, the MLP's hidden state all-reduced); Hermes-host runs
    attention and the projection on the GPU, and its CPU side, which sets both blocks' time,
    gets each block's input and returns its partial sums (q/k/v for the QKV block). Once a
    step, both pay the LM head's two copies: a hidden state (Hermes: the final one to the GPU;
    Hermes-host: the looked-up embedding rows to the GPU) and the sampled token ids."""
    gen = 16
    model = io.load_model(slug)
    e = policies.estimate(pol, model, system, batch=batch, prompt_len=64, gen_len=gen,
                          options=opts(inputs, slug))
    assert e.details["qkv_cold_bound"] == e.details["mlp_cold_bound"] == 1.0
    comm = e.breakdown_s["communication"] / gen
    if pol == "hermes":
        qkv_bytes = batch * (model.n_heads + 2 * model.n_kv_heads) * model.head_dim * 2
        vec = batch * model.d_model * 2
        want = (_sync_s(system, model, batch) + _every_dimm_s(system, model, batch)
                + _rs_s(system, qkv_bytes) + 2 * _rs_s(system, vec))
    else:
        want = (_sync_s(system, model, batch) + _qkv_sync_s(system, model, batch)
                + 2 * _sync_s(system, model, batch))
    assert comm == pytest.approx(model.n_layers * want + _head_io_s(system, model, batch),
                                 rel=1e-9, abs=1e-15)


def test_sync_plan_follows_the_data(system, inputs):
    """Each GPU block fetches its input and returns its partial sums (Eq. 3's 2 T_sync): the
    QKV block its input (the hidden state, 8,192 values for LLaMA2-70B) and q/k/v partial sums
    ((64 + 2 x 8) x 128 = 10,240 values), the MLP block the normed residual sum the DIMMs make
    and its partial sums, to every DIMM (each DIMM's cold neurons of the next layer read the
    residual sum they feed). Outside the blocks, Hermes sends the attention output to the GPU and
    the projection's output to every DIMM (D copies in one transfer). Hermes-host's CPU gets
    each block's input and returns partial sums; attention and projection stay on the GPU."""
    model = io.load_model("llama2_70b")
    o = opts(inputs, "llama2_70b")
    r = policies._rates(model, system, o)
    for batch in (1, 16):
        sync, sq = _sync_s(system, model, batch), _qkv_sync_s(system, model, batch)
        assert sq > sync
        for d in (1, 8, 16):
            sys_d = dataclasses.replace(system, n_dimms=d)
            (q, m), proj = policies._sync_plan(model, sys_d, r, batch=batch, dtype="fp16",
                                               ndp_side=True)
            copies = _sync_s(system, model, d * batch)           # a copy per DIMM over PCIe
            spread = sync + _rs_s(system, batch * model.d_model * 2, d)  # then an all-gather
            every = min(copies, spread)
            assert (q, m, proj) == pytest.approx((sync + sq, sync + every, sync + every))
            if d == 1:  # one DIMM: "every DIMM" is one copy, the MLP block's two plain syncs
                assert m == pytest.approx(2 * sync, rel=1e-12)
            # batch 1: the copies win; batch 16 on 8 or more DIMMs: the all-gather does
            assert (copies <= spread) == (batch == 1 or d == 1)
        (q, m), proj = policies._sync_plan(model, system, r, batch=batch, dtype="fp16",
                                           ndp_side=False)
        assert (q, m, proj) == pytest.approx((sync + sq, 2 * sync, 0.0))
    sh = policies._shape(model, "fp16")
    qkv, mlp = policies._sparse_blocks(model, sh, r, o, batch=1, cold="dimm",
                                       block_sync_s=(3e-6, 2e-6), adjust=False,
                                       cold_extra_s=(5e-6, 7e-6))
    t0 = r.t0
    # the gather's kernel is charged apart, only when the GPU gathers
    assert qkv.gather_kernel_s == mlp.gather_kernel_s == pytest.approx(t0)
    assert qkv.gpu_fixed_s == pytest.approx(3e-6 + (policies.KERNELS_QKV - 1) * t0)
    assert mlp.gpu_fixed_s == pytest.approx(2e-6 + (policies.KERNELS_MLP - 1) * t0)
    # the DIMMs' reductions are the cold side's fixed cost
    assert (qkv.cold_fixed_s, mlp.cold_fixed_s) == (5e-6, 7e-6)


def test_hermes_base_communication_by_hand(system, inputs):
    """Hermes-base: each GPU layer sends q/k/v to the DIMMs and gets the attention output back;
    one hand-over each way between the GPU's and the DIMMs' layers (to every DIMM on the way
    in); each DIMM layer all-reduces the projection's and the MLP's partial sums over
    DIMM-link; the LM head's two copies once a step."""
    for slug, batch in (("llama2_70b", 1), ("falcon_40b", 8)):
        model = io.load_model(slug)
        e = policies.estimate("hermes-base", model, system, batch=batch, prompt_len=64,
                              gen_len=8, options=opts(inputs, slug))
        n_gpu, L = int(e.details["gpu_layers"]), model.n_layers
        assert 0 < n_gpu < L
        sync = _sync_s(system, model, batch)
        vec = batch * model.d_model * 2
        want = (n_gpu * (_qkv_sync_s(system, model, batch) + sync)
                + sync + _every_dimm_s(system, model, batch)
                + (L - n_gpu) * 2 * 2 * _rs_s(system, vec) + _head_io_s(system, model, batch))
        assert e.breakdown_s["communication"] / 8 == pytest.approx(want, rel=1e-9)


def test_prefill_kv_upload_runs_against_the_weight_stream(system, inputs):
    """The prompt's KV cache goes GPU -> DIMMs while weights go host -> GPU; the link's bandwidth
    is per direction, so a smaller upload costs nothing. Oracle: Hermes-base's prefill on OPT-66B
    at batch 16 (transfer-bound, 75 MB of KV against 1.9 GB of weights per layer) equals the
    prefill without the upload, from the layers it streams (the upload once added to them)."""
    model = io.load_model("opt_66b")
    o = opts(inputs, "opt_66b")
    e = policies.estimate("hermes-base", model, system, batch=16, options=o)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    streamed = sh.layer_bytes * (model.n_layers - e.details["gpu_layers"]) / model.n_layers
    kv = 16 * 128 * sh.kv_layer_token
    assert kv < streamed
    alone = policies._prefill_s(model, sh, r, o, batch=16, prompt_len=128,
                                streamed_layer_bytes=streamed, link_bw=r.link_bw, overlap=True)
    assert e.prefill_s == pytest.approx(alone, rel=1e-12)
    # an upload larger than the download sets the layer's transfer
    big = policies._prefill_s(model, sh, r, o, batch=16, prompt_len=128,
                              streamed_layer_bytes=streamed, link_bw=r.link_bw, overlap=True,
                              upload_layer_bytes=4 * streamed)
    assert big > alone


def test_neuron_classes_conserve_neurons_and_load():
    """Σ count = N; at batch 1 the mean rate is the density with or without engagement."""
    for c in (0.0, 0.5):
        rate, count = policies.neuron_classes(0.18, 0.43, 28672, batch=1, sequence_share=c)
        assert count.sum() == pytest.approx(28672)
        assert (rate @ count) / 28672 == pytest.approx(0.18, rel=1e-9)
        rate4, count4 = policies.neuron_classes(0.18, 0.43, 28672, batch=4, sequence_share=c)
        assert count4.sum() == pytest.approx(28672)
        assert (rate4 @ count4) > (rate @ count)


@pytest.mark.parametrize("c", [0.0, 0.5])
def test_neuron_classes_keep_the_mean_at_any_resolution(c):
    """The number of classes is numerical resolution: 8, 64 or 2048 classes give the fitted
    density at batch 1, and the same expected union at batch 4 (64 midpoints alone gave 2.2 %
    too few active neurons at OPT's 3 %)."""
    unions = []
    for n in (8, 64, 2048):
        rate, count = policies.neuron_classes(0.03, 0.26, 20480, batch=1, n_classes=n,
                                              sequence_share=c)
        assert (rate @ count) / 20480 == pytest.approx(0.03, rel=1e-9)
        rate4, count4 = policies.neuron_classes(0.03, 0.26, 20480, batch=4, n_classes=n,
                                                sequence_share=c)
        unions.append(rate4 @ count4)
        assert count4.sum() == pytest.approx(20480)
    assert unions[0] == pytest.approx(unions[2], rel=1e-9)
    assert unions[1] == pytest.approx(unions[2], rel=1e-9)


def test_kept_hottest_against_a_byte_by_byte_fill():
    """Deja Vu with the GPU filled first keeps the most often needed bytes resident: the bytes
    kept of each item, against filling unit bytes one at a time."""
    rate = np.array([1.0, 0.05, 0.6, 0.3])
    nbytes = np.array([40.0, 25.0, 10.0, 30.0])
    for resident in (0.0, 7.0, 40.0, 49.0, 63.0, 80.0, 105.0, 200.0):
        left, kept = resident, np.zeros(4)
        for i in np.argsort(-rate):
            for _ in range(int(nbytes[i])):
                if left >= 1:
                    kept[i] += 1
                    left -= 1
        assert policies._kept_hottest(rate, nbytes, resident) == pytest.approx(kept)


def test_dejavu_filling_the_gpu_first(system, inputs):
    """offload_resident on Deja Vu: the GPU's room after the predictors, the LM head and the KV
    cache holds attention and the hottest MLP neurons (OPT-13B: all but its coldest neurons;
    OPT-66B: part of its attention), and a step copies less than with nothing resident."""
    for slug in ("opt_13b", "opt_66b"):
        m = io.load_model(slug)
        o = opts(inputs, slug)
        plain = policies.estimate("dejavu", m, system, options=o)
        filled = policies.estimate("dejavu", m, system,
                                   options=dataclasses.replace(o, offload_resident=True))
        assert plain.details["resident_bytes"] == 0.0
        sh = policies._shape(m, "fp16")
        room = (system.gpu.memory_bytes * (1 - o.gpu_workspace_frac)
                - filled.details["predictor_bytes"] - sh.lm_head_bytes
                - policies._kv_bytes(m, 1, 128, 128, "fp16"))
        assert filled.details["resident_bytes"] == pytest.approx(
            min(room, m.n_layers * (sh.qkv_bytes + sh.proj_bytes + sh.mlp_bytes)))
        assert filled.details["streamed_bytes_per_step"] < plain.details[
            "streamed_bytes_per_step"]
        assert filled.tokens_per_s > plain.tokens_per_s
    # OPT-66B (122 GiB) keeps its attention only in part: every step still copies the rest of
    # it, at head density 1
    m = io.load_model("opt_66b")
    filled = policies.estimate("dejavu", m, system, options=dataclasses.replace(
        opts(inputs, "opt_66b"), offload_resident=True))
    sh = policies._shape(m, "fp16")
    attn_left = m.n_layers * (sh.qkv_bytes + sh.proj_bytes) - filled.details["resident_bytes"]
    assert attn_left > 0
    mlp_copied = filled.details["streamed_bytes_per_step"] - attn_left
    assert mlp_copied == pytest.approx(m.n_layers * filled.details["mlp_union_density"]
                                       * sh.mlp_bytes, rel=1e-9)


def test_band_contains_default_and_is_ordered(system, inputs):
    model = io.load_model("falcon_40b")
    band = policies.tokens_per_s_band("hermes", model, system, options=opts(inputs, "falcon_40b"))
    assert band.low <= band.default <= band.high
    assert len(band.corners) == 3
    names = {p.name for p in policies.unstated_for("hermes", system)}
    assert set(band.one_at_a_time) == names
    # under the datasheet profile the link scale is not an unstated parameter
    ds = io.load_system("hermes_paper", "datasheet")
    assert "link_bandwidth_scale" not in {p.name for p in policies.unstated_for("hermes", ds)}


def test_unstated_table_names_fields():
    fields = {f.name for f in dataclasses.fields(Assumptions)}
    for p in policies.UNSTATED:
        assert p.name in fields and p.reason and p.policies


# ------------------------------------------------------------------------------------ CLI


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hermes_model", *args], capture_output=True,
                          text=True, check=False)


def test_cli_estimate_json_keys():
    r = run_cli("estimate", "--model", "llama2_70b", "--policy", "hermes", "--band", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("tokens_per_s", "prefill_s", "decode_step_s", "total_s", "breakdown_s",
                "supported", "tokens_per_s_band"):
        assert key in out
    assert out["supported"] is True
    lo, hi = out["tokens_per_s_band"]
    assert lo <= out["tokens_per_s"] <= hi
    assert set(out["breakdown_s"]) == set(policies.CATEGORIES)


def test_cli_not_supported_exits_3():
    r = run_cli("estimate", "--model", "llama2_70b", "--policy", "flexgen", "--json")
    assert r.returncode == 3
    assert json.loads(r.stdout)["supported"] is False
    assert "OPT" in r.stderr
    r = run_cli("estimate", "--model", "llama2_70b", "--policy", "hermes", "--n-dimms", "4")
    assert r.returncode == 3 and r.stdout.startswith("supported: false - ") and "GiB" in r.stdout


def test_cli_overrides_change_the_answer():
    base = cli.build_parser().parse_args(["estimate", "--model", "opt_66b", "--policy", "hermes"])
    slow = cli.build_parser().parse_args(["estimate", "--model", "opt_66b", "--policy", "hermes",
                                          "--ranks-parallel", "false", "--cycles-per-op", "16",
                                          "--multipliers", "64"])
    a, b = cli.estimate_payload(base), cli.estimate_payload(slow)
    assert b["tokens_per_s"] < a["tokens_per_s"]


def test_cli_bad_arguments_exit_2():
    assert run_cli("estimate", "--model", "nope", "--policy", "hermes").returncode == 2
    assert run_cli("estimate", "--model", "opt_13b", "--policy", "vllm").returncode == 2


# ------------------------------------------------------------------------------- fidelity


def _bars(policy_rows):
    import pandas as pd

    return pd.DataFrame(policy_rows)


def test_fidelity_by_hand():
    """Median errors, order and the Hermes/Hermes-host mean on a small hand-made table."""
    rows1 = []
    # two models, batch 1: (paper, model) for hermes, hermes-host
    for m, hp, hm_, sp, sm in (("a", 100.0, 110.0, 10.0, 20.0), ("b", 50.0, 35.0, 60.0, 10.0)):
        for pol, pv, mv in (("hermes", hp, hm_), ("hermes-host", sp, sm)):
            rows1.append({"model": m, "policy": pol, "batch": 1, "paper_tokens_per_s": pv,
                          "tokens_per_s": mv, "supported": True, "paper_supported": True,
                          "error_frac": mv / pv - 1})
    rows11 = []
    for b, hp, hm_, sm in ((1, 10.0, 10.0, 5.0), (2, 20.0, 30.0, 5.0), (4, 40.0, 20.0, 10.0),
                           (8, 80.0, 80.0, 10.0)):
        rows11.append({"model": "falcon_40b", "policy": "hermes", "batch": b,
                       "paper_tokens_per_s": hp, "tokens_per_s": hm_, "supported": True,
                       "paper_supported": True, "error_frac": hm_ / hp - 1})
        rows11.append({"model": "falcon_40b", "policy": "hermes-host", "batch": b,
                       "paper_tokens_per_s": 1.0, "tokens_per_s": sm, "supported": True,
                       "paper_supported": True, "error_frac": sm - 1})
    bs1, b11 = _bars(rows1), _bars(rows11)
    f = policies.fidelity(bs1, b11)
    assert f.bs1_median_abs_err == pytest.approx(np.median([0.10, 0.30]))
    assert f.batch_median_abs_err == pytest.approx(np.median([0.5, 0.5, 0.0]))
    # model a: host 20 < hermes 110 as in the paper; model b: paper hermes 50 < host 60,
    # model hermes 35 > host 10: order differs
    assert (f.n_order, f.n_models, f.order_fails) == (1, 2, ("b",))
    assert f.hermes_over_host == pytest.approx(np.mean([10 / 5, 30 / 5, 20 / 10, 80 / 10]))
    # no decode_step_s column in these bars: the growth is undefined, not zero
    assert math.isnan(f.model_step_growth) and math.isnan(f.implied_step_growth)
    # with steps and prefill: model 10 ms -> 40 ms is 2x per doubling; the paper's tokens/s at
    # batch 1 and 4 of b x 128 / (1 s prefill + 128 x 0.9 s) imply 0.9 s at both: 1x
    b11s = b11.assign(decode_step_s=b11["batch"] * 0.01, prefill_s=1.0)
    b11s.loc[b11s["policy"] == "hermes", "paper_tokens_per_s"] = (
        b11s["batch"] * 128 / (1.0 + 128 * 0.9))
    g = policies.fidelity(bs1, b11s)
    assert g.model_step_growth == pytest.approx(2.0)
    assert g.implied_step_growth == pytest.approx(1.0)
    # the paper's bars are of a 128/128 run: at other lengths they imply no step
    for lengths in ({"gen_len": 10}, {"prompt_len": 512}):
        h = policies.fidelity(bs1, b11s, **lengths)
        assert h.model_step_growth == pytest.approx(2.0) and math.isnan(h.implied_step_growth)
    # the paper's lengths are `hermes_model.paper.PAPER`'s, given or by default
    from hermes_model.paper import PAPER

    k = policies.fidelity(bs1, b11s, prompt_len=PAPER.prompt_len, gen_len=PAPER.gen_len)
    assert k.implied_step_growth == pytest.approx(1.0) == g.implied_step_growth


def test_fidelity_counts_unsupported_as_full_error():
    import pandas as pd

    rows = [{"model": "a", "policy": "hermes", "batch": 1, "paper_tokens_per_s": 10.0,
             "tokens_per_s": math.nan, "supported": False, "paper_supported": True,
             "error_frac": math.nan}]
    b11 = pd.DataFrame([{"model": "a", "policy": p, "batch": 2, "paper_tokens_per_s": 1.0,
                         "tokens_per_s": 2.0, "supported": True, "paper_supported": True,
                         "error_frac": 1.0} for p in ("hermes", "hermes-host")])
    f = policies.fidelity(pd.DataFrame(rows), b11)
    assert f.bs1_median_abs_err == pytest.approx(1.0)
    # no Fig. 11 model of the average among the bars: the ratio is undefined, not zero
    assert math.isnan(f.hermes_over_host)


def test_fidelity_by_reading_defaults_row_and_changes(system, inputs):
    import pandas as pd

    figs = {f: io.load_paper_figure(f) for f in ("fig9", "fig10", "fig11")}
    models = {s: io.load_model(s) for s in pd.concat(list(figs.values()))["model"].unique()}
    acts = {k: policies.activity_from_inputs(v) for k, v in inputs.items()}
    t = policies.fidelity_by_reading(figs, system, acts, models)
    assert t.iloc[0]["parameter"] == "defaults"
    b = {f: policies.model_bars(v, system, acts, models) for f, v in figs.items()}
    direct = policies.fidelity(pd.concat([b["fig9"], b["fig10"]]), b["fig11"])
    assert t.iloc[0]["bs1_median_abs_err"] == pytest.approx(direct.bs1_median_abs_err)
    # no reading repeats the default, and every UNSTATED name appears (paper profile)
    assert set(t["parameter"][1:]) == {p.name for p in policies.UNSTATED}
    link = t[(t["parameter"] == "link_bandwidth_scale")].iloc[0]
    assert link["value"] == "0.5"
    # a slower link lengthens prefill: every Hermes bar at batch 1 drops, so the error changes
    assert link["bs1_median_abs_err"] != pytest.approx(t.iloc[0]["bs1_median_abs_err"])
    # Deja Vu's predictor rank touches no bar of the acceptance (Hermes, Hermes-host, order),
    # only Deja Vu's own bars: they move, every other bar stays
    dv = t[t["parameter"] == "dejavu_predictor_rank"]
    assert (dv["bs1_median_abs_err"] == t.iloc[0]["bs1_median_abs_err"]).all()
    n_dejavu = sum(int(((v["policy"] == "dejavu") & v["supported"]).sum())
                   for v in figs.values())
    assert (dv["n_closer"] + dv["n_farther"] == n_dejavu).all()
    assert t.iloc[0]["n_closer"] == t.iloc[0]["n_farther"] == 0
    # a non-default row equals fidelity() on bars computed directly with that reading
    row = t[(t["parameter"] == "ranks_parallel")].iloc[0]
    o = policies.Assumptions(ranks_parallel=False)
    b2 = {f: policies.model_bars(v, system, acts, models, options=o) for f, v in figs.items()}
    f2 = policies.fidelity(pd.concat([b2["fig9"], b2["fig10"]]), b2["fig11"])
    for name in ("bs1_median_abs_err", "batch_median_abs_err", "hermes_over_host",
                 "model_step_growth", "implied_step_growth"):
        assert row[name] == pytest.approx(getattr(f2, name), rel=1e-12)
    assert row["n_order"] == f2.n_order
    # slower DIMMs make the cold side matter more: the step grows faster with the batch
    assert row["model_step_growth"] > t.iloc[0]["model_step_growth"]


def test_fidelity_by_reading_skips_link_off_paper_profile(inputs):
    import pandas as pd

    ds = io.load_system("hermes_paper", "datasheet")
    figs = {f: io.load_paper_figure(f)[lambda d: d["model"] == "opt_13b"]
            for f in ("fig9", "fig10", "fig11")}
    figs["fig10"] = io.load_paper_figure("fig10").head(0)
    figs["fig11"] = io.load_paper_figure("fig11")[lambda d: d["model"] == "opt_66b"]
    models = {s: io.load_model(s) for s in ("opt_13b", "opt_66b")}
    acts = {k: policies.activity_from_inputs(v) for k, v in inputs.items()}
    t = policies.fidelity_by_reading(figs, ds, acts, models)
    assert isinstance(t, pd.DataFrame)
    assert set(t["parameter"][1:]) == {p.name for p in policies.UNSTATED} - {
        "link_bandwidth_scale"}


def test_implied_decode_step_inverts_the_throughput(system, inputs):
    m = io.load_model("falcon_40b")
    for b in (1, 4, 16):
        e = policies.estimate("hermes", m, system, batch=b, options=opts(inputs, "falcon_40b"))
        step = policies.implied_decode_step_s(e.tokens_per_s, batch=b, gen_len=128,
                                              prefill_s=e.prefill_s)
        assert float(step) == pytest.approx(e.decode_step_s, rel=1e-12)
    # by hand: 2 sequences x 10 tokens at 4 tokens/s is 5 s; 1 s prefill leaves 0.4 s a step
    assert float(policies.implied_decode_step_s(4.0, batch=2, gen_len=10, prefill_s=1.0)) == \
        pytest.approx(0.4)
    with pytest.raises(ValueError, match="tokens_per_s"):
        policies.implied_decode_step_s(0.0, batch=1, gen_len=10, prefill_s=0.0)
    with pytest.raises(ValueError, match="tokens_per_s"):
        policies.implied_decode_step_s(math.nan, batch=1, gen_len=10, prefill_s=0.0)
    with pytest.raises(ValueError, match="batch"):
        policies.implied_decode_step_s(1.0, batch=0, gen_len=10, prefill_s=0.0)
    arr = policies.implied_decode_step_s(np.array([4.0, 8.0]), batch=np.array([2, 2]),
                                         gen_len=10, prefill_s=np.array([1.0, 0.5]))
    np.testing.assert_allclose(arr, [0.4, 0.2])
    assert isinstance(policies.implied_decode_step_s(4.0, batch=2, gen_len=10, prefill_s=1.0),
                      float)
    with pytest.raises(ValueError, match="gen_len"):
        policies.implied_decode_step_s(1.0, batch=1, gen_len=0, prefill_s=0.0)


def test_affine_step_fit_by_hand():
    """On a line the fit is exact; T = b² at b = 1, 2, 3 gives the least-squares line 4b − 10/3
    (mean b 2, mean T 14/3, slope Σ(b−2)(T−14/3)/Σ(b−2)² = 8/2), off by 1/3 at b = 1."""
    f = policies.affine_step_fit([1, 2, 4, 8], [0.03, 0.04, 0.06, 0.10])
    assert f.intercept_s == pytest.approx(0.02)
    assert f.per_sequence_s == pytest.approx(0.01)
    assert f.max_rel_err == pytest.approx(0.0, abs=1e-12)
    q = policies.affine_step_fit(np.array([1.0, 2.0, 3.0]), np.array([1.0, 4.0, 9.0]))
    assert (q.per_sequence_s, q.intercept_s) == (pytest.approx(4.0), pytest.approx(-10 / 3))
    assert q.max_rel_err == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="distinct"):
        policies.affine_step_fit([1, 1, 2], [1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="step_s"):
        policies.affine_step_fit([1, 2, 4], [1.0, 0.0, 2.0])
    for bad in ([1, 2, math.nan], [0, 2, 4], [-1, 2, 4]):
        with pytest.raises(ValueError, match="batch"):
            policies.affine_step_fit(bad, [1.0, 2.0, 3.0])


def test_ndp_overlap_adds_read_and_mac_time(system, inputs):
    """A core that reads, then multiplies (``ndp_overlap=False``) pays the sum of the two times
    on every DIMM layer of Hermes-base (by hand), and its step is then a line in the
    batch; with overlap (the longer of the two) it is not. The line needs every term of the step
    to be affine in b: attention spread over min(D, n_kv_heads·b) DIMMs is, once n_kv_heads ≥ D
    (asserted); the LM head is on the GPU and memory-bound there, as are the GPU's layers."""
    m = io.load_model("falcon_40b")
    assert m.n_kv_heads >= system.n_dimms
    b = 4
    on, off = (policies.estimate("hermes-base", m, system, batch=b,
                                 options=opts(inputs, "falcon_40b", ndp_overlap=x))
               for x in (True, False))
    o = opts(inputs, "falcon_40b")
    sh, r, D = policies._shape(m, "fp16"), policies._rates(m, system, o), system.n_dimms
    read, mac = sh.layer_bytes / (D * r.dimm_bw), b * sh.layer_bytes / 2 / (D * r.dimm_mac)
    n_ndp = m.n_layers - int(on.details["gpu_layers"])
    assert n_ndp > 0 and on.details["gpu_layers"] == off.details["gpu_layers"]
    extra = n_ndp * (read + mac - max(read, mac)) * 128
    assert off.breakdown_s["fc"] - on.breakdown_s["fc"] == pytest.approx(extra, rel=1e-9)
    assert off.breakdown_s["attention"] > on.breakdown_s["attention"]
    batches = [1, 2, 4, 8, 16]
    for overlap, line in ((False, True), (True, False)):
        steps = [policies.estimate("hermes-base", m, system, batch=x, options=opts(
            inputs, "falcon_40b", ndp_overlap=overlap)).decode_step_s for x in batches]
        err = policies.affine_step_fit(batches, steps).max_rel_err
        # a line but for the hand-over to every DIMM, copies at batch 1, an all-gather later
        assert (err < 1e-5) if line else (err > 0.05)
    assert "ndp_overlap" in {p.name for p in policies.unstated_for("hermes", system)}
    assert "ndp_overlap" not in {p.name for p in policies.unstated_for("hermes-host", system)}


def test_ndp_overlap_in_hermes_by_hand(system, inputs):
    """Hermes follows ``ndp_overlap`` on every NDP pass: a cold neuron costs the sum of its read
    and its MACs (times the DIMM imbalance), attention the sum of its KV read and its MACs over
    the DIMMs holding KV heads (by hand, every step of the run), and an LM head kept off the GPU
    the sum of its read over the pool and its MACs, in Hermes and in Hermes-base."""
    m, b, L = io.load_model("llama2_70b"), 4, 80
    on = opts(inputs, "llama2_70b")
    off = dataclasses.replace(on, ndp_overlap=False)
    sh, r, D = policies._shape(m, "fp16"), policies._rates(m, system, on), system.n_dimms
    for blk_on, blk_off in zip(
            policies._sparse_blocks(m, sh, r, on, batch=b, cold="dimm", block_sync_s=(0, 0),
                                    adjust=False),
            policies._sparse_blocks(m, sh, r, off, batch=b, cold="dimm", block_sync_s=(0, 0),
                                    adjust=False), strict=True):
        read = blk_on.neuron_bytes / r.dimm_bw
        mac = b * blk_on.neuron_bytes / 2 / r.dimm_mac
        assert blk_on.cold_s == pytest.approx(max(read, mac) * on.dimm_imbalance, rel=1e-12)
        assert blk_off.cold_s == pytest.approx((read + mac) * on.dimm_imbalance, rel=1e-12)
    e_on, e_off = (policies.estimate("hermes", m, system, batch=b, options=o) for o in (on, off))
    assert e_off.breakdown_s["fc"] > e_on.breakdown_s["fc"]
    ctx = 128 + 1.0 + np.arange(128)
    units = min(D, m.n_kv_heads * b)
    kv_read = b * sh.kv_layer_token * ctx / (units * r.dimm_stream_bw)
    kv_mac = 2.0 * b * m.n_heads * m.head_dim * ctx / (units * r.dimm_mac)
    extra = L * np.sum(kv_read + kv_mac - np.maximum(kv_read, kv_mac))
    assert extra > 0
    assert e_off.breakdown_s["attention"] - e_on.breakdown_s["attention"] == pytest.approx(
        extra, rel=1e-9)
    head_read = sh.lm_head_bytes / (D * r.dimm_stream_bw)
    head_mac = b * sh.lm_head_bytes / 2 / (D * r.dimm_mac)
    for pol in ("hermes", "hermes-base"):
        heads = [policies.estimate(pol, m, system, batch=b, options=dataclasses.replace(
            o, lm_head_on_gpu=False)).breakdown_s["others"] for o in (on, off)]
        # the head is the only part of "others" that the flag moves
        assert heads[1] - heads[0] == pytest.approx(
            128 * (head_read + head_mac - max(head_read, head_mac)), rel=1e-9), pol


# ------------------------------------------------------------------ too few DIMMs (N.P.)


def test_min_dimms_is_the_fewest_that_run(system, inputs):
    """LLaMA2-70B's 128.6 GiB need 5 DIMMs of 32 GiB; one fewer is N.P., and OPT-13B needs 1."""
    m = io.load_model("llama2_70b")
    o = opts(inputs, "llama2_70b")
    k = policies.min_dimms("hermes", m, system, options=o)
    assert k == 5
    few = dataclasses.replace(system, n_dimms=k - 1)
    assert not policies.estimate("hermes", m, few, options=o).supported
    assert policies.estimate("hermes", m, dataclasses.replace(system, n_dimms=k),
                             options=o).supported
    assert policies.min_dimms("hermes", io.load_model("opt_13b"), system,
                              options=opts(inputs, "opt_13b")) == 1
    # a limit other than the pool: FlexGen never runs LLaMA2-70B (OPT only)
    assert policies.min_dimms("flexgen", m, system, max_dimms=3) is None


def test_np_note_names_models_batches_and_dimms(system, inputs):
    """The sentence names each model Hermes cannot run, the batches where it runs some, and the
    DIMMs it needs; "" where it runs every bar the paper prints."""
    few = dataclasses.replace(system, n_dimms=4)
    acts = {s: policies.activity_from_inputs(inputs[s]) for s in ("opt_66b", "llama2_70b")}
    models = {s: io.load_model(s) for s in acts}
    fig11 = io.load_paper_figure("fig11")
    fig11 = fig11[fig11["model"].isin(list(acts))]
    b = policies.model_bars(fig11, few, acts, models)
    note = policies.np_note(b, "hermes", models, few, acts, label="Hermes",
                            names={"opt_66b": "OPT-66B", "llama2_70b": "LLaMA2-70B"})
    assert note.startswith("With 4 NDP-DIMMs Hermes cannot run ")
    assert "OPT-66B at batch 16 (it needs at least 5 DIMMs)" in note
    assert "LLaMA2-70B (it needs at least 5 DIMMs)" in note
    full = policies.model_bars(fig11, system, acts, models)
    assert policies.np_note(full, "hermes", models, system, acts, label="Hermes") == ""


def test_figure_averages_without_a_system_gives_nan():
    """A system that runs no bar (Hermes with too few DIMMs) has NaN averages, not a KeyError."""
    import pandas as pd

    rows = [{"model": m, "policy": p, "batch": b, "tokens_per_s": v}
            for m in ("opt_13b", "opt_66b", "llama2_70b", "falcon_40b", "llama2_13b", "opt_30b")
            for b in (1, 2, 4, 8, 16)
            for p, v in (("hermes", math.nan), ("hermes-host", 2.0), ("accelerate", 1.0),
                         ("flexgen", 1.0), ("dejavu", 4.0), ("hermes-base", 3.0))]
    bars = pd.DataFrame(rows)
    out = policies.figure_averages(bars[bars["batch"] == 1], bars, "tokens_per_s")
    assert math.isnan(out["hermes_over_accelerate"])
    assert math.isnan(out["hermes_over_hermes_host_min"])
    assert out["dejavu_over_flexgen"] == pytest.approx(4.0)
    assert out["hermes_host_over_accelerate"] == pytest.approx(2.0)


def test_error_range_words_follow_the_sign():
    lead, spread = policies.error_range_words({"A": 14, "B": 41, "C": 30}, median_pct=29.4)
    assert lead == "is fast for every model, by 14 % (A) to 41 % (B):"
    assert spread == "land above the paper's by 14 to 41 % (median 29 %)"
    lead, spread = policies.error_range_words({"A": -52, "B": -32}, median_pct=44)
    assert lead == "is slow for every model, by 32 % (B) to 52 % (A). In the model,"
    assert spread == "land below the paper's by 32 to 52 % (median 44 %)"
    lead, spread = policies.error_range_words({"A": -10, "B": 20}, median_pct=15)
    assert lead == "is between 10 % slow (A) and 20 % fast (B). In the model,"
    assert spread == "land between 10 % below and 20 % above the paper's (median absolute error 15 %)"
    assert "-" not in lead + spread


def test_error_range_words_count_np_bars():
    lead, spread = policies.error_range_words({"A": -29, "B": -19}, median_pct=100, n_np=4)
    assert lead.startswith("is slow for every model it runs, by 19 % (B) to 29 % (A)")
    assert spread == ("land below the paper's by 19 to 29 % where it runs (4 N.P. bars; median "
                      "absolute error 100 %, counting each N.P. bar as a full miss)")
    lead, spread = policies.error_range_words({"A": 5}, median_pct=100, n_np=1)
    assert lead == "is fast for every model it runs, by 5 % (A):"
    assert spread.startswith("land above the paper's by 5 % where it runs (1 N.P. bar;")
    lead, spread = policies.error_range_words({}, median_pct=100, n_np=6)
    assert "N.P." in lead and "N.P." in spread


# ------------------------------------------------------------- by-hand prefill (mutation testing)


@pytest.mark.parametrize("overlap", [False, True])
def test_prefill_by_hand(system, inputs, overlap):
    """Prefill = L·layer + fill + LM head + the extra bytes' copy, each term written out from
    the docstring: per layer max(FLOP/P, bytes/W) + 6 kernels and lat + bytes/link."""
    model = io.load_model("opt_13b")
    o = opts(inputs, "opt_13b")
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    b, p, e = 2, 64, 2
    streamed, extra = 1e8, 3e8
    tokens = b * p
    flop = 2 * tokens * sh.layer_bytes / e + 2 * b * model.n_heads * model.head_dim * p * (p + 1)
    act = sh.layer_bytes + 4 * tokens * model.d_model * e
    comp = max(flop / r.gpu_flops, act / r.gpu_bw) + 6 * r.t0
    tx = r.link_lat + streamed / r.link_bw
    layer, fill = (max(comp, tx), min(comp, tx)) if overlap else (comp + tx, 0.0)
    head = max(sh.lm_head_bytes / r.gpu_bw, 2 * b * sh.lm_head_bytes / e / r.gpu_flops) + r.t0
    expected = model.n_layers * layer + fill + head + (r.link_lat + extra / r.link_bw)
    got = policies._prefill_s(model, sh, r, o, batch=b, prompt_len=p,
                              streamed_layer_bytes=streamed, link_bw=r.link_bw, overlap=overlap,
                              extra_bytes=extra)
    assert got == pytest.approx(expected, rel=1e-12)
    # a stream of 6 copies a layer (Accelerate's tensors) pays 5 more latencies a layer
    six = policies._prefill_s(model, sh, r, o, batch=b, prompt_len=p,
                              streamed_layer_bytes=streamed, link_bw=r.link_bw, overlap=False,
                              extra_bytes=extra, copies_per_layer=6)
    plain = policies._prefill_s(model, sh, r, o, batch=b, prompt_len=p,
                                streamed_layer_bytes=streamed, link_bw=r.link_bw, overlap=False,
                                extra_bytes=extra)
    assert six - plain == pytest.approx(model.n_layers * 5 * r.link_lat, rel=1e-9)


def test_gpu_only_capacity_counts_the_workspace(inputs):
    """Two 24 GiB GPUs keeping half for the workspace hold 24 GiB: OPT-13B (23.9 GiB of weights
    plus its KV cache) does not fit, though it fits the 48 GiB of raw memory."""
    model = io.load_model("opt_13b")
    s = io.load_system("hermes_paper", n_gpus=2)
    raw = s.n_gpus * s.gpu.memory_bytes
    assert raw / 2 - 2**28 < shapes.weight_bytes(model) < raw / 2  # 24 GiB less 0.25 GiB
    e = policies.estimate("gpu-only", model, s, options=Assumptions(gpu_workspace_frac=0.5))
    assert not e.supported and "after the workspace" in e.reason


# ------------------------------------------ Hermes / Hermes-host / Hermes-base by hand (mutation)


def _link_copy_s(r, nbytes):
    """A copy over the host link: latency + bytes / bandwidth, nothing for no bytes (s)."""
    return r.link_lat + nbytes / r.link_bw if nbytes > 0 else 0.0


def _prefill_hand(model, sh, r, *, b, p, streamed, upload=0.0, head_streamed=False):
    """`_prefill_s` with overlap, written out from its docstring (the LM head resident; with
    `head_streamed`, its weights also cross the link once, as one copy)."""
    e, tokens = 2, b * p
    flop = 2 * tokens * sh.layer_bytes / e + 2 * b * model.n_heads * model.head_dim * p * (p + 1)
    act = sh.layer_bytes + 4 * tokens * model.d_model * e
    comp = max(flop / r.gpu_flops, act / r.gpu_bw) + 6 * r.t0
    tx = max(_link_copy_s(r, streamed), _link_copy_s(r, upload))
    head = max(sh.lm_head_bytes / r.gpu_bw, 2 * b * sh.lm_head_bytes / e / r.gpu_flops) + r.t0
    head_tx = _link_copy_s(r, sh.lm_head_bytes) if head_streamed else 0.0
    return model.n_layers * max(comp, tx) + min(comp, tx) + head + head_tx


def _hybrid_prefill_hand(model, sh, r, *, b, p, hot, sync):
    """PowerInfer's hybrid prefill written out from `_hybrid_prefill_s`'s docstring: the GPU
    reads its hot neurons and the projection once and computes them and causal attention for
    every prompt token (6 kernels); the CPU does the same for the cold neurons (one kernel fewer
    per block than the GPU's gathered blocks: 1 + 2); four syncs per layer; the LM head once.
    Returns (total, gpu side, cpu side)."""
    e, tokens = 2, b * p
    gpu_bytes = hot + sh.proj_bytes
    cold = sh.qkv_bytes + sh.mlp_bytes - hot
    attn = 2 * b * model.n_heads * model.head_dim * p * (p + 1)
    gpu = max((2 * tokens * gpu_bytes / e + attn) / r.gpu_flops, gpu_bytes / r.gpu_bw) + 6 * r.t0
    cpu = max(2 * tokens * cold / e / r.host_flops, cold / r.host_bw) + 3 * r.host_t0
    head = max(sh.lm_head_bytes / r.gpu_bw, 2 * b * sh.lm_head_bytes / e / r.gpu_flops) + r.t0
    return model.n_layers * (max(gpu, cpu) + 4 * sync) + head, gpu, cpu


@pytest.mark.parametrize(("b", "p", "hot_frac", "bound"), [
    (1, 1, 1.0, "gpu-bw"),       # everything hot, one token: the GPU reads, the CPU idles
    (4, 512, 1.0, "gpu-flop"),   # everything hot, 2,048 tokens: GEMMs and attention compute
    (1, 1, 0.0, "cpu-bw"),       # nothing hot: the CPU reads every QKV/MLP weight
    (2, 64, 0.5, "cpu-flop"),    # half hot, 128 tokens: the CPU's FLOPs set the layer
])
def test_hybrid_prefill_by_hand(system, inputs, b, p, hot_frac, bound):
    """Hermes-host's hybrid prefill = L·(max(GPU side, CPU side) + 4 syncs) + LM head, each side a
    roofline over its own weights (the GPU's with causal attention 2·b·H·d_h·P(P+1)), in each of
    the four regimes (which side, memory- or compute-bound)."""
    model = io.load_model("opt_66b")
    o = opts(inputs, "opt_66b")
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    hot = hot_frac * (sh.qkv_bytes + sh.mlp_bytes)
    sync = 3e-4
    want, gpu, cpu = _hybrid_prefill_hand(model, sh, r, b=b, p=p, hot=hot, sync=sync)
    side, kind = bound.split("-")
    assert (gpu > cpu) == (side == "gpu")
    w = hot + sh.proj_bytes if side == "gpu" else sh.qkv_bytes + sh.mlp_bytes - hot
    flop_per_byte = b * p  # of the weights: 2 FLOP per 2-byte weight per token
    ridge = r.gpu_flops / r.gpu_bw if side == "gpu" else r.host_flops / r.host_bw
    assert w > 0 and (flop_per_byte > ridge) == (kind == "flop")
    got = policies._hybrid_prefill_s(model, sh, r, o, batch=b, prompt_len=p, gpu_hot_bytes=hot,
                                     sync_s=sync, qkv_sync_s=sync)
    assert got == pytest.approx(want, rel=1e-12)


def _hermes_budget_hand(system, model, sh, *, kv=0.0):
    """GPU bytes left for cached neurons: 90 % of the GPU, less every layer's projection and the
    LM head (resident by default) and, for Hermes-host, the KV cache."""
    return 0.9 * system.gpu.memory_bytes - model.n_layers * sh.proj_bytes - sh.lm_head_bytes - kv


@pytest.mark.parametrize("slug", ["opt_66b", "llama2_70b"])
def test_hermes_host_prefill_and_resident_bytes_by_hand(system, inputs, slug):
    """Hermes-host: the GPU caches min(budget/L, QKV + MLP) bytes a layer, the budget being what
    the resident projections (L of them), the LM head and the KV cache leave; the hybrid prefill
    runs those on the GPU, syncing the prompt's hidden states (b·P·d values) four times a layer;
    resident bytes = L·cached + L·projection + LM head."""
    model = io.load_model(slug)
    o = opts(inputs, slug)
    b, p, g = 2, 64, 8
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    kv = b * (p + g) * 2 * model.n_layers * model.n_kv_heads * model.head_dim * 2
    budget = _hermes_budget_hand(system, model, sh, kv=kv)
    cached = min(budget / model.n_layers, sh.qkv_bytes + sh.mlp_bytes)
    assert cached < sh.qkv_bytes + sh.mlp_bytes  # the budget binds: the resident terms matter
    sync = r.link_lat + b * p * model.d_model * 2 / r.link_bw
    qkv = (model.n_heads + 2 * model.n_kv_heads) * model.head_dim
    qkv_sync = r.link_lat + b * p * qkv * 2 / r.link_bw
    want, _, _ = _hybrid_prefill_hand(model, sh, r, b=b, p=p, hot=cached, sync=sync)
    want += model.n_layers * (qkv_sync - sync)  # the QKV block's partial sums are q/k/v
    e = policies.estimate("hermes-host", model, system, batch=b, prompt_len=p, gen_len=g,
                          options=o)
    assert e.prefill_s == pytest.approx(want, rel=1e-9)
    L = model.n_layers
    assert e.details["gpu_cached_bytes"] == pytest.approx(L * cached, rel=1e-12)
    assert e.details["gpu_resident_bytes"] == pytest.approx(
        L * cached + L * sh.proj_bytes + sh.lm_head_bytes, rel=1e-12)


def test_hermes_resident_bytes_fill_the_budget(system, inputs):
    """Hermes (KV cache on the DIMMs): resident = L·cached + L·projection + LM head, and with the
    budget binding that is 90 % of the GPU; without a resident projection the cache takes its
    L·projection bytes."""
    model = io.load_model("opt_66b")
    sh = policies._shape(model, "fp16")
    L = model.n_layers
    for proj_on_gpu in (True, False):
        o = opts(inputs, "opt_66b", projection_on_gpu=proj_on_gpu)
        e = policies.estimate("hermes", model, system, batch=1, prompt_len=64, gen_len=8,
                              options=o)
        resident = (L * sh.proj_bytes if proj_on_gpu else 0.0) + sh.lm_head_bytes
        cached = (0.9 * system.gpu.memory_bytes - resident) / L
        assert cached < sh.qkv_bytes + sh.mlp_bytes
        assert e.details["gpu_cached_bytes"] == pytest.approx(L * cached, rel=1e-12)
        assert e.details["gpu_resident_bytes"] == pytest.approx(L * cached + resident, rel=1e-12)
        assert e.details["gpu_resident_bytes"] == pytest.approx(0.9 * system.gpu.memory_bytes,
                                                                rel=1e-12)


@pytest.mark.parametrize("gpu_tflops", [None, 0.1])
def test_hermes_host_decode_attention_on_gpu_by_hand(system, inputs, gpu_tflops):
    """Hermes-host's decode attention on the GPU, per layer and step: a roofline of the KV read
    (b·2·H_kv·d_h·2 bytes per position) against 2 FLOP per MAC of QK and PV (2·b·H·d_h MACs per
    position), plus one kernel; summed over the contexts P+1 … P+g. On the paper's GPU it reads;
    on a GPU of 0.1 TFLOP/s peak it computes (LLaMA2-70B: 64 query heads on 8 KV heads)."""
    model = io.load_model("llama2_70b")
    if gpu_tflops is not None:
        system = io.load_system("hermes_paper", "paper", gpu=dataclasses.replace(
            system.gpu, fp16_flop_per_s=gpu_tflops * 1e12))
    o = opts(inputs, "llama2_70b")
    b, p, g = 2, 100, 6
    bw, flops = system.gpu.achievable_bandwidth_bytes_per_s, system.gpu.achievable_flop_per_s
    t0 = system.gpu.kernel_overhead_s
    want, read_bound = 0.0, []
    for ctx in range(p + 1, p + g + 1):
        read = b * 2 * model.n_kv_heads * model.head_dim * 2 * ctx / bw
        comp = 2 * (2 * b * model.n_heads * model.head_dim * ctx) / flops
        read_bound.append(read > comp)
        want += model.n_layers * (max(read, comp) + t0)
    assert set(read_bound) == {gpu_tflops is None}
    e = policies.estimate("hermes-host", model, system, batch=b, prompt_len=p, gen_len=g,
                          options=o)
    assert e.breakdown_s["attention"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("pol", ["hermes", "hermes-host"])
def test_predictor_tables_are_read_at_host_bandwidth(system, inputs, pol):
    """The predictor reads one 8.5-byte entry (4-bit state, two 32-bit indices) per QKV neuron
    (d_model of them) and per MLP neuron (d_ffn) at host DRAM bandwidth."""
    model = io.load_model("llama2_70b")
    e = policies.estimate(pol, model, system, batch=1, prompt_len=64, gen_len=4,
                          options=opts(inputs, "llama2_70b"))
    want = (8192 + 28672) * (0.5 + 2 * 4) / system.host.achievable_bandwidth_bytes_per_s
    assert e.details["predictor_s"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("proj_on_gpu", [True, False])
def test_prefill_streams_resident_streams_whole_layers(system, inputs, proj_on_gpu):
    """With prefill_streams_resident every layer's QKV, projection and MLP cross the link in
    prefill, resident or not (OPT-66B at batch 1 is transfer-bound), and so does the GPU's
    resident LM head, once: Hermes' prefill is Hermes-base's then (both upload the prompt's KV
    cache), and Hermes-host streaming to the GPU pays the same weights without the upload."""
    model = io.load_model("opt_66b")
    b, p = 1, 64
    o = opts(inputs, "opt_66b", prefill_streams_resident=True, projection_on_gpu=proj_on_gpu)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    whole = sh.qkv_bytes + sh.proj_bytes + sh.mlp_bytes
    upload = b * p * 2 * model.n_kv_heads * model.head_dim * 2
    assert r.link_lat + whole / r.link_bw > 10 * (2 * b * p * whole / 2 / r.gpu_flops)
    ndp = _prefill_hand(model, sh, r, b=b, p=p, streamed=whole, upload=upload,
                        head_streamed=True)
    assert ndp > _prefill_hand(model, sh, r, b=b, p=p, streamed=whole, upload=upload)
    run = {pol: policies.estimate(pol, model, system, batch=b, prompt_len=p, gen_len=4,
                                  options=o).prefill_s
           for pol in ("hermes", "hermes-base")}
    assert run["hermes"] == pytest.approx(ndp, rel=1e-12)
    assert run["hermes-base"] == pytest.approx(ndp, rel=1e-12)
    oh = dataclasses.replace(o, host_prefill_on_cpu=False)
    host = policies.estimate("hermes-host", model, system, batch=b, prompt_len=p, gen_len=4,
                             options=oh).prefill_s
    assert host == pytest.approx(_prefill_hand(model, sh, r, b=b, p=p, streamed=whole,
                                               head_streamed=True), rel=1e-12)


def test_hermes_host_layer_by_hand(system, inputs):
    """Hermes-host, OPT-13B, batch 1: the split balances both blocks (GPU and CPU sides equally
    long), and a balanced block is booked to the side that crosses PCIe, here the CPU, which
    gets the block's input and returns its partial sums (communication: q/k/v-sized for the QKV
    block). A layer is the two blocks, the projection and the one GPU kernel that merges, adds
    the residual and norms; the LM head's two copies once a step."""
    model = io.load_model("opt_13b")
    o = opts(inputs, "opt_13b")
    gen = 4
    e = policies.estimate("hermes-host", model, system, batch=1, prompt_len=64, gen_len=gen,
                          options=o)
    d = e.details
    assert (d["qkv_balanced"], d["mlp_balanced"]) == (1.0, 1.0)
    assert (d["qkv_cold_bound"], d["mlp_cold_bound"]) == (1.0, 1.0)
    r = policies._rates(model, system, o)
    sync = _sync_s(system, model, 1)
    copies = (sync + _qkv_sync_s(system, model, 1)) + 2 * sync
    per_layer = d["qkv_block_s"] + d["mlp_block_s"] - copies + d["projection_s"] + r.t0
    L = model.n_layers
    assert e.breakdown_s["fc"] / gen / L == pytest.approx(per_layer, rel=1e-12)
    assert e.breakdown_s["communication"] / gen == pytest.approx(
        L * copies + _head_io_s(system, model, 1), rel=1e-12)


def test_balanced_blocks_book_the_host_link(system, inputs):
    """LLaMA2-13B, batch 1: the split balances both of Hermes' blocks; a balanced block is
    booked to its GPU side, whose exchanges over PCIe are communication (the QKV block's input
    and q/k/v partial sums, the MLP block's input and partial sums), not the DIMMs'
    reductions; outside the blocks the attention output comes in and the projection's output
    goes to every DIMM. A block one side of which is longer is booked to that side whatever the
    tolerance: LLaMA2-70B at batch 4 has both blocks limited by the DIMMs."""
    model = io.load_model("llama2_13b")
    o = opts(inputs, "llama2_13b")
    gen, b = 4, 1
    e = policies.estimate("hermes", model, system, batch=b, prompt_len=64, gen_len=gen, options=o)
    d = e.details
    assert (d["qkv_balanced"], d["mlp_balanced"]) == (1.0, 1.0)
    assert (d["qkv_cold_bound"], d["mlp_cold_bound"]) == (0.0, 0.0)
    sync = _sync_s(system, model, b)
    every = _every_dimm_s(system, model, b)
    want = (model.n_layers * ((sync + _qkv_sync_s(system, model, b)) + (sync + every)
                              + sync + every)
            + _head_io_s(system, model, b))
    assert e.breakdown_s["communication"] / gen == pytest.approx(want, rel=1e-12)
    big = policies.estimate("hermes", io.load_model("llama2_70b"), system, batch=4,
                            prompt_len=64, gen_len=gen, options=opts(inputs, "llama2_70b"))
    assert (big.details["qkv_balanced"], big.details["mlp_balanced"]) == (0.0, 0.0)
    assert (big.details["qkv_cold_bound"], big.details["mlp_cold_bound"]) == (1.0, 1.0)


@pytest.mark.parametrize("layers_fit", [0.5, 1.5, 2.5, 40.5])
def test_hermes_base_hand_over_with_few_gpu_layers(system, inputs, layers_fit):
    """Hermes-base with room for 0, 1, 2 or all 40 whole layers of OPT-13B after the LM head (a
    48 GiB GPU, the workspace share chosen so): each GPU layer pays q/k/v out and the attention
    output back, each DIMM layer two all-reduces over DIMM-link, and a GPU/DIMM hand-over each
    way exists when both hold layers; the LM head's two copies once a step."""
    model = io.load_model("opt_13b")
    big = io.load_system("hermes_paper", "paper",
                         gpu=dataclasses.replace(system.gpu, memory_bytes=48 * 2**30))
    sh = policies._shape(model, "fp16")
    ws = 1 - (layers_fit * sh.layer_bytes + sh.lm_head_bytes) / big.gpu.memory_bytes
    L, b = model.n_layers, 2
    n_gpu = min(L, int(layers_fit))
    e = policies.estimate("hermes-base", model, big, batch=b, prompt_len=64, gen_len=4,
                          options=opts(inputs, "opt_13b", gpu_workspace_frac=ws))
    assert e.details["gpu_layers"] == n_gpu
    sync, vec = _sync_s(big, model, b), b * model.d_model * 2
    hand_over = sync + _every_dimm_s(big, model, b)
    want = (n_gpu * (_qkv_sync_s(big, model, b) + sync) + (hand_over if 0 < n_gpu < L else 0.0)
            + (L - n_gpu) * 2 * 2 * _rs_s(big, vec) + _head_io_s(big, model, b))
    assert e.breakdown_s["communication"] / 4 == pytest.approx(want, rel=1e-9)


def test_hermes_prefill_streams_only_what_is_not_cached(system, inputs):
    """Hermes' prefill streams QKV + MLP less the GPU's cached share a layer (OPT-66B on the
    paper's GPU, batch 1: transfer-bound) while the prompt's KV cache goes up to the DIMMs;
    with every neuron cached (OPT-13B on a 48 GiB GPU) nothing is streamed, so the KV upload
    alone is the layer's transfer, and Hermes-host streaming to the GPU (its KV cache stays
    there) has no transfer at all."""
    b, p = 1, 64
    model = io.load_model("opt_66b")
    o = opts(inputs, "opt_66b")
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    cached = _hermes_budget_hand(system, model, sh) / model.n_layers
    kv_up = b * p * 2 * model.n_kv_heads * model.head_dim * 2
    want = _prefill_hand(model, sh, r, b=b, p=p, upload=kv_up,
                         streamed=sh.qkv_bytes + sh.mlp_bytes - cached)
    got = policies.estimate("hermes", model, system, batch=b, prompt_len=p, gen_len=4,
                            options=o).prefill_s
    assert got == pytest.approx(want, rel=1e-12)

    model = io.load_model("opt_13b")
    big = io.load_system("hermes_paper", "paper",
                         gpu=dataclasses.replace(system.gpu, memory_bytes=48 * 2**30))
    b, p = 8, 512
    o = opts(inputs, "opt_13b", host_prefill_on_cpu=False)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, big, o)
    kv_up = b * p * 2 * model.n_kv_heads * model.head_dim * 2
    kv_all = kv_up * model.n_layers * (p + 4) / p  # Hermes-host's KV cache on the GPU
    assert (_hermes_budget_hand(big, model, sh, kv=kv_all)
            > model.n_layers * (sh.qkv_bytes + sh.mlp_bytes))
    run = {pol: policies.estimate(pol, model, big, batch=b, prompt_len=p, gen_len=4,
                                  options=o).prefill_s for pol in ("hermes", "hermes-host")}
    assert run["hermes"] == pytest.approx(
        _prefill_hand(model, sh, r, b=b, p=p, streamed=0.0, upload=kv_up), rel=1e-12)
    assert run["hermes-host"] == pytest.approx(
        _prefill_hand(model, sh, r, b=b, p=p, streamed=0.0), rel=1e-12)


def test_hybrid_prefill_runs_the_lm_head_where_decode_does(system, inputs):
    """With the LM head off the GPU, Hermes-host's prefill computes it on the CPU (as decode
    does): the prefill changes by exactly the head's CPU roofline less its GPU one."""
    model = io.load_model("opt_13b")
    on, off = opts(inputs, "opt_13b"), opts(inputs, "opt_13b", lm_head_on_gpu=False)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, on)
    b, p = 2, 64
    kw = {"batch": b, "prompt_len": p, "gpu_hot_bytes": 1e8, "sync_s": 1e-5,
          "qkv_sync_s": 2e-5}
    t_on = policies._hybrid_prefill_s(model, sh, r, on, **kw)
    t_off = policies._hybrid_prefill_s(model, sh, r, off, **kw)
    head, flop = sh.lm_head_bytes, 2 * b * sh.lm_head_bytes / 2
    gpu_head = max(head / r.gpu_bw, flop / r.gpu_flops) + r.t0
    cpu_head = max(head / r.host_bw, flop / r.host_flops)
    assert cpu_head > 10 * gpu_head  # 89.6 GB/s against 936: the head is a real term
    assert t_off - t_on == pytest.approx(cpu_head - gpu_head, rel=1e-9)


# ------------------------------------------------------------------ Hermes' decode attention


@pytest.mark.parametrize(("slug", "n_dimms", "b"), [("llama2_70b", 16, 1), ("opt_13b", 8, 2)])
def test_hermes_decode_attention_by_hand(system, inputs, slug, n_dimms, b):
    """Hermes' decode attention, every step by hand (s): each layer reads its KV cache and runs
    QK and PV (2 × heads × head_dim × context MACs a sequence) on the DIMMs holding KV heads,
    min(DIMMs, KV heads × batch) of them (LLaMA2-70B at batch 1 on 16 DIMMs: its 8 KV heads use
    8), overlapped, then the softmax (one exponent a head and position) on their activation
    units."""
    m, o = io.load_model(slug), opts(inputs, slug)
    s = dataclasses.replace(system, n_dimms=n_dimms)
    r = policies._rates(m, s, o)
    units = min(n_dimms, m.n_kv_heads * b)
    assert units == (8 if slug == "llama2_70b" else n_dimms)
    ctx = 128 + 1.0 + np.arange(128)
    kv_read = b * (2 * m.n_kv_heads * m.head_dim * 2) * ctx / (units * r.dimm_stream_bw)
    kv_mac = 2.0 * b * m.n_heads * m.head_dim * ctx / (units * r.dimm_mac)
    softmax = b * m.n_heads * ctx / (units * policies.NDP_ACTIVATION_UNITS * r.ndp_clock)
    expected = m.n_layers * np.sum(np.maximum(kv_read, kv_mac) + softmax)
    e = policies.estimate("hermes", m, s, batch=b, options=o)
    assert e.breakdown_s["attention"] == pytest.approx(expected, rel=1e-12)


def test_hermes_predictor_shows_only_beyond_the_shorter_block(system, inputs):
    """Hermes' predictor reads its tables (4-bit state and two 4-byte indices a neuron) at the
    host's bandwidth while the previous block computes: only the part longer than the shorter of
    the two blocks shows, a step and a layer (by hand, with a host slow enough that it shows)."""
    m, o = io.load_model("llama2_70b"), opts(inputs, "llama2_70b")
    slow = dataclasses.replace(system, host=dataclasses.replace(
        system.host, dram_bandwidth_bytes_per_s=1e6))
    r = policies._rates(m, slow, o)
    pred_s = (m.d_model + m.d_ffn) * (0.5 + 2 * 4) / r.host_bw
    e = policies.estimate("hermes", m, slow, options=o)
    shorter = min(e.details["qkv_block_s"], e.details["mlp_block_s"])
    assert pred_s > shorter
    assert e.breakdown_s["predictor"] == pytest.approx(128 * m.n_layers * (pred_s - shorter),
                                                       rel=1e-12)
    # on the paper's host the tables are read long before the shorter block ends
    assert policies.estimate("hermes", m, system, options=o).breakdown_s["predictor"] == 0


def test_sparse_blocks_skip_inactive_macs_and_gather_by_hand(system, inputs):
    """The cold side with ``skip_inactive_macs``: a needed neuron's weights are read once and
    multiplied only for the sequences that activate it, batch × density ÷ the batch's union
    (expected neurons needed) MACs per weight read, between 1 and the batch; the GPU's gathered
    GEMV moves γ bytes a selected byte (by hand, LLaMA2-70B at batch 8, γ = 2.5, reads and MACs
    in sequence)."""
    m, b = io.load_model("llama2_70b"), 8
    # no read/MAC overlap, so that the cold side's time shows its MACs even where reads lead
    o = dataclasses.replace(opts(inputs, "llama2_70b"), skip_inactive_macs=True,
                            gather_penalty=2.5, ndp_overlap=False)
    sh, r, a = policies._shape(m, "fp16"), policies._rates(m, system, o), o.activity
    blocks = policies._sparse_blocks(m, sh, r, o, batch=b, cold="dimm", block_sync_s=(0, 0),
                                     adjust=False)
    for blk, dens, hot, n in zip(blocks, (a.qkv_density, a.mlp_density),
                                 (a.qkv_hot_share, a.mlp_hot_share), (m.d_model, m.d_ffn),
                                 strict=True):
        rate, count = policies.neuron_classes(dens, hot, n, batch=b,
                                              n_classes=o.n_activity_classes)
        macs = b * dens * n / float((rate * count).sum())
        assert 1 < macs < b
        elems = blk.neuron_bytes / 2
        read, mac = blk.neuron_bytes / r.dimm_bw, macs * elems / r.dimm_mac
        assert blk.cold_s == pytest.approx((read + mac) * o.dimm_imbalance, rel=1e-12)
        assert blk.gpu_active_s == pytest.approx(
            max(2.5 * blk.neuron_bytes / r.gpu_bw, 2.0 * b * elems / r.gpu_flops), rel=1e-12)
        assert blk.gpu_active_s > blk.gpu_dense_s  # the gather costs bandwidth at γ > 1


# ------------------------------------------------------- the offloading baselines' decode, by hand


def _dense_layer_by_hand(m, r, b, ctx):
    """One dense layer on the GPU (s): its weights as a batched GEMV and five more kernels, and
    attention over the KV cache (QK and PV: 4 × heads × head_dim × context FLOP a sequence)."""
    layer_bytes = shapes.layer_weight_bytes(m, "fp16")
    fc = (max(layer_bytes / r.gpu_bw, 2.0 * b * layer_bytes / 2 / r.gpu_flops)
          + (policies.KERNELS_DENSE_LAYER - 1) * r.t0)
    kv_token = 2 * m.n_kv_heads * m.head_dim * 2
    att = np.maximum(b * kv_token * ctx / r.gpu_bw,
                     4.0 * b * m.n_heads * m.head_dim * ctx / r.gpu_flops) + r.t0
    return layer_bytes, fc, att


@pytest.mark.parametrize("b", [1, 8])
def test_accelerate_and_flexgen_decode_by_hand(system, inputs, b):
    """Accelerate copies every layer tensor by tensor (one link latency a tensor) at the pageable
    rate before computing it; FlexGen copies each layer in one pinned transfer while the previous
    layer computes, and only the part of the copy longer than the layer's FC and attention shows.
    Both copy the LM head each step (OPT-13B, everything in host memory; by hand, s)."""
    m = io.load_model("opt_13b")
    o = opts(inputs, "opt_13b")
    assert not o.offload_resident and not o.accelerate_pinned
    r, L, n = policies._rates(m, system, o), m.n_layers, 128
    ctx = 128 + 1.0 + np.arange(n)
    layer_bytes, fc, att = _dense_layer_by_hand(m, r, b, ctx)
    head_bytes = m.vocab_size * m.word_embed_proj_dim * 2
    head = max(head_bytes / r.gpu_bw, 2.0 * b * head_bytes / 2 / r.gpu_flops) + r.t0
    pageable = r.link_bw * policies.PAGEABLE_COPY_FRAC
    n_tensors = len(shapes.layer_matrices(m))
    acc = policies.estimate("accelerate", m, system, batch=b, options=o).breakdown_s
    tx = n_tensors * r.link_lat + layer_bytes / pageable
    assert acc["fc"] == pytest.approx(n * L * fc, rel=1e-12)
    assert acc["attention"] == pytest.approx(L * att.sum(), rel=1e-12)
    assert acc["communication"] == pytest.approx(
        n * (L * tx + r.link_lat + head_bytes / pageable), rel=1e-12)
    assert acc["others"] == pytest.approx(n * head, rel=1e-12)
    fg = policies.estimate("flexgen", m, system, batch=b, options=o).breakdown_s
    tx = r.link_lat + layer_bytes / r.link_bw
    exposed = np.maximum(tx - (fc + att), 0.0)
    assert exposed.min() > 0  # the copy outlasts the compute at these batches
    assert fg["fc"] == pytest.approx(n * L * fc, rel=1e-12)
    assert fg["communication"] == pytest.approx(
        L * exposed.sum() + n * (r.link_lat + head_bytes / r.link_bw), rel=1e-12)


def test_offload_resident_keeps_what_fits_by_hand(system, inputs):
    """With ``offload_resident`` the GPU keeps the LM head and as large a share of every layer
    as its weight budget holds after the KV cache; each step streams only the rest (by hand:
    OPT-13B keeps most of each layer, OPT-66B a smaller share)."""
    shares = []
    for slug in ("opt_13b", "opt_66b"):
        m = io.load_model(slug)
        o = dataclasses.replace(opts(inputs, slug), offload_resident=True)
        layer_bytes = shapes.layer_weight_bytes(m, "fp16")
        head_bytes = m.vocab_size * m.word_embed_proj_dim * 2
        kv = 1 * (128 + 128) * shapes.kv_cache_bytes_per_token(m, "fp16")
        room = max(0.0, policies._gpu_weight_budget(m, system, o) - kv - head_bytes)
        frac = min(1.0, room / (m.n_layers * layer_bytes))
        assert 0 < frac < 1
        shares.append(frac)
        e = policies.estimate("flexgen", m, system, batch=1, options=o)
        assert e.details["streamed_bytes_per_step"] == pytest.approx(
            m.n_layers * layer_bytes * (1 - frac), rel=1e-12)
    assert shares[0] > 0.8 and shares[1] < 0.2


def test_dense_attention_is_compute_bound_on_a_slow_gpu(system, inputs):
    """A GPU's decode attention is the slower of its KV read and its QK/PV FLOP (4 × heads ×
    head_dim × context a sequence); on real GPUs the read leads (1 FLOP a byte for OPT), so a
    GPU a thousand times slower at FP16 shows the FLOP term (Accelerate, OPT-13B, by hand)."""
    m, o = io.load_model("opt_13b"), opts(inputs, "opt_13b")
    slow = dataclasses.replace(system, gpu=dataclasses.replace(
        system.gpu, fp16_flop_per_s=system.gpu.fp16_flop_per_s / 1000))
    ctx = 128 + 1.0 + np.arange(128)
    for s, flop_bound in ((system, False), (slow, True)):
        r = policies._rates(m, s, o)
        _, _, att = _dense_layer_by_hand(m, r, 4, ctx)
        flop = 4.0 * 4 * m.n_heads * m.head_dim * ctx / r.gpu_flops
        assert np.array_equal(att, flop + r.t0) == flop_bound
        e = policies.estimate("accelerate", m, s, batch=4, options=o)
        assert e.breakdown_s["attention"] == pytest.approx(m.n_layers * att.sum(), rel=1e-12)


def test_gpu_only_tensor_parallel_by_hand(inputs):
    """``gpu-only`` on n GPUs, tensor parallel: each GPU reads 1/n of every layer (a GEMV and five
    more kernels), attention over 1/n of the heads and KV cache, two ring all-reduces of the hidden
    state a layer, 2 (n-1) (l + S / (n W)); prefill computes 1/n of the prompt's FLOP a GPU
    (LLaMA2-70B on the paper's five A100s, by hand, s)."""
    m, n, b = io.load_model("llama2_70b"), 5, 4
    s = io.load_system("hermes_paper", "paper", gpu="a100_40g_sxm4", n_gpus=n)
    o = opts(inputs, "llama2_70b")
    r, L = policies._rates(m, s, o), m.n_layers
    layer_bytes = shapes.layer_weight_bytes(m, "fp16")
    fc = (max(layer_bytes / n / r.gpu_bw, 2.0 * b * layer_bytes / n / 2 / r.gpu_flops)
          + (policies.KERNELS_DENSE_LAYER - 1) * r.t0)

    def ring(nbytes):
        return 2 * (n - 1) * (r.nvlink_lat + nbytes / (n * r.nvlink_bw))

    e = policies.estimate("gpu-only", m, s, batch=b, options=o)
    assert e.supported
    assert e.breakdown_s["fc"] == pytest.approx(128 * L * fc, rel=1e-12)
    logits = ring(b * m.vocab_size * 2) / 2
    assert e.breakdown_s["communication"] == pytest.approx(
        128 * (L * 2 * ring(b * m.d_model * 2) + logits), rel=1e-12)
    tokens = b * 128
    flop = 2.0 * tokens * layer_bytes / 2 + 2.0 * b * m.n_heads * m.head_dim * 128 * 129
    act = layer_bytes / n + 4.0 * tokens * m.d_model * 2
    layer = (max(flop / (n * r.gpu_flops), act / r.gpu_bw)
             + policies.KERNELS_DENSE_LAYER * r.t0 + 2 * ring(tokens * m.d_model * 2))
    head_bytes = m.vocab_size * m.word_embed_proj_dim * 2
    head = max(head_bytes / n / r.gpu_bw, 2.0 * b * head_bytes / n / 2 / r.gpu_flops) + r.t0
    assert e.prefill_s == pytest.approx(L * layer + head + logits, rel=1e-12)


def test_host_capacity_equal_to_the_weights_is_enough(system, inputs):
    """Offloading: weights that exactly fill host DRAM run; one byte less of DRAM is N.P."""
    model = io.load_model("opt_13b")
    need = shapes.weight_bytes(model, "fp16")
    for dram, ok in ((need, True), (need - 1.0, False)):
        host = dataclasses.replace(system.host, dram_capacity_bytes=dram)
        e = policies.estimate("accelerate", model, dataclasses.replace(system, host=host),
                              options=opts(inputs, "opt_13b"))
        assert e.supported is ok
        if not ok:
            assert e.reason.startswith("weights need 23.9 GiB, host memory has 23.9 GiB")


def test_dejavu_head_density_bounds():
    assert Assumptions(dejavu_head_density=1.0).dejavu_head_density == 1.0
    with pytest.raises(ValueError, match=r"dejavu_head_density must be in \(0, 1\], got 0"):
        Assumptions(dejavu_head_density=0.0)


# ------------------------------------------- Hermes-host's KV cache in host DRAM (host_kv_on_gpu)


def _kv_total(model, b, p, g):
    """The whole run's KV cache, by hand: b·(P+g) tokens × 2 (K, V) × L × H_kv × d_h × 2 B."""
    return b * (p + g) * 2 * model.n_layers * model.n_kv_heads * model.head_dim * 2


@pytest.mark.parametrize(("slug", "batch", "tokens_per_s", "prefill_s"), [
    # Hermes-host at the package's defaults before host_kv_on_gpu existed (commit e1ceb7a;
    # OPT-13B's is the 87.64 tokens/s of book/end_to_end.ipynb's batch-1 chart)
    ("opt_13b", 1, 87.64073215109147, 0.3090417419042162),
    ("llama2_70b", 1, 2.832142657045826, 12.742523072876393),
    ("falcon_40b", 4, 14.119003797094756, 26.549636500031614),
    ("opt_66b", 16, 7.601513366098949, 210.16197538267983),
    ("llama2_13b", 16, 127.38981520732666, 10.54241555422469),
])
def test_host_kv_on_gpu_default_keeps_every_number(system, inputs, slug, batch, tokens_per_s,
                                                   prefill_s):
    """The default (KV cache on the GPU) is the placement the package always modelled: the
    numbers are those it gave before the field existed, and equal to setting it explicitly."""
    assert Assumptions().host_kv_on_gpu is True
    m = io.load_model(slug)
    e = policies.estimate("hermes-host", m, system, batch=batch, options=opts(inputs, slug))
    explicit = policies.estimate("hermes-host", m, system, batch=batch,
                                 options=opts(inputs, slug, host_kv_on_gpu=True))
    assert e == explicit
    assert e.tokens_per_s == pytest.approx(tokens_per_s, rel=1e-12)
    assert e.prefill_s == pytest.approx(prefill_s, rel=1e-12)


@pytest.mark.parametrize(("slug", "b"), [("opt_66b", 16), ("llama2_13b", 8)])
def test_host_kv_off_the_gpu_frees_its_bytes_for_hot_neurons(system, inputs, slug, b):
    """With the KV cache in host DRAM the GPU caches exactly the KV cache's bytes more (the
    budget binds in both placements), and its resident bytes fill 90 % of the GPU."""
    m = io.load_model(slug)
    p, g = 128, 16
    sh = policies._shape(m, "fp16")
    run = {f: policies.estimate("hermes-host", m, system, batch=b, prompt_len=p, gen_len=g,
                                options=opts(inputs, slug, host_kv_on_gpu=f))
           for f in (True, False)}
    kv = _kv_total(m, b, p, g)
    assert kv > 5e8
    assert run[False].details["gpu_cached_bytes"] < m.n_layers * (sh.qkv_bytes + sh.mlp_bytes)
    assert (run[False].details["gpu_cached_bytes"] - run[True].details["gpu_cached_bytes"]
            == pytest.approx(kv, rel=1e-9))
    assert run[False].details["gpu_resident_bytes"] == pytest.approx(
        0.9 * system.gpu.memory_bytes, rel=1e-12)


@pytest.mark.parametrize("host_tflops", [None, 0.2])
def test_host_kv_decode_attention_on_the_cpu_by_hand(system, inputs, host_tflops):
    """KV cache in host DRAM: a layer's decode attention is the CPU's roofline, the KV read
    (b·2·H_kv·d_h·2 bytes per position) at host bandwidth against 2 FLOP per MAC of QK and PV
    (2·b·H·d_h MACs per position) at host FLOP/s, plus one CPU operation's overhead; summed
    over P+1 … P+g.
    On the paper's host it reads; on a host of 0.2 TFLOP/s peak it computes (LLaMA2-70B:
    8 FLOP a KV byte)."""
    model = io.load_model("llama2_70b")
    if host_tflops is not None:
        system = dataclasses.replace(system, host=dataclasses.replace(
            system.host, flop_per_s=host_tflops * 1e12))
    o = opts(inputs, "llama2_70b", host_kv_on_gpu=False)
    b, p, g = 2, 100, 6
    bw, flops = system.host.achievable_bandwidth_bytes_per_s, system.host.achievable_flop_per_s
    want, read_bound = 0.0, []
    for ctx in range(p + 1, p + g + 1):
        read = b * 2 * model.n_kv_heads * model.head_dim * 2 * ctx / bw
        comp = 2 * (2 * b * model.n_heads * model.head_dim * ctx) / flops
        read_bound.append(read > comp)
        want += model.n_layers * (max(read, comp) + system.host.kernel_overhead_s)
    assert set(read_bound) == {host_tflops is None}
    e = policies.estimate("hermes-host", model, system, batch=b, prompt_len=p, gen_len=g,
                          options=o)
    assert e.breakdown_s["attention"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("slug", "batch"), [("llama2_70b", 1), ("falcon_40b", 4)])
def test_host_kv_adds_one_attention_output_copy_a_layer(system, inputs, slug, batch):
    """Attention on the CPU: its output (b·H·d_h values) crosses PCIe to the GPU's projection
    once a layer. The QKV block's q/k/v partial sums now run from the GPU to the CPU after the
    GPU's share, in parallel with the CPU's longer share, so with both blocks set by the CPU a
    layer's communication is the block inputs to the CPU (QKV's, MLP's), the MLP's partial sums
    back and the attention output: the q/k/v copy is hidden."""
    gen = 8
    model = io.load_model(slug)
    e = policies.estimate("hermes-host", model, system, batch=batch, prompt_len=64, gen_len=gen,
                          options=opts(inputs, slug, host_kv_on_gpu=False))
    assert e.details["qkv_cold_bound"] == e.details["mlp_cold_bound"] == 1.0
    link = system.host_link
    attn_out = (link.latency_s
                + batch * model.n_heads * model.head_dim * 2 / link.achievable_bandwidth_bytes_per_s)
    layer = _sync_s(system, model, batch) + 2 * _sync_s(system, model, batch) + attn_out
    assert e.breakdown_s["communication"] / gen == pytest.approx(
        model.n_layers * layer + _head_io_s(system, model, batch), rel=1e-9)


def _hybrid_prefill_host_kv_hand(model, sh, r, *, b, p, hot, sync, qkv_sync, attn_sync):
    """`_hybrid_prefill_s` with the KV cache in host DRAM, written out from its docstring: the
    GPU side without attention (5 kernels), the CPU side with causal attention's FLOP and the
    prompt's KV cache written (b·P tokens); five syncs a layer. Returns (total, gpu, cpu)."""
    e, tokens = 2, b * p
    gpu_b, cold = hot + sh.proj_bytes, sh.qkv_bytes + sh.mlp_bytes - hot
    attn = 2 * b * model.n_heads * model.head_dim * p * (p + 1)
    kv_write = tokens * 2 * model.n_kv_heads * model.head_dim * 2
    gpu = max(2 * tokens * gpu_b / e / r.gpu_flops, gpu_b / r.gpu_bw) + 5 * r.t0
    cpu = (max((2 * tokens * cold / e + attn) / r.host_flops, (cold + kv_write) / r.host_bw)
           + 3 * r.host_t0)
    head = max(sh.lm_head_bytes / r.gpu_bw, 2 * b * sh.lm_head_bytes / e / r.gpu_flops) + r.t0
    total = model.n_layers * (max(gpu, cpu) + 3 * sync + qkv_sync + attn_sync) + head
    return total, gpu, cpu


@pytest.mark.parametrize(("b", "p", "hot_frac", "bound"), [
    (1, 1, 1.0, "gpu-bw"), (4, 128, 1.0, "gpu-flop"), (1, 1, 0.0, "cpu-bw"),
    (2, 64, 0.5, "cpu-flop")])
def test_host_kv_hybrid_prefill_by_hand(system, inputs, b, p, hot_frac, bound):
    """KV cache in host DRAM, hybrid prefill, in each regime (which side, memory- or
    compute-bound): causal attention leaves the GPU side (one kernel fewer) for the CPU side's
    roofline, which also writes the prompt's KV cache into host DRAM; the attention output
    crosses to the GPU once a layer."""
    model = io.load_model("opt_66b")
    o = opts(inputs, "opt_66b", host_kv_on_gpu=False)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    hot = hot_frac * (sh.qkv_bytes + sh.mlp_bytes)
    want, gpu, cpu = _hybrid_prefill_host_kv_hand(model, sh, r, b=b, p=p, hot=hot, sync=3e-4,
                                                  qkv_sync=4e-4, attn_sync=5e-4)
    side, kind = bound.split("-")
    assert (gpu > cpu) == (side == "gpu")
    ridge = r.gpu_flops / r.gpu_bw if side == "gpu" else r.host_flops / r.host_bw
    assert (b * p > ridge) == (kind == "flop")  # FLOP per weight byte: one per token
    got = policies._hybrid_prefill_s(model, sh, r, o, batch=b, prompt_len=p, gpu_hot_bytes=hot,
                                     sync_s=3e-4, qkv_sync_s=4e-4, kv_on_host=True,
                                     attn_sync_s=5e-4)
    assert got == pytest.approx(want, rel=1e-12)


def test_host_kv_prefill_of_an_estimate_by_hand(system, inputs):
    """Hermes-host with the KV cache in host DRAM: the hybrid prefill caches the whole budget
    (no KV cache on the GPU) and syncs the prompt's hidden states, q/k/v and attention output.
    Streamed to the GPU (host_prefill_on_cpu off), the GPU computes all and uploads the prompt's
    KV cache against the weight stream, as Hermes does: OPT-13B at batch 8 with a 512-token
    prompt uploads more than it streams, so the upload sets the first layer's fill."""
    model = io.load_model("opt_66b")
    b, p, g, e = 2, 64, 8, 2
    o = opts(inputs, "opt_66b", host_kv_on_gpu=False)
    sh, r = policies._shape(model, "fp16"), policies._rates(model, system, o)
    est = policies.estimate("hermes-host", model, system, batch=b, prompt_len=p, gen_len=g,
                            options=o)
    hot = est.details["gpu_cached_bytes"] / model.n_layers
    assert hot == pytest.approx(_hermes_budget_hand(system, model, sh) / model.n_layers,
                                rel=1e-12)
    tokens = b * p
    want, _, _ = _hybrid_prefill_host_kv_hand(
        model, sh, r, b=b, p=p, hot=hot, sync=_link_copy_s(r, tokens * model.d_model * e),
        qkv_sync=_link_copy_s(r, tokens * (model.n_heads + 2 * model.n_kv_heads)
                              * model.head_dim * e),
        attn_sync=_link_copy_s(r, tokens * model.n_heads * model.head_dim * e))
    assert est.prefill_s == pytest.approx(want, rel=1e-12)
    m13 = io.load_model("opt_13b")
    b, p = 8, 512
    o = opts(inputs, "opt_13b", host_kv_on_gpu=False, host_prefill_on_cpu=False)
    sh, r = policies._shape(m13, "fp16"), policies._rates(m13, system, o)
    st = policies.estimate("hermes-host", m13, system, batch=b, prompt_len=p, gen_len=g,
                           options=o)
    streamed = sh.qkv_bytes + sh.mlp_bytes - st.details["gpu_cached_bytes"] / m13.n_layers
    upload = b * p * 2 * m13.n_kv_heads * m13.head_dim * 2
    assert 0 < streamed < upload
    assert st.prefill_s == pytest.approx(
        _prefill_hand(m13, sh, r, b=b, p=p, streamed=streamed, upload=upload), rel=1e-12)


@pytest.mark.parametrize("pol", [p for p in Policy if p != Policy.HERMES_HOST])
def test_only_hermes_host_reads_host_kv_on_gpu(system, inputs, pol):
    """Hermes keeps its KV cache on the DIMMs, Hermes-base too, the others on the GPU: the
    flag changes none of their estimates (OPT-66B at batch 1 and 16)."""
    m = io.load_model("opt_66b")
    for b in (1, 16):
        on, off = (policies.estimate(pol, m, system, batch=b,
                                     options=opts(inputs, "opt_66b", host_kv_on_gpu=f))
                   for f in (True, False))
        assert on == off


def test_host_kv_capacity_moves_from_the_gpu_to_host_dram(system, inputs):
    """KV cache in host DRAM: weights and KV cache must fit host memory together (one byte
    short is N.P., exactly enough runs), and the GPU need not hold the KV cache. KV cache on
    the GPU: the host holds only the weights, and a KV cache larger than the GPU's 90 % is
    N.P. (OPT-13B at batch 128: 25 GiB)."""
    m = io.load_model("opt_13b")
    need = shapes.weight_bytes(m, "fp16")
    kv = _kv_total(m, 1, 128, 128)
    for dram, ok_host, ok_gpu in ((need + kv, True, True), (need + kv - 1.0, False, True)):
        s = dataclasses.replace(system, host=dataclasses.replace(system.host,
                                                                 dram_capacity_bytes=dram))
        off = policies.estimate("hermes-host", m, s, options=opts(inputs, "opt_13b",
                                                                  host_kv_on_gpu=False))
        on = policies.estimate("hermes-host", m, s, options=opts(inputs, "opt_13b"))
        assert (off.supported, on.supported) == (ok_host, ok_gpu)
        if not ok_host:
            assert off.reason.startswith("weights and KV cache need 24.1 GiB, host memory has "
                                         "24.1 GiB")
    big = {f: policies.estimate("hermes-host", m, system, batch=128,
                                options=opts(inputs, "opt_13b", host_kv_on_gpu=f))
           for f in (True, False)}
    assert _kv_total(m, 128, 128, 128) > 0.9 * system.gpu.memory_bytes
    assert not big[True].supported and "the KV cache needs 25.0 GiB" in big[True].reason
    assert big[False].supported
    # the other policies keep their KV cache where they did: Accelerate's on the GPU
    acc = policies.estimate("accelerate", m, system, batch=128,
                            options=opts(inputs, "opt_13b", host_kv_on_gpu=False))
    assert not acc.supported and "the KV cache needs 25.0 GiB" in acc.reason


def test_host_kv_on_gpu_is_unstated_with_a_batch_dependent_better_end(system, inputs):
    """The range's low end (KV cache in host DRAM) gives fewer tokens/s at batch 1 on the six
    models of Figs. 9-10, more at batch 16; the band runs both ends, so at batch 16 it still
    reaches the low end's higher value."""
    (p,) = [u for u in policies.UNSTATED if u.name == "host_kv_on_gpu"]
    assert (p.default, p.low, p.high, p.policies) == (True, False, True, (Policy.HERMES_HOST,))
    assert p.default == Assumptions().host_kv_on_gpu and "PowerInfer" in p.reason
    for slug in ("opt_13b", "opt_30b", "opt_66b", "llama2_13b", "llama2_70b", "falcon_40b"):
        m = io.load_model(slug)
        for b, low_is_lower in ((1, True), (16, False)):
            low, high = (policies.estimate("hermes-host", m, system, batch=b,
                                           options=opts(inputs, slug, host_kv_on_gpu=v))
                         .tokens_per_s for v in (p.low, p.high))
            assert (low < high) is low_is_lower, (slug, b)
    m = io.load_model("llama2_13b")
    band = policies.tokens_per_s_band("hermes-host", m, system, batch=16,
                                      options=opts(inputs, "llama2_13b"))
    low_end, high_end = band.one_at_a_time["host_kv_on_gpu"]
    assert low_end > high_end == band.default
    assert band.low <= band.default < low_end <= band.high
