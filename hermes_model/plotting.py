"""The look of every chart in the book: one theme, one palette, chart builders, and rounding.

Chart builders take tidy DataFrames whose columns carry their unit (``bandwidth_bytes_per_s``),
convert to display units, and return an ``alt.Chart``; they hold no model maths. Charts have no
titles (the caption comes from MyST's ``{glue:figure}``) and their axis titles are lowercase with
the unit in parentheses.

`rounded` is the one place where numbers are cut to the digits a reader needs. Every chart
DataFrame, table and glued value passes through it, so that the outputs stored in the notebooks
(and compared by nbval) do not depend on floating-point noise that differs between CPUs.
`formatted` then writes a displayed table's float columns as text, one format per column, with
NaN and infinities as words, so that no column shows padding digits or ``NaN``; cells whose NaN
means that the configuration cannot run are marked and written N.P., the paper's label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import altair as alt
import numpy as np
import pandas as pd

from hermes_model import units as u

#: Significant digits kept by `rounded` unless told otherwise.
DEFAULT_SIG: Final = 4

#: Width of a chart in pixels: about the text column of the book theme.
WIDTH: Final = 600
HEIGHT: Final = 380

#: One colour per subsystem, identical in every chapter (Okabe & Ito, colour-blind safe).
PALETTE: Final[Mapping[str, str]] = {
    "GPU": "#0072B2",  # blue
    "PCIe": "#E69F00",  # orange
    "host": "#CC79A7",  # reddish purple
    "NDP-DIMM": "#009E73",  # bluish green
    "DIMM-link": "#56B4E9",  # sky blue
}
#: Colour of reference marks (the paper's own numbers).
REFERENCE_COLOUR: Final = "#000000"
SUBSYSTEMS: Final = tuple(PALETTE)

#: A legend that never truncates its labels (Vega cuts them at 160 px by default, which made two
#: long model names read alike); long labels wrap onto more rows instead of one.
_FULL_LABELS: Final = alt.Legend(labelLimit=0, columns=2)

_FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# ---------------------------------------------------------------------------------------------
# Rounding
# ---------------------------------------------------------------------------------------------


def _round_float(x: float, sig: int) -> float:
    if not math.isfinite(x) or x == 0:
        return float(x)
    return float(f"{x:.{sig - 1}e}")


def rounded(obj: Any, sig: int = DEFAULT_SIG) -> Any:
    """Round every float in `obj` to `sig` significant digits; leave everything else as is.

    Works on Python and numpy floats (returns a Python ``float``), numpy arrays, pandas Series
    and DataFrames (float columns only), and lists, tuples and dicts of these. Integers, bools
    and strings pass through unchanged. The result is the nearest decimal with `sig`
    significant digits, so its ``repr`` is short and the same on every CPU.

    >>> rounded(352.56410256410254)
    352.6
    >>> rounded({"a": [0.1 + 0.2, 7], "b": "x"}, sig=3)
    {'a': [0.3, 7], 'b': 'x'}
    """
    if sig < 1:
        raise ValueError(f"sig must be >= 1, got {sig!r}")
    if isinstance(obj, bool | np.bool_):
        return obj
    if isinstance(obj, float | np.floating):
        return _round_float(float(obj), sig)
    if isinstance(obj, pd.DataFrame):
        out = obj.copy()
        for col in out.columns:
            if pd.api.types.is_float_dtype(out[col]):
                out[col] = rounded(out[col], sig)
        return out
    if isinstance(obj, pd.Series):
        if pd.api.types.is_float_dtype(obj):
            return obj.map(lambda v: _round_float(float(v), sig)).astype(obj.dtype)
        return obj.copy()
    if isinstance(obj, np.ndarray):
        if np.issubdtype(obj.dtype, np.floating):
            flat = [_round_float(float(v), sig) for v in obj.ravel()]
            return np.asarray(flat, dtype=obj.dtype).reshape(obj.shape)
        return obj.copy()
    if isinstance(obj, Mapping):
        return {k: rounded(v, sig) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(rounded(v, sig) for v in obj)
    return obj


def _format_sig(x: float, sig: int) -> str:
    """`x` at `sig` significant digits in positional notation, thousands separated, trailing
    zeros after the point dropped (``330``, ``0.3724``, ``206,000``)."""
    x = _round_float(x, sig)
    if x == 0:
        return "0"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


#: How `formatted` writes a cell marked unsupported: the paper's label for a configuration that
#: cannot run ("not possible"). NaN elsewhere means "not applicable" and is written `na`.
NOT_POSSIBLE: Final = "N.P."


def _unsupported_mask(df: pd.DataFrame, unsupported: Any) -> pd.DataFrame:
    """`unsupported` as a boolean frame shaped like `df` (see `formatted`)."""
    if isinstance(unsupported, pd.DataFrame):
        unknown = sorted({str(c) for c in unsupported.columns} - {str(c) for c in df.columns})
        if unknown:
            raise ValueError(f"formatted: unsupported names no column {unknown[0]!r}; got "
                             f"{', '.join(map(str, df.columns))}")
        extra = unsupported.index.difference(df.index)
        if len(extra):
            raise ValueError(f"formatted: unsupported names no row {extra[0]!r}")
        return unsupported.reindex(index=df.index, columns=df.columns,
                                   fill_value=False).astype(bool)
    if isinstance(unsupported, pd.Series):
        extra = unsupported.index.difference(df.index)
        if len(extra):
            raise ValueError(f"formatted: unsupported names no row {extra[0]!r}")
        rows = unsupported.reindex(df.index, fill_value=False).astype(bool).to_numpy()
    else:
        rows = np.asarray(unsupported, dtype=bool)
        if rows.shape != (len(df),):
            raise ValueError(f"formatted: unsupported needs one flag per row ({len(df)}), "
                             f"got shape {rows.shape}")
    floats = [pd.api.types.is_float_dtype(df[c]) for c in df.columns]
    return pd.DataFrame(np.outer(rows, floats), index=df.index, columns=df.columns)


def formatted(df: pd.DataFrame, formats: Mapping[str, str] | str | None = None, *,
              sig: int = DEFAULT_SIG, na: str = "—", inf: str = "∞",
              unsupported: pd.DataFrame | pd.Series | Sequence[bool] | None = None,
              not_possible: str = NOT_POSSIBLE) -> pd.DataFrame:
    """A display copy of `df` whose float columns are text, each in one format.

    A column named in `formats` uses that format specification (``",.1f"``, ``".3g"``, ...;
    a single string applies to every float column); any other float column keeps `sig`
    significant digits without exponent or padding zeros.
    NaN is written `na` and infinities `inf` (with a sign when negative), so that a table shows
    neither ``NaN`` nor digits a column's widest value forces on the others. Values pass through
    `rounded` first (at `sig` digits, or 12 where a format is given), so the text is the same on
    every CPU. Non-float columns, the index and the column labels are unchanged.

    `na` is for "not applicable". Where a NaN means that the configuration cannot run, mark it
    in `unsupported`, and the cell is written `not_possible` (``N.P.``, the paper's label):
    either a boolean DataFrame aligned with `df` by labels (columns or rows it lacks are
    unmarked) or one flag per row (a boolean Series aligned by index, or a sequence), which
    marks every float column of that row. A marked cell must hold NaN: N.P. never hides a
    number, and a marked non-float column is refused.

    >>> formatted(pd.DataFrame({"a": [330.0, 5156.3], "b": [0.5, float("nan")]}),
    ...           {"b": ".2f"}).to_dict("list")
    {'a': ['330', '5,156'], 'b': ['0.50', '—']}
    >>> formatted(pd.DataFrame({"a": [1.5, float("nan")], "b": [float("nan")] * 2}),
    ...           unsupported=[False, True]).to_dict("list")
    {'a': ['1.5', 'N.P.'], 'b': ['—', 'N.P.']}
    """
    if isinstance(formats, str):
        formats = {str(c): formats for c in df.columns if pd.api.types.is_float_dtype(df[c])}
    formats = dict(formats or {})
    unknown = sorted(set(formats) - {str(c) for c in df.columns})
    if unknown:
        raise ValueError(f"formatted: no column {unknown[0]!r}; got "
                         f"{', '.join(map(str, df.columns))}")
    mask = None if unsupported is None else _unsupported_mask(df, unsupported)
    out = df.copy()
    for i, col in enumerate(out.columns):
        marked = (np.zeros(len(out), dtype=bool) if mask is None
                  else mask.iloc[:, i].to_numpy(dtype=bool))
        if not pd.api.types.is_float_dtype(out[col]):
            if marked.any():
                raise ValueError(f"formatted: unsupported marks column {col!r}, which holds "
                                 "no floats")
            continue
        raw = out[col].to_numpy(dtype=float)
        hidden = marked & ~np.isnan(raw)
        if hidden.any():
            row = out.index[int(np.argmax(hidden))]
            raise ValueError(f"formatted: cell ({row!r}, {col!r}) is marked unsupported but "
                             f"holds {raw[hidden][0]!r}; N.P. cannot hide a number")
        spec = formats.get(str(col))
        values = rounded(out[col], sig if spec is None else 12)

        def text(v: float, spec: str | None = spec) -> str:
            if math.isnan(v):
                return na
            if math.isinf(v):
                return inf if v > 0 else f"-{inf}"
            return _format_sig(v, sig) if spec is None else format(v, spec)

        out[col] = [not_possible if m else text(float(v)) for v, m in zip(values, marked,
                                                                          strict=True)]
    return out


# ---------------------------------------------------------------------------------------------
# Theme
# ---------------------------------------------------------------------------------------------


@alt.theme.register("hermes", enable=False)
def hermes_theme() -> alt.theme.ThemeConfig:
    """The book's altair theme: fixed fonts and sizes, a ~600 px default width, the palette."""
    return {
        "config": {
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "font": _FONT,
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "titleFontWeight": "normal",
                     "grid": True, "gridColor": "#e6e6e6", "domainColor": "#888888",
                     "tickColor": "#888888"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "titleFontWeight": "normal",
                       "orient": "bottom", "direction": "horizontal"},
            "header": {"labelFontSize": 12, "titleFontSize": 13},
            "text": {"fontSize": 11},
            "line": {"strokeWidth": 2},
            "point": {"size": 60, "filled": True},
            "range": {"category": list(PALETTE.values())},
        }
    }


