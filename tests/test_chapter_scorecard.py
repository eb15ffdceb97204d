"""hermes_model.chapters.scorecard: the counts, tolerances and sentences of the scorecard chapter.

Small synthetic tables drive each branch of the text; the similarity at distance 10 is checked
against the bound the chapter states (between the value at 25 and the straight line from 1 to
25), through the same generator at other distances.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hermes_model import io, policies
from hermes_model import scorecard as sc
from hermes_model.chapters import scorecard as chapter


def _bars(spec: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Bar rows: per policy, (failing rows, all rows)."""
    rows = [{"policy": p, "verdict": "fails" if i < k else "holds"}
            for p, (k, size) in spec.items() for i in range(size)]
    return pd.DataFrame(rows)


def test_count_glue() -> None:
    n = {"holds": 2, "fails": 1, "input": 4, "not yet modelled": 5, "scored": 3, "rows": 12}
    assert chapter.count_glue(n, "datasheet") == {
        "n_holds": 2, "n_fails": 1, "n_input": 4, "n_scored": 3, "n_rows": 12, "n_nym": 5,
        "pct_holds": 66.7, "profile_name": "datasheet"}


def test_count_glue_of_scored_rows() -> None:
    scored = pd.DataFrame({"verdict": ["holds"] * 7 + ["fails"] * 4 + ["input"]})
    got = chapter.count_glue(sc.counts(scored), "paper")
    assert (got["n_holds"], got["n_fails"], got["n_scored"], got["n_rows"]) == (7, 4, 11, 12)
    assert got["pct_holds"] == pytest.approx(100 * 7 / 11, rel=1e-3)


def test_rule_glue_states_the_rules() -> None:
    got = chapter.rule_glue()
    # the text: ±20 % for Hermes' tokens/s, ±35 % for the rest; gain below 3x; flat within 10 %
    assert got == {"tol_hermes_pct": 20, "tol_other_pct": 35, "tol_hermes": 0.20,
                   "tol_other": 0.35, "speedup_gain_below": "3", "flat_pct": 10,
                   "fig14_counts": "1, 2, 4, 8 and 16"}
    assert sc.holds_number(1.19, 1.0, "hermes_20") and not sc.holds_number(1.21, 1.0, "hermes_20")


def test_by_figure_and_best_worst() -> None:
    scored = pd.DataFrame({"figure": ["Fig. 9"] * 4 + ["Fig. 10"] * 2 + ["cost"] * 2,
                           "verdict": ["holds", "holds", "holds", "fails", "fails", "holds",
                                       "input", "input"]})
    by_fig = chapter.by_figure(sc.summary(scored))
    assert list(by_fig.index) == ["Fig. 9", "Fig. 10", "cost"]  # the figures' order
    assert by_fig.index.name == "paper's figure"
    assert by_fig.loc["Fig. 9", "holds"] == 3 and by_fig.loc["cost", "holds"] == 0
    # Fig. 9 holds 3 of 4, Fig. 10 1 of 2; cost has no scored row and is skipped
    assert chapter.figure_glue(by_fig) == {"best_figure": "the paper's Fig. 9",
                                           "worst_figure": "the paper's Fig. 10"}


def test_best_worst_by_share_not_by_count() -> None:
    # Fig. 9 holds 1 of 1 (100 %), Fig. 10 3 of 6 (50 %), Fig. 11 2 of 3 (67 %): the share,
    # not the number of rows, ranks the figures
    by_fig = pd.DataFrame({"holds": [1, 3, 2], "fails": [0, 3, 1]},
                          index=pd.Index(["Fig. 9", "Fig. 10", "Fig. 11"], name="paper's figure"))
    assert chapter.figure_glue(by_fig) == {"best_figure": "the paper's Fig. 9",
                                           "worst_figure": "the paper's Fig. 10"}


