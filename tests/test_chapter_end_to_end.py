"""Tests of hermes_model.chapters.end_to_end: the end-to-end chapter's tables and sentences.

Real values are recomputed through lower-level package calls (policies.estimate, the DIMM's
rates); the text branches are driven by small synthetic tables (N.P. bars, no fall, ...)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import dram, io, ndp, policies, shapes
from hermes_model import scorecard as sc
from hermes_model.chapters import end_to_end as e2e
from hermes_model.roofline import prose_list

NP = sc.NP
SLUGS = ("opt_13b", "falcon_40b", "llama2_70b")
NAMES = {"opt_13b": "OPT-13B", "falcon_40b": "Falcon-40B", "llama2_70b": "LLaMA2-70B"}


@pytest.fixture(scope="module")
def world():
    """The paper's system under both profiles, three models, their activities and their bars."""
    systems = {p: hm.load_system("hermes_paper", p, gpu="rtx_4090", n_dimms=8)
               for p in e2e.PROFILES}
    models = {s: hm.load_model(s) for s in SLUGS}
    activities = {k: policies.activity_from_inputs(v)
                  for k, v in io.load_generator_inputs().items()}
    paper = {f: (t := io.load_paper_figure(f))[t["model"].isin(SLUGS)].reset_index(drop=True)
             for f in ("fig9", "fig10", "fig11")}
    bars = {f: e2e.profile_bars(t, systems, activities, models, prompt_len=128, gen_len=128)
            for f, t in paper.items()}
    stated = io.load_paper_figure("averages").set_index("name")
    return {"systems": systems, "models": models, "activities": activities, "paper": paper,
            "bars": bars, "stated": stated}


def _opts(world, slug, **kw):
    return policies.Assumptions(activity=world["activities"][slug], **kw)


# ------------------------------------------------------------------------------- text helpers


def test_np_or_ratio_and_span_say_np_for_nan():
    assert e2e.np_or(math.nan, ".2f") == NP and e2e.np_or(1.234, ".2f") == "1.23"
    assert e2e.np_or(-3.4, "+.0f") == "-3"
    assert e2e.ratio_text(np.nan) == NP and e2e.ratio_text(0.456) == "0.46"
    # the chapter's ranges are `units.span_text`: equal ends print once (hh_range_*)
    assert not hasattr(e2e, "span_text")


# ------------------------------------------------------------------------------------- setup


def test_checked_parameters_normalise_and_tell_the_paper_configuration():
    values, paper_config = e2e.checked_parameters("llama2_70b", 1, 8, "rtx_4090", "Paper",
                                                  128, 128.0)
    assert values == ("llama2_70b", 1, 8, "rtx_4090", "paper", 128, 128) and paper_config
    assert isinstance(values[-1], int)
    values, paper_config = e2e.checked_parameters("falcon_40b", 4, 16, "rtx_3090", "datasheet",
                                                  128, 128)
    assert not paper_config and values[2] == 16
    with pytest.raises(ValueError, match="parameter 'batch'"):
        e2e.checked_parameters("llama2_70b", 0, 8, "rtx_4090", "paper", 128, 128)
    with pytest.raises(ValueError, match="parameter 'profile'"):
        e2e.checked_parameters("llama2_70b", 1, 8, "rtx_4090", "vendor", 128, 128)
    # the rule counts every parameter, the model, the batch and the profile included
    for i, other in ((0, "opt_13b"), (1, 2), (4, "datasheet"), (6, 1)):
        args = list(e2e.PAPER_CONFIG)
        args[i] = other
        assert not e2e.checked_parameters(*args)[1], args
    assert e2e.PAPER_CONFIG == ("llama2_70b", 1, 8, "rtx_4090", "paper", 128, 128)
    assert e2e.PAPER_LENGTHS == (128, 128)


def test_other_profile_and_setup_glue():
    assert e2e.other_profile("paper") == "datasheet" and e2e.other_profile("datasheet") == "paper"
    fig10 = pd.DataFrame({"model": ["llama2_70b", "llama2_70b", "opt_13b"],
                          "policy": ["hermes", "hermes-base", "hermes"],
                          "tokens_per_s": [13.75, 2.5, 90.0]})
    assert e2e.setup_glue("datasheet", fig10) == {"profile_here": "datasheet",
                                                  "headline_paper": sc.paper_text(13.75)}


def test_why_np_names_the_dimms_or_the_reason(world):
    m, opts = world["models"]["llama2_70b"], _opts(world, "llama2_70b")
    one = hm.load_system("hermes_paper", "paper", gpu="rtx_4090", n_dimms=1)
    k = policies.min_dimms("hermes", m, one, options=opts)
    assert k is not None and k > 1
    assert e2e.why_np("hermes", m, one, batch=1, options=opts) == (
        f"it needs at least {k} NDP-DIMMs, not 1")
    assert e2e.why_np("hermes", m, world["systems"]["paper"], batch=1, options=opts) == ""
    bare = policies.Assumptions()  # no activity statistics: no pool runs it, the policy says why
    reason = policies.estimate("hermes", m, one, options=bare).reason
    assert reason and e2e.why_np("hermes", m, one, batch=1, options=bare) == reason


# ---------------------------------------------------------------------------------- tables


def test_unstated_table_lists_every_unstated_parameter():
    t = e2e.unstated_table()
    assert list(t["parameter"]) == [p.name for p in policies.UNSTATED]
    first = policies.UNSTATED[0]
    assert t.loc[0, "default"] == str(first.default) and t.loc[0, "low end"] == str(first.low)
    assert t.loc[0, "systems"] == ", ".join(sc.SYSTEM_NAMES.get(x, x) for x in first.policies)


def test_calibrated_table_reads_the_system(world):
    system = world["systems"]["paper"]
    t = e2e.calibrated_table(system).set_index("constant")
    gpu, link = system.gpu.efficiency, system.host_link.efficiency

    def us(t_s):  # seconds as the table prints microseconds (4 significant digits)
        return f"{float(f'{t_s * 1e6:.4g}'):g} µs"

    assert t.loc["GPU bandwidth, compute fractions, t_0", "value"] == (
        f"{gpu.bandwidth_frac}, {gpu.compute_frac}, {us(gpu.overhead_s)}")
    assert t.loc["PCIe fraction, latency", "value"] == (
        f"{link.bandwidth_frac}, {us(link.overhead_s)}")
    assert t.loc["gather penalty", "value"] == str(policies.GATHER_PENALTY)
    assert t.loc["pageable / pinned copy", "value"] == f"{policies.PAGEABLE_COPY_FRAC:.2f}"
    assert t.loc["kernel in a CUDA graph", "value"] == us(policies.CUDA_GRAPH_KERNEL_S)


# --------------------------------------------------------------------------------------- bars


def test_profile_bars_are_the_estimates_under_each_profile(world):
    b = world["bars"]["fig10"]
    assert list(b["profile"].unique()) == list(e2e.PROFILES)
    r = b[(b["model"] == "falcon_40b") & (b["policy"] == "hermes")
          & (b["profile"] == "datasheet")].iloc[0]
    e = policies.estimate("hermes", world["models"]["falcon_40b"], world["systems"]["datasheet"],
                          batch=int(r["batch"]), prompt_len=128, gen_len=128,
                          options=_opts(world, "falcon_40b"))
    assert r["tokens_per_s"] == pytest.approx(e.tokens_per_s, rel=1e-12)
    assert len(e2e.sel(b, "paper")) == len(b) // 2


