"""Checks of a chapter's papermill parameters, run in its first setup cell.

A reader re-runs a chapter with other parameters (``papermill -p model OPT-30B ...``). Each
function here checks one parameter and returns it in the form the chapter uses (a catalog slug
as the catalog spells it, a Python int); a bad value raises one ``ValueError`` that names the
parameter, the value and what is allowed, before any work is done.

Examples
--------
>>> model("OPT-30B")
'opt_30b'
>>> positive_int(4, "batch")
4
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from hermes_model import io, policies
from hermes_model.shapes import ModelSpec
from hermes_model.specs import PROFILES

__all__ = ["boolean", "context", "fraction", "gpu", "int_list", "model", "one_of", "positive_int", "profile", "seed",
           "slug"]


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f"parameter {name!r}: {message}")


def slug(value: Any, kind: str, name: str, *, allowed: Sequence[str] | None = None) -> str:
    """A catalog slug of `kind` (``gpus``, ``hosts``, ``links``, ``dimms``, ``systems`` or
    ``models``) as the catalog spells it; `allowed` narrows the valid ones."""
    valid = list(allowed) if allowed is not None else (
        io.model_slugs() if kind == "models" else io.catalog_slugs(kind))
    what = {"gpus": "GPU", "hosts": "host", "links": "link", "dimms": "DIMM",
            "systems": "system", "models": "model"}.get(kind, kind)
    try:
        return io.resolve_slug(value, valid, what)
    except ValueError as exc:
        raise _fail(name, str(exc)) from None


def model(value: Any, name: str = "model", *, allowed: Sequence[str] | None = None) -> str:
    """A catalog model slug (``OPT-30B`` is ``opt_30b``); `allowed` narrows the valid ones."""
    return slug(value, "models", name, allowed=allowed)


def gpu(value: Any, name: str = "gpu") -> str:
    """A catalog GPU slug."""
    return slug(value, "gpus", name)


def profile(value: Any, name: str = "profile") -> str:
    """``paper`` or ``datasheet`` (any case)."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in PROFILES:
        raise _fail(name, f"must be one of {', '.join(PROFILES)}, got {value!r}")
    return str(text)


def positive_int(value: Any, name: str, *, maximum: int | None = None) -> int:
    """A positive integer (at most `maximum`); a float with an integer value is accepted."""
    ok = (not isinstance(value, bool) and isinstance(value, int | float)
          and math.isfinite(value) and float(value).is_integer() and value > 0)
    if not ok or (maximum is not None and value > maximum):
        bound = f" up to {maximum}" if maximum is not None else ""
        raise _fail(name, f"must be a positive integer{bound}, got {value!r}")
    return int(value)


def boolean(value: Any, name: str) -> bool:
    """A boolean: ``True`` or ``False`` (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        raise _fail(name, f"must be True or False, got {value!r}")
    return value


def context(models: Iterable[ModelSpec], prompt_len: int, gen_len: int) -> None:
    """Refuse `prompt_len` + `gen_len` tokens beyond any of `models`' trained context
    (``policies.check_context``); the error names both parameters."""
    for m in models:
        try:
            policies.check_context(m, prompt_len, gen_len)
        except ValueError as exc:
            raise ValueError(f"parameters 'prompt_len' and 'gen_len': {exc}") from None


def seed(value: Any, name: str = "seed") -> int:
    """A random seed: an integer >= 0 (what ``np.random.default_rng`` takes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, f"must be an integer >= 0, got {value!r}")
    return int(value)


def one_of(value: Any, allowed: Iterable[Any], name: str, *, why: str = "") -> Any:
    """`value` if it is one of `allowed`; `why` says why only those (in the error)."""
    options = list(allowed)
    if isinstance(value, bool) or value not in options:
        reason = f" ({why})" if why else ""
        raise _fail(name, f"must be one of {', '.join(map(str, options))}{reason}, "
                          f"got {value!r}")
    return value


def fraction(value: Any, name: str, *, low: float = 0.0, high: float = 1.0,
             include_low: bool = True, include_high: bool = True) -> float:
    """A number in [low, high] (ends included or not)."""
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if ok:
        ok = (value >= low if include_low else value > low) and (
            value <= high if include_high else value < high)
    if not ok:
        lb, rb = "[" if include_low else "(", "]" if include_high else ")"
        raise _fail(name, f"must be a number in {lb}{low:g}, {high:g}{rb}, got {value!r}")
    return float(value)


def int_list(values: Any, name: str, *, required: Iterable[int] = (),
             maximum: int | None = None) -> list[int]:
    """A non-empty list of distinct positive integers, sorted, holding every `required` one."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise _fail(name, f"must be a non-empty list of positive integers, got {values!r}")
    out = [positive_int(v, name, maximum=maximum) for v in values]
    if len(set(out)) != len(out):
        raise _fail(name, f"must not repeat a value, got {values!r}")
    missing = [r for r in required if r not in out]
    if missing:
        raise _fail(name, f"must include {', '.join(map(str, missing))} (the chapter compares "
                          f"with the paper there), got {values!r}")
    return sorted(out)
