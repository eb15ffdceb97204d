"""The NDP core of one DIMM: MAC rate of its bit-serial multipliers, its roofline, DIMM-link moves.

The public API later chapters use:

* ``dimm_bandwidth_bytes_per_s(dimm, *, pattern, chunk_bytes, ranks_parallel)`` (from
  `hermes_model.dram`): read bandwidth the buffer-chip core gets (B/s).
* ``dimm_mac_per_s(dimm, *, multipliers=None, cycles_per_op=None)``: MAC rate (MAC/s),
  multipliers × values per operand × clock ÷ cycles per operation.
* ``dimm_op_time(dimm, *, weight_bytes, batch, ...)``: roofline time of a GEMV/GEMM over
  `weight_bytes` of weights on one DIMM (a `roofline.OpTime`).
* ``saturation_multipliers`` and ``multiplier_speedup``: the Fig. 16 design-space sweep.
* ``dimm_link_move`` and ``host_move``: time and energy to move a neuron between two DIMMs.
* ``dimm_collective_s``: a reduce-scatter or all-reduce of partial sums across the DIMMs.

Assumptions: each of the GEMV unit's multipliers takes a 128-bit operand (eight FP16 weights) and
multiplies it by one activation in `cycles_per_op` cycles (bit-serial, one significand bit per
cycle by default); activations and partial sums stay in the core's buffer, so only weights cross
the DRAM interface; each weight read serves `batch` MACs (every sequence in the batch needs the
same neuron: the upper bound of reuse). All quantities in SI units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from hermes_model import dram, roofline
from hermes_model.dram import Pattern, dimm_bandwidth_bytes_per_s
from hermes_model.shapes import dtype_bytes
from hermes_model.specs import DimmSpec, LinkSpec

#: Significand bits of IEEE 754 binary16 (10 stored + the hidden bit): the cycles a multiplier that
#: retires one multiplier bit per cycle needs for one FP16 product (the derivation behind the
#: catalog's ``ndp_cycles_per_op``).
FP16_SIGNIFICAND_BITS: Final = 11

#: Plausible range of cycles per bit-serial 8×FP16 operation: radix-4 (two bits per cycle,
#: ceil(11/2)) up to a fully serial 16-bit word.
PLAUSIBLE_CYCLES_PER_OP: Final = (6.0, 16.0)

#: Energy per bit of one crossing of a DDR4 memory channel (I/O only; the DRAM array's read and
#: write are the same on both paths of a neuron move and cancel). An assumed order of magnitude,
#: not a sourced value: a parameter of `host_move`.
ASSUMED_CHANNEL_ENERGY_J_PER_BIT: Final = 5e-12


def dimm_mac_per_s(dimm: DimmSpec, *, multipliers: npt.ArrayLike | None = None,
                   cycles_per_op: npt.ArrayLike | None = None) -> npt.NDArray[np.float64]:
    """Peak multiply-accumulate rate of one DIMM's GEMV unit (MAC/s).

    Parameters
    ----------
    dimm : DimmSpec
    multipliers : array_like, optional
        Multipliers in the GEMV unit (count); default the catalog's ``ndp_multipliers``.
    cycles_per_op : array_like, optional
        NDP clock cycles for one bit-serial operation on a 128-bit operand (cycles); default the
        catalog's ``ndp_cycles_per_op``.

    Notes
    -----
    .. math:: P_{MAC} = M \\cdot \\frac{b_{op}}{16} \\cdot \\frac{f_{NDP}}{c}

    with M multipliers, b_op = 128 operand bits (8 FP16 values), f the NDP clock and c cycles per op.

    Examples
    --------
    >>> from hermes_model.io import load_dimm
    >>> float(dimm_mac_per_s(load_dimm("ddr4_3200_ndp"), multipliers=256, cycles_per_op=8)) / 1e9
    256.0
    """
    m = np.asarray(dimm.ndp_multipliers if multipliers is None else multipliers, dtype=float)
    c = np.asarray(dimm.ndp_cycles_per_op if cycles_per_op is None else cycles_per_op, dtype=float)
    if np.any(~((m > 0) & np.isfinite(m))) or np.any(~((c > 0) & np.isfinite(c))):
        raise ValueError(f"multipliers and cycles_per_op must be positive and finite, got "
                         f"{m!r} and {c!r}")
    return np.asarray(m * dimm.ndp_values_per_operand * dimm.ndp_clock_hz / c)


def dimm_op_time(dimm: DimmSpec, *, weight_bytes: npt.ArrayLike, batch: npt.ArrayLike,
                 pattern: Pattern = "chunks", chunk_bytes: npt.ArrayLike | None = None,
                 ranks_parallel: bool = True, multipliers: npt.ArrayLike | None = None,
                 cycles_per_op: npt.ArrayLike | None = None,
                 dtype: str = "fp16") -> roofline.OpTime:
    """Roofline time of a batched GEMV over `weight_bytes` of weights on one NDP-DIMM.

    Parameters
    ----------
    dimm : DimmSpec
    weight_bytes : array_like
        Weight bytes the DIMM reads (B).
    batch : array_like
        Sequences served per weight read (count): MACs = batch × weights.
    pattern, chunk_bytes, ranks_parallel
        Access pattern of the weights, as in `dram.dimm_bandwidth_bytes_per_s` (a neuron's row is
        one chunk): the default ``"chunks"`` needs `chunk_bytes` (B); ``"stream"`` reads the
        weights as one contiguous run.
    multipliers, cycles_per_op
        As in :func:`dimm_mac_per_s`.
    dtype : str, default "fp16"
        Weight dtype.

    Returns
    -------
    roofline.OpTime
        Compute time at 2 FLOP per MAC, memory time at the pattern's bandwidth, plus the
        DIMM's per-command overhead (`DimmSpec.kernel_overhead_s`; 0 in the catalog).

    Notes
    -----
    The bandwidth and MAC rate must be scalars here (one configuration per call); sweep
    `weight_bytes` and `batch` as arrays.
    """
    bw = float(dimm_bandwidth_bytes_per_s(dimm, pattern=pattern, chunk_bytes=chunk_bytes,
                                          ranks_parallel=ranks_parallel))
    mac = float(dimm_mac_per_s(dimm, multipliers=multipliers, cycles_per_op=cycles_per_op))
    w = np.asarray(weight_bytes, dtype=float)
    flop = 2.0 * np.asarray(batch, dtype=float) * w / dtype_bytes(dtype)
    return roofline.op_time(flop, w, flop_per_s=2.0 * mac, bandwidth_bytes_per_s=bw,
                            overhead_s=dimm.kernel_overhead_s)


def gemv_time_per_weight_s(*, bandwidth_bytes_per_s: npt.ArrayLike, mac_per_s: npt.ArrayLike,
                           batch: npt.ArrayLike,
                           dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Time per weight of a batched GEMV (s): max(bytes / bandwidth, batch / MAC rate).

    All arguments broadcast, so a grid of multipliers × cycles × batch is one call.
    """
    bw = np.asarray(bandwidth_bytes_per_s, dtype=float)
    mac = np.asarray(mac_per_s, dtype=float)
    b = np.asarray(batch, dtype=float)
    return np.maximum(dtype_bytes(dtype) / bw, b / mac)