def test_chart_frame_has_both_profiles_and_the_paper():
    bars = pd.DataFrame({"model": ["opt_13b"] * 4, "policy": ["hermes", "accelerate"] * 2,
                         "profile": ["paper", "paper", "datasheet", "datasheet"],
                         "tokens_per_s": [10.0, 1.0, 11.0, 1.1],
                         "paper_tokens_per_s": [9.0, 0.5, 9.0, 0.5]})
    f = e2e.chart_frame(bars, "datasheet", NAMES)
    assert list(f.columns) == ["model", "system", "tokens_per_s", "series"]
    assert f["series"].value_counts().to_dict() == {"model, paper profile": 2,
                                                    "model, datasheet profile": 2, "paper": 2}
    paper = f[f["series"] == "paper"]
    assert set(paper["system"]) == {"Hermes", "Accelerate"} and set(paper["model"]) == {"OPT-13B"}
    assert sorted(paper["tokens_per_s"]) == [0.5, 9.0]
    by_batch = e2e.chart_frame(bars.assign(batch=1), "paper", NAMES, x="batch")
    assert "batch" in by_batch.columns and "system" not in by_batch.columns


def test_hermes_np_note_names_the_bars_hermes_cannot_run(world):
    one = hm.load_system("hermes_paper", "paper", gpu="rtx_4090", n_dimms=1)
    paper = world["paper"]["fig10"]
    bars = policies.model_bars(paper, one, world["activities"], world["models"])
    note = e2e.hermes_np_note(bars, world["models"], one, world["activities"], names=NAMES,
                              prompt_len=128, gen_len=128)["hermes_np_note"]
    assert note.startswith("With 1 NDP-DIMM Hermes cannot run ") and "LLaMA2-70B" in note
    assert note.endswith(" Those bars are N.P. here, and the averages, bands and fits below "
                         "leave them out.")
    ok = e2e.hermes_np_note(world["bars"]["fig10"], world["models"], world["systems"]["paper"],
                            world["activities"], names=NAMES, prompt_len=128, gen_len=128)
    assert ok == {"hermes_np_note": ""}


def _twice_frame(model_tps):
    return pd.DataFrame({"model": ["falcon_40b"], "policy": ["hermes-host"], "batch": [1],
                         "profile": ["paper"], "tokens_per_s": [model_tps],
                         "paper_tokens_per_s": [2.0]})


def test_printed_twice_sets_one_model_value_beside_two_printed_ones():
    b10 = _twice_frame(3.0)
    b11 = _twice_frame(3.0).assign(paper_tokens_per_s=4.0)
    g = e2e.printed_twice(b10, b11, "paper")
    assert g == {"fh_fig10_paper": sc.paper_text(2.0), "fh_fig10_ratio": "1.50",
                 "fh_fig11_paper": sc.paper_text(4.0), "fh_fig11_ratio": "0.75",
                 "fh_model": sc.sig_text(3.0)}
    assert e2e.printed_twice(b10, _twice_frame(np.nan), "paper")["fh_fig11_ratio"] == NP


def test_batch_ratio_table_reads_np_where_the_model_cannot_run():
    b11 = pd.DataFrame({"model": ["opt_13b"] * 2, "policy": ["flexgen"] * 2, "batch": [1, 16],
                        "profile": ["paper"] * 2, "tokens_per_s": [2.0, np.nan],
                        "paper_tokens_per_s": [4.0, 8.0]})
    t = e2e.batch_ratio_table(b11, "paper", NAMES)
    assert t.loc[("OPT-13B", "FlexGen"), 1] == "0.50" and t.loc[("OPT-13B", "FlexGen"), 16] == NP
    assert t.columns.name == "model / paper at batch"


# ---------------------------------------------------------------------------------- averages


def _stated():
    rows = {"hermes_over_hermes_host_range": (1.5, 2.5),
            "hermes_over_hermes_host_batches": (2.0, np.nan),
            "hermes_over_dejavu_batches": (10.0, np.nan),
            "hermes_host_over_accelerate": (20.0, np.nan)}
    return pd.DataFrame({"value": [v[0] for v in rows.values()],
                         "value_high": [v[1] for v in rows.values()]},
                        index=pd.Index(list(rows), name="name"))


def test_averages_glue_words_and_np():
    bars = pd.DataFrame({"model": ["a", "a", "b"], "batch": [1, 2, 1]})
    paper = {"hermes_over_hermes_host_min": 1.111, "hermes_over_hermes_host_max": 2.226,
             "hermes_over_dejavu_batches": 7.06, "hermes_host_over_accelerate": 13.44}
    model = {"hermes_over_hermes_host_min": np.nan, "hermes_over_hermes_host_max": 2.0,
             "hermes_over_hermes_host_batches": 1.234}
    g = e2e.averages_glue(_stated(), paper, model, bars, bars)
    assert g["hh_range_stated"] == "1.5–2.5" and g["hh_range_paper"] == "1.11–2.23"
    assert g["hh_range_model"] == NP and g["hh_avg_model"] == "1.23×"
    assert (g["n_bs1_models"], g["n_fig11_points"], g["n_fig11_batches"]) == (2, 3, 2)
    model["hermes_over_hermes_host_batches"] = np.nan
    assert e2e.averages_glue(_stated(), paper, model, bars, bars)["hh_avg_model"] == NP


def test_averages_table_one_row_per_definition():
    names = list(policies.AVERAGE_DEFINITIONS)
    stated = pd.DataFrame({"definition": [f"def {n}" for n in names],
                           "value": [2.5] * len(names)}, index=names)
    vals = dict.fromkeys(names, 1 / 3)
    t = e2e.averages_table(stated, vals, vals, dict.fromkeys(names, np.nan), profile="paper",
                           other="datasheet", kinds={names[1]: "geometric"})
    assert list(t.columns) == ["definition", "stated (paper)", "mean", "from the paper's bars",
                               "model (paper profile)", "model (datasheet profile)"]
    assert list(t["mean"]) == ["arithmetic", "geometric"] + ["arithmetic"] * (len(names) - 2)
    assert set(t["from the paper's bars"]) == {sc.sig_text(1 / 3)}
    assert set(t["model (datasheet profile)"]) == {NP}
    num, den, _, _ = policies.AVERAGE_DEFINITIONS[names[0]]
    assert t.index[0].startswith(f"{sc.SYSTEM_NAMES[num]} / {sc.SYSTEM_NAMES[den]}, batch")


def _means(rows):
    """average_means-shaped table: name -> (arithmetic, geometric)."""
    return pd.DataFrame({"arithmetic": [v[0] for v in rows.values()],
                         "geometric": [v[1] for v in rows.values()],
                         "n": [3] * len(rows)}, index=list(rows))


