"""What the cost chapter (``book/cost.ipynb``, the paper's Fig. 17) computes for its text.

Hermes against a GPU-only reference per batch (:func:`fig17`, :func:`fig17_glue`), readings of
the paper's TensorRT-LLM deployment on five A100s (:func:`readings`, :func:`readings_glue`) and
tokens/s per dollar (:func:`per_dollar`, :func:`per_dollar_glue`). The chapter loads the specs,
sweeps and tables; these functions turn them into the chapter's tables and glue values (glue key
→ the value as the text prints it). Tokens/s is the paper's metric; bytes and B/s are SI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd

from hermes_model import dram, params, plotting, policies, shapes, sweeps
from hermes_model import scorecard as sc
from hermes_model import units as u
from hermes_model.paper import PAPER
from hermes_model.plotting import formatted, rounded
from hermes_model.policies import Assumptions
from hermes_model.roofline import prose_list
from hermes_model.shapes import ModelSpec
from hermes_model.specs import DimmSpec, GpuSpec, SystemSpec
from hermes_model.units import count_words as words

__all__ = ["GPU_PRICE", "HERMES_PRICE", "NO_PRICE", "PAPER_REFERENCE_LABEL", "REFERENCE_PRICE",
           "Fig17", "Parameters", "Readings", "check_run", "comparison_text",
           "efficiency_table", "fig17", "fig17_glue", "fraction_text", "is_paper_reference",
           "parameters", "per_dollar", "per_dollar_glue", "per_dollar_table", "price_table",
           "range_text", "readings", "readings_glue", "readings_table", "setup_glue", "words"]

#: The chart's name for the paper's reference, whose tokens/s its ratios imply.
PAPER_REFERENCE_LABEL: Final = f"TensorRT-LLM, {sweeps.FIG17_N_GPUS}x A100-40GB (paper, implied)"

#: Slugs in ``catalog/prices.yaml`` of the two systems of Fig. 17 and of the 4090 alone.
HERMES_PRICE: Final = "hermes_system"
REFERENCE_PRICE: Final = "trt_llm_5x_a100_40g"
GPU_PRICE: Final = "rtx_4090"
#: What a per-dollar cell of the model's reference reads where that reference is not the
#: paper's: ``catalog/prices.yaml`` prices only the paper's five-A100 server, and no GPU alone.
NO_PRICE: Final = "n/a"

_ORDINALS: Final = ("", "first", "half", "third", "quarter", "fifth", "sixth", "seventh", "eighth",
                    "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
                    "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
                    "twentieth")
_TENS: Final = {2: "twent", 3: "thirt", 4: "fort", 5: "fift", 6: "sixt", 7: "sevent", 8: "eight",
                9: "ninet"}
_r3 = partial(rounded, sig=3)
_r4 = partial(rounded, sig=4)


def fraction_text(n: float) -> str:
    """One `n`-th in words: ``"a twentieth"`` for 20, ``"an eighth"``, ``"a twenty-second"``.

    Words for a whole `n` from 2 to 99; otherwise ``"1/n"`` with `n` at three significant
    digits (``"1/12.5"``).
    """
    whole = round(n)
    if abs(n - whole) > 1e-9 or not 2 <= whole <= 99:
        return f"1/{rounded(n, 3):g}"
    if whole <= 20:
        word = _ORDINALS[whole]
    elif whole % 10 == 0:
        word = _TENS[whole // 10] + "ieth"
    else:
        word = _TENS[whole // 10] + "y-" + _ORDINALS[whole % 10].replace(
            "half", "second").replace("quarter", "fourth")
    return ("an " if word[0] in "aeiou" else "a ") + word


# --------------------------------------------------------------------------------- setup


class Parameters(NamedTuple):
    """The chapter's parameters, checked (unpack them in this order)."""

    profile: str
    batches: list[int]
    reference_gpu: str
    reference_n_gpus: int
    prompt_len: int
    gen_len: int


def parameters(profile: Any, batches: Any, reference_gpu: Any, reference_n_gpus: Any,
               prompt_len: Any, gen_len: Any) -> Parameters:
    """The chapter's parameters checked by `hermes_model.params`, each error naming its
    parameter: the profile, the batches sorted, the GPU as a catalog slug, positive counts."""
    return Parameters(params.profile(profile), params.int_list(batches, "batches"),
                      params.gpu(reference_gpu, "reference_gpu"),
                      params.positive_int(reference_n_gpus, "reference_n_gpus"),
                      params.positive_int(prompt_len, "prompt_len"),
                      params.positive_int(gen_len, "gen_len"))


def check_run(model: ModelSpec, reference: SystemSpec, paper17: pd.DataFrame,
              batches: Sequence[int], *, prompt_len: int, gen_len: int) -> list[int]:
    """Refuse a run the chapter cannot compare; return the batches the paper gives.

    `batches` must include one of the paper's (`paper17`, indexed by ``batch``), the run must fit
    the model's context, and the `reference` must run GPU only at the first of the paper's
    batches shown (and so at every smaller one). Each error names the parameters to change.
    """
    paper_bs = [b for b in batches if b in paper17.index]
    if not paper_bs:
        raise ValueError(f"parameter 'batches': must include one of the paper's batches "
                         f"{', '.join(map(str, paper17.index))}, got {list(batches)!r}")
    params.context([model], prompt_len, gen_len)
    first = policies.estimate(policies.Policy.GPU_ONLY, model, reference, batch=paper_bs[0],
                              prompt_len=prompt_len, gen_len=gen_len)
    if not first.supported:
        raise ValueError(f"parameters 'reference_gpu' and 'reference_n_gpus': {reference.n_gpus} x "
                         f"{reference.gpu.slug} cannot run {model.name} at batch {paper_bs[0]} "
                         f"({first.reason}); choose more GPUs or GPUs with more memory")
    return paper_bs