def multiplier_speedup(multipliers: npt.ArrayLike, *, bandwidth_bytes_per_s: float,
                       values_per_operand: int, clock_hz: float, cycles_per_op: npt.ArrayLike,
                       batch: npt.ArrayLike, baseline_multipliers: float = 32,
                       dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Speedup of the NDP GEMV over `baseline_multipliers` multipliers (ratio, ≥ 1 above it).

    Arguments broadcast: pass multipliers, cycles and batch on different axes for a grid.
    Only the NDP part of a token is sped up; the end-to-end speedup is lower (Amdahl).
    """
    m = np.asarray(multipliers, dtype=float)
    c = np.asarray(cycles_per_op, dtype=float)
    rate = values_per_operand * clock_hz / c
    t = gemv_time_per_weight_s(bandwidth_bytes_per_s=bandwidth_bytes_per_s, mac_per_s=m * rate,
                               batch=batch, dtype=dtype)
    t0 = gemv_time_per_weight_s(bandwidth_bytes_per_s=bandwidth_bytes_per_s,
                                mac_per_s=baseline_multipliers * rate, batch=batch,
                                dtype=dtype)
    return np.asarray(t0 / t)


def saturation_multipliers(speedup: npt.ArrayLike, multipliers: npt.ArrayLike, *,
                           min_gain: float = 0.05, axis: int = 0) -> npt.NDArray[np.float64]:
    """Smallest multiplier count beyond which doubling gains less than `min_gain` (count).

    Parameters
    ----------
    speedup : array_like
        Speedups along `axis` at successive doublings of `multipliers` (e.g. 32, 64, …, 512).
    multipliers : array_like
        The multiplier counts of that axis (1-D, each twice the previous).
    min_gain : float, default 0.05
        A doubling that improves time by less than this fraction counts as saturated.
    axis : int
        The axis of `speedup` that runs over `multipliers`.

    Returns
    -------
    ndarray
        The first count M whose doubling gains < `min_gain`; NaN where every doubling in the
        sweep still gains at least `min_gain` (not saturated within it).
    """
    s = np.moveaxis(np.asarray(speedup, dtype=float), axis, 0)
    m = np.asarray(multipliers, dtype=float)
    if m.ndim != 1 or m.size != s.shape[0] or not np.allclose(m[1:], 2 * m[:-1]):
        raise ValueError("multipliers must be 1-D doublings matching speedup's axis")
    gain = s[1:] / s[:-1] - 1.0
    sat = gain < min_gain
    first = np.argmax(sat, axis=0)
    return np.where(sat.any(axis=0), m[first], np.nan)


def _demand_factor(bandwidth_bytes_per_s: float, values_per_operand: int, clock_hz: float,
                   batch: npt.ArrayLike, dtype: str) -> npt.NDArray[np.float64]:
    """Multipliers per cycle-per-op at which compute time equals memory time: b·R / (v·f)."""
    weights_per_s = bandwidth_bytes_per_s / dtype_bytes(dtype)
    return np.asarray(np.asarray(batch, dtype=float) * weights_per_s
                      / (values_per_operand * clock_hz))


def implied_cycles_per_op_range(saturation_at: float, *, bandwidth_bytes_per_s: float,
                                values_per_operand: int, clock_hz: float,
                                batch: npt.ArrayLike, min_gain: float = 0.05,
                                dtype: str = "fp16") -> tuple[npt.NDArray[np.float64],
                                                              npt.NDArray[np.float64]]:
    """Cycles per op for which a doubling sweep first saturates at `saturation_at` multipliers.

    Returns
    -------
    (low, high) : tuple of ndarray
        Cycles per op c with low ≤ c < high (cycles), assuming `saturation_at` / 2 is in the sweep.

    Notes
    -----
    With x = b c R / (v f) the multiplier count at which compute and memory time are equal
    (R weights/s at the DIMM bandwidth), doubling M gains less than g exactly when x < (1 + g) M,
    so the first saturated count is M when :math:`(1+g) M/2 \\le x < (1+g) M`.
    """
    k = _demand_factor(bandwidth_bytes_per_s, values_per_operand, clock_hz, batch, dtype)
    high = (1 + min_gain) * saturation_at / k
    return high / 2, high


def implied_cycles_per_op_for_speedup(speedup: float, *, multipliers: float,
                                      baseline_multipliers: float, bandwidth_bytes_per_s: float,
                                      values_per_operand: int, clock_hz: float,
                                      batch: npt.ArrayLike,
                                      dtype: str = "fp16") -> npt.NDArray[np.float64]:
    """Cycles per op that make the NDP part alone speed up by `speedup` from the baseline count.

    Between the baseline (compute-bound) and `multipliers` (memory-bound) the speedup is
    x / baseline, so x = speedup × baseline and c = x / (b R / (v f)). NaN where `speedup` is
    outside (1, multipliers / baseline), which no cycle count gives.
    """
    k = _demand_factor(bandwidth_bytes_per_s, values_per_operand, clock_hz, batch, dtype)
    ok = 1 < speedup < multipliers / baseline_multipliers
    return np.asarray(speedup * baseline_multipliers / k if ok else np.full_like(k, np.nan))


def amdahl_ndp_share(end_to_end_speedup: npt.ArrayLike,
                     ndp_speedup: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Share of the baseline time in the NDP part that makes `ndp_speedup` give the end-to-end one.

    .. math:: f = \\frac{1 - 1/S}{1 - 1/s}

    NaN where the NDP part does not speed up (s ≤ 1); a value above 1 means no share suffices.
    """
    big = np.asarray(end_to_end_speedup, dtype=float)
    small = np.asarray(ndp_speedup, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small > 1, (1 - 1 / big) / (1 - 1 / small), np.nan)


# ---------------------------------------------------------------------------------- neuron moves


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveCost:
    """Time (s) and energy (J) of one move of `bytes_moved` bytes between two DIMMs."""

    bytes_moved: npt.NDArray[np.float64]
    time_s: npt.NDArray[np.float64]
    energy_j: npt.NDArray[np.float64]


def dimm_link_move(bytes_moved: npt.ArrayLike, link: LinkSpec) -> MoveCost:
    """Move over a DIMM-link bridge: latency + bytes / achievable bandwidth; bits × pJ/b.

    Raises ``ValueError`` if the link has no energy per bit in the catalog.
    """
    if link.energy_j_per_bit is None:
        raise ValueError(f"link {link.slug!r} has no energy_pJ_per_bit in the catalog")
    b = np.asarray(bytes_moved, dtype=float)
    return MoveCost(bytes_moved=b, time_s=np.asarray(roofline.transfer_time_s(b, link)),
                    energy_j=8.0 * b * link.energy_j_per_bit)


def host_move(bytes_moved: npt.ArrayLike, dimm: DimmSpec, *, host_overhead_s: float,
              channel_energy_j_per_bit: float = ASSUMED_CHANNEL_ENERGY_J_PER_BIT) -> MoveCost:
    """Move through the host: read over one memory channel, write over another, by the CPU.

    Parameters
    ----------
    bytes_moved : array_like
        Bytes of the neuron (B); read as one chunk.
    dimm : DimmSpec
        Both DIMMs' type; the host sees each through its one shared 64-bit bus.
    host_overhead_s : float
        Fixed software time of one host-driven copy (s), e.g. the host's per-operation overhead.
    channel_energy_j_per_bit : float
        I/O energy of one channel crossing (J/bit); the bits cross twice.

    Notes
    -----
    .. math:: t = t_0 + 2 S / W_{ch}(S), \\qquad E = 2 \\cdot 8 S \\cdot e_{ch}

    Store and forward (the CPU holds the whole neuron before writing it), writes as fast as
    reads; W_ch is the DIMM's bandwidth with ranks sharing the bus for chunks of S bytes.
    """
    if host_overhead_s < 0 or channel_energy_j_per_bit <= 0:
        raise ValueError("host_overhead_s must be >= 0 and channel_energy_j_per_bit > 0, got "
                         f"{host_overhead_s!r} and {channel_energy_j_per_bit!r}")
    b = np.asarray(bytes_moved, dtype=float)
    bw = dram.dimm_bandwidth_bytes_per_s(dimm, pattern="chunks", chunk_bytes=b,
                                         ranks_parallel=False)
    return MoveCost(bytes_moved=b, time_s=host_overhead_s + 2.0 * b / bw,
                    energy_j=2.0 * 8.0 * b * channel_energy_j_per_bit)


# ------------------------------------------------------------------- collectives over DIMM-link

CollectiveKind = Literal["reduce_scatter", "all_gather", "all_reduce"]


def dimm_collective_s(nbytes: npt.ArrayLike, n_dimms: int, link: LinkSpec, *,
                      kind: CollectiveKind) -> npt.NDArray[np.float64]:
    """Time of a reduction of per-DIMM partial vectors across `n_dimms` DIMMs over DIMM-link (s).

    Each DIMM holds a partial vector of `nbytes` bytes (e.g. its cold neurons' share of a layer's
    output); ``reduce_scatter`` leaves each DIMM the sum of its slice, ``all_reduce`` the whole
    sum everywhere. ``all_gather`` starts from a slice of a `nbytes` vector on each DIMM and
    leaves the whole vector everywhere (the reduce-scatter's rounds in reverse, the same time).
    Recursive halving (and doubling for the all-reduce; Thakur, Rabenseifner and Gropp 2005),
    each DIMM sending over its own bridge in every round. With
    :math:`p = 2^{\\lfloor\\log_2 D\\rfloor}` DIMMs in the halving:

    .. math:: T_\\mathrm{RS} = T_\\mathrm{AG} = \\log_2 p\\,t_0 + \\frac{p-1}{p}\\frac{V}{W},
              \\qquad T_\\mathrm{AR} = 2\\,T_\\mathrm{RS}

    with t_0 the link's latency and W its achievable bandwidth per direction. When D is not a
    power of two, the D − p extra DIMMs first hand their whole vector (their slice, for the
    all-gather) to a partner (:math:`t_0 + V/W`) and get their result back at the end (their
    slice, :math:`t_0 + V/(DW)`, or the whole vector, :math:`t_0 + V/W`). Assumes any two DIMMs
    can exchange in one hop (DIMM-Link's bridges); one DIMM needs none.
    """
    if isinstance(n_dimms, bool) or int(n_dimms) != n_dimms or n_dimms < 1:
        raise ValueError(f"n_dimms must be a positive integer, got {n_dimms!r}")
    if kind not in ("reduce_scatter", "all_gather", "all_reduce"):
        raise ValueError(f"kind must be 'reduce_scatter', 'all_gather' or 'all_reduce', "
                         f"got {kind!r}")
    v = np.asarray(nbytes, dtype=float)
    if np.any(v < 0):
        raise ValueError(f"nbytes must be non-negative, got {v.min()!r}")
    if n_dimms == 1:
        return np.zeros_like(v)
    t0, w = link.latency_s, link.achievable_bandwidth_bytes_per_s
    k = math.floor(math.log2(n_dimms))
    p = 2 ** k
    core = k * t0 + (p - 1) / p * v / w
    if kind == "all_reduce":
        t = 2.0 * core + ((t0 + v / w) * 2.0 if p < n_dimms else 0.0)
    elif kind == "reduce_scatter":
        t = core + ((t0 + v / w) + (t0 + v / (n_dimms * w)) if p < n_dimms else 0.0)
    else:  # all_gather: a slice in first, the whole vector back
        t = core + ((t0 + v / (n_dimms * w)) + (t0 + v / w) if p < n_dimms else 0.0)
    return np.where(v > 0, t, 0.0)
