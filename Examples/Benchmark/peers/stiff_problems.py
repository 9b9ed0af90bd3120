"""The stiff benchmark problems shared by stiff_scipy.py and stiff_diffrax.py (issue 11).

The same definitions as stiff_cvode.c (see its header for the equations, tolerances and the
provenance of the references). The right-hand sides are written against an array module `xp`
(numpy or jax.numpy) without in-place updates, so that the diffrax peer can trace them; the
Jacobians (numpy, for SciPy) are analytic.

    vdp1000    y1' = y2, y2' = μ (1 − y1²) y2 − y1, μ = 1000, y(0) = (2, 0), t ∈ [0, 3000]
    robertson  y1' = −0.04 y1 + 1e4 y2 y3, y2' = 0.04 y1 − 1e4 y2 y3 − 3e7 y2², y3' = 3e7 y2²,
               y(0) = (1, 0, 0), t ∈ [0, 1e5]
    hires      HIRES (Bari test set), 8 variables, t ∈ [0, 321.8122]
    bruss      1-D Brusselator, N = 500 cells, interleaved (u_i, v_i), α = 1/50, t ∈ [0, 10]

max_rel_error(y, ref, atol) = max_i |y_i − ref_i| / max(|ref_i|, atol): the componentwise
relative error of the final state, components with |ref_i| < atol judged absolutely in units of
atol (atol = the run's scalar absolute tolerance).
"""
import math
import os

import numpy as np

MU = 1000.0
BN = 500
ALPHA = 1.0 / 50.0
HERE = os.path.dirname(os.path.abspath(__file__))

# name: (bench, t1, (rtol, atol), tight (rtol, atol))
PROBLEMS = {
    "vdp1000": ("stiff-vdp1000", 3000.0, (1e-6, 1e-8), (1e-8, 1e-10)),
    "robertson": ("stiff-robertson", 1e5, (1e-6, 1e-10), (1e-8, 1e-12)),
    "hires": ("stiff-hires", 321.8122, (1e-6, 1e-8), (1e-8, 1e-10)),
    "bruss": ("stiff-bruss500", 10.0, (1e-6, 1e-6), (1e-8, 1e-8)),
}

# vdp1000: CVODE BDF (stiff_cvode.c --reference, rtol 1e-13, atol 1e-14) and SciPy Radau
# (stiff_scipy.py --reference, rtol 1e-13, atol 1e-14) agree to 2.6e-10 relative.
VDP_REF = [-1.5106069365894994, 0.0011783800010397689]
# robertson: CVODE BDF at rtol 1e-13, atol 1e-20; cross-checked against rtol 1e-12 and SciPy
# Radau at rtol 1e-13 (agreement to 8e-12 relative).
ROBER_REF = [0.01786592114224797, 7.2747514684978863e-08, 0.98213400611023571]
# hires: the Bari test set's published reference (RADAU5, quadruple precision, Cray C90).
HIRES_REF = [
    0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
    0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2,
]


def bruss_reference():
    """The interleaved reference state from brusselator_reference.csv (i, u_i, v_i), or None."""
    path = os.path.join(HERE, "brusselator_reference.csv")
    if not os.path.exists(path):
        return None
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    return np.column_stack([rows[:, 1], rows[:, 2]]).reshape(-1)


def reference(name):
    return {"vdp1000": VDP_REF, "robertson": ROBER_REF, "hires": HIRES_REF}.get(name) \
        if name != "bruss" else bruss_reference()


def max_rel_error(y, ref, atol):
    if ref is None:
        return None
    y, ref = np.asarray(y, dtype=float), np.asarray(ref, dtype=float)
    return float(np.max(np.abs(y - ref) / np.maximum(np.abs(ref), atol)))


def initial(name):
    if name == "vdp1000":
        return np.array([2.0, 0.0])
    if name == "robertson":
        return np.array([1.0, 0.0, 0.0])
    if name == "hires":
        return np.array([1.0, 0, 0, 0, 0, 0, 0, 0.0057])
    x = np.arange(1, BN + 1) / (BN + 1.0)
    return np.column_stack([1.0 + np.sin(2.0 * math.pi * x), np.full(BN, 3.0)]).reshape(-1)


