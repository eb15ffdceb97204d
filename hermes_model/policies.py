"""Every system of the paper's evaluation as a policy: one signature, one registry (issue 9).

A *policy* maps a model, a system and the run's shape to an :class:`Estimate`: the prefill time,
the mean decode step (every sequence of the batch advances one token; the KV cache grows from
``prompt_len`` to ``prompt_len + gen_len - 1``), the total and a breakdown in Fig. 12's categories.
Each is a pure function with the keyword-only signature of :data:`PolicyFn`; :data:`POLICIES`
maps each :class:`Policy` to its function.

Throughput is the paper's reading (digest §13.1), stated once here:

.. math:: \\text{tokens/s} = \\frac{b \\cdot n_{gen}}{T_{prefill} + \\sum_{i=0}^{n_{gen}-1} T_{decode}(P + i)}

with *b* the batch, :math:`n_{gen}` the generated tokens and *P* the prompt length: every
generated token of every sequence counts, and prefill time is included. Each of the
:math:`n_{gen}` steps is modelled (the first token's step is counted as a decode step too:
one step more than strictly needed, < 1 %).

Operator mapping (digest §5.3, §9):

* ``hermes``: prefill entirely on the GPU, streaming every weight that is not resident over PCIe
  (overlapped with compute, layer by layer); decode per layer: QKV and MLP split into hot neurons
  on the GPU and cold neurons on the NDP-DIMMs (``max`` of the two sides, the GPU side paying its
  synchronisations over PCIe), attention on the DIMMs with the KV cache there, the projection on
  the GPU only, merges and norms on the DIMMs. Six synchronisations per layer: the QKV input to
  the GPU and its partial sums back, the attention output to the GPU and the projection's output
  back to every DIMM (a copy per DIMM, or one copy and a DIMM-link all-gather, whichever is
  faster), the MLP's input (the normed residual sum) to the GPU and its partial sums back
  (Eq. 3's two per GPU block); the sampled token ids go back once per step.
  The DIMMs' own partial sums are reduced over DIMM-link (`hermes_model.ndp.dimm_collective_s`):
  QKV's to the DIMMs holding each head, the MLP's to every DIMM. The hot/cold split comes from
  issue 7's water-filling of the
  GPU budget (:func:`hot_cold_split`, the fluid optimum of `hermes_model.partition`'s relaxation
  for identical layers), on the frequencies of `hermes_model.sparsity`.
* ``hermes-host`` (PowerInfer-like): the same split with the host CPU, at host DRAM bandwidth, in
  place of the DIMM pool; attention on the GPU with the KV cache there, so attention and the
  projection cross no link: two synchronisations per block, four per layer. With
  ``host_kv_on_gpu`` off (PowerInfer's own placement) the KV cache is in host DRAM and attention
  runs on the CPU at host rates; the GPU's whole budget holds hot neurons, and the attention
  output crosses PCIe to the GPU's projection: five synchronisations per layer.
* ``hermes-base``: NDP-DIMMs without sparsity: whole layers on the GPU while they fit, the others
  entirely on the DIMMs (the projection's and the MLP's partial sums all-reduced over DIMM-link);
  attention always on the DIMMs.
* ``accelerate``: weights in host memory, each layer copied on demand (pageable memory, no
  overlap) before it runs on the GPU.
* ``flexgen``: weights in pinned host memory, the next layer prefetched while this one computes
  (the zig-zag schedule reduces to layer-by-layer overlap at a batch that fits one GPU batch).
* ``dejavu`` adapted to offloading: a low-rank MLP predictor on the GPU per layer, then only the
  predicted-active MLP neurons gathered on the host and copied over PCIe; attention dense.
* ``gpu-only``: every weight resident on ``n_gpus`` GPUs, tensor parallel (Megatron: heads and
  MLP columns split), two ring all-reduces of the hidden state per layer over the GPU-GPU link.

Every choice the paper leaves unsaid is a field of :class:`Assumptions` with its default fixed
from first principles before any comparison with the paper's figures; :data:`UNSTATED` lists the
ones with a plausible range, and :func:`tokens_per_s_band` turns the ranges into a band.
Everything inside is SI (bytes, s, FLOP).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from functools import lru_cache
from itertools import product
from types import MappingProxyType
from typing import Any, Final, Protocol, get_type_hints

import numpy as np
import numpy.typing as npt

from hermes_model import dram, ndp, shapes, sparsity, specs
from hermes_model import units as u
from hermes_model.paper import PAPER
from hermes_model.paper import differs as differs_from_paper
from hermes_model.shapes import ModelSpec
from hermes_model.specs import SystemSpec

FloatArray = npt.NDArray[np.float64]


class Policy(StrEnum):
    """The systems of the paper's evaluation (§V-A), by their CLI names."""

    ACCELERATE = "accelerate"
    FLEXGEN = "flexgen"
    DEJAVU = "dejavu"
    HERMES_HOST = "hermes-host"
    HERMES_BASE = "hermes-base"
    HERMES = "hermes"
    GPU_ONLY = "gpu-only"


#: Fig. 12's categories, in the order of the chart.
CATEGORIES: Final = ("fc", "attention", "predictor", "prefill", "communication", "others")

#: Policies that offload weights to host memory over PCIe (FlexGen and Deja Vu: OPT only, §V-A).
OFFLOADING: Final = (Policy.ACCELERATE, Policy.FLEXGEN, Policy.DEJAVU)
OPT_ONLY: Final = (Policy.FLEXGEN, Policy.DEJAVU)
#: Policies that exploit activation sparsity (they need activation statistics).
SPARSE: Final = (Policy.DEJAVU, Policy.HERMES_HOST, Policy.HERMES)

# ------------------------------------------------------------------------ measured constants

#: γ, weight bytes a gather-then-matmul sparse GEMV moves per selected byte, and one more kernel.
#: Calibrated: `hermes_model.calibration.fit_kernels` on the 108 gathered GEMVs of
#: data/measured/gpu_h200_20261126.csv (3.077; data/README "Calibrated efficiencies").
GATHER_PENALTY: Final = 3.08
#: Per-kernel time inside a CUDA graph (s). Measured: 0.96 µs per kernel in a graph of 100 tiny
#: kernels (data/measured/gpu_h200_20261126.csv, ``launch`` rows).
CUDA_GRAPH_KERNEL_S: Final = 0.96e-6
#: Pageable host→device copy bandwidth as a share of the pinned one. Measured: median of the
#: H2D copies of 32 MiB-1 GiB, pageable 5.1 GB/s against pinned 51.4 GB/s
#: (data/measured/gpu_h200_20261126.csv); tests/test_policies.py recomputes it.
PAGEABLE_COPY_FRAC: Final = 0.10
#: Bytes of Hermes' predictor tables per neuron: a 4-bit state and two 32-bit indices of its
#: top-2 correlated neurons (§IV-C; the index width is an assumption).
PREDICTOR_ENTRY_BYTES: Final = 0.5 + 2 * 4
#: FP16 units of each DIMM's activation unit (softmax exponentials), §IV-A.
NDP_ACTIVATION_UNITS: Final = 256

#: Bytes of one token id sent back after sampling, and of one neuron index (int32).
TOKEN_ID_BYTES: Final = 4
NEURON_INDEX_BYTES: Final = 4

#: GPU kernels per block (a fixed t_0 each): QKV (gather + one fused GEMM), MLP (gather, up/gate
#: with the activation fused, down), the projection, and the layer's norms and residual adds.
KERNELS_QKV: Final = 2
KERNELS_MLP: Final = 3
KERNELS_DENSE_LAYER: Final = 6  # q/k/v fused, attention, o, up(+gate), down, norm+residual

# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    """Activation statistics of one model (from ``data/paper/sparsity_generator_inputs.csv``).

    Attributes
    ----------
    mlp_density, qkv_density : float
        Mean share of MLP / QKV neurons active per token, in (0, 1).
    mlp_hot_share, qkv_hot_share : float
        Share of neurons (most frequent first) that carries 80 % of the activations.
    similarity_d1, similarity_d10, similarity_d25 : float
        Share of a token's active neurons still active 1, 10 and 25 tokens later (Fig. 4a).
    source : str
        Where the numbers come from.
    """

    mlp_density: float
    mlp_hot_share: float
    qkv_density: float
    qkv_hot_share: float
    similarity_d1: float
    similarity_d10: float
    similarity_d25: float
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("mlp_density", "qkv_density", "mlp_hot_share", "qkv_hot_share",
                     "similarity_d1", "similarity_d10", "similarity_d25"):
            v = getattr(self, name)
            if not 0 < v < 1:
                raise ValueError(f"{name} must be in (0, 1), got {v!r}")


def activity_from_inputs(row: Mapping[str, Any]) -> Activity:
    """An :class:`Activity` from one row of ``io.load_generator_inputs()``."""
    return Activity(mlp_density=float(row["mlp_density"]),
                    mlp_hot_share=float(row["hot_share_80"]),
                    qkv_density=float(row["qkv_density"]),
                    qkv_hot_share=float(row["qkv_hot_share_80"]),
                    similarity_d1=float(row["similarity_d1"]),
                    similarity_d10=float(row["similarity_d10"]),
                    similarity_d25=float(row["similarity_d25"]),
                    source=str(row.get("mlp_density_provenance", "")))


#: Allowed `Assumptions.cycles_per_op`: the range a catalog DIMM's ``ndp_cycles_per_op`` must
#: be in too (one definition, `hermes_model.specs.CYCLES_PER_OP_RANGE`).
CYCLES_PER_OP_RANGE: Final = specs.CYCLES_PER_OP_RANGE


@dataclass(frozen=True, slots=True, kw_only=True)
class Assumptions:
    """Every choice the paper leaves unsaid, with its default (fixed before any comparison).

    Attributes
    ----------
    activity : Activity or None
        Activation statistics of the model; the sparse policies need them.
    dtype : str
        Weights, activations and KV cache in fp16 (the NDP multipliers are FP16; not stated).
    gpu_workspace_frac : float
        Share of GPU memory kept for the CUDA context, cuBLAS workspace, activations and
        fragmentation (0.10); the rest holds weights.
    projection_on_gpu : bool
        Hermes and Hermes-host keep every layer's attention output projection resident on the
        GPU (it runs only there, Fig. 6a; streaming it each token would cost more than a decode
        step, digest §13.4).
    lm_head_on_gpu : bool
        The LM head (vocab × d) is resident on the GPU and runs there; the input embedding stays
        in the DIMMs / host memory (one row per token is looked up).
    gather_penalty : float
        γ of a gathered sparse GEMV on the GPU (calibrated 3.08). The GPU computes only the
        predicted-active hot neurons with a gather, or all its hot neurons densely, whichever
        is faster for the block (a runtime can choose per block).
    cuda_graphs : bool
        False: each GPU kernel costs the calibrated t_0 (9.96 µs, launched one by one);
        True: 0.96 µs (measured inside a CUDA graph).
    ranks_parallel : bool
        The NDP core reads its DIMM's four ranks in parallel (the rank-level parallelism of the
        centre-buffer designs Hermes cites; `hermes_model.dram`).
    cycles_per_op : float or None
        Cycles of one bit-serial 8×FP16 multiplier operation; None: the catalog's 11.
    link_bandwidth_scale : float
        Multiplies the host link's per-direction bandwidth: 1 reads the paper's 64 GB/s as per
        direction; 0.5 reads it as the bidirectional x16 figure.
    prefill_overlap : bool
        Prefill streams layer l+1's weights while layer l computes (double buffering).
    prefill_streams_resident : bool
        False: weights already resident on the GPU (projection, LM head, the offline hot set,
        Hermes-base's GPU layers) are not streamed again during prefill; True: prefill streams
        the whole model, LM head included (the GPU's hot set is rebuilt from the prompt's
        activity).
    online_adjustment : bool
        Hermes' predictor keeps the GPU holding the neurons hot *in the current sequences*
        (each neuron's per-sequence rate from `hermes_model.sparsity`'s engagement model);
        False: the offline partition on population frequencies (Hermes-partition).
    dimm_imbalance : float
        Busiest DIMM over the mean after window remapping (§IV-D: < 5 % variance → 1.05).
    skip_inactive_macs : bool
        False: a cold unit computes every neuron the batch needs for all ``batch`` sequences
        (a dense GEMV over the union, b MACs per weight read); True: only for the sequences
        predicted to activate it (the weight read is shared, the MACs are not).
    ndp_overlap : bool
        True: an NDP core reads its next operands while its multipliers work on the current
        ones, so a GEMV or attention pass takes the longer of the two (a roofline; the GEMV unit
        is "sized to fully utilise the center-buffer bandwidth", §IV-A); False: it reads, then
        multiplies, and the times add (a simulator that adds DRAM time to compute cycles).
    offload_resident : bool
        False: the offloading baselines keep every weight in host memory and stream each layer
        every step ("plain host memory over PCIe", §V-A), the LM head included; True: they
        fill the GPU first (Accelerate and FlexGen with the same share of every layer, as
        FlexGen's placement percentages do; Deja Vu with the weights each layer needs most
        often, attention and the most frequently active MLP neurons, §I's "hot/cold partition
        + host offloading") and keep the LM head there.
    host_prefill_on_cpu : bool
        Hermes-host is PowerInfer-like: its hybrid engine computes the cold neurons on the CPU
        for the prompt too (True); False streams them to the GPU as Hermes does.
    host_kv_on_gpu : bool
        Hermes-host keeps the KV cache on the GPU and runs attention there (True, as llama.cpp
        offloads it with the layers); False: in host DRAM, as PowerInfer does ("KV cache stays
        in CPU memory", digest §14.1): attention on the CPU at host rates, the GPU's whole
        budget for hot neurons, the attention output copied to the GPU's projection each
        layer. Only Hermes-host reads it.
    accelerate_pinned : bool
        Accelerate copies from pageable memory (False): `PAGEABLE_COPY_FRAC` of the link.
    dejavu_predictor_rank : int
        Hidden width of Deja Vu's per-layer low-rank MLP predictor (d → r → d_ffn), on the GPU.
    dejavu_head_density : float
        Share of attention weights Deja Vu loads (1: attention dense, only MLP neurons sparse).
    n_activity_classes : int
        Quantile classes per neuron group in the hot/cold split (numerical resolution).
    """

    activity: Activity | None = None
    dtype: str = "fp16"
    gpu_workspace_frac: float = 0.10
    projection_on_gpu: bool = True
    lm_head_on_gpu: bool = True
    gather_penalty: float = GATHER_PENALTY
    cuda_graphs: bool = False
    ranks_parallel: bool = True
    cycles_per_op: float | None = None
    link_bandwidth_scale: float = 1.0
    prefill_overlap: bool = True
    prefill_streams_resident: bool = False
    online_adjustment: bool = True
    dimm_imbalance: float = 1.05
    skip_inactive_macs: bool = False
    ndp_overlap: bool = True
    offload_resident: bool = False
    host_prefill_on_cpu: bool = True
    host_kv_on_gpu: bool = True
    accelerate_pinned: bool = False
    dejavu_predictor_rank: int = 1024
    dejavu_head_density: float = 1.0
    n_activity_classes: int = 64

    def __post_init__(self) -> None:
        _check_kinds(self)  # types first, from the field → kind table `_KINDS` (below)
        if self.activity is not None and not isinstance(self.activity, Activity):
            raise ValueError(f"activity must be an Activity or None, got {type(self.activity).__name__}")
        if self.dtype not in shapes.DTYPE_BYTES:
            raise ValueError(f"dtype must be one of {', '.join(shapes.DTYPE_BYTES)}, got {self.dtype!r}")
        if not 0 <= self.gpu_workspace_frac < 1:
            raise ValueError(f"gpu_workspace_frac must be in [0, 1), got {self.gpu_workspace_frac!r}")
        if self.gather_penalty < 1:
            raise ValueError(f"gather_penalty must be >= 1, got {self.gather_penalty!r}")
        if not self.link_bandwidth_scale > 0:
            raise ValueError(f"link_bandwidth_scale must be > 0, got {self.link_bandwidth_scale!r}")
        if self.dimm_imbalance < 1:
            raise ValueError(f"dimm_imbalance must be >= 1, got {self.dimm_imbalance!r}")
        lo, hi = CYCLES_PER_OP_RANGE
        if self.cycles_per_op is not None and not lo <= self.cycles_per_op <= hi:
            raise ValueError(f"cycles_per_op must be in [{lo:g}, {hi:g}] cycles, "
                             f"got {self.cycles_per_op!r}")
        if not 0 < self.dejavu_head_density <= 1:
            raise ValueError(f"dejavu_head_density must be in (0, 1], got {self.dejavu_head_density!r}")
        if self.dejavu_predictor_rank <= 0 or self.n_activity_classes < 4:
            raise ValueError("dejavu_predictor_rank must be > 0 and n_activity_classes >= 4")


#: Fields of `Assumptions` checked by value in ``__post_init__``, not by the kind table.
_CHECKED_BY_VALUE: Final = frozenset({"activity", "dtype"})


def _field_kinds() -> dict[str, str]:
    """Each field of :class:`Assumptions` → ``bool``, ``int``, ``real`` or ``real|None``, from
    its resolved annotation; a field of any other type must be in `_CHECKED_BY_VALUE` (a new
    field with an unforeseen type fails at import, not silently unchecked)."""
    by_hint = {bool: "bool", int: "int", float: "real", float | None: "real|None"}
    hints = get_type_hints(Assumptions)
    kinds = {}
    for f in fields(Assumptions):
        if f.name in _CHECKED_BY_VALUE:
            continue
        if hints[f.name] not in by_hint:
            raise TypeError(f"Assumptions.{f.name}: no type check for {hints[f.name]}")
        kinds[f.name] = by_hint[hints[f.name]]
    return kinds


#: Field → kind of `Assumptions`, in field order (built once, at import).
_KINDS: Final = MappingProxyType(_field_kinds())


def _is_finite_real(v: Any) -> bool:
    """A finite real number: a Python or numpy int or float (not a bool, complex or timedelta),
    neither NaN nor infinite nor an int too large for a float."""
    if not isinstance(v, int | float | np.integer | np.floating) or isinstance(
            v, bool | np.timedelta64):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def _check_kinds(a: Assumptions) -> None:
    """Refuse the first field (in field order) whose value is not of its kind in `_KINDS`."""
    for name, kind in _KINDS.items():
        v = getattr(a, name)
        if kind == "bool":
            if not isinstance(v, bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {v!r}")
            continue
        if v is None and kind == "real|None":
            continue
        if not _is_finite_real(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
        if kind == "int" and not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {v!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Unstated:
    """One parameter the paper does not state, with its plausible range and why.

    `label` names it in a few plain words (the book's text, beside the field name); `reason`
    gives the range's grounds in full. `low` and `high` are the range's pessimistic and
    optimistic ends (the one expected to give fewer tokens/s, and more), not its smaller and
    larger value: ``gpu_workspace_frac`` runs from low 0.20 to high 0.05. Where the better end
    depends on the run (``host_kv_on_gpu``: the KV cache on the CPU costs Hermes-host tokens/s at
    batch 1 and gains at batch 16), `low` is the end lower at batch 1, where most of the paper's
    bars are; :func:`tokens_per_s_band` runs both ends and takes the minimum and maximum, so the
    band does not depend on which end is called which.
    """

    name: str
    label: str
    default: Any
    low: Any
    high: Any
    reason: str
    policies: tuple[Policy, ...]


_NDP = (Policy.HERMES, Policy.HERMES_BASE)
_HYBRID = (Policy.HERMES, Policy.HERMES_HOST, Policy.HERMES_BASE)
_ALL = tuple(Policy)

#: The unstated parameters that move the answer, each with a plausible range (issue 9, item 4).
UNSTATED: Final[tuple[Unstated, ...]] = (
    Unstated(name="ranks_parallel",
             label="per-DIMM bandwidth: the ranks read in parallel or over one bus",
             default=True, low=False, high=True, policies=_NDP,
             reason="per-DIMM bandwidth: the four ranks read in parallel by the buffer chip "
                    "(95 GB/s) or sharing the DIMM's one bus (26 GB/s); not stated"),
    Unstated(name="cycles_per_op",
             label="the bit-serial multipliers' cycles per operation",
             default=11.0, low=16.0, high=6.0, policies=_NDP,
             reason="bit-serial multiplier cycles per 8xFP16 op: radix-4 (6) to a serial 16-bit "
                    "word (16); 11 = FP16 significand bits (NDP-DIMM chapter)"),
    Unstated(name="gpu_workspace_frac",
             label="the GPU memory kept for workspace",
             default=0.10, low=0.20, high=0.05, policies=_ALL,
             reason="GPU memory kept for context, workspace and activations; the rest holds "
                    "hot neurons / layers; the paper gives no split"),
    Unstated(name="link_bandwidth_scale",
             label="the paper's PCIe figure read per direction or for both",
             default=1.0, low=0.5, high=1.0, policies=_ALL,
             reason="the paper's 'PCIe 4.0, 64 GB/s' read per direction (1) or as the "
                    "bidirectional figure (0.5); only under the paper profile"),
    Unstated(name="prefill_overlap",
             label="prefill streaming overlapped with compute or not",
             default=True, low=False, high=True, policies=_ALL,
             reason="prefill streaming overlapped with compute (double buffering) or not"),
    Unstated(name="prefill_streams_resident",
             label="prefill re-streaming the GPU's resident weights or not",
             default=False, low=True, high=False,
             policies=_HYBRID,
             reason="prefill re-streams the GPU's resident weights ('traditional offloading') "
                    "or only the rest"),
    Unstated(name="gather_penalty",
             label="the cost of the GPU's sparse gather",
             default=GATHER_PENALTY, low=GATHER_PENALTY, high=1.0,
             policies=(Policy.HERMES, Policy.HERMES_HOST),
             reason="sparse GPU kernel: gather then matmul (measured 3.08) or a fused kernel that "
                    "reads rows in place (measured on par with the compact matmul)"),
    Unstated(name="cuda_graphs",
             label="kernels launched one by one or in a CUDA graph",
             default=False, low=False, high=True, policies=_ALL,
             reason="kernels launched one by one (t_0 9.96 µs) or replayed in a CUDA graph "
                    "(0.96 µs)"),
    Unstated(name="online_adjustment",
             label="the GPU's neurons following each sequence or fixed offline",
             default=True, low=False, high=True,
             policies=(Policy.HERMES,),
             reason="GPU set follows each sequence's hot neurons (predictor) or the offline "
                    "population partition only"),
    Unstated(name="dimm_imbalance",
             label="the busiest DIMM's load over the mean",
             default=1.05, low=1.2, high=1.0, policies=(Policy.HERMES,),
             reason="busiest DIMM over the mean after window remapping (< 5 % in the window; "
                    "1.2-2.5x without remapping, §IV-D)"),
    Unstated(name="skip_inactive_macs",
             label="cold units skipping the MACs of sequences that do not need a neuron",
             default=False, low=False, high=True,
             policies=(Policy.HERMES, Policy.HERMES_HOST),
             reason="batched sparse GEMV on the cold side: MACs for every sequence of the batch "
                    "on each needed neuron, or only for the sequences that activate it"),
    Unstated(name="ndp_overlap",
             label="a DIMM's reads overlapped with its MACs or not",
             default=True, low=False, high=True, policies=_NDP,
             reason="the NDP core overlaps its DRAM reads with its bit-serial MACs (the longer "
                    "of the two) or runs them one after the other (their sum); not stated"),
    Unstated(name="offload_resident",
             label="the offloading baselines filling the GPU first or not",
             default=False, low=False, high=True, policies=OFFLOADING,
             reason="offloading baselines keep all weights in host memory, or fill the GPU first"),
    Unstated(name="host_prefill_on_cpu",
             label="Hermes-host's prefill on the CPU or streamed to the GPU",
             default=True, low=True, high=False,
             policies=(Policy.HERMES_HOST,),
             reason="Hermes-host's prefill: cold neurons on the CPU as PowerInfer's hybrid engine "
                    "does, or streamed to the GPU"),
    Unstated(name="host_kv_on_gpu",
             label="Hermes-host's KV cache and attention on the GPU or the CPU",
             default=True, low=False, high=True,
             policies=(Policy.HERMES_HOST,),
             reason="Hermes-host 'follows the configuration in [53]' and does not say where its "
                    "KV cache lives: on the GPU, as llama.cpp offloads it with the layers (True), "
                    "or in CPU memory with attention on the CPU, as PowerInfer keeps it (False; "
                    "the GPU's whole budget then holds hot neurons). False gives fewer tokens/s "
                    "at batch 1 on all six models, more at batch 16; the band takes both ends"),
    Unstated(name="accelerate_pinned",
             label="Accelerate's copies from pinned or pageable memory",
             default=False, low=False, high=True,
             policies=(Policy.ACCELERATE,),
             reason="Accelerate's on-demand copies from pageable (measured 0.10 of pinned) or "
                    "pinned memory"),
    Unstated(name="dejavu_predictor_rank",
             label="the width of Deja Vu's predictor",
             default=1024, low=2048, high=512,
             policies=(Policy.DEJAVU,),
             reason="hidden width of Deja Vu's low-rank MLP predictor"),
    Unstated(name="dejavu_head_density",
             label="Deja Vu's attention-head sparsity",
             default=1.0, low=1.0, high=0.5,
             policies=(Policy.DEJAVU,),
             reason="Deja Vu's attention-head sparsity in the offloaded setting (dense to half)"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """What a policy predicts for one configuration.

    Attributes
    ----------
    policy, model : str
    batch, prompt_len, gen_len : int
    tokens_per_s : float
        ``batch × gen_len / total_s`` (tokens/s); 0 when unsupported.
    prefill_s : float
        Prefill of the whole batch (s).
    decode_step_s : float
        Mean decode step over the ``gen_len`` steps (s): every sequence advances one token.
    total_s : float
        ``prefill_s + gen_len × decode_step_s`` (s); equals the sum of `breakdown_s`.
    breakdown_s : Mapping[str, float]
        Time per Fig. 12 category over the whole run (s): ``prefill`` is the whole prefill;
        ``communication`` the exposed (not overlapped) transfers of decode.
    supported : bool
    reason : str
        Why the configuration cannot run (empty when it can).
    details : Mapping[str, float]
        Policy-specific quantities (GPU share of the active-neuron load, resident bytes, ...).
    """

    policy: str
    model: str
    batch: int
    prompt_len: int
    gen_len: int
    tokens_per_s: float
    prefill_s: float
    decode_step_s: float
    total_s: float
    breakdown_s: Mapping[str, float]
    supported: bool
    reason: str = ""
    details: Mapping[str, float] = field(default_factory=dict)


class PolicyFn(Protocol):
    """The signature every policy shares."""

    def __call__(self, model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int,
                 gen_len: int, options: Assumptions) -> Estimate: ...


# ----------------------------------------------------------------------------- device rates


@dataclass(frozen=True, slots=True)
class _Rates:
    gpu_bw: float
    gpu_flops: float
    t0: float
    link_bw: float
    link_lat: float
    host_bw: float
    host_flops: float
    host_t0: float
    dimm_bw: float          # per DIMM, neuron-sized chunks
    dimm_stream_bw: float   # per DIMM, sequential (KV cache)
    dimm_mac: float         # per DIMM, MAC/s
    ndp_clock: float
    nvlink_bw: float
    nvlink_lat: float


def _rates(model: ModelSpec, system: SystemSpec, o: Assumptions) -> _Rates:
    gpu, dimm = system.gpu, system.dimm
    chunk = model.d_model * shapes.dtype_bytes(o.dtype)
    return _Rates(
        gpu_bw=gpu.achievable_bandwidth_bytes_per_s, gpu_flops=gpu.achievable_flop_per_s,
        t0=CUDA_GRAPH_KERNEL_S if o.cuda_graphs else gpu.kernel_overhead_s,
        link_bw=system.host_link.achievable_bandwidth_bytes_per_s * o.link_bandwidth_scale,
        link_lat=system.host_link.latency_s,
        host_bw=system.host.achievable_bandwidth_bytes_per_s,
        host_flops=system.host.achievable_flop_per_s, host_t0=system.host.kernel_overhead_s,
        dimm_bw=float(dram.dimm_bandwidth_bytes_per_s(dimm, pattern="chunks", chunk_bytes=chunk,
                                                      ranks_parallel=o.ranks_parallel))
        * dimm.efficiency.bandwidth_frac,
        dimm_stream_bw=float(dram.dimm_bandwidth_bytes_per_s(dimm, pattern="stream",
                                                             ranks_parallel=o.ranks_parallel))
        * dimm.efficiency.bandwidth_frac,
        dimm_mac=float(ndp.dimm_mac_per_s(dimm, cycles_per_op=o.cycles_per_op))
        * dimm.efficiency.compute_frac,
        ndp_clock=dimm.ndp_clock_hz,
        nvlink_bw=system.gpu_link.achievable_bandwidth_bytes_per_s,
        nvlink_lat=system.gpu_link.latency_s)


def _ndp_s(read_s: Any, mac_s: Any, o: Assumptions) -> Any:
    """Time of an NDP pass that reads for `read_s` and multiplies for `mac_s` (s): the longer of
    the two when the core overlaps them (``o.ndp_overlap``), else their sum."""
    return np.maximum(read_s, mac_s) if o.ndp_overlap else read_s + mac_s


def _ndp_gemv_s(weight_bytes: float, batch: int, bw: float, n_dimms: int, r: _Rates,
                o: Assumptions) -> Any:
    """A batched GEMV spread evenly over `n_dimms` NDP cores that read at `bw` together (s)."""
    macs = batch * weight_bytes / shapes.dtype_bytes(o.dtype)
    return _ndp_s(weight_bytes / bw, macs / (n_dimms * r.dimm_mac), o)


def _ndp_attention_s(model: ModelSpec, sh: _Shape, r: _Rates, o: Assumptions, *, batch: int,
                     ctx: FloatArray, n_dimms: int) -> FloatArray:
    """Decode attention of one layer on the NDP cores holding the KV cache, by KV head (s per
    step): the KV read and QK/PV MACs on min(DIMMs, KV heads × batch) cores, then softmax on
    their activation units."""
    units = min(n_dimms, model.n_kv_heads * batch)
    kv_layer = batch * sh.kv_layer_token * ctx
    att_mac = 2.0 * batch * model.n_heads * model.head_dim * ctx
    att = _ndp_s(kv_layer / (units * r.dimm_stream_bw), att_mac / (units * r.dimm_mac), o)
    return att + batch * model.n_heads * ctx / (units * NDP_ACTIVATION_UNITS * r.ndp_clock)


def _collective_s(system: SystemSpec, nbytes: float, kind: ndp.CollectiveKind) -> float:
    """Reduction of per-DIMM partial vectors over DIMM-link (`ndp.dimm_collective_s`) (s)."""
    return float(ndp.dimm_collective_s(nbytes, system.n_dimms, system.dimm_link, kind=kind))


def _copy_s(nbytes: float | FloatArray, bw: float, lat: float) -> Any:
    return np.where(np.asarray(nbytes) > 0, lat + np.asarray(nbytes) / bw, 0.0)


def _gemv_s(weight_bytes: float, batch: float, bw: float, flops: float, dtype: str) -> float:
    """Roofline of a batched GEMV over `weight_bytes` of weights (no overhead) (s)."""
    return max(weight_bytes / bw, 2.0 * batch * weight_bytes / shapes.dtype_bytes(dtype) / flops)


def _gathered_gemv_s(weight_bytes: float, batch: float, r: _Rates, o: Assumptions) -> float:
    """The GPU's batched GEMV over `weight_bytes` of selected neurons picked out by a gather
    (γ = ``o.gather_penalty`` bytes moved per selected byte; the gather's kernel not included,
    see :func:`_gather_kernel_s`) (s)."""
    return max(o.gather_penalty * weight_bytes / r.gpu_bw,
               2.0 * batch * weight_bytes / shapes.dtype_bytes(o.dtype) / r.gpu_flops)


def _gather_kernel_s(r: _Rates, o: Assumptions) -> float:
    """The gather's own kernel: one more t_0, unless the gather is fused (γ = 1) (s)."""
    return r.t0 if o.gather_penalty > 1 else 0.0


# --------------------------------------------------------------------------------- shapes


@dataclass(frozen=True, slots=True)
class _Shape:
    qkv_bytes: float        # per layer
    proj_bytes: float
    mlp_bytes: float
    layer_bytes: float
    lm_head_bytes: float
    total_bytes: float      # every stored parameter
    kv_layer_token: float   # KV bytes per layer per token
    qkv_neuron: float
    mlp_neuron: float


def _shape(model: ModelSpec, dtype: str) -> _Shape:
    e = shapes.dtype_bytes(dtype)
    mats = shapes.layer_matrices(model)
    by_kind = {k: sum(m.n_elements for m in mats if m.neuron_kind == k) * e
               for k in ("qkv", "mlp", "none")}
    return _Shape(qkv_bytes=by_kind["qkv"], proj_bytes=by_kind["none"], mlp_bytes=by_kind["mlp"],
                  layer_bytes=shapes.layer_weight_bytes(model, dtype),
                  lm_head_bytes=model.vocab_size * model.word_embed_proj_dim * e,
                  total_bytes=shapes.weight_bytes(model, dtype),
                  kv_layer_token=shapes.kv_cache_bytes_per_token(model, dtype) / model.n_layers,
                  qkv_neuron=shapes.neuron_bytes(model, "qkv", dtype),
                  mlp_neuron=shapes.neuron_bytes(model, "mlp", dtype))


def _contexts(prompt_len: int, gen_len: int) -> FloatArray:
    """Positions each decode step attends to, including the new token (tokens)."""
    return prompt_len + 1.0 + np.arange(gen_len, dtype=float)


# ------------------------------------------------------------------------ neuron activity


#: Neurons of the grid the logit-normal shape is fitted on (count).
_FIT_GRID: Final = 2048


@lru_cache(maxsize=256)
def _logit_params(density: float, hot_share: float) -> tuple[float, float]:
    # The logit-normal family of `hermes_model.sparsity`, solved on a 2048-neuron grid (the
    # shape parameters barely depend on N beyond a few hundred neurons).
    fit = sparsity.fit_frequencies(_FIT_GRID, density, hot_share)
    return fit.logit_mean, fit.logit_std


@lru_cache(maxsize=256)
def _sequence_share(density: float, hot_share: float, s1: float, s10: float, s25: float) -> float:
    mu, sigma = _logit_params(density, hot_share)
    p = sparsity.logit_normal_frequencies(2048, mu, sigma)
    memoryless = float(sparsity.memoryless_similarity(p))
    with warnings.catch_warnings():
        # A density raised by a what-if (whatif's `density` key) can lift the memoryless baseline
        # above the similarities kept from the model's statistics: the baseline then holds,
        # which is what independent tokens at that density give (no warning per estimate).
        warnings.simplefilter("ignore", UserWarning)
        pers = sparsity.fit_persistence((1, 10, 25),
                                        (min(s1 + sparsity.BOUND_MARGIN, 0.999), s10, s25),
                                        memoryless)
    return sparsity.sequence_share(p, pers.stationary)


def neuron_classes(density: float, hot_share: float, n_neurons: int, *, batch: int,
                   n_classes: int = 64, sequence_share: float = 0.0) -> tuple[FloatArray, FloatArray]:
    """Classes of a layer's neurons: the rate at which the batch needs each, and their counts.

    Parameters
    ----------
    density, hot_share : float
        The group's mean activation frequency and hot share for 80 %.
    n_neurons : int
        Neurons of the group per layer.
    batch : int
        Sequences decoded together: a neuron is computed when any of them needs it.
    n_classes : int
        Quantile classes of the population frequency p (logit-normal, `hermes_model.sparsity`).
    sequence_share : float
        c of `hermes_model.sparsity`: with probability p a neuron is *engaged* in a sequence
        (rate :math:`p + \\sqrt{c}(1-p)`), else not (rate :math:`p(1-\\sqrt{c})`). 0 gives the
        population frequency in every sequence.

    Returns
    -------
    rate, count : ndarray
        Union rate :math:`1 - \\prod_s (1 - r_s)` over the batch's sequences, for each class and
        number j of engaged sequences (binomial), and the expected neurons in it. Σ count = N.
        Read-only: the same arguments give the same (cached) arrays.
    """
    rate, count = _neuron_classes(density, hot_share, n_neurons, batch, n_classes,
                                  sequence_share)
    rate.setflags(write=False)
    count.setflags(write=False)
    return rate, count


@lru_cache(maxsize=1024)
def _neuron_classes(density: float, hot_share: float, n_neurons: int, batch: int,
                    n_classes: int, sequence_share: float) -> tuple[FloatArray, FloatArray]:
    mu, sigma = _logit_params(density, hot_share)
    # Each class averages the fine grid the shape was fitted on (its quantiles), so the classes
    # keep the fitted mean: their midpoints alone under-count it (2.2 % at 3 % density).
    sub = max(1, -(-_FIT_GRID // n_classes))
    p = sparsity.logit_normal_frequencies(n_classes * sub, mu, sigma)
    if sequence_share <= 0:
        rate = (1.0 - (1.0 - p) ** batch).reshape(n_classes, sub).mean(axis=1)
        return rate, np.full(n_classes, n_neurons / n_classes)
    sc = math.sqrt(sequence_share)
    hi, lo = p + sc * (1 - p), p * (1 - sc)
    j = np.arange(batch + 1, dtype=float)[:, None]
    comb = np.array([math.comb(batch, int(k)) for k in j[:, 0]], dtype=float)[:, None]
    share = comb * p**j * (1 - p) ** (batch - j)
    rate = 1.0 - (1.0 - hi) ** j * (1.0 - lo) ** (batch - j)
    share_c = share.reshape(batch + 1, n_classes, sub).sum(axis=2)
    needed_c = (share * rate).reshape(batch + 1, n_classes, sub).sum(axis=2)
    rate_c = np.divide(needed_c, share_c, out=np.zeros_like(needed_c), where=share_c > 0)
    return rate_c.ravel(), (share_c * n_neurons / (n_classes * sub)).ravel()


# -------------------------------------------------------------------------- hot/cold split


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One sparse FC block of a layer (QKV or MLP) as the split sees it.

    Attributes
    ----------
    rate, count : ndarray
        Classes of neurons (:func:`neuron_classes`).
    neuron_bytes : float
        Weight bytes of one neuron (B).
    gpu_active_s, gpu_dense_s : float
        GPU time per neuron when computing only the active ones (gathered) and when computing
        every resident neuron densely (s).
    cold_s : float
        Time per active neuron on one cold unit (a DIMM, or the host CPU) (s).
    gpu_fixed_s : float
        Fixed GPU-side cost of using the GPU at all: its synchronisations and the kernels (s).
    cold_fixed_s : float
        Fixed cost of the cold side (s).
    gather_kernel_s : float
        The gather's own kernel, paid on top of `gpu_fixed_s` only when the GPU computes the
        active neurons through a gather (s); the dense kernel needs none.
    """

    rate: FloatArray
    count: FloatArray
    neuron_bytes: float
    gpu_active_s: float
    gpu_dense_s: float
    cold_s: float
    gpu_fixed_s: float
    cold_fixed_s: float
    gather_kernel_s: float = 0.0


#: Relative difference within which a block's GPU and cold sides count as taking equally long.
BALANCE_RTOL: Final = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockTime:
    """The split of one block and its times (s)."""

    gpu_load: float      # expected active neurons on the GPU per step
    total_load: float
    gpu_neurons: float
    gpu_bytes: float
    gpu_compute_s: float
    gpu_fixed_s: float
    cold_s: float
    time_s: float

    @property
    def balanced(self) -> bool:
        """The GPU side and the cold side take equally long, within :data:`BALANCE_RTOL`: the
        split's usual outcome whenever the GPU takes part without filling its memory."""
        return bool(abs(self.gpu_compute_s + self.gpu_fixed_s - self.cold_s)
                    <= BALANCE_RTOL * self.time_s)


def _crossing(b: Block, load: FloatArray, n: FloatArray, total: float, n_cold: int,
              dense: bool) -> float:
    """GPU load beyond which more GPU load slows the block (Lemma 2), classes most frequent first.

    Gathered kernel: :math:`t_a G + S + k = t_c (F - G) / D + S_c` (k the gather's kernel).
    Dense kernel: the GPU reads every neuron it holds, :math:`t_d C(G) + S = t_c (F - G) / D +
    S_c` with C(G) the neurons that carry load G (piecewise linear in G; the root is
    interpolated between class boundaries).
    """
    if not dense:
        return max(0.0, (b.cold_s * total / n_cold + b.cold_fixed_s - b.gpu_fixed_s
                         - b.gather_kernel_s) / (b.gpu_active_s + b.cold_s / n_cold))
    cum_l = np.concatenate([[0.0], np.cumsum(load)])
    cum_n = np.concatenate([[0.0], np.cumsum(n)])
    f = (b.gpu_dense_s * cum_n + b.gpu_fixed_s
         - (b.cold_s * (total - cum_l) / n_cold + b.cold_fixed_s))
    if f[0] >= 0:
        return 0.0
    if f[-1] < 0:
        return total
    i = int(np.argmax(f >= 0))
    return float(cum_l[i - 1] + (cum_l[i] - cum_l[i - 1]) * -f[i - 1] / (f[i] - f[i - 1]))


def hot_cold_split(blocks: Sequence[Block], *, budget_bytes: float, n_cold: int
                   ) -> tuple[BlockTime, ...]:
    """Split the blocks of one layer between the GPU and `n_cold` cold units.

    Parameters
    ----------
    blocks : sequence of Block
    budget_bytes : float
        GPU memory for this layer's hot neurons (B).
    n_cold : int
        Cold units sharing the cold neurons evenly (DIMMs; 1 for the host CPU).

    Notes
    -----
    Issue 7's relaxation R (`hermes_model.partition`), solved in closed form for one layer: within
    a block the GPU holds the most frequent neurons (Lemma 1), up to the crossing
    :math:`G^* = (t_c F / D - S)/(t_g + t_c / D)` beyond which more GPU load slows the block
    (Lemma 2), and the budget goes to neurons in decreasing gain per byte
    :math:`t_c f / (D M)` (the budget split theorem). All layers of a model are identical, so
    each gets ``budget / n_layers`` (the optimum of a symmetric separable convex problem).
    The block then takes :math:`\\max(\\min(t_d C, t_a G) + S,\\ t_c (F - G)/D + S_c)`.
    Each block's GPU kernel is gathered (cost per active neuron :math:`t_a`) or dense (cost
    per held neuron :math:`t_d`); the crossing depends on which, so every combination of
    kernels is split and the fastest layer kept (:func:`_crossing`).
    """
    sorted_blocks = []
    for b in blocks:
        order = np.argsort(-b.rate, kind="stable")
        r, n = b.rate[order], b.count[order]
        sorted_blocks.append((r, n, r * n, float((r * n).sum())))
    best: tuple[BlockTime, ...] | None = None
    for modes in product((False, True), repeat=len(blocks)):
        g_stars = [_crossing(b, load, n, total, n_cold, dense)
                   for b, (_r, n, load, total), dense in zip(blocks, sorted_blocks, modes,
                                                              strict=True)]
        out = _allocate(blocks, sorted_blocks, g_stars, budget_bytes=budget_bytes, n_cold=n_cold)
        if best is None or sum(t.time_s for t in out) < sum(t.time_s for t in best):
            best = out
    assert best is not None
    return best


def _allocate(blocks: Sequence[Block], sorted_blocks: Sequence[tuple[Any, Any, Any, float]],
              g_stars: Sequence[float], *, budget_bytes: float, n_cold: int
              ) -> tuple[BlockTime, ...]:
    """Fill the GPU budget up to each block's crossing, in decreasing gain per byte."""
    cands = []
    for k, (b, (r, n, load, _total), g_star) in enumerate(zip(blocks, sorted_blocks, g_stars,
                                                              strict=True)):
        before = np.concatenate([[0.0], np.cumsum(load)[:-1]])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            take = np.clip(np.where(load > 0, (g_star - before) / load, 0.0), 0.0, 1.0)
        keep = take > 0
        cands.append((np.full(keep.sum(), k), b.cold_s * r[keep] / (n_cold * b.neuron_bytes),
                      take[keep] * n[keep] * b.neuron_bytes, take[keep] * load[keep],
                      take[keep] * n[keep]))
    blk = np.concatenate([c[0] for c in cands]).astype(int)
    key = np.concatenate([c[1] for c in cands])
    nbytes = np.concatenate([c[2] for c in cands])
    load = np.concatenate([c[3] for c in cands])
    cnt = np.concatenate([c[4] for c in cands])
    order = np.argsort(-key, kind="stable")
    blk, nbytes, load, cnt = blk[order], nbytes[order], load[order], cnt[order]
    before = np.concatenate([[0.0], np.cumsum(nbytes)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        frac = np.clip(np.where(nbytes > 0, (budget_bytes - before) / nbytes, 0.0), 0.0, 1.0)
    out = []
    for k, b in enumerate(blocks):
        m = blk == k
        g = float((frac[m] * load[m]).sum())
        c = float((frac[m] * cnt[m]).sum())
        total = float((b.rate * b.count).sum())
        cold = b.cold_s * (total - g) / n_cold + (b.cold_fixed_s if total - g > 1e-9 else 0.0)
        dense_s, gather_s = b.gpu_dense_s * c, b.gpu_active_s * g + b.gather_kernel_s
        gpu_compute = min(dense_s, gather_s)
        fixed = b.gpu_fixed_s if g > 1e-9 else 0.0
        out.append(BlockTime(gpu_load=g, total_load=total, gpu_neurons=c,
                             gpu_bytes=c * b.neuron_bytes, gpu_compute_s=gpu_compute,
                             gpu_fixed_s=fixed, cold_s=cold,
                             time_s=max(gpu_compute + fixed, cold)))
    return tuple(out)


# ------------------------------------------------------------------------------- results


def _unsupported(policy: Policy, model: ModelSpec, batch: int, prompt_len: int, gen_len: int,
                 reason: str) -> Estimate:
    return Estimate(policy=str(policy), model=model.slug, batch=batch, prompt_len=prompt_len,
                    gen_len=gen_len, tokens_per_s=0.0, prefill_s=math.nan,
                    decode_step_s=math.nan, total_s=math.nan,
                    breakdown_s=MappingProxyType(dict.fromkeys(CATEGORIES, 0.0)),
                    supported=False, reason=reason)


def _result(policy: Policy, model: ModelSpec, batch: int, prompt_len: int, gen_len: int,
            prefill_s: float, decode: Mapping[str, Any], details: Mapping[str, float]) -> Estimate:
    """Assemble an estimate from the prefill time and per-step decode arrays per category."""
    br = {c: float(np.sum(decode.get(c, 0.0)) if np.ndim(decode.get(c, 0.0))
                   else float(decode.get(c, 0.0)) * gen_len) for c in CATEGORIES}
    br["prefill"] = float(prefill_s)
    total = float(sum(br.values()))
    decode_total = total - prefill_s
    return Estimate(policy=str(policy), model=model.slug, batch=batch, prompt_len=prompt_len,
                    gen_len=gen_len, tokens_per_s=batch * gen_len / total, prefill_s=float(prefill_s),
                    decode_step_s=decode_total / gen_len, total_s=total,
                    breakdown_s=MappingProxyType(br), supported=True,
                    details=MappingProxyType(dict(details)))


def _check_run(batch: int, prompt_len: int, gen_len: int, model: ModelSpec) -> None:
    for name, v in (("batch", batch), ("prompt_len", prompt_len), ("gen_len", gen_len)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    check_context(model, prompt_len, gen_len)


def check_context(model: ModelSpec, prompt_len: int, gen_len: int, *,
                  what: str = "prompt_len + gen_len") -> None:
    """Refuse a run longer than the model's trained context: `prompt_len` + `gen_len` must not
    exceed ``model.max_position_embeddings``, where its config states one (None: not checked).
    `what` names the two lengths in the message (the CLI names its flags)."""
    limit = model.max_position_embeddings
    if limit is not None and prompt_len + gen_len > limit:
        raise ValueError(f"{what} = {prompt_len + gen_len} exceeds {model.slug}'s "
                         f"max_position_embeddings ({limit})")


def _gib(x: float) -> str:
    return f"{x / u.GiB:.1f} GiB"


def _kv_bytes(model: ModelSpec, batch: int, prompt_len: int, gen_len: int, dtype: str) -> float:
    return batch * (prompt_len + gen_len) * shapes.kv_cache_bytes_per_token(model, dtype)


def _kv_on_host(policy: Policy, o: Assumptions) -> bool:
    """Whether `policy` keeps the KV cache in host DRAM and attends there: Hermes-host with
    ``host_kv_on_gpu`` off, no other policy."""
    return policy == Policy.HERMES_HOST and not o.host_kv_on_gpu


def _common_checks(policy: Policy, model: ModelSpec, system: SystemSpec, batch: int,
                   prompt_len: int, gen_len: int, o: Assumptions) -> str:
    """The reason a configuration cannot run, or an empty string (capacity in GiB)."""
    if policy in OPT_ONLY and model.family != "opt":
        return f"{policy} supports OPT models only (§V-A); {model.slug} is {model.family}"
    if policy in SPARSE and o.activity is None:
        return (f"{policy} needs activation statistics for {model.slug} (options.activity: "
                f"io.load_activity(slug) for a catalog model, a policies.Activity otherwise)")
    if policy != Policy.GPU_ONLY and system.n_gpus > 1:
        return (f"{policy} is modelled on one GPU, as the paper runs it; only gpu-only spreads "
                f"a model over {system.n_gpus} GPUs (tensor parallel over the GPU link)")
    need = shapes.weight_bytes(model, o.dtype)
    kv = _kv_bytes(model, batch, prompt_len, gen_len, o.dtype)
    if policy in _NDP:
        have = system.dimm_capacity_bytes
        if need + kv > have:
            return (f"weights and KV cache need {_gib(need + kv)}, the NDP-DIMM pool has "
                    f"{_gib(have)} ({system.n_dimms} x {_gib(system.dimm.capacity_bytes)})")
    elif policy == Policy.GPU_ONLY:
        have = system.n_gpus * system.gpu.memory_bytes * (1 - o.gpu_workspace_frac)
        if need + kv > have:
            return (f"weights and KV cache need {_gib(need + kv)}, {system.n_gpus} GPU(s) "
                    f"hold {_gib(have)} after the workspace")
    elif _kv_on_host(policy, o):
        # Hermes-host with PowerInfer's placement: the KV cache shares host DRAM with the
        # weights, and the GPU holds none of it.
        have = system.host.dram_capacity_bytes
        if need + kv > have:
            return (f"weights and KV cache need {_gib(need + kv)}, host memory has "
                    f"{_gib(have)}")
    else:
        have = system.host.dram_capacity_bytes
        if need > have:
            return f"weights need {_gib(need)}, host memory has {_gib(have)}"
        gpu_have = system.gpu.memory_bytes * (1 - o.gpu_workspace_frac)
        if kv > gpu_have:
            return f"the KV cache needs {_gib(kv)}, the GPU holds {_gib(gpu_have)}"
    return ""


def _gpu_weight_budget(model: ModelSpec, system: SystemSpec, o: Assumptions) -> float:
    """GPU memory for weights after the workspace (B)."""
    return system.n_gpus * system.gpu.memory_bytes * (1 - o.gpu_workspace_frac)


# -------------------------------------------------------------------------------- prefill


def _prefill_s(model: ModelSpec, sh: _Shape, r: _Rates, o: Assumptions, *, batch: int,
               prompt_len: int, streamed_layer_bytes: float, link_bw: float, overlap: bool,
               extra_bytes: float = 0.0, upload_layer_bytes: float = 0.0,
               copies_per_layer: int = 1) -> float:
    """Prefill on the GPU: per layer, stream `streamed_layer_bytes` and compute the prompt.

    Compute: every layer matrix for ``batch × prompt_len`` tokens, causal attention
    (:math:`2 H d_h P (P+1)` FLOP per sequence), :data:`KERNELS_DENSE_LAYER` kernels; the
    LM head for the last position of each sequence. With overlap the layer takes the larger of
    its transfer and compute, plus the shorter of the two once (the first layer's transfer before
    any compute, or the last layer's compute after the last transfer); without, the sum.
    `extra_bytes` are streamed once (e.g. a non-resident LM head). `upload_layer_bytes` go the
    other way (the prompt's KV cache to the DIMMs), concurrently: the link's bandwidth is per
    direction, so a layer's transfer is the longer of the two. `copies_per_layer` is how many
    copies (one link latency each) a layer's stream takes.
    """
    tokens = batch * prompt_len
    e = shapes.dtype_bytes(o.dtype)
    flop = (2.0 * tokens * sh.layer_bytes / e
            + 2.0 * batch * model.n_heads * model.head_dim * prompt_len * (prompt_len + 1))
    act_bytes = sh.layer_bytes + 4.0 * tokens * model.d_model * e
    comp = max(flop / r.gpu_flops, act_bytes / r.gpu_bw) + KERNELS_DENSE_LAYER * r.t0
    tx = max(float(_copy_s(streamed_layer_bytes, link_bw, r.link_lat))
             + (copies_per_layer - 1) * r.link_lat * (streamed_layer_bytes > 0),
             float(_copy_s(upload_layer_bytes, link_bw, r.link_lat)))
    per_layer = max(comp, tx) if overlap else comp + tx
    fill = min(comp, tx) if overlap else 0.0
    head = _gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
    return float(model.n_layers * per_layer + fill + head + _copy_s(extra_bytes, link_bw, r.link_lat))


def _hybrid_prefill_s(model: ModelSpec, sh: _Shape, r: _Rates, o: Assumptions, *, batch: int,
                      prompt_len: int, gpu_hot_bytes: float, sync_s: float,
                      qkv_sync_s: float, kv_on_host: bool = False,
                      attn_sync_s: float = 0.0) -> float:
    """PowerInfer's hybrid prefill: per layer the GPU computes its resident neurons and the
    projection for every prompt token while the CPU computes the cold ones (the union of the
    prompt's tokens is dense), then they exchange the hidden states (two syncs per block):
    each block's input to the CPU (`sync_s`, the prompt's hidden states) and its partial sums
    back, the QKV block's being q/k/v (`qkv_sync_s`, as in decode's `_sync_plan`). The LM head
    runs where decode runs it: on the GPU, or on the CPU when ``lm_head_on_gpu`` is off.

    Causal attention (:math:`2 H d_h P (P+1)` FLOP per sequence) is in the GPU side's roofline,
    or with `kv_on_host` (``host_kv_on_gpu`` off) in the CPU side's, which then also writes the
    prompt's KV cache into host DRAM (``b P`` tokens' K and V), and the attention output
    crosses to the GPU's projection once a layer (`attn_sync_s`)."""
    tokens = batch * prompt_len
    e = shapes.dtype_bytes(o.dtype)
    gpu_bytes = gpu_hot_bytes + sh.proj_bytes
    cold_bytes = sh.qkv_bytes + sh.mlp_bytes - gpu_hot_bytes
    attn_flop = 2.0 * batch * model.n_heads * model.head_dim * prompt_len * (prompt_len + 1)
    if not kv_on_host:
        gpu = (max((2.0 * tokens * gpu_bytes / e + attn_flop) / r.gpu_flops,
                   gpu_bytes / r.gpu_bw)
               + KERNELS_DENSE_LAYER * r.t0)
        cpu = (max(2.0 * tokens * cold_bytes / e / r.host_flops, cold_bytes / r.host_bw)
               + (KERNELS_QKV + KERNELS_MLP - 2) * r.host_t0)
    else:
        kv_write = tokens * sh.kv_layer_token
        gpu = (max(2.0 * tokens * gpu_bytes / e / r.gpu_flops, gpu_bytes / r.gpu_bw)
               + (KERNELS_DENSE_LAYER - 1) * r.t0)
        cpu = (max((2.0 * tokens * cold_bytes / e + attn_flop) / r.host_flops,
                   (cold_bytes + kv_write) / r.host_bw)
               + (KERNELS_QKV + KERNELS_MLP - 2) * r.host_t0)
    head = (_gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
            if o.lm_head_on_gpu else _gemv_s(sh.lm_head_bytes, batch, r.host_bw, r.host_flops,
                                             o.dtype))
    return float(model.n_layers * (max(gpu, cpu) + 3 * sync_s + qkv_sync_s + attn_sync_s)
                 + head)


# ------------------------------------------------------------------------------- policies


def _qkv_vector_bytes(model: ModelSpec, batch: int, dtype: str) -> float:
    """Bytes of the batch's q, k and v: ``(n_heads + 2 n_kv_heads) × head_dim`` values a token,
    the width of one QKV neuron (an input channel of the fused q/k/v weights)."""
    return batch * shapes.neuron_bytes(model, "qkv", dtype)


def _to_every_dimm_s(system: SystemSpec, nbytes: float, r: _Rates) -> float:
    """A vector the GPU sends that every DIMM needs (each NDP core reads only its own DIMM):
    the faster of a copy per DIMM in one PCIe transfer and one copy spread over the DIMMs,
    then an all-gather over DIMM-link (s)."""
    return min(float(_copy_s(system.n_dimms * nbytes, r.link_bw, r.link_lat)),
               float(_copy_s(nbytes, r.link_bw, r.link_lat))
               + _collective_s(system, nbytes, "all_gather"))


def _token_ids_s(batch: int, r: _Rates) -> float:
    """The sampled token ids sent back from the GPU, where the LM head runs, to the memory
    that looks the embedding up (s)."""
    return float(_copy_s(batch * TOKEN_ID_BYTES, r.link_bw, r.link_lat))


def _prefill_head_bytes(sh: _Shape, o: Assumptions) -> float:
    """Bytes of the LM head that prefill streams over the host link (B).

    A head kept on the DIMMs or the host is streamed; one resident on the GPU is not, unless
    ``prefill_streams_resident`` re-streams every resident weight (the band's low end).
    """
    return sh.lm_head_bytes if o.prefill_streams_resident or not o.lm_head_on_gpu else 0.0


def _sync_plan(model: ModelSpec, system: SystemSpec, r: _Rates, *, batch: int, dtype: str,
               ndp_side: bool) -> tuple[tuple[float, float], float]:
    """Host-link synchronisations of one decode layer: per block (QKV, MLP) and outside (s).

    Each GPU block fetches its input from the cold side and sends its partial sums back
    (Eq. 3's 2·T_sync). Hermes: the QKV input to the GPU and its q/k/v partial sums to the
    DIMMs; the attention output to the GPU and the projection's output to every DIMM (each
    NDP core reads only its own DIMM, and each adds the residual and norms for its cold MLP
    neurons): the faster of a copy per DIMM in one PCIe transfer and one copy spread over the
    DIMMs, then an all-gather over DIMM-link; the MLP's input (the normed residual sum,
    made on the DIMMs) to the GPU and its partial sums back to every DIMM, the same way (every
    DIMM's cold neurons of the next layer read the sum they feed). Hermes-host: attention and the
    projection run on the GPU, where the partial sums merge; the CPU gets each block's input
    and returns its partial sums. A vector of the hidden state is ``batch × d_model`` values;
    q/k/v are ``batch × (n_heads + 2 n_kv_heads) × head_dim``.
    """
    e = shapes.dtype_bytes(dtype)
    vec = batch * model.d_model * e
    sync = float(_copy_s(vec, r.link_bw, r.link_lat))
    sync_qkv = float(_copy_s(_qkv_vector_bytes(model, batch, dtype), r.link_bw, r.link_lat))
    if ndp_side:
        # The GPU's MLP partial sums feed the residual sum and the next layer's norm that every
        # DIMM's cold neurons read: like the projection's output, they go to every DIMM.
        to_every = _to_every_dimm_s(system, vec, r)
        return (sync + sync_qkv, sync + to_every), sync + to_every
    return (sync + sync_qkv, 2 * sync), 0.0


def _sparse_blocks(model: ModelSpec, sh: _Shape, r: _Rates, o: Assumptions, *, batch: int,
                   cold: str, block_sync_s: tuple[float, float], adjust: bool,
                   cold_extra_s: tuple[float, float] = (0.0, 0.0)) -> tuple[Block, Block]:
    """The QKV and MLP blocks of one layer for the split.

    `block_sync_s` is each block's synchronisation time over the host link that the GPU side
    pays when it takes part (s): Hermes' input fetch and partial-sum return; zero for
    Hermes-host, whose activations live on the GPU. `cold_extra_s` is a fixed time the cold side
    pays after its share of each block (s): Hermes' reductions over DIMM-link, or Hermes-host's
    PCIe copies of the block's input to the CPU and its partial sums back.
    """
    assert o.activity is not None
    a = o.activity
    e = shapes.dtype_bytes(o.dtype)
    out = []
    for _kind, dens, hot, n_neur, nb, kern, b_sync, extra in (
            ("qkv", a.qkv_density, a.qkv_hot_share, model.d_model, sh.qkv_neuron, KERNELS_QKV,
             block_sync_s[0], cold_extra_s[0]),
            ("mlp", a.mlp_density, a.mlp_hot_share, model.d_ffn, sh.mlp_neuron, KERNELS_MLP,
             block_sync_s[1], cold_extra_s[1])):
        c = (_sequence_share(dens, hot, a.similarity_d1, a.similarity_d10, a.similarity_d25)
             if adjust else 0.0)
        rate, count = neuron_classes(dens, hot, n_neur, batch=batch,
                                     n_classes=o.n_activity_classes, sequence_share=c)
        elems = nb / e
        # MACs per weight read on the cold side: the whole batch, or the expected number of the
        # batch's sequences that activate a needed neuron (batch × density / union rate).
        macs = (batch * dens * n_neur / float((rate * count).sum()) if o.skip_inactive_macs
                else float(batch))
        gpu_active = _gathered_gemv_s(nb, batch, r, o)
        gpu_dense = _gemv_s(nb, batch, r.gpu_bw, r.gpu_flops, o.dtype)
        # A gathered kernel costs one kernel more (the gather) unless it is fused (penalty 1).
        gather_kernel = _gather_kernel_s(r, o)
        if cold == "dimm":
            cold_s = _ndp_s(nb / r.dimm_bw, macs * elems / r.dimm_mac, o) * o.dimm_imbalance
            cold_fixed = extra
        else:
            cold_s = max(nb / r.host_bw, 2.0 * macs * elems / r.host_flops)
            cold_fixed = (kern - 1) * r.host_t0 + extra
        out.append(Block(rate=rate, count=count, neuron_bytes=nb, gpu_active_s=gpu_active,
                         gpu_dense_s=gpu_dense, cold_s=cold_s,
                         gpu_fixed_s=b_sync + (kern - 1) * r.t0, cold_fixed_s=cold_fixed,
                         gather_kernel_s=gather_kernel))
    return out[0], out[1]


def _hybrid(policy: Policy, model: ModelSpec, system: SystemSpec, *, batch: int,
            prompt_len: int, gen_len: int, options: Assumptions) -> Estimate:
    """Hermes (cold neurons on the NDP-DIMMs) and Hermes-host (cold neurons on the host CPU)."""
    o = options
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    ndp_side = policy == Policy.HERMES
    e = shapes.dtype_bytes(o.dtype)
    resident = ((sh.proj_bytes * model.n_layers if o.projection_on_gpu else 0.0)
                + (sh.lm_head_bytes if o.lm_head_on_gpu else 0.0))
    # Hermes-host's KV cache takes GPU memory from the hot neurons, unless it is in host DRAM
    # (``host_kv_on_gpu`` off, PowerInfer's placement); Hermes' is on the DIMMs.
    kv_host = _kv_on_host(policy, o)
    kv_gpu = (0.0 if ndp_side or kv_host
              else _kv_bytes(model, batch, prompt_len, gen_len, o.dtype))
    budget = _gpu_weight_budget(model, system, o) - resident - kv_gpu
    if budget < 0:
        return _unsupported(policy, model, batch, prompt_len, gen_len,
                            f"the resident projection and LM head ({_gib(resident)}) and KV cache "
                            f"({_gib(kv_gpu)}) exceed the GPU's {_gib(budget + resident + kv_gpu)}")
    vec = batch * model.d_model * e
    qkv_vec = _qkv_vector_bytes(model, batch, o.dtype)
    sync = float(_copy_s(vec, r.link_bw, r.link_lat))
    block_sync, proj_sync = _sync_plan(model, system, r, batch=batch, dtype=o.dtype,
                                       ndp_side=ndp_side)
    # The DIMMs' partial sums are reduced over DIMM-link after their share of a block, while the
    # GPU computes its own: QKV's to the DIMMs holding each head (reduce-scatter), the MLP's
    # everywhere, since every DIMM's cold QKV channels of the next layer read it (all-reduce).
    # The GPU side fetches its input from the DIMMs and returns its partial sums (Eq. 3).
    # Hermes-host is the other way round: the activations live on the GPU, so the CPU side
    # gets each block's input and returns its partial sums, and those copies are its own.
    if ndp_side:
        coll = (_collective_s(system, qkv_vec, "reduce_scatter"),
                _collective_s(system, vec, "all_reduce"))
        gpu_sync = block_sync
    elif kv_host:
        # The KV cache on the CPU: q/k/v meet there, so the GPU sends its partial q/k/v to the
        # CPU after its share of the QKV block, while the CPU still gets the block's input
        # before its share; the MLP block exchanges as in the default.
        sync_qkv = float(_copy_s(qkv_vec, r.link_bw, r.link_lat))
        coll, gpu_sync = (block_sync[0] - sync_qkv, block_sync[1]), (sync_qkv, 0.0)
    else:
        coll, gpu_sync = block_sync, (0.0, 0.0)
    qkv, mlp = _sparse_blocks(model, sh, r, o, batch=batch, cold="dimm" if ndp_side else "host",
                              block_sync_s=gpu_sync, adjust=ndp_side and o.online_adjustment,
                              cold_extra_s=coll)
    n_cold = system.n_dimms if ndp_side else 1
    tq, tm = hot_cold_split((qkv, mlp), budget_bytes=budget / model.n_layers, n_cold=n_cold)
    ctx = _contexts(prompt_len, gen_len)
    if ndp_side:
        att = _ndp_attention_s(model, sh, r, o, batch=batch, ctx=ctx, n_dimms=system.n_dimms)
    else:
        # Dense attention where the KV cache is: read it, QK and PV at 2 FLOP per MAC, one
        # kernel; on the CPU at the cold side's rates (one CPU operation's overhead, as each
        # cold block's pays) when the cache is in host DRAM.
        kv_layer = batch * sh.kv_layer_token * ctx                  # bytes per layer per step
        att_mac = 2.0 * batch * model.n_heads * model.head_dim * ctx
        bw, flops, t0 = ((r.host_bw, r.host_flops, r.host_t0) if kv_host
                         else (r.gpu_bw, r.gpu_flops, r.t0))
        att = np.maximum(kv_layer / bw, 2.0 * att_mac / flops) + t0
    proj = (_gemv_s(sh.proj_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
            if o.projection_on_gpu else
            _gemv_s(sh.proj_bytes, batch, r.link_bw, r.gpu_flops, o.dtype) + r.link_lat + r.t0)
    L = model.n_layers
    fc, comm = 0.0, 0.0
    # The side that sets each block's time is booked; a balanced block (both sides equally
    # long) is booked to the side that crosses the host link, so that its communication is the
    # PCIe exchanges in both policies: the GPU's for Hermes, the CPU's for Hermes-host.
    gpu_sets = [ndp_side if t.balanced else t.gpu_compute_s + t.gpu_fixed_s > t.cold_s
                for t in (tq, tm)]
    for t, b_sync, c, gpu_side in zip((tq, tm), gpu_sync, coll, gpu_sets, strict=True):
        if gpu_side:
            fc += t.gpu_compute_s + (t.gpu_fixed_s - b_sync)
            comm += b_sync
        else:  # the cold side does; what it pays after its share (Hermes' reduction over
            # DIMM-link, Hermes-host's PCIe copies) is communication
            paid = c if t.total_load - t.gpu_load > 1e-9 else 0.0
            fc += t.cold_s - paid
            comm += paid
    fc += proj
    if not ndp_side:  # Hermes-host merges, adds the residual and norms on the GPU: one kernel
        fc += r.t0
    comm += proj_sync
    if kv_host:
        # Attention on the CPU: its output (b x H x d_h values) crosses PCIe to the GPU's
        # projection, one more copy a layer. The QKV block's two copies keep their bytes (the
        # block's input to the CPU, q/k/v partial sums once), but the partial sums now run from
        # the GPU, after its share (`gpu_sync` above), not from the CPU after its share.
        comm += float(_copy_s(batch * model.n_heads * model.head_dim * e, r.link_bw,
                              r.link_lat))
    # Merges and norms on the cold side: read/write the partial sums and the residual.
    merge_bw = r.dimm_stream_bw * system.n_dimms if ndp_side else r.gpu_bw
    others = 4.0 * vec * 3 / merge_bw
    head_io = 0.0
    if o.lm_head_on_gpu:
        # Two copies a step, communication. Hermes: the final hidden state from the DIMMs to the
        # GPU's LM head, and the sampled token ids back to the DIMMs, where the embedding is
        # looked up and the activations live. Hermes-host: the token ids to the host, where the
        # embedding is, and the looked-up rows back to the GPU, where the activations live.
        head = _gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
        head_io = sync + _token_ids_s(batch, r)
    elif ndp_side:
        head = _ndp_gemv_s(sh.lm_head_bytes, batch, merge_bw, system.n_dimms, r, o)
    else:
        # Hermes-host's head on the CPU: the final hidden state to the host, where the embedding
        # is too, and the looked-up rows back to the GPU, where the activations live.
        head = _gemv_s(sh.lm_head_bytes, batch, r.host_bw, r.host_flops, o.dtype)
        head_io = 2 * sync
    # Hermes' predictor runs on the host while the previous block computes (§IV-C); only the part
    # longer than that block would show. Hermes-host uses the same predictor tables.
    pred_s = (model.d_model + model.d_ffn) * PREDICTOR_ENTRY_BYTES / r.host_bw
    pred_visible = max(0.0, pred_s - min(tq.time_s, tm.time_s))
    decode = {"fc": L * fc * np.ones_like(ctx), "attention": L * att,
              "communication": (L * comm + head_io) * np.ones_like(ctx),
              "predictor": L * pred_visible * np.ones_like(ctx),
              "others": (L * others + head) * np.ones_like(ctx)}
    hot_layer = tq.gpu_bytes + tm.gpu_bytes
    sparse_layer = sh.qkv_bytes + sh.mlp_bytes
    # The GPU keeps copies of the most frequent neurons up to its whole budget (§IV-A); decode
    # computes on the GPU only those the split above assigns it (Eq. 1 may leave some idle),
    # but prefill needs none of the resident ones streamed.
    cached_layer = min(budget / model.n_layers, sparse_layer)
    streamed = sparse_layer + (sh.proj_bytes if not o.projection_on_gpu else 0.0)
    if not o.prefill_streams_resident:
        streamed -= cached_layer
    else:
        streamed += sh.proj_bytes if o.projection_on_gpu else 0.0
    if ndp_side or not o.host_prefill_on_cpu:
        # The GPU computes the whole prompt; a KV cache kept off the GPU (Hermes' on the DIMMs,
        # Hermes-host's in host DRAM) is uploaded against the weight stream.
        prefill = _prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                             streamed_layer_bytes=streamed, link_bw=r.link_bw,
                             overlap=o.prefill_overlap,
                             extra_bytes=_prefill_head_bytes(sh, o),
                             upload_layer_bytes=batch * prompt_len * sh.kv_layer_token
                             * (1.0 if ndp_side or kv_host else 0.0))
    else:
        prefill = _hybrid_prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                                    gpu_hot_bytes=cached_layer, sync_s=float(
                                        _copy_s(batch * prompt_len * model.d_model * e,
                                                r.link_bw, r.link_lat)),
                                    qkv_sync_s=float(_copy_s(
                                        prompt_len * _qkv_vector_bytes(model, batch, o.dtype),
                                        r.link_bw, r.link_lat)),
                                    kv_on_host=kv_host,
                                    attn_sync_s=float(_copy_s(
                                        batch * prompt_len * model.n_heads * model.head_dim * e,
                                        r.link_bw, r.link_lat)) if kv_host else 0.0)
    total_load = tq.total_load + tm.total_load
    details = {"gpu_hot_bytes": L * hot_layer, "gpu_cached_bytes": L * cached_layer,
               "gpu_resident_bytes": L * cached_layer + resident,
               "gpu_load_share": (tq.gpu_load + tm.gpu_load) / total_load,
               "gpu_resident_share": (L * cached_layer + resident) / sh.total_bytes,
               "qkv_block_s": tq.time_s, "mlp_block_s": tm.time_s,
               "qkv_cold_bound": float(not gpu_sets[0]), "mlp_cold_bound": float(not gpu_sets[1]),
               "qkv_balanced": float(tq.balanced), "mlp_balanced": float(tm.balanced),
               "projection_s": proj, "predictor_s": pred_s}
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode, details)


def hermes(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int, gen_len: int,
           options: Assumptions) -> Estimate:
    """Hermes: hot neurons on the GPU, cold neurons and attention on the NDP-DIMMs (§IV-A).

    Its `Estimate.details` (Hermes-host's too): ``gpu_hot_bytes`` (the hot neurons the split
    computes on the GPU), ``gpu_cached_bytes`` (the copies it keeps, up to its budget) and
    ``gpu_resident_bytes`` (those plus the projections and LM head), all over the model (B);
    ``gpu_load_share`` (the GPU's share of the active neurons) and ``gpu_resident_share`` (of the
    weights); ``qkv_block_s``, ``mlp_block_s`` (one layer's blocks, s), ``qkv_cold_bound``,
    ``mlp_cold_bound`` (1: the block is booked to its cold side) and ``qkv_balanced``,
    ``mlp_balanced`` (1: both sides equally long); ``projection_s`` (one layer's, s) and
    ``predictor_s`` (one layer's table read, s).
    """
    _check_run(batch, prompt_len, gen_len, model)
    return _hybrid(Policy.HERMES, model, system, batch=batch, prompt_len=prompt_len,
                   gen_len=gen_len, options=options)


def hermes_host(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int,
                gen_len: int, options: Assumptions) -> Estimate:
    """Hermes-host (PowerInfer-like): hot neurons on the GPU, cold on the host CPU (§V-A)."""
    _check_run(batch, prompt_len, gen_len, model)
    return _hybrid(Policy.HERMES_HOST, model, system, batch=batch, prompt_len=prompt_len,
                   gen_len=gen_len, options=options)


def hermes_base(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int,
                gen_len: int, options: Assumptions) -> Estimate:
    """Hermes-base: NDP-DIMMs without sparsity; whole layers on the GPU while they fit (§V-A).

    The GPU holds as many whole layers (every FC matrix) as its budget allows after the LM head;
    which ones does not matter (the layers are identical). Their FC layers run on the GPU,
    attention on the DIMMs (two synchronisations); the other layers run entirely on the DIMMs,
    each matrix spread over all DIMMs.
    """
    _check_run(batch, prompt_len, gen_len, model)
    o, policy = options, Policy.HERMES_BASE
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    e = shapes.dtype_bytes(o.dtype)
    L, D = model.n_layers, system.n_dimms
    budget = _gpu_weight_budget(model, system, o) - (sh.lm_head_bytes if o.lm_head_on_gpu else 0)
    n_gpu = int(min(L, max(0.0, budget) // sh.layer_bytes))
    vec = batch * model.d_model * e
    sync = float(_copy_s(vec, r.link_bw, r.link_lat))
    sync_qkv = float(_copy_s(_qkv_vector_bytes(model, batch, o.dtype), r.link_bw, r.link_lat))
    gpu_fc = (_gemv_s(sh.layer_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype)
              + (KERNELS_DENSE_LAYER - 1) * r.t0)
    # A dense matrix split evenly over the DIMMs is balanced (the imbalance of `Assumptions` is
    # that of Hermes' remapped cold neurons, §IV-D).
    ndp_fc = _ndp_gemv_s(sh.layer_bytes, batch, D * r.dimm_bw, D, r, o)
    ctx = _contexts(prompt_len, gen_len)
    att = _ndp_attention_s(model, sh, r, o, batch=batch, ctx=ctx, n_dimms=D)
    merge_bw = r.dimm_stream_bw * D
    head = (_gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
            if o.lm_head_on_gpu else _ndp_gemv_s(sh.lm_head_bytes, batch, merge_bw, D, r, o))
    # the final hidden state to the GPU's LM head and the sampled token ids back (communication)
    head_io = sync + _token_ids_s(batch, r) if o.lm_head_on_gpu else 0.0
    # GPU layers send q/k/v to the DIMMs and get the attention output back, plus one hand-over
    # each way between the GPU's layers and the DIMMs' layers (to every DIMM: each holds a
    # slice of every matrix of the DIMMs' layers and reads the whole hidden state).
    # A DIMM layer splits the projection by its input heads and the MLP by neurons: each leaves
    # partial sums of the hidden state on every DIMM, all-reduced over DIMM-link.
    comm = (n_gpu * (sync_qkv + sync)
            + (sync + _to_every_dimm_s(system, vec, r) if 0 < n_gpu < L else 0.0)
            + (L - n_gpu) * 2 * _collective_s(system, vec, "all_reduce") + head_io)
    ones = np.ones_like(ctx)
    decode = {"fc": (n_gpu * gpu_fc + (L - n_gpu) * ndp_fc) * ones, "attention": L * att,
              "communication": comm * ones, "others": (L * 12.0 * vec / merge_bw + head) * ones}
    streamed = sh.layer_bytes * (1.0 if o.prefill_streams_resident else (L - n_gpu) / L)
    prefill = _prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                         streamed_layer_bytes=streamed, link_bw=r.link_bw,
                         overlap=o.prefill_overlap,
                         extra_bytes=_prefill_head_bytes(sh, o),
                         upload_layer_bytes=batch * prompt_len * sh.kv_layer_token)
    ndp_time = (L - n_gpu) * ndp_fc
    details = {"gpu_layers": float(n_gpu), "ndp_flop_share": (L - n_gpu) / L,
               "ndp_fc_time_share": ndp_time / (ndp_time + n_gpu * gpu_fc),
               "gpu_resident_bytes": n_gpu * sh.layer_bytes}
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode, details)


def _offload_layer_bytes(model: ModelSpec, system: SystemSpec, sh: _Shape, o: Assumptions,
                         batch: int, prompt_len: int, gen_len: int,
                         extra_gpu_bytes: float = 0.0) -> tuple[float, float]:
    """Bytes streamed per layer and of the LM head per step by an offloading baseline."""
    if not o.offload_resident:
        return sh.layer_bytes, sh.lm_head_bytes
    room = (_gpu_weight_budget(model, system, o) - extra_gpu_bytes
            - _kv_bytes(model, batch, prompt_len, gen_len, o.dtype))
    room = max(0.0, room - sh.lm_head_bytes)
    resident_frac = min(1.0, room / (model.n_layers * sh.layer_bytes))
    return sh.layer_bytes * (1 - resident_frac), 0.0


def _dense_gpu_layer_s(model: ModelSpec, sh: _Shape, r: _Rates, o: Assumptions, batch: int,
                       ctx: FloatArray, weight_frac: float = 1.0) -> tuple[float, FloatArray]:
    """Dense FC layers and attention of one layer on the GPU, KV cache on the GPU (s)."""
    fc = (_gemv_s(sh.layer_bytes * weight_frac, batch, r.gpu_bw, r.gpu_flops, o.dtype)
          + (KERNELS_DENSE_LAYER - 1) * r.t0)
    att = (np.maximum(batch * sh.kv_layer_token * ctx / r.gpu_bw,
                      4.0 * batch * model.n_heads * model.head_dim * ctx / r.gpu_flops) + r.t0)
    return fc, att


def accelerate(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int,
               gen_len: int, options: Assumptions) -> Estimate:
    """HuggingFace Accelerate with CPU offload: each layer copied on demand, then computed.

    The hook of each offloaded layer copies its weights to the GPU before the layer runs and
    frees them after (no prefetch, no overlap), from pageable memory unless
    ``accelerate_pinned``; every tensor is its own copy (one link latency each).
    """
    _check_run(batch, prompt_len, gen_len, model)
    o, policy = options, Policy.ACCELERATE
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    bw = r.link_bw * (1.0 if o.accelerate_pinned else PAGEABLE_COPY_FRAC)
    layer_b, head_b = _offload_layer_bytes(model, system, sh, o, batch, prompt_len, gen_len)
    n_tensors = len(shapes.layer_matrices(model))
    tx = float(_copy_s(layer_b, bw, r.link_lat)) + (n_tensors - 1) * r.link_lat * (layer_b > 0)
    ctx = _contexts(prompt_len, gen_len)
    fc, att = _dense_gpu_layer_s(model, sh, r, o, batch, ctx)
    L = model.n_layers
    head = _gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
    head_tx = float(_copy_s(head_b, bw, r.link_lat))
    ones = np.ones_like(ctx)
    decode = {"fc": L * fc * ones, "attention": L * att,
              "communication": (L * tx + head_tx) * ones, "others": head * ones}
    prefill = _prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                         streamed_layer_bytes=layer_b, link_bw=bw, overlap=False,
                         extra_bytes=head_b, copies_per_layer=n_tensors)
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode,
                   {"streamed_bytes_per_step": L * layer_b + head_b, "copy_bandwidth": bw})


def flexgen(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int, gen_len: int,
            options: Assumptions) -> Estimate:
    """FlexGen: weights in pinned host memory, layer l+1 prefetched while layer l computes.

    At a batch that fits one GPU batch the zig-zag block schedule is the plain layer order; the
    step takes, per layer, the larger of its copy and its compute. Communication is the
    exposed part of the copies.
    """
    _check_run(batch, prompt_len, gen_len, model)
    o, policy = options, Policy.FLEXGEN
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    layer_b, head_b = _offload_layer_bytes(model, system, sh, o, batch, prompt_len, gen_len)
    tx = float(_copy_s(layer_b, r.link_bw, r.link_lat))
    ctx = _contexts(prompt_len, gen_len)
    fc, att = _dense_gpu_layer_s(model, sh, r, o, batch, ctx)
    L = model.n_layers
    exposed = np.maximum(tx - (fc + att), 0.0)
    head = _gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
    head_tx = float(_copy_s(head_b, r.link_bw, r.link_lat))
    ones = np.ones_like(ctx)
    decode = {"fc": L * fc * ones, "attention": L * att, "communication": L * exposed + head_tx,
              "others": head * ones}
    prefill = _prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                         streamed_layer_bytes=layer_b, link_bw=r.link_bw,
                         overlap=o.prefill_overlap, extra_bytes=head_b)
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode,
                   {"streamed_bytes_per_step": L * layer_b + head_b})


def dejavu(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int, gen_len: int,
           options: Assumptions) -> Estimate:
    """Deja Vu adapted to offloading: predict the active MLP neurons, load only those.

    Per layer: the low-rank MLP predictor (d → r → d_ffn, resident on the GPU) runs; the
    attention weights (dense, times ``dejavu_head_density``) are prefetched over PCIe; the
    predicted-active MLP neurons (the batch's union) are gathered on the host (read and write at
    host DRAM bandwidth) and copied in one pinned transfer; then the GPU computes. The link is
    the bottleneck: the layer takes the larger of its transfers and its compute.
    """
    _check_run(batch, prompt_len, gen_len, model)
    o, policy = options, Policy.DEJAVU
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    assert o.activity is not None
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    e = shapes.dtype_bytes(o.dtype)
    L = model.n_layers
    pred_bytes = (model.d_model + model.d_ffn) * o.dejavu_predictor_rank * e
    if L * pred_bytes + sh.lm_head_bytes > _gpu_weight_budget(model, system, o):
        return _unsupported(policy, model, batch, prompt_len, gen_len,
                            f"Deja Vu's predictors ({_gib(L * pred_bytes)}) do not fit the GPU")
    pred = _gemv_s(pred_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + 2 * r.t0
    rate, count = neuron_classes(o.activity.mlp_density, o.activity.mlp_hot_share, model.d_ffn,
                                 batch=batch, n_classes=o.n_activity_classes)
    union = float((rate * count).sum()) / model.d_ffn
    # What a step needs, as (rate, bytes) items of a layer: the attention weights (needed at
    # the head density) and each class of MLP neurons (needed at its union rate).
    item_rate = np.concatenate(([o.dejavu_head_density], rate))
    item_bytes = np.concatenate(([sh.qkv_bytes + sh.proj_bytes],
                                 count * sh.mlp_bytes / model.d_ffn))
    resident_b = 0.0
    if o.offload_resident:
        # "Hot/cold partition + host offloading" (§I): the GPU memory left after the
        # predictors, the LM head and the KV cache holds the most often needed weights,
        # as many bytes in every layer; only the needed others are copied.
        room = (_gpu_weight_budget(model, system, o) - L * pred_bytes - sh.lm_head_bytes
                - _kv_bytes(model, batch, prompt_len, gen_len, o.dtype))
        resident_b = min(float(item_bytes.sum()), max(0.0, room) / L)
    kept = _kept_hottest(item_rate, item_bytes, resident_b)
    copied = item_rate * (item_bytes - kept)
    attn_tx, mlp_tx = float(copied[0]), float(copied[1:].sum())
    # The host learns which neurons to gather (their indices, from the GPU's predictor), reads
    # and writes them at its DRAM bandwidth, and copies them in one pinned transfer.
    ids = float(_copy_s(mlp_tx / (sh.mlp_bytes / model.d_ffn) * NEURON_INDEX_BYTES,
                        r.link_bw, r.link_lat))
    gather = (ids + 2.0 * mlp_tx / r.host_bw + r.host_t0) * (mlp_tx > 0)
    tx = sum(float(_copy_s(b, r.link_bw, r.link_lat)) for b in (attn_tx, mlp_tx) if b > 0)
    ctx = _contexts(prompt_len, gen_len)
    attn_b = o.dejavu_head_density * (sh.qkv_bytes + sh.proj_bytes)
    # Copied neurons arrive packed; the resident ones the step needs are computed through a
    # gather (gamma) or all of them densely, whichever is faster, as Hermes' GPU does.
    kept_b, kept_need = float(kept[1:].sum()), float((rate * kept[1:]).sum())
    resident_mlp = 0.0 if kept_b <= 0 else min(
        _gathered_gemv_s(kept_need, batch, r, o) + _gather_kernel_s(r, o),
        _gemv_s(kept_b, batch, r.gpu_bw, r.gpu_flops, o.dtype))
    fc = (_gemv_s(attn_b + mlp_tx, batch, r.gpu_bw, r.gpu_flops, o.dtype) + resident_mlp
          + (KERNELS_DENSE_LAYER - 1) * r.t0)
    att = (np.maximum(batch * sh.kv_layer_token * ctx / r.gpu_bw,
                      4.0 * batch * model.n_heads * model.head_dim * ctx / r.gpu_flops) + r.t0)
    exposed = np.maximum(gather + tx - (fc + att), 0.0)
    head = _gemv_s(sh.lm_head_bytes, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
    # With nothing resident the LM head lives in host memory too and is copied every step.
    head_b = 0.0 if o.offload_resident else sh.lm_head_bytes
    head_tx = float(_copy_s(head_b, r.link_bw, r.link_lat))
    ones = np.ones_like(ctx)
    decode = {"fc": L * fc * ones, "attention": L * att, "predictor": L * pred * ones,
              "communication": L * exposed + head_tx, "others": head * ones}
    prefill = _prefill_s(model, sh, r, o, batch=batch, prompt_len=prompt_len,
                         streamed_layer_bytes=sh.layer_bytes - resident_b,
                         link_bw=r.link_bw, overlap=o.prefill_overlap, extra_bytes=head_b)
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode,
                   {"mlp_union_density": union, "predictor_bytes": L * pred_bytes,
                    "resident_bytes": L * resident_b,
                    "streamed_bytes_per_step": L * (attn_tx + mlp_tx)})


def _kept_hottest(rate: FloatArray, nbytes: FloatArray, resident_bytes: float) -> FloatArray:
    """Bytes of each item resident when `resident_bytes` hold the items most often needed
    first (an item split where they end); a step copies rate × (bytes − kept) of each."""
    order = np.argsort(-rate, kind="stable")
    b = nbytes[order]
    kept = np.empty_like(nbytes)
    kept[order] = np.clip(resident_bytes - (np.cumsum(b) - b), 0.0, b)
    return kept


def gpu_only(model: ModelSpec, system: SystemSpec, *, batch: int, prompt_len: int, gen_len: int,
             options: Assumptions) -> Estimate:
    """Every weight resident on ``n_gpus`` GPUs, tensor parallel, KV cache on the GPUs.

    Megatron-style tensor parallelism: each GPU holds 1/n of every matrix (heads and MLP columns
    split) and of the KV cache; after attention and after the MLP the partial hidden states are
    summed by a ring all-reduce over the GPU-GPU link,
    :math:`2 (n-1) (\\ell + S / (n W))` for S bytes, latency ℓ and per-direction bandwidth W.
    Two all-reduces a layer for Falcon too, whose attention and MLP read the same input: the
    TensorRT-LLM Falcon layer the paper's reference runs (``tensorrt_llm/models/falcon``) has
    each block's row-parallel output all-reduce on its own. The split is even also where n does
    not divide the heads (Fig. 17's five GPUs and LLaMA2-70B's 64 query and 8 KV heads), an
    idealisation: split by whole heads (13, 13, 13, 13, 12, the middle GPUs touching three KV
    groups), the busiest GPU holds about 2 % more of each layer's weights.
    """
    _check_run(batch, prompt_len, gen_len, model)
    o, policy = options, Policy.GPU_ONLY
    reason = _common_checks(policy, model, system, batch, prompt_len, gen_len, o)
    if reason:
        return _unsupported(policy, model, batch, prompt_len, gen_len, reason)
    sh, r = _shape(model, o.dtype), _rates(model, system, o)
    n = system.n_gpus
    e = shapes.dtype_bytes(o.dtype)
    L = model.n_layers

    def allreduce(nbytes: float) -> float:
        return 0.0 if n == 1 else 2 * (n - 1) * (r.nvlink_lat + nbytes / (n * r.nvlink_bw))

    def allgather(nbytes: float) -> float:  # a ring's second half: each GPU's slice to all
        return allreduce(nbytes) / 2

    ctx = _contexts(prompt_len, gen_len)
    fc, _ = _dense_gpu_layer_s(model, sh, r, o, batch, ctx, weight_frac=1.0 / n)
    att = (np.maximum(batch * sh.kv_layer_token * ctx / (n * r.gpu_bw),
                      4.0 * batch * model.n_heads * model.head_dim * ctx / (n * r.gpu_flops))
           + r.t0)
    comm = 2 * allreduce(batch * model.d_model * e)
    # The LM head is split by vocabulary rows: its logits are gathered before sampling.
    head = _gemv_s(sh.lm_head_bytes / n, batch, r.gpu_bw, r.gpu_flops, o.dtype) + r.t0
    logits = allgather(batch * model.vocab_size * e)
    ones = np.ones_like(ctx)
    decode = {"fc": L * fc * ones, "attention": L * att,
              "communication": (L * comm + logits) * ones, "others": head * ones}
    tokens = batch * prompt_len
    flop = (2.0 * tokens * sh.layer_bytes / e
            + 2.0 * batch * model.n_heads * model.head_dim * prompt_len * (prompt_len + 1))
    # each GPU reads its slice of the weights and the prompt's activations, as `_prefill_s`
    act_bytes = sh.layer_bytes / n + 4.0 * tokens * model.d_model * e
    layer = (max(flop / (n * r.gpu_flops), act_bytes / r.gpu_bw)
             + KERNELS_DENSE_LAYER * r.t0 + 2 * allreduce(tokens * model.d_model * e))
    prefill = L * layer + head + logits
    return _result(policy, model, batch, prompt_len, gen_len, prefill, decode,
                   {"n_gpus": float(n)})


#: The registry: policy name → function (one signature, :class:`PolicyFn`).
POLICIES: Final[Mapping[Policy, PolicyFn]] = MappingProxyType({
    Policy.ACCELERATE: accelerate, Policy.FLEXGEN: flexgen, Policy.DEJAVU: dejavu,
    Policy.HERMES_HOST: hermes_host, Policy.HERMES_BASE: hermes_base, Policy.HERMES: hermes,
    Policy.GPU_ONLY: gpu_only,
})


def policy_named(name: str | Policy) -> Policy:
    """The :class:`Policy` that `name` names, matched as the CLI's ``--policy`` and catalog slugs
    are: exactly or up to case and separators (``Hermes_Host`` is ``hermes-host``).

    Raises ``ValueError`` naming the value, the closest names and every valid one.
    """
    try:
        return Policy(name)
    except ValueError:
        pass
    valid = [p.value for p in Policy]
    if isinstance(name, str):
        from hermes_model import io  # string matching only: no file is read

        return Policy(io.resolve_slug(name, valid, "policy"))
    raise ValueError(f"unknown policy {name!r}; valid: {', '.join(valid)}")


def _check_call(policy: Any, model: Any, system: Any, options: Any, batch: Any,
                prompt_len: Any, gen_len: Any) -> Policy:
    """The :class:`Policy` named `policy`; the arguments' types checked (a slug is not a model),
    the run's shape too: positive integers, and prompt + generated tokens within the model's
    context (`check_context`)."""
    pol = policy_named(policy)
    for name, value, cls, hint in (("model", model, ModelSpec, "io.load_model"),
                                   ("system", system, SystemSpec, "io.load_system")):
        if not isinstance(value, cls):
            got = f"str {value!r}" if isinstance(value, str) else type(value).__name__
            raise TypeError(f"{name} must be a {cls.__name__} (see {hint}), got {got}")
    if options is not None and not isinstance(options, Assumptions):
        raise TypeError(f"options must be an Assumptions or None, got {type(options).__name__}")
    _check_run(batch, prompt_len, gen_len, model)
    return pol


def estimate(policy: str | Policy, model: ModelSpec, system: SystemSpec, *, batch: int = 1,
             prompt_len: int = 128, gen_len: int = 128,
             options: Assumptions | None = None) -> Estimate:
    """Run the policy named `policy` (a :class:`Policy` or its string)."""
    pol = _check_call(policy, model, system, options, batch, prompt_len, gen_len)
    return POLICIES[pol](model, system, batch=batch, prompt_len=prompt_len, gen_len=gen_len,
                         options=options or Assumptions())


def min_dimms(policy: str | Policy, model: ModelSpec, system: SystemSpec, *, batch: int = 1,
              prompt_len: int = 128, gen_len: int = 128, options: Assumptions | None = None,
              max_dimms: int = 64) -> int | None:
    """The fewest NDP-DIMMs with which `policy` runs `model` on `system` (the same GPU, host and
    DIMM kind), or None if it cannot run with up to `max_dimms` (another limit than the pool).

    A chapter names it where a configuration with too few DIMMs is N.P. ("Hermes cannot run
    LLaMA2-70B with 4 DIMMs; it needs at least 5").
    """
    for n in range(1, max_dimms + 1):
        if estimate(policy, model, replace(system, n_dimms=n), batch=batch, prompt_len=prompt_len,
                    gen_len=gen_len, options=options).supported:
            return n
    return None


def np_note(bars: Any, policy: str | Policy, models: Mapping[str, ModelSpec], system: SystemSpec,
            activities: Mapping[str, Activity], *, label: str, names: Mapping[str, str] | None = None,
            prompt_len: int = 128, gen_len: int = 128) -> str:
    """A sentence naming the bars of :func:`model_bars` tables that `policy` (called `label`)
    cannot run on `system` although the paper prints them, and why; "" where it runs them all.

    Where more DIMMs would let it run, the sentence gives the fewest (:func:`min_dimms`), else
    the estimate's reason: "With 4 NDP-DIMMs Hermes cannot run LLaMA2-70B (it needs at least 5
    DIMMs) or OPT-66B at batch 16 (it needs at least 5 DIMMs)." `names` gives display names.
    """
    b = bars[(bars["policy"] == str(Policy(policy))) & bars["paper_supported"]]
    parts = []
    for slug, g in b.groupby("model", sort=False):
        bad = g[~g["supported"]]
        if bad.empty:
            continue
        batches = sorted({int(x) for x in bad["batch"]})
        where = "" if len(bad) == len(g) else (
            " at batch" + ("es " if len(batches) > 1 else " ") + ", ".join(map(str, batches)))
        k = min_dimms(policy, models[slug], system, batch=batches[-1], prompt_len=prompt_len,
                      gen_len=gen_len, options=replace(Assumptions(),
                                                       activity=activities.get(str(slug))))
        why = (f"it needs at least {k} DIMMs" if k is not None and k > system.n_dimms
               else str(bad["reason"].iloc[0]))
        parts.append(f"{(names or {}).get(slug, slug)}{where} ({why})")
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    dimms = f"{system.n_dimms} NDP-DIMM" + ("s" if system.n_dimms != 1 else "")
    return f"With {dimms} {label} cannot run {listed}."


def error_range_words(errors_pct: Mapping[str, int], *, median_pct: float, n_np: int = 0
                      ) -> tuple[str, str]:
    """Words for signed errors of model over paper (model / paper − 1, in whole %, keyed by the
    model's display name) that follow their sign, and their median absolute error `median_pct`.

    Returns (lead, spread): the lead completes "At batch 1 the model …" and ends with the
    punctuation before an explanation ("is fast for every model, by 14 % (A) to 41 % (B):"); the
    spread completes "its throughputs …" ("land above the paper's by 14 to 41 % (median 29 %)").
    `n_np` bars the model cannot run are not in `errors_pct`; the median counts them as full
    misses (100 %), and the words say so.
    """
    if not errors_pct:
        return ("cannot run Hermes for any model (N.P.). In the model,",
                "cannot be compared with the paper's (Hermes is N.P. for every model)")
    (lo_name, lo), (hi_name, hi) = (min(errors_pct.items(), key=lambda kv: kv[1]),
                                    max(errors_pct.items(), key=lambda kv: kv[1]))
    every = "every model" + (" it runs" if n_np else "")
    if lo >= 0:
        lead = f"is fast for {every}, by {lo} % ({lo_name}) to {hi} % ({hi_name}):"
        spread = f"land above the paper's by {lo} to {hi} %"
    elif hi <= 0:
        lead = (f"is slow for {every}, by {-hi} % ({hi_name}) to {-lo} % ({lo_name}). "
                "In the model,")
        spread = f"land below the paper's by {-hi} to {-lo} %"
    else:
        lead = (f"is between {-lo} % slow ({lo_name}) and {hi} % fast ({hi_name}). "
                "In the model,")
        spread = f"land between {-lo} % below and {hi} % above the paper's"
    if lo == hi:  # one value: no range
        spread = spread.replace(f"by {abs(lo)} to {abs(hi)} %", f"by {abs(lo)} %")
        if lo_name == hi_name:
            lead = lead.replace(f" % ({lo_name}) to {abs(hi)} % ({hi_name})", f" % ({lo_name})")
    median = f"median {median_pct:.0f} %" if lo >= 0 or hi <= 0 else (
        f"median absolute error {median_pct:.0f} %")
    if n_np:
        bars = f"{n_np} N.P. bar" + ("s" if n_np != 1 else "")
        spread += (f" where it runs ({bars}; median absolute error {median_pct:.0f} %, "
                   f"counting each N.P. bar as a full miss)")
    else:
        spread += f" ({median})"
    return lead, spread


# ------------------------------------------------------------------------------------ band


def unstated_for(policy: str | Policy | None, system: SystemSpec) -> tuple[Unstated, ...]:
    """The unstated parameters that `policy` reads (None: any policy), with the ranges that
    apply on `system`.

    The link scale is varied only under the ``paper`` profile (the datasheet value is already
    per direction).
    """
    pol = None if policy is None else policy_named(policy)
    out = []
    for p in UNSTATED:
        if pol is not None and pol not in p.policies:
            continue
        if p.name == "link_bandwidth_scale" and system.profile != "paper":
            continue
        out.append(p)
    return tuple(out)


def reading_ends(params: Sequence[Unstated], base: Assumptions) -> list[tuple[str, Any]]:
    """Each parameter's range ends that differ from `base`, as (name, value), in table order:
    the one-at-a-time readings of the diagnostics (:func:`fidelity_by_reading`,
    ``sweeps.gpu_ratio_by_reading``)."""
    return [(p.name, v) for p in params for v in dict.fromkeys((p.low, p.high))
            if v != getattr(base, p.name)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """A band of tokens/s over the unstated parameters and how it was found.

    Attributes
    ----------
    low, high : float
        Lowest and highest tokens/s over the design (tokens/s).
    default : float
        At the defaults.
    one_at_a_time : Mapping[str, tuple[float, float]]
        tokens/s at each parameter's low and high end, the others at their defaults.
    corners : tuple of str
        The most influential parameters whose every corner was evaluated together.
    """

    low: float
    high: float
    default: float
    one_at_a_time: Mapping[str, tuple[float, float]]
    corners: tuple[str, ...]


def tokens_per_s_band(policy: str | Policy, model: ModelSpec, system: SystemSpec, *,
                      batch: int = 1, prompt_len: int = 128, gen_len: int = 128,
                      options: Assumptions | None = None, n_corner: int = 3,
                      fixed: Collection[str] = ()) -> Band:
    """Band of tokens/s over the unstated parameters (:data:`UNSTATED`).

    Method: each parameter the policy reads is moved alone to its low and to its high end (one
    at a time); the `n_corner` parameters whose two ends differ most (in log tokens/s) are then
    combined at all :math:`2^{n}` corners, the rest at their defaults; the band is the minimum
    and maximum over the defaults, the one-at-a-time runs and the corners. Ranges are
    :data:`UNSTATED`'s; `options` supplies everything else (e.g. the activity statistics).
    Parameters named in `fixed` (a user's own choice of them) stay at their `options` value
    and are not swept.
    """
    pol = _check_call(policy, model, system, options, batch, prompt_len, gen_len)
    known = {p.name for p in UNSTATED}
    if unknown := sorted(set(fixed) - known):
        raise ValueError(f"fixed names no unstated parameter: {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(known))}")
    base = options or Assumptions()
    fn = POLICIES[pol]

    def run(**kw: Any) -> float:
        est = fn(model, system, batch=batch, prompt_len=prompt_len, gen_len=gen_len,
                 options=replace(base, **kw))
        return est.tokens_per_s if est.supported else math.nan

    default = run()
    params = [p for p in unstated_for(pol, system) if p.name not in fixed]
    oat: dict[str, tuple[float, float]] = {}
    for p in params:
        oat[p.name] = (run(**{p.name: p.low}), run(**{p.name: p.high}))
    values = [default] + [v for pair in oat.values() for v in pair]

    def spread(name: str) -> float:
        lo, hi = oat[name]
        if not (lo > 0 and hi > 0):
            return math.inf
        return abs(math.log(hi / lo))

    top = tuple(sorted(oat, key=spread, reverse=True)[:n_corner])
    ranges = {p.name: (p.low, p.high) for p in params}
    values.extend(run(**dict(zip(top, combo, strict=True)))
                  for combo in product(*(ranges[n] for n in top)))
    finite = [v for v in values if v > 0 and math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    return Band(low=low, high=high, default=default, one_at_a_time=MappingProxyType(oat),
                corners=top)


# ------------------------------------------------------------------- the paper's figures


def model_bars(paper: Any, system: SystemSpec, activities: Mapping[str, Activity],
               models: Mapping[str, ModelSpec], *, options: Assumptions | None = None,
               prompt_len: int = 128, gen_len: int = 128) -> Any:
    """The model's value for every bar of a paper figure table (``io.load_paper_figure``).

    `models` maps each model slug of `paper` to its shape (``io.load_model``); this function
    reads no file.

    Returns the rows of `paper` (``model``, ``policy``, ``batch``, paper's ``tokens_per_s`` as
    ``paper_tokens_per_s``) with the model's ``tokens_per_s`` (NaN where unsupported),
    ``supported``, ``reason``, ``prefill_s``, ``decode_step_s`` and ``error_frac`` (model over
    paper minus one).
    """
    import pandas as pd

    base = options or Assumptions()
    rows = []
    for slug, group in paper.groupby("model", sort=False):
        if str(slug) not in models:
            raise ValueError(f"model_bars: no shape for model {slug!r}; given: "
                             f"{', '.join(sorted(models))}")
        model = models[str(slug)]
        opts = replace(base, activity=activities.get(str(slug)))
        for _, bar in group.iterrows():
            est = POLICIES[Policy(bar["policy"])](model, system, batch=int(bar["batch"]),
                                                 prompt_len=prompt_len, gen_len=gen_len,
                                                 options=opts)
            tps = est.tokens_per_s if est.supported else math.nan
            rows.append({"model": str(slug), "policy": str(bar["policy"]),
                         "batch": int(bar["batch"]), "paper_tokens_per_s": bar["tokens_per_s"],
                         "tokens_per_s": tps, "supported": est.supported,
                         "paper_supported": bool(bar["supported"]), "reason": est.reason,
                         "prefill_s": est.prefill_s, "decode_step_s": est.decode_step_s,
                         "error_frac": tps / bar["tokens_per_s"] - 1.0})
    return pd.DataFrame(rows)


def _ratio_mean(bars: Any, num: str, den: str, column: str, models: Sequence[str] | None = None,
                batches: Sequence[int] = (1,)) -> float:
    b = bars[bars["batch"].isin(batches)]
    if models is not None:
        b = b[b["model"].isin(models)]
    # a system with no bar (N.P. everywhere) has no column: its ratios are NaN
    wide = b.pivot_table(index=["model", "batch"], columns="policy", values=column).reindex(
        columns=[num, den])
    return float((wide[num] / wide[den]).mean())


#: How each of the paper's averages is defined: (numerator, denominator, models, batches);
#: the models are those the text's sentence refers to (digest §10).
OPT_MODELS: Final = ("opt_13b", "opt_30b", "opt_66b")
FIG10_MODELS: Final = ("llama2_13b", "llama2_70b", "falcon_40b")
AVERAGE_DEFINITIONS: Final[Mapping[str, tuple[str, str, tuple[str, ...] | None,
                                              tuple[int, ...]]]] = MappingProxyType({
    "hermes_over_accelerate": ("hermes", "accelerate", OPT_MODELS, (1,)),
    "hermes_over_flexgen_bs1": ("hermes", "flexgen", OPT_MODELS, (1,)),
    "dejavu_over_flexgen": ("dejavu", "flexgen", OPT_MODELS, (1,)),
    "hermes_host_over_accelerate": ("hermes-host", "accelerate", None, (1,)),
    "hermes_host_over_flexgen": ("hermes-host", "flexgen", OPT_MODELS, (1,)),
    "hermes_base_over_accelerate": ("hermes-base", "accelerate", FIG10_MODELS, (1,)),
    "hermes_over_hermes_base": ("hermes", "hermes-base", FIG10_MODELS, (1,)),
    "hermes_over_flexgen_batches": ("hermes", "flexgen", ("opt_66b",), (1, 2, 4, 8, 16)),
    "hermes_over_dejavu_batches": ("hermes", "dejavu", ("opt_66b",), (1, 2, 4, 8, 16)),
    "hermes_over_hermes_host_batches": ("hermes", "hermes-host",
                                        ("falcon_40b", "opt_66b", "llama2_70b"), (1, 2, 4, 8, 16)),
})


def figure_averages(bs1_bars: Any, batch_bars: Any, column: str) -> dict[str, float]:
    """The paper's averages computed from a bar table's `column` (the paper's or the model's).

    Parameters
    ----------
    bs1_bars : DataFrame
        Figs. 9 and 10 together (``model``, ``policy``, ``batch``, `column`).
    batch_bars : DataFrame
        Fig. 11.
    column : str
        ``paper_tokens_per_s`` or ``tokens_per_s``.

    Returns
    -------
    dict
        Each key of :data:`AVERAGE_DEFINITIONS` (mean of per-bar ratios) plus
        ``hermes_over_hermes_host_min`` / ``_max`` over the six models at batch 1.
    """
    out = {}
    for name, (num, den, models, batches) in AVERAGE_DEFINITIONS.items():
        src = batch_bars if len(batches) > 1 else bs1_bars
        out[name] = _ratio_mean(src, num, den, column, models, batches)
    wide = bs1_bars.pivot_table(index="model", columns="policy", values=column).reindex(
        columns=["hermes", "hermes-host"])
    ratio = wide["hermes"] / wide["hermes-host"]
    out["hermes_over_hermes_host_min"] = float(ratio.min())
    out["hermes_over_hermes_host_max"] = float(ratio.max())
    return out


def system_order_matches(bars: Any) -> dict[str, bool]:
    """Per model (batch 1): whether the model ranks the systems as the paper's bars do."""
    out = {}
    for slug, g in bars[bars["batch"] == 1].groupby("model", sort=False):
        g = g[g["paper_supported"] & g["supported"]]
        paper = list(g.sort_values("paper_tokens_per_s")["policy"])
        model = list(g.sort_values("tokens_per_s")["policy"])
        out[str(slug)] = paper == model
    return out


# ----------------------------------------------------------------- fidelity (issue 9)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fidelity:
    """How close a set of bars comes to the paper's (issue 9's acceptance, bands aside).

    Attributes
    ----------
    bs1_median_abs_err, batch_median_abs_err : float
        Median of |model / paper − 1| over Hermes at batch 1 (Figs. 9–10) and over Hermes at
        batches 2–16 (Fig. 11) (fractions).
    n_order, n_models : int
        Models whose batch-1 order of the systems is the paper's, out of how many.
    order_fails : tuple of str
        The models whose order differs.
    hermes_over_host : float
        Hermes over Hermes-host, mean of per-bar ratios over Fig. 11's points.
    model_step_growth, implied_step_growth : float
        Growth of Hermes' mean decode step per doubling of the batch from 1 to 4,
        :math:`(\\bar T(4)/\\bar T(1))^{1/2}`, median over Fig. 11's models: the model's own, and
        the one the paper's bars imply given the model's prefill (:func:`implied_decode_step_s`).
    """

    bs1_median_abs_err: float
    batch_median_abs_err: float
    n_order: int
    n_models: int
    order_fails: tuple[str, ...]
    hermes_over_host: float
    model_step_growth: float
    implied_step_growth: float


def _step_growth(bars: Any, gen_len: int) -> tuple[float, float]:
    """Median per-doubling growth of the decode step from batch 1 to 4: model's, implied."""
    h = bars[(bars["policy"] == "hermes") & bars["batch"].isin((1, 4)) & bars["supported"]]
    model_g, implied_g = [], []
    for _, g in h.groupby("model"):
        if set(g["batch"]) != {1, 4}:
            continue
        one, four = (g[g["batch"] == b].iloc[0] for b in (1, 4))
        model_g.append(math.sqrt(four["decode_step_s"] / one["decode_step_s"]))
        steps = [float(implied_decode_step_s(r["paper_tokens_per_s"], batch=int(r["batch"]),
                                             gen_len=gen_len, prefill_s=r["prefill_s"]))
                 for r in (one, four)]
        implied_g.append(math.sqrt(steps[1] / steps[0]) if min(steps) > 0 else math.nan)
    med = (lambda v: float(np.median(v)) if v else math.nan)
    return med(model_g), med(implied_g)


def fidelity(bs1_bars: Any, batch_bars: Any, *, gen_len: int = PAPER.gen_len,
             prompt_len: int = PAPER.prompt_len) -> Fidelity:
    """The acceptance quantities of issue 9 from :func:`model_bars` tables (no bands).

    `bs1_bars` holds Figs. 9 and 10, `batch_bars` Fig. 11; `prompt_len` and `gen_len` are the
    run's tokens per sequence. The decode steps the paper's bars imply need the paper's own run
    (128 and 128, §V-A) and the model's prefill there: at other lengths the implied growth is
    NaN. A Hermes bar the model cannot run counts as an error of −100 % (the chapter's
    acceptance table has none).
    """
    def med(b: Any) -> float:
        err = b["error_frac"].fillna(-1.0)
        return float(np.median(np.abs(err))) if len(err) else math.nan

    h1 = bs1_bars[(bs1_bars["policy"] == "hermes") & (bs1_bars["batch"] == 1)]
    hb = batch_bars[(batch_bars["policy"] == "hermes") & (batch_bars["batch"] > 1)]
    order = system_order_matches(bs1_bars)
    num, den, hh_models, hh_batches = AVERAGE_DEFINITIONS["hermes_over_hermes_host_batches"]
    sel = batch_bars[batch_bars["model"].isin(hh_models) & batch_bars["batch"].isin(hh_batches)]
    hh = (_ratio_mean(sel, num, den, "tokens_per_s", hh_models, hh_batches)
          if {num, den} <= set(sel["policy"]) else math.nan)
    growth = (_step_growth(batch_bars, gen_len) if "decode_step_s" in batch_bars
              else (math.nan, math.nan))
    if differs_from_paper(prompt_len=prompt_len, gen_len=gen_len):  # no implied step off its run
        growth = (growth[0], math.nan)
    return Fidelity(bs1_median_abs_err=med(h1), batch_median_abs_err=med(hb),
                    n_order=sum(order.values()), n_models=len(order),
                    order_fails=tuple(k for k, v in order.items() if not v),
                    hermes_over_host=hh, model_step_growth=growth[0],
                    implied_step_growth=growth[1])


def _log_err(bars: Any) -> Any:
    return np.abs(np.log(bars["tokens_per_s"] / bars["paper_tokens_per_s"]))


def fidelity_by_reading(figures: Mapping[str, Any], system: SystemSpec,
                        activities: Mapping[str, Activity], models: Mapping[str, ModelSpec], *,
                        options: Assumptions | None = None, prompt_len: int = 128,
                        gen_len: int = 128) -> Any:
    """:func:`fidelity` at the defaults and with each unstated parameter alone at each end.

    Parameters
    ----------
    figures : mapping
        ``fig9``, ``fig10`` and ``fig11`` paper tables (``io.load_paper_figure``).
    system, activities, models, options, prompt_len, gen_len
        As in :func:`model_bars`.

    Returns
    -------
    DataFrame
        One row per reading (``parameter``, ``value``; ``defaults`` first), with the
        :class:`Fidelity` fields and ``n_bars``, ``n_closer``, ``n_farther``: how many bars the
        model supports under both readings, and how many of them move closer to the paper's
        value or farther from it (in |log(model / paper)|) than at the defaults. Ends equal to
        the default are skipped; the link scale is varied only under the ``paper`` profile. This
        is a diagnostic of which reading of the paper its bars favour, not a fit: nothing here
        changes a default.
    """
    import pandas as pd

    base = options or Assumptions()
    readings = [("defaults", ""), *reading_ends(unstated_for(None, system), base)]
    names = [f.name for f in fields(Fidelity)]
    rows, ref = [], None
    for name, value in readings:
        opts = base if name == "defaults" else replace(base, **{name: value})
        b = {f: model_bars(t, system, activities, models, options=opts, prompt_len=prompt_len,
                           gen_len=gen_len) for f, t in figures.items()}
        fid = fidelity(pd.concat([b["fig9"], b["fig10"]], ignore_index=True), b["fig11"],
                       gen_len=gen_len, prompt_len=prompt_len)
        err = _log_err(pd.concat(list(b.values()), ignore_index=True))
        ref = err if ref is None else ref
        both = err.notna() & ref.notna()
        rows.append({"parameter": name, "value": str(value),
                     **{f: getattr(fid, f) for f in names}, "n_bars": int(both.sum()),
                     "n_closer": int((err[both] < ref[both] - 1e-12).sum()),
                     "n_farther": int((err[both] > ref[both] + 1e-12).sum())})
    return pd.DataFrame(rows)


def implied_decode_step_s(tokens_per_s: Any, *, batch: Any, gen_len: int, prefill_s: Any) -> Any:
    """The mean decode step a throughput implies, given a prefill time (s).

    Inverts the throughput definition of this module:
    :math:`\\bar T_{decode} = (b\\,n_{gen}/\\text{tokens/s} - T_{prefill}) / n_{gen}`. Used to read
    the paper's bars as decode steps under the model's prefill; a negative value means the
    prefill alone is longer than the paper's whole run. Scalars give a float, arrays an array;
    NaN prefill times propagate.
    """
    tps = np.asarray(tokens_per_s, dtype=float)
    b = np.asarray(batch, dtype=float)
    if not np.all(np.isfinite(tps) & (tps > 0)):
        raise ValueError(f"tokens_per_s must be finite and > 0, got {tokens_per_s!r}")
    if not np.all(b > 0):
        raise ValueError(f"batch must be > 0, got {batch!r}")
    if isinstance(gen_len, bool) or not gen_len > 0:
        raise ValueError(f"gen_len must be > 0, got {gen_len!r}")
    out = (b * gen_len / tps - np.asarray(prefill_s, dtype=float)) / gen_len
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, slots=True, kw_only=True)
class AffineStep:
    """A decode step fitted as a straight line in the batch, :math:`T(b) = A + B\\,b`.

    Attributes
    ----------
    intercept_s : float
        A: the part of the step that does not grow with the batch (s).
    per_sequence_s : float
        B: what each sequence of the batch adds (s).
    max_rel_err : float
        Largest :math:`|(A + B b)/T(b) - 1|` over the points: how far the step is from a line.
    """

    intercept_s: float
    per_sequence_s: float
    max_rel_err: float


def affine_step_fit(batch: Any, step_s: Any) -> AffineStep:
    """Least-squares line :math:`T(b) = A + B\\,b` through decode steps at several batch sizes.

    A core that reads a weight once per step and then multiplies it by every sequence (reads and
    MACs one after the other) has exactly such a step; a roofline (the longer of the two) is flat
    until the core turns compute-bound and then a line through the origin, so `max_rel_err`
    tells the two apart. Needs at least three points with distinct batches, all steps > 0.
    """
    b = np.asarray(batch, dtype=float)
    t = np.asarray(step_s, dtype=float)
    if not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError(f"batch must be finite and > 0, got {batch!r}")
    if b.ndim != 1 or b.shape != t.shape or np.unique(b).size < 3:
        raise ValueError("affine_step_fit needs batch and step_s of one shape with >= 3 distinct "
                         f"batches, got batch={batch!r}, step_s={step_s!r}")
    if not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError(f"step_s must be finite and > 0, got {step_s!r}")
    slope, intercept = np.polyfit(b, t, 1)
    err = float(np.max(np.abs((intercept + slope * b) / t - 1.0)))
    return AffineStep(intercept_s=float(intercept), per_sequence_s=float(slope), max_rel_err=err)
