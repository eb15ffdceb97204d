"""Roofline time of one operation on one device, and the time of a transfer over a link.

An operation of `flop` FLOP that moves `bytes` bytes takes

.. math:: t = \\max\\left(\\frac{F}{\\eta_c P},\\; \\frac{B}{\\eta_b W}\\right) + t_0

where P is the device's peak FLOP rate, W its peak memory bandwidth, η_c and η_b the achievable
fractions of its kind and t_0 a fixed per-kernel overhead. The operation counts and times take
numpy arrays of sizes, batches and intensities as well as scalars (a sweep is one call), with the
device's rates as scalars; ``op_time`` and ``matmul_time`` report which bound applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model.shapes import ModelSpec, dtype_bytes, layer_matrices
from hermes_model.specs import LinkSpec, SystemSpec

#: Labels of the bound that sets an operation's time.
COMPUTE, MEMORY = "compute", "memory"


class Device(Protocol):
    """Anything with a roofline: a GPU, a host CPU, an NDP-DIMM."""

    @property
    def achievable_flop_per_s(self) -> float: ...
    @property
    def achievable_bandwidth_bytes_per_s(self) -> float: ...
    @property
    def kernel_overhead_s(self) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OpTime:
    """The roofline time of one or many operations (arrays broadcast together).

    Attributes
    ----------
    time_s : ndarray
        Total time, overhead included (s).
    compute_s, memory_s : ndarray
        Time at the achievable FLOP rate and at the achievable bandwidth alone (s).
    bound : ndarray of str
        ``"compute"`` where compute time is the larger, else ``"memory"``.
    flop_per_s, bandwidth_bytes_per_s : float
        The achievable rates used.
    """

    time_s: npt.NDArray[np.float64]
    compute_s: npt.NDArray[np.float64]
    memory_s: npt.NDArray[np.float64]
    bound: npt.NDArray[np.str_]
    flop_per_s: float
    bandwidth_bytes_per_s: float


def ridge_point_flop_per_byte(flop_per_s: float, bandwidth_bytes_per_s: float) -> float:
    """Arithmetic intensity at which compute and memory time are equal (FLOP/byte)."""
    if flop_per_s <= 0 or bandwidth_bytes_per_s <= 0:
        raise ValueError("flop_per_s and bandwidth_bytes_per_s must be positive, got "
                         f"{flop_per_s!r} and {bandwidth_bytes_per_s!r}")
    return flop_per_s / bandwidth_bytes_per_s


def attainable_flop_per_s(intensity_flop_per_byte: npt.ArrayLike, flop_per_s: float,
                          bandwidth_bytes_per_s: float) -> npt.NDArray[np.float64]:
    """The roofline itself: min(peak, intensity × bandwidth) (FLOP/s)."""
    intensity = np.asarray(intensity_flop_per_byte, dtype=float)
    return np.minimum(flop_per_s, intensity * bandwidth_bytes_per_s)


def op_time(flop: npt.ArrayLike, bytes_moved: npt.ArrayLike, *, flop_per_s: float,
            bandwidth_bytes_per_s: float, overhead_s: float = 0.0) -> OpTime:
    """Roofline time of operations given their FLOP and bytes, at the given achievable rates.

    Parameters
    ----------
    flop : array_like
        Floating-point operations (FLOP); 2 per multiply-accumulate.
    bytes_moved : array_like
        Bytes read from and written to the device's memory (bytes).
    flop_per_s, bandwidth_bytes_per_s : float
        Achievable compute rate (FLOP/s) and memory bandwidth (B/s); both must be positive.
    overhead_s : float
        Fixed time per operation (s), for example a kernel launch.
    """
    for name, rate in (("flop_per_s", flop_per_s), ("bandwidth_bytes_per_s",
                                                     bandwidth_bytes_per_s)):
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.number) or not (
                0 < rate < np.inf):
            raise ValueError(f"{name} must be a positive finite number, got {rate!r}")
    if isinstance(overhead_s, bool) or not isinstance(overhead_s, int | float | np.number) or not (
            0 <= overhead_s < np.inf):
        raise ValueError(f"overhead_s must be a finite number >= 0, got {overhead_s!r}")
    compute_s = np.asarray(flop, dtype=float) / flop_per_s
    memory_s = np.asarray(bytes_moved, dtype=float) / bandwidth_bytes_per_s
    if np.any(compute_s < 0) or np.any(memory_s < 0):
        raise ValueError("flop and bytes_moved must be non-negative")
    compute_s, memory_s = np.broadcast_arrays(compute_s, memory_s)
    return OpTime(time_s=np.maximum(compute_s, memory_s) + overhead_s, compute_s=compute_s,
                  memory_s=memory_s, bound=np.where(compute_s > memory_s, COMPUTE, MEMORY),
                  flop_per_s=flop_per_s, bandwidth_bytes_per_s=bandwidth_bytes_per_s)


def matmul_flop(m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """FLOP of an M×K by K×N product: 2·M·N·K."""
    return 2.0 * np.asarray(m, dtype=float) * np.asarray(n, dtype=float) * np.asarray(k, dtype=float)


def matmul_bytes(m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike,
                 dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Bytes of an M×K by K×N product that each operand and the result cross memory once:
    (M·K + K·N + M·N) × bytes per element. For decode, K×N is the weight matrix."""
    m_, n_, k_ = (np.asarray(x, dtype=float) for x in (m, n, k))
    for name, arr in (("m", m_), ("n", n_), ("k", k_)):
        if np.any(arr <= 0):
            raise ValueError(f"{name} must be positive, got {float(arr.min())}")
    return (m_ * k_ + k_ * n_ + m_ * n_) * dtype_bytes(dtype)


