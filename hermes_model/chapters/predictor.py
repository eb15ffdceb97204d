"""What the predictor chapter (``book/predictor.ipynb``) computes for its text.

The chapter scores Hermes' 4-bit predictor (`hermes_model.predictor`) on MiniLM's measured masks
and on a generated trace (`hermes_model.sparsity`), and sizes its two tables against a learned
MLP predictor. The functions here turn those results into the glue values the chapter prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model import params, partition, predictor, shapes, sparsity
from hermes_model import units as u
from hermes_model.paper import PAPER
from hermes_model.plotting import rounded
from hermes_model.scorecard import short_name
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec

#: Scores of a `predictor.PredictorResult` the chapter glues as percentages.
SCORES: Final = ("recall", "precision", "accuracy", "trivial_accuracy", "gpu_hit_share",
                 "gpu_hit_share_static")

#: Models of the memory table, LLaMA2-7B first (the text's example).
MEMORY_MODELS: Final = ("llama2_7b", "opt_13b", "opt_30b", "opt_66b", "llama2_13b", "llama2_70b",
                        "falcon_40b")

#: Rank of the learned MLP predictor where PowerInfer publishes no size (*assumed*).
DEFAULT_MLP_RANK: Final = 1024

#: The most sequences the generated trace may have (memory: 64 is gigabytes).
MAX_SEQUENCES: Final = 64

#: The `gpu_share` parameter's value that asks for the partition chapter's share of the model's
#: neurons on the GPU (`partition_gpu_share`) instead of an assumed one.
FROM_PARTITION: Final = -1.0


def checked_n_sequences(n_sequences: Any) -> int:
    """The chapter's `n_sequences` parameter, checked: a third of the sequences profile, and at
    least one must be left to score, so at least 2 (and at most `MAX_SEQUENCES`).

    Raises
    ------
    ValueError
        If it is not an integer in [2, `MAX_SEQUENCES`].
    """
    n = params.positive_int(n_sequences, "n_sequences", maximum=MAX_SEQUENCES)
    if n < 2:
        raise ValueError(f"parameter 'n_sequences': must be at least 2 (a third profile, at least "
                         f"one is scored), got {n!r}")
    return n


def checked_prefill_tokens(prefill_tokens: Any, seq_id: npt.ArrayLike,
                           profile: npt.ArrayLike) -> int:
    """The chapter's `prefill_tokens` parameter, checked so that every scored sequence keeps
    tokens after its prompt: below the longest scored measured sequence and below the generated
    sequences' `sparsity.SEQUENCE_TOKENS`.

    Parameters
    ----------
    prefill_tokens : int
        Tokens of each scored sequence's prompt, count.
    seq_id : array_like of int, shape (T,)
        Sequence of each measured token.
    profile : array_like of bool, shape (T,)
        Tokens of the profiling sequences (not scored).
    """
    scored = np.asarray(seq_id)[~np.asarray(profile, dtype=bool)]
    longest = min(int(np.bincount(scored).max()), sparsity.SEQUENCE_TOKENS)
    return params.positive_int(prefill_tokens, "prefill_tokens", maximum=longest - 1)


def partition_gpu_share(model: ModelSpec, system: SystemSpec,
                        targets: sparsity.ModelTargets) -> tuple[float, float]:
    """Share of the model's neurons that the partition chapter (``book/partition.ipynb``) puts on
    the system's GPU, and their bytes.

    The partition chapter's computation at its defaults
    (the paper's, `hermes_model.paper.PAPER`: batch 1, 10 % of GPU memory kept as
    workspace): per-neuron frequencies from the generator's `targets`,
    the GPU's neuron budget, then `partition.solve_fast`.

    Parameters
    ----------
    model : ModelSpec
    system : SystemSpec
        The system whose GPU holds the neurons (its DIMM count as loaded).
    targets : sparsity.ModelTargets
        The model's ReLU-fied generator targets (``cli.sparsity_targets(slug, "relu")``).

    Returns
    -------
    share : float
        GPU neurons over all QKV and MLP neurons of the model, 0..1.
    gpu_bytes : float
        Their weights, B.
    """
    batch, workspace_frac = PAPER.batch, PAPER.workspace_frac
    mlp, qkv = partition.model_frequencies(model, targets)
    budget = partition.gpu_neuron_budget_bytes(model, system, workspace_frac=workspace_frac)
    problem = partition.model_problem(model, system, mlp, qkv, batch=batch,
                                      gpu_budget_bytes=budget)
    cost = partition.solve_fast(problem).cost
    return cost.gpu_neuron_share, cost.gpu_bytes


def gpu_share_reading(gpu_share: Any, model: ModelSpec, system: SystemSpec,
                      targets: sparsity.ModelTargets) -> tuple[float, dict[str, object]]:
    """The chapter's `gpu_share` parameter: `FROM_PARTITION` takes the partition chapter's share
    for the model on the system's GPU (`partition_gpu_share`), any other value is checked as an
    assumed share in [0, 1].

    Returns
    -------
    share : float
        Share of each layer's neurons that starts on the GPU, 0..1.
    glue : dict
        ``gpu_share_pct`` (%), ``gpu_share_src``, the share's provenance as the text says it,
        and ``gpu_share_why`` (`share_reason`).

    Raises
    ------
    ValueError
        If `gpu_share` is neither `FROM_PARTITION` nor a number in [0, 1].
    """
    if isinstance(gpu_share, int | float) and not isinstance(gpu_share, bool) \
            and gpu_share == FROM_PARTITION:
        share, gpu_bytes = partition_gpu_share(model, system, targets)
        src = (f"derived: the share of all {short_name(model.name)} neurons, "
               f"{rounded(gpu_bytes / u.GB):.3g} GB, that the partition chapter's solver puts on "
               f"the {system.gpu.name}, taken for every layer")
        budget = partition.gpu_neuron_budget_bytes(model, system,
                                                   workspace_frac=PAPER.workspace_frac)
        why = share_reason(gpu_bytes, budget)
    else:
        try:
            share, src = params.fraction(gpu_share, "gpu_share"), "assumed"
        except ValueError:
            raise ValueError(f"parameter 'gpu_share': must be {FROM_PARTITION:g} (derived in the "
                             f"partition chapter) or a number in [0, 1], got {gpu_share!r}"
                             ) from None
        why = share_reason(None, None)
    return share, {"gpu_share_pct": rounded(100 * share), "gpu_share_src": src,
                   "gpu_share_why": why}


def share_reason(gpu_bytes: float | None, budget_bytes: float | None) -> str:
    """Why the default initial GPU set is the partition's share, from the partition's result:
    its GPU neurons' bytes (`gpu_bytes`) against the GPU's budget for neurons (`budget_bytes`),
    B. Where they fill it, the GPU holds no more; else the partition stopped where the GPU's and
    the DIMMs' sides meet; with no partition solved (an assumed share, both None), what the
    default takes.

    >>> share_reason(12.455e9, 12.4554e9)
    ", since the paper's GPU holds no more"
    >>> share_reason(0.0713e9, 21.1e9)
    ', where for this model the partition stops at the share at which its GPU and DIMM sides meet \
(0.0713 GB, well below the 21.1 GB the card has for neurons)'
    """
    if gpu_bytes is None or budget_bytes is None:
        return ", as the share of the model's neurons that the partition's solver puts on the GPU"
    if gpu_bytes >= 0.99 * budget_bytes:
        return ", since the paper's GPU holds no more"
    below = "well below" if gpu_bytes < 0.5 * budget_bytes else "below"
    return (f", where for this model the partition stops at the share at which its GPU and DIMM "
            f"sides meet ({gpu_bytes / u.GB:.3g} GB, {below} the {budget_bytes / u.GB:.3g} GB the "
            "card has for neurons)")


def swap_text(static_pct: float, swap_pct: float, share_pct: float) -> str:
    """The sentence on what the hot swap does to the GPU's share of the firing neurons: from
    `static_pct` (the initial `share_pct` % of each layer kept fixed) to `swap_pct`, all %;
    "raises", "lowers", or, where the two print alike, "leaves" (with no GPU slot, or every
    neuron already on the GPU, nothing can be swapped).

    >>> swap_text(0.0, 0.0, 0.0)
    "The hot swap leaves the GPU's share of the firing neurons at 0 %, as with the initial 0 % \
of each layer kept fixed (there is no GPU slot to swap a neuron into)"
    """
    a, b = f"{static_pct:.3g}", f"{swap_pct:.3g}"
    if a == b:
        text = (f"The hot swap leaves the GPU's share of the firing neurons at {b} %, as with the "
                f"initial {share_pct:.3g} % of each layer kept fixed")
        if share_pct <= 0:
            return text + " (there is no GPU slot to swap a neuron into)"
        if share_pct >= 100:
            return text + " (every neuron is already on the GPU)"
        return text
    verb = "raises" if swap_pct > static_pct else "lowers"
    return (f"The hot swap {verb} the GPU's share of the firing neurons from {a} % (the initial "
            f"{share_pct:.3g} % of each layer kept fixed) to {b} %")


def memory_models(model: str) -> tuple[str, ...]:
    """The memory table's models: `MEMORY_MODELS`, and the chapter's `model` (slug) after them
    where it is not one of them."""
    return MEMORY_MODELS + (() if model in MEMORY_MODELS else (model,))


def paper_accuracy_pct(claims: pd.DataFrame) -> float:
    """Hermes' claimed predictor accuracy (%) from the paper's predictor claims
    (`hermes_model.io.load_paper_predictor`)."""
    rows = claims[(claims.system == "hermes") & (claims.claim == "predictor accuracy")]
    return float(rows["value"].iloc[0])


def score_glues(prefix: str, result: predictor.PredictorResult) -> dict[str, object]:
    """The six scores of `SCORES` in percent, glued as ``{prefix}_{score}_pct``."""
    return {f"{prefix}_{k}_pct": rounded(100 * getattr(result, k)) for k in SCORES}


def real_glues(real: predictor.PredictorResult, paper_acc_pct: float) -> dict[str, object]:
    """Glue values of the scores on MiniLM's measured masks.

    Parameters
    ----------
    real : predictor.PredictorResult
        Scores on the measured masks.
    paper_acc_pct : float
        The paper's claimed accuracy, %.
    """
    return {**score_glues("real", real), "real_tokens": real.n_tokens,
            "real_swaps": rounded(real.swaps_per_token), "paper_acc_pct": rounded(paper_acc_pct)}


def threshold_sweep(active: npt.NDArray[np.bool_], seq_id: npt.ArrayLike, profile: npt.ArrayLike,
                    thresholds: Sequence[int], *, prefill_tokens: int,
                    gpu_share: float) -> pd.DataFrame:
    """Recall, precision and accuracy (%) of the rule at each threshold T.

    Parameters
    ----------
    active, seq_id, profile
        The trace and its profiling tokens, as `predictor.score_trace` takes them.
    thresholds : sequence of int
        Values of the rule's threshold T.
    prefill_tokens : int
        Prompt tokens of each scored sequence, count.
    gpu_share : float
        Share of each layer's neurons on the GPU, 0..1.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``curve`` (recall, precision, accuracy), ``x`` (T), ``y`` (%).
    """
    rows = []
    for t in thresholds:
        r = predictor.score_trace(active, seq_id, profile, prefill_tokens=prefill_tokens,
                                  gpu_share=gpu_share,
                                  config=predictor.PredictorConfig(threshold=t))
        rows += [{"curve": k, "x": t, "y": 100 * getattr(r, k)}
                 for k in ("recall", "precision", "accuracy")]
    return pd.DataFrame(rows)


def threshold_reference(trivial_accuracy: float, paper_acc_pct: float) -> pd.DataFrame:
    """The threshold chart's dashed references: the accuracy of "nothing fires" (a share, 0..1)
    and the paper's accuracy (%), both in %."""
    return pd.DataFrame({"y": [100 * trivial_accuracy, paper_acc_pct],
                         "label": ["nothing fires (accuracy)",
                                   f"paper: {paper_acc_pct:.0f} % accuracy"]})


