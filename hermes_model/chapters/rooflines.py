"""The sentences of the Rooflines chapter: where the decode steps sit, and the bandwidth hierarchy.

Each function takes the tiers of `hermes_model.roofline.system_tiers` (in its order: GPU memory,
PCIe, host DRAM and CPU, one NDP-DIMM, the pool) and the decode steps of
`hermes_model.roofline.decode_gemv_table`, and returns the chapter's glue values (key → the value
as the text prints it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hermes_model import roofline, shapes
from hermes_model import units as u
from hermes_model.plotting import formatted, rounded
from hermes_model.roofline import Tier
from hermes_model.scorecard import BANDWIDTH_UNITS, short_name
from hermes_model.specs import SystemSpec

#: The largest batch the paper evaluates (its Fig. 14 and Fig. 15 sweep up to 16).
PAPER_MAX_BATCH = 16


def shown_tiers(tiers: Sequence[Tier], n_dimms: int) -> tuple[Tier, ...]:
    """The tiers the chapter's tables and charts show: all five, or, for a pool of one DIMM,
    the first four, since the pool is then the one DIMM again (same rates, same ridge).

    Parameters
    ----------
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.
    n_dimms : int
        NDP-DIMMs in the pool, count.
    """
    return tuple(tiers) if n_dimms > 1 else tuple(tiers[:4])


def one_dimm_pool(tiers: Sequence[Tier]) -> bool:
    """Whether the pool (the fifth tier) has the one DIMM's rates, that is holds one DIMM."""
    dimm_t, pool_t = tiers[3], tiers[4]
    return (pool_t.bandwidth_bytes_per_s == dimm_t.bandwidth_bytes_per_s
            and pool_t.flop_per_s == dimm_t.flop_per_s)


def pool_name(tiers: Sequence[Tier]) -> str:
    """The pool as the text names it: "the NDP-DIMM pool", or "the pool of one NDP-DIMM" when
    it holds one DIMM (`one_dimm_pool`)."""
    return "the pool of one NDP-DIMM" if one_dimm_pool(tiers) else "the NDP-DIMM pool"


def pool_glue(tiers: Sequence[Tier], n_dimms: int) -> dict[str, str]:
    """The pool's clauses: after one DIMM's ridge (``pool_ridge_txt``) and in the Fig. 1 section
    (``pool_reach_txt``), for a pool of one DIMM or of several.

    Parameters
    ----------
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.
    n_dimms : int
        NDP-DIMMs in the pool, count.
    """
    pool_t = tiers[4]
    GBps = f"{rounded(pool_t.bandwidth_bytes_per_s / u.GB):,.0f} GB/s"
    if n_dimms == 1:
        return {"pool_ridge_txt": "and the pool of this chapter's parameters is that one DIMM, "
                                  "so the tables and charts show it once",
                "pool_reach_txt": f"The one DIMM of this chapter's parameters reaches {GBps} at "
                                  "the pin bound."}
    return {"pool_ridge_txt": "and the pool's is the same, since both rates scale with the count "
                              f"({GBps} and {rounded(pool_t.flop_per_s / u.TFLOP):.2f} TFLOP/s "
                              "for the whole pool)",
            "pool_reach_txt": f"The pool of {u.plural(n_dimms, 'DIMM')} of this chapter's "
                              f"parameters reaches {GBps} at the pin bound."}


