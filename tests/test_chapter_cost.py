"""`hermes_model.chapters.cost`: the cost chapter's tables and sentences (Fig. 17).

Real data where the numbers can be recomputed through lower-level calls (estimates, the decode
bound, the head counts), synthetic tables to drive each branch of the text.
"""

from __future__ import annotations

import math
from functools import partial
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hermes_model import dram, io, plotting, policies, shapes, sweeps
from hermes_model import units as u
from hermes_model.chapters import cost as chapter
from hermes_model.specs import PROFILES

NAN = math.nan
RUN = {"prompt_len": 128, "gen_len": 128}


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def paper17() -> pd.DataFrame:
    return io.load_paper_sensitivity("fig17").set_index("batch")


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return io.load_prices().set_index("slug")


@pytest.fixture(scope="module")
def model():
    return io.load_model(sweeps.FIG17_MODEL)


@pytest.fixture(scope="module")
def systems():
    load = partial(io.load_system, "hermes_paper", "paper")
    return {"hermes": load(), "ref": load(gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS),
            "load": load}


@pytest.fixture(scope="module")
def real(model, systems, paper17):
    """The chapter at its defaults (paper profile, batches 1 to 16, five A100s)."""
    act = policies.activity_from_inputs(io.load_generator_inputs()[model.slug])
    cost = {}
    for p in PROFILES:
        load = partial(io.load_system, "hermes_paper", p)
        cost[p] = sweeps.cost_sweep(model, act, load(), load(gpu=sweeps.FIG17_GPU, n_gpus=5),
                                    batches=sweeps.FIG17_BATCHES, **RUN)
    f = chapter.fig17(cost, paper17, profile="paper", reference_label="ref")
    dep = sweeps.deployment_sweep(model, systems["load"], batches=sweeps.FIG17_BATCHES, **RUN)
    gpu = systems["ref"].gpu
    r = chapter.readings(dep, paper17, model, gpu, batches=sweeps.FIG17_BATCHES, **RUN)
    return SimpleNamespace(act=act, cost=cost, f=f, dep=dep, gpu=gpu, r=r)


def _paper(rows: dict[int, tuple[float, float, float, str]]) -> pd.DataFrame:
    """A synthetic Fig. 17 table: batch → (efficiency, Hermes tokens/s, TRT tokens/s, kind)."""
    return pd.DataFrame([{"batch": b, "efficiency": e, "hermes_tokens_per_s": h,
                          "trt_tokens_per_s": t, "kind": k} for b, (e, h, t, k) in rows.items()]
                        ).set_index("batch")


def _sweep(batches, hermes, ref) -> pd.DataFrame:
    h, r = np.asarray(hermes, float), np.asarray(ref, float)
    return pd.DataFrame({"batch": batches, "hermes_tokens_per_s": h,
                         "reference_tokens_per_s": r, "efficiency": h / r})


SYN_PAPER = _paper({1: (0.8, 10.0, 12.5, "stated"), 2: (0.5, 16.0, 32.0, "inferred"),
                    4: (0.4, 20.0, 50.0, "inferred"), 16: (0.25, 50.0, 200.0, "stated")})


def _fig17(batches, hermes, ref, paper=SYN_PAPER, other=None, **like) -> chapter.Fig17:
    cost = {"paper": _sweep(batches, hermes, ref),
            "datasheet": other if other is not None else _sweep(batches, hermes, ref)}
    return chapter.fig17(cost, paper, profile="paper", reference_label="ref", **like)


# ---------------------------------------------------------------------------- words


@pytest.mark.parametrize(("n", "text"), [(0, "zero"), (5, "five"), (12, "twelve"), (13, "13"),
                                         (-1, "-1")])
def test_words(n, text) -> None:
    assert chapter.words(n) == text


@pytest.mark.parametrize(("n", "text"), [
    (2, "a half"), (4, "a quarter"), (8, "an eighth"), (11, "an eleventh"), (20, "a twentieth"),
    (20.0 + 1e-12, "a twentieth"), (22, "a twenty-second"), (24, "a twenty-fourth"),
    (30, "a thirtieth"), (41, "a forty-first"), (80, "an eightieth"), (99, "a ninety-ninth"),
    (12.5, "1/12.5"), (100, "1/100"), (1, "1/1"), (1 / 0.3, "1/3.33")])
