"""``python -m channelsync`` runs the CLI."""

from channelsync.cli import main

main()