def test_average_kind_words_unsupported_and_geometric():
    stated = pd.DataFrame({"value": [10.0, 20.0, 5.0]},
                          index=["hermes_over_dejavu_batches", "hermes_host_over_accelerate",
                                 "hermes_over_hermes_base"])
    means = _means({"hermes_over_dejavu_batches": (12.0, 11.5),
                    "hermes_host_over_accelerate": (25.0, 20.01),
                    "hermes_over_hermes_base": (5.1, 4.8)})
    kinds = sc.average_mean_kinds(stated["value"], means)
    assert kinds == {"hermes_over_dejavu_batches": "arithmetic",
                     "hermes_host_over_accelerate": "geometric",
                     "hermes_over_hermes_base": "arithmetic"}
    g = e2e.average_kind_words(stated, means, kinds)
    assert g["n_avg_unsupported"] == 1 and g["follows_pct"] == 5
    assert g["avg_unsupported_txt"] == (
        "One stated average does not follow from the paper's own bars, lying more than 5 % from "
        "either mean of them: 10× Hermes over Deja Vu, batches 1–16 (its bars give 12.0× as an "
        "arithmetic mean and 11.5× as a geometric one).")
    assert g["avg_geometric_txt"].startswith(
        "The stated 20× of Hermes-host over Accelerate is the geometric mean of its bars "
        "(20.01×; their arithmetic mean is 25.00×), so that row takes the geometric mean")
    # glued text is plain: the column is named in quotes, not in Markdown emphasis
    # 5.1 and 4.8 lie more than 5 % apart and 5 fits neither within 1 %; 12.0 and 11.5 do not
    # lie apart, so the unsupported 10× is not named here
    assert g["avg_geometric_txt"].endswith(
        "tell the two apart, except the 5× of Hermes over Hermes-base, which fits neither (the "
        "column “mean”).")
    assert sc.misfit_averages(stated["value"], means) == ["hermes_over_hermes_base"]
    # the summary names the unsupported average, and the geometric one apart from it
    assert g["avg_summary_txt"] == (
        "the stated 10× of Hermes over Deja Vu, batches 1–16, which its bars do not support (the "
        "stated 20× of Hermes-host over Accelerate is the geometric mean of its bars)")
    # all arithmetic and all within 5 %: nothing to flag
    close = stated.assign(value=[11.9, 24.0, 5.0])
    arith = dict.fromkeys(kinds, "arithmetic")
    g = e2e.average_kind_words(close, means, arith)
    assert g["n_avg_unsupported"] == 0
    assert g["avg_unsupported_txt"].startswith("Every stated average follows")
    assert g["avg_geometric_txt"].startswith("Every average is taken as an arithmetic mean")


def test_imbalance_glue_reads_the_replay_and_the_band():
    balance = pd.DataFrame({
        "model": ["a", "a", "b", "b", "a", "a"], "batch": [1, 1, 1, 1, 4, 4],
        "placement": ["remapped", "adjustment_remapped"] * 3,
        "imbalance_per_token": [1.066, 1.104, 1.044, 1.058, 1.1, 1.5]})
    g = e2e.imbalance_glue(balance)
    p = next(u for u in policies.UNSTATED if u.name == "dimm_imbalance")
    assert (g["imb_default"], g["imb_low"], g["imb_high"]) == (
        p.default, min(p.low, p.high), max(p.low, p.high))
    assert (g["imb_remap"], g["imb_adjust"], g["imb_n_models"]) == ("1.04–1.07", "1.06–1.10",
                                                                     "two")
    assert g["imb_inside"] is True and g["imb_where"] == "inside"
    # with adjustment 1.058-1.104, both above the default 1.05
    assert g["imb_adjust_clause"].startswith(", above the default, which is therefore optimistic")
    around = balance.assign(imbalance_per_token=[1.066, 1.04, 1.044, 1.058, 1.1, 1.5])
    assert e2e.imbalance_glue(around)["imb_adjust_clause"] == ", on both sides of the default"
    below = balance.assign(imbalance_per_token=[1.066, 1.04, 1.044, 1.03, 1.1, 1.5])
    assert e2e.imbalance_glue(below)["imb_adjust_clause"] == ", below the default"
    out = e2e.imbalance_glue(balance, batch=4)  # 1.5 lies above the band
    assert (out["imb_adjust"], out["imb_n_models"]) == ("1.50–1.50", "one")
    assert out["imb_inside"] is False and out["imb_where"] == "not inside"
    with pytest.raises(ValueError, match="adjustment_remapped"):
        e2e.imbalance_glue(balance[balance["placement"] == "remapped"])


def test_imbalance_glue_of_the_committed_replay():
    g = e2e.imbalance_glue(io.load_scheduling_table("balance"))
    assert g["imb_inside"] and g["imb_remap"] < g["imb_adjust"]


# -------------------------------------------------------------------------------- acceptance


def test_acceptance_on_real_bars(world):
    bs1 = pd.concat([world["bars"]["fig9"], world["bars"]["fig10"]], ignore_index=True)
    b11, ref = world["bars"]["fig11"], world["systems"]["paper"]
    fit = e2e.acceptance(bs1, b11, world["stated"], world["models"], world["activities"], ref,
                         here=world["systems"]["datasheet"], names=NAMES, prompt_len=128,
                         gen_len=128)
    h1 = bs1[(bs1["profile"] == "paper") & (bs1["policy"] == "hermes")]
    assert list(fit.bands["model"]) == list(h1["model"])
    assert fit.acc["bs1_median_err_pct"] == pytest.approx(
        100 * np.median(np.abs(h1["error_frac"])))
    for _, r in fit.bands.iterrows():
        band = policies.tokens_per_s_band("hermes", world["models"][r["model"]], ref,
                                          options=_opts(world, r["model"]))
        assert (r["band low"], r["band high"]) == (band.low, band.high)
        assert r["inside"] == (band.low <= r["paper"] <= band.high)
        assert r["band width (x)"] == pytest.approx(band.high / band.low)
        assert 1 < r["band width (x)"] < 10
    hb = b11[(b11["profile"] == "paper") & (b11["policy"] == "hermes") & (b11["batch"] > 1)]
    assert fit.acc["bs2_16_median_err_pct"] == pytest.approx(
        100 * np.median(np.abs(hb["error_frac"])))
    # Hermes over Hermes-host: the mean of the per-bar ratios of Fig. 11 (paper profile)
    f11 = b11[b11["profile"] == "paper"].set_index(["model", "batch", "policy"])["tokens_per_s"]
    ratios = [f11[(m, b, "hermes")] / f11[(m, b, "hermes-host")]
              for m, b, p in f11.index if p == "hermes"]
    assert len(ratios) > 1 and fit.acc["hh_avg"] == pytest.approx(np.mean(ratios), rel=1e-12)
    hh = float(world["stated"].loc["hermes_over_hermes_host_batches", "value"])
    assert fit.acc["hh_err_pct"] == pytest.approx(100 * (np.mean(ratios) / hh - 1))
    g = fit.glue
    assert g["crit_bs1_pct"] == 20 and g["acc_n_models"] == len(h1)
    assert g["acc_bs1_median_err_pct"] == round(fit.acc["bs1_median_err_pct"], 1)
    assert g["acc_hh_cell"] == (f"{round(fit.acc['hh_avg'], 2):.2f}× "
                                f"({round(fit.acc['hh_err_pct']):+.0f} %)")
    assert g["e2e_n_dimms"] == 8 and g["e2e_cycles"] == int(ref.dimm.ndp_cycles_per_op)
    assert g["e2e_dimm_gbps"] == round(float(dram.dimm_bandwidth_bytes_per_s(ref.dimm)) / 1e9)
    assert g["gpu_gib"] == 24  # the RTX 4090 of the chapter's (datasheet) profile: 24 GiB
    fails = [NAMES[m] for m, ok in fit.order.items() if not ok]
    assert g["order_fail"] == (", ".join(fails) or "none")
    table = e2e.bands_table(fit.bands, NAMES)
    assert list(table["model"]) == [NAMES[m] for m in h1["model"]]


def test_acceptance_counts_an_np_bar_as_a_full_miss(world):
    ref = world["systems"]["paper"]
    bs1 = pd.DataFrame({"model": ["opt_13b", "falcon_40b"], "policy": ["hermes"] * 2,
                        "batch": [1, 1], "profile": ["paper"] * 2, "tokens_per_s": [11.0, np.nan],
                        "paper_tokens_per_s": [10.0, 5.0], "supported": [True, False],
                        "paper_supported": [True, True], "error_frac": [0.1, np.nan]})
    b11 = bs1.assign(batch=2, policy="hermes")
    fit = e2e.acceptance(bs1, b11, world["stated"], world["models"], world["activities"], ref,
                         here=ref, names=NAMES, prompt_len=128, gen_len=128)
    # |0.1| and a full miss |-1|: median 55 %
    assert fit.acc["bs1_median_err_pct"] == pytest.approx(55.0)
    np_row = fit.bands.set_index("model").loc["falcon_40b"]
    assert math.isnan(np_row["band low"]) and not np_row["inside"] and np_row["corners"] == ""
    assert fit.glue["acc_hh_cell"] == NP and fit.glue["acc_hh_avg"] == NP
    assert fit.glue["bs1_spread"].startswith("land above the paper's by 10 % where it runs "
                                             "(1 N.P. bar;")


