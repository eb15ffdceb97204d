"""The NDP core: MAC rate, per-DIMM roofline, the Fig. 16 sweep, neuron moves, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hermes_model import dram, io, ndp, shapes
from hermes_model.cli import bench_dram_model_per_s, main

DIMM = io.load_dimm("ddr4_3200_ndp")
M = np.array([32, 64, 128, 256, 512], dtype=float)


def test_mac_rate_closed_form() -> None:
    """multipliers × 8 FP16 lanes × 1 GHz ÷ cycles per op."""
    assert float(ndp.dimm_mac_per_s(DIMM)) == pytest.approx(256 * 8 * 1e9 / 11)
    # The digest's §13.3 reading (8 cycles) gives its 256 GMAC/s.
    assert float(ndp.dimm_mac_per_s(DIMM, cycles_per_op=8)) == pytest.approx(256e9)
    grid = ndp.dimm_mac_per_s(DIMM, multipliers=M[:, None], cycles_per_op=[[6, 11, 16]])
    assert grid.shape == (5, 3) and np.all(np.diff(grid, axis=0) > 0)
    assert np.all(np.diff(grid, axis=1) < 0)
    with pytest.raises(ValueError, match="positive"):
        ndp.dimm_mac_per_s(DIMM, cycles_per_op=0)


def test_default_cycles_per_op_is_the_fp16_significand_and_plausible() -> None:
    lo, hi = ndp.PLAUSIBLE_CYCLES_PER_OP
    for slug in io.catalog_slugs("dimms"):
        c = io.load_dimm(slug).ndp_cycles_per_op
        assert c == ndp.FP16_SIGNIFICAND_BITS and lo <= c <= hi


def test_dimm_op_time_is_the_roofline_of_bandwidth_and_mac_rate() -> None:
    w = 1e8
    chunk = 10240
    bw = float(dram.dimm_bandwidth_bytes_per_s(DIMM, pattern="chunks", chunk_bytes=chunk))
    mac = float(ndp.dimm_mac_per_s(DIMM))
    t = ndp.dimm_op_time(DIMM, weight_bytes=w, batch=np.array([1, 16]), chunk_bytes=chunk)
    np.testing.assert_allclose(t.time_s, np.maximum(w / bw, np.array([1, 16]) * w / 2 / mac))
    assert list(t.bound) == ["memory", "compute"]


def _speedups(cycles, batch, bw):
    return ndp.multiplier_speedup(M[:, None, None], bandwidth_bytes_per_s=bw, values_per_operand=8,
                                  clock_hz=1e9, cycles_per_op=np.asarray(cycles)[None, :, None],
                                  batch=np.asarray(batch)[None, None, :])


def test_speedup_bounds_and_monotone() -> None:
    s = _speedups([6, 8, 11, 16], [1, 2, 4, 8, 16], 95e9)
    assert np.all(s[0] == 1)
    assert np.all(np.diff(s, axis=0) >= 0)
    assert np.all(s <= (M / 32)[:, None, None] + 1e-12)
    # More batch never lowers the speedup (more of the time is compute).
    assert np.all(np.diff(s, axis=2) >= -1e-12)


@pytest.mark.parametrize("batch", [1, 4, 16])
def test_implied_cycle_range_matches_the_sweep(batch) -> None:
    """Two code paths: the closed-form range of cycles per op that first saturate at 64 agrees with
    the numerical sweep just inside and just outside it."""
    bw = 95e9
    lo, hi = ndp.implied_cycles_per_op_range(64, bandwidth_bytes_per_s=bw, values_per_operand=8,
                                             clock_hz=1e9, batch=batch)
    cycles = np.array([lo * 0.99, lo * 1.01, hi * 0.99, hi * 1.01])
    s = _speedups(cycles, [batch], bw)[:, :, 0]
    sat = ndp.saturation_multipliers(s, M)
    np.testing.assert_array_equal(sat, [32, 64, 64, 128])


def test_saturation_nan_when_never_flat_and_bad_axis() -> None:
    s = np.array([1.0, 2, 4, 8, 16])
    assert np.isnan(ndp.saturation_multipliers(s, M))
    with pytest.raises(ValueError, match="doublings"):
        ndp.saturation_multipliers(s, [32, 64, 100, 256, 512])


def test_implied_cycles_for_speedup_round_trips() -> None:
    bw, batch = 95e9, 16
    c = ndp.implied_cycles_per_op_for_speedup(3.86, multipliers=512, baseline_multipliers=32,
                                              bandwidth_bytes_per_s=bw, values_per_operand=8,
                                              clock_hz=1e9, batch=batch)
    s = _speedups([float(c)], [batch], bw)
    assert s[-1, 0, 0] == pytest.approx(3.86)
    assert np.isnan(ndp.implied_cycles_per_op_for_speedup(
        20.0, multipliers=512, baseline_multipliers=32, bandwidth_bytes_per_s=bw,
        values_per_operand=8, clock_hz=1e9, batch=batch))


def test_amdahl_share_round_trip() -> None:
    f, s = 0.6, 16.0
    end_to_end = 1 / ((1 - f) + f / s)
    assert float(ndp.amdahl_ndp_share(end_to_end, s)) == pytest.approx(f)
    assert np.isnan(ndp.amdahl_ndp_share(2.0, 1.0))


def test_dimm_link_move_closed_form() -> None:
    link = io.load_link("dimm_link")
    nbytes = shapes.neuron_bytes(io.load_model("llama2_70b"), "mlp")
    move = ndp.dimm_link_move(nbytes, link)
    assert float(move.time_s) == pytest.approx(link.latency_s + nbytes / (25e9 * 0.9))
    assert float(move.energy_j) == pytest.approx(nbytes * 8 * 1.17e-12)


def test_host_move_closed_form_and_monotone() -> None:
    sizes = np.array([2048.0, 20480, 49152])
    move = ndp.host_move(sizes, DIMM, host_overhead_s=1e-5, channel_energy_j_per_bit=4e-12)
    bw = dram.dimm_bandwidth_bytes_per_s(DIMM, pattern="chunks", chunk_bytes=sizes,
                                         ranks_parallel=False)
    np.testing.assert_allclose(move.time_s, 1e-5 + 2 * sizes / bw)
    np.testing.assert_allclose(move.energy_j, 2 * 8 * sizes * 4e-12)
    assert np.all(np.diff(move.time_s) > 0)
    with pytest.raises(ValueError, match="host_overhead_s"):
        ndp.host_move(sizes, DIMM, host_overhead_s=-1)


def test_cli_dimm_json(capsys) -> None:
    assert main(["dimm", "--dimm", "ddr4_3200_ndp_jedec", "--pattern", "chunks", "--chunk-bytes",
                 "2048", "--ranks-parallel", "false", "--multipliers", "64", "--cycles-per-op",
                 "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"bandwidth_bytes_per_s", "rank_bandwidth_bytes_per_s", "efficiency",
            "mac_per_s"} <= set(out)
    assert out["mac_per_s"] == pytest.approx(64e9)
    assert out["efficiency"] == pytest.approx(1 - 550 / 7800)
    assert out["rank_bandwidth_bytes_per_s"] < out["bandwidth_bytes_per_s"] <= 25.6e9


@pytest.mark.parametrize("args", [["dimm", "--dimm", "ddr4_3200_ndp", "--ranks-parallel", "maybe"],
                                  ["dimm", "--dimm", "ddr4_3200_ndp", "--cycles-per-op", "0"],
                                  ["dimm"]])
def test_cli_dimm_bad_arguments(args, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_dimm_unknown_slug_is_one_line(capsys) -> None:
    assert main(["dimm", "--dimm", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown DIMM 'nosuch'" in err and len(err.strip().splitlines()) == 1


def test_bench_dram_model_is_fast() -> None:
    assert bench_dram_model_per_s() > 1e4


def test_chart_builders_encode_the_chapter_columns() -> None:
    """The NDP-DIMM chapter's charts: log-2 chunk axis, efficiency in [0, 1], a reference layer."""
    import pandas as pd

    from hermes_model import plotting

    sizes = 2.0 ** np.arange(6, 12)
    df = pd.DataFrame({"chunk_bytes": sizes, "timings": "Table II", "efficiency": dram.rank_efficiency(
        DIMM, pattern="chunks", chunk_bytes=sizes), "bound": dram.chunk_cycles(DIMM, sizes).bound})
    spec = plotting.chunk_efficiency_chart(df).to_dict()
    assert spec["encoding"]["x"]["scale"] == {"type": "log", "base": 2}
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["encoding"]["x"]["title"] == "chunk size (bytes)"
    sweep = pd.DataFrame({"multipliers": M, "batch": 1, "speedup": _speedups([11], [1], 95e9)[:, 0, 0]})
    ref = pd.DataFrame({"multipliers": [64.0], "speedup": [2.0], "label": ["paper"]})
    layered = plotting.multiplier_speedup_chart(sweep, ref).to_dict()
    assert len(layered["layer"]) == 3
    with pytest.raises(ValueError, match="missing column"):
        plotting.chunk_efficiency_chart(df.drop(columns="bound"))


