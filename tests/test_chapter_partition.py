"""The numbers and sentences of the Partition chapter (`hermes_model.chapters.partition`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import cli, partition
from hermes_model.chapters import partition as chapter
from hermes_model.plotting import rounded

NAMES = {"opt_13b": "OPT-13B", "opt_30b": "OPT-30B", "llama2_70b": "LLaMA2-70B (ReLU-fied)"}


def test_is_paper_configuration() -> None:
    assert chapter.is_paper_configuration("llama2_70b", "hermes_paper", 8, 1, 0.1)
    # the workspace share is a float: compared within math.isclose, not with == (review #4)
    assert chapter.is_paper_configuration("llama2_70b", "hermes_paper", 8, 1, 0.1000000001)
    assert not chapter.is_paper_configuration("llama2_70b", "hermes_paper", 8, 1, 0.2)
    assert not chapter.is_paper_configuration("llama2_70b", "hermes_paper", 8, 2, 0.1)
    assert not chapter.is_paper_configuration("opt_13b", "hermes_paper", 8, 1, 0.1)


def _targets(origins: dict[str, tuple[str, str | None]]) -> SimpleNamespace:
    return SimpleNamespace(origin=lambda key: origins[key])


def test_frequency_source() -> None:
    same = _targets({"mlp_density": ("published", None), "hot_share_80": ("published", None)})
    assert chapter.frequency_source(same, NAMES) == "both published"
    mixed = _targets({"mlp_density": ("published", None),
                      "hot_share_80": ("borrowed", "opt_30b")})
    assert chapter.frequency_source(mixed, NAMES) == (
        "density published, hot share borrowed from OPT-30B")
    lent = _targets({"mlp_density": ("borrowed", "llama2_70b"),
                     "hot_share_80": ("borrowed", "llama2_70b")})
    assert chapter.frequency_source(lent, NAMES) == "both borrowed from LLaMA2-70B"


@pytest.mark.parametrize(("k", "n", "text"), [
    (0, 6, "none of the six"), (6, 6, "all six"), (2, 6, "two of the six"),
    (1, 3, "one of the three"),
    (9, 10, "nine of the ten"), (13, 13, "all 13"),  # above eight: no IndexError (review #9)
])
def test_of_all(k: int, n: int, text: str) -> None:
    assert chapter.of_all(k, n) == text


def test_setup_glue() -> None:
    spec = hm.load_model("opt_13b")
    system = hm.load_system("hermes_paper", n_dimms=4)
    targets = cli.sparsity_targets("opt_13b", "relu")
    mlp, qkv = partition.model_frequencies(spec, targets)
    budget = partition.gpu_neuron_budget_bytes(spec, system, workspace_frac=0.1)
    problem = partition.model_problem(spec, system, mlp, qkv, batch=2, gpu_budget_bytes=budget)
    names = {s: hm.load_model(s).name for s in hm.io.model_slugs()}
    glue = chapter.setup_glue(spec, system, problem, targets, names, budget_bytes=budget, batch=2,
                              workspace_frac=0.1)
    tg, td = partition.neuron_times_s(spec, system, "mlp", batch=2)
    assert glue["td_mlp_ns"] == rounded(td * 1e9) and glue["tg_mlp_ns"] == rounded(tg * 1e9)
    assert glue["dimm_over_gpu"] == rounded(td / tg)
    assert glue["budget_GB"] == rounded(budget / 1e9)
    assert glue["n_blocks"] == problem.n_layers and glue["n_neurons"] == int(problem.n_neurons)
    assert glue["model_name"] == spec.name and glue["intro_model"] == "OPT-13B"
    assert glue["workspace_pct"] == 10.0 and glue["lpt_tail"] == partition.LPT_TAIL
    # OPT-13B's density is published; its hot share is OPT-30B's family default
    assert glue["freq_src"] == "density published, hot share borrowed from OPT-30B"
    # at batch 2 a neuron's time is that of a decode step's two tokens, and so is the objective
    assert glue["neuron_cost_lead"] == (
        "One active MLP neuron, computed for the 2 tokens of a decode step, costs")
    assert glue["time_unit"] == "per decode step of 2 tokens"
    assert glue["relu_model"] == "natively ReLU model"  # OPT (rerunA2 #8)


def test_objective_is_per_token_at_batch_1_and_per_step_above() -> None:
    """The objective's FLOP are the batch's (`partition.neuron_times_s`), so above batch 1 it is
    the time of one decode step, and the text says so."""
    spec, system = hm.load_model("opt_13b"), hm.load_system("hermes_paper")
    mlp, qkv = partition.model_frequencies(spec, cli.sparsity_targets("opt_13b", "relu"))
    budget = partition.gpu_neuron_budget_bytes(spec, system, workspace_frac=0.1)
    texts = {}
    for b in (1, 16):
        problem = partition.model_problem(spec, system, mlp, qkv, batch=b,
                                          gpu_budget_bytes=budget)
        cost = partition.solve_fast(problem).cost
        texts[b] = partition.objective_phrase(problem, cost, b)
        assert texts[b].endswith(f"{cost.objective_s * 1e3:.4g} ms {partition.time_unit(b)}")
    assert texts[1].endswith(" ms per token") and "decode step" not in texts[1]
    assert texts[16].endswith(" ms per decode step of 16 tokens")


SIX = ("opt_13b", "opt_30b", "opt_66b", "llama2_13b", "llama2_70b", "falcon_40b")
L70 = {"model": "llama2_70b", "milp_models": SIX, "model_name": "LLaMA2-70B"}


def test_milp_setup_says_whose_configuration_the_table_is() -> None:
    same, note, summary = chapter.milp_setup("hermes_paper", 8, 1, 0.1, **L70)
    assert same and summary == "an exact MILP on bucketed instances confirms it"
    assert note == ("The table is for this run's configuration (hermes_paper, 8 DIMMs, batch 1, "
                    "10 % workspace).")
    same, note, summary = chapter.milp_setup("hermes_paper", 8, 16, 0.1, **L70)
    assert not same and "not for this run's (hermes_paper, 8 DIMMs, batch 16, 10 %" in note
    assert "confirms it" not in summary and summary.endswith("(not this run's)")
    assert "1 DIMM, batch 1" in chapter.milp_setup("hermes_paper", 1, 1, 0.1, **L70)[1]
    assert chapter.milp_setup("hermes_paper", 8, 1, 0.1000000001, **L70)[0]  # math.isclose
    assert chapter.MILP_SETUP == ("hermes_paper", 8, 1, 0.1)


def test_milp_setup_checks_the_model() -> None:
    """rerunA2 #4: a model without a row in the MILP table is not confirmed by it."""
    l3 = {"model": "llama3_70b", "milp_models": SIX, "model_name": "LLaMA3-70B"}
    same, note, summary = chapter.milp_setup("hermes_paper", 8, 1, 0.1, **l3)
    assert not same
    assert note == ("The MILP table covers the six paper models, not LLaMA3-70B: it checks the "
                    "fast solver, not this run's placement.")
    assert summary == ("an exact MILP on bucketed instances confirms the solver on the six paper "
                       "models (not on LLaMA3-70B)")
    # another configuration and another model: both said
    same, note, summary = chapter.milp_setup("hermes_paper", 4, 1, 0.1, **l3)
    assert not same and note.endswith(
        "not for this run's (hermes_paper, 4 DIMMs, batch 1, 10 % workspace), and covers the six "
        "paper models, not LLaMA3-70B: it checks the fast solver, not this run's placement.")
    assert summary.endswith("(not this run's)")
    # the table's models as they are committed
    assert set(hm.io.load_partition_milp()["model"]) == set(SIX)