# ------------------------------------------------------------------------------- failures


def _step(proj, mlp, balanced=False, dimms=False, share=0.3):
    return {"proj": proj, "mlp": mlp, "balanced": balanced, "dimms": dimms, "gpu_share": share}


def test_step_parts_words_each_branch():
    names = {"a": "A", "b": "B", "c": "C"}
    led, shared, text = e2e.step_parts_words({"a": _step(0.6, 0.2), "b": _step(0.6, 0.3)}, names)
    assert (led, shared) == (["a", "b"], [])
    assert text == ("for A and B the decode step is dominated by the projection, on the GPU "
                    "alone (60 % of the step)")
    _, shared, text = e2e.step_parts_words(
        {"a": _step(0.7, 0.1), "b": _step(0.3, 0.5, balanced=True, dimms=True),
         "c": _step(0.2, 0.6, dimms=True)}, names)
    assert shared == ["b", "c"]
    assert text == ("for A the decode step is dominated by the projection, on the GPU alone "
                    "(70 % of the step); for B and C the MLP block, with equally long GPU and "
                    "DIMM sides for B and limited by the DIMMs for C, takes more of it than the "
                    "projection (B: 50 % against 30 %; C: 60 % against 20 %)")
    _, _, text = e2e.step_parts_words({"b": _step(0.4, 0.3, balanced=True)}, names)
    assert text.startswith("for B the MLP block, its GPU and DIMM sides made equally long by "
                           "the split, takes less of it than the projection")
    assert e2e.step_parts_words({}, names)[2] == ("Hermes cannot run any model at batch 1 here "
                                                  "(N.P.)")


def test_fall_words_fall_and_no_fall():
    hb11 = pd.DataFrame({"model": ["a"] * 3 + ["b"] * 2, "batch": [1, 4, 16, 1, 4],
                         "tokens_per_s": [10.0, 30.0, 20.0, 5.0, 6.0]})
    falls, text = e2e.fall_words(hb11, {"a": "A", "b": "B"})
    assert falls == {"a": (4, [16])}
    assert text == ("so the step grows faster than the batch and the model's tokens/s falls: "
                    "A from 30.0 tokens/s at batch 4 to 20.0 at 16")
    falls, text = e2e.fall_words(hb11[hb11["model"] == "b"], {"b": "B"})
    assert falls == {} and text.startswith("yet the model's tokens/s does not fall")
    falls, text = e2e.fall_words(hb11.iloc[:0], {})
    assert falls == {} and text == ("but Hermes cannot run Fig. 11's models here (N.P.), so "
                                    "whether the model's tokens/s falls cannot be read")


def test_fall_glue_fall_no_fall_and_np():
    names = {"llama2_70b": "LLaMA2-70B", "opt_66b": "OPT-66B"}
    batches = [1, 2, 4, 8, 16]
    kw = {"first_cb": 4, "ridge_b": 3.9}
    # the defaults: LLaMA2-70B falls after batch 4 (40.8, 36.5, 31.5); skipped MACs rise
    hb11 = pd.DataFrame({"model": "llama2_70b", "batch": batches,
                         "tokens_per_s": [12.0, 22.0, 40.8, 36.5, 31.5]})
    skip = {"llama2_70b": {1: 12.0, 2: 22.0, 4: 41.0, 8: 63.3, 16: 103.0}}
    g = e2e.fall_glue({"llama2_70b": (4, [8, 16])}, hb11, skip, batches, names, **kw)
    assert g["fall_union_text"] == "; the growing union makes it fall"
    assert g["skip_text"] == (" there is no fall: LLaMA2-70B's tokens/s then rises from 63.3 at "
                              "batch 8 to 103 at 16")
    assert g["rd_skip_tail"] == (
        "it barely changes how the step grows from batch 1 to 4 (at batch 4 the DIMMs are only "
        "just past their ridge) and removes the fall of tokens/s at 8 and 16")
    assert g["scaling_summary"].endswith("then faster once the DIMMs turn compute-bound")
    assert g["scaling_lead"].startswith("At batches 2–16 the model's step first lengthens")
    # the reviewer's e2eC (32 DIMMs): 115.7 → 116.1 from batch 8 to 16, no fall
    hb11 = hb11.assign(tokens_per_s=[40.0, 70.0, 100.0, 115.7, 116.1])
    skip = {"llama2_70b": {1: 40.0, 2: 70.0, 4: 101.0, 8: 164.0, 16: 277.0}}
    g = e2e.fall_glue({}, hb11, skip, batches, names, **kw)
    assert g["fall_union_text"] == ""
    assert g["skip_text"] == ", LLaMA2-70B's tokens/s rises from 164 at batch 8 to 277 at 16"
    assert "fall" not in g["fall_fix_text"] and "no fall for it to remove" in g["rd_skip_tail"]
    # the reviewer's e2eD/e2eE (2 DIMMs): Hermes runs none of Fig. 11's models
    g = e2e.fall_glue({}, hb11.iloc[:0], {}, batches, names, **kw)
    assert g["scaling_summary"] == ("Hermes cannot run Fig. 11's models here, N.P., so the "
                                    "model's own scaling cannot be computed")
    assert g["scaling_lead"].startswith("Hermes cannot run Fig. 11's models here (N.P.)")
    assert g["fall_union_text"] == "" and "fall" not in g["skip_text"]
    assert g["skip_text"] == (", Hermes cannot run Fig. 11's models at both of its largest "
                              "batches here (N.P.)")
    assert "N.P." in g["rd_skip_tail"] and "removes" not in g["rd_skip_tail"]


def test_skip_words_prefers_llama2_70b_and_says_np():
    names = {"opt_66b": "OPT-66B", "llama2_70b": "LLaMA2-70B"}
    tps = {"opt_66b": {4: 1.0, 8: 2.0, 16: 3.0}, "llama2_70b": {4: 10.0, 8: 20.0, 16: 30.0}}
    assert e2e.skip_words(tps, [4, 8, 16], names) == ("LLaMA2-70B's tokens/s then rises from "
                                                      "20.0 at batch 8 to 30.0 at 16")
    tps["llama2_70b"][16] = np.nan
    assert e2e.skip_words(tps, [4, 8, 16], names).startswith("OPT-66B's tokens/s then rises")
    tps["opt_66b"][8] = np.nan
    assert e2e.skip_words(tps, [4, 8, 16], names).endswith("(N.P.)")


