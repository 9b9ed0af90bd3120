"""diffrax peer of `rnnode-bench spiral-diffeqflux` (issue 12; not run by CI, not a dependency).

The DiffEqFlux README's spiral: the truth u' = A u³ with A = [[-0.1, 2], [-2, -0.1]] (u³ · A as a
row vector, as in the Swift benchmark and torchdiffeq's ode_demo), u0 = (2, 0), 30 saved points on
[0, 1.5] (solved with Tsit5 at rtol 1e-10, atol 1e-12); the model u' = Dense(50→2)(tanh(Dense(2→50)(u³)))
solved with diffrax.Tsit5 under a PIDController(rtol 1e-3, atol 1e-6), dt0 = None (diffrax picks
the first step); loss = Σ (prediction − truth)² over the 30 points; one gradient of the loss with
respect to the four MLP tensors, float64 on the CPU.

The initial weights are the fixed formula of the Swift benchmark (DiffEqFluxBenchmarks.swift),
in its layout (W [in, out], y = x W + b):

    W1[i, j] = 0.3 sin(50 i + j + 1)       b1[j] = 0.1 cos(j + 1)
    W2[i, j] = 0.3 cos(2 i + j + 1)        b2[j] = 0.05 sin(j + 1)

so the loss and the gradient norm printed here must match the Swift side's (to the differences
between the two step-size controllers at rtol 1e-3; to many digits at the `check` tolerance).

Each adjoint's gradient is wrapped in jax.jit; the first call (compilation plus one run) is timed
alone, then `--repeats` batches of `--calls` calls, and the median per-call time is reported.

    /work/venv/bin/python Examples/Benchmark/peers/spiral_diffrax.py [--repeats 7] [--calls 200]

Prints one JSON line per adjoint:
    {"bench": "spiral-diffeqflux", "peer": "diffrax", "strategy": "checkpointed"|"backsolve",
     "ms_per_gradient", "best_ms", "first_call_s", "loss", "gradient_norm", "steps",
     "check_loss", "check_gradient_norm" (the same at rtol 1e-10, atol 1e-12)}
"""
import argparse
import json
import time

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platform_name", "cpu")

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HIDDEN = 50
TIMES = np.linspace(0.0, 1.5, 30)
U0 = np.array([2.0, 0.0])
A = np.array([[-0.1, 2.0], [-2.0, -0.1]])


def initial_parameters():
    i, j = np.meshgrid(np.arange(2), np.arange(HIDDEN), indexing="ij")
    w1 = 0.3 * np.sin(50 * i + j + 1)
    b1 = 0.1 * np.cos(np.arange(HIDDEN) + 1)
    i, j = np.meshgrid(np.arange(HIDDEN), np.arange(2), indexing="ij")
    w2 = 0.3 * np.cos(2 * i + j + 1)
    b2 = 0.05 * np.sin(np.arange(2) + 1)
    return tuple(jnp.asarray(x) for x in (w1, b1, w2, b2))


def truth():
    term = diffrax.ODETerm(lambda t, u, args: (u**3) @ A)
    sol = diffrax.diffeqsolve(
        term, diffrax.Tsit5(), t0=0.0, t1=1.5, dt0=None, y0=jnp.asarray(U0),
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        saveat=diffrax.SaveAt(ts=jnp.asarray(TIMES)), max_steps=100_000)
    return sol.ys


def field(t, u, p):
    w1, b1, w2, b2 = p
    return jnp.tanh((u**3) @ w1 + b1) @ w2 + b2


def make_gradient(adjoint, target, rtol=1e-3, atol=1e-6):
    term = diffrax.ODETerm(field)

    def loss(p):
        sol = diffrax.diffeqsolve(
            term, diffrax.Tsit5(), t0=0.0, t1=1.5, dt0=None, y0=jnp.asarray(U0), args=p,
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(ts=jnp.asarray(TIMES)), adjoint=adjoint, max_steps=100_000)
        return jnp.sum((sol.ys - target) ** 2), sol.stats["num_accepted_steps"]

    return jax.jit(jax.value_and_grad(loss, has_aux=True))


def norm(grads):
    return float(np.sqrt(sum(float(jnp.sum(g * g)) for g in grads)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    target = truth()
    p = initial_parameters()
    for name, adjoint in [("checkpointed", diffrax.RecursiveCheckpointAdjoint()),
                          ("backsolve", diffrax.BacksolveAdjoint())]:
        gradient = make_gradient(adjoint, target)
        start = time.perf_counter()
        (value, steps), grads = gradient(p)
        jax.block_until_ready(grads)
        first = time.perf_counter() - start
        per_call = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(args.calls):
                out = gradient(p)
            jax.block_until_ready(out)
            per_call.append((time.perf_counter() - start) / args.calls)
        per_call.sort()
        (check_value, _), check_grads = make_gradient(adjoint, target, rtol=1e-10, atol=1e-12)(p)
        print(json.dumps({
            "bench": "spiral-diffeqflux", "peer": "diffrax", "strategy": name,
            "ms_per_gradient": per_call[len(per_call) // 2] * 1e3, "best_ms": per_call[0] * 1e3,
            "first_call_s": first, "loss": float(value), "gradient_norm": norm(grads), "steps": int(steps),
            "check_loss": float(check_value), "check_gradient_norm": norm(check_grads),
        }), flush=True)


if __name__ == "__main__":
    main()
