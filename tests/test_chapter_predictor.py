"""The predictor chapter's text logic (`hermes_model.chapters.predictor`)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import hermes_model as hm
from hermes_model import predictor, shapes, sparsity
from hermes_model.chapters import predictor as chapter


def _result(**kw: float) -> predictor.PredictorResult:
    base = {"tp": 3, "fp": 1, "fn": 2, "tn": 94, "recall": 0.6, "precision": 0.75,
            "accuracy": 0.97, "trivial_accuracy": 0.95, "n_tokens": 40, "gpu_hit_share": 0.5,
            "gpu_hit_share_static": 0.25, "swaps_per_token": 1.23456}
    return predictor.PredictorResult(**{**base, **kw})


@pytest.fixture(scope="module")
def small_trace() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four 24-token sequences, 3 layers of 40 neurons, each neuron firing at its own rate."""
    rng = np.random.default_rng(7)
    rate = rng.uniform(0.05, 0.6, size=(1, 3, 40))
    active = rng.random((96, 3, 40)) < rate
    seq = np.repeat(np.arange(4), 24)
    return active, seq, predictor.profile_sequences(seq)


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return hm.io.load_paper_predictor()


def test_n_sequences_needs_one_to_profile_and_one_to_score() -> None:
    assert chapter.checked_n_sequences(2) == 2
    with pytest.raises(ValueError, match="at least 2"):
        chapter.checked_n_sequences(1)
    with pytest.raises(ValueError, match="n_sequences"):
        chapter.checked_n_sequences(chapter.MAX_SEQUENCES + 1)


def test_profile_tokens_are_every_other_sequence() -> None:
    seq = np.array([3, 3, 5, 5, 5, 7, 9, 9])
    assert predictor.profile_sequences(seq).tolist() == [True, True, False, False, False, True,
                                                    False, False]


def test_prefill_must_leave_tokens_in_the_longest_scored_sequence() -> None:
    seq = np.array([0] * 9 + [1] * 4 + [2] * 9 + [3] * 3)  # scored: 1 (4 tokens), 3 (3 tokens)
    profile = predictor.profile_sequences(seq)
    assert chapter.checked_prefill_tokens(3, seq, profile) == 3
    with pytest.raises(ValueError, match="prefill_tokens"):
        chapter.checked_prefill_tokens(4, seq, profile)
    # never more than a generated sequence holds, whatever the measured lengths
    long = np.repeat([0, 1], 500)
    with pytest.raises(ValueError, match="prefill_tokens"):
        chapter.checked_prefill_tokens(sparsity.SEQUENCE_TOKENS, long, predictor.profile_sequences(long))


def test_paper_accuracy_is_hermes_claim(claims: pd.DataFrame) -> None:
    assert chapter.paper_accuracy_pct(claims) == 98.0


def test_real_glues() -> None:
    g = chapter.real_glues(_result(), 98.0)
    assert g == {"real_recall_pct": 60.0, "real_precision_pct": 75.0, "real_accuracy_pct": 97.0,
                 "real_trivial_accuracy_pct": 95.0, "real_gpu_hit_share_pct": 50.0,
                 "real_gpu_hit_share_static_pct": 25.0, "real_tokens": 40,
                 "real_swaps": 1.235, "paper_acc_pct": 98.0}


def test_threshold_sweep_agrees_with_score_trace(small_trace: tuple) -> None:
    active, seq, profile = small_trace
    sweep = chapter.threshold_sweep(active, seq, profile, [9, 15, 21], prefill_tokens=8,
                                    gpu_share=0.2)
    assert sweep.shape == (9, 3) and set(sweep["curve"]) == {"recall", "precision", "accuracy"}
    direct = predictor.score_trace(active, seq, profile, prefill_tokens=8, gpu_share=0.2)
    at15 = sweep[sweep.x == 15].set_index("curve")["y"]
    assert at15["recall"] == pytest.approx(100 * direct.recall)
    assert at15["precision"] == pytest.approx(100 * direct.precision)
    assert at15["accuracy"] == pytest.approx(100 * direct.accuracy)
    recall = sweep[sweep.curve == "recall"]["y"].to_numpy()
    assert np.all(np.diff(recall) <= 1e-9) and recall[0] > recall[-1]


def test_threshold_reference() -> None:
    ref = chapter.threshold_reference(0.9, 98.0)
    assert ref["y"].tolist() == [90.0, 98.0]
    assert ref["label"].tolist() == ["nothing fires (accuracy)", "paper: 98 % accuracy"]


