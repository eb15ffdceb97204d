"""The DRAM timing model: closed-form oracles, monotonicity and limit cases (issue 4)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_model import dram, io

DDR4 = ("ddr4_3200_ndp", "ddr4_3200_ndp_jedec")
ALL = (*DDR4, "ddr5_4800_ndp")


def _with_timings(dimm, **cycles):
    return dataclasses.replace(dimm, timings=dataclasses.replace(dimm.timings, **cycles))


@pytest.mark.parametrize("slug", ALL)
def test_stream_without_refresh_reaches_the_tccd_tbl_limit(slug) -> None:
    """A long stream of one rank, refresh off, attains tBL / max(tBL, tCCD_S, tCCD_L/G) exactly."""
    d = io.load_dimm(slug)
    t = d.timings
    limit = t.tBL / max(t.tBL, t.tCCD_S, t.tCCD_L / d.n_bank_groups)
    assert dram.rank_efficiency(d, refresh=False) == pytest.approx(limit, rel=1e-12)
    assert limit == 1.0  # DDR4 and DDR5: tCCD_S = tBL and tCCD_L <= G tBL


@pytest.mark.parametrize(("cycles", "limit"), [({"tCCD_L": 12}, 4 / 6), ({"tCCD_S": 5}, 4 / 5),
                                               ({"tCCD_S": 6, "tCCD_L": 16}, 4 / 8)])
def test_stream_limit_when_column_spacing_exceeds_the_burst(cycles, limit) -> None:
    """With a slower tCCD the stream falls to tBL / t_col, still bus-bound."""
    d = _with_timings(io.load_dimm("ddr4_3200_ndp"), **cycles)
    assert dram.rank_efficiency(d, refresh=False) == pytest.approx(limit, rel=1e-12)
    assert dram.chunk_cycles(d, dram.stripe_bytes(d)).bound == "bus"


@pytest.mark.parametrize("slug", ALL)
def test_refresh_costs_trfc_over_trefi_on_a_stream(slug) -> None:
    d = io.load_dimm(slug)
    expected = 1 - d.timings.tRFC_s / d.timings.tREFI_s
    assert dram.rank_efficiency(d) == pytest.approx(expected, rel=1e-12)
    # DDR4-3200: 1 - 550/7800.
    if slug in DDR4:
        assert dram.rank_efficiency(d) == pytest.approx(0.92949, abs=1e-5)


def test_smallest_chunks_closed_form() -> None:
    """One 64-byte burst per chunk: Table II is bank-bound (tRC over 8 banks), JEDEC is
    activation-bound (tFAW/4), both divided by the refresh availability."""
    table2, jedec = io.load_dimm("ddr4_3200_ndp"), io.load_dimm("ddr4_3200_ndp_jedec")
    avail = 1 - 550 / 7800
    c2 = dram.chunk_cycles(table2, 64)
    assert c2.bound == "bank" and c2.bank_cycles == pytest.approx(76 / 8)
    assert dram.rank_efficiency(table2, pattern="chunks", chunk_bytes=64) == pytest.approx(
        4 / 9.5 * avail)
    cj = dram.chunk_cycles(jedec, 64)
    assert cj.bound == "activate" and cj.activate_cycles == pytest.approx(48 / 4)
    assert dram.rank_efficiency(jedec, pattern="chunks", chunk_bytes=64) == pytest.approx(
        4 / 12 * avail)


@pytest.mark.parametrize(("chunk", "visits"), [(64, 1), (128, 2), (2048, 2), (16384, 2),
                                               (32768, 4)])
def test_row_visits_of_power_of_two_chunks(chunk, visits) -> None:
    """Bursts alternate the 2 bank groups: a 16 KiB neuron row opens one 8 KiB row in each."""
    d = io.load_dimm("ddr4_3200_ndp")
    assert dram.chunk_cycles(d, chunk).row_visits == pytest.approx(visits)


def test_chunks_straddling_a_stripe_open_more_rows() -> None:
    """16 KiB + 64 B at chunk-aligned addresses: mostly 4 rows, once per stripe period 3."""
    d = io.load_dimm("ddr4_3200_ndp")
    v = float(dram.chunk_cycles(d, 16384 + 64).row_visits)
    assert 3 < v < 4
    # n = 257 bursts, gcd(257, 256) = 1: all 256 offsets. Offsets 0 and 255 leave a 1-burst
    # piece on one side (3 visits); the other 254 have >= 2 bursts on each side (4 visits).
    assert v == pytest.approx((2 * 3 + 254 * 4) / 256)


@pytest.mark.parametrize("slug", ALL)
@pytest.mark.parametrize("refresh", [True, False])
def test_efficiency_never_rises_as_power_of_two_chunks_shrink(slug, refresh) -> None:
    d = io.load_dimm(slug)
    sizes = 2.0 ** np.arange(6, 22)
    eff = dram.rank_efficiency(d, pattern="chunks", chunk_bytes=sizes, refresh=refresh)
    assert np.all(np.diff(eff) >= -1e-12)
    assert np.all((eff > 0) & (eff <= 1))


def test_sizes_just_above_a_row_multiple_may_dip() -> None:
    """Not monotone in general: one burst more than 8 KiB opens an extra row now and then, which
    the DDR5 DIMM (4 bank groups, bus-bound otherwise) pays in bank time."""
    d = io.load_dimm("ddr5_4800_ndp")
    e = dram.rank_efficiency(d, pattern="chunks", chunk_bytes=[8192, 8192 + 128])
    assert e[1] < e[0]


timing = st.integers(min_value=1, max_value=80)


@settings(max_examples=60, deadline=None)
@given(faw=timing, faw_cut=st.integers(0, 79), rrd_s=timing, rrd_l=timing, cut=st.integers(0, 79),
       chunk=st.integers(1, 4096).map(lambda k: 16.0 * k), parallel=st.booleans())
def test_shorter_tfaw_or_trrd_never_lowers_bandwidth(faw, faw_cut, rrd_s, rrd_l, cut, chunk,
                                                     parallel) -> None:
    d = _with_timings(io.load_dimm("ddr4_3200_ndp"), tFAW=faw, tRRD_S=rrd_s, tRRD_L=rrd_l)

    def bw(x):
        return float(dram.dimm_bandwidth_bytes_per_s(x, pattern="chunks", chunk_bytes=chunk,
                                                     ranks_parallel=parallel))

    base = bw(d)
    assert bw(_with_timings(d, tFAW=max(1, faw - faw_cut))) >= base * (1 - 1e-12)
    assert bw(_with_timings(d, tRRD_S=max(1, rrd_s - cut))) >= base * (1 - 1e-12)
    assert bw(_with_timings(d, tRRD_L=max(1, rrd_l - cut))) >= base * (1 - 1e-12)


def test_vector_sweep_equals_scalar_loop() -> None:
    d = io.load_dimm("ddr4_3200_ndp_jedec")
    sizes = np.array([64, 100, 640, 2048, 10240, 16448, 1 << 20], dtype=float)
    vec = dram.rank_efficiency(d, pattern="chunks", chunk_bytes=sizes)
    loop = [float(dram.rank_efficiency(d, pattern="chunks", chunk_bytes=s)) for s in sizes]
    np.testing.assert_allclose(vec, loop, rtol=1e-14)
    grid = dram.rank_efficiency(d, pattern="chunks", chunk_bytes=sizes.reshape(7, 1))
    assert grid.shape == (7, 1)


def test_ranks_parallel_and_shared() -> None:
    """Parallel: ranks × one rank. Shared bus: the pin rate less a 2-tCK rank switch per chunk;
    refresh of one rank is hidden behind the others."""
    d = io.load_dimm("ddr4_3200_ndp")
    rank = float(dram.rank_bandwidth_bytes_per_s(d))
    assert float(dram.dimm_bandwidth_bytes_per_s(d)) == pytest.approx(4 * rank)
    shared = float(dram.dimm_bandwidth_bytes_per_s(d, ranks_parallel=False))
    assert shared == pytest.approx(25.6e9 * 1024 / 1026)
    assert rank < shared < d.rank_pin_bandwidth_bytes_per_s
    one_rank = dataclasses.replace(d, n_ranks=1)
    assert float(dram.dimm_bandwidth_bytes_per_s(one_rank, ranks_parallel=False)) == \
        pytest.approx(rank)


def test_jedec_and_table2_agree_above_512_bytes_and_differ_below() -> None:
    """tRRD/tFAW only matter where activations, not the data bus, set the pace."""
    t2, j = io.load_dimm("ddr4_3200_ndp"), io.load_dimm("ddr4_3200_ndp_jedec")
    big = [512, 2048, 16384, 1 << 20]
    np.testing.assert_allclose(dram.rank_efficiency(t2, pattern="chunks", chunk_bytes=big),
                               dram.rank_efficiency(j, pattern="chunks", chunk_bytes=big))
    small = [64, 128, 256]
    assert np.all(dram.rank_efficiency(t2, pattern="chunks", chunk_bytes=small)
                  > dram.rank_efficiency(j, pattern="chunks", chunk_bytes=small))


def test_derived_constants() -> None:
    d4, d5 = io.load_dimm("ddr4_3200_ndp"), io.load_dimm("ddr5_4800_ndp")
    assert dram.burst_bytes(d4) == 64 and dram.burst_bytes(d5) == 128
    assert dram.stripe_bytes(d4) == 16384
    assert dram.trtp_cycles(d4) == 12  # 7.5 ns at 0.625 ns
    assert dram.trtp_cycles(d5) == 18  # 7.5 ns at 0.4167 ns
    assert dram.activate_cycles(d4) == 6.5 and dram.column_cycles(d4) == 4


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"pattern": "chunks"}, "needs chunk_bytes"),
    ({"pattern": "stream", "chunk_bytes": 64}, "chunks' only"),
    ({"pattern": "random", "chunk_bytes": 64}, "pattern must be one of"),
    ({"pattern": "chunks", "chunk_bytes": 0}, "must be positive"),
])
def test_bad_arguments_raise(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        dram.rank_efficiency(io.load_dimm("ddr4_3200_ndp"), **kwargs)


# ------------------------------------------------------------- boundaries (mutation testing)


def test_trtp_floor_in_cycles_binds_at_slow_clocks() -> None:
    """tRTP = max(floor nCK, ceil(7.5 ns / tCK)): the floor (4 DDR4, 12 DDR5) wins at slow clocks."""
    d4 = dataclasses.replace(io.load_dimm("ddr4_3200_ndp"), data_rate_transfers_per_s=800e6)
    assert d4.tck_s == pytest.approx(2.5e-9)  # 7.5 ns = 3 cycles < 4
    assert dram.trtp_cycles(d4) == 4
    d5 = dataclasses.replace(io.load_dimm("ddr5_4800_ndp"), data_rate_transfers_per_s=2400e6)
    assert 7.5e-9 / d5.tck_s == pytest.approx(9.0)  # 9 cycles < 12
    assert dram.trtp_cycles(d5) == 12


def test_activate_spacing_takes_trrd_l_over_bank_groups() -> None:
    """t_act = max(tRRD_S, tRRD_L / G, tFAW / 4): a long tRRD_L sets it at tRRD_L / G."""
    d = _with_timings(io.load_dimm("ddr4_3200_ndp"), tRRD_L=40)
    assert d.n_bank_groups == 2
    assert dram.activate_cycles(d) == 40 / 2


def test_burst_bytes_is_an_integer() -> None:
    """Bytes per burst is a whole number (an int), 8 bits a byte: 64 × 2 × 4 / 8 for DDR4 BL8."""
    b = dram.burst_bytes(io.load_dimm("ddr4_3200_ndp"))
    assert isinstance(b, int) and b == 64 * 2 * 4 // 8


def _bank_busy_by_hand(d, reads: int) -> float:
    """Activate-to-activate time of a bank serving `reads` reads of one open row (tCK):
    max(tRC, tRCD + (m − 1)·s + tRTP + tRP), s = max(tCCD_L, G·t_col); 0 for no read."""
    t = d.timings
    s = max(t.tCCD_L, d.n_bank_groups * dram.column_cycles(d))
    return 0.0 if reads == 0 else max(t.tRC, t.tRCD + (reads - 1) * s + dram.trtp_cycles(d) + t.tRP)


def _chunk_by_brute_force(d, chunk_bytes: float) -> tuple[float, float]:
    """Mean row visits and bank occupancy per chunk, enumerating every burst of every allowed
    offset: burst i of the chunk lands in stripe (o + i) // Q, bank group (o + i) % G, and each
    (stripe, bank group) touched is one row visit serving the reads that land in it."""
    b = dram.burst_bytes(d)
    q = int(dram.stripe_bytes(d) // b)
    n = -(-int(chunk_bytes) // b)  # ceil
    step = math.gcd(n, q)
    visits, busy = [], []
    for o in range(0, q, step):
        reads: dict[tuple[int, int], int] = {}
        for i in range(o, o + n):
            key = (i // q, i % d.n_bank_groups)
            reads[key] = reads.get(key, 0) + 1
        visits.append(len(reads))
        busy.append(sum(_bank_busy_by_hand(d, m) for m in reads.values()))
    return float(np.mean(visits)), float(np.mean(busy))


@pytest.mark.parametrize("slug", ["ddr4_3200_ndp", "ddr5_4800_ndp"])
@pytest.mark.parametrize("trc", [None, 1])
@pytest.mark.parametrize("chunk", [64, 192, 320, 768, 1000, 16384, 16384 + 64, 40000])
def test_chunk_cycles_match_a_burst_by_burst_enumeration(slug, trc, chunk) -> None:
    """Row visits and bank occupancy equal a brute-force walk over bursts and offsets (tRC = 1
    makes the read-time term of the bank occupancy, not tRC, set it)."""
    d = io.load_dimm(slug)
    if trc is not None:
        d = _with_timings(d, tRC=trc)
    visits, busy = _chunk_by_brute_force(d, chunk)
    c = dram.chunk_cycles(d, chunk)
    assert float(c.row_visits) == pytest.approx(visits, rel=1e-12)
    banks = d.n_bank_groups * d.n_banks_per_group
    assert float(c.bank_cycles) == pytest.approx(busy / banks, rel=1e-12)


def test_full_stripe_bank_occupancy_by_hand() -> None:
    """DDR4 Table II, one 16 KiB stripe: 2 rows of 128 reads each, s = max(8, 2·4) = 8 tCK,
    B = 24 + 127·8 + 12 + 24 = 1076 tCK (> tRC = 76), over 8 banks: 2·1076 / 8."""
    c = dram.chunk_cycles(io.load_dimm("ddr4_3200_ndp"), 16384)
    assert float(c.bank_cycles) == pytest.approx(2 * (24 + 127 * 8 + 12 + 24) / 8)


def test_chunk_cycles_rounds_up_to_bursts_and_refreshes_by_default() -> None:
    """1 B and 100 B cost one and two whole 64 B bursts; refresh is on unless turned off."""
    d = io.load_dimm("ddr4_3200_ndp")
    one, partial = dram.chunk_cycles(d, 1), dram.chunk_cycles(d, 100)
    assert float(one.bursts) == 1 and float(one.total_cycles) == float(
        dram.chunk_cycles(d, 64).total_cycles)
    assert float(partial.bursts) == 2 and float(partial.bus_cycles) == 2 * dram.column_cycles(d)
    with_refresh = float(dram.chunk_cycles(d, 2048).total_cycles)
    without = float(dram.chunk_cycles(d, 2048, refresh=False).total_cycles)
    assert with_refresh == pytest.approx(without / (1 - 550 / 7800))


@pytest.mark.parametrize("chunk", [64, 2048, 16384 + 64])
def test_command_bus_time_is_one_act_per_row_and_one_read_per_burst(chunk) -> None:
    """Command cycles = row visits (ACT) + bursts (READ with auto-precharge), one per clock."""
    c = dram.chunk_cycles(io.load_dimm("ddr4_3200_ndp_jedec"), chunk)
    assert float(c.command_cycles) == float(c.row_visits) + float(c.bursts)


def test_shared_bus_rank_switch_by_hand() -> None:
    """Shared bus: one rank pays no switch (stream, refresh off: the pin rate); DDR5's two ranks
    pay 2 tCK per 32 KiB stripe of 256 bursts × 8 tCK: pin × 2048 / 2050."""
    d4 = dataclasses.replace(io.load_dimm("ddr4_3200_ndp"), n_ranks=1)
    one = float(dram.dimm_bandwidth_bytes_per_s(d4, ranks_parallel=False, refresh=False))
    assert one == pytest.approx(d4.rank_pin_bandwidth_bytes_per_s, rel=1e-12)
    d5 = io.load_dimm("ddr5_4800_ndp")
    assert d5.n_ranks == 2 and dram.stripe_bytes(d5) == 4 * 8192 and dram.burst_bytes(d5) == 128
    shared = float(dram.dimm_bandwidth_bytes_per_s(d5, ranks_parallel=False))
    assert shared == pytest.approx(d5.rank_pin_bandwidth_bytes_per_s * 2048 / 2050, rel=1e-12)
