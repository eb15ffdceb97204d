"""Re-run a chapter with other parameters, or re-execute chapters in place to refresh their outputs.

Purpose
    The papermill contract of the book: every chapter has exactly one cell tagged ``parameters``
    holding only literal assignments. ``rerun.py NB -p name value ...`` checks each name against
    that cell (papermill alone only warns about an unknown one), converts each value to the type
    of its default, and writes the executed copy under ``_build/reruns/``. ``rerun.py --in-place
    NB ...`` re-executes notebooks with their defaults and stores the outputs in the notebook
    itself (the only way committed outputs change; ``make outputs`` calls it).
    Chapter code runs only in the kernel. Before it starts, rerun.py refuses an unknown name, a
    value that does not convert to its default's type, and a non-finite number (nan, inf, 1e400):
    one line on stderr, ``error: <message>``, exit status 2, nothing written. A value the
    chapter's own checks refuse (its setup cell checks its parameters first) stops the run in the
    kernel; that and any other failed run (a dead kernel, Ctrl-C) is also one line,
    ``error: <exception>: <message>``, and status 2, and the partly executed copy is kept as
    ``<stem>.failed.ipynb``, never under the success name. ``--in-place`` leaves a notebook that
    fails untouched.
Inputs
    Chapters ``book/*.ipynb``; the kernel is the ``python3`` kernel of the running interpreter.
Usage
    ``make rerun NB=book/rooflines.ipynb PARAMS="-p gpu t4 -p batch 4"``, or
    ``python scripts/rerun.py book/rooflines.ipynb -p gpu t4 -p batch 4``;
    ``make outputs`` (``python scripts/rerun.py --in-place book/*.ipynb``).
"""

from __future__ import annotations

import argparse
import ast
import logging
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

# The kernel's own log (not the cells' output, which the notebook keeps) shares this process's
# stderr. At WARNING it prints ipykernel 7's "running over TCP without encryption" at every start;
# at ERROR, now and then, "KeyboardInterrupt caught in kernel." at shutdown (jupyter_client
# interrupts the kernel before it asks it to stop, and a kernel still inside a message handler
# logs it: 1 run in 6 when six ran at once on two cores). Either would break the one-line report,
# so the log shows CRITICAL only. That hides no failure: every one that stops a run reaches this
# process as an exception and its one line (a cell's error, a dead kernel, a kernel that never
# answers at start-up: "RuntimeError: Kernel died before replying to kernel_info"), and a kernel
# that cannot start still prints its cause above that line (traitlets' CRITICAL "Bad config
# encountered during initialization", or the interpreter's traceback, which is no log record).
# What it hides are a kernel's non-fatal ERROR records, e.g. a kernel config file that fails to
# load (the kernel then starts without it).
KERNEL_QUIET_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
#: papermill's log records (nbclient logs through papermill's logger) that only say again what
#: the exception rerun.py reports says; papermill's other warnings are kept.
REPEATED_RECORDS = ("Kernel died while waiting for execute reply",
                    "Error occurred while starting new kernel client")