def matmul_time(device: Device, m: npt.ArrayLike, n: npt.ArrayLike, k: npt.ArrayLike,
                dtype: str = "fp16") -> OpTime:
    """Roofline time of an M×K by K×N product on `device` at its achievable rates.

    The compute rate is the device's FP16 tensor (or FP32 SIMD, for a CPU) rate whatever `dtype`;
    `dtype` sets the bytes per element. `m`, `n` and `k` are positive whole numbers. For an
    NDP-DIMM the bandwidth is its pin-level bound (all ranks at full rate);
    `hermes_model.ndp.dimm_op_time` uses the DRAM timing model that the policies use instead.

    Returns
    -------
    OpTime
        ``time_s`` (s), ``compute_s``, ``memory_s`` and ``bound`` (``"memory"`` or
        ``"compute"``), as numpy arrays (0-d for scalar arguments: ``float(t.time_s)``).
    """
    if not all(hasattr(device, a) for a in ("achievable_flop_per_s",
                                             "achievable_bandwidth_bytes_per_s",
                                             "kernel_overhead_s")):
        got = f"str {device!r}" if isinstance(device, str) else type(device).__name__
        raise TypeError(f"device must be a GpuSpec, HostSpec or DimmSpec (see io.load_device), "
                        f"got {got}")
    for name, x in (("m", m), ("n", n), ("k", k)):
        if isinstance(x, str | bytes) or np.asarray(x).dtype.kind not in "iuf":
            raise ValueError(f"{name} must be a number or an array of numbers, got {x!r}")
        arr = np.asarray(x, dtype=float)
        bad = ~(np.isfinite(arr) & (arr >= 1) & (arr == np.floor(arr)))
        if np.any(bad):
            raise ValueError(f"{name} must be positive, finite and a whole number, "
                             f"got {float(arr[bad].flat[0])}")
    return op_time(matmul_flop(m, n, k), matmul_bytes(m, n, k, dtype),
                   flop_per_s=device.achievable_flop_per_s,
                   bandwidth_bytes_per_s=device.achievable_bandwidth_bytes_per_s,
                   overhead_s=device.kernel_overhead_s)