def origin_text(targets: sparsity.ModelTargets, names: Mapping[str, str], *keys: str) -> str:
    """Where the generator's inputs `keys` come from, in a few words: each one's kind
    (`sparsity.ModelTargets.origin`), a borrowed one with its lender's short name, distinct
    phrases joined by "and".

    Parameters
    ----------
    targets : sparsity.ModelTargets
    names : mapping of str to str
        Display name of each catalog model slug a value may be borrowed from.
    *keys : str
        Names of the inputs (``mlp_density``, ``hot_share_80``, ...).

    >>> t = sparsity.ModelTargets((), 0.5, {"a": "published: x", "b": "borrowed family default "
    ...                                     "from opt_30b; y", "c": "published: z"})
    >>> origin_text(t, {"opt_30b": "OPT-30B (ReLU)"}, "a", "b", "c")
    'published and borrowed from OPT-30B'
    """
    out = [f"{kind} from {short_name(names[src])}" if src else kind
           for kind, src in map(targets.origin, keys)]
    return " and ".join(dict.fromkeys(out))


def input_origins(targets: sparsity.ModelTargets, names: Mapping[str, str]) -> dict[str, str]:
    """Where the generator's inputs come from, as the text says it (`origin_text`): ``density``,
    ``hot``, ``sim`` (similarity) and ``coupling`` → e.g. ``"published"`` or
    ``"borrowed from OPT-30B"`` (several kinds joined by "and").

    Parameters
    ----------
    targets : sparsity.ModelTargets
    names : mapping of str to str
        Display name of each catalog model slug a value may be borrowed from.
    """
    return {"density": origin_text(targets, names, "mlp_density"),
            "hot": origin_text(targets, names, "hot_share_80"),
            "sim": origin_text(targets, names, "similarity_d1", "similarity_d10",
                               "similarity_d25"),
            "coupling": origin_text(targets, names, "coupled_share")}


