"""hermes_model.plotting: rounding at the source, the theme, the palette and the chart builders."""

from __future__ import annotations

import doctest
import json
import math
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hermes_model import plotting
from hermes_model.plotting import PALETTE, rounded

# ---------------------------------------------------------------------------------------------
# rounded
# ---------------------------------------------------------------------------------------------


def test_rounded_scalars() -> None:
    assert rounded(352.56410256410254) == 352.6
    assert rounded(0.1 + 0.2) == 0.3
    assert rounded(123456.0, sig=2) == 120000.0
    assert rounded(-0.000123456) == -0.0001235
    assert type(rounded(np.float64(1.23456))) is float
    assert rounded(7) == 7 and type(rounded(7)) is int
    assert rounded(True) is True and rounded("1.23456") == "1.23456"
    assert rounded(0.0) == 0.0 and math.isnan(rounded(float("nan")))
    assert rounded(float("inf")) == float("inf")


def test_rounded_containers_and_frames() -> None:
    df = pd.DataFrame({"x": [1.23456, 2.0], "n": [1, 2], "s": ["a", "b"]})
    out = rounded(df, sig=3)
    assert out["x"].tolist() == [1.23, 2.0] and out["n"].dtype == df["n"].dtype
    assert out["s"].tolist() == ["a", "b"]
    assert df["x"].iloc[0] == 1.23456, "the input is not modified"
    arr = rounded(np.array([[1.23456, 9.87654]]), sig=2)
    assert arr.shape == (1, 2) and arr.tolist() == [[1.2, 9.9]]
    assert rounded({"a": (1.23456, [2.34567])}, sig=2) == {"a": (1.2, [2.3])}
    assert rounded(pd.Series([1.23456]), sig=2).tolist() == [1.2]


def test_rounded_refuses_zero_digits() -> None:
    with pytest.raises(ValueError, match="sig must be >= 1"):
        rounded(1.0, sig=0)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
       st.integers(min_value=1, max_value=10))
def test_rounded_is_close_idempotent_and_short(x: float, sig: int) -> None:
    """Within half a unit in the last kept digit; rounding twice changes nothing; short repr."""
    r = rounded(x, sig)
    if x != 0:
        assert abs(r - x) <= 0.5 * 10 ** (math.floor(math.log10(abs(x))) - sig + 1) * (1 + 1e-6)
    assert rounded(r, sig) == r
    assert len(repr(r).lstrip("-").replace(".", "").split("e")[0].strip("0")) <= sig


def test_doctests() -> None:
    from hermes_model import roofline

    assert doctest.testmod(plotting).failed == 0
    assert doctest.testmod(roofline).failed == 0


# ---------------------------------------------------------------------------------------------
# Theme and palette
# ---------------------------------------------------------------------------------------------


def test_palette_is_keyed_by_subsystem_and_distinct() -> None:
    assert set(PALETTE) == {"GPU", "PCIe", "host", "NDP-DIMM", "DIMM-link"}
    assert len(set(PALETTE.values())) == len(PALETTE)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in PALETTE.values())


def test_theme_is_registered_and_enabled_by_use_theme() -> None:
    assert "hermes" in alt.theme.names()
    before = alt.theme.active
    try:
        plotting.use_theme()
        assert alt.theme.active == "hermes"
        config = plotting.hermes_theme()["config"]
        assert config["range"]["category"] == list(PALETTE.values())
        assert config["view"]["continuousWidth"] == plotting.WIDTH
    finally:
        alt.theme.enable(before)


def test_subsystem_scale_refuses_unknown_names() -> None:
    scale = plotting.subsystem_scale(["PCIe", "GPU"]).to_dict()
    assert scale["domain"] == ["GPU", "PCIe"] and scale["range"] == [PALETTE["GPU"], PALETTE["PCIe"]]
    with pytest.raises(ValueError, match="unknown subsystem 'TPU'"):
        plotting.subsystem_scale(["TPU"])


# ---------------------------------------------------------------------------------------------
# Chart builders
# ---------------------------------------------------------------------------------------------


