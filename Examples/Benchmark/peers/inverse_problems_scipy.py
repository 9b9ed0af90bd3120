"""SciPy peers of RNNODE's inverse problems: least_squares (trust-region reflective with x_scale="jac",
the Jacobian by forward differences, SciPy's default) with solve_ivp's LSODA.

  su-article          Su's competition model, six parameters (log-parameterized, as infer-parameters'
                      default), the article's seven time points with gaps, LSODA rtol = atol = 1e-9.
  lotka-volterra-fit  Lotka–Volterra, four parameters, 18 observations with two gaps (the table of
                      rnnode-bench lotka-volterra-fit), LSODA rtol = atol = 1e-10.

Prints one JSON line per problem: {"bench", "seconds", "loss", "params", "nfev"} with loss = Σ r²
(least_squares' cost is half of it); seconds is the median of --repeats fits.
"""
import argparse
import json
import time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

NAN = float("nan")

SU_TABLE = [  # t, x1, x2; the first row is the initial state
    (0, 100, 150), (10, 165, 283), (15, 197, 290), (30, 280, 276), (36, 305, 269), (40, 318, 266), (42, 324, 264),
]
SU_GUESS = [0.1, 0.1, 0.001, 0.001, 0.001, 0.001]

LV_TABLE = [  # t, x, y; NaN = missing; the first row is the initial state (known)
    (0, 1.0, 1.0), (1, 2.7752, 0.2538), (2, 6.7659, 2.0505), (3, 0.9727, NAN), (4, 1.8781, 0.3293),
    (5, 6.1237, 0.6170), (6, 1.3866, 3.5270), (7, NAN, 0.4986), (8, 4.3148, 0.3162), (9, 3.2976, 4.4872),
    (10, 1.0181, 0.9238),
]
LV_GUESS = [1.4, 0.95, 0.95, 2.9]


def su_field(t, x, p):
    r1, r2, a1, a2, n1, n2 = p
    d1 = r1 * x[0] * (1 - n1 * x[0]) - a1 * x[0] * x[1]
    d2 = r2 * x[1] * (1 - n2 * x[1]) - a2 * x[0] * x[1]
    return [min(max(d1, -1e5), 1e5), min(max(d2, -1e5), 1e5)]


def lv_field(t, y, p):
    return [p[0] * y[0] - p[1] * y[0] * y[1], p[2] * y[0] * y[1] - p[3] * y[1]]


def residual_function(table, field, tol, transform):
    data = np.array(table, dtype=float)
    times, observed, start = data[:, 0], data[1:, 1:], data[0, 1:]
    mask = ~np.isnan(observed)

    def residuals(phi):
        p = transform(phi)
        s = solve_ivp(field, (times[0], times[-1]), start, method="LSODA", t_eval=times, rtol=tol, atol=tol, args=(p,))
        if not s.success or s.y.shape[1] != len(times):
            return np.full(mask.sum(), 1e10)
        return (s.y.T[1:] - observed)[mask]

    return residuals


def fit(name, table, field, tol, guess, log, repeats):
    transform = np.exp if log else (lambda phi: phi)
    start = np.log(guess) if log else np.array(guess, dtype=float)
    residuals = residual_function(table, field, tol, transform)
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = least_squares(residuals, start, x_scale="jac", xtol=1e-10, ftol=1e-12, gtol=1e-10)
        seconds.append(time.perf_counter() - t0)
    loss = float(np.sum(result.fun ** 2))
    print(json.dumps({"bench": name, "seconds": float(np.median(seconds)), "loss": loss,
                      "params": [float(v) for v in transform(result.x)], "nfev": int(result.nfev)}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=["su-article", "lotka-volterra-fit"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in args.names:
        if name == "su-article":
            fit(name, SU_TABLE, su_field, 1e-9, SU_GUESS, True, args.repeats)
        elif name == "lotka-volterra-fit":
            fit(name, LV_TABLE, lv_field, 1e-10, LV_GUESS, False, args.repeats)
        else:
            parser.error(f"unknown problem {name}")
