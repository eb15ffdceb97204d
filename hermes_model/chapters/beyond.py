"""The chapter "Beyond the paper" (``book/beyond.ipynb``): what-ifs, one changed input at a time.

Each function takes what the chapter has loaded (the models, their activities and provenance,
``system_for``, the frames `hermes_model.whatif` returns) and gives back what the chapter shows:
glue values (glue key → the value as the text prints it), display tables and the frames that
later cells and the chapter's hidden checks read. Evaluations go through `hermes_model.whatif`
with the keyword arguments ``system_for``, ``models`` and ``activities`` (``**kw`` below), as the
chapter passes them; nothing here reads a file.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

import altair as alt
import numpy as np
import pandas as pd

from hermes_model import params, plotting, policies, shapes, whatif
from hermes_model import sparsity as sp
from hermes_model import units as u
from hermes_model.plotting import rounded
from hermes_model.policies import Activity
from hermes_model.roofline import prose_list
from hermes_model.scorecard import SYSTEM_NAMES, short_name
from hermes_model.shapes import ModelSpec

__all__ = ["ALTERNATIVES", "BATCHES", "DENSE_QKV", "DENSITIES", "FORMAT", "LINK_COLUMNS",
           "N_DIMMS", "PAPER_PARAMETERS", "PART_LABELS", "STATS", "SUMMARY_PARTS", "SWEEPS",
           "TABLE_NAMES", "UNIT", "VERBS", "VERBS_PLURAL", "BreakEven", "Key", "OneChange",
           "Parameters", "Pcie5", "Reversal", "Swiglu", "Tradeoff", "activation_runs",
           "activities", "batch_curves", "batches", "breakeven_glue", "breakeven_table",
           "change_txt", "changes", "check_batch", "checked_parameters", "fp16_5090_txt",
           "gpu_only_txt", "named", "one_change", "pcie5_link", "prose_name", "reversal",
           "summary_hh_txt", "sweeps", "swiglu", "swiglu_models_glue", "swiglu_sizes", "tradeoff",
           "whatif_figure"]

#: The parameters cell's defaults: the chapter's paper configuration (its hidden checks assert
#: more there).
PAPER_PARAMETERS: Final[Mapping[str, Any]] = {
    "model": "llama2_70b", "small_model": "llama3_8b", "large_model": "llama3_70b", "batch": 1,
    "profile": "paper", "max_batch": 64}
#: The three verbs of :func:`change_txt` and its N.P. phrase, for a subject in the singular.
VERBS: Final = ("speeds it up", "slows it down", "does not change it",
                "makes it N.P. (it cannot run)")
#: The same for a plural subject ("DDR5-4800 NDP-DIMMs speed it up").
VERBS_PLURAL: Final = ("speed it up", "slow it down", "do not change it",
                       "make it N.P. (it cannot run)")
#: The alternatives to Hermes that the break-even points are taken against.
ALTERNATIVES: Final = ("gpu-only", "hermes-host")
#: Batches of the trade-off section (below the largest batch, which is added).
BATCHES: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)
#: QKV density of the SwiGLU reading: a native SwiGLU model has no activation before its QKV
#: projection (the paper makes QKV sparse by inserting a ReLU there), so QKV is dense; 0.999 is
#: dense as near as `policies.Activity` takes it (a density below 1).
DENSE_QKV: Final = 0.999
#: Densities of the density sweep.
DENSITIES: Final = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: NDP-DIMM counts of the DIMM sweep.
N_DIMMS: Final = (1, 2, 4, 8)
#: Labels of the one-change what-ifs by glue-key stem (the model what-if's label is built).
PART_LABELS: Final[Mapping[str, str]] = {
    "ddr5": "DDR5-4800 NDP-DIMMs", "r5090": "RTX 5090", "h100": "H100 PCIe 80 GB",
    "pcie5": "PCIe 5.0 link", "d16": "16 NDP-DIMMs"}
#: Column labels of the one-change table's two ratios.
TABLE_NAMES: Final[Mapping[str, str]] = {"hermes / hermes-host": "Hermes / Hermes-host",
                                         "hermes vs baseline": "Hermes vs baseline"}
#: Columns of the PCIe 5.0 table.
LINK_COLUMNS: Final[Mapping[str, str]] = {
    "label": "link", "policy": "system", "tokens_per_s": "tokens/s",
    "vs_baseline": "vs PCIe 4.0", "prefill_s": "prefill (s)"}
#: Display names of the activation statistics.
STATS: Final[Mapping[str, str]] = {"relu": "ReLU-fied", "swiglu": "SwiGLU"}
#: The sweeps as the break-even table names them, and one number format each.
SWEEPS: Final[Mapping[str, str]] = {"batch": "batch", "density": "density",
                                    "n_dimms": "NDP-DIMMs"}
FORMAT: Final[Mapping[str, str]] = {"batch": ".0f", "density": ".2f", "n_dimms": ".1f"}
#: A break-even point with its unit, as the break-even table shows it (one per sweep).
UNIT: Final[Mapping[str, str]] = {"batch": "batch {}", "density": "density {}",
                                  "n_dimms": "{} DIMMs"}
#: The parts of the one-change table as the summary words them.
SUMMARY_PARTS: Final[Mapping[str, str]] = {
    "DDR5-4800 NDP-DIMMs": "DDR5 NDP-DIMMs", "RTX 5090": "an RTX 5090",
    "H100 PCIe 80 GB": "an H100 PCIe", "16 NDP-DIMMs": "16 NDP-DIMMs"}
_PROVENANCE_KEYS: Final = ("mlp_density", "hot_share_80", "similarity_d1")

#: A break-even curve: (sweep, case, alternative), as :class:`BreakEven` keys them.
Key = tuple[str, str, str]


# ---------------------------------------------------------------------------------------------
# Words and names
# ---------------------------------------------------------------------------------------------


def named(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with the policies' display names in its column labels (the chapter's tables).

    A column axis named ``policy`` is renamed ``system``.
    """
    return df.rename(columns=lambda col: SYSTEM_NAMES.get(col, col)).rename_axis(
        columns=lambda n: "system" if n == "policy" else n)


def change_txt(frac: float, verb: Sequence[str] = VERBS) -> str:
    """A relative change as words.

    Parameters
    ----------
    frac : float
        The change, as a fraction (0.31 for +31 %); NaN where a policy cannot run.
    verb : sequence of 4 str
        The phrases for faster, slower, unchanged (below 0.5 %) and N.P.

    Returns
    -------
    str
        ``"speeds it up by 31 %"``, ``"does not change it"``, or the fourth phrase for NaN.
    """
    pct = 100 * frac
    if not np.isfinite(pct):
        return verb[3]
    if abs(pct) < 0.5:
        return verb[2]
    return f"{verb[0] if pct > 0 else verb[1]} by {abs(pct):.0f} %"


def prose_name(model: ModelSpec) -> str:
    """A model's name in the text: its catalog short name, as the tables have it, without the
    ReLU-fied variant (``LLaMA2-7B (ReLU-fied, ReGLU)`` → ``LLaMA2-7B``), so that it also names
    the model read with SwiGLU statistics."""
    return short_name(model.name)


def _family(name: str) -> str:
    """A model's family as the text names it: ``LLaMA3-8B`` or ``llama3_8b`` → ``LLaMA3``."""
    head = re.split(r"[-_]", name)[0]
    return re.sub("^llama", "LLaMA", head)