def _roofline_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    lines = pd.DataFrame({"tier": ["GPU memory"] * 3, "subsystem": ["GPU"] * 3,
                          "profile": ["paper"] * 3,
                          "intensity_flop_per_byte": [0.25, 352.564102564, 2e4],
                          "attainable_flop_per_s": [2.34e11, 3.3e14, 3.3e14]})
    ridges = pd.DataFrame({"tier": ["GPU memory"], "subsystem": ["GPU"], "profile": ["paper"],
                           "ridge_flop_per_byte": [352.564102564], "peak_flop_per_s": [3.3e14],
                           "bandwidth_bytes_per_s": [9.36e11], "label": ["GPU"]})
    points = pd.DataFrame({"operation": ["OPT-13B"], "tier": ["GPU memory"],
                           "subsystem": ["GPU"], "intensity_flop_per_byte": [0.99970712345],
                           "attainable_flop_per_s": [9.357e11], "bound": ["memory"]})
    return lines, ridges, points


def _encodings(spec: dict) -> list[dict]:
    return [layer["encoding"] for layer in spec["layer"]]


def test_roofline_chart_is_log_log_with_lowercase_unit_titles_and_no_title() -> None:
    spec = plotting.roofline_chart(*_roofline_frames()).to_dict()
    assert "title" not in spec
    for enc in _encodings(spec):
        for axis in ("x", "y"):
            assert enc[axis]["scale"] == {"type": "log"}
            title = enc[axis]["title"]
            assert title == title.lower() or "FLOP" in title
            assert re.search(r"\(.+\)$", title), title
    assert _encodings(spec)[0]["x"]["title"] == "arithmetic intensity (FLOP/byte)"
    assert _encodings(spec)[0]["y"]["title"] == "attainable throughput (TFLOP/s)"
    colour = _encodings(spec)[0]["color"]["scale"]
    assert colour == {"domain": ["GPU"], "range": [PALETTE["GPU"]]}


def test_roofline_chart_embeds_rounded_display_units() -> None:
    spec = plotting.roofline_chart(*_roofline_frames()).to_dict()
    values = [v for rows in spec["datasets"].values() for row in rows for v in row.values()
              if isinstance(v, float)]
    assert 352.6 in values and 330.0 in values and 0.9997 in values
    assert all(len(repr(v).replace(".", "").replace("-", "").strip("0")) <= 4 for v in values
               if "e" not in repr(v))
    assert len(json.dumps(spec)) < 20_000


def test_roofline_chart_without_points_and_missing_columns() -> None:
    lines, ridges, _ = _roofline_frames()
    # lines, ridge points, the labels' white halo and the labels
    layers = plotting.roofline_chart(lines, ridges).to_dict()["layer"]
    assert len(layers) == 4
    assert layers[2]["mark"]["stroke"] == "white" and "stroke" not in layers[3]["mark"]
    with pytest.raises(ValueError, match="missing column"):
        plotting.roofline_chart(lines.drop(columns="profile"), ridges)


def test_bandwidth_chart() -> None:
    df = pd.DataFrame({"tier": ["GPU memory", "GPU memory", "PCIe"],
                       "subsystem": ["GPU", "GPU", "PCIe"], "profile": ["paper", "datasheet"] * 1
                       + ["paper"], "bandwidth_bytes_per_s": [9.36e11, 1.008e12, 6.4e10]})
    ref = pd.DataFrame({"tier": ["GPU memory"], "bandwidth_bytes_per_s": [1e12],
                        "label": ["paper, Fig. 1"]})
    spec = plotting.bandwidth_chart(df, ref).to_dict()
    assert "title" not in spec
    enc = _encodings(spec)
    for e in enc:
        assert e["x"]["title"] == "bandwidth (GB/s)" and e["x"]["scale"] == {"type": "log"}
        assert e["y"]["sort"] == ["GPU memory", "PCIe"]
    # the invisible legend carrier, the marks, the reference ticks
    key, marks, _ticks = enc
    assert marks["color"]["scale"]["domain"] == ["GPU", "PCIe"]
    # every mark is stroked in its subsystem's colour, so an open (datasheet) one stays visible
    assert marks["stroke"]["field"] == "subsystem"
    assert marks["stroke"]["scale"] == marks["color"]["scale"]
    assert marks["fillOpacity"]["condition"]["value"] == 1.0 and marks["fillOpacity"]["value"] == 0
    # the profile legend has symbols: a grey filled circle (paper) and an open diamond
    assert key["shape"]["scale"] == {"domain": ["paper", "datasheet"], "range": ["circle", "diamond"]}
    assert key["fill"]["scale"]["range"] == ["#555555", "transparent"]
    assert key["stroke"]["legend"]["symbolStrokeWidth"] > 0
    assert spec["layer"][0]["mark"]["opacity"] == 0 and spec["layer"][1]["mark"]["opacity"] == 1
    assert len(spec["layer"]) == 3
    assert len(_encodings(plotting.bandwidth_chart(df).to_dict())) == 2
    with pytest.raises(ValueError, match="missing column"):
        plotting.bandwidth_chart(df.drop(columns="subsystem"))


