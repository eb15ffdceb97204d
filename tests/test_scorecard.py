"""Tests of hermes_model.scorecard: the rules in closed form, the rows' references to
data/paper, and that every row maps to a model value (issue 11)."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from hermes_model import io
from hermes_model import scorecard as sc


def test_speedup_error_on_the_gain_below_3x():
    # 1.08x against 0.70x cannot pass: on ratio - 1 the error is (0.08 / -0.30) - 1
    assert sc.speedup_error(1.08, 0.70) == pytest.approx(0.08 / -0.30 - 1)
    assert not sc.holds_number(1.08, 0.70, "speedup_35")
    # 1.33x against 1.29x: gain 0.33 vs 0.29
    assert sc.speedup_error(1.33, 1.29) == pytest.approx(0.33 / 0.29 - 1)
    # at and above 3x the plain relative error
    assert sc.speedup_error(6.0, 3.0) == pytest.approx(1.0)
    assert sc.speedup_error(150.0, 148.98) == pytest.approx(150 / 148.98 - 1)
    with pytest.raises(ValueError, match="ratio is 1"):
        sc.speedup_error(1.2, 1.0)


def test_number_tolerances():
    assert sc.holds_number(16.5, 13.75, "hermes_20")  # +20 % exactly
    assert not sc.holds_number(16.6, 13.75, "hermes_20")
    assert sc.holds_number(0.65, 1.0, "rel_35")
    assert not sc.holds_number(0.64, 1.0, "rel_35")
    assert sc.relative_error(3.0, 2.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not a number rule"):
        sc.number_error(1.0, 1.0, "range")
    assert not sc.holds_number(math.nan, 1.0, "rel_35")


def test_range_threshold_trend():
    assert sc.holds_range([4.79, 7.75, 6.0], 4.79, 7.75)
    assert not sc.holds_range([4.5, 6.0], 4.79, 7.75)
    assert sc.holds_range(1.5, 1.2, 2.5) and not sc.holds_range(1.077, 1.2, 2.5)
    assert not sc.holds_range([], 0, 1)
    assert sc.holds_threshold(0.05, 0.1, "lt") and not sc.holds_threshold(0.1, 0.1, "lt")
    assert sc.holds_threshold(83.0, 80.0, "gt") and not sc.holds_threshold(80.0, 80.0, "gt")
    assert sc.holds_threshold(8.0, 8.0, "min_count") and not sc.holds_threshold(16, 8, "min_count")
    assert sc.holds_threshold(True, 1, "np") and not sc.holds_threshold(False, 1, "np")
    assert sc.holds_trend(2.0, 2, "argmin") and not sc.holds_trend(4.0, 2, "argmin")
    assert sc.holds_trend(-0.1, 0, "flat_10") and not sc.holds_trend(0.11, 0, "flat_10")


def test_verdicts():
    assert sc.verdict("input", "input", None, 2500.0) == ("input", pytest.approx(math.nan,
                                                                                  nan_ok=True))
    assert sc.verdict("number", "rel_35", None, 52.0)[0] == "not yet modelled"
    v, e = sc.verdict("number", "speedup_35", 1.363, 1.63)
    assert v == "fails" and e == pytest.approx(0.363 / 0.63 - 1)
    assert sc.verdict("range", "range", [5.0, 7.0], 4.79, 7.75)[0] == "holds"
    assert sc.verdict("number", "hermes_20", math.nan, 13.75)[0] == "fails"
    with pytest.raises(ValueError, match="kind"):
        sc.verdict("guess", "rel_35", 1.0, 1.0)


def test_select_and_rows_match_their_data_paper_sources():
    t = pd.DataFrame({"a": ["x", "y"], "b": ["1", "1"], "v": ["3.5", "4"]})
    assert sc.select(t, "a=y,b=1:v") == 4.0
    with pytest.raises(ValueError, match="matches 2"):
        sc.select(t, "b=1:v")
    rows = io.load_scorecard_rows()
    assert rows["id"].is_unique
    assert set(rows["kind"]) <= set(sc.KINDS) and set(rows["rule"]) <= set(sc.RULES)
    checked = 0
    for r in rows.itertuples():
        if r.data_ref:
            assert sc.select(io.load_paper_table(r.data_file), r.data_ref) == pytest.approx(
                float(r.paper_value)), r.id
            checked += 1
    assert checked >= 120
    # every result row of the digest's §16 (1-11) is present
    assert sorted(rows["row"].unique()) == list(range(1, 12))


def test_every_paper_bar_is_a_row():
    rows = set(io.load_scorecard_rows()["id"])
    for fig in ("fig9", "fig10", "fig11"):
        bars = io.load_paper_figure(fig)
        for r in bars[bars["supported"]].itertuples():
            assert f"{fig}/{r.model}/{r.policy}/bs{r.batch}" in rows


def test_score_counts_and_summary():
    rows = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"], "figure": ["F1", "F1", "F2", "F2", "F2"],
        "kind": ["number", "number", "range", "input", "number"],
        "rule": ["hermes_20", "speedup_35", "range", "input", "rel_35"],
        "paper_value": [10.0, 1.5, 1.2, 150.0, 52.0],
        "paper_high": [math.nan, math.nan, 2.5, math.nan, math.nan]})
    values = {"a": 11.0, "b": 1.1, "c": [1.3, 2.0], "e": None}
    s = sc.score(rows, values)
    assert list(s["verdict"]) == ["holds", "fails", "holds", "input", "not yet modelled"]
    assert s.loc[0, "error"] == pytest.approx(0.1)
    assert s.loc[1, "error"] == pytest.approx(0.1 / 0.5 - 1)
    c = sc.counts(s)
    assert (c["holds"], c["fails"], c["input"], c["not yet modelled"], c["scored"]) == (2, 1, 1, 1, 3)
    summ = sc.summary(s)
    assert summ["rows"].sum() == 5 and list(dict.fromkeys(summ["figure"])) == ["F1", "F2"]
    with pytest.raises(KeyError, match="no model value"):
        sc.score(rows, {"a": 1.0})


@pytest.fixture(scope="module")
def scored():
    inp = sc.load_inputs("paper")
    return sc.score(io.load_scorecard_rows(), sc.model_values(inp)), inp


def test_every_row_is_mapped_and_counts_add_up(scored):
    s, _ = scored
    c = sc.counts(s)
    assert c["holds"] + c["fails"] + c["input"] + c["not yet modelled"] == len(s)
    # every scored row now has a model value (none is invented: see the motivation test)
    assert c["not yet modelled"] == 0
    # a number row's error is recomputable from its two values
    num = s[(s["kind"] == "number") & s["model_value"].notna()]
    for r in num.itertuples():
        assert r.error == pytest.approx(sc.number_error(r.model_value, r.paper_value, r.rule))


def test_motivation_rows_come_from_the_derived_table(scored):
    s, inp = scored
    mot = inp.motivation
    v = s.set_index("id")["model_value"]
    assert v["motivation/unstable_hot_neurons"] == pytest.approx(
        100 * sc.motivation_value(mot, "llama2_70b", "gpu_set_flip_share"))
    fixed = sc.motivation_value(mot, "llama2_70b", "fixed_mlp_s_per_token")
    oracle = sc.motivation_value(mot, "llama2_70b", "oracle_mlp_s_per_token")
    # the oracle is never slower; the ratio is the table's two latencies (to its 6 digits)
    assert oracle <= fixed
    assert v["motivation/fixed_partition_penalty"] == pytest.approx(fixed / oracle, rel=1e-5)
    step = sc._est(inp, "hermes", "opt_66b").decode_step_s
    host = sc.motivation_value(mot, "opt_66b", "host_exposed_s_per_token")
    link = sc.motivation_value(mot, "opt_66b", "link_exposed_s_per_token")
    assert v["motivation/migration_host"] == pytest.approx(100 * host / (step + host))
    assert v["motivation/migration_dimm_link"] == pytest.approx(100 * link / (step + link))
    # DIMM-link moves the same neurons faster than the host
    assert (sc.motivation_value(mot, "opt_66b", "link_s_per_token")
            < sc.motivation_value(mot, "opt_66b", "host_s_per_token"))
    assert sc.motivation_value(mot, "opt_66b", "host_over_link_per_neuron") > 1
    for rid in ("motivation/unstable_hot_neurons", "motivation/migration_host"):
        assert 0 <= v[rid] <= 100
    # without the table the four rows are not modelled, never given a value
    bare = sc.model_values(dataclasses.replace(inp, motivation=None))
    assert all(bare[r] is None for r in ("motivation/unstable_hot_neurons",
                                         "motivation/fixed_partition_penalty",
                                         "motivation/migration_host",
                                         "motivation/migration_dimm_link"))


def test_migration_share_and_motivation_value():
    assert sc.migration_share(0.0, 0.02) == 0.0
    assert sc.migration_share(1.0, 3.0) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        sc.migration_share(1.0, 0.0)
    t = pd.DataFrame({"model": ["m", "m"], "batch": [1, 1], "quantity": ["a", "b"],
                      "value": [2.0, 3.0]})
    assert sc.motivation_value(t, "m", "b") == 3.0
    with pytest.raises(KeyError, match="0 rows"):
        sc.motivation_value(t, "m", "c")


def test_inconsistencies_cover_the_digest(scored):
    _, inp = scored
    t = sc.inconsistencies(inp)
    assert len(t) >= 15 and t["model"].str.len().min() > 0
    assert any("75.24" in p for p in t["paper"])


@pytest.mark.slow
def test_execute_notebooks_s_on_a_minimal_notebook(tmp_path):
    """The bench's book_execute_s machinery, on a one-cell notebook (the real key executes every
    chapter of _toc.yml, about a minute, so it stays out of the unit tests)."""
    import nbformat

    from hermes_model import cli

    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = sum(range(10))\nassert x == 45")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    before = path.read_text()
    seconds = cli.execute_notebooks_s([path])
    assert 0 < seconds < 120
    assert path.read_text() == before  # nothing written back
    bad = tmp_path / "bad.ipynb"
    nb.cells = [nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    nbformat.write(nb, bad)
    with pytest.raises(Exception, match="boom"):
        cli.execute_notebooks_s([bad])
    assert "book_execute_s" in cli.BENCHMARKS
    names = [p.stem for p in cli.book_notebooks()]
    assert "scorecard" in names and "beyond" in names
