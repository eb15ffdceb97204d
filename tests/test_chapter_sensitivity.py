"""The Sensitivity chapter's logic (hermes_model.chapters.sensitivity): each text branch driven by
small synthetic frames, the numbers recomputed through lower-level package calls.

The last section holds the chapter's statements that hold at its defaults only (the paper
profile, 128 + 128 tokens, the swept counts and batches of its parameters cell): computed through
the package as the chapter computes them, one test a sentence (the chapter's hidden checks keep
what holds for any parameters)."""

from __future__ import annotations

import ast
import doctest
import json
import math
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import dram, io, plotting, policies, shapes, sweeps
from hermes_model import units as u
from hermes_model.chapters import sensitivity as sens
from hermes_model.plotting import rounded
from hermes_model.scorecard import distinct_bars

RUN = {"prompt_len": 128, "gen_len": 128}
CHAPTER = Path(__file__).resolve().parent.parent / "book" / "sensitivity.ipynb"
#: The chapter's defaults (its parameters cell; `test_defaults_are_the_parameters_cell`).
DEFAULTS = {"profile": "paper", "dimm_counts": [1, 2, 4, 8, 16], "fig15_batches": [1, 4, 16],
            "tornado_model": "llama2_70b", "tornado_batches": [1, 16], **RUN}


@pytest.fixture(scope="module")
def activities() -> dict[str, policies.Activity]:
    return {k: policies.activity_from_inputs(v) for k, v in io.load_generator_inputs().items()}


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    return {s: hm.load_model(s) for s in io.model_slugs()}


@pytest.fixture(scope="module")
def system_for() -> Any:
    return partial(io.load_system, "hermes_paper", "paper")


def named(**names: str) -> dict[str, Any]:
    """Stand-ins for model specs: only ``name`` is read."""
    return {s: SimpleNamespace(name=n) for s, n in names.items()}


# --------------------------------------------------------------------------------- parameters


def test_check_runs_accepts_the_defaults(models: Any, activities: Any, system_for: Any) -> None:
    sens.check_runs(models, activities, system_for(), tornado_model="llama2_70b",
                    tornado_batches=[1, 16], **RUN)


def test_check_runs_names_the_parameter(models: Any, activities: Any, system_for: Any) -> None:
    with pytest.raises(ValueError, match=r"^parameters 'prompt_len' and 'gen_len': .*opt_13b"):
        sens.check_runs(models, activities, system_for(), tornado_model="llama2_70b",
                        tornado_batches=[1], prompt_len=2000, gen_len=100)
    # 4096 sequences of LLaMA2-70B's KV cache do not fit eight DIMMs of 32 GiB
    with pytest.raises(ValueError, match=r"^parameter 'tornado_batches': Hermes cannot run "
                                         r"llama2_70b at batch 4096 \(.*\), got \[1, 4096\]$"):
        sens.check_runs(models, activities, system_for(), tornado_model="llama2_70b",
                        tornado_batches=[1, 4096], **RUN)


# ------------------------------------------------------------------------------------ Fig. 14


def sweep14(rows: list[tuple[str, int, bool]]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "n_dimms": n, "supported": ok,
                          "tokens_per_s": 10.0 * n if ok else math.nan} for m, n, ok in rows])


def test_first_supported_and_its_text() -> None:
    sw = sweep14([("a", 1, False), ("a", 2, True), ("a", 4, True), ("b", 1, True),
                  ("c", 1, False), ("c", 2, False)])
    assert [sens.first_supported(sw, s) for s in "abc"] == [2, 1, 0]
    assert sens.first_supported_text(sw, "a", [1, 2, 4], " DIMMs") == "2 DIMMs"
    assert sens.first_supported_text(sw, "b", [1, 2, 4]) == "1"  # 1 is no "smallest swept" note
    only_from_2 = sw[sw["n_dimms"] >= 2]
    assert (sens.first_supported_text(only_from_2, "a", [2, 4], " DIMMs")
            == "2 DIMMs (the smallest count swept)")
    # with the fewest DIMMs counted one at a time: every count above it is qualified, the true
    # minimum is not (senA: Falcon-40B first ran at 8 of [2, 8, 16] but runs from 3)
    sparse = sweep14([("f", 2, False), ("f", 8, True), ("f", 16, True)])
    assert (sens.first_supported_text(sparse, "f", [2, 8, 16], " DIMMs", fewest=3)
            == "8 DIMMs among the counts swept (3 counted one DIMM at a time)")
    assert (sens.first_supported_text(sparse, "f", [2, 8, 16], fewest=3, swept=False)
            == "8 (3 counted one DIMM at a time)")
    assert sens.first_supported_text(only_from_2, "a", [2, 4], " DIMMs", fewest=2) == "2 DIMMs"


def paper14(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "n_dimms": n, "supported": False, "kind": k,
                          "tokens_per_s": math.nan} for m, n, k in rows],
                        columns=["model", "n_dimms", "supported", "kind", "tokens_per_s"])


def test_np_agreement_inferred_and_stated() -> None:
    sw = sweep14([("a", 1, False), ("a", 2, True), ("b", 4, False), ("b", 8, True)])
    paper = paper14([("a", 1, "inferred"), ("a", 2, "inferred"), ("b", 4, "stated"),
                     ("b", 2, "stated")])  # (b, 2) was not swept: not counted
    how = ("2 from figure labels whose placement is inferred from capacity and 1 stated in the "
           "text")
    assert sens.np_agreement(sw, paper) == {
        "np_agree": "2 of 3",
        "np_cells_txt": f"of the 3 cells the paper marks N.P. ({how}), the model finds 2 N.P. too"
                        ", so for the inferred ones the agreement checks the capacity arithmetic "
                        "rather than an independent reading",
        "np_summary_txt": f"and the model finds N.P. at 2 of the 3 cells the paper marks N.P. "
                          f"({how})"}


def test_np_agreement_stated_only_and_none_swept() -> None:
    sw = sweep14([("b", 4, False), ("b", 8, True)])
    got = sens.np_agreement(sw, paper14([("b", 4, "stated")]))
    assert got["np_cells_txt"] == ("of the one cell the paper marks N.P. (1 stated in the text), "
                                   "the model finds 1 N.P. too")
    assert got["np_summary_txt"] == ("and the model finds N.P. at the one cell the paper marks "
                                     "N.P. (1 stated in the text)")
    missed = sens.np_agreement(sweep14([("b", 4, True)]), paper14([("b", 4, "stated")]))
    assert missed["np_summary_txt"].startswith("and the model does not find N.P. at the one cell")
    none = sens.np_agreement(sw, paper14([("b", 2, "stated")]))
    assert none == {"np_agree": "0 of 0",
                    "np_cells_txt": "none of the paper's N.P. cells is among the counts swept",
                    "np_summary_txt": "none of which is among the counts swept here"}


def test_fewest_dimms_is_the_capacity_bound(models: Any, system_for: Any) -> None:
    cap = system_for().dimm.capacity_bytes
    for slug in sweeps.FIG14_MODELS:
        m = models[slug]
        need = shapes.weight_bytes(m, "fp16") + 256 * shapes.kv_cache_bytes_per_token(m, "fp16")
        n = sens.fewest_dimms(m, cap, **RUN)
        assert (n - 1) * cap < need <= n * cap