def test_relu_model() -> None:
    assert chapter.relu_model(hm.load_model("opt_30b")) == "natively ReLU model"
    assert chapter.relu_model(hm.load_model("falcon_40b")) == "ReLU-fied model"
    assert chapter.relu_model(hm.load_model("llama2_70b")) == "ReLU-fied model"


def test_gap_words_and_solve_summary() -> None:
    # the gaps of rerunA2 #9: OPT-30B on one DIMM, LLaMA2-7B at batch 8 on 32 DIMMs
    assert chapter.gap_words(2.5e-9) == "under a millionth (2.5e-09)"
    assert chapter.gap_words(3.1e-5) == "31 millionths (3.1e-05)"
    assert chapter.gap_words(2.3e-6) == "a few millionths (2.3e-06)"
    assert chapter.solve_summary("0.41 s", 2.3e-6, True) == (
        "A greedy built on that structure solves the full per-neuron problem in 0.41 s with a "
        "certified gap of a few millionths (2.3e-06)")
    np_ = chapter.solve_summary("0.64 s", 2.5e-9, False)
    assert np_.startswith("No placement fits here; with the DIMMs' capacity ignored, a greedy")


def test_budget_text_and_capacity_fits() -> None:
    assert chapter.budget_text(17.1, 5.57, True) == (
        "Without GPU neurons the blocks take 17.1 ms; the default budget makes them 5.57× faster")
    assert chapter.budget_text(17.1, 5.57, False).startswith(
        "No placement fits, so these are bounds with the DIMMs' capacity ignored: without GPU "
        "neurons the blocks would take 17.1 ms")
    spec, targets = hm.load_model("opt_30b"), cli.sparsity_targets("opt_30b", "relu")
    mlp, qkv = partition.model_frequencies(spec, targets)
    for n_dimms, fits in ((1, False), (8, True)):  # 54.3 GB against 18.3 + 34.4 GB on one DIMM
        system = hm.load_system("hermes_paper", n_dimms=n_dimms)
        budget = partition.gpu_neuron_budget_bytes(spec, system, workspace_frac=0.1)
        problem = partition.model_problem(spec, system, mlp, qkv, batch=1,
                                          gpu_budget_bytes=budget)
        assert chapter.capacity_fits(problem) is fits
        phrase = partition.objective_phrase(problem, partition.solve_fast(problem).cost)
        assert ("no placement fits" in phrase) is not fits


