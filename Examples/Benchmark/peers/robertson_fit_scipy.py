"""SciPy peer of the stiff parameter-fitting benchmark (issue 11; not run by CI, not a dependency).

Fits the three rate constants of the Robertson problem,

    y1' = −k1 y1 + k3 y2 y3,  y2' = k1 y1 − k3 y2 y3 − k2 y2²,  y3' = k2 y2²,  y(0) = (1, 0, 0),

truth k = (k1, k2, k3) = (0.04, 3e7, 1e4), to a fixed noisy table, with
scipy.optimize.least_squares, once with solve_ivp(method="Radau") and once with "BDF" inside the
residual. Prints one JSON line per method:

    {"bench": "fit-robertson", "peer": "scipy-least_squares-Radau", "rates": [k1, k2, k3],
     "loss": ½ Σ r² at the optimum, "loss_at_truth": ½ Σ r² at the true rates, "seconds": wall
     time of the least_squares call, "nfev": residual evaluations in all (each one solve_ivp call,
     the finite-difference Jacobian's included), "ls_nfev"/"njev": least_squares' own counts,
     "status": least_squares' status}

    /work/venv/bin/python Examples/Benchmark/peers/robertson_fit_scipy.py [--methods Radau,BDF]
    /work/venv/bin/python Examples/Benchmark/peers/robertson_fit_scipy.py --print-table
    /work/venv/bin/python Examples/Benchmark/peers/robertson_fit_scipy.py --write-table

The data (robertson_table.csv next to this file, columns t,y1,y2,y3, an empty cell = missing; the
fit reads it from there, --write-table regenerates it, --print-table prints it):

- times t_j = 1e-3 · 10^(j/2), j = 0 … 15 (1e-3 … 10^4.5 ≈ 3.16e4);
- noise-free values: the solution at the true rates, solve_ivp Radau with rtol 1e-12,
  atol (1e-18, 1e-22, 1e-18) and the analytic Jacobian;
- multiplicative noise: d_jc = y_c(t_j) · (1 + 0.01 z_jc), z_jc standard normal, drawn in the
  order j = 0 … 15, c = y1, y2, y3 (one draw for every entry, missing ones included) from
  SplitMix64 seeded with 11: state += 0x9E3779B97F4A7C15, z = state,
  z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9, z = (z ^ (z >> 27)) · 0x94D049BB133111EB,
  output z ^ (z >> 31) (all mod 2⁶⁴); a uniform is (output >> 11) · 2⁻⁵³ ∈ [0, 1); each normal
  takes two uniforms u1, u2 (in that order) and is √(−2 ln(1 − u1)) · cos(2π u2) (Box–Muller,
  the sine partner discarded);
- missing entries: (j, c) with (3j + c) mod 4 = 1, c = 0, 1, 2 for y1, y2, y3 — 12 of the 48
  (y1 at j = 3, 7, 11, 15; y2 at j = 0, 4, 8, 12; y3 at j = 1, 5, 9, 13).
  The CSV holds y2 unscaled (~1e-5); the scaling is the residual's.

The residuals, on the present entries only: r_jc = (y_c(t_j; k) − d_jc) / s_c, where
s_c = max_j |d_jc| over the present entries of column c (so y2, ~3.6e-5 at most, weighs like the
others). The loss is ½ Σ r_jc². The parameters are the log-rates θ = ln k, started from
k = (0.1, 1e7, 3e4). Each residual evaluation is one solve_ivp from 0 to t_15 with t_eval = the
times, rtol 1e-8, atol (1e-12, 1e-16, 1e-12) (y2's scaled by its size), and the analytic
Jacobian. least_squares: method "trf", jac "2-point" with diff_step 1e-6 (a relative step in θ;
the default √ε would be below the solver's 1e-8 noise), the default tolerances
(ftol = xtol = gtol = 1e-8).
"""
import argparse
import json
import math
import os
import time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "robertson_table.csv")
TRUTH = (0.04, 3e7, 1e4)
START = (0.1, 1e7, 3e4)
TIMES = [1e-3 * 10.0 ** (j / 2.0) for j in range(16)]
SEED = 11
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def robertson(k):
    k1, k2, k3 = k

    def f(t, y):
        a, b, c = k1 * y[0], k3 * y[1] * y[2], k2 * y[1] ** 2
        return np.array([-a + b, a - b - c, c])

    def jac(t, y):
        return np.array([[-k1, k3 * y[2], k3 * y[1]],
                         [k1, -k3 * y[2] - 2.0 * k2 * y[1], -k3 * y[1]],
                         [0.0, 2.0 * k2 * y[1], 0.0]])
    return f, jac


