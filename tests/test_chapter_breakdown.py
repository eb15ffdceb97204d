"""hermes_model.chapters.breakdown: the Fig. 12 chapter's bars, shares and sentences.

Expected values are recomputed through `policies.estimate` (with `io.load_activity`), the
system specs and the model shapes, or built from small synthetic tables; each text branch (the
N.P. ones included) is driven by a setup that takes it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from hermes_model import io, plotting, policies
from hermes_model.chapters import breakdown as bd
from hermes_model.specs import SystemSpec

GEN_LEN = 128  # policies.estimate's default run


def _setup(n_dimms: int = 8, **kw: object) -> bd.Setup:
    systems = {p: io.load_system("hermes_paper", p, gpu="rtx_4090", n_dimms=n_dimms)
               for p in bd.PROFILES}
    setup = bd.Setup(
        models={s: io.load_model(s) for s in bd.MODELS}, systems=systems,
        activities={k: policies.activity_from_inputs(v)
                    for k, v in io.load_generator_inputs().items()},
        profile="paper", batches=[1, 4, 16],
        stated=io.load_paper_figure("averages").set_index("name")["value"],
        predictor_claims=io.load_paper_predictor())
    return dataclasses.replace(setup, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def setup() -> bd.Setup:
    """The chapter's defaults: 8 DIMMs, RTX 4090, paper profile."""
    return _setup()


@pytest.fixture(scope="module")
def small() -> bd.Setup:
    """One DIMM: Hermes and Hermes-base cannot hold the large models (N.P.)."""
    return _setup(n_dimms=1)


def _est(pol: str, slug: str, batch: int, system: SystemSpec) -> policies.Estimate:
    return policies.estimate(pol, io.load_model(slug), system, batch=batch,
                             options=policies.Assumptions(activity=io.load_activity(slug)))


def _min_dimms(pol: str, slug: str, setup: bd.Setup) -> int:
    k = policies.min_dimms(pol, io.load_model(slug), setup.systems[setup.profile],
                           options=policies.Assumptions(activity=io.load_activity(slug)))
    assert k is not None
    return k


def test_other_profile(setup: bd.Setup) -> None:
    assert setup.other == "datasheet"
    assert dataclasses.replace(setup, profile="datasheet").other == "paper"


def test_run_is_the_policy_estimate(setup: bd.Setup) -> None:
    e = bd.run(setup, "hermes", "opt_13b", 4, "datasheet")
    ref = _est("hermes", "opt_13b", 4, setup.systems["datasheet"])
    assert e.supported and e.tokens_per_s == pytest.approx(ref.tokens_per_s, rel=1e-12)
    # the default profile is the setup's
    assert bd.run(setup, "hermes", "opt_13b", 4).total_s == pytest.approx(
        _est("hermes", "opt_13b", 4, setup.systems["paper"]).total_s, rel=1e-12)


def test_frame_bars_add_up_to_the_run(setup: bd.Setup) -> None:
    fa = bd.frame(setup, bd.FIG12A)
    assert set(fa["bar"]) == {f"{s} bs {b}" for s in ("Deja Vu", "Hermes") for b in (1, 4, 16)}
    assert set(fa["model"]) == {"OPT-13B", "OPT-66B"}
    assert (fa["time_s"] >= 0).all()
    for (model, bar), t in fa.groupby(["model", "bar"])["time_s"].sum().items():
        system, b = bar.rsplit(" bs ", 1)
        pol = {"Deja Vu": "dejavu", "Hermes": "hermes"}[system]
        slug = {"OPT-13B": "opt_13b", "OPT-66B": "opt_66b"}[model]
        ref = _est(pol, slug, int(b), setup.systems["paper"])
        # time per generated token: the run's time over b * n_gen
        assert t * int(b) * GEN_LEN == pytest.approx(ref.total_s, rel=1e-9)


