"""One plain wheel carries the core and every built-in plugin, registered as entry points."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ("taobao", "jd", "wechat", "ownsite")


@pytest.mark.slow
def test_wheel_contains_core_plugins_and_entry_points(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("channelsync-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "channelsync/sync/runner.py" in names and "channelsync/testing/conformance.py" in names
    for plugin in BUILTIN:
        assert f"channelsync_{plugin}/__init__.py" in names
        assert f"{plugin} = channelsync_{plugin}" in entry_points
    assert "channelsync = channelsync.cli:main" in entry_points
