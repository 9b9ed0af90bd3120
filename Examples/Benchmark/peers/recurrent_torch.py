"""PyTorch peer of rnnode-bench's recurrent training benchmarks (not run by CI).

Each configuration trains a recurrent layer (batch first, one layer) followed by nn.Linear(hidden, 1)
on the last output, MSE loss, Adam 1e-3, float32, on random data, with torch.set_num_threads(2)
(the machine's cores). Prints one JSON line per configuration with the same fields as rnnode-bench:
train_ms_per_batch (best of 3 means), seq_per_s and forward_ms_per_batch.

The layer is nn.RNN/GRU/LSTM (the classic cell: rnnode-bench's Euler at Δt = 1), except for the
configurations with a scheme, which step the same cells' vector field in a Python loop over time,
x held across each interval, as rnnode-bench's RecurrentLayer does. The field is the cell's own
equations on its own parameters (an nn.GRUCell's or nn.LSTMCell's weight_ih, weight_hh, bias_ih,
bias_hh), with the input part x·W_ihᵀ + b_ih computed once for the whole sequence, as nn.GRU/LSTM
and rnnode-bench do; per stage only the recurrent product and the gates are evaluated:

- GRU: r, z = σ(x̂_rz + h·W_hrzᵀ + b_hrz), n = tanh(x̂_n + r ⊙ (h·W_hnᵀ + b_hn)), f = (1 − z) ⊙ (n − h);
- LSTM over y = (h, c): gates = x̂ + h·W_hhᵀ + b_hh, c̃ = f ⊙ c + i ⊙ g,
  f = (o ⊙ tanh(c̃) − h, c̃ − c).

The schemes:

- rk4 (gru-train-h64-rk4): one RK4 step of Δt = 1 per input: k1 = f(h), k2 = f(h + k1/2),
  k3 = f(h + k2/2), k4 = f(h + k3), h += (k1 + 2k2 + 2k3 + k4)/6;
- midpoint (lstm-train-h64-midpoint): one midpoint step per input over y = (h, c):
  Y = y + f(y)/2, y += f(Y);
- irregular (gru-train-h64-irregular): Euler with per-row step sizes, h += dt[:, k] ⊙ f(h), where
  dt[:, 0] = 1 (the layer's nominal Δt) and the other gaps are seeded, uniform in [0.51, 0.99) (the
  same distribution as rnnode-bench's stamps, not the same draws), each one step.

    python3 Examples/Benchmark/peers/recurrent_torch.py [NAME ...]
"""
import json
import os
import sys
import time

import torch

CONFIGURATIONS = [
    # name, cell, hidden, batch, steps, inputs, timed batches[, scheme]
    ("lstm-train-h256", "lstm", 256, 64, 100, 64, 3),
    ("gru-train-h256", "gru", 256, 64, 100, 64, 3),
    ("rnn-train-h64", "rnn", 64, 32, 100, 32, 20),
    ("gru-train-h64", "gru", 64, 32, 100, 32, 20),
    ("lstm-train-h64", "lstm", 64, 32, 100, 32, 20),
    ("lstm-train-h16", "lstm", 16, 8, 50, 4, 100),
    ("gru-train-h64-rk4", "gru", 64, 32, 100, 32, 20, "rk4"),
    ("lstm-train-h64-midpoint", "lstm", 64, 32, 100, 32, 20, "midpoint"),
    ("gru-train-h64-irregular", "gru", 64, 32, 100, 32, 20, "irregular"),
]

# The gaps of the irregular configuration (one Euler step of at most 1 each).
IRREGULAR_GAPS = (0.51, 0.99)


