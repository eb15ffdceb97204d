"""What the end-to-end chapter (``book/end_to_end.ipynb``) computes for its text: Figs. 9–11.

The chapter sets every bar of the paper's Figs. 9, 10 and 11 beside the model's, under both
profiles, and measures the book's acceptance criteria against them. This module holds the logic
behind its tables and sentences: the model's bars under both profiles
(:func:`profile_bars`), the tables of the unstated parameters and calibrated constants, the
paper's averages, the acceptance criteria and their bands (:func:`acceptance`), what the model
says about the failures (:func:`failure_reading`) and which reading of the unstated parameters
the paper's bars favour (:func:`readings_glue`, :func:`link_reading_glue`).

Every function is pure: it takes the specs, tables and parameters the chapter loaded. Tables of
bars are those of :func:`hermes_model.policies.model_bars` with a ``profile`` column. Functions
that produce text return a ``dict`` of glue values (glue key → the value as the text prints
it); "N.P." (``scorecard.NP``) stands wherever a value cannot be computed because nothing runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd

from hermes_model import dram, ndp, params, policies, shapes
from hermes_model import scorecard as sc
from hermes_model import units as u
from hermes_model.chapters.scheduling import side_of
from hermes_model.paper import PAPER, differs
from hermes_model.plotting import rounded
from hermes_model.policies import Activity, Assumptions
from hermes_model.roofline import prose_list
from hermes_model.shapes import ModelSpec
from hermes_model.specs import PROFILES, SystemSpec, other_profile

# PROFILES and other_profile (hermes_model.specs) are re-exported for the chapter's setup cell
__all__ = [
    "CRITERIA",
    "PAPER_CONFIG",
    "PAPER_LENGTHS",
    "PREFILL_MATCH_FRAC",
    "PROFILES",
    "Acceptance",
    "FailureReading",
    "acceptance",
    "assumptions_table",
    "average_kind_words",
    "averages_glue",
    "averages_table",
    "bands_table",
    "batch_ratio_table",
    "calibrated_table",
    "chart_frame",
    "checked_parameters",
    "config_notice",
    "error_table",
    "evidence_lead",
    "failure_reading",
    "fall_fix_error",
    "fall_glue",
    "fall_words",
    "fastest_multipliers",
    "hermes_fastest_text",
    "hermes_np_note",
    "imbalance_glue",
    "link_reading_glue",
    "link_summary_glue",
    "np_or",
    "order_reading_text",
    "order_why_text",
    "other_profile",
    "printed_twice",
    "profile_bars",
    "ratio_text",
    "reading",
    "reading_row",
    "readings_glue",
    "readings_table",
    "ridge_batch",
    "sel",
    "setup_glue",
    "skip_words",
    "step_parts",
    "step_parts_words",
    "summary_profile_glue",
    "unstated_table",
    "why_np"
]

#: The paper's configuration (model, batch, n_dimms, gpu, profile, prompt_len, gen_len), the
#: order of :func:`checked_parameters`: the chapter's hidden checks of claims that hold only
#: there run only there. Read from `hermes_model.paper.PAPER`.
PAPER_CONFIG: Final = (PAPER.model, PAPER.batch, PAPER.n_dimms, PAPER.gpu, PAPER.profile,
                       PAPER.prompt_len, PAPER.gen_len)
_CONFIG_FIELDS: Final = ("model", "batch", "n_dimms", "gpu", "profile", "prompt_len", "gen_len")

#: The paper's run (§V-A): prompt and generated tokens per sequence. Every quantity the paper's
#: bars imply (its whole run, its mean decode step) is read at these lengths, whatever the
#: chapter's parameters.
PAPER_LENGTHS: Final = (PAPER.prompt_len, PAPER.gen_len)

#: The prefill share the model "matches" the paper's stated one within (relative; assumed).
PREFILL_MATCH_FRAC: Final = 0.10

#: The book's own acceptance criteria (assumed): the median absolute errors of Hermes at batch 1
#: (``bs1_pct``) and at batches 2–16 (``batch_pct``) in %, the number of batch-1 bands that must
#: hold the paper's value, the widest band (high / low) and Hermes / Hermes-host over Fig. 11
#: within ``hh_pct`` % of the paper's stated average.
CRITERIA: Final[Mapping[str, int]] = MappingProxyType(
    {"bs1_pct": 20, "batch_pct": 25, "n_inside": 5, "max_width": 3, "hh_pct": 30})

_FIGURES: Final = ("fig9", "fig10", "fig11")


# ------------------------------------------------------------------------------- text helpers


def np_or(v: Any, spec: str) -> str:
    """A number as the text shows it (format `spec`), N.P. where it cannot be computed (NaN:
    nothing runs): glued as text, so the prose gives no format spec."""
    return sc.NP if pd.isna(v) else format(v, spec)


def ratio_text(v: Any) -> str:
    """Model / paper to two decimals, N.P. where the model cannot run the bar."""
    return np_or(v, ".2f")


def why_np(pol: str, model: ModelSpec, system: SystemSpec, *, batch: int,
           options: Assumptions, prompt_len: int = PAPER.prompt_len,
           gen_len: int = PAPER.gen_len) -> str:
    """Why `pol` cannot run `model` at `batch` (sequences) on `system` (N.P.), as a clause.

    Returns
    -------
    str
        ``"it needs at least k NDP-DIMMs, not n"`` where more DIMMs than the pool's `n` would
        run it (``policies.min_dimms``), else the estimate's reason (``""`` where it runs).
    """
    k = policies.min_dimms(pol, model, system, batch=batch, prompt_len=prompt_len,
                           gen_len=gen_len, options=options)
    if k is not None and k > system.n_dimms:
        return f"it needs at least {k} NDP-DIMMs, not {system.n_dimms}"
    return policies.estimate(pol, model, system, batch=batch, prompt_len=prompt_len,
                             gen_len=gen_len, options=options).reason


# ------------------------------------------------------------------------------------- setup


def checked_parameters(model: Any, batch: Any, n_dimms: Any, gpu: Any, profile: Any,
                       prompt_len: Any, gen_len: Any) -> tuple[tuple[Any, ...], bool]:
    """The chapter's parameters checked and normalised (``hermes_model.params``), and whether
    they are the paper's configuration (:data:`PAPER_CONFIG`).

    Rule: ``paper_config`` is True only where *every* parameter is the paper's
    (``hermes_model.paper.differs`` over all seven). It gates the hidden checks of claims that
    hold for one bar (LLaMA2-70B at batch 1 under the paper profile), so the model, the batch
    and the profile count too; :func:`config_notice` asks a wider question.

    Returns ((model, batch, n_dimms, gpu, profile, prompt_len, gen_len), paper_config): slugs
    as the catalog spells them, counts as ``int``; raises ``ValueError`` naming the parameter.
    """
    checked = (params.model(model), params.positive_int(batch, "batch"),
               params.positive_int(n_dimms, "n_dimms"), params.gpu(gpu),
               params.profile(profile), params.positive_int(prompt_len, "prompt_len"),
               params.positive_int(gen_len, "gen_len"))
    return checked, not differs(**dict(zip(_CONFIG_FIELDS, checked, strict=True)))


def _gpu_words(name: str) -> str:
    """A GPU's catalog name as the text gives it ("NVIDIA GeForce RTX 3090" → "RTX 3090")."""
    return name.removeprefix("NVIDIA ").removeprefix("GeForce ")


def config_notice(*, gpu: str, gpu_name: str, n_dimms: int, prompt_len: int, gen_len: int,
                  profile: str, verdicts: bool = True) -> dict[str, object]:
    """Whether the chapter's parameters compare like for like with the paper's bars, in words.

    Rule: ``like_for_like`` is True where the hardware and the run are the paper's, that is
    where the GPU, the DIMM count and the two lengths are (``hermes_model.paper.differs`` over
    those four). The model and the batch do not count, unlike in :func:`checked_parameters`:
    the chapter sets every model and batch of Figs. 9–11 beside the paper's bar for it, so
    those comparisons stay like for like whatever the chapter's headline model or batch.

    The paper's bars are for one RTX 4090 with eight NDP-DIMMs, 128-token prompts and 128
    generated tokens (`hermes_model.paper.PAPER`). Another GPU, DIMM count or length sets other
    hardware or another run beside them: ``like_for_like`` is then False, ``config_note`` the
    sentence that says so (the acceptance verdicts do not apply) and ``summary_config_note``
    its short form for the summary. The profile is not part of the rule either: the acceptance
    criteria are measured under the paper profile whatever the chapter's, and only
    ``profile_note`` says that the tables show another. Every text is "" at the paper's
    configuration. A chapter with no acceptance verdicts and no implied quantities (`verdicts`
    False: the breakdown's) gets the sentence without them.
    """
    off = differs(gpu=gpu, n_dimms=n_dimms, prompt_len=prompt_len, gen_len=gen_len)
    differ = []
    if {"gpu", "n_dimms"} & set(off):
        differ.append(f"one {_gpu_words(gpu_name)} with "
                      + u.plural(n_dimms, "NDP-DIMM", count=u.count_words(n_dimms)))
    if {"prompt_len", "gen_len"} & set(off):
        differ.append(f"{prompt_len}-token prompts and {u.plural(gen_len, 'generated token')}")
    like = not differ
    p0, n0 = PAPER.prompt_len, PAPER.gen_len
    out: dict[str, object] = {"like_for_like": like, "config_note": "",
                              "summary_config_note": "", "profile_note": ""}
    if not like:
        out["config_note"] = (
            f"Not the paper's configuration: this run models {', '.join(differ)}, while the "
            f"paper's bars are for one RTX 4090 with "
            f"{u.plural(PAPER.n_dimms, 'NDP-DIMM', count=u.count_words(PAPER.n_dimms))}, "
            f"{p0}-token prompts and {u.plural(n0, 'generated token')} (§V-A). Every comparison "
            "with the paper's bars below is therefore not like for like" + (
                ", and the acceptance verdicts do not apply (n/a); what the paper's bars imply "
                f"(its whole runs, its decode steps) is still read at its own {p0}/{n0} tokens."
                if verdicts else "."))
        out["summary_config_note"] = (
            f"This run models {', '.join(differ)}, not the paper's configuration, so the "
            "comparisons summarised here are not like for like and the acceptance verdicts do "
            "not apply. ")
    if differs(profile=profile):
        out["profile_note"] = (
            f"The tables and charts show the {profile} profile's bars; the acceptance criteria "
            "are measured under the paper profile, as always.")
    return out