def is_paper_reference(reference: SystemSpec) -> bool:
    """Whether `reference` is the paper's: five A100-40GB-SXM4 (``sweeps.FIG17_GPU``)."""
    return (reference.gpu.slug, reference.n_gpus) == (sweeps.FIG17_GPU, sweeps.FIG17_N_GPUS)


def comparison_flags(reference: SystemSpec, *, prompt_len: int, gen_len: int) -> dict[str, bool]:
    """Which of the chapter's comparisons with the paper are like for like: ``paper_lengths``
    (the paper's 128/128 run) and ``paper_reference`` (:func:`is_paper_reference`).

    >>> from hermes_model import io
    >>> ref = io.load_system("hermes_paper", "paper", gpu="a100_40g_sxm4", n_gpus=8)
    >>> comparison_flags(ref, prompt_len=128, gen_len=32)
    {'paper_lengths': False, 'paper_reference': False}
    """
    return {"paper_lengths": sc.paper_lengths(prompt_len, gen_len),
            "paper_reference": is_paper_reference(reference)}


def comparison_text(reference: SystemSpec, *, prompt_len: int, gen_len: int) -> str:
    """Whether the chapter's comparisons with the paper are like for like: the lengths
    (:func:`hermes_model.scorecard.lengths_text`) and the reference's GPUs.

    >>> from hermes_model import io
    >>> ref = io.load_system("hermes_paper", "paper", gpu="a100_40g_sxm4", n_gpus=8)
    >>> comparison_text(ref, prompt_len=128, gen_len=128)[:58]
    'The reference here is eight NVIDIA A100 40GB SXM4 GPUs, no'
    """
    paper_ref, like = is_paper_reference(reference), sc.paper_lengths(prompt_len, gen_len)
    gpus = u.plural(reference.n_gpus, f"{reference.gpu.name} GPU", count=words(reference.n_gpus))
    ref = (f"The reference here is {gpus}, not the "
           "paper's five A100-40GB: the paper's ratios, and the reference tokens/s they imply, "
           "are for other hardware, so the comparisons with them below are not like for like, "
           "and the model's reference has no sourced price.")
    if like:
        return sc.lengths_text(prompt_len, gen_len) if paper_ref else ref
    return sc.lengths_text(prompt_len, gen_len) + ("" if paper_ref else " " + ref)


def _unlike_why(f: Fig17) -> str | None:
    """Why the comparisons of `f` with the paper are not like for like (None: they are)."""
    why = ([] if f.paper_lengths else ["other lengths"]) + (
        [] if f.paper_reference else ["another reference"])
    return " and ".join(why) + " than the paper's" if why else None


def _price(prices: pd.DataFrame, slug: str) -> float:
    return float(prices.loc[slug, "price_usd"])


def setup_glue(prices: pd.DataFrame, paper17: pd.DataFrame, reference: SystemSpec,
               profile: str) -> dict[str, object]:
    """The introduction's glue values: the two system prices (``"$2,500"``), the batches and
    percentages of the two ratios §V-F states, the batches whose ratio is read from the figure,
    the `reference` system's GPU count in words and GPU name, and `profile` (``profile_name``).

    `prices` is ``io.load_prices()`` indexed by ``slug``; `paper17` the paper's Fig. 17 table
    indexed by ``batch``.
    """
    out: dict[str, object] = {
        "price_hermes_txt": f"${_price(prices, HERMES_PRICE):,.0f}",
        "price_ref_txt": f"${_price(prices, REFERENCE_PRICE):,.0f}"}
    stated = paper17.loc[paper17["kind"] == "stated", "efficiency"]
    for key, b in (("lo", stated.index.min()), ("hi", stated.index.max())):
        out[f"paper_stated_bs_{key}"] = int(b)
        out[f"paper_stated_eff_{key}_pct"] = rounded(100 * float(stated[b]), 12)
    out["paper_inferred_bs"] = prose_list(
        [str(b) for b in paper17.index[paper17["kind"] == "inferred"]])
    out["n_ref"] = words(reference.n_gpus)
    out["n_ref_cap"] = words(reference.n_gpus).capitalize()
    out["ref_gpu_name"] = reference.gpu.name
    out["profile_name"] = profile
    return out


# ---------------------------------------------------------------------------- Fig. 17