PROVENANCE = {"mlp_density": "published: PowerInfer Table 1",
              "hot_share_80": "borrowed family default from opt_30b; PowerInfer Fig. 2",
              "similarity_d1": "published: Hermes Fig. 4a",
              "similarity_d10": "borrowed family default from opt_30b; x",
              "similarity_d25": "borrowed family default from opt_30b; y",
              "coupled_share": "assumed: half"}
NAMES = {"opt_30b": "OPT-30B", "llama2_70b": "LLaMA2-70B (ReLU-fied, ReGLU)"}


def test_doctests() -> None:
    # (failed, attempted): origin_text, share_reason (2), swap_text
    assert doctest.testmod(chapter) == (0, 5)


def test_input_origins_join_kinds_and_name_the_lender() -> None:
    targets = sparsity.ModelTargets((), 0.5, PROVENANCE)
    assert chapter.input_origins(targets, NAMES) == {
        "density": "published", "hot": "borrowed from OPT-30B",
        "sim": "published and borrowed from OPT-30B", "coupling": "assumed"}


def test_hermes_fig4a_inputs_are_paper_not_published() -> None:
    """The similarities of LLaMA2-13B and Falcon-40B come from Hermes' Fig. 4a: *paper*; their
    densities from PowerInfer: *published* (the sparsity chapter's labels)."""
    from hermes_model.cli import sparsity_targets

    names = {s: hm.load_model(s).name for s in hm.io.model_slugs()}
    falcon = chapter.input_origins(sparsity_targets("falcon_40b", "relu"), names)
    assert falcon == {"density": "published", "hot": "borrowed from OPT-30B", "sim": "paper",
                      "coupling": "assumed"}
    assert chapter.kinds_phrase(falcon) == "paper, published, borrowed and assumed"
    opt = chapter.input_origins(sparsity_targets("opt_66b", "relu"), names)
    assert opt["sim"] == "borrowed from LLaMA2-13B" and "paper" not in chapter.kinds_phrase(opt)


@pytest.mark.parametrize(("values", "phrase"), [
    (["published", "published"], "published"),
    (["published", "assumed"], "published and assumed"),
    (["assumed", "borrowed from OPT-30B", "measured", "published and assumed"],
     "published, measured, borrowed and assumed"),
    # a kind that only follows "and" counts too; Hermes' own figures are *paper*
    (["published", "paper and borrowed from OPT-30B"], "paper, published and borrowed"),
])
def test_kinds_phrase(values: list[str], phrase: str) -> None:
    assert chapter.kinds_phrase(dict(enumerate(map(str, values)))) == phrase


def test_generated_glues() -> None:
    spec = hm.load_model("llama2_70b")
    origins = {"density": "published", "hot": "published", "sim": "published",
               "coupling": "assumed"}
    g = chapter.generated_glues(predictor.GeneratedScore(_result(recall=0.123456), 36864), spec,
                                origins, 0.5)
    assert g["gen_recall_pct"] == 12.35 and g["gen_precision_pct"] == 75.0
    assert g["gen_model"] == spec.name and g["gen_short"] == "LLaMA2-70B"
    assert g["gen_neurons"] == 36864 and g["gen_coupled_pct"] == 50.0
    assert g["gen_coupling_src"] == "assumed" and g["gen_kinds"] == "published and assumed"


def test_score_generated_on_a_small_model() -> None:
    targets = sparsity.ModelTargets(
        (sparsity.GroupTargets("qkv", 48, 0.2, 0.4, (1, 10, 25), (0.9, 0.75, 0.7)),
         sparsity.GroupTargets("mlp", 80, 0.2, 0.4, (1, 10, 25), (0.9, 0.75, 0.7))), 0.5, PROVENANCE)
    gen = predictor.score_generated(targets, 3, np.random.default_rng(1), prefill_tokens=16,
                                  gpu_share=0.2, sample=32)
    assert gen.n_neurons == 48 + 80
    assert gen.result.n_tokens == 2 * (sparsity.SEQUENCE_TOKENS - 16)  # one profiles, 2 scored
    # the same draws by hand: the trace model, the trace, then the sampled neurons
    rng = np.random.default_rng(1)
    trace = sparsity.generate_trace(
        sparsity.build_trace_model(targets.groups, 3, 0.5, rng), 3, rng)
    direct = predictor.score_trace(trace.active, trace.seq_id, trace.seq_id < 1,
                                   prefill_tokens=16, gpu_share=0.2, sample=32, rng=rng)
    assert gen.result == direct


