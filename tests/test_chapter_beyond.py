"""Tests of hermes_model.chapters.beyond: the sentences and tables of ``book/beyond.ipynb``.

Real numbers are recomputed through `hermes_model.whatif` and the specs; each text branch is
driven by a small synthetic frame and its exact sentence asserted.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import io, policies, shapes, sparsity, whatif
from hermes_model.chapters import beyond
from hermes_model.plotting import rounded
from hermes_model.policies import Activity

NAN = math.nan
SLUGS = ("llama2_70b", "llama3_8b", "llama3_70b")


@pytest.fixture(scope="module")
def loaded():
    """The chapter's setup at its defaults (paper system, LLaMA2-70B, LLaMA3-8B/70B)."""
    models = {s: hm.load_model(s) for s in SLUGS}
    inputs, published = io.load_generator_inputs(), io.load_published_sparsity()
    smollm2 = io.load_activation_summary("smollm2")
    acts, prov = beyond.activities(models, inputs, published, smollm2)
    system_for = functools.partial(io.load_system, "hermes_paper", "paper")
    kw = {"system_for": system_for, "models": models, "activities": acts}
    return SimpleNamespace(models=models, inputs=inputs, smollm2=smollm2, acts=acts, prov=prov,
                           kw=kw, system_for=system_for)


def hermes_tokens(kw, case, options=()):
    e = whatif.evaluate(case, options=options, **kw).set_index("policy")
    return e["tokens_per_s"]


# ---------------------------------------------------------------------------------------------
# words, parameters, setup
# ---------------------------------------------------------------------------------------------


def test_change_txt_every_branch():
    assert beyond.change_txt(0.314) == "speeds it up by 31 %"
    assert beyond.change_txt(-0.2) == "slows it down by 20 %"
    assert beyond.change_txt(0.004) == "does not change it"
    assert beyond.change_txt(NAN) == "makes it N.P. (it cannot run)"
    assert beyond.change_txt(0.5, beyond.VERBS_PLURAL) == "speed it up by 50 %"


def test_named_uses_display_names():
    df = pd.DataFrame([[1.0, 2.0, 3.0]], columns=pd.Index(["hermes", "gpu-only", "x"],
                                                          name="policy"))
    out = beyond.named(df)
    assert list(out.columns) == ["Hermes", "GPU only", "x"]
    assert out.columns.name == "system"


def test_checked_parameters():
    swiglu = {"llama3_8b": 8_030_261_248, "llama3_70b": 70_553_706_496,
              "llama2_70b": 68_976_648_192}
    p = beyond.checked_parameters("llama2_70b", "llama3_8b", "llama3_70b", 1.0, " Paper ", 64,
                                  swiglu_models=swiglu)
    assert p == beyond.Parameters(1, "paper", 64, True)
    assert isinstance(p.batch, int)
    p = beyond.checked_parameters("llama2_70b", "llama3_8b", "llama3_70b", 2, "paper", 64,
                                  swiglu_models=swiglu)
    assert not p.paper_config
    with pytest.raises(ValueError, match="'small_model': must differ from large_model"):
        beyond.checked_parameters("opt_13b", "llama3_8b", "llama3_8b", 1, "paper", 8,
                                  swiglu_models=swiglu)
    with pytest.raises(ValueError, match="SwiGLU checkpoint"):
        beyond.checked_parameters("opt_13b", "opt_13b", "llama3_8b", 1, "paper", 8,
                                  swiglu_models=swiglu)
    with pytest.raises(ValueError, match="'batch': must be a positive integer up to 512"):
        beyond.checked_parameters("opt_13b", "llama3_8b", "llama3_70b", 513, "paper", 8,
                                  swiglu_models=swiglu)


def test_checked_parameters_refuse_a_large_model_not_larger_than_the_small_one(loaded):
    sizes = beyond.swiglu_sizes({s: hm.load_model(s) for s in io.model_slugs()})
    assert set(sizes) == {"llama2_7b", "llama2_13b", "llama2_70b", "llama3_8b", "llama3_70b"}
    assert sizes["llama3_8b"] == shapes.parameter_count(loaded.models["llama3_8b"])
    with pytest.raises(ValueError) as err:  # the reviewer's beyC: a 13B "small" and an 8B "large"
        beyond.checked_parameters("opt_13b", "llama2_13b", "llama3_8b", 64, "paper", 8,
                                  swiglu_models=sizes)
    assert str(err.value) == (
        "parameter 'large_model': must have more parameters than small_model ('llama2_13b', "
        "13.0 B), got 'llama3_8b' (8.0 B); allowed here: one of llama2_70b, llama3_70b")
    with pytest.raises(ValueError) as err:  # beyD: LLaMA3-70B (70.6 B) over LLaMA2-70B (69.0 B)
        beyond.checked_parameters("falcon_40b", "llama3_70b", "llama2_70b", 2, "datasheet", 512,
                                  swiglu_models=sizes)
    assert str(err.value) == (
        "parameter 'large_model': must have more parameters than small_model ('llama3_70b', "
        "70.6 B), got 'llama2_70b' (69.0 B); allowed here: none: no SwiGLU model is larger, so "
        "choose a smaller small_model")
    p = beyond.checked_parameters("opt_13b", "llama2_70b", "llama3_70b", 1, "paper", 8,
                                  swiglu_models=sizes)  # 69.0 B < 70.6 B: accepted
    assert p.batch == 1