def test_fraction_text(n, text) -> None:
    assert chapter.fraction_text(n) == text


# ------------------------------------------------------------------------------ setup


def test_parameters_checks_and_normalises() -> None:
    got = chapter.parameters("Paper", [16, 1, 4.0], "A100-40G-SXM4", 5, 128, 64)
    assert got == ("paper", [1, 4, 16], "a100_40g_sxm4", 5, 128, 64)
    assert got.reference_n_gpus == 5 and got.gen_len == 64
    for args, name in [(("x", [1], "a100_40g_sxm4", 5, 1, 1), "profile"),
                       (("paper", [], "a100_40g_sxm4", 5, 1, 1), "batches"),
                       (("paper", [1], "no_such_gpu", 5, 1, 1), "reference_gpu"),
                       (("paper", [1], "a100_40g_sxm4", 0, 1, 1), "reference_n_gpus"),
                       (("paper", [1], "a100_40g_sxm4", 5, 1.5, 1), "prompt_len"),
                       (("paper", [1], "a100_40g_sxm4", 5, 1, -2), "gen_len")]:
        with pytest.raises(ValueError, match=f"parameter '{name}'"):
            chapter.parameters(*args)


def test_check_run(model, systems, paper17) -> None:
    assert chapter.check_run(model, systems["ref"], paper17, [2, 3, 16], **RUN) == [2, 16]
    with pytest.raises(ValueError, match=r"^parameter 'batches': must include one of the "
                                         r"paper's batches 1, 2, 4, 8, 16, got \[3, 5\]$"):
        chapter.check_run(model, systems["ref"], paper17, [3, 5], **RUN)
    with pytest.raises(ValueError, match=r"parameters 'prompt_len' and 'gen_len': .*4224"):
        chapter.check_run(model, systems["ref"], paper17, [1], prompt_len=4096, gen_len=128)
    one = systems["load"](gpu=sweeps.FIG17_GPU, n_gpus=1)
    with pytest.raises(ValueError, match=r"^parameters 'reference_gpu' and 'reference_n_gpus': "
                                         r"1 x a100_40g_sxm4 cannot run .* at batch 2 \("):
        chapter.check_run(model, one, paper17, [2, 4], **RUN)


def test_setup_glue_from_synthetic_tables() -> None:
    prices = pd.DataFrame({"price_usd": [2345.6, 123456.0]},
                          index=[chapter.HERMES_PRICE, chapter.REFERENCE_PRICE])
    ref = SimpleNamespace(n_gpus=13, gpu=SimpleNamespace(name="Some GPU"))
    got = chapter.setup_glue(prices, SYN_PAPER, ref, "datasheet")
    assert got == {"price_hermes_txt": "$2,346", "price_ref_txt": "$123,456",
                   "paper_stated_bs_lo": 1, "paper_stated_eff_lo_pct": 80.0,
                   "paper_stated_bs_hi": 16, "paper_stated_eff_hi_pct": 25.0,
                   "paper_inferred_bs": "2 and 4", "n_ref": "13", "n_ref_cap": "13",
                   "ref_gpu_name": "Some GPU", "profile_name": "datasheet"}
    # the paper's 79.1 % stays 79.1, not 79.10000000000001
    assert chapter.setup_glue(prices, _paper({1: (0.791, 1, 1, "stated")}), ref, "paper")[
        "paper_stated_eff_lo_pct"] == 79.1
    assert chapter.setup_glue(prices, SYN_PAPER, SimpleNamespace(n_gpus=5, gpu=ref.gpu),
                              "paper")["n_ref_cap"] == "Five"


# ---------------------------------------------------------------------------- Fig. 17