@pytest.fixture(scope="module")
def memory(claims: pd.DataFrame) -> chapter.PredictorMemory:
    models = [hm.load_model(s) for s in chapter.MEMORY_MODELS]
    return chapter.predictor_memory(models, claims, bandwidth_bytes_per_s=2e12)


def test_memory_table_rows(memory: chapter.PredictorMemory) -> None:
    mem = memory.table.set_index("model")
    l7 = hm.load_model("llama2_7b")
    row = mem.loc[l7.name]
    assert row["state table (KiB)"] == pytest.approx(32 * (4096 + 11008) * 4 / 8 / 1024)
    # two packed indices per neuron into the other block: 14 bits address 11008, 12 bits 4096
    assert row["correlation table (KiB)"] == pytest.approx(
        32 * (4096 * 2 * 14 + 11008 * 2 * 12) / 8 / 1024)
    # no published size for LLaMA2-7B: the assumed rank; OPT-13B's rank inverts 0.88e9 parameters
    assert row["MLP predictor rank"] == 1024
    assert row["MLP predictor (GB)"] == pytest.approx(
        32 * 1024 * (4096 + 11008) * 2 / 1e9)
    assert row["MLP predictor time (ms/token)"] == pytest.approx(
        row["MLP predictor (GB)"] * 1e9 / 2e12 * 1e3)
    opt = hm.load_model("opt_13b")
    assert mem.loc[opt.name, "MLP predictor rank"] == round(
        0.88e9 / (opt.n_layers * (opt.d_model + opt.d_ffn)))


def test_memory_glues(memory: chapter.PredictorMemory) -> None:
    g, mem = memory.glues, memory.table
    state = 32 * (4096 + 11008) * 4 / 8 / 1024
    corr = 32 * (4096 * 2 * 14 + 11008 * 2 * 12) / 8 / 1024
    assert g["l7_state_KiB"] == pytest.approx(state, rel=1e-3)
    assert g["l7_corr_KiB"] == pytest.approx(corr, rel=1e-3)
    assert g["l7_total_MiB"] == pytest.approx((state + corr) / 1024, rel=1e-3)
    assert g["l7_corr_over_state"] == pytest.approx(corr / state, rel=1e-3)
    assert g["l7_mlp_GB"] == pytest.approx(32 * 1024 * (4096 + 11008) * 2 / 1e9, rel=1e-3)
    assert g["l7_name"] == "LLaMA2-7B" and g["l7_mlp_neurons"] == 11008
    # the paper's LLaMA-7B has these shapes too
    assert g["l7_layers"] == 32 and g["l7_qkv_neurons"] == 4096
    # 232 KiB of 4-bit states over 32 layers, less 4096 QKV neurons each
    assert g["paper_mlp_neurons"] == round(232 * 1024 * 2 / 32 - 4096)
    assert g["paper_state_KB"] == 232.0 and g["paper_tables_MB"] == "<1"
    assert g["paper_mlp_GB"] == "2"
    totals = {}
    for slug in chapter.MEMORY_MODELS:
        m = hm.load_model(slug)
        totals[m.name] = sum(predictor.model_table_bytes(m)) / 2**20
    largest = max(totals, key=totals.__getitem__)
    assert g["max_tables_MiB"] == pytest.approx(totals[largest], rel=1e-3)
    assert g["max_tables_model"] == largest.split(" (")[0]
    ratio = memory.tables_over_mlp_pct
    assert ratio.iloc[0] == pytest.approx(
        100 * sum(predictor.model_table_bytes(hm.load_model("llama2_7b")))
        / (32 * 1024 * (4096 + 11008) * shapes.dtype_bytes("fp16")))
    assert g["tables_over_mlp_max_pct"] == pytest.approx(ratio.max(), rel=1e-3)
    assert len(mem) == len(chapter.MEMORY_MODELS)


def test_memory_models_add_the_chosen_one(claims: pd.DataFrame) -> None:
    """rerunA2 #12: the chosen model joins the memory table, and the count follows."""
    assert chapter.memory_models("llama2_70b") == chapter.MEMORY_MODELS
    assert chapter.memory_models("llama3_70b") == (*chapter.MEMORY_MODELS, "llama3_70b")
    mem = chapter.predictor_memory([hm.load_model(s) for s in chapter.memory_models("llama3_70b")],
                                   claims, bandwidth_bytes_per_s=2e12)
    assert mem.table["model"].iloc[-1] == hm.load_model("llama3_70b").name
    assert mem.glues["n_memory_models"] == "eight"


