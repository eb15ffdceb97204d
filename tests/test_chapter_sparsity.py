"""The sparsity chapter's text and table logic (`hermes_model.chapters.sparsity`)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import io
from hermes_model import sparsity as sp
from hermes_model.chapters import sparsity as chapter

NAMES = {"opt_30b": "OPT-30B", "llama2_70b": "LLaMA2-70B (ReLU-fied, ReGLU)"}


def _summary(density: float, s1: float) -> dict:
    return {"mean_over_layers": {
        "density": density, "hot_share_80": 0.523456, "memoryless_similarity": 0.36,
        "similarity": {"1": s1, "10": 0.41, "25": 0.4},
        "layer_correlation_p_active_given_top2_mean": 0.6034,
        "layer_correlation_p_active_unconditional_mean": 0.25}}


def _trace_summary(**kw: float) -> sp.TraceSummary:
    base = {"density": 0.18, "sparsity": 0.82, "hot_share_80": 0.41, "memoryless_similarity": 0.36,
            "similarity": {1: 0.91, 5: 0.8, 10: 0.71, 25: 0.7, 50: 0.69}, "n_sequences": 32,
            "n_tokens": 4096}
    return sp.TraceSummary(**{**base, **kw})


def test_measured_table_and_glues() -> None:
    table = chapter.measured_table({"A": _summary(0.25, 0.47), "B": _summary(0.3, 0.42)})
    assert table["model"].tolist() == ["A", "B"]
    assert table.loc[1, "S(1)"] == 0.42 and table.loc[0, "P(active | top-2 active)"] == 0.6034
    assert list(table.columns)[1:] == ["density", "hot share for 80 %", "S(1)", "S(10)", "S(25)",
                                       "memoryless", "P(active | top-2 active)", "P(active)"]
    g = chapter.measured_glues({"a": _summary(0.25, 0.47123456)})
    assert g == {"a_density": 0.25, "a_hot": 0.5235, "a_s1": 0.4712, "a_s25": 0.4, "a_mem": 0.36,
                 "a_top2": 0.6034, "a_uncond": 0.25}


def test_doctests() -> None:
    # (failed, attempted): plain, source_text, statement_label, input_source (2), input_origin,
    # law_slugs, skew_clause (2), swiglu_lead (3)
    assert doctest.testmod(chapter) == (0, 12)


def test_source_text_drops_private_notes_and_names_models() -> None:
    assert chapter.source_text("Hermes §V-B, Fig. 4a (digest §10) -> opt_30b", NAMES) == (
        "Hermes §V-B, Fig. 4a → OPT-30B")
    assert chapter.source_text("x <= llama2_70b", NAMES) == "x ≤ LLaMA2-70B"


def test_published_table() -> None:
    published = pd.DataFrame({"model": ["OPT-30B", "OPT-30B"],
                              "statistic": ["similarity_d25_plus", "some_new_thing"],
                              "value": ["0.70", "3"], "unit": ["", "%"],
                              "scope": ["d >= 25", "whole model"],
                              "source": ["Hermes Fig. 4a (digest §4)", "from opt_30b"]})
    table = chapter.published_table(published, NAMES)
    assert list(table.columns) == ["statistic", "value", "unit", "scope", "source", "label"]
    # a statement of Hermes is the paper's, one of another paper published
    assert table["label"].tolist() == ["paper", "published"]
    assert table["statistic"].tolist() == ["similarity at d ≥ 25", "some new thing"]
    assert table["scope"].tolist() == ["d ≥ 25", "whole model"]
    assert table["source"].tolist() == ["Hermes Fig. 4a", "from OPT-30B"]


def test_published_labels_of_the_data() -> None:
    table = chapter.published_table(io.load_published_sparsity(), NAMES)
    labels = table.groupby("label")["statistic"].agg(set)
    assert {"similarity at d = 1", "fixed-partition penalty", "predictor accuracy",
            "initially hot neurons that change"} <= labels["paper"]
    assert {"MLP sparsity", "hot share for 80 %"} <= labels["published"]
    # the paper names no model for its predictor's accuracy
    assert table.index[table["statistic"] == "predictor accuracy"].tolist() == ["not stated"]


def test_input_source_and_origin() -> None:
    names = {**NAMES, "llama2_13b": "LLaMA2-13B (ReLU-fied)"}
    assert chapter.input_source("published: PowerInfer Table 1/3 (digest §14)", names) == (
        "published: PowerInfer Table 1/3")
    assert chapter.input_source("paper: Hermes Fig. 4a; LLaMA-13B >= 0.90", names) == (
        "paper: Hermes Fig. 4a; LLaMA-13B ≥ 0.90")
    assert chapter.input_source("borrowed family default from llama2_13b; Hermes Fig. 4a",
                                names) == "borrowed from LLaMA2-13B; Hermes Fig. 4a"
    row = {"a_provenance": "paper: Hermes Fig. 4a", "b_provenance": "assumed: same as MLP",
           "c_provenance": "published: PowerInfer §3; 43 %",
           "d_provenance": "borrowed family default from opt_30b; none for Falcon"}
    assert [chapter.input_origin(row, k, names) for k in "abcd"] == [
        "paper", "assumed", "published", "borrowed from OPT-30B"]


def _prov(**kw: str) -> dict:
    keys = ("mlp_density", "hot_share_80", "similarity_d1", "similarity_d10", "similarity_d25")
    return {f"{k}_provenance": kw.get(k, "published: PowerInfer") for k in keys}


def test_borrowing_txt() -> None:
    names = {"opt_13b": "OPT-13B", "opt_30b": "OPT-30B", "falcon_40b": "Falcon-40B",
             "llama2_13b": "LLaMA2-13B", "llama3_8b": "LLaMA3-8B"}
    b = "borrowed family default from "
    sims = dict.fromkeys(("similarity_d1", "similarity_d10", "similarity_d25"), b + "llama2_13b")
    inputs = {"opt_13b": _prov(hot_share_80=b + "opt_30b", **sims), "opt_30b": _prov(**sims),
              "falcon_40b": _prov(hot_share_80=b + "opt_30b; none"),
              "llama2_13b": _prov(), "llama3_8b": _prov(mlp_density=b + "llama2_13b")}
    # OPT-13B's hot share from OPT-30B and LLaMA3 from LLaMA2 are of the same family
    assert chapter.borrowing_txt(inputs, names) == (
        "from a model of its own family, except that OPT-13B and OPT-30B take their similarities "
        "from LLaMA2-13B, and Falcon-40B takes its hot share for 80 % from OPT-30B")
    assert chapter.borrowing_txt({"llama3_8b": inputs["llama3_8b"]}, names) == (
        "from a model of its own family")
    one = {"falcon_40b": inputs["falcon_40b"]}
    assert chapter.borrowing_txt(one, names) == (
        "from a model of its own family, except that Falcon-40B takes its hot share for 80 % "
        "from OPT-30B")


def test_similarity_source_txt() -> None:
    published = pd.DataFrame({"model": ["LLaMA-13B, Falcon-40B", "Falcon-40B", "OPT-30B"],
                              "statistic": ["similarity_d1", "similarity_d1", "hot_share_80"]})
    fig = "the paper's Fig. 4a, which shows only LLaMA-13B and Falcon-40B"
    names = {"llama2_13b": "LLaMA2-13B (ReLU-fied)"}
    borrowed = _prov(similarity_d1="borrowed family default from llama2_13b; x",
                     similarity_d25="borrowed family default from llama2_13b; y")
    assert chapter.similarity_source_txt(borrowed, published, names, "LLaMA2-70B (x)") == (
        f"the values of {fig}: LLaMA2-70B borrows LLaMA2-13B's (Fig. 4a's LLaMA-13B values, "
        "taken for LLaMA2-13B)")
    # a source that Fig. 4a shows under its own name needs no note
    falcon = _prov(similarity_d1="borrowed family default from falcon_40b; x",
                   similarity_d25="borrowed family default from falcon_40b; y")
    assert chapter.similarity_source_txt(falcon, published, {"falcon_40b": "Falcon-40B"},
                                         "Falcon-180B") == (
        f"the values of {fig}: Falcon-180B borrows Falcon-40B's")
    own = _prov(similarity_d1="paper: Hermes Fig. 4a", similarity_d25="paper: Hermes")
    assert chapter.similarity_source_txt(own, published, names, "M") == f"the values of {fig}"
    mixed = _prov(similarity_d1="paper: Hermes Fig. 4a", similarity_d25="assumed: flat")
    assert chapter.similarity_source_txt(mixed, published, names, "M") == (
        "its inputs (paper and assumed)")


def test_inputs_table() -> None:
    row = dict.fromkeys(chapter.INPUTS, 0.126) | {
        f"{k}_provenance": "borrowed family default from opt_30b" for k in chapter.INPUTS}
    table = chapter.inputs_table(row, NAMES)
    assert table.index.tolist() == list(chapter.INPUTS.values())
    assert set(table["value"]) == {"0.13"}
    assert set(table["source"]) == {"borrowed from OPT-30B"}


@pytest.fixture(scope="module")
def inputs() -> dict:
    return io.load_generator_inputs()


@pytest.fixture(scope="module")
def law_models() -> list:
    return [hm.load_model(s) for s in chapter.LAW_MODELS]


@pytest.fixture(scope="module")
def law(inputs: dict, law_models: list) -> chapter.HotColdLaw:
    return chapter.hot_cold_law(inputs, io.load_published_sparsity(), "llama2_13b", law_models,
                                n_grid=1024)


def test_hot_cold_law_table_is_the_fit(law: chapter.HotColdLaw, inputs: dict) -> None:
    r = inputs["opt_30b"]
    fit = sp.fit_frequencies(1024, float(r["mlp_density"]), float(r["hot_share_80"]))
    row = law.table.loc["OPT-30B"]
    assert row["skew σ"] == pytest.approx(fit.logit_std, rel=1e-3)
    assert row["hot share for 80 %"] == pytest.approx(fit.hot_share_80)
    p = sp.logit_normal_frequencies(1024, fit.logit_mean, fit.logit_std)
    assert row["compute share of the hottest 20 %"] == pytest.approx(
        sp.compute_share_of_hottest(p))
    assert [c["curve"].iloc[0] for c in law.curves] == ["OPT-30B", "Falcon-40B", "LLaMA2-13B",
                                                        "LLaMA2-70B"]
    # where each model's density and hot share come from (Falcon-40B's hot share is OPT-30B's)
    falcon = hm.load_model("falcon_40b").name
    assert law.table.loc["OPT-30B", "hot share is"] == "published"
    assert law.table.loc[falcon, "hot share is"] == "borrowed from OPT-30B"
    assert law.table.loc[falcon, "density is"] == "published"
    params, compute = sp.cumulative_compute_share(p)
    assert law.curves[0]["compute_share"].tolist() == compute[::32].tolist()
    assert law.curves[0]["parameter_share"].tolist() == params[::32].tolist()
    for c in law.curves:
        assert np.all(np.diff(c["compute_share"]) >= -1e-12)


def test_the_chosen_model_joins_the_law_tables_and_opt_is_not_compared_with_itself(
        inputs: dict) -> None:
    """OPT-66B is none of the four models: its row is added to the hot/cold and QKV tables,
    the text counts five models, and its skew clause names no OPT; LLaMA2-13B's reads as
    before."""
    assert chapter.law_slugs("llama2_13b") == chapter.LAW_MODELS
    models = [hm.load_model(s) for s in chapter.law_slugs("opt_66b")]
    law = chapter.hot_cold_law(inputs, io.load_published_sparsity(), "opt_66b", models,
                               n_grid=1024)
    assert "OPT-66B" in law.table.index and len(law.table) == 5
    assert law.glues["law_n_models"] == "five"
    assert law.glues["skew_clause"] == "a more skewed distribution"  # σ 1.64 → 1.92, an OPT
    assert "OPT-66B" in chapter.qkv_table(models, inputs).index
    assert chapter.skew_clause("falcon_40b", 1.0, sp.FrequencyFit(1, 0.0, 1.2, 0.1, 0.2)) == (
        "a more skewed distribution, closer to OPT's")


def test_skew_prints_the_same_in_table_and_text(inputs: dict, law_models: list) -> None:
    """OPT-66B's σ ≈ 1.635 printed 1.63 in the table and 1.64 in the text (rerunA3 #5)."""
    models = [*law_models, hm.load_model("opt_66b")]
    opt = chapter.hot_cold_law(inputs, io.load_published_sparsity(), "opt_66b", models,
                               n_grid=1024)
    row = opt.table.loc["OPT-66B"]
    assert f"{row['skew σ']:.2f}" == f"{opt.glues['model_sigma']:.2f}"


