"""Tests for hermes_model.shapes: published shapes, card parameter counts, byte/FLOP oracles.

The catalogue is read here directly with json/yaml (the package's io module is another
module's job); every other number is a closed-form oracle written out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hermes_model import shapes

MODELS_DIR = Path(__file__).resolve().parents[1] / "data" / "models"
META = yaml.safe_load((MODELS_DIR / "models.yaml").read_text(encoding="utf-8"))
SLUGS = ("opt_13b", "opt_30b", "opt_66b", "llama2_7b", "llama2_13b", "llama2_70b", "falcon_40b",
         "llama3_8b", "llama3_70b")


def _config(slug: str) -> dict:
    return json.loads((MODELS_DIR / f"{slug}.json").read_text(encoding="utf-8"))


def _model(slug: str) -> shapes.ModelSpec:
    return shapes.model_from_config(slug, _config(slug), META[slug])


def test_catalogue_has_exactly_the_nine_slugs() -> None:
    """models.yaml and the JSON configs cover exactly the nine models the study uses."""
    assert set(META) == set(SLUGS)
    assert {p.stem for p in MODELS_DIR.glob("*.json")} == set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_parameter_count_matches_card(slug: str) -> None:
    """Shape-derived parameter count is within 0.5 % of the card / checkpoint count."""
    model = _model(slug)
    assert shapes.parameter_count(model) == pytest.approx(model.card_parameter_count, rel=5e-3)


@pytest.mark.parametrize(("slug", "count"), [
    ("llama2_7b", 6_738_415_616),
    ("llama2_13b", 13_015_864_320),
    ("llama2_70b", 68_976_648_192),
    ("llama3_8b", 8_030_261_248),
    ("llama3_70b", 70_553_706_496),
    ("falcon_40b", 83_671_941_120 // 2),  # index total_size (bf16 bytes) / 2 B per param
])
def test_parameter_count_exact_for_externally_sourced_cards(slug: str, count: int) -> None:
    """For the models whose exact count is published, the shape count reproduces it exactly."""
    assert shapes.parameter_count(_model(slug)) == count


def test_llama2_70b_gqa_kv_projections_have_1024_outputs() -> None:
    """LLaMA2-70B: 8 KV heads x 128 = 1024 outputs for k_proj and v_proj; q/o are 8192."""
    mats = {m.name: m for m in shapes.layer_matrices(_model("llama2_70b"))}
    assert (mats["k_proj"].k, mats["k_proj"].n) == (8192, 1024)
    assert (mats["v_proj"].k, mats["v_proj"].n) == (8192, 1024)
    assert (mats["q_proj"].k, mats["q_proj"].n) == (8192, 8192)
    assert (mats["o_proj"].k, mats["o_proj"].n) == (8192, 8192)
    assert (mats["gate_proj"].k, mats["gate_proj"].n) == (8192, 28672)
    assert (mats["down_proj"].k, mats["down_proj"].n) == (28672, 8192)
    assert [m.name for m in shapes.layer_matrices(_model("llama2_70b"))] == [
        "q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj"]


def test_opt_has_no_gate_and_names_fc_layers_up_down() -> None:
    """OPT's fc1/fc2 appear as up_proj/down_proj, with no gate_proj."""
    names = [m.name for m in shapes.layer_matrices(_model("opt_13b"))]
    assert names == ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]


def test_llama2_70b_neuron_bytes_fp16() -> None:
    """LLaMA2-70B fp16: MLP neuron = 3 x 8192 x 2 B; QKV neuron = (8192 + 2 x 1024) x 2 B."""
    model = _model("llama2_70b")
    assert shapes.neuron_bytes(model, "mlp", "fp16") == 3 * 8192 * 2 == 49_152
    assert shapes.neuron_bytes(model, "qkv", "fp16") == (8192 + 2 * 1024) * 2 == 20_480
    assert shapes.neuron_flop_per_token(model, "mlp") == 2 * 3 * 8192


def test_neurons_tile_the_sparse_matrices() -> None:
    """Neurons x neuron weights = the q/k/v weights and the up/gate/down weights of a layer."""
    for slug in SLUGS:
        model = _model(slug)
        mats = shapes.layer_matrices(model)
        qkv = sum(m.n_elements for m in mats if m.neuron_kind == "qkv")
        mlp = sum(m.n_elements for m in mats if m.neuron_kind == "mlp")
        qkv_bytes = shapes.neuron_bytes(model, "qkv", "int8")  # int8: bytes == weights
        mlp_bytes = shapes.neuron_bytes(model, "mlp", "int8")
        assert shapes.qkv_neurons_per_layer(model) * qkv_bytes == qkv
        assert shapes.mlp_neurons_per_layer(model) * mlp_bytes == mlp