@dataclass(frozen=True, eq=False)
class Fig17:
    """Fig. 17, model beside paper, for one profile (see :func:`fig17`).

    Attributes
    ----------
    profile, other : str
        The chapter's profile and the other one.
    batches : list of int
        The batches of the sweep (sequences), in its order.
    model : DataFrame
        `sweeps.cost_sweep` under `profile` (``batch``, ``hermes_tokens_per_s``,
        ``reference_tokens_per_s``, ``efficiency``).
    known : DataFrame
        The paper's Fig. 17 row for each batch (NaN where it gives none), indexed by batch.
    frame : DataFrame
        Tidy tokens/s of both systems, both profiles and the paper (``system``, ``batch``,
        ``series``, ``tokens_per_s``) for `plotting.model_vs_paper_chart`.
    eff : DataFrame
        Per batch: the ratio of the paper, the model under both profiles, their differences,
        and each system's tokens/s of the paper over the model's.
    unsupported : DataFrame
        Where `eff` is N.P.: the model's Hermes or reference cannot run.
    runs, paper_runs : tuple of int
        The batches where both of the model's systems run, and those of them where the paper
        gives a value too (every comparison with the paper is made at the latter).
    paper_lengths, paper_reference : bool
        The run uses the paper's lengths (128 and 128 tokens) and its reference (five
        A100-40GB); otherwise the comparisons with the paper are not like for like.
    """

    profile: str
    other: str
    batches: list[int]
    model: pd.DataFrame
    known: pd.DataFrame
    frame: pd.DataFrame
    eff: pd.DataFrame
    unsupported: pd.DataFrame
    runs: tuple[int, ...]
    paper_runs: tuple[int, ...]
    paper_lengths: bool = True
    paper_reference: bool = True

    @property
    def hermes_model(self) -> pd.Series:
        """The model's Hermes tokens/s by batch."""
        return pd.Series(self.model["hermes_tokens_per_s"].to_numpy(), index=self.batches)

    @property
    def hermes_paper(self) -> pd.Series:
        """The paper's Hermes tokens/s by batch (Fig. 11; NaN where it gives none)."""
        return self.known["hermes_tokens_per_s"]

    @property
    def ratios(self) -> pd.DataFrame:
        """The ratios of model and paper per batch for `plotting.ratio_chart`."""
        return pd.DataFrame({"ratio": "batch " + self.eff["batch"].astype(str),
                             "model": self.eff["model"], "paper": self.eff["paper"]})


def fig17(cost: Mapping[str, pd.DataFrame], paper17: pd.DataFrame, *, profile: str,
          reference_label: str, paper_lengths: bool = True,
          paper_reference: bool = True) -> Fig17:
    """Fig. 17 from `sweeps.cost_sweep` under both profiles and the paper's values.

    Parameters
    ----------
    cost : mapping of str to DataFrame
        `sweeps.cost_sweep` per profile (``paper`` and ``datasheet``), over the same batches.
    paper17 : DataFrame
        The paper's Fig. 17 (``data/paper/fig17.csv``) indexed by ``batch``.
    profile : str
        The chapter's profile; the other one is shown beside it.
    reference_label : str
        The reference system's name in the figure.
    paper_lengths, paper_reference : bool
        Whether the run uses the paper's lengths and reference (see `Fig17`).
    """
    other = next(p for p in cost if p != profile)
    c = cost[profile]
    batches = [int(b) for b in c["batch"]]
    known = paper17.reindex(batches)
    rows = [pd.DataFrame({"system": name, "batch": cost[p]["batch"],
                          "series": f"model, {p} profile", "tokens_per_s": cost[p][col]})
            for p in cost
            for col, name in (("hermes_tokens_per_s", "Hermes"),
                              ("reference_tokens_per_s", reference_label))]
    # the paper's reference is five A100-40GB: beside another reference it gets its own panel
    paper_ref = reference_label if paper_reference else PAPER_REFERENCE_LABEL
    rows += [pd.DataFrame({"system": name, "batch": batches, "series": "paper",
                           "tokens_per_s": known[col].to_numpy()})
             for col, name in (("hermes_tokens_per_s", "Hermes"),
                               ("trt_tokens_per_s", paper_ref))]
    frame = pd.concat(rows, ignore_index=True).dropna(subset=["tokens_per_s"])
    eff = pd.DataFrame({"batch": c["batch"], "paper": known["efficiency"].to_numpy(),
                        "model": c["efficiency"], f"model ({other})": cost[other]["efficiency"]})
    eff["model - paper (points)"] = 100 * (eff["model"] - eff["paper"])
    eff["model / paper - 1 (%)"] = 100 * (eff["model"] / eff["paper"] - 1)
    eff["paper Hermes / model Hermes"] = (known["hermes_tokens_per_s"].to_numpy()
                                          / c["hermes_tokens_per_s"])
    eff["paper reference / model reference"] = (known["trt_tokens_per_s"].to_numpy()
                                                / c["reference_tokens_per_s"])
    # cost_sweep gives NaN tokens/s where a system cannot run
    h_np, r_np = c["hermes_tokens_per_s"].isna(), c["reference_tokens_per_s"].isna()
    other_np = cost[other][["hermes_tokens_per_s", "reference_tokens_per_s"]].isna().any(axis=1)
    unsupported = pd.DataFrame({"model": h_np | r_np, "model - paper (points)": h_np | r_np,
                                f"model ({other})": other_np,
                                "model / paper - 1 (%)": h_np | r_np,
                                "paper Hermes / model Hermes": h_np,
                                "paper reference / model reference": r_np})
    runs = tuple(b for b, m in zip(batches, eff["model"], strict=True) if np.isfinite(m))
    paper_runs = tuple(b for b in runs if np.isfinite(known.loc[b, "efficiency"]))
    if not paper_runs:
        raise ValueError("fig17: no batch where both of the model's systems run and the paper "
                         "gives a value")
    return Fig17(profile=profile, other=other, batches=batches, model=c, known=known,
                 frame=frame, eff=eff, unsupported=unsupported, runs=runs, paper_runs=paper_runs,
                 paper_lengths=paper_lengths, paper_reference=paper_reference)