def test_hot_cold_law_glues(law: chapter.HotColdLaw, inputs: dict) -> None:
    g = law.glues
    r = inputs["llama2_13b"]
    assert law.model_fit == sp.fit_frequencies(1024, float(r["mlp_density"]),
                                               float(r["hot_share_80"]))
    assert g["model_hot_pct"] == pytest.approx(100 * float(r["hot_share_80"]))
    assert g["model_hot_origin"] == "borrowed from LLaMA2-70B"  # LLaMA2-13B has none published
    assert g["skew_clause"] == "a much more skewed distribution, closer to OPT's"
    assert g["law_n_models"] == "four"
    assert g["model_sigma"] == pytest.approx(law.model_fit.logit_std, rel=1e-3)
    p = sp.logit_normal_frequencies(1024, law.model_fit.logit_mean, law.model_fit.logit_std)
    assert g["model_top20_pct"] == pytest.approx(100 * sp.compute_share_of_hottest(p), rel=1e-3)
    fit, phrase = sp.headline_fit(1024, float(r["mlp_density"]), 0.20)
    assert g["law_phrase"] == phrase and law.headline_fit == fit
    pub = io.load_published_sparsity()
    for key, model in chapter.PUBLISHED_HOT.items():
        rows = pub[(pub.statistic == "hot_share_80") & (pub.model == model)]
        for scope, s in (("whole model", "whole"), ("within one MLP block", "block")):
            assert g[f"pub_hot_{key}_{s}"] == float(
                rows.loc[rows.scope == scope, "value"].iloc[0])