def test_capacity_of_llama_at_four_dimms(models: Any, system_for: Any) -> None:
    system = system_for()
    models14 = {s: models[s] for s in sweeps.FIG14_MODELS}
    sw = sweep14([(s, n, n >= 8) for s in models14 for n in (2, 4, 8)])
    got = sens.capacity(sw, paper14([]), models14, system, dimm_counts=[2, 4, 8], **RUN)
    llama = models["llama2_70b"]
    w = shapes.weight_bytes(llama, "fp16")
    kv = 256 * shapes.kv_cache_bytes_per_token(llama, "fp16")
    embed = 2 * llama.vocab_size * llama.d_model  # the input embedding, fp16
    pool = 4 * 32 * u.GiB
    assert got.glue["llama_w_gb"] == rounded(w / 1e9, 5)
    assert got.glue["llama_w_gib"] == rounded(w / 2**30, 5)
    assert got.glue["llama_short_pct"] == rounded(100 * (1 - pool / (w + kv)), 2)
    assert got.glue["llama_noembed_kv_pct"] == rounded(100 * (1 - pool / (w - embed + kv)), 2)
    assert got.glue["llama_noembed_pct"] == rounded(100 * (pool / (w - embed) - 1), 2)
    assert got.glue["llama_gb_pct"] == rounded(100 * (1 - 4 * 32e9 / (w + kv)), 2)
    assert got.glue["llama_short_pct"] > 0  # the paper's N.P. at four DIMMs
    # the DIMM's capacity: 32 GiB in the model, the paper's "32 GB" read as such
    assert (got.glue["dimm_cap_gib"], got.glue["pool4_gib"]) == (32, 128)
    assert got.glue["dimm_cap_paper"] == "32 GB"
    # the sweep here is [8, 16]: every first count above the true minimum is qualified
    qualified = "8 among the counts swept ({} counted one DIMM at a time)"
    assert got.glue["min_dimms_llama"] == qualified.format(got.fewest["llama2_70b"])
    assert got.glue["min_dimms_opt30"] == qualified.format(got.fewest["opt_30b"])
    assert got.glue["min_dimms_falcon"] == "8 DIMMs " + qualified.format(
        got.fewest["falcon_40b"])[2:]
    assert got.glue["min_dimms_llama_sum"] == f"8 ({got.fewest['llama2_70b']} counted one DIMM at a time)"
    # the fewest 32-GiB DIMMs, by hand: weights and 256 tokens of KV cache over the capacity
    fewest = {s: math.ceil((shapes.weight_bytes(m, "fp16")
                            + 256 * shapes.kv_cache_bytes_per_token(m, "fp16")) / (32 * u.GiB))
              for s, m in models14.items()}
    assert got.fewest == fewest
    assert got.glue["fewest_dimms_txt"] == (
        f"OPT-13B {fewest['opt_13b']}, OPT-30B {fewest['opt_30b']}, Falcon-40B "
        f"{fewest['falcon_40b']} and LLaMA2-70B {fewest['llama2_70b']}")
    assert list(got.table.columns) == ["need (GiB)", "pool (GiB)", "margin (%)", "fits"]
    assert got.table.loc["weights and KV cache (the model)", "need (GiB)"] == pytest.approx(
        (w + kv) / 2**30)
    assert got.table["pool (GiB)"].iloc[0] == pytest.approx(128.0)
    assert got.table.loc["weights and KV cache (the model)", "margin (%)"] == pytest.approx(
        100 * (pool / (w + kv) - 1))


def test_fig14_table_and_chart(models: Any) -> None:
    models14 = {s: models[s] for s in ("opt_13b", "llama2_70b")}
    sw = sweep14([("llama2_70b", 4, False), ("llama2_70b", 8, True), ("opt_13b", 4, True),
                  ("opt_13b", 8, True)])
    table = sens.fig14_table(sw, models14)
    assert list(table.index) == [models["opt_13b"].name, models["llama2_70b"].name]
    assert table.loc[models["llama2_70b"].name].tolist() == ["N.P.", "80.0"]
    paper = pd.DataFrame({"model": ["opt_13b", "opt_13b", "llama2_70b"], "n_dimms": [8, 16, 4],
                          "tokens_per_s": [70.0, 90.0, math.nan]})
    chart = sens.fig14_chart(sw, paper, models, profile="paper", dimm_counts=[4, 8])
    d = chart.to_dict()
    assert d["facet"]["column"]["header"]["labelExpr"] == plotting.TWO_LINE_HEADER.labelExpr
    rows = next(iter(d["datasets"].values()))
    # the paper's tick at 16 DIMMs (not swept) and its N.P. row are dropped, as are N.P. bars
    assert sorted((r["series"], r["NDP-DIMMs"]) for r in rows) == [
        ("model, paper profile", "4"), ("model, paper profile", "8"),
        ("model, paper profile", "8"), ("paper", "8")]


def test_step_table_in_display_units() -> None:
    sw = pd.DataFrame({"model": "m", "n_dimms": [8, 16], "tokens_per_s": [5.0, 6.0],
                       "prefill_s": 2.0, "decode_step_s": [0.2, 0.16],
                       **{f"step_{c}_s": 0.01 for c in sens.STEP_CATEGORIES}})
    t = sens.step_table(sw, "m", [16])
    assert t.iloc[0]["decode step (ms)"] == pytest.approx(160.0)
    assert t.iloc[0]["fc (ms)"] == pytest.approx(10.0)
    assert list(t.columns)[:4] == ["NDP-DIMMs", "tokens/s", "prefill (s)", "decode step (ms)"]


