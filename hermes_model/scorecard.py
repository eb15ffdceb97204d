"""The reproduction scorecard: every result of the paper beside the model's value.

The rows are ``data/paper/scorecard_rows.csv`` (the paper's results, grouped in eleven rows by
figure, each broken into its individual numbers; loaded by ``io.load_scorecard_rows``); every
paper value there names the ``data/paper/`` file and field it comes from. Each row has a
**kind** and a **rule**:

* ``number``: the model's value, its error and whether it holds. Rules: ``hermes_20`` (Hermes
  tokens/s, ±20 %), ``rel_35`` (±35 %), ``speedup_35`` (±35 % on a speedup; below 3× the error
  is taken on ratio − 1, :func:`speedup_error`, so that 1.08× against 1.33× cannot pass, as it
  would at −19 %).
* ``range`` (rule ``range``): holds if every model value lies in ``[paper_value, paper_high]``.
* ``threshold``: ``lt`` / ``gt`` (the model value below / above ``paper_value``), ``min_count``
  (the smallest supported count equals ``paper_value``), ``np`` (the model also says N.P.).
* ``trend``: ``argmin`` (the model's smallest value sits at ``paper_value``), ``flat_10``
  (the model changes by at most 10 % over the stated span).
* ``input``: a price, an axis limit, a statistic the generator is fitted to: listed,
  not scored; with them, the rows of :data:`BOUND_PREDICTIONS`, which no fit takes in but the
  fitted statistics bound so tightly that they could not fail.

:func:`model_values` maps every row id to the model's value, computed only through the package
(policies, sweeps, ndp, dram and the committed tables of ``scripts/make_fig13.py`` and
``scripts/make_motivation.py``); a row whose
quantity no module computes yet maps to ``None`` and is reported as *not yet modelled*, never
given a value. :func:`score` applies the rules; the rules themselves are pure functions.

The display helpers at the end (:func:`sig_text`, :func:`paper_text`, :func:`reader_source`,
:func:`bar_table`, :func:`result_table`, :func:`estimate_display`) turn scored rows and
estimates into reader-facing tables: paper values exactly as given, model values to three
significant figures, N.P. (the paper's label for a configuration that cannot run) instead of NaN.
The end-to-end chapter shares the bar count (:func:`distinct_bars`), the streaming rate the
paper's bars imply (:func:`implied_stream_rate`) and the policy table (:func:`estimate_table`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd

from hermes_model import dram, ndp, policies, predictor, shapes, sparsity, specs, sweeps
from hermes_model import units as u
from hermes_model.paper import PAPER, differs
from hermes_model.policies import Activity, Assumptions
from hermes_model.shapes import ModelSpec

#: Tolerance of each number rule (a fraction).
TOLERANCES: Final[Mapping[str, float]] = {"hermes_20": 0.20, "rel_35": 0.35, "speedup_35": 0.35}
#: Below this ratio a speedup's error is taken on ratio − 1.
SPEEDUP_GAIN_BELOW: Final = 3.0
#: "Flat" in a trend row: the model changes by at most this fraction.
FLAT_FRAC: Final = 0.10
KINDS: Final = ("number", "range", "threshold", "trend", "input")
RULES: Final = ("hermes_20", "rel_35", "speedup_35", "range", "lt", "gt", "min_count", "np",
                "argmin", "flat_10", "input")
VERDICTS: Final = ("holds", "fails", "not yet modelled", "input")
#: Fig. 16's "saturated": a doubling of multipliers gains less than this (the NDP-DIMM chapter's).
SATURATION_GAIN: Final = 0.05
#: The catalog model with the shape of the paper's predictor-memory claim: the claim is for
#: LLaMA-7B (32 layers, 4096 and 11008 neurons), whose shape LLaMA2-7B shares.
PREDICTOR_MODEL: Final = "llama2_7b"
#: The catalog models of the paper's Fig. 4a (LLaMA-13B and Falcon-40B, ReLU-fied), whose
#: similarity at distance 10 (`expected_similarity`) the paper puts at "about 0.70 beyond 10".
FIG4A_MODELS: Final = ("llama2_13b", "falcon_40b")
#: Rows of kind ``input`` that are no input of any fit: a statistic of the paper that the
#: fitted inputs bound so tightly that, scored, it could not fail (Fig. 4a's similarity at
#: distance 10, between the generator's value at 25 and its straight line from 1 to 25). Listed
#: with the inputs, not scored.
BOUND_PREDICTIONS: Final = ("motivation/similarity_d10",)
#: A stated average's bars tell an arithmetic from a geometric mean when their two means differ
#: by more than this fraction; the stated value then fits a mean within :data:`MEAN_FIT`.
MEANS_APART: Final = 0.05
MEAN_FIT: Final = 0.01
#: A stated average follows from the paper's own bars when it lies within this fraction of
#: their mean (the one :func:`average_mean_kinds` reads it as): the bars are printed to two
#: decimals, which moves a mean of ratios of small bars by a few per cent.
FOLLOWS_WITHIN: Final = 0.05
#: How :func:`inconsistencies` ends the name of a stated average the paper's bars do not give,
#: and of one that is their geometric mean (the scorecard chapter counts them by these).
AVERAGE_NOT_GIVEN: Final = " does not follow from the bars"
AVERAGE_GEOMETRIC: Final = " is the bars' geometric mean"
#: Bytes per second of a bandwidth unit as ``data/paper/`` prints it.
BANDWIDTH_UNITS: Final[Mapping[str, float]] = {"GB/s": 1e9, "TB/s": 1e12}
#: The acceptance criterion of Fig. 15's two averages (the sensitivity chapter's): the error on
#: ratio − 1 (:func:`speedup_error`) within ±25 %, tighter than the scorecard's ``speedup_35``.
FIG15_ACCEPTANCE: Final = 0.25


# ------------------------------------------------------------------------------ the rules


def relative_error(model: float, paper: float) -> float:
    """:math:`m/p - 1` (a fraction)."""
    if paper == 0:
        raise ValueError("paper value is 0: the relative error is undefined")
    return model / paper - 1.0


def speedup_error(model: float, paper: float) -> float:
    """Error of a speedup: on the gain :math:`(m-1)/(p-1) - 1` when the paper's ratio is below
    :data:`SPEEDUP_GAIN_BELOW`, else :math:`m/p - 1`.

    >>> round(speedup_error(1.08, 1.33), 6)
    -0.757576
    """
    if paper < SPEEDUP_GAIN_BELOW:
        if paper == 1:
            raise ValueError("paper ratio is 1: the error on ratio - 1 is undefined")
        return (model - 1.0) / (paper - 1.0) - 1.0
    return relative_error(model, paper)


def number_error(model: float, paper: float, rule: str) -> float:
    """The error a number row is judged on, under `rule`."""
    if rule == "speedup_35":
        return speedup_error(model, paper)
    if rule in ("hermes_20", "rel_35"):
        return relative_error(model, paper)
    raise ValueError(f"{rule!r} is not a number rule; valid: {', '.join(TOLERANCES)}")


def holds_number(model: float, paper: float, rule: str) -> bool:
    """Whether ``|error| <= tolerance`` of `rule` (NaN never holds)."""
    err = number_error(model, paper, rule)
    return bool(math.isfinite(err) and abs(err) <= TOLERANCES[rule])


def holds_range(values: float | Sequence[float], low: float, high: float) -> bool:
    """Whether every value lies in ``[low, high]``."""
    v = np.atleast_1d(np.asarray(values, dtype=float))
    return bool(v.size > 0 and np.all(np.isfinite(v)) and np.all((v >= low) & (v <= high)))


def holds_threshold(value: Any, bound: float, rule: str) -> bool:
    """``lt``: value < bound; ``gt``: value > bound; ``min_count``: value == bound;
    ``np``: value is True (the model also finds the configuration unsupported)."""
    if rule == "np":
        return bool(value)
    v = float(value)
    if not math.isfinite(v):
        return False
    if rule == "lt":
        return v < bound
    if rule == "gt":
        return v > bound
    if rule == "min_count":
        return v == bound
    raise ValueError(f"{rule!r} is not a threshold rule")


def holds_trend(value: Any, target: float, rule: str) -> bool:
    """``argmin``: the model's minimum is at `target`; ``flat_10``: ``|value| <= FLAT_FRAC``
    (value = relative change over the span)."""
    v = float(value)
    if not math.isfinite(v):
        return False
    if rule == "argmin":
        return v == target
    if rule == "flat_10":
        return abs(v) <= FLAT_FRAC
    raise ValueError(f"{rule!r} is not a trend rule")


def verdict(kind: str, rule: str, model: Any, paper: float, paper_high: float = math.nan
            ) -> tuple[str, float]:
    """The verdict of one row and its error (NaN unless a number row).

    `model` None means no module computes the quantity: ``not yet modelled``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "input":
        return "input", math.nan
    if model is None:
        return "not yet modelled", math.nan
    if kind == "number":
        m = float(model)
        if not math.isfinite(m):
            return "fails", math.nan
        err = number_error(m, paper, rule)
        return ("holds" if abs(err) <= TOLERANCES[rule] else "fails"), err
    if kind == "range":
        return ("holds" if holds_range(model, paper, paper_high) else "fails"), math.nan
    if kind == "threshold":
        return ("holds" if holds_threshold(model, paper, rule) else "fails"), math.nan
    return ("holds" if holds_trend(model, paper, rule) else "fails"), math.nan