def test_opt_66b_shape() -> None:
    """OPT-66B has 64 layers, d_model 9216 and d_ffn 36864 (paper digest §15)."""
    model = _model("opt_66b")
    assert (model.n_layers, model.d_model, model.d_ffn) == (64, 9216, 36864)
    assert (model.n_heads, model.n_kv_heads, model.head_dim) == (72, 72, 128)
    assert shapes.mlp_neurons_per_layer(model) == 36864
    assert shapes.qkv_neurons_per_layer(model) == 9216


def test_falcon_40b_shape() -> None:
    """Falcon-40B: 60 layers, d 8192, ffn 32768, 128 query heads of 64, 8 KV groups."""
    model = _model("falcon_40b")
    assert (model.n_layers, model.d_model, model.d_ffn) == (60, 8192, 32768)
    assert (model.n_heads, model.n_kv_heads, model.head_dim) == (128, 8, 64)
    assert model.parallel_attn
    assert model.new_decoder_architecture
    assert model.activation == "relu"
    assert model.native_activation == "gelu"


def test_activations_follow_the_paper_variants() -> None:
    """ReLU-fied LLaMA-2 are ReGLU, OPT ReLU, Falcon ReLU (from GELU), LLaMA-3 SwiGLU."""
    want = {"opt_13b": "relu", "opt_30b": "relu", "opt_66b": "relu", "llama2_7b": "reglu",
            "llama2_13b": "reglu", "llama2_70b": "reglu", "falcon_40b": "relu",
            "llama3_8b": "swiglu", "llama3_70b": "swiglu"}
    assert {slug: _model(slug).activation for slug in SLUGS} == want


@pytest.mark.parametrize(("slug", "expected"), [
    ("llama2_70b", 2 * 80 * 8 * 128 * 2),     # 327,680 B: GQA keeps it small
    ("llama2_13b", 2 * 40 * 40 * 128 * 2),    # 819,200 B
    ("opt_66b", 2 * 64 * 9216 * 2),           # 2,359,296 B
    ("falcon_40b", 2 * 60 * 8 * 64 * 2),      # 122,880 B
])
def test_kv_cache_bytes_per_token_oracle(slug: str, expected: int) -> None:
    """KV cache per token = 2 (K and V) x layers x KV heads x head_dim x 2 B (fp16)."""
    assert shapes.kv_cache_bytes_per_token(_model(slug), "fp16") == expected


def test_llama2_70b_layer_and_embedding_bytes() -> None:
    """LLaMA2-70B fp16: layer matrices 855,638,016 x 2 B; untied embeddings 2 x V x d x 2 B."""
    model = _model("llama2_70b")
    layer = 2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672
    assert layer == 855_638_016
    assert shapes.layer_weight_bytes(model) == layer * 2
    assert shapes.embedding_bytes(model, "fp16") == 2 * 32000 * 8192 * 2
    # Parameters = layers x (matrices + 2 RMSNorm) + embeddings + final norm.
    assert shapes.parameter_count(model) == 80 * (layer + 2 * 8192) + 2 * 32000 * 8192 + 8192


def test_opt_embeddings_tied_with_learned_positions() -> None:
    """OPT-13B: tied LM head counted once, plus 2050 learned position rows."""
    assert shapes.embedding_bytes(_model("opt_13b"), "fp16") == (50272 + 2050) * 5120 * 2


def test_decode_flop_per_token_oracle() -> None:
    """Decode FLOP = L (2 x layer weights + 4 H d_h T) + 2 d V; grows by 4 L H d_h per position."""
    model = _model("llama2_70b")
    layer = 855_638_016
    expected = 80 * (2 * layer + 4 * 64 * 128 * 256) + 2 * 8192 * 32000
    assert shapes.decode_flop_per_token(model, 256) == expected
    arr = shapes.decode_flop_per_token(model, [0, 1, 2])
    assert arr[1] - arr[0] == pytest.approx(4 * 80 * 64 * 128)
    with pytest.raises(ValueError, match="context_len"):
        shapes.decode_flop_per_token(model, -1)


@given(dtype=st.sampled_from(sorted(shapes.DTYPE_BYTES)), slug=st.sampled_from(SLUGS))
def test_weight_bytes_scale_linearly_with_dtype_bytes(dtype: str, slug: str) -> None:
    """weight_bytes(dtype) = parameter_count x bytes(dtype): linear in bytes per element."""
    model = _model(slug)
    assert shapes.weight_bytes(model, dtype) == pytest.approx(
        shapes.weight_bytes(model, "fp32") * shapes.DTYPE_BYTES[dtype] / 4.0)
    assert shapes.layer_weight_bytes(model, dtype) * model.n_layers < shapes.weight_bytes(
        model, dtype)