def test_eight_vs_sixteen(models: Any, activities: Any, system_for: Any) -> None:
    llama, act = models["llama2_70b"], activities["llama2_70b"]
    sw = sweeps.dimm_sweep({"llama2_70b": llama}, activities, system_for, n_dimms=[8, 16], **RUN)
    got = sens.eight_vs_sixteen(sw, llama, act, system_for, dimm_counts=[8, 16], **RUN)
    opts = policies.Assumptions(activity=act)
    t = {n: policies.estimate("hermes", llama, system_for(n_dimms=n), batch=1, options=opts,
                              **RUN).tokens_per_s for n in (8, 16)}
    assert got.has_flat and got.change == pytest.approx(t[16] / t[8] - 1)
    assert got.glue["flat_change_pct"] == rounded(100 * got.change, 3)
    assert got.h8.tokens_per_s == pytest.approx(t[8])
    assert got.glue["llama_kv_heads"] == 8
    assert got.glue["llama_total_gb"] == rounded(shapes.weight_bytes(llama, "fp16") / 1e9, 3)
    assert got.glue["llama_total_gib"] == rounded(shapes.weight_bytes(llama, "fp16") / 2**30, 3)
    # the GPU's resident bytes in both units: within the card's 24 GiB
    resident = got.h8.details["gpu_resident_bytes"]
    assert got.glue["llama_gpu_gib"] == rounded(resident / 2**30, 3)
    assert got.glue["llama_gpu_gb"] == rounded(resident / 1e9, 3)
    assert got.glue["llama_gpu_gib"] < system_for().gpu.memory_bytes / 2**30
    e16 = policies.estimate("hermes", llama, system_for(n_dimms=16), batch=1, options=opts, **RUN)
    assert got.glue["llama_gpu_load_pct_16"] == rounded(100 * e16.details["gpu_load_share"], 3)
    assert 1 < got.glue["llama_gpu_load_pct_16"] < 100
    # about one DDR4-3200 channel (25.6 GB/s peak) when the ranks share a bus; more in parallel
    dimm = system_for().dimm
    bw = {rp: float(dram.dimm_bandwidth_bytes_per_s(dimm, ranks_parallel=rp)) / 1e9
          for rp in (True, False)}
    assert got.glue["dimm_bw_bus"] == rounded(bw[False], 3) and bw[False] < 25.6 < bw[True]
    assert got.glue["dimm_bw_parallel"] == rounded(bw[True], 3)
    assert got.glue["dimm_ranks"] == dimm.n_ranks
    assert got.bus == "ranks_parallel = False"
    # the gain with the ranks on one bus, recomputed
    bus = {n: policies.estimate("hermes", llama, system_for(n_dimms=n), batch=1, **RUN,
                                options=policies.Assumptions(activity=act, ranks_parallel=False)
                                ).tokens_per_s for n in (8, 16)}
    assert got.gains[got.bus] == pytest.approx(100 * (bus[16] / bus[8] - 1), rel=1e-12)
    assert got.glue["flat_gain_bus"] == rounded(got.gains[got.bus], 3)
    assert got.glue["flat_gain_min"] == rounded(min(got.gains.values()), 3)
    assert got.gains[got.glue["flat_gain_min_at"]] == min(got.gains.values())
    # without 16 DIMMs in the sweep there is no "flat" reading: zeros and NaN
    only8 = sens.eight_vs_sixteen(sw[sw["n_dimms"] == 8], llama, act, system_for,
                                  dimm_counts=[8], **RUN)
    assert not only8.has_flat and math.isnan(only8.change)
    assert only8.glue["flat_fc_8"] == only8.glue["flat_comm_16"] == 0.0


# ------------------------------------------------------------------------------------ Fig. 15


def speedup_rows(over: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"model": "m", "batch": range(len(values)), "over": over,
                         "speedup": values})


def test_fig15_means_within_and_outside() -> None:
    sp = pd.concat([speedup_rows("t4", [2.0, 2.2]), speedup_rows("rtx_3090", [1.02, 1.04])])
    other = speedup_rows("rtx_3090", [1.1, 1.2])
    paper = pd.DataFrame({"value": [2.02, 1.34]},
                         index=["rtx_4090_over_t4", "rtx_4090_over_rtx_3090"])
    got = sens.fig15_means(sp, other, paper, profile="datasheet", tolerance_pct=25)
    assert got["tol15_pct"] == 25
    assert got["r15_t4"] == pytest.approx(2.1) and got["r15_t4_paper"] == 2.02
    assert got["r15_t4_err"] == rounded(100 * (1.1 / 1.02 - 1), 3)
    assert (got["r15_t4_verdict"], got["r15_t4_agrees"]) == ("within", "agrees within the band")
    assert got["r15_rtx_3090_err"] == rounded(100 * (0.03 / 0.34 - 1), 3)
    assert (got["r15_rtx_3090_verdict"], got["r15_rtx_3090_agrees"]) == (
        "outside", "falls outside the band")
    assert got["m15_3090_datasheet"] == pytest.approx(1.03)
    assert got["m15_3090_paper"] == pytest.approx(1.15)


def test_fig15_table_and_chart() -> None:
    sp = pd.DataFrame({"model": ["a", "a", "a", "a"], "batch": [1, 1, 4, 4],
                       "over": ["t4", "rtx_3090", "t4", "rtx_3090"],
                       "speedup": [2.0, 1.01234, 1.5, 1.0]})
    gpus = named(t4="T4", rtx_3090="RTX 3090", rtx_4090="RTX 4090")
    t = sens.fig15_table(sp, named(a="A"), gpus)
    assert t.columns.name == "RTX 4090 over" and list(t.index) == [("A", 1), ("A", 4)]
    assert t.loc[("A", 1)].to_dict() == {"T4": "2.000", "RTX 3090": "1.012"}
    assert t.loc[("A", 4)].to_dict() == {"T4": "1.500", "RTX 3090": "1.000"}
    sweep = pd.DataFrame({"gpu": ["t4", "rtx_4090"], "model": "a", "batch": 1,
                          "tokens_per_s": [5.0, 10.0]})
    rows = next(iter(sens.fig15_chart(sweep, named(a="A"), gpus).to_dict()["datasets"].values()))
    assert sorted((r["model"], r["series"], r["tokens_per_s"]) for r in rows) == [
        ("A", "RTX 4090", 10.0), ("A", "T4", 5.0)]


def test_largest_3090_ratio_reads_the_paper_profile() -> None:
    mine = pd.DataFrame({"model": ["a", "b"], "batch": [1, 4], "over": "rtx_3090",
                         "speedup": [1.01, 1.05]})
    other = pd.DataFrame({"model": ["a", "b", "a"], "batch": [16, 1, 4],
                          "over": ["rtx_3090", "rtx_3090", "t4"], "speedup": [1.2, 1.1, 3.0]})
    names = named(a="A (x)", b="B")
    s, glue = sens.largest_3090_ratio(mine, other, names, profile="paper")
    assert glue == {"r15_3090_max": 1.05, "r15_3090_max_at": "B at batch 4"} and len(s) == 2
    s, glue = sens.largest_3090_ratio(mine, other, names, profile="datasheet")
    assert glue == {"r15_3090_max": 1.2, "r15_3090_max_at": "A (x) at batch 16"} and len(s) == 2


def test_gap_moves() -> None:
    assert sens.gap_moves(pd.Series({1: 2.0})) == []
    assert sens.gap_moves(pd.Series({1: 2.0, 4: 1.9, 16: 1.8})) == [["narrows", 1, 16]]
    assert sens.gap_moves(pd.Series({1: 2.0, 4: 1.9, 8: 2.0, 16: 1.7})) == [
        ["narrows", 1, 4], ["widens", 4, 8], ["narrows", 8, 16]]


def sweep15(prefill: dict[tuple[str, str, int], float],
            decode: dict[tuple[str, int], float]) -> pd.DataFrame:
    """A Fig. 15 sweep; the 4090's decode step is 10 ms everywhere."""
    return pd.DataFrame([{"gpu": g, "model": m, "batch": b, "prefill_s": p,
                          "decode_step_s": decode[(m, b)] if g == "t4" else 0.01}
                         for (g, m, b), p in prefill.items()])


def t4_speedups(by_batch: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "batch": b, "over": "t4", "speedup": v}
                         for m in "ab" for b, v in by_batch.items()])