def efficiency_table(f: Fig17) -> pd.DataFrame:
    """`Fig17.eff` for display: ratios at three decimals, the differences in points and per
    cent, N.P. where the model cannot run, "—" where the paper gives no value."""
    return formatted(f.eff, {"paper": ".3f", "model": ".3f", f"model ({f.other})": ".3f",
                             "model - paper (points)": "+.1f", "model / paper - 1 (%)": "+.0f",
                             "paper Hermes / model Hermes": ".2f",
                             "paper reference / model reference": ".2f"},
                     unsupported=f.unsupported)


def _paper_at(f: Fig17, b: int) -> str:
    """The paper's ratio at batch `b`, or words where it gives none."""
    return (f"paper {f.known.loc[b, 'efficiency']:.3f}" if b in f.paper_runs
            else "the paper gives no value there")


def _hermes_trend(f: Fig17, dimm: DimmSpec) -> str:
    """How each Hermes grows with the batch, and how the ratios fall, where the paper has
    values."""
    e, h_model, h_paper = f.eff.set_index("batch"), f.hermes_model, f.hermes_paper
    b1, pb0, pb1 = f.runs[-1], f.paper_runs[0], f.paper_runs[-1]
    g_model, g_paper = _r3(h_model[pb1] / h_model[pb0]), _r3(h_paper[pb1] / h_paper[pb0])
    peak = int(h_model[list(f.runs)].idxmax())
    falls_faster = (e.loc[pb1, "model"] / e.loc[pb0, "model"]
                    < e.loc[pb1, "paper"] / e.loc[pb0, "paper"])
    growth = (f"From batch {pb0} to batch {pb1} the model's Hermes gains {g_model:.2f}× and the "
              f"paper's {g_paper:.2f}×." if pb0 < pb1 else
              f"The paper gives a value only at batch {pb0} of the batches shown.")
    peak_txt = (f"The model's is fastest at batch {peak}: at large batches its DIMMs turn "
                f"compute-bound ({dimm.ndp_cycles_per_op:.0f}-cycle bit-serial multipliers, every "
                "needed neuron computed for every sequence), while the paper's Hermes keeps "
                "growing." if peak < b1 else
                f"The model's is fastest at the largest batch shown, {b1}.")
    behind = _r3(h_paper[pb1] / h_model[pb1])
    trend = (f"At batch {pb1} the paper's Hermes is {behind:.2f}× the model's"
             + (f", and the model's ratio falls {'faster' if falls_faster else 'more slowly'} "
                "with the batch than the paper's." if pb0 < pb1 else "."))
    return f"{growth} {peak_txt} {trend}"


def _summary_ratios(f: Fig17) -> str:
    """The summary's sentence on the two ratios."""
    e, h_model, h_paper = f.eff.set_index("batch"), f.hermes_model, f.hermes_paper
    b0, b1, pb0, pb1 = f.runs[0], f.runs[-1], f.paper_runs[0], f.paper_runs[-1]
    if len(f.runs) == 1:
        text = f"At batch {b0} the model's ratio is {_r3(e.loc[b0, 'model']):.2f}"
    else:
        g_model, g_paper = _r3(h_model[b1] / h_model[b0]), _r3(h_paper[pb1] / h_paper[pb0])
        text = (f"From batch {b0} to {b1} the model's Hermes gains {g_model:.2f}×"
                + (f" where the paper's gains {g_paper:.2f}×" if (pb0, pb1) == (b0, b1) else "")
                + f", so the model's ratio goes from {_r3(e.loc[b0, 'model']):.2f} to "
                f"{_r3(e.loc[b1, 'model']):.2f}")
    if (pb0, pb1) == (b0, b1) and pb0 < pb1:
        return text + f" (the paper's from {e.loc[pb0, 'paper']:.3f} to {e.loc[pb1, 'paper']:.3f})."
    if pb0 < pb1:
        return text + (f"; the paper's goes from {e.loc[pb0, 'paper']:.3f} at batch {pb0} to "
                       f"{e.loc[pb1, 'paper']:.3f} at batch {pb1}.")
    return text + f"; the paper's is {e.loc[pb0, 'paper']:.3f} at batch {pb0}."