def test_similarity_curves() -> None:
    pers = sp.Persistence(stationary=0.7, fast_share=0.0, fast_rho=0.0, slow_rho=0.5)
    df = chapter.similarity_curves(_trace_summary(), pers, "X",
                                   {"M (measured)": _summary(0.2, 0.47)})
    expected = df[df.kind == "expected"].set_index("curve")
    line = expected.loc["X, generator"]
    assert len(line) == 50 and line["similarity"].iloc[0] == pytest.approx(0.7 + 0.3 * 0.5)
    assert expected.loc["X, memoryless", "similarity"].tolist() == [0.36, 0.36]
    points = df[df.kind == "generated"]
    assert points["distance"].tolist() == [1, 5, 10, 25, 50]
    assert points["similarity"].tolist() == [0.91, 0.8, 0.71, 0.7, 0.69]
    measured = df[df.kind == "measured"]
    assert measured["distance"].tolist() == [1, 10, 25]
    assert measured["similarity"].tolist() == [0.47, 0.41, 0.4]


def _mlp(n: int = 256) -> sp.GroupTargets:
    return sp.GroupTargets("mlp", n, 0.2, 0.45, (1, 25), (0.9, 0.7))


def test_persistence_glues_and_table() -> None:
    mlp = sp.GroupTargets("mlp", 256, 0.2, 0.45, (1, 10, 25), (0.9, 0.75, 0.7))
    model = sp.build_trace_model([mlp], 2, 0.5, np.random.default_rng(0))
    gen = _trace_summary(hot_share_80=0.43)
    g = chapter.persistence_glues(gen, mlp, model)
    assert g["gen_s1"] == 0.91 and g["gen_s10"] == 0.71 and g["gen_s25"] == 0.7
    assert g["hot_gap_pts"] == pytest.approx(2.0)
    assert g["target_density"] == 0.2 and g["target_hot"] == 0.45
    assert g["rho"] == pytest.approx(model.persistence[0][0].slow_rho, rel=1e-3)
    assert g["c_share"] == pytest.approx(model.sequence_share[0, 0], rel=1e-3)
    table = chapter.persistence_table(gen, mlp)
    assert table.loc["S(1)"].tolist() == [0.9, 0.91]
    assert table.loc["S(25)"].tolist() == [0.7, 0.7]
    assert np.isnan(table.loc["S(10)", "target"]) and np.isnan(table.loc["memoryless", "target"])


