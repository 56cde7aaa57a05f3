"""``npgen bench``: time npgen against PyTorch (interleaved, medians) and write JSON.

The benchmark itself lives in :mod:`npgen.bench`; this module is its command line, shared by
``npgen bench`` and ``python benchmarks/bench.py``. The backend chosen with ``--backend``
(e.g. cupy on a GPU machine) is the one npgen runs on; PyTorch stays the CPU reference.
"""

from __future__ import annotations

import argparse
import os

HELP = "benchmark npgen against PyTorch (time ratios, peak memory) and write JSON"


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _batches(text: str) -> list[int]:
    try:
        values = [int(part) for part in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected batch sizes like 16,64; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be >= 1; got {text!r}")
    return values


def add_arguments(parser) -> None:
    parser.add_argument("--cases", type=_names, default=None,
                        help="comma-separated case names or name prefixes (default: all), "
                             "e.g. conv2d,vae-step; --list shows them")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--batch", type=_batches, default=None,
                        help="batch size(s) for every case, e.g. 16,32,64 (default: each "
                             "case's own: 64 for conv, 128 for dense and the VAE)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per implementation, the median is kept (default: 7, 3 "
                             "with --quick)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed runs first (default: 2, 1 with --quick)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for both libraries: torch and BLAS/OpenMP")
    parser.add_argument("--pause", type=float, default=None,
                        help="idle seconds after every timed run, so that one library's "
                             "spinning worker threads do not slow the other (default: 0.25, 0 with "
                             "--quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: batch 4, 3 repeats, 1 warm-up, no pause (figures "
                             "meaningless)")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak RSS, one fresh subprocess per case and library")
    parser.add_argument("--no-torch", dest="torch", action="store_false",
                        help="time npgen only")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="where to write the results (default "
                             "benchmarks/results/<timestamp>.json)")


def run(args) -> int:
    from npgen import bench

    if args.list:
        for case in bench.CASES:
            print(f"{case.name:32s} batch {case.batch:4d}  {case.description}")
        return 0
    try:
        cases = bench.select_cases(args.cases)
    except ValueError as exc:
        print(exc)
        return 2
    batches = args.batch or ([4] if args.quick else None)
    repeats = args.repeats or (3 if args.quick else 7)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    pause = args.pause if args.pause is not None else (0.0 if args.quick else 0.25)
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} is set; it may slow "
              "NumPy's BLAS (see docs/performance.md)")
    table = bench.format_table({"results": []})
    print(table)
    results = bench.run_benchmarks(cases, batches, repeats, warmup, with_torch=args.torch,
                                   memory=args.memory, threads=args.threads, pause=pause,
                                   progress=lambda r: print(bench.format_row(r), flush=True))
    blas = [f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')} "
            f"x{p.get('num_threads')}" for p in results["environment"]["blas"]]
    print(f"backend {results['settings']['backend']}, {args.threads} threads, "
          f"median of {repeats}; pools: {'; '.join(blas) or 'threadpoolctl not installed'}")
    path = bench.write_json(results, args.json or bench.default_json_path())
    print(f"wrote {path}")
    return 0