MILP = pd.DataFrame({
    "model": ["opt_13b", "llama2_70b"], "status": [0, 1],
    "message": ["Optimal. (HiGHS Status 7)", "Time limit reached. (HiGHS Status 13)"],
    "milp_objective_s": [2e-3, 5e-3], "milp_dual_bound_s": [1e-3, 4e-3],
    "fast_objective_s": [1.5e-3, 4.4e-3]})


def test_milp_table() -> None:
    table = chapter.milp_table(MILP, NAMES)
    assert table["model"].tolist() == ["OPT-13B", "LLaMA2-70B"]
    assert table["HiGHS status"].tolist() == ["Optimal", "Time limit reached"]
    assert table["MILP best (ms)"].tolist() == pytest.approx([2.0, 5.0])
    # 1e-3 s and 4e-3 s; 1.5e-3 s and 4.4e-3 s
    assert table["MILP dual bound (ms)"].tolist() == pytest.approx([1.0, 4.0])
    assert table["fast, bucketed (ms)"].tolist() == pytest.approx([1.5, 4.4])
    assert table["fast gap to dual bound"].tolist() == pytest.approx([0.5, 0.1])


def test_milp_glue() -> None:
    table = chapter.milp_table(MILP, NAMES)
    glue = chapter.milp_glue(MILP, table, model="llama2_70b", model_name=NAMES["llama2_70b"],
                             objective_s=4.5e-3, same_setup=True)
    assert glue["max_gap"] == 0.5
    assert glue["n_proven"] == "one of the two"
    assert glue["n_better"] == "all two"
    plain = ("The table's times are for the bucketed instances, in which all neurons of a bucket "
             "share one frequency, so they differ slightly from the per-neuron problem")
    assert glue["bucketed_txt"] == (
        f"{plain}: for LLaMA2-70B the fast solver takes 4.4 ms on its bucketed instance and "
        "4.5 ms on the per-neuron problem above.")
    for model, same_setup in (("llama2_70b", False), ("opt_30b", True)):
        other = chapter.milp_glue(MILP, table, model=model, model_name="x", objective_s=1.0,
                                  same_setup=same_setup)
        assert other["bucketed_txt"] == plain + "."
    none_better = chapter.milp_glue(MILP.assign(status=2, fast_objective_s=[3e-3, 6e-3]),
                                    chapter.milp_table(MILP.assign(fast_objective_s=[3e-3, 6e-3]),
                                                       NAMES),
                                    model="opt_13b", model_name="OPT-13B", objective_s=1.0,
                                    same_setup=True)
    assert none_better["n_proven"] == none_better["n_better"] == "none of the two"


def _cost(gpu_layer_s, dimm_layer_s):
    gpu, dimm = np.asarray(gpu_layer_s, float), np.asarray(dimm_layer_s, float)
    layer = np.maximum(gpu, dimm.max(axis=1))
    return partition.PartitionCost(objective_s=float(layer.sum()), layer_s=layer,
                                   gpu_layer_s=gpu, dimm_layer_s=dimm, gpu_bytes=0.0,
                                   dimm_bytes=np.zeros(dimm.shape[1]), gpu_neuron_share=0.0,
                                   gpu_compute_share=0.0, feasible=True)


def test_always_sync_text_charges_the_empty_blocks_as_eq3_does():
    """Eq. 3 adds 2 T_sync to every block: an empty block costs max(2 T_sync, its DIMM time)."""
    every = _cost([4e-3, 3e-3], [[2e-3, 1e-3], [3e-3, 3e-3]])
    assert chapter.always_sync_text(1e-3, every) == (
        "every block has GPU neurons here, so the paper's form gives the same objective")
    # block 2: DIMMs 1 ms < 2 T_sync = 2 ms; block 3: DIMMs 5 ms > 2 ms (unchanged)
    some = _cost([4e-3, 0.0, 0.0], [[2e-3, 1e-3], [1e-3, 0.5e-3], [5e-3, 1e-3]])
    assert chapter.always_sync_text(1e-3, some) == (
        "2 of the 3 blocks have no GPU neuron; under the paper's form they would still pay "
        "them, and the same placement would take 11 ms instead of 10 ms")
    none = _cost([0.0, 0.0], [[1e-3], [1e-3]])
    assert chapter.always_sync_text(1e-3, none).startswith("all 2 blocks have no GPU neuron")
    assert chapter.always_sync_text(1e-3, none).endswith("take 4 ms instead of 2 ms")
    # empty blocks whose DIMM time already exceeds 2 T_sync: the same objective, said so
    hidden = _cost([4e-3, 0.0], [[2e-3], [3e-3]])
    assert chapter.always_sync_text(1e-3, hidden) == (
        "1 of the 2 blocks has no GPU neuron; under the paper's form it would still pay them, "
        "but inside the DIMMs' longer time, so the paper's form gives the same objective")
