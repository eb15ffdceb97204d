"""The text helpers of `hermes_model.units`: counts in words, plurals and ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hermes_model import units as u


@pytest.mark.parametrize(("n", "text"), [(0, "zero"), (1, "one"), (8, "eight"), (9, "nine"),
                                         (12, "twelve"), (13, "13"), (16, "16"), (-1, "-1")])
def test_count_words(n: int, text: str) -> None:
    assert u.count_words(n) == text


def test_count_words_zero_word_and_numpy_counts() -> None:
    assert u.count_words(0, zero="no") == "no" and u.count_words(0, zero="none") == "none"
    assert u.count_words(np.int64(4)) == "four"


def test_plural_reads_one_in_the_singular() -> None:
    assert u.plural(1, "generated token") == "1 generated token"
    assert u.plural(2, "generated token") == "2 generated tokens"
    assert u.plural(0, "model") == "0 models"
    assert u.plural(1, "NDP-DIMM", count=u.count_words(1)) == "one NDP-DIMM"
    assert u.plural(16, "NDP-DIMM", count=u.count_words(16)) == "16 NDP-DIMMs"
    assert u.plural(2, "batch", "batches") == "2 batches"


def test_span_text_prints_one_value_for_equal_ends_and_np_for_nan() -> None:
    assert u.span_text(1.234, 5.678) == "1.23–5.68"
    assert u.span_text(1.231, 1.229) == "1.23"  # the review's "1.23–1.23"
    assert u.span_text(1.5, 1.5, ".1f", " %") == "1.5 %"
    assert u.span_text(1.0, 2.0, ".0f", "×") == "1–2×"
    assert u.span_text(1.0, math.nan) == u.NP and u.span_text(np.float64("nan"), 2.0) == u.NP
    assert u.span_text(None, 2.0) == u.NP
    # ends already printed (the end-to-end gaps' glue): kept as they are, N.P. passed on
    assert u.span_text("4", "4", "s", " %") == "4 %" and u.span_text("3", "7", "s") == "3–7"
    assert u.span_text(u.NP, "7", "s", " %") == u.NP