def tier_table(tiers: Mapping[str, Sequence[Tier]],
               systems: Mapping[str, SystemSpec]) -> pd.DataFrame:
    """The chapter's table of tiers: `roofline.roofline_table` of each profile, stacked with a
    ``profile`` column, with two labels made precise.

    The NDP core's peak rests on the cycles of one bit-serial operation, which the catalog marks
    as derived (worked out in the NDP-DIMM chapter): it is labelled *derived*, not just
    *assumed*. The paper's PCIe figure is the x16 link's two directions together, which the
    paper profile reads per direction (the paper states only "64 GB/s"; this book's reading,
    one of the unstated parameters of the end-to-end chapter): it is labelled "paper, read per
    direction".

    Parameters
    ----------
    tiers : mapping
        Profile → its tiers, in `roofline.system_tiers` order (`shown_tiers`: the pool may be
        left out).
    systems : mapping
        Profile → the system the tiers come from (`hermes_model.load_system`).
    """
    table = pd.concat([roofline.roofline_table(ts).assign(profile=p) for p, ts in tiers.items()],
                      ignore_index=True)
    cycles_derived = {p: systems[p].dimm.sources["ndp_cycles_per_op"].startswith("derived")
                      for p in tiers}
    ndp_peak = (table["subsystem"].eq("NDP-DIMM") & table["flop_label"].eq("assumed")
                & table["profile"].map(cycles_derived))
    table.loc[ndp_peak, "flop_label"] = "derived"
    pcie_short = {p: ts[1].short for p, ts in tiers.items()}
    pcie_paper = (table["short"].eq(table["profile"].map(pcie_short))
                  & table["bandwidth_label"].eq("paper"))
    table.loc[pcie_paper, "bandwidth_label"] = "paper, read per direction"
    # a link the paper never quotes gets the paper's convention (its 64 GB/s for PCIe 4.0)
    pcie_convention = (table["short"].eq(table["profile"].map(pcie_short))
                       & table["bandwidth_label"].eq("assumed") & table["profile"].eq("paper"))
    table.loc[pcie_convention, "bandwidth_label"] = "assumed (the paper's convention)"
    return table


def roof_text(tiers: Sequence[Tier], steps: pd.DataFrame,
              placed: pd.DataFrame) -> dict[str, object]:
    """The sentence under the roofline chart: how high the GPU's roof is and where decode sits.

    Parameters
    ----------
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.
    steps : pandas.DataFrame
        Decode steps (`roofline.decode_gemv_table`), column ``intensity_flop_per_byte``
        (FLOP/byte).
    placed : pandas.DataFrame
        The steps on the tiers (`roofline.place_on_rooflines`), columns ``tier`` and ``bound``.

    Returns
    -------
    dict
        ``roof_txt``: the GPU's peak against the highest of host, one DIMM and the pool, so "at
        least" (in orders of magnitude when it is at least ten times as high; PCIe shares the
        GPU's roof),
        then either "every diamond sits on a sloped part" ("far left" when the highest
        intensity is below a tenth of the GPU's and PCIe's ridges) or the tiers on which some
        step is compute-bound.
    """
    gpu_t, pcie_t, host_t, dimm_t, pool_t = tiers
    above = gpu_t.flop_per_s / max(t.flop_per_s for t in (host_t, dimm_t, pool_t))
    orders = int(np.floor(np.log10(above)))
    # PCIe feeds the GPU's own compute, so its roof is the GPU's: compare with the other three
    others = "the host's and the NDP-DIMMs'"
    # against the highest of the three: a lower bound on each gap ("at least")
    roof_gap = "at least " + (
        f"an order of magnitude above {others}" if orders == 1 else
        f"{['', '', 'two', 'three', 'four'][orders]} orders of magnitude above {others}"
        if 2 <= orders <= 4 else f"{rounded(above, 2):g} times as high as {others}")
    on_roof = list(dict.fromkeys(placed.loc[placed["bound"] == roofline.COMPUTE, "tier"]))
    far = steps["intensity_flop_per_byte"].max() < 0.1 * min(gpu_t.ridge_flop_per_byte,
                                                             pcie_t.ridge_flop_per_byte)
    return {"roof_txt": f"The GPU's roof is {roof_gap}, but the roof is not where decode lives: "
            + ("every diamond sits on a sloped, memory-bound part of its roofline, "
               + ("far left" if far else "left") + " of the GPU's and PCIe's ridge points."
               if not on_roof else
               "the diamonds reach the flat, compute-bound roof only on "
               f"{roofline.prose_list(on_roof)}, "
               "and sit on the sloped, memory-bound part of every other roofline.")}


