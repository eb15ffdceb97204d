"""What the NDP-DIMM chapter (``book/ndp_dimm.ipynb``) computes for its text and tables.

The chapter derives one DIMM's bandwidth from its DDR4 timings (`hermes_model.dram`) and its MAC
rate from the bit-serial multipliers (`hermes_model.ndp`), draws the rooflines of a pool, reads
the paper's Fig. 16 as evidence about the cycles per operation, and prices a neuron's move between
DIMMs. The functions here build its tables and the glue values its prose prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from hermes_model import dram, ndp, roofline
from hermes_model import units as u
from hermes_model.plotting import rounded
from hermes_model.scorecard import short_name
from hermes_model.specs import DimmSpec, LinkSpec

#: The two DDR4-3200 timing sets the chapter compares: display name → catalog slug.
TIMING_SETS: Final = {"Table II": "ddr4_3200_ndp", "JEDEC x16": "ddr4_3200_ndp_jedec"}

#: Glue-key suffix of each timing set.
KEYS: Final = {"t2": "Table II", "jedec": "JEDEC x16"}

#: Multipliers per core of the Fig. 16 sweep, count.
M_SWEEP: Final = np.array([32.0, 64.0, 128.0, 256.0, 512.0])
#: Cycles per operation of the saturation table, cycles.
C_SWEEP: Final = np.arange(4.0, 17.0)
#: Batch sizes of the Fig. 16 sweep, count.
B_SWEEP: Final = np.array([1.0, 2.0, 4.0, 8.0, 16.0])


def organisation_glues(dimm: DimmSpec) -> dict[str, object]:
    """Glue values of a DIMM's organisation: ranks, bank groups, banks per group, chip width,
    chips per rank and row size (KiB)."""
    return {"org_ranks": dimm.n_ranks, "org_bgs": dimm.n_bank_groups,
            "org_banks": dimm.n_banks_per_group, "org_part": f"x{dimm.device_width_bits}",
            "org_chips": dimm.bus_width_bits // dimm.device_width_bits,
            "org_row_KiB": dimm.row_bytes / u.KiB}


def timing_table(sets: Mapping[str, DimmSpec]) -> pd.DataFrame:
    """The timings (cycles of tCK) of each set (index), with the derived column and activate
    spacing and the share of time left by refresh."""
    rows = []
    for name, x in sets.items():
        t = x.timings
        rows.append({"timings": name, "tRCD": t.tRCD, "tRP": t.tRP, "tRC": t.tRC,
                     "tCCD_S": t.tCCD_S, "tCCD_L": t.tCCD_L, "tRRD_S": t.tRRD_S,
                     "tRRD_L": t.tRRD_L, "tFAW": t.tFAW, "tRTP": dram.trtp_cycles(x),
                     "t_col": dram.column_cycles(x), "t_act": dram.activate_cycles(x),
                     "refresh left": dram.refresh_availability(x)})
    return pd.DataFrame(rows).set_index("timings")


def timing_glues(sets: Mapping[str, DimmSpec]) -> dict[str, object]:
    """Per timing set of `KEYS`: the activate spacing (cycles) and the refresh share (%)."""
    out: dict[str, object] = {}
    for key, name in KEYS.items():
        out[f"ndp_tact_{key}"] = rounded(dram.activate_cycles(sets[name]))
        out[f"ndp_refresh_pct_{key}"] = rounded(100 * (1 - dram.refresh_availability(sets[name])))
    return out


def _eff3(dimm: DimmSpec, **kw: Any) -> str:
    """A rank's efficiency as the chapter prints it: three decimals, one rounding for all."""
    return f"{float(dram.rank_efficiency(dimm, **kw)):.3f}"


def stream_statement(sets: Mapping[str, DimmSpec]) -> str:
    """What a stream attains under the two timing sets, as the text says it."""
    stream = {key: _eff3(sets[name]) for key, name in KEYS.items()}
    if stream["t2"] == stream["jedec"]:
        return f"{stream['t2']} under both timing sets, which refresh alike"
    return f"{stream['t2']} under Table II and {stream['jedec']} under JEDEC"


def chunks_statement(sets: Mapping[str, DimmSpec]) -> str:
    """What 16 KiB and 2 KiB chunks attain under the two timing sets, as the text says it."""
    stream = _eff3(sets[KEYS["t2"]])
    sizes = {"16 KiB": 16384, "2 KiB": 2048}
    chunk = {(label, key): _eff3(sets[name], pattern="chunks", chunk_bytes=size)
             for label, size in sizes.items() for key, name in KEYS.items()}
    if set(chunk.values()) == {stream}:
        return (f"16 KiB chunks (a LLaMA2-70B row) and 2 KiB chunks attain {stream} under "
                "both timing sets: all four equal the stream")
    return "; ".join(f"{label} chunks attain {chunk[(label, 't2')]} under Table II and "
                     f"{chunk[(label, 'jedec')]} under JEDEC" for label in sizes)


