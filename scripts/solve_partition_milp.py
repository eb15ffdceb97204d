#!/usr/bin/env python3
"""Reference MILP of Hermes' offline partition (Eq. 1–7) on the six paper models: the fixed instances.

Purpose
    Certify the fast solver (`hermes_model.partition.solve_fast`): for each paper model on the
    ``hermes_paper`` system (paper profile, batch 1), group every FC block's neurons into 32
    equal-count frequency buckets (`partition.bucket_problem`), solve that instance with HiGHS
    through ``scipy.optimize.milp`` (integer counts per bucket and unit, 8 DIMMs, 60 s limit), and
    record HiGHS's best objective and best dual bound (``res.mip_dual_bound``, whether or not it
    proves optimality). The fast solver's gap on an instance is
    ``(fast - dual bound) / dual bound``; the CLI's ``bench`` recomputes it from this file.

Inputs
    ``data/catalog`` (system), ``data/models`` (shapes), ``data/paper/sparsity_generator_inputs.csv``
    (density and hot share per model, through `sparsity.model_targets`). All deterministic.

Output
    ``data/derived/partition_milp.csv``: one row per model.

Usage
    .venv/bin/python scripts/solve_partition_milp.py [--time-limit 60]

Runs in at most 6 × 60 s plus set-up on two cores. A frozen snapshot: rerun after a change to the
partition model, the catalog or the sparsity inputs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from hermes_model import cli, io
from hermes_model import partition as pt

MODELS = ("opt_13b", "opt_30b", "opt_66b", "llama2_13b", "llama2_70b", "falcon_40b")
SYSTEM = "hermes_paper"
N_BUCKETS = 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    args = parser.parse_args()
    system = io.load_system(SYSTEM)
    rows = []
    for slug in MODELS:
        model = io.load_model(slug)
        mlp, qkv = pt.model_frequencies(model, cli.sparsity_targets(slug, "relu"))
        problem = pt.bucket_problem(pt.model_problem(model, system, mlp, qkv), N_BUCKETS)
        start = time.perf_counter()
        res = pt.solve_milp(problem, time_limit_s=args.time_limit)
        milp_s = time.perf_counter() - start
        fast = pt.solve_fast(problem)
        rows.append({
            "model": slug, "system": SYSTEM, "n_buckets": N_BUCKETS, "n_dimms": problem.n_dimms,
            "n_layers": problem.n_layers, "n_classes": problem.count.size,
            "status": res.status, "message": res.message, "time_s": round(milp_s, 2),
            "milp_objective_s": res.objective_s, "milp_dual_bound_s": res.dual_bound_s,
            "fast_objective_s": fast.cost.objective_s,
            "fast_lower_bound_s": fast.lower_bound_s,
            "fast_gap_vs_dual": (fast.cost.objective_s - res.dual_bound_s) / res.dual_bound_s,
        })
        print(f"{slug}: status {res.status}, {milp_s:.1f} s, gap {rows[-1]['fast_gap_vs_dual']:.2e}",
              flush=True)
    out = Path(io.data_dir()) / "derived" / "partition_milp.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out, index=False, float_format="%.9g")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