def setup_glue(profile: str, fig10: pd.DataFrame) -> dict[str, object]:
    """The chapter's profile (``profile_here``) and the paper's headline, LLaMA2-70B's Hermes
    bar of Fig. 10 as printed (``headline_paper``, tokens/s)."""
    head = fig10.loc[(fig10["model"] == "llama2_70b") & (fig10["policy"] == "hermes"),
                     "tokens_per_s"].item()
    return {"profile_here": profile, "headline_paper": sc.paper_text(head)}


# ---------------------------------------------------------------------- the choices, tables


def assumptions_table(system: SystemSpec) -> pd.DataFrame:
    """The choices of `policies.Assumptions` (all but the activity) and their defaults; a
    catalog value (the cycles per operation when unset) is shown as that of `system`."""
    defaults = Assumptions()

    def shown(name: str, value: Any) -> str:
        if name == "cycles_per_op" and value is None:
            return f"catalog ({system.dimm.ndp_cycles_per_op:g})"
        return str(value)

    return pd.DataFrame([{"choice": f.name, "default": shown(f.name, getattr(defaults, f.name))}
                         for f in fields(Assumptions) if f.name != "activity"])


def parallel_mlp_share(model: ModelSpec, system: SystemSpec, activity: Activity, *,
                       prompt_len: int = PAPER.prompt_len, gen_len: int = PAPER.gen_len) -> float:
    """The MLP block's share of Hermes' mean decode step at batch 1, for a model whose attention
    and MLP read the same input (Falcon's ``parallel_attn``), else NaN.

    Every policy times the two blocks one after the other; this share bounds what a Hermes that
    ran the DIMMs' MLP share under the GPU's projection could hide.
    """
    if not model.parallel_attn:
        return float("nan")
    e = policies.estimate("hermes", model, system, batch=1, prompt_len=prompt_len,
                          gen_len=gen_len, options=Assumptions(activity=activity))
    if not e.supported:
        return float("nan")
    return model.n_layers * e.details["mlp_block_s"] / e.decode_step_s


def unstated_table() -> pd.DataFrame:
    """The unstated parameters (``policies.UNSTATED``): default, the two ends of the plausible
    range, the systems each moves (display names) and why, one row each."""
    return pd.DataFrame([{"parameter": p.name, "default": str(p.default), "low end": str(p.low),
                          "high end": str(p.high),
                          "systems": ", ".join(sc.SYSTEM_NAMES.get(x, x) for x in p.policies),
                          "reason": p.reason} for p in policies.UNSTATED])


def imbalance_glue(balance: pd.DataFrame, batch: int = 1) -> dict[str, object]:
    """The scheduling chapter's replay beside the unstated ``dimm_imbalance``.

    Parameters
    ----------
    balance : DataFrame
        ``io.load_scheduling_table("balance")`` (``data/derived/balance.csv``: ``model``,
        ``batch``, ``placement``, ``imbalance_per_token``).
    batch : int
        The batch whose replays are quoted (sequences).

    Returns
    -------
    dict
        ``imb_default``, ``imb_low``, ``imb_high`` (the parameter's default and the ends of its
        range, ``policies.UNSTATED``), and the range over the replay's models at `batch` of
        the per-token imbalance :math:`I_\\mathrm{tok}` after Algorithm 1's window remapping
        (``imb_remap``, placement ``remapped``) and with online adjustment as well
        (``imb_adjust``, ``adjustment_remapped``), as ``"1.04–1.07"``; ``imb_n_models``, how
        many models (in words); ``imb_adjust_clause``, where the second range lies against the
        default; ``imb_inside``: whether both ranges lie inside the parameter's range, and
        ``imb_where``, that in words (``"inside"`` or ``"not inside"``).
    """
    p = next(u_ for u_ in policies.UNSTATED if u_.name == "dimm_imbalance")
    lo, hi = sorted((float(p.low), float(p.high)))
    b = balance[balance["batch"] == batch]
    out: dict[str, object] = {"imb_default": float(p.default), "imb_low": lo, "imb_high": hi}
    inside, v = True, pd.Series(dtype=float)
    for key, placement in (("imb_remap", "remapped"), ("imb_adjust", "adjustment_remapped")):
        v = b.loc[b["placement"] == placement, "imbalance_per_token"].astype(float)
        if v.empty:
            raise ValueError(f"balance table: no {placement!r} row at batch {batch}")
        out[key] = f"{v.min():.2f}–{v.max():.2f}"
        inside = inside and lo <= v.min() and v.max() <= hi
    side = side_of(v, float(p.default))  # the last range read: with online adjustment
    out["imb_adjust_clause"] = f", {side} the default" + (
        ", which is therefore optimistic against the replay of the configuration Hermes runs "
        "by default (online adjustment on)" if side == "above" else "")
    out["imb_n_models"] = u.count_words(int(b["model"].nunique()))
    out["imb_inside"] = bool(inside)
    out["imb_where"] = "inside" if inside else "not inside"
    return out


def calibrated_table(system: SystemSpec) -> pd.DataFrame:
    """The calibrated constants of `system` and the policies, as the table shows them (µs for
    the fixed costs), with where each comes from."""
    g_eff, l_eff = system.gpu.efficiency, system.host_link.efficiency
    return pd.DataFrame([
        {"constant": "GPU bandwidth, compute fractions, t_0",
         "value": f"{g_eff.bandwidth_frac}, {g_eff.compute_frac}, "
                  f"{rounded(g_eff.overhead_s / u.US)} µs",
         "source": "calibrated on H200 kernels (calibration chapter)"},
        {"constant": "PCIe fraction, latency",
         "value": f"{l_eff.bandwidth_frac}, {rounded(l_eff.overhead_s / u.US)} µs",
         "source": "calibrated on H200 pinned copies"},
        {"constant": "gather penalty", "value": f"{policies.GATHER_PENALTY}",
         "source": "calibrated on 108 gathered GEMVs"},
        {"constant": "pageable / pinned copy", "value": f"{policies.PAGEABLE_COPY_FRAC:.2f}",
         "source": "measured H2D copies ≥ 32 MiB"},
        {"constant": "kernel in a CUDA graph",
         "value": f"{rounded(policies.CUDA_GRAPH_KERNEL_S / u.US)} µs", "source": "measured"},
    ])


# ------------------------------------------------------------------------- bars, Figs. 9–11


def profile_bars(figure: pd.DataFrame, systems: Mapping[str, SystemSpec],
                 activities: Mapping[str, Activity], models: Mapping[str, ModelSpec], *,
                 prompt_len: int, gen_len: int) -> pd.DataFrame:
    """``policies.model_bars`` of a paper figure under each system of `systems` (keyed by
    profile, in that order), stacked with a ``profile`` column.

    ``prefill_paper_s`` is the model's prefill of the same bar at the paper's lengths
    (:data:`PAPER_LENGTHS`; NaN where it cannot run there): the prefill the quantities the
    paper's bars imply subtract. At those lengths it is ``prefill_s``.
    """
    out = []
    for p, system in systems.items():
        b = policies.model_bars(figure, system, activities, models, prompt_len=prompt_len,
                                gen_len=gen_len)
        if "prefill_s" in b:  # (a table of no bars has no columns to read)
            at_paper = b if (prompt_len, gen_len) == PAPER_LENGTHS else policies.model_bars(
                figure, system, activities, models, prompt_len=PAPER_LENGTHS[0],
                gen_len=PAPER_LENGTHS[1])
            b = b.assign(prefill_paper_s=at_paper["prefill_s"].to_numpy())
        out.append(b.assign(profile=p))
    return pd.concat(out, ignore_index=True)


def sel(bars: pd.DataFrame, profile: str) -> pd.DataFrame:
    """The bars of one profile."""
    return bars[bars["profile"] == profile]


def chart_frame(bars: pd.DataFrame, profile: str, names: Mapping[str, str],
                x: str = "policy") -> pd.DataFrame:
    """Tidy rows for ``plotting.model_vs_paper_chart``: the model's bars of every profile
    (``series`` "model, <p> profile") and the paper's values under `profile` (``series``
    "paper"), models by display name (`names`); for ``x="policy"`` the systems' display names
    in a ``system`` column."""
    rows = bars[["model", x, "profile", "tokens_per_s"]].assign(
        series=lambda d: "model, " + d["profile"] + " profile")
    ref = bars[bars["profile"] == profile][["model", x, "paper_tokens_per_s"]].rename(
        columns={"paper_tokens_per_s": "tokens_per_s"}).assign(series="paper")
    out = pd.concat([rows.drop(columns="profile"), ref], ignore_index=True)
    out["model"] = out["model"].map(names)
    if x == "policy":
        out = out.assign(policy=out["policy"].map(sc.SYSTEM_NAMES)).rename(
            columns={"policy": "system"})
    return out


def hermes_np_note(bars: pd.DataFrame, models: Mapping[str, ModelSpec], system: SystemSpec,
                   activities: Mapping[str, Activity], *, names: Mapping[str, str],
                   prompt_len: int, gen_len: int) -> dict[str, object]:
    """``hermes_np_note``: where Hermes cannot run a bar the paper prints (``policies.np_note``
    over `bars`), the sentence and that the chapter leaves those bars out; "" where it runs all.
    """
    note = policies.np_note(bars, "hermes", models, system, activities, label="Hermes",
                            names=names, prompt_len=prompt_len, gen_len=gen_len)
    return {"hermes_np_note": note + " Those bars are N.P. here, and the averages, bands and "
            "fits below leave them out." if note else ""}


