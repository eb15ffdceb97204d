"""The numbers and sentences of the Scheduling chapter: imbalance, remapping, the Fig. 13 ablation.

The chapter replays generated activity with `hermes_model.scheduling`; the functions here turn
its results, and the paper's tables (`hermes_model.io.load_scheduling_table`), into the chapter's
glue values (key → the value as the text prints it) and tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model import ndp, params, policies
from hermes_model import units as u
from hermes_model.chapters.predictor import input_origins, kinds_phrase
from hermes_model.plotting import rounded
from hermes_model.scheduling import (
    CaseSetup,
    Imbalance,
    MigrationCost,
    batch_divisors,
    migration_text,
)
from hermes_model.scorecard import short_name
from hermes_model.shapes import ModelSpec
from hermes_model.sparsity import ModelTargets
from hermes_model.specs import DimmSpec, LinkSpec

#: The models and batch sizes of the paper's Fig. 13, in the order `scripts/make_fig13.py` seeds
#: its random streams with.
FIG13_MODELS: Final = ("llama2_13b", "llama2_70b")
FIG13_BATCHES: Final = (1, 4, 16)
#: The ablation's three "adjustment over partition" ratios: the token half, the layer half and
#: both (glue key prefix → ratio of ``paper_fig13``).
HALVES: Final = {"token": "token_only_vs_partition", "layer": "layer_only_vs_partition",
                 "adj": "adjustment_vs_partition"}


def batch_parameter(batch: object, n_sequences: int) -> int:
    """The `batch` parameter: a positive integer that divides `n_sequences`.

    Raises
    ------
    ValueError
        Naming the batch sizes that divide `n_sequences`.
    """
    batch = params.positive_int(batch, "batch")
    if n_sequences % batch:
        raise ValueError(f"parameter 'batch': must divide n_sequences ({n_sequences}), one of "
                         f"{', '.join(map(str, batch_divisors(n_sequences)))}; got {batch}")
    return batch


def fig13_stream(model_slug: str, batch: int, seed: int) -> tuple[bool, np.random.Generator]:
    """The random stream of `scripts/make_fig13.py` for a model and batch.

    Returns
    -------
    fig13_case : bool
        Whether the model and batch are a case of Fig. 13.
    rng : numpy.random.Generator
        Seeded with ``[seed, batch index, model index]`` for a case of Fig. 13 (the script's
        stream), else with `seed` alone.
    """
    fig13_case = model_slug in FIG13_MODELS and batch in FIG13_BATCHES
    return fig13_case, np.random.default_rng(
        [seed, FIG13_BATCHES.index(batch), FIG13_MODELS.index(model_slug)]
        if fig13_case else seed)


def model_glue(model: ModelSpec, targets: ModelTargets, names: Mapping[str, str],
               batch: int) -> dict[str, object]:
    """The glue values that name the replayed model and its generator inputs.

    Parameters
    ----------
    model : ModelSpec
    targets : sparsity.ModelTargets
        Its generator targets (`hermes_model.cli.sparsity_targets`, ReLU variant).
    names : mapping
        Catalog slug → model name, for the models an input is borrowed from.
    batch : int
        Sequences decoded together.

    Returns
    -------
    dict
        ``model_short`` (its short name), ``opening`` (`opening_sentence`), ``stat_form`` ("native ReLU" for a model whose
        checkpoint is ReLU, else "ReLU-fied"), ``gen_kinds`` (the kinds of its generator inputs,
        `predictor.kinds_phrase`), ``neuron_slices`` (`neuron_slices`), ``batch_n`` and
        ``cost_unit`` (the sentence on what the move costs are per).
    """
    return {"model_short": short_name(model.name),
            "opening": opening_sentence(short_name(model.name),
                                        [short_name(names[m]) for m in FIG13_MODELS]),
            "stat_form": "native ReLU" if model.native_activation == "relu" else "ReLU-fied",
            "gen_kinds": kinds_phrase(input_origins(targets, names)),
            "neuron_slices": neuron_slices(model.gated_mlp), "batch_n": batch,
            "cost_unit": ("Costs are per generated token (at batch 1, one decode step)."
                          if batch == 1 else "Costs are per generated token: a decode step's "
                          f"cost over the {batch} tokens it generates, one per sequence.")}


def opening_sentence(model_short: str, ablation_shorts: Sequence[str]) -> str:
    """The overview's sentence on what the chapter replays: the chosen model's series where it
    is a LLaMA2 model, like the ablation's `ablation_shorts`, else the model itself, with the
    ablation's models named.

    >>> opening_sentence("LLaMA2-7B", ["LLaMA2-13B", "LLaMA2-70B"])[:50]
    'This chapter replays generated LLaMA2 activity ove'
    >>> opening_sentence("OPT-66B", ["LLaMA2-13B", "LLaMA2-70B"])[-61:]
    '(Fig. 13), which the paper runs on LLaMA2-13B and LLaMA2-70B.'
    """
    series = model_short.split("-")[0]
    tail = ("over static and remapped placements and then re-derives the paper's ablation of its "
            "three mechanisms (Fig. 13)")
    if all(a.split("-")[0] == series for a in ablation_shorts):
        return f"This chapter replays generated {series} activity {tail}."
    return (f"This chapter replays generated {model_short} activity {tail}, which the paper runs "
            f"on {' and '.join(ablation_shorts)}.")


def spread_text(p95: float, n_dimms: int) -> str:
    """The end of the paragraph on static placements: the 95th percentile of a layer's window
    imbalance (`p95`), and why a placement balanced on expected load is not balanced on realised
    load; with one DIMM, that there is nothing to balance.

    >>> spread_text(1.0, 1)
    'with one DIMM every placement is the same and every imbalance is 1.'
    """
    if n_dimms == 1:
        return "with one DIMM every placement is the same and every imbalance is 1."
    return (f"one layer in twenty exceeds {p95:.3f} in a window. A placement balanced on expected "
            "load cannot be balanced on realised load: each DIMM's count is a sum of "
            "independent-ish firings, whose relative spread shrinks only as one over the square "
            "root of the count, plus the slower drift of which neurons a sequence engages.")


def static_glue(case: CaseSetup, static: Mapping[str, Imbalance],
                n_dimms: int) -> dict[str, object]:
    """The glue values of the paragraph on static placements.

    Parameters
    ----------
    case : CaseSetup
        The replayed case (`scheduling.make_case`): ``hot0`` and ``decode`` (layer × neuron and
        step × layer × neuron booleans).
    static : mapping
        Placement name → its imbalance without remapping; needs ``balanced`` and ``random``.
    n_dimms : int
        NDP-DIMMs, count.

    Returns
    -------
    dict
        ``gpu_neuron_pct`` (% of MLP neurons on the GPU), ``cold_per_dimm`` (cold neurons placed
        per layer and DIMM), ``cold_active_per_dimm`` (active cold neurons per layer, step and
        DIMM), and ``static_win``, ``static_tok``, ``static_p95``,
        ``random_win``, ``random_p95`` (imbalances to four digits).
    """
    cold = case.decode & ~case.hot0
    bal, rnd = static["balanced"], static["random"]
    return {"gpu_neuron_pct": rounded(100 * case.hot0.mean()),
            "cold_per_dimm": rounded((~case.hot0).sum(axis=-1).mean() / n_dimms),
            "cold_active_per_dimm": rounded(cold.sum(axis=-1).mean() / n_dimms),
            "static_win": rounded(bal.window, 4),
            "static_tok": rounded(bal.per_token, 4),
            "static_p95": rounded(bal.layer_window_percentiles((95,))[0], 4),
            "random_win": rounded(rnd.window, 4),
            "random_p95": rounded(rnd.layer_window_percentiles((95,))[0], 4)}


def window_series(imb: Mapping[str, Imbalance], window_tokens: int) -> pd.DataFrame:
    """The window imbalance of each window, mean over the batches, for each schedule.

    Returns
    -------
    pandas.DataFrame
        ``curve`` (the schedule), ``x`` (first generated token of the window) and ``y`` (the
        mean window imbalance, ×), for `plotting.curves_chart`.
    """
    series = pd.concat([pd.DataFrame({"curve": k, "x": np.arange(v.window_by_window.shape[1]),
                                      "y": np.nanmean(v.window_by_window, axis=0)})
                        for k, v in imb.items()], ignore_index=True)
    series["x"] = series["x"] * window_tokens
    return series


def paper_imbalance(paper: pd.DataFrame) -> tuple[dict[str, object], pd.DataFrame]:
    """The paper's imbalance claims as glue values and as the chart's reference rules.

    Parameters
    ----------
    paper : pandas.DataFrame
        ``paper_imbalance`` indexed by ``claim``: ``static_imbalance`` (``value_low`` and
        ``value_high``, ×) and ``window_optimal_variance`` (``value_high``, a fraction).

    Returns
    -------
    glue : dict
        ``paper_static_lo``, ``paper_static_hi`` and ``paper_window_pct`` (%).
    reference : pandas.DataFrame
        ``y`` and ``label``: the low end of the static imbalance, and 1 + the window bound.
    """
    static_lo, static_hi = paper.loc["static_imbalance", ["value_low", "value_high"]]
    window_hi = paper.loc["window_optimal_variance", "value_high"]
    glue = {"paper_static_lo": static_lo, "paper_static_hi": static_hi,
            "paper_window_pct": rounded(100 * window_hi)}
    ref = pd.DataFrame({"y": [static_lo, 1 + window_hi],
                        "label": [f"paper: fixed mapping, low end ({static_lo:g}×)",
                                  f"paper: window-optimal, {1 + window_hi:g}"]})
    return glue, ref


def static_against_paper(g: Mapping[str, Any], paper_lo: float, paper_hi: float,
                         n_dimms: int) -> str:
    """Where the static placements' imbalance lies against the paper's `paper_lo`–`paper_hi`×,
    and what explains it, from the numbers: *below* when even the 95th percentile of a layer's
    window imbalance (balanced and random) is under `paper_lo`; *in its tail* when only the
    balanced placement's percentile reaches it; *only in a random placement's tail* when the
    random placement's alone does; *inside* (or *above*) when the balanced placement's step-by-step
    imbalance does. With many active cold neurons per DIMM, equal counts average the frequencies
    out; with few, a count's own spread (about one over its square root) already reaches the
    paper's range, whatever the placement.

    Parameters
    ----------
    g : mapping
        `static_glue`'s values: ``static_tok``, ``static_p95``, ``random_p95``,
        ``cold_per_dimm`` and ``cold_active_per_dimm``.
    paper_lo, paper_hi : float
        The paper's static imbalance range, ×.
    n_dimms : int
        NDP-DIMMs, count.
    """
    tok, p95, rp95 = g["static_tok"], g["static_p95"], g["random_p95"]
    placed, active = g["cold_per_dimm"], g["cold_active_per_dimm"]
    rng_ = f"{paper_lo:g}–{paper_hi:g}×"
    pct = (f"the 95th percentile of a layer's window imbalance is {p95:.3f} for the balanced "
           f"placement and {rp95:.3f} for a random one")
    counts = (f"each DIMM holds about {placed:,.0f} cold neurons of a layer, of which about "
              f"{active:.0f} fire per step")
    if n_dimms == 1:
        return (f"With one DIMM there is no static imbalance to compare with the paper's {rng_}.")
    if max(tok, p95, rp95) < paper_lo:
        return (f"The static imbalance, on the other hand, stays below the paper's {rng_}: even "
                f"{pct}. Three things may explain the gap. The paper does not say how its fixed "
                f"placement was made; {counts}, so any placement with equal counts, random "
                f"included, averages the frequencies out, and a {paper_lo:g}× spread needs a "
                "placement that groups frequent neurons on purpose (by index, for example) or "
                "far fewer neurons per DIMM. The generator's per-sequence drift is fitted to the "
                "paper's own similarity curve (Fig. 4a) and nothing more; real traces with topic "
                "shifts inside a sequence would drift further and leave more for a remap to do. "
                f"And the paper's {paper_hi:g}× may be the worst layer of the worst window, where "
                "this chapter reports means and percentiles.")
    spread = 1 / np.sqrt(active) if active > 0 else float("inf")
    if tok < paper_lo and p95 < paper_lo:  # only a random placement's tail reaches paper_lo
        return (f"The static imbalance, on the other hand, reaches the low end of the paper's "
                f"{rng_} only in a random placement's tail: step by step the balanced placement "
                f"leaves I_tok = {tok:.3f}, and {pct}. Here {counts}: a count that small spreads "
                f"by about one over its square root ({100 * spread:.0f} %) from step to step, "
                "but balancing the expected load keeps even the balanced placement's tail below "
                f"{paper_lo:g}×, so the paper's range needs a placement no better than random.")
    where = ("reaches the low end of the paper's " + rng_ + " only in its tail" if tok < paper_lo
             else "lies inside the paper's " + rng_ if tok <= paper_hi
             else "exceeds the paper's " + rng_)
    return (f"The static imbalance, on the other hand, {where}: step by step the balanced "
            f"placement leaves I_tok = {tok:.3f}, and {pct}. Here {counts}: a count that small "
            f"spreads by about one over its square root ({100 * spread:.0f} %) from step to step, "
            f"so the slowest of {n_dimms} DIMMs sits well above the mean whatever the placement, "
            "random included, and an imbalance of the paper's size needs no unbalanced placement.")


def static_summary(g: Mapping[str, Any], paper_lo: float, paper_hi: float,
                   n_dimms: int) -> str:
    """The summary's clause on static placements: how far above the mean the slowest DIMM is
    left (``static_win`` − 1 and ``static_tok`` − 1, %), and whether the paper's
    `paper_lo`–`paper_hi`× is beyond any static placement here (``static_tok``, ``static_p95``
    and ``random_p95`` all under `paper_lo`), reached only by a random placement's tail
    (``random_p95`` alone), reached only by the per-layer tails (``static_p95`` but not
    ``static_tok``), or reached. With one DIMM (`n_dimms`) there is no imbalance, as in
    :func:`static_against_paper`.

    >>> g = {"static_win": 1.077, "static_tok": 1.086, "static_p95": 1.127, "random_p95": 1.15}
    >>> static_summary(g, 1.2, 2.5, 8)[:80]
    'A placement balanced on expected load leaves the slowest DIMM 8 % above the mean'
    >>> g = {"static_win": 1.141, "static_tok": 1.151, "static_p95": 1.239, "random_p95": 1.258}
    >>> static_summary(g, 1.2, 2.5, 8)[-66:]
    ".258 for a random one) reaches the low end of the paper's 1.2–2.5×"
    """
    rng_ = f"{paper_lo:g}–{paper_hi:g}×"
    if n_dimms == 1:
        return f"With one DIMM there is no static imbalance to set beside the paper's {rng_}"
    win, tok = 100 * (g["static_win"] - 1), 100 * (g["static_tok"] - 1)
    head = (f"A placement balanced on expected load leaves the slowest DIMM {win:.0f} % above the "
            f"mean over a window ({tok:.0f} % step by step) in the model, because realised "
            "activity fluctuates around the expectation; ")
    if max(g["static_tok"], g["static_p95"], g["random_p95"]) < paper_lo:
        return (head + f"the paper's {rng_} is larger than any static placement here produces, "
                "random ones included")
    if max(g["static_tok"], g["static_p95"]) < paper_lo:
        return (head + f"only a random placement's tail reaches the paper's {rng_}, the "
                "balanced one's stays below it")
    if g["static_tok"] < paper_lo:
        return (head + f"only the per-layer tail (95th percentile {g['static_p95']:.3f} for the "
                f"balanced placement, {g['random_p95']:.3f} for a random one) reaches the low end "
                f"of the paper's {rng_}")
    return (head + f"with so few active cold neurons per DIMM that spread alone reaches the "
            f"paper's {rng_}, random placements included")


def gap_closing(g: Mapping[str, Any], paper_lo: float, n_dimms: int) -> str:
    """The summary's closing sentence on what the remap gap points at. Where no balanced
    placement of this run reaches `paper_lo` (``static_tok`` and ``static_p95`` below it, or one
    DIMM), the gap points at the paper's unstated fixed placement; otherwise this run's own
    spread needs no unbalanced placement (step by step, or in the per-layer tail when only
    ``static_p95`` reaches it), and the sentence is scoped to the ablation's LLaMA2 models,
    whose replays it rests on.

    >>> gap_closing({"static_tok": 1.086, "static_p95": 1.127}, 1.2, 8)[:33]
    'The gap points at the one thing t'
    >>> gap_closing({"static_tok": 1.151, "static_p95": 1.239}, 1.2, 8)[-56:]
    'reaches the low end of that range in its per-layer tail.'
    """
    tail = "the one thing the paper does not state: how unbalanced its fixed placement was."
    if n_dimms == 1 or max(g["static_tok"], g["static_p95"]) < paper_lo:
        return "The gap points at " + tail
    where = ("reaches that range step by step" if g["static_tok"] >= paper_lo
             else "reaches the low end of that range in its per-layer tail")
    return ("For the ablation's LLaMA2 models, the gap points at " + tail + " In this run's "
            f"model a placement balanced on expected load {where}.")


@dataclass(frozen=True)
class OneMove:
    """One neuron moved between two DIMMs, over DIMM-link and through the host.

    Attributes
    ----------
    link_s, host_s : float
        Time of the move over one DIMM-link bridge (`ndp.dimm_link_move`) and through the host
        (`ndp.host_move`), s.
    glue : dict
        ``proj_us``, ``move_us``, ``m_max``, ``neuron_KiB``; the DIMM-link move's parts:
        ``move_wire_us`` (the bytes at the link's peak), ``link_lat_us`` and ``link_eff_pct``
        (the link kind's fixed time and attained share of its peak, *assumed* defaults of
        ``efficiency.yaml``), ``link_GBps``; and ``host_overhead_us``, the host's software time
        per copy.
    """

    link_s: float
    host_s: float
    glue: dict[str, object]


def one_move(case: CaseSetup, link: LinkSpec, dimm: DimmSpec, host_overhead_s: float) -> OneMove:
    """One of the case's neurons moved over DIMM-link and through the host, with the glue values
    of the sentences on the move bound (Eq. move-bound) and on what a move costs.

    Parameters
    ----------
    case : CaseSetup
        ``neuron_bytes`` (B), ``projection_s`` (s) and ``moves_per_pair``.
    link : LinkSpec
        The DIMM-link.
    dimm : DimmSpec
        The DIMMs (the host reads one and writes the other over their channels).
    host_overhead_s : float
        The host's software time per copy, s.
    """
    link_s = float(ndp.dimm_link_move(case.neuron_bytes, link).time_s)
    host_s = float(ndp.host_move(case.neuron_bytes, dimm, host_overhead_s=host_overhead_s).time_s)
    glue = {"proj_us": rounded(case.projection_s / u.US), "move_us": rounded(link_s / u.US),
            "m_max": case.moves_per_pair, "neuron_KiB": rounded(case.neuron_bytes / u.KiB),
            "move_wire_us": rounded(case.neuron_bytes / link.bandwidth_per_direction_bytes_per_s
                                    / u.US),
            "link_GBps": rounded(link.bandwidth_per_direction_bytes_per_s / u.GB),
            "link_lat_us": rounded(link.latency_s / u.US),
            "link_eff_pct": rounded(100 * link.efficiency.bandwidth_frac),
            "host_overhead_us": rounded(host_overhead_s / u.US)}
    return OneMove(link_s, host_s, glue)


def per_move_text(mig: MigrationCost, move: OneMove) -> str:
    """The host's time per move against DIMM-link's, and, where the remap moves neurons, why
    the per-token ratio of `scheduling.migration_text` is larger: the pairs' bridges work in
    parallel, the host copies one neuron after another.

    >>> m = MigrationCost(bytes_per_step=1.0, link_s_per_step=1e-6, host_s_per_step=1.1e-5,
    ...                   link_exposed_s_per_step=0.0, host_exposed_s_per_step=0.0,
    ...                   link_energy_j_per_step=0.0, host_energy_j_per_step=0.0)
    >>> per_move_text(m, OneMove(2e-6, 1.04e-5, {}))
    'That ratio sets the pairs of DIMMs, each moving over its own bridge in parallel, against \
the host, which copies one neuron after another; per move, the host takes 10.4 µs against \
2 µs over DIMM-link, 5.2× longer'
    """
    per_move = (f"per move, the host takes {move.host_s / u.US:.3g} µs against "
                f"{move.link_s / u.US:.3g} µs over DIMM-link, "
                f"{move.host_s / move.link_s:.2g}× longer")
    if mig.bytes_per_step <= 0:
        return per_move[0].upper() + per_move[1:]
    return ("That ratio sets the pairs of DIMMs, each moving over its own bridge in parallel, "
            f"against the host, which copies one neuron after another; {per_move}")


def side_of(values: Sequence[float] | pd.Series, reference: float) -> str:
    """Where `values` lie against `reference`: ``"above"``, ``"below"`` or ``"on both sides
    of"`` (one equal to it counts as both sides).

    >>> side_of([1.058, 1.104], 1.05), side_of([1.04, 1.06], 1.05)
    ('above', 'on both sides of')
    """
    lo, hi = float(min(values)), float(max(values))
    return "above" if lo > reference else "below" if hi < reference else "on both sides of"


def end_to_end_imbalance(balance: pd.DataFrame) -> dict[str, object]:
    """What the end-to-end chapters charge for DIMM imbalance, beside this chapter's replays.

    Parameters
    ----------
    balance : pandas.DataFrame
        The ``balance`` scheduling table (``data/derived/balance.csv``): the per-token imbalance
        of Algorithm 1 with the online adjustment (``adjustment_remapped``).

    Returns
    -------
    dict
        ``e2e_imbalance`` (`policies.Assumptions`' ``dimm_imbalance``), ``e2e_imb_lo`` and
        ``e2e_imb_hi`` (the ends of its range in `policies.UNSTATED`), and ``adj13_tok`` and
        ``adj70_tok``: I_tok with adjustment and remapping, LLaMA2-13B and LLaMA2-70B at
        batch 1; ``adj_side``, where those two lie against the end-to-end default (``above``,
        ``below`` or ``on both sides of``); ``remap_win_lo``, ``remap_win_hi`` and
        ``remap_win_n``: the range of I_win with Algorithm 1 alone over the table's replays.
    """
    [unstated] = [p for p in policies.UNSTATED if p.name == "dimm_imbalance"]
    default = policies.Assumptions().dimm_imbalance
    tok = balance.set_index(["model", "batch", "placement"])["imbalance_per_token"]
    adj = [float(tok[(m, 1, "adjustment_remapped")]) for m in ("llama2_13b", "llama2_70b")]
    win = balance.loc[balance["placement"] == "remapped", "imbalance_window"]
    side = side_of(adj, default)
    return {"e2e_imbalance": default,
            "e2e_imb_lo": min(unstated.low, unstated.high),
            "e2e_imb_hi": max(unstated.low, unstated.high),
            "adj13_tok": rounded(adj[0], 4),
            "adj70_tok": rounded(adj[1], 4),
            "adj_side": side,
            "remap_win_lo": rounded(float(win.min()), 4),
            "remap_win_hi": rounded(float(win.max()), 4),
            "remap_win_n": int(win.size)}


def _under(window: float, paper_window_pct: float) -> bool:
    """Whether a window imbalance is under the paper's spread of `paper_window_pct` %."""
    return window - 1 < paper_window_pct / 100


def hindsight_clause(static_window: float, remap_window: float, oracle_window: float,
                     paper_window_pct: float, n_dimms: int) -> str:
    """Whether this chapter's case reaches the paper's window spread ("under `paper_window_pct`
    %") without hindsight: Algorithm 1 on the previous window leaves `remap_window` (I_win), the
    static placement `static_window`, the hindsight oracle `oracle_window`; with one DIMM
    (`n_dimms`) every imbalance is 1."""
    if n_dimms == 1:
        return "which this chapter's case meets trivially (with one DIMM every imbalance is 1)"
    got = f"Algorithm 1 on the previous window leaves I_win = {remap_window:.3f}"
    if _under(static_window, paper_window_pct):
        return (f"which this chapter's case meets already without remapping (the static placement "
                f"leaves I_win = {static_window:.3f}; {got})")
    if _under(remap_window, paper_window_pct):
        return f"which this chapter's case reaches without hindsight too ({got})"
    if _under(oracle_window, paper_window_pct):
        return f"which this chapter's case reaches only with hindsight ({got})"
    return (f"which this chapter's case does not reach even with hindsight (the oracle leaves "
            f"I_win = {oracle_window:.3f}; {got})")


def oracle_text(static_window: float, remap_window: float, oracle_window: float,
                paper_window_pct: float, n_dimms: int) -> str:
    """The sentence that reads the paper's "under `paper_window_pct` % with the window-optimal
    mapping" against the hindsight oracle's I_win (`oracle_window`): whether it holds, and
    whether it needs hindsight (Algorithm 1 on the previous window, `remap_window`) or even a
    remap (the static placement, `static_window`); with one DIMM it holds trivially."""
    claim = f'the paper\'s "under {paper_window_pct:.0f} % with the window-optimal mapping"'
    if n_dimms == 1:
        return claim[0].upper() + claim[1:] + " holds trivially."
    head = (f"The oracle itself reaches {oracle_window:.3f}, a spread of "
            f"{100 * (oracle_window - 1):.1f} %")
    if not _under(oracle_window, paper_window_pct):
        return f"{head}: {claim} does not hold here, even for a mapping chosen after seeing the window."
    if _under(static_window, paper_window_pct):
        return (f"{head}; {claim} holds here already without remapping: the static placement "
                f"leaves {static_window:.3f}.")
    if _under(remap_window, paper_window_pct):
        return (f"{head}: {claim} holds, and Algorithm 1 on the previous window reaches it "
                f"without hindsight too ({remap_window:.3f}).")
    return f"{head}: {claim} holds, but only for a mapping chosen after seeing the window."


def window_texts(static_window: float, remap_window: float, oracle_window: float,
                 paper_window_pct: float, n_dimms: int) -> dict[str, str]:
    """The three texts that read the paper's "under `paper_window_pct` %" against the window
    imbalances (I_win) of the static placement, Algorithm 1 and the hindsight oracle:
    ``hindsight_clause``, ``oracle_text`` and ``remap_summary``."""
    args = (static_window, remap_window, oracle_window, paper_window_pct, n_dimms)
    return {"hindsight_clause": hindsight_clause(*args), "oracle_text": oracle_text(*args),
            "remap_summary": remap_summary(*args)}


def remap_summary(static_window: float, remap_window: float, oracle_window: float,
                  paper_window_pct: float, n_dimms: int) -> str:
    """The summary's sentence on Algorithm 1 and the paper's "under `paper_window_pct` %", from
    the same numbers as `oracle_text`."""
    under = f'the paper\'s "under {paper_window_pct:.0f} %"'
    if n_dimms == 1:
        return f"Algorithm 1 has no pair of DIMMs to remap, and {under} holds trivially."
    does = ("removes part of that imbalance" if remap_window < static_window
            else "does not lower that imbalance")
    head = ("Algorithm 1, read with its loop condition as intended and fed only with the previous "
            f"window's counts, {does} at a small DIMM-link cost that fits inside the projection; ")
    if not _under(oracle_window, paper_window_pct):
        return (head + f"not even a mapping chosen with hindsight reaches {under} here "
                f"(I_win = {oracle_window:.3f}).")
    if _under(static_window, paper_window_pct):
        return (head + f"{under} holds here already without remapping (static I_win = "
                f"{static_window:.3f}).")
    if _under(remap_window, paper_window_pct):
        return head + f"{under} is reached here without hindsight too (I_win = {remap_window:.3f})."
    return head + f"{under} is what a mapping chosen with hindsight achieves."


def migration_table(mig: MigrationCost, scale: float, batch: int = 1) -> pd.DataFrame:
    """Move time and exposed time per generated token over DIMM-link and through the host: a
    decode step's (`MigrationCost` is per step) over the `batch` tokens the step decodes.

    Parameters
    ----------
    mig : MigrationCost
        The remap's moves over the replayed layers (`scheduling.migration_cost`).
    scale : float
        Model layers over replayed layers.
    batch : int
        Sequences decoded together: a step generates `batch` tokens.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``path``; columns in µs per generated token.
    """
    per = scale / batch / u.US
    return pd.DataFrame({
        "path": ["DIMM-link", "host"],
        "move time per token (µs)": [mig.link_s_per_step * per, mig.host_s_per_step * per],
        "exposed per token (µs)": [mig.link_exposed_s_per_step * per,
                                   mig.host_exposed_s_per_step * per],
    }).set_index("path")


def migration_glue(mig: MigrationCost, scale: float, n_dimms: int,
                   batch: int = 1) -> dict[str, object]:
    """The glue values of the section on what a move costs, over the whole model, per generated
    token: a decode step's cost (`MigrationCost` is per step) over its `batch` tokens.

    Returns
    -------
    dict
        ``mig_KB`` (kB per token), ``link_us`` and ``host_us`` (µs per token),
        ``migration_text`` (`scheduling.migration_text` per token; at a batch above 1 followed
        by what a whole step moves) and ``link_uJ`` (µJ per token).
    """
    per_token = scale / batch
    text = migration_text(mig, per_token, n_dimms)
    if batch > 1 and mig.bytes_per_step > 0:
        text += (f" (a decode step generates {batch} tokens, one per sequence, and moves "
                 f"{rounded(mig.bytes_per_step * scale / u.KB, 4):,g} kB in "
                 f"{rounded(mig.link_s_per_step * scale / u.US, 4):,g} µs over DIMM-link)")
    return {"mig_KB": rounded(mig.bytes_per_step * per_token / u.KB),
            "link_us": rounded(mig.link_s_per_step * per_token / u.US),
            "host_us": rounded(mig.host_s_per_step * per_token / u.US),
            "migration_text": text,
            "link_uJ": rounded(mig.link_energy_j_per_step * per_token * 1e6)}


def check_balance_table(derived: pd.DataFrame, model_slug: str, batch: int,
                        imbalances: Mapping[str, Imbalance],
                        migrated_bytes_per_step: float) -> None:
    """Check a replay against ``data/derived/balance.csv`` (the scorecard's source).

    Parameters
    ----------
    derived : pandas.DataFrame
        The ``balance`` scheduling table.
    model_slug, batch
        The case.
    imbalances : mapping
        Placement (``static``, ``remapped``, ``hindsight``) → its imbalance.
    migrated_bytes_per_step : float
        The remap's moves over the whole model (bytes per decode step of `batch` tokens).

    Raises
    ------
    ValueError
        Where the window imbalance, its 95th percentile per layer or the migrated bytes differ
        from the table by more than a relative 1e-5.
    """
    table = derived.set_index(["model", "batch", "placement"])
    for name, imb in imbalances.items():
        row = table.loc[(model_slug, batch, name)]
        got = (imb.window, imb.layer_window_percentiles((95,))[0])
        want = (row["imbalance_window"], row["layer_window_p95"])
        if not np.allclose(got, want, rtol=1e-5):
            raise ValueError(f"{model_slug}, batch {batch}, {name}: imbalance and p95 {got} "
                             f"differ from balance.csv's {want}")
    want_bytes = table.loc[(model_slug, batch, "remapped"), "migrated_bytes_per_step"]
    if not np.isclose(migrated_bytes_per_step, want_bytes, rtol=1e-5):
        raise ValueError(f"{model_slug}, batch {batch}: {migrated_bytes_per_step} migrated "
                         f"bytes per decode step, balance.csv has {want_bytes}")


def neuron_slices(gated: bool) -> str:
    """The weight slices of one MLP neuron: up, gate and down for a gated MLP, up and down
    otherwise (OPT, Falcon).

    >>> neuron_slices(True), neuron_slices(False)
    ('the up, gate and down slices', 'the up and down slices')
    """
    return "the up, gate and down slices" if gated else "the up and down slices"


def ablation_static_range(balance: pd.DataFrame) -> dict[str, object]:
    """The static imbalance of the ablation's own replays (``balance.csv``, the balanced
    placement of `FIG13_MODELS` at `FIG13_BATCHES`), in % above the mean: ``abl_static_lo_pct``
    and ``abl_static_hi_pct`` (window imbalance), independent of the chapter's parameters."""
    rows = balance[(balance["placement"] == "static") & balance["model"].isin(FIG13_MODELS)]
    win = 100 * (rows["imbalance_window"].astype(float) - 1)
    return {"abl_static_lo_pct": rounded(float(win.min()), 2),
            "abl_static_hi_pct": rounded(float(win.max()), 2)}


def up_text(shares: Mapping[str, Mapping[int, float]], names: Mapping[str, str]) -> str:
    """The share of each ablation model's MLP neurons whose 4-bit state climbs at batch 4 and 16
    (`shares`: slug → batch → %, two models), and whether that leaves the state table able to
    tell the neurons apart: where most of both models' neurons climb, their states saturate
    together and it cannot.

    >>> up_text({"a": {4: 77.0, 16: 95.3}, "b": {4: 72.9, 16: 94.8}}, {"a": "A", "b": "B"})
    "77 % of A's MLP neurons and 73 % of B's at batch 4, 95 % and 95 % at batch 16. Most states \
saturate at 15, and the table no longer tells the neurons apart."
    """
    (a, sa), (b, sb) = shares.items()
    text = (f"{sa[4]:.0f} % of {names[a]}'s MLP neurons and {sb[4]:.0f} % of {names[b]}'s at "
            f"batch 4, {sa[16]:.0f} % and {sb[16]:.0f} % at batch 16. ")
    if min(sa[4], sb[4]) >= 50:
        return text + "Most states saturate at 15, and the table no longer tells the neurons apart."
    return text + ("Their states saturate at 15, and the table no longer tells those neurons apart "
                   "from one another, though it still separates them from the rest.")


@dataclass(frozen=True)
class AblationRatios:
    """The ratios of Fig. 13, the model's beside the paper's.

    Attributes
    ----------
    per_case : pandas.DataFrame
        Each ratio (columns, ``paper_fig13``'s ``ratio``) for each (model, batch).
    ratios : pandas.DataFrame
        One row per ratio: ``paper``, ``model`` (mean over the cases), the error on ratio − 1
        (%), and the model's minimum and maximum over the cases.
    shown : pandas.DataFrame
        `ratios` with plain labels ("partition / random").
    share70 : pandas.Series
        The GPU's share of the firing neurons per variant, LLaMA2-70B at batch 1 (fraction).
    glue : dict
        ``r_<ratio>`` and ``p_<ratio>``, ``adj70_b1``, ``adj13_b1``, ``<half>_lo`` and
        ``<half>_hi`` (`HALVES`), ``halves_near_pct``, ``tok70_b1``, ``share70_tok_pct``,
        ``share70_both_pct``, ``up_<model>_b4_pct``, ``up_<model>_b16_pct`` and ``up_text``.
    """

    per_case: pd.DataFrame
    ratios: pd.DataFrame
    shown: pd.DataFrame
    share70: pd.Series
    glue: dict[str, object]


def ablation_ratios(abl: pd.DataFrame, lat: pd.DataFrame, fig13: pd.DataFrame,
                    f_mlp: Mapping[str, npt.ArrayLike],
                    names: Mapping[str, str]) -> AblationRatios:
    """The model's Fig. 13 ratios beside the paper's, and the glue values of their discussion.

    Parameters
    ----------
    abl : pandas.DataFrame
        The ``fig13_ablation`` table: ``model``, ``batch``, ``variant``, ``gpu_load_share``.
    lat : pandas.DataFrame
        MLP-block latency (s) by (model, batch) and variant.
    fig13 : pandas.DataFrame
        The ``paper_fig13`` table: ``ratio``, ``numerator``, ``denominator`` and ``value``.
    f_mlp : mapping
        Each ablation model (`FIG13_MODELS`, slug) → the firing frequency of each neuron of its
        MLP (per token; the offline frequencies its trace is generated from).
    names : mapping
        Slug → the model's short name.

    Returns
    -------
    AblationRatios

    Notes
    -----
    The error is taken on the gain, ratio − 1. ``up_<model>_b<b>_pct`` counts the ablation
    model's neurons whose 4-bit state drifts up at batch b: +4 on a firing and −1 otherwise
    climbs where the batch's union rate ``1 − (1 − f)^b`` exceeds 1/5; ``up_text`` says it
    (`up_text`).
    """
    per_case = pd.DataFrame({r.ratio: lat[r.numerator] / lat[r.denominator]
                             for r in fig13.itertuples()})
    ratios = pd.DataFrame({"ratio": fig13["ratio"], "paper": fig13["value"],
                           "model": per_case.mean().to_numpy()})
    ratios["error on ratio − 1 (%)"] = 100 * ((ratios["model"] - 1) / (ratios["paper"] - 1) - 1)
    ratios["model, min over cases"] = per_case.min().to_numpy()
    ratios["model, max over cases"] = per_case.max().to_numpy()
    glue: dict[str, object] = {}
    for r in ratios.itertuples():
        glue[f"r_{r.ratio}"] = rounded(r.model, 3)
        glue[f"p_{r.ratio}"] = r.paper
    # plain labels: "partition / random" is Hermes-partition's speedup over Hermes-random
    labels = {r: r.replace("_vs_", " / ").replace("_", " ") for r in ratios["ratio"]}
    shown = ratios.assign(ratio=ratios["ratio"].map(labels))
    glue["adj70_b1"] = rounded(per_case.loc[("llama2_70b", 1), "adjustment_vs_partition"], 3)
    glue["adj13_b1"] = rounded(per_case.loc[("llama2_13b", 1), "adjustment_vs_partition"], 3)
    for k, col in HALVES.items():
        glue[f"{k}_lo"] = rounded(per_case[col].min(), 3)
        glue[f"{k}_hi"] = rounded(per_case[col].max(), 3)
    near = per_case.loc[per_case.index.get_level_values("batch") > 1, list(HALVES.values())]
    glue["halves_near_pct"] = int(np.floor(100 * (near - 1).abs().max().max())) + 1
    glue["tok70_b1"] = rounded(per_case.loc[("llama2_70b", 1), "token_only_vs_partition"], 3)
    share70 = abl.set_index(["model", "batch", "variant"])["gpu_load_share"].loc[("llama2_70b", 1)]
    glue["share70_tok_pct"] = rounded(100 * share70["Hermes-token-adjustment"])
    glue["share70_both_pct"] = rounded(100 * share70["Hermes-adjustment"])
    shares: dict[str, dict[int, float]] = {}
    for slug, freq in f_mlp.items():
        f = np.asarray(freq)
        shares[slug] = {b: rounded(100 * np.mean(1 - (1 - f) ** b > 0.2)) for b in (4, 16)}
        for b, v in shares[slug].items():
            glue[f"up_{slug}_b{b}_pct"] = v
    glue["up_text"] = up_text(shares, names)
    return AblationRatios(per_case, ratios, shown, share70, glue)
