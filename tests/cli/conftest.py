"""What the CLI tests share: click's test runner driving channelsync's own ``main``."""

import pytest
from click.testing import CliRunner


class _Main:
    """click's runner calling ``channelsync.cli.main`` (its error handler and exit codes
    included) with a given plugin manager."""

    name = "channelsync"

    def __init__(self, pm):
        self.pm = pm

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from channelsync import cli as cli_mod

        cli_mod.main(list(args), pm=self.pm)


@pytest.fixture
def invoke_cli():
    """``invoke_cli(pm, argv, **runner_kwargs)``: the click ``Result`` of ``channelsync <argv>``."""
    return lambda pm, argv, **kwargs: CliRunner().invoke(_Main(pm), list(argv), **kwargs)
