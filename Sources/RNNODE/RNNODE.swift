// The umbrella module: `import RNNODE` brings in every layer of the library, in the order they
// depend on one another (Package.swift spells out the graph):
//
//     RNNODETensors      tensors and the reverse-mode tape
//     RNNODEIntegrators  tableaus, the one Runge–Kutta integrator, solve, the fused sequence integrator
//     RNNODEModels       parameters, cells as fields, recurrent layers, losses, optimizers, training
//     RNNODEIO           CSV, NumPy .npy/.npz, word vectors, PyTorch weights, checkpoints
//     RNNODEPlot         SVG figures

@_exported import RNNODEIO
@_exported import RNNODEIntegrators
@_exported import RNNODEModels
@_exported import RNNODEPlot
@_exported import RNNODETensors
