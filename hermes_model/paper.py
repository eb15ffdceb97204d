"""The paper's evaluated run (Hermes, HPCA 2025, §V-A), defined once.

This module imports nothing from the package, so every module, from `hermes_model.policies` up to
the chapter helpers, compares a run with the same values: :data:`PAPER` and :func:`differs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Final


@dataclass(frozen=True)
class PaperRun:
    """The configuration behind the paper's headline bars.

    Attributes
    ----------
    model : str
        Catalog slug of the headline model (LLaMA2-70B, Fig. 10).
    system : str
        Catalog slug of the evaluated system: one RTX 4090 and eight NDP-DIMMs (§V-A, Table II).
    gpu : str
        Catalog slug of that system's GPU.
    n_dimms : int
        NDP-DIMMs, count (§V-A).
    batch : int
        Sequences per decode step of Figs. 9 and 10.
    prompt_len, gen_len : int
        Prompt and generated tokens per sequence of every figure (§V-A).
    profile : str
        The catalog profile the book's acceptance criteria are measured under.
    workspace_frac : float
        Share of GPU memory kept for the runtime (assumed 10 %; the paper does not state it).
    """

    model: str = "llama2_70b"
    system: str = "hermes_paper"
    gpu: str = "rtx_4090"
    n_dimms: int = 8
    batch: int = 1
    prompt_len: int = 128
    gen_len: int = 128
    profile: str = "paper"
    workspace_frac: float = 0.1


#: The paper's run.
PAPER: Final = PaperRun()


def differs(**run: object) -> tuple[str, ...]:
    """The names of the given fields of :class:`PaperRun` whose values are not the paper's.

    Only the fields passed are compared, so each caller states which of them make its
    comparison like for like. The workspace share is a float and is compared with
    ``math.isclose``; every other field with ``==``.

    >>> differs(prompt_len=128, gen_len=1), differs(workspace_frac=0.1000000001)
    (('gen_len',), ())
    """
    names = {f.name for f in fields(PaperRun)}
    unknown = set(run) - names
    if unknown:
        raise TypeError(f"not a field of PaperRun: {', '.join(sorted(unknown))}")
    out = []
    for f in fields(PaperRun):
        if f.name not in run:
            continue
        ours, theirs = run[f.name], getattr(PAPER, f.name)
        same = (math.isclose(float(ours), theirs) if isinstance(theirs, float)  # type: ignore[arg-type]
                else ours == theirs)
        if not same:
            out.append(f.name)
    return tuple(out)
