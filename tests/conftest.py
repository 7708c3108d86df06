import pytest

from channelsync.sim.fake import FakePlatform
from channelsync.store import Store


@pytest.fixture(autouse=True)
def _fresh_fake_platforms():
    """Fake platforms are process-wide by name: no test sees another's."""
    FakePlatform.forget_all()
    yield
    FakePlatform.forget_all()


@pytest.fixture(autouse=True, scope="session")
def _quiet_logs():
    """Log warnings and above only; tests that check log lines use structlog's capture_logs."""
    from channelsync.telemetry import log

    log.configure("json", "warning")


@pytest.fixture
def store(tmp_path):
    """A fresh, migrated database of the test's own (modules needing seeded rows override it)."""
    s = Store(tmp_path / "cs.db")
    yield s
    s.close()