def test_failure_reading_on_real_models(world):
    ref = world["systems"]["paper"]
    why = e2e.failure_reading(world["bars"]["fig11"], world["models"], world["activities"], ref,
                              names=NAMES, prompt_len=128, gen_len=128)
    m = world["models"]["llama2_70b"]
    e = policies.estimate("hermes", m, ref, options=_opts(world, "llama2_70b"))
    assert why.step1["llama2_70b"]["proj"] == pytest.approx(
        m.n_layers * e.details["projection_s"] / e.decode_step_s)
    ridge = float(ndp.dimm_mac_per_s(ref.dimm)) / (
        float(dram.dimm_bandwidth_bytes_per_s(ref.dimm)) / shapes.dtype_bytes("fp16"))
    assert why.ridge_b == pytest.approx(ridge) and why.glue["dimm_ridge"] == round(ridge, 1)
    # the GPU's share of the active neurons at batch 1 (idle copies at 0) and its growth to 4
    share = {b: {s: policies.estimate("hermes", world["models"][s], ref, batch=b,
                                      options=_opts(world, s)).details["gpu_load_share"]
                 for s in SLUGS} for b in (1, 4)}
    idle = [NAMES[s] for s in SLUGS if share[1][s] == 0]
    assert idle == ["OPT-13B"]
    assert why.glue["idle_text"].startswith("; the model even leaves OPT-13B's hot copies on the "
                                            "GPU idle during decode")
    grow = [NAMES[s] for s in SLUGS if share[4][s] > share[1][s] + 1e-9]
    assert why.glue["grow_text"] == (f", and for {prose_list(grow)} the GPU takes a growing "
                                     "share of it" if grow else "")
    assert why.first_cb == min(b for b in why.batches if b > ridge)
    assert why.glue["first_cb_text"].startswith(f"from batch {why.first_cb} on")
    skipped = policies.estimate("hermes", m, ref, batch=16,
                                options=_opts(world, "llama2_70b", skip_inactive_macs=True))
    assert why.skip_tps["llama2_70b"][16] == skipped.tokens_per_s
    assert set(why.hb11["policy"]) == {"hermes"} and set(why.hb11["profile"]) == {"paper"}


def test_ridge_batch_is_macs_per_weight_read():
    # 2 GMAC/s against 4 GB/s of fp16 weights (2 G weights/s): compute-bound above batch 1
    assert e2e.ridge_batch(2e9, 4e9) == 1.0
    assert e2e.ridge_batch(2e9, 4e9, "fp32") == 2.0  # 1 G fp32 weights/s


# ---------------------------------------------------------------------------------- readings


def _row(**kw):
    base = {"parameter": "x", "value": "", "bs1_median_abs_err": 0.1234,
            "batch_median_abs_err": 0.4567, "hermes_over_host": 1.456, "n_order": 4,
            "n_models": 6, "n_bars": 50, "n_closer": 30, "n_farther": 20,
            "model_step_growth": 1.234}
    return pd.Series({**base, **kw})


def test_readings_glue_values_and_np_clauses():
    g = e2e.readings_glue(half=_row(), datasheet=_row(), skip=_row(batch_median_abs_err=0.5),
                          shared=_row(n_order=3), link_name="PCIe 4.0 x16", defaults=_row())
    assert g["link_name"] == "PCIe 4.0 ×16" and g["rd_shared_order"] == 3
    assert (g["rd_half_bs1"], g["rd_half_batch"], g["rd_half_hh"]) == (12.3, 45.7, "1.46")
    assert g["rd_skip_batch"] == 50.0 and g["rd_half_farther"] == 20
    assert g["rd_half_hh_clause"] == "and brings Hermes over Hermes-host to 1.46×"
    assert g["rd_ds_text"] == "12.3 %, 45.7 % and 1.46×"
    g = e2e.readings_glue(half=_row(hermes_over_host=np.nan),
                          datasheet=_row(hermes_over_host=np.nan), skip=_row(), shared=_row(),
                          link_name="x", defaults=_row())
    assert g["rd_half_hh"] == NP
    assert g["rd_half_hh_clause"] == ("while Hermes over Hermes-host stays N.P. (Hermes cannot "
                                      "run Fig. 11's bars)")
    assert g["rd_ds_text"] == "12.3 % and 45.7 %, with Hermes over Hermes-host not computable (N.P.)"


def test_reading_and_readings_table():
    t = pd.DataFrame([_row(parameter="defaults"), _row(parameter="p", value="0.5"),
                      _row(parameter="p", value="2.0", bs1_median_abs_err=0.98765)])
    readings = {"paper": t}
    assert e2e.reading(readings, "paper", "defaults")["parameter"] == "defaults"
    assert e2e.reading(readings, "paper", "p", 2.0)["bs1_median_abs_err"] == 0.98765
    shown = e2e.readings_table(t)
    assert shown.loc[("p", "2.0"), "bs 1 err (%)"] == 98.8
    assert shown.loc[("p", "2.0"), "order"] == "4 of 6"
    assert shown.loc[("p", "2.0"), "closer / farther"] == "30 / 20"
    assert shown.loc[("p", "2.0"), "step growth"] == 1.23
    assert shown.loc[("p", "2.0"), "bs 2–16 err (%)"] == 45.7
    assert shown.loc[("p", "2.0"), "H / H-host"] == 1.46
    # two decimals, then three significant digits: 0.12345 reads 0.12, not 0.123
    small = e2e.readings_table(pd.DataFrame([_row(parameter="q", hermes_over_host=0.12345)]))
    assert small.loc[("q", ""), "H / H-host"] == 0.12


def test_link_reading_glue_real_and_np(world):
    paper, models, acts = world["paper"], world["models"], world["activities"]
    ref = world["systems"]["paper"]
    bars = pd.concat([world["bars"][f] for f in ("fig9", "fig10", "fig11")], ignore_index=True)
    g = e2e.link_reading_glue(paper, ref, acts, models, bars, world["stated"], prompt_len=128,
                              gen_len=128)
    shares = []
    for m in ("falcon_40b", "llama2_70b"):
        e = policies.estimate("hermes", models[m], ref, options=_opts(world, m))
        shares.append(100 * e.prefill_s / e.total_s)
    assert g["pf_share_default"] == f"{min(shares):.1f}–{max(shares):.1f}"
    # the halved link's rate per direction: half the paper's 64 GB/s
    assert g["pcie_half"] == pytest.approx(
        0.5 * ref.host_link.bandwidth_per_direction_bytes_per_s / 1e9)
    assert g["pf_default_text"] == f", which the default link matches ({g['pf_share_default']} %)"
    acc = bars[(bars["profile"] == "paper") & (bars["policy"] == "accelerate")]
    assert g["rd_acc_n"] == len(acc) > 0
    # each Accelerate bar with the link at half rate: farther from the paper's value or not
    far = 0
    for _, r in acc.iterrows():
        e = policies.estimate("accelerate", models[r["model"]], ref, batch=int(r["batch"]),
                              options=_opts(world, r["model"], link_bandwidth_scale=0.5))
        far += bool(abs(np.log(e.tokens_per_s / r["paper_tokens_per_s"]))
                    > abs(np.log(r["tokens_per_s"] / r["paper_tokens_per_s"])) + 1e-12)
    assert g["rd_half_acc_far"] == far
    half = []
    for m in ("falcon_40b", "llama2_70b"):
        e = policies.estimate("hermes", models[m], ref,
                              options=_opts(world, m, link_bandwidth_scale=0.5))
        half.append(100 * e.prefill_s / e.total_s)
    assert g["pf_share_half"] == f"{min(half):.1f}–{max(half):.1f}"
    stated_pf = sc.paper_text(world["stated"].loc["hermes_prefill_share_bs1", "value"])
    assert g["pf_half_text"] == (
        f"the slower link makes prefill {g['pf_share_half']} % of the batch-1 run for Falcon-40B "
        f"and LLaMA2-70B, against the paper's {stated_pf} %")
    # one DIMM: Hermes runs neither model, so no prefill share
    one = hm.load_system("hermes_paper", "paper", gpu="rtx_4090", n_dimms=1)
    small = {f: t[t["model"] != "opt_13b"] for f, t in paper.items()}
    one_bars = pd.concat([e2e.profile_bars(small[f], {"paper": one}, acts, models,
                                           prompt_len=128, gen_len=128)
                          for f in ("fig9", "fig10", "fig11")], ignore_index=True)
    g = e2e.link_reading_glue(small, one, acts, models, one_bars, world["stated"],
                              prompt_len=128, gen_len=128)
    assert g["pf_share_half"] == NP and g["pf_default_text"] == ""
    assert g["pf_half_text"].startswith("Hermes cannot run Falcon-40B or LLaMA2-70B at batch 1")


