"""The package as a researcher uses it from Python for what-ifs of their own.

Each test stands for a friction point found by writing what-if scripts against the README and the
docstrings: a model or part from a file of one's own, a spec built in Python, the activation
statistics of a catalog model, policy names spelled as the CLI takes them, and ``replace()``
what-ifs that must not silently keep a link the new GPU cannot run.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hermes_model as hm
from hermes_model import io, partition, policies, roofline, shapes, specs, whatif
from hermes_model import sparsity as sp
from hermes_model import units as u

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "data" / "catalog"

#: Mistral-7B-v0.1's published config.json (mistralai/Mistral-7B-v0.1); its 4096-token sliding
#: window does not matter below 4096 tokens.
MISTRAL_7B = {
    "architectures": ["MistralForCausalLM"], "hidden_act": "silu", "hidden_size": 4096,
    "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "vocab_size": 32000}
#: Its parameter count as its checkpoint states it (model card: 7,241,732,096).
MISTRAL_7B_PARAMETERS = 7_241_732_096
#: Qwen2.5-7B-Instruct's published config.json (Qwen/Qwen2.5-7B-Instruct): biases on q, k and v
#: only, untied LM head.
QWEN25_7B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "hidden_act": "silu",
    "hidden_size": 3584, "intermediate_size": 18944, "max_position_embeddings": 32768,
    "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
    "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": None, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "use_sliding_window": False, "vocab_size": 152064}
#: Its parameter count as its checkpoint states it (model card: 7.61B; safetensors metadata).
QWEN25_7B_PARAMETERS = 7_615_616_512


@pytest.fixture(scope="module")
def system() -> specs.SystemSpec:
    return io.load_system("hermes_paper")


@pytest.fixture
def mistral_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mistral_7b"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(MISTRAL_7B), encoding="utf-8")
    return folder


# ------------------------------------------------------------------------- activation statistics


def test_load_activity_is_the_catalog_row() -> None:
    """``io.load_activity(slug)`` is the three nested calls the chapters and the CLI make."""
    for slug in io.activity_slugs():
        want = policies.activity_from_inputs(io.load_generator_inputs()[slug])
        assert io.load_activity(slug) == want
    assert hm.load_activity("LLaMA2-70B") == io.load_activity("llama2_70b")  # as slugs match
    with pytest.raises(ValueError, match=r"unknown model with activation statistics 'gpt2'.*"
                                         r"valid: .*llama2_70b"):
        io.load_activity("gpt2")


def test_missing_activity_says_where_to_get_it(system: specs.SystemSpec) -> None:
    e = policies.estimate("hermes", io.load_model("llama2_7b"), system)
    assert not e.supported and "io.load_activity" in e.reason


def test_lazy_top_level_names(system: specs.SystemSpec) -> None:
    """``hm.estimate`` and ``hm.Assumptions`` are the policies' own, and importing the package
    still does not import the policies (scipy) up front."""
    for name in ("Activity", "Assumptions", "Estimate", "Policy", "estimate", "tokens_per_s_band"):
        assert getattr(hm, name) is getattr(policies, name)
        assert name in hm.__all__ and name in dir(hm)
    code = ("import sys, hermes_model; "
            "print('hermes_model.policies' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
    m = io.load_model("llama2_7b")
    opts = hm.Assumptions(activity=hm.load_activity("llama2_7b"))
    assert hm.estimate("hermes", m, system, options=opts) == policies.estimate(
        "hermes", m, system, options=opts)


# --------------------------------------------------------------------------------- policy names


def test_policy_names_match_as_the_cli_does(system: specs.SystemSpec) -> None:
    m = io.load_model("opt_13b")
    opts = policies.Assumptions(activity=io.load_activity("opt_13b"))
    for spelled in ("Hermes_Host", "HERMES-HOST", "hermes host"):
        assert policies.policy_named(spelled) is policies.Policy.HERMES_HOST
        assert policies.estimate(spelled, m, system, options=opts) == policies.estimate(
            "hermes-host", m, system, options=opts)
    assert [p.name for p in policies.unstated_for("Hermes", system)] == [
        p.name for p in policies.unstated_for("hermes", system)]
    with pytest.raises(ValueError, match=r"unknown policy 'hermes-hots' \(did you mean "
                                         r"hermes-host.*\); valid: accelerate"):
        policies.estimate("hermes-hots", m, system)


# ------------------------------------------------------------------------ models from config files


def test_load_model_takes_a_path_as_text(mistral_dir: Path) -> None:
    """A path given as text loads the file (as the CLI's --model and load_system do); the name
    of a ``config.json`` model is its folder's; the shapes give the card's parameter count."""
    by_text = io.load_model(str(mistral_dir / "config.json"))
    by_path = io.load_model(mistral_dir / "config.json")
    by_folder = io.load_model(str(mistral_dir))
    assert by_text == by_path
    assert by_text.name == by_folder.name == "mistral_7b"
    assert shapes.parameter_count(by_text) == MISTRAL_7B_PARAMETERS
    assert io.load_model("llama2_7b").slug == "llama2_7b"  # a catalog slug stays a slug
    with pytest.raises(ValueError, match="not found"):
        io.load_model(str(mistral_dir / "missing.json"))


def test_mistral_and_qwen2_read_as_llama_kin(tmp_path: Path) -> None:
    """``model_type`` mistral and qwen2 load with the Llama reader; Qwen2's q/k/v biases (and no
    o bias) give its checkpoint's exact parameter count; either runs every Llama policy."""
    path = tmp_path / "qwen25_7b.json"
    path.write_text(json.dumps(QWEN25_7B), encoding="utf-8")
    qwen = io.load_model(path)
    assert (qwen.attn_bias, qwen.o_bias, qwen.mlp_bias) == (True, False, False)
    assert (qwen.n_kv_heads, qwen.head_dim, qwen.family) == (4, 128, "llama")
    assert shapes.parameter_count(qwen) == QWEN25_7B_PARAMETERS
    # Biases are 28 layers x (3584 + 2 x 512) values: the count with none is that much smaller.
    no_bias = dataclasses.replace(qwen, attn_bias=False)
    assert shapes.parameter_count(qwen) - shapes.parameter_count(no_bias) == 28 * (3584 + 1024)
    with_o = dataclasses.replace(qwen, o_bias=True)
    assert shapes.parameter_count(with_o) - shapes.parameter_count(qwen) == 28 * 3584
    # A Mistral config that claims biases still has none (MistralAttention hard-codes them off).
    mistral = shapes.model_from_config("m", {**MISTRAL_7B, "attention_bias": True}, _file_meta())
    assert (mistral.attn_bias, mistral.o_bias, mistral.mlp_bias) == (False, False, False)
    system = io.load_system("hermes_paper")
    assert policies.estimate("hermes-base", qwen, system).tokens_per_s > 0
    assert not policies.estimate("dejavu", qwen, system).supported  # OPT only