def rank_glues(sets: Mapping[str, DimmSpec], curves: pd.DataFrame) -> dict[str, object]:
    """Glue values of one rank: stream and chunk efficiencies per timing set, the bound of one
    burst, the knee (the smallest chunk at the best efficiency, bytes, over both sets) and the
    two statements.

    Parameters
    ----------
    sets : mapping of str to DimmSpec
        The timing sets of `TIMING_SETS` by display name.
    curves : pandas.DataFrame
        The chunk-efficiency curves: ``chunk_bytes``, ``timings``, ``efficiency``.
    """
    out: dict[str, object] = {}
    for key, name in KEYS.items():
        x = sets[name]
        out[f"ndp_stream_eff_{key}"] = rounded(float(dram.rank_efficiency(x)))
        out[f"ndp_stream_eff_norefresh_{key}"] = rounded(float(dram.rank_efficiency(
            x, refresh=False)))
        for label, size in {"16k": 16384, "2k": 2048, "256": 256, "64": 64}.items():
            out[f"ndp_eff_{label}_{key}"] = rounded(float(dram.rank_efficiency(
                x, pattern="chunks", chunk_bytes=size)))
        out[f"ndp_bound_64_{key}"] = str(dram.chunk_cycles(x, 64).bound)
    best = curves["efficiency"] >= curves["efficiency"].max() - 1e-12
    knee = [float(curves.loc[(curves["timings"] == n) & best, "chunk_bytes"].min())
            for n in KEYS.values()]
    out["ndp_knee_bytes"] = rounded(max(knee))
    out["ndp_stream_statement"] = stream_statement(sets)
    out["ndp_chunks_statement"] = chunks_statement(sets)
    return out


def dimm_bandwidth(dimm: DimmSpec, chunk_bytes: float | None, ranks_parallel: bool) -> float:
    """A DIMM's bandwidth into its core for a stream (`chunk_bytes` None) or for chunks, B/s
    (`dram.dimm_bandwidth_bytes_per_s`)."""
    kw: dict[str, Any] = ({"pattern": "stream"} if chunk_bytes is None
                          else {"pattern": "chunks", "chunk_bytes": chunk_bytes})
    return float(dram.dimm_bandwidth_bytes_per_s(dimm, ranks_parallel=ranks_parallel, **kw))


def bandwidth_table(sets: Mapping[str, DimmSpec], model_name: str,
                    row_bytes: float) -> pd.DataFrame:
    """One DIMM's bandwidth (GB/s), ranks in parallel and on one shared bus, per timing set and
    access pattern (a stream, 16 KiB, 2 KiB, the model's neuron rows, 64 B chunks).

    Parameters
    ----------
    sets : mapping of str to DimmSpec
    model_name : str
        The model's display name.
    row_bytes : float
        Bytes of one of its neuron rows, B.
    """
    patterns = {"stream": None, "16 KiB chunks": 16384, "2 KiB chunks": 2048,
                f"{short_name(model_name)} rows ({row_bytes:.0f} B)": row_bytes, "64 B chunks": 64}
    return pd.DataFrame([{"timings": name, "pattern": p,
                          "ranks in parallel (GB/s)": dimm_bandwidth(x, c, True) / u.GB,
                          "one shared bus (GB/s)": dimm_bandwidth(x, c, False) / u.GB}
                         for name, x in sets.items() for p, c in patterns.items()])


