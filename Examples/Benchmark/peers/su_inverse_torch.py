"""The article's inverse problem in PyTorch, the same computation as `rnnode-bench su-inverse-adam`.

Euler RNN with h = 1 over 50 steps from the observed initial state, Su's field clipped at ±1e5,
squared error at the six observed times, Adam at 1e-4 on the raw parameters from the article's
initial guess.

    pip install torch
    python3 su_inverse_torch.py --epochs 2000

Prints {"ms_per_epoch", "epochs", "loss"} as the last line, like the benchmark.
"""
import argparse
import json
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2000)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)

times = [0, 10, 15, 30, 36, 40, 42]
observed = torch.tensor(
    [[100, 150], [165, 283], [197, 290], [280, 276], [305, 269], [318, 266], [324, 264]], dtype=torch.float64
)
theta = torch.tensor([0.1, 0.1, 0.001, 0.001, 0.001, 0.001], dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.Adam([theta], lr=1e-4)


def field(x, theta):
    r, a, inverse_n = theta[0:2], theta[2:4], theta[4:6]
    return torch.clamp(r * x * (1 - inverse_n * x) - a * x * x.flip(0), -1e5, 1e5)


def loss_of(theta):
    x = observed[0]
    states = [x]
    for _ in range(50):
        x = x + field(x, theta)
        states.append(x)
    predicted = torch.stack([states[t] for t in times[1:]])
    return ((predicted - observed[1:]) ** 2).sum()


start = time.perf_counter()
for _ in range(args.epochs):
    optimizer.zero_grad()
    loss = loss_of(theta)
    loss.backward()
    optimizer.step()
seconds = time.perf_counter() - start
print(json.dumps({"ms_per_epoch": seconds / args.epochs * 1000, "epochs": args.epochs, "loss": loss.item()}))