def test_frame_skips_np_and_the_text_says_why(small: bd.Setup) -> None:
    fa = bd.frame(small, bd.FIG12A)  # Hermes cannot hold OPT-66B on one DIMM; the rest runs
    assert "Hermes bs 1" in set(fa.loc[fa["model"] == "OPT-13B", "bar"])
    assert set(fa.loc[fa["model"] == "OPT-66B", "bar"]) == {"Deja Vu bs 1", "Deja Vu bs 4",
                                                            "Deja Vu bs 16"}
    assert bd.frame(small, bd.FIG12B).empty
    kf, kl = _min_dimms("hermes", "falcon_40b", small), _min_dimms("hermes", "llama2_70b", small)
    kbf = _min_dimms("hermes-base", "falcon_40b", small)
    kbl = _min_dimms("hermes-base", "llama2_70b", small)
    assert min(kf, kl, kbf, kbl) > 1
    assert bd.no_bars_text(small, "12b", bd.FIG12B) == (
        "No bar of Fig. 12b can run here: "
        f"Hermes-base cannot run Falcon-40B at batch 1 (N.P.: it needs at least {kbf} "
        "NDP-DIMMs, not 1); "
        f"Hermes cannot run Falcon-40B at batch 1 (N.P.: it needs at least {kf} NDP-DIMMs, "
        "not 1); "
        f"Hermes-base cannot run LLaMA2-70B at batch 1 (N.P.: it needs at least {kbl} "
        "NDP-DIMMs, not 1); "
        f"Hermes cannot run LLaMA2-70B at batch 1 (N.P.: it needs at least {kl} NDP-DIMMs, "
        "not 1).")


def test_np_reason_names_the_dimms_of_the_profile_asked(setup: bd.Setup, small: bd.Setup) -> None:
    # 8 DIMMs under the paper profile, 1 under the datasheet one: each reason counts its own
    mixed = dataclasses.replace(setup, systems={"paper": setup.systems["paper"],
                                                "datasheet": small.systems["datasheet"]})
    k = policies.min_dimms("hermes", io.load_model("llama2_70b"), small.systems["datasheet"],
                           options=policies.Assumptions(activity=io.load_activity("llama2_70b")))
    assert k is not None and 1 < k <= 8
    assert bd.np_reason(mixed, "hermes", "llama2_70b", 1, "datasheet") == (
        f"it needs at least {k} NDP-DIMMs, not 1")
    assert bd.run(mixed, "hermes", "llama2_70b", 1).supported  # the paper profile's 8 suffice
    assert bd.np_why(mixed, "hermes", "llama2_70b", 1, "datasheet") == (
        f"Hermes cannot run LLaMA2-70B at batch 1 (N.P.: it needs at least {k} NDP-DIMMs, "
        "not 1)")


def test_np_reason_without_activity_is_the_policy_reason(setup: bd.Setup) -> None:
    bare = dataclasses.replace(setup, activities={})
    reason = bd.np_reason(bare, "dejavu", "opt_66b", 1)
    assert reason == policies.estimate("dejavu", io.load_model("opt_66b"),
                                       setup.systems["paper"]).reason
    assert "needs activation statistics for opt_66b" in reason


def test_shares_from_the_breakdown(setup: bd.Setup, small: bd.Setup) -> None:
    ref = _est("dejavu", "opt_66b", 1, setup.systems["datasheet"])
    br = ref.breakdown_s
    s = bd.shares(setup, "dejavu", "opt_66b", 1, "datasheet")
    assert s["supported"] is True
    assert s["comm"] == pytest.approx(br["communication"] / ref.total_s, rel=1e-12)
    assert s["pred"] == pytest.approx(br["predictor"] / ref.total_s, rel=1e-12)
    compute = ref.total_s - br["communication"] - br["prefill"]
    assert s["pred_of_compute"] == pytest.approx(br["predictor"] / compute, rel=1e-9)
    assert s["prefill"] + s["decode"] == pytest.approx(1, abs=1e-12)
    assert 0 < s["comm"] < 1 and 0 < s["pred_of_compute"] < 1
    np_s = bd.shares(small, "hermes", "llama2_70b", 1, "paper")
    assert np_s["supported"] is False
    assert all(math.isnan(np_s[k]) for k in bd.SHARE_KEYS)  # type: ignore[arg-type]


@pytest.mark.parametrize("share", [0.33014, 0.0145, 0.000285, 0.904999999999, 1e-5, 0.5])
@pytest.mark.parametrize("spec", [".1f", ".2g"])
def test_pct_is_the_table_cell(share: float, spec: str) -> None:
    # the text's share and the table's cell are one rounding of the same value
    cell = plotting.formatted(pd.DataFrame({"a": [100 * share]}), {"a": spec})["a"].iloc[0]
    assert bd.pct(share, spec) == f"{cell} %"


def test_pct_examples() -> None:
    assert bd.pct(0.33014, ".1f") == "33.0 %"
    assert bd.pct(0.0004567, ".2g") == "0.046 %"