def use_theme() -> None:
    """Switch the book's theme on (every chapter calls this once, after its imports)."""
    alt.theme.enable("hermes")


def subsystem_scale(present: Sequence[str] | None = None) -> alt.Scale:
    """Colour scale mapping each subsystem to its palette colour (only `present` ones, in order)."""
    names = [s for s in SUBSYSTEMS if present is None or s in set(present)]
    unknown = sorted(set(present or ()) - set(SUBSYSTEMS))
    if unknown:
        raise ValueError(f"unknown subsystem {unknown[0]!r}; known: {', '.join(SUBSYSTEMS)}")
    return alt.Scale(domain=names, range=[PALETTE[s] for s in names])


# ---------------------------------------------------------------------------------------------
# Chart builders
# ---------------------------------------------------------------------------------------------


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; "
                         f"got {', '.join(map(str, df.columns))}")


def _curve_colour(df: pd.DataFrame) -> alt.Color:
    """Colour by the ``curve`` column, curves in order of first appearance, full legend labels."""
    return alt.Color("curve:N", title=None, sort=list(dict.fromkeys(df["curve"])),
                     legend=_FULL_LABELS)


def log_ticks(lo: float, hi: float, steps: Sequence[float] = (1, 3)) -> list[float]:
    """Tick values for a log axis from `lo` to `hi`: each decade times `steps` (1, 3: 10, 30,
    100, ...), so that neighbouring labels never run together as Vega's default 1-2-5 ticks do.

    >>> log_ticks(8, 2000)
    [10, 30, 100, 300, 1000]
    """
    if not (lo > 0 and hi >= lo):
        raise ValueError(f"log_ticks needs 0 < lo <= hi, got {lo!r}, {hi!r}")
    out: list[float] = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for s in steps:
            v = s * 10.0**k
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                out.append(int(v) if v >= 1 and float(v).is_integer() else rounded(v, 3))
    return out


def _halo_text(chart: alt.Chart, **kw: Any) -> list[alt.Chart]:
    """A text layer drawn twice: a thick white outline underneath, then the text, so that a line
    passing behind a label never strikes through it."""
    return [chart.mark_text(stroke="white", strokeWidth=4, strokeJoin="round", opacity=0.9, **kw),
            chart.mark_text(**kw)]


