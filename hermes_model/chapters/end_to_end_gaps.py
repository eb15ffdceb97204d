"""The end-to-end chapter's gaps: where the model and the paper's Figs. 9–11 part ways.

The later sections of ``book/end_to_end.ipynb``: the decode steps the paper's Hermes bars imply
(:func:`implied_steps`), the straight line Hermes-base's steps draw in the batch
(:func:`affine_lines`, :func:`overlap_reading`), LLaMA2-13B's Hermes-host bar
(:func:`hermes_host_13b`), the bars farthest from the paper (:func:`far_bars`), Hermes-host at
batch 16 and across the batch (:func:`hermes_host_batch16`, :func:`hermes_host_gains`,
:func:`hermes_host_bs1`) and the detailed configuration (:func:`detailed`,
:func:`offload_range`, :func:`profile_difference`). Each takes the bars
``policies.model_bars`` gave the chapter (one frame a figure, a ``profile`` column added) and
returns its glue values (key → the value as the text prints it) beside the objects the
chapter's later cells and hidden checks read. Times inside are in seconds, bytes in bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hermes_model import policies, shapes
from hermes_model import scorecard as sc
from hermes_model import units as u
from hermes_model.chapters.end_to_end import (
    PAPER_LENGTHS,
    np_or,
    reading_row,
    ridge_batch,
    sel,
    why_np,
)
from hermes_model.plotting import rounded
from hermes_model.policies import Activity, Assumptions, Estimate
from hermes_model.roofline import prose_list
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec, other_profile

__all__ = [
    "CLOSE_FRAC",
    "IMPLIED_FLOOR_S",
    "STRAIGHT_PCT",
    "UNREAD",
    "AffineLines",
    "Detailed",
    "FarBars",
    "HostBatch16",
    "HostGains",
    "HostLlama13",
    "ImpliedSteps",
    "OffloadRange",
    "OverlapReading",
    "affine_lines",
    "detailed",
    "far_bars",
    "gap_closing_text",
    "hermes_base_bullet",
    "hermes_batch_np",
    "hermes_host_13b",
    "hermes_host_batch16",
    "hermes_host_bs1",
    "hermes_host_gains",
    "implied_steps",
    "line_sentences",
    "offload_range",
    "other_growth_text",
    "overlap_reading",
    "pace_words",
    "profile_difference",
    "unread_note",
]

Glue = dict[str, object]

#: Below this largest |fit / step − 1| (%) the text calls a series of steps a straight line.
STRAIGHT_PCT = 2.0

#: An implied decode step shorter than this (s) cannot be read: the prefill subtracted alone
#: outlasts the paper's whole run, or leaves it less than this a step.
IMPLIED_FLOOR_S = 1 * u.MS

#: The implied-step table's cell for a bar that runs but whose implied step cannot be read (not
#: N.P., which marks a configuration that cannot run).
UNREAD = "—"

#: Within this fraction of the paper's gain, Hermes-host's gain with the prompt on the GPU closes
#: the gap; beyond it above, it overshoots.
CLOSE_FRAC = 0.10


def _paper_prefill(t: pd.DataFrame) -> pd.Series:
    """The model's prefill at the paper's lengths (``prefill_paper_s``, :func:`profile_bars`),
    which the paper-implied quantities subtract; ``prefill_s`` for bars that lack the column
    (computed at those lengths)."""
    return t["prefill_paper_s"] if "prefill_paper_s" in t else t["prefill_s"]


def _implied(t: pd.DataFrame) -> np.ndarray:
    """The decode steps the paper's bars `t` imply at its own lengths (:data:`PAPER_LENGTHS`)
    given the model's prefill there (s; ≤ 0 where that prefill outlasts the paper's run)."""
    return np.asarray(policies.implied_decode_step_s(
        t["paper_tokens_per_s"].to_numpy(), batch=t["batch"].to_numpy(),
        gen_len=PAPER_LENGTHS[1], prefill_s=_paper_prefill(t).to_numpy()), dtype=float)


# -- the paper's decode step, implied ----------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ImpliedSteps:
    """What :func:`implied_steps` gives the chapter.

    Attributes
    ----------
    steps : DataFrame
        ``model``, ``batch``, ``series``, ``step_s`` (s): Hermes' mean decode step, implied by the
        paper's bars (each profile's prefill) and the model's own (each profile); positive only.
    no_step : DataFrame
        The implied rows (chapter's profile) whose prefill outlasts the paper's whole run, or
        leaves it less than :data:`IMPLIED_FLOOR_S` a step.
    table : DataFrame
        The steps in ms to three significant figures, a row per model (display name) and
        series, a column per batch.
    glue : dict
        Glue key → value as the text prints it.
    """

    steps: pd.DataFrame
    no_step: pd.DataFrame
    table: pd.DataFrame
    glue: Glue


def _growth(wide: pd.DataFrame, lo: int, hi: int, series: str) -> float:
    """Median step growth per doubling of the batch from lo to hi, to two decimals (the text's);
    NaN where no model has both batches."""
    if not {lo, hi} <= set(wide.columns) or series not in set(
            wide.index.get_level_values("series")):
        return np.nan
    g = (wide[hi] / wide[lo]) ** (1 / np.log2(hi / lo))
    return float(np.round(g.xs(series, level="series").median(), 2))


def _why_no_growth(h11: pd.DataFrame, lo: int, hi: int, profile: str, implied: bool) -> str:
    """Why the step growth from batch lo to hi of a series cannot be computed, in words."""
    t = h11[h11["profile"] == profile]
    if implied and any({lo, hi} <= set(g["batch"]) for _, g in t.groupby("model")):
        return (f"the model's prefill ({profile} profile) alone outlasts the paper's whole run at "
                f"batch {lo} or {hi} for every model, so those bars imply no step")
    return (f"Hermes cannot run any of Fig. 11's models at both batch {lo} and {hi} with these "
            "parameters (N.P.)")


def unread_note(unread: Mapping[str, pd.DataFrame], names: Mapping[str, str], *,
                profile: str) -> str:
    """The note under the implied steps on the bars whose step cannot be read ("—"): `unread`
    maps each profile to its implied rows (``model``, ``batch``, ``step_s``) shorter than
    :data:`IMPLIED_FLOOR_S`; "" where there are none. `profile` is the chapter's."""
    parts = []
    for p, t in unread.items():
        if t.empty:
            continue
        bars = ", ".join(f"{names[m_]} at batch {b_}"
                         for m_, b_ in zip(t["model"], t["batch"], strict=True))
        whose = "this profile's" if p == profile else f"the {p} profile's"
        parts.append(f"{len(t)} of the Hermes bars with {whose} prefill ({bars})")
    if not parts:
        return ""
    short = any((t["step_s"] > 0).any() for t in unread.values())
    sliver = (f", or leaves it less than {IMPLIED_FLOOR_S / u.MS:g} ms a step," if short else "")
    return (f"Here the subtracted prefill alone exceeds the paper's whole run{sliver} for "
            + " and ".join(parts) + f": they imply no decode step that can be read, are shown as "
            f"\"{UNREAD}\" in the table and are left out of the figure.")


def other_growth_text(g14o: float) -> str:
    """The sentence on the paper's implied growth from batch 1 to 4 with the other profile's
    prefill; "" where it is NaN (not every one of Fig. 11's models gives a step there)."""
    return ("" if pd.isna(g14o) else "How fast depends on the prefill subtracted: with the other "
            f"profile's prefill the same bars imply {g14o:.2f}× from 1 to 4.")


def implied_steps(b11: pd.DataFrame, readings: pd.DataFrame, *, profile: str,
                  profiles: Sequence[str], gen_len: int, names: Mapping[str, str],
                  applicable: bool = True) -> ImpliedSteps:
    """Hermes' decode steps the paper's Fig. 11 bars imply, beside the model's, and their growth.

    Parameters
    ----------
    b11 : DataFrame
        ``policies.model_bars`` of Fig. 11 under every profile (column ``profile``).
    readings : DataFrame
        ``policies.fidelity_by_reading`` under the chapter's profile.
    profile : str
        The chapter's profile; the other one of `profiles` is the other.
    profiles : sequence of str
        Every profile, in the chart's order.
    gen_len : int
        The chapter's generated tokens per sequence. The paper's bars imply their steps at
        the paper's own lengths (:data:`PAPER_LENGTHS`, §V-A) whatever it is, with the model's
        prefill there (``prefill_paper_s``).
    names : mapping of model slug → display name
    applicable : bool
        Whether the acceptance verdicts apply (the paper's configuration): ``grow_s_verdict``
        is "" where not.

    Returns
    -------
    ImpliedSteps
        Glue keys ``implied_note``, ``grow_*`` and ``grow_s_*``.

    Notes
    -----
    The step the paper implies inverts the throughput, ``policies.implied_decode_step_s``; the
    growth is :math:`(T(hi)/T(lo))^{1/\\log_2(hi/lo)}` per model, median over the models.
    """
    other = next(p for p in profiles if p != profile)
    h11 = b11[(b11["policy"] == "hermes") & b11["supported"]]
    parts = []
    for p in (profile, other):
        t = h11[h11["profile"] == p]
        parts.append(pd.DataFrame({"model": t["model"], "batch": t["batch"],
                                   "series": f"paper, implied ({p} profile's prefill)",
                                   "step_s": _implied(t)}))
    for p in profiles:
        t = h11[h11["profile"] == p]
        parts.append(pd.DataFrame({"model": t["model"], "batch": t["batch"],
                                   "series": f"model, {p} profile", "step_s": t["decode_step_s"]}))
    steps = pd.concat(parts, ignore_index=True)
    # a bar whose model prefill alone outlasts the paper's whole run (or all but fills it)
    # implies no decode step that can be read: "—" in the table, left out of the figure
    implied_here = f"paper, implied ({profile} profile's prefill)"
    implied_other = f"paper, implied ({other} profile's prefill)"
    model_here = f"model, {profile} profile"
    is_implied = steps["series"].str.startswith("paper, implied")
    unread_mask = is_implied & (steps["step_s"] < IMPLIED_FLOOR_S)
    unread = steps[unread_mask]
    no_step = unread[unread["series"] == implied_here]
    shown = steps.pivot_table(index=["model", "series"], columns="batch", values="step_s")
    steps = steps[~unread_mask & (steps["step_s"] > 0)]
    glue: Glue = {"implied_note": unread_note(
        {p: unread[unread["series"] == f"paper, implied ({p} profile's prefill)"]
         for p in (profile, other)}, names, profile=profile)}
    wide = steps.pivot_table(index=["model", "series"], columns="batch", values="step_s")
    g14, g16, g14o = (_growth(wide, 1, hi, s) for hi, s in
                      ((4, implied_here), (16, implied_here), (4, implied_other)))
    m14, m16 = _growth(wide, 1, 4, model_here), _growth(wide, 1, 16, model_here)
    glue |= {"grow_paper": np_or(g16, ".2f"), "grow_model": np_or(m16, ".2f"),
             "grow14_paper": np_or(g14, ".2f"), "grow14_paper_other": np_or(g14o, ".2f"),
             "grow14_model": np_or(m14, ".2f")}
    singles = readings[~readings["parameter"].isin(["defaults"])]
    singles = singles[singles["model_step_growth"].notna()]
    best = singles.loc[singles["model_step_growth"].idxmax()] if len(singles) else None
    best_growth = np.nan if best is None else float(np.round(best["model_step_growth"], 2))
    glue["grow14_best"] = np_or(best_growth, ".2f")
    glue["grow14_best_name"] = sc.NP if best is None else f"{best['parameter']} = {best['value']}"
    paper_ok, model_ok = pd.notna(g14) and pd.notna(g16), pd.notna(m14) and pd.notna(m16)
    glue["grow14_paper_clause"] = (f"the paper's bars imply {g14:.2f}× at the defaults"
                                   if pd.notna(g14) else
                                   "the growth the paper's bars imply cannot be computed here")
    glue["grow_s_paper"] = (
        f"The paper's implied step grows steadily, by a median {g14:.2f}× per doubling of the "
        f"batch from 1 to 4 and {g16:.2f}× from 1 to 16, as if the cold side's work grew with the "
        "batch and were never hidden behind the GPU's." if paper_ok else
        "How the paper's implied step grows with the batch cannot be computed here: "
        + _why_no_growth(h11, 1, 4 if pd.isna(g14) else 16, profile, True) + ".")
    # the other profile's growth only where every one of Fig. 11's models gives it a step
    other_all = all(
        {1, 4} <= set(steps.loc[(steps["series"] == implied_other)
                                & (steps["model"] == m_), "batch"])
        for m_ in b11["model"].unique())
    glue["grow_s_other"] = other_growth_text(g14o if other_all else np.nan)
    glue["grow_s_model"] = (
        f"The model's step grows by {m14:.2f}× per doubling from 1 to 4, then faster when the "
        f"DIMMs turn compute-bound ({m16:.2f}× per doubling over 1–16)." if model_ok else
        "Nor can the model's own step growth be computed, for the same reason." if not paper_ok
        else "The model's own step growth cannot be computed: "
        + _why_no_growth(h11, 1, 4 if pd.isna(m14) else 16, profile, False) + ".")
    glue["grow_s_best"] = (
        "No single unstated parameter brings the model's growth from 1 to 4 up to the paper's: "
        f"the closest, {best['parameter']} = {best['value']}, reaches {best_growth:.2f}×"
        if best is not None and pd.notna(g14) else "No reading of an unstated parameter gives a "
        "growth to set beside the paper's either")
    glue["grow_s_verdict"] = ("The batch acceptance criterion fails on this difference of shape."
                              if paper_ok and model_ok and applicable else "")
    table = (shown / u.MS).map(sc.sig_text)
    for m_, series, b_ in zip(unread["model"], unread["series"], unread["batch"], strict=True):
        table.loc[(m_, series), b_] = UNREAD
    table = table.rename(index=names, level="model").rename_axis(
        columns="mean decode step (ms) at batch")
    return ImpliedSteps(steps=steps, no_step=no_step, table=table, glue=glue)


# -- the straight line of Hermes-base's steps ---------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class AffineLines:
    """What :func:`affine_lines` gives the chapter.

    Attributes
    ----------
    lines : DataFrame
        Indexed by model, system and step (``paper, implied``, ``model``, ``model, reads then
        MACs``): ``A (ms)``, ``B (ms per sequence)``, ``B / A``, ``off the line (%)``.
    table : DataFrame
        `lines` as the chapter's table shows it (fixed decimals, display names).
    glue : dict
        Glue keys ``hb_*``, ``h_paper_err_*``.
    """

    lines: pd.DataFrame
    table: pd.DataFrame
    glue: Glue


_LINE_COLUMNS = ["A (ms)", "B (ms per sequence)", "B / A", "off the line (%)"]


def _fit_rows(m: str, pol: str, fits: Mapping[str, policies.AffineStep]) -> list[dict[str, Any]]:
    return [{"model": m, "system": pol, "step": k, "A (ms)": f.intercept_s / u.MS,
             "B (ms per sequence)": f.per_sequence_s / u.MS,
             "B / A": f.per_sequence_s / f.intercept_s, "off the line (%)": 100 * f.max_rel_err}
            for k, f in fits.items()]


def _line_stat(lines: pd.DataFrame, system: str, step: str, col: str) -> pd.Series:
    """A column of the fits of one system and step, over the models with a line."""
    if (system, step) not in set(zip(lines.index.get_level_values("system"),
                                     lines.index.get_level_values("step"), strict=True)):
        return pd.Series(dtype=float)
    return lines.xs((system, step), level=("system", "step"))[col]


def hb_line_summary(n_fits: int, straight: bool) -> str:
    """The Summary's clause on the straight line of the paper's Hermes-base decode steps.

    >>> hb_line_summary(0, False)[:46]
    'the fit of their decode steps cannot be made h'
    """
    if not n_fits:
        return ("the fit of their decode steps cannot be made here (the model runs none of them "
                "at every batch of Fig. 11, N.P.), so this run gives no clue from them")
    if straight:
        return ("their decode steps lie on a straight line in the batch, most simply explained "
                "by NDP cores that read, then multiply")
    return ("their decode steps do not lie on a straight line in the batch here, so the clue "
            "of NDP cores that read, then multiply is weaker")


def affine_lines(b11: pd.DataFrame, models: Mapping[str, ModelSpec],
                 systems: Mapping[str, SystemSpec],
                 activities: Mapping[str, Activity], *, profile: str, other: str,
                 prompt_len: int, gen_len: int, names: Mapping[str, str]) -> AffineLines:
    """Straight lines :math:`T(b) = A + B\\,b` through Hermes-base's and Hermes' decode steps.

    For each model and system that runs every batch of Fig. 11 (with a positive implied step),
    three fits (``policies.affine_step_fit``): the steps the paper's bars imply (the model's
    prefill, chapter's profile), the model's, and the model's with reads then MACs
    (``ndp_overlap=False``). The glue values compare them; ``hb_a_shift_*`` is how far A moves
    with the other profile's prefill. The paper's steps are implied at its own lengths
    (:data:`PAPER_LENGTHS`); the text calls a fit a straight line only within
    :data:`STRAIGHT_PCT`, counts the models it covers and reads the paper's intercept and slope
    against the model's as slower or faster.

    Parameters
    ----------
    b11 : DataFrame
        ``policies.model_bars`` of Fig. 11 under every profile (column ``profile``).
    models, systems, activities : mappings
        Model slug → spec; profile → system; model slug → activity statistics.
    profile, other : str
        The chapter's profile and the other one.
    prompt_len, gen_len : int
        Prompt and generated tokens per sequence.
    names : mapping of model slug → display name
    """
    rows: list[dict[str, Any]] = []
    here = b11[b11["policy"].isin(["hermes-base", "hermes"]) & (b11["profile"] == profile)]
    for (m, pol), t in here.groupby(["model", "policy"], sort=False):
        t = t.sort_values("batch")
        bs = t["batch"].to_numpy()
        implied = _implied(t)
        if not (t["supported"].all() and (implied >= IMPLIED_FLOOR_S).all()):
            continue  # N.P. at some batch, or no implied step there: no line
        opts = Assumptions(activity=activities[m], ndp_overlap=False)
        serial = [policies.estimate(pol, models[m], systems[profile], batch=int(x),
                                    prompt_len=prompt_len, gen_len=gen_len,
                                    options=opts).decode_step_s for x in bs]
        rows += _fit_rows(m, pol, {
            "paper, implied": policies.affine_step_fit(bs, implied),
            "model": policies.affine_step_fit(bs, t["decode_step_s"].to_numpy()),
            "model, reads then MACs": policies.affine_step_fit(bs, serial)})
    lines = pd.DataFrame(rows, columns=["model", "system", "step", *_LINE_COLUMNS]).set_index(
        ["model", "system", "step"])
    decimals = {"A (ms)": 1, "B (ms per sequence)": 1, "B / A": 2, "off the line (%)": 2}
    shown = pd.DataFrame({c: [f"{v:.{d}f}" for v in lines[c].round(d)]
                          for c, d in decimals.items()}, index=lines.index)
    table = shown.rename(index=names, level="model").rename(index=sc.SYSTEM_NAMES, level="system")
    hb_paper = _line_stat(lines, "hermes-base", "paper, implied", "off the line (%)")
    shown_t = {"hb_line_err_max": np_or(float(np.round(hb_paper.max(), 2)), ".2f")}
    for key, col_, sys_, step_, f_ in (
            ("hb_ba", "B / A", "hermes-base", "paper, implied", ".2f"),
            ("hb_model_err", "off the line (%)", "hermes-base", "model", ".0f"),
            ("h_paper_err", "off the line (%)", "hermes", "paper, implied", ".0f")):
        v = _line_stat(lines, sys_, step_, col_)
        shown_t[f"{key}_lo"] = np_or(float(np.round(v.min(), 2)), f_)
        shown_t[f"{key}_hi"] = np_or(float(np.round(v.max(), 2)), f_)
    ratios = {}
    for key, col_ in (("hb_a_ratio", "A (ms)"), ("hb_b_ratio", "B (ms per sequence)")):
        v = (_line_stat(lines, "hermes-base", "paper, implied", col_)
             / _line_stat(lines, "hermes-base", "model, reads then MACs", col_))
        ratios[key] = v
        shown_t[f"{key}_lo"] = np_or(rounded(float(v.min())), ".1f")
        shown_t[f"{key}_hi"] = np_or(rounded(float(v.max())), ".1f")
    hb_other = b11[(b11["policy"] == "hermes-base") & (b11["profile"] == other)].sort_values(
        ["model", "batch"])
    a_shift, other_err = [], []
    for m_, t_ in hb_other.groupby("model", sort=False):
        implied_other = _implied(t_)
        if (m_, "hermes-base", "paper, implied") not in lines.index or not (
                implied_other >= IMPLIED_FLOOR_S).all():
            continue
        f_other = policies.affine_step_fit(t_["batch"], implied_other)
        a_here = lines.loc[(m_, "hermes-base", "paper, implied"), "A (ms)"]
        a_shift.append(abs(f_other.intercept_s / u.MS / a_here - 1))
        other_err.append(100 * f_other.max_rel_err)
    shown_t["hb_a_shift_pct"] = np_or(rounded(100 * max(a_shift)) if a_shift else np.nan, ".0f")

    def with_unit(unit: str, *keys: str) -> str:
        vals = [shown_t[k] for k in keys]
        return sc.NP if sc.NP in vals else "–".join(vals) + unit

    glue: Glue = dict(shown_t)
    hb_models = [names[m_] for m_ in hb_paper.index]
    straight = bool(len(hb_paper)) and float(hb_paper.max()) < STRAIGHT_PCT
    glue["hb_straight"] = straight
    glue["hb_line_verb"] = ("would be fitted with" if not len(hb_paper) else
                            "lie on" if straight else "do not lie on")
    glue["hb_line_summary"] = hb_line_summary(len(hb_paper), straight)
    glue["hb_line_err_t"] = (sc.NP if not len(hb_paper) else
                             f"to within {shown_t['hb_line_err_max']} %" if straight else
                             f"(they miss the best one by up to {shown_t['hb_line_err_max']} %)")
    n_fig11 = b11["model"].nunique()
    glue["hb_models_t"] = (sc.NP if not hb_models else
                           f"for all {u.count_words(len(hb_models))} models"
                           if len(hb_models) == n_fig11 and len(hb_models) > 1 else
                           f"for {prose_list(hb_models)}")
    glue["hb_ba_t"] = (sc.NP if sc.NP in (shown_t["hb_ba_lo"], shown_t["hb_ba_hi"]) else
                       f"of {shown_t['hb_ba_lo']}" if shown_t["hb_ba_lo"] == shown_t["hb_ba_hi"]
                       else f"between {shown_t['hb_ba_lo']} and {shown_t['hb_ba_hi']}")
    glue["hb_a_shift_t"] = with_unit(" %", "hb_a_shift_pct")
    glue["hb_a_shift_by"] = (sc.NP if not a_shift else
                             f"by at most {glue['hb_a_shift_t']}" if len(a_shift) > 1 else
                             f"by {glue['hb_a_shift_t']}")
    other_straight = bool(other_err) and max(other_err) < STRAIGHT_PCT
    glue["hb_shift_tail"] = (
        "leaves the line as straight" if straight and other_straight else
        f"bends it (up to {max(other_err):.2f} % off)" if straight and other_err else
        "leaves it as far from straight" if other_err else "")
    for key, unit in (("hb_model_err", " %"), ("hb_a_ratio", "×"), ("hb_b_ratio", "×"),
                      ("h_paper_err", " %")):
        glue[f"{key}_t"] = u.span_text(shown_t[f"{key}_lo"], shown_t[f"{key}_hi"], "s", unit)

    def pace(v: pd.Series) -> str:  # the paper's time over the model's: > 1 is slower
        return ("more slowly" if len(v) and v.min() > 1 else "faster" if len(v) and v.max() < 1
                else "about as fast")

    glue["hb_pace_t"] = pace_words(pace(ratios["hb_a_ratio"]), pace(ratios["hb_b_ratio"]),
                                   "the model's DIMM")
    h_err = _line_stat(lines, "hermes", "paper, implied", "off the line (%)")
    glue["h_paper_clause"] = (
        "" if not len(h_err) else
        f" Hermes' own implied steps are no lines ({glue['h_paper_err_t']} off): its DIMMs read "
        "only the batch's active cold neurons, whose union grows more slowly than the batch."
        if float(h_err.min()) >= STRAIGHT_PCT else
        f" Hermes' own implied steps lie {glue['h_paper_err_t']} off a line.")
    # reads-then-MACs draws a line where each model has at least as many KV heads as DIMMs
    line_models = list(dict.fromkeys(lines.index.get_level_values("model")))
    n_d = systems[profile].n_dimms if line_models else 0
    few = [names[m_] for m_ in line_models if models[m_].n_kv_heads < n_d]
    glue["hb_kv_clause"] = (
        "where a model has at least as many KV heads as DIMMs and the LM head runs on the GPU"
        if not line_models else
        "here, where every model has at least as many KV heads as DIMMs and the LM head runs "
        "on the GPU" if not few else
        f"where a model has at least as many KV heads as DIMMs and the LM head runs on the GPU; "
        f"here {prose_list(few)} {'has' if len(few) == 1 else 'have'} fewer KV heads than the "
        f"{n_d} DIMMs")
    glue["hb_np_lead"] = "" if len(lines) else (
        "With these parameters the model cannot run Hermes-base and Hermes on all of Fig. 11's "
        "batches for any of its models (N.P.), so none of the fits below can be made and each of "
        "their values reads N.P.")
    glue |= line_sentences(glue, has_line=bool(len(hb_paper)), a_shift=bool(a_shift))
    return AffineLines(lines=lines, table=table, glue=glue)


def pace_words(read: str, mult: str, than: str) -> str:
    """How fast the paper's simulator read and multiplied against `than`, each pace "more
    slowly", "faster" or "about as fast": "read and multiplied more slowly than X", "read
    faster than X and multiplied more slowly", "read about as fast as X and …"."""
    def cmp(pace: str) -> str:
        return f"{pace} {'as' if pace == 'about as fast' else 'than'} {than}"
    return (f"read and multiplied {cmp(read)}" if read == mult else
            f"read {cmp(read)} and multiplied {mult}")


def line_sentences(glue: Glue, *, has_line: bool, a_shift: bool) -> Glue:
    """The Hermes-base paragraph's sentences that quote the fits (:func:`affine_lines`'s
    `glue`), empty where the paper's Hermes-base steps have no line here (`has_line` False, the
    paragraph then keeps only its general account of the two NDP cores): ``hb_line_text``
    (how close to a line, and, where the other profile's prefill gives a line too, `a_shift`,
    how far A moves with it), ``hb_model_clause`` (the model's own distance from a line),
    ``hb_line_of`` and ``hb_against_text`` (the paper's intercept and slope against reads then
    MACs, and what they say of its simulator)."""
    if not has_line:
        return {"hb_line_text": "", "hb_model_clause": "", "hb_line_of": "such a line",
                "hb_against_text": ""}
    text = (f"{', ' if glue['hb_straight'] else ': '}{glue['hb_line_err_t'].strip('()')} "
            f"{glue['hb_models_t']}, with B / A {glue['hb_ba_t']}")
    if a_shift:
        text += f". Which prefill is subtracted moves A {glue['hb_a_shift_by']}" + (
            f" and {glue['hb_shift_tail']}" if glue["hb_shift_tail"] else "")
    model = (f", and the model's Hermes-base is {glue['hb_model_err_t']} off a line"
             if glue["hb_model_err_t"] != sc.NP else "")
    against = ("" if sc.NP in (glue["hb_a_ratio_t"], glue["hb_b_ratio_t"]) else
               f" Against it, the paper's intercept is {glue['hb_a_ratio_t']} the model's and its "
               f"slope {glue['hb_b_ratio_t']}: read this way, the paper's simulator added DRAM "
               f"time to compute cycles, and {glue['hb_pace_t']}.")
    return {"hb_line_text": text, "hb_model_clause": model, "hb_line_of": "the paper's line",
            "hb_against_text": against}


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlapReading:
    """The reading ``ndp_overlap = False`` (reads, then MACs) against the acceptance criteria.

    Attributes
    ----------
    bs1_pct, batch_pct : float
        Hermes' median absolute error at batch 1 and at batches 2–16 (%, one decimal).
    passes : bool
        Both within the criteria.
    glue : dict
        Glue keys ``rd_overlap_*``.
    """

    bs1_pct: float
    batch_pct: float
    passes: bool
    glue: Glue


def hermes_batch_np(b11: pd.DataFrame, profile: str) -> bool:
    """Whether Hermes runs none of Fig. 11's bars above batch 1 under `profile` (`b11`: Fig.
    11's bars under every profile): its batch 2–16 median error is then N.P."""
    h = b11[(b11["policy"] == "hermes") & (b11["profile"] == profile) & (b11["batch"] > 1)]
    return not bool(h["supported"].any())


def overlap_reading(readings: pd.DataFrame, crit: Mapping[str, float], *,
                    applicable: bool = True, batch_np: bool = False) -> OverlapReading:
    """Hermes with NDP cores that read, then multiply (``ndp_overlap = False``), in words.

    Parameters
    ----------
    readings : DataFrame
        ``policies.fidelity_by_reading`` under the chapter's profile.
    crit : mapping
        The acceptance criteria: ``bs1_pct`` and ``batch_pct`` (median absolute errors, %).
    applicable : bool
        Whether the acceptance verdicts apply (the paper's configuration); where not, the
        words give none.
    batch_np : bool
        Whether Hermes runs none of Fig. 11's bars above batch 1 (:func:`hermes_batch_np`):
        the batch 2–16 median is then N.P. (each bar counted 100 % off) and only the batch-1
        median decides.

    Notes
    -----
    Better than the defaults: one median falls and the other does not rise, each to the
    table's one decimal (the rule of the readings paragraph).
    """
    row, d = reading_row(readings, "ndp_overlap", False), reading_row(readings, "defaults")
    bs1 = float(np.round(100 * row["bs1_median_abs_err"], 1))
    batch = float(np.round(100 * row["batch_median_abs_err"], 1))
    bs1_d = float(np.round(100 * d["bs1_median_abs_err"], 1))
    batch_d = float(np.round(100 * d["batch_median_abs_err"], 1))
    moves = {np.sign(bs1 - bs1_d)} | (set() if batch_np else {np.sign(batch - batch_d)})
    better = -1 in moves and 1 not in moves
    passes = bool(bs1 <= crit["bs1_pct"] and batch <= crit["batch_pct"])
    limits = f" (≤ {crit['bs1_pct']:g} % at batch 1, ≤ {crit['batch_pct']:g} % at batches 2–16)"
    np_note = ("; the batch 2–16 median cannot be computed (N.P.: Hermes runs none of Fig. 11's "
               "bars here, and each counts as 100 % off)" if batch_np else "")
    at = " at batch 1" if batch_np else ""
    na = "the acceptance criteria do not apply to this configuration"
    glue: Glue = {
        "rd_overlap_bs1": bs1, "rd_overlap_batch": batch,
        "rd_overlap_verdict": ("better than the defaults" if better else
                               "not better than the defaults") + at
        + (f" ({na})" if not applicable
           else ", and within both median criteria of the acceptance table" + limits if passes
           else ", and still outside the median criteria of the acceptance table" + limits)
        + np_note,
        "rd_overlap_summary": ("moves closer to the paper" if better else
                               "does not move closer to the paper") + at
        + (f" (its batches 2–16 are N.P., and {na})" if batch_np and not applicable
           else f" ({na})" if not applicable
           else (" (its batches 2–16 are N.P.)" if batch_np else "")
           + (" and meets both median criteria of the acceptance table" if passes
              else (" but" if better else " and")
              + " still misses the median criteria of the acceptance table")),
        "rd_overlap_closer": int(row["n_closer"]), "rd_overlap_farther": int(row["n_farther"])}
    return OverlapReading(bs1_pct=bs1, batch_pct=batch, passes=passes, glue=glue)


# -- Hermes-host on LLaMA2-13B -------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class HostLlama13:
    """What :func:`hermes_host_13b` gives the chapter.

    Attributes
    ----------
    estimate : Estimate
        Hermes-host on LLaMA2-13B at batch 1 (defaults).
    cpu_bytes : float
        The weights left in host memory (B).
    glue : dict
        Glue keys ``ll13_fit``, ``hh13_*``, ``host_peak_gbps``, ``host_frac``.
    """

    estimate: Estimate
    cpu_bytes: float
    glue: Glue


def _hh13_reading(ratio: float, implied_s: float, model_s: float) -> str:
    """The paper's implied step against the dense, serial one (`ratio`) and the model's."""
    if abs(ratio - 1) <= 0.25:  # "close to" the dense, serial step: within 25 % of it
        return ("close to the dense, serial figure: the paper's Hermes-host behaves as if it "
                "drew little from sparsity or from running the GPU and the CPU side by side "
                "(or kept much less of the model on the GPU).")
    if ratio > 1:
        return (f"{ratio:.1f}× the dense, serial figure: the paper's Hermes-host is slower here "
                "than even a dense, serial step, as if it drew nothing from sparsity or from "
                "running the GPU and the CPU side by side and kept much less of the model on the "
                "GPU.")
    if implied_s > model_s:
        return (f"below the dense, serial figure ({ratio:.2f}× it) but above the model's step: "
                "the paper's Hermes-host behaves as if it drew less from sparsity or from running "
                "the GPU and the CPU side by side than the model does (or kept less of the model "
                "on the GPU).")
    return "below both the dense, serial figure and the model's step."


def hermes_host_13b(model: ModelSpec, system: SystemSpec, b10: pd.DataFrame, *, profile: str,
                    activity: Activity | None, order: Mapping[str, bool], prompt_len: int,
                    gen_len: int) -> HostLlama13:
    """LLaMA2-13B's Hermes-host bar: the step the paper implies against dense, serial reads.

    Parameters
    ----------
    model : ModelSpec
        LLaMA2-13B.
    system : SystemSpec
        The chapter's profile's system.
    b10 : DataFrame
        ``policies.model_bars`` of Fig. 10 under every profile (column ``profile``).
    profile : str
        The chapter's profile.
    activity : Activity or None
        LLaMA2-13B's activity statistics.
    order : mapping of model slug → bool
        ``policies.system_order_matches`` at batch 1 (the acceptance table's order).
    prompt_len, gen_len : int
        Prompt and generated tokens per sequence.

    Notes
    -----
    Dense and serial: the GPU's resident weights at its attained bandwidth, then the host's
    :math:`W - W_\\mathrm{GPU}` at the host's, with no overlap.
    """
    hh13 = policies.estimate("hermes-host", model, system, batch=1, prompt_len=prompt_len,
                             gen_len=gen_len, options=Assumptions(activity=activity))
    weights = shapes.weight_bytes(model, "fp16")
    gpu_bytes = hh13.details["gpu_resident_bytes"]
    cpu_bytes = weights - gpu_bytes
    host_bw = system.host.achievable_bandwidth_bytes_per_s
    b13 = sel(b10, profile)
    b13 = b13[b13["model"] == model.slug].set_index("policy")
    paper_hh13 = float(b13.loc["hermes-host", "paper_tokens_per_s"])
    serial_s = gpu_bytes / system.gpu.achievable_bandwidth_bytes_per_s + cpu_bytes / host_bw
    ratio = weights / system.gpu.memory_bytes
    # the GPU's memory as the model takes it (GiB), and as the paper prints it where it does
    stated_gb = sc.paper_quantity(system.gpu.sources.get("memory_bytes", ""), "GB")
    cap = (f"{rounded(system.gpu.memory_bytes / u.GiB):g} GiB GPU"
           + (f" (the paper: {stated_gb})" if stated_gb else ""))
    # the step the paper's bar implies, at its own lengths with the model's prefill there
    at_paper = hh13 if (prompt_len, gen_len) == PAPER_LENGTHS else policies.estimate(
        "hermes-host", model, system, batch=1, prompt_len=PAPER_LENGTHS[0],
        gen_len=PAPER_LENGTHS[1], options=Assumptions(activity=activity))
    implied_s = float(policies.implied_decode_step_s(paper_hh13, batch=1,
                                                     gen_len=PAPER_LENGTHS[1],
                                                     prefill_s=at_paper.prefill_s))
    reading = _hh13_reading(implied_s / serial_s, implied_s, hh13.decode_step_s)
    if b13.loc["hermes-host", "tokens_per_s"] <= b13.loc["hermes-base", "tokens_per_s"]:
        reading += " Here the model, too, puts Hermes-host below Hermes-base."
    elif implied_s > hh13.decode_step_s:
        reading += (" The model cannot put Hermes-host below Hermes-base here without one of "
                    "those, and the paper states none.")
    fails = [k for k, v in order.items() if not v]  # the acceptance table's ordering failures
    # PowerInfer's own placement: the KV cache in host memory, attention on the CPU
    kv_host = policies.estimate("hermes-host", model, system, batch=1, prompt_len=prompt_len,
                                gen_len=gen_len, options=Assumptions(
                                    activity=activity, host_kv_on_gpu=False))
    base_tps = (float(b13.loc["hermes-base", "tokens_per_s"])
                if bool(b13.loc["hermes-base", "supported"]) else float("nan"))
    glue: Glue = {
        "ll13_fit": f"fit the {cap}" if ratio <= 1 else f"nearly fit the {cap}"
        if ratio <= 1.25 else f"are {ratio:.1f} times the memory of the {cap}",
        "hh13_gpu_gb": rounded(gpu_bytes / u.GB),
        "hh13_serial_ms": rounded(serial_s / u.MS),
        "hh13_cpu_gb": rounded(cpu_bytes / u.GB),
        "hh13_dense_ms": rounded(cpu_bytes / host_bw / u.MS),
        "hh13_host_gbps": rounded(host_bw / u.GB),
        "host_peak_gbps": rounded(system.host.dram_bandwidth_bytes_per_s / u.GB),
        "host_frac": system.host.efficiency.bandwidth_frac,
        "hh13_model_ms": rounded(hh13.decode_step_s / u.MS),
        "hh13_paper": paper_hh13,
        "hh13_implied_ms": rounded(implied_s / u.MS),
        "hh13_reading": reading,
        "hh13_implied_text": (
            f"implies {rounded(implied_s / u.MS):.1f} ms per step, {reading}" if implied_s > 0
            else "implies no decode step at all: the model's prefill alone "
            f"({sc.sig_text(at_paper.prefill_s)} s at the paper's {PAPER_LENGTHS[0]}-token "
            f"prompt) outlasts the paper's whole run ({sc.sig_text(PAPER_LENGTHS[1] / paper_hh13)}"
            " s)."),
        "hh13_kv_host": _hh13_kv_host_text(kv_host, base_tps, hh13.tokens_per_s),
        "hh13_intro": "The one ordering failure comes from one bar." if fails == ["llama2_13b"]
        else "LLaMA2-13B's ordering failure comes from one bar." if "llama2_13b" in fails
        else "The model orders LLaMA2-13B's systems as the paper does; one bar still stands out."}
    return HostLlama13(estimate=hh13, cpu_bytes=cpu_bytes, glue=glue)


def _hh13_kv_host_text(kv_host: Estimate, base_tps: float, default_tps: float) -> str:
    """The sentence on Hermes-host with its KV cache in host memory (PowerInfer's placement)
    against the model's Hermes-base (`base_tps`, NaN where it cannot run), at batch 1, beside
    the default placement's Hermes-host (`default_tps`)."""
    lead = ("With PowerInfer's own placement of the KV cache (host memory, attention on the CPU: "
            "host_kv_on_gpu = False, a row of the unstated parameters)")
    if not kv_host.supported:
        return f"{lead} the model's Hermes-host cannot run here: {kv_host.reason}."
    tps = kv_host.tokens_per_s
    said = f"{lead} the model's Hermes-host gives {tps:.1f} tokens/s"
    if not np.isfinite(base_tps):
        return f"{said}; Hermes-base cannot run here, so there is no order to compare."
    above, was_above = tps > base_tps, default_tps > base_tps
    if above == was_above:
        return (f"{said}, still {'above' if above else 'below'} Hermes-base's {base_tps:.1f}: "
                "the order does not change.")
    return (f"{said}, {'above' if above else 'below'} Hermes-base's {base_tps:.1f}: the two "
            "swap places.")


# -- where model and paper disagree most --------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class FarBars:
    """What :func:`far_bars` gives the chapter.

    Attributes
    ----------
    bars : DataFrame
        The distinct bars of Figs. 9–11 the model runs (chapter's profile).
    table : DataFrame
        Per system, the bars off by more than the tolerance and their median error.
    glue : dict
        Glue keys ``far_pct``, ``n_far``, ``n_bars``, ``acc_*``, ``offload_*``, ``fg*``,
        ``dv_over_fg_*``.
    """

    bars: pd.DataFrame
    table: pd.DataFrame
    glue: Glue


def far_bars(bs1: pd.DataFrame, b11: pd.DataFrame, models: Mapping[str, ModelSpec],
             from_model: Mapping[str, float], stated: pd.DataFrame, *, profile: str,
             gen_len: int) -> FarBars:
    """The distinct bars farther from the paper than the scorecard's ±35 %, by system.

    Distinct bars as the scorecard counts them (``scorecard.distinct_bars``): Figs. 9 and 10 at
    batch 1, then the bars of Fig. 11 they do not already hold.

    Parameters
    ----------
    bs1, b11 : DataFrame
        ``policies.model_bars`` of Figs. 9 and 10 together, and of Fig. 11, every profile.
    models : mapping of model slug → ModelSpec
    from_model : mapping of average name → float
        ``policies.figure_averages`` of the model's bars (Deja Vu over FlexGen is read).
    stated : DataFrame
        The paper's stated averages, indexed by name (column ``value``).
    profile : str
        The chapter's profile.
    gen_len : int
        The chapter's generated tokens per sequence; the step the paper's FlexGen bars imply is
        read at its own lengths (:data:`PAPER_LENGTHS`) whatever it is.
    """
    allb = sc.distinct_bars(pd.concat([sel(bs1, profile), sel(b11, profile)],
                                      ignore_index=True))
    allb = allb[allb["supported"]]
    far_frac = sc.TOLERANCES["rel_35"]  # the scorecard's tolerance for every system but Hermes
    far = allb[np.abs(allb["error_frac"]) > far_frac]
    ratio = allb["tokens_per_s"] / allb["paper_tokens_per_s"]
    acc_opt = ratio[(allb["policy"] == "accelerate") & allb["model"].str.startswith("opt_")
                    & (allb["batch"] == 1)]
    off = ratio[allb["policy"].isin(["flexgen", "dejavu"])]
    acc13 = allb[(allb["model"] == "llama2_13b") & (allb["policy"] == "accelerate")].iloc[0]
    # FlexGen streams every weight once per decode step: the rate the paper's bars imply
    fg = allb[(allb["policy"] == "flexgen") & (allb["batch"] == 1)]
    fg_implied = sc.implied_stream_rate(  # at the paper's lengths, the model's prefill there
        fg.assign(prefill_s=_paper_prefill(fg)),
        {m: shapes.weight_bytes(models[m], "fp16") for m in fg["model"]},
        gen_len=PAPER_LENGTHS[1])
    fg66 = fg.set_index("model").loc["opt_66b"]
    glue: Glue = {
        "far_pct": round(100 * far_frac), "n_far": len(far), "n_bars": len(allb),
        "acc_opt_lo": round(float(acc_opt.min()), 2), "acc_opt_hi": round(float(acc_opt.max()), 2),
        "offload_ratio_lo": round(float(off.min()), 1),
        "offload_ratio_hi": round(float(off.max()), 1),
        "acc13_paper": sc.paper_text(acc13["paper_tokens_per_s"]),
        "acc13_over_model": round(float(acc13["paper_tokens_per_s"] / acc13["tokens_per_s"]), 1),
        "fg66_model_s": rounded(float(fg66["decode_step_s"]), 2),
        "fg66_paper": sc.paper_text(fg66["paper_tokens_per_s"]),
        "fg66_implied_s": rounded(float(fg_implied.loc["opt_66b", "implied_step_s"]), 2),
        "fg_rate_lo": round(float(fg_implied["rate_bytes_per_s"].min()) / u.GB, 1),
        "fg_rate_hi": round(float(fg_implied["rate_bytes_per_s"].max()) / u.GB, 1),
        "dv_over_fg_model": round(from_model["dejavu_over_flexgen"], 2),
        "dv_over_fg_stated": sc.paper_text(stated.loc["dejavu_over_flexgen", "value"])}
    table = far_table(far, far_frac)
    return FarBars(bars=allb, table=table, glue=glue)


def far_table(far: pd.DataFrame, far_frac: float) -> pd.DataFrame:
    """The bars off by more than `far_frac` per system, split by sign.

    Parameters
    ----------
    far : DataFrame
        The far bars (``policy``, ``error_frac`` = model / paper − 1).
    far_frac : float
        The threshold they pass (a fraction; the scorecard's 0.35).

    Returns
    -------
    DataFrame
        Indexed by system (display names): the count, how many of them the model makes faster
        and slower than the paper, and the median of model / paper − 1 over those bars only
        (three significant figures).
    """
    pct = round(100 * far_frac)
    err = far["error_frac"]
    g = err.groupby(far["policy"])
    return pd.DataFrame({
        f"bars off by > {pct} %": g.size(),
        "model faster": (err > 0).groupby(far["policy"]).sum().astype(int),
        "model slower": (err < 0).groupby(far["policy"]).sum().astype(int),
        "median over those bars (model / paper − 1)": g.median().map(sc.sig_text)}).rename(
        index=sc.SYSTEM_NAMES).rename_axis(index="system")


def hermes_base_bullet(bs1: pd.DataFrame, b11: pd.DataFrame, *, profile: str,
                       names: Mapping[str, str], straight: bool) -> Glue:
    """Hermes-base against the paper's bars, in words (``hb_bullet``): faster or slower from the
    signs of its distinct bars off by more than the scorecard's 35 % (as :func:`far_table`
    counts them), the models whose bars the paper prints but the model cannot run (N.P.), and
    the paper's fixed growth per sequence only where its implied steps are a straight line
    (`straight`, :func:`affine_lines`' ``hb_straight``).

    Parameters
    ----------
    bs1, b11 : DataFrame
        ``policies.model_bars`` of Figs. 9 and 10 together, and of Fig. 11, every profile.
    profile : str
        The chapter's profile.
    names : mapping of model slug → display name
    straight : bool
        Whether the paper's Hermes-base steps lie on a straight line in the batch.
    """
    allb = sc.distinct_bars(pd.concat([sel(bs1, profile), sel(b11, profile)],
                                      ignore_index=True))
    hb = allb[(allb["policy"] == "hermes-base") & allb["paper_supported"]]
    far_frac = sc.TOLERANCES["rel_35"]
    run = hb[hb["supported"]]
    fast = [names[m] for m in dict.fromkeys(run.loc[run["error_frac"] > far_frac, "model"])]
    slow = [names[m] for m in dict.fromkeys(run.loc[run["error_frac"] < -far_frac, "model"])]
    np_ = [names[m] for m in dict.fromkeys(hb.loc[~hb["supported"], "model"])]
    if not len(run):
        return {"hb_bullet": f"cannot run any of the bars the paper prints here ({sc.NP})"}
    lead = (f"is faster for {prose_list(fast)} and slower for {prose_list(slow)}" if fast and slow
            else f"is faster for {prose_list(fast)}" if fast else
            f"is slower for {prose_list(slow)}" if slow else
            f"stays within {round(100 * far_frac)} % of the paper's bars")
    if np_:
        lead += f" (it cannot run {prose_list(np_)} here, {sc.NP})"
    why = ("whole layers on the DIMMs stream at the DIMMs' full bandwidth in the model, whose "
           "step stays flat until the multipliers limit it" if fast else
           "in the model its step, whole layers streamed from the DIMMs, stays flat until the "
           "multipliers limit it")
    paper = (", while the paper's grows by a fixed amount with every sequence from batch 1 on"
             if straight else "")
    return {"hb_bullet": f"{lead}: {why}{paper}"}


@dataclass(frozen=True, slots=True, kw_only=True)
class HostBatch16:
    """What :func:`hermes_host_batch16` gives the chapter.

    Attributes
    ----------
    bars : DataFrame
        Hermes-host's bars at batch 16 for Falcon-40B and OPT-66B, indexed by model.
    run_s : Series
        The paper's whole run of each (s).
    longer : bool
        Both of the model's prefills outlast the paper's whole run.
    glue : dict
        Glue keys ``hh16_*``.
    """

    bars: pd.DataFrame
    run_s: pd.Series
    longer: bool
    glue: Glue


def hermes_host_batch16(b11: pd.DataFrame, *, profile: str, gen_len: int,
                        names: Mapping[str, str], prompt_len: int = PAPER_LENGTHS[0]
                        ) -> HostBatch16:
    """Hermes-host at batch 16: the model's CPU prefill against the paper's whole run.

    Parameters
    ----------
    b11 : DataFrame
        ``policies.model_bars`` of Fig. 11, every profile.
    profile : str
        The chapter's profile.
    gen_len : int
        The chapter's generated tokens per sequence (not used: the paper's whole run is read
        at its own lengths, :data:`PAPER_LENGTHS`, and set beside the model's prefill there).
    names : mapping of model slug → display name
    prompt_len : int
        The chapter's prompt tokens per sequence: where the chapter's lengths are not the
        paper's, ``hh16_len_note`` says the prefills quoted are at the paper's.

    Notes
    -----
    The paper's whole run at batch :math:`b` is :math:`b\\,n_\\mathrm{gen}/\\mathrm{tokens/s}`
    with its :math:`n_\\mathrm{gen}` = 128 (§V-A).
    """
    pair = ("falcon_40b", "opt_66b")
    hh16 = b11[(b11["policy"] == "hermes-host") & (b11["batch"] == 16)
               & (b11["profile"] == profile) & b11["model"].isin(pair)].set_index("model")
    run = 16 * PAPER_LENGTHS[1] / hh16["paper_tokens_per_s"]
    hh16 = hh16.assign(prefill_s=_paper_prefill(hh16))  # the model's, at the paper's prompt
    glue: Glue = {}
    for m in hh16.index:
        pf_ = float(hh16.loc[m, "prefill_s"])  # three significant digits: 107 s, or 0.213 s
        glue[f"hh16_prefill_{m}"] = sc.NP if pd.isna(pf_) else sc.sig_text(pf_) + " s"
        glue[f"hh16_run_{m}"] = rounded(float(run[m]))
    # the text's claim, as far as it holds: which prefills outlast the paper's whole run
    ok16 = [m for m in pair if pd.notna(hh16.loc[m, "prefill_s"])]
    longer = [m for m in ok16 if hh16.loc[m, "prefill_s"] > run[m]]
    for_one = "" if len(ok16) == 2 else f", for {names[ok16[0]]}," if ok16 else ""
    if not ok16:  # N.P. for both
        cmp_, then = "cannot be set beside", "."
    elif len(longer) == len(ok16):
        cmp_, then = f"is{for_one} longer than", (
            ": the paper's Hermes-host cannot have computed its prompts there at the host's FLOP "
            "rate.")
    elif not longer:
        cmp_, then = f"is{for_one} shorter than", (
            ": the prefill alone does not show whether the paper's Hermes-host computed its "
            "prompts on the CPU.")
    else:
        cmp_ = ("is, in that order, " + " and ".join(
            "longer" if m in longer else "shorter" for m in pair) + " than")
        then = (f": for {names[longer[0]]} the paper's Hermes-host cannot have computed its "
                "prompts at the host's FLOP rate.")
    glue |= {"hh16_cmp": cmp_, "hh16_then": then,
             "hh16_len_note": "" if (prompt_len, gen_len) == PAPER_LENGTHS else
             f" (at the paper's {PAPER_LENGTHS[0]}-token prompts, as its run)"}
    return HostBatch16(bars=hh16, run_s=run, longer=len(longer) == 2, glue=glue)


@dataclass(frozen=True, slots=True, kw_only=True)
class HostGains:
    """What :func:`hermes_host_gains` gives the chapter.

    Attributes
    ----------
    models : list of str
        The models followed (those of Fig. 11 in `models`).
    estimates : dict
        (model, batch, prompt on the CPU) → Estimate, batches 1 and 16.
    gains : dict
        model → {"paper", "cpu", "gpu"}: tokens/s at batch 16 over batch 1.
    faster : list of bool
        At each bar the model runs, whether the GPU prompt is at least as fast as the default.
    implied_x : list of float
        The paper's implied decode step (GPU prompt) over the model's, at each bar.
    host_ridge : float
        The host CPU's ridge, multiply-adds per fp16 weight read.
    glue : dict
        Glue keys ``hhg_*``, ``hh_kv_*``, ``hh_lead``, ``hh_o66_text``, ``hh_f40_text``,
        ``host_ridge``, ``hh_implied_x``, ``hh_faster_txt``.
    """

    models: list[str]
    estimates: dict[tuple[str, int, bool], Estimate]
    gains: dict[str, dict[str, float]]
    faster: list[bool]
    implied_x: list[float]
    host_ridge: float
    glue: Glue


def _gains_text(gains: Mapping[str, float], n_models: int, names: Mapping[str, str],
                bare: str = "", named: str = "") -> str:
    """One reading's gains: bare values where all models run and gain, else named, with verbs."""
    if len(gains) == n_models and min(gains.values()) >= 1:
        return bare + prose_list([f"{round(v_, 2):.2f}×" for v_ in gains.values()])
    up_, down_ = ([f"{round(v_, 2):.2f}× for {names[m_]}" for m_, v_ in gains.items()
                   if (v_ >= 1) == s_] for s_ in (True, False))
    return named + " and ".join(w_ + prose_list(l_) for w_, l_ in (
        ("grows ", up_), ("falls to ", down_)) if l_)


def _gaps(ms: Sequence[str], names: Mapping[str, str]) -> str:
    """The gaps of models in words: "LLaMA2-70B's gap", "OPT-66B's and Falcon-40B's gaps"."""
    return prose_list([f"{names[m_]}'s" for m_ in ms]) + (" gap" if len(ms) == 1 else " gaps")


def gap_closing_text(g: Mapping[str, Mapping[str, float]], names: Mapping[str, str]) -> str:
    """What the GPU-prompt gains do to the gaps of the CPU-prompt gains below the paper's, as a
    clause (", which closes …"; "" where none moves towards the paper): `g` maps each model to
    its gains from batch 1 to 16 (``paper``, ``cpu``, ``gpu``). A gap is closed where the GPU
    gain comes within :data:`CLOSE_FRAC` of the paper's, overshot where it lies further above,
    and closed only in part where it lies further below (but above the CPU gain)."""
    below = [m_ for m_ in g if g[m_]["cpu"] < g[m_]["paper"]]
    off = {m_: g[m_]["gpu"] / g[m_]["paper"] - 1 for m_ in below}
    closed = [m_ for m_ in below if abs(off[m_]) <= CLOSE_FRAC]
    over = [m_ for m_ in below if off[m_] > CLOSE_FRAC]
    open_ = [m_ for m_ in below if off[m_] < -CLOSE_FRAC and g[m_]["gpu"] > g[m_]["cpu"]]
    rest = ("the others'" if len(open_) > 1 and len(closed) + len(over) + len(open_) == len(g)
            else _gaps(open_, names))
    if closed and open_ and not over:
        return f", which closes {_gaps(closed, names)} but only part of {rest}"
    parts = [f"closes {_gaps(closed, names)}"] if closed else []
    if over:
        parts.append("overshoots the paper's gain for " + prose_list(
            [f"{names[m_]} ({round(g[m_]['gpu'], 2):.2f}× against "
             f"{round(g[m_]['paper'], 2):.2f}×)" for m_ in over]))
    if open_:
        parts.append(f"closes only part of {rest}")
    return f", which {prose_list(parts)}" if parts else ""


def _share_moves(e: Mapping[tuple[str, int, bool], Estimate], m_: str) -> str:
    """How the GPU's share of the active neurons goes from batch 1 to 16, in words."""
    s1, s16 = (round(e[(m_, b_, True)].details["gpu_load_share"], 2) for b_ in (1, 16))
    return (f"falls from {s1:.2f} to {s16:.2f}" if s16 < s1 else
            f"rises from {s1:.2f} to {s16:.2f}" if s16 > s1 else f"stays at {s1:.2f}")


def _copies_text(e: Mapping[tuple[str, int, bool], Estimate]) -> tuple[str, str]:
    """OPT-66B's copies of hot neurons and Falcon-40B's share, batch 1 to 16, in words."""
    c = {(m_, b_): e[(m_, b_, True)].details.get("gpu_cached_bytes", np.nan)
         for m_ in ("opt_66b", "falcon_40b") for b_ in (1, 16)}
    gb = {k_: f"{round(v_ / u.GB, 2):.2f} GB" for k_, v_ in c.items()}
    o66_ok = [e[("opt_66b", b_, True)].supported for b_ in (1, 16)]
    if not o66_ok[0]:
        o66 = f"but OPT-66B does not run here even at batch 1 ({sc.NP})"
    elif not o66_ok[1]:
        o66 = (f"pushing copies of hot neurons out of GPU memory ({gb[('opt_66b', 1)]} of "
               f"them at batch 1) until at batch 16 OPT-66B does not run at all ({sc.NP})")
    else:
        cut = round(c[("opt_66b", 16)] / u.GB, 2) < round(c[("opt_66b", 1)] / u.GB, 2)
        o66 = ("pushing copies of hot neurons out of GPU memory ({} of them at batch 1, {} at 16)"
               if cut else "yet the GPU keeps its copies of hot neurons ({} at batch 1, "
               "{} at 16)").format(gb[("opt_66b", 1)], gb[("opt_66b", 16)]) + (
            ": the GPU's share of the active neurons " + _share_moves(e, "opt_66b"))
    f40 = ""  # nothing where Falcon-40B is N.P. at either batch
    if all(e[("falcon_40b", b_, True)].supported for b_ in (1, 16)):
        c1_, c16_ = c[("falcon_40b", 1)], c[("falcon_40b", 16)]
        sh1_, sh16_ = (e[("falcon_40b", b_, True)].details["gpu_load_share"] for b_ in (1, 16))
        cut_ = round(100 * (1 - c16_ / c1_)) if c1_ > 0 else 0
        shrink = ("do not shrink" if c16_ >= c1_ else "barely shrink" if cut_ < 5 else
                  f"shrink by only {cut_} %")
        who = "it" if all(o66_ok) else "the GPU's share of the active neurons"
        # "although": the share falls faster than the copies
        f40 = (f"For Falcon-40B {who} " + _share_moves(e, "falcon_40b") + (
            f" although its copies {shrink} ({gb[('falcon_40b', 1)]} to "
            f"{gb[('falcon_40b', 16)]}): the batch's union of needed neurons outgrows "
            "them" if sh16_ * c1_ < sh1_ * c16_ else "") + ".")
    return o66, f40


def hermes_host_gains(b11: pd.DataFrame, models: Mapping[str, ModelSpec], system: SystemSpec,
                      activities: Mapping[str, Activity], *, profile: str, prompt_len: int,
                      gen_len: int, names: Mapping[str, str]) -> HostGains:
    """Hermes-host from batch 1 to 16: the paper's gain against the model's, read two ways.

    The model's gain with the prompt's cold neurons computed on the CPU (the default) and
    streamed to the GPU (``host_prefill_on_cpu = False``), the KV cache the GPU keeps, the
    copies of hot neurons it gives up, the host CPU's ridge and the decode steps the paper's
    bars imply with the prompt on the GPU.

    Parameters
    ----------
    b11 : DataFrame
        ``policies.model_bars`` of Fig. 11, every profile.
    models : mapping of model slug → ModelSpec
    system : SystemSpec
        The chapter's profile's system.
    activities : mapping of model slug → Activity
    profile : str
        The chapter's profile.
    prompt_len, gen_len : int
        Prompt and generated tokens per sequence.
    names : mapping of model slug → display name
    """
    ms = [m_ for m_ in ("opt_66b", "falcon_40b", "llama2_70b") if m_ in models]
    hhb = b11[(b11["policy"] == "hermes-host") & (b11["profile"] == profile)].set_index(
        ["model", "batch"])

    def run(m_: str, b_: int, cpu: bool = True, lengths: tuple[int, int] | None = None
            ) -> Estimate:
        p_, g_ = lengths or (prompt_len, gen_len)
        return policies.estimate("hermes-host", models[m_], system, batch=b_,
                                 prompt_len=p_, gen_len=g_, options=Assumptions(
                                     activity=activities[m_], host_prefill_on_cpu=cpu))

    e = {(m_, b_, cpu): run(m_, b_, cpu) for m_ in ms for b_ in (1, 16) for cpu in (True, False)}

    def gain(m_: str, cpu: bool) -> float:
        lo, hi = e[(m_, 1, cpu)], e[(m_, 16, cpu)]
        return hi.tokens_per_s / lo.tokens_per_s if lo.supported and hi.supported else np.nan

    g = {m_: {"paper": float(hhb.loc[(m_, 16), "paper_tokens_per_s"]
                             / hhb.loc[(m_, 1), "paper_tokens_per_s"]),
              "cpu": gain(m_, True), "gpu": gain(m_, False)} for m_ in ms}
    glue: Glue = {}
    for m_ in ms:
        glue[f"hhg_paper_{m_}"] = f"{round(g[m_]['paper'], 2):.2f}×"
        for b_ in (1, 16):
            kv_ = b_ * (prompt_len + gen_len) * shapes.kv_cache_bytes_per_token(models[m_], "fp16")
            glue[f"hh_kv_{m_}_{b_}"] = f"{round(kv_ / u.GB, 2):.2f} GB"
    # the gains in words, from the values: a model N.P. at either batch left out (and named), a
    # ratio below 1 called a fall, and a gap called closed where the gain reaches the paper's
    ok = [m_ for m_ in ms if np.isfinite(g[m_]["cpu"]) and np.isfinite(g[m_]["gpu"])]
    np_ = "; ".join(f"{names[m_]}: {sc.NP} at batch {16 if e[(m_, 1, True)].supported else 1}"
                    for m_ in ms if m_ not in ok)
    kind = {m_: "loses tokens/s with the batch" if g[m_]["cpu"] < 1 else
            "gains less from the batch than the paper's" if g[m_]["cpu"] < g[m_]["paper"]
            else "gains at least as much from the batch as the paper's" for m_ in ok}
    by = {k_: [names[m_] for m_ in ok if kind[m_] == k_] for k_ in kind.values()}
    glue["hh_lead"] = next(iter(by)) if len(by) == 1 else prose_list(
        [f"{k_} for {prose_list(v_)}" for k_, v_ in by.items()]) or (
        f"cannot run these models at batch 16 ({sc.NP})")
    cpu_g, gpu_g = ({m_: g[m_][k_] for m_ in ok} for k_ in ("cpu", "gpu"))
    glue["hhg_cpu_text"] = ((_gains_text(cpu_g, len(ms), names) or sc.NP)
                            + (f" ({np_})" if np_ else ""))
    glue["hhg_gpu_text"] = _gains_text(gpu_g, len(ms), names, "its gains become ",
                                       "its tokens/s ") + gap_closing_text(
        {m_: g[m_] for m_ in ok}, names)
    glue["hh_o66_text"], glue["hh_f40_text"] = _copies_text(e)
    # the host's ridge: multiply-adds per weight read above which its FLOP rate, not its DRAM,
    # limits it
    ridge = ridge_batch(system.host.achievable_flop_per_s / 2,
                        system.host.achievable_bandwidth_bytes_per_s)
    glue["host_ridge"] = round(ridge)
    # the paper's Hermes-host decode steps, read with the prompt on the GPU, against the model's
    hh_x, faster = [], []
    for (m_, b_), r_ in hhb.iterrows():
        e_ = run(m_, int(b_), False)
        if e_.supported and r_["supported"]:
            faster.append(e_.tokens_per_s >= r_["tokens_per_s"])
        # the step the paper's bar implies at its own lengths, the model's prefill there
        ep_ = e_ if (prompt_len, gen_len) == PAPER_LENGTHS else run(m_, int(b_), False,
                                                                    PAPER_LENGTHS)
        if e_.supported and ep_.supported:
            imp_ = float(policies.implied_decode_step_s(
                r_["paper_tokens_per_s"], batch=int(b_), gen_len=PAPER_LENGTHS[1],
                prefill_s=ep_.prefill_s))
            if imp_ > 0:
                hh_x.append(imp_ / e_.decode_step_s)
    glue["hh_implied_x"] = (sc.NP if not hh_x else
                            f"{round(min(hh_x), 1):.1f}–{round(max(hh_x), 1):.1f}")
    glue["hh_faster_txt"] = ("at every batch" if all(faster) else
                             f"at {sum(faster)} of its {len(faster)} bars")
    return HostGains(models=ms, estimates=e, gains=g, faster=faster, implied_x=hh_x,
                     host_ridge=ridge, glue=glue)


def hermes_host_bs1(bs1: pd.DataFrame, *, profile: str) -> Glue:
    """Hermes-host at batch 1 against the paper's bars (the bullet's opening): ``hh_bs1_txt``.

    Parameters
    ----------
    bs1 : DataFrame
        ``policies.model_bars`` of Figs. 9 and 10 together, every profile.
    profile : str
        The chapter's profile.
    """
    hh1 = sel(bs1, profile)
    hh1 = hh1[(hh1["policy"] == "hermes-host") & hh1["supported"] & hh1["paper_supported"]]
    fast = int((hh1["tokens_per_s"] > hh1["paper_tokens_per_s"]).sum())
    return {"hh_bs1_txt": "is faster in the model at batch 1" if fast == len(hh1) else
            "is slower in the model at batch 1" if fast == 0 else
            f"is faster in the model at batch 1 for {fast} of {len(hh1)} models"}


# -- the detailed configuration and the two profiles --------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class Detailed:
    """What :func:`detailed` gives the chapter.

    Attributes
    ----------
    table : DataFrame
        ``scorecard.estimate_table`` of the configuration under every profile.
    glue : dict
        Glue keys ``det_hermes``, ``det_model`` and ``det_config`` (the batch, GPU, DIMM count
        and, where they are not the paper's, lengths it describes).
    """

    table: pd.DataFrame
    glue: Glue


def detailed(model: ModelSpec, systems: Mapping[str, SystemSpec], *, profile: str,
             activity: Activity | None, batch: int, prompt_len: int, gen_len: int) -> Detailed:
    """Every system on the chapter's model and batch, and Hermes' tokens/s in words.

    Where Hermes cannot run it (N.P.), the words say why, and how many NDP-DIMMs it would need
    (``policies.min_dimms``) where more would let it run; where it runs under the chapter's
    profile but not the other, they name the other profile.

    Parameters
    ----------
    model : ModelSpec
    systems : mapping of profile → SystemSpec
    profile : str
        The chapter's profile (its system's DIMM count is the one named).
    activity : Activity or None
        The model's activity statistics.
    batch, prompt_len, gen_len : int
        Sequences, prompt and generated tokens per sequence.
    """
    det = sc.estimate_table(model, systems, activity=activity, batch=batch,
                            prompt_len=prompt_len, gen_len=gen_len)
    h = det[det["policy"] == "hermes"].set_index("profile")
    if h["supported"].all():  # as the text shows it
        text = (f"Hermes gives {round(float(h.loc['paper', 'tokens_per_s']), 1):.1f} tokens/s "
                "under the paper profile and "
                f"{round(float(h.loc['datasheet', 'tokens_per_s']), 1):.1f} under the datasheet "
                "one")
    else:  # N.P.: say why, and how many DIMMs it would need
        why = why_np("hermes", model, systems[profile], batch=batch,
                     options=Assumptions(activity=activity), prompt_len=prompt_len,
                     gen_len=gen_len)
        # "" where it runs under the chapter's profile: then it is the other one that cannot
        text = f"Hermes cannot run it (N.P.: {why or f'under the {other_profile(profile)} profile'})"
    system = systems[profile]
    gpu = system.gpu.name.removeprefix("NVIDIA ").removeprefix("GeForce ")
    n = system.n_dimms
    config = (f"at batch {batch}, on one {gpu} with "
              + u.plural(n, "NDP-DIMM", count=u.count_words(n))
              + ("" if (prompt_len, gen_len) == PAPER_LENGTHS else
                 f", {prompt_len}-token prompts and {u.plural(gen_len, 'generated token')}"))
    return Detailed(table=det, glue={"det_hermes": text, "det_model": model.name,
                                     "det_config": config})


@dataclass(frozen=True, slots=True, kw_only=True)
class OffloadRange:
    """Hermes over the offloading systems, the model's smallest and largest average.

    Attributes
    ----------
    low, high : float
        The smallest and largest average (×).
    glue : dict
        Glue keys ``off_lo``, ``off_hi``, ``off_*_system``, ``off_*_stated``.
    """

    low: float
    high: float
    glue: Glue


def offload_range(from_model: Mapping[str, float], stated: pd.DataFrame) -> OffloadRange:
    """The model's averages of Hermes over Accelerate, FlexGen and Deja Vu: their range.

    Parameters
    ----------
    from_model : mapping of average name → float
        ``policies.figure_averages`` of the model's bars.
    stated : DataFrame
        The paper's stated averages, indexed by name (column ``value``).
    """
    defs = policies.AVERAGE_DEFINITIONS
    off = {n: from_model[n] for n, d in defs.items()
           if d[0] == "hermes" and d[1] in ("accelerate", "flexgen", "dejavu")}
    lo_n, hi_n = min(off, key=off.__getitem__), max(off, key=off.__getitem__)
    glue: Glue = {"off_lo": round(off[lo_n]), "off_hi": round(off[hi_n]),
                  "off_lo_system": sc.SYSTEM_NAMES[defs[lo_n][1]],
                  "off_hi_system": sc.SYSTEM_NAMES[defs[hi_n][1]],
                  "off_lo_stated": sc.paper_text(stated.loc[lo_n, "value"]),
                  "off_hi_stated": sc.paper_text(stated.loc[hi_n, "value"])}
    return OffloadRange(low=off[lo_n], high=off[hi_n], glue=glue)


def profile_difference(systems: Mapping[str, SystemSpec]) -> Glue:
    """How the datasheet profile differs from the paper's, in words: ``pcie_*``, ``profile_diff``.

    Parameters
    ----------
    systems : mapping of profile → SystemSpec
        The ``paper`` and ``datasheet`` systems.
    """
    pcie = {p: rounded(s.host_link.bandwidth_per_direction_bytes_per_s / u.GB, 3)
            for p, s in systems.items()}
    tflops = {p: rounded(s.gpu.fp16_flop_per_s / u.TFLOP, 3) for p, s in systems.items()}
    glue: Glue = {f"pcie_{p}": v for p, v in pcie.items()}
    slower = {k: "more slowly" if v["datasheet"] < v["paper"] else "faster"
              for k, v in (("pcie", pcie), ("tflops", tflops))}
    differ = []
    if pcie["datasheet"] != pcie["paper"]:
        differ.append(f"PCIe at {pcie['datasheet']:g} GB/s per direction instead of "
                      f"{pcie['paper']:g}")
    if tflops["datasheet"] != tflops["paper"]:
        differ.append(f"the GPU's FP16 tensor rate at {tflops['datasheet']:g} instead of "
                      f"{tflops['paper']:g} TFLOPS (FP32 accumulation)")
    why = (f"prefill streams the cold weights {slower['pcie']}, which is most of the difference"
           if pcie["datasheet"] != pcie["paper"] else f"prefill computes {slower['tflops']}")
    glue["profile_diff"] = (
        f"The datasheet profile takes {' and '.join(differ)}: {why}; decode barely changes, "
        "because it runs from GPU memory and the DIMMs." if differ else
        f"Both profiles take the same PCIe rate ({pcie['paper']:g} GB/s per direction) and FP16 "
        f"tensor rate ({tflops['paper']:g} TFLOPS) here.")
    return glue