def kinds_phrase(origins: Mapping[str, str]) -> str:
    """The kinds of provenance among `origins`' values (each one or several `origin_text`
    phrases joined by "and"), in `sparsity.PROVENANCE_KINDS` order: ``"published"``,
    ``"paper and published"``, ``"published, borrowed and assumed"``."""
    parts = [p for v in origins.values() for p in v.split(" and ")]
    used = [k for k in sparsity.PROVENANCE_KINDS if any(p.startswith(k) for p in parts)]
    return ", ".join(used[:-1]) + (" and " if len(used) > 1 else "") + used[-1]


def generated_glues(gen: predictor.GeneratedScore, model: ModelSpec,
                    origins: Mapping[str, str], coupled_share: float) -> dict[str, object]:
    """Glue values of the section on the generated trace.

    Parameters
    ----------
    gen : predictor.GeneratedScore
    model : ModelSpec
        The generated model.
    origins : mapping of str to str
        `input_origins` of its targets.
    coupled_share : float
        Share of each layer's neurons coupled to two parents, 0..1.
    """
    return {**score_glues("gen", gen.result), "gen_model": model.name,
            "gen_short": short_name(model.name), "gen_neurons": gen.n_neurons,
            **{f"gen_{k}_src": v for k, v in origins.items()},
            "gen_kinds": kinds_phrase(origins), "gen_coupled_pct": rounded(100 * coupled_share)}


