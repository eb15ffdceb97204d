"""The breakdown chapter (``book/breakdown.ipynb``): where the time goes, the paper's Fig. 12.

The chapter loads the system under both profiles, the models and their activation statistics
into a :class:`Setup`; the functions here run the policies on it (:func:`run`), build the bars
of Fig. 12 (:func:`frame`), the shares the paper states (:func:`shares`, :func:`stated_shares`)
and the two tables, and write the sentences the chapter glues into its text, N.P. (the paper's
label for a configuration that cannot run) in words where a configuration cannot run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from hermes_model import policies, predictor, roofline
from hermes_model import scorecard as sc
from hermes_model import units as u
from hermes_model.chapters.end_to_end import config_notice, why_np
from hermes_model.paper import PAPER
from hermes_model.plotting import rounded
from hermes_model.policies import Activity, Estimate
from hermes_model.shapes import ModelSpec
from hermes_model.specs import PROFILES, LinkSpec, SystemSpec, other_profile

#: Display name of each policy of Fig. 12.
SYSTEMS: Final[Mapping[str, str]] = {"dejavu": "Deja Vu", "hermes-base": "Hermes-base",
                                     "hermes": "Hermes"}
#: The bars of Fig. 12a and 12b: (model slug, policy), in the figure's order.
FIG12A: Final = tuple((s, pol) for s in ("opt_13b", "opt_66b") for pol in ("dejavu", "hermes"))
FIG12B: Final = tuple((s, pol) for s in ("falcon_40b", "llama2_70b")
                      for pol in ("hermes-base", "hermes"))
#: The models of the prefill/decode table at batch 1 (Fig. 12b's two first, then the rest).
AT_BS1_MODELS: Final = ("falcon_40b", "llama2_70b", "opt_13b", "opt_30b", "opt_66b",
                        "llama2_13b")
#: Every model the chapter runs besides its `model` parameter.
MODELS: Final = AT_BS1_MODELS
#: The models of Fig. 12b, the context of the paper's prefill/decode split at batch 1; the
#: stated-shares table reads the split on the chapter's model if it is one of them, else on the
#: first (LLaMA2-70B, the model the scorecard scores it on).
SPLIT_MODELS: Final = ("llama2_70b", "falcon_40b")
#: The keys of :func:`shares` (besides ``supported``).
SHARE_KEYS: Final = ("comm", "pred_of_compute", "pred", "prefill", "decode")


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    """What the chapter loaded, and its parameters.

    Attributes
    ----------
    models : mapping of slug → ModelSpec
        Every model of :data:`MODELS` and the chapter's `model`.
    systems : mapping of profile → SystemSpec
        The paper's system under each of :data:`PROFILES`.
    activities : mapping of slug → Activity
        Activation statistics; a model without any runs with ``activity=None``.
    profile : str
        The profile of the quoted numbers (``paper`` or ``datasheet``).
    batches : sequence of int
        Batch sizes of the charts, sequences.
    stated : Series
        The paper's stated averages by name (``io.load_paper_figure("averages")``), percent.
    predictor_claims : DataFrame
        The predictor claims (``io.load_paper_predictor()``), values as text.
    """

    models: Mapping[str, ModelSpec]
    systems: Mapping[str, SystemSpec]
    activities: Mapping[str, Activity]
    profile: str
    batches: Sequence[int]
    stated: pd.Series
    predictor_claims: pd.DataFrame

    @property
    def other(self) -> str:
        """The profile that is not :attr:`profile`."""
        return other_profile(self.profile)


def run(setup: Setup, pol: str, slug: str, batch: int, profile: str | None = None) -> Estimate:
    """`pol` on model `slug` at `batch` (sequences) under `profile` (default the chapter's)."""
    opts = policies.Assumptions(activity=setup.activities.get(slug))
    return policies.estimate(pol, setup.models[slug], setup.systems[profile or setup.profile],
                             batch=batch, options=opts)


def np_reason(setup: Setup, pol: str, slug: str, batch: int, profile: str | None = None) -> str:
    """Why `pol` cannot run `slug` at `batch` (N.P.): the DIMMs it lacks, or the policy's reason.

    Returns
    -------
    str
        :func:`hermes_model.chapters.end_to_end.why_np` on the profile's system (its pool of
        ``n_dimms``): ``"it needs at least k NDP-DIMMs, not n"``, else :attr:`Estimate.reason`.
    """
    return why_np(pol, setup.models[slug], setup.systems[profile or setup.profile], batch=batch,
                  options=policies.Assumptions(activity=setup.activities.get(slug)))


def np_why(setup: Setup, pol: str, slug: str, batch: int, profile: str | None = None) -> str:
    """`pol` cannot run `slug` at `batch`, and why, as a clause."""
    name = sc.short_name(setup.models[slug].name)
    return (f"{SYSTEMS[pol]} cannot run {name} at batch {batch} "
            f"(N.P.: {np_reason(setup, pol, slug, batch, profile)})")


def frame(setup: Setup, pairs: Sequence[tuple[str, str]],
          profile: str | None = None) -> pd.DataFrame:
    """The bars of Fig. 12 for (model slug, policy) `pairs` at every batch of the setup.

    Returns
    -------
    DataFrame
        One row per bar and category: ``model`` (display name), ``bar`` (system and batch),
        ``category`` and ``time_s``, the category's time over the run divided by the tokens
        generated, :math:`T_c / (b\\,n_\\mathrm{gen})` in s. A configuration that cannot run
        has no rows.
    """
    rows = []
    for slug, pol in pairs:
        for b in setup.batches:
            e = run(setup, pol, slug, b, profile)
            if not e.supported:
                continue
            for cat, t in e.breakdown_s.items():
                rows.append({"model": setup.models[slug].name, "bar": f"{SYSTEMS[pol]} bs {b}",
                             "category": cat, "time_s": t / (b * e.gen_len)})
    return pd.DataFrame(rows)


def no_bars_text(setup: Setup, figure: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The text shown instead of Fig. `figure` when none of its bars can run (first batch)."""
    return (f"No bar of Fig. {figure} can run here: "
            + "; ".join(np_why(setup, pol, s, setup.batches[0]) for s, pol in pairs) + ".")


def hardware_words(gpu_name: str, n_dimms: int) -> str:
    """The run's hardware in the text's words.

    >>> hardware_words("NVIDIA GeForce RTX 5090", 32), hardware_words("NVIDIA RTX 4090", 1)
    ('one RTX 5090 with 32 NDP-DIMMs', 'one RTX 4090 with one NDP-DIMM')
    """
    gpu = gpu_name.removeprefix("NVIDIA ").removeprefix("GeForce ")
    return f"one {gpu} with {u.plural(n_dimms, 'NDP-DIMM', count=u.count_words(n_dimms))}"


def config_glue(setup: Setup, *, gpu: str, n_dimms: int) -> dict[str, object]:
    """Whether the chapter's hardware is the paper's, in words.

    The rule and the notice are :func:`hermes_model.chapters.end_to_end.config_notice`'s (the
    chapter runs the paper's 128/128 tokens). Returns ``config_note`` (its sentence, "" at the
    paper's GPU and DIMM count) and ``config_shares_txt``, the stated-shares section's note
    ("" there too).
    """
    name = setup.systems[setup.profile].gpu.name
    notice = config_notice(gpu=gpu, gpu_name=name, n_dimms=n_dimms, prompt_len=PAPER.prompt_len,
                           gen_len=PAPER.gen_len, profile=setup.profile, verdicts=False)
    return {"config_note": notice["config_note"],
            "config_shares_txt": "" if notice["like_for_like"] else (
                f"The model's shares are for {hardware_words(name, n_dimms)}, not the paper's "
                f"configuration ({hardware_words('RTX 4090', PAPER.n_dimms)}): none of them "
                "is like for like with the paper's statements.")}


def missing_bars_text(setup: Setup, figure: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The bars of Fig. `figure` that cannot run (N.P.) and why, where some others do ("" where
    every bar runs, or none does: :func:`no_bars_text` replaces the figure then)."""
    missing: dict[tuple[str, str, str], list[int]] = {}
    n_bars = 0
    for slug, pol in pairs:
        for b in setup.batches:
            n_bars += 1
            if not run(setup, pol, slug, b).supported:
                missing.setdefault((pol, slug, np_reason(setup, pol, slug, b)), []).append(b)
    n_missing = sum(len(v) for v in missing.values())
    if not n_missing or n_missing == n_bars:
        return ""
    return ("Not shown, as the model cannot run them (N.P.): " + "; ".join(
        f"{SYSTEMS[pol]} on {sc.short_name(setup.models[slug].name)} at batch"
        f"{'es' if len(bs) > 1 else ''} {roofline.prose_list([str(b) for b in bs])} ({why})"
        for (pol, slug, why), bs in missing.items()) + ".")


def ran(setup: Setup, pairs: Sequence[tuple[str, str]]) -> set[str]:
    """The policies of `pairs` that run at least one of the setup's batches."""
    return {pol for slug, pol in pairs for b in setup.batches
            if run(setup, pol, slug, b).supported}


def summary_text(systems_run: set[str], prefill_grows: bool | None) -> str:
    """The summary's sentences on Fig. 12's shape, from the systems that run some bar.

    `systems_run` holds the policies with a bar in Fig. 12 (:func:`ran`: Deja Vu in 12a,
    Hermes-base in 12b, Hermes in either); `prefill_grows` is whether Hermes' prefill share at
    batch 1 is larger under the profile with the slower PCIe link for every model that runs
    under both (None where none does, or the links are alike).

    >>> all3 = summary_text({"dejavu", "hermes-base", "hermes"}, True)
    >>> all3.startswith("The model's breakdown has the paper's shape: Deja"), "bottleneck" in all3
    (True, True)
    >>> "it cannot run Hermes-base's and Hermes' bars (N.P.)." in summary_text({"dejavu"}, None)
    True
    """
    words = {"dejavu": "Deja Vu is a communication system with a little computation attached",
             "hermes-base": "Hermes-base spends its time on DIMMs streaming whole layers",
             "hermes": "Hermes' remaining cost is split between prefill (weights streamed over "
                       "PCIe) and decode (the projection on the GPU, the DIMMs' share of the "
                       "sparse blocks and the fixed costs of each block)"}
    have = [words[p] for p in SYSTEMS if p in systems_run]
    lack = [f"{SYSTEMS[p]}'" + ("s" if not SYSTEMS[p].endswith("s") else "")
            for p in SYSTEMS if p not in systems_run]
    if not have:
        text = ("The model cannot run any bar of Fig. 12 here (N.P.), so it gives no breakdown to "
                "set beside the paper's shape.")
    else:
        listed = (", ".join(have[:-1]) + ", and " + have[-1] if len(have) > 2
                  else roofline.prose_list(have))  # the long clauses take the serial comma
        text = ("The model's breakdown has the paper's shape: " + listed
                + (f"; here it cannot run {roofline.prose_list(lack)} bars (N.P.)" if lack
                   else "") + ".")
    return text + (" The shares it gives for the stated numbers are in the table above"
                   + ("; prefill's share grows when PCIe is slower, which makes prefill, as the "
                      "paper says, the next bottleneck." if prefill_grows else "."))


def prefill_grows(setup: Setup, at_bs1: pd.DataFrame) -> bool | None:
    """Whether Hermes' prefill share at batch 1 (:func:`at_batch_1`'s table) is larger under the
    profile with the slower host link, for every model that runs under both profiles (None:
    no model does, or both links are alike)."""
    bw = {p: setup.systems[p].host_link.bandwidth_per_direction_bytes_per_s for p in PROFILES}
    if bw[setup.profile] == bw[setup.other]:
        return None
    slow, fast = sorted(PROFILES, key=bw.__getitem__)
    both = at_bs1[[f"prefill, {slow} profile (%)", f"prefill, {fast} profile (%)"]].dropna()
    if both.empty:
        return None
    return bool((both.iloc[:, 0] > both.iloc[:, 1]).all())


def shares(setup: Setup, pol: str, slug: str, batch: int,
           profile: str | None = None) -> dict[str, float | bool]:
    """The shares of the paper's §V-D for `pol` on `slug` at `batch`, as fractions.

    Returns
    -------
    dict
        ``comm`` (exposed communication over the total time), ``pred_of_compute`` (predictor
        over computation: FC, attention, predictor and others), ``pred`` (predictor over the
        total), ``prefill`` and ``decode`` (``1 - prefill``), and ``supported``. Where the
        configuration cannot run (N.P.) every share is NaN.
    """
    e = run(setup, pol, slug, batch, profile)
    if not e.supported:  # N.P.: the configuration cannot run, so there is no time to share
        return dict.fromkeys(SHARE_KEYS, math.nan) | {"supported": False}
    br = e.breakdown_s
    compute = br["fc"] + br["attention"] + br["predictor"] + br["others"]
    return {"comm": br["communication"] / e.total_s, "pred_of_compute": br["predictor"] / compute,
            "pred": br["predictor"] / e.total_s, "prefill": br["prefill"] / e.total_s,
            "decode": 1 - br["prefill"] / e.total_s, "supported": True}


def pct(share: float, spec: str) -> str:
    """A share (fraction) as the text shows it, in percent with format `spec` and " %".

    One rounding of the unrounded value (through `rounded` at 12 digits), as the tables do.

    >>> pct(0.33014, ".1f")
    '33.0 %'
    """
    return f"{rounded(100 * share, 12):{spec}} %"


def paper_link_text(link: LinkSpec) -> str:
    """The paper-profile rate of the host `link`, named for where it comes from.

    The paper states only "PCIe 4.0, 64 GB/s"; the catalog's ``paper`` profile applies that
    convention (the two directions of an x16 link together, read per direction) to other links.

    >>> from hermes_model import io
    >>> paper_link_text(io.load_link("pcie4_x16", "paper"))
    "the paper's 64 GB/s"
    >>> paper_link_text(io.load_link("pcie3_x16", "paper"))
    "the paper profile's 32 GB/s (the paper's 64 GB/s convention applied to PCIe 3.0)"
    """
    bw = rounded(link.bandwidth_per_direction_bytes_per_s / u.GB)
    if (link.generation, link.lanes) == (4, 16):
        return f"the paper's {bw:.3g} GB/s"
    width = "" if link.lanes == 16 else f" x{link.lanes}"
    return (f"the paper profile's {bw:.3g} GB/s (the paper's 64 GB/s convention applied to "
            f"PCIe {link.generation}.0{width})")


def split_model(model: str) -> str:
    """The model on which the stated-shares table reads the paper's prefill/decode split.

    >>> split_model("falcon_40b"), split_model("llama3_8b")
    ('falcon_40b', 'llama2_70b')
    """
    return model if model in SPLIT_MODELS else SPLIT_MODELS[0]


def _paper_h_pred(setup: Setup) -> float:
    """The bound of Hermes' stated predictor overhead ("<0.1" → 0.1), percent."""
    claim = setup.predictor_claims.set_index(["system", "claim"]).loc[
        ("hermes", "predictor runtime overhead"), "value"]
    if not str(claim).startswith("<"):
        raise ValueError(f"Hermes' predictor overhead should be a bound '<x', got {claim!r}")
    return float(str(claim).removeprefix("<"))


def paper_glue(setup: Setup) -> dict[str, object]:
    """The paper's stated shares as the text quotes them (percent), and the charts' batches.

    Keys ``paper_dv_comm``, ``paper_dv_pred``, ``paper_base_ndp``, ``paper_decode``,
    ``paper_prefill``, ``paper_h_pred`` (the bound of Hermes' "<0.1 %" predictor overhead) and
    ``batches_txt``. Raises ValueError if Hermes' predictor claim is not a bound ``<x``.
    """
    stated = setup.stated
    return {"paper_dv_comm": float(stated["dejavu_communication_share"]),
            "paper_dv_pred": float(stated["dejavu_predictor_share_of_compute"]),
            "paper_base_ndp": float(stated["hermes_base_ndp_compute_share_llama2_70b"]),
            "paper_decode": float(stated["hermes_decode_share_bs1"]),
            "paper_prefill": float(stated["hermes_prefill_share_bs1"]),
            "paper_h_pred": _paper_h_pred(setup),
            "batches_txt": roofline.prose_list([str(b) for b in setup.batches])}


@dataclass(frozen=True, slots=True)
class StatedShares:
    """The shares behind the paper's statements, per profile, and the sentences on them.

    Attributes
    ----------
    model : str
        Slug of the model of Hermes' shares.
    batch : int
        Batch of the shares, sequences.
    dejavu, hermes : mapping of profile → dict
        :func:`shares` of Deja Vu on OPT-66B and of Hermes on `model`, at `batch`.
    split_model : str
        Slug of the model of the table's prefill/decode rows (:func:`split_model`).
    split : mapping of profile → dict
        :func:`shares` of Hermes on `split_model` at batch 1, where the paper states its split.
    glue : dict
        Glue key → text: ``profile_name``, ``other_name``, ``batch``, ``dv_text``,
        ``h_pred_text``, ``h_split_text`` and ``split_note``.
    """

    model: str
    batch: int
    dejavu: Mapping[str, Mapping[str, float | bool]]
    hermes: Mapping[str, Mapping[str, float | bool]]
    split_model: str
    split: Mapping[str, Mapping[str, float | bool]]
    glue: dict[str, object]


def _dejavu_text(setup: Setup, dv: Mapping[str, Mapping[str, float | bool]], batch: int) -> str:
    profile, other, stated = setup.profile, setup.other, setup.stated
    if not dv[profile]["supported"]:
        return (f"Deja Vu cannot run (N.P.: {np_reason(setup, 'dejavu', 'opt_66b', batch)}), so "
                "the model has no communication or predictor share to set beside the paper's.")
    dv_e = run(setup, "dejavu", "opt_66b", batch)
    # the predictor chapter sizes OPT-66B's predictor to PowerInfer's published parameter count
    claims = setup.predictor_claims
    pred_sizes = claims[(claims.system == "powerinfer")
                        & (claims.claim == "adaptive predictor parameters")].set_index("model")
    matched = ""
    if "opt_66b" in pred_sizes.index:
        pi_rank = predictor.rank_for_parameters(setup.models["opt_66b"],
                                                float(pred_sizes.loc["opt_66b", "value"]))
        matched = ("; the predictor chapter's table sizes it instead to PowerInfer's published "
                   f"predictor, rank {round(pi_rank)}")
    dv_rank = policies.Assumptions().dejavu_predictor_rank
    return (f"communication is {pct(float(dv[profile]['comm']), '.1f')} of Deja Vu's time in the "
            f"model under the {profile} profile ("
            + (f"{pct(float(dv[other]['comm']), '.1f')} under the {other} one"
               if dv[other]["supported"] else f"N.P. under the {other} one")
            + "), against the paper's \"about "
            f"{float(stated['dejavu_communication_share']):g} %\". "
            f"Its MLP predictor is {pct(float(dv[profile]['pred_of_compute']), '.1f')} of its "
            f"computation (paper: {float(stated['dejavu_predictor_share_of_compute']):g} %): "
            f"the rank-{dv_rank} predictor (the end-to-end default, assumed{matched}) reads "
            f"{rounded(dv_e.details['predictor_bytes'] / u.GB):.1f} GB from GPU memory per "
            "decode step, while the computation proper runs at the same bandwidth on the "
            "loaded weights.")


def _hermes_split_text(setup: Setup, hm_: Mapping[str, Mapping[str, float | bool]],
                       model: str, batch: int) -> str:
    profile, other = setup.profile, setup.other
    if not hm_[profile]["supported"]:
        return f"Hermes cannot run it (N.P.: {np_reason(setup, 'hermes', model, batch)})"
    links = {p: setup.systems[p].host_link for p in (profile, other)}
    link_bw = {p: rounded(links[p].bandwidth_per_direction_bytes_per_s / u.GB)
               for p in (profile, other)}
    return (f"Hermes spends {pct(float(hm_[profile]['decode']), '.1f')} of its time in token "
            f"generation and {pct(float(hm_[profile]['prefill']), '.1f')} in prefill under the "
            f"{profile} profile, and "
            + (f"{pct(float(hm_[other]['prefill']), '.1f')} in prefill" if hm_[other]["supported"]
               else "cannot run (N.P.)")
            + f" under the {other} profile, whose PCIe link carries "
            + (f"{link_bw[other]:.3g} GB/s per direction against "
               f"{paper_link_text(links[profile])}, read per direction" if profile == "paper" else
               f"{paper_link_text(links[other])}, read per direction, against "
               f"{link_bw[profile]:.3g} GB/s per direction"))


def stated_shares(setup: Setup, model: str, batch: int) -> StatedShares:
    """Deja Vu's shares on OPT-66B and Hermes' on `model` at `batch`, under both profiles,
    and the sentences that set them beside the paper's statements (§V-D).

    The sentences give N.P. in words where Deja Vu or Hermes cannot run; the shares are printed
    as :func:`pct` prints them, so they read as the table of :func:`stated_table`.
    ``h_pred_text`` is a whole clause, the paper's bound included.
    """
    dv = {p: shares(setup, "dejavu", "opt_66b", batch, p) for p in PROFILES}
    hm_ = {p: shares(setup, "hermes", model, batch, p) for p in PROFILES}
    h_name, bound = setup.models[model].name, f"{_paper_h_pred(setup):g} %"
    h_pred_text = (f"for {h_name} the part it does not hide is "
                   f"{pct(float(hm_[setup.profile]['pred']), '.2g')} of the time (paper: < "
                   f"{bound})" if hm_[setup.profile]["supported"] else
                   f"Hermes cannot run {h_name} here (N.P.: "
                   f"{np_reason(setup, 'hermes', model, batch)}), so the model gives no "
                   f"predictor share to set beside the paper's < {bound}")
    on = split_model(model)
    split = {p: shares(setup, "hermes", on, 1, p) for p in PROFILES}
    split_note = ("The prefill and decode rows are read at batch 1, where the paper states its "
                  f"split, for {setup.models[on].name}"
                  + ("" if on == model else f": the split's context is Fig. 12b, and the "
                     f"chapter's {h_name} is not in it") + ".")
    glue: dict[str, object] = {
        "profile_name": setup.profile, "other_name": setup.other, "batch": batch,
        "dv_text": _dejavu_text(setup, dv, batch), "h_pred_text": h_pred_text,
        "h_split_text": _hermes_split_text(setup, hm_, model, batch), "split_note": split_note}
    return StatedShares(model, batch, dv, hm_, on, split, glue)


def base_ndp_text(setup: Setup, batch: int) -> str:
    """How much of LLaMA2-70B's FC work Hermes-base gives the DIMMs at `batch` under the
    chapter's profile, beside the paper's "over x %", as a clause."""
    base = run(setup, "hermes-base", "llama2_70b", batch)
    paper = f"the paper's \"over {float(setup.stated['hermes_base_ndp_compute_share_llama2_70b']):g} %\""
    if not base.supported:
        return (np_why(setup, "hermes-base", "llama2_70b", batch) + ", so the model gives no "
                f"share under the {setup.profile} profile to set beside {paper}")
    return (f"on LLaMA2-70B at batch {batch} the DIMMs compute "
            f"{rounded(100 * base.details['ndp_flop_share']):.0f} % of the FC FLOP "
            f"({rounded(100 * base.details['ndp_fc_time_share']):.0f} % of the FC time) under "
            f"the {setup.profile} profile, against {paper}")


def at_batch_1(setup: Setup) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hermes' prefill and decode shares at batch 1 for :data:`AT_BS1_MODELS`, both profiles.

    Returns
    -------
    table : DataFrame
        Indexed by model name; columns ``"{prefill|decode}, {profile} profile (%)"``, percent
        (NaN where Hermes cannot run); columns axis named ``Hermes at batch 1``.
    not_possible : DataFrame
        The same shape, True where Hermes cannot run (N.P.).
    """
    rows, np_rows = [], []
    for slug in AT_BS1_MODELS:
        row: dict[str, object] = {"model": setup.models[slug].name}
        np_row: dict[str, object] = {"model": setup.models[slug].name}
        for what in ("prefill", "decode"):
            for p in PROFILES:
                s = shares(setup, "hermes", slug, 1, p)
                row[f"{what}, {p} profile (%)"] = 100 * s[what]
                np_row[f"{what}, {p} profile (%)"] = not s["supported"]
        rows.append(row)
        np_rows.append(np_row)
    table = pd.DataFrame(rows).set_index("model").rename_axis(columns="Hermes at batch 1")
    return table, pd.DataFrame(np_rows).set_index("model")


def stated_table(setup: Setup, stated: StatedShares) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's five stated shares beside the model's, under the chapter's profile and the
    other one.

    The first three rows are read at the chapter's batch; the prefill/decode pair at batch 1,
    where the paper states it, on :attr:`StatedShares.split_model`.

    Returns
    -------
    table : DataFrame
        Index: the five quantities, each naming its model and batch; column ``paper`` (the
        values as the paper gives them, text: the prefill/decode pair to two decimals, 33.01 and
        66.40) and one column ``"model ({profile} profile)"`` per profile (percent, NaN where
        N.P.).
    not_possible : DataFrame
        True where the configuration behind a model share cannot run, for the model columns.
    """
    s, dv, batch = setup.stated, stated.dejavu, stated.batch
    hm_, name = stated.split, setup.models[stated.split_model].name
    paper_given = [f"about {s['dejavu_communication_share']:g}",
                   f"{s['dejavu_predictor_share_of_compute']:g}",
                   f"over {s['hermes_base_ndp_compute_share_llama2_70b']:g}",
                   f"{s['hermes_prefill_share_bs1']:.2f}", f"{s['hermes_decode_share_bs1']:.2f}"]
    order = (setup.profile, setup.other)
    hb = {p: run(setup, "hermes-base", "llama2_70b", batch, p) for p in order}
    modelled = {f"model ({p} profile)": [
        100 * dv[p]["comm"], 100 * dv[p]["pred_of_compute"],
        100 * hb[p].details.get("ndp_flop_share", math.nan),
        100 * hm_[p]["prefill"], 100 * hm_[p]["decode"]] for p in order}
    # N.P. where the configuration behind a share cannot run
    tab_np = {f"model ({p} profile)": [
        not dv[p]["supported"], not dv[p]["supported"], not hb[p].supported,
        not hm_[p]["supported"], not hm_[p]["supported"]] for p in order}
    index = [f"Deja Vu communication (% of time, OPT-66B, batch {batch})",
             f"Deja Vu predictor (% of computation, OPT-66B, batch {batch})",
             f"Hermes-base on NDP (% of FC FLOP, LLaMA2-70B, batch {batch})",
             f"Hermes prefill (% of time, {name}, batch 1)",
             f"Hermes decode (% of time, {name}, batch 1)"]
    return (pd.DataFrame({"paper": paper_given, **modelled}, index=index),
            pd.DataFrame(tab_np, index=index))
