"""What the sparsity chapter (``book/sparsity.ipynb``) computes for its text and tables.

The chapter sets measured (MiniLM, SmolLM2), published (PowerInfer), paper (Hermes' own
statements) and generated (`hermes_model.sparsity`) activation statistics side by side. The functions here build its tables
and the glue values its prose prints; the statistics themselves come from `hermes_model.sparsity`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from hermes_model import sparsity as sp
from hermes_model import units as u
from hermes_model.plotting import formatted, rounded
from hermes_model.roofline import prose_list
from hermes_model.scorecard import reader_source, short_name
from hermes_model.shapes import ModelSpec

#: The four models of the hot/cold law and of the QKV bound (the chosen model is added:
#: `law_slugs`).
LAW_MODELS: Final = ("opt_30b", "falcon_40b", "llama2_13b", "llama2_70b")


def law_slugs(model: str) -> tuple[str, ...]:
    """The models of the hot/cold and QKV tables: `LAW_MODELS`, and the chosen `model` after
    them when it is not one of them (the text quotes its values).

    >>> law_slugs("llama2_13b")[-1], law_slugs("opt_66b")[-1]
    ('llama2_70b', 'opt_66b')
    """
    return LAW_MODELS if model in LAW_MODELS else (*LAW_MODELS, model)


def skew_clause(model: str, model_sigma: float, law_fit: sp.FrequencyFit | None) -> str:
    """What the paper's 20/80 figure needs, against the chosen model's fitted skew: "a much more
    skewed distribution" where the skew it needs is at least 1.5 times the model's (or no skew
    reaches it), "a more skewed distribution" otherwise, and ", closer to OPT's" (the most
    skewed family of the table) unless the model is itself an OPT.

    >>> skew_clause("llama2_13b", 1.38, None)
    "a much more skewed distribution, closer to OPT's"
    >>> skew_clause("opt_66b", 1.64, sp.FrequencyFit(4096, -4.0, 1.92, 0.03, 0.2))
    'a more skewed distribution'
    """
    much = law_fit is None or law_fit.logit_std >= 1.5 * model_sigma
    text = f"a {'much ' if much else ''}more skewed distribution"
    return text if model.startswith("opt") else f"{text}, closer to OPT's"

#: Neurons of the grid behind the hot/cold curves (the family's shape does not depend on N).
N_GRID: Final = 4096

#: Token distances at which the generated trace's similarity is measured.
DISTANCES: Final = (1, 5, 10, 25, 50)

#: Display names of the published statistics (others: the slug with spaces).
STATISTICS: Final = {
    "mlp_sparsity": "MLP sparsity", "hot_share_80": "hot share for 80 %",
    "density_per_token": "density per token",
    "hot_compute_share": "compute share of the hot neurons",
    "similarity_d1": "similarity at d = 1", "similarity_d10": "similarity at d = 10",
    "similarity_d25_plus": "similarity at d ≥ 25",
    "layer_correlation_p": "P(active | one previous-layer neuron active)",
    "initially_hot_neurons_that_change": "initially hot neurons that change",
    "fixed_partition_penalty": "fixed-partition penalty",
    "top20_overlap_across_datasets": "top-20 % overlap across data sets",
    "predictor_accuracy": "predictor accuracy"}

#: The generator's inputs a model's table shows, with their display names.
INPUTS: Final = {"mlp_density": "MLP density", "hot_share_80": "hot share for 80 %",
                 "similarity_d1": "S(1)", "similarity_d25": "S(25)",
                 "qkv_density": "QKV density", "qkv_hot_share_80": "QKV hot share for 80 %"}

#: PowerInfer's models whose per-block and whole-model hot shares the text compares.
PUBLISHED_HOT: Final = {"opt30": "OPT-30B", "reglu70": "LLaMA2(ReGLU)-70B",
                        "swiglu70": "LLaMA2(SwiGLU)-70B"}

_SLUG: Final = re.compile(r"\b(?:opt|falcon|llama\d?)_\w+")

Summary = Mapping[str, Any]


# ---------------------------------------------------------------------------------------------
# Measured and published statistics
# ---------------------------------------------------------------------------------------------


def measured_table(summaries: Mapping[str, Summary]) -> pd.DataFrame:
    """One row per measured model (its name → its activation summary,
    `hermes_model.io.load_activation_summary`), of its layer-mean statistics."""
    rows = []
    for name, summary in summaries.items():
        m = summary["mean_over_layers"]
        rows.append({"model": name, "density": m["density"], "hot share for 80 %": m["hot_share_80"],
                     "S(1)": m["similarity"]["1"], "S(10)": m["similarity"]["10"],
                     "S(25)": m["similarity"]["25"], "memoryless": m["memoryless_similarity"],
                     "P(active | top-2 active)": m["layer_correlation_p_active_given_top2_mean"],
                     "P(active)": m["layer_correlation_p_active_unconditional_mean"]})
    return pd.DataFrame(rows)


def measured_glues(summaries: Mapping[str, Summary]) -> dict[str, object]:
    """Glue values of the measured models' statistics: for each key (``minilm``, ``smol``) →
    summary, ``{key}_density``, ``_hot``, ``_s1``, ``_s25``, ``_mem``, ``_top2``, ``_uncond``."""
    out: dict[str, object] = {}
    for key, summary in summaries.items():
        m = summary["mean_over_layers"]
        out |= {f"{key}_density": rounded(m["density"]), f"{key}_hot": rounded(m["hot_share_80"]),
                f"{key}_s1": rounded(m["similarity"]["1"]),
                f"{key}_s25": rounded(m["similarity"]["25"]),
                f"{key}_mem": rounded(m["memoryless_similarity"]),
                f"{key}_top2": rounded(m["layer_correlation_p_active_given_top2_mean"]),
                f"{key}_uncond": rounded(m["layer_correlation_p_active_unconditional_mean"])}
    return out


def plain(text: object) -> str:
    """Reader-facing text: typographic symbols instead of ASCII ones.

    >>> plain(">= 0.90 -> flat")
    '≥ 0.90 → flat'
    """
    return str(text).replace(">=", "≥").replace("<=", "≤").replace("->", "→")


def source_text(text: object, names: Mapping[str, str]) -> str:
    """A source as the book cites it: the paper's sections only (`scorecard.reader_source`), with
    catalog slugs written as the models' short display names (`names`: slug → name).

    >>> source_text("borrowed family default from opt_30b; x >= 1", {"opt_30b": "OPT-30B"})
    'borrowed family default from OPT-30B; x ≥ 1'
    """
    return plain(_SLUG.sub(lambda m: short_name(names[m.group(0)]), reader_source(str(text))))


def statement_label(source: object) -> str:
    """The book's label of a statistic from the published table, by its source: *paper* for a
    statement of Hermes itself, *published* for one of another paper (PowerInfer).

    >>> statement_label("Hermes Fig. 4a (§III-B)"), statement_label("PowerInfer Table 1/3")
    ('paper', 'published')
    """
    return "paper" if str(source).startswith("Hermes") else "published"


def published_table(published: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """The published statistics (`hermes_model.io.load_published_sparsity`) as the chapter
    shows them: display names of the statistics, typographic scopes, reader sources, and the
    label of each row (`statement_label`)."""
    return published.assign(
        statistic=published["statistic"].map(lambda s: STATISTICS.get(s, s.replace("_", " "))),
        scope=published["scope"].map(plain),
        source=published["source"].map(lambda s: source_text(s, names)),
        label=published["source"].map(statement_label))[
        ["model", "statistic", "value", "unit", "scope", "source", "label"]].set_index("model")


def input_source(text: object, names: Mapping[str, str]) -> str:
    """A generator input's provenance as the chapter prints it (`source_text`), in the labels of
    the book (`sparsity.PROVENANCE_KINDS`: a Hermes figure is tagged *paper*, PowerInfer's
    statistics *published*); a borrowed value names the model it comes from, whether of the same
    family or not.

    >>> input_source("paper: Hermes Fig. 4a (§III-B) via hermes_paper.md §4.2; x >= 0.9", {})
    'paper: Hermes Fig. 4a (§III-B); x ≥ 0.9'
    >>> input_source("borrowed family default from opt_30b; no Falcon value", {"opt_30b": "OPT-30B"})
    'borrowed from OPT-30B; no Falcon value'
    """
    return source_text(text, names).replace(sp.BORROWED_PREFIX, "borrowed from ", 1)


def inputs_table(row: Mapping[str, Any], names: Mapping[str, str]) -> pd.DataFrame:
    """A model's generator inputs (a row of `hermes_model.io.load_generator_inputs`): value
    (two decimals) and source (`input_source`), by input."""
    return pd.DataFrame({"input": list(INPUTS.values()),
                         "value": [f"{float(row[k]):.2f}" for k in INPUTS],
                         "source": [input_source(row[f"{k}_provenance"], names) for k in INPUTS]
                         }).set_index("input")


def input_origin(row: Mapping[str, Any], key: str, names: Mapping[str, str]) -> str:
    """Where a model's generator input `key` comes from, in a word or three: its label
    (*published*, *paper*, *measured* or *assumed*, as `input_source` writes it) or "borrowed
    from" the short name of the model it is borrowed from.

    >>> input_origin({"x_provenance": "borrowed family default from opt_30b; y"}, "x",
    ...              {"opt_30b": "OPT-30B (ReLU)"})
    'borrowed from OPT-30B'
    """
    text = str(row[f"{key}_provenance"])
    slug = _borrowed_from(text)
    if slug is not None:
        return f"borrowed from {short_name(names[slug])}"
    return input_source(text, names).split(":")[0].split(";")[0].strip()


def _borrowed_from(provenance: str) -> str | None:
    """The slug a generator input is borrowed from (``"borrowed family default from opt_30b;
    ..."`` gives ``"opt_30b"``), or None for an input that is not borrowed."""
    if not provenance.startswith(sp.BORROWED_PREFIX):
        return None
    return provenance.removeprefix(sp.BORROWED_PREFIX).split(";")[0].strip()


def _family(slug: str) -> str:
    """A catalog slug's model family: its leading letters (``llama2_70b`` → ``llama``)."""
    m = re.match(r"[a-z]+", slug)
    return m.group(0) if m else slug


def borrowing_txt(inputs: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]) -> str:
    """How the generator's inputs are borrowed: from a model of the same family, and the
    exceptions (a density, hot share or similarity borrowed from another family), grouped by
    what is borrowed and from which model.

    Parameters
    ----------
    inputs : mapping
        The generator inputs per model slug (`hermes_model.io.load_generator_inputs`).
    names : mapping
        Slug → display name.
    """
    what = {"mlp_density": "MLP density", "hot_share_80": "hot share for 80 %",
            "similarity_d1": "similarities", "similarity_d10": "similarities",
            "similarity_d25": "similarities"}
    across: dict[tuple[str, str], list[str]] = {}
    for slug, row in inputs.items():
        for key, kind in what.items():
            source = _borrowed_from(str(row[f"{key}_provenance"]))
            if source is not None and _family(source) != _family(slug):
                targets = across.setdefault((kind, source), [])
                if slug not in targets:
                    targets.append(slug)
    clauses = [(f"{short_name(names[ts[0]])} takes its" if len(ts) == 1 else
                f"{prose_list([short_name(names[t]) for t in ts])} take their")
               + f" {kind} from {short_name(names[source])}"
               for (kind, source), ts in across.items()]
    joined = (", ".join(clauses[:-1]) + ", and " + clauses[-1]) if len(clauses) > 1 else (
        "".join(clauses))
    return "from a model of its own family" + (f", except that {joined}" if clauses else "")