def trajectory(k, method, rtol, atol):
    """The solution at TIMES, shape (16, 3), or None if the solver failed."""
    f, jac = robertson(k)
    sol = solve_ivp(f, (0.0, TIMES[-1]), [1.0, 0.0, 0.0], method=method, t_eval=TIMES,
                    rtol=rtol, atol=atol, jac=jac)
    return sol.y.T if sol.success and sol.y.shape[1] == len(TIMES) else None


def make_table():
    clean = trajectory(TRUTH, "Radau", 1e-12, [1e-18, 1e-22, 1e-18])
    rng = SplitMix64(SEED)
    table = np.empty((16, 3))
    for j in range(16):
        for c in range(3):
            z = rng.normal()
            table[j, c] = np.nan if (3 * j + c) % 4 == 1 else clean[j, c] * (1.0 + 0.01 * z)
    return table


def table_csv(table):
    lines = ["t,y1,y2,y3"]
    for t, row in zip(TIMES, table):
        cells = ["" if math.isnan(x) else repr(float(x)) for x in row]
        lines.append(",".join([repr(t)] + cells))
    return "\n".join(lines) + "\n"


def read_table():
    table = np.full((16, 3), np.nan)
    with open(TABLE) as file:
        rows = file.read().strip().split("\n")[1:]
    for j, line in enumerate(rows):
        cells = line.split(",")
        for c in range(3):
            if cells[c + 1]:
                table[j, c] = float(cells[c + 1])
    return table


def fit(table, method):
    present = ~np.isnan(table)
    scale = np.array([np.max(np.abs(table[present[:, c], c])) for c in range(3)])
    calls = [0]

    def residuals(theta):
        calls[0] += 1
        y = trajectory(np.exp(theta), method, 1e-8, [1e-12, 1e-16, 1e-12])
        if y is None:  # a failed solve: a large, finite residual steers the fit away
            return np.full(int(present.sum()), 1e3)
        return ((y - table) / scale)[present]

    truth_loss = 0.5 * float(np.sum(residuals(np.log(TRUTH)) ** 2))
    calls[0] = 0
    start = time.perf_counter()
    result = least_squares(residuals, np.log(START), method="trf", jac="2-point", diff_step=1e-6)
    seconds = time.perf_counter() - start
    return {
        "bench": "fit-robertson", "peer": f"scipy-least_squares-{method}",
        "rates": [float(x) for x in np.exp(result.x)], "loss": float(result.cost),
        "loss_at_truth": truth_loss, "seconds": round(seconds, 3), "nfev": calls[0],
        "ls_nfev": int(result.nfev), "njev": int(result.njev), "status": int(result.status),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default="Radau,BDF")
    parser.add_argument("--print-table", action="store_true")
    parser.add_argument("--write-table", action="store_true")
    args = parser.parse_args()
    if args.write_table:
        with open(TABLE, "w") as file:
            file.write(table_csv(make_table()))
        return
    if args.print_table:
        print(table_csv(read_table()), end="")
        return
    table = read_table()
    for method in args.methods.split(","):
        print(json.dumps(fit(table, method)), flush=True)


if __name__ == "__main__":
    main()