def test_activities_relu_for_all_swiglu_only_for_swiglu_checkpoints(loaded):
    models = {**loaded.models, "opt_13b": hm.load_model("opt_13b")}
    acts, prov = beyond.activities(models, loaded.inputs, io.load_published_sparsity(),
                                   loaded.smollm2)
    for s in models:
        assert acts[(s, "relu")] == policies.activity_from_inputs(loaded.inputs[s])
        assert prov[(s, "relu")]["mlp_density"] == str(loaded.inputs[s]["mlp_density_provenance"])
    assert ("opt_13b", "swiglu") not in acts
    assert {k for k in acts if k[1] == "swiglu"} == {(s, "swiglu") for s in SLUGS}
    # SwiGLU is far less sparse than the ReLU-fied reading
    assert acts[("llama3_70b", "swiglu")].mlp_density > acts[("llama3_70b", "relu")].mlp_density
    # no activation precedes QKV in a SwiGLU checkpoint: QKV dense (every neuron equally
    # frequent), the MLP's statistics otherwise those of the sparsity chapter's targets
    for s in SLUGS:
        sw, m = acts[(s, "swiglu")], models[s]
        assert (sw.qkv_density, sw.qkv_hot_share) == (0.999, pytest.approx(0.8))
        t = sparsity.model_targets(s, shapes.qkv_neurons_per_layer(m),
                                   shapes.mlp_neurons_per_layer(m), "swiglu", "swiglu",
                                   loaded.inputs, io.load_published_sparsity(), loaded.smollm2)
        whole = whatif.activity_from_targets(t, "swiglu option")
        assert sw == dataclasses.replace(whole, qkv_density=0.999, qkv_hot_share=sw.qkv_hot_share)
        assert prov[(s, "swiglu")]["qkv_density"].startswith("assumed: dense (0.999")
        assert prov[(s, "swiglu")]["mlp_density"] == t.provenance["mlp_density"]
    # PowerInfer's LLaMA2(SwiGLU)-70B hot share is LLaMA2-70B's own (published), another
    # model's for LLaMA3-70B (borrowed)
    assert prov[("llama2_70b", "swiglu")]["hot_share_80"] == (
        "published: LLaMA2(SwiGLU)-70B hot share")
    assert prov[("llama3_70b", "swiglu")]["hot_share_80"] == (
        "borrowed: published LLaMA2(SwiGLU)-70B hot share")
    assert prov[("llama2_70b", "swiglu")]["mlp_density"].startswith("borrowed: published "
                                                                     "LLaMA2-13B")


def test_check_batch_refuses_a_batch_hermes_cannot_run(loaded):
    beyond.check_batch(1, **loaded.kw)
    kw = {**loaded.kw, "system_for": functools.partial(loaded.system_for, n_dimms=1)}
    with pytest.raises(ValueError, match=r"parameter 'batch': Hermes cannot run LLaMA2-70B"):
        beyond.check_batch(64, **kw)


# ---------------------------------------------------------------------------------------------
# one change at a time
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_real(loaded):
    base = whatif.Case(model="llama2_70b")
    changes = beyond.changes("llama3_70b", loaded.models)
    one = whatif.run(base, changes, **loaded.kw)
    res = beyond.one_change(one, changes, model="llama2_70b", large_model="llama3_70b",
                            models=loaded.models, batch=1, provenance=loaded.prov,
                            system_for=loaded.system_for)
    return base, changes, res


def test_changes_are_one_input_each(loaded, one_real):
    base, changes, _ = one_real
    assert [c.label for c in changes][-1] == "LLaMA3-70B (ReLU-fied)"
    assert all(len(whatif.changed_inputs(base, c)) == 1 for c in changes)


def test_one_change_gains_and_pools_recomputed(loaded, one_real):
    _, _, res = one_real
    kw = loaded.kw
    before = hermes_tokens(kw, whatif.Case(model="llama2_70b"))["hermes"]
    ddr5 = hermes_tokens(kw, whatif.Case(model="llama2_70b",
                                         system=(("dimm", "ddr5_4800_ndp"),)))["hermes"]
    assert res.glue["gain_ddr5_pct"] == rounded(100 * (ddr5 / before - 1))
    assert res.glue["gain_ddr5_txt"] == beyond.change_txt(ddr5 / before - 1, beyond.VERBS_PLURAL)
    l3 = hermes_tokens(kw, whatif.Case(model="llama3_70b"))["hermes"]
    assert res.glue["gain_l3_pct"] == rounded(100 * (l3 / before - 1))
    assert "gain_l3_txt" not in res.glue
    for key, slug in {"ddr4": "ddr4_3200_ndp", "ddr5": "ddr5_4800_ndp"}.items():
        pool = loaded.system_for(dimm=slug).dimm_pool_bandwidth_bytes_per_s
        assert res.glue[f"pool_{key}_GBps"] == rounded(pool / 1e9)
    assert res.glue["model_name"] == loaded.models["llama2_70b"].name
    assert res.glue["one_batch"] == 1
    assert res.table.loc["baseline", "hermes"] == pytest.approx(before, rel=1e-12)
    assert list(res.display.columns)[-2:] == ["Hermes / Hermes-host", "Hermes vs baseline"]
    assert res.display.index.name == "what-if"


def _one(hermes_host: dict[str, float], *, l3_gain: float = 0.0) -> pd.DataFrame:
    """A synthetic ``whatif.run`` frame: Hermes at 10 tokens/s everywhere but the model
    what-if, Hermes-host at 10 / hermes_host[label] (NaN: cannot run), GPU only N.P."""
    labels = ["baseline", *beyond.PART_LABELS.values(), "X (ReLU-fied)"]
    rows = []
    for label in labels:
        herm = 10.0 * (1 + l3_gain) if label == "X (ReLU-fied)" else 10.0
        ratio = hermes_host.get(label, 2.0)
        for pol, tps in (("hermes", herm), ("hermes-host", 10.0 / ratio), ("gpu-only", NAN)):
            rows.append({"label": label, "policy": pol, "tokens_per_s": tps,
                         "supported": not math.isnan(tps)})
    df = pd.DataFrame(rows)
    base = df[df["label"] == "baseline"].set_index("policy")["tokens_per_s"]
    return df.assign(vs_baseline=df["tokens_per_s"] / df["policy"].map(base))


def _one_change(one, model="llama2_70b", large="llama3_70b", models=None, prov=None):
    changes = [whatif.WhatIf(label=x, parameter="batch", value=2)
               for x in [*beyond.PART_LABELS.values(), "X (ReLU-fied)"]]
    pool = SimpleNamespace(dimm_pool_bandwidth_bytes_per_s=1.5e11)
    models = models or {s: hm.load_model(s) for s in SLUGS}
    prov = prov or {("llama3_70b", "relu"): {"mlp_density": "borrowed from LLaMA2"}}
    return beyond.one_change(one, changes, model=model, large_model=large, models=models,
                             batch=4, provenance=prov, system_for=lambda **_: pool)


