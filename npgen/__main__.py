"""``python -m npgen ...``: the same as the ``npgen`` script (:func:`npgen.cli.main`)."""

import sys

from npgen.cli import main

if __name__ == "__main__":
    sys.exit(main())