def similarity_source_txt(row: Mapping[str, Any], published: pd.DataFrame,
                          names: Mapping[str, str], model_name: str) -> str:
    """Where a model's S(1) and S(25) come from, for "the generator is fitted at distances 1 and
    25 to ...": the paper's Fig. 4a values (the models it shows read from `published`), either
    for the model's own input or borrowed from another model's.

    Parameters
    ----------
    row : mapping
        The model's generator inputs (a row of `hermes_model.io.load_generator_inputs`).
    published : pandas.DataFrame
        The published statistics (`hermes_model.io.load_published_sparsity`).
    names : mapping
        Slug → display name.
    model_name : str
        The model's display name.
    """
    shown = published.loc[published["statistic"] == "similarity_d1", "model"]
    fig_models = list(dict.fromkeys(m.strip() for ms in shown for m in str(ms).split(",")))
    fig = f"the paper's Fig. 4a, which shows only {' and '.join(fig_models)}"
    origins = {input_origin(row, k, names) for k in ("similarity_d1", "similarity_d25")}
    if len(origins) == 1:
        origin = origins.pop()
        if origin.startswith("borrowed from "):
            src = origin.removeprefix("borrowed from ")
            # Fig. 4a's LLaMA-13B is the first LLaMA; the book takes its values for LLaMA2-13B
            shown_as = src.replace("LLaMA2", "LLaMA")
            taken = (f" (Fig. 4a's {shown_as} values, taken for {src})"
                     if shown_as != src and shown_as in fig_models else "")
            return (f"the values of {fig}: {short_name(model_name)} borrows {src}'s{taken}")
        if origin == "paper":
            return f"the values of {fig}"
    return (f"its inputs ({input_origin(row, 'similarity_d1', names)} and "
            f"{input_origin(row, 'similarity_d25', names)})")