def test_one_change_text_branches():
    g = _one_change(_one({"baseline": 3.0, "H100 PCIe 80 GB": 1.5}, l3_gain=0.25)).glue
    assert g["hh_txt"] == ("A bigger, faster GPU helps both hybrids; Hermes' lead over "
                           "Hermes-host shrinks from 3.0× to 1.5× on the H100, whose 80 GB hold "
                           "most of the hot weights, so that less work is left for the host")
    assert g["l3_txt"] == ("LLaMA3-70B (with borrowed ReLU-fied statistics) runs 25 % faster "
                           "than LLaMA2-70B")
    assert g["gain_ddr5_txt"] == "do not change it"
    assert g["gain_h100_txt"] == "does not change it"
    assert g["pool_ddr4_GBps"] == 150.0
    g = _one_change(_one({"baseline": 1.5, "H100 PCIe 80 GB": 3.0}, l3_gain=-0.002),
                    prov={("llama3_70b", "relu"): {"mlp_density": "PowerInfer"}}).glue
    assert g["hh_txt"] == ("Hermes runs 1.5× as fast as Hermes-host on the paper's system and "
                           "3.0× on the H100")
    assert g["l3_txt"] == ("LLaMA3-70B (with its published ReLU-fied statistics) runs as fast as "
                           "LLaMA2-70B")
    g = _one_change(_one({"baseline": NAN})).glue
    assert g["hh_txt"] == ("Hermes-host cannot run LLaMA2-70B (ReLU-fied, ReGLU) at batch 4 on "
                           "the paper's system (N.P.)")
    g = _one_change(_one({"H100 PCIe 80 GB": NAN}), model="llama3_70b").glue
    assert g["hh_txt"] == "Hermes-host cannot run LLaMA3-70B at batch 4 on the H100 (N.P.)"
    assert g["l3_txt"] == "LLaMA3-70B is the model of the table, so its what-if changes nothing"


def test_whatif_figure_shows_display_names():
    one = pd.DataFrame({"label": ["baseline", "baseline", "x"],
                        "policy": ["hermes", "hermes-host", "hermes"],
                        "tokens_per_s": [10.0, 5.0, 12.0]})
    d = beyond.whatif_figure(one).to_dict()
    rows = next(iter(d["datasets"].values()))
    assert [(r["label"], r["policy"]) for r in rows] == [
        ("baseline", "Hermes"), ("baseline", "Hermes-host"), ("x", "Hermes")]
    enc = d["encoding"]
    assert enc["color"]["scale"]["domain"] == enc["color"]["sort"] == ["Hermes", "Hermes-host"]
    assert enc["yOffset"]["sort"] == ["Hermes", "Hermes-host"]
    assert enc["tooltip"][1]["title"] == "system"


def test_one_change_marks_np_cells():
    res = _one_change(_one({"RTX 5090": NAN}))
    row = res.display.loc["RTX 5090"]
    assert row["Hermes-host"] == "N.P." and row["Hermes / Hermes-host"] == "N.P."
    assert row["Hermes"] == "10.00" and row["Hermes vs baseline"] == "1.000"
    assert res.display.loc["baseline", "Hermes / Hermes-host"] == "2.00"


# ---------------------------------------------------------------------------------------------
# PCIe 5.0
# ---------------------------------------------------------------------------------------------


def _link(prefill5: float, host5: float) -> pd.DataFrame:
    rows = [("baseline", "hermes", 10.0, 1.0, 2.0), ("baseline", "hermes-host", 5.0, 1.0, 3.0),
            ("PCIe 5.0 link", "hermes", 12.0, 1.2, prefill5),
            ("PCIe 5.0 link", "hermes-host", 5.0 * host5, host5,
             NAN if math.isnan(host5) else 3.0)]
    df = pd.DataFrame(rows, columns=["label", "policy", "tokens_per_s", "vs_baseline",
                                     "prefill_s"])
    return df.assign(supported=df["tokens_per_s"].notna())


def test_pcie5_link_branches():
    p = beyond.pcie5_link(_link(1.0, 1.001), batch=2)
    assert p.glue == {"pcie5_5090_pct": 20.0, "pcie5_5090_txt": "speeds Hermes up by 20 %",
                      "pcie5_hh_txt": "does not move", "pcie5_prefill_s": 1.0,
                      "pcie4_prefill_s": 2.0,
                      "prefill_txt": "prefill, which streams the cold weights over the link, "
                                     "falls from 2.00 s to 1.00 s"}
    p = beyond.pcie5_link(_link(1.996, 1.1), batch=2)
    assert p.glue["pcie5_hh_txt"] == "changes by 10 %"
    assert p.glue["prefill_txt"] == "prefill takes 2.00 s on either link"
    p = beyond.pcie5_link(_link(1.0, NAN), batch=2)
    assert p.glue["pcie5_hh_txt"] == "cannot run at batch 2 (N.P.)"
    assert list(p.table.columns) == ["link", "system", "tokens/s", "vs PCIe 4.0", "prefill (s)"]
    host5 = p.table.iloc[3]
    assert (host5["link"], host5["system"], host5["tokens/s"]) == ("PCIe 5.0 link",
                                                                  "Hermes-host", "N.P.")
    assert p.table.iloc[0]["link"] == "PCIe 4.0 link"


# ---------------------------------------------------------------------------------------------
# SwiGLU
# ---------------------------------------------------------------------------------------------


SW = Activity(mlp_density=0.4, mlp_hot_share=0.5, qkv_density=0.4, qkv_hot_share=0.5,
              similarity_d1=0.7, similarity_d10=0.6, similarity_d25=0.55)
SMOL = {"mean_over_layers": {"density": 0.123456}}
PROV = {"mlp_density": "PowerInfer", "similarity_d1": "SmolLM2, density target 0.35 run"}


