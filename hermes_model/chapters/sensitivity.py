"""What the Sensitivity chapter computes for its text: Figs. 14 and 15 and the unstated parameters.

The chapter (``book/sensitivity.ipynb``) re-derives Fig. 14 (the NDP-DIMM count) and Fig. 15
(the GPU) with ``hermes_model.sweeps`` and checks each statement of the paper (§V-E) against
them, then reads the paper's headline bars as bands over the values the paper leaves unstated
(:data:`hermes_model.policies.UNSTATED`). The functions here turn those sweeps into what the
chapter shows: charts, tables, and the glue values of its prose (glue key → the value exactly
as the text prints it). Each takes what the chapter has already loaded (model and GPU specs,
sweeps, the paper's tables, a ``system_for`` callable as in ``hermes_model.sweeps``) and reads
no files.

Everything inside is SI (bytes, s, FLOP/s); tables and glue values are in display units
(GiB, GB, GB/s, ms, µs, %), as their names say.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import altair as alt
import numpy as np
import pandas as pd

from hermes_model import dram, params, plotting, policies, roofline, shapes, specs, sweeps
from hermes_model import scorecard as sc
from hermes_model import units as u
from hermes_model.paper import PAPER
from hermes_model.plotting import rounded
from hermes_model.policies import Activity, Assumptions, Estimate
from hermes_model.scorecard import SYSTEM_NAMES, paper_quantity, short_name
from hermes_model.shapes import ModelSpec
from hermes_model.specs import GpuSpec, SystemSpec
from hermes_model.sweeps import SystemFor

#: Models whose context the chapter checks besides those of Figs. 14 and 15 and the tornado's:
#: the other models of the Figs. 9–11 bars that the bands re-run.
BAR_MODELS: Final = ("opt_66b", "llama2_13b")
#: The batch sizes of the paper's Fig. 15 (sequences).
PAPER15_BATCHES: Final = (1, 4, 16)
#: The decode-step categories of Fig. 12 in the 8-against-16-DIMM table.
STEP_CATEGORIES: Final = ("fc", "attention", "communication", "others")
#: The ranking table's column names (`sweeps.influence`'s → the chapter's).
RANK_COLUMNS: Final = {"n_bars": "Hermes bars", "median_spread": "median swing (ln)",
                       "max_spread": "largest swing (ln)", "max_factor": "largest factor"}
#: The band table's column names (`band_summary`'s → the chapter's).
INSIDE_COLUMNS: Final = {"bars": "bars", "paper_inside_band": "paper inside the band",
                         "median_width": "median band width (high / low)"}


def _hermes(model: ModelSpec, system: SystemSpec, activity: Activity | None, *, batch: int,
            prompt_len: int, gen_len: int, options: Assumptions | None = None) -> Estimate:
    """Hermes on `model` and `system` at `batch`, with `activity` and `options` (else defaults)."""
    opts = dataclasses.replace(options or Assumptions(), activity=activity)
    return policies.estimate("hermes", model, system, batch=batch, prompt_len=prompt_len,
                             gen_len=gen_len, options=opts)


# ----------------------------------------------------------------------------- parameters


def check_runs(models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
               system: SystemSpec, *, tornado_model: str, tornado_batches: Sequence[int],
               prompt_len: int, gen_len: int) -> None:
    """Refuse parameters the chapter cannot run with, naming the parameter.

    Every model the chapter runs (those of Figs. 14 and 15, :data:`BAR_MODELS` and
    `tornado_model`) must hold `prompt_len` + `gen_len` tokens in its context, and Hermes must
    run `tornado_model` on `system` at each of `tornado_batches` (sequences).

    Raises
    ------
    ValueError
        Naming ``prompt_len`` and ``gen_len``, or ``tornado_batches``.
    """
    params.context([models[s] for s in dict.fromkeys(
        sweeps.FIG14_MODELS + sweeps.FIG15_MODELS + BAR_MODELS + (tornado_model,))],
        prompt_len, gen_len)
    for b in tornado_batches:
        est = _hermes(models[tornado_model], system, activities[tornado_model], batch=b,
                      prompt_len=prompt_len, gen_len=gen_len)
        if not est.supported:
            raise ValueError(f"parameter 'tornado_batches': Hermes cannot run {tornado_model} "
                             f"at batch {b} ({est.reason}), got {list(tornado_batches)!r}")


# ----------------------------------------------------------------------------------- Fig. 14


def fig14_chart(fig14: pd.DataFrame, paper14: pd.DataFrame, models: Mapping[str, ModelSpec], *,
                profile: str, dimm_counts: Sequence[int]) -> alt.FacetChart:
    """Fig. 14 re-derived: the model's tokens/s per NDP-DIMM count beside the paper's ticks.

    Parameters
    ----------
    fig14 : DataFrame
        ``sweeps.dimm_sweep``'s rows.
    paper14 : DataFrame
        The paper's Fig. 14 (``io.load_paper_sensitivity("fig14")``); its N.P. rows are dropped.
    models : mapping
        Slug → model (for the facets' names).
    profile : str
        The hardware profile, named in the legend.
    dimm_counts : sequence of int
        The counts shown (the paper's ticks at other counts are dropped).
    """
    cols = ["model", "n_dimms", "series", "tokens_per_s"]
    frame = pd.concat([fig14.assign(series=f"model, {profile} profile")[cols],
                       paper14[paper14["tokens_per_s"].notna()].assign(series="paper")[cols]],
                      ignore_index=True)
    frame = frame[frame["n_dimms"].isin(dimm_counts)].rename(columns={"n_dimms": "NDP-DIMMs"})
    frame["model"] = frame["model"].map({s: m.name for s, m in models.items()})
    chart = plotting.model_vs_paper_chart(frame, x="NDP-DIMMs", sig=5)  # the paper's 135.64
    chart.facet.column.header = plotting.TWO_LINE_HEADER
    return chart


def fig14_table(fig14: pd.DataFrame, models14: Mapping[str, ModelSpec]) -> pd.DataFrame:
    """Fig. 14 as a table: tokens/s per model (rows, by name) and NDP-DIMM count (columns),
    one decimal, N.P. where the pool is too small."""
    table = fig14.pivot_table(index="model", columns="n_dimms", values="tokens_per_s",
                              dropna=False).reindex(list(models14))
    return plotting.formatted(table.rename(index={s: m.name for s, m in models14.items()}),
                              {str(n): ".1f" for n in table.columns},
                              na="N.P.").rename_axis(columns="tokens/s at NDP-DIMMs")


def first_supported(fig14: pd.DataFrame, slug: str) -> int:
    """The smallest NDP-DIMM count of the sweep `fig14` at which `slug` runs (0: none)."""
    ok = fig14[(fig14["model"] == slug) & fig14["supported"]]["n_dimms"]
    return int(ok.min()) if len(ok) else 0


def first_supported_text(fig14: pd.DataFrame, slug: str, dimm_counts: Sequence[int],
                         unit: str = "", *, fewest: int | None = None, swept: bool = True) -> str:
    """:func:`first_supported` as text, qualified wherever it is not the true minimum.

    With `fewest` (the fewest DIMMs counted one at a time, :func:`fewest_dimms`) a count above
    it reads ``"8 DIMMs among the counts swept (3 counted one DIMM at a time)"`` (without
    "among the counts swept" if not `swept`, for a sentence that says so already); without it,
    a count that is the smallest swept notes that a smaller one might run.

    >>> sw = pd.DataFrame({"model": "m", "n_dimms": [2, 4], "supported": [True, True]})
    >>> first_supported_text(sw, "m", [2, 4], " DIMMs")
    '2 DIMMs (the smallest count swept)'
    >>> first_supported_text(sw, "m", [2, 4], " DIMMs", fewest=1)
    '2 DIMMs among the counts swept (1 counted one DIMM at a time)'
    """
    n = first_supported(fig14, slug)
    if fewest is not None:
        return f"{n}{unit}" + ((" among the counts swept" if swept else "")
                               + f" ({fewest} counted one DIMM at a time)" if n != fewest else "")
    return f"{n}{unit}" + (" (the smallest count swept)" if n == dimm_counts[0] > 1 else "")


def np_agreement(fig14: pd.DataFrame, paper14: pd.DataFrame) -> dict[str, object]:
    """Glue values of the paper's N.P. cells of Fig. 14 that the sweep `fig14` also ran.

    Which cell an N.P. label of the figure belongs to is inferred from capacity; the text
    states Falcon-40B's (``data/paper/fig14.csv``, column ``kind``: ``stated`` or not).

    Returns
    -------
    dict
        ``np_agree`` ("k of n"), ``np_cells_txt`` and ``np_summary_txt`` (clauses of the text).
    """
    sup = fig14.set_index(["model", "n_dimms"])["supported"]
    swept = [r for r in paper14[~paper14["supported"]].itertuples()
             if (r.model, r.n_dimms) in sup.index]
    agree = [not sup[(r.model, r.n_dimms)] for r in swept]
    n_inferred = sum(r.kind != "stated" for r in swept)
    how = roofline.prose_list(
        ([f"{n_inferred} from figure labels whose placement is inferred from capacity"]
         if n_inferred else [])
        + ([f"{len(agree) - n_inferred} stated in the text"] if len(agree) > n_inferred else []))
    caveat = (", so for the inferred ones the agreement checks the capacity arithmetic rather "
              "than an independent reading" if n_inferred and sum(agree) else "")
    cells = "the one cell" if len(agree) == 1 else f"the {len(agree)} cells"
    finds = ("finds N.P. at " + cells if sum(agree) == len(agree) == 1 else
             "does not find N.P. at " + cells if len(agree) == 1
             else f"finds N.P. at {sum(agree)} of {cells}")
    return {
        "np_agree": f"{sum(agree)} of {len(agree)}",
        "np_cells_txt": (f"of {cells} the paper marks N.P. ({how}), the model "
                         f"finds {sum(agree)} N.P. too" + caveat
                         if agree else "none of the paper's N.P. cells is among the counts swept"),
        "np_summary_txt": (f"and the model {finds} the paper marks N.P. ({how})"
                           if agree else "none of which is among the counts swept here")}


@dataclass(frozen=True)
class Capacity:
    """Fig. 14's capacity: the glue values, the fewest DIMMs per model and LLaMA2-70B's margins.

    Attributes
    ----------
    glue : dict
        Glue key → value.
    fewest : dict
        Model slug → the fewest DIMMs (counted one at a time) that hold its weights and KV cache.
    margins : DataFrame
        ``sweeps.capacity_margins`` of LLaMA2-70B at four DIMMs.
    table : DataFrame
        `margins` for display: ``need (GiB)``, ``pool (GiB)``, ``margin (%)``, ``fits`` by
        ``reading``.
    """

    glue: dict[str, object]
    fewest: dict[str, int]
    margins: pd.DataFrame
    table: pd.DataFrame


def fewest_dimms(model: ModelSpec, dimm_capacity_bytes: float, *, prompt_len: int,
                 gen_len: int) -> int:
    """The fewest DIMMs of `dimm_capacity_bytes` (bytes) that hold `model`'s weights and KV
    cache at batch 1, counted one DIMM at a time."""
    need = sweeps.capacity_margins(model, dimm_capacity_bytes=dimm_capacity_bytes, n_dimms=1,
                                   batch=1, prompt_len=prompt_len, gen_len=gen_len)
    return math.ceil(float(need["need_bytes"].iloc[0]) / dimm_capacity_bytes)


def capacity(fig14: pd.DataFrame, paper14: pd.DataFrame, models14: Mapping[str, ModelSpec],
             system: SystemSpec, *, dimm_counts: Sequence[int], prompt_len: int,
             gen_len: int) -> Capacity:
    """Where capacity runs out in Fig. 14, and LLaMA2-70B's margin at four DIMMs.

    Parameters
    ----------
    fig14 : DataFrame
        ``sweeps.dimm_sweep`` of `models14` (with OPT-30B, Falcon-40B and LLaMA2-70B).
    paper14 : DataFrame
        The paper's Fig. 14 (:func:`np_agreement`).
    models14 : mapping
        Slug → model, the models of Fig. 14 (LLaMA2-70B's margins are read).
    system : SystemSpec
        The paper's system (its DIMM's capacity).
    dimm_counts : sequence of int
        The counts swept.
    prompt_len, gen_len : int
        Tokens per sequence.

    Returns
    -------
    Capacity
        Its glue: ``min_dimms_falcon``, ``min_dimms_llama``, ``min_dimms_opt30`` (each
        :func:`first_supported_text` with the fewest DIMMs; and each with ``_sum``, without
        "among the counts swept", for the summary),
        ``fewest_dimms_txt``, :func:`np_agreement`'s, LLaMA2-70B's weights ``llama_w_gib``
        (GiB) and ``llama_w_gb`` (GB), and its shortfalls or margin at four DIMMs (%):
        ``llama_short_pct``, ``llama_noembed_kv_pct``, ``llama_noembed_pct``, ``llama_gb_pct``;
        the DIMM's capacity as the model takes it, ``dimm_cap_gib`` (GiB), the paper's figure
        it reads (``dimm_cap_paper``, e.g. ``"32 GB"``, from the catalog's source; ``""`` where
        it quotes none) and four DIMMs' pool, ``pool4_gib`` (GiB).
    """
    cap_bytes = system.dimm.capacity_bytes
    fewest = {s: fewest_dimms(m, cap_bytes, prompt_len=prompt_len, gen_len=gen_len)
              for s, m in models14.items()}
    cap = sweeps.capacity_margins(models14["llama2_70b"], dimm_capacity_bytes=cap_bytes,
                                  n_dimms=4, batch=1, prompt_len=prompt_len, gen_len=gen_len)
    table = pd.DataFrame({"reading": cap["reading"], "need (GiB)": cap["need_bytes"] / u.GiB,
                          "pool (GiB)": cap["pool_bytes"] / u.GiB,
                          "margin (%)": 100 * cap["margin_frac"], "fits": cap["fits"]})
    c = cap.set_index("reading")
    margin = c["margin_frac"]
    first = {  # the capacity paragraph's, and the summary's (which says "among the counts swept")
        f"min_dimms_{key}{end}": first_supported_text(
            fig14, slug, dimm_counts, " DIMMs" if key == "falcon" else "",
            fewest=fewest[slug], swept=not end)
        for key, slug in (("falcon", "falcon_40b"), ("llama", "llama2_70b"), ("opt30", "opt_30b"))
        for end in ("", "_sum")}
    glue: dict[str, object] = {
        **first,
        "fewest_dimms_txt": roofline.prose_list([f"{short_name(models14[s].name)} {n}"
                                                 for s, n in fewest.items()]),
        **np_agreement(fig14, paper14),
        "llama_w_gib": rounded(float(c.loc["weights only", "need_bytes"] / u.GiB), 5),
        "llama_w_gb": rounded(float(c.loc["weights only", "need_bytes"] / u.GB), 5),
        "llama_short_pct": rounded(float(-100 * margin["weights and KV cache (the model)"]), 2),
        "llama_noembed_kv_pct": rounded(float(
            -100 * margin["weights and KV cache without the input embedding"]), 2),
        "llama_noembed_pct": rounded(float(
            100 * margin["weights without the input embedding or the KV cache"]), 2),
        "llama_gb_pct": rounded(float(
            -100 * margin["weights and KV cache, 32 GB = 32e9 B per DIMM"]), 2),
        "dimm_cap_gib": rounded(cap_bytes / u.GiB, 4),
        "dimm_cap_paper": paper_quantity(system.dimm.sources.get("capacity_bytes", ""), "GB")
        or "",
        "pool4_gib": rounded(4 * cap_bytes / u.GiB, 4)}
    return Capacity(glue, fewest, cap, table.set_index("reading"))


def step_table(fig14: pd.DataFrame, slug: str, counts: Sequence[int]) -> pd.DataFrame:
    """`slug`'s run at each NDP-DIMM count of `counts` from the sweep `fig14`: tokens/s,
    prefill (s), the decode step (ms) and its Fig. 12 categories (ms)."""
    rows = []
    for n in counts:
        r = fig14[(fig14["model"] == slug) & (fig14["n_dimms"] == n)].iloc[0]
        rows.append({"NDP-DIMMs": n, "tokens/s": r["tokens_per_s"], "prefill (s)": r["prefill_s"],
                     "decode step (ms)": r["decode_step_s"] / u.MS,
                     **{f"{c} (ms)": r[f"step_{c}_s"] / u.MS for c in STEP_CATEGORIES}})
    return pd.DataFrame(rows)


def flat_gains(model: ModelSpec, activity: Activity | None, system_for: SystemFor, *,
               prompt_len: int, gen_len: int) -> dict[str, float]:
    """Hermes' gain from 8 to 16 DIMMs at batch 1 (%) with each unstated parameter alone at
    each end of its range: ``"name = value"`` → gain."""
    base = Assumptions(activity=activity)
    gains = {}
    for name, v in policies.reading_ends(policies.unstated_for("hermes", system_for()), base):
        t8, t16 = (_hermes(model, system_for(n_dimms=n), activity, batch=1,
                           prompt_len=prompt_len, gen_len=gen_len,
                           options=dataclasses.replace(base, **{name: v})).tokens_per_s
                   for n in (8, 16))
        gains[f"{name} = {v}"] = 100 * (t16 / t8 - 1)
    return gains


#: A gain from 8 to 16 DIMMs below this (%, either way) reads "does not change".
NO_CHANGE_PCT: Final = 0.5


def pct_text(p: float) -> str:
    """A percentage as the "flat" sentences print it: whole per cent from 1 % up, else two
    significant digits, so that a small change does not print as 0 %.

    >>> pct_text(12.3), pct_text(0.34), pct_text(-0.046)
    ('12 %', '0.34 %', '-0.046 %')
    """
    return f"{p:.0f} %" if abs(p) >= 0.95 else f"{p:.2g} %"


def flat_glue(change: float, gains: Mapping[str, float], *, like: bool = True,
              prefill_share: float = math.nan, fc_ms: tuple[float, float] = (math.nan, math.nan)
              ) -> dict[str, object]:
    """The "flat" sentences, judged by the scorecard's rule (``flat_10``: a change of at most
    :data:`~hermes_model.scorecard.FLAT_FRAC`), so that this chapter and the scorecard agree.

    Parameters
    ----------
    change : float
        Tokens/s at 16 DIMMs over 8, minus one (a fraction).
    gains : mapping
        :func:`flat_gains` (%), each unstated parameter alone at each end of its range.
    like : bool
        The run uses the paper's lengths (else the verdict is marked not like for like).
    prefill_share : float
        Prefill's share of the run at 8 DIMMs (a fraction): where the change is below
        :data:`NO_CHANGE_PCT`, the sentences say that prefill, which more DIMMs do not touch,
        takes that much of the run.
    fc_ms : (float, float)
        The step's FC part at 8 and 16 DIMMs (ms), named where the change is that small.

    Returns
    -------
    dict
        ``flat_holds`` (bool), ``flat_pct`` (the rule's %), ``flat_verdict_txt``,
        ``flat_why_txt``, ``flat_params_txt``, ``flat_close_txt`` and ``flat_summary_txt``
        (which ends the summary's sentence).
    """
    pct = round(100 * sc.FLAT_FRAC)
    flat = sc.holds_trend(change, 0.0, "flat_10")
    still = abs(100 * change) < NO_CHANGE_PCT  # the run does not change, the step still shortens
    gain = pct_text(100 * change)
    mark = "" if like else " (not like for like: other lengths than the paper's)"
    least = min(gains, key=gains.__getitem__)
    n_flat = sum(sc.holds_trend(g / 100, 0.0, "flat_10") for g in gains.values())
    rule = f'the {pct} % that this book and the scorecard allow for "about as fast"'
    params_txt = (
        "No unstated parameter flattens the curve on its own: with each alone at either end of "
        f"its range, the gain never falls below {pct_text(gains[least])} (at {least}), above the "
        f"{pct} % of \"flat\"." if not n_flat else
        f"With each unstated parameter alone at either end of its range, the gain falls as low "
        f"as {pct_text(gains[least])} (at {least}): {n_flat} of the {len(gains)} readings "
        f"{'keeps' if n_flat == 1 else 'keep'} it within the {pct} % of \"flat\".")
    share = f"{100 * prefill_share:.0f} %"
    because = (", because most active neurons stay on the DIMMs at batch 1: more DIMMs shorten "
               "their side, the split moves work off the GPU, and both blocks of each layer get "
               "shorter.")
    if still:
        verdict = (f"in the model its tokens/s does not change ({100 * change:+.2g} %), within "
                   f"{rule}, so by that rule the model reproduces \"flat\"" + mark)
        why = (f"The table shows why it does not: the step's FC part shortens "
               f"({fc_ms[0]:.1f} → {fc_ms[1]:.1f} ms), but prefill takes {share} of this run.")
        close = ("The run is \"flat\" here only because prefill, which more DIMMs do not touch, "
                 f"takes {share} of it: while the DIMMs hold most of the active neurons, more "
                 "DIMMs still shorten every block of the decode step.")
        summary = (f"the model agrees with the paper's \"flat\" LLaMA2-70B by the {pct} % "
                   f"rule{mark}: its tokens/s does not change from 8 to 16 DIMMs "
                   f"({100 * change:+.2g} %), because prefill, which more DIMMs do not shorten, "
                   f"takes {share} of this run; the decode step itself still shortens, since "
                   "most active neurons stay on the DIMMs at batch 1.")
    else:
        verdict = (f"in the model it gains {gain}, "
                   + (f"within {rule}, so by that rule the model reproduces \"flat\""
                      if flat else f"more than {rule}") + mark)
        why = "The table shows why it gains."
        close = (("The gain is small enough to count as \"flat\", but it is a gain: "
                  if flat else "The model does not reproduce \"flat\": ")
                 + "while the DIMMs hold most of the active neurons, more DIMMs shorten every "
                 "block.")
        summary = (f"the model agrees with the paper's \"flat\" LLaMA2-70B by the {pct} % "
                   f"rule{mark}, though it gains {gain} from 8 to 16 DIMMs" if flat else
                   f"the model disagrees with the paper's \"flat\" LLaMA2-70B (a change of at "
                   f"most {pct} %){mark}: it gains {gain} from 8 to 16 DIMMs") + because
    return {"flat_holds": flat, "flat_pct": pct, "flat_verdict_txt": verdict,
            "flat_why_txt": why, "flat_params_txt": params_txt, "flat_close_txt": close,
            "flat_summary_txt": summary}


@dataclass(frozen=True)
class EightVsSixteen:
    """LLaMA2-70B at 8 against 16 DIMMs (the paper's "flat").

    Attributes
    ----------
    glue : dict
        Glue key → value.
    table : DataFrame
        :func:`step_table` at the counts 8 and 16 that were swept.
    has_flat : bool
        Both counts were swept and run.
    change : float
        Tokens/s at 16 over 8, minus one (NaN without `has_flat`).
    h8, h16 : Estimate
        Hermes at 8 and 16 DIMMs, batch 1.
    gains : dict
        :func:`flat_gains`.
    bus : str
        The key of `gains` at the other end of per-DIMM bandwidth (``ranks_parallel``).
    """

    glue: dict[str, object]
    table: pd.DataFrame
    has_flat: bool
    change: float
    h8: Estimate
    h16: Estimate
    gains: dict[str, float]
    bus: str


def eight_vs_sixteen(fig14: pd.DataFrame, model: ModelSpec, activity: Activity | None,
                     system_for: SystemFor, *, dimm_counts: Sequence[int], prompt_len: int,
                     gen_len: int) -> EightVsSixteen:
    """Why `model` (LLaMA2-70B, ``llama2_70b`` in `fig14`) gains from 8 to 16 DIMMs.

    Parameters
    ----------
    fig14 : DataFrame
        ``sweeps.dimm_sweep`` at `dimm_counts` (which should include 8 and 16).
    model, activity :
        LLaMA2-70B and its activation statistics.
    system_for : callable
        The paper's system with keyword overrides (``n_dimms=``).
    dimm_counts : sequence of int
        The counts of `fig14`; without 8 and 16 the table is partial and the values read from
        it are 0 (see `EightVsSixteen.has_flat`).
    prompt_len, gen_len : int
        Tokens per sequence.
    """
    run = {"prompt_len": prompt_len, "gen_len": gen_len}
    flat = step_table(fig14, "llama2_70b", [n for n in (8, 16) if n in dimm_counts])
    has_flat = len(flat) == 2 and bool(flat["tokens/s"].notna().all())
    change = (float(flat["tokens/s"].iloc[1] / flat["tokens/s"].iloc[0] - 1) if has_flat
              else float("nan"))
    h = {n: _hermes(model, system_for(n_dimms=n), activity, batch=1, **run) for n in (8, 16)}
    comm = flat.set_index("NDP-DIMMs")["communication (ms)"]
    glue: dict[str, object] = {
        "flat_change_pct": rounded(100 * change, 3),
        "flat_fc_8": rounded(float(flat["fc (ms)"].iloc[0]), 3) if has_flat else 0.0,
        "flat_fc_16": rounded(float(flat["fc (ms)"].iloc[-1]), 3) if has_flat else 0.0,
        "flat_prefill": rounded(float(flat["prefill (s)"].iloc[0]), 3) if has_flat else 0.0,
        "llama_kv_heads": model.n_kv_heads,
        "llama_gpu_gb": rounded(h[8].details["gpu_resident_bytes"] / u.GB, 3),
        "llama_gpu_gib": rounded(h[8].details["gpu_resident_bytes"] / u.GiB, 3),
        "llama_total_gb": rounded(shapes.weight_bytes(model, "fp16") / u.GB, 3),
        "llama_total_gib": rounded(shapes.weight_bytes(model, "fp16") / u.GiB, 3),
        "llama_gpu_load_pct": rounded(100 * h[8].details["gpu_load_share"], 3),
        "llama_gpu_load_pct_16": rounded(100 * h[16].details["gpu_load_share"], 3)}
    for n in (8, 16):
        for blk in ("qkv", "mlp"):  # one layer's block, µs
            glue[f"flat_{blk}_{n}"] = rounded(h[n].details[f"{blk}_block_s"] / u.US, 3)
        glue[f"flat_comm_{n}"] = rounded(float(comm.loc[n]), 3) if has_flat else 0.0
    gains = flat_gains(model, activity, system_for, **run)
    least = min(gains, key=gains.__getitem__)
    bus = f"ranks_parallel = {not Assumptions().ranks_parallel}"  # the other end of its range
    dimm = system_for().dimm
    dimm_bw = {rp: float(dram.dimm_bandwidth_bytes_per_s(dimm, pattern="stream",
                                                         ranks_parallel=rp))
               for rp in (True, False)}
    share = (float(flat["prefill (s)"].iloc[0] / (flat["prefill (s)"].iloc[0] + gen_len
                                                   * flat["decode step (ms)"].iloc[0] * u.MS))
             if has_flat else math.nan)  # prefill's share of the run at 8 DIMMs
    glue |= flat_glue(change, gains, like=sc.paper_lengths(prompt_len, gen_len),
                      prefill_share=share, fc_ms=(float(glue["flat_fc_8"]),
                                                  float(glue["flat_fc_16"])))
    glue |= {"flat_gain_min": rounded(gains[least], 3), "flat_gain_min_at": least,
             "flat_gain_bus": rounded(gains[bus], 3), "flat_gain_bus_txt": pct_text(gains[bus]),
             "dimm_bw_parallel": rounded(dimm_bw[True] / u.GB, 3),
             "dimm_bw_bus": rounded(dimm_bw[False] / u.GB, 3), "dimm_ranks": dimm.n_ranks}
    return EightVsSixteen(glue, flat, has_flat, change, h[8], h[16], gains, bus)


# ----------------------------------------------------------------------------------- Fig. 15


def fig15_chart(fig15: pd.DataFrame, models: Mapping[str, ModelSpec],
                gpus: Mapping[str, GpuSpec]) -> alt.FacetChart:
    """Fig. 15 re-derived: Hermes' tokens/s per batch, one bar per GPU (slug → spec in `gpus`),
    one facet per model (slug → spec in `models`)."""
    frame = fig15.assign(series=fig15["gpu"].map({g: s.name for g, s in gpus.items()}),
                         model=fig15["model"].map({s: m.name for s, m in models.items()}))
    return plotting.model_vs_paper_chart(frame[["model", "batch", "series", "tokens_per_s"]],
                                         x="batch")


def fig15_table(speedups: pd.DataFrame, models: Mapping[str, ModelSpec],
                gpus: Mapping[str, GpuSpec]) -> pd.DataFrame:
    """``sweeps.gpu_speedups`` as a table: the 4090 over each other GPU (columns, by name) per
    model and batch, three decimals."""
    table = speedups.assign(model=speedups["model"].map({s: m.name for s, m in models.items()}))
    table = table.pivot_table(index=["model", "batch"], columns="over", values="speedup",
                              sort=False).rename(columns={g: s.name for g, s in gpus.items()})
    return plotting.formatted(table, dict.fromkeys(table.columns, ".3f")).rename_axis(
        columns="RTX 4090 over")


def unlike_why(*, like: bool = True, batches: Sequence[int] = PAPER15_BATCHES) -> str | None:
    """Why Fig. 15's comparison is not like for like (None: it is): other lengths than the
    paper's (`like` False), and `batches` other than the paper's 1, 4 and 16.

    >>> unlike_why(batches=[2, 32])
    "batches 2 and 32 instead of the paper's 1, 4 and 16"
    >>> unlike_why(like=False) is None, unlike_why()
    (False, None)
    """
    why = [] if like else ["other lengths than the paper's"]
    if tuple(batches) != PAPER15_BATCHES:
        why.append(f"{'batch' if len(batches) == 1 else 'batches'} "
                   f"{roofline.prose_list([str(b) for b in batches])} instead of the paper's "
                   f"{roofline.prose_list([str(b) for b in PAPER15_BATCHES])}")
    return "; ".join(why) or None


def fig15_means(speedups: pd.DataFrame, other_speedups: pd.DataFrame, paper15: pd.DataFrame, *,
                profile: str, tolerance_pct: float, like: bool = True,
                batches: Sequence[int] = PAPER15_BATCHES) -> dict[str, object]:
    """The 4090's mean speedups over the T4 and the 3090 against the paper's averages.

    Parameters
    ----------
    speedups : DataFrame
        ``sweeps.gpu_speedups`` under `profile`.
    other_speedups : DataFrame
        The same over the 3090 only, under the other profile.
    paper15 : DataFrame
        The paper's statements indexed by ``name`` (``rtx_4090_over_t4``,
        ``rtx_4090_over_rtx_3090``), column ``value``.
    profile : str
        ``paper`` or ``datasheet``.
    tolerance_pct : float
        Band on the error of ratio − 1 (``sweeps.ratio_error``, %) within which a mean agrees
        (the acceptance criterion, :data:`~hermes_model.scorecard.FIG15_ACCEPTANCE`).
    like : bool
        The run uses the paper's lengths (else the verdicts are marked not like for like).
    batches : sequence of int
        The batches of the means; other than the paper's 1, 4 and 16 (:data:`PAPER15_BATCHES`,
        over which its averages are taken), the verdicts are marked not like for like too.

    Returns
    -------
    dict
        ``tol15_pct``; per other GPU ``r15_<gpu>`` (the mean), ``_paper``, ``_err`` (%),
        ``_verdict``, ``_agrees``, ``_cell`` (the table's verdict, marked where not like for
        like) and ``_sum`` (the summary's, with the tolerance); ``m15_3090_<profile>`` for both
        profiles; ``r15_criteria_txt``, the scorecard's rule for the same means
        (:func:`criteria_text`).
    """
    other_profile = specs.other_profile(profile)
    why = unlike_why(like=like, batches=batches)
    glue: dict[str, object] = {"tol15_pct": tolerance_pct}
    judged = {}
    for other, key in (("t4", "rtx_4090_over_t4"), ("rtx_3090", "rtx_4090_over_rtx_3090")):
        mean = float(speedups.loc[speedups["over"] == other, "speedup"].mean())
        stated = float(paper15.loc[key, "value"])
        err = 100 * sweeps.ratio_error(mean, stated)
        within = abs(err) <= tolerance_pct
        verdict = "within" if within else "outside"
        judged[other] = (err, within, sc.verdict("number", "speedup_35", mean, stated)[0])
        glue |= {f"r15_{other}": rounded(mean, 4), f"r15_{other}_paper": stated,
                 f"r15_{other}_err": rounded(err, 3),
                 f"r15_{other}_verdict": verdict,
                 f"r15_{other}_cell": sc.unlike(verdict, why is None, why or ""),
                 f"r15_{other}_sum": f"{verdict} ± {tolerance_pct:g} %"
                 + ("" if why is None else f", not like for like: {why}"),
                 f"r15_{other}_agrees": ("agrees within the band" if within
                                         else "falls outside the band")}
    glue["r15_criteria_txt"] = criteria_text(judged, tolerance_pct=tolerance_pct)
    mean_3090 = {profile: float(speedups.loc[speedups["over"] == "rtx_3090", "speedup"].mean()),
                 other_profile: float(other_speedups["speedup"].mean())}
    glue |= {f"m15_3090_{p}": rounded(v, 4) for p, v in mean_3090.items()}
    return glue


#: How the Fig. 15 text names the mean over each other GPU.
MEAN_NAMES: Final = {"t4": "the T4's mean", "rtx_3090": "the 3090's mean"}


def criteria_text(judged: Mapping[str, tuple[float, bool, str]], *, tolerance_pct: float) -> str:
    """The scorecard's rule for Fig. 15's means beside this chapter's criterion.

    `judged` maps each other GPU (``t4``, ``rtx_3090``) to the error on ratio − 1 (%), whether
    it is within `tolerance_pct` (this chapter's acceptance criterion) and the scorecard's
    verdict under its rule ``speedup_35`` (``holds`` or ``fails``).

    >>> criteria_text({"t4": (26.7, False, "holds"), "rtx_3090": (-80.0, False, "fails")},
    ...               tolerance_pct=25)[:80]
    "By the scorecard's own rule for these rows, ± 35 % on ratio − 1, the T4's mean ("
    """
    tol_sc = round(100 * sc.TOLERANCES["speedup_35"])
    rule = f"By the scorecard's own rule for these rows, ± {tol_sc} % on ratio − 1, "
    differ = [(g, e, v) for g, (e, w, v) in judged.items() if (v == "holds") != w]
    if not differ:
        return rule + (f"the same means get the same verdicts as under the ± {tolerance_pct:g} % "
                       "this chapter takes as its acceptance criterion.")
    parts = [f"{MEAN_NAMES.get(g, g)} ({e:+.1f} %) {v}" for g, e, v in differ]
    inside = all(v == "holds" for _, _, v in differ)  # the scorecard's band is the wider one
    one = len(differ) == 1
    return rule + (f"{roofline.prose_list(parts)}, though {'it lies' if one else 'they lie'} "
                   f"{'outside' if inside else 'within'} this chapter's ± {tolerance_pct:g} %, "
                   "its acceptance criterion: the two chapters differ only in the tolerance.")


def gpu3090_text(*, mean: float, paper: float, tolerance_pct: float,
                 means_by_profile: Mapping[str, float], rd_min: float, rd_max: float,
                 bs_max: int, prompt_len: int, gen_len: int,
                 mean_paper_lengths: float | None = None) -> dict[str, object]:
    """The sentences on the 4090 over the 3090, from the verdict and the readings' range.

    Parameters
    ----------
    mean : float
        The model's mean ratio under the chapter's profile.
    paper : float
        The paper's 1.34.
    tolerance_pct : float
        The band on the error of ratio − 1 (%).
    means_by_profile : mapping
        Profile → the mean under it (the text names both).
    rd_min, rd_max : float
        The lowest and highest mean over the readings of the unstated parameters.
    bs_max : int
        The largest batch run.
    prompt_len, gen_len : int
        This run's lengths.
    mean_paper_lengths : float, optional
        The mean at the paper's lengths, where this run's differ.

    Returns
    -------
    dict
        ``r15_3090_reason_txt`` (after the largest single ratio), ``m15_both_txt`` (how far
        the two profiles' means are from the paper's), ``r15_rd_txt`` (after the readings'
        range) and ``r15_3090_summary_txt`` (the summary's clause).
    """
    def side(m: float) -> str:  # N.P. where the model cannot run a batch: no side at all
        if pd.isna(m):
            return sc.NP
        err = 100 * sc.speedup_error(m, paper)
        return "within" if abs(err) <= tolerance_pct else "below" if err < 0 else "above"

    where, like = side(mean), sc.paper_lengths(prompt_len, gen_len)
    if where == sc.NP:
        return _gpu3090_np(paper, bs_max)
    contains = rd_min <= paper <= rd_max
    lead = (f"The paper attributes its {paper:g}× to prefill and hot-neuron compute; in a "
            "roofline model of the same two GPUs the hot neurons' decode is memory-bound, ")
    lengths = ""
    if not like and mean_paper_lengths is not None:
        at_paper = side(mean_paper_lengths)
        lengths = (f" At the paper's {PAPER.prompt_len} prompt and {PAPER.gen_len} "
                   f"generated tokens the model cannot run the same sweep ({sc.NP})."
                   if at_paper == sc.NP else
                   f" At the paper's {PAPER.prompt_len} prompt and {PAPER.gen_len} "
                   f"generated tokens the same sweep gives {mean_paper_lengths:.3f}×, "
                   + (f"also {'within' if where == 'within' else 'outside'} the band."
                      if (at_paper == "within") == (where == "within") else
                      f"{'within' if at_paper == 'within' else 'outside'} the band: the "
                      f"difference comes from this run's lengths ({prompt_len} and {gen_len}), "
                      "which change how much of the run prefill is."))
    if where == "below":
        reason = (lead + f"and prefill is too small a part of the run at batch ≤ {bs_max} to "
                  "give more. A measured gap of that size would need something the roofline "
                  "leaves out (the 4090's much larger L2 cache, or its higher clocks on small "
                  "kernels), which the paper, which measured kernels with Nsight Compute, may "
                  "have captured.")
    else:
        reason = (lead + "so the model's lead comes from prefill, which here is a large enough "
                  f"part of the run at batch ≤ {bs_max} to give "
                  + ("the paper's ratio." if where == "within" else "more than the paper's."))
    ran = {p: m for p, m in means_by_profile.items() if not pd.isna(m)}
    ok = {p: side(m) == "within" for p, m in ran.items()}
    if len(ran) < len(means_by_profile):  # a profile whose mean is N.P. lies on no side
        stuck = roofline.prose_list([p for p in means_by_profile if p not in ran])
        both = f"{sc.NP} under the {stuck} profile"
    elif not any(ok.values()):
        both = f"both far from {paper:g}×"
    elif all(ok.values()):
        both = f"both within ± {tolerance_pct:g} % of {paper:g}×"
    else:
        both = (f"only the {next(p for p, v in ok.items() if v)} profile's within ± "
                f"{tolerance_pct:g} % of {paper:g}×")
    if pd.isna(rd_min) or pd.isna(rd_max):
        rd = f": {sc.NP} where the model cannot run a reading."
    elif contains:
        rd = (f", a range that contains {paper:g}×: the unstated parameters alone can move the "
              "mean to the paper's value, so "
              + ("the agreement rests on them as much as on the GPUs." if where == "within"
                 else "the gap may be a matter of what the paper leaves unsaid."))
    elif rd_max < paper:
        rd = (f": every reading stays below {paper:g}×, though the defaults' mean lies within "
              "the band." if where == "within" else
              ": no plausible value of what the paper leaves unsaid brings the 3090 within "
              f"reach of {paper:g}×. The gap is not a matter of the unstated parameters; it needs "
              "something the roofline leaves out, such as the cache and clock effects named "
              "above.")
    else:
        rd = (f": every reading stays above {paper:g}×"
              + (", though the defaults' mean lies within the band." if where == "within" else
                 ": no plausible value of what the paper leaves unsaid brings the model's lead "
                 "down to the paper's."))
    summary = {
        "below": (": a roofline of two GPUs with nearly the same memory system cannot produce the "
                  "paper's lead over the 3090 at these batch sizes" if not contains else
                  ": the defaults fall short of the paper's lead over the 3090, though some "
                  "readings of the unstated parameters reach it"),
        "within": ": the model reaches the paper's lead over the 3090",
        "above": ": the model's lead over the 3090 exceeds the paper's"}[where]
    if not like:
        summary += f" at this run's lengths, {prompt_len} and {gen_len} tokens" + (
            f" (at the paper's {PAPER.prompt_len} and {PAPER.gen_len} the mean is "
            + (sc.NP if pd.isna(mean_paper_lengths) else f"{mean_paper_lengths:.3f}×") + ")"
            if mean_paper_lengths is not None else "")
    return {"r15_3090_reason_txt": reason + lengths, "m15_both_txt": both, "r15_rd_txt": rd,
            "r15_3090_summary_txt": summary + "."}


def _gpu3090_np(paper: float, bs_max: int) -> dict[str, object]:
    """:func:`gpu3090_text`'s sentences where the model's mean is NaN (N.P.: the model cannot run
    a batch of the sweep on one of the two GPUs): the mean lies on no side of the paper's
    `paper`× (batches up to `bs_max`)."""
    return {"r15_3090_reason_txt": (f"The model cannot run every batch up to {bs_max} on both "
                                    f"GPUs ({sc.NP}), so it sets no mean beside the paper's "
                                    f"{paper:g}×."),
            "m15_both_txt": f"no mean to set beside {paper:g}× ({sc.NP})",
            "r15_rd_txt": f": the defaults' mean is {sc.NP}, so the readings take no side.",
            "r15_3090_summary_txt": (": the model cannot run the comparison with the paper's "
                                     f"lead over the 3090 ({sc.NP}).")}


#: A prefill within this factor of its batch-1 time is still limited by the PCIe stream.
STREAM_BOUND: Final = 1.02


def prefill_3090_text(grown: Mapping[str, bool], *, batch: int, prompt_len: int) -> str:
    """The sentence on the 3090's and the 4090's prefill, read at `batch`, the smallest swept.

    `grown` maps each model's name to whether its prefill at `batch` has outgrown batch 1's on
    either GPU (by more than :data:`STREAM_BOUND`), the prompt's compute outlasting the stream.

    >>> prefill_3090_text({"OPT-13B": False, "OPT-30B": False}, batch=1, prompt_len=128)[:60]
    'Prefill at 128 tokens per sequence is limited at batch 1 by '
    >>> t = prefill_3090_text({"OPT-13B": True, "OPT-30B": False}, batch=16, prompt_len=128)
    >>> "at batch 1, which this run does not sweep" in t, "stream for OPT-13B," in t
    (True, True)
    """
    head = f"Prefill at {prompt_len} tokens per sequence is limited "
    stream = "by streaming the cold weights over the same PCIe 4.0 link"
    out = [m for m, g in grown.items() if g]
    if not out:
        return (head + f"at batch {batch}" + " (the smallest swept)" * (batch != 1)
                + f" {stream}; as the batch grows the prompt's compute outgrows the stream (sooner for "
                "OPT-13B, of which less is streamed), and only there does the FP16 rate show.")
    return (head + f"{stream} at batch 1, which this run does not sweep; by batch {batch}, the "
            f"smallest it sweeps, the prompt's compute has outgrown the stream for "
            f"{roofline.prose_list(out)}, and there the FP16 rate shows.")


def prefill_3090(sweep: pd.DataFrame, models: Mapping[str, ModelSpec],
                 activities: Mapping[str, Activity], paper_system_for: SystemFor, *,
                 batches: Sequence[int], prompt_len: int, gen_len: int) -> str:
    """:func:`prefill_3090_text` for the 3090 and the 4090 of `sweep` (``sweeps.gpu_sweep``
    under the ``paper`` profile, which that paragraph reads), at the smallest of `batches`.

    Each model's prefill at that batch is set beside its prefill at batch 1 on the same GPU
    (`paper_system_for(gpu=...)`)."""
    b0 = min(batches)
    f = sweep.set_index(["gpu", "model", "batch"])["prefill_s"]
    grown = {}
    for slug, m in models.items():
        grown[m.name] = b0 != 1 and any(
            f[(g, slug, b0)] > STREAM_BOUND * _hermes(
                m, paper_system_for(gpu=g), activities[slug], batch=1, prompt_len=prompt_len,
                gen_len=gen_len).prefill_s for g in ("rtx_3090", "rtx_4090"))
    return prefill_3090_text(grown, batch=b0, prompt_len=prompt_len)


def mean_3090_at_paper_lengths(models: Mapping[str, ModelSpec],
                               activities: Mapping[str, Activity], system_for: SystemFor, *,
                               batches: Sequence[int]) -> float:
    """The 4090's mean speedup over the 3090 at `batches` with the paper's lengths (128 prompt
    and 128 generated tokens), for a run whose own lengths differ."""
    sw = sweeps.gpu_sweep(models, activities, system_for, gpus=("rtx_3090", "rtx_4090"),
                          batches=batches, prompt_len=PAPER.prompt_len,
                          gen_len=PAPER.gen_len)
    return float(sweeps.gpu_speedups(sw)["speedup"].mean())


def largest_3090_ratio(speedups: pd.DataFrame, other_speedups: pd.DataFrame,
                       models: Mapping[str, ModelSpec], *, profile: str
                       ) -> tuple[pd.DataFrame, dict[str, object]]:
    """The 4090 over the 3090 under the ``paper`` profile (which the text reads: `speedups`
    if `profile` is ``paper``, else `other_speedups`) and its largest point.

    Returns
    -------
    s3090 : DataFrame
        Those rows of ``sweeps.gpu_speedups``.
    glue : dict
        ``r15_3090_max`` and ``r15_3090_max_at`` (the model's name and the batch).
    """
    s3090 = speedups if profile == "paper" else other_speedups
    s3090 = s3090[s3090["over"] == "rtx_3090"]
    top = s3090.loc[s3090["speedup"].idxmax()]
    return s3090, {"r15_3090_max": rounded(float(top["speedup"]), 3),
                   "r15_3090_max_at": f"{models[top['model']].name} at batch {int(top['batch'])}"}


def gap_moves(ratio: pd.Series) -> list[list[Any]]:
    """How a ratio (by batch) moves from one batch to the next, alike moves merged.

    >>> gap_moves(pd.Series({1: 2.0, 4: 1.8, 8: 1.7, 16: 1.9}))
    [['narrows', 1, 8], ['widens', 8, 16]]
    """
    moves: list[list[Any]] = []
    for (b0, r0), (b1, r1) in itertools.pairwise(ratio.items()):
        w = "narrows" if r1 < r0 else "widens"
        if moves and moves[-1][0] == w:
            moves[-1][2] = b1
        else:
            moves.append([w, b0, b1])
    return moves


def prefill_s_at_batch_1(models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
                         system: SystemSpec, *, prompt_len: int, gen_len: int) -> pd.Series:
    """Hermes' prefill time (s) at batch 1 on `system` for each model (slug → s)."""
    return pd.Series({s: _hermes(m, system, activities[s], batch=1, prompt_len=prompt_len,
                                 gen_len=gen_len).prefill_s for s, m in models.items()})


@dataclass(frozen=True)
class T4Gap:
    """How the 4090's lead over the T4 moves with the batch, and why.

    Attributes
    ----------
    glue : dict
        ``t4_means_txt``, ``t4_trend_txt``, ``t4_dec_sentence_txt``, ``t4_pre_txt``.
    t4 : Series
        The 4090's speedup over the T4 by batch, mean over the models.
    f15 : DataFrame
        The sweep indexed by GPU, model and batch.
    t4_pre : Series
        Prefill (s) by GPU and batch, mean over the models.
    t4_flat : list of int
        The batches at which the T4's prefill stays within 2 % of batch 1's for every model
        (limited by streaming the cold weights).
    only : list of str
        The models (by name) whose T4 prefill has grown beyond that at the last batch.
    prev, last : int
        The last two batches (the same when one batch was run).
    behind, narrow, widen : bool
        The T4 is further behind in prefill than in decode everywhere; the gap narrows over
        `t4_flat`; the T4's prefill falls further behind from `prev` to `last` and widens it.
    moves : list
        :func:`gap_moves` of `t4`.
    """

    glue: dict[str, object]
    t4: pd.Series
    f15: pd.DataFrame
    t4_pre: pd.Series
    t4_flat: list[int]
    only: list[str]
    prev: int
    last: int
    behind: bool
    narrow: bool
    widen: bool
    moves: list[list[Any]]


def _prefill_clauses(g: T4Gap, *, n_models: int, t4_flop_per_s: float) -> str:
    """The text of ``t4_pre_txt`` from the facts of `g` (without its glue)."""
    pre_s = {k: f"{rounded(float(v), 3):.2f} s" for k, v in g.t4_pre.items()}
    stream = ((f"Up to batch {g.t4_flat[-1]}" if len(g.t4_flat) > 1
               else f"At batch {g.t4_flat[0]}")
              + " the T4's prefill is limited by streaming the cold weights over its PCIe 3.0 link"
              + " and takes about as long as at batch 1" * (g.t4_flat[-1] != 1)
              + ", so it weighs less as decode grows" * (len(g.t4_flat) > 1)
              + " and the gap narrows further" * g.narrow) if g.t4_flat else ""
    compute = (f"{'at' if stream else 'At'} batch {g.last}"
               + f", for {roofline.prose_list(g.only)} only," * (len(g.only) < n_models)
               + " the prompt's compute takes longer than the stream on the T4's "
               f"{rounded(t4_flop_per_s / u.TFLOP, 4):.4g} TFLOPS") if g.only else ""
    if g.only and g.prev != g.last:
        compute += (", and " + ("its" if len(g.only) == n_models else "the T4's")
                    + f" prefill grows from {pre_s[('t4', g.prev)]}"
                    + f" at batch {g.prev}" * (g.prev not in g.t4_flat[-1:])
                    + f" to {pre_s[('t4', g.last)]}"
                    + f" (mean of the {u.count_words(n_models)} models) against the 4090's "
                    f"{pre_s[('rtx_4090', g.prev)]} to {pre_s[('rtx_4090', g.last)]}, "
                    + ("enough to widen the gap" + " again" * (g.moves[0][0] == "narrows")
                       if g.widen else "and the gap widens" if g.moves[-1][0] == "widens"
                       else "not enough to widen the gap"))
    lead = ("Prefill, where the T4 is furthest behind, moves it both ways. "
            if g.behind and g.narrow and g.widen else
            "Prefill is where the T4 is furthest behind. " if g.behind else "")
    return lead + "; ".join(p for p in (stream, compute) if p) + "."


def t4_gap(fig15: pd.DataFrame, speedups: pd.DataFrame, t4_prefill_1: pd.Series,
           models15: Mapping[str, ModelSpec], *, batches: Sequence[int],
           t4_flop_per_s: float) -> T4Gap:
    """The 4090 against the T4 by batch: the gap's trend, decode's and prefill's part in it.

    Parameters
    ----------
    fig15 : DataFrame
        ``sweeps.gpu_sweep`` with the GPUs ``t4`` and ``rtx_4090`` at `batches`.
    speedups : DataFrame
        ``sweeps.gpu_speedups`` of `fig15`.
    t4_prefill_1 : Series
        The T4's prefill at batch 1 (s) per model (:func:`prefill_s_at_batch_1`).
    models15 : mapping
        The models of `fig15` (slug → spec).
    batches : sequence of int
        The batches of `fig15`, in order.
    t4_flop_per_s : float
        The T4's fp16 rate (FLOP/s).
    """
    t4 = speedups[speedups["over"] == "t4"].groupby("batch")["speedup"].mean()
    f15 = fig15.set_index(["gpu", "model", "batch"]).sort_index()
    dec = f15.loc["t4", "decode_step_s"] / f15.loc["rtx_4090", "decode_step_s"]
    t4_dec = dec.groupby("batch").mean()
    t4_pre = f15["prefill_s"].groupby(["gpu", "batch"]).mean()  # mean over the models, s
    moves, dec_moves = gap_moves(t4), gap_moves(t4_dec)
    dec_words = (f"{dec_moves[0][0]} it" + " steadily" * (len(t4_dec) > 2)
                 if len(dec_moves) == 1 else
                 roofline.prose_list([f"{w} it from batch {a} to {b}" for w, a, b in dec_moves]))
    # the T4's prefill is limited by the stream while it stays within 2 % of batch 1's for
    # every model (the first batches); beyond, the prompt's compute outlasts the stream
    grown = f15.loc["t4", "prefill_s"].unstack("model") > 1.02 * t4_prefill_1
    t4_flat = [b for b in batches if not grown.loc[b].any()]
    prev, last = batches[max(len(batches) - 2, 0)], batches[-1]
    only = [models15[s].name for s in models15 if grown.loc[last, s]]
    pre_ratio = t4_pre["t4"] / t4_pre["rtx_4090"]
    behind = bool((f15.loc["t4", "prefill_s"] / f15.loc["rtx_4090", "prefill_s"] > dec).all())
    narrow = len(t4_flat) > 1 and all(t4[b1] < t4[b0] for b0, b1 in itertools.pairwise(t4_flat))
    widen = (bool(only) and prev != last and moves[-1][0] == "widens"
             and pre_ratio[last] > pre_ratio[prev])  # the T4's prefill falls further behind
    glue: dict[str, object] = {
        "t4_means_txt": roofline.prose_list([f"{v:.2f}× at batch {b}" for b, v in t4.items()]),
        "t4_trend_txt": roofline.prose_list([f"{w} from batch {a} to {b}" for w, a, b in moves])
        or "is measured at one batch only",
        "t4_dec_sentence_txt": (f"Decode {dec_words}: the" if dec_moves else "The")
        + " T4's decode step takes "
        f"{roofline.prose_list([f'{v:.2f}×' for v in t4_dec])} as long as the 4090's."}
    g = T4Gap(glue, t4, f15, t4_pre, t4_flat, only, prev, last, behind, narrow, widen, moves)
    glue["t4_pre_txt"] = _prefill_clauses(g, n_models=len(models15), t4_flop_per_s=t4_flop_per_s)
    return g


def fig15_facts(gpus: Mapping[str, Mapping[str, GpuSpec]], *, profile: str,
                batches: Sequence[int], n_models: int, t4_link: str) -> dict[str, object]:
    """Glue values of Fig. 15's set-up: the GPUs' specs and the batches run.

    Parameters
    ----------
    gpus : mapping
        Profile (``paper``, ``datasheet``) → GPU slug → spec, for the GPUs of Fig. 15.
    profile : str
        The chapter's profile (whose specs the text gives).
    batches : sequence of int
        The batches run.
    n_models : int
        The models run.
    t4_link : str
        The name of the T4's host link.

    Returns
    -------
    dict
        ``bs15_max``, ``n15_points``, ``fig15_batches_txt``, ``fig15_runs_txt``, ``t4_link``,
        ``<gpu>_mem`` (GiB), ``<gpu>_bw`` (GB/s), ``<gpu>_tflops`` (TFLOP/s), and
        ``bw_3090_<profile>``, ``bw_4090_<profile>`` (GB/s) under both profiles.
    """
    b15 = [str(b) for b in batches]
    glue: dict[str, object] = {
        "bs15_max": max(batches), "n15_points": n_models * len(batches),
        "fig15_batches_txt": roofline.prose_list(b15),
        "fig15_runs_txt": "at batch 1, 4 and 16 with three GPUs" + (
            "" if tuple(batches) == PAPER15_BATCHES else
            f"; this chapter runs batch {roofline.prose_list(b15)}"),
        "t4_link": t4_link}
    for g, spec in gpus[profile].items():
        glue |= {f"{g}_mem": rounded(spec.memory_bytes / u.GiB, 3),
                 f"{g}_bw": rounded(spec.memory_bandwidth_bytes_per_s / u.GB, 4),
                 f"{g}_tflops": rounded(spec.fp16_flop_per_s / u.TFLOP, 4)}
    for p in ("paper", "datasheet"):
        for n, g in (("3090", "rtx_3090"), ("4090", "rtx_4090")):
            glue[f"bw_{n}_{p}"] = rounded(gpus[p][g].memory_bandwidth_bytes_per_s / u.GB, 4)
    return glue


def readings_glue(readings: pd.DataFrame) -> dict[str, object]:
    """Glue values of ``sweeps.gpu_ratio_by_reading``: the lowest and highest mean, the reading
    of the highest, and how many one-at-a-time and corner readings were run."""
    top = readings.loc[readings["speedup"].idxmax()]
    combined = ("raising ends together", "corner")
    one_at_a_time = ~readings["parameter"].isin(["defaults", *combined])
    return {"r15_rd_min": rounded(float(readings["speedup"].min()), 4),
            "r15_rd_max": rounded(float(top["speedup"]), 4),
            "r15_rd_top": (top["parameter"] if top["parameter"] in combined
                           else f"{top['parameter']} = {top['value']}"),
            "r15_rd_n": int(one_at_a_time.sum()),
            "r15_rd_ncorner": int((readings["parameter"] == "corner").sum())}


# ------------------------------------------------------------------------ unstated parameters


def unstated_table() -> pd.DataFrame:
    """:data:`policies.UNSTATED` as a table by parameter: default, the ends of its range, the
    systems that read it and why the range."""
    return pd.DataFrame([{"parameter": p.name, "default": str(p.default),
                          "low end": str(p.low), "high end": str(p.high),
                          "read by": ", ".join(SYSTEM_NAMES[str(q)] for q in p.policies),
                          "why this range": p.reason}
                         for p in policies.UNSTATED]).set_index("parameter")


def bands_chart(bands: pd.DataFrame, models: Mapping[str, ModelSpec]) -> alt.FacetChart:
    """Hermes' bars of `bands` (``sweeps.band_sweep``) as bands beside the paper's values: a
    panel for batch 1 and one for larger batches, bars labelled by model (and batch)."""
    hb = bands[bands["policy"] == "hermes"].copy()
    short = hb["model"].map({s: short_name(m.name) for s, m in models.items()})
    hb["panel"] = np.where(hb["batch"] == 1, "batch 1 (Figs. 9–11)", "batches 2–16 (Fig. 11)")
    hb["label"] = np.where(hb["batch"] == 1, short, short + ", batch " + hb["batch"].astype(str))
    hb = hb.sort_values(["batch", "model"], kind="stable")
    # upright labels: the right panel's twelve do not collide
    return plotting.band_chart(hb[["panel", "label", "low", "high", "default", "paper"]], sig=5,
                               label_angle=-90, label_limit=200)


@dataclass(frozen=True)
class BandSummary:
    """How many paper values fall inside their bands.

    Attributes
    ----------
    glue : dict
        Glue key → value.
    table : DataFrame
        By system (display name): ``bars``, ``paper inside the band``, ``median band width
        (high / low)``.
    head : DataFrame
        The band of the headline bar: Hermes on LLaMA2-70B at batch 1.
    """

    glue: dict[str, object]
    table: pd.DataFrame
    head: pd.DataFrame


def band_summary(bands: pd.DataFrame, bars: pd.DataFrame, fig11: pd.DataFrame) -> BandSummary:
    """The paper's values against the model's bands.

    Parameters
    ----------
    bands : DataFrame
        ``sweeps.band_sweep``'s bands of `bars`, with the paper's value in ``paper``.
    bars : DataFrame
        The distinct bars of Figs. 9–11.
    fig11 : DataFrame
        The paper's Fig. 11 (its Hermes bars are counted).
    """
    ok = bands[bands["default"].notna() & bands["paper"].notna()].copy()
    ok["inside"] = (ok["low"] <= ok["paper"]) & (ok["paper"] <= ok["high"])
    ok["width"] = ok["high"] / ok["low"]
    inside = ok.groupby("policy").agg(bars=("inside", "size"), paper_inside_band=("inside", "sum"),
                                      median_width=("width", "median"))
    h_ok = ok[ok["policy"] == "hermes"]
    head = bands[(bands["policy"] == "hermes") & (bands["model"] == "llama2_70b")
                 & (bands["batch"] == 1)]
    n_fig11 = int((fig11["policy"] == "hermes").sum())
    n_hermes = int((bars["policy"] == "hermes").sum())
    glue: dict[str, object] = {
        "n_inside_all": int(ok["inside"].sum()), "n_bars_all": len(ok),
        "n_inside_hermes": int(h_ok["inside"].sum()), "n_bars_hermes": len(h_ok),
        "n_hermes_distinct": n_hermes, "n_fig11_hermes": n_fig11,
        "n_extra_hermes": n_hermes - n_fig11, "head_paper": float(head["paper"].iloc[0]),
        "head_low": rounded(float(head["low"].iloc[0]), 3),
        "head_high": rounded(float(head["high"].iloc[0]), 3),
        "head_default": rounded(float(head["default"].iloc[0]), 3),
        "head_where_txt": band_side(float(head["paper"].iloc[0]), float(head["low"].iloc[0]),
                                    float(head["high"].iloc[0])),
        "head_band_txt": band_text(float(head["low"].iloc[0]), float(head["high"].iloc[0]),
                                   float(head["default"].iloc[0]))}
    table = inside.rename(index=SYSTEM_NAMES).rename_axis("system").rename(columns=INSIDE_COLUMNS)
    return BandSummary(glue, table, head)


def sig_text(x: float, sig: int = 3) -> str:
    """`x` at `sig` significant digits, positional, trailing zeros kept; N.P. for NaN.

    >>> sig_text(4.1234), sig_text(19.796), sig_text(0.2013), sig_text(1234.6), sig_text(8.0)
    ('4.12', '19.8', '0.201', '1,235', '8.00')
    """
    if pd.isna(x):
        return sc.NP
    if x == 0:
        return "0"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(rounded(x, sig)))))
    return f"{x:,.{decimals}f}"


def band_text(low: float, high: float, default: float) -> str:
    """The band and the model's default in the text's words, three significant digits each
    (tokens/s of one generated token can be a fraction of one).

    >>> band_text(4.1234, 9.876, 8.43), band_text(0.2012, 0.2049, 0.2031)
    ("4.12–9.88 tokens/s around the model's 8.43", "0.201–0.205 tokens/s around the model's 0.203")
    """
    return f"{sig_text(low)}–{sig_text(high)} tokens/s around the model's {sig_text(default)}"


def band_side(value: float, low: float, high: float) -> str:
    """Where `value` lies against the band [`low`, `high`]: ``"lies in"``, ``"lies above"``
    or ``"lies below"`` (the text continues "a band of ..."); where any of the three is NaN
    (the model cannot run the bar), a clause with N.P. that takes no side.

    >>> band_side(13.75, 4.2, 9.9), band_side(5.0, 4.2, 9.9)
    ('lies above', 'lies in')
    """
    if pd.isna(value) or pd.isna(low) or pd.isna(high):
        return f"cannot be set ({sc.NP}) against"
    return "lies in" if low <= value <= high else "lies above" if value > high else "lies below"


def tornado(one_at_a_time: pd.DataFrame) -> alt.FacetChart:
    """The tornado chart of ``sweeps.band_sweep``'s one-at-a-time rows, a panel per batch."""
    toat = one_at_a_time.assign(panel="batch " + one_at_a_time["batch"].astype(str))
    chart = plotting.tornado_chart(toat[["panel", "parameter", "end", "change_frac"]])
    chart.spec.layer[0].encoding.x.title = ["change of tokens/s", "from the default (%)"]
    return chart.properties(spacing=24)


def about(name: str) -> str:
    """An unstated parameter's name with a few words on what it is (its label).

    >>> about("ranks_parallel")
    'ranks_parallel (per-DIMM bandwidth: the ranks read in parallel or over one bus)'
    """
    label = {p.name: p.label for p in policies.UNSTATED}
    return f"{name} ({label[name]})" if name in label else name


def ranking_glue(rank: pd.DataFrame, rank_all: pd.DataFrame, tornado_oat: pd.DataFrame, *,
                 profile: str, batches: Sequence[int]) -> dict[str, object]:
    """Glue values of which unknown matters most.

    Parameters
    ----------
    rank, rank_all : DataFrame
        ``sweeps.influence`` over Hermes' bars and over every system's.
    tornado_oat : DataFrame
        The tornado's one-at-a-time rows (``sweeps.band_sweep``) at `batches`.
    profile : str
        ``paper`` or ``datasheet`` (under the datasheet profile the PCIe reading is not varied).
    batches : sequence of int
        The tornado's batches (its first and last are named).
    """
    swing = tornado_oat.assign(s=tornado_oat["change_frac"].abs()).groupby(
        ["batch", "parameter"])["s"].max()
    tb0, tb1 = batches[0], batches[-1]
    return {
        "top_param": about(rank.iloc[0]["parameter"]),
        "top_factor": rounded(float(rank.iloc[0]["max_factor"]), 3),
        "second_param": about(rank.iloc[1]["parameter"]),
        "top_param_all": about(rank_all.iloc[0]["parameter"]),
        "largest_param": about(rank.sort_values("max_spread").iloc[-1]["parameter"]),
        "largest_factor": rounded(float(rank["max_factor"].max()), 3),
        # what moves Hermes' bars most at small batches (the PCIe reading is varied only under
        # the paper profile; under the datasheet one prefill's re-streaming of the resident
        # weights takes its place)
        "tornado_small_txt": ("the step is a matter of bytes (per-DIMM bandwidth and the PCIe "
                              "reading)" if profile == "paper" else
                              "the run is a matter of bytes (per-DIMM bandwidth, and whether "
                              "prefill re-streams the GPU's resident weights over PCIe)"),
        "tornado_top_txt": f"In the tornado the largest swing at batch {tb0} comes from "
        f"{about(swing[tb0].idxmax())}"
        + (f", and at batch {tb1} from {about(swing[tb1].idxmax())}" if tb1 != tb0 else "")
        + "."}
