"""ncps peer of rnnode-bench's liquid time-constant training benchmark (not run by CI).

ltc-train: ncps.torch.LTC (fully connected wiring, 32 units, 4 inputs, batch first, the last
output only) followed by nn.Linear(32, 1), MSE loss, Adam 1e-3, float32, batch 32, 50 steps, on
random data, with torch.set_num_threads(2) (the machine's cores). ncps' cell takes six fused
semi-implicit steps per input (ode_unfolds=6, elapsed time 1), rnnode-bench's
`.fixed(semiImplicit: .semiImplicitEuler, substeps: 6)`. It has implicit_param_constraints=True
(the LTC wrapper's default, stated here), so that its conductances and capacitance are the softplus
of its parameters as rnnode-bench's are (ncps' LTCCell defaults to clipping them after each
optimizer step instead). It also maps its outputs elementwise (output_w, output_b), which rnnode-bench's cell does not: two
elementwise operations per input, against the cell's 6 × 32 × 32 gates.

Prints one JSON line per configuration with rnnode-bench's fields: train_ms_per_batch (best of 3
means), seq_per_s and forward_ms_per_batch.

    python3 Examples/Benchmark/peers/ncps_torch.py [NAME ...]
"""
import json
import os
import sys
from importlib import metadata

import torch
from ncps.torch import LTC

from recurrent_torch import timed_training

CONFIGURATIONS = [
    # name, hidden, batch, steps, inputs, timed batches
    ("ltc-train", 32, 32, 50, 4, 5),
]


def run(name, hidden, batch, steps, inputs, batches):
    torch.manual_seed(0)
    layer = LTC(inputs, hidden, return_sequences=False, batch_first=True, ode_unfolds=6,
                implicit_param_constraints=True)
    head = torch.nn.Linear(hidden, 1)
    result = timed_training(name, layer, head, batch, steps, inputs, batches, last=lambda output: output)
    result["ncps"] = metadata.version("ncps")
    return result


if __name__ == "__main__":
    torch.set_num_threads(os.cpu_count() or 1)
    wanted = set(sys.argv[1:])
    for configuration in CONFIGURATIONS:
        if not wanted or configuration[0] in wanted:
            print(json.dumps(run(*configuration)), flush=True)
