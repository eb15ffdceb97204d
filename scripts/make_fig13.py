#!/usr/bin/env python3
"""Precompute the Fig. 13 ablation and the DIMM-imbalance table (issue 8).

Purpose
    The scheduling chapter compares the six variants of Hermes' ablation (Fig. 13: MLP-block
    latency of LLaMA2-13B and LLaMA2-70B at batch 1, 4, 16) and the imbalance of static vs
    window-remapped cold-neuron placements. Replaying the online adjustment over full-width
    layers takes minutes, more than a chapter may (20 s), so the numbers are computed here.

Inputs
    The catalog (system ``hermes_paper``, profile ``paper``), the models' configs, and the
    sparsity generator's targets (``data/paper/sparsity_generator_inputs.csv``); no paper
    result is read.

Method
    Per model and batch size: ``scheduling.make_case`` (seed below; 4 generated MLP layers of
    full width, 16 sequences of 128 prompt + 128 generated tokens, batched by union; the
    offline partition of ``partition.solve_fast``), then ``scheduling.balance_case`` and
    ``scheduling.ablation_case``.

Outputs
    ``data/derived/fig13_ablation.csv``: model, batch, variant, latency_s (MLP block per decode
    step, whole model), gpu_load_share.
    ``data/derived/balance.csv``: model, batch, placement (static / remapped / hindsight /
    adjustment_static / adjustment_remapped), imbalance_window, imbalance_per_token,
    layer-window percentiles p5/p50/p95, and (remapped rows) migration per decode step
    (``*_per_step``: a step decodes ``batch`` tokens, one per sequence).

Usage
    .venv/bin/python scripts/make_fig13.py     # about 6 minutes on 2 cores

Deterministic for a given seed and package version; re-running after a model change may
change the numbers (that is the point).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from hermes_model import io, scheduling
from hermes_model.cli import sparsity_targets

SEED = 20250224
MODELS = ("llama2_13b", "llama2_70b")
BATCHES = (1, 4, 16)
N_LAYERS_SIM = 4
N_SEQUENCES = 16


def _imb_row(model: str, batch: int, placement: str, imb: scheduling.Imbalance) -> dict:
    p5, p50, p95 = imb.layer_window_percentiles((5, 50, 95))
    return {"model": model, "batch": batch, "placement": placement,
            "imbalance_window": imb.window, "imbalance_per_token": imb.per_token,
            "layer_window_p5": p5, "layer_window_p50": p50, "layer_window_p95": p95}


def main() -> None:
    system = io.load_system("hermes_paper")
    abl_rows, bal_rows = [], []
    for slug in MODELS:
        model = io.load_model(slug)
        targets = sparsity_targets(slug, "relu")
        for batch in BATCHES:
            start = time.perf_counter()
            rng = np.random.default_rng([SEED, BATCHES.index(batch), MODELS.index(slug)])
            case = scheduling.make_case(model, system, targets, batch=batch, rng=rng,
                                        n_layers_sim=N_LAYERS_SIM, n_sequences=N_SEQUENCES)
            bal = scheduling.balance_case(case, system)
            abl = scheduling.ablation_case(case, rng)
            abl_rows.extend({"model": slug, "batch": batch, "variant": name,
                             "latency_s": abl.latency_s[name],
                             "gpu_load_share": abl.gpu_load_share[name]}
                            for name in scheduling.VARIANTS)
            scale = model.n_layers / N_LAYERS_SIM
            for placement, imb in (("static", bal.static), ("remapped", bal.remapped),
                                   ("hindsight", bal.hindsight),
                                   ("adjustment_static", abl.imbalance_static),
                                   ("adjustment_remapped", abl.imbalance_remapped)):
                row = _imb_row(slug, batch, placement, imb)
                if placement == "remapped":
                    m = bal.migration
                    row.update({
                        "migrated_bytes_per_step": m.bytes_per_step * scale,
                        "link_s_per_step": m.link_s_per_step * scale,
                        "host_s_per_step": m.host_s_per_step * scale,
                        "link_exposed_s_per_step": m.link_exposed_s_per_step * scale,
                        "host_exposed_s_per_step": m.host_exposed_s_per_step * scale,
                        "link_energy_j_per_step": m.link_energy_j_per_step * scale,
                        "projection_s": case.projection_s,
                        "moves_per_pair": case.moves_per_pair,
                        "swaps_per_step": case.swaps_per_step,
                        "gpu_neuron_share": float(case.hot0.mean())})
                bal_rows.append(row)
            print(f"{slug} batch {batch}: {time.perf_counter() - start:.1f} s", flush=True)
    out = io.data_dir() / "derived"
    out.mkdir(exist_ok=True)
    pd.DataFrame(abl_rows).to_csv(out / "fig13_ablation.csv", index=False, float_format="%.6g")
    pd.DataFrame(bal_rows).to_csv(out / "balance.csv", index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