def transfer_time_s(bytes_moved: npt.ArrayLike, link: LinkSpec) -> npt.NDArray[np.float64]:
    """Time to move `bytes_moved` bytes one way over `link`: latency + bytes / achievable bandwidth."""
    if not isinstance(link, LinkSpec):
        raise TypeError(f"link must be a LinkSpec (see io.load_link), got {type(link).__name__}")
    b = np.asarray(bytes_moved, dtype=float)
    bad = ~((b >= 0) & np.isfinite(b))
    if np.any(bad):
        raise ValueError(f"bytes_moved must be non-negative and finite, got {float(b[bad].flat[0])}")
    return link.latency_s + b / link.achievable_bandwidth_bytes_per_s


# ---------------------------------------------------------------------------------------------
# Rooflines of a whole system, tier by tier (chapter "Rooflines")
# ---------------------------------------------------------------------------------------------

#: Provenance labels, weakest first: a value derived from several sources takes the weakest.
LABELS: Final = ("assumed", "calibrated", "measured", "datasheet", "paper")


#: Words that make a source's value a choice of this book: assumed.
ASSUMED_WORDS: Final = ("assumed", "derived", "inferred", "convention")


def source_kind(source: str) -> str:
    """The provenance of one catalog source string (see `provenance`).

    The rule reads the source's origin, not every citation in it:

    - it says "assumed", "derived" or "inferred", or it applies a "convention" (such as the
      paper's 64 GB/s reading of PCIe 4.0 applied to another link, which the paper never states):
      ``"assumed"``;
    - otherwise "calibrated"/"fitted", then "measured", where it says so;
    - otherwise ``"paper"`` only when the source *begins* by citing Hermes: the paper is the
      origin of the number, as in ``"Hermes Table II"``. A source that begins with another
      document and cites Hermes later for context (the RTX 3090's 936 GB/s, from NVIDIA's
      whitepaper, with Hermes' "about the same bandwidth as the 4090") is ``"datasheet"``;
    - otherwise ``"datasheet"``.
    """
    s = source.strip().lower()
    if any(w in s for w in ASSUMED_WORDS):
        return "assumed"
    if "calibrat" in s or "fitted" in s:
        return "calibrated"
    if "measured" in s:
        return "measured"
    return "paper" if s.startswith("hermes") else "datasheet"


def provenance(*sources: str) -> str:
    """The label of a value derived from catalog `sources`: paper, datasheet, measured, ...

    Each source is classified by `source_kind`. The weakest of assumed, calibrated and
    measured wins; otherwise the value is "paper" (every source begins by citing Hermes),
    "datasheet" (none does), or "paper + datasheet" when it combines both. ``"override"`` (a
    count the reader chose) carries no label.

    >>> provenance("Hermes Table II", "JEDEC JESD79-4")
    'paper + datasheet'
    >>> provenance("Hermes Table II", "derived (the paper does not state it)")
    'assumed'
    >>> provenance("NVIDIA GA102 whitepaper: 936 GB/s; Hermes §V-E2 ('about the same')")
    'datasheet'
    """
    kinds = {source_kind(source) for source in sources if source.strip().lower() != "override"}
    for weak in ("assumed", "calibrated", "measured"):
        if weak in kinds:
            return weak
    if not kinds:
        raise ValueError("provenance needs at least one source other than 'override'")
    return " + ".join(k for k in ("paper", "datasheet") if k in kinds)