def _own_published(text: str, slug: str) -> str:
    """A SwiGLU statistic's source, ``published`` rather than ``borrowed`` where the published
    row is the model `slug` itself.

    >>> _own_published("borrowed: published LLaMA2(SwiGLU)-70B hot share", "llama2_70b")
    'published: LLaMA2(SwiGLU)-70B hot share'
    >>> _own_published("borrowed: published LLaMA2(SwiGLU)-70B hot share", "llama3_70b")
    'borrowed: published LLaMA2(SwiGLU)-70B hot share'
    """
    found = re.match(r"borrowed: published (.+?) (sparsity|hot share)$", text)
    if found is None:
        return text
    source = re.sub(r"\(swiglu\)|\s", "", found.group(1).lower())
    return f"published: {found.group(1)} {found.group(2)}" if source == slug.replace("_", "-") \
        else text


# ---------------------------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------------------------


class Parameters(NamedTuple):
    """The checked batch, profile and largest batch, and whether every parameter is the
    paper's default."""

    batch: int
    profile: str
    max_batch: int
    paper_config: bool


def swiglu_sizes(models: Mapping[str, ModelSpec]) -> dict[str, int]:
    """Slug → parameter count of each model of `models` whose checkpoint is SwiGLU (those the
    chapter's `small_model` and `large_model` may name)."""
    return {s: shapes.parameter_count(m) for s, m in models.items()
            if m.native_activation == "swiglu"}


def checked_parameters(model: str, small_model: str, large_model: str, batch: Any,
                       profile: Any, max_batch: Any, *,
                       swiglu_models: Mapping[str, int]) -> Parameters:
    """Check the chapter's parameters (model slugs already resolved by `params.model`).

    `small_model` and `large_model` must be models of `swiglu_models` (slug → parameter count,
    :func:`swiglu_sizes`: those with a SwiGLU checkpoint, whose SwiGLU statistics the chapter
    uses), `large_model` with more parameters than `small_model` (the text calls them the
    smaller and the larger model); `batch` and `max_batch` positive integers up to 512;
    `profile` a hardware profile.

    Returns
    -------
    Parameters
        ``batch`` and ``max_batch`` (sequences), ``profile``, and ``paper_config``: whether
        every parameter equals :data:`PAPER_PARAMETERS`.

    Raises
    ------
    ValueError
        Naming the parameter at fault.
    """
    why = "the models with a SwiGLU checkpoint"
    small_model = params.one_of(small_model, swiglu_models, "small_model", why=why)
    large_model = params.one_of(large_model, swiglu_models, "large_model", why=why)
    if small_model == large_model:
        raise ValueError(f"parameter 'small_model': must differ from large_model, got "
                         f"{small_model!r} for both")
    n_small, n_large = swiglu_models[small_model], swiglu_models[large_model]
    if n_large <= n_small:
        larger = sorted((s for s, n in swiglu_models.items() if n > n_small),
                        key=swiglu_models.__getitem__)
        allowed = (f"one of {', '.join(larger)}" if larger else
                   "none: no SwiGLU model is larger, so choose a smaller small_model")
        raise ValueError(
            f"parameter 'large_model': must have more parameters than small_model "
            f"({small_model!r}, {n_small / 1e9:.1f} B), got {large_model!r} "
            f"({n_large / 1e9:.1f} B); allowed here: {allowed}")
    batch = params.positive_int(batch, "batch", maximum=512)
    profile = params.profile(profile)
    max_batch = params.positive_int(max_batch, "max_batch", maximum=512)
    given = {"model": model, "small_model": small_model, "large_model": large_model,
             "batch": batch, "profile": profile, "max_batch": max_batch}
    return Parameters(batch, profile, max_batch, given == dict(PAPER_PARAMETERS))


def activities(models: Mapping[str, ModelSpec], inputs: Mapping[str, Mapping[str, Any]],
               published: pd.DataFrame, smollm2: Mapping[str, Any]
               ) -> tuple[dict[tuple[str, str], Activity], dict[tuple[str, str], dict[str, str]]]:
    """The activation statistics of every model and where each comes from.

    Parameters
    ----------
    models : mapping
        Slug → model.
    inputs, published, smollm2
        ``io.load_generator_inputs()``, ``io.load_published_sparsity()`` and
        ``io.load_activation_summary("smollm2")``.

    Returns
    -------
    activities : dict
        ``(slug, "relu")`` → the ReLU-fied statistics (the generator's inputs) of every model,
        and ``(slug, "swiglu")`` → the sparsity chapter's ``swiglu`` targets of each model whose
        checkpoint is SwiGLU, with dense QKV (`DENSE_QKV`, every neuron equally frequent: hot
        share 0.8).
    provenance : dict
        The same keys → statistic → its source; a SwiGLU statistic published for the model
        itself is *published*, one taken from another model *borrowed*.
    """
    acts: dict[tuple[str, str], Activity] = {}
    prov: dict[tuple[str, str], dict[str, str]] = {}
    for s, m in models.items():
        acts[(s, "relu")] = policies.activity_from_inputs(inputs[s])
        prov[(s, "relu")] = {k: str(inputs[s][f"{k}_provenance"]) for k in _PROVENANCE_KEYS}
        if m.native_activation == "swiglu":
            t = sp.model_targets(s, shapes.qkv_neurons_per_layer(m),
                                 shapes.mlp_neurons_per_layer(m), m.native_activation,
                                 "swiglu", inputs, published, smollm2)
            acts[(s, "swiglu")] = dataclasses.replace(
                whatif.activity_from_targets(t, "swiglu option"), qkv_density=DENSE_QKV,
                qkv_hot_share=whatif.hot_share_at(DENSE_QKV, 1.0))
            prov[(s, "swiglu")] = {
                **{k: _own_published(v, s) for k, v in t.provenance.items()},
                "qkv_density": f"assumed: dense ({DENSE_QKV:g}, as near 1 as the policies "
                               "take); no activation precedes QKV in the SwiGLU checkpoint",
                "qkv_hot_share_80": "assumed: dense, every neuron equally frequent (0.8)"}
    return acts, prov


def check_batch(batch: int, **kw: Any) -> None:
    """Refuse a batch at which Hermes cannot run one of ``kw["models"]`` on the paper's system
    (every comparison of the chapter is against Hermes).

    Raises
    ------
    ValueError
        Naming parameter ``batch``, the model and the policy's reason.
    """
    models = kw["models"]
    for s in models:
        e = whatif.evaluate(whatif.Case(model=s, batch=batch), **kw).set_index("policy")
        hermes = e.loc["hermes"]
        if not hermes["supported"]:
            raise ValueError(f"parameter 'batch': Hermes cannot run {models[s].name} at batch "
                             f"{batch} on the paper's system ({hermes['reason']}); use a "
                             "smaller batch")


# ---------------------------------------------------------------------------------------------
# One change at a time
# ---------------------------------------------------------------------------------------------


def changes(large_model: str, models: Mapping[str, ModelSpec]) -> list[whatif.WhatIf]:
    """The one-change what-ifs: DDR5 DIMMs, two GPUs, PCIe 5.0, 16 DIMMs and the large model
    (with its ReLU-fied statistics), labelled as the chapter's table and chart show them."""
    parts = [("dimm", "ddr5_4800_ndp"), ("gpu", "rtx_5090"), ("gpu", "h100_pcie_80g"),
             ("host_link", "pcie5_x16"), ("n_dimms", 16)]
    out = [whatif.WhatIf(label=label, parameter=p, value=v)
           for label, (p, v) in zip(PART_LABELS.values(), parts, strict=True)]
    return [*out, whatif.WhatIf(label=f"{prose_name(models[large_model])} (ReLU-fied)",
                                parameter="model", value=large_model)]


