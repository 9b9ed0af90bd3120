#!/usr/bin/env python3
"""NumPy (OpenBLAS) peer of rnnode-bench's gemm-f32-512 / gemm-f64-512: C = A·B for random n×n matrices.

Prints one JSON line per dtype, like rnnode-bench: the best of --repeats timed runs (after warm-up)
and the GFLOP/s that gives (2·n³ flops per product). The BLAS thread count is set before NumPy is
imported (default 2, the machine's cores). Not run by CI.

    python3 Examples/Benchmark/peers/gemm_numpy.py [--size 512] [--threads 2] [--repeats 3]
"""

import argparse
import json
import os
import time

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--size", type=int, default=512, help="matrix size n (default 512)")
parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
parser.add_argument("--repeats", type=int, default=3, help="timed measurements; the best is reported")
parser.add_argument("--products", type=int, default=20, help="products per measurement")
args = parser.parse_args()

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(args.threads)

import numpy as np  # noqa: E402  (after the thread count is set)

n = args.size
rng = np.random.default_rng(0)
for dtype, name in ((np.float32, "f32"), (np.float64, "f64")):
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype=dtype)
    for _ in range(5):  # warm-up: thread pool, caches, page faults
        np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.products):
            np.matmul(a, b, out=c)
        best = min(best, (time.perf_counter() - start) / args.products)
    gflops = 2 * n**3 / best / 1e9
    print(json.dumps({"bench": f"gemm-{name}-{n}", "peer": f"numpy {np.__version__}",
                      "threads": args.threads, "seconds": best, "gflops": round(gflops, 1)}))
