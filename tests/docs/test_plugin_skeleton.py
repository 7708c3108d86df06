"""Copying the tutorial's plugin and renaming it gives a plugin whose own tests pass.

The steps are docs/plugins.md's "Start a new channel": copy, rename the package,
replace the name everywhere, install, run its tests.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial" / "tinyshop"


@pytest.mark.slow
def test_a_copied_and_renamed_tutorial_plugin_passes_its_own_tests(tmp_path):
    project = tmp_path / "channelsync-widget"
    # what a local build or test run leaves behind is not part of the skeleton
    shutil.copytree(TUTORIAL, project, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                                      ".pytest_cache"))
    (project / "channelsync_tinyshop").rename(project / "channelsync_widget")
    for path in project.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("tinyshop", "widget").replace("TinyShop", "Widget"), encoding="utf-8")
    leftovers = [str(p.relative_to(project)) for p in project.rglob("*")
                 if "tinyshop" in p.name.lower() or (p.is_file() and "tinyshop" in p.read_text().lower())]
    assert not leftovers, f"the rename missed {leftovers}"

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(project)], check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "--rootdir",
                             str(project), str(project / "tests")],
                            env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # installed under its new name, the copy is a channel type of its own ("widget" -> WidgetChannel)
    assert "test_registered_through_entry_points PASSED" in result.stdout
