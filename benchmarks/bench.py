"""Run the npgen benchmarks: ``python benchmarks/bench.py [options]`` = ``npgen bench``.

Options: ``python benchmarks/bench.py --help``; what the figures mean: docs/performance.md.
"""

import sys

from npgen.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
