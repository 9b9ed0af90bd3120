"""torchdiffeq's ode_demo with the configuration of RNNODE's `spiral` example, for side-by-side runs.

    pip install torch torchdiffeq==0.2.5
    python3 spiral_torchdiffeq.py --method rk4 --seed 0 --iters 2000

Prints {"ms_per_iter", "full_traj_l1", "iters"} as the last line, like `spiral --json`.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torchdiffeq import odeint, odeint_adjoint

parser = argparse.ArgumentParser()
parser.add_argument("--method", choices=["rk4", "dopri5"], default="rk4")
parser.add_argument("--step", type=float, default=0.025, help="rk4 step size")
parser.add_argument("--adjoint", action="store_true")
parser.add_argument("--iters", type=int, default=2000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--checkpoints", type=int, default=0, help="also print the full-trajectory L1 every N iterations")
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
np.random.seed(args.seed)
solve = odeint_adjoint if args.adjoint else odeint
options = dict(step_size=args.step) if args.method == "rk4" else None

data_size, batch_time, batch_size = 1000, 10, 20
true_y0 = torch.tensor([[2.0, 0.0]])
t = torch.linspace(0.0, 25.0, data_size)
true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])


class Lambda(nn.Module):
    def forward(self, t, y):
        return torch.mm(y**3, true_A)


with torch.no_grad():
    true_y = odeint(Lambda(), true_y0, t, method="dopri5")


def get_batch():
    s = torch.from_numpy(np.random.choice(np.arange(data_size - batch_time, dtype=np.int64), batch_size, replace=False))
    batch_y0 = true_y[s]
    batch_t = t[:batch_time]
    batch_y = torch.stack([true_y[s + i] for i in range(batch_time)], dim=0)
    return batch_y0, batch_t, batch_y


class ODEFunc(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 50), nn.Tanh(), nn.Linear(50, 2))
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)

    def forward(self, t, y):
        return self.net(y**3)


def full_trajectory_l1(func):
    with torch.no_grad():
        pred_y = odeint(func, true_y0, t, method=args.method, options=options)
        return torch.mean(torch.abs(pred_y - true_y)).item()


func = ODEFunc()
optimizer = optim.RMSprop(func.parameters(), lr=1e-3)
start = time.time()
training = 0.0
for itr in range(1, args.iters + 1):
    begin = time.time()
    optimizer.zero_grad()
    batch_y0, batch_t, batch_y = get_batch()
    pred_y = solve(func, batch_y0, batch_t, method=args.method, options=options)
    loss = torch.mean(torch.abs(pred_y - batch_y))
    loss.backward()
    optimizer.step()
    training += time.time() - begin
    if args.checkpoints and itr % args.checkpoints == 0:
        print(f"checkpoint {itr} full_traj_l1 {full_trajectory_l1(func):.4f}", flush=True)

print(json.dumps({"ms_per_iter": training / max(args.iters, 1) * 1000, "full_traj_l1": full_trajectory_l1(func),
                  "iters": args.iters}))