def _not_repeated(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(REPEATED_RECORDS)


ROOT = Path(__file__).resolve().parent.parent
RERUN_DIR = ROOT / "_build" / "reruns"
#: Seconds a chapter may take to execute with its defaults.
BUDGET_S = 20.0

LITERAL_TYPES = (str, int, float, bool)


class ContractError(ValueError):
    """A notebook or a parameter breaks the papermill contract."""


def parameters_cell(nb: Any, path: Path | str = "notebook") -> tuple[int, Any]:
    """Index and cell of the one code cell tagged ``parameters``; error if none or several."""
    found = [(i, c) for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise ContractError(f"{path}: expected exactly one code cell tagged 'parameters', "
                            f"found {len(found)}")
    return found[0]


def _is_literal(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, LITERAL_TYPES) for v in value)
    return isinstance(value, LITERAL_TYPES)


def parse_parameters(source: str, path: Path | str = "notebook") -> dict[str, Any]:
    """Names and default values of a parameters cell, which must hold only literal assignments.

    Each statement must be ``name = literal`` where the literal is a str, int, float, bool or a
    list of these (comments allowed). Anything else raises `ContractError` naming the line.

    >>> parse_parameters("gpu = 't4'  # slug\\nbatch = 4")
    {'gpu': 't4', 'batch': 4}
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ContractError(f"{path}: parameters cell is not valid Python: {exc}") from None
    params: dict[str, Any] = {}
    for node in tree.body:
        where = f"{path}: parameters cell, line {node.lineno}"
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            raise ContractError(f"{where}: only 'name = literal' assignments are allowed")
        name = node.targets[0].id
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            raise ContractError(f"{where}: the value of {name!r} is not a literal") from None
        if not _is_literal(value):
            raise ContractError(f"{where}: {name!r} must be a str, int, float, bool or a list of "
                                f"these, got {type(value).__name__}")
        if name in params:
            raise ContractError(f"{where}: {name!r} is assigned twice")
        params[name] = value
    return params


def notebook_parameters(path: Path) -> dict[str, Any]:
    """The parameters (name → default) of the chapter at `path`."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return parse_parameters(parameters_cell(nb, path)[1].source, path)


def _finite(value: Any) -> bool:
    """False for a float that is nan or infinite (also inside a list)."""
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def coerce(name: str, text: str, default: Any) -> Any:
    """Convert the command-line `text` to the type of the parameter's `default`.

    A float (or a float in a list) must be finite: ``nan``, ``inf`` and an overflow such as
    ``1e400`` are refused here, before any kernel starts.
    """
    def fail(kind: str) -> ContractError:
        return ContractError(f"parameter {name!r} expects {kind} (default {default!r}), "
                             f"got {text!r}")

    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise fail("a bool (true or false)")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise fail("an int") from None
    if isinstance(default, float):
        try:
            number = float(text)
        except ValueError:
            raise fail("a number") from None
        if not math.isfinite(number):
            raise fail("a finite number")
        return number
    if isinstance(default, list):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise fail("a list literal such as [1, 2]") from None
        if not isinstance(value, list | tuple) or not _is_literal(list(value)):
            raise fail("a list of str, int, float or bool")
        if not _finite(value):
            raise fail("a list of finite numbers")
        return list(value)
    return text


def resolve(path: Path, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Check names against the notebook's parameters cell and convert values; error on unknown."""
    defaults = notebook_parameters(path)
    unknown = [name for name, _ in pairs if name not in defaults]
    if unknown:
        valid = ", ".join(f"{k} (default {v!r})" for k, v in defaults.items())
        raise ContractError(f"{path}: unknown parameter {unknown[0]!r}. "
                            f"Valid parameters: {valid}")
    return {name: coerce(name, text, defaults[name]) for name, text in pairs}


def one_line(text: str) -> str:
    """`text` on one line (a cell's error value may span several)."""
    return " ".join(text.split())


def output_path(path: Path, params: dict[str, Any], out_dir: Path = RERUN_DIR) -> Path:
    """Where the executed copy goes: ``_build/reruns/<stem>[__name=value...].ipynb``."""
    tag = "__".join(f"{k}={v}" for k, v in params.items())
    tag = re.sub(r"[^A-Za-z0-9._=-]+", "-", tag)[:120]
    return out_dir / (f"{path.stem}__{tag}.ipynb" if tag else f"{path.stem}.ipynb")


def describe(exc: BaseException) -> str:
    """``<exception>: <message>`` on one line; a cell's error names the cell's exception.

    >>> describe(RuntimeError("Kernel died\\nbefore replying"))
    'RuntimeError: Kernel died before replying'
    """
    if hasattr(exc, "ename") and hasattr(exc, "evalue"):  # papermill's and nbclient's cell errors
        name, message = exc.ename, exc.evalue
    else:
        name, message = type(exc).__name__, str(exc)
    return one_line(f"{name}: {message}" if message.strip() else name)


def failed_path(out: Path) -> Path:
    """Where the partly executed copy of a failed run goes: ``<stem>.failed.ipynb``."""
    return out.with_suffix(".failed.ipynb")


def rerun(path: Path, params: dict[str, Any], out_dir: Path = RERUN_DIR) -> Path:
    """Execute `path` with `params` through papermill; return the executed copy's path.

    Any failure moves the partly executed copy (papermill writes it as it goes) to
    `failed_path` and raises `ContractError` with one line naming the exception and the copy;
    a ``KeyboardInterrupt`` is re-raised as it is, after the move.
    """
    import papermill as pm

    out = output_path(path, params, out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = failed_path(out)
    # a copy left by an earlier run must not pass for this one's
    out.unlink(missing_ok=True)
    failed.unlink(missing_ok=True)
    log = logging.getLogger("papermill")
    log.addFilter(_not_repeated)
    try:
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False,
                            extra_arguments=KERNEL_QUIET_ARGS)
    except BaseException as exc:
        if out.exists():
            out.replace(failed)
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
            raise
        where = f"partly executed copy: {failed}" if failed.exists() else "no copy written"
        raise ContractError(f"{describe(exc)} ({where})") from None
    finally:
        log.removeFilter(_not_repeated)
    return out


def execute_in_place(path: Path, budget_s: float = BUDGET_S) -> float:
    """Execute `path` with its defaults and write the outputs into it; return the seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    parameters_cell(nb, path)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                       extra_arguments=KERNEL_QUIET_ARGS,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except Exception as exc:  # noqa: BLE001 - a cell's error, a dead kernel, a timeout: one line
        raise ContractError(f"{path}: {describe(exc)} (outputs not written)") from None
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    # written beside it and renamed, so an interrupted write cannot leave half a notebook
    partial = path.with_name(f".{path.name}.writing")
    nbformat.write(nb, partial)
    os.replace(partial, path)
    if elapsed > budget_s:
        raise ContractError(f"{path}: took {elapsed:.1f} s with its defaults, over the "
                            f"{budget_s:.0f} s budget; move the long computation to scripts/")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Re-run a chapter with parameters (papermill), or refresh outputs in place.")
    parser.add_argument("notebooks", nargs="+", type=Path, help="chapter(s), e.g. book/rooflines.ipynb")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="set a parameter (repeatable)")
    parser.add_argument("--in-place", action="store_true",
                        help="execute with defaults and store outputs in the notebook")
    parser.add_argument("--out-dir", type=Path, default=RERUN_DIR,
                        help="folder of executed copies (default _build/reruns)")
    args = parser.parse_args(argv)
    # what a Ctrl-C interrupts, for its one line
    current: Path | None = None
    failed: Path | None = None
    try:
        for nb in args.notebooks:
            if not nb.is_file():
                raise ContractError(f"{nb}: no such notebook")
        if args.in_place:
            if args.parameter:
                raise ContractError("--in-place runs the defaults; it takes no -p")
            for nb in args.notebooks:
                current = nb
                print(f"{nb}: executed in {execute_in_place(nb):.1f} s", flush=True)
            return 0
        if len(args.notebooks) != 1:
            raise ContractError("give one notebook to re-run with parameters")
        nb = args.notebooks[0]
        params = resolve(nb, [tuple(p) for p in args.parameter])
        failed = failed_path(output_path(nb, params, args.out_dir))
        print(f"{rerun(nb, params, args.out_dir)}")
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # rerun and execute_in_place have already set the files right
        if failed is not None:
            where = f"partly executed copy: {failed}" if failed.exists() else "no copy written"
        else:
            where = f"{current}: outputs not written" if current else "nothing executed"
        print(f"error: KeyboardInterrupt ({where})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
