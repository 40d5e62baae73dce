"""`python -m core`: see core/cli.py."""

from core.cli import main

main()