def t4_gap_at_1_4_16(rtx_4090_prefill_16: float) -> sens.T4Gap:
    """Two models whose T4 prefill is flat to batch 4 and triples at 16; the 4090's is 0.5 s,
    then `rtx_4090_prefill_16` at batch 16."""
    t4_pre = {1: (1.0, 1.0), 4: (1.01, 0.99), 16: (3.0, 3.0)}
    prefill = {("t4", m, b): v[i] for b, v in t4_pre.items() for i, m in enumerate("ab")}
    prefill |= {("rtx_4090", m, b): rtx_4090_prefill_16 if b == 16 else 0.5
                for m in "ab" for b in (1, 4, 16)}
    decode = {(m, b): d for m in "ab" for b, d in ((1, 0.016), (4, 0.015), (16, 0.014))}
    return sens.t4_gap(sweep15(prefill, decode), t4_speedups({1: 2.0, 4: 1.8, 16: 1.9}),
                       pd.Series({"a": 1.0, "b": 1.0}), named(a="A", b="B"), batches=[1, 4, 16],
                       t4_flop_per_s=65e12)


def test_t4_gap_narrows_then_widens() -> None:
    g = t4_gap_at_1_4_16(0.6)
    assert (g.t4_flat, g.only, g.prev, g.last) == ([1, 4], ["A", "B"], 4, 16)
    assert g.behind and g.narrow and g.widen
    assert g.glue == {
        "t4_means_txt": "2.00× at batch 1, 1.80× at batch 4 and 1.90× at batch 16",
        "t4_trend_txt": "narrows from batch 1 to 4 and widens from batch 4 to 16",
        "t4_dec_sentence_txt": "Decode narrows it steadily: the T4's decode step takes 1.60×, "
                               "1.50× and 1.40× as long as the 4090's.",
        "t4_pre_txt": "Prefill, where the T4 is furthest behind, moves it both ways. Up to batch "
                      "4 the T4's prefill is limited by streaming the cold weights over its PCIe "
                      "3.0 link and takes about as long as at batch 1, so it weighs less as "
                      "decode grows and the gap narrows further; at batch 16 the prompt's "
                      "compute takes longer than the stream on the T4's 65 TFLOPS, and its "
                      "prefill grows from 1.00 s to 3.00 s (mean of the two models) against the "
                      "4090's 0.50 s to 0.60 s, enough to widen the gap again."}


def test_t4_gap_does_not_widen_when_the_4090s_prefill_grows_faster() -> None:
    """The same T4 prefill growth, but the 4090's grows more (0.5 s to 4 s): the T4 falls no
    further behind in prefill (3/4 < 1/0.5), so the gap is not said to widen through it."""
    g = t4_gap_at_1_4_16(4.0)
    assert g.narrow and g.only == ["A", "B"] and not g.widen


def test_t4_gap_one_model_compute_bound_gap_narrows() -> None:
    prefill = {("t4", "a", 1): 1.0, ("t4", "b", 1): 1.0, ("t4", "a", 4): 1.5,
               ("t4", "b", 4): 1.0}
    prefill |= {("rtx_4090", m, b): 0.5 for m in "ab" for b in (1, 4)}
    decode = {(m, b): 0.02 for m in "ab" for b in (1, 4)}  # decode ratio 2, prefill ratio >= 2
    g = sens.t4_gap(sweep15(prefill, decode), t4_speedups({1: 2.0, 4: 1.9}),
                    pd.Series({"a": 1.0, "b": 1.0}), named(a="A", b="B"), batches=[1, 4],
                    t4_flop_per_s=65.13e12)
    assert (g.t4_flat, g.only, g.narrow, g.widen, g.behind) == ([1], ["A"], False, False, False)
    assert g.glue["t4_dec_sentence_txt"] == ("Decode widens it: the T4's decode step takes 2.00× "
                                             "and 2.00× as long as the 4090's.")
    assert g.glue["t4_pre_txt"] == (
        "At batch 1 the T4's prefill is limited by streaming the cold weights over its PCIe 3.0 "
        "link; at batch 4, for A only, the prompt's compute takes longer than the stream on the "
        "T4's 65.13 TFLOPS, and the T4's prefill grows from 1.00 s to 1.25 s (mean of the two "
        "models) against the 4090's 0.50 s to 0.50 s, not enough to widen the gap.")


def test_t4_gap_at_one_batch() -> None:
    prefill = {("t4", "a", 1): 1.0, ("rtx_4090", "a", 1): 0.25}
    g = sens.t4_gap(sweep15(prefill, {("a", 1): 0.016}), t4_speedups({1: 2.0}).iloc[:1],
                    pd.Series({"a": 1.0}), named(a="A"), batches=[1], t4_flop_per_s=65e12)
    assert g.glue["t4_trend_txt"] == "is measured at one batch only"
    assert g.glue["t4_dec_sentence_txt"] == ("The T4's decode step takes 1.60× as long as the "
                                             "4090's.")
    assert g.glue["t4_pre_txt"] == ("Prefill is where the T4 is furthest behind. At batch 1 the "
                                    "T4's prefill is limited by streaming the cold weights over "
                                    "its PCIe 3.0 link.")


def test_prefill_at_batch_1(models: Any, activities: Any, system_for: Any) -> None:
    t4 = system_for(gpu="t4")
    got = sens.prefill_s_at_batch_1({"opt_13b": models["opt_13b"]}, activities, t4, **RUN)
    est = policies.estimate("hermes", models["opt_13b"], t4, batch=1, **RUN,
                            options=policies.Assumptions(activity=activities["opt_13b"]))
    assert got.to_dict() == {"opt_13b": est.prefill_s}


def test_fig15_facts() -> None:
    gpus = {p: {g: hm.load_gpu(g, p) for g in sweeps.FIG15_GPUS} for p in ("paper", "datasheet")}
    got = sens.fig15_facts(gpus, profile="paper", batches=[1, 4, 16], n_models=2, t4_link="L")
    assert got["rtx_4090_bw"] == got["bw_4090_paper"] == 936.0  # the paper's 4090 (§V-A)
    assert got["rtx_4090_tflops"] == 330.0
    assert got["bw_3090_paper"] == got["bw_3090_datasheet"] == rounded(
        gpus["datasheet"]["rtx_3090"].memory_bandwidth_bytes_per_s / 1e9, 4)
    assert got["bw_4090_datasheet"] == rounded(
        gpus["datasheet"]["rtx_4090"].memory_bandwidth_bytes_per_s / 1e9, 4)
    assert got["bw_4090_datasheet"] > got["bw_4090_paper"]
    assert got["t4_mem"] == rounded(gpus["paper"]["t4"].memory_bytes / 2**30, 3)
    assert (got["bs15_max"], got["n15_points"], got["t4_link"]) == (16, 6, "L")
    assert got["fig15_batches_txt"] == "1, 4 and 16"
    assert got["fig15_runs_txt"] == "at batch 1, 4 and 16 with three GPUs"
    other = sens.fig15_facts(gpus, profile="datasheet", batches=[1, 4], n_models=2, t4_link="L")
    assert other["fig15_runs_txt"] == ("at batch 1, 4 and 16 with three GPUs; this chapter runs "
                                       "batch 1 and 4")
    assert other["rtx_4090_bw"] == other["bw_4090_datasheet"] and other["n15_points"] == 4