@dataclass(frozen=True)
class ComputeBoundBatches:
    """The batch from which each decode step turns compute-bound on each tier, and its text.

    Attributes
    ----------
    table : pandas.DataFrame
        Batch (sequences, ``inf`` for never) by model (rows, the steps' ``model``) and tier
        (columns, `Tier.short`); the index is named "compute-bound from batch".
    pcie_b : pandas.Series
        The PCIe column, indexed by model.
    limit_io : pandas.Series
        Each step's intensity as the batch grows without bound, ``2 Σkn / (s Σ(k+n))``
        (FLOP/byte), on the steps' index.
    glue : dict
        ``limit_io_min``, ``limit_io_max``, ``pcie_txt``, ``only_dimms_txt`` and
        ``summary_only_txt``.
    """

    table: pd.DataFrame
    pcie_b: pd.Series
    limit_io: pd.Series
    glue: dict[str, object]


def compute_bound_batches(tiers: Sequence[Tier], steps: pd.DataFrame,
                          dtype: str, *, batch: int = 1) -> ComputeBoundBatches:
    """Where each decode step turns compute-bound, and the chapter's sentences about it.

    Parameters
    ----------
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.
    steps : pandas.DataFrame
        Decode steps (`roofline.decode_gemv_table`): ``model``, ``weights`` and ``io_elements``
        (elements).
    dtype : str
        Element type (`hermes_model.shapes.DTYPE_BYTES`).
    batch : int
        The chapter's batch: the Summary says the NDP-DIMMs are past their ridge when every
        step is compute-bound on them at it.

    Returns
    -------
    ComputeBoundBatches

    Notes
    -----
    The batch comes from `roofline.compute_bound_batch`. The NDP-DIMM sentences ask whether every
    step turns compute-bound by a batch of `PAPER_MAX_BATCH` on one DIMM and on the pool, and on
    which other tiers it does too.
    """
    _, pcie_t, _, dimm_t, pool_t = tiers
    b_star = {t.short: roofline.compute_bound_batch(t.ridge_flop_per_byte, steps["weights"],
                                                    steps["io_elements"], dtype)
              for t in tiers}
    pcie_b = pd.Series(b_star[pcie_t.short], index=steps["model"].to_numpy())
    bytes_per_element = shapes.dtype_bytes(dtype)
    limit_io = 2 * steps["weights"] / (bytes_per_element * steps["io_elements"])  # b -> infinity
    crossing = pcie_b[np.isfinite(pcie_b)]
    glue: dict[str, object] = {"limit_io_min": rounded(limit_io.min()),
                               "limit_io_max": rounded(limit_io.max())}
    # the table's "never", defined only where some step of some tier has it
    any_never = any((~np.isfinite(np.asarray(v, dtype=float))).any() for v in b_star.values())
    glue["never_lead"] = ('"Never" means that the step stays memory-bound at any batch'
                          if any_never else "No step of the table stays memory-bound at every "
                          'batch (which the table would print as "never")')
    # the models that never turn compute-bound on PCIe, and the batches where the others do
    n_never = int((~np.isfinite(pcie_b)).sum())
    names = roofline.prose_list([short_name(n) for n in crossing.index])
    at = roofline.prose_list([f"{v:,.0f}" for v in rounded(crossing.to_numpy(), 3)])
    far_txt = (", far beyond any batch of decode"
               if np.min(crossing.to_numpy(), initial=np.inf) > 256 else "")
    glue["pcie_txt"] = f"Against PCIe's ridge of {pcie_t.ridge_flop_per_byte:,.0f} FLOP/byte, " + (
        "none of them ever turns compute-bound." if crossing.empty else
        f"every one of them turns compute-bound, {names} only at batches of {at}{far_txt}."
        if n_never == 0 else
        ("one of them never turns" if n_never == 1 else f"{n_never} of them never turn")
        + f" compute-bound; {names} "
        + ("reaches it only at a batch of" if len(crossing) == 1 else "reach it only at batches of")
        + f" {at}{far_txt}.")
    # the tiers on which every step turns compute-bound within the paper's batches
    early = [t for t in tiers if np.nanmax(b_star[t.short]) <= PAPER_MAX_BATCH]
    dimms_early = {dimm_t.name, pool_t.name} <= {t.name for t in early}
    others_early = [t.name for t in early if t.name not in (dimm_t.name, pool_t.name)]
    glue["only_dimms_txt"] = (
        "Only the NDP-DIMMs, whose core is small next to its bandwidth, turn compute-bound at "
        "batch sizes the paper uses (up to 16)" if dimms_early and not others_early else
        "The NDP-DIMMs, whose core is small next to its bandwidth, turn compute-bound at batch "
        f"sizes the paper uses (up to 16), and so does the tier of "
        f"{roofline.prose_list(others_early)}" if dimms_early else
        "Even the NDP-DIMMs, whose core is small next to its bandwidth, stay memory-bound at every "
        "batch size the paper uses (up to 16) for some of these models")
    past = all(np.nanmax(b_star[t.short]) <= batch for t in (dimm_t, pool_t))
    glue["summary_only_txt"] = (
        (f"Only the NDP-DIMMs, with a small core next to their bandwidth, reach their ridge at "
         f"the paper's batch sizes; at batch {batch} every step is past it on them." if past else
         "Only the NDP-DIMMs, with a small core next to their bandwidth, approach their ridge at "
         "the paper's batch sizes.") if dimms_early and not others_early else
        "The NDP-DIMMs, with a small core next to their bandwidth, reach their ridge at the "
        f"paper's batch sizes, and so does the tier of {roofline.prose_list(others_early)}."
        if dimms_early else
        "Even the NDP-DIMMs, with a small core next to their bandwidth, stay below their ridge "
        "at the paper's batch sizes for some of these models.")
    table = pd.DataFrame(b_star, index=steps["model"]).rename_axis("compute-bound from batch")
    return ComputeBoundBatches(table, pcie_b, limit_io, glue)