def whatif_figure(one: pd.DataFrame) -> alt.Chart:
    """`plotting.whatif_chart` of `one` (``whatif.run``'s frame) with the policies' display
    names in its data, legend, offsets and tooltip."""
    fig = plotting.whatif_chart(one)
    fig.data = fig.data.assign(policy=fig.data["policy"].map(SYSTEM_NAMES))
    for enc in (fig.encoding["color"], fig.encoding["yOffset"]):
        enc["sort"] = [SYSTEM_NAMES[p] for p in enc["sort"]]
    scale = fig.encoding["color"]["scale"]
    scale["domain"] = [SYSTEM_NAMES[p] for p in scale["domain"]]
    fig.encoding["tooltip"][1]["title"] = "system"
    return fig


@dataclass(frozen=True, slots=True)
class OneChange:
    """What the one-change section shows.

    Attributes
    ----------
    glue : dict
        Glue key → value: ``fig_whatif``, ``gain_<part>_pct`` (%) for each part of
        :data:`PART_LABELS` and ``l3`` (the model), ``gain_<part>_txt`` (the parts only),
        ``l3_txt``, ``hh_txt``, ``model_name``, ``one_batch`` (the table's batch),
        ``pool_ddr4_GBps`` and ``pool_ddr5_GBps`` (GB/s).
    table : DataFrame
        tokens/s per what-if (rows, ``baseline`` first) and policy, with the columns
        ``hermes / hermes-host`` and ``hermes vs baseline`` (NaN where a policy cannot run).
    display : DataFrame
        `table` as the chapter shows it (display names, N.P. where a policy cannot run).
    """

    glue: dict[str, Any]
    table: pd.DataFrame
    display: pd.DataFrame


def one_change(one: pd.DataFrame, changes: Sequence[whatif.WhatIf], *, model: str,
               large_model: str, models: Mapping[str, ModelSpec], batch: int,
               provenance: Mapping[tuple[str, str], Mapping[str, str]],
               system_for: whatif.SystemFor) -> OneChange:
    """The one-change section: chart, sentences and table.

    Parameters
    ----------
    one : DataFrame
        ``whatif.run(base, changes, ...)``; the last of `changes` swaps the model for
        `large_model`, the others are labelled as :data:`PART_LABELS`.
    changes : sequence of WhatIf
        :func:`changes`, as `one` ran them.
    model, large_model : str
        Slugs (in `models`) of the table's model (the base case's) and of the model swapped in.
    models : mapping
        Slug → model.
    batch : int
        The base case's batch, sequences.
    provenance : mapping
        As :func:`activities` returns it (says whether the large model's ReLU-fied statistics
        are borrowed).
    system_for : callable
        Builds the paper's system with one part changed (for the DIMM pools' bandwidths).
    """
    g: dict[str, Any] = {"fig_whatif": whatif_figure(one)}
    table = one.pivot_table(index="label", columns="policy", values="tokens_per_s", sort=False,
                            dropna=False)
    table["hermes / hermes-host"] = table["hermes"] / table["hermes-host"]
    table["hermes vs baseline"] = table["hermes"] / table.loc["baseline", "hermes"]
    h = one[one["policy"] == "hermes"].set_index("label")["vs_baseline"]
    for key, label in {**PART_LABELS, "l3": changes[-1].label}.items():
        g[f"gain_{key}_pct"] = rounded(100 * (float(h[label]) - 1))
        if key == "l3":
            continue  # a model, not a part: l3_txt below
        plural = key in ("ddr5", "d16")
        g[f"gain_{key}_txt"] = change_txt(float(h[label]) - 1,
                                          VERBS_PLURAL if plural else VERBS)
    large, base = models[large_model], models[model]
    l3_pct = 100 * (float(h[changes[-1].label]) - 1)
    if large_model == model:
        g["l3_txt"] = f"{prose_name(large)} is the model of the table, so its what-if changes nothing"
    else:
        borrowed = "borrowed" in provenance[(large_model, "relu")]["mlp_density"]
        pace = ("runs as fast as" if abs(l3_pct) < 0.5 else
                f"runs {abs(l3_pct):.0f} % {'faster' if l3_pct > 0 else 'slower'} than")
        g["l3_txt"] = (f"{prose_name(large)} (with {'borrowed' if borrowed else 'its published'} "
                       f"ReLU-fied statistics) {pace} {prose_name(base)}")
    ratio = table["hermes / hermes-host"]
    hb, hx = rounded(float(ratio["baseline"])), rounded(float(ratio["H100 PCIe 80 GB"]))
    where = "the H100" if np.isfinite(hb) else "the paper's system"  # where Hermes-host fails
    if 1 < hx < hb:
        g["hh_txt"] = (f"A bigger, faster GPU helps both hybrids; Hermes' lead over Hermes-host "
                       f"shrinks from {hb:.1f}× to {hx:.1f}× on the H100, whose 80 GB hold most "
                       "of the hot weights, so that less work is left for the host")
    elif np.isfinite(hb) and np.isfinite(hx):
        g["hh_txt"] = (f"Hermes runs {hb:.1f}× as fast as Hermes-host on the paper's system and "
                       f"{hx:.1f}× on the H100")
    else:
        g["hh_txt"] = f"Hermes-host cannot run {base.name} at batch {batch} on {where} (N.P.)"
    g["model_name"] = base.name
    g["one_batch"] = batch
    for key, slug in {"ddr4": "ddr4_3200_ndp", "ddr5": "ddr5_4800_ndp"}.items():
        pool = system_for(dimm=slug)
        g[f"pool_{key}_GBps"] = rounded(pool.dimm_pool_bandwidth_bytes_per_s / u.GB)
    # N.P. where a policy cannot run the what-if (its tokens/s are NaN), and in the ratios on it
    ok = one.set_index(["label", "policy"])["supported"].unstack()
    table_np = pd.DataFrame({**{p: ~ok[p] for p in ok.columns},
                             "hermes / hermes-host": ~(ok["hermes"] & ok["hermes-host"]),
                             "hermes vs baseline": ~(ok["hermes"] & ok.loc["baseline", "hermes"])})
    display = plotting.formatted(
        named(table.rename(columns=TABLE_NAMES)).rename_axis(index="what-if"),
        {"Hermes": ".2f", "Hermes-host": ".2f", "GPU only": ".2f",
         "Hermes / Hermes-host": ".2f", "Hermes vs baseline": ".3f"},
        unsupported=named(table_np.rename(columns=TABLE_NAMES)))
    return OneChange(g, table, display)


# ---------------------------------------------------------------------------------------------
# PCIe 5.0
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pcie5:
    """What the PCIe 5.0 section shows.

    Attributes
    ----------
    glue : dict
        ``pcie5_5090_pct`` (%), ``pcie5_5090_txt``, ``pcie5_hh_txt``, ``pcie5_prefill_s`` and
        ``pcie4_prefill_s`` (s), ``prefill_txt``.
    table : DataFrame
        tokens/s, the ratio to PCIe 4.0 and the prefill time of each link and system (N.P.
        where a policy cannot run).
    """

    glue: dict[str, Any]
    table: pd.DataFrame