def test_flat_glue_follows_the_scorecards_rule() -> None:
    """senA (datasheet): a 9 % gain is "flat" by the scorecard's 10 % rule, so the chapter must
    not say the model disagrees; the default's 13 % is not."""
    gains = {"a = 1": 9.0, "b = 2": 30.0}
    flat = sens.flat_glue(0.09065, gains)
    assert flat["flat_holds"] and flat["flat_pct"] == 10
    assert flat["flat_verdict_txt"].startswith("in the model it gains 9 %, within the 10 %")
    assert flat["flat_summary_txt"].startswith('the model agrees with the paper\'s "flat"')
    assert flat["flat_close_txt"].startswith('The gain is small enough to count as "flat"')
    assert "1 of the 2 readings keeps it within the 10 %" in flat["flat_params_txt"]
    two = sens.flat_glue(0.09, {"a = 1": 9.0, "b = 2": 8.0})
    assert "2 of the 2 readings keep it within" in two["flat_params_txt"]
    steep = sens.flat_glue(0.13, {"a = 1": 11.0, "b = 2": 30.0}, like=False)
    assert not steep["flat_holds"]
    assert steep["flat_verdict_txt"] == ('in the model it gains 13 %, more than the 10 % that '
                                         'this book and the scorecard allow for "about as '
                                         'fast" (not like for like: other lengths than the '
                                         "paper's)")
    assert steep["flat_summary_txt"].startswith('the model disagrees with the paper\'s "flat"')
    assert steep["flat_close_txt"].startswith('The model does not reproduce "flat"')
    assert steep["flat_params_txt"].startswith("No unstated parameter flattens the curve")
    assert "never falls below 11 % (at a = 1)" in steep["flat_params_txt"]


def test_fig15_criteria_and_marks() -> None:
    """scA/senA: the T4's +26.7 % holds under the scorecard's ±35 % and is outside this
    chapter's ±25 %; the text must say so. At other lengths the verdicts are marked."""
    sp = pd.concat([speedup_rows("t4", [2.293]), speedup_rows("rtx_3090", [1.107])])
    paper = pd.DataFrame({"value": [2.02, 1.34]},
                         index=["rtx_4090_over_t4", "rtx_4090_over_rtx_3090"])
    got = sens.fig15_means(sp, sp[sp["over"] == "rtx_3090"], paper, profile="datasheet",
                           tolerance_pct=25, like=False)
    assert got["r15_t4_verdict"] == "outside"
    assert got["r15_t4_cell"] == "outside (not like for like: other lengths than the paper's)"
    assert got["r15_t4_sum"] == ("outside ± 25 %, not like for like: other lengths than the "
                                 "paper's")
    assert "the T4's mean (+26.8 %) holds" in got["r15_criteria_txt"]
    assert "3090" not in got["r15_criteria_txt"]  # both criteria fail it: not named
    same = sens.fig15_means(speedup_rows("t4", [2.177]).pipe(
        lambda d: pd.concat([d, speedup_rows("rtx_3090", [1.043])])),
        speedup_rows("rtx_3090", [1.1]), paper, profile="paper", tolerance_pct=25)
    assert same["r15_t4_cell"] == "within" and "the same verdicts" in same["r15_criteria_txt"]
    assert same["r15_t4_sum"] == "within ± 25 %"
    # senC: batches other than the paper's 1, 4 and 16 are marked, at the paper's lengths too
    batches = sens.fig15_means(sp, sp[sp["over"] == "rtx_3090"], paper, profile="paper",
                               tolerance_pct=35, batches=[2, 32])
    assert batches["r15_t4_cell"] == ("within (not like for like: batches 2 and 32 instead of "
                                      "the paper's 1, 4 and 16)")
    assert batches["r15_t4_sum"].endswith(
        "not like for like: batches 2 and 32 instead of the paper's 1, 4 and 16")
    both = sens.fig15_means(sp, sp[sp["over"] == "rtx_3090"], paper, profile="paper",
                            tolerance_pct=25, like=False, batches=[16])
    assert both["r15_t4_cell"] == ("outside (not like for like: other lengths than the paper's; "
                                   "batch 16 instead of the paper's 1, 4 and 16)")


def test_gpu3090_text_follows_the_verdict_and_the_readings() -> None:
    """senB: the 3090 mean 1.391× is within ±25 % of 1.34× and the readings span 1.013–1.424×;
    the defaults: 1.043×, readings below 1.34×."""
    common = {"paper": 1.34, "tolerance_pct": 25, "bs_max": 8}
    within = sens.gpu3090_text(mean=1.391, means_by_profile={"paper": 1.391, "datasheet": 1.562},
                               rd_min=1.013, rd_max=1.424, prompt_len=512, gen_len=32,
                               mean_paper_lengths=1.043, **common)
    assert "to give the paper's ratio" in within["r15_3090_reason_txt"]
    assert "too small" not in within["r15_3090_reason_txt"]
    assert "outside the band: the difference comes from this run's lengths" in (
        within["r15_3090_reason_txt"])
    assert within["m15_both_txt"] == "only the paper profile's within ± 25 % of 1.34×"
    assert within["r15_rd_txt"].startswith(", a range that contains 1.34×")
    assert within["r15_3090_summary_txt"].startswith(": the model reaches the paper's lead")
    assert "at the paper's 128 and 128 the mean is 1.043×" in within["r15_3090_summary_txt"]
    below = sens.gpu3090_text(mean=1.043, means_by_profile={"paper": 1.043, "datasheet": 1.107},
                              rd_min=1.0, rd_max=1.1, prompt_len=128, gen_len=128, **common)
    assert "too small a part of the run at batch ≤ 8" in below["r15_3090_reason_txt"]
    assert below["m15_both_txt"] == "both far from 1.34×"
    assert below["r15_rd_txt"].startswith(": no plausible value")
    assert below["r15_3090_summary_txt"].startswith(": a roofline of two GPUs")
    above = sens.gpu3090_text(mean=1.6, means_by_profile={"paper": 1.6, "datasheet": 1.7},
                              rd_min=1.4, rd_max=1.8, prompt_len=128, gen_len=128, **common)
    assert "more than the paper's" in above["r15_3090_reason_txt"]
    assert above["r15_rd_txt"].startswith(": every reading stays above 1.34×: no plausible")
    assert above["r15_3090_summary_txt"] == ": the model's lead over the 3090 exceeds the paper's."


def test_gpu3090_text_takes_no_side_for_a_nan_mean() -> None:
    """A model that cannot run a batch gives a NaN mean: N.P., never "above" (review #7)."""
    common = {"paper": 1.34, "tolerance_pct": 25, "bs_max": 8, "prompt_len": 128,
              "gen_len": 128}
    g = sens.gpu3090_text(mean=float("nan"), means_by_profile={"paper": float("nan"),
                                                                "datasheet": 1.107},
                          rd_min=float("nan"), rd_max=float("nan"), **common)
    assert g["r15_3090_reason_txt"] == ("The model cannot run every batch up to 8 on both GPUs "
                                        "(N.P.), so it sets no mean beside the paper's 1.34×.")
    assert "more than the paper's" not in g["r15_3090_reason_txt"]
    assert g["r15_3090_summary_txt"] == (": the model cannot run the comparison with the "
                                         "paper's lead over the 3090 (N.P.).")
    assert "N.P." in g["m15_both_txt"] and "N.P." in g["r15_rd_txt"]
    # the defaults' mean runs, the other profile's or a reading does not: N.P. there, no side
    g = sens.gpu3090_text(mean=1.043, means_by_profile={"paper": 1.043, "datasheet": np.nan},
                          rd_min=np.nan, rd_max=1.1, **common)
    assert g["m15_both_txt"] == "N.P. under the datasheet profile"
    assert g["r15_rd_txt"] == ": N.P. where the model cannot run a reading."
    g = sens.gpu3090_text(mean=1.391, means_by_profile={"paper": 1.391}, rd_min=1.0,
                          rd_max=1.5, mean_paper_lengths=np.nan,
                          **{**common, "prompt_len": 512, "gen_len": 32})
    assert "the model cannot run the same sweep (N.P.)" in g["r15_3090_reason_txt"]
    assert g["r15_3090_summary_txt"].endswith("(at the paper's 128 and 128 the mean is N.P.).")