@dataclass(frozen=True, slots=True)
class PredictorMemory:
    """The memory table and what the text says of it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row a model: state and correlation tables (KiB), the learned predictor's rank, size
        (GB) and time (ms/token).
    tables_over_mlp_pct : pandas.Series
        Both tables over the learned predictor's bytes, %, per row.
    glues : dict
        Glue key → value.
    """

    table: pd.DataFrame
    tables_over_mlp_pct: pd.Series
    glues: dict[str, object]


def memory_table(models: Sequence[ModelSpec], published_parameters: Mapping[str, float], *,
                 bandwidth_bytes_per_s: float) -> pd.DataFrame:
    """Hermes' two tables and a learned MLP predictor, per model.

    Parameters
    ----------
    models : sequence of ModelSpec
    published_parameters : mapping of str to float
        PowerInfer's published predictor parameters per model slug, count; a model without one
        gets rank `DEFAULT_MLP_RANK`.
    bandwidth_bytes_per_s : float
        GPU bandwidth that reads the learned predictor, B/s.
    """
    rows = []
    for m in models:
        state_b, corr_b = predictor.model_table_bytes(m)
        rank = (predictor.rank_for_parameters(m, published_parameters[m.slug])
                if m.slug in published_parameters else DEFAULT_MLP_RANK)
        mlp = predictor.mlp_predictor_cost(m, rank=max(1, round(rank)),
                                           bandwidth_bytes_per_s=bandwidth_bytes_per_s)
        rows.append({"model": m.name, "state table (KiB)": state_b / u.KiB,
                     "correlation table (KiB)": corr_b / u.KiB,
                     "MLP predictor rank": round(rank), "MLP predictor (GB)": mlp.bytes / u.GB,
                     "MLP predictor time (ms/token)": mlp.time_s / u.MS})
    return pd.DataFrame(rows)