def rhs(name, xp=np):
    """f(t, y) for the problem, written with the array module xp (numpy or jax.numpy)."""
    if name == "vdp1000":
        def f(t, y):
            return xp.stack([y[1], MU * (1.0 - y[0] ** 2) * y[1] - y[0]])
    elif name == "robertson":
        def f(t, y):
            a, b, c = 0.04 * y[0], 1e4 * y[1] * y[2], 3e7 * y[1] ** 2
            return xp.stack([-a + b, a - b - c, c])
    elif name == "hires":
        def f(t, y):
            y1, y2, y3, y4, y5, y6, y7, y8 = (y[i] for i in range(8))
            f7 = 280.0 * y6 * y8 - 1.81 * y7
            return xp.stack([
                -1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007,
                1.71 * y1 - 8.75 * y2,
                -10.03 * y3 + 0.43 * y4 + 0.035 * y5,
                8.32 * y2 + 1.71 * y3 - 1.12 * y4,
                -1.745 * y5 + 0.43 * y6 + 0.43 * y7,
                -280.0 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7,
                f7,
                -f7,
            ])
    else:
        c = ALPHA * (BN + 1.0) ** 2

        def f(t, y):
            u, v = y[0::2], y[1::2]
            one, three = xp.ones(1, dtype=y.dtype), xp.full(1, 3.0, dtype=y.dtype)
            ub, vb = xp.concatenate([one, u, one]), xp.concatenate([three, v, three])
            uuv = u * u * v
            du = 1.0 + uuv - 4.0 * u + c * (ub[:-2] - 2.0 * u + ub[2:])
            dv = 3.0 * u - uuv + c * (vb[:-2] - 2.0 * v + vb[2:])
            return xp.stack([du, dv], axis=1).reshape(-1)
    return f


def jacobian(name, form="dense"):
    """The analytic Jacobian J(t, y): dense ndarray; for bruss, form "sparse" (CSC matrix) or
    "banded" (LSODA's packed layout: row uband + i − j, column j holds J[i, j]; lband = uband = 2)."""
    if name == "vdp1000":
        return lambda t, y: np.array([[0.0, 1.0],
                                      [-2.0 * MU * y[0] * y[1] - 1.0, MU * (1.0 - y[0] ** 2)]])
    if name == "robertson":
        return lambda t, y: np.array([[-0.04, 1e4 * y[2], 1e4 * y[1]],
                                      [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                                      [0.0, 6e7 * y[1], 0.0]])
    if name == "hires":
        def jac(t, y):
            J = np.zeros((8, 8))
            J[0, :3] = [-1.71, 0.43, 8.32]
            J[1, :2] = [1.71, -8.75]
            J[2, 2:5] = [-10.03, 0.43, 0.035]
            J[3, 1:4] = [8.32, 1.71, -1.12]
            J[4, 4:7] = [-1.745, 0.43, 0.43]
            J[5, 3:8] = [0.69, 1.71, -280.0 * y[7] - 0.43, 0.69, -280.0 * y[5]]
            J[6, 5:8] = [280.0 * y[7], -1.81, 280.0 * y[5]]
            J[7, 5:8] = -J[6, 5:8]
            return J
        return jac
    import scipy.sparse as sparse
    c = ALPHA * (BN + 1.0) ** 2
    n = 2 * BN

    def diagonals(y):
        """(offset, values) of the five diagonals; values[k] is the entry in row k (sub) or
        column k (super), as scipy.sparse.diags takes them."""
        u, v = y[0::2], y[1::2]
        main = np.column_stack([2.0 * u * v - 4.0 - 2.0 * c, -u * u - 2.0 * c]).reshape(-1)
        sup1 = np.zeros(n - 1)  # J[2i, 2i+1] = u_i²; J[2i+1, 2i+2] = 0
        sup1[0::2] = u * u
        sub1 = np.zeros(n - 1)  # J[2i+1, 2i] = 3 − 2 u_i v_i
        sub1[0::2] = 3.0 - 2.0 * u * v
        side = np.full(n - 2, c)
        return main, sup1, sub1, side

    if form == "banded":
        def jac(t, y):
            main, sup1, sub1, side = diagonals(y)
            packed = np.zeros((5, n))
            packed[0, 2:] = side      # J[j−2, j]
            packed[1, 1:] = sup1      # J[j−1, j]
            packed[2, :] = main
            packed[3, :-1] = sub1     # J[j+1, j]
            packed[4, :-2] = side     # J[j+2, j]
            return packed
        return jac

    def jac(t, y):
        main, sup1, sub1, side = diagonals(y)
        return sparse.diags([side, sub1, main, sup1, side], [-2, -1, 0, 1, 2], format="csc")
    return jac