def test_fig17_tables_and_np_marks() -> None:
    other = _sweep([1, 3, 16], [10.0, 15.0, 25.0], [20.0, NAN, 100.0])
    f = _fig17([1, 3, 16], [12.5, 15.0, NAN], [25.0, 30.0, 100.0], other=other)
    assert (f.other, f.batches, f.runs, f.paper_runs) == ("datasheet", [1, 3, 16], (1, 3), (1,))
    e = f.eff.set_index("batch")
    assert e.loc[1, "model"] == 0.5 and e.loc[1, "paper"] == 0.8
    assert e.loc[1, "model - paper (points)"] == pytest.approx(-30.0)
    assert e.loc[1, "model / paper - 1 (%)"] == pytest.approx(-37.5)
    assert e.loc[1, "paper Hermes / model Hermes"] == 0.8
    assert e.loc[1, "paper reference / model reference"] == 0.5
    assert np.isnan(e.loc[3, "paper"]) and e.loc[3, "model (datasheet)"] != e.loc[3, "model"]
    # 2 systems x 2 profiles x 3 batches, less the NaN Hermes and datasheet reference,
    # plus the paper's two series at batches 1 and 16
    assert len(f.frame) == 12 - 2 + 4
    assert set(f.frame["series"]) == {"model, paper profile", "model, datasheet profile", "paper"}
    assert f.ratios["ratio"].tolist() == ["batch 1", "batch 3", "batch 16"]
    shown = chapter.efficiency_table(f).set_index("batch")
    assert shown.loc[16, "model"] == "N.P." and shown.loc[16, "paper"] == "0.250"
    assert shown.loc[16, "paper reference / model reference"] == "2.00"
    assert shown.loc[3, "paper"] == "—" and shown.loc[3, "model (datasheet)"] == "N.P."
    assert shown.loc[1, "model - paper (points)"] == "-30.0"


def test_fig17_needs_a_batch_to_compare() -> None:
    with pytest.raises(ValueError, match="no batch where both"):
        _fig17([1, 3], [NAN, 1.0], [1.0, 1.0])


def test_fig17_glue_sentences(systems, model) -> None:
    dimm = systems["hermes"].dimm
    f = _fig17([1, 2, 4, 16], [12.5, 20.0, 16.0, 10.0], [25.0, 40.0, 80.0, 100.0])
    g = chapter.fig17_glue(f, model, dimm)
    assert (g["bs_first"], g["bs_last"], g["paper_bs_first"]) == (1, 16, 1)
    assert (g["eff_bs1"], g["eff_bslast"], g["paper_eff_first"]) == (0.5, 0.1, 0.8)
    assert g["eff_txt"] == ("In the model Hermes reaches 0.500 of the reference at batch 1 "
                            "(paper 0.800) and 0.100 at batch 16 (paper 0.250).")
    assert g["table_txt"] == "The table gives every batch with the error."
    # the model's reference over the paper's: 25/12.5, 40/32, 80/50 and 100/200
    assert g["ref_over_paper_med"] == plotting.rounded(float(np.median([2, 1.25, 1.6, 0.5])), 3)
    assert g["ref_range_txt"] == "median; 0.50× to 2.00× over the batches"
    assert (g["h_bs1_diff_pct"], g["h_bs1_word"]) == (25.0, "faster than the paper's")
    assert g["h_fast_txt"] == "up to 1.25× as fast"
    assert g["cancel_txt"] == "partly or wholly cancels"
    trend = g["hermes_trend_txt"]
    assert trend.startswith("From batch 1 to batch 16 the model's Hermes gains 0.80× and the "
                            "paper's 5.00×. The model's is fastest at batch 2: at large batches")
    assert trend.endswith("At batch 16 the paper's Hermes is 5.00× the model's, and the model's "
                          "ratio falls faster with the batch than the paper's.")
    assert g["summary_ratios_txt"] == (
        "From batch 1 to 16 the model's Hermes gains 0.80× where the paper's gains 5.00×, so the "
        "model's ratio goes from 0.50 to 0.10 (the paper's from 0.800 to 0.250).")
    # ratios 0.5, 0.5, 0.2, 0.1 against 0.8, 0.5, 0.4, 0.25: only batch 2 within 35 %
    assert g["summary_match_txt"] == (
        "The model's ratio lies within ±35 % of the paper's at batch 2 and misses it at batches 1, 4 "
        "and 16. Where it matches, two errors cancel: the model's Hermes is 1.25× as fast as the "
        "paper's there, and its reference 1.25× as fast as the one the paper's ratios imply. At "
        "batches 1, 4 and 16 the model's Hermes is 1.25×, 0.80× and 0.20× the paper's, while "
        "its reference stays 0.50–2.00× as fast.")
    # falling in both, all within: no miss sentence; none within: one sentence
    near = chapter.fig17_glue(_fig17([1, 2, 4, 16], [10.0, 16.0, 20.0, 50.0],
                                     [12.5, 32.0, 50.0, 200.0]), model, dimm)
    assert near["summary_match_txt"] == (
        "The model's ratio falls with the batch, as the paper's does; it lies within ±35 % of "
        "the paper's at batches 1, 2, 4 and 16.")
    far = chapter.fig17_glue(_fig17([1, 2, 4, 16], [1.0, 1.0, 1.0, 1.0],
                                    [12.5, 32.0, 50.0, 200.0]), model, dimm)
    assert far["summary_match_txt"] == (
        "The model's ratio falls with the batch, as the paper's does; it misses the paper's by "
        "more than ±35 % at every batch where the paper gives one (batches 1, 2, 4 and 16).")
    # the DIMM's bandwidth on chunks of one fp16 row, after its efficiency, below the peak of
    # its ranks
    bw = float(dram.dimm_bandwidth_bytes_per_s(dimm, pattern="chunks",
                                               chunk_bytes=2 * model.d_model))
    assert g["dimm_bw_gbs"] == plotting.rounded(bw * dimm.efficiency.bandwidth_frac / 1e9, 3)
    peak_gbs = dimm.n_ranks * dimm.data_rate_transfers_per_s * dimm.bus_width_bits / 8 / u.GB
    assert 0 < g["dimm_bw_gbs"] <= peak_gbs