def test_band_side() -> None:
    assert [sens.band_side(v, 4.2, 9.9) for v in (13.75, 9.9, 4.0)] == [
        "lies above", "lies in", "lies below"]
    # NaN compares False everywhere and used to fall through to "lies below" (review #7)
    assert sens.band_side(np.nan, 4.2, 9.9) == "cannot be set (N.P.) against"
    assert sens.band_side(13.75, np.nan, np.nan) == "cannot be set (N.P.) against"


def test_readings_glue() -> None:
    rd = pd.DataFrame({"parameter": ["defaults", "a", "a", "b", "raising ends together",
                                     "corner", "corner"],
                       "value": ["", "1", "2", "True", "a=2, b=True", "a=1", "a=2"],
                       "speedup": [1.01, 1.0, 1.02, 1.03, 1.04, 1.0, 1.05]})
    assert sens.readings_glue(rd) == {"r15_rd_min": 1.0, "r15_rd_max": 1.05, "r15_rd_top": "corner",
                                      "r15_rd_n": 3, "r15_rd_ncorner": 2}
    rd.loc[3, "speedup"] = 1.1
    assert sens.readings_glue(rd)["r15_rd_top"] == "b = True"


# -------------------------------------------------------------------------- unstated parameters


def test_unstated_table() -> None:
    t = sens.unstated_table()
    assert list(t.index) == [p.name for p in policies.UNSTATED]
    rp = t.loc["ranks_parallel"]
    assert (rp["default"], rp["low end"], rp["high end"]) == ("True", "False", "True")
    assert rp["read by"] == "Hermes, Hermes-base"


def test_band_summary() -> None:
    bands = pd.DataFrame([
        ("hermes", "llama2_70b", 1, 10.0, 8.0, 12.0, 9.0),    # inside, width 1.5
        ("hermes", "opt_13b", 1, 20.0, 8.0, 16.0, 9.0),       # above, width 2
        ("hermes", "opt_13b", 4, math.nan, 8.0, 16.0, 9.0),   # no paper value
        ("flexgen", "opt_13b", 1, 5.0, 4.0, 6.0, 5.0),        # inside
        ("dejavu", "opt_13b", 1, 5.0, math.nan, math.nan, math.nan),  # cannot run
    ], columns=["policy", "model", "batch", "paper", "low", "high", "default"])
    bars = pd.DataFrame({"policy": ["hermes"] * 3 + ["flexgen"]})
    fig11 = pd.DataFrame({"policy": ["hermes", "hermes", "flexgen"]})
    got = sens.band_summary(bands, bars, fig11)
    assert got.glue.pop("head_band_txt") == "8.00–12.0 tokens/s around the model's 9.00"
    assert got.glue == {"n_inside_all": 2, "n_bars_all": 3, "n_inside_hermes": 1,
                        "n_bars_hermes": 2, "n_hermes_distinct": 3, "n_fig11_hermes": 2,
                        "n_extra_hermes": 1, "head_paper": 10.0, "head_low": 8.0,
                        "head_high": 12.0, "head_default": 9.0, "head_where_txt": "lies in"}
    assert got.table.index.name == "system" and list(got.table.index) == ["FlexGen", "Hermes"]
    assert got.table.loc["Hermes", "median band width (high / low)"] == pytest.approx(1.75)
    assert got.table.loc["Hermes", "paper inside the band"] == 1 and len(got.head) == 1


def test_bands_chart_and_tornado(models: Any) -> None:
    bands = pd.DataFrame({"policy": ["hermes", "hermes", "flexgen"],
                          "model": ["llama2_70b", "opt_13b", "opt_13b"], "batch": [4, 1, 1],
                          "paper": 5.0, "low": 4.0, "high": 6.0, "default": 5.0})
    chart = sens.bands_chart(bands, models)
    d = chart.to_dict()
    assert all(layer["encoding"]["x"]["axis"]["labelAngle"] == -90 for layer in d["spec"]["layer"])
    rows = next(iter(d["datasets"].values()))
    assert [r["label"] for r in rows] == ["OPT-13B", "LLaMA2-70B, batch 4"]
    oat = pd.DataFrame({"batch": [1, 1], "parameter": ["a", "a"], "end": ["low", "high"],
                        "change_frac": [-0.1, 0.2]})
    t = sens.tornado(oat).to_dict()
    assert t["spacing"] == 24
    assert t["spec"]["layer"][0]["encoding"]["x"]["title"] == ["change of tokens/s",
                                                               "from the default (%)"]


def test_about() -> None:
    assert sens.about("gpu_workspace_frac") == ("gpu_workspace_frac (the GPU memory kept for "
                                                "workspace)")
    assert sens.about("not_a_parameter") == "not_a_parameter"


def test_doctests() -> None:
    """The examples of first_supported_text, gap_moves and about."""
    result = doctest.testmod(sens)
    assert result.attempted >= 3 and result.failed == 0


def test_ranking_glue_branches() -> None:
    a, b = policies.UNSTATED[0].name, policies.UNSTATED[1].name
    rank = pd.DataFrame({"parameter": [a, b], "max_spread": [0.1, 0.5],
                         "max_factor": np.exp([0.1, 0.5])})
    rank_all = pd.DataFrame({"parameter": [b]})
    oat = pd.DataFrame({"batch": [1, 1, 16, 16], "parameter": [a, b, a, b],
                        "change_frac": [0.3, -0.1, 0.05, -0.4]})
    got = sens.ranking_glue(rank, rank_all, oat, profile="paper", batches=[1, 16])
    assert got["top_param"] == sens.about(a) and got["second_param"] == sens.about(b)
    assert got["top_param_all"] == sens.about(b) and got["largest_param"] == sens.about(b)
    assert got["top_factor"] == rounded(math.exp(0.1), 3)
    assert got["largest_factor"] == rounded(math.exp(0.5), 3)
    assert got["tornado_top_txt"] == (f"In the tornado the largest swing at batch 1 comes from "
                                      f"{sens.about(a)}, and at batch 16 from {sens.about(b)}.")
    assert "PCIe reading" in got["tornado_small_txt"]
    one = sens.ranking_glue(rank, rank_all, oat[oat["batch"] == 1], profile="datasheet",
                            batches=[1])
    assert one["tornado_top_txt"] == (f"In the tornado the largest swing at batch 1 comes from "
                                      f"{sens.about(a)}.")
    assert one["tornado_small_txt"].startswith("the run is a matter of bytes")


