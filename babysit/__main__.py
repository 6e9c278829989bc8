"""python -m babysit."""

from babysit.cli.app import main

main()