def _targets(mlp: sp.GroupTargets) -> sp.ModelTargets:
    qkv = sp.GroupTargets("qkv", 64, 0.1, 0.4, (1, 25), (0.9, 0.7))
    return sp.ModelTargets((qkv, mlp), 0.5, {})


def _stats(s: sp.TraceSummary) -> tuple:
    return s.density, s.hot_share_80, s.memoryless_similarity, dict(s.similarity), s.n_tokens


def test_swiglu_comparison_draws_in_order() -> None:
    sw_t = _targets(sp.GroupTargets("mlp", 128, 0.57, 0.7, (1, 25), (0.66, 0.64)))
    re_t = _targets(_mlp(128))
    got = chapter.swiglu_comparison(sw_t, re_t, 4, np.random.default_rng(3), model_name="M (x)")
    rng = np.random.default_rng(3)
    sw_model = sp.build_trace_model([sw_t.groups[1]], 1, 0.5, rng)
    sw = sp.summarize_generated(sw_model, 4, rng, distances=(1, 10, 25))
    re_ = sp.summarize_generated(sp.build_trace_model([re_t.groups[1]], 1, 0.5, rng), 4, rng,
                                 distances=(1, 10, 25))
    assert _stats(got.swiglu) == _stats(sw) and _stats(got.relu) == _stats(re_)
    assert got.glues["sw_name"] == "M" and got.glues["sw_density"] == pytest.approx(sw.density,
                                                                                   rel=1e-3)
    assert got.glues["re_density"] == pytest.approx(re_.density, rel=1e-3)
    # the hottest 20 % of the SwiGLU layer's neurons do a share (0..1) of its compute, in %
    share = sp.compute_share_of_hottest(sw_model.frequencies[0])
    assert 0.2 < share < 1
    assert got.glues["sw_top20_pct"] == pytest.approx(100 * share, rel=1e-3)
    assert got.table.loc["S(10)"].tolist() == [re_.similarity[10], sw.similarity[10]]
    # with the ReLU summary given, only the SwiGLU trace is drawn
    given = _trace_summary()
    again = chapter.swiglu_comparison(sw_t, re_t, 4, np.random.default_rng(3), model_name="M",
                                      relu=given)
    assert again.relu is given and _stats(again.swiglu) == _stats(sw)
    assert again.table["ReLU-fied (paper)"].tolist() == [0.18, 0.41, 0.91, 0.71, 0.7, 0.36]


