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
