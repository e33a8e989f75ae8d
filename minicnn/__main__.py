"""``python -m minicnn``: the command line (see ``minicnn.cli``)."""
import sys

from minicnn.cli import main

if __name__ == "__main__":
    sys.exit(main())
