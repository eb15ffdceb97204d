"""Roofline: closed-form oracles and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_model as hm
from hermes_model import roofline
from hermes_model.shapes import layer_matrices


def test_ridge_point_is_peak_over_bandwidth() -> None:
    """RTX 4090, paper profile, achievable rates: ridge = ηc·330e12 / (ηb·936e9)."""
    gpu = hm.load_gpu("rtx_4090", "paper")
    ridge = roofline.ridge_point_flop_per_byte(gpu.achievable_flop_per_s,
                                               gpu.achievable_bandwidth_bytes_per_s)
    eff = gpu.efficiency
    assert ridge == pytest.approx(330e12 * eff.compute_frac / (936e9 * eff.bandwidth_frac))
    # At the ridge point the two bounds meet.
    assert roofline.attainable_flop_per_s(ridge, gpu.achievable_flop_per_s,
                                          gpu.achievable_bandwidth_bytes_per_s) == pytest.approx(
        gpu.achievable_flop_per_s)


def test_gemv_is_memory_bound_and_costs_its_weights() -> None:
    """A batch-1 GEMV of LLaMA2-70B's 8192×28672 up projection: bytes/bandwidth + overhead."""
    gpu = hm.load_gpu("h100_sxm5_80g", "datasheet")
    t = hm.matmul_time(gpu, 1, 28672, 8192, "fp16")
    bytes_ = (8192 + 8192 * 28672 + 28672) * 2
    expected = bytes_ / (3350e9 * gpu.efficiency.bandwidth_frac) + gpu.kernel_overhead_s
    assert str(t.bound) == "memory"
    assert float(t.time_s) == pytest.approx(expected, rel=1e-12)


def test_large_gemm_is_compute_bound() -> None:
    gpu = hm.load_gpu("rtx_4090", "datasheet")
    t = hm.matmul_time(gpu, 4096, 4096, 4096)
    assert str(t.bound) == "compute"
    assert float(t.compute_s) == pytest.approx(2 * 4096**3 / gpu.achievable_flop_per_s)


def test_vector_sweep_equals_scalar_loop() -> None:
    gpu = hm.load_gpu("rtx_4090")
    m = np.array([1, 16, 256, 4096])
    vec = hm.matmul_time(gpu, m, 28672, 8192).time_s
    loop = [float(hm.matmul_time(gpu, int(x), 28672, 8192).time_s) for x in m]
    np.testing.assert_allclose(vec, loop, rtol=1e-12)


def test_transfer_time_is_latency_plus_bytes_over_bandwidth() -> None:
    link = hm.load_link("pcie4_x16", "datasheet")
    t = hm.transfer_time_s(1e9, link)
    assert float(t) == pytest.approx(link.latency_s + 1e9 / link.achievable_bandwidth_bytes_per_s)
    assert float(hm.transfer_time_s(0, link)) == pytest.approx(link.latency_s)


@pytest.mark.parametrize("bad", [{"flop_per_s": 0.0}, {"bandwidth_bytes_per_s": -1.0},
                                 {"flop_per_s": "1e12"}, {"bandwidth_bytes_per_s": float("inf")},
                                 {"overhead_s": float("nan")}])
def test_non_positive_rates_are_refused(bad) -> None:
    kwargs = {"flop_per_s": 1e12, "bandwidth_bytes_per_s": 1e9, **bad}
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"{name} must be a (positive )?finite number"):
        roofline.op_time(1.0, 1.0, **kwargs)


def test_matmul_time_refuses_a_slug_and_text_shapes() -> None:
    gpu = hm.load_gpu("rtx_4090")
    with pytest.raises(TypeError, match=r"device must be a GpuSpec, HostSpec or DimmSpec .*"
                                        r"got str 'rtx_4090'"):
        roofline.matmul_time("rtx_4090", 1, 8, 8)
    with pytest.raises(ValueError, match="m must be a number or an array of numbers, got '1'"):
        roofline.matmul_time(gpu, "1", 8, 8)
    assert roofline.matmul_time(gpu, np.int64(4), 8, 8).bound == "memory"


def test_dimm_mac_rate_refuses_infinite_cycles() -> None:
    from hermes_model import ndp

    with pytest.raises(ValueError, match="positive and finite"):
        ndp.dimm_mac_per_s(hm.load_dimm("ddr4_3200_ndp"), cycles_per_op=float("inf"))


