"""No plugin loops over pages, parses page tokens or retries: the kit and the core do.

Every plugin's adapter side — each ``plugins/channelsync_*`` package and the
tutorial's, everything but ``sim/`` and ``tests/`` — is read as Python and
refused, with file and line, when it has:

* a ``while`` loop (a page loop, a poll loop, a retry loop);
* page-token parsing: ``page_token`` used as anything but an argument passed
  on unchanged (``int(page_token)``, ``page_token.split(...)``, ``page_token[...]``);
* retry code: ``tenacity``, a ``sleep`` call, a ``for ... in range(...)`` loop
  holding a ``try``, or an ``except`` for ``Transient``/``RateLimited``/
  ``AuthExpired``/``ChannelError`` that does not re-raise (deciding to retry or
  to give up is the core's).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(ROOT.glob("plugins/channelsync_*")) + [ROOT / "docs/tutorial/tinyshop/channelsync_tinyshop"]
#: plugins still on their own loops until issue 18b moves them onto the kit (remove when it lands)
NOT_YET_ON_THE_KIT = {"channelsync_taobao", "channelsync_jd"}
RETRY_ERRORS = {"Transient", "RateLimited", "AuthExpired", "ChannelError"}


def adapter_files(package: Path) -> list[Path]:
    return [p for p in sorted(package.rglob("*.py")) if not {"sim", "tests"} & set(p.relative_to(package).parts)]


def _names(node: ast.AST) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute))}


def problems(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    found = []

    def say(node: ast.AST, what: str) -> None:
        found.append(f"{path.name}:{node.lineno}: {what}")

    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            say(node, "a while loop (the core loops over pages and retries)")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            if any(m and m.split(".")[0] == "tenacity" for m in modules):
                say(node, "tenacity (retrying is the core's)")
        elif isinstance(node, ast.Call) and "sleep" in _names(node.func):
            say(node, "a sleep (waiting is the core's)")
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and _names(node.iter.func) == {"range"} \
                and any(isinstance(n, ast.Try) for n in ast.walk(node)):
            say(node, "a for-range loop around a try (a retry loop)")
        elif isinstance(node, ast.ExceptHandler) and node.type is not None and _names(node.type) & RETRY_ERRORS \
                and not (node.body and isinstance(node.body[-1], ast.Raise)):
            say(node, f"except {ast.unparse(node.type)} without re-raising (retry decisions are the core's)")
        elif isinstance(node, ast.Name) and node.id == "page_token":
            parent = parents.get(node)
            passed_on = isinstance(parent, ast.Call) and node in parent.args and _names(parent.func) - {
                "int", "float", "str", "loads", "_split", "decode"}
            stored = isinstance(parent, ast.arg) or isinstance(node.ctx, ast.Store)
            if not (passed_on or stored or isinstance(parent, (ast.keyword, ast.Return))):
                say(node, "page-token parsing (declare a paginator: the kit makes and reads tokens)")
    return found


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_no_page_loop_token_parsing_or_retry_code_in_a_plugin_adapter(package, request):
    if package.name in NOT_YET_ON_THE_KIT:
        request.applymarker(pytest.mark.xfail(reason="issue 18b moves this plugin onto the kit", strict=False))
    found = [p for path in adapter_files(package) for p in problems(path)]
    assert not found, f"{package.name}:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("code,what", [
    ("while more:\n    pass\n", "a while loop"),
    ("import tenacity\n", "tenacity"),
    ("time.sleep(1)\n", "a sleep"),
    ("for attempt in range(3):\n    try:\n        f()\n    except Exception:\n        pass\n", "a for-range loop"),
    ("try:\n    f()\nexcept Transient:\n    return None\n", "except Transient without re-raising"),
    ("def list_listings(self, page_token):\n    page = int(page_token or 1)\n", "page-token parsing"),
    ("def f(self, page_token):\n    a, b = page_token.split('|')\n", "page-token parsing"),
])
def test_each_forbidden_pattern_is_caught(code, what):
    if "return None" in code:
        code = "def g():\n" + "".join("    " + line + "\n" for line in code.splitlines())
    assert any(what in p for p in problems(Path("adapter.py"), code)), problems(Path("adapter.py"), code)


@pytest.mark.parametrize("code", [
    "def f(self, page_token):\n    return self._paged(self.listing_pages, 50, page_token, self.listing_page)\n",
    "try:\n    f()\nexcept AuthExpired:\n    self.auth.refused(token)\n    raise\n",
    "for u in updates:\n    send(u)\n",
])
def test_what_the_kit_expects_is_allowed(code):
    assert problems(Path("adapter.py"), code) == []
