"""Achievable read bandwidth of one DDR rank and one NDP-DIMM, from the timing table.

A throughput (bottleneck) model: every read of a chunk of S contiguous bytes demands time from a
few resources of the rank, and the rank delivers chunks at the rate of the busiest one.

* **Controller policy.** Closed page with auto-precharge: a row is opened for the reads of one
  chunk and closed after its last read (random chunks never reuse a row). The controller sees the
  whole list of requests ahead (an NDP core knows a layer's activated neurons before it reads
  them), so it reorders freely across banks, bank groups and ranks: the model is the bound such an
  ideal scheduler reaches, not a first-come-first-served one.
* **Address mapping.** From the least significant bit: the byte within a burst (64 B for a 64-bit
  bus and BL8), the bank group, the column, the bank, the rank, the row. Consecutive bursts thus
  alternate bank groups, and a *stripe* of ``bank_groups × row_bytes`` (16 KiB for the x16 DDR4
  DIMM: one 8 KiB row in each of its 2 bank groups) is the unit that opens one row per bank group.
  A 16 KiB neuron row of LLaMA2-70B fills exactly one stripe, i.e. two 8 KiB rows of one rank.
* **Patterns.** ``stream``: a long sequential read (equivalent to stripe-sized chunks).
  ``chunks``: chunks of S bytes at random chunk-aligned addresses (burst-aligned, S rounded up to
  whole bursts), averaged over every position a chunk can take within a stripe.
* **Refresh.** All-bank refresh takes a rank away for tRFC every tREFI (JEDEC values from the
  catalog); `refresh=False` removes it for closed-form checks.

All times inside are in clock cycles (tCK) and converted to seconds at the edge; results are in SI
units. Every function takes numpy arrays of chunk sizes (one call evaluates a whole sweep).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from hermes_model import units as u
from hermes_model.specs import DimmSpec

Pattern = Literal["stream", "chunks"]
PATTERNS: Final = ("stream", "chunks")

#: JEDEC read-to-precharge delay, max(4 nCK, 7.5 ns) for DDR4 (JESD79-4) and max(12 nCK, 7.5 ns)
#: for DDR5 (JESD79-5). The catalog's timing table does not carry it.
TRTP_S: Final = 7.5 * u.NS
TRTP_MIN_CYCLES: Final = {4: 4, 5: 12}

#: Bubble between reads from two ranks sharing one data bus (DQS hand-over), in tCK. JEDEC leaves it
#: to the controller; 2 is Ramulator 2.0's DDR4 ``nRTRS``.
RANK_SWITCH_CYCLES: Final = 2

Bound = Literal["bus", "activate", "bank", "command"]
BOUNDS: Final = ("bus", "activate", "bank", "command")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkCycles:
    """Per-chunk demand on each resource of one rank, in tCK (arrays shaped like the chunk sizes).

    Attributes
    ----------
    chunk_bytes : ndarray
        Useful bytes per chunk (B).
    bursts : ndarray
        Bursts read per chunk (count).
    row_visits : ndarray
        Rows opened per chunk, averaged over chunk positions (count).
    bus_cycles : ndarray
        Data-bus time: bursts × the column-to-column spacing (tCK).
    activate_cycles : ndarray
        Activation-rate time: row visits × the spacing that tRRD and tFAW allow (tCK).
    bank_cycles : ndarray
        Bank occupancy (activate to next activate of the same bank), summed over the chunk's row
        visits and spread over all banks of the rank (tCK).
    command_cycles : ndarray
        Command-bus time at one command per clock: one ACT per row visit, one READ (with
        auto-precharge) per burst (tCK).
    total_cycles : ndarray
        The largest of the four, divided by the share of time refresh leaves (tCK).
    bound : ndarray of str
        Which resource sets `total_cycles`: ``bus``, ``activate``, ``bank`` or ``command``.
    """

    chunk_bytes: npt.NDArray[np.float64]
    bursts: npt.NDArray[np.float64]
    row_visits: npt.NDArray[np.float64]
    bus_cycles: npt.NDArray[np.float64]
    activate_cycles: npt.NDArray[np.float64]
    bank_cycles: npt.NDArray[np.float64]
    command_cycles: npt.NDArray[np.float64]
    total_cycles: npt.NDArray[np.float64]
    bound: npt.NDArray[np.str_]


def burst_bytes(dimm: DimmSpec) -> int:
    """Bytes of one read burst: bus width × 2 tBL transfers (64 B for DDR4 BL8 on 64 bits)."""
    return dimm.bus_width_bits // 8 * 2 * dimm.timings.tBL


def stripe_bytes(dimm: DimmSpec) -> float:
    """Contiguous bytes that open one row in every bank group: bank groups × row bytes (B)."""
    return dimm.n_bank_groups * dimm.row_bytes


def column_cycles(dimm: DimmSpec) -> float:
    """Spacing of reads on one rank's data bus when they rotate over the bank groups (tCK).

    .. math:: t_{col} = \\max(t_{BL},\\ t_{CCD\\_S},\\ t_{CCD\\_L} / G)
    """
    t = dimm.timings
    return max(t.tBL, t.tCCD_S, t.tCCD_L / dimm.n_bank_groups)


def activate_cycles(dimm: DimmSpec) -> float:
    """Spacing of row activations in one rank when they rotate over the bank groups (tCK).

    .. math:: t_{act} = \\max(t_{RRD\\_S},\\ t_{RRD\\_L} / G,\\ t_{FAW} / 4)
    """
    t = dimm.timings
    return max(t.tRRD_S, t.tRRD_L / dimm.n_bank_groups, t.tFAW / 4)


def trtp_cycles(dimm: DimmSpec) -> int:
    """JEDEC read-to-precharge delay in tCK for the DIMM's generation and clock."""
    floor = TRTP_MIN_CYCLES.get(dimm.ddr_generation, 4)
    return max(floor, math.ceil(TRTP_S / dimm.tck_s - 1e-9))


