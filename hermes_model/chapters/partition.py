"""The numbers and sentences of the Partition chapter: the program's sizes, and the MILP check.

The partition itself is `hermes_model.partition`; the functions here turn its problem and the
committed MILP results (`hermes_model.io.load_partition_milp`) into the chapter's glue values
(key → the value as the text prints it) and tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from hermes_model import partition
from hermes_model import units as u
from hermes_model.chapters.predictor import origin_text
from hermes_model.paper import PAPER, differs
from hermes_model.plotting import rounded
from hermes_model.scorecard import short_name
from hermes_model.shapes import ModelSpec
from hermes_model.sparsity import ModelTargets
from hermes_model.specs import SystemSpec

#: The configuration the MILP table (``data/derived/partition_milp.csv``) was solved for, the
#: paper's (`hermes_model.paper.PAPER`): system, DIMMs, batch, workspace share.
MILP_SETUP: Final = (PAPER.system, PAPER.n_dimms, PAPER.batch, PAPER.workspace_frac)


def milp_setup(system: str, n_dimms: int, batch: int, workspace_frac: float, *, model: str,
               milp_models: Sequence[str], model_name: str) -> tuple[bool, str, str]:
    """Whether the chapter's configuration is the MILP table's (`MILP_SETUP`; the workspace share
    within ``math.isclose``) and its model one of the table's, and the two sentences that depend
    on it.

    Parameters
    ----------
    system, n_dimms, batch, workspace_frac
        The chapter's configuration.
    model : str
        The chapter's model, catalog slug.
    milp_models : sequence of str
        The models the MILP table was solved for (its ``model`` column).
    model_name : str
        The chapter's model as the text names it (its short name).

    Returns
    -------
    same : bool
    note : str
        Where the configurations differ or the model has no row, that the table checks the
        fast solver and not this run's placement (naming what differs); else that it is this
        run's.
    summary : str
        The summary's clause on the MILP.

    >>> six = ("opt_13b", "opt_30b", "opt_66b", "llama2_13b", "llama2_70b", "falcon_40b")
    >>> kw = {"model": "llama2_70b", "milp_models": six, "model_name": "LLaMA2-70B"}
    >>> milp_setup("hermes_paper", 8, 1, 0.1, **kw)[0], milp_setup("hermes_paper", 4, 1, 0.2, **kw)[1]
    (True, "The MILP table was solved for the paper's configuration (hermes_paper, 8 DIMMs, \
batch 1, 10 % workspace), not for this run's (hermes_paper, 4 DIMMs, batch 1, 20 % workspace): \
it checks the fast solver, not this run's placement.")
    """
    def text(sys_: str, d: int, b: int, w: float) -> str:
        return f"{sys_}, {u.plural(d, 'DIMM')}, batch {b}, {100 * w:.3g} % workspace"

    run = (system, n_dimms, batch, workspace_frac)
    same_config = not differs(system=system, n_dimms=n_dimms, batch=batch,
                              workspace_frac=workspace_frac)
    in_table = model in milp_models
    if same_config and in_table:
        return (True, f"The table is for this run's configuration ({text(*run)}).",
                "an exact MILP on bucketed instances confirms it")
    models = f"the {u.count_words(len(milp_models))} paper models"
    not_model = f"{models}, not {model_name}"
    checks = ": it checks the fast solver, not this run's placement."
    if same_config:
        summary = (f"an exact MILP on bucketed instances confirms the solver on {models} (not "
                   f"on {model_name})")
        return False, f"The MILP table covers {not_model}{checks}", summary
    note = (f"The MILP table was solved for the paper's configuration ({text(*MILP_SETUP)}), "
            f"not for this run's ({text(*run)})")
    if not in_table:
        note += f", and covers {not_model}"
    summary = ("an exact MILP on bucketed instances confirms the solver in the paper's "
               "configuration (not this run's)")
    return False, note + checks, summary


def is_paper_configuration(model: str, system: str, n_dimms: int, batch: int,
                           workspace_frac: float) -> bool:
    """Whether the parameters are the paper's configuration (`hermes_model.paper.PAPER`; the
    workspace share within ``math.isclose``)."""
    return not differs(model=model, system=system, n_dimms=n_dimms, batch=batch,
                       workspace_frac=workspace_frac)


def frequency_source(targets: ModelTargets, names: Mapping[str, str]) -> str:
    """Where the generator's MLP density and hot share come from, in a few words.

    Parameters
    ----------
    targets : sparsity.ModelTargets
        The sparsity generator's targets (`hermes_model.cli.sparsity_targets`).
    names : mapping
        Catalog slug → model name, for the models a statistic is borrowed from.

    Returns
    -------
    str
        ``both …`` where the two come from the same place, else ``density …, hot share …``,
        each as `predictor.origin_text` says it ("published", "borrowed from OPT-30B").
    """
    src_d, src_h = (origin_text(targets, names, k) for k in ("mlp_density", "hot_share_80"))
    return f"both {src_d}" if src_d == src_h else f"density {src_d}, hot share {src_h}"


def relu_model(spec: ModelSpec) -> str:
    """The model whose statistics the frequencies are fitted to: "ReLU-fied model", or
    "natively ReLU model" for a model whose checkpoint is ReLU (OPT).

    >>> from hermes_model import io
    >>> relu_model(io.load_model("opt_13b")), relu_model(io.load_model("llama2_70b"))
    ('natively ReLU model', 'ReLU-fied model')
    """
    return "natively ReLU model" if spec.native_activation == "relu" else "ReLU-fied model"


def capacity_fits(problem: partition.PartitionProblem) -> bool:
    """Whether the sparse neurons fit in the GPU's budget and the DIMMs together (else no
    placement fits, N.P., as `partition.objective_phrase` says)."""
    need = float(problem.count @ problem.neuron_bytes[problem.layer])
    return need <= problem.gpu_budget_bytes + problem.n_dimms * problem.dimm_budget_bytes


def gap_words(gap: float) -> str:
    """A certified relative gap in words, with its value.

    >>> gap_words(2.5e-9), gap_words(2.3e-6), gap_words(3.1e-5), gap_words(4e-4)
    ('under a millionth (2.5e-09)', 'a few millionths (2.3e-06)', '31 millionths (3.1e-05)', \
'4e-04')
    """
    if gap < 1e-6:
        return f"under a millionth ({gap:.2g})"
    if gap < 1e-5:
        return f"a few millionths ({gap:.2g})"
    if gap < 1e-4:
        return f"{1e6 * gap:.0f} millionths ({gap:.2g})"
    return f"{gap:.0e}"


def solve_summary(solve_time: str, gap: float, fits: bool) -> str:
    """The summary's sentence on the fast solver: its time (`solve_time`, as measured) and its
    certified gap (`gap_words`); where no placement fits (`fits`), that it solved the problem
    with the DIMMs' capacity ignored.

    >>> solve_summary("0.64 s", 2.5e-9, False)
    "No placement fits here; with the DIMMs' capacity ignored, a greedy built on that structure \
solves the per-neuron problem in 0.64 s with a certified gap of under a millionth (2.5e-09)"
    """
    gap_txt = f"in {solve_time} with a certified gap of {gap_words(gap)}"
    if fits:
        return f"A greedy built on that structure solves the full per-neuron problem {gap_txt}"
    return ("No placement fits here; with the DIMMs' capacity ignored, a greedy built on that "
            f"structure solves the per-neuron problem {gap_txt}")


def budget_text(no_gpu_ms: float, speedup: float, fits: bool) -> str:
    """The sentence on the budget sweep: the sparse FC time without GPU neurons (ms) and the
    speed-up the chapter's budget gives; where no placement fits (`fits`), said as bounds with
    the DIMMs' capacity ignored.

    >>> budget_text(17.1, 5.57, True)
    'Without GPU neurons the blocks take 17.1 ms; the default budget makes them 5.57× faster'
    """
    if fits:
        return (f"Without GPU neurons the blocks take {no_gpu_ms:.4g} ms; the default budget "
                f"makes them {speedup:.3g}× faster")
    return (f"No placement fits, so these are bounds with the DIMMs' capacity ignored: without "
            f"GPU neurons the blocks would take {no_gpu_ms:.4g} ms, and the default budget would "
            f"make them {speedup:.3g}× faster")


def setup_glue(spec: ModelSpec, system: SystemSpec, problem: partition.PartitionProblem,
               targets: ModelTargets, names: Mapping[str, str], *, budget_bytes: float, batch: int,
               workspace_frac: float) -> dict[str, object]:
    """The glue values of the program's description: its size and its per-neuron times.

    Parameters
    ----------
    spec, system : ModelSpec, SystemSpec
        The model and the system.
    problem : PartitionProblem
        `partition.model_problem` for them.
    targets : sparsity.ModelTargets
        The generator's targets behind the frequencies.
    names : mapping
        Catalog slug → model name (see `frequency_source`).
    budget_bytes : float
        GPU memory for neurons (B).
    batch : int
        Sequences decoded together.
    workspace_frac : float
        Share of GPU memory kept for the runtime.

    Returns
    -------
    dict
        ``lpt_tail``, ``freq_src``, ``model_name``, ``n_neurons``, ``n_blocks``, ``budget_GB``,
        ``tg_mlp_ns`` and ``td_mlp_ns`` (one active MLP neuron on the GPU and on one DIMM, ns),
        ``dimm_over_gpu``, ``sync_us``, ``intro_model`` and ``workspace_pct``;
        ``relu_model`` (`relu_model`); ``neuron_cost_lead`` (the sentence's subject, naming the step's tokens at a batch above
        1) and ``time_unit`` (`hermes_model.partition.time_unit`).
    """
    tg_m, td_m = partition.neuron_times_s(spec, system, "mlp", batch=batch)
    lead = ("One active MLP neuron costs" if batch == 1 else
            f"One active MLP neuron, computed for the {batch} tokens of a decode step, costs")
    return {"neuron_cost_lead": lead, "time_unit": partition.time_unit(batch),
            "relu_model": relu_model(spec),
            "lpt_tail": partition.LPT_TAIL, "freq_src": frequency_source(targets, names),
            "model_name": spec.name, "n_neurons": int(problem.n_neurons),
            "n_blocks": problem.n_layers, "budget_GB": rounded(budget_bytes / u.GB),
            "tg_mlp_ns": rounded(tg_m / u.NS), "td_mlp_ns": rounded(td_m / u.NS),
            "dimm_over_gpu": rounded(td_m / tg_m), "sync_us": rounded(problem.sync_s / u.US),
            "intro_model": short_name(spec.name),
            "workspace_pct": rounded(100 * workspace_frac)}


def of_all(k: int, n: int) -> str:
    """A count `k` of `n` models in words.

    >>> of_all(0, 6), of_all(6, 6), of_all(2, 6)
    ('none of the six', 'all six', 'two of the six')
    """
    of = u.count_words(n, zero="none")
    if k == 0:
        return f"none of the {of}"
    return f"all {of}" if k == n else f"{u.count_words(k)} of the {of}"


def always_sync_text(sync_s: float, cost: partition.PartitionCost) -> str:
    """What the paper's Eq. 3, which charges the two synchronisations to every block, would make
    of the placement `cost` evaluates (this book charges them only where a block has GPU
    neurons).

    Parameters
    ----------
    sync_s : float
        One synchronisation, s.
    cost : partition.PartitionCost
        The placement under Eq. (eq-partition): ``gpu_layer_s`` (0 for a block without GPU
        neurons), ``dimm_layer_s`` and ``objective_s``.

    >>> c = partition.PartitionCost(objective_s=5e-3, layer_s=np.array([3e-3, 2e-3]),
    ...     gpu_layer_s=np.array([3e-3, 0.0]), dimm_layer_s=np.array([[3e-3], [2e-3]]),
    ...     gpu_bytes=0.0, dimm_bytes=np.zeros(1), gpu_neuron_share=0.5, gpu_compute_share=0.5,
    ...     feasible=True)
    >>> print(always_sync_text(1.5e-3, c))
    1 of the 2 blocks has no GPU neuron; under the paper's form it would still pay them, and the same placement would take 6 ms instead of 5 ms
    >>> print(always_sync_text(0.5e-3, c))
    1 of the 2 blocks has no GPU neuron; under the paper's form it would still pay them, but inside the DIMMs' longer time, so the paper's form gives the same objective
    """
    empty = cost.gpu_layer_s <= 0
    n = int(np.count_nonzero(empty))
    if n == 0:
        return ("every block has GPU neurons here, so the paper's form gives the same "
                "objective")
    dimm = cost.dimm_layer_s.max(axis=1)
    paper = float(np.where(empty, np.maximum(2 * sync_s, dimm), cost.layer_s).sum())
    count = (f"all {cost.layer_s.size:,} blocks have" if n == cost.layer_s.size else
             f"{n:,} of the {cost.layer_s.size:,} blocks {'has' if n == 1 else 'have'}")
    pays = f"{count} no GPU neuron; under the paper's form {'it' if n == 1 else 'they'} would "
    if paper <= cost.objective_s * (1 + 1e-12):
        return (pays + "still pay them, but inside the DIMMs' longer time, so the paper's form "
                "gives the same objective")
    return (pays + f"still pay them, and the same placement would take {paper / u.MS:.4g} ms "
            f"instead of {cost.objective_s / u.MS:.4g} ms")


def milp_table(milp: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """The MILP's best and dual bound beside the fast solver, one row per model.

    Parameters
    ----------
    milp : pandas.DataFrame
        `io.load_partition_milp`: ``model`` (slug), ``message`` (HiGHS'), ``milp_objective_s``,
        ``milp_dual_bound_s`` and ``fast_objective_s`` (s).
    names : mapping
        Catalog slug → model name.

    Returns
    -------
    pandas.DataFrame
        ``model`` (short name), ``HiGHS status`` (the message's first sentence), the three
        times in ms and the fast solver's relative gap to the dual bound.
    """
    rows = []
    for r in milp.to_dict(orient="records"):
        fast = r["fast_objective_s"]
        rows.append({"model": short_name(names[r["model"]]),
                     "HiGHS status": r["message"].split(".")[0],
                     "MILP best (ms)": r["milp_objective_s"] / u.MS,
                     "MILP dual bound (ms)": r["milp_dual_bound_s"] / u.MS,
                     "fast, bucketed (ms)": fast / u.MS,
                     "fast gap to dual bound": (fast - r["milp_dual_bound_s"])
                     / r["milp_dual_bound_s"]})
    return pd.DataFrame(rows)


def milp_glue(milp: pd.DataFrame, table: pd.DataFrame, *, model: str, model_name: str,
              objective_s: float, same_setup: bool) -> dict[str, object]:
    """The glue values of the MILP check.

    Parameters
    ----------
    milp : pandas.DataFrame
        `io.load_partition_milp` (``model``, ``status``: 0 where proven optimal,
        ``fast_objective_s``).
    table : pandas.DataFrame
        `milp_table` of it.
    model, model_name : str
        The chapter's model: catalog slug and name.
    objective_s : float
        The fast solver's objective on the chapter's per-neuron problem (s).
    same_setup : bool
        Whether the chapter's system, DIMMs, batch and workspace are those the MILP table was
        solved for; only then are its bucketed and per-neuron objectives compared.

    Returns
    -------
    dict
        ``max_gap``, ``bucketed_txt``, ``n_proven`` and ``n_better``.
    """
    glue: dict[str, object] = {"max_gap": rounded(table["fast gap to dual bound"].max(), 2)}
    # the fast solver on the chosen model's bucketed instance, beside its per-neuron objective
    same = milp[milp["model"] == model]
    bucketed = ("The table's times are for the bucketed instances, in which all neurons of a "
                "bucket share one frequency, so they differ slightly from the per-neuron problem")
    if not same.empty and same_setup:
        bucketed += (f": for {short_name(model_name)} the fast solver takes "
                     f"{same['fast_objective_s'].iloc[0] / u.MS:.4g} ms on its bucketed instance "
                     f"and {objective_s / u.MS:.4g} ms on the per-neuron problem above")
    glue["bucketed_txt"] = bucketed + "."
    n_models = len(table)
    glue["n_proven"] = of_all(int((milp["status"] == 0).sum()), n_models)
    glue["n_better"] = of_all(int((table["fast, bucketed (ms)"] < table["MILP best (ms)"]).sum()),
                              n_models)
    return glue