def test_dimm_collective_by_hand() -> None:
    link = io.load_link("dimm_link", "paper")
    lat, bw = link.latency_s, link.achievable_bandwidth_bytes_per_s
    v = 16384.0
    # eight DIMMs: three rounds of recursive halving, 7/8 of the vector leaves each DIMM
    rs = float(ndp.dimm_collective_s(v, 8, link, kind="reduce_scatter"))
    assert rs == pytest.approx(3 * lat + 7 / 8 * v / bw)
    assert float(ndp.dimm_collective_s(v, 8, link, kind="all_reduce")) == pytest.approx(2 * rs)
    # an all-gather runs the reduce-scatter's rounds in reverse: slices in, the whole vector out
    assert float(ndp.dimm_collective_s(v, 8, link, kind="all_gather")) == pytest.approx(rs)
    # five DIMMs: the fifth hands its vector to a partner first and gets its slice (reduce-
    # scatter) or the sum (all-reduce) back at the end; four halve in two rounds
    core = 2 * lat + 3 / 4 * v / bw
    assert float(ndp.dimm_collective_s(v, 5, link, kind="reduce_scatter")) == pytest.approx(
        (lat + v / bw) + core + (lat + v / 5 / bw))
    assert float(ndp.dimm_collective_s(v, 5, link, kind="all_reduce")) == pytest.approx(
        2 * (lat + v / bw) + 2 * core)
    # (the fifth hands its slice first and gets the whole vector back)
    assert float(ndp.dimm_collective_s(v, 5, link, kind="all_gather")) == pytest.approx(
        (lat + v / 5 / bw) + core + (lat + v / bw))
    # one DIMM or nothing to reduce costs nothing
    assert float(ndp.dimm_collective_s(v, 1, link, kind="all_reduce")) == 0.0
    assert float(ndp.dimm_collective_s(0.0, 8, link, kind="all_reduce")) == 0.0
    np.testing.assert_allclose(ndp.dimm_collective_s([v, 2 * v], 2, link, kind="reduce_scatter"),
                               [lat + v / 2 / bw, lat + v / bw])
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_dimms"):
            ndp.dimm_collective_s(v, bad, link, kind="all_reduce")
    with pytest.raises(ValueError, match="kind"):
        ndp.dimm_collective_s(v, 8, link, kind="broadcast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nbytes"):
        ndp.dimm_collective_s(-1.0, 8, link, kind="all_reduce")


