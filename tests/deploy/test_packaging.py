"""One plain wheel carries the core and every built-in plugin, registered as entry points."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("taobao", "jd", "wechat", "ownsite", "pdd")


@pytest.mark.slow
def test_wheel_contains_core_plugins_and_entry_points(tmp_path):
    # built from a copy: setuptools builds in the source folder, and a build/ left there by an
    # earlier layout would put modules that no longer exist into the wheel
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                                                "__pycache__", ".pytest_cache", ".hypothesis"))
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    wheel = next(out.glob("channelsync-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "channelsync/sync/runner.py" in names and "channelsync/testing/conformance.py" in names
    for plugin in BUILTIN:
        assert f"channelsync_{plugin}/__init__.py" in names
        assert f"{plugin} = channelsync_{plugin}" in entry_points
    assert "channelsync = channelsync.cli:main" in entry_points
    modules = {n for n in names if n.endswith(".py")}
    assert not [n for n in modules if "/tests/" in n], "plugin tests are not shipped"
    assert "channelsync_jd/sim/__init__.py" in names, "a plugin's simulator is shipped (the sandbox serves it)"
    shipped_from = {n: ROOT / n if n.startswith("channelsync/") else ROOT / "plugins" / n for n in modules}
    assert not [n for n, path in shipped_from.items() if not path.exists()], "only modules the tree has"