class SchemeLayer(torch.nn.Module):
    """A GRU or LSTM cell's field stepped by `scheme` along the sequence (batch first); returns the
    hidden state after every input, [batch, steps, hidden]."""

    def __init__(self, cell, inputs, hidden, scheme, dt=None):
        super().__init__()
        self.kind = cell
        self.cell = {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}[cell](inputs, hidden)
        self.hidden = hidden
        self.scheme = scheme
        self.dt = dt  # [batch, steps] step sizes (irregular), constant

    def field(self, xk, y):
        """f(y) with the input part xk = x_k·W_ihᵀ + b_ih held."""
        hh = torch.nn.functional.linear(y[0] if self.kind == "lstm" else y, self.cell.weight_hh, self.cell.bias_hh)
        if self.kind == "lstm":
            h, c = y
            i, f, g, o = (xk + hh).chunk(4, dim=1)
            c1 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return (torch.sigmoid(o) * torch.tanh(c1) - h, c1 - c)
        xr, xz, xn = xk.chunk(3, dim=1)
        hr, hz, hn = hh.chunk(3, dim=1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * (n - y)

    @staticmethod
    def axpy(y, a, k):  # y + a·k, for a state or an (h, c) pair
        if isinstance(y, tuple):
            return tuple(yi + a * ki for yi, ki in zip(y, k))
        return y + a * k

    def forward(self, x):
        batch, steps, _ = x.shape
        zeros = x.new_zeros(batch, self.hidden)
        y = (zeros, zeros) if self.kind == "lstm" else zeros
        projected = torch.nn.functional.linear(x, self.cell.weight_ih, self.cell.bias_ih)  # once per sequence
        outputs = []
        for k in range(steps):
            xk = projected[:, k]
            if self.scheme == "rk4":
                k1 = self.field(xk, y)
                k2 = self.field(xk, self.axpy(y, 0.5, k1))
                k3 = self.field(xk, self.axpy(y, 0.5, k2))
                k4 = self.field(xk, self.axpy(y, 1.0, k3))
                y = self.axpy(y, 1 / 6, self.axpy(self.axpy(self.axpy(k1, 2, k2), 2, k3), 1, k4))
            elif self.scheme == "midpoint":
                y = self.axpy(y, 1.0, self.field(xk, self.axpy(y, 0.5, self.field(xk, y))))
            elif self.scheme == "irregular":
                y = self.axpy(y, self.dt[:, k : k + 1], self.field(xk, y))
            else:
                raise ValueError(f"unknown scheme {self.scheme}")
            outputs.append(y[0] if self.kind == "lstm" else y)
        return torch.stack(outputs, dim=1), y


def make_layer(cell, hidden, batch, steps, inputs, scheme):
    if scheme is None:
        return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](
            inputs, hidden, batch_first=True
        )
    dt = None
    if scheme == "irregular":
        generator = torch.Generator().manual_seed(2)
        lower, upper = IRREGULAR_GAPS
        dt = lower + (upper - lower) * torch.rand(batch, steps, generator=generator)
        dt[:, 0] = 1  # the first interval: the nominal Δt
    return SchemeLayer(cell, inputs, hidden, scheme, dt)


def best_mean(function, batches, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            function()
        best = min(best, (time.perf_counter() - start) / batches)
    return best


def run(name, cell, hidden, batch, steps, inputs, batches, scheme=None):
    torch.manual_seed(0)
    layer = make_layer(cell, hidden, batch, steps, inputs, scheme)
    head = torch.nn.Linear(hidden, 1)
    return timed_training(name, layer, head, batch, steps, inputs, batches, last=lambda output: output[:, -1])


def timed_training(name, layer, head, batch, steps, inputs, batches, last):
    """Times training steps of `layer` + `head` (Adam 1e-3, MSE against random targets, on random
    inputs [batch, steps, inputs]; `last` picks the head's input from the layer's output) and
    forward passes: rnnode-bench's fields as a dict."""
    parameters = list(layer.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    x = torch.randn(batch, steps, inputs)
    y = torch.randn(batch, 1)

    def loss():
        output, _ = layer(x)
        return torch.nn.functional.mse_loss(head(last(output)), y)

    def train_step():
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    train_step()  # warm-up
    train = best_mean(train_step, batches)
    with torch.no_grad():
        forward = best_mean(loss, batches)
    return {
        "bench": name,
        "train_ms_per_batch": train * 1000,
        "seq_per_s": batch / train,
        "forward_ms_per_batch": forward * 1000,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


if __name__ == "__main__":
    torch.set_num_threads(os.cpu_count() or 1)
    wanted = set(sys.argv[1:])
    for configuration in CONFIGURATIONS:
        if not wanted or configuration[0] in wanted:
            print(json.dumps(run(*configuration)), flush=True)
