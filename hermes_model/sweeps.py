"""Sweeps of the sensitivity and cost chapters: Figs. 14, 15, 17 and the bands (issue 10).

Each sweep runs a policy of `hermes_model.policies` over a grid and returns a tidy DataFrame.
Model code reads no files, so a sweep that changes the hardware takes a ``system_for``
callable, e.g. ``functools.partial(io.load_system, "hermes_paper", "paper")``, called with the
keyword overrides of ``io.load_system`` (``n_dimms=``, ``gpu=``, ``n_gpus=``). Long sweeps take
a ``progress`` wrapper of their iterable (the CLI passes a tqdm bar on stderr; chapters pass
nothing and stay quiet).

Everything inside is SI (bytes, s); tokens/s is the paper's metric (`hermes_model.policies`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd

from hermes_model import policies, shapes
from hermes_model.policies import Activity, Assumptions, Policy
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec

T = TypeVar("T")
#: Wraps a sweep's iterable of jobs (e.g. ``functools.partial(tqdm, file=sys.stderr)``).
Progress = Callable[[Iterable[Any]], Iterable[Any]]
#: Builds a system from ``io.load_system``'s keyword overrides.
SystemFor = Callable[..., SystemSpec]

#: The grids of the paper's figures (§V-E1, §V-E2, §V-F).
FIG14_MODELS: Final = ("opt_13b", "opt_30b", "falcon_40b", "llama2_70b")
FIG14_DIMMS: Final = (1, 2, 4, 8, 16)
FIG15_MODELS: Final = ("opt_13b", "opt_30b")
FIG15_GPUS: Final = ("t4", "rtx_3090", "rtx_4090")
FIG15_BATCHES: Final = (1, 4, 16)
FIG17_MODEL: Final = "llama2_70b"
FIG17_BATCHES: Final = (1, 2, 4, 8, 16)
FIG17_GPU: Final = "a100_40g_sxm4"
FIG17_N_GPUS: Final = 5


def _quiet(jobs: Iterable[T]) -> Iterable[T]:
    return jobs


def _estimate_row(est: policies.Estimate) -> dict[str, Any]:
    """The common columns of one estimate (NaN tokens/s where unsupported)."""
    row: dict[str, Any] = {
        "supported": est.supported, "reason": est.reason,
        "tokens_per_s": est.tokens_per_s if est.supported else math.nan,
        "prefill_s": est.prefill_s, "decode_step_s": est.decode_step_s}
    for cat, t in est.breakdown_s.items():
        if cat != "prefill":
            row[f"step_{cat}_s"] = t / est.gen_len if est.supported else math.nan
    return row


# ------------------------------------------------------------------------------- Fig. 14


def dimm_sweep(models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
               system_for: SystemFor, *, n_dimms: Sequence[int] = FIG14_DIMMS, batch: int = 1,
               policy: str = "hermes", prompt_len: int = 128, gen_len: int = 128,
               options: Assumptions | None = None, progress: Progress | None = None
               ) -> pd.DataFrame:
    """Fig. 14: tokens/s of `policy` for each model and NDP-DIMM count.

    Returns
    -------
    DataFrame
        ``model``, ``n_dimms``, ``batch``, ``pool_bytes`` (the DIMMs' capacity), ``need_bytes``
        (weights and KV cache), the estimate's columns (``tokens_per_s`` NaN where N.P.,
        ``reason``), and the decode step per Fig. 12 category (``step_<category>_s``).
    """
    base = options or Assumptions()
    jobs = [(slug, n) for slug in models for n in n_dimms]
    rows = []
    for slug, n in (progress or _quiet)(jobs):
        model, system = models[slug], system_for(n_dimms=n)
        opts = dataclasses.replace(base, activity=activities.get(slug))
        est = policies.estimate(policy, model, system, batch=batch, prompt_len=prompt_len,
                                gen_len=gen_len, options=opts)
        need = (shapes.weight_bytes(model, opts.dtype)
                + batch * (prompt_len + gen_len) * shapes.kv_cache_bytes_per_token(model,
                                                                                   opts.dtype))
        rows.append({"model": slug, "n_dimms": n, "batch": batch,
                     "pool_bytes": system.dimm_capacity_bytes, "need_bytes": need,
                     **_estimate_row(est)})
    return pd.DataFrame(rows)


def capacity_margins(model: ModelSpec, *, dimm_capacity_bytes: float, n_dimms: int,
                     batch: int = 1, prompt_len: int = 128, gen_len: int = 128,
                     dtype: str = "fp16") -> pd.DataFrame:
    """Whether `model` fits `n_dimms` DIMMs under five readings of the paper's capacity.

    Readings: the model's (every weight and the KV cache, DIMMs of `dimm_capacity_bytes`);
    weights only; the model without the input embedding (looked up one row per token, it could
    live elsewhere); that, with the KV cache elsewhere too; and DIMMs of 32 GB read as decimal
    gigabytes (10^9 B, not GiB).

    Returns
    -------
    DataFrame
        ``reading``, ``need_bytes``, ``pool_bytes``, ``margin_frac`` (pool / need - 1: negative
        when short), ``fits``.
    """
    e = shapes.dtype_bytes(dtype)
    weights = shapes.weight_bytes(model, dtype)
    kv = batch * (prompt_len + gen_len) * shapes.kv_cache_bytes_per_token(model, dtype)
    embed = model.vocab_size * model.word_embed_proj_dim * e
    pool = n_dimms * dimm_capacity_bytes
    readings = [("weights and KV cache (the model)", weights + kv, pool),
                ("weights only", weights, pool),
                ("weights and KV cache without the input embedding", weights - embed + kv,
                 pool),
                ("weights without the input embedding or the KV cache", weights - embed, pool),
                ("weights and KV cache, 32 GB = 32e9 B per DIMM", weights + kv, n_dimms * 32e9)]
    return pd.DataFrame([{"reading": r, "need_bytes": need, "pool_bytes": have,
                          "margin_frac": have / need - 1.0, "fits": bool(have >= need)}
                         for r, need, have in readings])


# ------------------------------------------------------------------------------- Fig. 15


def gpu_sweep(models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
              system_for: SystemFor, *, gpus: Sequence[str] = FIG15_GPUS,
              batches: Sequence[int] = FIG15_BATCHES, policy: str = "hermes",
              prompt_len: int = 128, gen_len: int = 128, options: Assumptions | None = None,
              progress: Progress | None = None) -> pd.DataFrame:
    """Fig. 15: tokens/s of `policy` for each model, GPU and batch.

    Returns
    -------
    DataFrame
        ``model``, ``gpu``, ``batch``, ``link`` (the PCIe link the GPU really gets) and the
        estimate's columns.
    """
    base = options or Assumptions()
    systems = {g: system_for(gpu=g) for g in gpus}
    jobs = [(slug, g, b) for slug in models for g in gpus for b in batches]
    rows = []
    for slug, g, b in (progress or _quiet)(jobs):
        opts = dataclasses.replace(base, activity=activities.get(slug))
        est = policies.estimate(policy, models[slug], systems[g], batch=b,
                                prompt_len=prompt_len, gen_len=gen_len, options=opts)
        rows.append({"model": slug, "gpu": g, "batch": b, "link": systems[g].host_link.slug,
                     **_estimate_row(est)})
    return pd.DataFrame(rows)


def gpu_speedups(sweep: pd.DataFrame, *, numerator: str = "rtx_4090") -> pd.DataFrame:
    """Per model and batch, `numerator`'s tokens/s over each other GPU's (from `gpu_sweep`).

    Returns
    -------
    DataFrame
        ``model``, ``batch``, ``over`` (the other GPU), ``speedup``.
    """
    wide = sweep.pivot_table(index=["model", "batch"], columns="gpu", values="tokens_per_s")
    out = [pd.DataFrame({"over": g, "speedup": wide[numerator] / wide[g]}).reset_index()
           for g in wide.columns if g != numerator]
    return pd.concat(out, ignore_index=True)[["model", "batch", "over", "speedup"]]


def gpu_ratio_by_reading(models: Mapping[str, ModelSpec], activities: Mapping[str, Activity],
                         system_for: SystemFor, *, numerator: str = "rtx_4090",
                         other: str = "rtx_3090", batches: Sequence[int] = FIG15_BATCHES,
                         prompt_len: int = 128, gen_len: int = 128,
                         options: Assumptions | None = None, n_corner: int = 3) -> pd.DataFrame:
    """Fig. 15's mean speedup of `numerator` over `other` at the defaults, with each unstated
    parameter Hermes reads alone at each end of its range (:data:`policies.UNSTATED`), and at
    every corner of the `n_corner` parameters that move the speedup most.

    A diagnostic of whether any plausible reading reaches the paper's ratio, not a fit.

    Returns
    -------
    DataFrame
        ``parameter`` (``defaults`` first, then one row per parameter end, then ``raising ends
        together``: every end that raised the speedup alone, combined; then ``corner`` rows),
        ``value`` (for the combined rows, every parameter's value), ``speedup`` (mean over
        models and batches of the per-point ratio of tokens/s).
    """
    base = options or Assumptions()
    params = policies.unstated_for(Policy.HERMES, system_for(gpu=numerator))

    def mean_speedup(**kw: Any) -> float:
        opts = dataclasses.replace(base, **kw)
        sweep = gpu_sweep(models, activities, system_for, gpus=(other, numerator),
                          batches=batches, prompt_len=prompt_len, gen_len=gen_len, options=opts)
        return float(gpu_speedups(sweep, numerator=numerator)["speedup"].mean())

    default = mean_speedup()
    rows = [{"parameter": "defaults", "value": "", "speedup": default}]
    swing: dict[str, float] = {}
    best: dict[str, tuple[float, Any]] = {}
    for name, v in policies.reading_ends(params, base):
        sp = mean_speedup(**{name: v})
        rows.append({"parameter": name, "value": str(v), "speedup": sp})
        swing[name] = max(swing.get(name, 0.0), abs(sp - default))
        if sp > best.get(name, (default, None))[0]:
            best[name] = (sp, v)
    # Every end that raised the speedup on its own, all together (the most favourable reading
    # the one-at-a-time runs point to).
    raising = {name: v for name, (_sp, v) in best.items()}
    if raising:
        rows.append({"parameter": "raising ends together",
                     "value": ", ".join(f"{k}={v}" for k, v in raising.items()),
                     "speedup": mean_speedup(**raising)})
    top = sorted(swing, key=swing.__getitem__, reverse=True)[:n_corner]
    ends_of = {p.name: (p.low, p.high) for p in params}
    for combo in itertools.product(*(ends_of[n] for n in top)):
        kw = dict(zip(top, combo, strict=True))
        rows.append({"parameter": "corner",
                     "value": ", ".join(f"{k}={v}" for k, v in kw.items()),
                     "speedup": mean_speedup(**kw)})
    return pd.DataFrame(rows)


def ratio_error(model_ratio: float, paper_ratio: float) -> float:
    """Error of a speedup taken on the gain, :math:`(r_m - 1)/(r_p - 1) - 1` (a fraction)."""
    if paper_ratio == 1:
        raise ValueError("the paper's ratio is 1: the error on ratio - 1 is undefined")
    return (model_ratio - 1.0) / (paper_ratio - 1.0) - 1.0


# ------------------------------------------------------------------------------- Fig. 17


def pipeline_system(system: SystemSpec, n_stages: int) -> SystemSpec:
    """`system` read as an `n_stages`-stage pipeline with one batch in flight.

    The stages run one after another, so a step takes what one GPU holding the whole model
    would take: the system becomes one GPU with `n_stages` times the memory. The hand-over
    between stages (the batch's hidden state, a few KiB over NVLink) is left out.
    """
    if n_stages < 1:
        raise ValueError(f"n_stages must be >= 1, got {n_stages!r}")
    gpu = dataclasses.replace(system.gpu, memory_bytes=system.gpu.memory_bytes * n_stages)
    return dataclasses.replace(system, gpu=gpu, n_gpus=1)


def decode_roofline_tokens_per_s(weight_bytes: float, bandwidth_bytes_per_s: float, *,
                                 n_gpus: int = 1, batch: int | np.ndarray = 1) -> Any:
    """Upper bound of decode tokens/s when each step reads every weight once, split over
    `n_gpus` GPUs in parallel: :math:`b\\,n\\,W / S` (tokens/s)."""
    return np.asarray(batch) * n_gpus * bandwidth_bytes_per_s / weight_bytes


def deployment_sweep(model: ModelSpec, system_for: SystemFor, *,
                     batches: Sequence[int] = FIG17_BATCHES, gpu: str = FIG17_GPU,
                     n_gpus: int = FIG17_N_GPUS, prompt_len: int = 128, gen_len: int = 128,
                     options: Assumptions | None = None, progress: Progress | None = None
                     ) -> pd.DataFrame:
    """Readings of the paper's TensorRT-LLM deployment, each as the ``gpu-only`` policy.

    * tensor parallel over `n_gpus` on NVLink (what the policy assumes; TensorRT-LLM needs the
      heads and KV heads divisible by the TP degree, which 5 does not divide for LLaMA2-70B);
    * tensor parallel over the largest divisor of the KV heads below `n_gpus` (4 for 8 KV
      heads), if the weights fit;
    * tensor parallel over `n_gpus` with the all-reduces over the host's PCIe link;
    * `n_gpus` pipeline stages with one batch in flight (:func:`pipeline_system`).

    Returns
    -------
    DataFrame
        ``deployment``, ``n_gpus``, ``batch`` and the estimate's columns.
    """
    base = options or Assumptions()
    tp = system_for(gpu=gpu, n_gpus=n_gpus)
    divisor = max(k for k in range(1, n_gpus + 1)
                  if model.n_kv_heads % k == 0 and model.n_heads % k == 0)
    readings: list[tuple[str, int, SystemSpec]] = [
        (f"tensor parallel x{n_gpus}, NVLink", n_gpus, tp)]
    if divisor != n_gpus:
        readings.append((f"tensor parallel x{divisor}, NVLink", divisor,
                         system_for(gpu=gpu, n_gpus=divisor)))
    readings += [(f"tensor parallel x{n_gpus}, PCIe", n_gpus,
                  dataclasses.replace(tp, gpu_link=tp.host_link)),
                 (f"pipeline x{n_gpus}, one batch in flight", n_gpus,
                  pipeline_system(system_for(gpu=gpu, n_gpus=1), n_gpus))]
    jobs = [(r, b) for r in readings for b in batches]
    rows = []
    for (name, n, system), b in (progress or _quiet)(jobs):
        est = policies.estimate(Policy.GPU_ONLY, model, system, batch=b, prompt_len=prompt_len,
                                gen_len=gen_len, options=base)
        rows.append({"deployment": name, "n_gpus": n, "batch": b, **_estimate_row(est)})
    return pd.DataFrame(rows)


def cost_sweep(model: ModelSpec, activity: Activity | None, hermes_system: SystemSpec,
               reference_system: SystemSpec, *, batches: Sequence[int] = FIG17_BATCHES,
               prompt_len: int = 128, gen_len: int = 128, options: Assumptions | None = None,
               progress: Progress | None = None) -> pd.DataFrame:
    """Fig. 17: Hermes against ``gpu-only`` on the reference system, per batch.

    Returns
    -------
    DataFrame
        ``batch``, ``hermes_tokens_per_s``, ``reference_tokens_per_s`` and ``efficiency``
        (Hermes over the reference; NaN where either is unsupported).
    """
    opts = dataclasses.replace(options or Assumptions(), activity=activity)
    rows = []
    for b in (progress or _quiet)(list(batches)):
        kw = {"batch": b, "prompt_len": prompt_len, "gen_len": gen_len, "options": opts}
        h = policies.estimate(Policy.HERMES, model, hermes_system, **kw)
        g = policies.estimate(Policy.GPU_ONLY, model, reference_system, **kw)
        ht = h.tokens_per_s if h.supported else math.nan
        gt = g.tokens_per_s if g.supported else math.nan
        rows.append({"batch": b, "hermes_tokens_per_s": ht, "reference_tokens_per_s": gt,
                     "efficiency": ht / gt})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------- bands


def band_sweep(bars: pd.DataFrame, models: Mapping[str, ModelSpec],
               activities: Mapping[str, Activity], system: SystemSpec, *,
               prompt_len: int = 128, gen_len: int = 128, options: Assumptions | None = None,
               progress: Progress | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bands over the unstated parameters (:data:`policies.UNSTATED`) for each bar.

    Parameters
    ----------
    bars : DataFrame
        ``model``, ``policy``, ``batch`` (e.g. a paper figure from ``io.load_paper_figure``);
        other columns are kept. Bars the policy cannot run get NaN.

    Returns
    -------
    bands : DataFrame
        The bars with ``default``, ``low``, ``high`` (tokens/s) and ``corners``.
    one_at_a_time : DataFrame
        ``model``, ``policy``, ``batch``, ``parameter``, ``end`` (``low`` or ``high``: the
        :data:`policies.UNSTATED` end), ``value`` (the parameter's value there, as text),
        ``tokens_per_s``, ``default`` and ``change_frac`` (over the default, minus one).
    """
    base = options or Assumptions()
    by_name = {p.name: p for p in policies.UNSTATED}
    band_rows, oat_rows = [], []
    for _, bar in (progress or _quiet)(list(bars.iterrows())):
        slug, pol, b = str(bar["model"]), str(bar["policy"]), int(bar["batch"])
        opts = dataclasses.replace(base, activity=activities.get(slug))
        est = policies.estimate(pol, models[slug], system, batch=b, prompt_len=prompt_len,
                                gen_len=gen_len, options=opts)
        row = dict(bar)
        if not est.supported:
            band_rows.append({**row, "default": math.nan, "low": math.nan, "high": math.nan,
                              "corners": ""})
            continue
        band = policies.tokens_per_s_band(pol, models[slug], system, batch=b,
                                          prompt_len=prompt_len, gen_len=gen_len, options=opts)
        band_rows.append({**row, "default": band.default, "low": band.low, "high": band.high,
                          "corners": ", ".join(band.corners)})
        for name, (lo, hi) in band.one_at_a_time.items():
            for end, v in (("low", lo), ("high", hi)):
                oat_rows.append({"model": slug, "policy": pol, "batch": b, "parameter": name,
                                 "end": end, "value": str(getattr(by_name[name], end)),
                                 "tokens_per_s": v, "default": band.default,
                                 "change_frac": v / band.default - 1.0})
    return pd.DataFrame(band_rows), pd.DataFrame(oat_rows)


def influence(one_at_a_time: pd.DataFrame) -> pd.DataFrame:
    """Rank the unstated parameters by how far they move tokens/s (from `band_sweep`).

    The spread of a parameter on one bar is :math:`|\\ln(T_{high} / T_{low})|`, its two ends
    taken alone; the ranking is by the median spread over the bars that read it.

    Returns
    -------
    DataFrame
        ``parameter``, ``n_bars``, ``median_spread``, ``max_spread`` (natural-log units),
        ``max_factor`` (:math:`e^{\\max}`), most influential first.
    """
    wide = one_at_a_time.pivot_table(index=["model", "policy", "batch", "parameter"],
                                     columns="end", values="tokens_per_s").reset_index()
    wide["spread"] = np.abs(np.log(wide["high"] / wide["low"]))
    g = wide.groupby("parameter")["spread"]
    out = pd.DataFrame({"n_bars": g.size(), "median_spread": g.median(), "max_spread": g.max()})
    out["max_factor"] = np.exp(out["max_spread"])
    return (out.sort_values(["median_spread", "max_spread"], ascending=False)
            .reset_index())
