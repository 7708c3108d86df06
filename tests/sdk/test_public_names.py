"""The plugin author's names: one import line from the root, the same objects as in ``channelsync.sdk``."""

import channelsync
import channelsync.sdk


def test_the_root_re_exports_the_sdk():
    assert channelsync.__all__ == channelsync.sdk.__all__
    for name in channelsync.sdk.__all__:
        assert getattr(channelsync, name) is getattr(channelsync.sdk, name), name


def test_the_classic_import_line_keeps_working():
    from channelsync import Capabilities, Channel, Setting, hookimpl

    assert issubclass(Channel, object) and Capabilities().stock_mode == "absolute"
    assert Setting(secret=True).secret and hookimpl.project_name == "channelsync"


def test_the_tutorial_in_the_sdk_docstring_runs():
    """The 20-odd lines a plugin author reads first are code that works."""
    import textwrap

    import httpx

    doc = channelsync.sdk.__doc__
    block = textwrap.dedent(doc.split("::\n", 1)[1].split("\n\nList the module", 1)[0])
    namespace: dict = {}
    exec(compile(block, "channelsync.sdk.__doc__", "exec"), namespace)
    shop_cls = namespace["TinyShop"]
    assert issubclass(shop_cls, channelsync.Channel) and shop_cls.capabilities.stock_mode == "absolute"

    def platform(request: httpx.Request) -> httpx.Response:
        assert request.url.params["page"] == "1"
        return httpx.Response(200, json={"skus": [{"id": "9", "code": "TEA-1", "qty": 4}], "next": "2"})

    client = httpx.Client(base_url="http://shop.test", transport=httpx.MockTransport(platform))
    page = shop_cls("tiny", {"base_url": "http://shop.test", "token": "t"}, client).list_listings(None)
    assert page.items == [channelsync.Listing("9", "TEA-1", quantity=4)] and page.next_token == "2"

    registered = {}
    namespace["register_channels"](lambda name, cls: registered.setdefault(name, cls))
    assert registered == {"tinyshop": shop_cls}
