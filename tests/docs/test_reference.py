"""docs/plugins.md's reference is checked against the code: every exported name, field, member and default."""

from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import timedelta, timezone
from pathlib import Path

import pytest

import channelsync.sdk as sdk
from channelsync.sdk import Channel, OrderStatus

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
REFERENCE = GUIDE.split("## Reference", 1)[1].split("\n## ", 1)[0]


def sections() -> dict[str, str]:
    """``#### `Name...``` heading -> its text, keyed by the bare name."""
    out = {}
    for block in REFERENCE.split("\n#### `")[1:]:
        heading, _, body = block.partition("\n")
        out[re.match(r"[A-Za-z_]+", heading).group(0)] = heading.rstrip("`") + "\n" + body.split("\n### ")[0]
    return out


def rows(text: str) -> dict[str, str]:
    """First column (a `name`, maybe with arguments) -> second column, of the section's table."""
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            found[re.match(r"`([A-Za-z_]+)", cells[0]).group(1)] = cells[1]
    return found


def shown(value) -> str:
    """A default as the reference writes it."""
    if value is None or isinstance(value, (bool, int, float)):
        return f"`{value}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, timedelta):
        return f"`timedelta(days={value.days})`" if value.days else "`timedelta(0)`"
    if value is timezone.utc:
        return "`timezone.utc`"
    if isinstance(value, type):
        return f"`{value.__name__}`"
    if isinstance(value, (tuple, list, dict)) and not value:
        return f"`{value!r}`"
    return f"`{value!r}`"


def dataclass_names():
    return [n for n in sdk.__all__ if dataclasses.is_dataclass(getattr(sdk, n))]


def test_every_exported_name_has_a_section():
    missing = [name for name in sdk.__all__ if name not in sections()]
    assert not missing, f"docs/plugins.md reference lacks a section for {missing}"
    stale = [name for name in sections() if name not in sdk.__all__]
    assert not stale, f"the reference documents {stale}, which channelsync.sdk does not export"


@pytest.mark.parametrize("name", dataclass_names())
def test_every_field_and_default_of_each_model_is_documented(name):
    cls = getattr(sdk, name)
    documented = rows(sections()[name])
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if not fields:
        assert "(none)" in sections()[name], f"{name}: say that it has no fields"
        return
    assert set(documented) == set(fields), f"{name}: documented {sorted(documented)}, the code has {sorted(fields)}"
    for fname, f in fields.items():
        if f.default is not dataclasses.MISSING:
            want = shown(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            made = f.default_factory()
            want = f"`{type(made).__name__}()`" if not isinstance(made, (list, dict, tuple)) else shown(made)
        else:
            want = "—"
        assert documented[fname] == want, f"{name}.{fname}: the reference says {documented[fname]}, the code {want}"


def test_every_public_channel_member_is_documented():
    members = {m for m in vars(Channel) if not m.startswith("_")}
    documented = set(rows(sections()["Channel"]))
    assert documented == members, (f"undocumented: {sorted(members - documented)}; "
                                   f"documented but gone: {sorted(documented - members)}")


def test_every_channel_method_is_documented_with_its_signature():
    text = sections()["Channel"]
    for name, member in vars(Channel).items():
        fn = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        if name.startswith("_") or not callable(fn):
            continue
        params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        wanted = f"`{name}({', '.join(p if p != 'options' else '**options' for p in params)})`"
        wanted = wanted.replace("kwargs)", "**kwargs)")
        assert wanted in text, f"Channel.{name}: expected {wanted} in the reference"


def test_every_order_status_is_documented():
    assert set(rows(sections()["OrderStatus"])) == {s.name for s in OrderStatus}


@pytest.mark.parametrize("name", [n for n in sdk.__all__ if inspect.isfunction(getattr(sdk, n))])
def test_every_helper_is_documented_with_its_parameters(name):
    params = list(inspect.signature(getattr(sdk, name)).parameters)
    heading = sections()[name].splitlines()[0]
    assert [p.split("=")[0] for p in heading[len(name) + 1:-1].split(", ") if p] == params, (
        f"{name}: the reference heading says {heading!r}, the code takes {params}")


def test_every_error_is_documented_with_its_arguments():
    for name in sdk.__all__:
        obj = getattr(sdk, name)
        if inspect.isclass(obj) and issubclass(obj, Exception) and any(
                "__init__" in vars(c) for c in obj.__mro__ if c.__module__.startswith("channelsync")):
            params = [p for p in inspect.signature(obj).parameters]
            heading = sections()[name].splitlines()[0]
            assert [p.split("=")[0] for p in heading[len(name) + 1:-1].split(", ")] == params, (name, heading)