@pytest.mark.parametrize(("spec", "text"), [
    ({"hermes": (0, 4), "dejavu": (0, 3)}, "no system's: every bar holds"),
    ({"hermes": (1, 4), "dejavu": (3, 3)}, "Deja Vu's (all 3 rows)"),
    ({"hermes": (1, 4), "dejavu": (2, 3)}, "Deja Vu's (2 of 3 rows)"),
    ({"hermes": (4, 4), "flexgen": (4, 4), "dejavu": (0, 3)},
     "FlexGen's and Hermes's (all 4 rows each)"),
    ({"hermes": (2, 4), "flexgen": (2, 4), "dejavu": (0, 3)},
     "FlexGen's and Hermes's (2 of 4 rows each)"),
    ({"accelerate": (3, 3), "hermes": (4, 4)}, "Accelerate's and Hermes's (3 of 3, 4 of 4 rows)"),
    ({"hermes": (1, 2), "dejavu": (2, 4), "flexgen": (0, 1)},
     "Deja Vu's and Hermes's (2 of 4, 1 of 2 rows)"),
    ({"hermes": (1, 2), "dejavu": (3, 5)}, "Deja Vu's (3 of 5 rows)"),  # 60 % against 50 %
    ({"hermes-host": (1, 3), "my-policy": (1, 3)},
     "Hermes-host's and my-policy's (1 of 3 rows each)"),
])
def test_worst_policy_text(spec: dict[str, tuple[int, int]], text: str) -> None:
    # the systems tied for the largest share of failing rows, by their names in the paper
    assert chapter.worst_policy_text(_bars(spec)) == text


def test_bar_glue() -> None:
    bars = _bars({"hermes": (1, 5), "dejavu": (2, 2)})
    bar_n = {"rows": 7, "distinct": 6, "repeated": 1, "hermes_rows": 5, "hermes_distinct": 4}
    n = {"scored": 20, "not yet modelled": 3}
    got = chapter.bar_glue(bars, bar_n, n)
    assert got == {"bar_rows": 7, "bar_distinct": 6, "bar_repeated": 1, "bar_hermes_rows": 5,
                   "bar_hermes_distinct": 4, "bar_hermes_repeated": 1, "n_other_scored": 16,
                   "n_hermes_hold": 4,
                   "worst_policy_txt": "Deja Vu's (all 2 rows)"}


def test_input_table() -> None:
    scored = pd.DataFrame({
        "id": ["cost/hermes", "fig9/x", "motivation/similarity_d1", "motivation/similarity_d10"],
        "quantity": ["price", "a bar", "similarity", "similarity at 10"],
        "paper_value": [2500.0, 3.5, 0.9, 0.7], "unit": ["USD", "tokens/s", "fraction", "fraction"],
        "source": ["Hermes §V-F (digest §12)", "Fig. 9", "Hermes Fig. 4a [I]", "Hermes Fig. 4a"],
        "kind": ["input", "number", "input", "input"]})
    got = chapter.input_table(scored)
    assert got.to_dict("list") == {
        "quantity": ["price", "similarity", "similarity at 10"],
        "paper": ["2,500", "> 0.90", "≈ 0.70"],
        "unit": ["USD", "fraction", "fraction"],
        "source": ["Hermes §V-F", "Hermes Fig. 4a (inferred)", "Hermes Fig. 4a"],
        "listed as": ["input", "input", "prediction the inputs bound"]}


def test_listed_glue_names_the_bound_prediction_apart() -> None:
    rows = pd.DataFrame({"id": ["cost/hermes", "fig9/x", "motivation/similarity_d10"],
                         "kind": ["input", "number", "input"]})
    assert chapter.listed_glue(rows) == {
        "n_listed": 2, "n_inputs": 1,
        "listed_txt": "2 are listed, not scored: 1 input and one prediction that the inputs "
                      "bound (Fig. 4a's similarity at a distance of 10 tokens, below)"}
    inputs_only = rows[rows["id"] != "motivation/similarity_d10"]
    assert chapter.listed_glue(inputs_only) == {
        "n_listed": 1, "n_inputs": 1, "listed_txt": "1 is an input (listed, not scored)"}


def test_average_gap_glue() -> None:
    gaps = pd.DataFrame({"inconsistency": [
        "75.24× Hermes over Deja Vu, batches 1–16" + sc.AVERAGE_NOT_GIVEN,
        "62× Hermes-host over Accelerate" + sc.AVERAGE_GEOMETRIC, "Something else"]})
    got = chapter.average_gap_glue(gaps)
    assert (got["n_avg_gaps"], got["n_avg_geometric"]) == (1, 1)
    assert got["avg_gaps_txt"] == (
        "The paper's own bars do not give one of its stated averages (75.24× Hermes over Deja "
        "Vu, batches 1–16); one, 62× Hermes-host over Accelerate, is the geometric mean of its "
        "bars.")
    geo_only = chapter.average_gap_glue(gaps.iloc[1:])
    assert geo_only["avg_gaps_txt"] == (
        "The paper's own bars give every one of its stated averages; one, 62× Hermes-host over "
        "Accelerate, is the geometric mean of its bars.")
    none = chapter.average_gap_glue(gaps.iloc[2:])
    assert none == {"n_avg_gaps": 0, "n_avg_geometric": 0,
                    "avg_gaps_txt": "The paper's own bars give every one of its stated averages."}


