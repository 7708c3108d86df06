"""SignedRouter: the signature every router platform shares (both official worked examples),
where parameters travel, and how an answer is unwrapped or turned into a typed error."""

import hashlib
import hmac
from datetime import datetime, timezone

import httpx
import pytest

from channelsync.sdk.errors import AuthExpired, NotFound, Rejected, Transient
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import SignedRouter, param_text, sign, signing_string

# platforms.md: TOP's and JOS's official worked examples
TOP = {"app_key": "12345678", "fields": "num_iid,title,nick,price,num", "format": "json",
       "method": "taobao.item.seller.get", "num_iid": "11223344", "session": "test", "sign_method": "md5",
       "timestamp": "2016-01-01 12:00:00", "v": "2.0"}
JOS = {"access_token": "yourtoken", "app_key": "yourappkey", "method": "jingdong.pop.order.search",
       "timestamp": "2021-05-07 09:20:39.683+0800", "v": "2.0",
       "360buy_param_json": '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
                            '"page":"1","page_size":"200","start_date":null}'}


def test_both_official_worked_examples():
    assert sign(TOP, "helloworld") == "66987CB115214E59E6EC978214934FB8"
    assert sign(JOS, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_hmac_methods_key_the_digest_with_the_secret():
    text = signing_string(TOP).encode()
    assert sign(TOP, "k", "hmac") == hmac.new(b"k", text, hashlib.md5).hexdigest().upper()
    assert sign(TOP, "k", "hmac-sha256") == hmac.new(b"k", text, hashlib.sha256).hexdigest().upper()
    with pytest.raises(ValueError, match="sha1"):
        sign(TOP, "k", "sha1")


def test_sign_and_empty_values_are_not_signed():
    assert signing_string({"b": "2", "a": "1", "sign": "x", "c": "", "d": None}) == "a1b2"


def test_business_values_are_text_as_the_routers_expect():
    assert [param_text(v) for v in (True, False, 3, [1, {"a": "价"}])] == ["true", "false", "3", '[1,{"a":"价"}]']


class Toy(SignedRouter):
    path = "/gw"
    errors = ErrorTable("TOY", {"9": (AuthExpired, "token expired"), "4": NotFound})
    fixed = {"v": "1"}

    @classmethod
    def check_root(cls, method, root):
        if root.get("ok") is False:
            raise cls.errors.error("4", "hidden failure")


def toy(answer, **options):
    sent = []

    def send(method, path, **kwargs):
        sent.append(kwargs)
        status, body = answer
        request = httpx.Request(method, "https://toy.test" + path, **kwargs)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, request=request)
        return httpx.Response(status, json=body, request=request)
    clock = lambda: datetime(2024, 1, 1, tzinfo=timezone.utc)  # noqa: E731
    return Toy(send, app_key="ak", secret="very-secret", token="tk", clock=clock, **options), sent


def test_system_parameters_in_the_query_business_ones_in_the_body_signed_together():
    router, sent = toy((200, {"a_b_response": {"x": 1}}))
    assert router.execute("a.b", {"q": "v", "skip": None}) == {"x": 1}
    [kwargs] = sent
    system, body = kwargs["params"], dict(httpx.QueryParams(kwargs["content"].decode()))
    assert body == {"q": "v"} and system["timestamp"] == "1704067200" and system["access_token"] == "tk"
    assert system["sign"] == sign({**system, **body}, "very-secret")


def test_all_in_body_puts_everything_in_the_form():
    router, sent = toy((200, {"a_b_response": {}}))
    router.all_in_body = True
    router.execute("a.b", {"q": "v"})
    assert "params" not in sent[0] and "method=a.b" in sent[0]["content"].decode()


def test_a_call_without_the_token_leaves_it_out():
    router, sent = toy((200, {"a_b_response": {}}))
    router.execute("a.b", with_token=False)
    assert "access_token" not in sent[0]["params"]


@pytest.mark.parametrize("answer,error,code", [
    ((200, {"error_response": {"code": "9", "msg": "expired!"}}), AuthExpired, "9"),
    ((200, {"error_response": {"code": "77", "msg": "odd"}}), Rejected, "77"),
    ((200, {"a_b_response": {"ok": False}}), NotFound, "4"),
    ((200, {"other_response": {}}), Transient, "envelope"),
    ((200, [1, 2]), Transient, "envelope"),
    ((200, b"<html>proxy"), Transient, None),
    ((403, {"nothing": 1}), Rejected, "403"),
])
def test_every_kind_of_answer_becomes_the_right_error(answer, error, code):
    router, _ = toy(answer)
    with pytest.raises(error) as info:
        router.execute("a.b")
    assert type(info.value) is error and info.value.code == code and "very-secret" not in str(info.value)


def test_an_unknown_sign_method_is_refused_at_construction():
    with pytest.raises(Rejected, match="sign_method"):
        Toy(lambda *a, **k: None, app_key="a", secret="s", sign_method="hmac")  # Toy declares md5 only


def test_epoch_timestamps_in_seconds_or_milliseconds():
    assert SignedRouter.parse_timestamp("1704067200") == datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert SignedRouter.parse_timestamp("1704067200500").microsecond == 500000
    with pytest.raises(ValueError):
        SignedRouter.parse_timestamp("2024-01-01")


def test_the_error_envelope_a_simulator_sends_reads_back_as_the_same_error():
    body = Toy.error_envelope("9", sub_code="x.y", sub_message="detail", request_id="r")
    assert body == {"error_response": {"code": "9", "msg": "token expired", "sub_code": "x.y", "sub_msg": "detail",
                                       "request_id": "r"}}
    error = Toy.error_of(body["error_response"])
    assert isinstance(error, AuthExpired) and error.code == "x.y" and error.message == "token expired (code 9): detail"