def _summary_match(f: Fig17, tol: float) -> str:
    """The summary's first sentences: at which batches the model's ratio lies within `tol`
    (a fraction, the scorecard's) of the paper's, and why, from the two systems' errors."""
    e = f.eff.set_index("batch").loc[list(f.paper_runs)]
    err = e["model"] / e["paper"] - 1
    pct = round(100 * tol)
    ok = [int(b) for b in e.index if abs(err[b]) <= tol]
    miss = [int(b) for b in e.index if abs(err[b]) > tol]
    h_x = 1 / e["paper Hermes / model Hermes"]  # the model's Hermes over the paper's
    r_x = 1 / e["paper reference / model reference"]  # the model's reference over the paper's
    both_fall = len(e) > 1 and bool((np.diff(e["model"]) < 0).all()
                                    and (np.diff(e["paper"]) < 0).all())
    lead = ("The model's ratio falls with the batch, as the paper's does; it " if both_fall
            else "The model's ratio ")

    why = _unlike_why(f)
    if why:
        lead = f"Not like for like ({why}): " + lead[0].lower() + lead[1:]

    def at(bs: list[int]) -> str:
        return f"batch{'es' if len(bs) > 1 else ''} {prose_list(bs)}"

    def span(v: pd.Series) -> str:  # least to greatest, two decimals
        return u.span_text(float(v.min()), float(v.max()))

    if not ok:
        return (lead + f"misses the paper's by more than ±{pct} % at every batch where the "
                f"paper gives one ({at(miss)}).")
    text = lead + f"lies within ±{pct} % of the paper's at {at(ok)}"
    text += f" and misses it at {at(miss)}." if miss else "."
    if (h_x[ok] > 1).all() and (r_x[ok] > 1).all():
        text += (f" Where it matches, two errors cancel: the model's Hermes is {span(h_x[ok])}× "
                 f"as fast as the paper's there, and its reference {span(r_x[ok])}× as fast as "
                 "the one the paper's ratios imply.")
    if miss:
        text += (f" At {at(miss)} the model's Hermes is "
                 f"{prose_list([f'{h_x[b]:.2f}×' for b in miss])} the paper's, while its "
                 f"reference stays {span(r_x[miss])}× as fast.")
    return text


def fig17_glue(f: Fig17, model: ModelSpec, dimm: DimmSpec) -> dict[str, object]:
    """The glue values of the text after Fig. 17 and of the summary's sentence on the ratios.

    The ratios at the first and last batch where the model runs, the batches it cannot run,
    how far the model's reference is from the one the paper's ratios imply, how the model's
    Hermes compares with the paper's, and `dimm`'s bandwidth (GB/s, after its efficiency) on
    chunks of one row of `model` in fp16; ``summary_match_txt``, the batches where the model's
    ratio lies within the scorecard's ±35 % of the paper's, and why; ``fig17_ticks_txt``, what
    the chart's ticks of the reference are (the paper's five A100-40GB whatever this run's).
    """
    e, h_model, h_paper = f.eff.set_index("batch"), f.hermes_model, f.hermes_paper
    b0, b1, pb0 = f.runs[0], f.runs[-1], f.paper_runs[0]
    not_run = [b for b in f.batches if b not in f.runs]
    ref_x = 1 / e.loc[list(f.paper_runs), "paper reference / model reference"]
    fast_pct = 100 * (h_model[pb0] / h_paper[pb0] - 1)
    h_fast = _r3((h_model / h_paper).max())
    dimm_bw = dram.dimm_bandwidth_bytes_per_s(
        dimm, pattern="chunks", chunk_bytes=model.d_model * shapes.dtype_bytes("fp16"))
    last = (f" and {_r3(e.loc[b1, 'model']):.3f} at batch {b1} ({_paper_at(f, b1)})"
            if b1 != b0 else "")
    np_txt = (f"; at batch{'es' if len(not_run) > 1 else ''} {prose_list(not_run)} the model "
              "cannot run (N.P.)" if not_run else "")
    return {
        "bs_first": b0, "bs_last": b1, "paper_bs_first": pb0,
        "eff_bs1": _r3(e.loc[b0, "model"]), "eff_bslast": _r3(e.loc[b1, "model"]),
        "paper_eff_first": float(e.loc[pb0, "paper"]),
        "eff_txt": (f"In the model Hermes reaches {_r3(e.loc[b0, 'model']):.3f} of the reference "
                    f"at batch {b0} ({_paper_at(f, b0)})" + last + "."),
        "table_txt": "The table gives every batch with the error" + np_txt + ".",
        "fig17_ticks_txt": ("the reference's tokens/s implied by the paper's ratios"
                            if f.paper_reference else
                            "the tokens/s of the paper's reference, TensorRT-LLM on "
                            f"{words(sweeps.FIG17_N_GPUS)} A100-40GB, implied by its ratios"
                            "; a panel of its own, as this run's reference is other GPUs"),
        "ref_over_paper_med": _r3(np.nanmedian(ref_x)),
        "ref_range_txt": range_text(ref_x.to_numpy(), pb0)
        + ("" if f.paper_reference else "; not like for like: other GPUs than the paper's"),
        "h_bs1_diff_pct": _r3(abs(fast_pct)),
        "h_bs1_word": ("faster" if fast_pct >= 0 else "slower") + " than the paper's" + (
            "" if f.paper_lengths else
            f" (which is for {PAPER.prompt_len} prompt and {PAPER.gen_len} generated tokens, "
            "not this run's lengths)"),
        "h_fast_txt": (f"up to {h_fast:.2f}× as fast" if h_fast >= 1
                       else f"at most {h_fast:.2f}× as fast"),
        "cancel_txt": "partly or wholly cancels" if h_fast >= 1 else "adds to",
        "dimm_bw_gbs": _r3(float(dimm_bw) * dimm.efficiency.bandwidth_frac / u.GB),
        "hermes_trend_txt": _hermes_trend(f, dimm),
        "summary_ratios_txt": _summary_ratios(f),
        "summary_match_txt": _summary_match(f, sc.TOLERANCES["rel_35"])}


