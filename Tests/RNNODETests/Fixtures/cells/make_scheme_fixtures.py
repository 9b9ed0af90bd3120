"""Writes the scheme fixtures of this folder: PyTorch cells integrated by explicit Runge–Kutta steps.

Each case runs one layer of nn.RNNCell/GRUCell/LSTMCell (float64) as the vector field of the library's
recurrent layers, f(x, y) = cell(x, y) − y (for the LSTM over the pair (h, c)), with input xₖ held
across the interval that ends at its time, and integrates it with a fixed-step scheme:

- gru_rk4: RK4, Δt = 0.5, 2 substeps (step 0.25);
- lstm_midpoint: the explicit midpoint rule, Δt = 1, 1 substep;
- rnn_tanh_heun: Heun (explicit trapezoid), Δt = 0.7, 1 substep;
- gru_euler_irregular: Euler, Δt = 1, 2 substeps (step 0.5), with per-row time stamps `times`
  [B, T]. A row's first interval has the nominal length Δt; interval k > 0 is the gap
  g = t[k] − t[k−1], crossed by n = ⌈g / 0.5⌉ equal steps of g / n. Every gap takes 1–3 steps and
  lies at least 0.1 steps away from a multiple of the step, so the step count is not a rounding
  question; the rows start at different t₀ (only the gaps matter).

It records the same fields as the PyTorch cell fixtures (see README.md) plus `scheme` (the library's
lowercase method name: euler, midpoint, heun, rk4), `time_step` (Δt), `substeps`, and for the
irregular case `times` and its gradient `grad.times`. Outputs are the hidden state after each input,
`h_n`/`c_n` the final state; `grad` holds the gradients of sum(output ⊙ G) with respect to every
weight, `x` and (irregular) `times`.

    /work/venv/bin/python Tests/RNNODETests/Fixtures/cells/make_scheme_fixtures.py

The output is deterministic (fixed seeds, CPU, float64); rerunning rewrites the same files.
"""
import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Butcher tableaux (a, b) of the explicit schemes, as in Sources/Integrators/ButcherTableau+Methods.swift.
TABLEAUX = {
    "euler": ([[0.0]], [1.0]),
    "midpoint": ([[0.0, 0.0], [0.5, 0.0]], [0.0, 1.0]),
    "heun": ([[0.0, 0.0], [1.0, 0.0]], [0.5, 0.5]),
    "rk4": (
        [[0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
        [1 / 6, 1 / 3, 1 / 3, 1 / 6],
    ),
}


def rk_step(field, y, step, scheme):
    """One explicit Runge–Kutta step of size `step` ([B, 1] or a number) of the autonomous `field`."""
    a, b = TABLEAUX[scheme]
    stages = []
    for i in range(len(b)):
        z = y
        for j in range(i):
            if a[i][j] != 0:
                z = z + step * a[i][j] * stages[j]
        stages.append(field(z))
    increment = sum(w * k for w, k in zip(b, stages) if w != 0)
    return y + step * increment


def listed(tensor):
    return tensor.detach().tolist()


def run_case(name, kind, scheme, time_step, substeps, seed, batch=3, steps=6, inputs=5, hidden=4, irregular=False):
    torch.manual_seed(seed)
    if kind == "rnn":
        cell = torch.nn.RNNCell(inputs, hidden, nonlinearity="tanh")
    elif kind == "gru":
        cell = torch.nn.GRUCell(inputs, hidden)
    else:
        cell = torch.nn.LSTMCell(inputs, hidden)
    x = torch.randn(batch, steps, inputs, requires_grad=True)
    h0 = 0.5 * torch.randn(batch, hidden)
    c0 = 0.5 * torch.randn(batch, hidden) if kind == "lstm" else None
    G = torch.randn(batch, steps, hidden)

    step = time_step / substeps
    times = None
    if irregular:
        # Gap k of row b takes n ∈ {1, 2, 3} steps: g = step · (n − 1 + u), u ∈ [0.1, 0.9].
        generator = torch.Generator().manual_seed(seed + 1)
        counts = torch.randint(1, 4, (batch, steps - 1), generator=generator)
        fractions = 0.1 + 0.8 * torch.rand(batch, steps - 1, generator=generator)
        gaps = step * (counts - 1 + fractions)
        starts = 3 * torch.rand(batch, 1, generator=generator) - 1
        times = torch.cat([starts, starts + torch.cumsum(gaps, dim=1)], dim=1).requires_grad_(True)

    if kind == "lstm":
        y = torch.cat([h0, c0], dim=1)
    else:
        y = h0

    def field_at(xk):
        def field(state):
            if kind == "lstm":
                h, c = state[:, :hidden], state[:, hidden:]
                h1, c1 = cell(xk, (h, c))
                return torch.cat([h1 - h, c1 - c], dim=1)
            return cell(xk, state) - state

        return field

    outputs = []
    for k in range(steps):
        field = field_at(x[:, k])
        if times is None or k == 0:
            for _ in range(substeps):
                y = rk_step(field, y, step, scheme)
        else:
            gap = times[:, k] - times[:, k - 1]  # [B], recorded
            counts = [max(1, math.ceil(g / step)) for g in gap.detach().tolist()]
            rows = []
            for b in range(batch):
                # Row b alone: n equal steps of g / n.
                yb = y[b : b + 1]
                size = gap[b] / counts[b]
                row_field = field_at(x[b : b + 1, k])
                for _ in range(counts[b]):
                    yb = rk_step(row_field, yb, size, scheme)
                rows.append(yb)
            y = torch.cat(rows, dim=0)
        outputs.append(y[:, :hidden])
    output = torch.stack(outputs, dim=1)
    loss = (output * G).sum()
    parameters = dict(cell.named_parameters())
    wrt = list(parameters.values()) + [x] + ([times] if times is not None else [])
    gradients = torch.autograd.grad(loss, wrt)

    def torch_name(parameter):  # nn.RNN/GRU/LSTM's names for layer 0
        return parameter + "_l0"

    case = {
        "kind": kind,
        "nonlinearity": "tanh" if kind == "rnn" else None,
        "scheme": scheme,
        "time_step": time_step,
        "substeps": substeps,
        "batch": batch,
        "steps": steps,
        "input_size": inputs,
        "hidden_size": hidden,
        "layers": 1,
        "bidirectional": False,
        "weights": {torch_name(n): listed(p) for n, p in parameters.items()},
        "x": listed(x),
        "h0": [listed(h0)],
    }
    if c0 is not None:
        case["c0"] = [listed(c0)]
    if times is not None:
        case["times"] = listed(times)
    case["output"] = listed(output)
    case["h_n"] = [listed(y[:, :hidden])]
    if kind == "lstm":
        case["c_n"] = [listed(y[:, hidden:])]
    case["G"] = listed(G)
    grad = {torch_name(n): listed(g) for n, g in zip(parameters, gradients)}
    grad["x"] = listed(gradients[len(parameters)])
    if times is not None:
        grad["times"] = listed(gradients[-1])
    case["grad"] = grad
    with open(os.path.join(HERE, name + ".json"), "w") as file:
        json.dump(case, file)
        file.write("\n")
    print(f"wrote {name}.json: {kind}, {scheme}, Δt {time_step}, {substeps} substep(s)" + (", irregular" if irregular else ""))


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    run_case("gru_rk4", "gru", "rk4", 0.5, 2, seed=11)
    run_case("lstm_midpoint", "lstm", "midpoint", 1.0, 1, seed=12)
    run_case("rnn_tanh_heun", "rnn", "heun", 0.7, 1, seed=13)
    run_case("gru_euler_irregular", "gru", "euler", 1.0, 2, seed=14, irregular=True)
