"""RouterGateway: a router platform's simulator gets the gateway checks, in order, answered
with its own codes, from the same protocol class the client signs with."""

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from channelsync.sdk.errors import AuthExpired, Rejected
from channelsync.sdk.errortable import ErrorTable
from channelsync.sdk.router import SignedRouter
from channelsync.sim.router import CHECKS, RouterGateway
from channelsync.sim.simulator import Response


class Toy(SignedRouter):
    path = "/gw"
    errors = ErrorTable("TOY", {"19": AuthExpired})
    fixed = {"v": "2"}
    version_key = "v"


class ToySim(RouterGateway):
    plugin = "toy"
    protocol = Toy
    app_key, app_secret = "key", "secret"
    gateway_codes = {check: str(n) for n, check in enumerate(CHECKS, start=100)} | {"invalid_token": "19"}

    def __init__(self, **options):
        super().__init__(tokens=("tok",), **options)

    def handlers(self):
        return {"toy.echo": lambda params: self.ok("toy.echo", {"q": params.get("q")}),
                "toy.login": lambda params: self.ok("toy.login", {"token": "t2"})}

    def needs_token(self, method):
        return method != "toy.login"

    def extra_route(self, req):
        return Response(200, {"hello": True}) if req.path == "/hello" else None


def client(sim, **kwargs):
    http = httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid")
    return Toy(http.request, **{"app_key": "key", "secret": "secret", "token": "tok", **kwargs})


def test_a_good_call_is_checked_recorded_and_dispatched():
    sim = ToySim()
    assert client(sim).execute("toy.echo", {"q": "价格"}) == {"q": "价格"} and sim.calls == ["toy.echo"]


@pytest.mark.parametrize("kwargs,method,check", [
    ({"app_key": "other"}, "toy.echo", "invalid_app_key"),
    ({}, "toy.nothing", "invalid_method"),
    ({"secret": "wrong"}, "toy.echo", "invalid_signature"),
    ({"clock": lambda: datetime.now(timezone.utc) - timedelta(hours=1)}, "toy.echo", "invalid_timestamp"),
])
def test_each_failed_check_answers_its_declared_code(kwargs, method, check):
    sim = ToySim()
    with pytest.raises(Rejected) as info:
        client(sim, **kwargs).execute(method)
    assert info.value.code == ToySim.gateway_codes[check] and sim.calls == []


def test_an_unknown_or_expired_token_is_auth_expired_until_renewed():
    sim = ToySim()
    sim.expire_tokens()
    with pytest.raises(AuthExpired):
        client(sim).execute("toy.echo")
    assert client(sim).execute("toy.login", with_token=False) == {"token": "t2"}  # needs no token


def test_the_version_is_checked_when_the_protocol_declares_one():
    sim = ToySim()
    router = client(sim)
    router.fixed = {"v": "3"}
    with pytest.raises(Rejected) as info:
        router.execute("toy.echo")
    assert info.value.code == ToySim.gateway_codes["invalid_version"]


def test_skew_can_be_switched_off_and_extra_routes_are_served():
    sim = ToySim(max_skew=None)
    assert client(sim, clock=lambda: datetime(2001, 1, 1, tzinfo=timezone.utc)).execute("toy.echo") == {"q": None}
    with httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://sim.invalid") as http:
        assert http.get("/hello").json() == {"hello": True} and http.get("/nope").status_code == 404


def test_page_arguments_are_checked():
    sim = ToySim()
    assert sim.page_args({"p": "2", "n": "5"}, page_key="p", size_key="n", default=10, most=10) == (2, 5)
    assert sim.page_args({}, page_key="p", size_key="n", default=10, most=10) == (1, 10)
    assert "between 1 and 10" in sim.page_args({"n": "11"}, page_key="p", size_key="n", default=10, most=10)
    assert "at least 1" in sim.page_args({"p": "0"}, page_key="p", size_key="n", default=10, most=10)
    assert "numbers" in sim.page_args({"p": "x"}, page_key="p", size_key="n", default=10, most=10)
