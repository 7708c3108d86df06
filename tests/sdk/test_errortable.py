"""ErrorTable: one declared mapping from a platform's codes to the typed errors."""

import pytest

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable

TABLE = ErrorTable("TOP", {
    "7": RateLimited,
    "10": Transient,
    "27": (AuthExpired, "Invalid Session"),
    "isv.item-not-exist": NotFound,
    "isv.": Rejected,
    "isp.": Transient,
    "accesscontrol.": RateLimited,
}, wait_pattern=r"ban will last for (\d+(?:\.\d+)?) more seconds?", rate_limit_wait=5.0)


def test_sub_code_wins_over_code_and_the_longest_prefix_wins():
    assert TABLE.classify("15", "isv.item-not-exist:invalid-numIid-or-iid") is NotFound
    assert TABLE.classify("15", "isv.invalid-parameter") is Rejected
    assert TABLE.classify("15", "isp.remote-timeout") is Transient
    assert TABLE.classify("27", None) is AuthExpired
    assert TABLE.classify("27", "something-unlisted") is AuthExpired  # falls back to the code


def test_unknown_codes_take_the_default_and_keep_the_platform_words():
    error = TABLE.error("999", "something odd")
    assert type(error) is Rejected and (error.code, error.message) == ("999", "something odd")
    assert type(ErrorTable("X", {}, default=Transient).error("1")) is Transient


def test_the_error_keeps_the_most_specific_code_and_both_texts():
    error = TABLE.error("15", "Remote service error", sub_code="isv.item-not-exist:x", detail="商品不存在")
    assert isinstance(error, NotFound) and error.code == "isv.item-not-exist:x"
    assert error.message == "Remote service error (code 15): 商品不存在"


def test_default_words_when_the_platform_sent_none():
    assert TABLE.error("27").message == "Invalid Session"
    assert TABLE.error("4242").message == "TOP error"


def test_rate_limited_reads_the_stated_wait_else_the_declared_one():
    stated = TABLE.error("7", "App Call Limited", sub_code="accesscontrol.limited-by-app-access-count",
                         detail="This ban will last for 37 more seconds")
    assert isinstance(stated, RateLimited) and stated.retry_after == 37.0
    assert TABLE.error("7", "App Call Limited").retry_after == 5.0
    assert TABLE.error("7", retry_after=2.5).retry_after == 2.5
    assert not stated.maybe_applied  # refused for rate: nothing happened


def test_transient_errors_may_have_applied_unless_declared_otherwise():
    assert TABLE.error("10").maybe_applied is True
    quiet = ErrorTable("X", {"1": Transient}, transient_maybe_applied=False)
    assert quiet.error("1").maybe_applied is False


def test_unapplied_codes_are_retryable_failures_that_changed_nothing():
    table = ErrorTable("PDD", {"20005": Transient, "50000": Transient}, unapplied=(20005,))
    assert table.error("20005", "库存不足").maybe_applied is False  # retried later, computed afresh
    assert table.error("50000").maybe_applied is True
    assert table.merged({}).unapplied == ("20005",)


def test_numeric_keys_are_not_sub_code_prefixes():
    # "1" must not catch sub-code "12-something"; only non-numeric keys are prefixes
    table = ErrorTable("X", {"1": Transient})
    assert table.classify(None, "12-something") is Rejected


def test_merged_adds_entries_without_changing_the_original():
    variant = TABLE.merged({"7": Transient}, platform="TOP-variant")
    assert variant.classify("7") is Transient and TABLE.classify("7") is RateLimited
    assert variant.wait_pattern == TABLE.wait_pattern and variant.platform == "TOP-variant"


def test_a_table_entry_that_is_not_an_error_class_is_refused_at_declaration():
    with pytest.raises(TypeError, match="'7'"):
        ErrorTable("X", {"7": ValueError})


def test_a_call_s_default_decides_only_codes_in_no_entry():
    """WooCommerce: a code the table does not list falls back on the HTTP status's class."""
    assert type(TABLE.error("999", "gone", default=NotFound)) is NotFound
    assert type(TABLE.error("10", "busy", default=NotFound)) is Transient  # listed: the table decides
    limited = TABLE.error("998", "slow down", default=RateLimited)
    assert type(limited) is RateLimited and limited.retry_after == 5.0