def test_step_parts_are_shares_of_one_decode_step(world):
    """Projection and MLP time of every layer over one batch-1 decode step, by hand."""
    system = world["systems"]["paper"]
    parts = e2e.step_parts(world["models"], system, world["activities"], prompt_len=128,
                           gen_len=128)
    assert set(parts) == set(SLUGS)
    for m, p in parts.items():
        model = world["models"][m]
        e = policies.estimate("hermes", model, system, options=_opts(world, m))
        L = model.n_layers
        assert p["proj"] == pytest.approx(L * e.details["projection_s"] / e.decode_step_s)
        assert p["mlp"] == pytest.approx(L * e.details["mlp_block_s"] / e.decode_step_s)
        assert 0 < p["proj"] + p["mlp"] < 1
        assert p["gpu_share"] == e.details["gpu_load_share"]


# ------------------------------------------------- words from the numbers (re-run parameters)


def test_config_notice_like_for_like_or_not():
    kw = {"gpu": "rtx_4090", "gpu_name": "NVIDIA GeForce RTX 4090", "n_dimms": 8,
          "prompt_len": 128, "gen_len": 128, "profile": "paper"}
    g = e2e.config_notice(**kw)
    assert g == {"like_for_like": True, "config_note": "", "summary_config_note": "",
                 "profile_note": ""}
    # the datasheet profile alone keeps the paper's configuration: only a note on the profile
    g = e2e.config_notice(**{**kw, "profile": "datasheet"})
    assert g["like_for_like"] and g["config_note"] == ""
    assert g["profile_note"].startswith("The tables and charts show the datasheet profile's")
    # another GPU and DIMM count (the reviewer's e2eA)
    g = e2e.config_notice(**{**kw, "gpu": "rtx_3090", "gpu_name": "NVIDIA GeForce RTX 3090",
                             "n_dimms": 16})
    assert not g["like_for_like"]
    assert g["config_note"].startswith("Not the paper's configuration: this run models one RTX "
                                       "3090 with 16 NDP-DIMMs, while the paper's bars are for "
                                       "one RTX 4090 with eight NDP-DIMMs")
    assert "not like for like" in g["config_note"] and "(n/a)" in g["config_note"]
    # other lengths only (the reviewer's 512/32)
    g = e2e.config_notice(**{**kw, "prompt_len": 512, "gen_len": 32})
    assert not g["like_for_like"]
    assert g["summary_config_note"].startswith(
        "This run models 512-token prompts and 32 generated tokens, not the paper's")
    g = e2e.config_notice(**{**kw, "gpu": "t4", "gpu_name": "NVIDIA Tesla T4", "n_dimms": 4,
                             "prompt_len": 512, "gen_len": 32})
    assert g["config_note"].startswith("Not the paper's configuration: this run models one Tesla "
                                       "T4 with four NDP-DIMMs, 512-token prompts and 32 "
                                       "generated tokens, while")
    # one generated token and one DIMM read in the singular (a count of 1 passes the checks)
    g = e2e.config_notice(**{**kw, "n_dimms": 1, "gen_len": 1})
    assert g["config_note"].startswith("Not the paper's configuration: this run models one RTX "
                                       "4090 with one NDP-DIMM, 128-token prompts and 1 "
                                       "generated token, while the paper's bars are for one "
                                       "RTX 4090 with eight NDP-DIMMs, 128-token prompts and "
                                       "128 generated tokens (§V-A).")


def _fid(bs1, batch, n_order, n_models=6, **kw):
    return _row(bs1_median_abs_err=bs1, batch_median_abs_err=batch, n_order=n_order,
                n_models=n_models, **kw)


def test_median_and_order_moves_follow_the_defaults():
    # the defaults (paper's configuration): 27.3 %, 50.3 %, 5 of 6
    d = _fid(0.273, 0.503, 5)
    assert e2e.median_moves(_fid(0.063, 0.254, 5), d) == (
        "lowers Hermes' batch-1 median error to 6.3 % and the batch 2–16 median to 25.4 %")
    assert e2e.median_moves(_fid(0.150, 0.311, 4), d, first=False) == (
        "lowers both medians, to 15.0 % and 31.1 %")
    assert e2e.order_moves(_fid(0.150, 0.311, 4), d) == "breaks the order of a second model (4 of 6)"
    # the reviewer's e2eB: 73.0 %, 93.7 %, 5 of 6; the halved link raises one, leaves the other
    d = _fid(0.730, 0.937, 5)
    assert e2e.median_moves(_fid(0.835, 0.937, 5), d) == (
        "raises Hermes' batch-1 median error to 83.5 % and leaves the batch 2–16 median at 93.7 %")
    assert e2e.median_moves(_fid(0.760, 0.9371, 5), d, first=False) == (
        "raises the batch-1 median to 76.0 % and leaves the batch 2–16 median at 93.7 %")
    assert e2e.order_moves(_fid(0.760, 0.937, 5), d) == "leaves the order as it is (5 of 6)"
    # the reviewer's e2eA: 4 of 6 at the defaults, 5 of 6 with ranks sharing a bus
    assert e2e.order_moves(_fid(0.1, 0.1, 5), _fid(0.2, 0.2, 4)) == (
        "restores the order of one model (5 of 6)")
    assert e2e.order_moves(_fid(0.1, 0.1, 2), _fid(0.2, 0.2, 5)) == (
        "breaks the order of three more models (2 of 6)")


def test_readings_glue_verbs_from_the_defaults():
    # the defaults' numbers: the halved link lowers both medians, ranks sharing a bus too
    d = _fid(0.273, 0.503, 5)
    g = e2e.readings_glue(half=_fid(0.063, 0.254, 5), datasheet=_fid(0.074, 0.261, 5),
                          skip=_fid(0.27, 0.777, 5), shared=_fid(0.150, 0.311, 4),
                          link_name="PCIe 4.0 x16", defaults=d)
    assert g["rd_half_better"] == 1 and g["rd_half_evidence"] == "The evidence is mixed, though"
    assert g["rd_half_subject"] == 'the paper\'s "PCIe 4.0, 64 GB/s"'
    assert g["rd_half_order"] == "the order of the systems does not change, and "
    assert g["rd_shared_text"] == ("Ranks sharing one bus per DIMM also lowers both medians, to "
                                   "15.0 % and 31.1 %, but breaks the order of a second model "
                                   "(4 of 6).")
    assert g["rd_skip_text"] == "makes the batch error worse (77.7 %, from 50.3 %)"
    # the reviewer's e2eB: the halved link raises the batch-1 error, skipping MACs helps a little
    d = _fid(0.730, 0.937, 5)
    g = e2e.readings_glue(half=_fid(0.835, 0.937, 5), datasheet=_fid(0.837, 0.937, 5),
                          skip=_fid(0.730, 0.918, 5), shared=_fid(0.760, 0.937, 5),
                          link_name="PCIe 3.0 x16", defaults=d)
    assert g["rd_half_better"] == -1
    # _fid's bars: 30 closer, 20 farther, so the other bars do not point the same way
    assert g["rd_half_evidence"] == "The other bars point the other way, though"
    # a PCIe 3.0 link: what is halved is the paper profile's figure, not the paper's 64 GB/s
    assert g["rd_half_subject"] == "reading the paper profile's PCIe figure as bidirectional"
    assert g["rd_half_moves"].startswith("raises Hermes' batch-1 median error to 83.5 %")
    assert g["rd_shared_text"] == (
        "Ranks sharing one bus per DIMM also raises the batch-1 median to 76.0 % and leaves the "
        "batch 2–16 median at 93.7 %, and leaves the order as it is (5 of 6).")
    assert g["rd_skip_text"] == "improves the batch error only to 91.8 % (from 93.7 %)"