def test_non_positive_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="m must be positive"):
        hm.matmul_time(hm.load_gpu("t4"), 0, 4, 4)


def test_unknown_dtype_names_the_allowed() -> None:
    with pytest.raises(ValueError, match="fp16"):
        hm.matmul_time(hm.load_gpu("t4"), 1, 4, 4, "fp7")


rates = st.floats(min_value=1e6, max_value=1e16, allow_nan=False)
sizes = st.floats(min_value=0.0, max_value=1e15, allow_nan=False)


@given(flop=sizes, bytes_=sizes, p=rates, w=rates, scale=st.floats(1.0, 1e3))
def test_more_bandwidth_or_compute_never_slower(flop, bytes_, p, w, scale) -> None:
    """Monotonicity: scaling either rate up never increases time; times are positive with overhead."""
    base = roofline.op_time(flop, bytes_, flop_per_s=p, bandwidth_bytes_per_s=w, overhead_s=1e-6)
    faster_c = roofline.op_time(flop, bytes_, flop_per_s=p * scale, bandwidth_bytes_per_s=w,
                                overhead_s=1e-6)
    faster_m = roofline.op_time(flop, bytes_, flop_per_s=p, bandwidth_bytes_per_s=w * scale,
                                overhead_s=1e-6)
    assert faster_c.time_s <= base.time_s
    assert faster_m.time_s <= base.time_s
    assert base.time_s > 0


@given(m=st.integers(1, 8192), n=st.integers(1, 65536), k=st.integers(1, 65536))
def test_time_at_least_each_bound(m, n, k) -> None:
    gpu = hm.load_gpu("rtx_4090")
    t = hm.matmul_time(gpu, m, n, k)
    assert t.time_s >= t.compute_s and t.time_s >= t.memory_s
    assert t.time_s > 0


# ---------------------------------------------------------------------------------------------
# Boundaries and edge cases (found by mutation testing)
# ---------------------------------------------------------------------------------------------


def test_ridge_point_accepts_rates_below_one_and_refuses_zero() -> None:
    """The ridge is P / W for any positive rates, sub-unit ones too; a zero in either is refused."""
    assert roofline.ridge_point_flop_per_byte(0.5, 0.25) == pytest.approx(0.5 / 0.25)
    for p, w in ((0.0, 1e9), (1e12, 0.0), (-1.0, 1e9), (1e12, -1.0)):
        with pytest.raises(ValueError, match="must be positive"):
            roofline.ridge_point_flop_per_byte(p, w)


def test_op_time_default_overhead_is_zero_and_small_rates_work() -> None:
    """Without overhead, time = max(F/P, B/W) exactly, also at rates below 1 per second."""
    t = roofline.op_time(3.0, 1.0, flop_per_s=0.5, bandwidth_bytes_per_s=0.25)
    assert float(t.compute_s) == 3.0 / 0.5 and float(t.memory_s) == 1.0 / 0.25
    assert float(t.time_s) == max(3.0 / 0.5, 1.0 / 0.25)
    assert str(t.bound) == "compute"


def test_op_time_refuses_infinite_overhead_and_any_negative_size() -> None:
    """An infinite overhead is refused; negative FLOP or negative bytes each alone are refused."""
    with pytest.raises(ValueError, match="overhead_s must be a finite number"):
        roofline.op_time(1.0, 1.0, flop_per_s=1e12, bandwidth_bytes_per_s=1e9,
                         overhead_s=float("inf"))
    for flop, bytes_ in ((-1.0, 1.0), (1.0, -1.0)):
        with pytest.raises(ValueError, match="non-negative"):
            roofline.op_time(flop, bytes_, flop_per_s=1e12, bandwidth_bytes_per_s=1e9)


def test_op_time_tie_is_memory_bound() -> None:
    """The bound is 'compute' only where compute time is strictly the larger (a tie is memory)."""
    t = roofline.op_time([2e12, 1e12], [1e9, 1e9], flop_per_s=1e12, bandwidth_bytes_per_s=1e9)
    assert list(t.bound) == ["compute", "memory"]  # 2 s vs 1 s; 1 s vs 1 s


