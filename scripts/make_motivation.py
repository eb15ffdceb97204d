#!/usr/bin/env python3
"""Precompute the motivation numbers of §III-B and §IV-A that the scorecard scores.

Purpose
    §III-B: of LLaMA2-70B's initially-hot neurons, how many change status during decode, and
    how much slower a partition fixed after prefill is than a per-token oracle. §IV-A: OPT-66B's
    cold-neuron migration (Algorithm 1's moves) over DIMM-link and through the host. Each case
    generates four full-width layers and replays them, about 10 s, more than the scorecard
    chapter may spend, so the numbers are computed here.

Inputs
    The catalog (system ``hermes_paper``, profile ``paper``), the models' configs and the
    sparsity generator's targets (``data/paper/sparsity_generator_inputs.csv``); no paper
    result is read.

Method
    ``scheduling.make_case`` (seed below; 4 generated MLP layers of full width, 16 sequences of
    128 prompt + 128 generated tokens, batch 1; the offline partition of
    ``partition.solve_fast`` sets the GPU's neurons per layer), then for LLaMA2-70B
    ``scheduling.stability_case`` (the GPU set fixed after prefill: top-k by prefill frequency;
    flips: the predictor state falls to T_h = 10 or below at least once in the 128 decode
    tokens; fixed vs oracle: MLP-block latency per decode step, the oracle re-partitioning each
    token with the same GPU memory and an even DIMM load) and for OPT-66B
    ``scheduling.balance_case`` (Algorithm 1 on the previous window's counts; its moves timed
    with ``ndp.dimm_link_move`` and ``ndp.host_move``, per decode token of the whole model).

Outputs
    ``data/derived/motivation.csv``: model, batch, quantity, value, unit (long format).

Usage
    .venv/bin/python scripts/make_motivation.py     # about 30 s on 2 cores

Deterministic for a given seed and package version.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from hermes_model import io, ndp, scheduling
from hermes_model.cli import sparsity_targets

SEED = 20250224
STABILITY_MODEL = "llama2_70b"
MIGRATION_MODEL = "opt_66b"
BATCH = 1
N_LAYERS_SIM = 4
N_SEQUENCES = 16


def _case(slug: str, system, key: int) -> tuple:
    model = io.load_model(slug)
    rng = np.random.default_rng([SEED, 100 + key])
    case = scheduling.make_case(model, system, sparsity_targets(slug, "relu"), batch=BATCH,
                                rng=rng, n_layers_sim=N_LAYERS_SIM, n_sequences=N_SEQUENCES)
    return model, case


def main() -> None:
    system = io.load_system("hermes_paper")
    rows: list[dict] = []

    def add(slug: str, quantity: str, value: float, unit: str) -> None:
        rows.append({"model": slug, "batch": BATCH, "quantity": quantity, "value": value,
                     "unit": unit})

    start = time.perf_counter()
    _, case = _case(STABILITY_MODEL, system, 0)
    st = scheduling.stability_case(case)
    add(STABILITY_MODEL, "gpu_set_flip_share", st.flips.share, "fraction")
    add(STABILITY_MODEL, "state_set_flip_share", st.state_flips.share, "fraction")
    add(STABILITY_MODEL, "topk_changed_share", st.topk_changed_share, "fraction")
    add(STABILITY_MODEL, "gpu_neurons_per_layer", float(case.hot0.sum(axis=1).mean()), "neurons")
    add(STABILITY_MODEL, "fixed_mlp_s_per_token", st.fixed_latency_s, "s")
    add(STABILITY_MODEL, "oracle_mlp_s_per_token", st.oracle_latency_s, "s")
    add(STABILITY_MODEL, "fixed_over_oracle", st.fixed_over_oracle, "x")
    print(f"{STABILITY_MODEL}: {time.perf_counter() - start:.1f} s", flush=True)

    start = time.perf_counter()
    model, case = _case(MIGRATION_MODEL, system, 1)
    m = scheduling.balance_case(case, system).migration
    scale = model.n_layers / N_LAYERS_SIM
    add(MIGRATION_MODEL, "migrated_bytes_per_token", m.bytes_per_step * scale, "B")
    add(MIGRATION_MODEL, "link_s_per_token", m.link_s_per_step * scale, "s")
    add(MIGRATION_MODEL, "host_s_per_token", m.host_s_per_step * scale, "s")
    add(MIGRATION_MODEL, "link_exposed_s_per_token", m.link_exposed_s_per_step * scale, "s")
    add(MIGRATION_MODEL, "host_exposed_s_per_token", m.host_exposed_s_per_step * scale, "s")
    one_link = ndp.dimm_link_move(case.neuron_bytes, system.dimm_link)
    one_host = ndp.host_move(case.neuron_bytes, system.dimm,
                             host_overhead_s=system.host.kernel_overhead_s)
    add(MIGRATION_MODEL, "host_over_link_per_neuron", float(one_host.time_s / one_link.time_s), "x")
    add(MIGRATION_MODEL, "projection_s", case.projection_s, "s")
    print(f"{MIGRATION_MODEL}: {time.perf_counter() - start:.1f} s", flush=True)

    out = io.data_dir() / "derived"
    out.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "motivation.csv", index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