# ---------------------------------------------------------------------------------------------
# The hot/cold law
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotColdLaw:
    """The hot/cold law of the chapter's models, and what the text says of it.

    Attributes
    ----------
    curves : list of pandas.DataFrame
        Per model: ``curve`` (short name), ``parameter_share``, ``compute_share``, every 32nd
        point of the grid.
    table : pandas.DataFrame
        Per model (index): density, hot share for 80 %, skew σ, compute share of the hottest
        20 %, and where the density and the hot share come from (`input_origin`).
    headline_fit : sparsity.FrequencyFit or None
        The fit that gives the chosen model's density a hot share of 0.20 (`sp.headline_fit`).
    model_fit : sparsity.FrequencyFit
        The chosen model's fit.
    published_hot_share : pandas.DataFrame
        PowerInfer's hot shares for 80 % (%), by model (index) and scope (columns).
    glues : dict
        ``law_phrase``, the chosen model's ``model_sigma``, ``model_top20_pct``,
        ``model_hot_pct`` and ``model_hot_origin`` (`input_origin`), ``skew_clause``
        (`skew_clause`), ``law_n_models`` (the models of the table, in words), and ``pub_hot_<key>_<block|whole>`` for each of `PUBLISHED_HOT`.
    """

    curves: list[pd.DataFrame]
    table: pd.DataFrame
    headline_fit: sp.FrequencyFit | None
    model_fit: sp.FrequencyFit
    published_hot_share: pd.DataFrame
    glues: dict[str, object]