def paper_lengths(prompt_len: int, gen_len: int) -> bool:
    """Whether a run uses the paper's 128 prompt and 128 generated tokens (§V-A)."""
    return not differs(prompt_len=prompt_len, gen_len=gen_len)


def lengths_text(prompt_len: int, gen_len: int) -> str:
    """One sentence on whether a chapter's comparisons with the paper are like for like in
    their lengths (tokens per sequence).

    >>> lengths_text(512, 32)[:60]
    'This run uses 512 prompt tokens and 32 generated tokens per '
    """
    if paper_lengths(prompt_len, gen_len):
        return (f"Every run uses the paper's lengths, {PAPER.prompt_len} prompt tokens and "
                f"{PAPER.gen_len} generated tokens per sequence (§V-A), so the model's values "
                "set beside the paper's are like for like.")
    return (f"This run uses {u.plural(prompt_len, 'prompt token')} and "
            f"{u.plural(gen_len, 'generated token')} per sequence, not the paper's "
            f"{PAPER.prompt_len} and {PAPER.gen_len} (§V-A): every paper value below was "
            "measured at the paper's lengths, so the comparisons with it are not like for like, "
            "and their verdicts are marked so.")


def unlike(verdict: str, like: bool, why: str = "other lengths than the paper's") -> str:
    """`verdict` as is where the comparison is like for like, else marked with `why`.

    >>> unlike("within", False)
    "within (not like for like: other lengths than the paper's)"
    """
    return verdict if like else f"{verdict} (not like for like: {why})"


# ---------------------------------------------------------------------- the paper's side


def select(table: pd.DataFrame, ref: str) -> float:
    """The value a ``data_ref`` names inside its table: ``"k1=v1,k2=v2:column"``.

    Exactly one row must match; values compare as strings.
    """
    where, column = ref.rsplit(":", 1)
    mask = pd.Series(True, index=table.index)
    for cond in filter(None, where.split(",")):
        key, value = cond.split("=", 1)
        mask &= table[key].astype(str) == value
    hit = table.loc[mask, column]
    if len(hit) != 1:
        raise ValueError(f"{ref!r} matches {len(hit)} rows")
    return float(hit.iloc[0])


# ------------------------------------------------------------------------ the model's side


@dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """Everything :func:`model_values` needs, loaded once through `hermes_model.io`.

    Attributes
    ----------
    profile : str
    system_for : callable
        ``io.load_system`` bound to the paper's system and `profile`.
    models : mapping of slug → ModelSpec
    activities : mapping of slug → Activity
    paper_bars : mapping of figure → DataFrame
        ``io.load_paper_figure`` for fig9, fig10, fig11 (the rows the model evaluates).
    ablation, balance : DataFrame
        The scheduling chapter's committed tables (``fig13_ablation``, ``balance``).
    paper_fig13 : DataFrame
        The ratios' definitions (numerator, denominator).
    motivation : DataFrame, optional
        ``scripts/make_motivation.py``'s table (model, batch, quantity, value, unit): §III-B's
        hot-set stability and fixed vs oracle partition (LLaMA2-70B), §IV-A's migration (OPT-66B).
    averages : DataFrame, optional
        The paper's stated averages (``io.load_paper_figure("averages")``), quoted by
        :func:`inconsistencies`.
    paper_fig1, paper_fig17, paper_predictor, published_sparsity : DataFrame, optional
        ``data/paper/`` tables quoted by :func:`inconsistencies`: Fig. 1's bandwidth labels
        (``fig1.csv``), Fig. 17 per batch (``fig17.csv``), the predictor claims
        (``predictor.csv``) and the published sparsity statistics (``sparsity_published.csv``).
    predictor_model : ModelSpec, optional
        The shape of the model of the paper's predictor-memory claim (:data:`PREDICTOR_MODEL`).
    """

    profile: str
    system_for: Any
    models: Mapping[str, ModelSpec]
    activities: Mapping[str, Activity]
    paper_bars: Mapping[str, pd.DataFrame]
    ablation: pd.DataFrame
    balance: pd.DataFrame
    paper_fig13: pd.DataFrame
    other_system: Any = None
    dimm_jedec: Any = None
    motivation: pd.DataFrame | None = None
    averages: pd.DataFrame | None = None
    paper_fig1: pd.DataFrame | None = None
    paper_fig17: pd.DataFrame | None = None
    paper_predictor: pd.DataFrame | None = None
    published_sparsity: pd.DataFrame | None = None
    predictor_model: ModelSpec | None = None


def load_inputs(profile: str = "paper") -> Inputs:
    """Load :class:`Inputs` (the only function here that goes through `hermes_model.io`)."""
    from hermes_model import io  # io is a leaf; imported here to keep the module free of I/O

    bars = {f: io.load_paper_figure(f) for f in ("fig9", "fig10", "fig11")}
    slugs = sorted({*pd.concat(list(bars.values()))["model"], *sweeps.FIG14_MODELS})
    return Inputs(profile=profile, system_for=partial(io.load_system, "hermes_paper", profile),
                  models={s: io.load_model(s) for s in slugs},
                  activities={k: policies.activity_from_inputs(v)
                              for k, v in io.load_generator_inputs().items()},
                  paper_bars=bars, ablation=io.load_scheduling_table("fig13_ablation"),
                  balance=io.load_scheduling_table("balance"),
                  paper_fig13=io.load_scheduling_table("paper_fig13"),
                  other_system=io.load_system(
                      "hermes_paper", specs.other_profile(profile)),
                  dimm_jedec=io.load_dimm("ddr4_3200_ndp_jedec", profile),
                  motivation=io.load_scheduling_table("motivation"),
                  averages=io.load_paper_figure("averages"),
                  paper_fig1=io.load_paper_table("fig1.csv"),
                  paper_fig17=io.load_paper_sensitivity("fig17"),
                  paper_predictor=io.load_paper_predictor(),
                  published_sparsity=io.load_published_sparsity(),
                  predictor_model=io.load_model(PREDICTOR_MODEL))


def _opts(inp: Inputs, slug: str, **kw: Any) -> Assumptions:
    return dataclasses.replace(Assumptions(activity=inp.activities.get(slug)), **kw)


def _est(inp: Inputs, pol: str, slug: str, batch: int = 1, system: Any = None,
         **kw: Any) -> policies.Estimate:
    return policies.estimate(pol, inp.models[slug], system or inp.system_for(), batch=batch,
                             options=_opts(inp, slug, **kw))


def _bars(inp: Inputs) -> dict[str, Any]:
    system = inp.system_for()
    out: dict[str, Any] = {}
    frames = {f: policies.model_bars(b, system, inp.activities, inp.models)
              for f, b in inp.paper_bars.items()}
    for f, b in frames.items():
        for r in b.itertuples():
            key = f"{f}/{r.model}/{r.policy}/bs{r.batch}"
            out[key] = r.tokens_per_s if r.paper_supported else (not r.supported)
    bs1 = pd.concat([frames["fig9"], frames["fig10"]], ignore_index=True)
    # each average taken with the mean the paper's stated value is of its own bars (62x of
    # Hermes-host over Accelerate: the geometric one), so that paper and model are alike
    kinds = average_mean_kinds(stated_averages(inp), average_means(bs1, frames["fig11"]))
    avg = averages_with_means(bs1, frames["fig11"], "tokens_per_s", kinds)
    for name in policies.AVERAGE_DEFINITIONS:
        out[f"avg/{name}"] = avg[name]
    wide = bs1.pivot_table(index="model", columns="policy", values="tokens_per_s")
    out["avg/hermes_over_hermes_host_range"] = list(wide["hermes"] / wide["hermes-host"])
    b11 = frames["fig11"].pivot_table(index=["model", "batch"], columns="policy",
                                      values="tokens_per_s")
    gap = (b11["hermes"] / b11["hermes-base"]).groupby(level="batch").mean()
    out["fig11/trend/hermes_over_base_min"] = float(gap.idxmin())
    for slug in ("falcon_40b", "llama2_70b"):
        f = frames["fig11"]
        sel = f[(f["model"] == slug) & f["policy"].isin(["flexgen", "dejavu"])]
        out[f"fig11/np/{slug}"] = bool((~sel["supported"]).all())
    return out


