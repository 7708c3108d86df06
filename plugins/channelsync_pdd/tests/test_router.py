"""PDD's router on the shared base: the signature rule, where parameters travel, the
irregular success roots and the error envelope mapped through the error table."""

import hashlib
import json
from datetime import datetime, timezone

import httpx
import pytest
from channelsync_pdd import api
from channelsync_pdd.router import ERRORS, PopRouter

from channelsync.sdk.errors import AuthExpired, NotFound, RateLimited, Rejected, Transient
from channelsync.sdk.router import sign

SECRET = "testSecret"


def test_the_signature_is_upper_md5_of_secret_sorted_key_values_secret():
    params = {"type": "pdd.goods.list.get", "client_id": "cid", "timestamp": "1700000000", "data_type": "JSON",
              "access_token": "tok", "page": "1", "page_size": "100", "sign": "ignored"}
    text = ("testSecret" + "access_tokentok" + "client_idcid" + "data_typeJSON" + "page1" + "page_size100"
            + "timestamp1700000000" + "typepdd.goods.list.get" + "testSecret")
    assert sign(params, SECRET) == hashlib.md5(text.encode()).hexdigest().upper()


def test_json_valued_parameters_are_signed_as_sent():
    router = PopRouter(lambda *a, **k: None, app_key="cid", secret=SECRET, token="tok",
                       clock=lambda: datetime(2024, 11, 11, tzinfo=timezone.utc))
    system, business = router.signed(api.SKU_PRICE_UPDATE, {"goods_id": 7, "sku_price_list": [
        {"sku_id": 1, "group_price": 990, "single_price": 1090}]})
    assert business["sku_price_list"] == '[{"sku_id":1,"group_price":990,"single_price":1090}]'
    assert system["timestamp"] == "1731283200"
    assert system["sign"] == sign({**system, **business}, SECRET)


def send_to(answer):
    sent = []

    def send(method, path, **kwargs):
        sent.append((method, path, kwargs))
        request = httpx.Request(method, "https://gw-api.pinduoduo.com" + path, **kwargs)
        return httpx.Response(200, json=answer, request=request)
    return send, sent


def test_every_parameter_travels_in_the_form_body():
    send, sent = send_to({"goods_list_get_response": {"goods_list": [], "total_count": 0}})
    router = PopRouter(send, app_key="cid", secret=SECRET, token="tok")
    assert router.execute(api.GOODS_LIST, {"page": 1}) == {"goods_list": [], "total_count": 0}
    [(method, path, kwargs)] = sent
    assert (method, path, "params" in kwargs) == ("POST", "/api/router", False)
    form = dict(httpx.QueryParams(kwargs["content"].decode()))
    assert {k: form[k] for k in ("type", "client_id", "access_token", "data_type", "version", "page")} == {
        "type": api.GOODS_LIST, "client_id": "cid", "access_token": "tok", "data_type": "JSON", "version": "V1",
        "page": "1"}
    assert form["sign"] == sign(form, SECRET)


def test_the_roots_are_declared_per_api():
    assert PopRouter.response_key(api.ORDER_INCREMENT) == "order_sn_increment_get_response"
    assert PopRouter.response_key(api.ORDER_INFORMATION) == "order_info_get_response"
    assert PopRouter.response_key("pdd.some.new.api") == "some_new_api_response"


@pytest.mark.parametrize("envelope,error,code", [
    ({"error_code": 10019, "error_msg": "access_token已过期"}, AuthExpired, "10019"),
    ({"error_code": 10000, "error_msg": "x", "sub_code": "access_token_invalid"}, AuthExpired, "access_token_invalid"),
    ({"error_code": 70031, "error_msg": "调用过于频繁"}, RateLimited, "70031"),
    ({"error_code": 20001, "error_msg": "goods not found"}, NotFound, "20001"),
    ({"error_code": 50000, "error_msg": "busy"}, Transient, "50000"),
    ({"error_code": 99999, "error_msg": "something new"}, Rejected, "99999"),
])
def test_the_error_envelope_goes_through_the_table(envelope, error, code):
    send, _ = send_to({"error_response": {**envelope, "request_id": "r1"}})
    with pytest.raises(error) as info:
        PopRouter(send, app_key="cid", secret=SECRET, token="tok").execute(api.GOODS_LIST)
    assert type(info.value) is error and info.value.code == code
    assert envelope["error_msg"] in info.value.message and "testSecret" not in str(info.value)


def test_an_answer_without_the_root_is_transient_and_names_it():
    send, _ = send_to({"something_else": {}})
    with pytest.raises(Transient, match="goods_list_get_response"):
        PopRouter(send, app_key="cid", secret=SECRET, token="tok").execute(api.GOODS_LIST)


def test_the_simulator_answers_with_the_same_envelope_the_client_reads():
    body = PopRouter.error_envelope("10019", sub_code="access_token_invalid", request_id="r")
    assert body == {"error_response": {"error_code": "10019", "error_msg": "access_token 已过期 expired",
                                       "sub_code": "access_token_invalid", "request_id": "r"}}
    assert isinstance(PopRouter.error_of(body["error_response"]), AuthExpired)
    assert ERRORS.classify("70031") is RateLimited and json.dumps(body, ensure_ascii=False)