# ------------------------------------------------------------- boundaries (mutation testing)


def test_mac_rate_of_one_multiplier_at_one_cycle_and_zero_refused() -> None:
    """One multiplier at one cycle per op: 8 FP16 lanes × 1 GHz; zero multipliers are refused."""
    assert float(ndp.dimm_mac_per_s(DIMM, multipliers=1, cycles_per_op=1)) == pytest.approx(
        1 * 8 * 1e9 / 1)
    with pytest.raises(ValueError, match="positive"):
        ndp.dimm_mac_per_s(DIMM, multipliers=0)


def test_saturation_needs_a_gain_strictly_below_min_gain() -> None:
    """A doubling that gains exactly `min_gain` still counts as a gain (not saturated)."""
    exact = 1.5 ** np.arange(5)  # every doubling gains exactly 50 % (exact in binary)
    assert np.isnan(ndp.saturation_multipliers(exact, M, min_gain=0.5))
    assert float(ndp.saturation_multipliers(exact, M, min_gain=0.5 + 1e-9)) == 32


def test_implied_cycles_for_speedup_open_interval() -> None:
    """Finite for a speedup just above 1 (round trip), NaN at both ends 1 and M / baseline."""
    bw, batch = 95e9, 4
    kw = {"multipliers": 512, "baseline_multipliers": 32, "bandwidth_bytes_per_s": bw,
          "values_per_operand": 8, "clock_hz": 1e9, "batch": batch}
    c = ndp.implied_cycles_per_op_for_speedup(1.5, **kw)
    assert _speedups([float(c)], [batch], bw)[-1, 0, 0] == pytest.approx(1.5)
    for at_the_end in (1.0, 512 / 32):
        assert np.isnan(ndp.implied_cycles_per_op_for_speedup(at_the_end, **kw))


def test_amdahl_share_for_a_small_ndp_speedup() -> None:
    """f = (1 − 1/S) / (1 − 1/s) also for 1 < s ≤ 2: f = 0.5, s = 1.5 gives S = 1 / (0.5 + 0.5/1.5)."""
    f, s = 0.5, 1.5
    end_to_end = 1 / ((1 - f) + f / s)
    assert float(ndp.amdahl_ndp_share(end_to_end, s)) == pytest.approx(f)


def test_host_move_zero_overhead_allowed_zero_energy_refused() -> None:
    """host_overhead_s = 0 is allowed (time = 2S / W); a channel energy of 0 J/bit is refused."""
    s = 4096.0
    bw = float(dram.dimm_bandwidth_bytes_per_s(DIMM, pattern="chunks", chunk_bytes=s,
                                               ranks_parallel=False))
    move = ndp.host_move(s, DIMM, host_overhead_s=0.0)
    assert float(move.time_s) == pytest.approx(2 * s / bw)
    assert float(move.energy_j) == pytest.approx(2 * 8 * s * ndp.ASSUMED_CHANNEL_ENERGY_J_PER_BIT)
    with pytest.raises(ValueError, match="channel_energy_j_per_bit"):
        ndp.host_move(s, DIMM, host_overhead_s=0.0, channel_energy_j_per_bit=0.0)


def test_dimm_collective_of_a_single_byte() -> None:
    """Any positive size pays: one byte over two DIMMs is one round, t0 + (1/2)·1 B / W."""
    link = io.load_link("dimm_link", "paper")
    t = float(ndp.dimm_collective_s(1.0, 2, link, kind="reduce_scatter"))
    assert t == pytest.approx(link.latency_s + 0.5 / link.achievable_bandwidth_bytes_per_s)