def pcie5_link(link: pd.DataFrame, batch: int) -> Pcie5:
    """The PCIe 5.0 section from `link`, ``whatif.run`` of a what-if labelled
    ``"PCIe 5.0 link"`` (the link swapped on a system with a PCIe 5.0 GPU) at `batch`."""
    g: dict[str, Any] = {}
    lh = link[link["policy"] == "hermes"].set_index("label")
    gain = float(lh.loc["PCIe 5.0 link", "vs_baseline"]) - 1
    g["pcie5_5090_pct"] = rounded(100 * gain)
    g["pcie5_5090_txt"] = change_txt(gain, ("speeds Hermes up", "slows Hermes down",
                                            "does not change Hermes",
                                            "makes Hermes N.P. (it cannot run)"))
    hh5 = 100 * (float(link.set_index(["label", "policy"]).loc[("PCIe 5.0 link", "hermes-host"),
                                                                 "vs_baseline"]) - 1)
    g["pcie5_hh_txt"] = ("does not move" if abs(hh5) < 0.5 else f"changes by {abs(hh5):.0f} %"
                         if np.isfinite(hh5) else f"cannot run at batch {batch} (N.P.)")
    pre = lh["prefill_s"]
    p4, p5 = rounded(float(pre["baseline"])), rounded(float(pre["PCIe 5.0 link"]))
    g["pcie5_prefill_s"] = p5
    g["pcie4_prefill_s"] = p4
    g["prefill_txt"] = (f"prefill, which streams the cold weights over the link, falls from "
                        f"{p4:.2f} s to {p5:.2f} s" if p5 < 0.995 * p4
                        else f"prefill takes {p4:.2f} s on either link")
    base_ok = link["policy"].map(link[link["label"] == "baseline"]
                                 .set_index("policy")["supported"])
    link_np = pd.DataFrame({"tokens_per_s": ~link["supported"], "prefill_s": ~link["supported"],
                            "vs_baseline": ~(link["supported"] & base_ok)})
    link_t = link[list(LINK_COLUMNS)].assign(
        label=link["label"].replace({"baseline": "PCIe 4.0 link"}),
        policy=link["policy"].map(SYSTEM_NAMES)).rename(columns=LINK_COLUMNS)
    table = plotting.formatted(link_t, {"tokens/s": ".2f", "vs PCIe 4.0": ".3f",
                                        "prefill (s)": ".2f"},
                               unsupported=link_np.rename(columns=LINK_COLUMNS))
    return Pcie5(g, table)


# ---------------------------------------------------------------------------------------------
# SwiGLU
# ---------------------------------------------------------------------------------------------


