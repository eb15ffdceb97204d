"""Command-line interface: ``python -m hermes_model SUBCOMMAND [options] [--json]``.

Every subcommand answers one configuration as a table, or as JSON with ``--json``. Bad input is
one line on stderr naming the flag or field, the value and what is allowed, exit status 2, never a
traceback; a configuration that cannot run (the paper's N.P.) prints ``supported: false`` and the
reason, exit status 3; output cut short by a closed pipe (``| head``) exits 1 quietly.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, NoReturn

import numpy as np

from hermes_model import __version__, io, roofline, shapes
from hermes_model import units as u
from hermes_model.specs import CYCLES_PER_OP_RANGE, PROFILES, DimmSpec

Row = dict[str, Any]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, naming what is allowed."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


#: Largest integer option: 2**53, as for a config's counts (`shapes.MAX_CONFIG_INT`: the last
#: integer a float64 holds exactly; the model computes in float64).
MAX_INT_OPTION: int = shapes.MAX_CONFIG_INT


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 0 < value <= MAX_INT_OPTION:
        raise argparse.ArgumentTypeError(f"expected a positive integer up to 2**53 "
                                         f"({MAX_INT_OPTION}), got {_short(text)}")
    return value


def _short(text: str, limit: int = 40) -> str:
    """`text` quoted, cut to `limit` characters with its length shown when longer."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(rows: Sequence[Row]) -> str:
    """Plain-text table of dict rows (the keys of the first row are the columns)."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _emit(payload: Any, as_json: bool, table: Callable[[], str]) -> None:
    print(json.dumps(payload, indent=2) if as_json else table())


# ------------------------------------------------------------------------------------ commands


def _catalog(profile: str) -> dict[str, list[Any]]:
    """Every catalog entry of each hardware kind, loaded under `profile`."""
    loaders = {"gpus": io.load_gpu, "hosts": io.load_host, "links": io.load_link,
               "dimms": io.load_dimm}
    return {kind: [load(s, profile) for s in io.catalog_slugs(kind)]
            for kind, load in loaders.items()}


def hardware_rows(profile: str, catalog: dict[str, list[Any]] | None = None
                  ) -> dict[str, list[Row]]:
    """The catalog's hardware under `profile`, in display units (`catalog`: already loaded)."""
    catalog = catalog or _catalog(profile)
    gpus, hosts, links, dimms = (catalog[k] for k in ("gpus", "hosts", "links", "dimms"))
    return {
        "gpus": [{"slug": g.slug, "name": g.name, "memory_GiB": g.memory_bytes / u.GiB,
                  "bandwidth_GBps": g.memory_bandwidth_bytes_per_s / u.GB,
                  "fp16_TFLOPS": g.fp16_flop_per_s / u.TFLOP, "pcie_gen": g.pcie_gen} for g in gpus],
        "hosts": [{"slug": h.slug, "name": h.name, "dram_GiB": h.dram_capacity_bytes / u.GiB,
                   "dram_bandwidth_GBps": h.dram_bandwidth_bytes_per_s / u.GB,
                   "fp32_TFLOPS": h.flop_per_s / u.TFLOP, "pcie_gen": h.pcie_gen} for h in hosts],
        "links": [{"slug": lk.slug, "name": lk.name, "kind": lk.kind,
                   "bandwidth_per_direction_GBps": lk.bandwidth_per_direction_bytes_per_s / u.GB}
                  for lk in links],
        "dimms": [{"slug": d.slug, "name": d.name, "capacity_GiB": d.capacity_bytes / u.GiB,
                   "ranks": d.n_ranks,
                   "ranks_pin_bandwidth_GBps": d.ranks_pin_bandwidth_bytes_per_s / u.GB,
                   "ndp_GFLOPS": d.ndp_flop_per_s / u.GFLOP} for d in dimms],
    }


def hardware_sources(profile: str, catalog: dict[str, list[Any]] | None = None
                     ) -> dict[str, dict[str, dict[str, str]]]:
    """Each catalog entry's source per field, by kind and slug (what ``hardware --json`` adds)."""
    catalog = catalog or _catalog(profile)
    return {kind: {spec.slug: dict(spec.sources) for spec in specs}
            for kind, specs in catalog.items()}


