"""The scorecard chapter (``book/scorecard.ipynb``): the paper, number by number.

The scoring itself lives in :mod:`hermes_model.scorecard` (rows, rules, model values, tables);
this module turns its results into what the chapter glues into its prose: the counts, the
rules' tolerances as the text states them, the bar counts and the system whose bars fail most,
the figures with the best and worst share of rows that hold, the inputs table, the rows not yet
modelled and the generator's similarity at distance 10.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hermes_model import roofline, sweeps
from hermes_model import scorecard as sc
from hermes_model.plotting import rounded
from hermes_model.units import count_words as words


def count_glue(n: Mapping[str, int], profile: str) -> dict[str, object]:
    """The counts of :func:`hermes_model.scorecard.counts` as the text gives them.

    Returns
    -------
    dict
        ``n_holds``, ``n_fails``, ``n_input``, ``n_scored``, ``n_rows``, ``n_nym`` (rows not
        yet modelled), ``pct_holds`` (percent of scored rows that hold, to 3 significant
        digits) and ``profile_name``.
    """
    out: dict[str, object] = {f"n_{key}": n[key]
                              for key in ("holds", "fails", "input", "scored", "rows")}
    out["n_nym"] = n["not yet modelled"]
    out["pct_holds"] = rounded(100 * n["holds"] / n["scored"], 3)
    out["profile_name"] = profile
    return out


def listed_glue(scored: pd.DataFrame) -> dict[str, object]:
    """The rows listed, not scored, as the count's sentence gives them.

    Parameters
    ----------
    scored : DataFrame
        :func:`hermes_model.scorecard.score`'s rows (``id``, ``kind``).

    Returns
    -------
    dict
        ``n_listed`` (rows of kind ``input``), ``n_inputs`` (those that are inputs) and
        ``listed_txt``, the sentence's clause: ``"7 are listed, not scored: 6 inputs and one
        prediction that the inputs bound (...)"``, or ``"4 are inputs (listed, not scored)"``
        where none is a prediction (:data:`~hermes_model.scorecard.BOUND_PREDICTIONS`).
    """
    listed = scored[scored["kind"] == "input"]
    bound = int(listed["id"].isin(sc.BOUND_PREDICTIONS).sum())
    n_inputs = len(listed) - bound
    inputs = f"{n_inputs} input" + ("" if n_inputs == 1 else "s")
    if not bound:
        are = "is an input" if n_inputs == 1 else "are inputs"
        text = f"{len(listed)} {are} (listed, not scored)"
    else:
        which = ("prediction that the inputs bound" if bound == 1
                 else "predictions that the inputs bound")
        text = (f"{len(listed)} are listed, not scored: {inputs} and "
                f"{words(bound)} {which} (Fig. 4a's similarity at a distance of 10 tokens, "
                "below)")
    return {"n_listed": len(listed), "n_inputs": n_inputs, "listed_txt": text}


def rule_glue() -> dict[str, object]:
    """The rules' tolerances as the text states them.

    Returns
    -------
    dict
        ``tol_hermes_pct`` and ``tol_other_pct`` (percent, whole numbers), ``tol_hermes`` and
        ``tol_other`` (fractions), ``speedup_gain_below`` (text, e.g. ``"3"``) and ``flat_pct``
        (percent), from :data:`~hermes_model.scorecard.TOLERANCES`,
        :data:`~hermes_model.scorecard.SPEEDUP_GAIN_BELOW` and
        :data:`~hermes_model.scorecard.FLAT_FRAC`; ``fig14_counts``, the DIMM counts the
        paper's Fig. 14 sweeps (``sweeps.FIG14_DIMMS``), among which the fewest that runs a
        model is read, as ``"1, 2, 4, 8 and 16"``.
    """
    return {"tol_hermes_pct": round(100 * sc.TOLERANCES["hermes_20"]),
            "tol_other_pct": round(100 * sc.TOLERANCES["rel_35"]),
            "tol_hermes": sc.TOLERANCES["hermes_20"], "tol_other": sc.TOLERANCES["rel_35"],
            "speedup_gain_below": f"{sc.SPEEDUP_GAIN_BELOW:g}",
            "flat_pct": round(100 * sc.FLAT_FRAC),
            "fig14_counts": roofline.prose_list(list(sweeps.FIG14_DIMMS))}


#: The Fig. 15 rows and how the text names each mean.
FIG15_ROWS = {"fig15/rtx_4090_over_t4": "the T4's mean",
              "fig15/rtx_4090_over_rtx_3090": "the 3090's mean"}


def sensitivity_criteria_text(scored: pd.DataFrame) -> str:
    """Where the sensitivity chapter's criteria for the same statements differ from the rules.

    It reads "flat" by the same :data:`~hermes_model.scorecard.FLAT_FRAC`, and judges Fig. 15's
    two averages by :data:`~hermes_model.scorecard.FIG15_ACCEPTANCE` on the same error (ratio −
    1), tighter than the rows' ``speedup_35``; the sentence names each mean whose verdict the
    two tolerances split.

    Parameters
    ----------
    scored : DataFrame
        :func:`hermes_model.scorecard.score`'s rows (``id``, ``error``, ``verdict``).
    """
    rows = scored.set_index("id")
    acc = round(100 * sc.FIG15_ACCEPTANCE)
    differ = [f"{name} ({100 * rows.loc[rid, 'error']:+.1f} %)"
              for rid, name in FIG15_ROWS.items()
              if (rows.loc[rid, "verdict"] == "holds")
              != (abs(rows.loc[rid, "error"]) <= sc.FIG15_ACCEPTANCE)]
    text = (f"The sensitivity chapter reads \"flat\" by the same {round(100 * sc.FLAT_FRAC)} %, "
            "and judges the paper's two Fig. 15 averages by a tighter acceptance criterion, "
            f"± {acc} % on the same error (ratio − 1)")
    if not differ:
        return text + ", which gives the same verdicts as the rows here."
    one = len(differ) == 1
    return (text + f": {roofline.prose_list(differ)} {'holds' if one else 'hold'} here but "
            f"{'lies' if one else 'lie'} outside ± {acc} % there.")


def by_figure(summ: pd.DataFrame) -> pd.DataFrame:
    """Rows per figure (index ``paper's figure``, in order) and verdict (columns), from
    :func:`hermes_model.scorecard.summary`; a verdict a figure lacks counts 0."""
    return summ.pivot_table(index="figure", columns="verdict", values="rows", aggfunc="sum",
                            fill_value=0, sort=False).rename_axis(index="paper's figure")


def figure_glue(by_fig: pd.DataFrame) -> dict[str, object]:
    """The figures with the largest and the smallest share of scored rows that hold.

    Returns
    -------
    dict
        ``best_figure`` and ``worst_figure``, e.g. ``"the paper's Fig. 9"``; a figure with no
        scored row is skipped, and the first figure wins a tie.
    """
    holds, fails = by_fig.get("holds", 0), by_fig.get("fails", 0)
    share = holds / (holds + fails).replace(0, np.nan)
    return {"best_figure": f"the paper's {share.idxmax()}",
            "worst_figure": f"the paper's {share.idxmin()}"}


def worst_policy_text(bars: pd.DataFrame) -> str:
    """The systems whose bars fail most often (largest share of failing rows), with counts.

    Parameters
    ----------
    bars : DataFrame
        Bar rows with ``policy`` and ``verdict`` (:func:`hermes_model.scorecard.bar_rows`).

    Returns
    -------
    str
        ``"no system's: every bar holds"``; or every system tied for the largest share, as
        ``"Deja Vu's (all 12 rows)"``, ``"Deja Vu's and Hermes-host's (3 of 12 rows each)"``,
        or with different counts ``"... (1 of 2, 2 of 4 rows)"``.
    """
    fails = (bars["verdict"] == "fails").groupby(bars["policy"]).agg(["sum", "size"])
    if fails["sum"].max() == 0:
        return "no system's: every bar holds"
    fails["share"] = fails["sum"] / fails["size"]
    # every system tied for the largest share of failing bars, with its counts
    worst = fails[np.isclose(fails["share"], fails["share"].max(), rtol=0, atol=1e-12)]
    names = roofline.prose_list([f"{sc.SYSTEM_NAMES.get(p, p)}'s" for p in worst.index])
    counts = {(int(r["sum"]), int(r["size"])) for _, r in worst.iterrows()}
    if len(counts) == 1:
        k, size = counts.pop()
        each = " each" if len(worst) > 1 else ""
        return (f"{names} (all {size} rows{each})" if k == size else
                f"{names} ({k} of {size} rows{each})")
    return f"{names} (" + ", ".join(
        f"{int(r['sum'])} of {int(r['size'])}" for _, r in worst.iterrows()) + " rows)"


def bar_glue(bars: pd.DataFrame, bar_n: Mapping[str, int],
             n: Mapping[str, int]) -> dict[str, object]:
    """What the text says of the bars of the paper's Figs. 9–11.

    Parameters
    ----------
    bars : DataFrame
        :func:`hermes_model.scorecard.bar_rows` of the scored rows.
    bar_n : mapping
        :func:`hermes_model.scorecard.bar_counts` of the same rows.
    n : mapping
        :func:`hermes_model.scorecard.counts` of the same rows.

    Returns
    -------
    dict
        ``bar_<key>`` for every key of `bar_n`; ``bar_hermes_repeated`` (Hermes' rows that
        repeat a bar); ``n_other_scored`` (scored or not yet modelled rows that are not bars);
        ``n_hermes_hold`` (Hermes' bar rows that hold) and ``worst_policy_txt``
        (:func:`worst_policy_text`).
    """
    out: dict[str, object] = {f"bar_{key}": value for key, value in bar_n.items()}
    out["bar_hermes_repeated"] = bar_n["hermes_rows"] - bar_n["hermes_distinct"]
    out["n_other_scored"] = n["scored"] + n["not yet modelled"] - bar_n["rows"]
    hermes = bars[bars["policy"] == "hermes"]
    out["n_hermes_hold"] = int((hermes["verdict"] == "holds").sum())
    out["worst_policy_txt"] = worst_policy_text(bars)
    return out


def input_table(scored: pd.DataFrame) -> pd.DataFrame:
    """The rows listed, not scored: ``quantity``, ``paper`` (as the paper prints it,
    :func:`hermes_model.scorecard.input_text`), ``unit``, ``source`` (for the reader,
    :func:`hermes_model.scorecard.reader_source`) and ``listed as`` (``input``, or
    ``prediction the inputs bound`` for :data:`~hermes_model.scorecard.BOUND_PREDICTIONS`), in
    the rows' order."""
    table = pd.DataFrame({
        "quantity": scored["quantity"],
        "paper": [sc.input_text(i, v)
                  for i, v in zip(scored["id"], scored["paper_value"], strict=True)],
        "unit": scored["unit"], "source": [sc.reader_source(s) for s in scored["source"]],
        "listed as": ["prediction the inputs bound" if i in sc.BOUND_PREDICTIONS else "input"
                      for i in scored["id"]]})
    return table[scored["kind"] == "input"].reset_index(drop=True)


def input_glue(scored: pd.DataFrame, inputs: sc.Inputs) -> dict[str, object]:
    """The rows not yet modelled, and the generator's similarity at distance 10.

    Returns
    -------
    dict
        ``nym_list`` (``"quantity (note); ..."``, or ``"none"``) and ``s10_txt``: the expected
        similarity at a distance of 10 tokens (:func:`hermes_model.scorecard.expected_similarity`)
        for each of :data:`~hermes_model.scorecard.FIG4A_MODELS` that `inputs` holds with its
        activity, ``"0.71 for LLaMA2-13B and ..."``, or ``"not computed here"``. It is a
        prediction, listed beside the paper's 0.70, not scored.
    """
    nym = scored[scored["verdict"] == "not yet modelled"]
    nym_list = "; ".join(f"{q} ({note})"
                         for q, note in zip(nym["quantity"], nym["model_note"], strict=True))
    s10 = {m: sc.expected_similarity(inputs.models[m], inputs.activities[m], 10)
           for m in sc.FIG4A_MODELS if m in inputs.models and m in inputs.activities}
    s10_txt = roofline.prose_list([f"{v:.2f} for {sc.short_name(inputs.models[m].name)}"
                                   for m, v in s10.items()])
    return {"nym_list": nym_list or "none", "s10_txt": s10_txt or "not computed here"}


def average_gap_glue(gaps: pd.DataFrame) -> dict[str, object]:
    """The summary's sentence on the stated averages, from the inconsistency table.

    Parameters
    ----------
    gaps : DataFrame
        :func:`hermes_model.scorecard.inconsistencies` (column ``inconsistency``).

    Returns
    -------
    dict
        ``n_avg_gaps`` (stated averages the paper's bars do not give), ``n_avg_geometric``
        (those that are their geometric mean) and ``avg_gaps_txt``, e.g. ``"The paper's own
        bars do not give one of its stated averages (75.24× Hermes over Deja Vu, batches 1–16);
        one, 62× Hermes-host over Accelerate, is the geometric mean of its bars."``
    """
    rows = gaps["inconsistency"]
    not_given, geometric = ([r.removesuffix(end) for r in rows if r.endswith(end)]
                            for end in (sc.AVERAGE_NOT_GIVEN, sc.AVERAGE_GEOMETRIC))
    text = (f"The paper's own bars do not give {words(len(not_given))} of its stated averages "
            f"({'; '.join(not_given)})" if not_given
            else "The paper's own bars give every one of its stated averages")
    if geometric:
        one = len(geometric) == 1
        text += (f"; {words(len(geometric))}, {roofline.prose_list(geometric)}, "
                 f"{'is' if one else 'are'} the geometric mean of {'its' if one else 'their'} "
                 "bars")
    return {"n_avg_gaps": len(not_given), "n_avg_geometric": len(geometric),
            "avg_gaps_txt": text + "."}
