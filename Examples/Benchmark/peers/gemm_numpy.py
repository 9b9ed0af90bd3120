#!/usr/bin/env python3
"""NumPy (OpenBLAS) peer of rnnode-bench's gemm-* benchmarks: C = A·B for random m×k and k×n matrices.

Prints one JSON line per dtype and shape, like rnnode-bench: the best of --repeats timed runs (after
warm-up) and the GFLOP/s that gives (2·m·k·n flops per product). Shapes are n (square, named like
gemm-f32-512) or MxKxN (named like gemm-f32-64x256x1024). The BLAS thread count is set before NumPy
is imported (default 2, the machine's cores). Not run by CI.

    python3 Examples/Benchmark/peers/gemm_numpy.py [--shape 512] [--shape 64x256x1024] [--threads 2]
"""

import argparse
import json
import os
import time


def shape(text):
    """n or MxKxN, as (m, k, n, name)."""
    parts = text.split("x")
    if len(parts) not in (1, 3) or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not n or MxKxN with positive integers")
    m, k, n = (int(parts[0]),) * 3 if len(parts) == 1 else map(int, parts)
    return m, k, n, text


parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--shape", type=shape, action="append",
                    help="n or MxKxN; repeatable (default 512)")
parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
parser.add_argument("--repeats", type=int, default=3, help="timed measurements; the best is reported")
parser.add_argument("--products", type=int, default=0,
                    help="products per measurement (default: about 0.1 s of work at 100 GFLOP/s)")
args = parser.parse_args()

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(args.threads)

import numpy as np  # noqa: E402  (after the thread count is set)

rng = np.random.default_rng(0)
for m, k, n, name in args.shape or [shape("512")]:
    flops = 2 * m * k * n
    products = args.products or max(3, min(1000, round(1e10 / flops)))
    for dtype, precision in ((np.float32, "f32"), (np.float64, "f64")):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        c = np.empty((m, n), dtype=dtype)
        for _ in range(5):  # warm-up: thread pool, caches, page faults
            np.matmul(a, b, out=c)
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(products):
                np.matmul(a, b, out=c)
            best = min(best, (time.perf_counter() - start) / products)
        print(json.dumps({"bench": f"gemm-{precision}-{name}", "peer": f"numpy {np.__version__}",
                          "threads": args.threads, "seconds": best, "gflops": round(flops / best / 1e9, 1)}))