def _fig12(inp: Inputs) -> dict[str, Any]:
    def shares(pol: str, slug: str) -> dict[str, float]:
        e = _est(inp, pol, slug)
        br = e.breakdown_s
        compute = br["fc"] + br["attention"] + br["predictor"] + br["others"]
        return {"comm": br["communication"] / e.total_s, "pred_c": br["predictor"] / compute,
                "pred": br["predictor"] / e.total_s, "prefill": br["prefill"] / e.total_s}

    dv, h = shares("dejavu", "opt_66b"), shares("hermes", "llama2_70b")
    base = _est(inp, "hermes-base", "llama2_70b")
    return {"fig12/dejavu_communication_share": 100 * dv["comm"],
            "fig12/dejavu_predictor_share_of_compute": 100 * dv["pred_c"],
            "fig12/hermes_predictor_share": 100 * h["pred"],
            "fig12/hermes_base_ndp_share_llama2_70b": 100 * base.details["ndp_flop_share"],
            # the split with token generation is scored once, on the prefill share: the
            # model's decode share is its complement and would score the same split twice
            "fig12/hermes_prefill_share_bs1": 100 * h["prefill"]}


def _fig13(inp: Inputs) -> dict[str, Any]:
    lat = inp.ablation.pivot_table(index=["model", "batch"], columns="variant",
                                   values="latency_s")
    return {f"fig13/{r.ratio}": float((lat[r.numerator] / lat[r.denominator]).mean())
            for r in inp.paper_fig13.itertuples()}


def _fig14(inp: Inputs) -> dict[str, Any]:
    sw = sweeps.dimm_sweep({s: inp.models[s] for s in sweeps.FIG14_MODELS}, inp.activities,
                           inp.system_for)
    out: dict[str, Any] = {}
    for slug in ("opt_30b", "falcon_40b", "llama2_70b"):
        ok = sw[(sw["model"] == slug) & sw["supported"]]
        out[f"fig14/min_dimms/{slug}"] = float(ok["n_dimms"].min()) if len(ok) else math.nan
    t = sw[sw["model"] == "llama2_70b"].set_index("n_dimms")["tokens_per_s"]
    out["fig14/flat_8_16/llama2_70b"] = float(t[16] / t[8] - 1)
    return out


def _fig15(inp: Inputs) -> dict[str, Any]:
    sw = sweeps.gpu_sweep({s: inp.models[s] for s in sweeps.FIG15_MODELS}, inp.activities,
                          inp.system_for)
    sp = sweeps.gpu_speedups(sw)
    return {f"fig15/rtx_4090_over_{g}": float(sp.loc[sp["over"] == g, "speedup"].mean())
            for g in ("t4", "rtx_3090")}


def _fig16(inp: Inputs) -> dict[str, Any]:
    """End-to-end Hermes tokens/s on OPT-13B with 32 to 512 multipliers per DIMM (Fig. 16 plots
    the system's normalised speedup), saturation as in the NDP-DIMM chapter."""
    system = inp.system_for()
    m = np.array([32.0, 64.0, 128.0, 256.0, 512.0])

    def speedups(batch: int) -> np.ndarray:
        tps = [_est(inp, "hermes", "opt_13b", batch, system=dataclasses.replace(
            system, dimm=dataclasses.replace(system.dimm, ndp_multipliers=int(k)))).tokens_per_s
            for k in m]
        return np.asarray(tps) / tps[0]

    sat = ndp.saturation_multipliers(speedups(1), m, min_gain=SATURATION_GAIN)
    return {"fig16/saturation_bs1": float(sat), "fig16/max_speedup_bs16": float(speedups(16)[-1])}


def _fig17(inp: Inputs) -> dict[str, Any]:
    ref = inp.system_for(gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS)
    slug = sweeps.FIG17_MODEL
    c = sweeps.cost_sweep(inp.models[slug], inp.activities.get(slug), inp.system_for(), ref)
    out: dict[str, Any] = {}
    for r in c.itertuples():
        out[f"fig17/efficiency/bs{r.batch}"] = r.efficiency
        out[f"fig17/trt_tokens_per_s/bs{r.batch}"] = r.reference_tokens_per_s
    return out


def motivation_value(table: pd.DataFrame, model: str, quantity: str, batch: int = 1) -> float:
    """One value of ``scripts/make_motivation.py``'s table (exactly one row must match)."""
    hit = table.loc[(table["model"] == model) & (table["batch"] == batch)
                    & (table["quantity"] == quantity), "value"]
    if len(hit) != 1:
        raise KeyError(f"motivation table has {len(hit)} rows for {model}/{batch}/{quantity}")
    return float(hit.iloc[0])


def migration_share(exposed_s_per_token: float, step_s: float) -> float:
    """Share of a decode token's time spent on exposed migration: :math:`m / (t + m)`, the
    moves' time beyond the projection windows added to the policy's decode step."""
    if step_s <= 0 or exposed_s_per_token < 0:
        raise ValueError(f"need step_s > 0 and exposed time >= 0, got {step_s}, "
                         f"{exposed_s_per_token}")
    return exposed_s_per_token / (step_s + exposed_s_per_token)


def expected_similarity(model: ModelSpec, activity: Activity, distance: float) -> float:
    """The sparsity generator's expected similarity of `model`'s MLP neurons at token `distance`.

    The persistence ``sparsity.build_trace_model`` fits to `activity`'s targets
    (``sparsity.targets_from_activity``), read off ``sparsity.similarity_curve``; no trace is
    drawn, and the model's random draws (a fixed seed) do not enter the persistence. The
    one-timescale curve passes exactly through the targets at distances 1 and 25 only, so at any
    other distance (10: the paper's "about 0.70 beyond 10") it is a prediction, whatever
    `activity` says there.
    """
    g = next(g for g in sparsity.targets_from_activity(model, activity).groups if g.name == "mlp")
    tm = sparsity.build_trace_model([g], 1, 0.0, np.random.default_rng(0))
    return float(sparsity.similarity_curve(tm.persistence[0][0], distance))


def _motivation(inp: Inputs) -> dict[str, Any]:
    bal = inp.balance.set_index(["model", "batch", "placement"])
    dv = _est(inp, "dejavu", "opt_66b", offload_resident=True)
    mot = inp.motivation
    out: dict[str, Any] = {"motivation/unstable_hot_neurons": None,
                           "motivation/fixed_partition_penalty": None,
                           "motivation/migration_host": None,
                           "motivation/migration_dimm_link": None}
    if mot is not None:
        step = _est(inp, "hermes", "opt_66b").decode_step_s
        out.update({
            "motivation/unstable_hot_neurons":
                100 * motivation_value(mot, "llama2_70b", "gpu_set_flip_share"),
            "motivation/fixed_partition_penalty":
                motivation_value(mot, "llama2_70b", "fixed_over_oracle"),
            "motivation/migration_host": 100 * migration_share(
                motivation_value(mot, "opt_66b", "host_exposed_s_per_token"), step),
            "motivation/migration_dimm_link": 100 * migration_share(
                motivation_value(mot, "opt_66b", "link_exposed_s_per_token"), step)})
    return {**out,
            "motivation/static_imbalance": float(bal.loc[("llama2_13b", 1, "static"),
                                                         "imbalance_window"]),
            "motivation/window_variance": float(bal.loc[("llama2_13b", 1, "hindsight"),
                                                        "imbalance_window"]) - 1,
            "motivation/pcie_share_opt66b": 100 * dv.breakdown_s["communication"] / dv.total_s}


#: Notes on how a model value was obtained, where the row needs one.
MODEL_NOTES: Final[Mapping[str, str]] = {
    "motivation/unstable_hot_neurons": "LLaMA2-70B, batch 1: of the GPU set fixed after prefill "
                                       "(top-k by prefill frequency), the share whose predictor "
                                       "state falls to T_h = 10 or below in 128 decode tokens "
                                       "(data/derived/motivation.csv)",
    "motivation/fixed_partition_penalty": "LLaMA2-70B, batch 1: MLP-block time of the GPU set "
                                          "fixed after prefill over a per-token oracle with the "
                                          "same GPU memory and an even DIMM load",
    "motivation/static_imbalance": "balanced static placement, LLaMA2-13B, batch 1 "
                                   "(data/derived/balance.csv, which the scheduling chapter "
                                   "reproduces at its defaults)",
    "motivation/window_variance": "window-optimal (hindsight) remap, LLaMA2-13B, batch 1",
    "motivation/pcie_share_opt66b": "Deja Vu policy with the GPU filled first (its most "
                                    "often needed weights, attention then the hottest MLP "
                                    "neurons, resident; offload_resident), OPT-66B, batch 1",
    "motivation/migration_host": "OPT-66B, batch 1: Algorithm 1's moves forwarded by the host, "
                                 "time beyond the projection windows over the Hermes decode step "
                                 "plus it",
    "motivation/migration_dimm_link": "OPT-66B, batch 1: the same moves over DIMM-link",
    "fig12/dejavu_communication_share": "OPT-66B, batch 1 (Fig. 12a spans OPT-13B and OPT-66B "
                                        "at batches 1-16; the text names no point): "
                                        "communication over the whole run, prefill included",
    "fig12/dejavu_predictor_share_of_compute": "OPT-66B, batch 1: the predictor over the decode "
                                               "steps' computation (FC, attention, predictor, "
                                               "LM head; prefill not counted as computation)",
    "fig12/hermes_prefill_share_bs1": "LLaMA2-70B (the paper names no model)",
    "fig11/trend/hermes_over_base_min": "batch of the smallest mean Hermes/Hermes-base over "
                                        "the three models",
    "fig14/flat_8_16/llama2_70b": "tokens/s at 16 DIMMs over 8, minus one",
    "fig16/saturation_bs1": "end-to-end Hermes, OPT-13B; a doubling gaining < 5 % is saturated",
    "fig16/max_speedup_bs16": "end-to-end Hermes, OPT-13B, 512 over 32 multipliers",
    "motivation/similarity_d10": "the sparsity generator's expected similarity at distance 10 "
                                 "(expected_similarity), a prediction: its curve is solved "
                                 "through the paper's values at distances 1 and 25 only; not "
                                 "scored, since those two bound it within ±35 % of 0.70",
}