def test_dtype_bytes_rejects_unknown_dtype() -> None:
    """dtype_bytes names the bad dtype and the allowed ones."""
    assert shapes.dtype_bytes("int4") == 0.5
    with pytest.raises(ValueError, match="fp8") as excinfo:
        shapes.dtype_bytes("fp8")
    assert "fp32, fp16, bf16, int8, int4" in str(excinfo.value)


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda m: m.pop("card_parameter_count"), "card_parameter_count"),
    (lambda m: m.update(card_parameter_count="69B"), "card_parameter_count"),
    (lambda m: m.update(card_parameter_count=True), "card_parameter_count"),
    (lambda m: m.update(activation="silu"), "activation"),
    (lambda m: m.update(native_activation="relu"), "native_activation"),
    (lambda m: m.update(params_B=70), "params_B"),
    (lambda m: m.update(name=""), "name"),
])
def test_bad_meta_raises_naming_slug_and_field(mutate, field: str) -> None:
    """A missing, unknown or mistyped meta field raises ValueError naming slug and field."""
    meta = dict(META["llama2_70b"])
    mutate(meta)
    with pytest.raises(ValueError, match=field) as excinfo:
        shapes.model_from_config("llama2_70b", _config("llama2_70b"), meta)
    assert "llama2_70b" in str(excinfo.value)


def test_bad_config_raises_naming_field() -> None:
    """A missing or mistyped config field, or unknown model_type, raises ValueError naming it."""
    cfg = _config("opt_66b")
    del cfg["ffn_dim"]
    with pytest.raises(ValueError, match="ffn_dim"):
        shapes.model_from_config("opt_66b", cfg, META["opt_66b"])
    cfg = _config("llama2_70b")
    cfg["num_key_value_heads"] = "8"
    with pytest.raises(ValueError, match="num_key_value_heads"):
        shapes.model_from_config("llama2_70b", cfg, META["llama2_70b"])
    cfg = _config("llama2_70b")
    cfg["model_type"] = "gpt_neox"
    with pytest.raises(ValueError, match="model_type"):
        shapes.model_from_config("llama2_70b", cfg, META["llama2_70b"])


def test_reglu_on_ungated_model_is_rejected() -> None:
    """An OPT (ungated MLP) declared as reglu fails validation."""
    meta = dict(META["opt_13b"], activation="reglu")
    with pytest.raises(ValueError, match="activation"):
        shapes.model_from_config("opt_13b", _config("opt_13b"), meta)


def test_opt_project_in_and_out_are_counted() -> None:
    """OPT with word_embed_proj_dim e ≠ d_model (as OPT-350M): embeddings are vocab × e, plus
    project_in and project_out of e × d_model each, no bias."""
    cfg = _config("opt_13b")
    base = shapes.model_from_config("opt_13b", cfg, META["opt_13b"])
    cfg = dict(cfg, word_embed_proj_dim=2560)
    narrow = shapes.model_from_config("opt_13b", cfg, META["opt_13b"])
    assert narrow.word_embed_proj_dim == 2560 and narrow.d_model == 5120
    expected = 50272 * (2560 - 5120) + 2 * 2560 * 5120
    assert shapes.parameter_count(narrow) - shapes.parameter_count(base) == expected


def test_size_limits_are_inclusive_and_zero_is_refused() -> None:
    """Counts and widths may reach 2**53; zero or past it is refused, naming the field."""
    import dataclasses

    model = _model("opt_13b")
    assert dataclasses.replace(model, vocab_size=shapes.MAX_CONFIG_INT).vocab_size == 2**53
    with pytest.raises(ValueError, match="vocab_size must be a positive int up to 2"):
        dataclasses.replace(model, vocab_size=shapes.MAX_CONFIG_INT + 1)
    with pytest.raises(ValueError, match="max_position_embeddings must be a positive int or None"):
        dataclasses.replace(model, max_position_embeddings=0)
    cfg = dict(_config("opt_13b"), vocab_size=shapes.MAX_CONFIG_INT)
    assert shapes.model_from_config("opt_13b", cfg, META["opt_13b"]).vocab_size == 2**53
    with pytest.raises(ValueError, match="'vocab_size' must be a positive int up to 2"):
        shapes.model_from_config("opt_13b", dict(cfg, vocab_size=2**53 + 1), META["opt_13b"])
    with pytest.raises(ValueError, match="k and n must be positive ints"):
        shapes.Matrix(name="fc1", k=0, n=4, neuron_kind="mlp")
    with pytest.raises(ValueError, match="'card_parameter_count' must be a positive int"):
        shapes.model_from_config("opt_13b", _config("opt_13b"),
                                 dict(META["opt_13b"], card_parameter_count=0))