def test_fig17_glue_branches_without_paper_values(systems, model) -> None:
    dimm = systems["hermes"].dimm
    # the model runs at 3 and 16 only, the paper gives 16 only; the model's Hermes is slower
    f = _fig17([1, 3, 16, 32], [NAN, 30.0, 40.0, 50.0], [10.0, 60.0, 160.0, NAN])
    g = chapter.fig17_glue(f, model, dimm)
    assert g["eff_txt"] == ("In the model Hermes reaches 0.500 of the reference at batch 3 (the "
                            "paper gives no value there) and 0.250 at batch 16 (paper 0.250).")
    assert g["table_txt"] == ("The table gives every batch with the error; at batches 1 and 32 "
                              "the model cannot run (N.P.).")
    assert g["ref_range_txt"] == "at batch 16, the only batch shown where the paper gives a value"
    assert (g["h_bs1_diff_pct"], g["h_bs1_word"]) == (20.0, "slower than the paper's")
    assert g["h_fast_txt"] == "at most 0.80× as fast" and g["cancel_txt"] == "adds to"
    assert g["hermes_trend_txt"] == (
        "The paper gives a value only at batch 16 of the batches shown. The model's is fastest "
        "at the largest batch shown, 16. At batch 16 the paper's Hermes is 1.25× the model's.")
    assert g["summary_ratios_txt"] == ("From batch 3 to 16 the model's Hermes gains 1.33×, so the "
                                       "model's ratio goes from 0.50 to 0.25; the paper's is "
                                       "0.250 at batch 16.")
    one = chapter.fig17_glue(_fig17([4], [8.0], [32.0]), model, dimm)
    assert one["eff_txt"] == ("In the model Hermes reaches 0.250 of the reference at batch 4 "
                              "(paper 0.400).")
    assert one["table_txt"] == "The table gives every batch with the error."
    assert one["summary_ratios_txt"] == ("At batch 4 the model's ratio is 0.25; the paper's is "
                                         "0.400 at batch 4.")
    # the paper covers a part of the model's batches: its ratios are named with their batches
    part = chapter.fig17_glue(_fig17([1, 2, 4, 32], [10.0, 12.0, 30.0, 16.0],
                                     [10.0, 20.0, 40.0, 80.0]), model, dimm)
    assert part["summary_ratios_txt"] == (
        "From batch 1 to 32 the model's Hermes gains 1.60×, so the model's ratio goes from 1.00 "
        "to 0.20; the paper's goes from 0.800 at batch 1 to 0.400 at batch 4.")
    assert part["hermes_trend_txt"].endswith("ratio falls more slowly with the batch than the "
                                             "paper's.")