def _act(name: str, relu_tps: float, swiglu_tps: float, host: tuple[float, float]):
    rows = []
    for stats, tps, over in (("ReLU-fied", relu_tps, host[0]), ("SwiGLU", swiglu_tps, host[1])):
        rows += [{"model": name, "statistics": stats, "policy": "hermes", "tokens_per_s": tps,
                  "hermes_over": 1.0, "supported": True},
                 {"model": name, "statistics": stats, "policy": "hermes-host",
                  "tokens_per_s": tps / over, "hermes_over": over,
                  "supported": not math.isnan(over)},
                 {"model": name, "statistics": stats, "policy": "gpu-only",
                  "tokens_per_s": NAN, "hermes_over": NAN, "supported": False}]
    return pd.DataFrame(rows)


def test_swiglu_text_branches():
    large = hm.load_model("llama3_70b")
    s = beyond.swiglu(_act(large.name, 10.0, 6.0, (2.0, 3.0)), SW, large, 1, provenance=PROV,
                      smollm2=SMOL)
    assert s.glue["sw_txt"] == ("LLaMA3-70B loses 40 % of its Hermes throughput against the "
                                "ReLU-fied reading, yet Hermes still runs it 3.0× faster than "
                                "Hermes-host: the host's two channels fall further behind the "
                                "DIMM pool when more cold bytes are read per token")
    assert (s.sw_drop, s.sw_hh, s.sw_ref) == (40.0, 3.0, 0.35)
    assert s.glue["sw_ref_quantile_pct"] == 65.0 and s.glue["smol_main_density"] == 0.1235
    assert (s.glue["sw_density"], s.glue["sw_hot"], s.glue["sw_s1"]) == (0.4, 0.5, 0.7)
    s = beyond.swiglu(_act(large.name, 10.0, 12.0, (3.0, 2.0)), SW, large, 1, provenance=PROV,
                      smollm2=SMOL)
    assert s.glue["sw_txt"] == ("LLaMA3-70B gains 20 % of its Hermes throughput against the "
                                "ReLU-fied reading; Hermes runs it 2.0× as fast as Hermes-host "
                                "(against 3.0× with the ReLU-fied statistics)")
    s = beyond.swiglu(_act(large.name, 10.0, 10.01, (3.0, NAN)), SW, large, 8, provenance=PROV,
                      smollm2=SMOL)
    assert s.loses == ("Hermes runs LLaMA3-70B as fast with SwiGLU statistics as with the "
                       "ReLU-fied ones")
    assert s.glue["sw_txt"] == s.loses + "; Hermes-host cannot run it at batch 8 (N.P.)"
    assert s.table.loc[(large.name, "SwiGLU"), "Hermes-host"] == "N.P."
    assert list(s.sources["statistic"]) == ["mlp_density", "similarity_d1"]
    with pytest.raises(ValueError, match="density target"):
        beyond.swiglu(_act(large.name, 10.0, 6.0, (2.0, 3.0)), SW, large, 1,
                      provenance={"similarity_d1": "elsewhere"}, smollm2=SMOL)