def profile_provenance(profile: str, *sources: str) -> str:
    """`provenance` of `sources` as read under `profile`.

    Under the datasheet profile, a source that begins by citing Hermes but also cites a vendor
    document in a later ``;``-separated clause (the T4's "Hermes §V-E2 (320 GB/s); NVIDIA T4
    datasheet (320+ GB/s)") stands for that document: the datasheet profile takes the value
    from it, and the paper merely agrees. Under the paper profile the sources are classified as
    they are.

    >>> t4 = "Hermes §V-E2 (320 GB/s); NVIDIA T4 datasheet (320+ GB/s)"
    >>> profile_provenance("paper", t4), profile_provenance("datasheet", t4)
    ('paper', 'datasheet')
    >>> profile_provenance("datasheet", "Hermes Table II")
    'paper'
    """
    if profile != "datasheet":
        return provenance(*sources)

    def cited(source: str) -> str:
        if source_kind(source) != "paper":
            return source
        vendor = [c for c in source.split(";")[1:] if c.strip() and source_kind(c) == "datasheet"]
        return vendor[0] if vendor else source

    return provenance(*(s if s.strip().lower() == "override" else cited(s) for s in sources))


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """One level of the memory hierarchy as a roofline: a compute roof and a bandwidth slope.

    Attributes
    ----------
    name : str
        Display name, for example ``"GPU memory"``.
    short : str
        A label of a few characters for charts, for example ``"GPU"``.
    subsystem : str
        Palette key: ``GPU``, ``PCIe``, ``host``, ``NDP-DIMM`` or ``DIMM-link``.
    flop_per_s : float
        Peak compute rate that works on data from this tier (FLOP/s).
    bandwidth_bytes_per_s : float
        Peak bandwidth of the tier (B/s).
    flop_label, bandwidth_label : str
        Provenance of each number (see `provenance`).
    """

    name: str
    short: str
    subsystem: str
    flop_per_s: float
    bandwidth_bytes_per_s: float
    flop_label: str
    bandwidth_label: str

    @property
    def ridge_flop_per_byte(self) -> float:
        """Intensity where the tier's two bounds meet (FLOP/byte)."""
        return ridge_point_flop_per_byte(self.flop_per_s, self.bandwidth_bytes_per_s)


def system_tiers(system: SystemSpec) -> tuple[Tier, ...]:
    """The five rooflines of a Hermes-like system, at peak rates.

    1. GPU memory: the GPU's FP16 tensor peak over its memory bandwidth.
    2. PCIe, per direction: the same GPU compute fed by weights streamed over the host link.
    3. Host DRAM and CPU: the host's FP32 peak over its DRAM bandwidth.
    4. One NDP-DIMM: its NDP core's peak over all its ranks' pin bandwidth (an upper bound; the
       NDP-DIMM chapter derives what the DRAM timings allow).
    5. The pool of ``system.n_dimms`` NDP-DIMMs: both rates times the count.
    """
    gpu, host, link, dimm = system.gpu, system.host, system.host_link, system.dimm

    def label(*sources: str) -> str:  # each source as read under the system's profile
        return profile_provenance(system.profile, *sources)

    gpu_flop = label(gpu.sources["fp16_flop_per_s"])
    dimm_bw = label(*(dimm.sources[k] for k in ("data_rate_transfers_per_s",
                                                      "bus_width_bits", "n_ranks")))
    dimm_flop = label(*(dimm.sources[k] for k in ("ndp_multipliers", "ndp_operand_bits",
                                                        "ndp_clock_hz", "ndp_cycles_per_op")))
    n = system.n_dimms
    return (
        Tier(name="GPU memory", short="GPU", subsystem="GPU", flop_per_s=gpu.fp16_flop_per_s,
             bandwidth_bytes_per_s=gpu.memory_bandwidth_bytes_per_s, flop_label=gpu_flop,
             bandwidth_label=label(gpu.sources["memory_bandwidth_bytes_per_s"])),
        Tier(name=f"PCIe {link.generation}.0 x{link.lanes}, per direction", short="PCIe",
             subsystem="PCIe",
             flop_per_s=gpu.fp16_flop_per_s,
             bandwidth_bytes_per_s=link.bandwidth_per_direction_bytes_per_s, flop_label=gpu_flop,
             bandwidth_label=label(link.sources["bandwidth_per_direction_bytes_per_s"])),
        Tier(name="host DRAM and CPU", short="host", subsystem="host", flop_per_s=host.flop_per_s,
             bandwidth_bytes_per_s=host.dram_bandwidth_bytes_per_s,
             flop_label=label(host.sources["flop_per_s"]),
             bandwidth_label=label(host.sources["dram_bandwidth_bytes_per_s"])),
        Tier(name="1 NDP-DIMM (ranks' pin bound)", short="1 DIMM", subsystem="NDP-DIMM",
             flop_per_s=dimm.ndp_flop_per_s,
             bandwidth_bytes_per_s=dimm.ranks_pin_bandwidth_bytes_per_s,
             flop_label=dimm_flop, bandwidth_label=dimm_bw),
        Tier(name=f"{n} NDP-DIMM{'s' if n > 1 else ''} (pin bound)",
             short=f"{n} DIMM{'s' if n > 1 else ''}", subsystem="NDP-DIMM",
             flop_per_s=n * dimm.ndp_flop_per_s,
             bandwidth_bytes_per_s=system.dimm_pool_bandwidth_bytes_per_s,
             flop_label=dimm_flop, bandwidth_label=dimm_bw),
    )