def test_readings_glue_says_a_restored_order_with_the_medians():
    # the reviewer's e2eD16 (16 DIMMs): 33.3 → 10.6 %, 83.8 → 36.9 %, 4 → 5 of 6 models ordered
    d = _fid(0.333, 0.838, 4)
    g = e2e.readings_glue(half=_fid(0.106, 0.369, 5), datasheet=_fid(0.074, 0.261, 5),
                          skip=_fid(0.27, 0.908, 4), shared=_fid(0.150, 0.311, 4),
                          link_name="PCIe 4.0 x16", defaults=d)
    assert g["rd_half_moves"] == ("lowers Hermes' batch-1 median error to 10.6 % and the batch "
                                  "2–16 median to 36.9 %, restores the order of one model "
                                  "(5 of 6)")
    assert g["rd_half_evidence"] == "The evidence is mixed, though" and g["rd_half_order"] == ""
    # a broken order is counter-evidence: it stays after the lead
    g = e2e.readings_glue(half=_fid(0.106, 0.369, 3), datasheet=_fid(0.074, 0.261, 5),
                          skip=_fid(0.27, 0.908, 4), shared=_fid(0.150, 0.311, 4),
                          link_name="PCIe 4.0 x16", defaults=d)
    assert g["rd_half_moves"].endswith("the batch 2–16 median to 36.9 %")
    assert g["rd_half_order"] == "the halved link breaks the order of a third model (3 of 6), and "


def _err(batch):
    return _fid(0.2, batch, 5)


def test_fall_fix_error_follows_the_readings():
    # the defaults: 50.3 % → 59.1 % (6 cycles), 77.7 % (skipped MACs): both raise it
    d = _err(0.503)
    assert e2e.fall_fix_error(fast=_err(0.591), skip=_err(0.777), defaults=d,
                              has_fall=True) == ", so they raise the error"
    # the reviewer's e2eT4: 23.7 % → 22.0 % and 19.1 %: both lower it
    d = _err(0.237)
    assert e2e.fall_fix_error(fast=_err(0.220), skip=_err(0.191), defaults=d, has_fall=True) == (
        ", yet both lower the batch 2–16 error here: faster multipliers to 22.0 % and skipped "
        "MACs to 19.1 %, from 23.7 %")
    assert e2e.fall_fix_error(fast=_err(0.250), skip=_err(0.191), defaults=d, has_fall=True) == (
        ", one raises the batch 2–16 error and the other lowers it: faster multipliers to "
        "25.0 % and skipped MACs to 19.1 %, from 23.7 %")
    assert e2e.fall_fix_error(fast=_err(0.237), skip=_err(0.191), defaults=d,
                              has_fall=True).startswith(
        ", one leaves the batch 2–16 error as it is and the other lowers it:")
    assert e2e.fall_fix_error(fast=_err(0.220), skip=_err(0.191), defaults=d,
                              has_fall=False) == ""


def test_fastest_multipliers_is_the_fewest_cycles():
    t = pd.DataFrame({"parameter": ["defaults", "cycles_per_op", "cycles_per_op"],
                      "value": ["", "16.0", "6.0"], "batch_median_abs_err": [0.3, 0.4, 0.2]})
    assert e2e.fastest_multipliers(t)["value"] == "6.0"


def test_summary_profile_glue_labels_the_profiles():
    assert e2e.summary_profile_glue("paper") == {"off_profile_note": "",
                                                 "bs1_profile_note": ""}
    assert e2e.summary_profile_glue("datasheet") == {
        "off_profile_note": " (under the datasheet profile)",
        "bs1_profile_note": " (under the paper profile, as the acceptance criteria are)"}


def test_evidence_lead_from_closer_and_farther():
    # the reviewer's e2eB: the halved link raises the error, 60 of 75 bars move away
    assert e2e.evidence_lead(-1, 15, 60) == "The other bars point the same way"
    # the reviewer's e2eE: it raises the error, but 36 bars move closer and 26 away
    assert e2e.evidence_lead(-1, 36, 26) == "The other bars point the other way, though"
    # the defaults: it lowers the medians (71 closer, 26 farther), Accelerate points the other way
    assert e2e.evidence_lead(1, 71, 26) == "The evidence is mixed, though"
    assert e2e.evidence_lead(0, 10, 40) == "The other bars move away from the paper"
    assert e2e.evidence_lead(0, 40, 10) == "The other bars move towards the paper"
    assert e2e.evidence_lead(0, 5, 5) == "The other bars are split"


def test_order_reading_text_names_what_a_reading_breaks():
    def table(fails0, *fails):
        return pd.DataFrame([{"parameter": "defaults", "value": "", "order_fails": fails0}]
                            + [{"parameter": "p", "value": str(i), "order_fails": f}
                               for i, f in enumerate(fails)])
    names = {"llama2_13b": "LLaMA2-13B", "falcon_40b": "Falcon-40B"}
    # the reviewer's e2eB: the only reading that fixes Falcon-40B breaks LLaMA2-13B (5 of 6)
    assert e2e.order_reading_text(table(("falcon_40b",), ("llama2_13b",)), names) == (
        "Third, p = 0 puts Falcon-40B's systems in the paper's order but breaks LLaMA2-13B's.")
    # a reading that breaks nothing is preferred to an earlier one that does
    assert e2e.order_reading_text(table(("falcon_40b",), ("llama2_13b",), ()), names) == (
        "Third, p = 1 puts Falcon-40B's systems in the paper's order.")


def test_order_reading_text_names_the_models_out_of_order():
    def table(fails0, *fails):
        return pd.DataFrame([{"parameter": "defaults", "value": "", "order_fails": fails0}]
                            + [{"parameter": "p", "value": str(i), "order_fails": f}
                               for i, f in enumerate(fails)])
    names = {"llama2_13b": "LLaMA2-13B", "falcon_40b": "Falcon-40B"}
    assert e2e.order_reading_text(table(("llama2_13b",), ("llama2_13b",), ()), names) == (
        "Third, p = 1 puts LLaMA2-13B's systems in the paper's order.")
    assert e2e.order_reading_text(table(("llama2_13b",), ("llama2_13b", "falcon_40b")),
                                  names) == (
        "Third, no single reading puts LLaMA2-13B's systems in the paper's order.")
    assert e2e.order_reading_text(table(("llama2_13b", "falcon_40b"), ("llama2_13b",)),
                                  names) == (
        "Third, no single reading puts LLaMA2-13B's systems in the paper's order; p = 0 puts "
        "Falcon-40B's in it.")
    assert e2e.order_reading_text(table(()), names) == (
        "Third, the defaults already put every model's systems in the paper's order.")