def printed_twice(b10: pd.DataFrame, b11: pd.DataFrame, profile: str) -> dict[str, object]:
    """The bar the paper prints twice, Falcon-40B's Hermes-host at batch 1 (Figs. 10 and 11):
    each printed value (``fh_fig10_paper``, ``fh_fig11_paper``), model over it under `profile`
    (``fh_fig10_ratio``, ``fh_fig11_ratio``) and the model's one value (``fh_model``)."""
    twice = {f: b_[(b_["profile"] == profile) & (b_["model"] == "falcon_40b")
                   & (b_["policy"] == "hermes-host") & (b_["batch"] == 1)].iloc[0]
             for f, b_ in (("fig10", b10), ("fig11", b11))}
    out: dict[str, object] = {}
    for f, r in twice.items():
        out[f"fh_{f}_paper"] = sc.paper_text(r["paper_tokens_per_s"])
        out[f"fh_{f}_ratio"] = ratio_text(r["tokens_per_s"] / r["paper_tokens_per_s"])
    out["fh_model"] = sc.sig_text(twice["fig11"]["tokens_per_s"])
    return out


def error_table(bars: pd.DataFrame, profile: str, names: Mapping[str, str]) -> pd.DataFrame:
    """The bars of `profile`: the paper's value as printed, the model's to three significant
    figures, and model / paper (N.P. where the model cannot run the bar)."""
    t = sel(bars, profile)
    return pd.DataFrame({
        "model": t["model"].map(names), "system": t["policy"].map(sc.SYSTEM_NAMES),
        "paper (tokens/s)": [sc.paper_text(v) for v in t["paper_tokens_per_s"]],
        "model (tokens/s)": [sc.sig_text(v) for v in t["tokens_per_s"]],
        "model / paper": [ratio_text(v) for v in t["tokens_per_s"] / t["paper_tokens_per_s"]],
    }).reset_index(drop=True)


def batch_ratio_table(b11: pd.DataFrame, profile: str, names: Mapping[str, str]
                      ) -> pd.DataFrame:
    """Model over paper for every system (rows, display names) and batch (columns) of Fig. 11
    under `profile`, as text (N.P. where the model cannot run the bar)."""
    wide = b11[b11["profile"] == profile].pivot_table(
        index=["model", "policy"], columns="batch", values=["tokens_per_s", "paper_tokens_per_s"])
    ratio = (wide["tokens_per_s"] / wide["paper_tokens_per_s"]).rename(
        index=names, level="model").rename(index=sc.SYSTEM_NAMES, level="policy")
    return ratio.map(ratio_text).rename_axis(index=["model", "system"],
                                             columns="model / paper at batch")


# ---------------------------------------------------------------------------------- averages


def _average_label(name: str) -> str:
    """"Hermes / Accelerate, batch 1": the systems and batches of an average, in words."""
    num, den, _, batches = policies.AVERAGE_DEFINITIONS[name]
    b = f"batch {batches[0]}" if len(batches) == 1 else f"batches {batches[0]}–{batches[-1]}"
    return f"{sc.SYSTEM_NAMES[num]} / {sc.SYSTEM_NAMES[den]}, {b}"


def averages_table(stated: pd.DataFrame, from_paper: Mapping[str, float],
                   from_model: Mapping[str, float], from_other: Mapping[str, float], *,
                   profile: str, other: str, kinds: Mapping[str, str] | None = None
                   ) -> pd.DataFrame:
    """Every average of ``policies.AVERAGE_DEFINITIONS``: its definition and stated value as
    the paper prints them (`stated`, indexed by name), the mean it is taken with (`kinds`,
    ``scorecard.average_mean_kinds``; arithmetic where it names none), and as computed from the
    paper's bars and the model's under `profile` and `other` with that mean, to three
    significant figures."""
    names = list(policies.AVERAGE_DEFINITIONS)
    kinds = kinds or {}
    return pd.DataFrame({
        "definition": [stated.loc[n, "definition"] for n in names],
        "stated (paper)": [sc.paper_text(stated.loc[n, "value"]) for n in names],
        "mean": [kinds.get(n, "arithmetic") for n in names],
        "from the paper's bars": [sc.sig_text(from_paper[n]) for n in names],
        f"model ({profile} profile)": [sc.sig_text(from_model[n]) for n in names],
        f"model ({other} profile)": [sc.sig_text(from_other[n]) for n in names]},
        index=pd.Index([_average_label(n) for n in names], name="average"))


def _means_words(name: str, means: pd.DataFrame) -> str:
    """"85.2× as an arithmetic mean and 80.7× as a geometric one": one average's bars."""
    return (f"{sc.sig_text(means.loc[name, 'arithmetic'])}× as an arithmetic mean and "
            f"{sc.sig_text(means.loc[name, 'geometric'])}× as a geometric one")


def average_kind_words(stated: pd.DataFrame, means: pd.DataFrame, kinds: Mapping[str, str]
                       ) -> dict[str, object]:
    """The averages' first sentences: which stated averages the paper's bars do not give, and
    which are their geometric mean.

    Parameters
    ----------
    stated : DataFrame
        The paper's stated averages, indexed by name (column ``value``).
    means : DataFrame
        ``scorecard.average_means`` of the paper's bars.
    kinds : mapping of average name → str
        ``scorecard.average_mean_kinds``: the mean each average is read as.

    Returns
    -------
    dict
        ``n_avg_unsupported``, ``avg_unsupported_txt`` (the averages farther than
        ``scorecard.FOLLOWS_WITHIN`` from their bars), ``avg_geometric_txt`` (those read as
        geometric means, and what that means for the table), ``avg_summary_txt`` (the
        summary's clause: ``"the stated 75.24× of Hermes over Deja Vu, batches 1–16, which its
        bars do not support (the stated 62× of Hermes-host over Accelerate is the geometric mean
        of its bars)"``) and
        ``follows_pct``.
    """
    values = stated["value"]
    bad = sc.unsupported_averages(values, means, kinds)
    follows = round(100 * sc.FOLLOWS_WITHIN)
    quoted = [f"{sc.paper_text(values[n])}× {sc.average_label(n)} (its bars give "
              f"{_means_words(n, means)})" for n in bad]
    if not bad:
        unsupported = ("Every stated average follows from the paper's own bars (within "
                       f"{follows} % of their mean).")
    else:
        one = len(bad) == 1
        unsupported = (f"{u.count_words(len(bad)).capitalize()} stated average"
                       f"{'' if one else 's'} do{'es' if one else ''} not follow from the "
                       f"paper's own bars, lying more than {follows} % from either mean of "
                       f"them: {prose_list(quoted)}.")
    geo = [n for n in kinds if kinds[n] == "geometric"]
    if not geo:
        geometric = ("Every average is taken as an arithmetic mean, of the paper's bars and of "
                     "the model's alike.")
    else:
        each = [f"{sc.paper_text(values[n])}× of {sc.average_label(n)} is the geometric mean "
                f"of its bars ({sc.sig_text(means.loc[n, 'geometric'], 4)}×; their arithmetic "
                f"mean is {sc.sig_text(means.loc[n, 'arithmetic'], 4)}×)" for n in geo]
        rows = "that row takes" if len(geo) == 1 else "those rows take"
        odd = sc.misfit_averages(values, means)
        misfit = prose_list([f"{sc.paper_text(values[n])}× of {sc.average_label(n)}"
                             for n in odd])
        neither = (f", except the {misfit}, which {'fits' if len(odd) == 1 else 'fit'} "
                   "neither" if odd else "")
        geometric = (f"The stated {prose_list(each)}, so {rows} the geometric mean, of the "
                     "paper's bars and of the model's alike; every other row takes the "
                     "arithmetic mean, which the stated values fit where their bars tell the two "
                     f"apart{neither} (the column “mean”).")

    def named(ns: Sequence[str]) -> str:
        return prose_list([f"{sc.paper_text(values[n])}× of {sc.average_label(n)}" for n in ns])

    one = len(bad) == 1
    summary = (f"the stated {named(bad)}, which {'its' if one else 'their'} bars do not support"
               if bad else "a gap in the paper's own averages (its bars support every one)")
    if geo:
        summary += (f" (the stated {named(geo)} {'is' if len(geo) == 1 else 'are'} the "
                    f"geometric mean of {'its' if len(geo) == 1 else 'their'} bars)")
    return {"n_avg_unsupported": len(bad), "avg_unsupported_txt": unsupported,
            "avg_geometric_txt": geometric, "avg_summary_txt": summary, "follows_pct": follows}


def averages_glue(stated: pd.DataFrame, from_paper: Mapping[str, float],
                  from_model: Mapping[str, float], bs1: pd.DataFrame, b11: pd.DataFrame
                  ) -> dict[str, object]:
    """The averages' sentences: Hermes over Hermes-host at batch 1 as a range (stated, from the
    paper's bars, the model's) and over Fig. 11 (stated, the model's), and the counts of
    models, batches and points behind them (from `bs1`, Figs. 9–10, and `b11`)."""
    hh = "hermes_over_hermes_host"
    out: dict[str, object] = {
        "hh_range_stated": f"{sc.paper_text(stated.loc[f'{hh}_range', 'value'])}–"
                           f"{sc.paper_text(stated.loc[f'{hh}_range', 'value_high'])}",
        "hh_range_paper": u.span_text(from_paper[f"{hh}_min"], from_paper[f"{hh}_max"]),
        "hh_range_model": u.span_text(from_model[f"{hh}_min"], from_model[f"{hh}_max"]),
        "hh_avg_stated": sc.paper_text(stated.loc[f"{hh}_batches", "value"])}
    avg = np_or(round(from_model[f"{hh}_batches"], 2), ".2f")
    out["hh_avg_model"] = avg if avg == sc.NP else avg + "×"
    out["n_bs1_models"] = int(bs1["model"].nunique())
    out["n_fig11_points"] = int(b11.groupby(["model", "batch"]).ngroups)
    out["n_fig11_models"] = int(b11["model"].nunique())
    out["n_fig11_batches"] = int(b11["batch"].nunique())
    return out