def test_paper_glue_reads_the_tables(setup: bd.Setup) -> None:
    stated = pd.Series({"dejavu_communication_share": 89.0,
                        "dejavu_predictor_share_of_compute": 18.1,
                        "hermes_base_ndp_compute_share_llama2_70b": 80.0,
                        "hermes_decode_share_bs1": 66.4, "hermes_prefill_share_bs1": 33.01})
    claims = pd.DataFrame({"system": ["hermes", "hermes"],
                           "claim": ["predictor accuracy", "predictor runtime overhead"],
                           "value": ["98", "<0.25"]})
    got = bd.paper_glue(dataclasses.replace(setup, stated=stated, predictor_claims=claims,
                                            batches=[2, 8, 32]))
    assert got == {"paper_dv_comm": 89.0, "paper_dv_pred": 18.1, "paper_base_ndp": 80.0,
                   "paper_decode": 66.4, "paper_prefill": 33.01, "paper_h_pred": 0.25,
                   "batches_txt": "2, 8 and 32"}
    bad = claims.assign(value=["98", "0.25"])
    with pytest.raises(ValueError, match="bound"):
        bd.paper_glue(dataclasses.replace(setup, predictor_claims=bad))


def test_stated_shares_sentences(setup: bd.Setup) -> None:
    got = bd.stated_shares(setup, "llama2_70b", 1)
    assert got.glue["profile_name"] == "paper" and got.glue["other_name"] == "datasheet"
    assert got.glue["batch"] == 1
    h = {p: _est("hermes", "llama2_70b", 1, setup.systems[p]) for p in bd.PROFILES}
    pre = {p: h[p].breakdown_s["prefill"] / h[p].total_s for p in bd.PROFILES}
    bw = {p: setup.systems[p].host_link.bandwidth_per_direction_bytes_per_s / 1e9
          for p in bd.PROFILES}
    assert got.glue["h_split_text"] == (
        f"Hermes spends {100 * (1 - pre['paper']):.1f} % of its time in token generation and "
        f"{100 * pre['paper']:.1f} % in prefill under the paper profile, and "
        f"{100 * pre['datasheet']:.1f} % in prefill under the datasheet profile, whose PCIe "
        f"link carries {bw['datasheet']:.3g} GB/s per direction against the paper's "
        f"{bw['paper']:.3g} GB/s, read per direction")
    assert got.glue["h_split_text"].endswith(
        "31.5 GB/s per direction against the paper's 64 GB/s, read per direction")
    sheet = bd.stated_shares(dataclasses.replace(setup, profile="datasheet"), "llama2_70b", 1)
    assert sheet.glue["h_split_text"].endswith(
        "under the paper profile, whose PCIe link carries the paper's 64 GB/s, read per "
        "direction, against 31.5 GB/s per direction")
    pred = h["paper"].breakdown_s["predictor"] / h["paper"].total_s
    assert got.glue["h_pred_text"] == (
        f"for LLaMA2-70B (ReLU-fied, ReGLU) the part it does not hide is {100 * pred:.2g} % of "
        "the time (paper: < 0.1 %)")
    assert got.glue["split_note"] == (
        "The prefill and decode rows are read at batch 1, where the paper states its split, "
        "for LLaMA2-70B (ReLU-fied, ReGLU).")
    dv = {p: _est("dejavu", "opt_66b", 1, setup.systems[p]) for p in bd.PROFILES}
    comm = {p: dv[p].breakdown_s["communication"] / dv[p].total_s for p in bd.PROFILES}
    text = str(got.glue["dv_text"])
    assert text.startswith(
        f"communication is {100 * comm['paper']:.1f} % of Deja Vu's time in the model under "
        f"the paper profile ({100 * comm['datasheet']:.1f} % under the datasheet one), against "
        "the paper's \"about 89 %\". ")
    # the predictor: rank 1024 by default; PowerInfer's 3.23e9 parameters over OPT-66B's layers
    m = io.load_model("opt_66b")
    rank = 3.23e9 / (m.n_layers * (m.d_model + m.d_ffn))
    assert "the rank-1024 predictor (the end-to-end default, assumed; " in text
    assert f"published predictor, rank {round(rank)}) reads " in text
    gb = m.n_layers * (m.d_model + m.d_ffn) * 1024 * 2 / 1e9  # fp16, resident on the GPU
    assert f"reads {gb:.1f} GB from GPU memory per decode step" in text
    assert got.dejavu["paper"]["comm"] == pytest.approx(comm["paper"], rel=1e-12)
    assert got.hermes["datasheet"]["prefill"] == pytest.approx(pre["datasheet"], rel=1e-12)