def dimm_glues(dimm: DimmSpec, slug: str, *, bandwidth_bytes_per_s: float, ranks_parallel: bool,
               inferred_bytes_per_s: float) -> dict[str, object]:
    """Glue values of the parameters' DIMM.

    Parameters
    ----------
    dimm : DimmSpec
    slug : str
        Its catalog slug (named by its timing set when it is one of `TIMING_SETS`).
    bandwidth_bytes_per_s : float
        Its bandwidth for the model's neuron rows, B/s.
    ranks_parallel : bool
        Whether its ranks feed the core at once.
    inferred_bytes_per_s : float
        The per-DIMM bandwidth inferred from the paper's Figs. 1 and 16, B/s.
    """
    stream, shared = dimm_bandwidth(dimm, None, True), dimm_bandwidth(dimm, None, False)
    timing_name = {s: name for name, s in TIMING_SETS.items()}.get(slug)
    return {"ndp_dimm_kind": dimm_kind(dimm), "ndp_dimm_ranks": u.count_words(dimm.n_ranks),
            "ndp_dimm_stream_GBps": rounded(stream / u.GB),
            "ndp_dimm_shared_GBps": rounded(shared / u.GB),
            "ndp_dimm_bw_GBps": rounded(bandwidth_bytes_per_s / u.GB),
            "ndp_pin_GBps": rounded(dimm.ranks_pin_bandwidth_bytes_per_s / u.GB),
            "ndp_inferred_bw_GBps": rounded(inferred_bytes_per_s / u.GB),
            "ndp_bw_over_inferred": rounded(bandwidth_bytes_per_s / inferred_bytes_per_s),
            "ndp_dimm_name": (f"{short_name(dimm.name).split(' with ')[0]} with {timing_name} "
                              "timings" if timing_name else dimm.name),
            "ndp_shared_share": rounded(shared / stream),
            "ndp_ranks_mode": "in parallel" if ranks_parallel else "over one shared bus"}


def dimm_kind(dimm: DimmSpec) -> str:
    """A DIMM's DRAM generation and speed grade, e.g. ``"DDR4-3200"``."""
    return f"DDR{dimm.ddr_generation}-{dimm.data_rate_transfers_per_s / 1e6:.0f}"


@dataclass(frozen=True)
class PoolRooflines:
    """Rooflines of one NDP-DIMM and of pools, with the batched GEMVs on the parameters' pool.

    Attributes
    ----------
    tiers : list of roofline.Tier
        One per pool size (1, 2, 4, 8, 16 and the parameters' count), sorted.
    pool : roofline.Tier
        The parameters' pool.
    table, lines, points : pandas.DataFrame
        What `plotting.roofline_chart` draws.
    glues : dict
    """

    tiers: list[roofline.Tier]
    pool: roofline.Tier
    table: pd.DataFrame
    lines: pd.DataFrame
    points: pd.DataFrame
    glues: dict[str, object]


def ridge_sentence(ridge_batch: float) -> str:
    """Where one DIMM turns compute-bound, and how busy its multipliers are at batch 1 and 16.

    Parameters
    ----------
    ridge_batch : float
        The ridge point read as a batch size (FLOP/byte of a GEMV at batch b is b).
    """
    util = {b: 100 * min(1.0, b / ridge_batch) for b in (1, 16)}
    if ridge_batch <= 1:
        return (f"One DIMM is compute-bound already at batch 1 (its ridge lies at "
                f"{ridge_batch:.2f} FLOP/byte, below a batch-1 GEMV's 1): its multipliers are "
                f"busy {util[1]:.0f} % of the time at batch 1 and at 16")
    return (f"One DIMM turns compute-bound at a batch of {ridge_batch:.2f}: at batch 1 its "
            f"multipliers are busy {util[1]:.0f} % of the time, at 16 they are "
            f"{util[16]:.0f} % busy")


def fig1_clause(n_dimms: int, sixteen_bytes_per_s: float, label: str,
                label_bytes_per_s: float, *, close: float = 0.1) -> str:
    """How sixteen DIMMs' read bandwidth compares with Fig. 1's label of the NDP memory: the
    clause that ends the pool sentence.

    Parameters
    ----------
    n_dimms : int
        DIMMs of the parameters' pool (16: the pool itself is the sixteen).
    sixteen_bytes_per_s : float
        Sixteen DIMMs' bandwidth, B/s.
    label : str
        Fig. 1's label as printed (``"~1.6 TB/s"``).
    label_bytes_per_s : float
        Its value, B/s.
    close : float
        Within this share of the label the bandwidth is "close to" it.
    """
    ratio = sixteen_bytes_per_s / label_bytes_per_s
    if abs(ratio - 1) <= close:
        cmp = "close to"
    elif ratio < 1:
        cmp = f"{ratio:.2f} of"
    else:
        cmp = f"{ratio:.2g} times"
    if n_dimms == 16:
        return f"; that read bandwidth is {cmp} Fig. 1's \"{label}\" label"
    return (f"; sixteen would read {sixteen_bytes_per_s / u.TB:.2f} TB/s, {cmp} Fig. 1's "
            f"\"{label}\" label")