def _short_name(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def cmd_hardware(args: argparse.Namespace) -> None:
    catalog = _catalog(args.profile)
    rows = hardware_rows(args.profile, catalog)
    note = ("Peak values of the profile; each value's source is in 'hardware --json' (key\n"
            "sources) and data/catalog/. Estimates use these peaks times the calibrated\n"
            "efficiencies of data/catalog/efficiency.yaml.")
    if args.profile == "paper":  # the paper's PCIe figures are bidirectional (64 GB/s for 4.0)
        note += ("\npaper profile: PCIe figures are the paper's (bidirectional) numbers, used as "
                 "the\nper-direction rate.")
    # links: the rate as modelled (per direction), which for the paper's PCIe is its
    # bidirectional figure, so the column does not claim "per direction"
    short = {"ranks_pin_bandwidth_GBps": "pin_GBps", "bandwidth_per_direction_GBps": "GBps",
             "dram_bandwidth_GBps": "dram_GBps"}
    _emit({"profile": args.profile, **rows, "sources": hardware_sources(args.profile, catalog)},
          args.json,
          lambda: f"profile: {args.profile}\n\n" + "\n\n".join(
              f"{kind}\n" + format_table([{short.get(k, k): _short_name(v) if k == "name" else v
                                           for k, v in r.items()} for r in rs])
              for kind, rs in rows.items()) + f"\n\n{note}")


def model_rows() -> list[Row]:
    """One row per catalog model: shape, parameters and fp16 bytes."""
    rows = []
    for slug in io.model_slugs():
        m = io.load_model(slug)
        rows.append({"slug": slug, "name": m.name, "layers": m.n_layers, "d_model": m.d_model,
                     "d_ffn": m.d_ffn, "kv_heads": m.n_kv_heads,
                     "parameters_B": shapes.parameter_count(m) / 1e9,
                     "fp16_GB": shapes.weight_bytes(m, "fp16") / u.GB, "activation": m.activation})
    return rows


def cmd_models(args: argparse.Namespace) -> None:
    rows = model_rows()
    _emit({"models": rows}, args.json, lambda: format_table(rows))


def cmd_op(args: argparse.Namespace) -> None:
    from hermes_model import ndp

    device = io.load_device(args.device, args.profile)
    if isinstance(device, DimmSpec):  # the rates the policies use: DRAM timings, NDP core
        t = ndp.dimm_op_time(device, weight_bytes=args.n * args.k * shapes.dtype_bytes(args.dtype),
                             batch=args.m, pattern="stream", dtype=args.dtype)
        rates = ("one NDP-DIMM: its DRAM timings' stream bandwidth (see 'dimm') and its NDP "
                 "core's MAC rate, as the policies use them")
    else:
        t = roofline.matmul_time(device, args.m, args.n, args.k, args.dtype)
        rates = ("achievable rates: the profile's peak times the calibrated efficiency of "
                 "data/catalog/efficiency.yaml")
    payload = {"device": args.device, "profile": args.profile, "m": args.m, "n": args.n,
               "k": args.k, "dtype": args.dtype, "time_s": float(t.time_s),
               "bound": str(t.bound), "bandwidth_bytes_per_s": t.bandwidth_bytes_per_s,
               "flop_per_s": t.flop_per_s, "rates": rates}
    _emit(payload, args.json, lambda: format_table([{
        "device": args.device, "m x k x n": f"{args.m} x {args.k} x {args.n}",
        "time_us": float(t.time_s) / u.US, "bound": str(t.bound),
        "bandwidth_GBps": t.bandwidth_bytes_per_s / u.GB,
        "TFLOPS": t.flop_per_s / u.TFLOP}]) + f"\n\n{rates}")


def bench_op_vectorised_per_s() -> float:
    """Roofline evaluations per second on a 10^5-element sweep of matrix shapes (best of 5)."""
    gpu = io.load_gpu("rtx_4090", "paper")
    rng = np.random.default_rng(0)
    m = rng.integers(1, 1024, 100_000)
    n = rng.integers(1024, 65536, 100_000)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        roofline.matmul_time(gpu, m, n, 8192)
        best = min(best, time.perf_counter() - start)
    return m.size / best


def bench_calibration_fit_s() -> float:
    """Seconds to fit the GPU, PCIe and host calibration to the committed H200 table (best of 3)."""
    from hermes_model import calibration

    measurements = io.load_measurements("gpu_h200_20261126")
    gpu, link = io.load_gpu("h200", "datasheet"), io.load_link("pcie5_x16", "datasheet")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        calibration.calibrate(measurements,
                              gpu_peak_bandwidth_bytes_per_s=gpu.memory_bandwidth_bytes_per_s,
                              gpu_peak_flop_per_s=gpu.fp16_flop_per_s,
                              link_peak_bandwidth_bytes_per_s=link.bandwidth_per_direction_bytes_per_s)
        best = min(best, time.perf_counter() - start)
    return best


def bench_dram_model_per_s() -> float:
    """Access patterns (chunk sizes) the DRAM model evaluates per second, 10^4 at once (best of 5)."""
    from hermes_model import dram

    dimm = io.load_dimm("ddr4_3200_ndp", "paper")
    sizes = 64.0 * np.arange(1, 10_001)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        dram.rank_efficiency(dimm, pattern="chunks", chunk_bytes=sizes)
        best = min(best, time.perf_counter() - start)
    return sizes.size / best


def sparsity_targets(slug: str, activation: str) -> Any:
    """The sparsity generator's targets of a catalog model (see `sparsity.model_targets`)."""
    from hermes_model import sparsity

    model = io.load_model(slug)
    swiglu = activation == "swiglu"
    return sparsity.model_targets(
        slug, shapes.qkv_neurons_per_layer(model), shapes.mlp_neurons_per_layer(model),
        model.native_activation, activation, io.load_generator_inputs(),
        io.load_published_sparsity() if swiglu else None,
        io.load_activation_summary("smollm2") if swiglu else None)


#: Most tokens x layers `sparsity` generates (2^20: a few minutes; the default is 8192 x 2).
MAX_TOKEN_LAYERS: Final = 2**20


def sparsity_payload(slug: str, n_tokens: int, seed: int, activation: str,
                     n_layers: int) -> Row:
    """Generate `n_tokens` tokens (128-token sequences) of `n_layers` layers of a model's MLP
    neurons and summarise them (the generator's layers are statistically alike)."""
    from hermes_model import sparsity

    model_layers = io.load_model(slug).n_layers
    if n_layers > model_layers:
        raise ValueError(f"--layers must be at most {slug}'s {model_layers} layers, got {n_layers}")
    if n_tokens * n_layers > MAX_TOKEN_LAYERS:
        raise ValueError(f"--tokens x --layers must be at most {MAX_TOKEN_LAYERS} (minutes of "
                         f"generation), got {n_tokens} x {n_layers}")
    targets = sparsity_targets(slug, activation)
    mlp = next(g for g in targets.groups if g.name == "mlp")
    rng = np.random.default_rng(seed)
    trace_model = sparsity.build_trace_model([mlp], n_layers, targets.coupled_share, rng)
    n_seq = max(1, -(-n_tokens // sparsity.SEQUENCE_TOKENS))
    s = sparsity.summarize_generated(trace_model, n_seq, rng, distances=(1, 5, 10, 25))
    return {
        "model": slug, "activation": activation, "n_tokens": s.n_tokens,
        "n_sequences": s.n_sequences, "n_layers": n_layers, "n_neurons": mlp.n_neurons,
        "sparsity": s.sparsity, "density": s.density, "hot_share_for_80pct": s.hot_share_80,
        "similarity_d1": s.similarity[1], "similarity_d5": s.similarity[5],
        "similarity_d10": s.similarity[10], "similarity_d25": s.similarity[25],
        "memoryless_similarity": s.memoryless_similarity,
        "p_active_given_both_parents": s.p_active_given_parents,
        "target_density": mlp.density, "target_hot_share_for_80pct": mlp.hot_share_80,
        "target_similarity": dict(zip(mlp.similarity_distances, mlp.similarity, strict=True)),
    }


def cmd_sparsity(args: argparse.Namespace) -> None:
    payload = sparsity_payload(args.model, args.tokens, args.seed, args.activation, args.layers)
    _emit(payload, args.json, lambda: format_table(
        [{"statistic": k, "value": v} for k, v in payload.items() if k != "target_similarity"]))


def bench_trace_llama2_70b_256tok_s(clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds to fit and generate a full-size LLaMA2-70B trace: 80 layers × (8192 QKV + 28672
    MLP neurons) × 256 tokens (two 128-token sequences). `clock`: wall clock by default
    (``time.process_time`` gives the CPU time, which other processes on the machine do not
    inflate)."""
    from hermes_model import sparsity

    targets = sparsity_targets("llama2_70b", "relu")
    rng = np.random.default_rng(0)
    start = clock()
    trace_model = sparsity.build_trace_model(targets.groups, 80, targets.coupled_share, rng)
    sparsity.generate_trace(trace_model, 2, rng)
    return clock() - start


def _load_system(slug: Any, profile: str, **parts: Any) -> Any:
    """`io.load_system`, its wrong-kind link errors naming the flag (``--link``, ``--gpu-link``)
    rather than the system field, where the flag gave that link."""
    try:
        return io.load_system(slug, profile, **parts)
    except ValueError as exc:
        text = str(exc)
        for role, flag in (("host_link", "--link"), ("gpu_link", "--gpu-link")):
            value = parts.get(role)
            if isinstance(value, str) and text.startswith(f"{role} {value!r} is a link of kind"):
                rest = text[len(role) + 1:].replace(f"; {role} must", f"; {flag} must", 1)
                raise ValueError(f"{flag}: {rest}") from None
        raise


def partition_problem(slug: str, system_slug: str, profile: str, batch: int = 1, *,
                      parts: dict[str, Any] | None = None, system: Any = None) -> Any:
    """The per-neuron partition instance of a catalog model on a system (issue 7); `parts`
    swaps parts of the system as `io.load_system`'s keywords do (`system`: that system, when
    the caller has loaded it already)."""
    from hermes_model import partition

    model = io.load_model(slug)
    if system is None:
        system = _load_system(system_slug, profile, **(parts or {}))
    mlp, qkv = partition.model_frequencies(model, sparsity_targets(slug, "relu"))
    return partition.model_problem(model, system, mlp, qkv, batch=batch)


def partition_payload(slug: str, system_slug: str, profile: str, batch: int = 1, *,
                      parts: dict[str, Any] | None = None) -> Row:
    """Solve the offline partition of one model with the fast solver, timed (`parts` as in
    `partition_problem`)."""
    from hermes_model import partition

    system = _load_system(system_slug, profile, **(parts or {}))
    problem = partition_problem(slug, system_slug, profile, batch, parts=parts, system=system)
    start = time.perf_counter()
    sol = partition.solve_fast(problem)
    solve_s = time.perf_counter() - start
    c = sol.cost
    return {"model": slug, "system": system_slug, "profile": profile, "batch": batch,
            "n_neurons": problem.n_neurons, "solve_s": solve_s, "objective_s": c.objective_s,
            "lower_bound_s": sol.lower_bound_s, "certified_gap": sol.gap,
            "gpu_neuron_share": c.gpu_neuron_share, "gpu_compute_share": c.gpu_compute_share,
            "gpu_neuron_GB": c.gpu_bytes / u.GB,
            "gpu_budget_GB": problem.gpu_budget_bytes / u.GB, "feasible": c.feasible,
            **_system_fields(system_slug, system, parts)}


def _parts_flags(parts: dict[str, Any]) -> dict[str, Any]:
    """The overridden parts as the flags that set them (``{"--gpu": "t4"}``), as ``estimate``'s
    ``overrides``."""
    flags = {("host_link" if attr == "link" else attr): flag for flag, attr in _PART_FLAGS}
    return {flags[k]: v for k, v in parts.items()}


def _host_link_fields(system_slug: Any, system: Any, asked: str | None) -> dict[str, Any]:
    """The host link the GPU really gets (`io.effective_pcie_link`), with the one asked for
    (`asked`, else the system's) and a note where they differ."""
    asked = asked if asked is not None else io.system_refs(system_slug)["host_link"]
    out: dict[str, Any] = {"host_link": system.host_link.slug}
    if asked != system.host_link.slug:
        out["host_link_asked"] = asked
        out["host_link_note"] = (f"{asked} runs as {system.host_link.slug} (the slowest of "
                                 f"link, GPU {system.gpu.slug} and host sets it)")
    return out


def _system_fields(system_slug: Any, system: Any, parts: dict[str, Any] | None) -> Row:
    """``partition``'s and ``balance``'s host link (as `_host_link_fields`) of the loaded
    `system` and ``overrides`` (flag: value, as ``estimate``'s; only where parts were
    overridden)."""
    parts = parts or {}
    return {**_host_link_fields(system_slug, system, parts.get("host_link")),
            **({"overrides": _parts_flags(parts)} if parts else {})}


def _quantity_table(payload: Row) -> str:
    """A payload as quantity/value rows; ``overrides`` as the flags that set them
    (``--gpu t4 --n-dimms 16``)."""
    return format_table([{"quantity": k, "value": " ".join(f"{f} {x}" for f, x in v.items())
                          if k == "overrides" else v} for k, v in payload.items()])


def _parts(args: argparse.Namespace) -> dict[str, Any]:
    """The part overrides of a ``partition`` or ``balance`` command (io.load_system keywords)."""
    given = {"gpu": args.gpu, "dimm": args.dimm, "n_dimms": args.n_dimms,
             "host_link": args.link}
    return {k: v for k, v in given.items() if v is not None}


def cmd_partition(args: argparse.Namespace) -> int:
    from hermes_model import policies

    # A batch whose weights and KV cache overflow the DIMM pool is N.P., as in `estimate`.
    model = io.load_model(args.model)
    system = _load_system(args.system, args.profile, **_parts(args))
    inputs = io.load_generator_inputs()
    activity = policies.activity_from_inputs(inputs[args.model]) if args.model in inputs else None
    est = policies.estimate("hermes", model, system, batch=args.batch,
                            options=policies.Assumptions(activity=activity))
    if not est.supported:
        return _not_supported({"model": args.model, "system": args.system,
                               "profile": args.profile, "batch": args.batch,
                               "supported": False, "reason": est.reason}, args.json)
    payload = partition_payload(args.model, args.system, args.profile, args.batch,
                                parts=_parts(args))
    _emit(payload, args.json, lambda: _quantity_table(payload))
    return 0


def predictor_payload(slug: str, seed: int = 0, prefill_tokens: int = 32) -> Row:
    """Score Hermes' predictor on MiniLM's real masks (``minilm``) or on a generated trace of a
    catalog model (3 layers at full width, 1024 sampled neurons per layer, 2 profiling and 4
    scored 128-token sequences). Table sizes are the model's (MiniLM: its 6 × 1536 neurons).
    The initial GPU set of a catalog model is the share of its neurons that the partition puts on
    the paper's RTX 4090 (as the predictor chapter takes it); MiniLM, which a GPU holds whole,
    keeps an assumed 20 % of each layer."""
    from hermes_model import predictor

    slug = io.resolve_slug(slug, ["minilm", *io.model_slugs()], "model")
    rng = np.random.default_rng(seed)
    if slug == "minilm":
        active, seq, _ = io.load_activation_masks("minilm")
        share, share_src = 0.2, "assumed"
        res = predictor.score_trace(active, seq, predictor.profile_sequences(seq),
                                    prefill_tokens=prefill_tokens, gpu_share=share)
        n_layers, n = active.shape[1], active.shape[2]
        state_b = predictor.state_table_bytes(n_layers * n)
        corr_b = predictor.correlation_table_bytes(n_layers * n, n)
        source = "measured: MiniLM-L6 masks (odd sequences scored, even ones profile)"
    else:
        model, targets = io.load_model(slug), sparsity_targets(slug, "relu")
        share = partition_payload(slug, "hermes_paper", "paper")["gpu_neuron_share"]
        share_src = "derived: the partition's GPU share on the paper's system"
        res = predictor.score_generated(targets, 6, rng, prefill_tokens=prefill_tokens,
                                        sample=1024, gpu_share=share).result
        state_b, corr_b = predictor.model_table_bytes(model)
        source = "generated: sparsity generator, 3 layers, 1024 sampled neurons per layer"
    return {"model": slug, "source": source, "prefill_tokens": prefill_tokens,
            "gpu_share": share, "gpu_share_source": share_src,
            "scored_tokens": res.n_tokens, "recall": res.recall, "precision": res.precision,
            "accuracy": res.accuracy, "trivial_accuracy": res.trivial_accuracy,
            "gpu_hit_share": res.gpu_hit_share,
            "gpu_hit_share_static": res.gpu_hit_share_static,
            "swaps_per_token": res.swaps_per_token, "state_table_bytes": int(state_b),
            "correlation_table_bytes": int(corr_b)}


def cmd_predictor(args: argparse.Namespace) -> None:
    payload = predictor_payload(args.model, args.seed)
    _emit(payload, args.json, lambda: _quantity_table(payload))


def bench_partition_llama2_70b_s() -> float:
    """Seconds of the fast solver on LLaMA2-70B's full neuron count (80 × (8192 + 28672))."""
    from hermes_model import partition

    problem = partition_problem("llama2_70b", "hermes_paper", "paper")
    best = float("inf")
    for _ in range(3):  # best of 3: the machine is shared
        start = time.perf_counter()
        partition.solve_fast(problem)
        best = min(best, time.perf_counter() - start)
    return best


def bench_partition_gap_vs_milp() -> float:
    """Largest (fast − dual bound) / dual bound over the fixed MILP instances: the fast solver is
    rerun on each 32-bucket instance and compared with the committed HiGHS dual bound."""
    from hermes_model import partition

    table = io.load_partition_milp()
    gaps = []
    for row in table.to_dict(orient="records"):
        problem = partition.bucket_problem(
            partition_problem(str(row["model"]), str(row["system"]), "paper"),
            int(row["n_buckets"]))
        fast = partition.solve_fast(problem).cost.objective_s
        gaps.append((fast - float(row["milp_dual_bound_s"])) / float(row["milp_dual_bound_s"]))
    return float(max(gaps))


#: Sequences `balance` replays; its batch must divide them.
BALANCE_SEQUENCES: Final = 8


def balance_payload(slug: str = "llama2_13b", system_slug: str = "hermes_paper",
                    profile: str = "paper", batch: int = 1, seed: int = 0,
                    n_sequences: int = BALANCE_SEQUENCES, layers: int = 4, *,
                    parts: dict[str, Any] | None = None) -> Row:
    """Imbalance of the offline partition's cold neurons over the DIMMs on a generated trace:
    the balanced static placement, Algorithm 1 every 5 tokens (previous window's counts), and
    the hindsight oracle; migration of the remap (whole model, per decode step)."""
    from hermes_model import scheduling

    model = io.load_model(slug)
    system = _load_system(system_slug, profile, **(parts or {}))
    rng = np.random.default_rng(seed)
    case = scheduling.make_case(model, system, sparsity_targets(slug, "relu"), batch=batch,
                                rng=rng, n_layers_sim=layers, n_sequences=n_sequences)
    res = scheduling.balance_case(case, system)
    scale = model.n_layers / layers
    m = res.migration
    return {"model": slug, "system": system_slug, "profile": profile, "batch": batch,
            "n_sequences": n_sequences,
            "layers_replayed": layers, "window_tokens": scheduling.WINDOW_TOKENS,
            "imbalance_static": res.static.window,
            "imbalance_static_per_token": res.static.per_token,
            "imbalance_window": res.remapped.window,
            "imbalance_window_per_token": res.remapped.per_token,
            "imbalance_window_hindsight": res.hindsight.window,
            "migrated_bytes_per_step": m.bytes_per_step * scale,
            "migration_link_s_per_step": m.link_s_per_step * scale,
            "migration_host_s_per_step": m.host_s_per_step * scale,
            "moves_per_pair_bound": case.moves_per_pair,
            **_system_fields(system_slug, system, parts)}


def cmd_balance(args: argparse.Namespace) -> None:
    from hermes_model.scheduling import batch_divisors

    allowed = batch_divisors(BALANCE_SEQUENCES)
    if args.batch not in allowed:
        raise ValueError(f"--batch must be one of {', '.join(map(str, allowed))} (a divisor of "
                         f"the {BALANCE_SEQUENCES} replayed sequences), got {args.batch}")
    payload = balance_payload(args.model, args.system, args.profile, args.batch, args.seed,
                              parts=_parts(args))
    _emit(payload, args.json, lambda: _quantity_table(payload))


_BALANCE_BENCH: dict[str, float] = {}


def bench_balance(key: str) -> float:
    """`balance` on LLaMA2-13B (batch 1, defaults), timed once and shared by its three keys."""
    if not _BALANCE_BENCH:
        start = time.perf_counter()
        payload = balance_payload("llama2_13b")
        _BALANCE_BENCH["balance_s"] = time.perf_counter() - start
        _BALANCE_BENCH["imbalance_static_llama2_13b"] = float(payload["imbalance_static"])
        _BALANCE_BENCH["imbalance_window_llama2_13b"] = float(payload["imbalance_window"])
    return _BALANCE_BENCH[key]


#: The package's timed hot paths: one key per figure of `bench --json`. Later chapters add theirs.
BENCHMARKS: dict[str, Callable[[], float]] = {
    "imbalance_static_llama2_13b": lambda: bench_balance("imbalance_static_llama2_13b"),
    "imbalance_window_llama2_13b": lambda: bench_balance("imbalance_window_llama2_13b"),
    "balance_s": lambda: bench_balance("balance_s"),
    # Keep op_vectorised_per_s first (issue 2); the others follow in issue order.
    "op_vectorised_per_s": bench_op_vectorised_per_s,
    "estimate_per_s": lambda: bench_estimate_per_s(),
    "figures_9_to_11_s": lambda: bench_figures_9_to_11_s(),
    "sweeps_s": lambda: bench_sweeps_s(),
    "trace_llama2_70b_256tok_s": bench_trace_llama2_70b_256tok_s,
    "calibration_fit_s": bench_calibration_fit_s,
    "dram_model_per_s": bench_dram_model_per_s,
    "partition_llama2_70b_s": bench_partition_llama2_70b_s,
    "partition_gap_vs_milp": bench_partition_gap_vs_milp,
    "predictor_recall_real": lambda: float(predictor_payload("minilm")["recall"]),
    "predictor_recall_llama2_70b": lambda: float(predictor_payload("llama2_70b")["recall"]),
    "book_execute_s": lambda: bench_book_execute_s(),
}


#: ``estimate --policy`` names, and what each models (the package's docstrings say more).
POLICY_HELP: Final = {
    "accelerate": "all weights in host memory, each layer copied to the GPU when needed",
    "flexgen": "FlexGen's offloading schedule (OPT only)",
    "dejavu": "Deja Vu's predicted sparsity, weights fetched over PCIe (OPT only)",
    "hermes-host": "hot neurons on the GPU, cold ones on the host CPU",
    "hermes-base": "the NDP-DIMMs without sparsity",
    "hermes": "hot neurons on the GPU, cold ones in the NDP-DIMMs (the paper's system)",
    "gpu-only": "every weight on --n-gpus GPUs, tensor parallel over --gpu-link",
}
POLICY_NAMES: Final = tuple(POLICY_HELP)


def _policy_name(text: str) -> str:
    """One ``--policy`` value, matched as slugs are (`io.resolve_slug`: any case or separator,
    ``Hermes_Base``); an unknown one names the valid ones."""
    try:
        return io.resolve_slug(text, POLICY_NAMES, "policy")
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(POLICY_NAMES)})") from None


def _listable(kind: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """An option type taking one value or a comma-separated list of them (a grid); the text of
    an existing file is one value even if it holds a comma."""
    def parse(text: str) -> list[Any]:
        if "," not in text or Path(text).exists():
            return [kind(text)]
        parts = text.split(",")
        if any(not p.strip() for p in parts):
            raise argparse.ArgumentTypeError(f"expected a value or a comma-separated list "
                                             f"without empty items, got {text!r}")
        return [kind(p.strip()) for p in parts]
    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


#: ``estimate`` options that take a comma-separated list, making a grid of runs.
GRID_ATTRS: Final = ("model", "policy", "gpu", "link", "dimm", "n_dimms", "batch", "prompt_len",
                     "gen_len", "multipliers", "cycles_per_op")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _cycles_per_op(text: str) -> float:
    """Cycles of one bit-serial operation, within `specs.CYCLES_PER_OP_RANGE`."""
    lo, hi = CYCLES_PER_OP_RANGE
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # one message for every refused value (0, negative, inf, nan and non-numbers included)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise argparse.ArgumentTypeError(f"expected a finite number of cycles in "
                                         f"[{lo:g}, {hi:g}], got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def cmd_dimm(args: argparse.Namespace) -> None:
    from hermes_model import dram, ndp

    dimm = io.load_dimm(args.dimm, args.profile)
    if args.pattern == "stream" and args.chunk_bytes is not None:
        raise ValueError("--chunk-bytes applies to --pattern chunks only")
    chunk = (args.chunk_bytes if args.chunk_bytes is not None else 16384) \
        if args.pattern == "chunks" else None
    kw: dict[str, Any] = {"pattern": args.pattern, "chunk_bytes": chunk}
    rank_bw = float(dram.rank_bandwidth_bytes_per_s(dimm, **kw))
    payload = {
        "dimm": args.dimm, "profile": args.profile, "pattern": args.pattern, "chunk_bytes": chunk,
        "ranks_parallel": args.ranks_parallel, "ranks": dimm.n_ranks,
        "bandwidth_bytes_per_s": float(dram.dimm_bandwidth_bytes_per_s(
            dimm, ranks_parallel=args.ranks_parallel, **kw)),
        "rank_bandwidth_bytes_per_s": rank_bw,
        "efficiency": rank_bw / dimm.rank_pin_bandwidth_bytes_per_s,
        "multipliers": args.multipliers or dimm.ndp_multipliers,
        "cycles_per_op": args.cycles_per_op or dimm.ndp_cycles_per_op,
        "mac_per_s": float(ndp.dimm_mac_per_s(dimm, multipliers=args.multipliers,
                                              cycles_per_op=args.cycles_per_op)),
    }
    _emit(payload, args.json, lambda: format_table([{
        "dimm": args.dimm, "pattern": args.pattern if chunk is None else f"chunks of {chunk} B",
        "ranks_parallel": args.ranks_parallel,
        "bandwidth_GBps": payload["bandwidth_bytes_per_s"] / u.GB,
        "rank_GBps": rank_bw / u.GB, "efficiency": payload["efficiency"],
        "GMAC_per_s": payload["mac_per_s"] / 1e9}]))


def _estimate_inputs(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Model, system and assumptions of an ``estimate`` command (overrides applied)."""
    import dataclasses

    from hermes_model import policies

    from_file = io.is_file_argument(args.model, (".json",), io.model_slugs())
    borrowed = _activity_slug(args)
    if from_file:
        model = io.load_model_file(args.model)
        if args.policy in policies.SPARSE and borrowed is None:
            plain = ", ".join(p.value for p in policies.Policy if p not in policies.SPARSE)
            raise ValueError(f"--policy {args.policy} needs activation statistics, which only "
                             f"catalog models have; a config.json model runs with {plain}, or "
                             f"with a catalog model's statistics: --activity SLUG (one of "
                             f"{', '.join(io.activity_slugs())})")
    else:
        model = io.load_model(args.model)
    # checked only where the config states a context length (as the API does), named by flag
    policies.check_context(model, args.prompt_len, args.gen_len, what="--prompt-len + --gen-len")
    system = _load_system(args.system, args.profile, gpu=args.gpu, n_gpus=args.n_gpus,
                          host=args.host, host_link=args.link, gpu_link=args.gpu_link,
                          dimm=args.dimm, n_dimms=args.n_dimms)
    if args.multipliers is not None:
        system = dataclasses.replace(system, dimm=dataclasses.replace(
            system.dimm, ndp_multipliers=args.multipliers))
    inputs = io.load_generator_inputs()
    if borrowed is not None:
        activity = io.load_activity(borrowed)
    else:
        activity = (policies.activity_from_inputs(inputs[model.slug])
                    if not from_file and model.slug in inputs else None)
    kw: dict[str, Any] = {"activity": activity}
    if args.cycles_per_op is not None:
        kw["cycles_per_op"] = args.cycles_per_op
    if args.ranks_parallel is not None:
        kw["ranks_parallel"] = args.ranks_parallel
    return model, system, policies.Assumptions(**kw)


def _activity_slug(args: argparse.Namespace) -> str | None:
    """The catalog model whose activation statistics ``--activity`` borrows (its catalog
    spelling), or None where the flag is not given."""
    given = getattr(args, "activity", None)
    if given is None:
        return None
    try:
        return io.resolve_slug(given, io.activity_slugs(), "model with activation statistics")
    except ValueError as exc:
        raise ValueError(f"--activity: {exc}") from None


#: ``estimate``'s part overrides: flag, attribute, and the system field each swaps.
_PART_FLAGS: Final = (("--gpu", "gpu"), ("--n-gpus", "n_gpus"), ("--host", "host"),
                      ("--link", "link"), ("--gpu-link", "gpu_link"), ("--dimm", "dimm"),
                      ("--n-dimms", "n_dimms"), ("--multipliers", "multipliers"),
                      ("--cycles-per-op", "cycles_per_op"), ("--ranks-parallel", "ranks_parallel"))


def configuration(args: argparse.Namespace, system: Any, options: Any) -> dict[str, Any]:
    """What an ``estimate`` ran on: every part by slug, the NDP-DIMM's multipliers, cycles per
    operation and rank parallelism as used, and the flags that overrode the system (so a saved
    answer can be run again). The host link is the one the GPU really gets
    (`io.effective_pcie_link`), with the one asked for where they differ."""
    cycles = (options.cycles_per_op if options.cycles_per_op is not None
              else system.dimm.ndp_cycles_per_op)
    out: dict[str, Any] = {
        "gpu": system.gpu.slug, "n_gpus": system.n_gpus, "host": system.host.slug,
        "host_link": system.host_link.slug, "gpu_link": system.gpu_link.slug,
        "dimm": system.dimm.slug, "n_dimms": system.n_dimms,
        "ndp_multipliers": system.dimm.ndp_multipliers, "cycles_per_op": cycles,
        "ranks_parallel": options.ranks_parallel,
        "activity": _activity_slug(args),
        "overrides": {flag: getattr(args, attr) for flag, attr in _PART_FLAGS
                      if getattr(args, attr) is not None}}
    out.update(_host_link_fields(args.system, system, args.link))
    return out


def _user_fixed(args: argparse.Namespace) -> tuple[str, ...]:
    """Unstated parameters the user set on the command line: the band holds them fixed."""
    return tuple(name for name in ("cycles_per_op", "ranks_parallel")
                 if getattr(args, name) is not None)


def estimate_payload(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON answer of ``estimate`` (also used by the tests); where the configuration cannot
    run, every number is null. `args` holds one configuration (a one-item list counts as one)."""
    from hermes_model import policies

    args = argparse.Namespace(**vars(args))
    for attr in GRID_ATTRS:
        value = getattr(args, attr, None)
        if isinstance(value, list):
            if len(value) != 1:
                raise ValueError(f"estimate_payload takes one configuration; --"
                                 f"{attr.replace('_', '-')} lists {len(value)} (a grid: "
                                 "cmd_estimate)")
            setattr(args, attr, value[0])
    model, system, options = _estimate_inputs(args)
    est = policies.estimate(args.policy, model, system, batch=args.batch,
                            prompt_len=args.prompt_len, gen_len=args.gen_len, options=options)
    ok = est.supported
    payload: dict[str, Any] = {
        "policy": est.policy, "model": est.model, "system": system.slug,
        "profile": system.profile, "batch": est.batch, "prompt_len": est.prompt_len,
        "gen_len": est.gen_len, "supported": ok, "reason": est.reason,
        "tokens_per_s": est.tokens_per_s if ok else None,
        "prefill_s": est.prefill_s if ok else None,
        "decode_step_s": est.decode_step_s if ok else None,
        "total_s": est.total_s if ok else None,
        "breakdown_s": {k: v if ok else None for k, v in est.breakdown_s.items()},
        "configuration": configuration(args, system, options)}
    if args.band and ok:
        band = policies.tokens_per_s_band(args.policy, model, system, batch=args.batch,
                                          prompt_len=args.prompt_len, gen_len=args.gen_len,
                                          options=options, fixed=_user_fixed(args))
        payload["tokens_per_s_band"] = [band.low, band.high]
    return payload


def _not_supported(payload: Row, as_json: bool) -> int:
    """Report a configuration that cannot run (the paper's N.P.), exit status 3: with JSON, the
    JSON on stdout and the reason on stderr too; else a ``supported: false`` line with the reason
    on stdout."""
    if as_json:  # stdout is for the JSON; the reason goes to stderr too, for the reader
        print(json.dumps(payload, indent=2))
        print(f"not supported: {payload['reason']}", file=sys.stderr)
    else:
        print(f"supported: false - {payload['reason']}")
    return 3


def _grid(args: argparse.Namespace) -> list[argparse.Namespace]:
    """One namespace per combination of the listed ``estimate`` options (scalars in each)."""
    import itertools

    listed = {a: getattr(args, a) for a in GRID_ATTRS if isinstance(getattr(args, a), list)}
    runs = []
    for combo in itertools.product(*listed.values()):
        run = argparse.Namespace(**vars(args))
        for attr, value in zip(listed, combo, strict=True):
            setattr(run, attr, value)
        runs.append(run)
    return runs


def _grid_row(run: argparse.Namespace, varied: Sequence[str]) -> Row:
    """One grid run as a row: the varied options, then the answer (N.P. in words)."""
    try:
        payload = estimate_payload(run)
    except ValueError as exc:  # e.g. a context too long for one of the models
        payload = {"supported": False, "reason": str(exc)}
    row: Row = {a: getattr(run, a) for a in varied}
    ok = payload["supported"]
    row["tokens_per_s"] = payload["tokens_per_s"] if ok else "N.P."
    row["decode_step_ms"] = payload["decode_step_s"] * 1e3 if ok else "N.P."
    row["prefill_s"] = payload["prefill_s"] if ok else "N.P."
    if ok and "tokens_per_s_band" in payload:
        row["band_low"], row["band_high"] = payload["tokens_per_s_band"]
    row["_payload"] = payload
    return row


def cmd_estimate(args: argparse.Namespace) -> int:
    runs = _grid(args)
    varied = [a for a in GRID_ATTRS if isinstance(getattr(args, a), list)
              and len(getattr(args, a)) > 1]
    if len(runs) > 1:
        return _estimate_grid(args, runs, varied)
    args = runs[0]
    payload = estimate_payload(args)
    if not payload["supported"]:
        return _not_supported(payload, args.json)
    rows = [{"policy": payload["policy"], "model": payload["model"], "batch": payload["batch"],
             "tokens_per_s": payload["tokens_per_s"], "prefill_s": payload["prefill_s"],
             "decode_step_ms": payload["decode_step_s"] * 1e3, "total_s": payload["total_s"]}]
    if "tokens_per_s_band" in payload:
        rows[0]["band_low"], rows[0]["band_high"] = payload["tokens_per_s_band"]
    _emit(payload, args.json, lambda: format_table(rows) + "\n\n" + format_table(
        [{"category": k, "seconds": v} for k, v in payload["breakdown_s"].items()])
        + "\n\n" + _configuration_text(payload))
    return 0


def _estimate_grid(args: argparse.Namespace, runs: Sequence[argparse.Namespace],
                   varied: Sequence[str]) -> int:
    """Every combination of the listed options: a table (N.P. rows with their reasons below)
    or JSON ``{"grid": {option: values}, "rows": [estimate answers]}``; exit 0."""
    bar = _sweep_progress(False)(runs, desc="estimate", unit="run")
    rows = [_grid_row(run, varied) for run in bar]
    payloads = [r.pop("_payload") for r in rows]
    if args.json:
        print(json.dumps({"grid": {a: getattr(args, a) for a in varied}, "rows": payloads},
                         indent=2))
        return 0
    reasons = [f"N.P. {' '.join(str(r[a]) for a in varied)}: {p['reason']}"
               for r, p in zip(rows, payloads, strict=True) if not p["supported"]]
    # a host link slower than asked (clamped by the GPU or host): the link really used, by row,
    # and each distinct note under the table, as the single-run table gives it
    configs = [p.get("configuration", {}) for p in payloads]
    if any("host_link_asked" in c for c in configs):
        rows = [{**{a: r[a] for a in varied}, "host_link": c.get("host_link", "-"),
                 **{k: v for k, v in r.items() if k not in varied}}
                for r, c in zip(rows, configs, strict=True)]
        reasons += list(dict.fromkeys(f"note {c['host_link_note']}" for c in configs
                                      if "host_link_note" in c))
    fixed = runs[0]
    same = ", ".join(f"{a.replace('_', '-')} {getattr(fixed, a)}" for a in GRID_ATTRS
                     if a not in varied and getattr(fixed, a) is not None)
    print(format_table(rows) + "\n" + "\n".join(reasons)
          + f"\n{len(rows)} runs; fixed: {same}; system {fixed.system} "
            f"({fixed.profile} profile)")
    return 0


def _configuration_text(payload: Row) -> str:
    """A few short lines: the system and parts the answer is for, and the overrides."""
    c = payload["configuration"]
    ranks = "ranks in parallel" if c["ranks_parallel"] else "ranks on one bus"
    lines = [f"system     {payload['system']} ({payload['profile']} profile)",
             f"gpu        {c['n_gpus']} x {c['gpu']}",
             f"host       {c['host']} over {c['host_link']}",
             (f"dimms      {c['n_dimms']} x {c['dimm']}: {c['ndp_multipliers']} multipliers, "
              f"{c['cycles_per_op']:g} cycles/op, {ranks}")]
    if c.get("activity") is not None:
        lines.append(f"activity   {c['activity']}'s activation statistics (--activity)")
    if "host_link_note" in c:
        lines.append(f"note       {c['host_link_note']}")
    if c["overrides"]:
        lines.append("overrides  " + " ".join(f"{k} {v}" for k, v in c["overrides"].items()))
    return "\n".join(lines)


def bench_estimate_per_s() -> float:
    """Hermes estimates per second (LLaMA2-70B, batch 1, 128/128, after the first call)."""
    from hermes_model import policies

    model, system = io.load_model("llama2_70b"), io.load_system("hermes_paper")
    opts = policies.Assumptions(activity=policies.activity_from_inputs(
        io.load_generator_inputs()["llama2_70b"]))
    policies.estimate("hermes", model, system, options=opts)
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < 0.5:
        policies.estimate("hermes", model, system, options=opts)
        n += 1
    return n / (time.perf_counter() - t)


def bench_figures_9_to_11_s() -> float:
    """Seconds to compute every bar of Figs. 9, 10 and 11 (models loaded inside)."""
    from hermes_model import policies

    t = time.perf_counter()
    system = io.load_system("hermes_paper")
    inputs = io.load_generator_inputs()
    for fig in ("fig9", "fig10", "fig11"):
        df = io.load_paper_figure(fig)
        for slug, rows in df.groupby("model"):
            model = io.load_model(str(slug))
            opts = policies.Assumptions(activity=policies.activity_from_inputs(inputs[str(slug)]))
            for pol, batch in zip(rows["policy"], rows["batch"], strict=True):
                policies.estimate(str(pol), model, system, batch=int(batch), options=opts)
    return time.perf_counter() - t


def _sweep_progress(quiet: bool) -> Any:
    """A tqdm bar on stderr, shown once a sweep runs past half a second; off when `quiet` or
    when stderr is not a terminal."""
    from functools import partial

    from tqdm import tqdm

    return partial(tqdm, file=sys.stderr, delay=0.5, leave=False,
                   disable=quiet or not sys.stderr.isatty())


def sweep_frames(figure: str, profile: str = "paper", progress: Any = None) -> dict[str, Any]:
    """The sweeps of one figure of the sensitivity and cost chapters (issue 10), as DataFrames:
    ``14`` (NDP-DIMM count), ``15`` (GPU), ``17`` (against gpu-only on 5x A100, and readings of
    that deployment) or ``bands`` (every bar of Figs. 9-11 over the unstated parameters)."""
    from functools import partial

    import pandas as pd

    from hermes_model import policies, sweeps

    acts = {k: policies.activity_from_inputs(v) for k, v in io.load_generator_inputs().items()}
    system_for = partial(io.load_system, "hermes_paper", profile)
    if figure == "14":
        models = {s: io.load_model(s) for s in sweeps.FIG14_MODELS}
        return {"fig14": sweeps.dimm_sweep(models, acts, system_for, progress=progress)}
    if figure == "15":
        models = {s: io.load_model(s) for s in sweeps.FIG15_MODELS}
        df = sweeps.gpu_sweep(models, acts, system_for, progress=progress)
        return {"fig15": df, "speedups": sweeps.gpu_speedups(df)}
    if figure == "17":
        model = io.load_model(sweeps.FIG17_MODEL)
        ref = system_for(gpu=sweeps.FIG17_GPU, n_gpus=sweeps.FIG17_N_GPUS)
        return {"fig17": sweeps.cost_sweep(model, acts.get(model.slug), system_for(), ref,
                                           progress=progress),
                "deployments": sweeps.deployment_sweep(model, system_for, progress=progress)}
    if figure != "bands":
        raise ValueError(f"unknown figure {figure!r}; valid: 14, 15, 17, bands")
    bars = pd.concat([io.load_paper_figure(f)[["model", "policy", "batch"]]
                      for f in ("fig9", "fig10", "fig11")]).drop_duplicates(ignore_index=True)
    models = {s: io.load_model(s) for s in bars["model"].unique()}
    bands, oat = sweeps.band_sweep(bars, models, acts, system_for(), progress=progress)
    return {"bands": bands, "one_at_a_time": oat, "influence": sweeps.influence(oat)}


def cmd_sweep(args: argparse.Namespace) -> None:
    frames = sweep_frames(args.figure, args.profile, _sweep_progress(args.quiet))
    payload = {"figure": args.figure, "profile": args.profile,
               **{k: json.loads(df.to_json(orient="records")) for k, df in frames.items()}}
    _emit(payload, args.json, lambda: "\n\n".join(
        f"{k}\n" + sweep_table_text(k, df) for k, df in frames.items()))


#: Notes printed under a sweep table, by frame name.
_SWEEP_NOTES: Final = {
    "speedups": "speedup: Hermes' tokens/s with the RTX 4090 over those with the GPU in 'over'",
    "fig17": "efficiency: Hermes' tokens/s over the reference's (5 x A100-40GB, tensor parallel "
             "over NVLink, every weight resident)",
    "one_at_a_time": "end: low is the range's pessimistic end at batch 1, high its optimistic "
                     "one (for gpu_workspace_frac, 0.20 and 0.05); for host_kv_on_gpu the "
                     "better end depends on the batch",
}


def sweep_table_text(name: str, df: Any) -> str:
    """One sweep frame as a terminal table: byte counts in GiB, N.P. in the cells of a
    configuration that cannot run (its reasons listed below), and the frame's note."""
    import pandas as pd

    df = df[[c for c in df.columns if not c.startswith("step_")]].copy()
    for col in [c for c in df.columns if c.endswith("_bytes")]:
        df[col.removesuffix("_bytes") + "_GiB"] = df.pop(col) / u.GiB
    reasons: list[str] = []
    if "supported" in df.columns:
        bad = ~df["supported"].astype(bool)
        numeric = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
        df[numeric] = df[numeric].astype(object)
        df.loc[bad, [c for c in numeric if df.loc[bad, c].isna().all()]] = "N.P."
        if "reason" in df.columns:
            keys = [c for c in ("model", "n_dimms", "gpu", "deployment", "batch")
                    if c in df.columns]
            reasons = [f"N.P. {' '.join(str(r[k]) for k in keys)}: {r['reason']}"
                       for r in df[bad].to_dict(orient="records")]
    text = format_table(df.drop(columns=["reason"], errors="ignore").to_dict(orient="records"))
    notes = [*reasons, *([_SWEEP_NOTES[name]] if name in _SWEEP_NOTES else [])]
    return text + ("\n" + "\n".join(notes) if notes else "")


def bench_sweeps_s() -> float:
    """Seconds to run every sweep of the sensitivity and cost chapters (Figs. 14, 15, 17, bands)."""
    t = time.perf_counter()
    for figure in ("14", "15", "17", "bands"):
        sweep_frames(figure)
    return time.perf_counter() - t


def book_notebooks() -> list[Any]:
    """The chapters named in ``_toc.yml`` (notebooks only), in book order."""
    root = io.data_dir().parent
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(io.read_yaml(root / "_toc.yml"))
    return [root / f"{f}.ipynb" for f in found if (root / f"{f}.ipynb").is_file()]


# The kernel's own log stays at errors: ipykernel 7 warns, once per notebook, that a local kernel
# talks over TCP without encryption, which is noise for a benchmark (cell stderr still shows).
KERNEL_QUIET_ARGS = ("--IPKernelApp.log_level=ERROR",)


def execute_notebooks_s(paths: Sequence[Any], *, timeout_s: float = 600.0) -> float:
    """Seconds to execute each notebook once, in-process with nbclient (kernel ``python3``,
    working directory the notebook's folder, as the book build runs them); nothing is written."""
    import nbclient
    import nbformat

    t = time.perf_counter()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                                extra_arguments=list(KERNEL_QUIET_ARGS),
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - t


def bench_book_execute_s() -> float:
    """Seconds to execute every chapter of ``_toc.yml`` once with its defaults (issue 11)."""
    return execute_notebooks_s(book_notebooks())


def cmd_bench(args: argparse.Namespace) -> None:
    # op_vectorised_per_s leads (issue 2); the rest follow in registry order.
    names = sorted(BENCHMARKS, key=lambda name: name != "op_vectorised_per_s")
    if args.only:
        unknown = [n for n in args.only if n not in BENCHMARKS]
        if unknown:
            raise ValueError(f"--only: unknown benchmark(s) {', '.join(unknown)}; valid: "
                             f"{', '.join(names)}")
        names = [n for n in names if n in args.only]
    bar = _sweep_progress(args.quiet)(names, desc="bench", unit="benchmark")
    results = {}
    for name in bar:
        bar.set_postfix_str(name)
        results[name] = BENCHMARKS[name]()
    _emit(results, args.json, lambda: format_table(
        [{"benchmark": k, "value": v, "unit": _bench_unit(k)} for k, v in results.items()]))


def _bench_unit(name: str) -> str:
    """The unit of a benchmark, read from its name's suffix."""
    if name.endswith("_per_s"):
        return "per s"
    if name.endswith("_s"):
        return "s"
    return "ratio"


# ------------------------------------------------------------------------------------- parser


def _part_flags(p: argparse.ArgumentParser) -> None:
    """``--gpu``, ``--dimm``, ``--n-dimms`` and ``--link``: swap one part of the system."""
    p.add_argument("--gpu", default=None, help="override: GPU slug")
    p.add_argument("--dimm", default=None, help="override: NDP-DIMM slug")
    p.add_argument("--n-dimms", type=_positive_int, default=None, help="override: NDP-DIMMs")
    p.add_argument("--link", default=None, help="override: host link slug (a PCIe link)")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    parser = _Parser(prog="python -m hermes_model", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hermes_model {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, help_: str, func: Callable[[argparse.Namespace], None],
            profile: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        if profile:
            p.add_argument("--profile", choices=PROFILES, default="paper", type=str.lower,
                           help="peak values as the paper states them, or the vendor's "
                                "(default paper)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.set_defaults(func=func, subparser=p)
        return p

    add("hardware", "list the hardware catalog", cmd_hardware)
    add("models", "list the models and their shapes", cmd_models, profile=False)
    op = add("op", "roofline time of an M×K by K×N matrix product on one device", cmd_op)
    op.add_argument("--device", required=True, help="a GPU, host CPU or NDP-DIMM slug")
    op.add_argument("--m", type=_positive_int, required=True, help="rows of the input (batch)")
    op.add_argument("--n", type=_positive_int, required=True, help="output features")
    op.add_argument("--k", type=_positive_int, required=True, help="input features")
    op.add_argument("--dtype", choices=("fp16", "bf16"), default="fp16",
                    help="weight and activation type, 2 bytes either way (default fp16; the "
                         "catalog's tensor rate is the FP16 one)")
    dimm = add("dimm", "read bandwidth and MAC rate of one NDP-DIMM from its DRAM timings", cmd_dimm)
    dimm.add_argument("--dimm", required=True, help="an NDP-DIMM slug")
    dimm.add_argument("--pattern", choices=("stream", "chunks"), default="stream",
                      help="a long sequential read, or chunks at random chunk-aligned addresses")
    dimm.add_argument("--chunk-bytes", type=_positive_int, default=None,
                      help="bytes per chunk for --pattern chunks (default 16384)")
    dimm.add_argument("--ranks-parallel", type=_bool, default=True,
                      help="true: every rank feeds the core at once (default); false: one shared bus")
    dimm.add_argument("--multipliers", type=_positive_int, default=None,
                      help="multipliers of the GEMV unit (default: the catalog's)")
    dimm.add_argument("--cycles-per-op", type=_cycles_per_op, default=None,
                      help="cycles of one bit-serial 8xFP16 operation, 0.1 to 1000 "
                           "(default: the catalog's)")
    spars = add("sparsity", "statistics of a generated activation trace of one model",
                cmd_sparsity, profile=False)
    spars.add_argument("--model", required=True, help="a model slug (see 'models')")
    spars.add_argument("--tokens", type=_positive_int, default=8192,
                       help="tokens to generate, in 128-token sequences (default 8192)")
    spars.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    spars.add_argument("--activation", choices=("relu", "swiglu"), default="relu",
                       help="ReLU-fied statistics (the paper's) or the original SwiGLU")
    spars.add_argument("--layers", type=_positive_int, default=2,
                       help="layers to generate (default 2; layers are statistically alike)")
    est = add("estimate", "tokens/s, prefill, decode step and breakdown of one system policy; "
              "comma-separated values of --model, --policy, --gpu, --link, --dimm, --n-dimms, "
              "--batch, --prompt-len, --gen-len, --multipliers or --cycles-per-op run every "
              "combination (a grid, one row each)", cmd_estimate)
    est.add_argument("--model", required=True, type=_listable(str),
                     help="a model slug, or the path of a HuggingFace config.json (a file model "
                          "has no activation statistics: it runs with accelerate, flexgen, "
                          "hermes-base or gpu-only, or with --activity SLUG)")
    est.add_argument("--policy", required=True, type=_listable(_policy_name),
                     metavar="{" + ",".join(POLICY_NAMES) + "}",
                     help="the system to model: " + "; ".join(
                         f"{k}: {v}" for k, v in POLICY_HELP.items()))
    est.add_argument("--system", default="hermes_paper",
                     help="a system slug, or the path of a system YAML file (ending in .yaml or "
                          ".yml; the schema of data/catalog/systems/, parts named by slug)")
    est.add_argument("--batch", type=_listable(_positive_int), default=[1],
                     help="sequences decoded together (default 1)")
    est.add_argument("--prompt-len", type=_listable(_positive_int), default=[128],
                     help="prompt tokens (default 128; prompt + generated <= the model's "
                          "max_position_embeddings, where its config states it)")
    est.add_argument("--gen-len", type=_listable(_positive_int), default=[128],
                     help="generated tokens per sequence (default 128)")
    est.add_argument("--activity", default=None, metavar="SLUG",
                     help="run with this catalog model's activation statistics (densities, "
                          "hot shares, similarity) instead of the model's own: a what-if, and "
                          "the way a config.json model runs hermes, hermes-host or dejavu")
    est.add_argument("--band", action="store_true",
                     help="also the tokens/s band over the unstated parameters "
                          "(those set with --cycles-per-op or --ranks-parallel stay fixed)")
    for flag, kind, what in (("--gpu", str, "GPU slug"), ("--n-gpus", _positive_int, "GPUs"),
                             ("--link", str, "host link slug (a PCIe link)"),
                             ("--gpu-link", str, "GPU-GPU link slug (an NVLink or PCIe link)"),
                             ("--host", str, "host slug"), ("--dimm", str, "NDP-DIMM slug"),
                             ("--n-dimms", _positive_int, "NDP-DIMMs"),
                             ("--multipliers", _positive_int, "multipliers per GEMV unit"),
                             ("--cycles-per-op", _cycles_per_op,
                              "cycles per bit-serial op, 0.1 to 1000")):
        listed = flag.lstrip("-").replace("-", "_") in GRID_ATTRS
        est.add_argument(flag, type=_listable(kind) if listed else kind, default=None,
                         help=f"override: {what}")
    est.add_argument("--ranks-parallel", type=_bool, default=None,
                     help="override: ranks read in parallel by the NDP core (true/false)")
    part = add("partition", "Hermes' offline neuron partition (Eq. 1-7) by the fast solver",
               cmd_partition)
    part.add_argument("--model", default="llama2_70b",
                      help="a catalog model slug (default llama2_70b)")
    part.add_argument("--system", default="hermes_paper",
                      help="a catalog system slug or a system YAML file (default hermes_paper)")
    part.add_argument("--batch", type=_positive_int, default=1,
                      help="sequences per step (a batch whose weights and KV cache overflow the "
                           "NDP-DIMM pool is not supported, as in 'estimate --policy hermes')")
    _part_flags(part)
    pred = add("predictor", "score Hermes' 4-bit predictor on real or generated masks",
               cmd_predictor, profile=False)
    pred.add_argument("--model", default="minilm",
                      help="minilm (real masks, the default) or a catalog model slug "
                           "(generated trace)")
    pred.add_argument("--system", default="hermes_paper", help="accepted for symmetry; unused")
    pred.add_argument("--seed", type=_seed, default=0, help="seed of the generated trace")
    bal = add("balance", "imbalance of cold neurons over the NDP-DIMMs: static vs window remapping",
              cmd_balance)
    bal.add_argument("--model", default="llama2_13b",
                     help="a catalog model slug (default llama2_13b)")
    bal.add_argument("--system", default="hermes_paper",
                     help="a catalog system slug or a system YAML file (default hermes_paper)")
    bal.add_argument("--batch", type=_positive_int, default=1,
                     help="sequences per step: 1, 2, 4 or 8 (a divisor of the 8 replayed sequences)")
    bal.add_argument("--seed", type=_seed, default=0, help="seed of the generated trace")
    _part_flags(bal)
    swp = add("sweep", "the sweeps of Figs. 14, 15, 17 and the bands over the unstated "
              "parameters", cmd_sweep)
    swp.add_argument("--figure", required=True, choices=("14", "15", "17", "bands"),
                     help="14: NDP-DIMM count; 15: GPU; 17: Hermes against 5 A100s; bands: "
                          "the tokens/s band of every Fig. 9-11 bar over the unstated parameters")
    swp.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    bench = add("bench", "time the package's own hot paths and execute the book once (about "
                "4 minutes on 2 cores; book_execute_s alone is most of it)", cmd_bench,
                profile=False)
    bench.add_argument("--only", nargs="+", metavar="NAME", default=None,
                       help="run only these benchmarks (names as in the output)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    return parser


def _canonical_slugs(args: argparse.Namespace) -> None:
    """Spell every slug option as the catalog does (``--model OPT-13B`` is ``opt_13b``), so
    that tables, JSON and lookups by slug agree; files stay paths, ``minilm`` stays. An unknown
    slug is an error naming the flag."""
    def one(value: str, valid: Sequence[str], what: str, attr: str) -> str:
        try:
            return io.resolve_slug(value, valid, what)
        except ValueError as exc:
            raise ValueError(f"--{attr.replace('_', '-')}: {exc}") from None

    def resolve(attr: str, valid: Sequence[str], what: str) -> None:
        value = getattr(args, attr)
        setattr(args, attr, [one(v, valid, what, attr) for v in value] if isinstance(value, list)
                else one(value, valid, what, attr))

    kinds = {"gpu": ("gpus", "GPU"), "host": ("hosts", "host"), "link": ("links", "link"),
             "gpu_link": ("links", "link"), "dimm": ("dimms", "DIMM")}
    for attr, (kind, what) in kinds.items():
        if getattr(args, attr, None) is not None:
            resolve(attr, io.catalog_slugs(kind), what)
    system = getattr(args, "system", None)
    if system is not None and not io.is_file_argument(system, (".yaml", ".yml"),
                                                      io.catalog_slugs("systems")):
        resolve("system", io.catalog_slugs("systems"), "system")
    model = getattr(args, "model", None)
    if model is not None:
        extra = ["minilm"] if args.command == "predictor" else []
        valid = [*extra, *io.model_slugs()]
        models = model if isinstance(model, list) else [model]
        fixed = [m if io.is_file_argument(m, (".json",), io.model_slugs())
                 else one(m, valid, "model", "model") for m in models]
        args.model = fixed if isinstance(model, list) else fixed[0]
    if getattr(args, "device", None) is not None:
        resolve("device", io.device_slugs(), "device")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (2 for bad input; 1 if stdout closed early)."""
    args, extra = build_parser().parse_known_args(argv)
    if extra:  # the subcommand's own usage error, pointing to its --help
        args.subparser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        _canonical_slugs(args)
        status = args.func(args) or 0
        sys.stdout.flush()  # a closed pipe raises here, inside the try
    except BrokenPipeError:
        # The Python docs' handling of SIGPIPE: send what is left to devnull, exit 1.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return status