# ---------------------------------------------------------- the chapter's statements at its defaults


@pytest.fixture(scope="module")
def at_defaults(models: Any, activities: Any, system_for: Any) -> SimpleNamespace:
    """What the chapter computes at its defaults (`DEFAULTS`; `system_for` is the paper
    profile's): Fig. 14's sweep and 8 against 16 DIMMs, Fig. 15's sweeps and the T4's gap, the
    bands of every distinct bar and the headline's."""
    counts, batches = DEFAULTS["dimm_counts"], DEFAULTS["fig15_batches"]
    models14 = {s: models[s] for s in sweeps.FIG14_MODELS}
    fig14 = sweeps.dimm_sweep(models14, activities, system_for, n_dimms=counts, **RUN)
    dimms = sens.eight_vs_sixteen(fig14, models["llama2_70b"], activities["llama2_70b"],
                                  system_for, dimm_counts=counts, **RUN)
    models15 = {s: models[s] for s in sweeps.FIG15_MODELS}
    fig15 = sweeps.gpu_sweep(models15, activities, system_for, batches=batches, **RUN)
    speedups = sweeps.gpu_speedups(fig15)
    for_other = partial(io.load_system, "hermes_paper", "datasheet")
    speedups_other = sweeps.gpu_speedups(sweeps.gpu_sweep(
        models15, activities, for_other, gpus=("rtx_3090", "rtx_4090"), batches=batches, **RUN))
    s3090, _ = sens.largest_3090_ratio(speedups, speedups_other, models, profile="paper")
    t4_prefill = sens.prefill_s_at_batch_1(models15, activities, system_for(gpu="t4"), **RUN)
    gap = sens.t4_gap(fig15, speedups, t4_prefill, models15, batches=batches,
                      t4_flop_per_s=hm.load_gpu("t4", "paper").fp16_flop_per_s)
    bars = distinct_bars(pd.concat([io.load_paper_figure(f) for f in ("fig9", "fig10", "fig11")],
                                   ignore_index=True))
    paper_bars = bars[["model", "policy", "batch", "tokens_per_s"]].rename(
        columns={"tokens_per_s": "paper"})
    models_all = {s: models[s] for s in bars["model"].unique()}
    bands = {p: sweeps.band_sweep(paper_bars, models_all, activities,
                                  io.load_system("hermes_paper", p), **RUN)
             for p in ("paper", "datasheet")}
    inside = sens.band_summary(bands["paper"][0], bars, io.load_paper_figure("fig11"))
    return SimpleNamespace(dimms=dimms, fig15=fig15, speedups=speedups, s3090=s3090, gap=gap,
                           models15=models15, one_at_a_time={p: b[1] for p, b in bands.items()},
                           head=inside.head)