@pytest.fixture(scope="module")
def fig4a_inputs() -> sc.Inputs:
    models = {m: io.load_model(m) for m in sc.FIG4A_MODELS}
    return sc.Inputs(profile="paper", system_for=None, models=models,
                     activities={m: io.load_activity(m) for m in sc.FIG4A_MODELS},
                     paper_bars={}, ablation=pd.DataFrame(), balance=pd.DataFrame(),
                     paper_fig13=pd.DataFrame())


def test_input_glue(fig4a_inputs: sc.Inputs) -> None:
    scored = pd.DataFrame({"quantity": ["a", "b", "c"], "model_note": ["why a", "", "why c"],
                           "verdict": ["not yet modelled", "holds", "not yet modelled"]})
    got = chapter.input_glue(scored, fig4a_inputs)
    assert got["nym_list"] == "a (why a); c (why c)"
    parts = re.fullmatch(r"(0\.\d\d) for (\S+) and (0\.\d\d) for (\S+)", str(got["s10_txt"]))
    assert parts is not None
    assert [parts[2], parts[4]] == [sc.short_name(fig4a_inputs.models[m].name)
                                    for m in sc.FIG4A_MODELS]
    for m, shown in zip(sc.FIG4A_MODELS, (parts[1], parts[3]), strict=True):
        s = {d: sc.expected_similarity(fig4a_inputs.models[m], fig4a_inputs.activities[m], d)
             for d in (1, 10, 25)}
        assert shown == f"{s[10]:.2f}"
        # the chapter's bound: above the value at 25, below the line from 1 to 25
        assert s[25] <= s[10] <= s[1] + (s[25] - s[1]) * 9 / 24


def test_input_glue_empty(fig4a_inputs: sc.Inputs) -> None:
    scored = pd.DataFrame({"quantity": ["a"], "model_note": [""], "verdict": ["holds"]})
    no_activity = sc.Inputs(profile="paper", system_for=None, models=fig4a_inputs.models,
                            activities={"opt_13b": policies.activity_from_inputs(
                                io.load_generator_inputs()["opt_13b"])},
                            paper_bars={}, ablation=pd.DataFrame(), balance=pd.DataFrame(),
                            paper_fig13=pd.DataFrame())
    assert chapter.input_glue(scored, no_activity) == {"nym_list": "none",
                                                       "s10_txt": "not computed here"}


def test_sensitivity_criteria_text_names_the_split_verdicts() -> None:
    """scA (datasheet): the T4's +26.7 % holds under speedup_35 but lies outside the
    sensitivity chapter's ±25 %; the chapter says so (rerunB #11). At the defaults, 15.4 %
    and -87 % give the same verdicts."""
    def rows(e_t4: float, v_t4: str, e_3090: float, v_3090: str) -> pd.DataFrame:
        return pd.DataFrame({"id": list(chapter.FIG15_ROWS), "error": [e_t4, e_3090],
                             "verdict": [v_t4, v_3090]})
    split = chapter.sensitivity_criteria_text(rows(0.2676, "holds", -0.686, "fails"))
    assert split.endswith(": the T4's mean (+26.8 %) holds here but lies outside ± 25 % there.")
    assert 'reads "flat" by the same 10 %' in split
    same = chapter.sensitivity_criteria_text(rows(0.154, "holds", -0.873, "fails"))
    assert same.endswith("± 25 % on the same error (ratio − 1), which gives the same verdicts as "
                         "the rows here.")
    both = chapter.sensitivity_criteria_text(rows(0.30, "holds", -0.30, "holds"))
    assert both.endswith("the T4's mean (+30.0 %) and the 3090's mean (-30.0 %) hold here but "
                         "lie outside ± 25 % there.")