def _fit(n_grid: int, row: Mapping[str, Any]) -> tuple[sp.FrequencyFit, np.ndarray]:
    fit = sp.fit_frequencies(n_grid, float(row["mlp_density"]), float(row["hot_share_80"]))
    return fit, sp.logit_normal_frequencies(n_grid, fit.logit_mean, fit.logit_std)


def hot_cold_law(inputs: Mapping[str, Mapping[str, Any]], published: pd.DataFrame, model: str,
                 models: Sequence[ModelSpec], *, n_grid: int = N_GRID,
                 names: Mapping[str, str] | None = None) -> HotColdLaw:
    """Fit the logit-normal family to each model's density and hot share, and read the law.

    Parameters
    ----------
    inputs : mapping
        The generator inputs per model slug (`hermes_model.io.load_generator_inputs`).
    published : pandas.DataFrame
        The published statistics (`hermes_model.io.load_published_sparsity`).
    model : str
        Slug of the chapter's model.
    models : sequence of ModelSpec
        The models of the curves and the table.
    n_grid : int
        Neurons of the frequency grid, count.
    names : mapping, optional
        Slug → display name, for the models values are borrowed from (default: `models`').
    """
    names = {m.slug: m.name for m in models} if names is None else names
    curves, rows = [], []
    for m in models:
        fit, p = _fit(n_grid, inputs[m.slug])
        params, compute = sp.cumulative_compute_share(p)
        step = slice(None, None, 32)
        curves.append(pd.DataFrame({"curve": short_name(m.name), "parameter_share": params[step],
                                    "compute_share": compute[step]}))
        rows.append({"model": m.name, "density": fit.density,
                     "hot share for 80 %": fit.hot_share_80,
                     # the text's rounding (model_sigma), so the two print the same digits
                     "skew σ": rounded(fit.logit_std),
                     "compute share of the hottest 20 %": sp.compute_share_of_hottest(p),
                     "density is": input_origin(inputs[m.slug], "mlp_density", names),
                     "hot share is": input_origin(inputs[m.slug], "hot_share_80", names)})
    # the skew that the paper's 20 % / 80 % needs, at the chosen model's density
    law_fit, law_phrase = sp.headline_fit(n_grid, float(inputs[model]["mlp_density"]), 0.20)
    fit_m, p_m = _fit(n_grid, inputs[model])
    hot_pub = published[published["statistic"] == "hot_share_80"].pivot(
        index="model", columns="scope", values="value").astype(float)
    glues: dict[str, object] = {
        "law_phrase": law_phrase, "model_sigma": rounded(fit_m.logit_std),
        "model_top20_pct": rounded(100 * sp.compute_share_of_hottest(p_m)),
        "model_hot_pct": rounded(100 * float(inputs[model]["hot_share_80"])),
        "model_hot_origin": input_origin(inputs[model], "hot_share_80", names),
        "skew_clause": skew_clause(model, fit_m.logit_std, law_fit),
        "law_n_models": u.count_words(len(models), zero="no")}
    for key, name in PUBLISHED_HOT.items():
        glues[f"pub_hot_{key}_block"] = rounded(hot_pub.loc[name, "within one MLP block"])
        glues[f"pub_hot_{key}_whole"] = rounded(hot_pub.loc[name, "whole model"])
    return HotColdLaw(curves, pd.DataFrame(rows).set_index("model"), law_fit, fit_m, hot_pub,
                      glues)


