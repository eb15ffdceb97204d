"""hermes_model: analytical models behind the hermes-study book (Hermes, HPCA 2025, re-derived).

Import as ``import hermes_model as hm``. Specs are frozen dataclasses in SI units, loaded from the
catalog through `hermes_model.io`; model code is pure functions.
"""

from hermes_model import io, roofline, shapes, specs, units
from hermes_model.io import (
    catalog_slugs,
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

__all__ = [
    "DimmSpec", "GpuSpec", "HostSpec", "LinkSpec", "ModelSpec", "OpTime", "SystemSpec",
    "catalog_slugs", "io", "load_device", "load_dimm", "load_gpu", "load_host", "load_link",
    "load_model", "load_system", "matmul_time", "model_slugs", "op_time", "roofline", "shapes",
    "specs", "transfer_time_s", "units",
]