def pool_rooflines(n_dimms: int, *, mac_per_s: float, bandwidth_bytes_per_s: float,
                   fig1_label: str = "~1.6 TB/s",
                   fig1_bytes_per_s: float = 1.6 * u.TB) -> PoolRooflines:
    """Rooflines of pools of NDP-DIMMs (each DIMM: 2 FLOP a MAC, its own bandwidth).

    Parameters
    ----------
    n_dimms : int
        DIMMs of the parameters' pool, count.
    mac_per_s : float
        One DIMM's MAC rate, MAC/s.
    bandwidth_bytes_per_s : float
        One DIMM's bandwidth into its core, B/s.
    fig1_label, fig1_bytes_per_s : str, float
        Fig. 1's label of the NDP memory's bandwidth (``data/paper/fig1.csv``) and its value,
        B/s.
    """
    counts = sorted({1, 2, 4, 8, 16, n_dimms})
    tiers = [roofline.Tier(name=f"{k} NDP-DIMM" + ("s" if k > 1 else ""), short=f"{k}",
                           subsystem="NDP-DIMM", flop_per_s=2 * k * mac_per_s,
                           bandwidth_bytes_per_s=k * bandwidth_bytes_per_s,
                           flop_label="derived", bandwidth_label="derived") for k in counts]
    table = roofline.roofline_table(tiers).assign(profile="paper")
    table["label"] = [t.name for t in tiers]
    lines = roofline.roofline_lines(tiers, 0.25, 256.0).assign(profile="paper")
    pool = tiers[counts.index(n_dimms)]
    batches = np.array([1, 2, 4, 8, 16])
    points = pd.DataFrame({"operation": [f"GEMV, batch {b}" for b in batches], "tier": pool.name,
                           "subsystem": "NDP-DIMM",
                           "intensity_flop_per_byte": batches.astype(float)})
    points["attainable_flop_per_s"] = roofline.attainable_flop_per_s(
        points["intensity_flop_per_byte"], pool.flop_per_s, pool.bandwidth_bytes_per_s)
    points["bound"] = np.where(points["attainable_flop_per_s"] < pool.flop_per_s, "memory",
                               "compute")
    glues: dict[str, object] = {"ndp_ridge_batch": rounded(pool.ridge_flop_per_byte)}
    for b in (1, 16):
        glues[f"ndp_util_bs{b}_pct"] = rounded(100 * min(1.0, b / pool.ridge_flop_per_byte))
    sixteen = tiers[counts.index(16)].bandwidth_bytes_per_s
    glues |= {"ndp_pool_TBps": rounded(pool.bandwidth_bytes_per_s / u.TB),
              "ndp_pool_TFLOPS": rounded(pool.flop_per_s / u.TFLOP), "ndp_n_dimms": n_dimms,
              "ndp_pool_txt": f"A pool of {u.plural(n_dimms, 'DIMM')}",
              "ndp_16_TBps": rounded(sixteen / u.TB),
              "ndp_ridge_sentence": ridge_sentence(pool.ridge_flop_per_byte),
              "ndp_fig1_clause": fig1_clause(n_dimms, sixteen, fig1_label, fig1_bytes_per_s)}
    return PoolRooflines(tiers, pool, table, lines, points, glues)


def mac_glues(mac_per_s: float, multipliers: int, fig16: pd.DataFrame) -> dict[str, object]:
    """Glue values of the MAC rate against the rate inferred in ``data/paper/fig16.csv``, that
    rate scaled to the parameters' multiplier count (the MAC rate is proportional to it, so the
    ratio is that of the cycles per operation and the clock alone).

    Parameters
    ----------
    mac_per_s : float
        One DIMM's MAC rate at the parameters, MAC/s.
    multipliers : int
        Its multipliers, count.
    fig16 : pandas.DataFrame
        `hermes_model.io.load_paper_fig16`, indexed by ``quantity``.
    """
    inferred = float(fig16.loc["dimm_mac_rate", "value"]) * 1e9
    ref_m = float(fig16.loc["dimm_mac_rate", "multipliers"])
    scaled = inferred * multipliers / ref_m
    return {"ndp_mac_GMACps": rounded(mac_per_s / 1e9),
            "ndp_inferred_mac_GMACps": rounded(inferred / 1e9),
            "ndp_inferred_multipliers": round(ref_m),
            "ndp_inferred_mac_at_m_GMACps": rounded(scaled / 1e9),
            "ndp_mac_over_inferred": rounded(mac_per_s / scaled),
            "ndp_multipliers": multipliers}


#: The cycles per operation of the MAC-rate table: radix-4, the rate fig16.csv infers, the
#: catalog's derived default, a fully serial 16-bit word.
MAC_TABLE_CYCLES: Final = (6.0, 8.0, 11.0, 16.0)