def activation_runs(slugs: Sequence[str], batch: int, **kw: Any) -> pd.DataFrame:
    """tokens/s of each model of `slugs` with its ReLU-fied and its SwiGLU statistics.

    Returns
    -------
    DataFrame
        ``model`` (:func:`prose_name`: the statistics column tells the reading), ``statistics``
        (``ReLU-fied`` or ``SwiGLU``), ``policy``,
        ``tokens_per_s`` (NaN where unsupported), ``hermes_over`` (Hermes' tokens/s over the
        policy's), ``supported``.
    """
    rows = []
    for s in slugs:
        res = whatif.run(whatif.Case(model=s, batch=batch),
                         [whatif.WhatIf(label="SwiGLU", parameter="activation", value="swiglu")],
                         **kw)
        for _, r in res.iterrows():
            rows.append({"model": prose_name(kw["models"][s]),
                         "statistics": "ReLU-fied" if r["label"] == "baseline" else "SwiGLU",
                         "policy": r["policy"], "tokens_per_s": r["tokens_per_s"],
                         "hermes_over": r["hermes_over"], "supported": r["supported"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class Swiglu:
    """What the SwiGLU section shows.

    Attributes
    ----------
    glue : dict
        ``sw_density``, ``sw_hot``, ``sw_s1``, ``sw_drop_pct`` (%), ``sw_hh``, ``large_prose``,
        ``sw_txt``, ``sw_ref_density``, ``sw_ref_quantile_pct`` (%), ``smol_main_density``.
    sw_drop : float
        The large model's loss of Hermes throughput with SwiGLU statistics, % (rounded).
    sw_hh : float
        Hermes' speedup over Hermes-host with them (rounded; NaN where Hermes-host fails).
    loses : str
        The clause on the loss, which the summary repeats.
    sw_ref : float
        The density target of the SmolLM2 run that gives the SwiGLU persistence.
    sources : DataFrame
        ``statistic``, ``source`` of each SwiGLU statistic of the large model.
    table : DataFrame
        tokens/s per model, statistics and system (N.P. where a policy cannot run).
    """

    glue: dict[str, Any]
    sw_drop: float
    sw_hh: float
    loses: str
    sw_ref: float
    sources: pd.DataFrame
    table: pd.DataFrame


def swiglu(act: pd.DataFrame, sw: Activity, large: ModelSpec, batch: int, *,
           provenance: Mapping[str, str], smollm2: Mapping[str, Any]) -> Swiglu:
    """The SwiGLU section.

    Parameters
    ----------
    act : DataFrame
        :func:`activation_runs` of the models, the large one among them.
    sw : Activity
        The large model's SwiGLU statistics.
    large : ModelSpec
        The large model.
    batch : int
        The batch of `act`, sequences.
    provenance : mapping
        Source of each of the large model's SwiGLU statistics (its ``similarity_d1`` names the
        SmolLM2 run's ``density target``).
    smollm2 : mapping
        ``io.load_activation_summary("smollm2")``.
    """
    g: dict[str, Any] = {"sw_density": rounded(sw.mlp_density),
                         "sw_qkv_density": rounded(sw.qkv_density),
                         "sw_hot": rounded(sw.mlp_hot_share),
                         "sw_s1": rounded(sw.similarity_d1)}
    mine = act[act["model"] == prose_name(large)]
    hl = mine[mine["policy"] == "hermes"].set_index("statistics")["tokens_per_s"]
    sw_drop = rounded(100 * (1 - float(hl["SwiGLU"] / hl["ReLU-fied"])))
    g["sw_drop_pct"] = sw_drop
    hh = mine[mine["policy"] == "hermes-host"].set_index("statistics")["hermes_over"]
    sw_hh = rounded(float(hh["SwiGLU"]))
    g["sw_hh"] = sw_hh
    name = prose_name(large)
    g["large_prose"] = name
    loses = (f"Hermes runs {name} as fast with SwiGLU statistics as with the ReLU-fied ones"
             if abs(sw_drop) < 0.5 else f"{name} {'loses' if sw_drop > 0 else 'gains'} "
             f"{abs(sw_drop):.0f} % of its Hermes throughput against the ReLU-fied reading")
    if sw_hh > 1 and hh["ReLU-fied"] < sw_hh:
        g["sw_txt"] = (f"{loses}, yet Hermes still runs it {sw_hh:.1f}× faster than Hermes-host: "
                       "the host's two channels fall further behind the DIMM pool when more "
                       "cold bytes are read per token")
    elif np.isfinite(sw_hh):
        g["sw_txt"] = (f"{loses}; Hermes runs it {sw_hh:.1f}× as fast as Hermes-host (against "
                       f"{float(hh['ReLU-fied']):.1f}× with the ReLU-fied statistics)")
    else:
        g["sw_txt"] = f"{loses}; Hermes-host cannot run it at batch {batch} (N.P.)"
    found = re.search(r"density target ([0-9.]+)", provenance["similarity_d1"])
    if found is None:
        raise ValueError("provenance['similarity_d1'] names no 'density target' (the SmolLM2 "
                         f"run of the SwiGLU persistence): {provenance['similarity_d1']!r}")
    sw_ref = float(found.group(1))
    g["sw_ref_density"] = sw_ref
    g["sw_ref_quantile_pct"] = rounded(100 * (1 - sw_ref))
    g["smol_main_density"] = rounded(smollm2["mean_over_layers"]["density"])
    src = pd.DataFrame([{"statistic": k, "source": v} for k, v in provenance.items()])
    act_t = named(act.pivot_table(index=["model", "statistics"], columns="policy",
                                  values="tokens_per_s", sort=False, dropna=False))
    table = plotting.formatted(
        act_t, dict.fromkeys(act_t.columns, ".2f"),
        unsupported=named(~act.set_index(["model", "statistics", "policy"])["supported"]
                          .unstack()))
    return Swiglu(g, sw_drop, sw_hh, loses, sw_ref, src, table)


# ---------------------------------------------------------------------------------------------
# Batch size against latency
# ---------------------------------------------------------------------------------------------


def batches(max_batch: int) -> list[int]:
    """The trade-off section's batches: the powers of two of :data:`BATCHES` below
    `max_batch`, then `max_batch`."""
    return [b for b in BATCHES if b < max_batch] + [max_batch]


def batch_curves(slug: str, batch_list: Sequence[int], **kw: Any) -> pd.DataFrame:
    """Every policy on model `slug` at each batch, with ReLU-fied and SwiGLU statistics.

    Returns
    -------
    DataFrame
        ``activation``, ``policy``, ``batch``, ``tokens_per_s``, ``step_ms`` (the decode step,
        ms) and ``supported``.
    """
    rows = []
    for a in ("relu", "swiglu"):
        for b in batch_list:
            e = whatif.evaluate(whatif.Case(model=slug, activation=a, batch=b), **kw)
            for _, r in e.iterrows():
                rows.append({"activation": a, "policy": r["policy"], "batch": b,
                             "tokens_per_s": r["tokens_per_s"],
                             "step_ms": r["decode_step_s"] / u.MS,
                             "supported": r["supported"]})
    return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class Tradeoff:
    """What the batch section shows.

    Attributes
    ----------
    glue : dict
        ``fig_tradeoff`` (throughput against decode step, SwiGLU), ``small_name``,
        ``batching_txt``.
    curves : DataFrame
        The supported rows of :func:`batch_curves` (without ``supported``).
    wide : DataFrame
        tokens/s by (activation, batch) and policy, NaN where a policy cannot run.
    table : DataFrame
        `wide` as the chapter shows it.
    """

    glue: dict[str, Any]
    curves: pd.DataFrame
    wide: pd.DataFrame
    table: pd.DataFrame


def tradeoff(curves_all: pd.DataFrame, small_name: str) -> Tradeoff:
    """The batch section from :func:`batch_curves` of the model named `small_name`."""
    curves = curves_all[curves_all["supported"]].drop(columns="supported")
    sw_c = curves[curves["activation"] == "swiglu"]
    g: dict[str, Any] = {"fig_tradeoff": plotting.curves_chart(
        sw_c.assign(curve=sw_c["policy"].map(SYSTEM_NAMES), x=sw_c["step_ms"],
                    y=sw_c["tokens_per_s"]),
        x_title="decode step (ms)", y_title="throughput (tokens/s)")}
    g["small_name"] = small_name
    peaks = {f"{SYSTEM_NAMES[p]} ({STATS[a]})": int(grp.loc[grp["tokens_per_s"].idxmax(), "batch"])
             for (a, p), grp in curves.sort_values("batch").groupby(["activation", "policy"])
             if (np.diff(grp["tokens_per_s"]) <= 0).any()}  # throughput falls somewhere
    g["batching_txt"] = (
        "Batching raises throughput and lengthens every sequence's decode step" if not peaks
        else "Batching lengthens every sequence's decode step but raises throughput only up to "
        f"a point: with {small_name}, " + ", ".join(f"{k} peaks at batch {b}"
                                                    for k, b in peaks.items()))
    wide = curves_all.pivot_table(index=["activation", "batch"], columns="policy",
                                  values="tokens_per_s", dropna=False)
    index = ["statistics", "batch"]
    wide_t = named(wide).rename(index=STATS, level="activation").rename_axis(index=index)
    wide_np = named(~curves_all.set_index(["activation", "batch", "policy"])["supported"]
                    .unstack())
    table = plotting.formatted(wide_t, dict.fromkeys(wide_t.columns, ",.1f"),
                               unsupported=wide_np.rename(index=STATS, level="activation")
                               .rename_axis(index=index))
    return Tradeoff(g, curves, wide, table)


# ---------------------------------------------------------------------------------------------
# Where Hermes stops paying off
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Hermes' speedup over each alternative along three sweeps, and where it falls to 1.

    Keys are ``(sweep, case, against)``: ``("batch", activation, alt)`` for the small model's
    batches, ``("density", slug, alt)`` for both models and ``("n_dimms", small slug, alt)``
    (SwiGLU statistics), in this order, each against ``gpu-only`` then ``hermes-host``.

    Attributes
    ----------
    breakeven : dict
        Key → the sweep's value where the speedup falls to 1 (`whatif.crossing`; for the DIMM
        sweep scanned from the most DIMMs down), NaN if it never does.
    ratio : dict
        Key → Hermes' speedup at each point of the sweep (NaN where either cannot run).
    batches, densities, n_dimms : list
        The sweeps' points (sequences, fractions, DIMMs).
    large_fits : bool
        Whether GPU only runs the large model at batch 1.
    alt_tokens : dict
        Key → the alternative's tokens/s at each point of the sweep (NaN where it cannot run;
        for :func:`reversal`).
    """

    breakeven: dict[Key, float]
    ratio: dict[Key, np.ndarray]
    batches: list[int]
    densities: list[float]
    n_dimms: list[int]
    large_fits: bool
    alt_tokens: dict[Key, np.ndarray]


def sweeps(wide: pd.DataFrame, batch_list: Sequence[int], small_model: str, large_model: str,
           batch: int, **kw: Any) -> BreakEven:
    """The break-even sweeps: batch (the ratios read from `wide`, :class:`Tradeoff`'s, whose
    batches are `batch_list`), density (both models, at `batch`, hot shares moved with the
    density) and DIMM count (the small model with SwiGLU statistics, at `batch`); ``**kw`` as
    in `whatif.evaluate`."""
    be: dict[Key, float] = {}
    ratio: dict[Key, np.ndarray] = {}
    alt_t: dict[Key, np.ndarray] = {}
    for a in ("relu", "swiglu"):
        w = wide.loc[a]
        for alt_ in ALTERNATIVES:
            alt_t[("batch", a, alt_)] = w[alt_].to_numpy(dtype=float)
            ratio[("batch", a, alt_)] = (w["hermes"] / w[alt_]).to_numpy()
            be[("batch", a, alt_)] = whatif.crossing(w.index, ratio[("batch", a, alt_)])
    dens, dimms = list(DENSITIES), list(N_DIMMS)
    for s in (small_model, large_model):
        d_rows = [whatif.evaluate(whatif.Case(model=s, batch=batch), options=(("density", d),),
                                  **kw).set_index("policy")["tokens_per_s"] for d in dens]
        dw = pd.DataFrame(d_rows, index=dens)
        for alt_ in ALTERNATIVES:
            alt_t[("density", s, alt_)] = dw[alt_].to_numpy(dtype=float)
            ratio[("density", s, alt_)] = (dw["hermes"] / dw[alt_]).to_numpy()
            be[("density", s, alt_)] = whatif.crossing(dens, ratio[("density", s, alt_)])
    n_rows = [whatif.evaluate(whatif.Case(model=small_model, activation="swiglu", batch=batch,
                                          system=(("n_dimms", n),)), **kw)
              .set_index("policy")["tokens_per_s"] for n in dimms]
    nw = pd.DataFrame(n_rows, index=dimms)
    for alt_ in ALTERNATIVES:
        alt_t[("n_dimms", small_model, alt_)] = nw[alt_].to_numpy(dtype=float)
        ratio[("n_dimms", small_model, alt_)] = (nw["hermes"] / nw[alt_]).to_numpy()
        # fewer DIMMs is worse: scan from 8 down to 1
        be[("n_dimms", small_model, alt_)] = -whatif.crossing(
            [-n for n in dimms[::-1]], ratio[("n_dimms", small_model, alt_)][::-1])
    large_fits = whatif.evaluate(whatif.Case(model=large_model), **kw).set_index("policy").loc[
        "gpu-only", "supported"]
    return BreakEven(be, ratio, list(batch_list), dens, dimms, bool(large_fits), alt_t)


def _case_names(models: Mapping[str, ModelSpec], small_model: str) -> dict[tuple[str, str], str]:
    """(sweep, case) → the case as the break-even table and text name it."""
    small = prose_name(models[small_model])
    names = {("batch", "relu"): f"{small}, ReLU-fied", ("batch", "swiglu"): f"{small}, SwiGLU",
             ("n_dimms", small_model): f"{small}, SwiGLU"}  # the DIMM sweep's statistics
    return {**names, **{("density", s): prose_name(m) for s, m in models.items()}}


class Reversal(NamedTuple):
    """Where Hermes, once behind an alternative along a sweep, stops being behind.

    Attributes
    ----------
    last : float
        The last point of the sweep (in scan order) at which Hermes is behind.
    at : float
        The next point, at which the reversal is seen.
    kind : str
        ``"ahead"`` (Hermes leads again), ``"alt"`` (the alternative cannot run) or
        ``"hermes"`` (Hermes cannot run).
    speedup : float
        Hermes' speedup at `at` (NaN unless `kind` is ``"ahead"``).
    alt_tokens : float
        The alternative's tokens/s at `at` (NaN where it cannot run).
    alt_fell : bool
        Whether the alternative's tokens/s fell from `last` to `at`.
    """

    last: float
    at: float
    kind: str
    speedup: float
    alt_tokens: float
    alt_fell: bool


def _points(sweep: str, res: BreakEven) -> list[float]:
    return [float(x) for x in {"batch": res.batches, "density": res.densities,
                               "n_dimms": res.n_dimms}[sweep]]


def reversal(k: Key, res: BreakEven) -> Reversal | None:
    """The first point after Hermes falls behind along sweep `k` where it is no longer behind:
    it leads again, or one of the two cannot run; None if it stays behind to the sweep's end
    (or never falls behind).

    Batches and densities are scanned upwards, DIMM counts downwards, as :func:`sweeps` scans
    them for the break-even point.
    """
    xs, r, t = _points(k[0], res), np.asarray(res.ratio[k], float), np.asarray(
        res.alt_tokens[k], float)
    if k[0] == "n_dimms":
        xs, r, t = xs[::-1], r[::-1], t[::-1]
    behind = [i for i in range(len(r)) if np.isfinite(r[i]) and 0 < r[i] <= 1]
    if not behind:
        return None
    last = behind[0]
    for j in range(last + 1, len(r)):
        if np.isfinite(r[j]) and r[j] <= 1:
            last = j
        elif np.isfinite(r[j]):
            return Reversal(xs[last], xs[j], "ahead", float(r[j]), float(t[j]),
                            bool(t[j] < t[last]))
        else:
            kind = "alt" if not np.isfinite(t[j]) else "hermes"
            return Reversal(xs[last], xs[j], kind, math.nan, float(t[j]), False)
    return None


def _point(sweep: str, x: float) -> str:
    """A sweep's point with its unit: ``batch 128``, ``density 0.6``, ``4 DIMMs``."""
    return UNIT[sweep].format(f"{x:g}")


def _event(k: Key, rev: Reversal) -> str:
    """What :func:`reversal` found, as a clause: ``Hermes leads again at batch 128 by 31.4×,
    Hermes-host falling to 80.1 tokens/s`` or ``GPU only is N.P. at batch 128``."""
    at = _point(k[0], rev.at)
    if rev.kind == "ahead":
        fell = (f", {SYSTEM_NAMES[k[2]]} falling to {rev.alt_tokens:,.1f} tokens/s"
                if rev.alt_fell else "")
        return f"Hermes leads again at {at} by {rounded(rev.speedup, 3):g}×{fell}"
    who = SYSTEM_NAMES[k[2]] if rev.kind == "alt" else "Hermes"
    return f"{who} is N.P. at {at}"


def _until_parts(k: Key, res: BreakEven) -> tuple[str, str] | None:
    """(``"up to batch 64"``, :func:`_event`) where Hermes stops being behind along `k` inside
    the sweep (:func:`reversal`), None where it stays behind to the sweep's end."""
    rev = reversal(k, res)
    if rev is None:
        return None
    way = "down to" if k[0] == "n_dimms" else "up to"
    return f"{way} {_point(k[0], rev.last)}", _event(k, rev)


def _until(k: Key, res: BreakEven) -> str:
    """``" up to batch 64, then <event>"`` (:func:`_until_parts`), ``""`` where Hermes stays
    behind to the sweep's end."""
    parts = _until_parts(k, res)
    return "" if parts is None else f" {parts[0]}, then {parts[1]}"


def _behind_from(sweep: str, x: float, res: BreakEven, k: Key | None = None) -> str:
    """Where Hermes falls behind along `sweep`, from its break-even point `x`, as a phrase,
    with where it stops being behind (:func:`_until`) when the key `k` is given.

    Batches and densities are scanned upwards, DIMM counts downwards (fewer DIMMs is worse).
    """
    until = _until(k, res) if k is not None else ""
    if sweep == "n_dimms":
        if x >= max(res.n_dimms):
            return f"at {max(res.n_dimms)} DIMMs and fewer" + until
        return f"below about {rounded(x, 2):g} DIMMs" + until
    what = "a batch" if sweep == "batch" else "a density"
    return f"from {what} of about {x:{FORMAT[sweep]}}" + until


def _where(k: Key, x: float, res: BreakEven, names: Mapping[tuple[str, str], str]) -> str:
    """A sweep in which Hermes falls behind, as the text names it: ``the density sweep of X
    (from a density of about 0.08)``."""
    return f"the {SWEEPS[k[0]]} sweep of {names[k[:2]]} ({_behind_from(k[0], x, res, k)})"


def summary_hh_txt(crossed: Sequence[tuple[Key, float]], res: BreakEven,
                   names: Mapping[tuple[str, str], str]) -> str:
    """The summary's clause on Hermes-host, from every sweep in which Hermes falls behind it.

    Parameters
    ----------
    crossed : sequence
        (key, break-even point) of each sweep against Hermes-host that crosses 1.
    res : BreakEven
        :func:`sweeps`.
    names : mapping
        (sweep, case) → the case's name (:func:`_case_names`).

    Returns
    -------
    str
        Led by ``"; "``. The SwiGLU batch sweep, where it crosses, comes first
        (``overtakes it from a batch of about 25 with the same statistics``), followed by the
        other sweeps but the ReLU-fied batch sweep; ``does not overtake it`` where none
        crosses.
    """
    sw = ("batch", "swiglu", "hermes-host")
    lead = "; Hermes-host, which keeps attention and the projection on the GPU, overtakes it"
    at = dict(crossed)
    others = [_where(k, x, res, names) for k, x in at.items() if k[0] != "batch"]
    if sw in at:
        parts = _until_parts(sw, res)
        txt = f"{lead} {_behind_from('batch', at[sw], res)} with the same statistics" + (
            "" if parts is None else f" ({parts[0]}; then {parts[1]})")
        return txt + (f", and in {prose_list(others)}" if others else "")
    if at:
        return f"{lead} in {prose_list([_where(k, x, res, names) for k, x in at.items()])}"
    return "; Hermes-host does not overtake it in these sweeps"


def _gpu_lead_ends(k: Key, res: BreakEven) -> str:
    """Where GPU only's lead along `k` ends inside the sweep: ``up to batch 64 and cannot run
    batch 128 (N.P.)``, ``up to batch 64, then Hermes leads again …``; ``""`` where it
    lasts to the sweep's end."""
    rev = reversal(k, res)
    if rev is None:
        return ""
    upto = f"up to {_point(k[0], rev.last)}"
    if rev.kind == "alt":
        return f"{upto} and cannot run {_point(k[0], rev.at)} (N.P.)"
    return f"{upto}, then {_event(k, rev)}"


def gpu_only_txt(res: BreakEven, g: Mapping[str, str], names: Mapping[tuple[str, str], str], *,
                 small_fits: bool, small: str, batch: int) -> str:
    """The bullet on GPU only, from its parenthesis on: every break-even point against GPU only
    (the small model's batch and DIMM sweeps, both models' density sweeps).

    Parameters
    ----------
    res : BreakEven
        :func:`sweeps`.
    g : mapping
        The glue built so far (``be_batch_relu``, ``be_batch_swiglu``, ``be_dimm_gpu``).
    names : mapping
        (sweep, case) → the case's name (:func:`_case_names`).
    small_fits : bool
        Whether GPU only runs the small model.
    small : str
        The small model's name.
    batch : int
        The batch of the density and DIMM sweeps, sequences.
    """
    if small_fits:
        txt = ("(the model fits one GPU): with " + small + " on the paper's system, Hermes wins "
               "at batch 1 because the GPU reads only the active hot neurons while the DIMMs "
               "take the cold ones; " + (
                   f"GPU only overtakes it at {g['be_batch_relu']} with ReLU-fied statistics "
                   f"and at {g['be_batch_swiglu']} with SwiGLU's" if any(
                       np.isfinite(res.breakeven[("batch", a, "gpu-only")])
                       for a in ("relu", "swiglu")) else
                   f"GPU only does not overtake it at any batch up to {max(res.batches)}, with "
                   "either statistics"))
        ends = {a: _gpu_lead_ends(("batch", a, "gpu-only"), res) for a in ("relu", "swiglu")}
        if ends["relu"] and ends["relu"] == ends["swiglu"]:
            txt += f". With either statistics GPU only leads {ends['relu']}"
        else:
            txt += "".join(f". With {STATS[a]} statistics GPU only leads {e}"
                           for a, e in ends.items() if e)
        txt += f". With SwiGLU statistics at batch {batch}, {g['be_dimm_gpu']}"
    else:
        txt = (f"({small} does not fit one GPU): GPU only cannot run {small}, so its batch and "
               "DIMM sweeps have no break-even point against GPU only")
    dens = [_where(k, x, res, names) for k, x in res.breakeven.items()
            if k[0] == "density" and k[2] == "gpu-only" and np.isfinite(x)]
    if dens:
        txt += f"; at batch {batch}, GPU only overtakes it in {prose_list(dens)}"
    return txt


def fp16_5090_txt(source: str) -> str:
    """The clause on the RTX 5090's FP16 peak, from its catalog `source` under the chapter's
    profile (the sources table prints it).

    >>> fp16_5090_txt("the paper's convention (dense FP16 with FP16 accumulate), applied to ...")
    "the RTX 5090's FP16 peak applies the paper's convention (FP16 accumulate) to NVIDIA's figure"
    >>> fp16_5090_txt("RTX Blackwell whitepaper, dense FP16 with FP32 accumulate "
    ...               "(assumed half of 419)")
    "the RTX 5090's FP16 peak is the whitepaper's FP32-accumulate rate, assumed half of 419 TFLOPS"
    """
    if "paper's convention" in source:
        return ("the RTX 5090's FP16 peak applies the paper's convention (FP16 accumulate) to "
                "NVIDIA's figure")
    half = re.search(r"assumed half of ([0-9.,]+)", source)
    if "FP32 accumulate" in source and half is not None:
        return ("the RTX 5090's FP16 peak is the whitepaper's FP32-accumulate rate, assumed "
                f"half of {half.group(1)} TFLOPS")
    return f"the RTX 5090's FP16 peak is taken from: {source}"


def breakeven_glue(res: BreakEven, *, table: pd.DataFrame, sg: Swiglu,
                   models: Mapping[str, ModelSpec], model: str, small_model: str,
                   large_model: str, batch: int) -> dict[str, Any]:
    """The sentences of the break-even section and of the summary.

    Parameters
    ----------
    res : BreakEven
        :func:`sweeps`.
    table : DataFrame
        :class:`OneChange`'s ``table`` (which parts keep Hermes ahead of Hermes-host).
    sg : Swiglu
        :func:`swiglu` (the summary repeats its verdict).
    models : mapping
        Slug → model.
    model, small_model, large_model : str
        Slugs in `models`: the one-change table's model and the sweeps' two.
    batch : int
        The batch of the one-change table and of the density and DIMM sweeps, sequences.

    Returns
    -------
    dict
        ``be_batch_relu``, ``be_batch_swiglu``, ``be_dimm_gpu``, ``hh_verdict``,
        ``summary_hh_txt``, ``min_hh_density``, ``large_name``, ``min_hh_txt``,
        ``gpu_only_txt``, ``large_fit_txt``, ``summary_parts_txt``, ``summary_sw_txt``,
        ``summary_be_txt``.
    """
    be, ratio = res.breakeven, res.ratio
    g: dict[str, Any] = {}
    for a in ("relu", "swiglu"):
        x = be[("batch", a, "gpu-only")]
        g[f"be_batch_{a}"] = (f"a batch of about {rounded(x, 2):g}" if np.isfinite(x)
                              else f"no batch up to {max(res.batches)}")
    x = be[("n_dimms", small_model, "gpu-only")]
    g["be_dimm_gpu"] = (f"Hermes needs more than about {rounded(x, 2):g} NDP-DIMMs to beat the "
                        "GPU alone" if np.isfinite(x) else "GPU only cannot run it"
                        if np.isnan(ratio[("n_dimms", small_model, "gpu-only")]).all() else
                        f"Hermes beats the GPU alone with as few as {min(res.n_dimms)} NDP-DIMM")
    names = _case_names(models, small_model)
    crossed = [(k, x) for k, x in be.items() if k[2] == "hermes-host" and not math.isnan(x)]
    where = [_where(k, x, res, names) for k, x in crossed]
    verdict = ("Hermes stays ahead at every point of every sweep" if not crossed else
               "Hermes falls behind in " + prose_list(where))
    if {k[0] for k, _ in crossed} == {"batch"}:
        verdict += (": at such batches the traffic Hermes adds to every layer (the attention "
                    "output to the GPU, the projection's output to every DIMM, the DIMMs' "
                    "reductions over DIMM-link) grows with the batch past what the DIMMs save, "
                    "while Hermes-host keeps attention and the projection on the GPU")
    g["hh_verdict"] = verdict
    g["summary_hh_txt"] = summary_hh_txt(crossed, res, names)
    large = models[large_model].name
    min_hh = rounded(float(pd.Series(ratio[("density", large_model, "hermes-host")]).min()))
    g["min_hh_density"] = min_hh
    g["large_name"] = large
    g["min_hh_txt"] = (f"its smallest lead over the density sweep of {large} is {min_hh:.2f}×"
                       if min_hh > 1 else f"over the density sweep of {large} its speedup falls "
                       f"to {min_hh:.2f}×" if np.isfinite(min_hh) else
                       f"Hermes-host cannot run {large} at batch {batch} (N.P.)")
    small_fits = not np.isnan(ratio[("batch", "relu", "gpu-only")]).all()
    g["gpu_only_txt"] = gpu_only_txt(res, g, names, small_fits=small_fits,
                                     small=prose_name(models[small_model]), batch=batch)
    large_short = prose_name(models[large_model])
    g["large_fit_txt"] = (f"{large_short} fits one GPU, so GPU only is an alternative for it "
                          "too" if res.large_fits else "A model that does not fit the GPU "
                          f"({large_short.split('-')[-1]}) cannot run as GPU only on one card")
    behind = [n for label, n in SUMMARY_PARTS.items()
              if table.loc[label, "hermes / hermes-host"] <= 1]
    g["summary_parts_txt"] = (
        "Hermes' idea survives newer parts: DDR5 NDP-DIMMs, a faster GPU and more DIMMs all "
        "keep it ahead of a host-CPU design" if not behind else
        f"Hermes falls behind a host-CPU design with {' and '.join(behind)} "
        f"({models[model].name}, batch {batch})")
    g["summary_sw_txt"] = (
        f"Weak SwiGLU sparsity costs {large_short} a large share of its throughput but leaves "
        "Hermes well ahead of Hermes-host" if sg.sw_drop >= 25 and sg.sw_hh >= 2
        else f"{sg.loses}; " + (f"Hermes runs it {sg.sw_hh:.1f}× as fast as Hermes-host"
                                if np.isfinite(sg.sw_hh)
                                else f"Hermes-host cannot run it at batch {batch}"))
    small = prose_name(models[small_model])
    until = _until(("batch", "swiglu", "gpu-only"), res)
    g["summary_be_txt"] = summary_be_txt(
        be[("batch", "swiglu", "gpu-only")], small=small, small_fits=small_fits,
        max_batch=max(res.batches), until=until)
    return g


def summary_be_txt(x: float, *, small: str, small_fits: bool, max_batch: int,
                   until: str = "") -> str:
    """The Summary's clause on where GPU only overtakes Hermes in the SwiGLU batch sweep of the
    small model: break-even batch `x` (NaN: none up to `max_batch`), `until` as :func:`_until`.

    >>> summary_be_txt(27.4, small="LLaMA3-8B", small_fits=True, max_batch=64)
    'once the model fits the GPU and the batch grows, reading every weight on the GPU wins (a batch of about 27 for LLaMA3-8B with SwiGLU statistics)'
    >>> "does not overtake" in summary_be_txt(math.nan, small="LLaMA2-7B", small_fits=True,
    ...                                        max_batch=8)
    True
    """
    if not small_fits:
        return (f"GPU only needs the model to fit one GPU, and {small} does not, so it has no "
                "break-even point")
    if not np.isfinite(x):
        return (f"the model fits the GPU, yet reading every weight on the GPU does not overtake "
                f"Hermes at any batch up to {max_batch} for {small} with SwiGLU statistics")
    return ("once the model fits the GPU and the batch grows, reading every weight on the GPU "
            f"wins (a batch of about {rounded(x, 2):g} for {small} with SwiGLU statistics"
            f"{',' if until else ''}{until})")


def swiglu_models_glue(models: Mapping[str, ModelSpec], small_model: str, large_model: str,
                       provenance: Mapping[tuple[str, str], Mapping[str, str]]) -> dict[str, str]:
    """The SwiGLU section's words for the chapter's two SwiGLU models, Llama 2 or 3.

    Returns
    -------
    dict
        ``sw_models_txt`` (the two models), ``sw_ships_txt`` (their families, with the verb:
        ``LLaMA3 ships``), ``relu_borrow_txt`` (the sentence on the ReLU-fied statistics they
        borrow, or "" where each has its own published ones).
    """
    pair = (small_model, large_model)
    fams = sorted({_family(prose_name(models[s])) for s in pair})
    borrowers = [s for s in pair
                 if provenance[(s, "relu")]["mlp_density"].startswith(sp.BORROWED_PREFIX)]
    lenders = sorted({_family(provenance[(s, "relu")]["mlp_density"]
                              .removeprefix(sp.BORROWED_PREFIX)) for s in borrowers})
    borrow = (f"No ReLU-fied {prose_list(sorted({_family(prose_name(models[s])) for s in borrowers}))} "
              f"statistic is published, so the ReLU-fied reading borrows "
              f"{prose_list([f'{f}-ReGLU' for f in lenders])}'s." if borrowers else "")
    return {"sw_models_txt": prose_list([prose_name(models[s]) for s in pair]),
            "sw_ships_txt": f"{prose_list(fams)} {'ships' if len(fams) == 1 else 'ship'}",
            "relu_borrow_txt": borrow}


def breakeven_table(res: BreakEven, models: Mapping[str, ModelSpec],
                    small_model: str) -> pd.DataFrame:
    """The break-even table: each sweep, case and alternative with its break-even point in the
    sweep's format and unit (``batch 36``, ``density 0.46``, ``6.4 DIMMs``), with where Hermes
    stops being behind inside the sweep (:func:`reversal`: ``batch 28 (to batch 64; Hermes
    ahead again at batch 128)``), or why there is none (the alternative cannot run, or Hermes
    stays ahead or behind over the whole sweep)."""
    names = _case_names(models, small_model)
    span = {"batch": f"batches {min(res.batches)} to {max(res.batches)}",
            "density": f"densities {res.densities[0]:g} to {res.densities[-1]:g}",
            "n_dimms": f"{min(res.n_dimms)} to {max(res.n_dimms)} DIMMs"}

    def shown(k: Key, x: float) -> str:
        r = res.ratio[k]
        if np.isnan(r).all():
            return "none: the model does not fit one GPU"
        if np.isfinite(x):
            rev = reversal(k, res)
            again = ("" if rev is None else f" (to {_point(k[0], rev.last)}; " + (
                "Hermes ahead again" if rev.kind == "ahead" else
                f"{SYSTEM_NAMES[k[2]] if rev.kind == 'alt' else 'Hermes'} N.P.")
                + f" at {_point(k[0], rev.at)})")
            return UNIT[k[0]].format(f"{rounded(x, 12):{FORMAT[k[0]]}}") + again
        return f"none: Hermes {'ahead' if np.nanmin(r) > 1 else 'behind'} over {span[k[0]]}"

    be = res.breakeven
    return pd.DataFrame({"sweep": [SWEEPS[k[0]] for k in be],
                         "case": [names[k[:2]] for k in be],
                         "against": [SYSTEM_NAMES[k[2]] for k in be],
                         "break-even": [shown(k, x) for k, x in be.items()]})