def test_defaults_are_the_parameters_cell(system_for: Any) -> None:
    cells = [c for c in json.loads(CHAPTER.read_text(encoding="utf-8"))["cells"]
             if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1
    cell = {n.targets[0].id: ast.literal_eval(n.value)
            for n in ast.parse("".join(cells[0]["source"])).body}
    assert cell == DEFAULTS
    assert system_for() == io.load_system("hermes_paper", DEFAULTS["profile"])


@pytest.mark.parametrize("profile", ["paper", "datasheet"])
def test_two_unknowns_move_hermes_most_bytes_to_batch_4_arithmetic_from_8(
        at_defaults: SimpleNamespace, profile: str) -> None:
    """"at small batches the run is a matter of bytes ... while at large batches ... their
    arithmetic dominates (cycles per operation, and whether a cold unit skips the MACs ...)":
    the two parameters of largest median swing over Hermes' bars, at 128 + 128 tokens under
    either profile (the PCIe reading under the paper's, streaming resident weights in prefill
    under the datasheet's)."""
    oat = at_defaults.one_at_a_time[profile]
    hermes = oat[oat["policy"] == "hermes"]
    top2 = {k: set(sweeps.influence(hermes[sel])["parameter"][:2])
            for k, sel in (("small", hermes["batch"] <= 4), ("large", hermes["batch"] >= 8))}
    assert top2["small"] == {"ranks_parallel", "link_bandwidth_scale" if profile == "paper"
                             else "prefill_streams_resident"}
    assert top2["large"] == {"cycles_per_op", "skip_inactive_macs"}


def test_gpu_keeps_more_than_it_computes_on_at_8_and_16_dimms(at_defaults: SimpleNamespace
                                                              ) -> None:
    """"The GPU keeps llama_gpu_gib GiB ... more than it computes on"."""
    for h in (at_defaults.dimms.h8, at_defaults.dimms.h16):
        assert h.details["gpu_hot_bytes"] < h.details["gpu_cached_bytes"]


def test_sixteen_dimms_hand_work_back_and_shorten_both_blocks(at_defaults: SimpleNamespace
                                                              ) -> None:
    """"At 8 DIMMs that is llama_gpu_load_pct % of the active neurons; most of them stay on the
    DIMMs ... the GPU's share falls ... and both blocks shorten"."""
    h8, h16 = at_defaults.dimms.h8, at_defaults.dimms.h16
    assert h16.details["gpu_load_share"] < h8.details["gpu_load_share"] < 0.5
    assert all(h16.details[f"{k}_block_s"] < h8.details[f"{k}_block_s"] for k in ("qkv", "mlp"))


def test_communication_rises_from_8_to_16_dimms(at_defaults: SimpleNamespace) -> None:
    """"Communication, in contrast, rises from flat_comm_8 to flat_comm_16 ms a step"."""
    comm = at_defaults.dimms.table["communication (ms)"]
    assert list(at_defaults.dimms.table["NDP-DIMMs"]) == [8, 16]
    assert comm.iloc[1] > comm.iloc[0]


def test_split_leaves_both_blocks_balanced_at_8_and_16_dimms(at_defaults: SimpleNamespace
                                                             ) -> None:
    """"The split leaves both blocks balanced at 8 and at 16 DIMMs"."""
    dimms = at_defaults.dimms
    assert all(h.details[f"{k}_balanced"] == 1.0 for h in (dimms.h8, dimms.h16)
               for k in ("qkv", "mlp"))


def test_no_unstated_parameter_alone_flattens_the_curve(at_defaults: SimpleNamespace,
                                                        activities: Any) -> None:
    """"No unstated parameter flattens the curve on its own: ... the gain never falls below
    flat_gain_min %"; per-DIMM bandwidth's default (ranks in parallel) is the top of its range,
    and at the bottom the gain grows (beyond the default's)."""
    dimms = at_defaults.dimms
    assert min(dimms.gains.values()) > 5 and dimms.gains[dimms.bus] > 100 * dimms.change
    assert policies.Assumptions(activity=activities["llama2_70b"]).ranks_parallel


def test_the_headline_lies_in_its_band(at_defaults: SimpleNamespace) -> None:
    """"The paper's headline, LLaMA2-70B at head_paper tokens/s (Fig. 10), lies in a band of
    head_low–head_high tokens/s"."""
    head = at_defaults.head
    assert float(head["low"].iloc[0]) <= float(head["paper"].iloc[0]) <= float(
        head["high"].iloc[0])


def test_t4_gap_narrows_from_1_to_4_and_widens_to_16(at_defaults: SimpleNamespace) -> None:
    """Against the T4: the mean gap narrows from batch 1 to 4 and widens from 4 to 16; the T4 is
    further behind in prefill than in decode."""
    gap = at_defaults.gap
    assert gap.t4[4] < gap.t4[1] and gap.t4[16] > gap.t4[4]
    assert gap.behind and gap.narrow and gap.widen


def test_decode_narrows_the_t4_gap_and_prefill_is_where_it_is_furthest_behind(
        at_defaults: SimpleNamespace) -> None:
    """Decode narrows the T4's gap at every batch, for each model, while the speedup grows from
    4 to 16; "Prefill is where the T4 is furthest behind"."""
    f15, speedups = at_defaults.gap.f15, at_defaults.speedups
    sp = speedups[speedups["over"] == "t4"].set_index(["model", "batch"])["speedup"]
    dec = f15.loc["t4", "decode_step_s"] / f15.loc["rtx_4090", "decode_step_s"]
    pre = f15.loc["t4", "prefill_s"] / f15.loc["rtx_4090", "prefill_s"]
    for s in at_defaults.models15:
        assert dec[s][1] > dec[s][4] > dec[s][16] and sp[(s, 16)] > sp[(s, 4)]
    assert (pre > dec).all()


def test_t4_prefill_is_stream_bound_to_batch_4_and_compute_bound_at_16(
        at_defaults: SimpleNamespace) -> None:
    """The T4's prefill is about as long at batch 4 as at 1 (within 2 %) and a smaller share of
    the run; at 16 the prompt's FLOP at the T4's peak rate alone take longer than its whole
    batch-4 prefill, which streams the same bytes: compute-bound."""
    f15 = at_defaults.gap.f15
    t4p, t4d = f15.loc["t4", "prefill_s"], f15.loc["t4", "decode_step_s"] * RUN["gen_len"]
    t4_flops = hm.load_gpu("t4", "paper").fp16_flop_per_s
    for s, m in at_defaults.models15.items():
        assert abs(t4p[(s, 4)] / t4p[(s, 1)] - 1) < 0.02
        assert t4p[(s, 4)] / (t4p[(s, 4)] + t4d[(s, 4)]) < t4p[(s, 1)] / (t4p[(s, 1)]
                                                                         + t4d[(s, 1)])
        prompt_flop = 2 * 16 * RUN["prompt_len"] * m.n_layers * shapes.layer_weight_bytes(m) / 2
        assert prompt_flop / t4_flops > t4p[(s, 4)]


def test_3090_decodes_as_fast_as_the_4090_and_prefills_as_fast_at_batch_1(
        at_defaults: SimpleNamespace) -> None:
    """Against the 3090 (paper profile): the same decode step as the 4090's at every point, and
    no lead at batch 1 (under 0.5 %)."""
    d = at_defaults.fig15.set_index(["gpu", "model", "batch"])["decode_step_s"]
    assert np.allclose(d["rtx_3090"], d["rtx_4090"], rtol=1e-9)
    s3090 = at_defaults.s3090
    assert (s3090[s3090["batch"] == 1]["speedup"] < 1.005).all()


def test_flat_glue_says_no_change_where_prefill_dominates() -> None:
    """senD (gen_len 1): a gain of 0.13 % is no change, and the text says why: prefill."""
    gains = {"a = 1": 0.11, "ranks_parallel = False": 0.72}
    still = sens.flat_glue(0.0013, gains, like=False, prefill_share=0.992, fc_ms=(29.43, 23.61))
    assert still["flat_holds"]
    assert still["flat_verdict_txt"].startswith(
        "in the model its tokens/s does not change (+0.13 %), within the 10 %")
    assert still["flat_why_txt"] == ("The table shows why it does not: the step's FC part "
                                     "shortens (29.4 → 23.6 ms), but prefill takes 99 % of "
                                     "this run.")
    assert still["flat_close_txt"].startswith('The run is "flat" here only because prefill')
    assert "its tokens/s does not change from 8 to 16 DIMMs (+0.13 %)" in still[
        "flat_summary_txt"]
    assert "gains" not in still["flat_summary_txt"]
    assert "falls as low as 0.11 % (at a = 1)" in still["flat_params_txt"]
    gain = sens.flat_glue(0.12, {"a = 1": 9.0}, prefill_share=0.25)
    assert gain["flat_why_txt"] == "The table shows why it gains."
    assert gain["flat_summary_txt"].endswith("it gains 12 % from 8 to 16 DIMMs, because most "
                                             "active neurons stay on the DIMMs at batch 1: more "
                                             "DIMMs shorten their side, the split moves work off "
                                             "the GPU, and both blocks of each layer get "
                                             "shorter.")


def test_pct_and_sig_text() -> None:
    assert [sens.pct_text(p) for p in (47.3, 0.96, 0.72, 0.013)] == [
        "47 %", "1 %", "0.72 %", "0.013 %"]
    assert sens.sig_text(float("nan")) == "N.P." and sens.sig_text(0.0) == "0"
    assert sens.band_text(0.1862, 0.2331, 0.2301) == (
        "0.186–0.233 tokens/s around the model's 0.230")


def test_prefill_3090_text_reads_the_smallest_batch_swept() -> None:
    """senC/senD: with batch 1 not swept, the sentence says where the stream stops limiting."""
    at1 = sens.prefill_3090_text({"OPT-13B": False, "OPT-30B": False}, batch=1, prompt_len=128)
    assert at1 == ("Prefill at 128 tokens per sequence is limited at batch 1 by streaming the "
                   "cold weights over the same PCIe 4.0 link; as the batch grows the prompt's "
                   "compute outgrows the stream (sooner for OPT-13B, of which less is "
                   "streamed), and only there does the FP16 rate show.")
    at2 = sens.prefill_3090_text({"OPT-13B": False, "OPT-30B": False}, batch=2, prompt_len=64)
    assert at2.startswith("Prefill at 64 tokens per sequence is limited at batch 2 (the "
                          "smallest swept) by streaming")
    grown = sens.prefill_3090_text({"OPT-13B": True, "OPT-30B": True}, batch=16,
                                   prompt_len=128)
    assert grown.endswith("which this run does not sweep; by batch 16, the smallest it sweeps, "
                          "the prompt's compute has outgrown the stream for OPT-13B and "
                          "OPT-30B, and there the FP16 rate shows.")


def test_prefill_3090_at_the_defaults_and_at_batch_16(at_defaults: SimpleNamespace,
                                                      activities: Any, system_for: Any) -> None:
    """At batch 1 the stream limits prefill on both GPUs; by batch 16 (senD's only batch) the
    prompt's compute has outgrown it, for both models (the 3090's FP16 rate is the lower)."""
    sweep, models15 = at_defaults.fig15, at_defaults.models15
    run = {"prompt_len": RUN["prompt_len"], "gen_len": RUN["gen_len"]}
    at1 = sens.prefill_3090(sweep, models15, activities, system_for, batches=[1, 4, 16], **run)
    assert "is limited at batch 1 by streaming" in at1
    at16 = sens.prefill_3090(sweep, models15, activities, system_for, batches=[16], **run)
    assert "by batch 16, the smallest it sweeps, the prompt's compute has outgrown" in at16
