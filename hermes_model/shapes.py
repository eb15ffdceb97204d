"""Model shapes: weight matrices, neurons, parameter counts, bytes and FLOP per decoded token.

A :class:`ModelSpec` is built by :func:`model_from_config` from a published Hugging Face
``config.json`` (read per family: ``opt``, ``llama``, ``falcon``) and one entry of
``data/models/models.yaml`` (display name, sources, card parameter count, activation). This
module never reads files; ``hermes_model.io.load_model(slug)`` reads both and calls
:func:`model_from_config`.

Neurons follow the Hermes paper (§II-B, Fig. 3). An *MLP neuron* is one row of the up
projection, the matching row of the gate projection (gated MLPs only) and the matching column
of the down projection: it is skipped when its activation is zero. A *QKV neuron* is one input
channel of the fused QKV projection, i.e. one column of ``[W_q; W_k; W_v]``: Hermes inserts a
ReLU before QKV generation, so a zero input channel skips that column.

Units are SI: bytes, FLOP (2 FLOP per multiply-accumulate), counts as ``int``. Functions are
scalar but numpy-friendly where an argument is a number (``context_len``).

References
----------
Hermes (HPCA 2025), §II-B and §V-A; PowerInfer (SOSP 2024) and SparseLLM ReLU-fied models for
the ReGLU / ReLU variants; the model configs cited in ``data/models/models.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

DTYPE_BYTES: Final[Mapping[str, float]] = MappingProxyType(
    {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
)
"""Bytes per stored weight or cache element for each supported dtype name."""

FAMILIES: Final = ("opt", "llama", "falcon")
ACTIVATIONS: Final = ("relu", "reglu", "swiglu", "gelu")
NATIVE_ACTIVATIONS: Final = ("relu", "swiglu", "gelu")
NORMS: Final = ("layernorm", "rmsnorm")
NEURON_KINDS: Final = ("qkv", "mlp")
META_KEYS: Final = frozenset(
    {"name", "config_source", "card_parameter_count", "card_parameter_source", "activation",
     "native_activation", "notes"}
)
_GATED_ACTIVATIONS: Final = frozenset({"reglu", "swiglu"})


def dtype_bytes(dtype: str) -> float:
    """Bytes per element of a named dtype.

    Parameters
    ----------
    dtype : str
        One of ``fp32``, ``fp16``, ``bf16``, ``int8``, ``int4``.

    Returns
    -------
    float
        Bytes per element (``int4`` is 0.5 B).

    Raises
    ------
    ValueError
        If `dtype` is not a known name; the message lists the allowed ones.
    """
    try:
        return DTYPE_BYTES[dtype]
    except (KeyError, TypeError):
        raise ValueError(
            f"dtype must be one of {', '.join(DTYPE_BYTES)}; got {dtype!r}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Dataclasses
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """Shape of one decoder-only transformer, as needed for byte and FLOP accounting.

    Attributes
    ----------
    slug, name : str
        Catalogue slug (``llama2_70b``) and display name.
    family : str
        ``opt``, ``llama`` or ``falcon``.
    n_layers, d_model, d_ffn, n_heads, n_kv_heads, head_dim, vocab_size : int
        Decoder layers; hidden width; MLP inner width (neurons per layer); query heads;
        key/value heads (GQA / multi-group); width of one head; vocabulary rows.
    gated_mlp : bool
        Whether the MLP has a gate projection (LLaMA: gate, up, down).
    activation : str
        MLP behaviour of the variant the paper evaluates: ``relu``, ``reglu``, ``swiglu``,
        ``gelu``.
    native_activation : str
        Activation of the original checkpoint: ``relu``, ``swiglu``, ``gelu``.
    card_parameter_count : int
        Exact parameter count the model card or checkpoint metadata states.
    config_source : str
        Where the config was written from, with the retrieval date.
    attn_bias, o_bias, mlp_bias : bool
        Whether the q/k/v projections, the attention output projection (o) and the MLP linear
        layers carry biases (OPT: all three; Qwen2: q/k/v only).
    norm : str
        ``layernorm`` (weight and bias, 2·d parameters) or ``rmsnorm`` (weight, d parameters).
    norms_per_layer : int
        Norm modules per decoder layer (2 for all models here; Falcon-40B's parallel block has
        ``ln_attn`` and ``ln_mlp``).
    final_norm : bool
        Whether a norm follows the last layer.
    tied_embeddings : bool
        Whether the LM head shares its values with the input embedding.
    lm_head_stored : bool
        Whether the published checkpoint stores the LM head as its own tensor (counted by the
        card). True for untied LLaMA, and for Falcon-40B, whose checkpoint stores
        ``lm_head.weight`` although the model ties it; False for OPT.
    n_learned_positions : int
        Rows of a learned positional embedding (OPT: ``max_position_embeddings + 2``); 0 for
        rotary models.
    word_embed_proj_dim : int
        Width of the token embedding (OPT's ``word_embed_proj_dim``; equals `d_model` otherwise).
        If it differs from `d_model`, ``project_in`` / ``project_out`` matrices exist.
    parallel_attn : bool
        Falcon's parallel attention/MLP block (both read the same normed input).
    new_decoder_architecture : bool
        Falcon-40B's block layout (grouped KV, two norms per layer).
    max_position_embeddings : int or None
        Trained context length (tokens), as the config states it; None where it states none
        (Falcon-40B's original RW config): then no context limit is checked.
    """

    slug: str
    name: str
    family: str
    n_layers: int
    d_model: int
    d_ffn: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab_size: int
    gated_mlp: bool
    activation: str
    native_activation: str
    card_parameter_count: int
    config_source: str
    attn_bias: bool
    o_bias: bool
    mlp_bias: bool
    norm: str
    norms_per_layer: int
    final_norm: bool
    tied_embeddings: bool
    lm_head_stored: bool
    n_learned_positions: int
    word_embed_proj_dim: int
    parallel_attn: bool
    new_decoder_architecture: bool
    max_position_embeddings: int | None

    def __post_init__(self) -> None:
        where = f"model {self.slug!r}"
        for field_name in ("n_layers", "d_model", "d_ffn", "n_heads", "n_kv_heads", "head_dim",
                           "vocab_size", "card_parameter_count", "norms_per_layer",
                           "word_embed_proj_dim"):
            value = getattr(self, field_name)
            if not _is_int(value) or not 0 < value <= MAX_CONFIG_INT:
                raise ValueError(f"{where}: {field_name} must be a positive int up to 2**53, "
                                 f"got {value!r}")
        limit = self.max_position_embeddings
        if limit is not None and (not _is_int(limit) or limit <= 0):
            raise ValueError(f"{where}: max_position_embeddings must be a positive int or None "
                             f"(not stated), got {limit!r}")
        if not _is_int(self.n_learned_positions) or self.n_learned_positions < 0:
            raise ValueError(f"{where}: n_learned_positions must be an int >= 0, "
                             f"got {self.n_learned_positions!r}")
        for field_name in ("gated_mlp", "attn_bias", "o_bias", "mlp_bias", "final_norm",
                           "tied_embeddings", "lm_head_stored", "parallel_attn",
                           "new_decoder_architecture"):
            value = getattr(self, field_name)
            if not isinstance(value, bool):
                msg = f"{where}: {field_name} must be a bool, got {value!r}"
                raise ValueError(msg)
        for field_name, allowed in (("family", FAMILIES), ("activation", ACTIVATIONS),
                                    ("native_activation", NATIVE_ACTIVATIONS), ("norm", NORMS)):
            value = getattr(self, field_name)
            if value not in allowed:
                raise ValueError(f"{where}: {field_name} must be one of {', '.join(allowed)}, "
                                 f"got {value!r}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"{where}: n_heads ({self.n_heads}) must be a multiple of "
                             f"n_kv_heads ({self.n_kv_heads})")
        if self.gated_mlp != (self.activation in _GATED_ACTIVATIONS):
            raise ValueError(f"{where}: activation {self.activation!r} does not match "
                             f"gated_mlp={self.gated_mlp} (reglu/swiglu need a gated MLP)")
        if self.gated_mlp != (self.native_activation == "swiglu"):
            raise ValueError(f"{where}: native_activation {self.native_activation!r} does not "
                             f"match gated_mlp={self.gated_mlp}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    """One weight matrix of a decoder layer, as a GEMV ``y = W x`` for one token.

    Attributes
    ----------
    name : str
        ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``, ``up_proj``, ``gate_proj``, ``down_proj``.
    k : int
        Input dimension (elements of ``x``).
    n : int
        Output dimension (elements of ``y``).
    neuron_kind : str
        Which sparse neuron kind slices this matrix: ``qkv`` (columns of q/k/v), ``mlp`` (rows of
        up/gate, columns of down) or ``none`` (``o_proj``, dense).
    """

    name: str
    k: int
    n: int
    neuron_kind: str

    def __post_init__(self) -> None:
        if not (_is_int(self.k) and self.k > 0 and _is_int(self.n) and self.n > 0):
            raise ValueError(f"matrix {self.name!r}: k and n must be positive ints, "
                             f"got k={self.k!r}, n={self.n!r}")
        if self.neuron_kind not in (*NEURON_KINDS, "none"):
            raise ValueError(f"matrix {self.name!r}: neuron_kind must be qkv, mlp or none, "
                             f"got {self.neuron_kind!r}")

    @property
    def n_elements(self) -> int:
        """Weights in the matrix, ``k * n`` (count)."""
        return self.k * self.n


# ---------------------------------------------------------------------------------------------
# Construction from a published config
# ---------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _get(config: Mapping[str, Any], slug: str, key: str, kind: type | tuple[type, ...],
         default: Any = ...) -> Any:
    """Read ``config[key]``, checking its type; a missing key without default raises."""
    if key not in config:
        if default is ...:
            raise ValueError(f"model {slug!r}: config field {key!r} is missing")
        return default
    value = config[key]
    ok = _is_int(value) if kind is int else isinstance(value, kind)
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ValueError(f"model {slug!r}: config field {key!r} must be {names}, got {value!r}")
    if kind is int and not 0 < value <= MAX_CONFIG_INT:  # every count and width is positive
        shown = repr(value) if abs(value) < 10**30 else f"an int of {len(str(value))} digits"
        raise ValueError(f"model {slug!r}: config field {key!r} must be a positive int up to "
                         f"2**53, got {shown}")
    return value


#: Largest count or width a config may state: 2**53, the last integer a float64 holds exactly
#: (byte and FLOP counts are computed in float64).
MAX_CONFIG_INT: int = 2**53

#: ``torch_dtype`` values a config may state. They name the checkpoint's storage; every policy
#: runs the weights in fp16 (the paper's choice), so any floating type reads the same.
FLOAT_DTYPES: frozenset[str] = frozenset({"float16", "bfloat16", "float32", "auto"})


def _check_dtype(slug: str, config: Mapping[str, Any]) -> None:
    """Refuse a quantised checkpoint: its weights are not the fp16 matrices every policy moves."""
    dtype = config.get("torch_dtype", "float16")
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"model {slug!r}: config field 'torch_dtype' must be one of "
                         f"{', '.join(sorted(FLOAT_DTYPES))} (the model runs fp16 weights; "
                         f"quantised checkpoints are not modelled), got {dtype!r}")
    if "quantization_config" in config:
        raise ValueError(f"model {slug!r}: config field 'quantization_config' is present; "
                         "quantised checkpoints are not modelled (the model runs fp16 weights)")


def _kv_heads(slug: str, n_kv: int, n_heads: int, kv_key: str, heads_key: str) -> int:
    """The KV heads, refusing a count that does not divide the query heads (grouped attention
    shares each KV head among a whole number of query heads)."""
    if n_heads % n_kv:
        raise ValueError(f"model {slug!r}: config field {heads_key!r} ({n_heads}) must be a "
                         f"multiple of {kv_key!r} ({n_kv})")
    return n_kv


def _head_dim(slug: str, d: int, n_heads: int, key: str) -> int:
    """``d // n_heads``, refusing a width the heads do not divide (no real checkpoint has one)."""
    if d % n_heads:
        raise ValueError(f"model {slug!r}: config field 'hidden_size' ({d}) must be a multiple "
                         f"of {key!r} ({n_heads})")
    return d // n_heads


def _check_meta(slug: str, meta: Mapping[str, Any]) -> None:
    if not isinstance(meta, Mapping):
        msg = f"model {slug!r}: meta must be a mapping, got {type(meta).__name__}"
        raise ValueError(msg)
    missing = sorted(META_KEYS - set(meta))
    if missing:
        raise ValueError(f"model {slug!r}: meta field(s) missing: {', '.join(missing)}")
    unknown = sorted(str(k) for k in set(meta) - META_KEYS)
    if unknown:
        raise ValueError(f"model {slug!r}: unknown meta field(s): {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(META_KEYS))}")
    for key in ("name", "config_source", "card_parameter_source", "notes"):
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise ValueError(f"model {slug!r}: meta field {key!r} must be a non-empty string, "
                             f"got {meta[key]!r}")
    count = meta["card_parameter_count"]
    if not _is_int(count) or count <= 0:
        raise ValueError(f"model {slug!r}: meta field 'card_parameter_count' must be a positive "
                         f"int, got {count!r}")
    if meta["activation"] not in ACTIVATIONS:
        raise ValueError(f"model {slug!r}: meta field 'activation' must be one of "
                         f"{', '.join(ACTIVATIONS)}, got {meta['activation']!r}")
    if meta["native_activation"] not in NATIVE_ACTIVATIONS:
        raise ValueError(f"model {slug!r}: meta field 'native_activation' must be one of "
                         f"{', '.join(NATIVE_ACTIVATIONS)}, got {meta['native_activation']!r}")


#: Per family: the config key of the MLP activation, its default, and each allowed value with the
#: native activation it means (LLaMA's MLP is gated: SiLU only). The Falcon RW config has no
#: activation field; HF FalconConfig defaults to gelu.
_ACTIVATION_FIELDS: Final = {
    "opt": ("activation_function", "relu", {"relu": "relu", "gelu": "gelu"}),
    "llama": ("hidden_act", "silu", {"silu": "swiglu", "swish": "swiglu"}),
    "falcon": ("activation", "gelu", {"gelu": "gelu", "relu": "relu"}),
}


def _native_from_config(slug: str, family: str, config: Mapping[str, Any]) -> str:
    key, default, allowed = _ACTIVATION_FIELDS[family]
    act = _get(config, slug, key, str, default)
    if act not in allowed:
        raise ValueError(f"model {slug!r}: config field {key!r} must be one of "
                         f"{', '.join(allowed)} for a {family} model, got {act!r}")
    return allowed[act]


#: ``model_type`` values read, and the reader (family) each goes to.
MODEL_TYPES: Final = {"opt": "opt", "llama": "llama", "mistral": "llama", "qwen2": "llama",
                      "falcon": "falcon", "RefinedWeb": "falcon", "RefinedWebModel": "falcon"}


def _family(slug: str, config: Mapping[str, Any]) -> str:
    model_type = config.get("model_type")
    if isinstance(model_type, str) and model_type in MODEL_TYPES:
        return MODEL_TYPES[model_type]
    hint = ""
    if isinstance(model_type, str) and ("moe" in model_type.lower()
                                        or "num_local_experts" in config
                                        or "num_experts" in config):
        hint = ("; mixture-of-experts models are not modelled (each token reads a few experts' "
                "weights, not a sparse share of one MLP)")
    elif isinstance(model_type, str):
        hint = ("; another model of the Llama architecture (gated SiLU MLP, RMSNorm, rotary "
                "positions) reads as llama once its config says \"model_type\": \"llama\" "
                "(with \"attention_bias\": true where its projections carry biases)")
    raise ValueError(f"model {slug!r}: config field 'model_type' must be one of "
                     f"{', '.join(MODEL_TYPES)}, got {model_type!r}{hint}")


def config_native_activation(slug: str, config: Mapping[str, Any]) -> str:
    """The native activation (``relu``, ``swiglu``, ``gelu``) a config's activation field means;
    ``ValueError`` naming the field and its allowed values otherwise."""
    if not isinstance(config, Mapping):
        raise ValueError(f"model {slug!r}: config must be a mapping, got {type(config).__name__}")
    return _native_from_config(slug, _family(slug, config), config)


def _opt_fields(slug: str, config: Mapping[str, Any]) -> dict[str, Any]:
    d = _get(config, slug, "hidden_size", int)
    n_heads = _get(config, slug, "num_attention_heads", int)
    bias = _get(config, slug, "enable_bias", bool, True)
    if not _get(config, slug, "do_layer_norm_before", bool, True):
        # Post-LN OPT (350m) has no final norm; none of the catalogue models is post-LN.
        final_norm = False
    else:
        final_norm = not _get(config, slug, "_remove_final_layer_norm", bool, False)
    tied = _get(config, slug, "tie_word_embeddings", bool, True)
    max_pos = _get(config, slug, "max_position_embeddings", int)
    return {
        "family": "opt", "n_layers": _get(config, slug, "num_hidden_layers", int),
        "d_model": d, "d_ffn": _get(config, slug, "ffn_dim", int), "n_heads": n_heads,
        "n_kv_heads": n_heads, "head_dim": _head_dim(slug, d, n_heads, "num_attention_heads"),
        "vocab_size": _get(config, slug, "vocab_size", int), "gated_mlp": False,
        "attn_bias": bias, "o_bias": bias, "mlp_bias": bias, "norm": "layernorm",
        "norms_per_layer": 2,
        "final_norm": final_norm, "tied_embeddings": tied, "lm_head_stored": not tied,
        # OPTLearnedPositionalEmbedding keeps an offset of 2 rows.
        "n_learned_positions": max_pos + 2,
        "word_embed_proj_dim": _get(config, slug, "word_embed_proj_dim", int, d),
        "parallel_attn": False, "new_decoder_architecture": False,
        "max_position_embeddings": max_pos,
    }


def _llama_fields(slug: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The Llama architecture and its kin (``model_type`` ``llama``, ``mistral``, ``qwen2``):
    gated SiLU MLP, RMSNorm, rotary positions, grouped KV heads. Sliding-window attention
    (Mistral's ``sliding_window``) is not modelled: the KV cache holds every token of the
    context, exact for contexts up to the window (4,096 tokens for Mistral-7B-v0.1)."""
    qwen2 = config.get("model_type") == "qwen2"
    mistral = config.get("model_type") == "mistral"
    attention_bias = _get(config, slug, "attention_bias", bool, False)
    d = _get(config, slug, "hidden_size", int)
    n_heads = _get(config, slug, "num_attention_heads", int)
    tied = _get(config, slug, "tie_word_embeddings", bool, False)
    return {
        "family": "llama", "n_layers": _get(config, slug, "num_hidden_layers", int),
        "d_model": d, "d_ffn": _get(config, slug, "intermediate_size", int), "n_heads": n_heads,
        "n_kv_heads": _kv_heads(slug, _get(config, slug, "num_key_value_heads", int, n_heads),
                                n_heads, "num_key_value_heads", "num_attention_heads"),
        "head_dim": (_get(config, slug, "head_dim", int) if "head_dim" in config
                     else _head_dim(slug, d, n_heads, "num_attention_heads")),
        "vocab_size": _get(config, slug, "vocab_size", int), "gated_mlp": True,
        # transformers' LlamaAttention gives q, k, v and o the config's attention_bias;
        # Qwen2Attention hard-codes biases on q, k and v and none on o; Mistral has none.
        "attn_bias": qwen2 or (not mistral and attention_bias),
        "o_bias": not (qwen2 or mistral) and attention_bias,
        "mlp_bias": not (qwen2 or mistral) and _get(config, slug, "mlp_bias", bool, False),
        "norm": "rmsnorm", "norms_per_layer": 2, "final_norm": True,
        "tied_embeddings": tied, "lm_head_stored": not tied, "n_learned_positions": 0,
        "word_embed_proj_dim": d, "parallel_attn": False, "new_decoder_architecture": False,
        "max_position_embeddings": _get(config, slug, "max_position_embeddings", int),
    }


def _falcon_fields(slug: str, config: Mapping[str, Any]) -> dict[str, Any]:
    # Two spellings: the original RW config (model_type "RefinedWeb", n_layer/n_head/n_head_kv)
    # and transformers' FalconConfig (model_type "falcon", num_hidden_layers/...).
    rw = config.get("model_type") in ("RefinedWeb", "RefinedWebModel")
    d = _get(config, slug, "hidden_size", int)
    n_heads = _get(config, slug, "n_head" if rw else "num_attention_heads", int)
    if rw:
        # "RefinedWeb" is the 40B-style block; "RefinedWebModel" the 7B-style (multi-query).
        new_arch = config.get("model_type") == "RefinedWeb"
        n_kv = _kv_heads(slug, _get(config, slug, "n_head_kv", int, 1), n_heads, "n_head_kv",
                         "n_head")
        n_layers = _get(config, slug, "n_layer", int)
    else:
        new_arch = _get(config, slug, "new_decoder_architecture", bool, False)
        multi_query = _get(config, slug, "multi_query", bool, True)
        n_kv = _kv_heads(slug, _get(config, slug, "num_kv_heads", int,
                                    1 if multi_query else n_heads),
                         n_heads, "num_kv_heads", "num_attention_heads")
        n_layers = _get(config, slug, "num_hidden_layers", int)
    bias = _get(config, slug, "bias", bool, False)
    return {
        "family": "falcon", "n_layers": n_layers, "d_model": d,
        "d_ffn": _get(config, slug, "ffn_hidden_size", int, 4 * d), "n_heads": n_heads,
        "n_kv_heads": n_kv,
        "head_dim": _head_dim(slug, d, n_heads, "n_head" if rw else "num_attention_heads"),
        "vocab_size": _get(config, slug, "vocab_size", int), "gated_mlp": False,
        "attn_bias": bias, "o_bias": bias, "mlp_bias": bias, "norm": "layernorm",
        "norms_per_layer": 2 if new_arch else 1, "final_norm": True,
        "tied_embeddings": _get(config, slug, "tie_word_embeddings", bool, True),
        # The released checkpoints store lm_head.weight as a tensor of its own (the
        # pytorch_model.bin.index.json weight_map lists it and total_size counts it).
        "lm_head_stored": True, "n_learned_positions": 0, "word_embed_proj_dim": d,
        "parallel_attn": _get(config, slug, "parallel_attn", bool, True),
        "new_decoder_architecture": new_arch,
        # The RW config of Falcon-40B states none (transformers' FalconConfig defaults to 2048,
        # a library default, not the checkpoint's): None, so no context limit is enforced.
        "max_position_embeddings": _get(config, slug, "max_position_embeddings", int, None),
    }


def model_from_config(slug: str, config: Mapping[str, Any], meta: Mapping[str, Any]) -> ModelSpec:
    """Build a :class:`ModelSpec` from a Hugging Face config and a catalogue entry.

    Parameters
    ----------
    slug : str
        Catalogue slug, e.g. ``"llama2_70b"``; used in every error message.
    config : Mapping[str, Any]
        The parsed ``config.json``. ``model_type`` selects the reader (:data:`MODEL_TYPES`):
        ``opt``; ``llama``, ``mistral`` or ``qwen2``; ``falcon``, ``RefinedWeb`` or
        ``RefinedWebModel``.
    meta : Mapping[str, Any]
        The ``models.yaml`` entry, with exactly the keys ``name``, ``config_source``,
        ``card_parameter_count``, ``card_parameter_source``, ``activation``,
        ``native_activation``, ``notes``.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        Naming the slug and the field: a missing or unknown meta key, a value of the wrong type,
        an unknown ``model_type``, a missing config field, or a ``native_activation`` that
        disagrees with the config's activation.
    """
    if not isinstance(slug, str) or not slug:
        raise ValueError(f"slug must be a non-empty string, got {slug!r}")
    if not isinstance(config, Mapping):
        msg = f"model {slug!r}: config must be a mapping, got {type(config).__name__}"
        raise ValueError(msg)
    _check_meta(slug, meta)
    _check_dtype(slug, config)
    fields = {"opt": _opt_fields, "llama": _llama_fields,
              "falcon": _falcon_fields}[_family(slug, config)](slug, config)
    native = _native_from_config(slug, fields["family"], config)
    if meta["native_activation"] != native:
        raise ValueError(f"model {slug!r}: meta field 'native_activation' is "
                         f"{meta['native_activation']!r} but the config implies {native!r}")
    return ModelSpec(
        slug=slug, name=meta["name"], activation=meta["activation"],
        native_activation=meta["native_activation"],
        card_parameter_count=int(meta["card_parameter_count"]),
        config_source=meta["config_source"], **fields,
    )


# ---------------------------------------------------------------------------------------------
# Matrices and neurons
# ---------------------------------------------------------------------------------------------


def layer_matrices(model: ModelSpec) -> tuple[Matrix, ...]:
    """Weight matrices of one decoder layer, in execution order.

    Parameters
    ----------
    model : ModelSpec

    Returns
    -------
    tuple of Matrix
        ``q_proj``, ``k_proj``, ``v_proj`` (input ``d_model``; k/v output
        ``n_kv_heads * head_dim`` under GQA), ``o_proj``, ``up_proj``, ``gate_proj`` (gated MLPs
        only) and ``down_proj``. OPT's ``fc1``/``fc2`` are named ``up_proj``/``down_proj``;
        Falcon's fused ``query_key_value`` is split into q/k/v and its ``dense_h_to_4h`` /
        ``dense_4h_to_h`` are ``up_proj`` / ``down_proj``.

    Notes
    -----
    Biases, norms and embeddings are not matrices of the layer; see :func:`parameter_count`.
    """
    d, q_out = model.d_model, model.n_heads * model.head_dim
    kv_out = model.n_kv_heads * model.head_dim
    mats = [
        Matrix(name="q_proj", k=d, n=q_out, neuron_kind="qkv"),
        Matrix(name="k_proj", k=d, n=kv_out, neuron_kind="qkv"),
        Matrix(name="v_proj", k=d, n=kv_out, neuron_kind="qkv"),
        Matrix(name="o_proj", k=q_out, n=d, neuron_kind="none"),
        Matrix(name="up_proj", k=d, n=model.d_ffn, neuron_kind="mlp"),
    ]
    if model.gated_mlp:
        mats.append(Matrix(name="gate_proj", k=d, n=model.d_ffn, neuron_kind="mlp"))
    mats.append(Matrix(name="down_proj", k=model.d_ffn, n=d, neuron_kind="mlp"))
    return tuple(mats)


def mlp_neurons_per_layer(model: ModelSpec) -> int:
    """MLP neurons in one layer, ``d_ffn`` (count)."""
    return model.d_ffn


def qkv_neurons_per_layer(model: ModelSpec) -> int:
    """QKV neurons (input channels of the QKV projection) in one layer, ``d_model`` (count)."""
    return model.d_model


def _check_kind(kind: str) -> None:
    if kind not in NEURON_KINDS:
        raise ValueError(f"neuron kind must be one of {', '.join(NEURON_KINDS)}, got {kind!r}")


def _neuron_elements(model: ModelSpec, kind: str) -> int:
    """Weights touched by one neuron of `kind` (count): the slices of its matrices."""
    _check_kind(kind)
    total = 0
    for m in layer_matrices(model):
        if m.neuron_kind != kind:
            continue
        # W is n x k (y = W x). A QKV neuron is input channel j: column j of q, k, v (n weights
        # each). An MLP neuron i is row i of up/gate (k weights) and column i of down (n weights).
        total += m.n if (kind == "qkv" or m.name == "down_proj") else m.k
    return total


def neuron_bytes(model: ModelSpec, kind: str, dtype: str = "fp16") -> float:
    """Weight bytes of one neuron.

    Parameters
    ----------
    model : ModelSpec
    kind : str
        ``"mlp"``: one row of up (+ gate) and one column of down, ``(2 or 3) * d_model``
        weights. ``"qkv"``: one input channel of q, k and v,
        ``(n_heads + 2 * n_kv_heads) * head_dim`` weights.
    dtype : str, default "fp16"
        Weight dtype (see :data:`DTYPE_BYTES`).

    Returns
    -------
    float
        Bytes (B). Weights only: biases are **not** included (OPT's fc1 bias adds one element
        per MLP neuron, < 0.02 %; output biases of q/k/v/down belong to no single neuron).
    """
    return _neuron_elements(model, kind) * dtype_bytes(dtype)


def neuron_flop_per_token(model: ModelSpec, kind: str) -> float:
    """FLOP one active neuron costs per decoded token (2 FLOP per multiply-accumulate).

    Parameters
    ----------
    model : ModelSpec
    kind : str
        ``"mlp"`` or ``"qkv"``, as in :func:`neuron_bytes`.

    Returns
    -------
    float
        FLOP per token: ``2 *`` the neuron's weights (each weight is one MAC in a GEMV).
    """
    return 2.0 * _neuron_elements(model, kind)


# ---------------------------------------------------------------------------------------------
# Parameter counts and bytes
# ---------------------------------------------------------------------------------------------


def _norm_params(model: ModelSpec) -> int:
    return (2 if model.norm == "layernorm" else 1) * model.d_model


def _layer_bias_params(model: ModelSpec) -> int:
    total = 0
    for m in layer_matrices(model):
        has_bias = {"mlp": model.mlp_bias, "qkv": model.attn_bias}.get(m.neuron_kind,
                                                                       model.o_bias)
        total += m.n if has_bias else 0
    return total


def _layer_matrix_params(model: ModelSpec) -> int:
    return sum(m.n_elements for m in layer_matrices(model))


def _embedding_params(model: ModelSpec) -> int:
    e = model.word_embed_proj_dim
    total = model.vocab_size * e + model.n_learned_positions * model.d_model
    if model.lm_head_stored:
        total += model.vocab_size * e
    if e != model.d_model:  # OPT project_in / project_out, no bias
        total += 2 * e * model.d_model
    return total


def parameter_count(model: ModelSpec) -> int:
    """Parameters of the model, counted as its card / checkpoint metadata counts them.

    Parameters
    ----------
    model : ModelSpec

    Returns
    -------
    int
        ``n_layers * (matrices + biases + norms) + embeddings + final norm`` (count).

    Notes
    -----
    Conventions, chosen to reproduce the card numbers exactly:

    * every stored tensor is counted: linear weights and biases, norm weights (and LayerNorm
      biases), token embeddings, learned positional embeddings (OPT: 2048 + 2 rows),
      ``project_in``/``project_out`` where OPT has them;
    * a tied LM head is counted once (OPT); an LM head the checkpoint stores separately is
      counted again (LLaMA: untied; Falcon-40B: tied in the model but stored as its own
      ``lm_head.weight`` tensor, which the index ``total_size`` counts);
    * non-parameter buffers (rotary ``inv_freq``, attention masks) are not counted.

    With these conventions the count equals ``card_parameter_count`` exactly for every
    catalogue model (residual 0). For the OPT models the card states only a rounded size,
    so that equality is checked against a config-derived value (see ``models.yaml``).
    """
    per_layer = (_layer_matrix_params(model) + _layer_bias_params(model)
                 + model.norms_per_layer * _norm_params(model))
    final = _norm_params(model) if model.final_norm else 0
    return model.n_layers * per_layer + _embedding_params(model) + final


def weight_bytes(model: ModelSpec, dtype: str = "fp16") -> float:
    """Bytes of all stored parameters, ``parameter_count * dtype bytes`` (B).

    Parameters
    ----------
    model : ModelSpec
    dtype : str, default "fp16"
        Dtype of every parameter (see :data:`DTYPE_BYTES`).

    Returns
    -------
    float
        Bytes (B), including norms, biases and embeddings, as the checkpoint stores them.
    """
    return parameter_count(model) * dtype_bytes(dtype)


def layer_weight_bytes(model: ModelSpec, dtype: str = "fp16") -> float:
    """Bytes of one decoder layer's weight matrices (no biases, no norms) (B)."""
    return _layer_matrix_params(model) * dtype_bytes(dtype)


def embedding_bytes(model: ModelSpec, dtype: str = "fp16") -> float:
    """Bytes of the embeddings (B).

    Input token embedding, plus the LM head when the checkpoint stores it separately
    (``lm_head_stored``), plus learned positional embeddings and OPT's projections if present.
    """
    return _embedding_params(model) * dtype_bytes(dtype)


def kv_cache_bytes_per_token(model: ModelSpec, dtype: str = "fp16") -> float:
    """KV-cache bytes added per token (B): ``2 * n_layers * n_kv_heads * head_dim * bytes``."""
    return 2.0 * model.n_layers * model.n_kv_heads * model.head_dim * dtype_bytes(dtype)


def decode_flop_per_token(model: ModelSpec,
                          context_len: int | npt.ArrayLike) -> float | npt.NDArray[np.float64]:
    """Dense FLOP to decode one token (batch 1), 2 FLOP per multiply-accumulate.

    Parameters
    ----------
    model : ModelSpec
    context_len : int or array_like
        Cached positions the new token attends to, including itself (tokens, >= 0).

    Returns
    -------
    float or ndarray
        FLOP per token.

    Notes
    -----
    .. math::

        F = L\\,\\Big(2\\sum_{W\\in\\text{layer}} k_W n_W + 4\\,H\\,d_h\\,T\\Big) + 2\\,d\\,V

    The layer sum covers q, k, v, o, up, (gate,) down; :math:`4 H d_h T` is the score product
    :math:`QK^\\top` and the weighted sum with :math:`V` over :math:`T` positions; :math:`2dV` is
    the LM head. The embedding lookup, norms, biases, softmax and activation functions are
    excluded (each is O(d) per token). Dense: activation sparsity is applied elsewhere.
    """
    t = np.asarray(context_len)
    if np.any(t < 0):
        raise ValueError(f"context_len must be >= 0, got {context_len!r}")
    per_layer = 2.0 * _layer_matrix_params(model) + 4.0 * model.n_heads * model.head_dim * t
    result = model.n_layers * per_layer + 2.0 * model.word_embed_proj_dim * model.vocab_size
    return float(result) if np.ndim(result) == 0 else result