def model_values(inp: Inputs) -> dict[str, Any]:
    """Every row id → the model's value (a float, a list for a range, a bool for N.P., or None
    where no module computes the quantity)."""
    out: dict[str, Any] = {}
    for part in (_bars, _fig12, _fig13, _fig14, _fig15, _fig16, _fig17, _motivation):
        out.update(part(inp))
    return out


def score(rows: pd.DataFrame, values: Mapping[str, Any]) -> pd.DataFrame:
    """`rows` (``io.load_scorecard_rows()``) with ``model_value`` (a float; the range rows give
    their extreme values as text in ``model_text``), ``error`` and ``verdict``.

    A scored row whose id has no entry in `values` raises ``KeyError`` (every row must be
    mapped, to a value or to None).
    """
    out = rows.copy()
    vals, texts, errs, verdicts = [], [], [], []
    for r in rows.itertuples():
        if r.kind == "input":
            v = None
        elif r.id not in values:
            raise KeyError(f"scorecard row {r.id!r} has no model value mapping")
        else:
            v = values[r.id]
        verd, err = verdict(r.kind, r.rule, v, float(r.paper_value), float(r.paper_high))
        if isinstance(v, list | tuple):
            vals.append(math.nan)
            texts.append(f"{min(v):.3g}–{max(v):.3g}")
        elif isinstance(v, bool | np.bool_):
            vals.append(math.nan)
            texts.append("N.P." if v else "runs")
        elif v is None:
            vals.append(math.nan)
            texts.append("" if r.kind == "input" else "not yet modelled")
        else:
            vals.append(float(v))
            texts.append(f"{float(v):.4g}")
        errs.append(err)
        verdicts.append(verd)
    out["model_value"], out["model_text"] = vals, texts
    out["error"], out["verdict"] = errs, verdicts
    out["model_note"] = [MODEL_NOTES.get(i, "") for i in rows["id"]]
    return out


def summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Rows per figure and verdict (``figure``, ``verdict``, ``rows``), figures in order."""
    order = list(dict.fromkeys(scored["figure"]))
    t = scored.groupby(["figure", "verdict"], sort=False).size().rename("rows").reset_index()
    t["figure"] = pd.Categorical(t["figure"], order, ordered=True)
    return t.sort_values(["figure", "verdict"]).reset_index(drop=True).assign(
        figure=lambda d: d["figure"].astype(str))


def counts(scored: pd.DataFrame) -> dict[str, int]:
    """How many rows hold, fail, are not yet modelled, are inputs; and how many are scored."""
    c = {v: int((scored["verdict"] == v).sum()) for v in VERDICTS}
    c["scored"] = c["holds"] + c["fails"]
    c["rows"] = len(scored)
    return c


# ------------------------------------------------------------------ the paper's inconsistencies


def average_means(bs1_bars: pd.DataFrame, batch_bars: pd.DataFrame,
                  column: str = "paper_tokens_per_s") -> pd.DataFrame:
    """The arithmetic and the geometric mean of each stated average's per-bar ratios.

    The ratios are those of ``policies.AVERAGE_DEFINITIONS`` (whose ``policies.figure_averages``
    takes their arithmetic mean), from `column` of Figs. 9–10 together (`bs1_bars`) or of
    Fig. 11 (`batch_bars`), bars without a value left out. Returns ``arithmetic`` and
    ``geometric``, indexed by the average's name.
    """
    rows = {}
    for name, (num, den, models, batches) in policies.AVERAGE_DEFINITIONS.items():
        b = (batch_bars if len(batches) > 1 else bs1_bars)
        b = b[b["batch"].isin(batches)]
        if models is not None:
            b = b[b["model"].isin(models)]
        wide = b.pivot_table(index=["model", "batch"], columns="policy",
                             values=column).reindex(columns=[num, den])
        r = (wide[num] / wide[den]).dropna()
        rows[name] = {"arithmetic": float(r.mean()) if len(r) else math.nan,
                      "geometric": float(np.exp(np.log(r).mean())) if len(r) else math.nan,
                      "n": len(r)}
    return pd.DataFrame.from_dict(rows, orient="index")


def average_label(name: str) -> str:
    """An average of ``policies.AVERAGE_DEFINITIONS`` in words: ``"Hermes over Deja Vu,
    batches 1–16"`` (the batch given only where it is more than one)."""
    num, den, _, batches = policies.AVERAGE_DEFINITIONS[name]
    span = f", batches {batches[0]}–{batches[-1]}" if len(batches) > 1 else ""
    return f"{SYSTEM_NAMES.get(num, num)} over {SYSTEM_NAMES.get(den, den)}{span}"


def average_mean_kinds(stated: Mapping[str, float], means: pd.DataFrame) -> dict[str, str]:
    """Which mean each of the paper's averages is taken with, read from the paper's own bars.

    The paper never says. Where an average's bars tell an arithmetic from a geometric mean
    (their two means more than :data:`MEANS_APART` apart) and its stated value fits exactly one
    of them within :data:`MEAN_FIT`, that one; otherwise the arithmetic mean, the one
    ``policies.figure_averages`` takes (and the one the stated values fit elsewhere).

    Parameters
    ----------
    stated : mapping of average name → float
        The paper's stated values (``data/paper/averages.csv``); a name missing here, or NaN,
        takes the arithmetic mean.
    means : DataFrame
        :func:`average_means` of the paper's bars.

    Returns
    -------
    dict
        Every name of `means` → ``"arithmetic"`` or ``"geometric"``.
    """
    kinds = {}
    for name, r in means.iterrows():
        fit = _mean_fit(stated.get(str(name), math.nan), r)
        kinds[str(name)] = "geometric" if fit == "geometric" else "arithmetic"
    return kinds


def _mean_fit(value: float, means_row: pd.Series) -> str | None:
    """Which of its bars' two means (a row of :func:`average_means`) a stated value fits within
    :data:`MEAN_FIT`: ``"arithmetic"``, ``"geometric"`` or ``"neither"``; None where the value
    is missing or the two means lie within :data:`MEANS_APART` of each other (the bars cannot
    tell them apart)."""
    a, g = float(means_row["arithmetic"]), float(means_row["geometric"])
    if not math.isfinite(value) or abs(a / g - 1) <= MEANS_APART:
        return None
    fits = [k for k, m in (("arithmetic", a), ("geometric", g)) if abs(value / m - 1) <= MEAN_FIT]
    return fits[0] if len(fits) == 1 else "neither"


def misfit_averages(stated: Mapping[str, float], means: pd.DataFrame) -> list[str]:
    """The stated averages whose bars tell the two means apart (more than :data:`MEANS_APART`)
    and which fit neither within :data:`MEAN_FIT`, in the order of `means` (the "neither" group
    of :func:`means_fit_text`)."""
    return [str(name) for name, r in means.iterrows()
            if _mean_fit(stated.get(str(name), math.nan), r) == "neither"]


def averages_with_means(bs1_bars: pd.DataFrame, batch_bars: pd.DataFrame, column: str,
                        kinds: Mapping[str, str]) -> dict[str, float]:
    """``policies.figure_averages`` of `column`, each average taken with the mean `kinds` gives
    it (:func:`average_mean_kinds`; the arithmetic mean where `kinds` names none), so that the
    paper's bars and the model's are averaged alike."""
    out = policies.figure_averages(bs1_bars, batch_bars, column)
    means = average_means(bs1_bars, batch_bars, column)
    for name, kind in kinds.items():
        out[name] = float(means.loc[name, kind])
    return out


def unsupported_averages(stated: Mapping[str, float], means: pd.DataFrame,
                         kinds: Mapping[str, str]) -> list[str]:
    """The stated averages that do not follow from the paper's own bars: farther than
    :data:`FOLLOWS_WITHIN` from the mean of their bars that `kinds` reads them as
    (:func:`average_means` of the paper's bars in `means`), in the order of `means`."""
    out = []
    for name, r in means.iterrows():
        value = stated.get(str(name), math.nan)
        mean = float(r[kinds.get(str(name), "arithmetic")])
        if math.isfinite(value) and abs(value / mean - 1) > FOLLOWS_WITHIN:
            out.append(str(name))
    return out


