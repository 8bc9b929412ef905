"""``python -m widedeep``: the command line (see widedeep/cli.py). With no
arguments it trains the census wide & deep classifier."""

import sys

from widedeep.cli import main

if __name__ == "__main__":
    sys.exit(main())
