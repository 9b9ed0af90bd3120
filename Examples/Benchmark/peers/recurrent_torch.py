"""PyTorch peer of rnnode-bench's recurrent training benchmarks (not run by CI).

Each configuration trains nn.RNN/GRU/LSTM (batch_first, one layer) followed by nn.Linear(hidden, 1)
on the last output, MSE loss, Adam 1e-3, float32, on random data, with torch.set_num_threads(2)
(the machine's cores). Prints one JSON line per configuration with the same fields as rnnode-bench:
train_ms_per_batch (best of 3 means), seq_per_s and forward_ms_per_batch.

    python3 Examples/Benchmark/peers/recurrent_torch.py [NAME ...]
"""
import json
import os
import sys
import time

import torch

CONFIGURATIONS = [
    # name, cell, hidden, batch, steps, inputs, timed batches
    ("lstm-train-h256", "lstm", 256, 64, 100, 64, 3),
    ("gru-train-h256", "gru", 256, 64, 100, 64, 3),
    ("rnn-train-h64", "rnn", 64, 32, 100, 32, 20),
    ("gru-train-h64", "gru", 64, 32, 100, 32, 20),
    ("lstm-train-h64", "lstm", 64, 32, 100, 32, 20),
    ("lstm-train-h16", "lstm", 16, 8, 50, 4, 100),
]


def best_mean(function, batches, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            function()
        best = min(best, (time.perf_counter() - start) / batches)
    return best


def run(name, cell, hidden, batch, steps, inputs, batches):
    torch.manual_seed(0)
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](
        inputs, hidden, batch_first=True
    )
    head = torch.nn.Linear(hidden, 1)
    parameters = list(layer.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-3)
    x = torch.randn(batch, steps, inputs)
    y = torch.randn(batch, 1)

    def loss():
        output, _ = layer(x)
        return torch.nn.functional.mse_loss(head(output[:, -1]), y)

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