def test_fig17_at_the_defaults_agrees_with_the_estimates(real, model, systems) -> None:
    """The ratio at batch 1 recomputed from the two policies' estimates."""
    opts = policies.Assumptions(activity=real.act)
    h = policies.estimate(policies.Policy.HERMES, model, systems["hermes"], batch=1,
                          options=opts, **RUN)
    g = policies.estimate(policies.Policy.GPU_ONLY, model, systems["ref"], batch=1,
                          options=opts, **RUN)
    glue = chapter.fig17_glue(real.f, model, systems["hermes"].dimm)
    assert glue["eff_bs1"] == plotting.rounded(h.tokens_per_s / g.tokens_per_s, 3)
    assert glue["paper_eff_first"] == 0.791 and glue["paper_bs_first"] == 1
    assert real.f.runs == real.f.paper_runs == sweeps.FIG17_BATCHES


# ------------------------------------------------------------------ the paper's reference


def test_summary_match_at_the_defaults_agrees_with_the_scorecard(real, model, systems) -> None:
    """The summary's batches within ±35 % are those where the scorecard's Fig. 17 ratio rows
    hold (the same rule, number_error with rel_35)."""
    from hermes_model import scorecard as sc
    text = chapter.fig17_glue(real.f, model, systems["hermes"].dimm)["summary_match_txt"]
    e = real.f.eff.set_index("batch").loc[list(real.f.paper_runs)]
    holds = [int(b) for b in e.index
             if sc.holds_number(e.loc[b, "model"], e.loc[b, "paper"], "rel_35")]
    assert holds == [1, 2, 4]
    assert "lies within ±35 % of the paper's at batches 1, 2 and 4 and misses it at batches 8 " \
           "and 16." in text
    assert "Where it matches, two errors cancel" in text


def test_readings_at_the_defaults(real, model, paper17) -> None:
    r, gpu = real.r, real.gpu
    weights = shapes.weight_bytes(model, "fp16")
    # the largest count up to five dividing 64 heads and 8 KV heads
    assert (r.n_gpus, r.n_div) == (5, math.gcd(model.n_heads, model.n_kv_heads, 4))
    assert r.peak_tokens_per_s == pytest.approx(5 * gpu.memory_bandwidth_bytes_per_s / weights)
    assert r.attained_tokens_per_s == pytest.approx(
        5 * gpu.memory_bandwidth_bytes_per_s * gpu.efficiency.bandwidth_frac / weights)
    assert r.attained_tokens_per_s < r.peak_tokens_per_s
    kv = shapes.kv_cache_bytes_per_token(model, "fp16")
    assert r.need_bytes == pytest.approx(weights + 16 * 256 * kv)
    assert r.have_bytes == pytest.approx(
        4 * gpu.memory_bytes * (1 - policies.Assumptions().gpu_workspace_frac))
    assert r.paper_batch1_tokens_per_s == float(paper17.loc[1, "trt_tokens_per_s"])
    assert np.allclose(r.ratio_to_paper.loc["paper (implied by its ratios)"], 1.0)
    assert r.table.index[-1] == "paper (implied by its ratios)" and len(r.table) == 5
    shown = chapter.readings_table(r)
    assert shown.columns.name == "tokens/s at batch"
    assert shown.loc["paper (implied by its ratios)", 1] == "17.4"