def roofline_table(tiers: Sequence[Tier]) -> pd.DataFrame:
    """One row per tier: peak, bandwidth, ridge point and the provenance of each number."""
    return pd.DataFrame({
        "tier": [t.name for t in tiers],
        "short": [t.short for t in tiers],
        "subsystem": [t.subsystem for t in tiers],
        "peak_flop_per_s": [t.flop_per_s for t in tiers],
        "bandwidth_bytes_per_s": [t.bandwidth_bytes_per_s for t in tiers],
        "ridge_flop_per_byte": [t.ridge_flop_per_byte for t in tiers],
        "flop_label": [t.flop_label for t in tiers],
        "bandwidth_label": [t.bandwidth_label for t in tiers],
    })


def roofline_lines(tiers: Sequence[Tier], intensity_min: float,
                   intensity_max: float) -> pd.DataFrame:
    """Vertices of each tier's roofline between two intensities (enough to draw it log-log).

    A roofline is straight on log-log axes on each side of its ridge point, so three vertices
    (the two ends and the ridge, where it lies inside the range) draw it exactly.
    """
    if not 0 < intensity_min < intensity_max:
        raise ValueError("need 0 < intensity_min < intensity_max, got "
                         f"{intensity_min!r} and {intensity_max!r}")
    rows = []
    for t in tiers:
        xs = sorted({intensity_min, intensity_max,
                     min(max(t.ridge_flop_per_byte, intensity_min), intensity_max)})
        ys = attainable_flop_per_s(xs, t.flop_per_s, t.bandwidth_bytes_per_s)
        rows += [{"tier": t.name, "subsystem": t.subsystem, "intensity_flop_per_byte": x,
                  "attainable_flop_per_s": float(y)} for x, y in zip(xs, ys, strict=True)]
    return pd.DataFrame(rows)