def test_activation_runs_recomputed(loaded):
    act = beyond.activation_runs(["llama3_8b"], 1, **loaded.kw)
    relu = hermes_tokens(loaded.kw, whatif.Case(model="llama3_8b"))
    sw = hermes_tokens(loaded.kw, whatif.Case(model="llama3_8b", activation="swiglu"))
    got = act.set_index(["statistics", "policy"])
    assert list(act["statistics"].unique()) == ["ReLU-fied", "SwiGLU"]
    assert set(act["model"]) == {"LLaMA3-8B"}
    for stats, t in (("ReLU-fied", relu), ("SwiGLU", sw)):
        assert got.loc[(stats, "hermes"), "tokens_per_s"] == t["hermes"]
        assert got.loc[(stats, "hermes-host"), "hermes_over"] == pytest.approx(
            t["hermes"] / t["hermes-host"], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# batch trade-off
# ---------------------------------------------------------------------------------------------


def test_batches():
    assert beyond.batches(64) == [1, 2, 4, 8, 16, 32, 64]
    assert beyond.batches(3) == [1, 2, 3]
    assert beyond.batches(1) == [1]
    assert beyond.batches(512)[-2:] == [256, 512]


def _curves(hermes: list[float]) -> pd.DataFrame:
    rows = []
    for a in ("relu", "swiglu"):
        for i, b in enumerate((1, 2, 4)):
            rows += [{"activation": a, "policy": "hermes", "batch": b, "tokens_per_s": hermes[i],
                      "step_ms": float(b), "supported": True},
                     {"activation": a, "policy": "gpu-only", "batch": b,
                      "tokens_per_s": 10.0 * b if b < 4 else NAN, "step_ms": 2.0 * b,
                      "supported": b < 4}]
    return pd.DataFrame(rows)


def test_tradeoff_text_and_table():
    t = beyond.tradeoff(_curves([1.0, 2.0, 3.0]), "M")
    assert t.glue["batching_txt"] == ("Batching raises throughput and lengthens every "
                                      "sequence's decode step")
    assert t.glue["small_name"] == "M"
    # the x axis is the step of the batch, not a time per token
    x = t.glue["fig_tradeoff"].to_dict()["layer"][0]["encoding"]["x"]
    assert x["title"] == "decode step (ms)"
    t = beyond.tradeoff(_curves([1.0, 3.0, 2.0]), "M")
    assert t.glue["batching_txt"] == (
        "Batching lengthens every sequence's decode step but raises throughput only up to a "
        "point: with M, Hermes (ReLU-fied) peaks at batch 2, Hermes (SwiGLU) peaks at batch 2")
    assert len(t.curves) == 10 and "supported" not in t.curves
    assert t.table.loc[("SwiGLU", 4), "GPU only"] == "N.P."
    assert t.table.loc[("ReLU-fied", 2), "Hermes"] == "3.0"
    assert t.wide.loc[("relu", 4), "hermes"] == 2.0


# ---------------------------------------------------------------------------------------------
# break-even
# ---------------------------------------------------------------------------------------------


def test_sweeps_recomputed(loaded):
    kw = loaded.kw
    batch_list = [1, 64, 256]
    curves = beyond.batch_curves("llama3_8b", batch_list, **kw)
    wide = beyond.tradeoff(curves, "x").wide
    res = beyond.sweeps(wide, batch_list, "llama3_8b", "llama3_70b", 4, **kw)
    # the batch sweep at 64 with SwiGLU statistics: the step in ms and Hermes' speedup
    e = whatif.evaluate(whatif.Case(model="llama3_8b", activation="swiglu", batch=64),
                        **kw).set_index("policy")
    at64 = curves[(curves.activation == "swiglu") & (curves.batch == 64)].set_index("policy")
    np.testing.assert_allclose(at64.loc[e.index, "step_ms"], e["decode_step_s"] * 1e3,
                               rtol=1e-12)
    assert 0 < e.loc["hermes", "decode_step_s"] < 1  # a decode step of ms, not of seconds
    for alt in ("gpu-only", "hermes-host"):
        assert res.ratio[("batch", "swiglu", alt)][1] == pytest.approx(
            e.loc["hermes", "tokens_per_s"] / e.loc[alt, "tokens_per_s"], rel=1e-12)
    assert list(res.breakeven) == [
        ("batch", "relu", "gpu-only"), ("batch", "relu", "hermes-host"),
        ("batch", "swiglu", "gpu-only"), ("batch", "swiglu", "hermes-host"),
        ("density", "llama3_8b", "gpu-only"), ("density", "llama3_8b", "hermes-host"),
        ("density", "llama3_70b", "gpu-only"), ("density", "llama3_70b", "hermes-host"),
        ("n_dimms", "llama3_8b", "gpu-only"), ("n_dimms", "llama3_8b", "hermes-host")]
    t = hermes_tokens(kw, whatif.Case(model="llama3_70b", batch=4), options=(("density", 0.3),))
    assert res.ratio[("density", "llama3_70b", "hermes-host")][3] == pytest.approx(
        t["hermes"] / t["hermes-host"], rel=1e-12)
    # at batch 4 Hermes-host wins with 1 NDP-DIMM and loses from 2 on: the DIMM sweep's
    # break-even lies between, interpolated in log ratio
    r1, r2 = (hermes_tokens(kw, whatif.Case(model="llama3_8b", activation="swiglu", batch=4,
                                            system=(("n_dimms", n),))) for n in (1, 2))
    y1, y2 = math.log(r1["hermes"] / r1["hermes-host"]), math.log(r2["hermes"] / r2["hermes-host"])
    assert y1 < 0 < y2
    assert res.breakeven[("n_dimms", "llama3_8b", "hermes-host")] == pytest.approx(
        2 - y2 / (y2 - y1), rel=1e-12)
    assert np.isnan(res.breakeven[("n_dimms", "llama3_8b", "gpu-only")])  # ahead throughout
    assert (res.ratio[("n_dimms", "llama3_8b", "gpu-only")] > 1).all()
    assert not res.large_fits  # LLaMA3-70B does not fit one GPU
    assert res.batches == batch_list


def _res(be: dict, ratio: dict, large_fits: bool = False,
         alt_tokens: dict | None = None) -> beyond.BreakEven:
    keys = [("batch", "relu", "gpu-only"), ("batch", "relu", "hermes-host"),
            ("batch", "swiglu", "gpu-only"), ("batch", "swiglu", "hermes-host"),
            ("density", "s", "gpu-only"), ("density", "s", "hermes-host"),
            ("density", "l", "gpu-only"), ("density", "l", "hermes-host"),
            ("n_dimms", "s", "gpu-only"), ("n_dimms", "s", "hermes-host")]
    ratios = {k: np.asarray(ratio.get(k, [2.0, 1.5])) for k in keys}
    alt_tokens = alt_tokens or {}
    return beyond.BreakEven({k: be.get(k, NAN) for k in keys}, ratios,
                            [1, 8, 64], [0.05, 0.5, 0.9], [1, 2, 4, 8], large_fits,
                            {k: np.asarray(alt_tokens.get(k, np.ones_like(r))) for k, r in
                             ratios.items()})


@pytest.fixture(scope="module")
def toy_models():
    return {"m": hm.load_model("llama2_70b"), "s": hm.load_model("llama3_8b"),
            "l": hm.load_model("llama3_70b")}


def _glue(res, toy_models, table=None, sg=None):
    table = table if table is not None else pd.DataFrame(
        {"hermes / hermes-host": 2.0}, index=list(beyond.SUMMARY_PARTS))
    sg = sg or beyond.Swiglu({}, 40.0, 3.0, "L loses 40 %", 0.35, pd.DataFrame(), pd.DataFrame())
    return beyond.breakeven_glue(res, table=table, sg=sg, models=toy_models, model="m",
                                 small_model="s", large_model="l", batch=2)


def test_breakeven_glue_nothing_crossed(toy_models):
    g = _glue(_res({}, {("density", "l", "hermes-host"): [NAN, 1.234, 3.0]}), toy_models)
    assert g["be_batch_relu"] == "no batch up to 64"
    assert g["be_dimm_gpu"] == "Hermes beats the GPU alone with as few as 1 NDP-DIMM"
    assert g["hh_verdict"] == "Hermes stays ahead at every point of every sweep"
    assert g["summary_hh_txt"] == "; Hermes-host does not overtake it in these sweeps"
    assert g["min_hh_density"] == 1.234
    assert g["min_hh_txt"] == "its smallest lead over the density sweep of LLaMA3-70B is 1.23×"
    assert g["large_fit_txt"] == ("A model that does not fit the GPU (70B) cannot run as GPU "
                                  "only on one card")
    assert g["summary_parts_txt"] == ("Hermes' idea survives newer parts: DDR5 NDP-DIMMs, a "
                                      "faster GPU and more DIMMs all keep it ahead of a host-CPU "
                                      "design")
    assert g["summary_sw_txt"] == ("Weak SwiGLU sparsity costs LLaMA3-70B a large share of its "
                                   "throughput but leaves Hermes well ahead of Hermes-host")
    assert g["summary_be_txt"] == ("the model fits the GPU, yet reading every weight on the GPU "
                                   "does not overtake Hermes at any batch up to 64 for LLaMA3-8B "
                                   "with SwiGLU statistics")


def test_breakeven_glue_batch_crossings(toy_models):
    be = {("batch", "relu", "gpu-only"): 3.14159, ("batch", "swiglu", "gpu-only"): 12.3,
          ("batch", "swiglu", "hermes-host"): 41.6, ("n_dimms", "s", "gpu-only"): 3.456}
    g = _glue(_res(be, {}, large_fits=True), toy_models)
    assert g["be_batch_relu"] == "a batch of about 3.1"
    assert g["be_dimm_gpu"] == "Hermes needs more than about 3.5 NDP-DIMMs to beat the GPU alone"
    assert g["hh_verdict"].startswith("Hermes falls behind in the batch sweep of LLaMA3-8B, "
                                      "SwiGLU (from a batch of about 42): at such batches")
    assert g["summary_hh_txt"] == ("; Hermes-host, which keeps attention and the projection on "
                                   "the GPU, overtakes it from a batch of about 42 with the same "
                                   "statistics")
    assert g["gpu_only_txt"] == (
        "(the model fits one GPU): with LLaMA3-8B on the paper's system, Hermes wins at batch 1 "
        "because the GPU reads only the active hot neurons while the DIMMs "
        "take the cold ones; GPU only overtakes it at a batch of about 3.1 with ReLU-fied "
        "statistics and at a batch of about 12 with SwiGLU's. With SwiGLU statistics at batch 2, "
        "Hermes needs more than about 3.5 NDP-DIMMs to beat the GPU alone")
    assert g["large_fit_txt"] == "LLaMA3-70B fits one GPU, so GPU only is an alternative for it too"
    assert g["summary_be_txt"] == ("once the model fits the GPU and the batch grows, reading every weight on the GPU wins ("
                                   "a batch of about 12 for LLaMA3-8B with SwiGLU statistics)")


def test_breakeven_glue_other_crossings_and_small_not_fitting(toy_models):
    nan2 = [NAN, NAN]
    be = {("density", "s", "hermes-host"): 0.4567, ("n_dimms", "s", "hermes-host"): 3.25}
    ratio = {("batch", "relu", "gpu-only"): nan2, ("n_dimms", "s", "gpu-only"): nan2,
             ("density", "l", "hermes-host"): [0.9, 1.5]}
    table = pd.DataFrame({"hermes / hermes-host": [0.9, 2.0, 1.0, 3.0]},
                         index=list(beyond.SUMMARY_PARTS))
    sg = beyond.Swiglu({}, 10.0, NAN, "L loses 10 %", 0.35, pd.DataFrame(), pd.DataFrame())
    g = _glue(_res(be, ratio), toy_models, table=table, sg=sg)
    assert g["be_dimm_gpu"] == "GPU only cannot run it"
    assert g["hh_verdict"] == ("Hermes falls behind in the density sweep of LLaMA3-8B (from a "
                               "density of about 0.46) and the NDP-DIMMs sweep of LLaMA3-8B, "
                               "SwiGLU (below about 3.2 DIMMs)")
    # behind already with the most DIMMs of the sweep
    g8 = _glue(_res({("n_dimms", "s", "hermes-host"): 8.0}, ratio), toy_models)
    assert g8["hh_verdict"] == ("Hermes falls behind in the NDP-DIMMs sweep of LLaMA3-8B, SwiGLU "
                               "(at 8 DIMMs and fewer)")
    assert g["min_hh_txt"] == "over the density sweep of LLaMA3-70B its speedup falls to 0.90×"
    assert g["gpu_only_txt"] == ("(LLaMA3-8B does not fit one GPU): GPU only cannot run "
                                 "LLaMA3-8B, so its batch and DIMM sweeps have no break-even "
                                 "point against GPU only")
    assert g["summary_parts_txt"] == ("Hermes falls behind a host-CPU design with DDR5 NDP-DIMMs "
                                      "and an H100 PCIe (LLaMA2-70B (ReLU-fied, ReGLU), batch 2)")
    assert g["summary_sw_txt"] == "L loses 10 %; Hermes-host cannot run it at batch 2"
    assert g["summary_be_txt"] == ("GPU only needs the model to fit one GPU, and LLaMA3-8B does "
                                   "not, so it has no break-even point")
    g = _glue(_res({}, {("density", "l", "hermes-host"): nan2}), toy_models, sg=beyond.Swiglu(
        {}, 10.0, 1.5, "L loses 10 %", 0.35, pd.DataFrame(), pd.DataFrame()))
    assert g["min_hh_txt"] == "Hermes-host cannot run LLaMA3-70B at batch 2 (N.P.)"
    assert g["summary_sw_txt"] == "L loses 10 %; Hermes runs it 1.5× as fast as Hermes-host"


def test_breakeven_table(toy_models):
    be = {("batch", "relu", "gpu-only"): 12.345, ("density", "s", "hermes-host"): 0.4567,
          ("n_dimms", "s", "gpu-only"): 3.25}
    ratio = {("batch", "swiglu", "gpu-only"): [NAN, NAN],
             ("density", "l", "gpu-only"): [NAN, 0.8, 0.5],
             ("n_dimms", "s", "hermes-host"): [3.0, NAN]}
    t = beyond.breakeven_table(_res(be, ratio), toy_models, "s").set_index(["sweep", "case",
                                                                           "against"])
    col = t["break-even"]
    assert col[("batch", "LLaMA3-8B, ReLU-fied", "GPU only")] == "batch 12"
    assert col[("batch", "LLaMA3-8B, ReLU-fied", "Hermes-host")] == ("none: Hermes ahead over "
                                                                     "batches 1 to 64")
    assert col[("batch", "LLaMA3-8B, SwiGLU", "GPU only")] == "none: the model does not fit one GPU"
    assert col[("density", "LLaMA3-8B", "Hermes-host")] == "density 0.46"
    assert col[("density", "LLaMA3-70B", "GPU only")] == ("none: Hermes behind over densities "
                                                          "0.05 to 0.9")
    assert col[("NDP-DIMMs", "LLaMA3-8B, SwiGLU", "GPU only")] == "3.2 DIMMs"
    assert col[("NDP-DIMMs", "LLaMA3-8B, SwiGLU", "Hermes-host")] == ("none: Hermes ahead over 1 "
                                                                      "to 8 DIMMs")
    assert len(t) == 10


def test_reversal_every_kind():
    k = ("batch", "relu", "hermes-host")
    res = _res({}, {k: [2.0, 0.8, 5.0]}, alt_tokens={k: [10.0, 100.0, 20.0]})
    assert beyond.reversal(k, res) == beyond.Reversal(8.0, 64.0, "ahead", 5.0, 20.0, True)
    res = _res({}, {k: [2.0, 0.8, NAN]}, alt_tokens={k: [10.0, 100.0, NAN]})
    assert beyond.reversal(k, res).kind == "alt"
    res = _res({}, {k: [2.0, 0.8, NAN]}, alt_tokens={k: [10.0, 100.0, 150.0]})
    assert beyond.reversal(k, res).kind == "hermes"
    assert beyond.reversal(k, _res({}, {k: [2.0, 0.8, 0.5]})) is None  # behind to the end
    assert beyond.reversal(k, _res({}, {k: [2.0, 1.5, 1.2]})) is None  # never behind
    # DIMM counts are scanned from the most down: behind at 4 and 2, ahead again at 1
    d = ("n_dimms", "s", "gpu-only")
    rev = beyond.reversal(d, _res({}, {d: [3.0, 0.9, 0.8, 1.5]}))
    assert (rev.last, rev.at, rev.kind, rev.speedup) == (2.0, 1.0, "ahead", 3.0)


def _beyB() -> beyond.BreakEven:
    """The reviewer's beyB batch sweep (LLaMA2-7B, batches 16 to 128; tokens/s of Hermes,
    Hermes-host and GPU only as its trade-off table prints them): Hermes falls behind both
    alternatives past batch 16 and leads again at batch 128, where Hermes-host collapses and GPU
    only cannot run."""
    batches = [16, 32, 64, 128]
    tok = {"relu": ([866.4, 1296.8, 1878.6, 2520.2], [823.5, 1322.1, 2006.5, 80.1],
                    [735.1, 1297.3, 2100.8, NAN]),
           "swiglu": ([775.9, 1230.1, 1840.1, 2503.8], [754.5, 1271.7, 1979.0, 78.4],
                      [735.1, 1297.3, 2100.8, NAN])}
    base = _res({}, {})
    be, ratio, alt_t = dict(base.breakeven), dict(base.ratio), dict(base.alt_tokens)
    for a, (h, hh, go) in tok.items():
        for alt, t in (("hermes-host", hh), ("gpu-only", go)):
            k = ("batch", a, alt)
            ratio[k] = np.asarray(h) / np.asarray(t)
            alt_t[k] = np.asarray(t)
            be[k] = whatif.crossing(batches, ratio[k])
    return dataclasses.replace(base, breakeven=be, ratio=ratio, alt_tokens=alt_t,
                               batches=batches)


def test_breakeven_glue_reversal_inside_the_batch_sweep(toy_models):
    res = _beyB()
    g = _glue(res, toy_models)
    assert g["hh_verdict"].startswith(
        "Hermes falls behind in the batch sweep of LLaMA3-8B, ReLU-fied (from a batch of about 28 "
        "up to batch 64, then Hermes leads again at batch 128 by 31.5×, Hermes-host falling to "
        "80.1 tokens/s) and the batch sweep of LLaMA3-8B, SwiGLU (from a batch of about 23 up to "
        "batch 64, then Hermes leads again at batch 128 by 31.9×, Hermes-host falling to 78.4 "
        "tokens/s): at such batches")
    assert g["summary_hh_txt"] == (
        "; Hermes-host, which keeps attention and the projection on the GPU, overtakes it from a "
        "batch of about 23 with the same statistics (up to batch 64; then Hermes leads again at "
        "batch 128 by 31.9×, Hermes-host falling to 78.4 tokens/s)")
    assert g["gpu_only_txt"].endswith(
        "GPU only overtakes it at a batch of about 32 with ReLU-fied statistics and at a batch of "
        "about 24 with SwiGLU's. With either statistics GPU only leads up to batch 64 and cannot "
        "run batch 128 (N.P.). With SwiGLU statistics at batch 2, Hermes beats the GPU alone with "
        "as few as 1 NDP-DIMM")
    assert g["summary_be_txt"] == ("once the model fits the GPU and the batch grows, reading every weight on the GPU wins ("
                                   "a batch of about 24 for LLaMA3-8B with SwiGLU statistics, up "
                                   "to batch 64, then GPU only is N.P. at batch 128)")
    col = beyond.breakeven_table(res, toy_models, "s")["break-even"]
    assert list(col[:4]) == ["batch 32 (to batch 64; GPU only N.P. at batch 128)",
                             "batch 28 (to batch 64; Hermes ahead again at batch 128)",
                             "batch 24 (to batch 64; GPU only N.P. at batch 128)",
                             "batch 23 (to batch 64; Hermes ahead again at batch 128)"]
    # one statistic's lead ends, the other's lasts: named separately
    k = ("batch", "relu", "gpu-only")
    one = dataclasses.replace(res, ratio={**res.ratio, k: res.ratio[k][:3]},
                              alt_tokens={**res.alt_tokens, k: res.alt_tokens[k][:3]})
    assert ". With SwiGLU statistics GPU only leads up to batch 64 and cannot run batch 128 " \
        "(N.P.). With SwiGLU statistics at batch 2" in _glue(one, toy_models)["gpu_only_txt"]


def test_summary_and_gpu_only_read_every_sweep(toy_models):
    """The reviewer's beyC pattern with a valid pair: only the density sweeps cross (LLaMA3-8B
    at 0.08 against both alternatives), none of the batch sweeps."""
    be = {("density", "l", "gpu-only"): 0.0815, ("density", "l", "hermes-host"): 0.0792}
    ratio = {("density", "l", "gpu-only"): [1.2, 0.95, 0.9],
             ("density", "l", "hermes-host"): [1.1, 0.93, 0.9]}
    g = _glue(_res(be, ratio, large_fits=True), toy_models)
    assert g["summary_hh_txt"] == (
        "; Hermes-host, which keeps attention and the projection on the GPU, overtakes it in the "
        "density sweep of LLaMA3-70B (from a density of about 0.08)")
    assert g["gpu_only_txt"] == (
        "(the model fits one GPU): with LLaMA3-8B on the paper's system, Hermes wins at batch 1 "
        "because the GPU reads only the active hot neurons while the DIMMs take the cold ones; "
        "GPU only does not overtake it at any batch up to 64, with either statistics. With SwiGLU "
        "statistics at batch 2, Hermes beats the GPU alone with as few as 1 NDP-DIMM; at batch 2, "
        "GPU only overtakes it in the density sweep of LLaMA3-70B (from a density of about 0.08)")
    # the SwiGLU batch sweep and another sweep both cross: the batch sweep first, the other after
    be2 = {**be, ("batch", "swiglu", "hermes-host"): 41.6}
    g = _glue(_res(be2, ratio, large_fits=True), toy_models)
    assert g["summary_hh_txt"] == (
        "; Hermes-host, which keeps attention and the projection on the GPU, overtakes it from a "
        "batch of about 42 with the same statistics, and in the density sweep of LLaMA3-70B "
        "(from a density of about 0.08)")
    # the small model does not fit: the density sweep of a model that does is still named
    nan2 = [NAN, NAN]
    g = _glue(_res(be, {**ratio, ("batch", "relu", "gpu-only"): nan2}), toy_models)
    assert g["gpu_only_txt"] == (
        "(LLaMA3-8B does not fit one GPU): GPU only cannot run LLaMA3-8B, so its batch and DIMM "
        "sweeps have no break-even point against GPU only; at batch 2, GPU only overtakes it in "
        "the density sweep of LLaMA3-70B (from a density of about 0.08)")


def test_fp16_5090_txt_follows_the_profile():
    paper = ("the RTX 5090's FP16 peak applies the paper's convention (FP16 accumulate) to "
             "NVIDIA's figure")
    datasheet = ("the RTX 5090's FP16 peak is the whitepaper's FP32-accumulate rate, assumed half "
                 "of 419 TFLOPS")
    for profile, expected in (("paper", paper), ("datasheet", datasheet)):
        gpu = io.load_system("hermes_paper", profile, gpu="rtx_5090").gpu
        assert beyond.fp16_5090_txt(gpu.sources["fp16_flop_per_s"]) == expected, profile
    assert beyond.fp16_5090_txt("a vendor page") == ("the RTX 5090's FP16 peak is taken from: a "
                                                     "vendor page")


def test_ddr5_dimm_capacity_matches_its_organisation():
    """The what-if's DDR5 DIMM: 2 ranks of 4 x16 devices of 32 Gb (32 GiB), each rank's row one
    2 KiB page per device (8 KiB)."""
    d = io.load_dimm("ddr5_4800_ndp")
    per_rank = d.bus_width_bits // d.device_width_bits
    assert (d.n_ranks, per_rank) == (2, 4)
    assert d.capacity_bytes == d.n_ranks * per_rank * 32 * 2**30 // 8 == 32 * 2**30
    assert d.row_bytes == per_rank * 2048


def test_activation_runs_name_the_model_without_its_relu_fied_variant(loaded):
    """A Llama 2 model's rows read "LLaMA2-7B | SwiGLU", not "LLaMA2-7B (ReLU-fied, ReGLU)"."""
    models = {**loaded.models, "llama2_7b": hm.load_model("llama2_7b")}
    acts, _ = beyond.activities(models, loaded.inputs, io.load_published_sparsity(),
                                loaded.smollm2)
    act = beyond.activation_runs(["llama2_7b"], 1, **{**loaded.kw, "models": models,
                                                       "activities": acts})
    assert models["llama2_7b"].name == "LLaMA2-7B (ReLU-fied, ReGLU)"
    assert set(act["model"]) == {"LLaMA2-7B"}
    assert beyond.prose_name(models["llama2_7b"]) == "LLaMA2-7B"


def test_swiglu_models_glue_llama3_and_llama2(loaded):
    """LLaMA3 borrows its ReLU-fied statistics (the sentence says so); Llama 2 has its own."""
    models = {**loaded.models, "llama2_7b": hm.load_model("llama2_7b")}
    _, prov = beyond.activities(models, loaded.inputs, io.load_published_sparsity(),
                                loaded.smollm2)
    g3 = beyond.swiglu_models_glue(models, "llama3_8b", "llama3_70b", prov)
    assert g3 == {"sw_models_txt": "LLaMA3-8B and LLaMA3-70B", "sw_ships_txt": "LLaMA3 ships",
                  "relu_borrow_txt": "No ReLU-fied LLaMA3 statistic is published, so the "
                                     "ReLU-fied reading borrows LLaMA2-ReGLU's."}
    g2 = beyond.swiglu_models_glue(models, "llama2_7b", "llama2_70b", prov)
    assert g2 == {"sw_models_txt": "LLaMA2-7B and LLaMA2-70B", "sw_ships_txt": "LLaMA2 ships",
                  "relu_borrow_txt": ""}
    mixed = beyond.swiglu_models_glue(models, "llama2_7b", "llama3_70b", prov)
    assert mixed["sw_ships_txt"] == "LLaMA2 and LLaMA3 ship"
    assert mixed["relu_borrow_txt"].startswith("No ReLU-fied LLaMA3 statistic is published")


def test_doctests():
    import doctest

    assert doctest.testmod(beyond).failed == 0


def test_summary_be_txt_follows_the_sweep():
    """GPU only wins from a batch, never wins in the sweep, or cannot run the model at all."""
    wins = beyond.summary_be_txt(27.4, small="LLaMA3-8B", small_fits=True, max_batch=64,
                                 until=" up to batch 64, then Hermes leads again")
    assert wins.endswith("(a batch of about 27 for LLaMA3-8B with SwiGLU statistics, up to "
                         "batch 64, then Hermes leads again)")
    never = beyond.summary_be_txt(float("nan"), small="LLaMA2-7B", small_fits=True, max_batch=8)
    assert "does not overtake Hermes at any batch up to 8" in never and "wins" not in never
    assert beyond.summary_be_txt(float("nan"), small="LLaMA2-13B", small_fits=False,
                                 max_batch=64).startswith("GPU only needs the model to fit")