def range_text(ratios: np.ndarray, batch: int) -> str:
    """The spread of the model's reference over the paper's implied one (`ratios`, one per
    batch where the paper gives a value; `batch` the first), two decimals, one value where
    every ratio prints alike (``units.span_text``).

    >>> range_text(np.array([0.5, 2.0]), 1), range_text(np.array([1.757, 1.762]), 1)
    ('median; 0.50× to 2.00× over the batches', 'median; 1.76× at both batches')
    >>> range_text(np.array([1.76]), 4)
    'at batch 4, the only batch shown where the paper gives a value'
    """
    if len(ratios) < 2:
        return f"at batch {batch}, the only batch shown where the paper gives a value"
    lo, hi = _r3(float(np.min(ratios))), _r3(float(np.max(ratios)))
    span = u.span_text(lo, hi, ".2f", "×")
    if "–" in span:
        return f"median; {lo:.2f}× to {hi:.2f}× over the batches"
    return f"median; {span} at {'both' if len(ratios) == 2 else f'all {len(ratios)}'} batches"


# ----------------------------------------------------------------- the paper's reference


@dataclass(frozen=True, eq=False)
class Readings:
    """Readings of the paper's reference deployment (see :func:`readings`).

    Attributes
    ----------
    table : DataFrame
        tokens/s per deployment (rows) and batch (columns), with the paper's implied reference
        as the last row.
    ratio_to_paper : DataFrame
        `table` over the paper's implied reference, batch by batch.
    unsupported : DataFrame
        Where a deployment cannot run (N.P.).
    n_gpus, n_div : int
        The paper's GPU count, and the largest count up to it that divides both head counts.
    weight_bytes : float
        The model's fp16 weights (bytes).
    peak_tokens_per_s, attained_tokens_per_s : float
        The decode bound at batch 1 over `n_gpus` GPUs at peak and at attained bandwidth.
    need_bytes, have_bytes : float
        Weights plus the KV cache of the largest batch, and the memory of `n_div` GPUs after
        the workspace.
    paper_batch1_tokens_per_s : float
        The reference's tokens/s at batch 1 that the paper's ratio implies.
    """

    table: pd.DataFrame
    ratio_to_paper: pd.DataFrame
    unsupported: pd.DataFrame
    n_gpus: int
    n_div: int
    weight_bytes: float
    peak_tokens_per_s: float
    attained_tokens_per_s: float
    need_bytes: float
    have_bytes: float
    paper_batch1_tokens_per_s: float


def readings(dep: pd.DataFrame, paper17: pd.DataFrame, model: ModelSpec, gpu: GpuSpec, *,
             batches: Sequence[int], prompt_len: int, gen_len: int,
             options: Assumptions | None = None) -> Readings:
    """The readings of `sweeps.deployment_sweep` (`dep`, over `batches`) beside the paper.

    Parameters
    ----------
    dep : DataFrame
        `sweeps.deployment_sweep` of `model` on the paper's GPUs `gpu`.
    paper17 : DataFrame
        The paper's Fig. 17 indexed by ``batch`` (its ``trt_tokens_per_s``).
    model : ModelSpec
        The model of `dep` (its weights and KV cache).
    gpu : GpuSpec
        One of the reference's GPUs.
    batches : sequence of int
        The batches of `dep` (sequences).
    prompt_len, gen_len : int
        Tokens per sequence, for the KV cache of the largest batch.
    options : Assumptions, optional
        For the GPUs' workspace share (default `policies.Assumptions()`).

    Notes
    -----
    The decode bound is :math:`b\\,N\\,W_\\mathrm{GPU}/S` (`sweeps.decode_roofline_tokens_per_s`).
    """
    table = dep.pivot_table(index="deployment", columns="batch", values="tokens_per_s",
                            sort=False, dropna=False)
    implied = paper17.reindex(batches)["trt_tokens_per_s"]
    table.loc["paper (implied by its ratios)"] = implied.to_numpy()
    # every tensor-parallel reading on NVLink: over the paper's count and over its divisor
    tp = dep.loc[dep["deployment"].str.startswith("tensor parallel")
                 & dep["deployment"].str.endswith(", NVLink")]
    n_gpus, n_div = int(tp["n_gpus"].max()), int(tp["n_gpus"].min())
    weights = shapes.weight_bytes(model, "fp16")
    kv = shapes.kv_cache_bytes_per_token(model, "fp16")
    workspace = (options or Assumptions()).gpu_workspace_frac
    return Readings(
        table=table, ratio_to_paper=table.div(implied.to_numpy(), axis=1),
        unsupported=~dep.set_index(["deployment", "batch"])["supported"].unstack(),
        n_gpus=n_gpus, n_div=n_div, weight_bytes=weights,
        peak_tokens_per_s=float(sweeps.decode_roofline_tokens_per_s(
            weights, gpu.memory_bandwidth_bytes_per_s, n_gpus=n_gpus)),
        attained_tokens_per_s=float(sweeps.decode_roofline_tokens_per_s(
            weights, gpu.achievable_bandwidth_bytes_per_s, n_gpus=n_gpus)),
        need_bytes=weights + max(batches) * (prompt_len + gen_len) * kv,
        have_bytes=n_div * gpu.memory_bytes * (1 - workspace),
        paper_batch1_tokens_per_s=float(paper17.loc[1, "trt_tokens_per_s"]))