def test_stated_shares_np_sentences(setup: bd.Setup, small: bd.Setup) -> None:
    k = _min_dimms("hermes", "llama2_70b", small)
    got = bd.stated_shares(small, "llama2_70b", 1).glue
    assert got["h_split_text"] == (
        f"Hermes cannot run it (N.P.: it needs at least {k} NDP-DIMMs, not 1)")
    assert got["h_pred_text"] == (
        f"Hermes cannot run LLaMA2-70B (ReLU-fied, ReGLU) here (N.P.: it needs at least {k} "
        "NDP-DIMMs, not 1), so the model gives no predictor share to set beside the paper's "
        "< 0.1 %")
    # runs under the chapter's profile, not under the other one (one DIMM there)
    mixed = dataclasses.replace(setup, systems={"paper": setup.systems["paper"],
                                                "datasheet": small.systems["datasheet"]})
    text = str(bd.stated_shares(mixed, "llama2_70b", 1).glue["h_split_text"])
    assert (" in prefill under the paper profile, and cannot run (N.P.) under the datasheet "
            in text)
    # Deja Vu's predictors do not fit a 2 GiB GPU under the other profile
    sys_d = setup.systems["datasheet"]
    tiny = dataclasses.replace(sys_d, gpu=dataclasses.replace(sys_d.gpu, memory_bytes=2 * 2**30))
    tiny_setup = dataclasses.replace(setup, systems={"paper": setup.systems["paper"],
                                                     "datasheet": tiny})
    dv_text = str(bd.stated_shares(tiny_setup, "llama2_70b", 1).glue["dv_text"])
    assert ("% of Deja Vu's time in the model under the paper profile (N.P. under the "
            "datasheet one)") in dv_text
    # no activation statistics: neither Deja Vu nor Hermes can run
    bare = dataclasses.replace(setup, activities={})
    got = bd.stated_shares(bare, "llama2_70b", 1).glue
    reason = policies.estimate("dejavu", io.load_model("opt_66b"), setup.systems["paper"]).reason
    assert got["dv_text"] == (f"Deja Vu cannot run (N.P.: {reason}), so the model has no "
                              "communication or predictor share to set beside the paper's.")


def test_base_ndp_text(setup: bd.Setup, small: bd.Setup) -> None:
    base = _est("hermes-base", "llama2_70b", 1, setup.systems["paper"])
    flop, fc = base.details["ndp_flop_share"], base.details["ndp_fc_time_share"]
    assert 0 < flop <= 1 and 0 < fc <= 1
    assert bd.base_ndp_text(setup, 1) == (
        f"on LLaMA2-70B at batch 1 the DIMMs compute {100 * flop:.0f} % of the FC FLOP "
        f"({100 * fc:.0f} % of the FC time) under the paper profile, against the paper's "
        "\"over 80 %\"")
    k = _min_dimms("hermes-base", "llama2_70b", small)
    assert bd.base_ndp_text(dataclasses.replace(small, profile="datasheet"), 4) == (
        f"Hermes-base cannot run LLaMA2-70B at batch 4 (N.P.: it needs at least {k} NDP-DIMMs, "
        "not 1), so the model gives no share under the datasheet profile to set beside the "
        "paper's \"over 80 %\"")


def test_at_batch_1(setup: bd.Setup, small: bd.Setup) -> None:
    table, mask = bd.at_batch_1(setup)
    assert table.columns.name == "Hermes at batch 1"
    assert list(table.columns) == [f"{w}, {p} profile (%)" for w in ("prefill", "decode")
                                   for p in bd.PROFILES]
    assert len(table) == len(bd.AT_BS1_MODELS) and not mask.to_numpy().any()
    e = _est("hermes", "opt_30b", 1, setup.systems["datasheet"])
    assert table.loc["OPT-30B", "prefill, datasheet profile (%)"] == pytest.approx(
        100 * e.breakdown_s["prefill"] / e.total_s, rel=1e-12)
    np.testing.assert_allclose(table.iloc[:, :2].to_numpy() + table.iloc[:, 2:].to_numpy(), 100)
    table1, mask1 = bd.at_batch_1(small)  # one DIMM: only what fits runs
    assert mask1.loc["LLaMA2-70B (ReLU-fied, ReGLU)"].all()
    assert not mask1.loc["OPT-13B"].any()
    assert (table1.isna().to_numpy() == mask1.to_numpy()).all()


