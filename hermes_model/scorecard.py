"""The reproduction scorecard: every result of the paper beside the model's value.

The rows are ``data/paper/scorecard_rows.csv`` (the paper's results, grouped in eleven rows by
figure, each broken into its individual numbers; loaded by ``io.load_scorecard_rows``); every
paper value there names the ``data/paper/`` file and field it comes from. Each row has a
**kind** and a **rule**:

* ``number``: the model's value, its error and whether it holds. Rules: ``hermes_20`` (Hermes
  tokens/s, ±20 %), ``rel_35`` (±35 %), ``speedup_35`` (±35 % on a speedup; below 3× the error
  is taken on ratio − 1, :func:`speedup_error`, so that 1.08× against 0.70× cannot pass).
* ``range`` (rule ``range``): holds if every model value lies in ``[paper_value, paper_high]``.
* ``threshold``: ``lt`` / ``gt`` (the model value below / above ``paper_value``), ``min_count``
  (the smallest supported count equals ``paper_value``), ``np`` (the model also says N.P.).
* ``trend``: ``argmin`` (the model's smallest value sits at ``paper_value``), ``flat_10``
  (the model changes by at most 10 % over the stated span).
* ``input``: a price, an axis limit, a statistic the generator is calibrated to: listed,
  not scored.

:func:`model_values` maps every row id to the model's value, computed only through the package
(policies, sweeps, ndp, dram and the committed tables of ``scripts/make_fig13.py`` and
``scripts/make_motivation.py``); a row whose
quantity no module computes yet maps to ``None`` and is reported as *not yet modelled*, never
given a value. :func:`score` applies the rules; the rules themselves are pure functions.

The display helpers at the end (:func:`sig_text`, :func:`paper_text`, :func:`reader_source`,
:func:`bar_table`, :func:`result_table`) turn scored rows into reader-facing tables: paper
values exactly as given, model values to three significant figures, N.P. (the paper's label for
a configuration that cannot run) instead of NaN.
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

from hermes_model import dram, ndp, policies, predictor, shapes, sparsity, sweeps
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
                      "hermes_paper", "datasheet" if profile == "paper" else "paper"),
                  dimm_jedec=io.load_dimm("ddr4_3200_ndp_jedec", profile),
                  motivation=io.load_scheduling_table("motivation"),
                  averages=io.load_paper_figure("averages"))


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
    avg = policies.figure_averages(bs1, frames["fig11"], "tokens_per_s")
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
            "fig12/hermes_prefill_share_bs1": 100 * h["prefill"],
            "fig12/hermes_decode_share_bs1": 100 * (1 - h["prefill"])}


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
                                   "(data/derived/balance.csv)",
    "motivation/window_variance": "window-optimal (hindsight) remap, LLaMA2-13B, batch 1",
    "motivation/pcie_share_opt66b": "Deja Vu policy with the GPU filled first "
                                    "(offload_resident), OPT-66B, batch 1",
    "motivation/migration_host": "OPT-66B, batch 1: Algorithm 1's moves forwarded by the host, "
                                 "time beyond the projection windows over the Hermes decode step "
                                 "plus it",
    "motivation/migration_dimm_link": "OPT-66B, batch 1: the same moves over DIMM-link",
    "fig12/hermes_prefill_share_bs1": "LLaMA2-70B (the paper names no model)",
    "fig12/hermes_decode_share_bs1": "LLaMA2-70B (the paper names no model)",
    "fig11/trend/hermes_over_base_min": "batch of the smallest mean Hermes/Hermes-base over "
                                        "the three models",
    "fig14/flat_8_16/llama2_70b": "tokens/s at 16 DIMMs over 8, minus one",
    "fig16/saturation_bs1": "end-to-end Hermes, OPT-13B; a doubling gaining < 5 % is saturated",
    "fig16/max_speedup_bs16": "end-to-end Hermes, OPT-13B, 512 over 32 multipliers",
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


def _fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def _stated(inp: Inputs, name: str) -> float | None:
    """A stated average of the paper (``data/paper/averages.csv``), or None without the table."""
    if inp.averages is None:
        return None
    hit = inp.averages.loc[inp.averages["name"] == name, "value"]
    return float(hit.iloc[0]) if len(hit) == 1 else None


def _quote(value: float | None, fallback: str, suffix: str = "") -> str:
    return fallback if value is None else paper_text(value) + suffix


def inconsistencies(inp: Inputs) -> pd.DataFrame:
    """The paper's gaps and inconsistencies met in re-deriving it, each with what the model says.

    Paper values are quoted from ``data/paper/`` where a table holds them; every model number is
    computed here, from the package.

    Returns
    -------
    DataFrame
        ``inconsistency``, ``paper`` (what the paper says or implies), ``model`` (what the model
        computes about it, from the package).
    """
    system = inp.system_for()
    frames = {f: policies.model_bars(b, system, inp.activities, inp.models)
              for f, b in inp.paper_bars.items()}
    bs1 = pd.concat([frames["fig9"], frames["fig10"]], ignore_index=True)
    from_bars = policies.figure_averages(bs1, frames["fig11"], "paper_tokens_per_s")
    from_model = policies.figure_averages(bs1, frames["fig11"], "tokens_per_s")
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
    a100 = inp.system_for(gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS).gpu
    roof = float(sweeps.decode_roofline_tokens_per_s(w, a100.memory_bandwidth_bytes_per_s,
                                                     n_gpus=sweeps.FIG17_N_GPUS))
    ref1 = _est(inp, "gpu-only", "llama2_70b", system=inp.system_for(
        gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS)).tokens_per_s
    state_kib = predictor.state_table_bytes(32 * (4096 + 11008)) / 2**10
    # one DIMM's streaming read from its DRAM timings (the NDP-DIMM chapter's), and the pin bound
    bw_t2 = float(dram.dimm_bandwidth_bytes_per_s(system.dimm))
    pin = system.dimm.ranks_pin_bandwidth_bytes_per_s
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
    dv = _quote(_stated(inp, "hermes_over_dejavu_batches"), "the stated average", "×")
    hha = _quote(_stated(inp, "hermes_host_over_accelerate"), "the stated average", "×")
    prefill = _quote(_stated(inp, "hermes_prefill_share_bs1"), "a stated", " %")
    rows = [
        (f"{dv} over Deja Vu does not follow from the bars",
         (f"stated {dv} (OPT-66B, batches 1–16); the paper's own Fig. 11 bars give "
          f"{_fmt(from_bars['hermes_over_dejavu_batches'])}×"),
         (f"{_fmt(from_model['hermes_over_dejavu_batches'])}×: the model's FlexGen and Deja Vu are "
          "several times faster than the paper's, so every ratio over them is smaller")),
        (f"{hha} Hermes-host over Accelerate does not follow from the bars",
         (f"stated {hha}; the bars give {_fmt(from_bars['hermes_host_over_accelerate'])}× (six "
          "models, batch 1)"), f"{_fmt(from_model['hermes_host_over_accelerate'])}×"),
        ((f"Falcon-40B Hermes-host at batch 1: {paper_bar('fig10')} (Fig. 10) and "
          f"{paper_bar('fig11')} (Fig. 11)"),
         "two values for one bar", f"one value, {_fmt(falcon_host)} tokens/s"),
        ("Smallest Hermes/Hermes-base gap at batch 2",
         "stated for all models; in the paper's Fig. 11 bars "
         + (", ".join(off) + " has its minimum elsewhere" if off else "it holds for every model"),
         "see the Fig. 11 trend row of the scorecard"),
        ("RTX 4090: 936 GB/s and 330 TFLOPS",
         "936 GB/s is the RTX 3090's; 330 TFLOPS is dense FP16 with FP16 accumulate",
         f"both profiles kept: Hermes on LLaMA2-70B gives {_fmt(h.tokens_per_s)} tokens/s with the "
         f"{inp.profile} profile"
         + (f" and {_fmt(h_other.tokens_per_s)} with the {other.profile} profile"
            if h_other is not None else "")),
        ("Per-DIMM bandwidth and NDP MAC rate not stated",
         (f"Fig. 1's ~1.6 TB/s label; the pins of a DIMM's {system.dimm.n_ranks} ranks carry "
          f"{_fmt(pin / 1e9, 4)} GB/s"),
         (f"DRAM timings give {_fmt(bw_t2 / 1e9)} GB/s per DIMM (pin bound {_fmt(pin / 1e9, 4)}): "
          f"{_fmt(n * bw_t2 / 1e12)} TB/s for {n} DIMMs, {_fmt(2 * n * bw_t2 / 1e12)} TB/s for "
          f"{2 * n} ({_fmt(2 * n * pin / 1e12)} TB/s at the pins); the ~1.6 TB/s label fits "
          f"{2 * n} DIMMs, not {n}")),
        ("Table II timings mix speed bins (tRRD_S/L, tFAW)",
         "tRRD 4/6 and tFAW 26 are a DDR4-2400 x8 part's",
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
          f"{_fmt(100 * (w / pool4 - 1), 2)} %, so N.P. (weights stay in the DIMMs)")),
        ("TensorRT-LLM on 5× A100 (Fig. 17) is slow",
         "implied 17.4 tokens/s at batch 1 (Fig. 17's efficiency with Fig. 11's Hermes bar)",
         (f"bandwidth roofline {_fmt(roof)} tokens/s; gpu-only tensor parallel {_fmt(ref1)}; "
          "five GPUs divide neither 64 heads nor 8 KV heads")),
        ("Predictor memory 232 KB",
         "32 layers × (4K + 10.5K) neurons × 4 bit", (f"32 × (4096 + 11008) × 4 bit = "
          f"{_fmt(state_kib, 4)} KiB; the top-2 correlation table is separate and larger")),
        ("'Similarity' in Fig. 4a is not defined",
         "> 0.90 adjacent, ~0.70 beyond 10 tokens",
         (f"independent tokens drawn from LLaMA2-70B's fitted MLP frequencies (density "
          f"{_fmt(act.mlp_density, 2)}, 80 % of activations in {_fmt(100 * act.mlp_hot_share, 2)} % "
          f"of the neurons) already overlap by {mem:.3f} in expectation, the memoryless baseline "
          "(the sparsity chapter estimates it again from a generated trace); the generator reads "
          "similarity as overlap and is calibrated to the paper's curve")),
        ("Bit-serial multipliers: cycles per MAC not stated",
         "128-bit operands, 8 FP16 at once, bit-serial",
         (f"{_fmt(system.dimm.ndp_cycles_per_op)} cycles (FP16 significand bits); the scorecard's "
          "Fig. 16 rows test what that implies")),
        ("Tokens/s definition and prefill",
         f"whether prefill is counted is not stated; {prefill} prefill at batch 1",
         (f"prefill counted: {_fmt(100 * h.breakdown_s['prefill'] / h.total_s)} % of LLaMA2-70B's "
          "time at batch 1")),
        ("Algorithm 1's loop condition printed inverted",
         "while Z_id <= Z_{J-id}", ("the model implements the intent (move while the heavy DIMM "
         "exceeds the light one), scheduling.remap_layer")),
        ("Fig. 12a caption says OPT-30B, its labels OPT-13B", "caption and labels disagree",
         "the breakdown chapter follows the labels (OPT-13B, OPT-66B)"),
        ("1.63× appears twice", "§III-B fixed vs oracle partition; Fig. 13 partition vs random",
         "two rows of the scorecard, two different model quantities"),
    ]
    return pd.DataFrame(rows, columns=["inconsistency", "paper", "model"])


# ------------------------------------------------------------------------- reader-facing tables

#: The paper's label for a configuration that cannot run ("not possible").
NP: Final = "N.P."
#: What N.P. means, for a chapter's first use.
NP_MEANING: Final = "not possible, the paper's label for a configuration that cannot run"
#: The systems of the evaluation by their names in the paper (policy name → display name).
SYSTEM_NAMES: Final[Mapping[str, str]] = {
    "accelerate": "Accelerate", "flexgen": "FlexGen", "dejavu": "Deja Vu",
    "hermes-host": "Hermes-host", "hermes-base": "Hermes-base", "hermes": "Hermes",
    "gpu-only": "GPU only"}
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


def sig_text(x: Any, sig: int = 3, missing: str = NP) -> str:
    """`x` to `sig` significant figures as plain text (trailing zeros kept, no exponent);
    `missing` for None or NaN.

    >>> [sig_text(v) for v in (0.2066, 159.2, 2.1, 31.849, 703.5, 25687.0, 0.0)]
    ['0.207', '159', '2.10', '31.8', '704', '25700', '0']
    >>> sig_text(float("nan"))
    'N.P.'
    """
    if sig < 1:
        raise ValueError(f"sig must be >= 1, got {sig!r}")
    if x is None or not math.isfinite(float(x)):
        return missing
    v = float(x)
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = sig - 1 - magnitude
    r = round(v, decimals)
    if r != 0 and math.floor(math.log10(abs(r))) > magnitude:
        decimals -= 1  # 9.996 -> 10.0, not 10.00
        r = round(v, decimals)
    return f"{r:.{max(decimals, 0)}f}"


def paper_text(x: Any, missing: str = "") -> str:
    """A paper value exactly as stored (the shortest decimal that reads back to it, never
    rounded); `missing` for None or NaN.

    >>> [paper_text(v) for v in (578.42, 148.98, 0.04, 62.0, 2500.0)]
    ['578.42', '148.98', '0.04', '62', '2500']
    """
    if x is None or not math.isfinite(float(x)):
        return missing
    return str(np.format_float_positional(float(x), trim="-"))


_PRIVATE_NOTES = re.compile(r"\s*\([^()]*(?:digest|hermes_paper\.md)[^()]*\)"
                            r"|\s*via hermes_paper\.md\s*§[\d.]+")


def reader_source(text: str) -> str:
    """A row's source as a reader can follow it: the paper's sections, figures and tables only.

    Drops references to private reading notes (the notes' section numbers mean nothing to a
    reader) and spells out their tag for an inference.

    >>> reader_source("Hermes §V-B, Fig. 9 bar label (digest §10)")
    'Hermes §V-B, Fig. 9 bar label'
    >>> reader_source("Fig. 17 label 55.3 % (hermes_paper.md §10.9 [R-fig]); batch by ordering [I]")
    'Fig. 17 label 55.3 %; batch by ordering (inferred)'
    """
    out = _PRIVATE_NOTES.sub("", str(text))
    return re.sub(r"\s*\[I\]", " (inferred)", out).strip()


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
    key = ["model_slug", "policy", "batch"]
    h = b[b["policy"] == "hermes"]
    distinct = len(b.drop_duplicates(key))
    return {"rows": len(b), "distinct": distinct, "repeated": len(b) - distinct,
            "hermes_rows": len(h), "hermes_distinct": len(h.drop_duplicates(key))}


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