def readings_table(r: Readings) -> pd.DataFrame:
    """`Readings.table` for display: tokens/s at one decimal, N.P. where a deployment cannot
    run, "—" where the paper implies no reference for a batch."""
    return formatted(r.table.rename_axis(columns="tokens/s at batch"),
                     {str(b): ".1f" for b in r.table.columns}, unsupported=r.unsupported)


def readings_glue(r: Readings, dep: pd.DataFrame, f: Fig17, model: ModelSpec,
                  gpu: GpuSpec, reference: SystemSpec | None = None) -> dict[str, object]:
    """The glue values of the section on the paper's reference: the bandwidth bound, each
    reading against the paper's implied reference (median over the batches where the paper
    gives a value), the divisor's memory, the cost of PCIe, and the paper's Hermes against the
    model's tensor-parallel reference at the first of the paper's batches.

    ``own_ratio_txt`` names the reference of the model's own ratio: the paper's GPUs `gpu` run
    tensor parallel; where the chapter's `reference` is another, its ratio (Fig. 17's table)
    follows in parentheses."""
    t = dep.set_index(["deployment", "batch"])["tokens_per_s"]
    tp_n, tp_div = (t[f"tensor parallel x{k}, NVLink"] for k in (r.n_gpus, r.n_div))
    pcie_cost = 100 * (1 - t[f"tensor parallel x{r.n_gpus}, PCIe"] / tp_n)
    pp = r.ratio_to_paper.loc[f"pipeline x{r.n_gpus}, one batch in flight"]
    tp_x = r.ratio_to_paper.loc[f"tensor parallel x{r.n_gpus}, NVLink"]
    divides = r.n_div == r.n_gpus
    pb0 = f.paper_runs[0]
    paper_ref1 = r.paper_batch1_tokens_per_s
    h_paper, h_model = float(f.hermes_paper[pb0]), float(f.hermes_model[pb0])
    return {
        "roof_peak": _r4(r.peak_tokens_per_s), "roof_attained": _r4(r.attained_tokens_per_s),
        "weights_gb": _r4(r.weight_bytes / u.GB),
        "gpu_bw": _r4(gpu.memory_bandwidth_bytes_per_s / u.GB),
        "paper_ref_bs1": paper_ref1,
        "paper_ref_share": _r4(100 * paper_ref1 / r.peak_tokens_per_s),
        "tp_over_paper_med": _r3(np.nanmedian(tp_x)),
        "pp_over_paper": _r4(np.nanmedian(pp)),
        "paper_over_tp": _r4(1 / np.nanmedian(tp_x)),
        "over_batches_txt": ("median over the batches" if len(f.paper_runs) > 1
                             else f"at batch {pb0}"),
        "n_div": r.n_div, "n_heads": model.n_heads, "n_kv_heads": model.n_kv_heads,
        "bs_max": max(f.batches),
        "tp_build_txt": ("a" if divides else "not a") + " deployment TensorRT-LLM can build",
        "div_same": "the count itself" if divides else f"{words(r.n_gpus - r.n_div)} fewer",
        "div_need_gib": _r4(r.need_bytes / u.GiB), "div_have_gib": _r4(r.have_bytes / u.GiB),
        "div_fits": "it fits" if r.need_bytes <= r.have_bytes else "it does not fit",
        # the paper's Hermes over the model's reference (tensor parallel over the paper's GPUs)
        "ref_model_first": _r4(float(tp_n[pb0])),
        "paper_h_first": h_paper,
        "paper_h_over_tp_first": _r4(h_paper / float(tp_n[pb0])),
        "own_ratio_first": _r3(h_model / float(tp_n[pb0])),
        "own_ratio_txt": (f"the model's own ratio, its Hermes over {words(r.n_gpus)} {gpu.name} "
                          f"GPUs run tensor parallel, is {_r3(h_model / float(tp_n[pb0])):.2f}"
                          + ("" if reference is None or is_paper_reference(reference) else
                             f" (over this chapter's reference, {words(reference.n_gpus)} "
                             f"{reference.gpu.name} GPUs, it is "
                             f"{_r3(float(f.eff.set_index('batch').loc[pb0, 'model'])):.2f}, "
                             "as in the table of Fig. 17)")),
        "tp_div_share_pct": _r4(100 * tp_div[pb0] / tp_n[pb0]),
        "pcie_cost_txt": " to ".join(dict.fromkeys(
            f"{v:.0f} %" for v in (pcie_cost.min(), pcie_cost.max())))}


# ---------------------------------------------------------------------- per dollar