def test_decode_step_chart_drops_nonpositive_and_logs() -> None:
    df = pd.DataFrame({"model": ["a", "a", "a", "b"], "batch": [1, 2, 4, 1],
                       "series": ["paper", "paper", "model", "model"],
                       "step_s": [0.02, -0.01, 0.03, 0.04]})
    spec = plotting.decode_step_chart(df).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert len(values) == 3
    assert {v["step_ms"] for v in values} == {20.0, 30.0, 40.0}
    enc = spec["spec"]["encoding"]
    assert enc["x"]["scale"] == {"type": "log", "base": 2}
    assert enc["y"]["scale"]["type"] == "log"
    with pytest.raises(ValueError, match="decode_step_chart"):
        plotting.decode_step_chart(df.drop(columns="series"))
    many = pd.DataFrame({"model": "a", "batch": 1, "series": [f"s{i}" for i in range(7)],
                         "step_s": 0.01})
    with pytest.raises(ValueError, match="at most 6 series"):
        plotting.decode_step_chart(many)
    # the first series is the paper's, in black
    assert spec["spec"]["encoding"]["color"]["scale"]["range"][0] == "#000000"


def test_formatted_writes_each_float_column_in_one_format() -> None:
    df = pd.DataFrame({"peak": [330.0, 165.2, 0.37241], "ridge": [352.56, 5156.25, float("inf")],
                       "b": [float("nan"), 0.5, 2.0], "n": [1, 2, 3], "s": ["x", "y", "z"]},
                      index=pd.Index(["a", "b", "c"], name="tier"))
    out = plotting.formatted(df, {"ridge": ",.0f"})
    assert out["peak"].tolist() == ["330", "165.2", "0.3724"]
    assert out["ridge"].tolist() == ["353", "5,156", "∞"]
    assert out["b"].tolist() == ["—", "0.5", "2"]
    assert out["n"].tolist() == [1, 2, 3] and out["s"].tolist() == ["x", "y", "z"]
    assert out.index.equals(df.index) and df["peak"].iloc[0] == 330.0, "input unchanged"
    assert plotting.formatted(df, na="n/a", inf="never")["ridge"].iloc[2] == "never"
    assert plotting.formatted(pd.DataFrame({"v": [-float("inf"), 206000.0]}))["v"].tolist() == [
        "-∞", "206,000"]
    assert plotting.formatted(df, ".1f")["peak"].tolist() == ["330.0", "165.2", "0.4"]
    with pytest.raises(ValueError, match="no column"):
        plotting.formatted(df, {"missing": ".1f"})


