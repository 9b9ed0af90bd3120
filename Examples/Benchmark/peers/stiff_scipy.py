"""SciPy peer of the stiff-solver benchmarks (issue 11; not run by CI, not a dependency).

Solves the problems of stiff_cvode.c (definitions in stiff_problems.py) with
scipy.integrate.solve_ivp, methods Radau, BDF and LSODA, double precision, with the analytic
Jacobian passed as jac=: dense for vdp1000, robertson and hires; for the Brusselator a sparse
(CSC) analytic Jacobian for Radau and BDF (which then factorize with SuperLU; jac_sparsity is
only consulted when jac is a finite-difference one, so it is not needed), and for LSODA the
packed banded Jacobian with lband = uband = 2.

Each (problem, method) is solved `repeats` times (default 3 for vdp1000, 5 for robertson and
hires, 3 for bruss; --repeats overrides) and the median wall time (time.perf_counter) of one
solve_ivp call is reported. Prints one JSON line per (problem, method):

    {"bench": "stiff-vdp1000", "peer": "scipy-Radau", "rtol", "atol", "ms_per_solve",
     "evaluations": sol.nfev, "jacobians": sol.njev, "factorizations": sol.nlu,
     "steps": accepted steps (len(sol.t) − 1), "final": the final state (bruss: the (u, v) pairs of
     cells 1, 125, 250, 375, 500), "max_rel_error": max_i |y_i − ref_i| / max(|ref_i|, atol)}

(LSODA reports no nlu: "factorizations" is null for it.)

    /work/venv/bin/python Examples/Benchmark/peers/stiff_scipy.py [PROBLEM ...] [--methods Radau,BDF,LSODA]
        [--rtol R] [--atol A] [--tight] [--repeats N]
    /work/venv/bin/python Examples/Benchmark/peers/stiff_scipy.py --reference [PROBLEM ...]
        (Radau at rtol 1e-13, 1e-12 for bruss, compared with the embedded references)
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stiff_problems as sp  # noqa: E402

DEFAULT_REPEATS = {"vdp1000": 3, "robertson": 5, "hires": 5, "bruss": 3}
REFERENCE_TOLERANCES = {"vdp1000": (1e-13, 1e-14), "robertson": (1e-13, 1e-20),
                        "hires": (1e-13, 1e-16), "bruss": (1e-12, 1e-14)}
BRUSS_CELLS = [1, 125, 250, 375, 500]


def solve(name, method, rtol, atol):
    f = sp.rhs(name)
    t1 = sp.PROBLEMS[name][1]
    options = {}
    if name == "bruss" and method == "LSODA":
        options = dict(jac=sp.jacobian(name, "banded"), lband=2, uband=2)
    elif name == "bruss":
        options = dict(jac=sp.jacobian(name, "sparse"))
    else:
        options = dict(jac=sp.jacobian(name))
    return solve_ivp(f, (0.0, t1), sp.initial(name), method=method, rtol=rtol, atol=atol, **options)


def final_summary(name, y):
    if name != "bruss":
        return [float(x) for x in y]
    return [float(y[2 * (i - 1) + k]) for i in BRUSS_CELLS for k in (0, 1)]


def bench(name, method, rtol, atol, repeats):
    times, sol = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        sol = solve(name, method, rtol, atol)
        times.append(time.perf_counter() - start)
        if not sol.success:
            raise SystemExit(f"{name} {method}: {sol.message}")
    y = sol.y[:, -1]
    print(json.dumps({
        "bench": sp.PROBLEMS[name][0], "peer": f"scipy-{method}", "rtol": rtol, "atol": atol,
        "ms_per_solve": round(float(np.median(times)) * 1e3, 3), "repeats": repeats,
        "evaluations": int(sol.nfev), "jacobians": int(sol.njev),
        "factorizations": int(sol.nlu) if method != "LSODA" else None,
        "steps": len(sol.t) - 1, "final": final_summary(name, y),
        "max_rel_error": sp.max_rel_error(y, sp.reference(name), atol),
    }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("problems", nargs="*", default=list(sp.PROBLEMS))
    parser.add_argument("--methods", default="Radau,BDF,LSODA")
    parser.add_argument("--rtol", type=float)
    parser.add_argument("--atol", type=float)
    parser.add_argument("--tight", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--reference", action="store_true")
    args = parser.parse_args()
    for name in args.problems:
        if name not in sp.PROBLEMS:
            parser.error(f"unknown problem {name}; known: {', '.join(sp.PROBLEMS)}")
        if args.reference:
            rtol, atol = REFERENCE_TOLERANCES[name]
            start = time.perf_counter()
            sol = solve(name, "Radau", rtol, atol)
            y = sol.y[:, -1]
            error = sp.max_rel_error(y, sp.reference(name), 1e-300)
            print(f"{name}: Radau rtol {rtol} atol {atol}: {len(sol.t) - 1} steps, "
                  f"{time.perf_counter() - start:.1f} s, max |y − ref|/|ref| = {error:.3e}")
            if name != "bruss":
                print("   ", " ".join(repr(float(x)) for x in y))
            continue
        tolerances = sp.PROBLEMS[name][3 if args.tight else 2]
        rtol = args.rtol or tolerances[0]
        atol = args.atol or tolerances[1]
        for method in args.methods.split(","):
            bench(name, method, rtol, atol, args.repeats or DEFAULT_REPEATS[name])


if __name__ == "__main__":
    main()