def test_swiglu_lead_names_whose_statistics_are_used() -> None:
    """rerunA2 #12: the SwiGLU statistics are LLaMA2-13B's density and LLaMA2-70B's hot share,
    borrowed for any other model, and an OPT or Falcon model has no SwiGLU original."""
    l70, l13 = io.load_model("llama2_70b"), io.load_model("llama2_13b")
    assert chapter.swiglu_lead(l70, l70) == "For the original SwiGLU LLaMA2-70B"  # the default
    assert chapter.swiglu_lead(l13, l13) == "For the original SwiGLU LLaMA2-13B"
    for slug in ("llama3_70b", "llama2_7b"):
        m = io.load_model(slug)
        assert chapter.swiglu_lead(m, m) == (
            f"For the original SwiGLU {m.name.split(' (')[0]} (PowerInfer's LLaMA2 SwiGLU "
            "statistics, borrowed)")
    assert chapter.swiglu_lead(io.load_model("opt_30b"), l70) == (
        "OPT-30B has no SwiGLU original (its own activation is ReLU), so LLaMA2-70B stands in. "
        "For the original SwiGLU LLaMA2-70B")
    assert "(its own activation is GELU)" in chapter.swiglu_lead(io.load_model("falcon_40b"), l70)
    # the statistics the option takes are those two models' for every SwiGLU model
    from hermes_model.cli import sparsity_targets
    for slug in ("llama2_7b", "llama3_70b", "llama2_70b"):
        prov = sparsity_targets(slug, "swiglu").provenance
        assert "LLaMA2-13B" in prov["mlp_density"] and "70B" in prov["hot_share_80"]