def means_fit_text(inp: Inputs, means: pd.DataFrame, skip: str) -> str:
    """Which mean the paper's other stated averages fit, where their bars tell the two apart.

    Averages other than `skip` whose bars' arithmetic and geometric means (`means`,
    :func:`average_means`) differ by more than :data:`MEANS_APART`, grouped by the mean their
    stated value lies within :data:`MEAN_FIT` of (or neither); "" without the stated averages.
    """
    groups: dict[str, list[str]] = {"arithmetic": [], "geometric": [], "neither": []}
    for name, r in means.drop(index=skip, errors="ignore").iterrows():
        stated = _stated(inp, str(name))
        fit = None if stated is None else _mean_fit(stated, r)
        if fit is None:
            continue
        a, g = float(r["arithmetic"]), float(r["geometric"])
        groups[fit].append(
            f"{paper_text(stated)}× {average_label(str(name))}: {_fmt(a)}× arithmetic, "
            f"{_fmt(g)}× geometric")
    parts = [("neither" if k == "neither" else f"the {k} mean") + f" ({'; '.join(v)})"
             for k, v in groups.items() if v]
    if not parts:
        return ""
    return (f"of the paper's other averages, those whose bars' arithmetic and geometric means lie "
            f"more than {round(100 * MEANS_APART)} % apart fit " + " or ".join(parts))


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def stated_averages(inp: Inputs) -> dict[str, float]:
    """The paper's stated averages by name (``data/paper/averages.csv``); empty without them."""
    if inp.averages is None:
        return {}
    return {str(k): float(v) for k, v in zip(inp.averages["name"], inp.averages["value"],
                                             strict=True)}


def _stated(inp: Inputs, name: str) -> float | None:
    """A stated average of the paper (``data/paper/averages.csv``), or None without the table."""
    if inp.averages is None:
        return None
    hit = inp.averages.loc[inp.averages["name"] == name, "value"]
    return float(hit.iloc[0]) if len(hit) == 1 else None


def _quote(value: float | None, fallback: str, suffix: str = "") -> str:
    return fallback if value is None else paper_text(value) + suffix


def dimms_matching(total_bytes_per_s: float, per_dimm_bytes_per_s: float) -> int:
    """The whole number of DIMMs whose bandwidth comes nearest a pool bandwidth (at least 1).

    >>> dimms_matching(1.6e12, 102.4e9), dimms_matching(0.8e12, 102.4e9)
    (16, 8)
    """
    if not (per_dimm_bytes_per_s > 0 and total_bytes_per_s > 0):
        raise ValueError(f"need positive bandwidths, got {total_bytes_per_s!r}, "
                         f"{per_dimm_bytes_per_s!r}")
    return max(1, round(total_bytes_per_s / per_dimm_bytes_per_s))


def head_split_text(model: ModelSpec, n_gpus: int) -> str:
    """Whether `n_gpus` tensor-parallel GPUs divide the model's attention heads and KV heads.

    >>> from types import SimpleNamespace as NS
    >>> head_split_text(NS(n_heads=64, n_kv_heads=8), 5)
    '5 GPUs divide neither 64 heads nor 8 KV heads'
    >>> head_split_text(NS(n_heads=64, n_kv_heads=8), 4)
    '4 GPUs divide both 64 heads and 8 KV heads'
    >>> head_split_text(NS(n_heads=48, n_kv_heads=8), 3)
    '3 GPUs divide 48 heads but not 8 KV heads'
    """
    q, kv = model.n_heads % n_gpus == 0, model.n_kv_heads % n_gpus == 0
    h, k = f"{model.n_heads} heads", f"{model.n_kv_heads} KV heads"
    if q and kv:
        return f"{n_gpus} GPUs divide both {h} and {k}"
    if not (q or kv):
        return f"{n_gpus} GPUs divide neither {h} nor {k}"
    return f"{n_gpus} GPUs divide {h if q else k} but not {k if q else h}"


def _fig1_label(inp: Inputs, tier: str = "ndp_host_memory") -> tuple[str, float] | None:
    """Fig. 1's label of `tier` as printed and in B/s (``data/paper/fig1.csv``), or None."""
    t = inp.paper_fig1
    if t is None:
        return None
    hit = t[t["tier"] == tier]
    if len(hit) != 1:
        return None
    r = hit.iloc[0]
    return str(r["label"]), float(r["value"]) * BANDWIDTH_UNITS[str(r["unit"])]


def _published(inp: Inputs, statistic: str, model: str | None = None) -> str | None:
    """A published statistic as printed (``sparsity_published.csv``), or None."""
    t = inp.published_sparsity
    if t is None:
        return None
    mask = t["statistic"] == statistic
    if model is not None:
        mask &= t["model"] == model
    hit = t[mask]
    return str(hit["value"].iloc[0]) if len(hit) >= 1 else None


def _dimm_row(inp: Inputs, system: Any, bw_t2: float) -> tuple[str, str, str]:
    """The per-DIMM bandwidth row: which DIMM count Fig. 1's pool label fits, at the pins and
    from the DRAM timings, against the system's."""
    pin = system.dimm.ranks_pin_bandwidth_bytes_per_s
    n = system.n_dimms
    label = _fig1_label(inp)
    paper = (f"Fig. 1's {label[0] if label else 'pool bandwidth'} label; the pins of a DIMM's "
             f"{system.dimm.n_ranks} ranks carry {_fmt(pin / 1e9, 4)} GB/s")
    model = (f"DRAM timings give {_fmt(bw_t2 / 1e9)} GB/s per DIMM (pin bound "
             f"{_fmt(pin / 1e9, 4)}): {_fmt(n * bw_t2 / 1e12)} TB/s for {n} DIMMs "
             f"({_fmt(n * pin / 1e12)} TB/s at the pins)")
    if label is not None:
        text, total = label
        k_pin, k_t2 = dimms_matching(total, pin), dimms_matching(total, bw_t2)
        fits = (f"{k_pin} DIMMs at the pins ({_fmt(k_pin * pin / 1e12)} TB/s)"
                + (f" and from DRAM timings ({_fmt(k_t2 * bw_t2 / 1e12)} TB/s)" if k_t2 == k_pin
                   else f", {k_t2} from DRAM timings ({_fmt(k_t2 * bw_t2 / 1e12)} TB/s)"))
        model += (f"; the {text} label fits {fits}"
                  + (f", not the system's {n}" if n not in (k_pin, k_t2)
                     else f": the system's {n} DIMMs"))
    return "Per-DIMM bandwidth and NDP MAC rate not stated", paper, model


def _trt_row(inp: Inputs, roof: float, ref1: float) -> tuple[str, str, str]:
    n_gpus = sweeps.FIG17_N_GPUS
    gpu = inp.system_for(gpu=sweeps.FIG17_GPU, n_gpus=n_gpus).gpu
    implied = None
    if inp.paper_fig17 is not None:
        hit = inp.paper_fig17.loc[inp.paper_fig17["batch"] == 1, "trt_tokens_per_s"]
        implied = float(hit.iloc[0]) if len(hit) == 1 else None
    return ((f"TensorRT-LLM on {n_gpus}× {gpu.name} (Fig. 17) is slow"),
            (f"implied {_quote(implied, 'a reference rate', ' tokens/s')} at batch 1 (Fig. 17's "
             "efficiency with Fig. 11's Hermes bar)"),
            (f"bandwidth roofline {_fmt(roof)} tokens/s; GPU only, tensor parallel, {_fmt(ref1)}; "
             + head_split_text(inp.models[sweeps.FIG17_MODEL], n_gpus)))


def _predictor_row(inp: Inputs) -> tuple[str, str, str] | None:
    t, m = inp.paper_predictor, inp.predictor_model
    if t is None or m is None:
        return None
    hit = t[t["claim"].str.startswith("state table") & (t["unit"] == "KB")]
    if len(hit) != 1:
        return None
    r = hit.iloc[0]
    state_b, corr_b = predictor.model_table_bytes(m)
    n_q, n_m = shapes.qkv_neurons_per_layer(m), shapes.mlp_neurons_per_layer(m)
    return (f"Predictor memory {r['value']} {r['unit']}",
            str(r["claim"]).removeprefix("state table").strip(" ()").replace(" x ", " × "),
            (f"{m.n_layers} × ({n_q} + {n_m}) × {predictor.STATE_BITS} bit = "
             f"{_fmt(state_b / 2**10, 4)} KiB; the top-2 correlation table is separate and "
             f"larger ({_fmt(corr_b / 2**10, 4)} KiB)"))


def _twice_row(inp: Inputs) -> tuple[str, str, str] | None:
    """§III-B's fixed-vs-oracle ratio and Fig. 13's partition-vs-random ratio, if equal."""
    f13 = inp.paper_fig13.loc[inp.paper_fig13["ratio"] == "partition_vs_random", "value"]
    fixed = _published(inp, "fixed_partition_penalty", "LLaMA2-70B")
    if len(f13) != 1 or fixed is None or float(fixed) != float(f13.iloc[0]):
        return None
    return (f"{paper_text(float(f13.iloc[0]))}× appears twice",
            "§III-B fixed vs oracle partition; Fig. 13 partition vs random",
            "two rows of the scorecard, two different model quantities")