# ---------------------------------------------------------------------------------------------
# Persistence and SwiGLU
# ---------------------------------------------------------------------------------------------


def mlp_group(targets: sp.ModelTargets) -> sp.GroupTargets:
    """The MLP neurons' targets among a model's groups."""
    return next(g for g in targets.groups if g.name == "mlp")


def paper_similarity() -> pd.DataFrame:
    """The paper's Fig. 4a statements as chart marks: > 0.90 at d = 1, ≈ 0.70 from d = 10, flat
    at d = 25."""
    return pd.DataFrame({"distance": [1, 10, 25], "similarity": [0.90, 0.70, 0.70],
                         "label": ["paper: > 0.90", "paper: ≈ 0.70", "paper: flat"]})


def similarity_curves(gen: sp.TraceSummary, persistence: sp.Persistence, short: str,
                      measured: Mapping[str, Summary], *,
                      distances: Sequence[int] = DISTANCES) -> pd.DataFrame:
    """The similarity chart's tidy data: the generator's expected curve (d = 1..50), the generated
    trace at `distances`, its memoryless baseline, and each measured model's curve.

    Parameters
    ----------
    gen : sparsity.TraceSummary
        The generated trace, summarised at (at least) `distances`.
    persistence : sparsity.Persistence
        The fitted curve of the trace's model.
    short : str
        Short name of the generated model.
    measured : mapping
        Curve label → activation summary of a measured model.
    distances : sequence of int
        Distances of the generated points, tokens.
    """
    d_line = np.arange(1, 51)
    rows = [
        pd.DataFrame({"curve": f"{short}, generator", "kind": "expected", "distance": d_line,
                      "similarity": sp.similarity_curve(persistence, d_line)}),
        pd.DataFrame({"curve": f"{short}, generator", "kind": "generated",
                      "distance": distances, "similarity": [gen.similarity[d] for d in distances]}),
        pd.DataFrame({"curve": f"{short}, memoryless", "kind": "expected", "distance": [1, 50],
                      "similarity": [gen.memoryless_similarity] * 2}),
    ]
    for name, summary in measured.items():
        s = summary["mean_over_layers"]["similarity"]
        rows.append(pd.DataFrame({"curve": name, "kind": "measured",
                                  "distance": [int(k) for k in s],
                                  "similarity": list(s.values())}))
    return pd.concat(rows)


def persistence_glues(gen: sp.TraceSummary, mlp: sp.GroupTargets,
                      trace_model: sp.TraceModel) -> dict[str, object]:
    """Glue values of the persistence section: the generated statistics against their targets,
    and the fitted ρ and per-sequence share c of the first layer."""
    return {**{f"gen_s{d}": rounded(gen.similarity[d]) for d in (1, 10, 25)},
            "gen_mem": rounded(gen.memoryless_similarity), "gen_density": rounded(gen.density),
            "gen_hot": rounded(gen.hot_share_80), "target_density": rounded(float(mlp.density)),
            "target_hot": rounded(float(mlp.hot_share_80)),
            "hot_gap_pts": rounded(100 * (float(mlp.hot_share_80) - gen.hot_share_80)),
            "rho": rounded(trace_model.persistence[0][0].slow_rho),
            "c_share": rounded(float(trace_model.sequence_share[0, 0]))}