def roofline_chart(lines: pd.DataFrame, ridges: pd.DataFrame,
                   points: pd.DataFrame | None = None, *, sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Log-log rooflines of several tiers, their ridge points and, optionally, operations on them.

    Parameters
    ----------
    lines : DataFrame
        One row per vertex of each roofline: ``tier``, ``subsystem``, ``profile``,
        ``intensity_flop_per_byte``, ``attainable_flop_per_s``.
    ridges : DataFrame
        One row per tier and profile: ``tier``, ``subsystem``, ``profile``,
        ``ridge_flop_per_byte``, ``peak_flop_per_s``, ``bandwidth_bytes_per_s`` and ``label``
        (text written beside the ridge point; empty for none).
    points : DataFrame, optional
        Operations placed on the rooflines: ``operation``, ``tier``, ``subsystem``,
        ``intensity_flop_per_byte``, ``attainable_flop_per_s``, ``bound``.
    """
    _require(lines, ["tier", "subsystem", "profile", "intensity_flop_per_byte",
                     "attainable_flop_per_s"], "roofline_chart lines")
    _require(ridges, ["tier", "subsystem", "profile", "ridge_flop_per_byte", "peak_flop_per_s",
                      "bandwidth_bytes_per_s", "label"], "roofline_chart ridges")
    present = list(dict.fromkeys([*lines["subsystem"], *ridges["subsystem"]]))
    colour = alt.Color("subsystem:N", scale=subsystem_scale(present), title="subsystem")
    x_title, y_title = "arithmetic intensity (FLOP/byte)", "attainable throughput (TFLOP/s)"
    log = alt.Scale(type="log")
    dash = alt.StrokeDash("profile:N", title="profile",
                          scale=alt.Scale(domain=["paper", "datasheet"], range=[[1, 0], [6, 4]]))

    line_df = rounded(lines.assign(
        attainable_tflop_per_s=lines["attainable_flop_per_s"] / u.TFLOP), sig)
    line_layer = alt.Chart(line_df).mark_line().encode(
        x=alt.X("intensity_flop_per_byte:Q", scale=log, title=x_title),
        y=alt.Y("attainable_tflop_per_s:Q", scale=log, title=y_title),
        color=colour, strokeDash=dash, detail="tier:N",
        order="intensity_flop_per_byte:Q",
    )

    ridge_df = rounded(ridges.assign(
        peak_tflop_per_s=ridges["peak_flop_per_s"] / u.TFLOP,
        bandwidth_gb_per_s=ridges["bandwidth_bytes_per_s"] / u.GB), sig)
    ridge_base = alt.Chart(ridge_df).encode(
        x=alt.X("ridge_flop_per_byte:Q", scale=log, title=x_title),
        y=alt.Y("peak_tflop_per_s:Q", scale=log, title=y_title),
    )
    tooltip = [alt.Tooltip("tier:N"), alt.Tooltip("profile:N"),
               alt.Tooltip("ridge_flop_per_byte:Q", title="ridge (FLOP/byte)", format=",.4~g"),
               alt.Tooltip("peak_tflop_per_s:Q", title="peak (TFLOP/s)", format=",.4~g"),
               alt.Tooltip("bandwidth_gb_per_s:Q", title="bandwidth (GB/s)", format=",.4~g")]
    ridge_layer = ridge_base.mark_point(shape="circle", size=70, filled=True).encode(
        color=colour, tooltip=tooltip)
    labelled = ridge_base.transform_filter(alt.datum.label != "").encode(text="label:N")
    halo, label_layer = _halo_text(labelled, align="left", dx=7, dy=-9)
    # the halo carries the colour too (its fill is hidden under the text), so that the legend
    # stays one
    layers: list[alt.Chart] = [line_layer, ridge_layer, halo.encode(color=colour),
                               label_layer.encode(color=colour)]

    if points is not None and len(points):
        _require(points, ["operation", "tier", "subsystem", "intensity_flop_per_byte",
                          "attainable_flop_per_s", "bound"], "roofline_chart points")
        pts = rounded(points.assign(
            attainable_tflop_per_s=points["attainable_flop_per_s"] / u.TFLOP), sig)
        layers.append(alt.Chart(pts).mark_point(shape="diamond", size=80, filled=True,
                                                 stroke=REFERENCE_COLOUR, strokeWidth=0.6).encode(
            x=alt.X("intensity_flop_per_byte:Q", scale=log, title=x_title),
            y=alt.Y("attainable_tflop_per_s:Q", scale=log, title=y_title),
            color=colour,
            tooltip=[alt.Tooltip("operation:N"), alt.Tooltip("tier:N"), alt.Tooltip("bound:N"),
                     alt.Tooltip("intensity_flop_per_byte:Q", title="intensity (FLOP/byte)",
                                 format=",.4~g"),
                     alt.Tooltip("attainable_tflop_per_s:Q", title="attainable (TFLOP/s)",
                                 format=",.4~g")]))
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)


def bandwidth_chart(df: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                    sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """A mark per tier and profile at its bandwidth on a log axis (filled circle: paper, open
    diamond: datasheet; both in the subsystem's colour).

    Parameters
    ----------
    df : DataFrame
        ``tier``, ``subsystem``, ``profile``, ``bandwidth_bytes_per_s`` (rows in display order).
    reference : DataFrame, optional
        Numbers to mark with a black tick: ``tier``, ``bandwidth_bytes_per_s``, ``label``
        (for example the labels of the paper's Fig. 1).
    """
    _require(df, ["tier", "subsystem", "profile", "bandwidth_bytes_per_s"], "bandwidth_chart")
    order = list(dict.fromkeys(df["tier"]))
    dots = rounded(df.assign(bandwidth_gb_per_s=df["bandwidth_bytes_per_s"] / u.GB), sig)
    shown = [float(v) for v in dots["bandwidth_gb_per_s"]]
    if reference is not None and len(reference):
        shown += [float(v) / u.GB for v in reference["bandwidth_bytes_per_s"]]
    lo_d, hi_d = 10.0 ** math.floor(math.log10(min(shown))), 10.0 ** math.ceil(math.log10(max(shown)))
    x = alt.X("bandwidth_gb_per_s:Q", scale=alt.Scale(type="log"), title="bandwidth (GB/s)",
              axis=alt.Axis(values=log_ticks(lo_d, hi_d), format=",~g"))
    y = alt.Y("tier:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    colours = subsystem_scale(list(dots["subsystem"]))
    profiles = ["paper", "datasheet"]
    shape = alt.Shape("profile:N", sort=profiles, title="profile",
                      scale=alt.Scale(domain=profiles, range=["circle", "diamond"]))
    base = alt.Chart(dots).encode(
        x=x, y=y, yOffset=alt.YOffset("profile:N", sort=profiles,
                                      scale=alt.Scale(domain=profiles)))
    # The marks: the subsystem's colour as stroke and, for the paper profile only, as fill.
    marks = base.mark_point(size=140, strokeWidth=2, filled=True, opacity=1).encode(
        color=alt.Color("subsystem:N", scale=colours, title="subsystem"),
        stroke=alt.Stroke("subsystem:N", scale=colours, title="subsystem"),
        fillOpacity=alt.condition(alt.datum.profile == "paper", alt.value(1.0), alt.value(0.0)),
        shape=shape.legend(None),
        tooltip=[alt.Tooltip("tier:N"), alt.Tooltip("profile:N"),
                 alt.Tooltip("bandwidth_gb_per_s:Q", title="bandwidth (GB/s)", format=",.4~g")])
    # An invisible copy, drawn underneath, that only carries the profile legend (a grey filled
    # circle and an open diamond): a legend symbol's fill cannot follow a condition.
    key_legend = alt.Legend(symbolOpacity=1, symbolStrokeWidth=2)
    key = base.mark_point(size=140, strokeWidth=2, filled=True, opacity=0).encode(
        fill=alt.Fill("profile:N", sort=profiles, title="profile", legend=key_legend,
                      scale=alt.Scale(domain=profiles, range=["#555555", "transparent"])),
        stroke=alt.Stroke("profile:N", sort=profiles, title="profile", legend=key_legend,
                          scale=alt.Scale(domain=profiles, range=["#555555", "#555555"])),
        shape=shape.legend(key_legend))
    layers: list[alt.Chart] = [key, marks]
    if reference is not None and len(reference):
        _require(reference, ["tier", "bandwidth_bytes_per_s", "label"], "bandwidth_chart reference")
        ref = rounded(reference.assign(
            bandwidth_gb_per_s=reference["bandwidth_bytes_per_s"] / u.GB), sig)
        layers.append(alt.Chart(ref).mark_tick(color=REFERENCE_COLOUR, thickness=2, size=22)
                      .encode(x=x, y=y, tooltip=[alt.Tooltip("tier:N"), alt.Tooltip("label:N"),
                                                 alt.Tooltip("bandwidth_gb_per_s:Q",
                                                             title="bandwidth (GB/s)")]))
    return alt.layer(*layers).resolve_scale(
        color="independent", fill="independent", stroke="independent", shape="independent"
    ).properties(width=WIDTH - 180, height=alt.Step(20))


def chunk_efficiency_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.Chart:
    """Share of one DRAM rank's pin bandwidth against the chunk size, one line per timing set.

    Parameters
    ----------
    df : DataFrame
        ``chunk_bytes``, ``efficiency`` (0–1), ``timings`` (label of the timing set) and
        ``bound`` (the resource that sets the pace).
    """
    _require(df, ["chunk_bytes", "efficiency", "timings", "bound"], "chunk_efficiency_chart")
    data = rounded(df, sig)
    return alt.Chart(data).mark_line().encode(
        x=alt.X("chunk_bytes:Q", scale=alt.Scale(type="log", base=2), title="chunk size (bytes)",
                axis=alt.Axis(values=[2.0**k for k in range(6, 21, 2)], labelExpr=(
                    "datum.value >= 1048576 ? datum.value / 1048576 + ' MiB' : datum.value >= "
                    "1024 ? datum.value / 1024 + ' KiB' : datum.value + ' B'"))),
        y=alt.Y("efficiency:Q", scale=alt.Scale(domain=[0, 1]),
                title="share of one rank's pin bandwidth"),
        color=alt.value(PALETTE["NDP-DIMM"]),
        # In the order the rows come (the chapter's caption: the first timing set solid).
        strokeDash=alt.StrokeDash("timings:N", title="timings",
                                  sort=list(dict.fromkeys(data["timings"]))),
        tooltip=[alt.Tooltip("timings:N"), alt.Tooltip("chunk_bytes:Q", title="chunk (bytes)"),
                 alt.Tooltip("efficiency:Q", format=".4~f"), alt.Tooltip("bound:N")],
    ).properties(width=WIDTH, height=HEIGHT)


def multiplier_speedup_chart(df: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                             sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Speedup against the multipliers of an NDP core, one line per batch size.

    Parameters
    ----------
    df : DataFrame
        ``multipliers``, ``speedup`` (ratio to the smallest count) and ``batch``.
    reference : DataFrame, optional
        Statements to mark in black: ``multipliers``, ``speedup``, ``label``.
    """
    _require(df, ["multipliers", "speedup", "batch"], "multiplier_speedup_chart")
    x = alt.X("multipliers:Q", scale=alt.Scale(type="log", base=2),
              axis=alt.Axis(values=sorted(set(df["multipliers"]))), title="multipliers per core")
    y = alt.Y("speedup:Q", title="speedup of the NDP part (×)")
    lines = alt.Chart(rounded(df, sig)).mark_line(point=True).encode(
        x=x, y=y, color=alt.Color("batch:O", scale=alt.Scale(scheme="greens"),
                                  title="batch size"),
        tooltip=[alt.Tooltip("batch:O", title="batch"), alt.Tooltip("multipliers:Q"),
                 alt.Tooltip("speedup:Q", format=".3~f")])
    layers: list[alt.Chart] = [lines]
    if reference is not None and len(reference):
        _require(reference, ["multipliers", "speedup", "label"], "multiplier_speedup_chart ref")
        ref = alt.Chart(rounded(reference, sig)).encode(x=x, y=y)
        layers += [ref.mark_point(shape="cross", size=120, color=REFERENCE_COLOUR).encode(
                       tooltip=[alt.Tooltip("label:N")]),
                   ref.mark_text(align="left", dx=8, dy=-8, color=REFERENCE_COLOUR).encode(
                       text="label:N")]
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)


# ---------------------------------------------------------------------------------------------
# Calibration charts (book/calibration.ipynb)
# ---------------------------------------------------------------------------------------------

#: Colours of the measurement groups of the calibration (Okabe & Ito; GPU kernels in blues and
#: greens, copies in the PCIe orange and the host's purple).
GROUP_COLOURS: Final[Mapping[str, str]] = {
    "dense": "#0072B2", "compact": "#56B4E9", "gathered": "#D55E00", "fused": "#009E73",
    "pinned copy": "#E69F00", "pageable copy": "#CC79A7",
}
_SPLIT_SHAPES = alt.Scale(domain=["fit", "held-out"], range=["circle", "triangle-up"])


def _group_scale(present: Sequence[str]) -> alt.Scale:
    names = [g for g in GROUP_COLOURS if g in set(present)]
    return alt.Scale(domain=names, range=[GROUP_COLOURS[g] for g in names])


def measured_modelled_chart(df: pd.DataFrame, *, band_frac: float = 0.1,
                            sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Log-log scatter of modelled against measured time, with y = x and a ±`band_frac` band.

    Parameters
    ----------
    df : DataFrame
        One row per measurement: ``group`` (a key of `GROUP_COLOURS`), ``split`` (``fit`` or
        ``held-out``), ``regime``, ``label`` (shown on hover), ``measured_s``, ``modelled_s``.
    band_frac : float
        Half-width of the dashed band around y = x (fraction).
    """
    _require(df, ["group", "split", "regime", "label", "measured_s", "modelled_s"],
             "measured_modelled_chart")
    pts = rounded(df.assign(measured_us=df["measured_s"] / u.US,
                            modelled_us=df["modelled_s"] / u.US,
                            error_pct=100 * (df["modelled_s"] / df["measured_s"] - 1))
                  [["group", "split", "regime", "label", "measured_us", "modelled_us",
                    "error_pct"]], sig)
    lo = 0.7 * float(min(pts["measured_us"].min(), pts["modelled_us"].min()))
    hi = 1.4 * float(max(pts["measured_us"].max(), pts["modelled_us"].max()))
    guide = rounded(pd.DataFrame({
        "measured_us": [lo, hi] * 3,
        "modelled_us": [lo, hi, lo * (1 + band_frac), hi * (1 + band_frac),
                        lo * (1 - band_frac), hi * (1 - band_frac)],
        "line": ["y = x"] * 2 + ["band"] * 4, "side": ["0", "0", "+", "+", "-", "-"]}), sig)
    log = alt.Scale(type="log", domain=[rounded(lo, 2), rounded(hi, 2)])
    ticks = alt.Axis(values=log_ticks(lo, hi), format=",~g")
    x = alt.X("measured_us:Q", scale=log, title="measured time (µs)", axis=ticks)
    y = alt.Y("modelled_us:Q", scale=log, title="modelled time (µs)", axis=ticks)
    lines = alt.Chart(guide).mark_line(color="#888888", strokeWidth=1).encode(
        x=x, y=y, detail="side:N",
        strokeDash=alt.StrokeDash("line:N", legend=None,
                                  scale=alt.Scale(domain=["y = x", "band"], range=[[1, 0], [4, 4]])))
    points = alt.Chart(pts).mark_point(size=40, filled=True, opacity=0.75).encode(
        x=x, y=y,
        color=alt.Color("group:N", scale=_group_scale(list(pts["group"])), title="measurement"),
        shape=alt.Shape("split:N", scale=_SPLIT_SHAPES, title="shape"),
        tooltip=[alt.Tooltip("label:N", title="what"), alt.Tooltip("regime:N"),
                 alt.Tooltip("split:N"),
                 alt.Tooltip("measured_us:Q", title="measured (µs)", format=",.4~g"),
                 alt.Tooltip("modelled_us:Q", title="modelled (µs)", format=",.4~g"),
                 alt.Tooltip("error_pct:Q", title="error (%)", format="+.1f")])
    return alt.layer(lines, points).properties(width=WIDTH, height=WIDTH)


def error_strip_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.Chart:
    """Relative error of each measurement by regime: one strip per regime, coloured by group.

    Parameters
    ----------
    df : DataFrame
        ``group``, ``split``, ``regime``, ``label``, ``error_frac`` (modelled ÷ measured − 1).
    """
    _require(df, ["group", "split", "regime", "label", "error_frac"], "error_strip_chart")
    pts = rounded(df.assign(error_pct=100 * df["error_frac"])[
        ["group", "split", "regime", "label", "error_pct"]], sig)
    return alt.Chart(pts).mark_point(size=30, filled=True, opacity=0.7).encode(
        x=alt.X("error_pct:Q", title="modelled ÷ measured − 1 (%)"),
        y=alt.Y("regime:N", title=None, sort=["memory", "compute", "launch"]),
        yOffset=alt.YOffset("group:N", sort=list(GROUP_COLOURS)),
        color=alt.Color("group:N", scale=_group_scale(list(pts["group"])), title="measurement"),
        shape=alt.Shape("split:N", scale=_SPLIT_SHAPES, title="shape"),
        tooltip=[alt.Tooltip("label:N", title="what"), alt.Tooltip("split:N"),
                 alt.Tooltip("error_pct:Q", title="error (%)", format="+.1f")],
    ).properties(width=WIDTH, height=alt.Step(14))


def gather_chart(df: pd.DataFrame, *, columns: int = 4, sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Slowdown of sparse-GEMV variants over the compact matmul against the fraction of rows.

    Parameters
    ----------
    df : DataFrame
        ``shape``, ``frac``, ``variant`` (``model`` is drawn as a dashed line, the others as
        points joined by lines), ``slowdown``.
    columns : int
        Panels per row (one panel per shape).
    """
    _require(df, ["shape", "frac", "variant", "slowdown"], "gather_chart")
    data = rounded(df[["shape", "frac", "variant", "slowdown"]], sig)
    variants = ["index_select", "advanced_index", "triton_fused", "model"]
    colour = alt.Color("variant:N", title="kernel", scale=alt.Scale(
        domain=variants, range=[GROUP_COLOURS["gathered"], "#F0E442", GROUP_COLOURS["fused"],
                                REFERENCE_COLOUR]))
    lo_f, hi_f = float(data["frac"].min()), float(data["frac"].max())
    x = alt.X("frac:Q", scale=alt.Scale(type="log"), title="rows computed, f",
              axis=alt.Axis(values=log_ticks(lo_f, hi_f, steps=(1,)), format="~g"))
    y = alt.Y("slowdown:Q", scale=alt.Scale(type="log", nice=False), title="time ÷ compact matmul")
    tip = [alt.Tooltip("shape:N"), alt.Tooltip("variant:N"), alt.Tooltip("frac:Q", title="f"),
           alt.Tooltip("slowdown:Q", title="slowdown", format=".2f")]
    base = alt.Chart(data)
    measured = base.transform_filter(alt.datum.variant != "model")
    layers = alt.layer(
        measured.mark_line(point=True, strokeWidth=1.2).encode(x=x, y=y, color=colour,
                                                               tooltip=tip),
        base.transform_filter(alt.datum.variant == "model").mark_line(
            strokeDash=[5, 3], strokeWidth=1.5).encode(x=x, y=y, color=colour, tooltip=tip),
        base.mark_rule(color="#888888", strokeWidth=0.8).encode(y=alt.datum(1)),
    ).properties(width=WIDTH // columns - 20, height=150)
    return layers.facet(facet=alt.Facet("shape:N", title="weight matrix (out × in)"),
                        columns=columns, spacing={"column": 28, "row": 16})


def link_chart(copies: pd.DataFrame, curve: pd.DataFrame, *, max_fit_bytes: float,
               sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Attained copy bandwidth against size: measured points and the fitted link's curve.

    Parameters
    ----------
    copies : DataFrame
        ``direction`` (h2d, d2h), ``memory`` (pinned, pageable), ``split``, ``bytes``,
        ``bandwidth_bytes_per_s``.
    curve : DataFrame
        ``bytes``, ``bandwidth_bytes_per_s`` of the fitted model.
    max_fit_bytes : float
        Largest fitted size, marked by a vertical rule (bytes).
    """
    _require(copies, ["direction", "memory", "split", "bytes", "bandwidth_bytes_per_s"],
             "link_chart copies")
    _require(curve, ["bytes", "bandwidth_bytes_per_s"], "link_chart curve")
    pts = rounded(copies.assign(size_mib=copies["bytes"] / u.MiB,
                                bandwidth_gb_per_s=copies["bandwidth_bytes_per_s"] / u.GB)[
        ["direction", "memory", "split", "size_mib", "bandwidth_gb_per_s"]], sig)
    line = rounded(curve.assign(size_mib=curve["bytes"] / u.MiB,
                                bandwidth_gb_per_s=curve["bandwidth_bytes_per_s"] / u.GB)[
        ["size_mib", "bandwidth_gb_per_s"]], sig)
    x = alt.X("size_mib:Q", scale=alt.Scale(type="log", nice=False), title="copy size (MiB)")
    y = alt.Y("bandwidth_gb_per_s:Q", scale=alt.Scale(type="log"), title="bandwidth (GB/s)")
    colour = alt.Color("direction:N", title="direction", scale=alt.Scale(
        domain=["h2d", "d2h"], range=[PALETTE["PCIe"], PALETTE["GPU"]]))
    points = alt.Chart(pts).mark_line(point=True, strokeWidth=1).encode(
        x=x, y=y, color=colour,
        strokeDash=alt.StrokeDash("memory:N", title="host memory", scale=alt.Scale(
            domain=["pinned", "pageable"], range=[[1, 0], [3, 3]])),
        tooltip=[alt.Tooltip("direction:N"), alt.Tooltip("memory:N"), alt.Tooltip("split:N"),
                 alt.Tooltip("size_mib:Q", title="size (MiB)", format=",.4~g"),
                 alt.Tooltip("bandwidth_gb_per_s:Q", title="bandwidth (GB/s)", format=",.4~g")])
    model = alt.Chart(line).mark_line(color=REFERENCE_COLOUR, strokeWidth=1.5,
                                      strokeDash=[6, 3]).encode(x=x, y=y)
    rule = alt.Chart(pd.DataFrame({"size_mib": [rounded(max_fit_bytes / u.MiB, sig)]})).mark_rule(
        color="#888888").encode(x="size_mib:Q")
    return alt.layer(rule, model, points).properties(width=WIDTH, height=HEIGHT)


# ---------------------------------------------------------------------------------------------
# Activation sparsity
# ---------------------------------------------------------------------------------------------


def cumulative_share_chart(df: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                           sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Share of activations (compute) carried by the most frequent neurons, one line per curve.

    Parameters
    ----------
    df : DataFrame
        ``curve``, ``parameter_share`` (hottest neurons first, 0..1), ``compute_share`` (0..1).
    reference : DataFrame, optional
        Points to mark in black: ``parameter_share``, ``compute_share``, ``label``.
    """
    _require(df, ["curve", "parameter_share", "compute_share"], "cumulative_share_chart")
    data = rounded(df.assign(parameters_pct=100 * df["parameter_share"],
                             compute_pct=100 * df["compute_share"]), sig)
    x = alt.X("parameters_pct:Q", title="hottest neurons, share of parameters (%)")
    y = alt.Y("compute_pct:Q", title="share of compute (%)")
    layers: list[alt.Chart] = [alt.Chart(data).mark_line().encode(
        x=x, y=y, color=_curve_colour(df),
        tooltip=[alt.Tooltip("curve:N"), alt.Tooltip("parameters_pct:Q", format=".3~g"),
                 alt.Tooltip("compute_pct:Q", format=".3~g")])]
    if reference is not None and len(reference):
        _require(reference, ["parameter_share", "compute_share", "label"],
                 "cumulative_share_chart reference")
        ref = rounded(reference.assign(parameters_pct=100 * reference["parameter_share"],
                                       compute_pct=100 * reference["compute_share"]), sig)
        base = alt.Chart(ref).encode(x=x, y=y)
        layers += [base.mark_point(shape="cross", size=120, color=REFERENCE_COLOUR,
                                   filled=True).encode(tooltip=["label:N"]),
                   base.mark_text(align="left", dx=8, dy=10, color=REFERENCE_COLOUR)
                   .encode(text="label:N")]
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)


def similarity_chart(df: pd.DataFrame, reference: pd.DataFrame | None = None, *,
                     sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Similarity of active-neuron sets against token distance (the paper's Fig. 4a).

    Parameters
    ----------
    df : DataFrame
        ``curve``, ``kind`` (``expected``: a line, ``generated``: points, ``measured``: both),
        ``distance`` (tokens), ``similarity`` (0..1). Memoryless baselines are curves too.
    reference : DataFrame, optional
        The paper's statements: ``distance``, ``similarity``, ``label`` (black ticks).
    """
    _require(df, ["curve", "kind", "distance", "similarity"], "similarity_chart")
    data = rounded(df, sig)
    x = alt.X("distance:Q", title="token distance d (tokens)")
    y = alt.Y("similarity:Q", title="similarity at distance d", scale=alt.Scale(domain=[0, 1]))
    colour = _curve_colour(df)
    tip = [alt.Tooltip("curve:N"), alt.Tooltip("kind:N"), alt.Tooltip("distance:Q"),
           alt.Tooltip("similarity:Q", format=".3f")]
    base = alt.Chart(data).encode(x=x, y=y, color=colour, tooltip=tip)
    layers: list[alt.Chart] = [
        base.transform_filter(alt.datum.kind != "generated").mark_line(),
        base.transform_filter(alt.datum.kind != "expected").mark_point(),
    ]
    if reference is not None and len(reference):
        _require(reference, ["distance", "similarity", "label"], "similarity_chart reference")
        ref = alt.Chart(rounded(reference, sig)).encode(x=x, y=y)
        layers += [ref.mark_tick(color=REFERENCE_COLOUR, thickness=3, size=18)
                   .encode(tooltip=["label:N"]),
                   ref.mark_text(align="left", dx=8, dy=-8, color=REFERENCE_COLOUR)
                   .encode(text="label:N")]
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)


# ---------------------------------------------------------------------------------------------
# End to end: model beside paper, and where the time goes
# ---------------------------------------------------------------------------------------------

#: Colours of Fig. 12's categories (Okabe & Ito), in the order of the stack.
CATEGORY_COLOURS: Final[Mapping[str, str]] = {
    "fc": "#0072B2", "attention": "#009E73", "predictor": "#CC79A7", "prefill": "#D55E00",
    "communication": "#E69F00", "others": "#999999",
}


#: A facet header in two lines: a model's name, then its variant in parentheses
#: ("OPT-66B (ReLU)" over two lines).
TWO_LINE_HEADER: Final = alt.Header(labelExpr="split(replace(datum.value, ' (', '|('), '|')")


def model_vs_paper_chart(df: pd.DataFrame, *, x: str = "policy", column: str = "model",
                         sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Bars of the model's tokens/s per profile beside black ticks at the paper's, log axis.

    Parameters
    ----------
    df : DataFrame
        ``model``, `x` (e.g. ``policy`` or ``batch``), ``series`` (``paper`` for the paper's
        value, anything else is a bar, e.g. ``model, paper profile``), ``tokens_per_s``; a
        column per facet named by `column`. Unsupported bars (NaN) are dropped.
    """
    _require(df, [column, x, "series", "tokens_per_s"], "model_vs_paper_chart")
    d = rounded(df[df["tokens_per_s"] > 0].copy(), sig)
    d[x] = d[x].astype(str)
    order = list(dict.fromkeys(df[x].astype(str)))
    bars = [s for s in dict.fromkeys(d["series"]) if s != "paper"]
    colours = [PALETTE["NDP-DIMM"], PALETTE["PCIe"], PALETTE["GPU"], PALETTE["host"]][:len(bars)]
    y = alt.Y("tokens_per_s:Q", scale=alt.Scale(type="log"), stack=None,
              title="throughput (tokens/s)")
    tip = [alt.Tooltip(f"{column}:N"), alt.Tooltip(f"{x}:N"), alt.Tooltip("series:N"),
           alt.Tooltip("tokens_per_s:Q", title="tokens/s", format=",.4~g")]
    base = alt.Chart(d).encode(x=alt.X(f"{x}:N", sort=order, title=x), y=y, tooltip=tip)
    bar = base.transform_filter(alt.datum.series != "paper").mark_bar().encode(
        xOffset=alt.XOffset("series:N", sort=bars),
        color=alt.Color("series:N", scale=alt.Scale(domain=bars, range=colours), title=None))
    tick = base.transform_filter(alt.datum.series == "paper").mark_tick(
        color=REFERENCE_COLOUR, thickness=3, size=24)
    n_col = max(1, d[column].nunique())
    return alt.layer(bar, tick, data=d).properties(
        width=max(120, (WIDTH - 40 * n_col) // n_col), height=300).facet(
        column=alt.Column(f"{column}:N", sort=list(dict.fromkeys(df[column])), title=None))


def breakdown_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Stacked time per Fig. 12 category for each system and batch, one panel per model.

    Parameters
    ----------
    df : DataFrame
        ``model``, ``bar`` (a label, e.g. ``hermes bs 4``), ``category``, ``time_s``.
    """
    _require(df, ["model", "bar", "category", "time_s"], "breakdown_chart")
    d = rounded(df.assign(time_ms=df["time_s"] / u.MS), sig)
    cats = [c for c in CATEGORY_COLOURS if c in set(d["category"])]
    chart = alt.Chart(d).mark_bar().encode(
        x=alt.X("bar:N", sort=list(dict.fromkeys(d["bar"])), title=None),
        y=alt.Y("time_ms:Q", title="time per generated token (ms)", stack="zero"),
        color=alt.Color("category:N", sort=cats, title=None,
                        scale=alt.Scale(domain=cats, range=[CATEGORY_COLOURS[c] for c in cats])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("bar:N"), alt.Tooltip("category:N"),
                 alt.Tooltip("time_ms:Q", title="ms", format=",.4~g")])
    chart = chart.transform_calculate(
        order=" + ".join(f"(datum.category == '{c}' ? {i} : 0)" for i, c in enumerate(cats)))
    n_col = max(1, d["model"].nunique())
    return chart.properties(width=max(160, (WIDTH - 40 * n_col) // n_col), height=300).facet(
        column=alt.Column("model:N", sort=list(dict.fromkeys(d["model"])), title=None))


# ---------------------------------------------------------------------------------------------
# Partition and predictor
# ---------------------------------------------------------------------------------------------


def curves_chart(df: pd.DataFrame, *, x_title: str, y_title: str,
                 reference: pd.DataFrame | None = None, points: bool = True,
                 sig: int = DEFAULT_SIG) -> alt.LayerChart:
    """Lines of ``y`` against ``x``, one per ``curve`` (titles with units given by the caller).

    Parameters
    ----------
    df : DataFrame
        ``curve``, ``x``, ``y``.
    reference : DataFrame, optional
        Values to mark in black as horizontal rules: ``y``, ``label``.
    points : bool
        Whether to mark the computed points on the lines.
    """
    _require(df, ["curve", "x", "y"], "curves_chart")
    data = rounded(df, sig)
    colour = _curve_colour(df)
    base = alt.Chart(data).encode(
        x=alt.X("x:Q", title=x_title), y=alt.Y("y:Q", title=y_title), color=colour,
        tooltip=[alt.Tooltip("curve:N"), alt.Tooltip("x:Q", format=".4~g"),
                 alt.Tooltip("y:Q", format=".4~g")])
    layers: list[alt.Chart] = [base.mark_line(point=points)]
    if reference is not None and len(reference):
        _require(reference, ["y", "label"], "curves_chart reference")
        ref = alt.Chart(rounded(reference, sig)).encode(y="y:Q")
        layers += [ref.mark_rule(color=REFERENCE_COLOUR, strokeDash=[4, 3])
                   .encode(tooltip=["label:N"]),
                   ref.mark_text(align="left", x=4, dy=-7, color=REFERENCE_COLOUR)
                   .encode(text="label:N")]
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)


def decode_step_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Mean decode step against batch, one line per series, one panel per model (log-log).

    Parameters
    ----------
    df : DataFrame
        ``model``, ``batch``, ``series`` (e.g. ``paper, implied`` or ``model, paper profile``),
        ``step_s``. Rows with a non-positive step are dropped (log axis). The first series is
        drawn in black, the second in grey (the paper's, read two ways), the rest in the
        subsystem palette; at most six series.
    """
    _require(df, ["model", "batch", "series", "step_s"], "decode_step_chart")
    d = rounded(df[df["step_s"] > 0].assign(step_ms=lambda t: t["step_s"] / u.MS), sig)
    series = list(dict.fromkeys(d["series"]))
    palette = [REFERENCE_COLOUR, "#7f7f7f", PALETTE["NDP-DIMM"], PALETTE["PCIe"], PALETTE["GPU"],
               PALETTE["host"]]
    if len(series) > len(palette):
        raise ValueError(f"decode_step_chart: at most {len(palette)} series, got {len(series)}")
    colours = palette[:len(series)]
    chart = alt.Chart(d).mark_line(point=True).encode(
        x=alt.X("batch:Q", scale=alt.Scale(type="log", base=2), title="batch (sequences)",
                axis=alt.Axis(values=sorted(set(d["batch"].astype(float))))),
        y=alt.Y("step_ms:Q", scale=alt.Scale(type="log"), title="mean decode step (ms)"),
        color=alt.Color("series:N", sort=series, scale=alt.Scale(domain=series, range=colours),
                        title=None, legend=alt.Legend(labelLimit=320, columns=2)),
        strokeDash=alt.StrokeDash("series:N", sort=series, legend=None),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("series:N"), alt.Tooltip("batch:Q"),
                 alt.Tooltip("step_ms:Q", title="step (ms)", format=",.4~g")])
    n_col = max(1, d["model"].nunique())
    return chart.properties(width=max(120, (WIDTH - 40 * n_col) // n_col), height=260).facet(
        column=alt.Column("model:N", sort=list(dict.fromkeys(d["model"])), title=None))


# ---------------------------------------------------------------------------------------------
# Scheduling: the Fig. 13 ablation
# ---------------------------------------------------------------------------------------------


def ablation_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Bars of each variant's MLP-block speedup over the first variant, per batch, one panel per
    model.

    Parameters
    ----------
    df : DataFrame
        ``model``, ``batch``, ``variant`` (in display order), ``speedup`` (ratio).
    """
    _require(df, ["model", "batch", "variant", "speedup"], "ablation_chart")
    d = rounded(df.copy(), sig)
    d["batch"] = d["batch"].astype(str)
    variants = list(dict.fromkeys(df["variant"]))
    colours = ["#999999", PALETTE["PCIe"], PALETTE["host"], PALETTE["DIMM-link"], PALETTE["GPU"],
               PALETTE["NDP-DIMM"]][:len(variants)]
    chart = alt.Chart(d).mark_bar().encode(
        x=alt.X("batch:N", title="batch size", sort=list(dict.fromkeys(d["batch"]))),
        xOffset=alt.XOffset("variant:N", sort=variants),
        y=alt.Y("speedup:Q", title="MLP-block speedup over the first variant (×)"),
        color=alt.Color("variant:N", sort=variants, title=None,
                        scale=alt.Scale(domain=variants, range=colours)),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("batch:N"), alt.Tooltip("variant:N"),
                 alt.Tooltip("speedup:Q", format=".3~f")])
    n_col = max(1, d["model"].nunique())
    return chart.properties(width=max(160, (WIDTH - 40 * n_col) // n_col), height=300).facet(
        column=alt.Column("model:N", sort=list(dict.fromkeys(df["model"])), title=None))


def ratio_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG,
                y_title: str = "speedup (×)") -> alt.LayerChart:
    """The model's ratios as bars beside the paper's as black ticks.

    Parameters
    ----------
    df : DataFrame
        ``ratio`` (label, in display order), ``model`` (the model's value), ``paper`` (the
        paper's value).
    y_title : str
        Title of the y axis (lowercase, with its unit).
    """
    _require(df, ["ratio", "model", "paper"], "ratio_chart")
    d = rounded(df.copy(), sig)
    order = list(dict.fromkeys(df["ratio"]))
    x = alt.X("ratio:N", sort=order, title=None, axis=alt.Axis(labelAngle=-20))
    tip = [alt.Tooltip("ratio:N"), alt.Tooltip("model:Q", format=".3~f"),
           alt.Tooltip("paper:Q", format=".3~f")]
    bars = alt.Chart(d).mark_bar(color=PALETTE["NDP-DIMM"]).encode(
        x=x, y=alt.Y("model:Q", title=y_title), tooltip=tip)
    ticks = alt.Chart(d).mark_tick(color=REFERENCE_COLOUR, thickness=3, size=30).encode(
        x=x, y="paper:Q", tooltip=tip)
    rule = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(strokeDash=[4, 3]).encode(y="y:Q")
    return alt.layer(bars, ticks, rule).properties(width=WIDTH, height=300)


# ---------------------------------------------------------------------------------------------
# Sensitivity: bands and the tornado
# ---------------------------------------------------------------------------------------------


def tornado_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.FacetChart:
    """Change of a result when each unknown moves alone to either end of its range, one panel
    per case; parameters sorted by their largest swing over all panels, largest on top.

    Parameters
    ----------
    df : DataFrame
        ``panel`` (a case, e.g. ``LLaMA2-70B, batch 1``), ``parameter``, ``end`` (``low`` or
        ``high``), ``change_frac`` (over the default, minus one).
    """
    _require(df, ["panel", "parameter", "end", "change_frac"], "tornado_chart")
    d = rounded(df.assign(change_pct=100.0 * df["change_frac"]), sig)
    swing = d.groupby("parameter")["change_pct"].apply(lambda s: float(s.abs().max()))
    order = list(swing.sort_values(ascending=False, kind="stable").index)
    ends = ["low", "high"]
    bars = alt.Chart(d).mark_bar(opacity=0.85).encode(
        y=alt.Y("parameter:N", sort=order, title=None),
        x=alt.X("change_pct:Q", title="change of tokens/s from the default (%)"),
        color=alt.Color("end:N", sort=ends, title="end of the range",
                        scale=alt.Scale(domain=ends, range=[PALETTE["PCIe"], PALETTE["GPU"]])),
        yOffset=alt.YOffset("end:N", sort=ends),
        tooltip=[alt.Tooltip("panel:N"), alt.Tooltip("parameter:N"), alt.Tooltip("end:N"),
                 alt.Tooltip("change_pct:Q", title="change (%)", format="+.3~f")])
    rule = alt.Chart(d).mark_rule(color=REFERENCE_COLOUR).encode(x=alt.datum(0))
    n_col = max(1, d["panel"].nunique())
    return alt.layer(bars, rule, data=d).properties(
        width=max(160, (WIDTH - 150 - 30 * n_col) // n_col), height=22 * len(order)).facet(
        column=alt.Column("panel:N", sort=list(dict.fromkeys(df["panel"])), title=None))


def band_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG, label_angle: float = -40,
               label_limit: int | None = None) -> alt.FacetChart:
    """Bands of tokens/s (a bar from low to high), the model's default (a dot) and the paper's
    value (a black tick), log axis, one panel per ``panel``.

    Parameters
    ----------
    df : DataFrame
        ``panel``, ``label`` (x, in display order), ``low``, ``high``, ``default`` and
        ``paper`` (tokens/s; NaN where the paper prints none). Rows without a band are dropped.
    label_angle, label_limit : float, int, optional
        Angle of the x labels (degrees; -90 stands them upright) and their longest length
        (pixels; Vega-Lite's default where None).
    """
    _require(df, ["panel", "label", "low", "high", "default", "paper"], "band_chart")
    d = rounded(df[df["low"] > 0].copy(), sig)
    order = list(dict.fromkeys(d["label"]))
    y_scale = alt.Scale(type="log")
    tip = [alt.Tooltip("panel:N"), alt.Tooltip("label:N"),
           alt.Tooltip("low:Q", format=",.4~g"), alt.Tooltip("default:Q", format=",.4~g"),
           alt.Tooltip("high:Q", format=",.4~g"), alt.Tooltip("paper:Q", format=",.4~g")]
    axis = (alt.Axis(labelAngle=label_angle) if label_limit is None
            else alt.Axis(labelAngle=label_angle, labelLimit=label_limit))
    base = alt.Chart(d).encode(x=alt.X("label:N", sort=order, title=None, axis=axis), tooltip=tip)
    band = base.mark_bar(color=PALETTE["NDP-DIMM"], opacity=0.45, size=12).encode(
        y=alt.Y("low:Q", scale=y_scale, title="throughput (tokens/s)"), y2="high:Q")
    dot = base.mark_point(color=PALETTE["NDP-DIMM"], filled=True).encode(
        y=alt.Y("default:Q", scale=y_scale))
    tick = base.transform_filter("isValid(datum.paper)").mark_tick(
        color=REFERENCE_COLOUR, thickness=3, size=16).encode(y=alt.Y("paper:Q", scale=y_scale))
    n_col = max(1, d["panel"].nunique())
    return alt.layer(band, dot, tick, data=d).properties(
        width=max(140, (WIDTH - 40 * n_col) // n_col), height=300).facet(
        column=alt.Column("panel:N", sort=list(dict.fromkeys(df["panel"])), title=None)
    ).resolve_scale(x="independent")


# ---------------------------------------------------------------------------------------------
# Beyond the paper and the scorecard
# ---------------------------------------------------------------------------------------------

#: Colours of the three policies compared in the what-ifs.
WHATIF_COLOURS: Final[Mapping[str, str]] = {
    "hermes": PALETTE["NDP-DIMM"], "hermes-host": PALETTE["host"], "gpu-only": PALETTE["GPU"]}
#: Colours of the scorecard's verdicts.
VERDICT_COLOURS: Final[Mapping[str, str]] = {
    "holds": "#009E73", "fails": "#D55E00", "not yet modelled": "#E69F00", "input": "#999999"}


def whatif_chart(df: pd.DataFrame, *, sig: int = DEFAULT_SIG) -> alt.Chart:
    """Horizontal bars of tokens/s per what-if (``label``, in display order), one bar per
    ``policy``, log axis; unsupported rows (NaN) are dropped.

    Parameters
    ----------
    df : DataFrame
        ``label``, ``policy``, ``tokens_per_s``.
    """
    _require(df, ["label", "policy", "tokens_per_s"], "whatif_chart")
    d = rounded(df[df["tokens_per_s"] > 0][["label", "policy", "tokens_per_s"]].copy(), sig)
    pols = [p for p in WHATIF_COLOURS if p in set(d["policy"])]
    return alt.Chart(d).mark_bar().encode(
        y=alt.Y("label:N", sort=list(dict.fromkeys(df["label"])), title=None),
        yOffset=alt.YOffset("policy:N", sort=pols),
        x=alt.X("tokens_per_s:Q", scale=alt.Scale(type="log"), stack=None,
                title="throughput (tokens/s)"),
        color=alt.Color("policy:N", sort=pols, title=None,
                        scale=alt.Scale(domain=pols, range=[WHATIF_COLOURS[p] for p in pols])),
        tooltip=[alt.Tooltip("label:N"), alt.Tooltip("policy:N"),
                 alt.Tooltip("tokens_per_s:Q", title="tokens/s", format=",.4~g")],
    ).properties(width=WIDTH - 150, height=alt.Step(9))


def verdict_chart(df: pd.DataFrame) -> alt.Chart:
    """Stacked count of scorecard rows per figure, coloured by verdict.

    Parameters
    ----------
    df : DataFrame
        ``figure`` (in display order), ``verdict`` (a key of :data:`VERDICT_COLOURS`),
        ``rows`` (a count).
    """
    _require(df, ["figure", "verdict", "rows"], "verdict_chart")
    verdicts = [v for v in VERDICT_COLOURS if v in set(df["verdict"])]
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("figure:N", sort=list(dict.fromkeys(df["figure"])), title=None),
        x=alt.X("rows:Q", title="rows of the scorecard", stack="zero"),
        color=alt.Color("verdict:N", sort=verdicts, title=None,
                        scale=alt.Scale(domain=verdicts,
                                        range=[VERDICT_COLOURS[v] for v in verdicts])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("figure:N"), alt.Tooltip("verdict:N"), alt.Tooltip("rows:Q")],
    ).transform_calculate(order=" + ".join(
        f"(datum.verdict == '{v}' ? {i} : 0)" for i, v in enumerate(verdicts))
    ).properties(width=WIDTH - 150, height=alt.Step(22))