def _average_rows(inp: Inputs, means: pd.DataFrame, kinds: Mapping[str, str],
                  from_model: Mapping[str, float]) -> list[tuple[str, str, str]]:
    """The inconsistency rows of the stated averages: each one the paper's bars do not give
    (:func:`unsupported_averages`), then each one that is their geometric mean where the others
    are arithmetic; none without the stated averages."""
    stated = stated_averages(inp)
    rows = []
    for name in unsupported_averages(stated, means, kinds):
        den = policies.AVERAGE_DEFINITIONS[name][1]
        why = (": the model's FlexGen and Deja Vu are several times faster than the paper's, "
               "so every ratio over them is smaller" if den in ("flexgen", "dejavu") else "")
        rows.append((
            f"{paper_text(stated[name])}× {average_label(name)}{AVERAGE_NOT_GIVEN}",
            (f"stated {paper_text(stated[name])}×; the paper's own bars give "
             f"{_fmt(means.loc[name, 'arithmetic'])}× as an arithmetic mean and "
             f"{_fmt(means.loc[name, 'geometric'])}× as a geometric one (more than "
             f"{round(100 * FOLLOWS_WITHIN)} % from either)"),
            f"{_fmt(from_model[name])}× ({kinds[name]} mean){why}"))
    for name, kind in kinds.items():
        if kind != "geometric":
            continue
        others = means_fit_text(inp, means, name)
        rows.append((
            f"{paper_text(stated[name])}× {average_label(name)}{AVERAGE_GEOMETRIC}",
            (f"the text does not say which mean; the geometric mean of its "
             f"{u.count_words(int(means.loc[name, 'n']))} per-bar ratios gives "
             f"{_fmt(means.loc[name, 'geometric'], 4)}×, their arithmetic mean "
             f"{_fmt(means.loc[name, 'arithmetic'], 4)}×" + (f"; {others}" if others else "")),
            (f"{_fmt(from_model[name])}×, the geometric mean of the model's bars (the scorecard "
             "scores this row with it)")))
    return rows


def inconsistencies(inp: Inputs) -> pd.DataFrame:
    """The paper's gaps and inconsistencies met in re-deriving it, each with what the model says.

    Paper values are quoted from ``data/paper/`` (through :class:`Inputs`) where a table holds
    them, and from the paper profile of the hardware catalog; every model number is computed
    here, from the package. A row whose paper values are missing from `inp` is worded without
    them, or left out.

    Returns
    -------
    DataFrame
        ``inconsistency``, ``paper`` (what the paper says or implies), ``model`` (what the model
        computes about it, from the package).
    """
    system = inp.system_for()
    as_printed = system if inp.profile == "paper" or inp.other_system is None else inp.other_system
    frames = {f: policies.model_bars(b, system, inp.activities, inp.models)
              for f, b in inp.paper_bars.items()}
    bs1 = pd.concat([frames["fig9"], frames["fig10"]], ignore_index=True)
    # which mean each stated average is (62x: its bars' geometric mean), and which the bars do
    # not give; the model's bars averaged as the paper's are
    means = average_means(bs1, frames["fig11"])
    stated = stated_averages(inp)
    kinds = average_mean_kinds(stated, means)
    from_model = averages_with_means(bs1, frames["fig11"], "tokens_per_s", kinds)
    average_rows = _average_rows(inp, means, kinds, from_model)
    f11 = frames["fig11"]
    falcon_host = f11[(f11["model"] == "falcon_40b") & (f11["policy"] == "hermes-host")
                      & (f11["batch"] == 1)]["tokens_per_s"].item()

    def paper_bar(fig: str) -> str:
        t = inp.paper_bars[fig]
        hit = t[(t["model"] == "falcon_40b") & (t["policy"] == "hermes-host") & (t["batch"] == 1)]
        return paper_text(float(hit["tokens_per_s"].iloc[0])) if len(hit) == 1 else "?"

    paper_gap = f11.pivot_table(index=["model", "batch"], columns="policy",
                                values="paper_tokens_per_s")
    gap_min = (paper_gap["hermes"] / paper_gap["hermes-base"]).groupby(level="model").idxmin()
    off = [f"{short_name(inp.models[m].name)} (batch {b})" for m, (_, b) in gap_min.items()
           if b != 2]
    llama = inp.models["llama2_70b"]
    w = shapes.weight_bytes(llama, "fp16")
    pool4 = 4 * system.dimm.capacity_bytes
    # the sensitivity chapter's capacity readings (its run: batch 1, 128 + 128 tokens)
    cap = sweeps.capacity_margins(llama, dimm_capacity_bytes=system.dimm.capacity_bytes,
                                  n_dimms=4, batch=1, prompt_len=128, gen_len=128,
                                  dtype="fp16").set_index("reading")["margin_frac"]
    short_w = -100 * float(cap["weights only"])
    short_kv = -100 * float(cap["weights and KV cache (the model)"])
    a100 = inp.system_for(gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS).gpu
    roof = float(sweeps.decode_roofline_tokens_per_s(w, a100.memory_bandwidth_bytes_per_s,
                                                     n_gpus=sweeps.FIG17_N_GPUS))
    ref1 = _est(inp, "gpu-only", "llama2_70b", system=inp.system_for(
        gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS)).tokens_per_s
    # one DIMM's streaming read from its DRAM timings (the NDP-DIMM chapter's), and the pin bound
    bw_t2 = float(dram.dimm_bandwidth_bytes_per_s(system.dimm))
    bw_j = float(dram.dimm_bandwidth_bytes_per_s(inp.dimm_jedec)) if inp.dimm_jedec else math.nan
    n = system.n_dimms
    act = inp.activities["llama2_70b"]
    n_mlp = shapes.mlp_neurons_per_layer(llama)
    fit = sparsity.fit_frequencies(n_mlp, act.mlp_density, act.mlp_hot_share)
    mem = float(sparsity.memoryless_similarity(
        sparsity.logit_normal_frequencies(n_mlp, fit.logit_mean, fit.logit_std)))
    h = _est(inp, "hermes", "llama2_70b")
    other = inp.other_system
    h_other = _est(inp, "hermes", "llama2_70b", system=other) if other is not None else None
    prefill = _quote(_stated(inp, "hermes_prefill_share_bs1"), "a stated", " %")
    gpu_p, tim, dimm_p = as_printed.gpu, as_printed.dimm.timings, as_printed.dimm
    sim1 = _published(inp, "similarity_d1", "LLaMA-13B, Falcon-40B")
    sim10 = _published(inp, "similarity_d10", "LLaMA-13B, Falcon-40B")
    rows = [
        *average_rows,
        ((f"Falcon-40B Hermes-host at batch 1: {paper_bar('fig10')} (Fig. 10) and "
          f"{paper_bar('fig11')} (Fig. 11)"),
         "two values for one bar", f"one value, {_fmt(falcon_host)} tokens/s"),
        ("Smallest Hermes/Hermes-base gap at batch 2",
         "stated without naming a model (the scorecard reads it as the batch whose mean over the "
         "three models is smallest); in the paper's Fig. 11 bars "
         + (", ".join(off) + " has its minimum elsewhere" if off else "it holds for every model"),
         "see the Fig. 11 trend row of the scorecard"),
        ((f"RTX 4090: {_fmt(gpu_p.memory_bandwidth_bytes_per_s / 1e9)} GB/s and "
          f"{_fmt(gpu_p.fp16_flop_per_s / 1e12)} TFLOPS"),
         (f"{_fmt(gpu_p.memory_bandwidth_bytes_per_s / 1e9)} GB/s is the RTX 3090's; "
          f"{_fmt(gpu_p.fp16_flop_per_s / 1e12)} TFLOPS is dense FP16 with FP16 accumulate"),
         f"both profiles kept: Hermes on LLaMA2-70B gives {_fmt(h.tokens_per_s)} tokens/s with the "
         f"{inp.profile} profile"
         + (f" and {_fmt(h_other.tokens_per_s)} with the {other.profile} profile"
            if h_other is not None else "")),
        _dimm_row(inp, system, bw_t2),
        ("Table II timings mix speed bins (tRRD_S/L, tFAW)",
         f"tRRD {tim.tRRD_S}/{tim.tRRD_L} and tFAW {tim.tFAW} are a DDR4-2400 x8 part's",
         (f"one DIMM streams {_fmt(bw_t2 / 1e9)} GB/s with Table II and {_fmt(bw_j / 1e9)} GB/s "
          "with JEDEC DDR4-3200 x16 timings"
          + (": activation timings do not bind a streaming read" if bw_t2 == bw_j else ""))),
        ("The host cannot hold the NDP pool",
         (f"an i9-13900K has {system.host.dram_channels} channels; the pool is "
          f"{n} DIMMs at {system.dimms_per_channel} per channel"),
         (f"two memory systems: host {_fmt(system.host.dram_bandwidth_bytes_per_s / 1e9)} GB/s, "
          f"NDP pool {_fmt(n * bw_t2 / 1e9)} GB/s from DRAM timings "
          f"({_fmt(system.dimm_pool_bandwidth_bytes_per_s / 1e9)} GB/s at the pins)")),
        ("Capacity edge of LLaMA2-70B at 4 DIMMs",
         "N.P. at 4 DIMMs (labels)",
         (f"fp16 weights {_fmt(w / 2**30, 5)} GiB against {_fmt(pool4 / 2**30, 5)} GiB: short by "
          f"{short_w:.2f} % with the weights alone, {short_kv:.2f} % with the KV cache (batch 1, "
          "128 + 128 tokens; the sensitivity chapter's figure), so N.P. "
          "(weights stay in the DIMMs)")),
        _trt_row(inp, roof, ref1),
        _predictor_row(inp),
        ("'Similarity' in Fig. 4a is not defined",
         (f"{sim1} adjacent, {sim10} beyond 10 tokens" if sim1 and sim10
          else "a similarity over token distance"),
         (f"independent tokens drawn from LLaMA2-70B's fitted MLP frequencies (density "
          f"{_fmt(act.mlp_density, 2)}, 80 % of activations in {_fmt(100 * act.mlp_hot_share, 2)} % "
          f"of the neurons) already overlap by {mem:.3f} in expectation, the memoryless baseline "
          "(the sparsity chapter estimates it again from a generated trace); the generator reads "
          "similarity as overlap and is fitted at distances 1 and 25 to the paper's Fig. 4a "
          "values, inputs from the paper (Fig. 4a shows LLaMA-13B and Falcon-40B; LLaMA2-70B "
          "borrows LLaMA-13B's, which the book takes for LLaMA2-13B); its value at distance 10 "
          "is a prediction, which those two bound within ±35 % of 0.70, so it is not scored")),
        ("Bit-serial multipliers: cycles per MAC not stated",
         (f"{dimm_p.ndp_operand_bits}-bit operands, {dimm_p.ndp_operand_bits // 16} FP16 at once, "
          "bit-serial"),
         (f"{_fmt(system.dimm.ndp_cycles_per_op)} cycles (FP16 significand bits); the scorecard's "
          "Fig. 16 rows test what that implies")),
        ("Tokens/s definition and prefill",
         f"whether prefill is counted is not stated; {prefill} prefill at batch 1",
         (f"prefill counted: {_fmt(100 * h.breakdown_s['prefill'] / h.total_s)} % of LLaMA2-70B's "
          "time at batch 1")),
        ("Algorithm 1's loop condition printed inverted",
         "while Z_id <= Z_{J-id}", ("the model implements the intent (move while the heavy DIMM "
         "exceeds the light one; the scheduling chapter's window remapping)")),
        ("Fig. 12a caption says OPT-30B, its labels OPT-13B", "caption and labels disagree",
         "the breakdown chapter follows the labels (OPT-13B, OPT-66B)"),
        _twice_row(inp),
    ]
    return pd.DataFrame([r for r in rows if r is not None],
                        columns=["inconsistency", "paper", "model"])


