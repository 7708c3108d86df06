"""pytest fixtures for channel plugin tests, registered as the ``channelsync`` pytest plugin.

Installing channelsync makes them available in any test suite (entry point
``pytest11``); nothing to import. Each factory's docstring gives its options.

* ``clock`` — a ``FrozenClock`` at 2024-11-11 01:00 UTC, to pass as a simulator's or client's ``clock``.
* ``connect_simulator(ChannelClass, sim=None, ...)`` — ``(sim, adapter)``: an adapter on its simulator.
* ``served_simulator(ChannelClass, sim=None, ...)`` — ``(sim, base_url)``: the simulator on 127.0.0.1.
* ``mock_platform(ChannelClass, settings=None, ...)`` — ``(router, adapter)``: respx at the ``base_url``.

Helpers to import from this module:

* ``FrozenClock`` — a clock that stands still until a test sets ``clock.now``.
* ``sent_request(route, n=-1)`` — call ``n`` of a respx route, with its ``query``, ``form`` and ``json``.
* ``every_page(fetch)`` / ``every_item(fetch)`` — follow page tokens as the core does.
* ``resolved(page)`` — a page's items with its ``Detail`` objects fetched, as the core does.
* ``core_call(fn)`` — call the adapter as the core does (translation errors -> ``UnexpectedPayload``).

Imports of channelsync and respx happen inside the fixtures: this module is
loaded by every pytest run in an environment where channelsync is installed.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple
from urllib.parse import parse_qsl

import pytest

# the conformance suite says what it expected in its own words; this makes any bare assert a
# plugin's tests meet in it readable too (pytest does not rewrite an installed module otherwise)
pytest.register_assert_rewrite("channelsync.testing.conformance")

if TYPE_CHECKING:
    import httpx
    import respx

    from channelsync.sdk.channel import Channel
    from channelsync.sdk.models import Page
    from channelsync.sim.simulator import Simulator


class FrozenClock:
    """A clock tests move by hand (``clock.now += timedelta(...)``); call it for the time."""

    def __init__(self, now: datetime = datetime(2024, 11, 11, 1, 0, tzinfo=timezone.utc)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Connected(NamedTuple):
    sim: Simulator
    adapter: Channel


class Served(NamedTuple):
    sim: Simulator
    base_url: str


class Mocked(NamedTuple):
    router: respx.MockRouter
    adapter: Channel


@pytest.fixture
def clock() -> FrozenClock:
    """A clock at 2024-11-11 01:00 UTC that moves only when the test sets ``clock.now``."""
    return FrozenClock()


@pytest.fixture
def connect_simulator() -> Iterator[Callable[..., Connected]]:
    """Factory: ``connect_simulator(ChannelClass, sim=None, *, settings=None, transport="wsgi",
    **sim_options)`` -> ``(sim, adapter)``.

    Without ``sim``, ``ChannelClass.simulator(**sim_options)`` makes one. The
    adapter gets the simulator's credentials (``settings`` override them) and the
    core's HTTP client, in-process (``"wsgi"``, base URL ``http://sim.invalid``)
    or over real HTTP on 127.0.0.1 (``"http"``).
    """
    from channelsync.testing.conformance import connect

    with contextlib.ExitStack() as stack:
        def connect_simulator(channel_cls: type[Channel], sim: Simulator | None = None, *,
                              settings: dict[str, Any] | None = None, transport: str = "wsgi",
                              **sim_options: Any) -> Connected:
            env = stack.enter_context(connect(channel_cls, transport, _simulator(channel_cls, sim, sim_options),
                                              **(settings or {})))
            return Connected(env.sim, env.adapter)

        yield connect_simulator


@pytest.fixture
def served_simulator() -> Iterator[Callable[..., Served]]:
    """Factory: ``served_simulator(ChannelClass, sim=None, **sim_options)`` -> ``(sim, base_url)``,
    the simulator served over real HTTP on 127.0.0.1 until the test ends."""
    from channelsync.sim.server import serve

    with contextlib.ExitStack() as stack:
        def served_simulator(channel_cls: type[Channel], sim: Simulator | None = None,
                             **sim_options: Any) -> Served:
            sim = _simulator(channel_cls, sim, sim_options)
            return Served(sim, stack.enter_context(serve(sim)).base_url)

        yield served_simulator


@pytest.fixture
def mock_platform() -> Iterator[Callable[..., Mocked]]:
    """Factory: ``mock_platform(ChannelClass, settings=None, *, assert_all_called=True)`` ->
    ``(router, adapter)``.

    The first call starts a respx router whose relative routes are under the
    channel's ``base_url`` (from ``settings`` or the schema's default); later calls
    in the same test build more adapters on that router. Unmatched requests
    fail; with ``assert_all_called``, so does a route never called.
    """
    import respx

    from channelsync.sync.http import make_client

    with contextlib.ExitStack() as stack:
        routers: list[respx.MockRouter] = []

        def mock_platform(channel_cls: type[Channel], settings: dict[str, Any] | None = None, *,
                          assert_all_called: bool = True) -> Mocked:
            settings = dict(settings or {})
            spec = channel_cls.settings_schema.get("base_url")
            base_url = settings.get("base_url") or (spec.default if spec is not None else None)
            if not base_url:
                raise ValueError(f"{channel_cls.__name__} has no default base_url: pass one in settings")
            if not routers:
                routers.append(stack.enter_context(respx.mock(base_url=base_url,
                                                              assert_all_called=assert_all_called)))
            adapter = channel_cls("mocked", settings, make_client("mocked", base_url))
            stack.callback(adapter.close)  # before the router stops: the stack unwinds last-in first-out
            return Mocked(routers[0], adapter)

        yield mock_platform


def _simulator(channel_cls: type[Channel], sim: Simulator | None, options: dict[str, Any]) -> Simulator:
    if sim is not None and options:
        raise TypeError("pass either a simulator or options for a new one, not both")
    return sim if sim is not None else channel_cls.simulator(**options)


@dataclass(frozen=True)
class SentRequest:
    """One request a respx route received, decoded the usual ways."""

    request: httpx.Request

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.url.params)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.request.content.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.request.content)


def sent_request(route: respx.Route, n: int = -1) -> SentRequest:
    """Call ``n`` (default: the last) that ``route`` received."""
    return SentRequest(route.calls[n].request)


def every_page(fetch: Callable[[str | None], Page]) -> Iterator[Page]:
    """Call ``fetch(token)`` from ``None`` until a page has no next token, as the core does
    (it refuses a token seen twice: a platform loop)."""
    from channelsync.sync import paging

    return paging.pages(fetch)


def every_item(fetch: Callable[[str | None], Page]) -> Iterator[Any]:
    """The items of ``every_page(fetch)``, in order, details fetched (``resolved``)."""
    for page in every_page(fetch):
        yield from resolved(page)


def resolved(page: Page) -> list[Any]:
    """A page's items as the core ingests them: ``Detail`` objects fetched one call each (each
    key once, gone ones skipped), a translation error raised as ``UnexpectedPayload``."""
    from channelsync.sync import paging, retry

    return paging.resolve(page.items, lambda fn: retry.guarded(fn)())


def core_call(fn: Callable[[], Any]) -> Any:
    """``fn()`` as the core calls an adapter: a translation error becomes ``UnexpectedPayload``."""
    from channelsync.sync import retry

    return retry.guarded(fn)()
