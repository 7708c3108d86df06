"""Docs for plugin authors are checked: every hook documented with its exact signature."""

import inspect
from pathlib import Path

from channelsync.sdk import hookspecs

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")


def hooks():
    return {name: fn for name, fn in vars(hookspecs).items() if hasattr(fn, "channelsync_spec")}


def test_every_hook_is_documented_with_its_signature():
    assert hooks()
    for name, fn in hooks().items():
        params = ", ".join(inspect.signature(fn).parameters)
        assert f"### `{name}({params})`" in GUIDE, f"hook {name}({params}) is not documented in docs/plugins.md"


def test_no_documented_hook_is_missing_from_the_spec():
    documented = {line[5:].split("(")[0] for line in GUIDE.splitlines() if line.startswith("### `")}
    assert documented == set(hooks())
