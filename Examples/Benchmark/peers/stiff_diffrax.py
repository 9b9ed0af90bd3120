"""diffrax peer of the stiff-solver benchmarks (issue 11; not run by CI, not a dependency).

Solves the problems of stiff_cvode.c (definitions in stiff_problems.py, traced with jax.numpy)
with diffrax.Kvaerno5 (a 5th-order ESDIRK; its Newton iterations use a Jacobian diffrax builds
by forward-mode autodiff, dense, also for the Brusselator) under a PIDController with the same
rtol/atol, float64 (jax_enable_x64), on the CPU. dt0 = None (diffrax picks the first step),
max_steps = 10⁶, SaveAt(t1=True).

The solve is wrapped in jax.jit; one warm-up call compiles it, then `repeats` calls (default 5,
1 for bruss) are timed with time.perf_counter around the call and block_until_ready, and the
median is reported. Prints one JSON line per problem:

    {"bench": …, "peer": "diffrax-Kvaerno5", "rtol", "atol", "ms_per_solve", "compile_s" (the
     warm-up call), "steps": sol.stats["num_steps"], "accepted_steps", "rejected_steps",
     "evaluations"/"jacobians"/"factorizations": null (diffrax does not count them),
     "final": the final state (bruss: cells 1, 125, 250, 375, 500), "max_rel_error":
     max_i |y_i − ref_i| / max(|ref_i|, atol)}

    /work/venv/bin/python Examples/Benchmark/peers/stiff_diffrax.py [PROBLEM ...] [--rtol R]
        [--atol A] [--tight] [--repeats N]
"""
import argparse
import json
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stiff_problems as sp  # noqa: E402

BRUSS_CELLS = [1, 125, 250, 375, 500]


def make_solver(name, rtol, atol):
    f = sp.rhs(name, jnp)
    term = diffrax.ODETerm(lambda t, y, args: f(t, y))
    t1 = sp.PROBLEMS[name][1]

    @jax.jit
    def run(y0):
        sol = diffrax.diffeqsolve(
            term, diffrax.Kvaerno5(), t0=0.0, t1=t1, dt0=None, y0=y0,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(t1=True), max_steps=1_000_000)
        return sol.ys[-1], sol.stats, sol.result
    return run


def bench(name, rtol, atol, repeats):
    run = make_solver(name, rtol, atol)
    y0 = jnp.asarray(sp.initial(name))
    start = time.perf_counter()
    y, stats, result = jax.block_until_ready(run(y0))
    compile_s = time.perf_counter() - start
    if result != diffrax.RESULTS.successful:
        raise SystemExit(f"{name}: diffrax failed: {result}")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y, stats, result = jax.block_until_ready(run(y0))
        times.append(time.perf_counter() - start)
    y = np.asarray(y)
    final = [float(x) for x in y] if name != "bruss" else \
        [float(y[2 * (i - 1) + k]) for i in BRUSS_CELLS for k in (0, 1)]
    print(json.dumps({
        "bench": sp.PROBLEMS[name][0], "peer": "diffrax-Kvaerno5", "rtol": rtol, "atol": atol,
        "ms_per_solve": round(float(np.median(times)) * 1e3, 3), "repeats": repeats,
        "compile_s": round(compile_s, 2),
        "evaluations": None, "jacobians": None, "factorizations": None,
        "steps": int(stats["num_steps"]), "accepted_steps": int(stats["num_accepted_steps"]),
        "rejected_steps": int(stats["num_rejected_steps"]), "final": final,
        "max_rel_error": sp.max_rel_error(y, sp.reference(name), atol),
    }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("problems", nargs="*", default=list(sp.PROBLEMS))
    parser.add_argument("--rtol", type=float)
    parser.add_argument("--atol", type=float)
    parser.add_argument("--tight", action="store_true")
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    for name in args.problems:
        if name not in sp.PROBLEMS:
            parser.error(f"unknown problem {name}; known: {', '.join(sp.PROBLEMS)}")
        tolerances = sp.PROBLEMS[name][3 if args.tight else 2]
        bench(name, args.rtol or tolerances[0], args.atol or tolerances[1],
              args.repeats or (1 if name == "bruss" else 5))


if __name__ == "__main__":
    main()