def mac_table(dimm: DimmSpec, *, multipliers: int, cycles_per_op: float) -> pd.DataFrame:
    """One DIMM's MAC rate (GMAC/s) at the cycles of `MAC_TABLE_CYCLES` and at the run's,
    indexed by "cycles per op" (the run's value marked "(this run)").

    Parameters
    ----------
    dimm : DimmSpec
        The DIMM.
    multipliers : int
        Its multipliers, count.
    cycles_per_op : float
        The run's cycles of one operation, cycles.
    """
    cycles = np.unique(np.array([*MAC_TABLE_CYCLES, cycles_per_op], dtype=float))
    rate = ndp.dimm_mac_per_s(dimm, multipliers=multipliers, cycles_per_op=cycles)
    labels = [f"{c:g} (this run)" if c == cycles_per_op else f"{c:g}" for c in cycles]
    return pd.DataFrame({"GMAC/s per DIMM": np.asarray(rate, dtype=float) / 1e9},
                        index=pd.Index(labels, name="cycles per op"))


def run_cycles_txt(cycles_per_op: float, default_cycles_per_op: float) -> str:
    """After the derivation of the catalog's cycles per operation: empty when the run uses
    them, else that it sets another value.

    >>> run_cycles_txt(11.0, 11.0), run_cycles_txt(30.0, 11.0)
    ('', '; this run sets c = 30 instead (the parameter cycles_per_op)')
    """
    if cycles_per_op == default_cycles_per_op:
        return ""
    return f"; this run sets c = {cycles_per_op:g} instead (the parameter cycles_per_op)"


def batch1_clause(ridge_batch: float, multipliers: int, stated_saturation: float) -> str:
    """The Summary's clause on what bounds one DIMM at batch 1, set against Fig. 16's batch-1
    statement (saturation at `stated_saturation` multipliers: memory-bound from that count up).

    Parameters
    ----------
    ridge_batch : float
        The DIMM's ridge point read as a batch size.
    multipliers : int
        The parameters' multipliers, count.
    stated_saturation : float
        Multipliers at which the paper's batch 1 saturates, count.
    """
    memory = ridge_batch > 1
    paper_memory = multipliers >= stated_saturation
    sat = f"{stated_saturation:.0f}"
    if memory and paper_memory:
        return "At batch 1 the DIMM is memory-bound, as the paper's Fig. 16 says"
    if memory:
        return (f"With {multipliers} multipliers the DIMM is memory-bound at batch 1, though the "
                f"paper's Fig. 16 still gains from more multipliers up to {sat}")
    if paper_memory:
        return (f"With {multipliers} multipliers the DIMM is compute-bound already at batch 1, "
                f"unlike the paper's Fig. 16, whose batch 1 saturates (is memory-bound) from "
                f"{sat} multipliers")
    return (f"With {multipliers} multipliers the DIMM is compute-bound already at batch 1, as "
            f"the paper's Fig. 16 implies below {sat} multipliers")


def _catalog_aside(cycles_per_op: float, default_cycles_per_op: float, low: float,
                   high: float) -> str:
    """" (the catalog's derived 11 would lie inside it too)" and the like, when the run's cycles
    differ from the catalog's; else empty."""
    if cycles_per_op == default_cycles_per_op:
        return ""
    inside = low <= default_cycles_per_op < high
    return (f" (the catalog's derived {default_cycles_per_op:.3g} would lie "
            f"{'inside' if inside else 'outside'} it"
            f"{' too' if inside == (low <= cycles_per_op < high) else ''})")


def cycles_clause(cycles_per_op: float, low: float, high: float, *,
                  default_cycles_per_op: float | None = None) -> str:
    """The Summary's clause on the run's cycles per operation against the range the batch-1
    statement implies (low ≤ c < high).

    Parameters
    ----------
    cycles_per_op : float
        The run's cycles per operation (the parameter), cycles.
    low, high : float
        The implied range, cycles.
    default_cycles_per_op : float, optional
        The catalog's derived value; where it differs from `cycles_per_op`, the clause names
        the run's value and says where the catalog's would lie.
    """
    default = cycles_per_op if default_cycles_per_op is None else default_cycles_per_op
    aside = _catalog_aside(cycles_per_op, default, low, high)
    if cycles_per_op == default:
        if low <= cycles_per_op < high:
            return "the derived cycles per operation are consistent with its batch-1 statement"
        return (f"the derived {cycles_per_op:.3g} cycles per operation lie outside the "
                f"{low:.1f} to {high:.1f} its batch-1 statement implies here")
    if low <= cycles_per_op < high:
        return (f"this run's {cycles_per_op:.3g} cycles per operation are consistent with its "
                f"batch-1 statement{aside}")
    return (f"this run's {cycles_per_op:.3g} cycles per operation lie outside the {low:.1f} to "
            f"{high:.1f} its batch-1 statement implies here{aside}")


