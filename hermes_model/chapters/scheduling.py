"""The numbers and sentences of the Scheduling chapter: imbalance, remapping, the Fig. 13 ablation.

The chapter replays generated activity with `hermes_model.scheduling`; the functions here turn
its results, and the paper's tables (`hermes_model.io.load_scheduling_table`), into the chapter's
glue values (key → the value as the text prints it) and tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model import ndp, params, policies
from hermes_model import units as u
from hermes_model.plotting import rounded
from hermes_model.scheduling import (
    CaseSetup,
    Imbalance,
    MigrationCost,
    batch_divisors,
    migration_text,
)
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
        ``gpu_neuron_pct`` (% of MLP neurons on the GPU), ``cold_active_per_dimm`` (active cold
        neurons per layer, step and DIMM), and ``static_win``, ``static_tok``, ``static_p95``,
        ``random_win``, ``random_p95`` (imbalances to four digits).
    """
    cold = case.decode & ~case.hot0
    bal, rnd = static["balanced"], static["random"]
    return {"gpu_neuron_pct": rounded(100 * case.hot0.mean()),
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


def hindsight_clause(remap_window: float, paper_window_pct: float) -> str:
    """Whether this chapter's case reaches the paper's window spread ("under `paper_window_pct`
    %") without hindsight: Algorithm 1 on the previous window leaves `remap_window` (I_win)."""
    got = f"Algorithm 1 on the previous window leaves I_win = {remap_window:.3f}"
    if remap_window - 1 < paper_window_pct / 100:
        return f"which this chapter's case reaches without hindsight too ({got})"
    return f"which this chapter's case reaches only with hindsight ({got})"


def migration_table(mig: MigrationCost, scale: float) -> pd.DataFrame:
    """Move time and exposed time per generated token over DIMM-link and through the host.

    Parameters
    ----------
    mig : MigrationCost
        The remap's moves over the replayed layers (`scheduling.migration_cost`).
    scale : float
        Model layers over replayed layers.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``path``; columns in µs per token.
    """
    return pd.DataFrame({
        "path": ["DIMM-link", "host"],
        "move time per token (µs)": [mig.link_s_per_step * scale / u.US,
                                     mig.host_s_per_step * scale / u.US],
        "exposed per token (µs)": [mig.link_exposed_s_per_step * scale / u.US,
                                   mig.host_exposed_s_per_step * scale / u.US],
    }).set_index("path")


def migration_glue(mig: MigrationCost, scale: float, n_dimms: int) -> dict[str, object]:
    """The glue values of the section on what a move costs, over the whole model.

    Returns
    -------
    dict
        ``mig_KB`` (kB per token), ``link_us`` and ``host_us`` (µs per token),
        ``migration_text`` (`scheduling.migration_text`) and ``link_uJ`` (µJ per token).
    """
    return {"mig_KB": rounded(mig.bytes_per_step * scale / u.KB),
            "link_us": rounded(mig.link_s_per_step * scale / u.US),
            "host_us": rounded(mig.host_s_per_step * scale / u.US),
            "migration_text": migration_text(mig, scale, n_dimms),
            "link_uJ": rounded(mig.link_energy_j_per_step * scale * 1e6)}


def check_balance_table(derived: pd.DataFrame, model_slug: str, batch: int,
                        imbalances: Mapping[str, Imbalance],
                        migrated_bytes_per_token: float) -> None:
    """Check a replay against ``data/derived/balance.csv`` (the scorecard's source).

    Parameters
    ----------
    derived : pandas.DataFrame
        The ``balance`` scheduling table.
    model_slug, batch
        The case.
    imbalances : mapping
        Placement (``static``, ``remapped``, ``hindsight``) → its imbalance.
    migrated_bytes_per_token : float
        The remap's moves over the whole model (bytes per token).

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
    want_bytes = table.loc[(model_slug, batch, "remapped"), "migrated_bytes_per_token"]
    if not np.isclose(migrated_bytes_per_token, want_bytes, rtol=1e-5):
        raise ValueError(f"{model_slug}, batch {batch}: {migrated_bytes_per_token} migrated "
                         f"bytes per token, balance.csv has {want_bytes}")


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
        ``share70_both_pct``, ``up_b4_pct`` and ``up_b16_pct``.
    """

    per_case: pd.DataFrame
    ratios: pd.DataFrame
    shown: pd.DataFrame
    share70: pd.Series
    glue: dict[str, object]


def ablation_ratios(abl: pd.DataFrame, lat: pd.DataFrame, fig13: pd.DataFrame,
                    f_mlp: npt.ArrayLike) -> AblationRatios:
    """The model's Fig. 13 ratios beside the paper's, and the glue values of their discussion.

    Parameters
    ----------
    abl : pandas.DataFrame
        The ``fig13_ablation`` table: ``model``, ``batch``, ``variant``, ``gpu_load_share``.
    lat : pandas.DataFrame
        MLP-block latency (s) by (model, batch) and variant.
    fig13 : pandas.DataFrame
        The ``paper_fig13`` table: ``ratio``, ``numerator``, ``denominator`` and ``value``.
    f_mlp : array_like
        Firing frequency of each neuron of the chosen model's MLP (per token).

    Returns
    -------
    AblationRatios

    Notes
    -----
    The error is taken on the gain, ratio − 1. ``up_b<b>_pct`` counts the neurons whose 4-bit
    state drifts up at batch b: +4 on a firing and −1 otherwise climbs where the batch's union
    rate ``1 − (1 − f)^b`` exceeds 1/5.
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
    f = np.asarray(f_mlp)
    for b in (4, 16):
        glue[f"up_b{b}_pct"] = rounded(100 * np.mean(1 - (1 - f) ** b > 0.2))
    return AblationRatios(per_case, ratios, shown, share70, glue)