def test_readings_glue_at_the_defaults(real, model) -> None:
    g = chapter.readings_glue(real.r, real.dep, real.f, model, real.gpu)
    t = real.dep.set_index(["deployment", "batch"])["tokens_per_s"]
    tp5 = t["tensor parallel x5, NVLink"]
    assert g["tp_build_txt"] == "not a deployment TensorRT-LLM can build"
    assert (g["div_same"], g["n_div"], g["n_heads"], g["n_kv_heads"]) == ("one fewer", 4, 64, 8)
    assert g["paper_ref_bs1"] == 17.4 and g["bs_max"] == 16
    assert g["over_batches_txt"] == "median over the batches"
    assert g["ref_model_first"] == plotting.rounded(float(tp5[1]), 4)
    assert g["paper_h_over_tp_first"] == plotting.rounded(13.75 / float(tp5[1]), 4)
    implied = np.array([17.4, 35.9, 68.4, 124.5, 233.7])
    assert g["tp_over_paper_med"] == plotting.rounded(float(np.median(tp5.to_numpy() / implied)),
                                                      3)
    assert g["paper_over_tp"] == plotting.rounded(
        1 / float(np.median(tp5.to_numpy() / implied)), 4)
    pcie = 100 * (1 - t["tensor parallel x5, PCIe"] / tp5)
    assert g["pcie_cost_txt"] == f"{pcie.min():.0f} % to {pcie.max():.0f} %"
    # the decode bound over five A100s at batch 1, and the paper's reference as a share of it
    weights = shapes.weight_bytes(model, "fp16")
    peak = 5 * real.gpu.memory_bandwidth_bytes_per_s / weights
    assert g["roof_peak"] == plotting.rounded(peak, 4)
    assert g["paper_ref_share"] == plotting.rounded(100 * 17.4 / peak, 4)
    assert g["weights_gb"] == plotting.rounded(weights / 1e9, 4)
    # four A100s (the divisor) after the workspace against the weights and batch 16's KV cache
    need = weights + 16 * 256 * shapes.kv_cache_bytes_per_token(model, "fp16")
    have = 4 * real.gpu.memory_bytes * (1 - policies.Assumptions().gpu_workspace_frac)
    assert g["div_need_gib"] == plotting.rounded(need / 2**30, 4)
    assert g["div_have_gib"] == plotting.rounded(have / 2**30, 4)
    assert g["div_fits"] == ("it fits" if need <= have else "it does not fit")
    assert g["tp_div_share_pct"] == plotting.rounded(
        100 * t["tensor parallel x4, NVLink"][1] / tp5[1], 4)


def test_readings_glue_when_the_count_divides_the_heads(model, paper17) -> None:
    """Four GPUs: no divisor row, the deployment can be built; one batch with the paper's value."""
    gpu = io.load_gpu(sweeps.FIG17_GPU)
    dep = pd.DataFrame([{"deployment": d, "n_gpus": 4, "batch": 2, "tokens_per_s": v,
                         "supported": True}
                        for d, v in (("tensor parallel x4, NVLink", 40.0),
                                     ("tensor parallel x4, PCIe", 30.0),
                                     ("pipeline x4, one batch in flight", 10.0))])
    r = chapter.readings(dep, paper17, model, gpu, batches=[2], **RUN)
    f = _fig17([2], [20.0], [40.0])
    g = chapter.readings_glue(r, dep, f, model, gpu)
    assert (r.n_gpus, r.n_div) == (4, 4)
    assert g["tp_build_txt"] == "a deployment TensorRT-LLM can build"
    assert g["div_same"] == "the count itself" and g["tp_div_share_pct"] == 100.0
    assert g["pcie_cost_txt"] == "25 %" and g["over_batches_txt"] == "at batch 2"
    assert g["tp_over_paper_med"] == plotting.rounded(40.0 / 35.9, 3)
    assert g["pp_over_paper"] == plotting.rounded(10.0 / 35.9, 4)
    assert g["own_ratio_first"] == 0.5 and g["paper_h_first"] == 16.0
    assert g["own_ratio_txt"] == (f"the model's own ratio, its Hermes over four {gpu.name} GPUs "
                                  "run tensor parallel, is 0.50")
    # another reference: the sentence names both, with the chapter's reference's own ratio
    other = io.load_system("hermes_paper", "paper", gpu="a100_80g_sxm4", n_gpus=8)
    g8 = chapter.readings_glue(r, dep, f, model, gpu, other)
    assert g8["own_ratio_txt"].endswith(f"(over this chapter's reference, eight {other.gpu.name} "
                                        "GPUs, it is 0.50, as in the table of Fig. 17)")


# -------------------------------------------------------------------------- per dollar


def test_per_dollar_is_efficiency_times_price_ratio(real, prices) -> None:
    per_k = chapter.per_dollar(real.f, prices)
    ratio = prices.loc["trt_llm_5x_a100_40g", "price_usd"] / prices.loc["hermes_system",
                                                                           "price_usd"]
    assert np.allclose(per_k["Hermes / reference, model"], real.f.eff["model"] * ratio)
    # the paper's tokens/s are rounded: its ratios agree to half a per cent
    assert np.allclose(per_k["Hermes / reference, paper"], real.f.eff["paper"] * ratio,
                       rtol=5e-3)
    assert per_k["reference, paper"].iloc[0] == pytest.approx(1000 * 17.4 / 50_000)
    g = chapter.per_dollar_glue(real.f, per_k, prices)
    assert (g["price_ratio"], g["price_fraction_txt"]) == (20.0, "a twentieth")
    assert g["gpu_share_pct"] == plotting.rounded(100 * 1599 / 2500, 3)
    assert g["breakeven_ratio"] == plotting.rounded(1 / real.f.eff["model"].min(), 3)