def test_qkv_table_and_glues(inputs: dict, law_models: list) -> None:
    table = chapter.qkv_table(law_models, inputs)
    m, r = law_models[0], inputs[law_models[0].slug]
    q, d = float(r["qkv_density"]), float(r["mlp_density"])
    base = sp.active_weight_bytes_per_token(m, q, d)
    twice = sp.active_weight_bytes_per_token(m, min(1.0, 2 * q), d)
    assert table.loc[m.name, "QKV as MLP (GB)"] == pytest.approx(base / 1e9)
    assert table.loc[m.name, "QKV twice as dense (GB)"] == pytest.approx(twice / 1e9)
    assert table.loc[m.name, "change (%)"] == pytest.approx(100 * (twice / base - 1))
    g = chapter.qkv_glues(m, r, table)
    assert g["qkv_base_GB"] == pytest.approx(base / 1e9, rel=1e-3)
    changes = []
    for spec in law_models:
        row = inputs[spec.slug]
        qkv, mlp = float(row["qkv_density"]), float(row["mlp_density"])
        changes.append(100 * (sp.active_weight_bytes_per_token(spec, min(1.0, 2 * qkv), mlp)
                              / sp.active_weight_bytes_per_token(spec, qkv, mlp) - 1))
    assert g["qkv_change_pct"] == pytest.approx(changes[0], rel=1e-3)
    assert g["qkv_change_min"] == pytest.approx(min(changes), rel=1e-3)
    assert g["qkv_change_max"] == pytest.approx(max(changes), rel=1e-3)
    # a QKV density above one half doubles only up to 1
    dense = {**r, "qkv_density": 0.7}
    assert chapter.qkv_bytes(m, dense)[1] == pytest.approx(
        sp.active_weight_bytes_per_token(m, 1.0, d))


def _validation(within: list[bool] | None = None) -> pd.DataFrame:
    diff = [0.003, 0.03, 0.026]
    tol = [0.02, 0.04, 0.10]
    return pd.DataFrame({"statistic": ["density", "similarity at d = 5", "layer correlation"],
                         "real": [0.2472, 0.41, 0.633], "generated": [0.2506, 0.44, 0.6594],
                         "abs_diff": diff, "tolerance": tol,
                         "within": within if within is not None else [True, True, True]})


def test_validation_table_labels_real_and_generated() -> None:
    table = chapter.validation_table(_validation([True, False, True]))
    assert list(table.columns) == ["real (measured)", "generated (model)",
                                   "|real − generated|", "tolerance", "within"]
    assert table.index.name == "statistic"
    assert table.loc["density"].tolist() == ["0.247", "0.251", "0.003", "0.02", "yes"]
    assert table.loc["similarity at d = 5", "within"] == "no"
    assert table.loc["layer correlation", "tolerance"] == "0.10"


def test_validation_glues_count_and_nearest_to_tolerance() -> None:
    g = chapter.validation_glues(_validation([True, False, True]))
    assert (g["val_n_within"], g["val_n_stats"]) == (2, 3)
    # 0.03 / 0.04 = 0.75 is nearer its tolerance than 0.026 / 0.10 or 0.003 / 0.02
    assert g["val_tightest"] == "similarity at d = 5"
    assert (g["val_tightest_diff"], g["val_tightest_tol"]) == (0.03, 0.04)


def test_validation_glues_of_the_committed_table() -> None:
    v = io.load_sparsity_validation()
    g = chapter.validation_glues(v)
    assert g["val_n_stats"] == len(v) == 8
    assert g["val_n_within"] == int(v["within"].sum())
    assert g["val_tightest"] in set(v["statistic"])