# ------------------------------------------------------------------------ acceptance criteria


@dataclass(frozen=True)
class Acceptance:
    """The acceptance criteria measured (:func:`acceptance`).

    Attributes
    ----------
    bands : DataFrame
        Per model of Figs. 9–10, Hermes at batch 1: ``paper``, ``model value``, ``band low``,
        ``band high`` (tokens/s), ``band width (x)``, ``inside`` (the paper's value in the band)
        and the ``corners`` the band's design moved most; NaN, False and "" for an N.P. bar.
    acc : dict
        ``bs1_median_err_pct``, ``bs2_16_median_err_pct`` (%, an N.P. bar a full miss),
        ``n_inside``, ``max_width``, ``n_order``, ``hh_avg`` (Hermes / Hermes-host over Fig. 11)
        and ``hh_err_pct`` (against the stated average, %).
    order : dict
        Per model: whether the model ranks the systems at batch 1 as the paper does.
    glue : dict
        The acceptance table's and its paragraph's glue values.
    """

    bands: pd.DataFrame
    acc: dict[str, Any]
    order: dict[str, bool]
    glue: dict[str, object]


def _band_row(r: pd.Series, model: ModelSpec, system: SystemSpec, activity: Activity | None, *,
              prompt_len: int, gen_len: int) -> dict[str, Any]:
    if not r["supported"]:  # N.P.: no band
        return {"model": r["model"], "paper": r["paper_tokens_per_s"], "model value": np.nan,
                "band low": np.nan, "band high": np.nan, "band width (x)": np.nan,
                "inside": False, "corners": ""}
    band = policies.tokens_per_s_band("hermes", model, system, batch=1, prompt_len=prompt_len,
                                      gen_len=gen_len, options=Assumptions(activity=activity))
    return {"model": r["model"], "paper": r["paper_tokens_per_s"],
            "model value": r["tokens_per_s"], "band low": band.low, "band high": band.high,
            "band width (x)": band.high / band.low,
            "inside": bool(band.low <= r["paper_tokens_per_s"] <= band.high),
            "corners": ", ".join(band.corners)}


def acceptance(bs1: pd.DataFrame, b11: pd.DataFrame, stated: pd.DataFrame,
               models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
               system: SystemSpec, *, here: SystemSpec, names: Mapping[str, str],
               prompt_len: int, gen_len: int, like_for_like: bool = True) -> Acceptance:
    """The acceptance criteria under the ``paper`` profile, measured on the bars.

    Parameters
    ----------
    bs1, b11 : DataFrame
        Bars of Figs. 9–10 and of Fig. 11 under both profiles (:func:`profile_bars`); the
        ``paper`` profile's are measured.
    stated : DataFrame
        The paper's stated averages, indexed by name (Hermes / Hermes-host over Fig. 11).
    models, activities : mapping
        Shapes and activity statistics by model slug.
    system : SystemSpec
        The paper-profile system; its bands (``policies.tokens_per_s_band``) and its DIMMs are
        glued.
    here : SystemSpec
        The system of the chapter's profile (its GPU memory, GiB, is glued as ``gpu_gib``).
    names : mapping
        Display names by model slug.
    prompt_len, gen_len : int
        Tokens per sequence.
    like_for_like : bool
        Whether the chapter's configuration is the paper's (:func:`config_notice`); where not,
        ``acc_note`` says the verdicts do not apply.
    """
    h1 = bs1[(bs1["profile"] == "paper") & (bs1["policy"] == "hermes")]
    bands = pd.DataFrame([_band_row(r, models[r["model"]], system, activities[r["model"]],
                                    prompt_len=prompt_len, gen_len=gen_len)
                          for _, r in h1.iterrows()])
    hb = b11[(b11["profile"] == "paper") & (b11["policy"] == "hermes") & (b11["batch"] > 1)]
    order = policies.system_order_matches(bs1[bs1["profile"] == "paper"])
    acc = {"bs1_median_err_pct": 100 * float(np.median(np.abs(h1["error_frac"].fillna(-1.0)))),
           "bs2_16_median_err_pct": 100 * float(np.median(np.abs(hb["error_frac"].fillna(-1.0)))),
           "n_inside": int(bands["inside"].sum()), "max_width": float(bands["band width (x)"].max()),
           "n_order": int(sum(order.values())),
           "hh_avg": policies.figure_averages(bs1[bs1["profile"] == "paper"],
                                              b11[b11["profile"] == "paper"],
                                              "tokens_per_s")["hermes_over_hermes_host_batches"]}
    hh_stated = float(stated.loc["hermes_over_hermes_host_batches", "value"])
    acc["hh_err_pct"] = 100 * (acc["hh_avg"] / hh_stated - 1)
    glue: dict[str, object] = {f"crit_{k}": v for k, v in CRITERIA.items()}
    # glued to the decimals the text shows (one rounding, so text and tables agree)
    shown = {"bs1_median_err_pct": 1, "bs2_16_median_err_pct": 1, "max_width": 2, "hh_avg": 2,
             "hh_err_pct": 0}
    as_text = {"max_width": ".2f", "hh_avg": ".2f", "hh_err_pct": "+.0f"}  # N.P.: nothing runs
    for k, v in acc.items():
        shown_v = round(v, shown[k]) if isinstance(v, float) and not np.isnan(v) else v
        glue[f"acc_{k}"] = np_or(shown_v, as_text[k]) if k in as_text else shown_v
    err1 = h1.set_index("model")["error_frac"].dropna()  # the bars the model runs
    # the signed errors in words that follow their sign; the median counts N.P. bars as misses
    bs1_lead, bs1_spread = policies.error_range_words(
        {names[m]: round(100 * float(e)) for m, e in err1.items()},
        median_pct=round(acc["bs1_median_err_pct"], 1), n_np=len(h1) - len(err1))
    glue["acc_hh_cell"] = (sc.NP if pd.isna(acc["hh_avg"]) else  # the table's cell: N.P. alone
                           f"{round(acc['hh_avg'], 2):.2f}× ({round(acc['hh_err_pct']):+.0f} %)")
    glue["bs1_lead"], glue["bs1_spread"] = bs1_lead, bs1_spread
    glue["order_fail"] = ", ".join(names[k] for k, v in order.items() if not v) or "none"
    glue["acc_n_models"] = len(bands)  # models with a band
    glue["acc_n_order_models"] = len(order)  # models whose order is compared
    glue["e2e_n_dimms"] = int(system.n_dimms)
    glue["e2e_dimm_gbps"] = round(float(dram.dimm_bandwidth_bytes_per_s(system.dimm)) / u.GB)
    glue["e2e_cycles"] = int(system.dimm.ndp_cycles_per_op)
    glue["gpu_gib"] = rounded(here.gpu.memory_bytes / u.GiB)
    glue["acc_note"] = "" if like_for_like else (
        " Not applicable here (n/a): this run's configuration is not the paper's (see the top of "
        "the chapter), so the values reached below set other hardware or another run beside the "
        "paper's bars and measure that difference as much as the model's error; they are shown "
        "for reference only.")
    glue["order_why"] = order_why_text(bs1[bs1["profile"] == "paper"], order, names,
                                       glue["gpu_gib"])
    return Acceptance(bands=bands, acc=acc, order=order, glue=glue)