def test_n_memory_models_default(memory: chapter.PredictorMemory) -> None:
    assert memory.glues["n_memory_models"] == "seven"


def test_share_reason_from_the_partition() -> None:
    """rerunA2 #7: "holds no more" only where the partition fills the GPU's budget."""
    from hermes_model import cli, partition

    system = hm.load_system("hermes_paper")
    got = {}
    for slug in ("llama2_70b", "opt_13b"):
        model = hm.load_model(slug)
        _, gpu_bytes = chapter.partition_gpu_share(model, system, cli.sparsity_targets(slug, "relu"))
        budget = partition.gpu_neuron_budget_bytes(model, system, workspace_frac=0.1)
        got[slug] = chapter.share_reason(gpu_bytes, budget)
    assert got["llama2_70b"] == ", since the paper's GPU holds no more"
    assert got["opt_13b"].startswith(", where for this model the partition stops at the share "
                                     "at which its GPU and DIMM sides meet (0.0713 GB, well "
                                     "below the ")
    assert chapter.share_reason(0.6e9, 1e9).endswith("(0.6 GB, below the 1 GB the card has for "
                                                     "neurons)")
    assert chapter.share_reason(None, None) == (
        ", as the share of the model's neurons that the partition's solver puts on the GPU")


def test_swap_text_verb_from_the_values() -> None:
    assert chapter.swap_text(9.87, 15.2, 9.86) == (
        "The hot swap raises the GPU's share of the firing neurons from 9.87 % (the initial "
        "9.86 % of each layer kept fixed) to 15.2 %")
    assert chapter.swap_text(20.0, 18.5, 20.0).startswith("The hot swap lowers")
    zero = chapter.swap_text(0.0, 0.0, 0.0)  # gpu_share 0
    assert zero.startswith("The hot swap leaves the GPU's share of the firing neurons at 0 %")
    assert zero.endswith("(there is no GPU slot to swap a neuron into)")
    assert chapter.swap_text(100.0, 100.0, 100.0).endswith(
        "(every neuron is already on the GPU)")
    assert chapter.swap_text(30.0, 30.0, 25.0).endswith("kept fixed")


def test_gpu_share_reading_takes_an_assumed_share_as_given() -> None:
    share, g = chapter.gpu_share_reading(0.25, None, None, None)  # nothing else is read
    assert share == 0.25 and g == {"gpu_share_pct": 25.0, "gpu_share_src": "assumed",
                                   "gpu_share_why": chapter.share_reason(None, None)}
    for bad in (1.5, -0.5, "x", True):
        with pytest.raises(ValueError, match=r"parameter 'gpu_share': must be -1 \(derived in "
                           r"the partition chapter\) or a number in \[0, 1\], got"):
            chapter.gpu_share_reading(bad, None, None, None)


def test_derived_gpu_share_is_the_partition_solvers() -> None:
    """`FROM_PARTITION` gives the share the CLI's partition command reports for the same model
    and system (the partition chapter's defaults: 8 DIMMs, batch 1, 10 % workspace)."""
    from hermes_model import cli

    slug = "llama2_13b"
    model, system = hm.load_model(slug), hm.load_system("hermes_paper")
    share, g = chapter.gpu_share_reading(chapter.FROM_PARTITION, model, system,
                                         cli.sparsity_targets(slug, "relu"))
    payload = cli.partition_payload(slug, "hermes_paper", "paper")
    assert share == pytest.approx(payload["gpu_neuron_share"], rel=1e-12)
    assert 0 < share < 1 and g["gpu_share_pct"] == pytest.approx(100 * share, rel=1e-3)
    assert g["gpu_share_src"].startswith("derived: the share of all LLaMA2-13B neurons, ")
    assert f"{payload['gpu_neuron_GB']:.3g} GB" in g["gpu_share_src"]
    assert g["gpu_share_src"].endswith(f"puts on the {system.gpu.name}, taken for every layer")
    # LLaMA2-13B's partition stops at its crossings, 3.47 GB of the card's 21.1 GB
    assert g["gpu_share_why"].startswith(", where for this model the partition stops")