# ------------------------------------------------------------------------- reader-facing tables

#: The paper's label for a configuration that cannot run ("not possible").
NP: Final = u.NP
#: What N.P. means, for a chapter's first use.
NP_MEANING: Final = "not possible, the paper's label for a configuration that cannot run"
#: The systems of the evaluation by their names in the paper (policy name → display name).
SYSTEM_NAMES: Final[Mapping[str, str]] = {
    "accelerate": "Accelerate", "flexgen": "FlexGen", "dejavu": "Deja Vu",
    "hermes-host": "Hermes-host", "hermes-base": "Hermes-base", "hermes": "Hermes",
    "gpu-only": "GPU only"}
#: Below this magnitude :func:`sig_text` shows "0": no quantity shown in this book is that
#: small, and a value that is zero but for rounding (1e-17) would otherwise print 19 decimals.
ZERO_BELOW: Final = 1e-12
#: ``pd.option_context(*FULL_TABLE)``: show every row and every character of a table.
FULL_TABLE: Final = ("display.max_colwidth", None, "display.max_rows", None)


def short_name(name: str) -> str:
    """A model's name without the variant in parentheses (for chart facets and tables).

    >>> short_name("LLaMA2-70B (ReLU-fied, ReGLU)")
    'LLaMA2-70B'
    >>> short_name("OPT-13B")
    'OPT-13B'
    """
    return name.split(" (", 1)[0].strip()


def sig_text(x: Any, sig: int = 3, missing: str = NP, *, grouped: bool = False) -> str:
    """`x` to `sig` significant figures as plain text (trailing zeros kept, no exponent);
    `missing` for None or NaN; "0" for ``|x| <`` :data:`ZERO_BELOW` (a difference that is zero
    but for floating-point rounding); `grouped`: thousands separators in the integer part.

    >>> [sig_text(v) for v in (0.2066, 159.2, 2.1, 31.849, 703.5, 25687.0, 0.0, 1e-17)]
    ['0.207', '159', '2.10', '31.8', '704', '25700', '0', '0']
    >>> sig_text(25687.0, grouped=True)
    '25,700'
    >>> sig_text(float("nan"))
    'N.P.'
    """
    if sig < 1:
        raise ValueError(f"sig must be >= 1, got {sig!r}")
    if x is None or not math.isfinite(float(x)):
        return missing
    v = float(x)
    if abs(v) < ZERO_BELOW:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = sig - 1 - magnitude
    r = round(v, decimals)
    if r != 0 and math.floor(math.log10(abs(r))) > magnitude:
        decimals -= 1  # 9.996 -> 10.0, not 10.00
        r = round(v, decimals)
    return f"{r:{',' if grouped else ''}.{max(decimals, 0)}f}"


def paper_quantity(source: str, unit: str) -> str | None:
    """The value in `unit` that a catalog source quotes from the paper, as it quotes it.

    A catalog source names the paper as ``Hermes §…`` and may quote its figure in brackets:
    ``"...; Hermes §V-A (24 GB)"`` gives ``"24 GB"`` for unit ``"GB"``, and ``"Hermes §IV-A,
    Table II (32 GB/DIMM)"`` gives ``"32 GB"``. None where the source quotes no such value.

    >>> paper_quantity("whitepaper; Hermes §V-A (24 GB)", "GB")
    '24 GB'
    """
    m = re.search(rf"Hermes[^;]*?\((\d+(?:\.\d+)?) {re.escape(unit)}\b", source)
    return f"{m.group(1)} {unit}" if m else None


def paper_text(x: Any, missing: str = "") -> str:
    """A paper value exactly as stored (the shortest decimal that reads back to it, never
    rounded); `missing` for None or NaN.

    >>> [paper_text(v) for v in (578.42, 148.98, 0.04, 62.0, 2500.0)]
    ['578.42', '148.98', '0.04', '62', '2500']
    """
    if x is None or not math.isfinite(float(x)):
        return missing
    return str(np.format_float_positional(float(x), trim="-"))


#: Paper values whose stored number is not how the paper prints it (Fig. 4a's similarities, given
#: as "above 0.90" and "about 0.70", all inputs): row id → the printed text, which
#: :func:`input_text` shows.
PRINTED_VALUES: Final[Mapping[str, str]] = {
    "motivation/similarity_d1": "> 0.90",
    "motivation/similarity_d10": "≈ 0.70",
    "motivation/similarity_d25": "≈ 0.70",
}


def input_text(row_id: str, x: Any) -> str:
    """An input row's paper value as the paper prints it: :data:`PRINTED_VALUES` where the
    stored number drops the paper's qualifier or trailing zero, else :func:`paper_text` with
    thousands separators.

    >>> [input_text("cost/hermes", 2500.0), input_text("motivation/similarity_d1", 0.9)]
    ['2,500', '> 0.90']
    >>> input_text("fig14/axis_max", 150.0)
    '150'
    """
    if row_id in PRINTED_VALUES:
        return PRINTED_VALUES[row_id]
    text = paper_text(x)
    if not text:
        return text
    whole, dot, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}{dot}{frac}"


#: The reading notes' tags: ``[I]`` (inferred) is spelled out; ``[R]`` / ``[R-fig]`` (read in
#: the text / a figure) are what every source already says, and ``[X]`` (contradicts a datasheet).
READER_TAGS: Final[Mapping[str, str]] = {"I": "inferred", "R": "", "R-fig": "", "X": ""}
_TAG = re.compile(r"\s*\[(" + "|".join(re.escape(t) for t in
                                     sorted(READER_TAGS, key=len, reverse=True)) + r")\]")
#: A reference into the private notes: ``[via] [hermes_paper] [the] digest['s] §x.y [item n]``
#: or ``[via] hermes_paper.md §x.y``; the section number never takes a sentence's full stop.
_NOTES_REF = re.compile(r"(?:\bvia\s+)?(?:(?:hermes_paper\s+)?(?:\bthe\s+)?\bdigest(?:'s)?"
                        r"|hermes_paper\.md)\s*§\s*\d+(?:\.\d+)*(?:\s+item\s+\d+)?")


def _depth_at(text: str, pos: int) -> int:
    return text.count("(", 0, pos) - text.count(")", 0, pos)


