"""The plugin tutorial's finished plugin installs like any package and passes the conformance suite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial" / "tinyshop"


@pytest.mark.slow
def test_tutorial_plugin_installs_and_passes_conformance(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(TUTORIAL)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    # installed: the entry point makes it a channel type like the built-ins
    found = subprocess.run([sys.executable, "-c", "from channelsync.sdk.plugins import channel_types, make_manager;"
                            "print(channel_types(make_manager())['tinyshop'].__module__)"],
                           env=env, capture_output=True, text=True)
    assert found.stdout.strip() == "channelsync_tinyshop.channel", found.stderr
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(TUTORIAL),
                             str(TUTORIAL / "tests")], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