def test_stated_table(setup: bd.Setup, small: bd.Setup) -> None:
    ds = dataclasses.replace(setup, profile="datasheet")
    shares = bd.stated_shares(ds, "opt_30b", 1)
    tab, mask = bd.stated_table(ds, shares)
    assert list(tab["paper"]) == ["about 89", "18.1", "over 80", "33.01", "66.40"]
    cols = ["model (datasheet profile)", "model (paper profile)"]
    assert list(tab.columns) == ["paper", *cols] and list(mask.columns) == cols
    # OPT-30B is not a model of Fig. 12b: the split is read on LLaMA2-70B, at batch 1
    assert shares.split_model == "llama2_70b"
    assert shares.glue["split_note"] == (
        "The prefill and decode rows are read at batch 1, where the paper states its split, "
        "for LLaMA2-70B (ReLU-fied, ReGLU): the split's context is Fig. 12b, and the chapter's "
        "OPT-30B is not in it.")
    l70 = "LLaMA2-70B (ReLU-fied, ReGLU)"
    assert list(tab.index[3:]) == [f"Hermes prefill (% of time, {l70}, batch 1)",
                                   f"Hermes decode (% of time, {l70}, batch 1)"]
    base = _est("hermes-base", "llama2_70b", 1, setup.systems["paper"])
    assert tab.loc["Hermes-base on NDP (% of FC FLOP, LLaMA2-70B, batch 1)", cols[1]] == (
        pytest.approx(100 * base.details["ndp_flop_share"], rel=1e-12))
    hermes = _est("hermes", "llama2_70b", 1, setup.systems["paper"])
    prefill_pct = 100 * hermes.breakdown_s["prefill"] / hermes.total_s
    assert tab.iloc[3, 2] == pytest.approx(prefill_pct) and tab.iloc[4, 2] == pytest.approx(
        100 - prefill_pct)
    dv = _est("dejavu", "opt_66b", 1, setup.systems["datasheet"])
    assert tab.iloc[0, 1] == pytest.approx(
        100 * dv.breakdown_s["communication"] / dv.total_s, rel=1e-12)
    assert not mask.to_numpy().any()
    tab1, mask1 = bd.stated_table(small, bd.stated_shares(small, "llama2_70b", 1))
    # Deja Vu runs without DIMMs; Hermes-base and Hermes do not fit one
    assert list(mask1.iloc[:, 0]) == [False, False, True, True, True]
    assert (tab1.iloc[:, 1:].isna().to_numpy() == mask1.to_numpy()).all()


def test_stated_table_reads_the_split_at_batch_1(setup: bd.Setup) -> None:
    """At batch 16 on a Fig. 12b model, the first rows are at batch 16, the split at batch 1."""
    shares = bd.stated_shares(setup, "falcon_40b", 16)
    assert shares.split_model == "falcon_40b"
    assert shares.glue["split_note"] == (
        "The prefill and decode rows are read at batch 1, where the paper states its split, "
        "for Falcon-40B (ReLU-fied).")
    tab, _ = bd.stated_table(setup, shares)
    assert tab.index[0] == "Deja Vu communication (% of time, OPT-66B, batch 16)"
    assert tab.index[3] == "Hermes prefill (% of time, Falcon-40B (ReLU-fied), batch 1)"
    at1 = _est("hermes", "falcon_40b", 1, setup.systems["paper"])
    at16 = _est("hermes", "falcon_40b", 16, setup.systems["paper"])
    assert tab.loc[tab.index[3], "model (paper profile)"] == pytest.approx(
        100 * at1.breakdown_s["prefill"] / at1.total_s, rel=1e-12)
    assert shares.hermes["paper"]["prefill"] == pytest.approx(  # the text's, at batch 16
        at16.breakdown_s["prefill"] / at16.total_s, rel=1e-12)
    dv = _est("dejavu", "opt_66b", 16, setup.systems["paper"])
    assert tab.iloc[0, 1] == pytest.approx(
        100 * dv.breakdown_s["communication"] / dv.total_s, rel=1e-12)