def test_link_summary_glue_favours_from_the_numbers():
    link = {"pcie_half": 32.0, "rd_half_acc_far": 18, "rd_acc_n": 21,
            "pf_default_closer": True, "stated_prefill_share": "33.01"}
    d = _fid(0.273, 0.503, 5)
    text = e2e.link_summary_glue(half=_fid(0.063, 0.254, 5, n_closer=71, n_farther=26,
                                           n_bars=97), defaults=d, link=link, pcie_paper=64,
                                 pcie_datasheet=31.5, link_name="PCIe 4.0 x16")
    assert text == ("Hermes' bars favour a host link of 32 GB/s per direction (half the paper "
                    "profile's 64; the datasheet's 31.5 for PCIe 4.0 ×16) over the 64 GB/s per "
                    "direction fixed here for the paper profile, while the Accelerate bars and "
                    "the paper's 33.01 % prefill share favour the faster link")
    # the reviewer's e2eB: the halved link raises the error and moves 60 of 75 bars away
    text = e2e.link_summary_glue(half=_fid(0.835, 0.937, 5, n_closer=15, n_farther=60,
                                           n_bars=75), defaults=_fid(0.730, 0.937, 5),
                                 link={**link, "pcie_half": 16.0}, pcie_paper=32,
                                 pcie_datasheet=15.8, link_name="PCIe 3.0 x16")
    assert text.startswith("Hermes' bars do not favour a host link of 16 GB/s per direction")
    assert text.endswith("it raises Hermes' batch-1 median error to 83.5 % and leaves the batch "
                         "2–16 median at 93.7 %, and moves 60 of the 75 bar values away from "
                         "the paper (15 closer)")
    # Hermes' medians fall but most bars move away: said so
    text = e2e.link_summary_glue(half=_fid(0.1, 0.2, 5, n_closer=10, n_farther=40, n_bars=50),
                                 defaults=d, link={**link, "rd_acc_n": 40,
                                                   "pf_default_closer": False},
                                 pcie_paper=64, pcie_datasheet=31.5, link_name="x")
    assert text.endswith(", though more bar values move away from the paper with it than "
                         "towards it (40 against 10 of 50)")
    # the reviewer's e2eE: the halved link raises the error, but most bars move closer
    text = e2e.link_summary_glue(half=_fid(0.604, 1.0, 5, n_closer=36, n_farther=26, n_bars=62),
                                 defaults=_fid(0.589, 1.0, 5), link=link, pcie_paper=64,
                                 pcie_datasheet=31.5, link_name="PCIe 4.0 x16")
    assert text.startswith("Hermes' bars do not favour")
    assert text.endswith(", though it moves only 26 of the 62 bar values away from the paper "
                         "(36 closer)")


def test_hermes_fastest_and_order_why_on_real_bars(world):
    bs1 = pd.concat([world["bars"]["fig9"], world["bars"]["fig10"]], ignore_index=True)
    paper_bs1 = e2e.sel(bs1, "paper")
    assert e2e.hermes_fastest_text(paper_bs1, NAMES) == "Hermes is the fastest system for every model"
    # Hermes N.P. for one model, and another system faster for another
    t = paper_bs1.copy()
    t.loc[(t["model"] == "llama2_70b") & (t["policy"] == "hermes"), "supported"] = False
    t.loc[(t["model"] == "opt_13b") & (t["policy"] == "hermes-host"), "tokens_per_s"] = 1e6
    assert e2e.hermes_fastest_text(t, NAMES) == (
        "Hermes is the fastest system for 1 of the 2 models it runs (not for OPT-13B, where "
        "Hermes-host is faster) (it cannot run LLaMA2-70B here, N.P.)")
    t = paper_bs1[paper_bs1["model"] != "opt_13b"].copy()
    t.loc[(t["model"] == "llama2_70b") & (t["policy"] == "hermes"), "supported"] = False
    assert e2e.hermes_fastest_text(t, NAMES) == (
        "Hermes is the fastest system for every model it runs (it cannot run LLaMA2-70B here, "
        "N.P.)")
    order = policies.system_order_matches(paper_bs1)
    assert all(order.values())  # OPT-13B, Falcon-40B and LLaMA2-70B at the defaults
    assert e2e.order_why_text(paper_bs1, order, NAMES, 24.0) == (
        "The model orders every model's systems at batch 1 as the paper does.")
    # Falcon-40B: the paper ranks Hermes-host above Hermes-base; lift the model's Hermes-base
    t = paper_bs1.copy()
    f = t["model"] == "falcon_40b"
    pv = t[f].set_index("policy")["paper_tokens_per_s"]
    assert pv["hermes"] > pv["hermes-host"] > pv["hermes-base"] > pv["accelerate"]
    hh = float(t.loc[f & (t["policy"] == "hermes-host"), "tokens_per_s"].iloc[0])
    t.loc[f & (t["policy"] == "hermes-base"), "tokens_per_s"] = 1.01 * hh
    order = policies.system_order_matches(t)
    assert not order["falcon_40b"]
    assert e2e.order_why_text(t, order, NAMES, 24.0) == (
        "For Falcon-40B the model ranks Hermes-base above Hermes-host.")
    # LLaMA2-13B with Hermes-host above Hermes-base (the default's failure): and why
    rows = [{"model": "llama2_13b", "policy": pol, "batch": 1, "paper_tokens_per_s": pp,
             "tokens_per_s": mm, "supported": True, "paper_supported": True}
            for pol, pp, mm in (("hermes", 92.0, 100.0), ("hermes-base", 30.9, 27.8),
                                ("hermes-host", 11.9, 40.0), ("accelerate", 0.9, 0.5))]
    t13 = pd.DataFrame(rows)
    assert e2e.order_why_text(t13, policies.system_order_matches(t13),
                              {"llama2_13b": "LLaMA2-13B"}, 24.0) == (
        "For LLaMA2-13B the model ranks Hermes-host above Hermes-base: with 24 GiB the GPU "
        "holds most of its hot neurons, so the host's share is small (below, after the "
        "readings).")


def test_profile_bars_read_the_paper_implied_prefill_at_the_papers_lengths(world):
    fig = world["paper"]["fig10"]
    fig = fig[fig["model"] == "falcon_40b"]
    one = {"paper": world["systems"]["paper"]}
    at_paper = e2e.profile_bars(fig, one, world["activities"], world["models"], prompt_len=128,
                                gen_len=128)
    assert (at_paper["prefill_paper_s"] == at_paper["prefill_s"]).all()
    longer = e2e.profile_bars(fig, one, world["activities"], world["models"], prompt_len=512,
                              gen_len=32)
    ok = longer["supported"] & at_paper["supported"]
    assert ok.any()
    assert np.allclose(longer.loc[ok, "prefill_paper_s"], at_paper.loc[ok, "prefill_s"])
    assert (longer.loc[ok, "prefill_s"] > longer.loc[ok, "prefill_paper_s"]).all()


def test_parallel_mlp_share_only_for_parallel_blocks():
    """Falcon-40B's attention and MLP read the same input; the MLP block's share of Hermes'
    batch-1 step (60 layers of the block over the mean step) is what running it under the
    projection could at most hide. LLaMA2-70B's blocks are sequential: no share. 4 DIMMs still
    run Falcon-40B; 2 cannot hold it (N.P.): no share either."""
    falcon, llama = hm.load_model("falcon_40b"), hm.load_model("llama2_70b")
    system = hm.load_system("hermes_paper", "paper")
    act = hm.load_activity("falcon_40b")
    share = e2e.parallel_mlp_share(falcon, system, act)
    e = hm.estimate("hermes", falcon, system, batch=1, prompt_len=128, gen_len=128,
                    options=hm.Assumptions(activity=act))
    assert share == pytest.approx(60 * e.details["mlp_block_s"] / e.decode_step_s, rel=1e-12)
    assert 0.1 < share < 0.3
    assert math.isnan(e2e.parallel_mlp_share(llama, system, hm.load_activity("llama2_70b")))
    small = hm.load_system("hermes_paper", "paper", n_dimms=2)
    assert math.isnan(e2e.parallel_mlp_share(falcon, small, act))