def test_per_dollar_branches() -> None:
    prices = pd.DataFrame({"price_usd": [1000.0, 8000.0, 500.0]},
                          index=[chapter.HERMES_PRICE, chapter.REFERENCE_PRICE,
                                 chapter.GPU_PRICE])
    # ratios 0.5 and 0.1: x8 gives 4 and 0.8; the breakeven is 10 > 8
    f = _fig17([1, 8, 16], [12.5, 10.0, NAN], [25.0, 100.0, 1.0])
    per_k = chapter.per_dollar(f, prices)
    g = chapter.per_dollar_glue(f, per_k, prices)
    assert g["perdollar_txt"] == ("Hermes delivers 4.0× the reference's tokens/s per dollar at "
                                  "batch 1 in the model and 0.8× at batch 8 (the paper's numbers "
                                  "give 6.4× at batch 1)")
    assert (g["ahead_txt"], g["claim_word"]) == (
        "does not stay ahead at every batch shown with the paper's prices", "does not survive")
    assert (g["breakeven_ratio"], g["price_ratio"], g["gpu_share_pct"]) == (10.0, 8.0, 50.0)
    assert g["price_fraction_txt"] == "an eighth"
    shown = chapter.per_dollar_table(f, per_k).set_index("batch")
    assert shown.loc[16, "Hermes, model"] == "N.P." and shown.loc[16, "reference, model"] == "0.12"
    assert shown.loc[16, "Hermes / reference, model"] == "N.P."
    assert shown.loc[8, "Hermes, paper"] == "—"
    f = _fig17([1, 16], [12.5, 30.0], [25.0, 100.0])
    cheap = chapter.per_dollar_glue(f, chapter.per_dollar(f, prices), prices)
    assert cheap["perdollar_txt"].endswith("(the paper's numbers give 2.0× there)")
    assert (cheap["ahead_txt"], cheap["claim_word"]) == (
        "stays ahead at every batch shown with the paper's prices", "survives")


def test_another_reference_is_not_priced_at_the_papers_50000() -> None:
    """costB (8x A100-80GB): prices.yaml prices only the paper's five-A100 server, so the
    model's per-dollar values for another reference are n/a, not 5.5x at $50,000."""
    prices = pd.DataFrame({"price_usd": [1000.0, 8000.0, 500.0]},
                          index=[chapter.HERMES_PRICE, chapter.REFERENCE_PRICE,
                                 chapter.GPU_PRICE])
    f = _fig17([1, 8, 16], [12.5, 10.0, NAN], [25.0, 100.0, 1.0], paper_reference=False)
    per_k = chapter.per_dollar(f, prices)
    assert per_k["reference, model"].isna().all()
    assert per_k["Hermes / reference, model"].isna().all()
    assert per_k["Hermes, paper"].iloc[0] == pytest.approx(1000 * 10.0 / 1000)  # paper's: priced
    shown = chapter.per_dollar_table(f, per_k).set_index("batch")
    assert shown.loc[1, "Hermes / reference, model"] == chapter.NO_PRICE
    assert shown.loc[16, "Hermes / reference, model"] == "N.P."  # Hermes cannot run
    g = chapter.per_dollar_glue(f, per_k, prices)
    assert "Hermes delivers" not in g["perdollar_txt"] and "n/a (no sourced price" in g[
        "perdollar_txt"]
    assert g["ahead_txt"].startswith("against this reference is n/a")
    assert g["claim_word"].startswith("is n/a for this reference")