def cycles_verdict(cycles_per_op: float, low: float, high: float, *,
                   default_cycles_per_op: float) -> str:
    """Where the run's cycles per operation lie against the batch-1 range (low ≤ c < high),
    after "and": the catalog's derived default when the run uses it, else the run's value and
    where the default would lie.

    >>> cycles_verdict(11.0, 6.46, 12.9, default_cycles_per_op=11.0)
    "the catalog's derived default of 11 cycles lies inside it"
    >>> cycles_verdict(30.0, 6.46, 12.9, default_cycles_per_op=11.0)
    "this run's 30 cycles lie outside it (the catalog's derived 11 would lie inside it)"
    """
    where = "inside" if low <= cycles_per_op < high else "outside"
    if cycles_per_op == default_cycles_per_op:
        return f"the catalog's derived default of {cycles_per_op:.3g} cycles lies {where} it"
    return (f"this run's {cycles_per_op:.3g} cycles lie {where} it"
            + _catalog_aside(cycles_per_op, default_cycles_per_op, low, high))


#: The two ways ranks feed the core, as the text names them.
LAYOUTS: Final = {True: "ranks read in parallel", False: "ranks on one shared bus"}


def layout_verdict(cycles_per_op: float, this: tuple[float, float],
                   other: tuple[float, float], *, ranks_parallel: bool,
                   derived: bool = True) -> str:
    """What the batch-1 statement says about the ranks' layout: it supports the layout whose
    implied range (low ≤ c < high) holds the cycles per operation, if only one does.

    Parameters
    ----------
    cycles_per_op : float
        The run's cycles per operation, cycles.
    this, other : tuple of float
        The implied range under the parameters' layout and under the other one, cycles.
    ranks_parallel : bool
        The parameters' layout.
    derived : bool
        Whether `cycles_per_op` is the catalog's derived value ("the derived 11 cycles") or
        another the run sets ("this run's 30 cycles").
    """
    c = cycles_per_op
    name = f"the derived {c:.3g}" if derived else f"this run's {c:.3g}"
    in_this, in_other = this[0] <= c < this[1], other[0] <= c < other[1]
    if in_this and not in_other:
        return f"the paper's batch-1 observation is evidence for {LAYOUTS[ranks_parallel]}"
    if in_other and not in_this:
        return f"the paper's batch-1 observation is evidence for {LAYOUTS[not ranks_parallel]}"
    if in_this:
        return (f"the paper's batch-1 observation fits both layouts at {name} cycles, and does "
                "not tell them apart")
    return f"at {name} cycles the paper's batch-1 observation fits neither layout"


def gemv_kwargs(dimm: DimmSpec, bandwidth_bytes_per_s: float) -> dict[str, float]:
    """The keyword arguments of `ndp.multiplier_speedup` and its kin for `dimm` at a
    bandwidth (B/s): bandwidth, values per operand, NDP clock (Hz)."""
    return {"bandwidth_bytes_per_s": bandwidth_bytes_per_s,
            "values_per_operand": dimm.ndp_values_per_operand, "clock_hz": dimm.ndp_clock_hz}


@dataclass(frozen=True)
class Fig16Sweep:
    """The multiplier sweep of Fig. 16.

    Attributes
    ----------
    speedup : ndarray, shape (M, C, B)
        Speedup over 32 multipliers on the grid `M_SWEEP` × `C_SWEEP` × `B_SWEEP`.
    saturation : ndarray, shape (C, B)
        Multipliers at which each cycles-per-op and batch saturates (NaN: still gaining).
    at_parameters : ndarray, shape (M, B)
        Speedup at the parameters' cycles per operation.
    table : pandas.DataFrame
        `at_parameters`, tidy: ``multipliers``, ``batch``, ``speedup``.
    """

    speedup: npt.NDArray[np.float64]
    saturation: npt.NDArray[np.float64]
    at_parameters: npt.NDArray[np.float64]
    table: pd.DataFrame