def price_table(prices: pd.DataFrame) -> pd.DataFrame:
    """The prices with their sources for display (``system``, ``price (USD)``, ``source``);
    `prices` is ``io.load_prices()`` indexed by ``slug``."""
    return formatted(prices.reset_index()[["name", "price_usd", "source"]].rename(
        columns={"name": "system", "price_usd": "price (USD)"}),
        {"price (USD)": ",.0f"}).set_index("system")


def per_dollar(f: Fig17, prices: pd.DataFrame) -> pd.DataFrame:
    """Tokens/s per $1,000 of both systems, model and paper, and Hermes over the reference.

    :math:`1000\\,T/\\mathrm{price}` with the two system prices of `prices` (indexed by
    ``slug``). The reference's price is the paper's, of its five-A100 server: where the model's
    reference is another (`Fig17.paper_reference` false), nothing in `prices` prices it, and its
    columns are NaN (:data:`NO_PRICE` in `per_dollar_table`).
    """
    p_h, p_r = _price(prices, HERMES_PRICE), _price(prices, REFERENCE_PRICE)
    p_model_ref = p_r if f.paper_reference else np.nan
    c, known = f.model, f.known
    per_k = pd.DataFrame({
        "batch": c["batch"],
        "Hermes, model": 1000 * c["hermes_tokens_per_s"] / p_h,
        "reference, model": 1000 * c["reference_tokens_per_s"] / p_model_ref,
        "Hermes, paper": 1000 * known["hermes_tokens_per_s"].to_numpy() / p_h,
        "reference, paper": 1000 * known["trt_tokens_per_s"].to_numpy() / p_r})
    per_k["Hermes / reference, model"] = per_k["Hermes, model"] / per_k["reference, model"]
    per_k["Hermes / reference, paper"] = per_k["Hermes, paper"] / per_k["reference, paper"]
    return per_k


def per_dollar_table(f: Fig17, per_k: pd.DataFrame) -> pd.DataFrame:
    """`per_dollar` for display at two decimals, N.P. where the model's system cannot run,
    :data:`NO_PRICE` where the model's reference has no sourced price."""
    h_np = f.model["hermes_tokens_per_s"].isna()
    r_np = f.model["reference_tokens_per_s"].isna()
    out = formatted(per_k, {col: ".2f" for col in per_k.columns if col != "batch"},
                    unsupported=pd.DataFrame({"Hermes, model": h_np, "reference, model": r_np,
                                              "Hermes / reference, model": h_np | r_np}))
    if not f.paper_reference:
        for col in ("reference, model", "Hermes / reference, model"):
            out[col] = out[col].where(out[col] == plotting.NOT_POSSIBLE, NO_PRICE)
    return out


def per_dollar_glue(f: Fig17, per_k: pd.DataFrame, prices: pd.DataFrame) -> dict[str, object]:
    """The glue values of the per-dollar section: the price ratio (and as a fraction in
    words), the 4090's share of Hermes' price, Hermes' lead per dollar at the first and last
    batch the model runs, and the price ratio above which Hermes stays ahead at every batch
    (one over the model's lowest ratio)."""
    p_h, p_r = _price(prices, HERMES_PRICE), _price(prices, REFERENCE_PRICE)
    b0, b1, pb1 = f.runs[0], f.runs[-1], f.paper_runs[-1]
    priced = f.paper_reference
    ahead = per_k["Hermes / reference, model"]
    ahead_at = ahead.set_axis(f.batches)
    breakeven = float(1 / f.eff["model"].min())
    paper_ahead = rounded(float(per_k["Hermes / reference, paper"].set_axis(f.batches)[pb1]), 3)
    pd_first, pd_last = (rounded(float(ahead_at[b]), 3) for b in (b0, b1))
    return {
        "price_ratio": rounded(p_r / p_h, 3),
        "price_fraction_txt": fraction_text(p_r / p_h),
        "gpu_share_pct": rounded(100 * _price(prices, GPU_PRICE) / p_h, 3),
        "perdollar_txt": ((f"Hermes delivers {pd_first:.1f}× the reference's tokens/s per dollar "
                           f"at batch {b0} in the model"
                           + (f" and {pd_last:.1f}× at batch {b1}" if b1 != b0 else "")
                           + f" (the paper's numbers give {paper_ahead:.1f}× "
                           + ("there" if pb1 == b1 else f"at batch {pb1}") + ")")
                          if priced else
                          f"the paper's numbers give Hermes {paper_ahead:.1f}× the reference's "
                          f"tokens/s per dollar at batch {pb1}; the model's per-dollar values for "
                          f"its reference are {NO_PRICE} (no sourced price: the only reference "
                          "price is the paper's, of its five A100-40GB server)"),
        "breakeven_ratio": rounded(breakeven, 3),
        "ahead_txt": (("stays ahead" if (ahead.dropna() > 1).all() else "does not stay ahead")
                      + " at every batch shown with the paper's prices" if priced else
                      f"against this reference is {NO_PRICE}: no sourced price for it, and the "
                      "paper's prices are for its five A100-40GB"),
        "claim_word": ("survives" if p_r / p_h > breakeven else "does not survive") if priced
        else f"is {NO_PRICE} for this reference (the paper's factor prices five A100-40GB), "
        "whatever"}
