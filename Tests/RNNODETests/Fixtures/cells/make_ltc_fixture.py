"""Writes ltc.json: ncps' liquid time-constant cell (ncps.torch.LTCCell, float64) over a short
sequence, with the gradients of sum(output * G).

    /work/venv/bin/python make_ltc_fixture.py     # needs torch and ncps

The cell: a fully connected wiring (ncps.wirings.FullyConnected, self-synapses included) of
`hidden_size` units on `input_size` inputs, implicit_param_constraints=True (conductances and
capacitance are the softplus of the stored parameters), affine input mapping, no output mapping,
epsilon 0 (ncps' default adds 1e-8 to the update's denominator), `substeps` fused steps
(ode_unfolds) per input of elapsed time `time_step`. The weights keep ncps' names and layouts
(`w`, `sigma`, `mu`, `erev` are [pre, post]); `output` is every state, `h_n` the last.
"""
import json

import ncps
import torch
from ncps.torch import LTCCell

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
batch, steps, inputs, hidden, time_step, substeps = 3, 5, 3, 4, 0.8, 6
wiring = ncps.wirings.FullyConnected(hidden)
cell = LTCCell(wiring, in_features=inputs, output_mapping="none", ode_unfolds=substeps, epsilon=0.0,
               implicit_param_constraints=True)
with torch.no_grad():  # move the affine input mapping off its identity start
    cell._params["input_w"].uniform_(0.5, 1.5)
    cell._params["input_b"].uniform_(-0.3, 0.3)
x = torch.randn(batch, steps, inputs, requires_grad=True)
h0 = (0.5 * torch.randn(batch, hidden)).requires_grad_(True)
h, outputs = h0, []
for t in range(steps):
    _, h = cell(x[:, t], h, elapsed_time=time_step)
    outputs.append(h)
output = torch.stack(outputs, dim=1)
G = torch.randn_like(output)
names = [n for n, p in cell.named_parameters() if p.requires_grad]
parameters = [p for n, p in cell.named_parameters() if p.requires_grad]
gradients = torch.autograd.grad((output * G).sum(), parameters + [x, h0])
case = {
    "kind": "ltc", "scheme": "semi-implicit-euler", "time_step": time_step, "substeps": substeps,
    "batch": batch, "steps": steps, "input_size": inputs, "hidden_size": hidden,
    "weights": {n: p.detach().tolist() for n, p in zip(names, parameters)},
    "x": x.detach().tolist(), "h0": h0.detach().tolist(), "output": output.detach().tolist(),
    "h_n": h.detach().tolist(), "G": G.tolist(),
    "grad": {**{n: g.tolist() for n, g in zip(names, gradients)}, "x": gradients[-2].tolist(),
             "h0": gradients[-1].tolist()},
}
with open("ltc.json", "w") as f:
    json.dump(case, f)
print("ltc.json:", ", ".join(names))