_STATS: Final = ["density", "hot share for 80 %", "S(1)", "S(10)", "S(25)", "memoryless"]


def _column(s: sp.TraceSummary) -> list[float]:
    return [s.density, s.hot_share_80, s.similarity[1], s.similarity[10], s.similarity[25],
            s.memoryless_similarity]


def persistence_table(gen: sp.TraceSummary, mlp: sp.GroupTargets) -> pd.DataFrame:
    """Target and generated statistics by statistic; S(10) and the memoryless baseline have no
    target (NaN): the curve is solved through S(1) and S(25) alone."""
    return pd.DataFrame({
        "statistic": _STATS,
        "target": [mlp.density, mlp.hot_share_80, mlp.similarity[0], np.nan, mlp.similarity[2],
                   np.nan],
        "generated": _column(gen)}).set_index("statistic")


@dataclass(frozen=True)
class SwigluComparison:
    """A model's generated statistics with its original SwiGLU and its ReLU-fied activation.

    Attributes
    ----------
    swiglu, relu : sparsity.TraceSummary
    table : pandas.DataFrame
        The statistics of both (columns) by statistic (index).
    glues : dict
        ``sw_name`` (short), ``re_density``, and the SwiGLU trace's ``sw_density``, ``sw_hot``,
        ``sw_s1``, ``sw_mem`` and ``sw_top20_pct``.
    """

    swiglu: sp.TraceSummary
    relu: sp.TraceSummary
    table: pd.DataFrame
    glues: dict[str, object]


#: The models whose PowerInfer SwiGLU statistics the ``swiglu`` option takes (density of the
#: first, hot share of the second).
SWIGLU_SOURCES: Final = ("llama2_13b", "llama2_70b")


def swiglu_lead(spec: ModelSpec, sw_spec: ModelSpec) -> str:
    """The subject of the SwiGLU paragraph: the original SwiGLU model compared (`sw_spec`: the
    chapter's model `spec` where it is SwiGLU natively, else the stand-in), with the LLaMA2
    statistics marked as borrowed where it is not one of `SWIGLU_SOURCES`, and, where `spec` has
    no SwiGLU original, why another model stands in.

    >>> from hermes_model import io
    >>> swiglu_lead(io.load_model("llama2_70b"), io.load_model("llama2_70b"))
    'For the original SwiGLU LLaMA2-70B'
    >>> swiglu_lead(io.load_model("llama3_70b"), io.load_model("llama3_70b"))
    "For the original SwiGLU LLaMA3-70B (PowerInfer's LLaMA2 SwiGLU statistics, borrowed)"
    """
    name = short_name(sw_spec.name)
    lead = f"For the original SwiGLU {name}"
    if sw_spec.slug not in SWIGLU_SOURCES:
        lead += " (PowerInfer's LLaMA2 SwiGLU statistics, borrowed)"
    if spec.native_activation == "swiglu":
        return lead
    native = {"relu": "ReLU", "gelu": "GELU"}.get(spec.native_activation,
                                                   spec.native_activation)
    return (f"{short_name(spec.name)} has no SwiGLU original (its own activation is {native}), "
            f"so {name} stands in. {lead}")


def swiglu_comparison(sw_targets: sp.ModelTargets, re_targets: sp.ModelTargets,
                      n_sequences: int, rng: np.random.Generator, *, model_name: str,
                      relu: sp.TraceSummary | None = None) -> SwigluComparison:
    """Generate one MLP layer with SwiGLU targets (and, unless `relu` is given, one with ReLU-fied
    targets) and compare them.

    Parameters
    ----------
    sw_targets, re_targets : sparsity.ModelTargets
        The model's targets with the ``swiglu`` and the ``relu`` option.
    n_sequences : int
        Generated 128-token sequences, count.
    rng : numpy.random.Generator
        Draws the SwiGLU trace, then the ReLU one.
    model_name : str
        The model's display name.
    relu : sparsity.TraceSummary, optional
        An existing summary of the ReLU-fied trace (at distances 1, 10 and 25 at least).
    """
    sw_model = sp.build_trace_model([mlp_group(sw_targets)], 1, sw_targets.coupled_share, rng)
    sw = sp.summarize_generated(sw_model, n_sequences, rng, distances=(1, 10, 25))
    re_ = relu if relu is not None else sp.summarize_generated(
        sp.build_trace_model([mlp_group(re_targets)], 1, re_targets.coupled_share, rng),
        n_sequences, rng, distances=(1, 10, 25))
    glues: dict[str, object] = {
        "sw_name": short_name(model_name), "re_density": rounded(re_.density),
        "sw_density": rounded(sw.density), "sw_hot": rounded(sw.hot_share_80),
        "sw_s1": rounded(sw.similarity[1]), "sw_mem": rounded(sw.memoryless_similarity),
        "sw_top20_pct": rounded(100 * sp.compute_share_of_hottest(sw_model.frequencies[0]))}
    table = pd.DataFrame({"ReLU-fied (paper)": _column(re_), "SwiGLU (original)": _column(sw)},
                         index=_STATS)
    return SwigluComparison(sw, re_, table, glues)


