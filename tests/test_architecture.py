"""The layout holds: no import cycle, no upward import, plugins use only the public kit,
and each table (the listings table and its `expected` first of all) has one writer.

The allowed directions are written once, in the ```layers block of docs/architecture.md.
Every import counts: at module level, inside functions, and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import channelsync

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "channelsync"
# each built-in plugin's folder (adapter, sim/, tests/), and the tutorial project (its package and its tests/)
PLUGIN_DIRS = [*sorted((ROOT / "plugins").glob("channelsync_*")), *sorted((ROOT / "docs" / "tutorial").glob("*/"))]
PLUGIN_MAY_IMPORT = ("channelsync", "channelsync.sdk", "channelsync.sim", "channelsync.testing")


def layers() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    allowed = {}
    for line in block.group(1).splitlines():
        if line.strip():
            package, _, deps = line.partition(":")
            allowed[package.strip()] = set(deps.split())
    return allowed


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, modules: set[str] | None = None) -> set[str]:
    """Every module named by an import in ``path``: ``from a import b`` names a.b where that
    is one of ``modules``, else a (and, without ``modules``, both)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if modules is None:
                    found.update((base, full))
                else:
                    found.add(full if full in modules else base)
    return found


def core_modules() -> dict[str, Path]:
    return {module_name(p, ROOT): p for p in CORE.rglob("*.py")}


def core_graph() -> dict[str, set[str]]:
    modules = core_modules()
    return {name: {m for m in imports_of(path, name, set(modules)) if m in modules and m != name}
            for name, path in modules.items()}


def package_of(module: str) -> str:
    """The sub-package a module lives in ("" for the root's own modules)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (CORE / parts[1]).is_dir() else ""


def test_the_layers_block_names_every_package():
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(layers()), "docs/architecture.md's layers block and channelsync/'s packages differ"
    for package, deps in layers().items():
        assert deps <= set(layers()), f"{package} names an unknown package"


def test_no_module_imports_a_layer_it_may_not():
    allowed = layers()
    upward = []
    for module, targets in core_graph().items():
        here = package_of(module)
        for target in targets:
            there = package_of(target)
            if here == "":  # channelsync/__init__.py re-exports the sdk; __main__.py runs the cli
                ok = there == "sdk" or (module == "channelsync.__main__" and there == "cli")
            elif there == "":  # the root is the sdk's public face
                ok = "sdk" in allowed[here]
            else:
                ok = there == here or there in allowed[here]
            if not ok:
                upward.append(f"{module} imports {target}")
    assert not upward, "imports against docs/architecture.md:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    graph = core_graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def plugin_may_import(target: str) -> bool:
    """Outside channelsync anything goes; inside, the four public packages and the names the root
    re-exports (``from channelsync import hookimpl`` names channelsync.hookimpl)."""
    if target.split(".")[0] != "channelsync":
        return True
    if any(target == allowed or target.startswith(allowed + ".") for allowed in PLUGIN_MAY_IMPORT[1:]):
        return True
    return target == "channelsync" or target.removeprefix("channelsync.") in channelsync.__all__


@pytest.mark.parametrize("plugin", PLUGIN_DIRS, ids=lambda p: p.name)
def test_plugins_import_only_the_public_kit(plugin):
    bad = [f"{path.relative_to(ROOT)} imports {target}" for path in plugin.rglob("*.py")
           for target in imports_of(path, module_name(path, plugin.parent)) if not plugin_may_import(target)]
    assert not bad, "plugins may import only channelsync, channelsync.sdk, channelsync.sim, channelsync.testing:\n" \
        + "\n".join(bad)


# Each table has one writer, so a rule about its rows lives in one place. SQL is upper case
# throughout the code base; sqlite-utils' table API is caught by name.
WRITERS = {
    "products": "engine/catalog.py", "skus": "engine/catalog.py", "bundle_components": "engine/catalog.py",
    "warehouses": "engine/catalog.py", "stock": "engine/inventory.py", "stock_movements": "engine/inventory.py",
    "orders": "engine/orders.py", "order_lines": "engine/orders.py", "outbox": "engine/outbox.py",
    "listings": "engine/listings.py", "unmatched_listings": "engine/listings.py", "drift": "engine/listings.py",
    "channels": "engine/channels.py",
    "credentials": "sync/credentials.py", "store_keys": "sync/credentials.py", "requests": "daemon/handoff.py",
    "daemon": "daemon/run.py", "intake": "daemon/intake_ledger.py",
    "reservations": "engine/reservations.py", "shipments": "engine/shipments.py",
    "shipment_lines": "engine/shipments.py", "after_sales": "engine/returns.py",
    "low_stock": "engine/lowstock.py",
}


def writes(table: str) -> re.Pattern:
    return re.compile(rf"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+{table}\b|"
                      rf"""\bdb\[\s*["']{table}["']\s*\]|table\(\s*["']{table}["']""")


def test_every_table_has_one_writer():
    sources = {p: p.read_text() for p in CORE.rglob("*.py") if p.parent.name != "store"}  # the schema creates them all
    tables = set(re.findall(r"CREATE TABLE (\w+)", (CORE / "store" / "migrations.py").read_text()))
    assert tables == set(WRITERS), "a table was added or removed: name its one writer here"
    wrong = {}
    for table, writer in WRITERS.items():
        found = sorted(str(p.relative_to(CORE)) for p, text in sources.items() if writes(table).search(text))
        if found != [writer]:
            wrong[table] = found
    assert not wrong, f"tables written from elsewhere than their one writer: {wrong}"


def test_the_checks_above_can_fail(tmp_path):
    """The parsers see what they must: a function-level import, a TYPE_CHECKING import and a write."""
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from channelsync.cli import app\n"
                      "def f():\n    import channelsync.daemon.run\n")
    assert {"channelsync.cli", "channelsync.cli.app", "channelsync.daemon.run"} <= imports_of(source, "x.m")
    assert writes("listings").search('store.execute("UPDATE listings SET expected = 1")')
    assert not writes("listings").search('"SELECT * FROM listings"')
    assert not writes("listings").search('"UPDATE unmatched_listings SET x = 1"')
    assert not plugin_may_import("channelsync.engine.listings") and plugin_may_import("channelsync.hookimpl")
