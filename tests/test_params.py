"""The chapters' parameter checks: the canonical value back, or one error naming the parameter."""

from __future__ import annotations

import pytest

from hermes_model import params


def test_model_resolves_the_papers_spelling() -> None:
    assert params.model("OPT-30B") == "opt_30b"
    assert params.model("llama2_70b") == "llama2_70b"
    assert params.model("LLaMA3-8B", allowed=["llama3_8b", "llama3_70b"]) == "llama3_8b"


def test_model_errors_name_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"parameter 'small_model': unknown model 'opt_13' "
                                         r"\(did you mean opt_13b"):
        params.model("opt_13", "small_model")
    with pytest.raises(ValueError, match=r"parameter 'model': unknown model 'opt_13b'; "
                                         r"valid: llama3_8b"):
        params.model("opt_13b", allowed=["llama3_8b"])


def test_gpu_and_slug() -> None:
    assert params.gpu("RTX 3090") == "rtx_3090"
    assert params.slug("DDR4-3200-NDP", "dimms", "dimm") == "ddr4_3200_ndp"
    with pytest.raises(ValueError, match=r"parameter 'gpu': unknown GPU 'rtx'"):
        params.gpu("rtx")


@pytest.mark.parametrize("value", ["Paper", " DATASHEET "])
def test_profile_any_case(value: str) -> None:
    assert params.profile(value) in ("paper", "datasheet")


def test_profile_refused() -> None:
    with pytest.raises(ValueError, match=r"parameter 'profile': must be one of paper, datasheet, "
                                         r"got 'vendor'"):
        params.profile("vendor")


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "4", float("nan"), None])
def test_positive_int_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"parameter 'batch': must be a positive integer"):
        params.positive_int(value, "batch")


def test_positive_int_bounds() -> None:
    assert params.positive_int(4.0, "batch") == 4
    assert isinstance(params.positive_int(4.0, "batch"), int)
    with pytest.raises(ValueError, match=r"must be a positive integer up to 16, got 17"):
        params.positive_int(17, "batch", maximum=16)


def test_one_of_and_fraction() -> None:
    assert params.one_of(16, (1, 16), "gather_batch") == 16
    with pytest.raises(ValueError, match=r"parameter 'gather_batch': must be one of 1, 16, got 4"):
        params.one_of(4, (1, 16), "gather_batch")
    assert params.fraction(0.5, "share") == 0.5
    with pytest.raises(ValueError, match=r"must be a number in \[0, 1\), got 1"):
        params.fraction(1, "share", include_high=False)


def test_int_list() -> None:
    assert params.int_list([16, 1, 4], "dimm_counts") == [1, 4, 16]
    with pytest.raises(ValueError, match=r"must include 8, 16 \(the chapter compares"):
        params.int_list([1, 2, 4], "dimm_counts", required=(8, 16))
    with pytest.raises(ValueError, match=r"must not repeat a value"):
        params.int_list([1, 1], "dimm_counts")
    for bad in ([], "1,2", [0]):
        with pytest.raises(ValueError, match=r"parameter 'dimm_counts'"):
            params.int_list(bad, "dimm_counts")


def test_seed() -> None:
    assert params.seed(0) == 0 and params.seed(20250224) == 20250224
    for bad in (-1, 1.0, True, "1"):
        with pytest.raises(ValueError, match=r"parameter 'seed': must be an integer >= 0"):
            params.seed(bad)


def test_one_of_says_why() -> None:
    with pytest.raises(ValueError, match=r"must be one of llama2_7b, llama3_8b \(the models with "
                                         r"a SwiGLU checkpoint\), got 'opt_13b'"):
        params.one_of("opt_13b", ["llama2_7b", "llama3_8b"], "small_model",
                      why="the models with a SwiGLU checkpoint")


def test_boolean() -> None:
    assert params.boolean(False, "flag") is False
    assert params.boolean(True, "flag") is True
    for bad in (1, 0, "True", None):
        with pytest.raises(ValueError, match="parameter 'flag': must be True or False"):
            params.boolean(bad, "flag")


def test_context_names_both_parameters() -> None:
    import hermes_model as hm

    llama, opt = hm.load_model("llama2_70b"), hm.load_model("opt_13b")
    limit = opt.max_position_embeddings
    assert llama.max_position_embeddings > limit
    params.context([llama, opt], limit - 1, 1)  # at the shorter limit: accepted
    params.context([llama], limit, 1)  # past OPT's limit, within LLaMA2's
    with pytest.raises(ValueError, match=r"^parameters 'prompt_len' and 'gen_len': prompt_len "
                                         rf"\+ gen_len = {limit + 1} exceeds opt_13b's"):
        params.context([llama, opt], limit, 1)


def test_bounds_at_their_ends() -> None:
    """Each end is in or out as the call says: a maximum is allowed, a closed end is allowed,
    an open end is refused."""
    assert params.positive_int(16, "batch", maximum=16) == 16
    assert params.fraction(0, "share") == 0.0 and params.fraction(1, "share") == 1.0
    assert params.fraction(0.5, "share", low=0.5) == 0.5
    with pytest.raises(ValueError, match=r"must be a number in \(0, 1\], got 0"):
        params.fraction(0, "share", include_low=False)
    with pytest.raises(ValueError, match=r"must be a number in \[0.5, 1\], got 0.4"):
        params.fraction(0.4, "share", low=0.5)