def test_formatted_writes_unsupported_cells_as_np_and_other_nan_as_dash() -> None:
    """N.P. (cannot run) and "—" (not applicable) are both NaN; only the mask tells them apart."""
    df = pd.DataFrame({"hermes": [19.3, 18.2], "gpu-only": [float("nan"), float("nan")],
                       "paper": [17.4, float("nan")], "s": ["x", "y"]},
                      index=pd.Index(["LLaMA2-70B", "LLaMA3-70B"], name="model"))
    cells = pd.DataFrame({"gpu-only": [True, True]}, index=df.index)
    out = plotting.formatted(df, {"hermes": ".1f"}, unsupported=cells)
    assert out["gpu-only"].tolist() == ["N.P.", "N.P."]
    assert out["paper"].tolist() == ["17.4", "—"], "an unmarked NaN stays not applicable"
    assert out["hermes"].tolist() == ["19.3", "18.2"] and out["s"].tolist() == ["x", "y"]
    # backward compatible: without a mask every NaN is `na`, as before
    assert plotting.formatted(df)["gpu-only"].tolist() == ["—", "—"]
    # one flag per row marks that row's float columns (their NaNs); a Series aligns by label
    rows = pd.DataFrame({"tokens_per_s": [25.4, float("nan")], "prefill_s": [1.98, float("nan")],
                         "policy": ["hermes", "gpu-only"]})
    by_row = plotting.formatted(rows, unsupported=[False, True])
    assert by_row.iloc[1].tolist() == ["N.P.", "N.P.", "gpu-only"]
    assert by_row.iloc[0].tolist() == ["25.4", "1.98", "hermes"]
    flags = pd.Series([True], index=[1])
    assert plotting.formatted(rows, unsupported=flags).equals(by_row)
    assert plotting.formatted(df, unsupported=cells, not_possible="n.p.")["gpu-only"].iloc[0] == (
        "n.p.")
    assert plotting.NOT_POSSIBLE == "N.P."
    # N.P. never hides a number, marks only float columns and names only known labels
    with pytest.raises(ValueError, match="cannot hide a number"):
        plotting.formatted(df, unsupported=pd.DataFrame({"hermes": [True, False]}, index=df.index))
    with pytest.raises(ValueError, match="holds no floats"):
        plotting.formatted(df, unsupported=pd.DataFrame({"s": [True, False]}, index=df.index))
    with pytest.raises(ValueError, match="no column 'gpu_only'"):
        plotting.formatted(df, unsupported=pd.DataFrame({"gpu_only": [True, True]},
                                                        index=df.index))
    with pytest.raises(ValueError, match="no row"):
        plotting.formatted(rows, unsupported=pd.Series([True], index=[7]))
    with pytest.raises(ValueError, match="one flag per row"):
        plotting.formatted(rows, unsupported=[True])


def test_log_ticks_one_three_per_decade() -> None:
    assert plotting.log_ticks(8, 2000) == [10, 30, 100, 300, 1000]
    assert plotting.log_ticks(0.005, 1, steps=(1,)) == [0.01, 0.1, 1]
    with pytest.raises(ValueError):
        plotting.log_ticks(0, 10)


def test_axes_with_explicit_ticks_and_full_legend_labels() -> None:
    df = pd.DataFrame({"tier": ["GPU memory", "PCIe"], "subsystem": ["GPU", "PCIe"],
                       "profile": ["paper", "paper"], "bandwidth_bytes_per_s": [9.36e11, 3.2e10]})
    x = plotting.bandwidth_chart(df).to_dict()["layer"][1]["encoding"]["x"]
    assert x["axis"]["values"] == [10, 30, 100, 300, 1000]
    curves = pd.DataFrame({"curve": ["LLaMA2-70B (ReLU-fied, ReGLU), generator"] * 2,
                           "x": [0, 1], "y": [1, 2]})
    colour = plotting.curves_chart(curves, x_title="x (s)", y_title="y (s)").to_dict()[
        "layer"][0]["encoding"]["color"]
    assert colour["legend"]["labelLimit"] == 0


def test_band_chart_drops_empty_bands_and_sets_its_labels() -> None:
    df = pd.DataFrame({"panel": ["a", "a", "b"], "label": ["x", "y", "z"],
                       "low": [1.0, 0.0, 2.0], "high": [3.0, 0.0, 8.0],
                       "default": [2.0, 0.0, 4.0], "paper": [2.5, np.nan, 9.0]})
    d = plotting.band_chart(df).to_dict()
    values = d["datasets"][d["data"]["name"]]
    assert [v["label"] for v in values] == ["x", "z"]  # the row without a band is dropped
    axes = [layer["encoding"]["x"]["axis"] for layer in d["spec"]["layer"]]
    assert axes == [{"labelAngle": -40}] * 3
    upright = plotting.band_chart(df, label_angle=-90, label_limit=200).to_dict()
    assert [layer["encoding"]["x"]["axis"] for layer in upright["spec"]["layer"]] == [
        {"labelAngle": -90, "labelLimit": 200}] * 3
