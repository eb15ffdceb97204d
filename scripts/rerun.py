"""Re-run a chapter with other parameters, or re-execute chapters in place to refresh their outputs.

Purpose
    The papermill contract of the book: every chapter has exactly one cell tagged ``parameters``
    holding only literal assignments. ``rerun.py NB -p name value ...`` checks each name against
    that cell (papermill alone only warns about an unknown one), converts each value to the type
    of its default, and writes the executed copy under ``_build/reruns/``. ``rerun.py --in-place
    NB ...`` re-executes notebooks with their defaults and stores the outputs in the notebook
    itself (the only way committed outputs change; ``make outputs`` calls it).
    A bad value stops with one line on stderr, ``error: <message>``, and exit status 2: the
    chapter's own checks (its setup cell up to its last parameter check) run here first, so a
    value they refuse starts no kernel and writes nothing; a chapter that fails later is reported
    the same way, with the path of its partly executed copy (``*.failed.ipynb``).
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
import contextlib
import io
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

# ipykernel 7 warns once per kernel that a local kernel talks over TCP without encryption, and
# logs an ERROR "KeyboardInterrupt caught in kernel" when a failed cell stops the run: noise here
# (a failed cell is reported by its exception); the cells' own stderr is kept.
KERNEL_QUIET_ARGS = ["--IPKernelApp.log_level=CRITICAL"]

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


#: Calls that show or glue output: the checking prefix of a chapter stops before the first.
DISPLAY_CALLS = frozenset({"glue", "display", "print", "Markdown"})


def _called_names(node: ast.AST) -> list[tuple[str, str]]:
    """(root name, last name) of every call in `node`: ``params.gpu(x)`` gives ("params", "gpu")."""
    found = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func, last = call.func, ""
            while isinstance(func, ast.Attribute):
                last = last or func.attr
                func = func.value
            if isinstance(func, ast.Name):
                found.append((func.id, last or func.id))
    return found


def _is_check(root: str, last: str) -> bool:
    return root == "params" or bool(re.search(r"check|parameter", last))


def checking_prefix(source: str) -> str:
    """The leading statements of a chapter's setup cell up to its last parameter check.

    A check is a call of ``hermes_model.params`` (imported as ``params``) or of a function whose
    name holds "check" or "parameter"; the prefix stops before any statement that displays or
    glues. Empty when the cell checks nothing before its first display.

    >>> checking_prefix("x = params.gpu(gpu)\\ny = load(x)\\nglue('k', y)\\nz = check(y)")
    'x = params.gpu(gpu)'
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    end = 0
    for node in body:
        names = _called_names(node)
        if any(last in DISPLAY_CALLS or root in DISPLAY_CALLS for root, last in names):
            break
        if any(_is_check(root, last) for root, last in names):
            end = node.end_lineno or end
    return "\n".join(source.splitlines()[:end])


def check_values(path: Path, params: dict[str, Any]) -> None:
    """Run the chapter's own parameter checks on `params` in this process, before any kernel.

    Executes the code cells above the ``parameters`` cell (the imports), the parameters with
    `params` applied, and the `checking_prefix` of the next code cell. A ``ValueError`` there
    (the checks' "parameter 'x': ..." message) becomes a `ContractError`; any other failure is
    left to the chapter's execution, which reports it.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    index, cell = parameters_cell(nb, path)
    code = [c.source for c in nb.cells[:index] if c.cell_type == "code"]
    after = [c for c in nb.cells[index + 1:] if c.cell_type == "code"]
    prefix = checking_prefix(after[0].source) if after else ""
    if not prefix:
        return
    values = "\n".join(f"{name} = {value!r}" for name, value in params.items())
    program = "\n".join([*code, cell.source, values, prefix])
    cwd = Path.cwd()
    try:
        os.chdir(path.parent)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            # the chapter's own code, as its kernel would run it
            exec(compile(program, f"{path} (checks)", "exec"), {"__name__": "__check__"})  # noqa: S102
    except ValueError as exc:
        raise ContractError(str(exc)) from None
    except Exception:  # noqa: BLE001 - not a parameter check: the execution reports it
        return
    finally:
        os.chdir(cwd)


def one_line(text: str) -> str:
    """`text` on one line (a cell's error value may span several)."""
    return " ".join(text.split())


def output_path(path: Path, params: dict[str, Any], out_dir: Path = RERUN_DIR) -> Path:
    """Where the executed copy goes: ``_build/reruns/<stem>[__name=value...].ipynb``."""
    tag = "__".join(f"{k}={v}" for k, v in params.items())
    tag = re.sub(r"[^A-Za-z0-9._=-]+", "-", tag)[:120]
    return out_dir / (f"{path.stem}__{tag}.ipynb" if tag else f"{path.stem}.ipynb")


def rerun(path: Path, params: dict[str, Any], out_dir: Path = RERUN_DIR) -> Path:
    """Execute `path` with `params` through papermill; return the executed copy's path."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = output_path(path, params, out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    failed = out.with_suffix(".failed.ipynb")
    failed.unlink(missing_ok=True)
    try:
        pm.execute_notebook(str(path), str(out), parameters=params, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=False,
                            extra_arguments=KERNEL_QUIET_ARGS)
    except PapermillExecutionError as exc:
        out.replace(failed)
        message = exc.evalue if exc.ename == "ValueError" else f"{exc.ename}: {exc.evalue}"
        raise ContractError(f"{one_line(message)} (partly executed copy: {failed})") from None
    return out


def execute_in_place(path: Path, budget_s: float = BUDGET_S) -> float:
    """Execute `path` with its defaults and write the outputs into it; return the seconds taken."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    parameters_cell(nb, path)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                       extra_arguments=KERNEL_QUIET_ARGS,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as exc:  # the notebook is left as it was
        raise ContractError(f"{path}: {exc.ename}: {one_line(exc.evalue)} "
                            f"(outputs not written)") from None
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
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
    try:
        for nb in args.notebooks:
            if not nb.is_file():
                raise ContractError(f"{nb}: no such notebook")
        if args.in_place:
            if args.parameter:
                raise ContractError("--in-place runs the defaults; it takes no -p")
            for nb in args.notebooks:
                print(f"{nb}: executed in {execute_in_place(nb):.1f} s", flush=True)
            return 0
        if len(args.notebooks) != 1:
            raise ContractError("give one notebook to re-run with parameters")
        nb = args.notebooks[0]
        params = resolve(nb, [tuple(p) for p in args.parameter])
        check_values(nb, params)
        print(f"{rerun(nb, params, args.out_dir)}")
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