def test_matmul_bytes_refuses_a_zero_dimension() -> None:
    """matmul_bytes on its own refuses m, n or k = 0 (not only through matmul_time)."""
    for shape in ((0, 4, 4), (4, 0, 4), (4, 4, 0)):
        with pytest.raises(ValueError, match="must be positive"):
            roofline.matmul_bytes(*shape)


@pytest.mark.parametrize("bad", [None, True, [1.0, "a"]])
def test_matmul_time_refuses_non_numeric_shapes(bad) -> None:
    """A bool, None or an object array is not a shape, though it is not a str either."""
    with pytest.raises(ValueError, match="m must be a number or an array of numbers"):
        roofline.matmul_time(hm.load_gpu("t4"), bad, 8, 8)


def test_roofline_lines_need_a_positive_increasing_range() -> None:
    """0 or an empty range is refused; a ridge outside the range adds no vertex beyond it."""
    tiers = roofline.system_tiers(hm.load_system("hermes_paper"))
    for lo, hi in ((0.0, 1.0), (2.0, 2.0)):
        with pytest.raises(ValueError, match="0 < intensity_min < intensity_max"):
            roofline.roofline_lines(tiers, lo, hi)
    gpu = tiers[0]
    assert gpu.ridge_flop_per_byte > 10  # 330e12 / 936e9 ≈ 353 FLOP/B: above the range
    lines = roofline.roofline_lines(tiers[:1], 1.0, 10.0)
    assert list(lines["intensity_flop_per_byte"]) == [1.0, 10.0]
    np.testing.assert_allclose(lines["attainable_flop_per_s"],
                               [1.0 * gpu.bandwidth_bytes_per_s, 10.0 * gpu.bandwidth_bytes_per_s])


def test_gemv_intensity_refuses_each_non_positive_input_alone() -> None:
    """Each of batch, weights and io_elements alone at 0 is refused; fractional ones are fine."""
    for args in ((0, 4.0, 4.0), (1, 0.0, 4.0), (1, 4.0, 0.0)):
        with pytest.raises(ValueError, match="must be positive"):
            roofline.gemv_intensity_flop_per_byte(*args)
    # b = 1, Σkn = 1, Σ(k+n) = 0.5, fp16: 2·1·1 / (2·(1 + 0.5)) = 2/3
    assert float(roofline.gemv_intensity_flop_per_byte(1, 1.0, 0.5)) == pytest.approx(2 / 3)


def test_compute_bound_batch_small_exact_numbers_and_the_limit() -> None:
    """b = R·s·W / (2W − R·s·io) for a denominator below 1; inf exactly at the limit 2W/(s·io)."""
    # W = 1, io = 1, s = 2, R = 0.75: denominator 2 − 1.5 = 0.5, b = 1.5 / 0.5 = 3
    b = float(roofline.compute_bound_batch(0.75, 1.0, 1.0))
    assert b == pytest.approx(3.0)
    assert float(roofline.gemv_intensity_flop_per_byte(b, 1.0, 1.0)) == pytest.approx(0.75)
    # R = 2W / (s·io) = 1: the intensity only tends to it
    assert float(roofline.compute_bound_batch(1.0, 1.0, 1.0)) == np.inf


def test_decode_gemv_table_io_elements_and_intensity_formula() -> None:
    """io_elements = n_layers·Σ(k+n); the intensity equals the closed form of the GEMV intensity."""
    model = hm.load_model("llama2_70b")
    mats = layer_matrices(model)
    for batch in (1, 64):
        row = roofline.decode_gemv_table([model], batch=batch).iloc[0]
        assert row["io_elements"] == sum(m.k + m.n for m in mats) * model.n_layers
        assert row["weights"] == sum(m.k * m.n for m in mats) * model.n_layers
        assert row["intensity_flop_per_byte"] == pytest.approx(float(
            roofline.gemv_intensity_flop_per_byte(batch, row["weights"], row["io_elements"])))


def test_place_on_rooflines_has_a_fresh_index() -> None:
    """One row per (tier, operation), indexed 0..n-1."""
    tiers = roofline.system_tiers(hm.load_system("hermes_paper"))
    steps = roofline.decode_gemv_table([hm.load_model("opt_13b"), hm.load_model("opt_30b")], 1)
    placed = roofline.place_on_rooflines(steps, tiers)
    assert list(placed.index) == list(range(2 * len(tiers)))