def ridge_batch_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table of `ComputeBoundBatches` as the chapter prints it: three significant digits,
    "never" for a step that stays memory-bound, and "≤ 1" where the ridge is reached at a batch
    below one, that is where the step is compute-bound already at batch 1.

    >>> ridge_batch_table(pd.DataFrame({"1 DIMM": [0.909, 3.64, np.inf]})).iloc[:, 0].tolist()
    ['≤ 1', '3.64', 'never']
    """
    shown = formatted(table, sig=3, inf="never")
    return shown.mask(table.le(1).to_numpy(), "≤ 1")


def fig1_bandwidths(fig1_labels: pd.DataFrame, tiers: Sequence[Tier]) -> dict[str, float]:
    """The labels of the paper's Fig. 1 in B/s, keyed by the tier they label.

    Parameters
    ----------
    fig1_labels : pandas.DataFrame
        ``fig1.csv`` indexed by ``tier`` (``gpu_memory``, ``pcie``, ``ndp_host_memory``), with
        ``value`` and ``unit`` (``TB/s`` or ``GB/s``).
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.

    Returns
    -------
    dict
        `Tier.name` of GPU memory, PCIe and the pool (the last tier: the one DIMM where
        `shown_tiers` left the pool out) → the label, B/s. The PCIe label is for PCIe 4.0: on a
        link of another generation (a GPU that caps the slot at its own) it is left out.
    """
    gpu_t, pcie_t, pool_t = tiers[0], tiers[1], tiers[-1]
    keys = [(gpu_t, "gpu_memory"), (pcie_t, "pcie"), (pool_t, "ndp_host_memory")]
    if not pcie_t.name.startswith("PCIe 4.0"):
        keys.pop(1)
    return {t.name: float(fig1_labels.loc[key, "value"])
            * BANDWIDTH_UNITS[str(fig1_labels.loc[key, "unit"])] for t, key in keys}


def pcie_label_txt(tiers: Sequence[Tier]) -> str:
    """How the text introduces Fig. 1's PCIe label, up to the semicolon: the paper's 64 GB/s,
    the x16 link's two directions together, and, on a link other than PCIe 4.0, that it labels
    PCIe 4.0 and the chart leaves it off this link's row.

    Parameters
    ----------
    tiers : sequence of Tier
        The tiers of one profile, in `roofline.system_tiers` order.
    """
    link = tiers[1].name.split(",")[0]
    if link.startswith("PCIe 4.0"):
        return ("The PCIe label is the paper's 64 GB/s, which is the x16 link's two directions "
                "together")
    return ("The PCIe label, the paper's 64 GB/s for the x16 link's two directions together, is "
            f"for PCIe 4.0, and the chart leaves it off this GPU's {link} row")


def hierarchy_glue(tiers: Mapping[str, Sequence[Tier]], profile: str, fig1: Mapping[str, float],
                   *, gpu: str, gpu_name: str, n_dimms: int) -> dict[str, object]:
    """The glue values of the section on the bandwidth hierarchy of the paper's Fig. 1.

    Parameters
    ----------
    tiers : mapping
        Profile (``paper`` and ``datasheet``) → its five tiers, in `roofline.system_tiers` order.
    profile : str
        The profile of the text.
    fig1 : mapping
        The Fig. 1 labels (B/s) by tier name, as `fig1_bandwidths` returns them (the NDP label
        on the pool, or on the one DIMM).
    gpu : str
        GPU catalog slug; the paper's Fig. 1 is for ``rtx_4090``.
    gpu_name : str
        The GPU's display name.
    n_dimms : int
        NDP-DIMMs in the pool, count.

    Returns
    -------
    dict
        ``gap_<profile>``, ``pcie_bw_GBps_<profile>``, ``fig1_dimms``,
        ``fig1_per_dimm_at_8_GBps``, ``n_dimms``, ``hierarchy_txt``, ``gpu_label_txt``,
        ``pcie_ds_txt`` and ``gap_txt``.
    """
    gpu_t, pcie_t, host_t, dimm_t, pool_t = tiers[profile]
    by = {p: {t.short: t.bandwidth_bytes_per_s for t in ts} for p, ts in tiers.items()}
    glue: dict[str, object] = {}
    for p in tiers:
        glue[f"gap_{p}"] = rounded(by[p]["GPU"] / by[p]["PCIe"])
        glue[f"pcie_bw_GBps_{p}"] = rounded(by[p]["PCIe"] / u.GB)
    per_dimm = dimm_t.bandwidth_bytes_per_s
    # the NDP label sits on the pool, or on the one DIMM where the pool is that DIMM
    fig1_ndp = fig1[pool_t.name] if pool_t.name in fig1 else fig1[dimm_t.name]
    glue["fig1_dimms"] = rounded(fig1_ndp / per_dimm)
    glue["fig1_per_dimm_at_8_GBps"] = rounded(fig1_ndp / 8 / u.GB)
    glue["n_dimms"] = n_dimms
    # the tiers in the order of their bandwidth under the selected profile
    order = sorted([("GPU memory", gpu_t), (pool_name(tiers[profile]), pool_t),
                    ("host DRAM", host_t), ("PCIe", pcie_t)],
                   key=lambda nt: -nt[1].bandwidth_bytes_per_s)
    glue["hierarchy_txt"] = (", then ".join(n for n, _ in order[:2]) + ", then "
                             + roofline.prose_list([n for n, _ in order[2:]]))
    # the Fig. 1 labels are for the paper's RTX 4090 on PCIe 4.0
    gpu_bw = sorted({by[p]["GPU"] for p in tiers})
    match = [round(v / fig1[gpu_t.name]) == 1 for v in gpu_bw]
    gpu_GBps = [f"{v / u.GB:,.0f}" for v in gpu_bw]
    glue["gpu_label_txt"] = (
        "The GPU label matches both profiles." if all(match) else
        f"The GPU label, for the paper's RTX 4090, does not match the {gpu_name}'s "
        f"{roofline.prose_list(gpu_GBps)} GB/s." if not any(match) else
        f"The GPU label matches the {gpu_name}'s "
        f"{roofline.prose_list([v for v, m in zip(gpu_GBps, match, strict=True) if m])} GB/s only.")
    ds_link = tiers["datasheet"][1].name.split(",")[0]
    glue["pcie_ds_txt"] = f"{rounded(by['datasheet']['PCIe'] / u.GB):.1f} GB/s" + (
        f" on the {gpu_name}'s {ds_link} link" if not ds_link.startswith("PCIe 4.0") else "")
    paper_gap, ds_gap = glue["gap_paper"], glue["gap_datasheet"]
    glue["gap_txt"] = (
        f'So the gap the paper quotes as "more than 15×" between GPU memory and PCIe is '
        f"{paper_gap:.1f}× with the paper's own numbers and {ds_gap:.1f}× per "
        "direction with the datasheets' (for the GPU of the parameters)." if gpu == "rtx_4090" else
        f'So for the {gpu_name} the gap between GPU memory and PCIe, which the paper quotes as '
        f'"more than 15×" for its RTX 4090, is {paper_gap:.1f}× under the paper profile and '
        f"{ds_gap:.1f}× per direction with the datasheets'.")
    return glue


def pcie_profile_txt(tiers: Mapping[str, Sequence[Tier]]) -> str:
    """What the paper profile takes per direction for the PCIe tier, after "the paper profile
    nevertheless takes": the paper's own figure, or its convention applied to a link the paper
    does not quote (PCIe 3.0 for a T4).
    """
    t = tiers["paper"][1]
    GBps = f"{t.bandwidth_bytes_per_s / u.GB:.0f} GB/s per direction"
    if t.bandwidth_label == "paper":
        return GBps
    link = t.name.split(",")[0]
    return (f"{GBps} for the GPU's {link} link, the paper's convention applied to a link it "
            "gives no figure for (assumed)")


def pcie_reading_txt(tiers: Mapping[str, Sequence[Tier]], profile: str) -> str:
    """What the PCIe tier's bandwidth per direction is under `profile`, for the parenthesis after
    it: the paper's figure is the x16 link's two directions together, read per direction.

    Parameters
    ----------
    tiers : mapping
        Profile (``paper`` and ``datasheet``) → its five tiers, in `roofline.system_tiers` order.
    profile : str
        The profile of the text.

    Returns
    -------
    str
        Under a PCIe bandwidth labelled *paper*: the paper's figure, read per direction, and the
        datasheet's rate per direction (GB/s, one decimal); otherwise: the datasheet's, and the
        paper's figure for both directions.
    """
    paper_GBps = tiers["paper"][1].bandwidth_bytes_per_s / u.GB
    ds_GBps = tiers["datasheet"][1].bandwidth_bytes_per_s / u.GB
    stated = tiers["paper"][1].bandwidth_label == "paper"
    if not stated:
        link = tiers["paper"][1].name.split(",")[0]
        convention = (f"the paper-profile {paper_GBps:.0f} GB/s of {link}, by the paper's "
                      "convention (its 64 GB/s for PCIe 4.0 is the link's two directions "
                      "together; it states no figure for this link)")
        if profile == "paper":
            return (f"{convention}, read per direction; the datasheet gives {ds_GBps:.1f} GB/s "
                    "per direction")
        return f"the datasheet's rate; {convention}"
    if tiers[profile][1].bandwidth_label == "paper":
        return ("the paper's figure, which is the link's two directions together, read per "
                f"direction by this book's paper profile (the paper states only the figure); the "
                f"datasheet gives {ds_GBps:.1f} GB/s per direction")
    return (f"the datasheet's rate; the paper's {paper_GBps:.0f} GB/s is the link's two "
            "directions together")


#: The four tiers of the bandwidth hierarchy as the text names them, by `system_tiers` position.
HIERARCHY_NAMES = {0: "GPU memory", 1: "PCIe", 2: "host DRAM", 4: "the NDP-DIMM pool"}


def argument_txt(*, pcie_s: float, pool_s: float, fits: bool) -> str:
    """The sentence after the quoted model's three step times: whether they make the paper's
    argument (the pool beats streaming the weights over PCIe), and whether offloading is needed.

    Parameters
    ----------
    pcie_s, pool_s : float
        The model's step time over PCIe and on the NDP-DIMM pool, s.
    fits : bool
        Whether the model's weights fit in GPU memory.
    """
    if pool_s < pcie_s:
        if not fits:
            return ("This is the paper's argument in three numbers: a step of an offloading "
                    "system is bound by PCIe, and NDP-DIMMs that compute where the weights "
                    "already are remove that transfer.")
        return ("The last two are the paper's argument: a step that streams its weights over "
                "PCIe is bound by PCIe, and NDP-DIMMs that compute where the weights already are "
                "remove that transfer; on this GPU, though, the weights fit in GPU memory and "
                "need neither.")
    return ("Here the pool is slower than streaming the weights over PCIe: at this batch and "
            "precision the paper's argument, that NDP-DIMMs computing "
            "where the weights already are beat a step bound by PCIe, does not hold"
            + (" (and on this GPU the weights fit in GPU memory and need neither)." if fits
               else "."))


def step_time_glue(tiers: Sequence[Tier], placed: pd.DataFrame, steps: pd.DataFrame, *,
                   batch: int, gpu_memory_bytes: float,
                   big_slug: str = "llama2_70b") -> dict[str, object]:
    """The sentences on step times: what sets them, and the order of decode speed, from the
    step-time table rather than from the bandwidths.

    Parameters
    ----------
    tiers : sequence of Tier
        The five tiers of one profile, in `roofline.system_tiers` order.
    placed : pandas.DataFrame
        The steps on the tiers (`roofline.place_on_rooflines`): ``operation`` (the model),
        ``tier``, ``bound`` and ``time_s`` (s).
    steps : pandas.DataFrame
        Decode steps (`roofline.decode_gemv_table`): ``slug``, ``model`` and ``bytes`` (B).
    batch : int
        Sequences per step, count.
    gpu_memory_bytes : float
        The GPU's memory, B: whether the quoted model's weights fit in it.
    big_slug : str
        The model whose pool time the text quotes.

    Returns
    -------
    dict
        ``step_time_txt`` (what a step's time is), ``speed_txt`` (whether the bandwidth
        hierarchy is the hierarchy of decode speed), ``big_pool_txt`` (the quoted model's
        time on the pool, and what limits it) and ``argument_txt`` (`argument_txt`).
    """
    one_dimm = one_dimm_pool(tiers)
    names = {**HIERARCHY_NAMES, 3: "one NDP-DIMM", 4: pool_name(tiers)}
    compute = [t.name for t in tiers
               if placed.loc[placed["tier"] == t.name, "bound"].eq(roofline.COMPUTE).any()]
    # a pool of one DIMM is that DIMM: name it once
    compute_named = [names[i] for i, t in enumerate(tiers)
                     if t.name in compute and not (one_dimm and i == 3)]
    glue: dict[str, object] = {}
    base = ("The time of a step is therefore the bytes of its weights over the bandwidth of the "
            "tier that holds them")
    glue["step_time_txt"] = base if not compute else (
        f"{base} on every memory-bound tier; at batch {batch} the steps on "
        f"{roofline.prose_list(compute_named)} are compute-bound, and there a step takes its FLOP "
        "over the tier's peak")
    total = placed.groupby("tier")["time_s"].sum()
    hier = {names[i]: tiers[i] for i in HIERARCHY_NAMES}
    by_bw = sorted(hier, key=lambda n: -hier[n].bandwidth_bytes_per_s)
    by_speed = sorted(hier, key=lambda n: total[hier[n].name])
    if by_speed == by_bw:
        glue["speed_txt"] = "is the hierarchy of decode speed."
    else:
        slow = [n for n in by_bw if hier[n].name in compute]
        glue["speed_txt"] = (
            "is not the hierarchy of decode speed here: the step-time table orders them "
            + ", then ".join(by_speed[:2]) + ", then " + roofline.prose_list(by_speed[2:])
            + (f", because {roofline.prose_list(slow)} "
               + ("is" if len(slow) == 1 else "are") + " limited by compute" if slow else "")
            + ".")
    big = steps.set_index("slug").loc[big_slug]
    pool = tiers[4]
    row = placed[(placed["tier"] == pool.name) & (placed["operation"] == big["model"])].iloc[0]
    ms = row["time_s"] / u.MS
    glue["big_pool_txt"] = (
        f"{ms:,.0f} ms from the pool's pin bandwidth" if row["bound"] != roofline.COMPUTE else
        f"{ms:,.0f} ms on the pool, limited by its multipliers (its pin bandwidth alone would "
        f"take {big['bytes'] / pool.bandwidth_bytes_per_s / u.MS:,.0f} ms)")
    on_pcie = placed[(placed["tier"] == tiers[1].name) & (placed["operation"] == big["model"])]
    glue["argument_txt"] = argument_txt(
        pcie_s=float(on_pcie["time_s"].iloc[0]), pool_s=float(row["time_s"]),
        fits=bool(big["bytes"] <= gpu_memory_bytes))
    return glue
