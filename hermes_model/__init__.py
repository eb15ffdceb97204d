"""hermes_model: analytical models behind the hermes-study book (Hermes, HPCA 2025, re-derived).

Import as ``import hermes_model as hm``. Specs are frozen dataclasses in SI units, loaded from the
catalog through `hermes_model.io`; model code is pure functions.
"""

import importlib
from typing import Any

from hermes_model import io, roofline, shapes, specs, units
from hermes_model.io import (
    catalog_slugs,
    load_activity,
    load_device,
    load_dimm,
    load_gpu,
    load_host,
    load_link,
    load_model,
    load_system,
    model_slugs,
)
from hermes_model.roofline import OpTime, matmul_time, op_time, transfer_time_s
from hermes_model.shapes import ModelSpec
from hermes_model.specs import DimmSpec, GpuSpec, HostSpec, LinkSpec, SystemSpec

__version__ = "0.1.0"

#: Names of `hermes_model.policies` also reached as ``hm.<name>`` (imported on first use too):
#: ``hm.estimate("hermes", model, system, options=hm.Assumptions(activity=...))``.
LAZY_NAMES = dict.fromkeys(("Activity", "Assumptions", "Estimate", "Policy", "estimate",
                           "tokens_per_s_band"), "policies")

#: Submodules imported on first use (``hm.sparsity``): importing them all up front (scipy,
#: altair) would double the start-up time of ``python -m hermes_model op``.
SUBMODULES = ("calibration", "dram", "ndp", "sparsity", "partition", "predictor", "scheduling",
              "policies", "sweeps", "whatif", "scorecard", "plotting", "params", "cli")

__all__ = [
    "Activity", "Assumptions", "DimmSpec", "Estimate", "GpuSpec", "HostSpec", "LinkSpec",
    "ModelSpec", "OpTime", "Policy", "SystemSpec",
    "calibration", "catalog_slugs", "cli", "dram", "estimate", "io", "load_activity",
    "load_device", "load_dimm", "load_gpu",
    "load_host", "load_link", "load_model", "load_system", "matmul_time", "model_slugs", "ndp",
    "op_time", "params", "partition", "plotting", "policies", "predictor", "roofline", "scheduling",
    "scorecard", "shapes", "sparsity", "specs", "sweeps", "tokens_per_s_band", "transfer_time_s",
    "units", "whatif",
]


def __getattr__(name: str) -> Any:
    """Import a submodule of `SUBMODULES`, or the module of a name of `LAZY_NAMES`, on first
    access (PEP 562)."""
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in LAZY_NAMES:
        return getattr(importlib.import_module(f"{__name__}.{LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *SUBMODULES, *LAZY_NAMES})