def _file_meta() -> dict[str, object]:
    return {"name": "m", "config_source": "test", "card_parameter_count": 1,
            "card_parameter_source": "test", "activation": "reglu",
            "native_activation": "swiglu", "notes": "test"}


@pytest.mark.parametrize(("model_type", "extra", "hint"), [
    ("gpt2", {}, r"another model of the Llama architecture"),
    ("mixtral", {"num_local_experts": 8}, r"mixture-of-experts models are not modelled"),
    ("qwen2_moe", {}, r"mixture-of-experts models are not modelled"),
])
def test_unknown_model_type_says_what_reads(tmp_path: Path, model_type: str,
                                            extra: dict[str, object], hint: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**MISTRAL_7B, "model_type": model_type, **extra}),
                    encoding="utf-8")
    with pytest.raises(ValueError, match=rf"'model_type' must be one of opt, llama, mistral, "
                                         rf"qwen2, .*got '{model_type}'; {hint}"):
        io.load_model(path)


# ---------------------------------------------------------------------- parts from files, or specs


def test_part_files_load_like_catalog_entries(tmp_path: Path) -> None:
    """A catalog YAML copied outside the catalog loads by path to the same spec (but its slug)."""
    for kind, load in (("gpus", io.load_gpu), ("hosts", io.load_host), ("links", io.load_link),
                       ("dimms", io.load_dimm)):
        slug = io.catalog_slugs(kind)[0]
        copy = tmp_path / f"my_{slug}.yaml"
        shutil.copy(CATALOG / kind / f"{slug}.yaml", copy)
        for profile in specs.PROFILES:
            mine = load(copy, profile)
            assert mine.slug == str(copy)
            assert dataclasses.replace(mine, slug=slug) == load(slug, profile)
            assert load(str(copy), profile) == mine
    with pytest.raises(ValueError, match=r"DIMM file '.*nope.yaml' not found"):
        io.load_dimm(str(tmp_path / "nope.yaml"))


