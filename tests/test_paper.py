"""The paper's run, defined once (`hermes_model.paper`)."""

from __future__ import annotations

import dataclasses

import pytest

from hermes_model.paper import PAPER, differs


def test_the_paper_run_is_section_v_a() -> None:
    assert (PAPER.prompt_len, PAPER.gen_len) == (128, 128)
    assert (PAPER.model, PAPER.gpu, PAPER.n_dimms, PAPER.batch) == ("llama2_70b", "rtx_4090", 8, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAPER.gen_len = 1  # type: ignore[misc]


def test_differs_names_the_fields_given_that_are_not_the_papers() -> None:
    assert differs(prompt_len=128, gen_len=128) == ()
    assert differs(prompt_len=512, gen_len=1) == ("prompt_len", "gen_len")
    assert differs(gen_len=1, model="opt_13b") == ("model", "gen_len")  # in field order
    assert differs() == ()


def test_differs_compares_the_workspace_share_within_isclose() -> None:
    assert differs(workspace_frac=0.1000000001) == ()
    assert differs(workspace_frac=0.3 - 0.2) == ()  # 0.09999999999999998
    assert differs(workspace_frac=0.2) == ("workspace_frac",)


def test_differs_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="not a field of PaperRun: prompt"):
        differs(prompt=128)