# ---------------------------------------------------------------------------------------------
# The QKV assumption
# ---------------------------------------------------------------------------------------------


def qkv_bytes(model: ModelSpec, row: Mapping[str, Any]) -> tuple[float, float]:
    """Sparse weight bytes a token touches with the QKV neurons as dense as assumed
    (`row`'s ``qkv_density``) and twice as dense (at most 1), bytes."""
    qkv, mlp = float(row["qkv_density"]), float(row["mlp_density"])
    return (sp.active_weight_bytes_per_token(model, qkv, mlp),
            sp.active_weight_bytes_per_token(model, min(1.0, 2 * qkv), mlp))


def qkv_table(models: Sequence[ModelSpec],
              inputs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Per model (index): GB per token with the assumed QKV density, twice it, and the change (%)."""
    rows = []
    for m in models:
        base, twice = qkv_bytes(m, inputs[m.slug])
        rows.append({"model": m.name, "QKV as MLP (GB)": base / u.GB,
                     "QKV twice as dense (GB)": twice / u.GB,
                     "change (%)": 100 * (twice / base - 1)})
    return pd.DataFrame(rows).set_index("model")


def qkv_glues(model: ModelSpec, row: Mapping[str, Any], table: pd.DataFrame) -> dict[str, object]:
    """Glue values of the QKV section: the chosen model's bytes and change, and the range of the
    change over `table` (`qkv_table`)."""
    base, twice = qkv_bytes(model, row)
    return {"qkv_base_GB": rounded(base / u.GB), "qkv_change_pct": rounded(100 * (twice / base - 1)),
            "qkv_change_min": rounded(table["change (%)"].min()),
            "qkv_change_max": rounded(table["change (%)"].max())}



# ---------------------------------------------------------------------------------------------
# Validation on real data (MiniLM, held out)
# ---------------------------------------------------------------------------------------------

#: Headers of the validation table: real is *measured*, generated is the *model*'s.
VALIDATION_HEADERS: Final = {"real": "real (measured)", "generated": "generated (model)",
                             "abs_diff": "|real − generated|", "tolerance": "tolerance",
                             "within": "within"}


def validation_table(validation: pd.DataFrame) -> pd.DataFrame:
    """The held-out validation (`hermes_model.io.load_sparsity_validation`) as the chapter shows
    it: by statistic (index), `VALIDATION_HEADERS` as columns, three decimals for the values,
    two for the tolerances, and ``within`` written yes or no."""
    by_stat = validation.set_index("statistic")
    table = by_stat[list(VALIDATION_HEADERS)].assign(
        within=by_stat["within"].map({True: "yes", False: "no"}))
    return formatted(table, {"real": ".3f", "generated": ".3f", "abs_diff": ".3f",
                             "tolerance": ".2f"}).rename(columns=VALIDATION_HEADERS)


def validation_glues(validation: pd.DataFrame) -> dict[str, object]:
    """Glue values of the validation paragraph: ``val_n_within`` of ``val_n_stats`` statistics
    within their tolerance, and the statistic nearest its tolerance (largest |real − generated|
    over tolerance): ``val_tightest`` (its name), ``val_tightest_diff``, ``val_tightest_tol``."""
    ratio = validation["abs_diff"] / validation["tolerance"]
    tight = validation.loc[ratio.idxmax()]
    return {"val_n_within": int(validation["within"].sum()), "val_n_stats": len(validation),
            "val_tightest": str(tight["statistic"]),
            "val_tightest_diff": rounded(float(tight["abs_diff"])),
            "val_tightest_tol": rounded(float(tight["tolerance"]))}