def bands_table(bands: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """:attr:`Acceptance.bands` as the chapter shows it: display names, the paper's values as
    printed, the model's to three significant figures, band widths to two decimals."""
    return bands.assign(
        model=bands["model"].map(names), paper=[sc.paper_text(v) for v in bands["paper"]],
        **{c: [sc.sig_text(v) for v in bands[c]] for c in ("model value", "band low", "band high")},
        **{"band width (x)": [ratio_text(v) for v in bands["band width (x)"]]})


# ---------------------------------------------------------- what the model says about failures


def ridge_batch(mac_per_s: float, bandwidth_bytes_per_s: float, dtype: str = "fp16") -> float:
    """The batch above which a device's multipliers, not its memory reads, limit a GEMV.

    Parameters
    ----------
    mac_per_s : float
        Multiply-adds per second the device attains (MAC/s).
    bandwidth_bytes_per_s : float
        Bytes per second it reads (B/s).
    dtype : str
        Weight type (``shapes.dtype_bytes``).

    Returns
    -------
    float
        Multiply-adds per weight read (sequences): a batch-`b` GEMV does `b` per weight.
    """
    return mac_per_s / (bandwidth_bytes_per_s / shapes.dtype_bytes(dtype))


def _options(activities: Mapping[str, Activity], slug: str, **kw: Any) -> Assumptions:
    return Assumptions(activity=activities[slug], **kw)


def step_parts(models: Mapping[str, ModelSpec], system: SystemSpec,
               activities: Mapping[str, Activity], *, prompt_len: int, gen_len: int
               ) -> dict[str, dict[str, Any]]:
    """Hermes' batch-1 decode step by part, per model it runs on `system`.

    Returns per model slug: ``proj`` and ``mlp``, the projection's (on the GPU alone) and the
    MLP block's shares of the step; ``dimms``, whether the DIMMs' side of the MLP block is at
    least as long as the GPU's (limiting, or balanced); ``balanced``; and ``gpu_share``, the
    GPU's share of the MLP block's active neurons.
    """
    out = {}
    for m, spec in models.items():
        e = policies.estimate("hermes", spec, system, batch=1, prompt_len=prompt_len,
                              gen_len=gen_len, options=_options(activities, m))
        if e.supported:
            n_layers = spec.n_layers
            out[m] = {"proj": n_layers * e.details["projection_s"] / e.decode_step_s,
                      "mlp": n_layers * e.details["mlp_block_s"] / e.decode_step_s,
                      "dimms": bool(e.details["mlp_cold_bound"] or e.details["mlp_balanced"]),
                      "balanced": bool(e.details["mlp_balanced"]),
                      "gpu_share": e.details["gpu_load_share"]}
    return out


def step_parts_words(step1: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
                     ) -> tuple[list[str], list[str], str]:
    """The models whose batch-1 step the projection dominates (over half of it), the others,
    and the sentence that says so (``step1_text``) from :func:`step_parts`'s shares."""
    proj_led = [m for m in step1 if step1[m]["proj"] > 0.5]  # over half the step
    shared = [m for m in step1 if m not in proj_led]
    pc = {m: {k: round(100 * step1[m][k]) for k in ("proj", "mlp")} for m in step1}
    parts = []
    if proj_led:
        lo, hi = (f(pc[m]["proj"] for m in proj_led) for f in (min, max))
        parts.append(f"for {prose_list([names[m] for m in proj_led])} the decode step is "
                     "dominated by the projection, on the GPU alone ("
                     + (f"{lo}–{hi}" if lo != hi else f"{lo}") + " % of the step)")
    if shared:
        rel = ("more of it than" if all(pc[m]["mlp"] > pc[m]["proj"] for m in shared) else
               "less of it than" if all(pc[m]["mlp"] < pc[m]["proj"] for m in shared) else
               "a share of it beside")
        # what limits each MLP block: named by model where the shared models differ
        kind = {m: "balanced" if step1[m]["balanced"] else "dimms" if step1[m]["dimms"] else "gpu"
                for m in shared}
        by = {k: [names[m] for m in shared if kind[m] == k] for k in kind.values()}
        how = {"balanced": "with equally long GPU and DIMM sides", "dimms": "limited by the DIMMs",
               "gpu": "limited by the GPU"}
        qual = (("its GPU and DIMM sides made equally long by the split" if "balanced" in by
                 else how[next(iter(by))]) if len(by) == 1 else
                prose_list([f"{how[k]} for {prose_list(v)}" for k, v in by.items()]))
        parts.append(f"for {prose_list([names[m] for m in shared])} the MLP block, "
                     f"{qual}, takes {rel} the projection (" + "; ".join(
                         f"{names[m]}: {pc[m]['mlp']} % against {pc[m]['proj']} %"
                         for m in shared) + ")")
    text = "; ".join(parts) if parts else "Hermes cannot run any model at batch 1 here (N.P.)"
    return proj_led, shared, text


def fall_words(hb11: pd.DataFrame, names: Mapping[str, str]
               ) -> tuple[dict[str, tuple[int, list[int]]], str]:
    """Where Hermes' tokens/s falls past its peak as the batch grows (`hb11`: its supported
    bars of Fig. 11 under one profile): per model the peak batch and the batches after it, and
    the clause that says so (``fall_text``)."""
    falls, bits = {}, []
    for m, t in hb11.groupby("model", sort=False):
        tps = t.set_index("batch")["tokens_per_s"].sort_index()
        peak = int(tps.idxmax())
        after = [int(x) for x in tps.index if x > peak]
        if after:
            falls[str(m)] = (peak, after)
            bits.append(f"{names[m]} from {sc.sig_text(tps[peak])} tokens/s at batch {peak} "
                        "to " + " and ".join(f"{sc.sig_text(tps[x])} at {x}" for x in after))
    text = ("so the step grows faster than the batch and the model's tokens/s falls: "
            + "; ".join(bits) if bits else "yet the model's tokens/s does not fall on any of "
            "Fig. 11's models here" if len(hb11) else "but Hermes cannot run Fig. 11's models "
            "here (N.P.), so whether the model's tokens/s falls cannot be read")
    return falls, text


def skip_words(skip_tps: Mapping[str, Mapping[int, float]], batches: list[int],
               names: Mapping[str, str]) -> str:
    """``skip_text``: Hermes' tokens/s at Fig. 11's two largest `batches` with the MACs of
    inactive sequences skipped (`skip_tps`: per model, per batch), for LLaMA2-70B where it runs
    both, else the first model that does."""
    b_hi = batches[-2:]
    skip_ok = [m for m, v in skip_tps.items() if all(np.isfinite(v[x]) for x in b_hi)]
    skip_m = "llama2_70b" if "llama2_70b" in skip_ok else next(iter(skip_ok), None)
    if skip_m is None:
        return "Hermes cannot run Fig. 11's models at both of its largest batches here (N.P.)"
    return (f"{names[skip_m]}'s tokens/s then rises from "
            f"{sc.sig_text(skip_tps[skip_m][b_hi[0]])} at batch {b_hi[0]} to "
            f"{sc.sig_text(skip_tps[skip_m][b_hi[1]])} at {b_hi[1]}")


def fall_glue(falls: Mapping[str, tuple[int, list[int]]], hb11: pd.DataFrame,
              skip_tps: Mapping[str, Mapping[int, float]], batches: list[int],
              names: Mapping[str, str], *, first_cb: int | None, ridge_b: float
              ) -> dict[str, str]:
    """The clauses around the fall of Hermes' tokens/s (`falls`, :func:`fall_words`, from its
    paper-profile bars of Fig. 11, `hb11`) and what skipping inactive sequences' MACs does
    (`skip_tps`, :func:`skip_words`), each chosen by whether the model has a fall here and
    whether Hermes runs Fig. 11's models at all.

    ``scaling_lead`` opens the batch 2–16 reading; ``fall_union_text`` says what the growing
    union does to tokens/s; ``skip_text`` and ``fall_fix_text`` what skipped MACs and faster
    multipliers change; ``rd_skip_tail`` closes the readings paragraph's clause on skipped MACs;
    ``scaling_summary`` is the Summary's account of the model's batch scaling. `first_cb` is
    Fig. 11's first batch past the DIMM's ridge (`ridge_b`), None where there is none.
    """
    runs = {str(m) for m, t in hb11.groupby("model") if {1, 4} <= set(t["batch"])}
    skip = skip_words(skip_tps, batches, names)
    ridge = (" (at batch 4 the DIMMs are only just past their ridge)"
             if first_cb == 4 and first_cb < 1.1 * ridge_b else
             " (at batch 4 the DIMMs are past their ridge)" if first_cb and first_cb <= 4 else
             " (up to batch 4 the DIMMs stay below their ridge)")
    np_skip = f", {skip.replace(' then rises', ' rises')}"
    if not runs:
        return {
            "scaling_lead": "Hermes cannot run Fig. 11's models here (N.P.), so the model's "
                            "batch scaling cannot be set beside the paper's; what would shape "
                            "it is this:",
            "fall_union_text": "",
            "skip_text": np_skip,
            "fall_fix_text": "would change only the batches past the ridge, not the slow "
                             "growth from batch 1 to 4",
            "rd_skip_tail": "with Hermes unable to run Fig. 11's models here (N.P.), it has "
                            "no step growth or fall of tokens/s to change",
            # inside the Summary's parentheses: N.P. set off by commas
            "scaling_summary": "Hermes cannot run Fig. 11's models here, N.P., so the "
                               "model's own scaling cannot be computed"}
    lead = ("At batches 2–16 the model's step first lengthens more slowly than the paper's, "
            "then too fast:")
    summary = ("the paper's decode step grows steadily with the batch; the model's grows more "
               "slowly up to batch 4, then faster once the DIMMs turn compute-bound")
    grow14 = f"it barely changes how the step grows from batch 1 to 4{ridge}"
    if falls:
        after = sorted({x for _, xs in falls.values() for x in xs})
        skip_falls = [m for m in falls if m in skip_tps and any(
            skip_tps[m][x] < skip_tps[m][falls[m][0]] for x in falls[m][1])]
        return {
            "scaling_lead": lead,
            "fall_union_text": "; the growing union makes it fall",
            "skip_text": (f" there is no fall: {skip}" if not skip_falls else
                          f" the fall remains for {prose_list([names[m] for m in skip_falls])}"
                          f": {skip}"),
            # what they do to the error follows from the readings (:func:`fall_fix_error`)
            "fall_fix_text": "weaken or remove the fall but not the slow growth from batch 1 "
                             "to 4",
            "rd_skip_tail": (f"{grow14} and "
                             + ("removes" if not skip_falls else "only weakens")
                             + " the fall of tokens/s at "
                             + " and ".join(str(x) for x in after)),
            "scaling_summary": summary}
    return {
        "scaling_lead": lead,
        "fall_union_text": "",
        "skip_text": np_skip,
        "fall_fix_text": "speed up the batches past the ridge but not the slow growth from "
                         "batch 1 to 4",
        "rd_skip_tail": f"{grow14}, and with this run's parameters the model's tokens/s has "
                        "no fall for it to remove",
        "scaling_summary": summary}


def fastest_multipliers(table: pd.DataFrame) -> pd.Series:
    """The reading of ``policies.fidelity_by_reading`` (`table`) with the fastest multipliers:
    the row of ``cycles_per_op`` at its smallest value."""
    t = table[table["parameter"] == "cycles_per_op"]
    return t.loc[t["value"].astype(float).idxmin()]


def fall_fix_error(*, fast: pd.Series, skip: pd.Series, defaults: pd.Series,
                   has_fall: bool) -> str:
    """What faster multipliers (`fast`) and skipped MACs (`skip`) do to Hermes' batch 2–16
    median error against the defaults (`defaults`), rows of :func:`reading` under the paper
    profile, as the tail of ``fall_fix_text``; "" where the model has no fall (`has_fall`)."""
    if not has_fall:
        return ""
    base = _pct1(defaults, "batch_median_abs_err")
    v = {k: _pct1(r, "batch_median_abs_err") for k, r in (("fast", fast), ("skip", skip))}
    verbs = {k: _verb(x, base) for k, x in v.items()}
    if verbs["fast"] == verbs["skip"] == "raises":
        return ", so they raise the error"
    err = "the batch 2–16 error"
    lead = ({"lowers": f"yet both lower {err} here", "leaves": f"and both leave {err} as it is"}
            [verbs["fast"]] if verbs["fast"] == verbs["skip"] else
            f"one raises {err} and the other lowers it" if set(verbs.values()) == {
                "raises", "lowers"} else
            f"one leaves {err} as it is and the other "
            + next(x for x in verbs.values() if x != "leaves") + " it")
    return (f", {lead}: faster multipliers to {v['fast']:.1f} % and skipped MACs to "
            f"{v['skip']:.1f} %, from {base:.1f} %")


class FailureReading(NamedTuple):
    """What the model says about the acceptance failures (:func:`failure_reading`).

    ``step1`` (:func:`step_parts`), ``proj_led`` and ``shared`` (:func:`step_parts_words`);
    ``ridge_b``, the DIMM's ridge batch; ``first_cb``, Fig. 11's first batch above it (None: no
    such batch); ``batches``, Fig. 11's batches; ``falls`` and ``hb11`` (:func:`fall_words`);
    ``skip_tps``, tokens/s per model and batch with inactive sequences' MACs skipped; ``glue``.
    """

    step1: dict[str, dict[str, Any]]
    proj_led: list[str]
    shared: list[str]
    ridge_b: float
    first_cb: int | None
    batches: list[int]
    falls: dict[str, tuple[int, list[int]]]
    hb11: pd.DataFrame
    skip_tps: dict[str, dict[int, float]]
    glue: dict[str, object]


def failure_reading(b11: pd.DataFrame, models: Mapping[str, ModelSpec],
                    activities: Mapping[str, Activity], system: SystemSpec, *,
                    names: Mapping[str, str], prompt_len: int, gen_len: int) -> FailureReading:
    """Why Hermes misses the acceptance criteria under the paper profile (`system`).

    The batch-1 decode step by part (``step1_text``, and ``idle_text`` for the models whose GPU
    copies sit idle); the models whose GPU takes a growing share of the active neurons from
    batch 1 to 4 (``grow_text``); the DIMM's ridge, the batch above which its multipliers limit
    it (``dimm_ridge``, with ``dimm_gmacs`` G multiply-adds/s and ``dimm_gweights`` G fp16
    weights/s) and Fig. 11's batches past it (``first_cb_text``); where the model's tokens/s
    falls as the batch grows (``fall_text``, from `b11`'s paper-profile bars) and that it does
    not with the MACs of inactive sequences skipped (``skip_text``).
    """
    step1 = step_parts(models, system, activities, prompt_len=prompt_len, gen_len=gen_len)
    proj_led, shared, step1_text = step_parts_words(step1, names)
    glue: dict[str, object] = {"step1_text": step1_text}
    idle = [names[m] for m in step1 if step1[m]["gpu_share"] == 0]
    glue["idle_text"] = (
        f"; the model even leaves {prose_list(idle)}'s hot copies on the GPU idle during decode "
        "(the crossing of Eq. 1 is below zero: two synchronisations and the kernels cost more "
        "than the DIMMs' share of the block)" if idle else "")
    # the models whose GPU takes a growing share of the batch's active neurons from batch 1 to 4
    share4 = {m: policies.estimate("hermes", models[m], system, batch=4, prompt_len=prompt_len,
                                   gen_len=gen_len, options=_options(activities, m))
              for m in step1}
    grow = [m for m, e in share4.items()
            if e.supported and e.details["gpu_load_share"] > step1[m]["gpu_share"] + 1e-9]
    glue["grow_text"] = (f", and for {prose_list([names[m] for m in grow])} the GPU takes a "
                         "growing share of it" if grow else "")
    # the DIMM's ridge: the batch above which its multipliers, not its reads, limit it
    dimm_macs = float(ndp.dimm_mac_per_s(system.dimm))
    dimm_bw = float(dram.dimm_bandwidth_bytes_per_s(system.dimm))
    ridge_b = ridge_batch(dimm_macs, dimm_bw)
    glue["dimm_ridge"] = round(ridge_b, 1)
    glue["dimm_gmacs"] = round(dimm_macs / 1e9)
    glue["dimm_gweights"] = round(dimm_bw / shapes.dtype_bytes("fp16") / 1e9, 1)
    batches = sorted(int(x) for x in b11["batch"].unique())
    first_cb = next((x for x in batches if x > ridge_b), None)
    glue["first_cb_text"] = (
        (f"from batch {first_cb} on" + (f" (at batch {first_cb} only just)"
                                        if first_cb < 1.1 * ridge_b else ""))
        if first_cb else "at none of Fig. 11's batches")
    # where the model's Hermes gets slower per token as the batch grows (paper profile)
    hb11 = b11[(b11["policy"] == "hermes") & (b11["profile"] == "paper") & b11["supported"]]
    falls, glue["fall_text"] = fall_words(hb11, names)
    # the same with the MACs of inactive sequences skipped: no fall
    skip_tps = {m: {x: policies.estimate("hermes", models[m], system, batch=x,
                                         prompt_len=prompt_len, gen_len=gen_len,
                                         options=_options(activities, m, skip_inactive_macs=True)
                                         ).tokens_per_s for x in batches}
                for m in hb11["model"].unique()}
    glue |= fall_glue(falls, hb11, skip_tps, batches, names, first_cb=first_cb, ridge_b=ridge_b)
    return FailureReading(step1=step1, proj_led=proj_led, shared=shared, ridge_b=ridge_b,
                          first_cb=first_cb, batches=batches, falls=falls, hb11=hb11,
                          skip_tps=skip_tps, glue=glue)


# ------------------------------------------------------------------------------------ readings


def readings_table(readings: pd.DataFrame) -> pd.DataFrame:
    """``policies.fidelity_by_reading`` as the readings table shows it: errors in %, the order
    as "k of n", bars moved as "closer / farther", indexed by parameter and value, rounded to
    the decimals the text quotes."""
    return rounded(readings.assign(
        order=lambda d: d["n_order"].astype(str) + " of " + d["n_models"].astype(str),
        bs1_median_abs_err=lambda d: 100 * d["bs1_median_abs_err"],
        batch_median_abs_err=lambda d: 100 * d["batch_median_abs_err"],
        moved=lambda d: d["n_closer"].astype(str) + " / " + d["n_farther"].astype(str))[
        ["parameter", "value", "bs1_median_abs_err", "batch_median_abs_err", "order",
         "hermes_over_host", "model_step_growth", "moved"]].rename(columns={
             "bs1_median_abs_err": "bs 1 err (%)", "batch_median_abs_err": "bs 2–16 err (%)",
             "order": "order", "hermes_over_host": "H / H-host",
             "model_step_growth": "step growth",
             "moved": "closer / farther"}).set_index(["parameter", "value"]).round(
        {"bs 1 err (%)": 1, "bs 2–16 err (%)": 1, "H / H-host": 2, "step growth": 2}), 3)


def reading_row(table: pd.DataFrame, name: str, value: Any = None) -> pd.Series:
    """One row of a table of ``policies.fidelity_by_reading``: parameter `name` (``defaults``
    for the defaults) at `value` (its only row where None)."""
    t = table[table["parameter"] == name]
    return t.iloc[0] if value is None else t[t["value"] == str(value)].iloc[0]


def reading(readings: Mapping[str, pd.DataFrame], profile: str, name: str,
            value: Any = None) -> pd.Series:
    """One row of the readings of `profile` (a mapping of profile → table): `reading_row`."""
    return reading_row(readings[profile], name, value)


def _pct1(row: pd.Series, col: str) -> float:
    """A reading's median error in %, to the table's one decimal."""
    return float(np.round(100 * row[col], 1))


_MEDIANS: Final = (("bs1_median_abs_err", "Hermes' batch-1 median error", "the batch-1 median"),
                   ("batch_median_abs_err", "the batch 2–16 median", "the batch 2–16 median"))


def _verb(v: float, base: float) -> str:
    return "lowers" if v < base else "raises" if v > base else "leaves"


def median_moves(row: pd.Series, base: pd.Series, *, first: bool = True) -> str:
    """How a reading (`row`) moves Hermes' two median errors from the defaults' (`base`), both
    to the table's decimals: "lowers Hermes' batch-1 median error to 6.3 % and the batch 2–16
    median to 25.4 %", "raises … and leaves the batch 2–16 median at 93.7 %"; "lowers both
    medians, to …" where `first` is False (the paragraph has named them already)."""
    vals = [(_pct1(row, c), _pct1(base, c), long, short) for c, long, short in _MEDIANS]
    verbs = [_verb(v, b) for v, b, _, _ in vals]
    if not first and verbs[0] == verbs[1] != "leaves":
        return f"{verbs[0]} both medians, to {vals[0][0]:.1f} % and {vals[1][0]:.1f} %"
    if verbs[0] == verbs[1] == "leaves":
        return f"leaves both medians as they are ({vals[0][0]:.1f} % and {vals[1][0]:.1f} %)"
    parts = []
    for i, ((v, _, long, short), verb) in enumerate(zip(vals, verbs, strict=True)):
        name = long if first and i == 0 else short
        prep = "at" if verb == "leaves" else "to"
        same = i == 1 and verb == verbs[0]
        parts.append(f"{'' if same else verb + ' '}{name} {prep} {v:.1f} %")
    return " and ".join(parts)


def _better(row: pd.Series, base: pd.Series) -> int:
    """+1 where a reading lowers a median and raises none, −1 the reverse, 0 otherwise."""
    verbs = {_verb(_pct1(row, c), _pct1(base, c)) for c, _, _ in _MEDIANS}
    return (1 if "lowers" in verbs and "raises" not in verbs else
            -1 if "raises" in verbs and "lowers" not in verbs else 0)


_ORDINALS: Final = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")


def order_moves(row: pd.Series, base: pd.Series) -> str:
    """How a reading moves the number of models ordered as the paper does, from the defaults':
    "breaks the order of a second model (4 of 6)", "restores the order of one model (5 of 6)",
    "leaves the order as it is (5 of 6)"."""
    k, k0, n = int(row["n_order"]), int(base["n_order"]), int(row["n_models"])
    of = f"({k} of {n})"
    if k < k0:
        lost = k0 - k
        if lost == 1:
            nth = n - k  # models out of order with this reading
            which = (f"a {_ORDINALS[nth - 1]} model" if k0 < n and nth <= len(_ORDINALS)
                     else "one model")
        else:
            which = f"{u.count_words(lost)} more models"
        return f"breaks the order of {which} {of}"
    if k > k0:
        won = k - k0
        return f"restores the order of {u.plural(won, 'model', count=u.count_words(won))} {of}"
    return f"leaves the order as it is {of}"


def evidence_lead(better: int, closer: int, farther: int) -> str:
    """The lead of the sentence that sets the other bars beside a reading's effect on Hermes'
    medians (``rd_half_evidence``): `better` is :func:`_better`'s +1 (lowers a median, raises
    none), −1 (the reverse) or 0; `closer` and `farther` count the bar values it moves towards
    and away from the paper. "The other bars point the same way" only where more of them move
    as the medians do; a reading that lowers the medians is "mixed" evidence whatever the
    count, since the sentence goes on to the Accelerate bars and the prefill share, which the
    faster link serves."""
    if better > 0:
        return "The evidence is mixed, though"
    if better < 0:
        return ("The other bars point the same way" if farther > closer else
                "The other bars point the other way, though")
    return ("The other bars move away from the paper" if farther > closer else
            "The other bars move towards the paper" if closer > farther else
            "The other bars are split")


def readings_glue(*, half: pd.Series, datasheet: pd.Series, skip: pd.Series,
                  shared: pd.Series, link_name: str, defaults: pd.Series) -> dict[str, object]:
    """The readings' paragraph: the paper profile with the link at half its rate (`half`), the
    datasheet profile's defaults (`datasheet`), inactive MACs skipped (`skip`) and ranks sharing
    one bus (`shared`), each against the paper profile's defaults (`defaults`), rows of
    :func:`reading`; `link_name` is the datasheet link's name.

    Each reading's median errors (``rd_<key>_bs1``, ``rd_<key>_batch``, %) and Hermes over
    Hermes-host (``rd_<key>_hh``) to the table's decimals, and the clauses that read N.P. where
    Hermes cannot run Fig. 11's bars. The verbs (lowers / raises / leaves, breaks / restores /
    leaves, worse / better) come from the comparison with the defaults: ``rd_half_moves``,
    ``rd_half_order`` (with its ", and "; "" where a reading that lowers the medians restores
    an order, which ``rd_half_moves`` then says), ``rd_half_evidence`` (:func:`evidence_lead`),
    ``rd_shared_text``,
    ``rd_skip_text``; ``rd_half_subject`` names what the halved link reads (the paper's
    "PCIe 4.0, 64 GB/s" only where `link_name` is PCIe 4.0);
    ``rd_half_better`` is +1 where the halved link lowers a median and raises none, −1 the
    reverse.
    """
    out: dict[str, object] = {"link_name": link_name.replace(" x", " ×"),
                              "rd_shared_order": int(shared["n_order"]),
                              "rd_shared_models": int(shared["n_models"]),
                              "rd_half_farther": int(half["n_farther"]),
                              "rd_half_closer": int(half["n_closer"]),
                              "rd_half_nbars": int(half["n_bars"])}
    # glued to the decimals of the table (one rounding, so text and table agree)
    for key, row in (("half", half), ("ds", datasheet), ("skip", skip), ("shared", shared)):
        out[f"rd_{key}_bs1"] = _pct1(row, "bs1_median_abs_err")
        out[f"rd_{key}_batch"] = _pct1(row, "batch_median_abs_err")
        out[f"rd_{key}_hh"] = np_or(float(np.round(row["hermes_over_host"], 2)), ".2f")
    # Hermes over Hermes-host needs Hermes on Fig. 11's bars: in words where it is N.P.
    out["rd_half_hh_clause"] = (
        "and brings Hermes over Hermes-host to "
        + np_or(float(np.round(half["hermes_over_host"], 2)), ".2f") + "×"
        if pd.notna(half["hermes_over_host"])
        else "while Hermes over Hermes-host stays N.P. (Hermes cannot run Fig. 11's bars)")
    ds_errs = (f"{np.round(100 * datasheet['bs1_median_abs_err'], 1):.1f} %, "
               f"{np.round(100 * datasheet['batch_median_abs_err'], 1):.1f} %")
    out["rd_ds_text"] = (
        ds_errs + " and " + np_or(float(np.round(datasheet["hermes_over_host"], 2)), ".2f") + "×"
        if pd.notna(datasheet["hermes_over_host"]) else ds_errs.replace(", ", " and ")
        + ", with Hermes over Hermes-host not computable (N.P.)")
    # the verbs, from the comparison with the defaults (to the table's decimals)
    better = _better(half, defaults)
    out["rd_half_better"] = better
    out["rd_half_moves"] = median_moves(half, defaults)
    order = order_moves(half, defaults)
    # an order restored by a reading that lowers the medians supports it: said with the medians,
    # so that what follows the evidence lead is the counter-evidence
    with_medians = better > 0 and order.startswith("restores")
    if with_medians:
        out["rd_half_moves"] += f", {order}"
    out["rd_half_order"] = ("" if with_medians else "the order of the systems does not change, "
                            "and " if order.startswith("leaves") else
                            f"the halved link {order}, and ")
    out["rd_half_evidence"] = evidence_lead(better, int(half["n_closer"]),
                                            int(half["n_farther"]))
    # the paper's "PCIe 4.0, 64 GB/s" is what is halved only where the link is PCIe 4.0
    out["rd_half_subject"] = ("the paper's \"PCIe 4.0, 64 GB/s\"" if "PCIe 4.0" in link_name
                              else "reading the paper profile's PCIe figure as bidirectional")
    shared_moves = median_moves(shared, defaults, first=False)
    s_better, s_order = _better(shared, defaults), order_moves(shared, defaults)
    also = "also " if shared_moves.split()[0] == out["rd_half_moves"].split()[0] else ""
    but = ((s_better > 0 and s_order.startswith("breaks"))
           or (s_better < 0 and s_order.startswith("restores")))
    out["rd_shared_text"] = (f"Ranks sharing one bus per DIMM {also}{shared_moves}, "
                             f"{'but' if but else 'and'} {s_order}.")
    skip_b, base_b = _pct1(skip, "batch_median_abs_err"), _pct1(defaults, "batch_median_abs_err")
    out["rd_skip_text"] = (
        f"makes the batch error worse ({skip_b:.1f} %, from {base_b:.1f} %)" if skip_b > base_b
        else f"improves the batch error only to {skip_b:.1f} % (from {base_b:.1f} %)"
        if skip_b < base_b else f"leaves the batch error at {skip_b:.1f} %")
    return out


def order_reading_text(table: pd.DataFrame, names: Mapping[str, str]) -> str:
    """Which models' order of the systems a single reading restores, in words (``rd_order_text``).

    `table` is ``policies.fidelity_by_reading`` (its ``order_fails``; ``defaults`` first): the
    models out of order at the defaults, and for each a reading that puts its systems in the
    paper's order, if any: the first that breaks no other model's order, else the first of all,
    with the models it breaks named.
    """
    fails0 = list(reading_row(table, "defaults")["order_fails"])
    if not fails0:
        return "Third, the defaults already put every model's systems in the paper's order."
    rows = table[table["parameter"] != "defaults"]
    fixes: dict[str, tuple[str, list[str]] | None] = {}
    for m in fails0:
        cands = [(f"{r['parameter']} = {r['value']}",
                  [x for x in r["order_fails"] if x not in fails0])
                 for _, r in rows.iterrows() if m not in tuple(r["order_fails"])]
        fixes[m] = next((c for c in cands if not c[1]), next(iter(cands), None))
    stuck = [m for m in fails0 if fixes[m] is None]
    fixed = [m for m in fails0 if fixes[m] is not None]

    def puts(m: str, whole: bool) -> str:
        name, broken = fixes[m]  # type: ignore[misc]
        text = (f"{name} puts {names[m]}'s systems in the paper's order" if whole else
                f"{name} puts {names[m]}'s in it")
        return text + (f" but breaks {prose_list([names.get(x, x) for x in broken])}'s"
                       if broken else "")

    parts = []
    if stuck:
        poss = prose_list([f"{names[m]}'s" for m in stuck])
        parts.append(f"no single reading puts {poss} systems in the paper's order")
    if fixed:
        parts.append(prose_list([puts(m, not stuck) for m in fixed]))
    return "Third, " + "; ".join(parts) + "."


def _share_range(values: Iterable[float]) -> str | None:
    """"a–b" (one decimal) over the values that are not NaN, "a" where they agree; None where
    all are NaN."""
    vals = [f"{v:.1f}" for v in values if not np.isnan(v)]
    if not vals:
        return None
    lo, hi = min(vals, key=float), max(vals, key=float)
    return lo if lo == hi else f"{lo}–{hi}"


def _off_share(values: Iterable[float], stated: float) -> float:
    """The largest relative distance of the shares (not NaN) from the stated one; NaN if none."""
    vals = [abs(v / stated - 1) for v in values if not np.isnan(v)]
    return max(vals) if vals else np.nan


def link_reading_glue(paper: Mapping[str, pd.DataFrame], system: SystemSpec,
                      activities: Mapping[str, Activity], models: Mapping[str, ModelSpec],
                      bars: pd.DataFrame, stated: pd.DataFrame, *, prompt_len: int,
                      gen_len: int, names: Mapping[str, str] | None = None) -> dict[str, object]:
    """The evidence against the half-rate link (``link_bandwidth_scale`` = 0.5) on `system`
    (the paper profile's): how many Accelerate bars move away from the paper
    (``rd_half_acc_far`` of ``rd_acc_n``, against `bars`, Figs. 9–11's bars under both
    profiles in figure order), and Hermes' prefill share of the batch-1 run for Falcon-40B
    and LLaMA2-70B (those it runs) at the default and the halved link (``pf_share_default``,
    ``pf_share_half``, %, and the clauses ``pf_half_text``, ``pf_default_text``) beside the
    paper's stated share (``stated_prefill_share``; the default link "matches" it within
    :data:`PREFILL_MATCH_FRAC`); ``pf_default_closer``, whether the default link's shares lie
    nearer it than the halved link's; ``pcie_half``, the halved link's rate per direction
    (GB/s). `names`: display names (the catalog's short names where None)."""
    names = names or {m: sc.short_name(models[m].name) for m in models}
    half_opts = Assumptions(link_bandwidth_scale=0.5)
    half_bars = pd.concat([policies.model_bars(paper[f], system, activities, models,
                                               options=half_opts, prompt_len=prompt_len,
                                               gen_len=gen_len) for f in _FIGURES],
                          ignore_index=True)
    base_bars = bars[bars["profile"] == "paper"].reset_index(drop=True)
    farther = (np.abs(np.log(half_bars["tokens_per_s"] / half_bars["paper_tokens_per_s"]))
               > np.abs(np.log(base_bars["tokens_per_s"] / base_bars["paper_tokens_per_s"]))
               + 1e-12)
    acc_far = half_bars[farther & (half_bars["policy"] == "accelerate")]
    stated_v = float(stated.loc["hermes_prefill_share_bs1", "value"])
    stated_pf = sc.paper_text(stated.loc["hermes_prefill_share_bs1", "value"])
    # the reading's rate per direction: the paper's 64 GB/s halved (32; the datasheet's 31.5)
    half_gbps = (half_opts.link_bandwidth_scale
                 * system.host_link.bandwidth_per_direction_bytes_per_s / u.GB)
    out: dict[str, object] = {"rd_half_acc_far": len(acc_far),
                              "rd_acc_n": int((half_bars["policy"] == "accelerate").sum()),
                              "stated_prefill_share": stated_pf,
                              "pcie_half": rounded(half_gbps, 3)}
    pair = ("falcon_40b", "llama2_70b")
    share = {}
    for name, o in (("default", Assumptions()), ("half", half_opts)):
        for m in pair:
            e = policies.estimate("hermes", models[m], system, batch=1, prompt_len=prompt_len,
                                  gen_len=gen_len, options=replace(o, activity=activities[m]))
            share[(name, m)] = 100 * e.prefill_s / e.total_s if e.supported else np.nan
    vals = {name: [share[(name, m)] for m in pair] for name in ("default", "half")}
    pf = {name: _share_range(v) for name, v in vals.items()}
    for name in ("default", "half"):
        out[f"pf_share_{name}"] = pf[name] or sc.NP
    runs = [names[m] for m in pair if not np.isnan(share[("half", m)])]
    off = {name: _off_share(v, stated_v) for name, v in vals.items()}
    out["pf_default_closer"] = bool(off["default"] < off["half"])
    out["pf_half_text"] = (
        f"the slower link makes prefill {pf['half']} % of the batch-1 run for {prose_list(runs)}"
        f", against the paper's {stated_pf} %" if pf["half"] else "Hermes cannot run "
        "Falcon-40B or LLaMA2-70B at batch 1 here, so the model gives no prefill share to set "
        f"beside the paper's {stated_pf} %")
    out["pf_default_text"] = (
        "" if not pf["default"] else
        f", which the default link matches ({pf['default']} %)"
        if off["default"] <= PREFILL_MATCH_FRAC else
        f"; the default link's {pf['default']} % comes nearer it without matching it"
        if off["default"] < off["half"] else
        f"; the default link's {pf['default']} % lies no nearer it")
    return out


def link_summary_glue(*, half: pd.Series, defaults: pd.Series, link: Mapping[str, object],
                      pcie_paper: float, pcie_datasheet: float, link_name: str) -> str:
    """The summary's sentence on the host link (``link_summary``): whether Hermes' bars favour
    the halved link (it lowers a median and raises none) and whether the bars as a whole do
    (more of them move closer than farther), with the evidence for the faster link
    (`link`: :func:`link_reading_glue`'s values)."""
    half_rate = (f"a host link of {link['pcie_half']:g} GB/s per direction (half the paper "
                 f"profile's {pcie_paper:g}; the datasheet's {pcie_datasheet:g} for "
                 f"{link_name.replace(' x', ' ×')})")
    here = f"the {pcie_paper:g} GB/s per direction fixed here for the paper profile"
    closer, farther, n = (int(half[k]) for k in ("n_closer", "n_farther", "n_bars"))
    against = []
    if 2 * int(link["rd_half_acc_far"]) > int(link["rd_acc_n"]):
        against.append("the Accelerate bars")
    if link["pf_default_closer"]:
        against.append(f"the paper's {link['stated_prefill_share']} % prefill share")
    if _better(half, defaults) > 0:
        text = f"Hermes' bars favour {half_rate} over {here}"
        if closer <= farther:
            text += (f", though more bar values move away from the paper with it than towards "
                     f"it ({farther} against {closer} of {n})")
        if against:
            plural = len(against) > 1 or against[0].endswith("bars")
            text += (f", while {prose_list(against)} favour"
                     f"{'' if plural else 's'} the faster link")
        return text
    moved = f"{farther} of the {n} bar values away from the paper ({closer} closer)"
    return (f"Hermes' bars do not favour {half_rate} over {here}: it "
            f"{median_moves(half, defaults)}, and moves {moved}" if farther > closer else
            f"Hermes' bars do not favour {half_rate} over {here}: it "
            f"{median_moves(half, defaults)}, though it moves only {moved}")


def summary_profile_glue(profile: str) -> dict[str, str]:
    """The Summary's profile labels where the chapter's `profile` is not the paper's: the
    averages are the chapter's profile's (``off_profile_note``), the batch-1 errors and bands
    the paper profile's, as the acceptance criteria are (``bs1_profile_note``); "" for both
    under the paper profile."""
    if profile == "paper":
        return {"off_profile_note": "", "bs1_profile_note": ""}
    return {"off_profile_note": f" (under the {profile} profile)",
            "bs1_profile_note": " (under the paper profile, as the acceptance criteria are)"}


def hermes_fastest_text(bs1: pd.DataFrame, names: Mapping[str, str]) -> str:
    """Whether Hermes is the fastest system at batch 1 (`bs1`: one profile's bars of Figs. 9
    and 10) for every model, in words (``hermes_fastest``), naming the models it cannot run
    (N.P.) and those where another system is faster."""
    np_, slower, n = [], [], 0
    for m, g in bs1[bs1["batch"] == 1].groupby("model", sort=False):
        g = g[g["supported"]]
        h = g[g["policy"] == "hermes"]
        if h.empty:
            np_.append(names[m])
            continue
        n += 1
        best = g.loc[g["tokens_per_s"].idxmax()]
        if best["policy"] != "hermes":
            slower.append(f"{names[m]}, where {sc.SYSTEM_NAMES[best['policy']]} is faster")
    if not np_ and not slower:
        return "Hermes is the fastest system for every model"
    text = ("Hermes is the fastest system for every model it runs" if not slower else
            f"Hermes is the fastest system for {n - len(slower)} of the {n} models it runs "
            f"(not for {prose_list(slower)})")
    return text + (f" (it cannot run {prose_list(np_)} here, N.P.)" if np_ else "")


def order_why_text(bs1: pd.DataFrame, order: Mapping[str, bool], names: Mapping[str, str],
                   gpu_gib: float) -> str:
    """The acceptance paragraph's last sentence (``order_why``): for each model whose systems
    the model orders otherwise than the paper at batch 1 (`order`; `bs1`: the paper profile's
    bars of Figs. 9 and 10), the first pair of systems it swaps; for LLaMA2-13B with
    Hermes-host above Hermes-base, why (`gpu_gib`: the GPU's memory)."""
    fails = [m for m, ok in order.items() if not ok]
    if not fails:
        return "The model orders every model's systems at batch 1 as the paper does."
    bits = []
    for m in fails:
        g = bs1[(bs1["model"] == m) & (bs1["batch"] == 1) & bs1["supported"]
                & bs1["paper_supported"]].set_index("policy")
        paper = list(g.sort_values("paper_tokens_per_s", ascending=False).index)
        pos = {p: i for i, p in enumerate(g.sort_values("tokens_per_s", ascending=False).index)}
        hi, lo = next(((a, b) for a, b in itertools.pairwise(paper) if pos[a] > pos[b]),
                      (paper[0], paper[-1]))
        bit = (f"for {names[m]} the model ranks {sc.SYSTEM_NAMES[lo]} above "
               f"{sc.SYSTEM_NAMES[hi]}")
        if (m, lo, hi) == ("llama2_13b", "hermes-host", "hermes-base"):
            bit += (f": with {gpu_gib:g} GiB the GPU holds most of its hot neurons, so the "
                    "host's share is small (below, after the readings)")
        bits.append(bit)
    text = "; ".join(bits)
    return text[0].upper() + text[1:] + "."
