"""What-ifs beyond the paper: one changed input at a time (issue 11, ``book/beyond.ipynb``).

A :class:`Case` is a starting point (a model, its activation statistics, a batch, and the
paper's system with optional part overrides); a :class:`WhatIf` changes exactly **one** thing of
it: a part of the system by catalog slug (``gpu``, ``host``, ``host_link``, ``gpu_link``,
``dimm``), a count
(``n_dimms``, ``n_gpus``), the model, its activation (``relu``: the ReLU-fied statistics the paper
evaluates; ``swiglu``: the original SwiGLU model's), the batch, the MLP/QKV density, or one field
of `hermes_model.policies.Assumptions`. :func:`run` evaluates a case and its what-if with the same
policies; :func:`input_sources` names where the changed input comes from (the catalog's
``sources`` mapping of the spec it swaps in, the model card, or the sparsity provenance).

Model code reads no files: the caller passes ``system_for`` (``functools.partial(io.load_system,
"hermes_paper", profile)``), the loaded models and the activities, as in `hermes_model.sweeps`.
Everything inside is SI; tokens/s is the paper's metric (`hermes_model.policies`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model import policies
from hermes_model.policies import Activity, Assumptions
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec

#: Builds a system from ``io.load_system``'s keyword overrides.
SystemFor = Callable[..., SystemSpec]

#: Parts of the system a what-if may swap by slug or count (``io.load_system``'s overrides).
SYSTEM_PARAMETERS: Final = ("gpu", "n_gpus", "host", "host_link", "gpu_link", "dimm", "n_dimms")
#: Parameters of the run itself.
RUN_PARAMETERS: Final = ("model", "activation", "batch", "density")
#: Policies compared in every what-if: Hermes, its host-CPU variant and all weights on the GPU.
COMPARED: Final = ("hermes", "hermes-host", "gpu-only")
_OPTION_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Assumptions)) - {"activity"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A starting point of what-ifs.

    Attributes
    ----------
    model : str
        Model slug.
    activation : {"relu", "swiglu"}
        Activation statistics: the ReLU-fied model's or the original SwiGLU model's.
    batch : int
        Sequences per batch.
    system : tuple of (str, object)
        Overrides of the paper's system (``io.load_system`` keywords), empty for the paper's.
    """

    model: str
    activation: str = "relu"
    batch: int = 1
    system: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.activation not in ("relu", "swiglu"):
            raise ValueError(f"activation must be relu or swiglu, got {self.activation!r}")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch!r}")
        for key, _ in self.system:
            if key not in SYSTEM_PARAMETERS:
                raise ValueError(f"system override {key!r} is not one of "
                                 f"{', '.join(SYSTEM_PARAMETERS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    """One change of a :class:`Case`.

    Attributes
    ----------
    label : str
        Short name for tables and charts.
    parameter : str
        One of :data:`SYSTEM_PARAMETERS`, :data:`RUN_PARAMETERS` or a field of
        `policies.Assumptions`.
    value : object
        Its new value (a catalog slug, a count, a fraction, ...).
    """

    label: str
    parameter: str
    value: Any
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        known = (*SYSTEM_PARAMETERS, *RUN_PARAMETERS)
        if self.parameter not in known and self.parameter not in _OPTION_FIELDS:
            raise ValueError(f"unknown what-if parameter {self.parameter!r}; valid: "
                             f"{', '.join(known)} or a field of policies.Assumptions")


def apply(case: Case, whatif: WhatIf) -> tuple[Case, tuple[tuple[str, Any], ...]]:
    """The case after the what-if, and the `Assumptions` overrides it adds (empty or one).

    The density and option what-ifs leave the case as it is and return their one override.
    """
    p, v = whatif.parameter, whatif.value
    if p in SYSTEM_PARAMETERS:
        system = (*((k, x) for k, x in case.system if k != p), (p, v))
        return dataclasses.replace(case, system=system), ()
    if p in ("model", "activation", "batch"):
        return dataclasses.replace(case, **{p: v}), ()
    return case, ((p, v),)


def changed_inputs(case: Case, whatif: WhatIf) -> tuple[str, ...]:
    """Names of what the what-if sets: the model, activation, batch or system part it changes
    (none when the value equals the case's own), or the `Assumptions` field or ``density`` it
    sets (always named, even at the default value)."""
    after, extra = apply(case, whatif)
    out = [name for name in ("model", "activation", "batch")
           if getattr(after, name) != getattr(case, name)]
    before_sys, after_sys = dict(case.system), dict(after.system)
    out += [k for k in SYSTEM_PARAMETERS if before_sys.get(k) != after_sys.get(k)]
    out += [k for k, _ in extra]
    return tuple(out)


def activity_from_targets(targets: Any, source: str = "") -> Activity:
    """An :class:`Activity` from `hermes_model.sparsity.ModelTargets` (QKV and MLP groups).

    The similarity targets must be given at distances 1, 10 and 25 (``model_targets`` does).
    """
    groups = {g.name: g for g in targets.groups}
    mlp, qkv = groups["mlp"], groups.get("qkv", groups["mlp"])
    sims = dict(zip(mlp.similarity_distances, mlp.similarity, strict=True))
    return Activity(mlp_density=float(mlp.density), mlp_hot_share=float(mlp.hot_share_80),
                    qkv_density=float(qkv.density), qkv_hot_share=float(qkv.hot_share_80),
                    similarity_d1=float(sims[1]), similarity_d10=float(sims[10]),
                    similarity_d25=float(sims[25]), source=source)


def skew_position(density: float, hot_share: float) -> float:
    """Where `hot_share` lies between the most skewed reachable value and no skew, in [0, 1].

    At density *d* the hot share for 80 % lies between about 0.8 d (every active neuron always
    on) and 0.8 (all neurons equally frequent): :math:`s = (h - 0.8 d) / (0.8 - 0.8 d)`.
    """
    if not 0 < density < 1:
        raise ValueError(f"density must be in (0, 1), got {density!r}")
    return (hot_share - 0.8 * density) / (0.8 - 0.8 * density)


def hot_share_at(density: float, position: float) -> float:
    """The hot share for 80 % at `density` with skew position `position` (inverse of
    :func:`skew_position`)."""
    if not 0 < density < 1:
        raise ValueError(f"density must be in (0, 1), got {density!r}")
    return 0.8 * density + position * (0.8 - 0.8 * density)


def with_density(activity: Activity, density: float) -> Activity:
    """`activity` with the MLP and QKV densities set to `density`, each hot share moved so that
    its skew position (:func:`skew_position`) stays the same; similarities kept."""
    if not 0 < density < 1:
        raise ValueError(f"density must be in (0, 1), got {density!r}")
    mlp = hot_share_at(density, skew_position(activity.mlp_density, activity.mlp_hot_share))
    qkv = hot_share_at(density, skew_position(activity.qkv_density, activity.qkv_hot_share))
    return dataclasses.replace(activity, mlp_density=density, qkv_density=density,
                               mlp_hot_share=mlp, qkv_hot_share=qkv,
                               source=f"{activity.source}; density set to {density}")


def evaluate(case: Case, *, system_for: SystemFor, models: Mapping[str, ModelSpec],
             activities: Mapping[tuple[str, str], Activity],
             options: Sequence[tuple[str, Any]] = (), compared: Sequence[str] = COMPARED,
             prompt_len: int = 128, gen_len: int = 128) -> pd.DataFrame:
    """tokens/s of every `compared` policy on one case (one row per policy).

    Parameters
    ----------
    activities : mapping
        ``(model slug, activation)`` → :class:`Activity`.
    options : sequence of (str, object)
        Overrides of `Assumptions`; the pseudo-field ``density`` sets both densities.

    Returns
    -------
    DataFrame
        ``policy``, ``tokens_per_s`` (NaN where unsupported), ``decode_step_s``, ``prefill_s``,
        ``supported``, ``reason``.
    """
    if case.model not in models:
        raise ValueError(f"models has no {case.model!r} (the case's model); it maps slug → "
                         f"ModelSpec, got keys {sorted(map(str, models))}")
    if (case.model, case.activation) not in activities:
        raise ValueError(f"activities has no ({case.model!r}, {case.activation!r}); it maps "
                         f"(model slug, activation) → Activity, e.g. {{({case.model!r}, "
                         f"'relu'): io.load_activity({case.model!r})}}, got keys "
                         f"{sorted(map(str, activities))}")
    system = system_for(**dict(case.system))
    activity = activities[(case.model, case.activation)]
    kw = dict(options)
    if "density" in kw:
        activity = with_density(activity, float(kw.pop("density")))
    opts = dataclasses.replace(Assumptions(activity=activity), **kw)
    rows = []
    for pol in compared:
        est = policies.estimate(pol, models[case.model], system, batch=case.batch,
                                prompt_len=prompt_len, gen_len=gen_len, options=opts)
        rows.append({"policy": pol,
                     "tokens_per_s": est.tokens_per_s if est.supported else math.nan,
                     "decode_step_s": est.decode_step_s if est.supported else math.nan,
                     "prefill_s": est.prefill_s if est.supported else math.nan,
                     "supported": est.supported, "reason": est.reason})
    return pd.DataFrame(rows)


def run(case: Case, whatifs: Sequence[WhatIf], **kw: Any) -> pd.DataFrame:
    """The case and each what-if, side by side (each what-if changes one input of `case`).

    Keyword arguments go to :func:`evaluate`. Raises ``ValueError`` if a what-if changes more
    than one input.

    Returns
    -------
    DataFrame
        ``label`` (``baseline`` first), ``parameter``, ``value``, ``policy``, the columns of
        :func:`evaluate`, ``vs_baseline`` (tokens/s over the baseline's for the same policy),
        ``hermes_over`` (Hermes' tokens/s over this policy's in the same row group).
    """
    frames = [evaluate(case, **kw).assign(label="baseline", parameter="", value="")]
    for w in whatifs:
        changed = changed_inputs(case, w)
        if len(changed) > 1:
            raise ValueError(f"what-if {w.label!r} changes {', '.join(changed)}: one at a time")
        after, extra = apply(case, w)
        frames.append(evaluate(after, options=extra, **kw).assign(
            label=w.label, parameter=w.parameter, value=str(w.value)))
    out = pd.concat(frames, ignore_index=True)
    base = out[out["label"] == "baseline"].set_index("policy")["tokens_per_s"]
    out["vs_baseline"] = out["tokens_per_s"] / out["policy"].map(base)
    hermes = out[out["policy"] == "hermes"].set_index("label")["tokens_per_s"]
    out["hermes_over"] = out["label"].map(hermes) / out["tokens_per_s"]
    return out[["label", "parameter", "value", "policy", "tokens_per_s", "vs_baseline",
                "hermes_over", "decode_step_s", "prefill_s", "supported", "reason"]]


def input_sources(case: Case, whatif: WhatIf, *, system_for: SystemFor,
                  models: Mapping[str, ModelSpec],
                  provenance: Mapping[tuple[str, str], Mapping[str, str]]) -> pd.DataFrame:
    """Where the input a what-if changes comes from.

    System parts: the ``sources`` mapping of the spec swapped in (the catalog file's
    ``source:`` of every field). Models: the model card. Activations: the provenance of each
    sparsity statistic (``provenance[(slug, activation)]``). Counts, the batch, the density and
    `Assumptions` fields: the what-if itself (a parameter, not in the paper).

    Returns
    -------
    DataFrame
        ``label``, ``input``, ``field``, ``source``.
    """
    after, _ = apply(case, whatif)
    p = whatif.parameter
    rows: list[tuple[str, str]] = []
    if p in ("gpu", "host", "host_link", "gpu_link", "dimm"):
        spec = getattr(system_for(**dict(after.system)), p)
        rows = [(k, str(v)) for k, v in spec.sources.items()]
        name = getattr(spec, "name", str(whatif.value))
        if p == "host_link" and getattr(spec, "slug", whatif.value) != whatif.value:
            note = (f"{name}: the lowest generation of link, GPU and host "
                    "(io.effective_pcie_link)")
            rows.insert(0, ("effective link", note))
    elif p == "model":
        m = models[str(whatif.value)]
        rows = [("shape", m.config_source)]
    elif p == "activation":
        rows = list(provenance[(after.model, after.activation)].items())
    else:
        rows = [("value", "what-if parameter (not in the paper)")]
    return pd.DataFrame([{"label": whatif.label, "input": f"{p} = {whatif.value}",
                          "field": k, "source": s} for k, s in rows])


def crossing(x: npt.ArrayLike, ratio: npt.ArrayLike) -> float:
    """First `x` where `ratio` falls to 1 (linear interpolation in log ratio); NaN if never.

    `x` increasing. A ratio already at or below 1 at the first point returns that point.

    >>> crossing([0.1, 0.3], [2.0, 0.5])
    0.2
    """
    xs = np.asarray(x, dtype=float)
    r = np.asarray(ratio, dtype=float)
    if xs.shape != r.shape or xs.ndim != 1:
        raise ValueError("x and ratio must be 1-D arrays of one length")
    if np.any(np.diff(xs) <= 0):
        raise ValueError("x must be increasing")
    ok = np.isfinite(r) & (r > 0)
    xs, lr = xs[ok], np.log(r[ok])
    if lr.size == 0:
        return math.nan
    if lr[0] <= 0:
        return float(xs[0])
    below = np.nonzero(lr <= 0)[0]
    if below.size == 0:
        return math.nan
    i = int(below[0])
    x0, x1, y0, y1 = xs[i - 1], xs[i], lr[i - 1], lr[i]
    return float(x0 + (x1 - x0) * y0 / (y0 - y1))