def test_comparison_text_and_marks(model, systems) -> None:
    """costB: other lengths and another reference are said at the top and on the verdicts."""
    paper_ref = io.load_system("hermes_paper", "paper", gpu=sweeps.FIG17_GPU,
                               n_gpus=sweeps.FIG17_N_GPUS)
    other_ref = io.load_system("hermes_paper", "paper", gpu="a100_80g_sxm4", n_gpus=8)
    assert chapter.is_paper_reference(paper_ref) and not chapter.is_paper_reference(other_ref)
    assert chapter.comparison_text(paper_ref, prompt_len=128, gen_len=128).endswith(
        "like for like.")
    assert "not like for like" not in chapter.comparison_text(paper_ref, prompt_len=128,
                                                              gen_len=128)
    both = chapter.comparison_text(other_ref, prompt_len=512, gen_len=32)
    assert both.startswith("This run uses 512 prompt tokens") and "eight NVIDIA A100 80GB" in both
    f = _fig17([1, 16], [12.5, 30.0], [25.0, 100.0], paper_lengths=False, paper_reference=False)
    g = chapter.fig17_glue(f, model, systems["hermes"].dimm)
    assert g["summary_match_txt"].startswith(
        "Not like for like (other lengths and another reference than the paper's): the model's")
    assert g["h_bs1_word"].endswith("not this run's lengths)")
    assert g["ref_range_txt"].endswith("not like for like: other GPUs than the paper's")
    like = chapter.fig17_glue(_fig17([1, 16], [12.5, 30.0], [25.0, 100.0]), model,
                              systems["hermes"].dimm)
    assert not like["summary_match_txt"].startswith("Not like")


def test_price_table(prices) -> None:
    table = chapter.price_table(prices)
    assert table.index.name == "system" and list(table.columns) == ["price (USD)", "source"]
    assert table["price (USD)"].tolist() == [f"{v:,.0f}" for v in prices["price_usd"]]


def test_comparison_flags_and_doctests():
    """Like for like only with the paper's 128/128 run and its five A100-40GB."""
    import doctest

    five = io.load_system("hermes_paper", "paper", gpu="a100_40g_sxm4", n_gpus=5)
    four = io.load_system("hermes_paper", "paper", gpu="a100_40g_sxm4", n_gpus=4)
    assert chapter.comparison_flags(five, prompt_len=128, gen_len=128) == {
        "paper_lengths": True, "paper_reference": True}
    assert chapter.comparison_flags(four, prompt_len=512, gen_len=128) == {
        "paper_lengths": False, "paper_reference": False}
    assert doctest.testmod(chapter).failed == 0


def test_range_text_prints_one_value_where_the_ends_agree() -> None:
    """costC: a spread of one value at two decimals reads "1.76× at both batches"."""
    assert chapter.range_text(np.array([0.5, 2.0, 1.2]), 1) == (
        "median; 0.50× to 2.00× over the batches")
    assert chapter.range_text(np.array([1.757, 1.762]), 1) == "median; 1.76× at both batches"
    assert chapter.range_text(np.array([1.757, 1.762, 1.76]), 2) == (
        "median; 1.76× at all 3 batches")
    assert chapter.range_text(np.array([1.76]), 4) == (
        "at batch 4, the only batch shown where the paper gives a value")


def test_fig17_labels_the_papers_reference_as_its_own() -> None:
    """The paper's implied TensorRT-LLM tokens/s sit with the model's reference only where that
    reference is the paper's five A100-40GB; else in a panel named for the paper's."""
    same = _fig17([1, 2], [12.5, 20.0], [25.0, 40.0])
    other = _fig17([1, 2], [12.5, 20.0], [25.0, 40.0], paper_reference=False)
    for f, name in ((same, "ref"), (other, chapter.PAPER_REFERENCE_LABEL)):
        paper = f.frame[(f.frame["series"] == "paper") & (f.frame["system"] != "Hermes")]
        assert set(paper["system"]) == {name}
    assert chapter.PAPER_REFERENCE_LABEL == "TensorRT-LLM, 5x A100-40GB (paper, implied)"
    assert set(other.frame.loc[other.frame["series"] != "paper", "system"]) == {"Hermes", "ref"}


def test_fig17_ticks_txt_names_the_papers_reference(systems, model) -> None:
    dimm = systems["hermes"].dimm
    same = chapter.fig17_glue(_fig17([1, 2], [12.5, 20.0], [25.0, 40.0]), model, dimm)
    assert same["fig17_ticks_txt"] == "the reference's tokens/s implied by the paper's ratios"
    other = chapter.fig17_glue(_fig17([1, 2], [12.5, 20.0], [25.0, 40.0],
                                      paper_reference=False), model, dimm)
    assert other["fig17_ticks_txt"].startswith("the tokens/s of the paper's reference, "
                                               "TensorRT-LLM on five A100-40GB")