def refresh_availability(dimm: DimmSpec) -> float:
    """Share of time a rank is not refreshing: 1 − tRFC / tREFI."""
    return 1.0 - dimm.timings.tRFC_s / dimm.timings.tREFI_s


def _bank_busy_cycles(dimm: DimmSpec, reads: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Activate-to-activate time of a bank that serves `reads` reads from one open row (tCK).

    max(tRC, tRCD + (m − 1)·s + tRTP + tRP), with s = max(tCCD_L, G·t_col) the spacing of reads
    to one bank while the bursts rotate over the G bank groups; zero where `reads` is zero.
    """
    t = dimm.timings
    s = max(t.tCCD_L, dimm.n_bank_groups * column_cycles(dimm))
    busy = np.maximum(t.tRC, t.tRCD + (reads - 1) * s + trtp_cycles(dimm) + t.tRP)
    return np.where(reads > 0, busy, 0.0)


def _portion(dimm: DimmSpec, m: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64],
                                                                npt.NDArray[np.float64]]:
    """Row visits and summed bank occupancy of `m` contiguous bursts inside one stripe."""
    g = dimm.n_bank_groups
    visits = np.minimum(g, m)
    q, r = np.divmod(m, g)
    busy = r * _bank_busy_cycles(dimm, q + 1) + (visits - r) * _bank_busy_cycles(dimm, q)
    return visits, busy


def chunk_cycles(dimm: DimmSpec, chunk_bytes: npt.ArrayLike, *, refresh: bool = True) -> ChunkCycles:
    """Per-chunk resource demand of one rank reading chunks at random chunk-aligned addresses.

    Parameters
    ----------
    dimm : DimmSpec
        Organisation and timing table.
    chunk_bytes : array_like
        Contiguous bytes per chunk (B), > 0; rounded up to whole bursts for the reads.
    refresh : bool, default True
        Whether refresh takes tRFC out of every tREFI.

    Returns
    -------
    ChunkCycles

    Notes
    -----
    A chunk of n bursts starts at burst offset o (a multiple of gcd(n, Q), each equally likely)
    within a stripe of Q bursts. It touches a first stripe portion of min(n, Q − o) bursts, whole
    stripes, and a last portion; a portion of m bursts opens min(G, m) rows. The rank's time per
    chunk is

    .. math::

        T = \\frac{\\max(n\\,t_{col},\\; V t_{act},\\; \\sum_v B(m_v) / (G N_b),\\; V + n)}
                  {1 - t_{RFC}/t_{REFI}}

    where V is the number of row visits, B(m) the bank occupancy of a visit of m reads and
    G N_b the banks of a rank.
    """
    size = np.asarray(chunk_bytes, dtype=float)
    bad = ~((size > 0) & np.isfinite(size))
    if np.any(bad):
        raise ValueError(f"chunk_bytes must be positive and finite, got {float(size[bad].flat[0])}")
    b = burst_bytes(dimm)
    q = round(stripe_bytes(dimm) / b)
    n = np.ceil(size / b)
    # Row visits and bank occupancy of a stripe portion depend only on its burst count m in
    # [0, q]: tabulate them once and index, so a sweep costs integer look-ups.
    visit_tab, busy_tab = _portion(dimm, np.arange(q + 1, dtype=float))
    flat_n = n.reshape(-1, 1).astype(np.int64)
    offsets = np.arange(q, dtype=np.int64).reshape(1, -1)
    step = np.gcd(flat_n, q)
    valid = offsets % step == 0
    first = np.minimum(flat_n, q - offsets)
    full, last = np.divmod(flat_n - first, q)
    visits = visit_tab[first] + visit_tab[last] + full * visit_tab[q]
    busy = busy_tab[first] + busy_tab[last] + full * busy_tab[q]
    count = (q // step[:, 0]).astype(float)
    visits_mean = (np.where(valid, visits, 0.0).sum(axis=1) / count).reshape(n.shape)
    busy_mean = (np.where(valid, busy, 0.0).sum(axis=1) / count).reshape(n.shape)

    bus = n * column_cycles(dimm)
    act = visits_mean * activate_cycles(dimm)
    bank = busy_mean / (dimm.n_bank_groups * dimm.n_banks_per_group)
    cmd = visits_mean + n
    stacked = np.stack(np.broadcast_arrays(bus, act, bank, cmd))
    worst = stacked.max(axis=0)
    avail = refresh_availability(dimm) if refresh else 1.0
    return ChunkCycles(chunk_bytes=size, bursts=n, row_visits=visits_mean, bus_cycles=bus,
                       activate_cycles=act, bank_cycles=bank, command_cycles=cmd,
                       total_cycles=worst / avail,
                       bound=np.asarray(BOUNDS)[stacked.argmax(axis=0)])


def _pattern_bytes(dimm: DimmSpec, pattern: str, chunk_bytes: npt.ArrayLike | None) -> npt.ArrayLike:
    if pattern == "stream":
        if chunk_bytes is not None:
            raise ValueError("chunk_bytes applies to pattern 'chunks' only")
        return stripe_bytes(dimm)
    if pattern == "chunks":
        if chunk_bytes is None:
            raise ValueError("pattern 'chunks' needs chunk_bytes (the bytes of each chunk read "
                             "at a random address, e.g. one neuron's row); pattern 'stream' reads "
                             "one contiguous run")
        return chunk_bytes
    raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}; got {pattern!r}")


def rank_efficiency(dimm: DimmSpec, *, pattern: Pattern = "stream",
                    chunk_bytes: npt.ArrayLike | None = None,
                    refresh: bool = True) -> npt.NDArray[np.float64]:
    """Share of one rank's pin bandwidth that reads of `pattern` attain, in (0, 1].

    Parameters
    ----------
    dimm : DimmSpec
    pattern : {"stream", "chunks"}
        A long sequential read, or chunks of `chunk_bytes` at random chunk-aligned addresses.
    chunk_bytes : array_like, optional
        Bytes per chunk (B); required for ``chunks``, refused for ``stream``.
    refresh : bool, default True
        Whether refresh is accounted.

    Notes
    -----
    .. math:: \\eta = \\frac{S}{B} \\cdot \\frac{t_{BL}}{T}

    with S the useful bytes, B the burst bytes and T from :func:`chunk_cycles`. With refresh off
    a stream reaches :math:`t_{BL} / t_{col}` (1 for DDR4, whose tCCD_S equals tBL).

    Examples
    --------
    >>> from hermes_model.io import load_dimm
    >>> float(rank_efficiency(load_dimm("ddr4_3200_ndp"), refresh=False))
    1.0
    """
    c = chunk_cycles(dimm, _pattern_bytes(dimm, pattern, chunk_bytes), refresh=refresh)
    return np.asarray(c.chunk_bytes / burst_bytes(dimm) * dimm.timings.tBL / c.total_cycles)


def rank_bandwidth_bytes_per_s(dimm: DimmSpec, *, pattern: Pattern = "stream",
                               chunk_bytes: npt.ArrayLike | None = None,
                               refresh: bool = True) -> npt.NDArray[np.float64]:
    """Read bandwidth of one rank on its own data path (B/s): efficiency × pin bandwidth."""
    eff = rank_efficiency(dimm, pattern=pattern, chunk_bytes=chunk_bytes, refresh=refresh)
    return eff * dimm.rank_pin_bandwidth_bytes_per_s


def dimm_bandwidth_bytes_per_s(dimm: DimmSpec, *, pattern: Pattern = "stream",
                               chunk_bytes: npt.ArrayLike | None = None,
                               ranks_parallel: bool = True,
                               refresh: bool = True) -> npt.NDArray[np.float64]:
    """Read bandwidth the DIMM's buffer-chip core gets from all its ranks (B/s).

    Parameters
    ----------
    dimm : DimmSpec
    pattern, chunk_bytes, refresh
        As in :func:`rank_efficiency`.
    ranks_parallel : bool, default True
        True: every rank has its own data path to the buffer chip and all read at once (the
        rank-level parallelism of RecNMP and TensorDIMM, which Hermes' center-buffer design
        cites). False: the ranks share the DIMM's one 64-bit data bus, as they do towards the
        host; their activation, bank and refresh limits still overlap, and each change of rank
        costs `RANK_SWITCH_CYCLES` (one change per chunk assumed).

    Notes
    -----
    Parallel: :math:`W = R\\,\\eta\\,W_{pin}`. Shared:
    :math:`W = \\min(R / T,\\ 1 / (n\\,t_{col} + t_{RTRS}))\\cdot S / t_{CK}` chunks per cycle
    times bytes, with R ranks and T the per-rank time per chunk.
    """
    size = _pattern_bytes(dimm, pattern, chunk_bytes)
    c = chunk_cycles(dimm, size, refresh=refresh)
    rank_rate = 1.0 / c.total_cycles  # chunks per tCK per rank
    if ranks_parallel:
        rate = dimm.n_ranks * rank_rate
    else:
        switch = RANK_SWITCH_CYCLES if dimm.n_ranks > 1 else 0
        rate = np.minimum(dimm.n_ranks * rank_rate, 1.0 / (c.bus_cycles + switch))
    return np.asarray(rate * c.chunk_bytes / dimm.tck_s)