def predictor_memory(models: Sequence[ModelSpec], claims: pd.DataFrame, *,
                     bandwidth_bytes_per_s: float) -> PredictorMemory:
    """The memory table (`memory_table`) with the text's glue values.

    Parameters
    ----------
    models : sequence of ModelSpec
        The first is the text's example (the paper's LLaMA-7B).
    claims : pandas.DataFrame
        The paper's predictor claims (`hermes_model.io.load_paper_predictor`).
    bandwidth_bytes_per_s : float
        GPU bandwidth that reads the learned predictor, B/s.
    """
    sizes = claims[(claims.system == "powerinfer")
                   & (claims.claim == "adaptive predictor parameters")]
    published = {r.model: float(r.value) for r in sizes.itertuples()}
    mem = memory_table(models, published, bandwidth_bytes_per_s=bandwidth_bytes_per_s)
    first, spec = mem.iloc[0], models[0]
    tables_kib = mem["state table (KiB)"] + mem["correlation table (KiB)"]
    over_mlp = 100 * tables_kib * u.KiB / (mem["MLP predictor (GB)"] * u.GB)
    hermes = claims[claims.system == "hermes"].set_index("claim")["value"]
    mlp_claims = claims[claims.system == "mlp_predictor"].set_index("claim")["value"]
    paper_state_kb = float(hermes.filter(like="state table").iloc[0])
    # the paper's 232 KB counts 4-bit states, in KiB
    paper_mlp_neurons = round(paper_state_kb * u.KiB * 8 / predictor.STATE_BITS / spec.n_layers
                              - shapes.qkv_neurons_per_layer(spec))
    glues: dict[str, object] = {
        "l7_state_KiB": rounded(first["state table (KiB)"]),
        "l7_corr_KiB": rounded(first["correlation table (KiB)"]),
        "l7_total_MiB": rounded((first["state table (KiB)"]
                                 + first["correlation table (KiB)"]) / 1024),
        "l7_mlp_GB": rounded(first["MLP predictor (GB)"]),
        "max_tables_MiB": rounded(tables_kib.max() / 1024),
        "max_tables_model": short_name(mem.loc[tables_kib.idxmax(), "model"]),
        "n_memory_models": u.count_words(len(models)),
        "tables_over_mlp_max_pct": rounded(over_mlp.max()),
        "l7_corr_over_state": rounded(first["correlation table (KiB)"]
                                      / first["state table (KiB)"]),
        "paper_state_KB": paper_state_kb,
        "paper_tables_MB": str(hermes["predictor table memory"]),
        "paper_mlp_GB": str(mlp_claims["MLP predictor memory"]),
        "l7_name": short_name(spec.name),
        "paper_mlp_neurons": paper_mlp_neurons,
        "l7_mlp_neurons": shapes.mlp_neurons_per_layer(spec),
        "l7_layers": spec.n_layers,
        "l7_qkv_neurons": shapes.qkv_neurons_per_layer(spec),
    }
    return PredictorMemory(mem, over_mlp, glues)