def _tidy(text: str) -> str:
    """Empty parentheses dropped, separators left dangling inside parentheses removed, spaces
    collapsed and never before punctuation."""
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\(\s*[,;:]*\s*", "(", text)  # "( ; x" -> "(x"
        text = re.sub(r"\s*[,;:]+\s*\)", ")", text)  # "x: )" -> "x)"
        text = re.sub(r"\s*\(\s*\)", "", text)  # "()" -> ""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,;:.)])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"([,;:])(?=[,;:.])", "", text)  # "x;." -> "x." (a clause left empty)
    return text.strip(" ,;:")


def reader_source(text: str) -> str:
    """A row's source as a reader can follow it: the paper's sections, figures and tables only.

    In this order: the notes' tags are replaced (:data:`READER_TAGS`: ``[I]`` becomes
    "(inferred)", or "inferred" inside parentheses); the references into the private notes
    (``digest §x``, ``hermes_paper.md §x``, their section numbers mean nothing to a reader) are
    deleted, and nothing else; parentheses left empty are dropped and spaces and punctuation
    tidied.

    >>> reader_source("Hermes §V-B, Fig. 9 bar label (digest §10)")
    'Hermes §V-B, Fig. 9 bar label'
    >>> reader_source("Fig. 17 label 55.3 % (hermes_paper.md §10.9 [R-fig]); batch by ordering [I]")
    'Fig. 17 label 55.3 %; batch by ordering (inferred)'
    >>> reader_source("implied by Fig. 11 and Fig. 17 (digest §10.9 [I])")
    'implied by Fig. 11 and Fig. 17 (inferred)'
    >>> reader_source("Hermes Fig. 14 N.P. labels (assignment: digest §10.6)")
    'Hermes Fig. 14 N.P. labels (assignment)'
    >>> reader_source("Hermes §IV-C via hermes_paper.md §7.")
    'Hermes §IV-C.'
    """
    text = str(text)

    def tag(m: re.Match[str]) -> str:
        word = READER_TAGS[m.group(1)]
        if not word:
            return ""
        return f" {word}" if _depth_at(text, m.start()) > 0 else f" ({word})"

    out = _TAG.sub(tag, text)
    out = _NOTES_REF.sub("", out)
    return _tidy(out)


def bar_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """The number rows of the bars of Figs. 9–11 (ids ``figN/model/policy/bsB``), with
    ``model_slug``, ``policy`` and ``batch`` parsed from the id; N.P. and trend rows excluded."""
    parts = scored["id"].str.extract(r"^(fig(?:9|10|11))/([a-z0-9_]+)/([a-z-]+)/bs(\d+)$")
    ok = parts[0].notna() & (scored["kind"] == "number")
    out = scored[ok].copy()
    out["model_slug"], out["policy"] = parts.loc[ok, 1], parts.loc[ok, 2]
    out["batch"] = parts.loc[ok, 3].astype(int)
    return out


def bar_counts(scored: pd.DataFrame) -> dict[str, int]:
    """How the bars are counted: ``rows`` (every bar as each figure prints it), ``distinct``
    (a model, system and batch once, though Fig. 11's batch-1 bars repeat Figs. 9–10's),
    ``repeated`` (rows - distinct), and the same for Hermes (``hermes_rows``,
    ``hermes_distinct``)."""
    b = bar_rows(scored)
    h = b[b["policy"] == "hermes"]
    distinct = len(distinct_bars(b, model="model_slug"))
    return {"rows": len(b), "distinct": distinct, "repeated": len(b) - distinct,
            "hermes_rows": len(h), "hermes_distinct": len(distinct_bars(h, model="model_slug"))}


def distinct_bars(bars: pd.DataFrame, *, model: str = "model") -> pd.DataFrame:
    """Each bar once: a model (column `model`), a system (``policy``) and a batch, at its first
    row. With the rows in figure order, a batch-1 bar of Fig. 11 that repeats one of Figs. 9–10
    counts there, with that figure's value. Every chapter counts distinct bars with this
    function (:func:`bar_counts` for scored rows, ``policies.model_bars`` frames as they are)."""
    return bars.drop_duplicates([model, "policy", "batch"])


def implied_stream_rate(bars: pd.DataFrame, weight_bytes: Mapping[str, float], *,
                        gen_len: int) -> pd.DataFrame:
    """The decode step each paper bar implies and the rate that step streams the weights at.

    Parameters
    ----------
    bars : DataFrame
        Rows of ``policies.model_bars`` (``model``, ``batch``, ``paper_tokens_per_s``, the
        model's ``prefill_s``), one per model.
    weight_bytes : mapping of model slug → bytes
        What one decode step streams (an offloading system: every weight once).
    gen_len : int
        Generated tokens per sequence.

    Returns
    -------
    DataFrame
        Indexed by model: ``implied_step_s`` (``policies.implied_decode_step_s`` with the model's
        prefill) and ``rate_bytes_per_s`` (weights over that step, B/s).
    """
    if bars["model"].duplicated().any():
        raise ValueError("implied_stream_rate: one bar per model")
    t = bars.set_index("model")
    step = policies.implied_decode_step_s(t["paper_tokens_per_s"].to_numpy(),
                                          batch=t["batch"].to_numpy(), gen_len=gen_len,
                                          prefill_s=t["prefill_s"].to_numpy())
    out = pd.DataFrame({"implied_step_s": np.atleast_1d(step)}, index=t.index)
    out["rate_bytes_per_s"] = [weight_bytes[m] for m in t.index] / out["implied_step_s"]
    return out


def estimate_table(model: ModelSpec, systems: Mapping[str, Any], *,
                   activity: Activity | None = None, batch: int = 1,
                   prompt_len: int = PAPER.prompt_len,
                   gen_len: int = PAPER.gen_len) -> pd.DataFrame:
    """Every policy on `model` under each system of `systems` (profile → ``SystemSpec``), with
    the default :class:`~hermes_model.policies.Assumptions` and `activity`.

    Returns ``profile``, ``policy``, ``tokens_per_s``, ``prefill_s``, ``decode_step_s`` (SI
    units) and ``supported``, one row per profile and policy (profiles in the order given).
    """
    opts = Assumptions(activity=activity)
    rows = []
    for profile, system in systems.items():
        for pol in policies.Policy:
            e = policies.estimate(pol, model, system, batch=batch, prompt_len=prompt_len,
                                  gen_len=gen_len, options=opts)
            rows.append({"profile": profile, "policy": str(pol), "tokens_per_s": e.tokens_per_s,
                         "prefill_s": e.prefill_s, "decode_step_s": e.decode_step_s,
                         "supported": e.supported})
    return pd.DataFrame(rows)


def estimate_display(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`estimate_table` as a reader reads it: profile, system (display name), tokens/s,
    prefill (s) and decode step (ms) to three significant figures (thousands separated), N.P.
    where the policy cannot run the configuration."""
    ok = table["supported"].to_numpy()
    shown = {"tokens/s": table["tokens_per_s"], "prefill (s)": table["prefill_s"],
             "decode step (ms)": table["decode_step_s"] / u.MS}
    return pd.DataFrame({
        "profile": table["profile"], "system": table["policy"].map(SYSTEM_NAMES),
        **{c: [sig_text(v, grouped=True) if k else NP for v, k in zip(col, ok, strict=True)]
           for c, col in shown.items()}}).reset_index(drop=True)


def bar_table(scored: pd.DataFrame, model_names: Mapping[str, str]) -> pd.DataFrame:
    """Every bar row as a reader reads it: the paper's figure, model (display name), system,
    batch, the paper's tokens/s as given, the model's to three significant figures (N.P. where
    the model cannot run it), model / paper to two decimals, and the verdict."""
    b = bar_rows(scored)
    ratio = b["model_value"] / b["paper_value"]
    return pd.DataFrame({
        "paper's figure": b["figure"],
        "model": [short_name(model_names.get(m, m)) for m in b["model_slug"]],
        "system": [SYSTEM_NAMES.get(p, p) for p in b["policy"]], "batch": b["batch"],
        "paper (tokens/s)": [paper_text(v) for v in b["paper_value"]],
        "model (tokens/s)": [sig_text(v) for v in b["model_value"]],
        "model / paper": [NP if not math.isfinite(r) else f"{r:.2f}" for r in ratio],
        "verdict": b["verdict"]}).reset_index(drop=True)


def result_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Scored rows other than bars, as a reader reads them: paper values as given (N.P. for a
    row that says the paper cannot run a configuration), units with × for ratios, the model's
    text, the error in % to three significant figures (numbers only), and the reader's source."""
    is_np = (scored["rule"] == "np").to_numpy()
    return pd.DataFrame({
        "paper's figure": scored["figure"], "quantity": scored["quantity"],
        "kind": scored["kind"],
        "paper": [NP if n else paper_text(v) for v, n in zip(scored["paper_value"], is_np,
                                                            strict=True)],
        "paper (high)": [paper_text(v) for v in scored["paper_high"]],
        "unit": ["" if n else ("×" if u == "x" else u)
                 for u, n in zip(scored["unit"], is_np, strict=True)],
        "model": scored["model_text"],
        "error (%)": [sig_text(100 * e, missing="") for e in scored["error"]],
        "verdict": scored["verdict"], "how the model value is obtained": scored["model_note"],
        "source": [reader_source(t) for t in scored["source"]]}).reset_index(drop=True)