def fig16_sweep(gemv: Mapping[str, float], *, cycles_per_op: float,
                saturation_gain: float) -> Fig16Sweep:
    """Sweep the multipliers per core over `M_SWEEP`.

    Parameters
    ----------
    gemv : mapping
        `gemv_kwargs` of the DIMM.
    cycles_per_op : float
        The parameters' cycles of one operation, cycles.
    saturation_gain : float
        A doubling that gains less than this share is saturated.
    """
    m, c, b = M_SWEEP, C_SWEEP, B_SWEEP
    speedup = ndp.multiplier_speedup(m[:, None, None], cycles_per_op=c[None, :, None],
                                     batch=b[None, None, :], **gemv)
    sat = ndp.saturation_multipliers(speedup, m, min_gain=saturation_gain)
    at_c = ndp.multiplier_speedup(m[:, None], cycles_per_op=cycles_per_op, batch=b[None, :],
                                  **gemv)
    table = pd.DataFrame({"multipliers": np.repeat(m, b.size),
                          "batch": np.tile(b.astype(int), m.size), "speedup": at_c.ravel()})
    return Fig16Sweep(speedup, sat, at_c, table)


def fig16_reference(fig16: pd.DataFrame, at_parameters: npt.NDArray[np.float64]) -> pd.DataFrame:
    """The paper's two Fig. 16 statements as chart marks; the batch-1 mark sits on the batch-1
    line (`at_parameters` of `Fig16Sweep`, at 64 multipliers).

    Parameters
    ----------
    fig16 : pandas.DataFrame
        `hermes_model.io.load_paper_fig16`, indexed by ``quantity``.
    """
    return pd.DataFrame({"multipliers": [fig16.loc["saturation_multipliers", "multipliers"],
                                         fig16.loc["max_speedup", "multipliers"]],
                         "speedup": [float(at_parameters[1, 0]),
                                     fig16.loc["max_speedup", "value"]],
                         "label": ["paper: batch 1 saturates here",
                                   f"paper: batch 16, {fig16.loc['max_speedup', 'value']:g}×"]})


@dataclass(frozen=True)
class Fig16Evidence:
    """What Fig. 16's statements imply about the cycles per operation.

    Attributes
    ----------
    low, high : float
        Cycles per op for which batch 1 first saturates at the stated count, low ≤ c < high.
    glues : dict
    """

    low: float
    high: float
    glues: dict[str, object]


def fig16_evidence(fig16: pd.DataFrame, gemv: Mapping[str, float],
                   at_parameters: npt.NDArray[np.float64], *, saturation_gain: float,
                   default_cycles_per_op: float, other_bandwidth_bytes_per_s: float,
                   ranks_parallel: bool = True,
                   cycles_per_op: float | None = None) -> Fig16Evidence:
    """Read the paper's batch-1 saturation and batch-16 speedup as evidence about c.

    Parameters
    ----------
    fig16 : pandas.DataFrame
        `hermes_model.io.load_paper_fig16`, indexed by ``quantity``.
    gemv : mapping
        `gemv_kwargs` of the DIMM at its bandwidth.
    at_parameters : ndarray, shape (M, B)
        The sweep's speedups at the parameters' cycles (`Fig16Sweep.at_parameters`).
    saturation_gain : float
        A doubling that gains less than this share is saturated.
    default_cycles_per_op : float
        The catalog's derived cycles per operation, cycles.
    other_bandwidth_bytes_per_s : float
        The DIMM's bandwidth with its ranks in the other layout (on one shared bus when
        `ranks_parallel`, in parallel otherwise), B/s.
    ranks_parallel : bool
        The layout of `gemv`'s bandwidth.
    cycles_per_op : float, optional
        The run's cycles per operation, which the verdicts judge (the catalog's default when
        not given).
    """
    c = default_cycles_per_op if cycles_per_op is None else cycles_per_op
    stated_sat = float(fig16.loc["saturation_multipliers", "value"])
    stated_speedup = float(fig16.loc["max_speedup", "value"])
    lo, hi = ndp.implied_cycles_per_op_range(stated_sat, batch=1, min_gain=saturation_gain,
                                             **gemv)
    c16 = float(ndp.implied_cycles_per_op_for_speedup(
        stated_speedup, multipliers=512, baseline_multipliers=32, batch=16, **gemv))
    plausible_lo, plausible_hi = ndp.PLAUSIBLE_CYCLES_PER_OP
    s16 = float(at_parameters[-1, -1])
    lo_o, hi_o = ndp.implied_cycles_per_op_range(
        stated_sat, batch=1, min_gain=saturation_gain,
        **{**gemv, "bandwidth_bytes_per_s": other_bandwidth_bytes_per_s})
    lo, hi, lo_o, hi_o = float(lo), float(hi), float(lo_o), float(hi_o)
    glues: dict[str, object] = {
        "ndp_stated_sat": stated_sat, "ndp_stated_speedup": stated_speedup,
        "ndp_c_lo": rounded(float(lo)), "ndp_c_hi": rounded(float(hi)),
        "ndp_c_bs16": rounded(c16),
        "ndp_c_plausible": f"{plausible_lo:g} to {plausible_hi:g}",
        "ndp_default_in_range": "inside" if lo <= default_cycles_per_op < hi else "outside",
        "ndp_c_verdict": cycles_verdict(c, lo, hi, default_cycles_per_op=default_cycles_per_op),
        "ndp_s16": rounded(s16),
        "ndp_amdahl_share_pct": rounded(100 * float(ndp.amdahl_ndp_share(stated_speedup, s16))),
        "ndp_s1": rounded(float(at_parameters[-1, 0])),
        "ndp_default_c": rounded(default_cycles_per_op),
        "ndp_range_verdict": ("overlaps" if lo < plausible_hi and hi > plausible_lo
                              else "lies outside"),
        "ndp_c_lo_other": rounded(lo_o), "ndp_c_hi_other": rounded(hi_o),
        "ndp_other_mode": "on one shared bus" if ranks_parallel else "read in parallel",
        "ndp_layout_verdict": layout_verdict(c, (lo, hi), (lo_o, hi_o),
                                             ranks_parallel=ranks_parallel,
                                             derived=c == default_cycles_per_op),
        "ndp_cycles_clause": cycles_clause(c, lo, hi,
                                           default_cycles_per_op=default_cycles_per_op)}
    return Fig16Evidence(lo, hi, glues)