def test_paper_link_is_the_papers_only_for_pcie_4() -> None:
    """A T4's PCIe 3.0 link: the paper profile's 32 GB/s, by the paper's convention."""
    t4 = {p: io.load_system("hermes_paper", p, gpu="t4") for p in bd.PROFILES}
    assert t4["paper"].host_link.generation == 3
    assert bd.paper_link_text(t4["paper"].host_link) == (
        "the paper profile's 32 GB/s (the paper's 64 GB/s convention applied to PCIe 3.0)")
    setup = _setup(systems=t4)
    text = str(bd.stated_shares(setup, "opt_13b", 1).glue["h_split_text"])
    assert text.endswith("whose PCIe link carries 15.8 GB/s per direction against the paper "
                         "profile's 32 GB/s (the paper's 64 GB/s convention applied to PCIe "
                         "3.0), read per direction")
    assert "the paper's 32" not in text
    default = io.load_system("hermes_paper", "paper").host_link
    assert bd.paper_link_text(default) == "the paper's 64 GB/s"


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(bd).failed == 0


def test_config_glue_is_end_to_ends_notice(setup: bd.Setup) -> None:
    """At the paper's GPU and DIMM count there is no notice; elsewhere end_to_end's sentence
    and a note on the stated shares that names the hardware."""
    assert bd.config_glue(setup, gpu="rtx_4090", n_dimms=8) == {"config_note": "",
                                                                "config_shares_txt": ""}
    other = _setup(n_dimms=32, systems={p: io.load_system("hermes_paper", p, gpu="rtx_5090",
                                                          n_dimms=32) for p in bd.PROFILES})
    g = bd.config_glue(other, gpu="rtx_5090", n_dimms=32)
    assert g["config_note"].startswith("Not the paper's configuration: this run models one "
                                       "RTX 5090 with 32 NDP-DIMMs")
    # the breakdown has no acceptance verdicts and runs the paper's lengths: no word of either
    assert g["config_note"].endswith("is therefore not like for like.")
    assert "verdicts" not in g["config_note"] and "128/128" not in g["config_note"]
    assert g["config_shares_txt"] == (
        "The model's shares are for one RTX 5090 with 32 NDP-DIMMs, not the paper's "
        "configuration (one RTX 4090 with eight NDP-DIMMs): none of them is like for like "
        "with the paper's statements.")


def test_missing_bars_text_lists_the_np_bars(setup: bd.Setup, small: bd.Setup) -> None:
    """Every bar runs, or none: no text; some do not: each with its reason, batches merged."""
    assert bd.missing_bars_text(setup, "12a", bd.FIG12A) == ""
    assert bd.missing_bars_text(small, "12b", bd.FIG12B) == ""  # no_bars_text says it
    k = {b: bd.np_reason(small, "hermes", "opt_66b", b) for b in (1, 4, 16)}
    assert k[1] == k[4] != k[16]  # batch 16's KV cache needs one DIMM more
    assert bd.missing_bars_text(small, "12a", bd.FIG12A) == (
        f"Not shown, as the model cannot run them (N.P.): Hermes on OPT-66B at batches 1 and 4 "
        f"({k[1]}); Hermes on OPT-66B at batch 16 ({k[16]}).")


def test_summary_text_follows_the_bars_that_run(setup: bd.Setup, small: bd.Setup) -> None:
    every = bd.summary_text(bd.ran(setup, bd.FIG12A + bd.FIG12B), True)
    assert every.startswith("The model's breakdown has the paper's shape: Deja Vu is a "
                            "communication system with a little computation attached, "
                            "Hermes-base spends its time on DIMMs streaming whole layers, and "
                            "Hermes' remaining cost")
    assert every.endswith("as the paper says, the next bottleneck.")
    ran_small = bd.ran(small, bd.FIG12A + bd.FIG12B)
    assert ran_small == {"dejavu", "hermes"}  # Hermes runs OPT-13B; Hermes-base nothing
    one = bd.summary_text(ran_small, False)
    assert "Hermes-base spends" not in one and "here it cannot run Hermes-base's bars" in one
    assert one.endswith("are in the table above.")
    assert bd.summary_text(set(), None).startswith("The model cannot run any bar of Fig. 12")


def test_prefill_grows_where_pcie_is_slower(setup: bd.Setup, small: bd.Setup) -> None:
    table, _ = bd.at_batch_1(setup)
    assert bd.prefill_grows(setup, table) is True  # the datasheet link is the slower one
    np_table = table.assign(**dict.fromkeys(table.columns, np.nan))
    assert bd.prefill_grows(setup, np_table) is None
    flipped = table.copy()
    flipped["prefill, datasheet profile (%)"] = 0.0
    assert bd.prefill_grows(setup, flipped) is False