def gemv_intensity_flop_per_byte(batch: npt.ArrayLike, weights: npt.ArrayLike,
                                 io_elements: npt.ArrayLike,
                                 dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Arithmetic intensity of a batched GEMV (or a sum of them) that reads its weights once.

    With ``weights = Σ k·n`` and ``io_elements = Σ (k + n)`` over the matrices,
    ``I = 2·b·Σkn / (s·(Σkn + b·Σ(k+n)))`` where b is the batch and s the bytes per element:
    always below ``2·b/s``, and close to it while ``b·(k+n) ≪ k·n``.
    """
    b = np.asarray(batch, dtype=float)
    w = np.asarray(weights, dtype=float)
    io = np.asarray(io_elements, dtype=float)
    if np.any(b <= 0) or np.any(w <= 0) or np.any(io <= 0):
        raise ValueError("batch, weights and io_elements must be positive")
    return 2.0 * b * w / (dtype_bytes(dtype) * (w + b * io))


def compute_bound_batch(ridge_flop_per_byte: npt.ArrayLike, weights: npt.ArrayLike,
                        io_elements: npt.ArrayLike, dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Batch at which a GEMV's intensity reaches `ridge_flop_per_byte` (inf if it never does).

    Solves ``gemv_intensity_flop_per_byte(b, ...) = R`` for b:
    ``b = R·s·Σkn / (2·Σkn − R·s·Σ(k+n))``; the intensity tends to ``2·Σkn / (s·Σ(k+n))`` as
    b grows, so a ridge at or above that limit is never reached.
    """
    r = np.asarray(ridge_flop_per_byte, dtype=float)
    w = np.asarray(weights, dtype=float)
    io = np.asarray(io_elements, dtype=float)
    s = dtype_bytes(dtype)
    denom = 2.0 * w - r * s * io
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, r * s * w / np.where(denom > 0, denom, 1.0), np.inf)


def decode_gemv_table(models: Sequence[ModelSpec], batch: int, dtype: str = "fp16") -> pd.DataFrame:
    """The weight GEMVs of one decode step of each model, all layers together, dense.

    Columns: ``model`` (display name), ``slug``, ``weights`` (Σ k·n over every decoder-layer
    matrix and layer), ``io_elements`` (Σ k + n), ``flop`` and ``bytes`` of the step at `batch`
    (from `matmul_flop` and `matmul_bytes`), and ``intensity_flop_per_byte``. Embeddings, the LM
    head and attention over the KV cache are not included.
    """
    rows = []
    for model in models:
        mats = layer_matrices(model)
        k = np.array([m.k for m in mats], dtype=float)
        n = np.array([m.n for m in mats], dtype=float)
        flop = float(matmul_flop(batch, n, k).sum()) * model.n_layers
        bytes_ = float(matmul_bytes(batch, n, k, dtype).sum()) * model.n_layers
        rows.append({"model": model.name, "slug": model.slug,
                     "weights": float((k * n).sum()) * model.n_layers,
                     "io_elements": float((k + n).sum()) * model.n_layers,
                     "flop": flop, "bytes": bytes_, "intensity_flop_per_byte": flop / bytes_})
    return pd.DataFrame(rows)


def place_on_rooflines(ops: pd.DataFrame, tiers: Sequence[Tier]) -> pd.DataFrame:
    """Every operation of `ops` (a `decode_gemv_table`) on every tier, at peak rates.

    Columns: ``operation``, ``tier``, ``subsystem``, ``intensity_flop_per_byte``,
    ``attainable_flop_per_s``, ``bound`` and ``time_s`` (max of compute and memory time, no
    overhead: the step's weights streamed from that tier).
    """
    rows = []
    for t in tiers:
        timing = op_time(ops["flop"].to_numpy(), ops["bytes"].to_numpy(), flop_per_s=t.flop_per_s,
                         bandwidth_bytes_per_s=t.bandwidth_bytes_per_s)
        attain = attainable_flop_per_s(ops["intensity_flop_per_byte"].to_numpy(), t.flop_per_s,
                                       t.bandwidth_bytes_per_s)
        rows.append(pd.DataFrame({
            "operation": ops["model"].to_numpy(), "tier": t.name, "subsystem": t.subsystem,
            "intensity_flop_per_byte": ops["intensity_flop_per_byte"].to_numpy(),
            "attainable_flop_per_s": attain, "bound": timing.bound, "time_s": timing.time_s}))
    return pd.concat(rows, ignore_index=True)


def prose_list(items: Sequence[object]) -> str:
    """Items as a list in a sentence: ``a``, ``a and b``, ``a, b and c``; ``""`` for none.

    >>> prose_list(["OPT-13B", "OPT-30B", "OPT-66B"])
    'OPT-13B, OPT-30B and OPT-66B'
    """
    words = [str(i) for i in items]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