@dataclass(frozen=True)
class NeuronMoves:
    """Moves of neurons between two DIMMs, over DIMM-link and through the host.

    Attributes
    ----------
    bytes : ndarray
        Bytes of each neuron, B.
    via_link, via_host : ndp.MoveCost
    table : pandas.DataFrame
        Per neuron: bytes, time (µs) and energy (µJ) of each path, and the time ratio.
    glues : dict
    """

    bytes: npt.NDArray[np.float64]
    via_link: ndp.MoveCost
    via_host: ndp.MoveCost
    table: pd.DataFrame
    glues: dict[str, object]


def neuron_moves(neurons: Mapping[str, float], dimm: DimmSpec, link: LinkSpec, *,
                 host_overhead_s: float) -> NeuronMoves:
    """Move each neuron over DIMM-link (`ndp.dimm_link_move`) and through the host
    (`ndp.host_move`).

    Parameters
    ----------
    neurons : mapping of str to float
        Label → bytes of a neuron, B; the text quotes the last one's DIMM-link time and the
        first one's energy ratio.
    dimm : DimmSpec
    link : LinkSpec
        The DIMM-link bridge.
    host_overhead_s : float
        The host's fixed time per copy, s.
    """
    nb = np.array(list(neurons.values()))
    via_link = ndp.dimm_link_move(nb, link)
    via_host = ndp.host_move(nb, dimm, host_overhead_s=host_overhead_s)
    moves = pd.DataFrame({"neuron": list(neurons), "bytes": nb.astype(int),
                          "DIMM-link (µs)": via_link.time_s / u.US,
                          "host (µs)": via_host.time_s / u.US,
                          "DIMM-link (µJ)": via_link.energy_j * 1e6,
                          "host (µJ)": via_host.energy_j * 1e6})
    moves["time ratio"] = moves["host (µs)"] / moves["DIMM-link (µs)"]
    glues: dict[str, object] = {
        "ndp_move_ratio_lo": rounded(float(moves["time ratio"].min())),
        "ndp_move_ratio_hi": rounded(float(moves["time ratio"].max())),
        "ndp_move_energy_ratio": rounded(float(via_host.energy_j[0] / via_link.energy_j[0])),
        "ndp_host_overhead_us": rounded(host_overhead_s / u.US),
        "ndp_hop_us": rounded(link.latency_s / u.US),
        "ndp_link_share": rounded(link.efficiency.bandwidth_frac),
        # the text quotes the table's value: both from the same two-decimal rounding
        "ndp_link_70b_us": round(float(moves["DIMM-link (µs)"].iloc[-1]), 2),
        "ndp_channel_GBps": rounded(dimm_bandwidth(dimm, nb[-1], False) / u.GB),
        "ndp_link_GBps": rounded(link.achievable_bandwidth_bytes_per_s / u.GB)}
    return NeuronMoves(nb, via_link, via_host, moves, glues)