def test_system_file_names_part_files_beside_it(tmp_path: Path) -> None:
    """A system file may name a part file by a path relative to its own folder."""
    raw = (CATALOG / "dimms" / "ddr4_3200_ndp.yaml").read_text(encoding="utf-8")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "wide.yaml").write_text(
        raw.replace("ndp_multipliers: {value: 256", "ndp_multipliers: {value: 512"),
        encoding="utf-8")
    text = (CATALOG / "systems" / "hermes_paper.yaml").read_text(encoding="utf-8")
    assert "dimm: {value: ddr4_3200_ndp," in text
    sys_file = tmp_path / "box.yaml"
    sys_file.write_text(text.replace("dimm: {value: ddr4_3200_ndp,",
                                     "dimm: {value: parts/wide.yaml,"), encoding="utf-8")
    box = io.load_system(sys_file)
    paper = io.load_system("hermes_paper")
    assert box.dimm.ndp_multipliers == 2 * paper.dimm.ndp_multipliers
    assert box.dimm == dataclasses.replace(paper.dimm, slug=str(tmp_path / "parts" / "wide.yaml"),
                                           ndp_multipliers=512)
    sys_file.write_text(text.replace("dimm: {value: ddr4_3200_ndp,",
                                     "dimm: {value: parts/none.yaml,"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"box.yaml: field dimm: DIMM file .*none.yaml' not found"):
        io.load_system(sys_file)


def test_load_system_takes_specs_built_in_python() -> None:
    """An override may be a spec; the host link is still the one the GPU gets."""
    t4 = io.load_gpu("t4")
    assert io.load_system("hermes_paper", gpu=t4) == io.load_system("hermes_paper", gpu="t4")
    assert io.load_system("hermes_paper", gpu=t4).host_link.generation == 3
    dimm = dataclasses.replace(io.load_dimm("ddr4_3200_ndp"), ndp_multipliers=1024)
    assert io.load_system("hermes_paper", dimm=dimm, n_dimms=16).dimm is dimm
    with pytest.raises(ValueError, match=r"gpu 't4' was loaded under profile 'paper', the system "
                                         r"under 'datasheet'"):
        io.load_system("hermes_paper", "datasheet", gpu=t4)
    with pytest.raises(ValueError, match=r"DIMM must be a slug \(a string\), got a GpuSpec "
                                         r"\('t4'\); valid"):
        io.load_system("hermes_paper", dimm=t4)  # type: ignore[arg-type]


def test_gpu_built_by_hand_is_the_catalog_gpu() -> None:
    """A GpuSpec built from the catalog's numbers in SI units and the GPU kind's efficiency
    equals the loaded one; its GEMV time is the closed-form memory-bound roofline."""
    eff = io.load_efficiency("gpu")
    mine = specs.GpuSpec(slug="rtx_4090", name="NVIDIA GeForce RTX 4090", profile="paper",
                         memory_bytes=24 * u.GiB, memory_bandwidth_bytes_per_s=936 * u.GB,
                         fp16_flop_per_s=330 * u.TFLOP, pcie_gen=4, pcie_lanes=16,
                         efficiency=eff)
    assert mine == dataclasses.replace(io.load_gpu("rtx_4090"), name=mine.name, notes="")
    m, n, k = 1, 28672, 8192
    bytes_moved = 2.0 * (m * k + k * n + m * n)  # fp16 operands and result, once each
    want = eff.overhead_s + bytes_moved / (936e9 * eff.bandwidth_frac)
    t = roofline.matmul_time(mine, m, n, k)
    assert float(t.time_s) == pytest.approx(want, rel=1e-12) and str(t.bound) == "memory"
    with pytest.raises(ValueError, match=r"efficiency kind must be one of gpu, host_cpu, pcie, "
                                         r"nvlink, dimm_link, ndp_dimm, got 'GPU'"):
        io.load_efficiency("GPU")


def test_replace_cannot_keep_a_link_the_gpu_cannot_run(system: specs.SystemSpec) -> None:
    """``replace(system, gpu=t4)`` used to keep the PCIe 4.0 link silently; now it is refused,
    and the safe what-ifs still work."""
    with pytest.raises(ValueError, match=r"host_link 'pcie4_x16' \(PCIe 4.0 x16\) is faster than "
                                         r"gpu 't4' \(PCIe 3.0 x16\).*io.load_system"):
        dataclasses.replace(system, gpu=io.load_gpu("t4"))
    with pytest.raises(ValueError, match="faster than gpu"):
        dataclasses.replace(system, host_link=io.load_link("pcie5_x16"))
    fixed = dataclasses.replace(system, gpu=io.load_gpu("t4"), host_link=io.effective_pcie_link(
        system.host_link, io.load_gpu("t4"), system.host, system.profile))
    assert fixed == io.load_system("hermes_paper", gpu="t4")
    five = dataclasses.replace(system, gpu=io.load_gpu("rtx_5090"))  # a faster GPU: the slot
    assert five.host_link == system.host_link  # (PCIe 4.0) limits it, as load_system says
    assert five.host_link == io.load_system("hermes_paper", gpu="rtx_5090").host_link
    assert dataclasses.replace(system, n_dimms=16).dimm_capacity_bytes == 16 * 32 * u.GiB


# -------------------------------------------------------------------- what-ifs and the generator


def test_whatif_names_a_missing_key(system: specs.SystemSpec) -> None:
    slug = "llama2_13b"
    kw = {"system_for": lambda **o: io.load_system("hermes_paper", **o),
          "models": {slug: io.load_model(slug)}}
    case = whatif.Case(model=slug)
    with pytest.raises(ValueError, match=r"activities has no \('llama2_13b', 'relu'\); it maps "
                                         r"\(model slug, activation\)"):
        whatif.evaluate(case, activities={slug: io.load_activity(slug)}, **kw)
    with pytest.raises(ValueError, match=r"models has no 'llama2_7b'"):
        whatif.evaluate(whatif.Case(model="llama2_7b"), activities={}, **kw)
    ok = whatif.evaluate(case, activities={(slug, "relu"): io.load_activity(slug)}, **kw)
    want = policies.estimate("hermes", kw["models"][slug], system,
                             options=policies.Assumptions(activity=io.load_activity(slug)))
    assert ok.set_index("policy").loc["hermes", "tokens_per_s"] == want.tokens_per_s


def test_targets_from_activity_agrees_with_model_targets() -> None:
    """Two code paths to the generator's targets: a catalog model's statistics through
    ``targets_from_activity`` and the book's ``model_targets``."""
    inputs = io.load_generator_inputs()
    for slug in io.activity_slugs():
        model = io.load_model(slug)
        book = sp.model_targets(slug, shapes.qkv_neurons_per_layer(model),
                                shapes.mlp_neurons_per_layer(model), model.native_activation,
                                "relu", inputs)
        mine = sp.targets_from_activity(model, io.load_activity(slug))
        assert mine.groups == book.groups and mine.coupled_share == book.coupled_share


def test_partition_of_a_model_of_ones_own(mistral_dir: Path, system: specs.SystemSpec) -> None:
    """The partition of a config.json model from statistics given by hand: each layer's fitted
    frequencies carry its density, and the fast solver's certificate holds."""
    model = io.load_model(mistral_dir)
    act = policies.Activity(mlp_density=0.15, mlp_hot_share=0.2, qkv_density=0.3,
                            qkv_hot_share=0.4, similarity_d1=0.7, similarity_d10=0.6,
                            similarity_d25=0.58)
    mlp_freq, qkv_freq = partition.model_frequencies(model, sp.targets_from_activity(model, act))
    assert mlp_freq.shape == (32, 14336) and qkv_freq.shape == (32, 4096)
    np.testing.assert_allclose(mlp_freq.mean(axis=1), 0.15, rtol=1e-3)
    np.testing.assert_allclose(qkv_freq.mean(axis=1), 0.3, rtol=1e-3)
    problem = partition.model_problem(model, system, mlp_freq, qkv_freq)
    sol = partition.solve_fast(problem)
    assert sol.lower_bound_s == pytest.approx(partition.fluid_lower_bound(problem), rel=1e-12)
    assert sol.cost.objective_s >= sol.lower_bound_s * (1 - 1e-9)


def test_dimm_op_time_without_chunks_says_what_to_pass(system: specs.SystemSpec) -> None:
    from hermes_model import dram, ndp

    with pytest.raises(ValueError, match=r"needs chunk_bytes \(the bytes of each chunk.*"
                                         r"pattern 'stream'"):
        ndp.dimm_op_time(system.dimm, weight_bytes=1e6, batch=1)
    # streaming 1 MB at the DRAM model's bandwidth (no overhead in the catalog): bytes / rate
    t = ndp.dimm_op_time(system.dimm, weight_bytes=1e6, batch=1, pattern="stream")
    bw = float(dram.dimm_bandwidth_bytes_per_s(system.dimm, pattern="stream"))
    assert float(t.memory_s) == pytest.approx(1e6 / bw, rel=1e-12)


def test_io_examples_run() -> None:
    """The docstring examples of `hermes_model.io` (load_gpu, load_model, load_system, ...)."""
    assert doctest.testmod(io).failed == 0
