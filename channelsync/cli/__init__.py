"""The operator's command line: ``channelsync <command>``.

``main`` builds the group; each command module registers itself through the
``register_commands`` hook, as a default plugin (the way datasette and llm do).
"""

from channelsync.cli.main import cli, main

__all__ = ["cli", "main"]
