"""Shared fixtures: paths of the repository, the chapters and the built book."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK_DIR = ROOT / "book"
HTML_DIR = ROOT / "_build" / "html"
SCREENSHOT_DIR = ROOT / "_build" / "screenshots"


def chapters() -> list[Path]:
    """Every chapter notebook of the book, sorted."""
    return sorted(BOOK_DIR.glob("*.ipynb"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def python() -> str:
    """The interpreter running the tests (the venv's), for subprocesses."""
    return sys.executable


@pytest.fixture(scope="session")
def built_book() -> Path:
    """``_build/html`` of a finished build; ``make test`` runs ``make book`` before the browser tests."""
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(f"{HTML_DIR}/index.html not found: run `make book` first "
                    "(`make test` builds the book before the browser check)")
    return HTML_DIR
