#!/usr/bin/env python3
"""Precompute the generator's validation on MiniLM's held-out measurements (issue 6).

Purpose
    The sparsity chapter shows how the activation-trace generator, fitted to half of MiniLM's
    measured masks, compares with the other half. Fitting (a trial trace per candidate coupled
    share) and generating the replicates take about 9 s, too much of a chapter's 20 s, so the
    table is computed here.

Inputs
    ``data/activations/minilm_masks.npz`` (measured: 2,048 tokens of 22 sequences, 6 layers of
    1,536 FFN neurons), read with ``io.load_activation_masks``. No paper value is read.

Method
    ``sparsity.held_out_validation`` (seeds below): the generator is fitted on the even-numbered
    sequences (``sparsity.fit_to_measured``); replicates with the odd-numbered sequences' count
    and lengths are generated and their statistics averaged; each is compared with the held-out
    sequences' own, against ``sparsity.HELD_OUT_TOLERANCES`` (fixed before the first run).
    ``tests/test_sparsity.py`` runs the same call and checks that this file equals it.

Outputs
    ``data/derived/sparsity_validation_minilm.csv``: one row per statistic (density, hot share
    for 80 %, similarity at d = 1, 5, 10, 25, layer correlation, and the frequency quantile of
    10–90 % where real and generated differ most); columns ``statistic``, ``real`` (measured,
    held-out MiniLM), ``generated`` (model, mean of the replicates), ``abs_diff``,
    ``tolerance``, ``within`` (``abs_diff <= tolerance``). Floats at full precision.

Usage
    .venv/bin/python scripts/make_sparsity_validation.py     # about 10 s on 2 cores

Deterministic for the seeds below and the package version; re-run it after a change to the
generator (the unit test fails until then).
"""

from __future__ import annotations

import time

import numpy as np

from hermes_model import io
from hermes_model import sparsity as sp

FIT_SEED = 2024  # draws the fit's trial traces (one per candidate coupled share)
GEN_SEED = 7  # draws the generated replicates
N_REPLICATES = 4  # generated replicates of the held-out half, averaged


def main() -> None:
    start = time.perf_counter()
    active, seq_id, _ = io.load_activation_masks("minilm")
    validation = sp.held_out_validation(active, seq_id, fit_rng=np.random.default_rng(FIT_SEED),
                                        gen_rng=np.random.default_rng(GEN_SEED),
                                        n_replicates=N_REPLICATES)
    table = validation.table()
    out = io.data_dir() / "derived"
    out.mkdir(exist_ok=True)
    table.to_csv(out / "sparsity_validation_minilm.csv", index=False)
    print(f"{int(table['within'].sum())} of {len(table)} statistics within tolerance; "
          f"{time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
