import RNNODEModels
import RNNODETensors

/// A failure to build a model from named weight tensors (a PyTorch state dict, a checkpoint).
public enum WeightLoadingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A weight the model needs is not there.
    case missing(name: String)
    /// A weight has the wrong shape.
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    /// Weights that nothing in the model uses (a sign of loading the wrong file or layer count).
    case unused(names: [String])

    public var description: String {
        switch self {
        case .missing(let name):
            return "weight '\(name)' is missing"
        case .shapeMismatch(let name, let expected, let got):
            return "weight '\(name)' has shape \(describeShape(got)), expected \(describeShape(expected))"
        case .unused(let names):
            return "weights not used by the model: \(names.joined(separator: ", "))"
        }
    }
}

/// Recurrent weights in PyTorch's layout — the state dict of `nn.RNN`, `nn.GRU` or `nn.LSTM` —
/// turned into this library's cells and layers.
///
/// PyTorch names the weights of layer k `weight_ih_l{k}` `[gates·H, I]`, `weight_hh_l{k}`
/// `[gates·H, H]`, `bias_ih_l{k}` and `bias_hh_l{k}` `[gates·H]`, with a `_reverse` suffix for the
/// backward direction; gate order GRU r, z, n and LSTM i, f, g, o — the order these cells use. The
/// cells store the transposed matrices; SimpleRNN and LSTM add the two biases (the cell has one),
/// GRU keeps both (the recurrent bias sits inside the reset gate's product). Missing biases (a
/// module built with `bias=False`) are zeros. Export a state dict with NumPy, e.g.
/// `np.savez("lstm.npz", **{k: v.numpy() for k, v in lstm.state_dict().items()})`, and:
///
/// ```swift
/// let weights = try PyTorchRecurrentWeights<Double>(archive: NumPyArchive(contentsOf: url))
/// let lstm = try weights.lstmStack(layers: 2)          // RecurrentStack of two LSTM layers
/// ```
public struct PyTorchRecurrentWeights<Scalar: TensorScalar>: Sendable {
    /// The tensors by name.
    public var tensors: [String: Tensor<Scalar>]

    /// Weights from a dictionary of named tensors.
    public init(_ tensors: [String: Tensor<Scalar>]) { self.tensors = tensors }

    /// Weights from the arrays of a `.npz` archive (converted to `Scalar`).
    public init(archive: NumPyArchive) {
        var tensors: [String: Tensor<Scalar>] = [:]
        for entry in archive.entries { tensors[entry.name] = entry.array.tensor(as: Scalar.self) }
        self.tensors = tensors
    }

    // MARK: Cells

    /// The `nn.RNN` cell of layer `layer` (`reverse`: the backward direction).
    public func simpleRNNCell(
        layer: Int = 0, reverse: Bool = false, activation: Activation = .tanh
    ) throws(WeightLoadingError)
        -> SimpleRNNCell<Scalar>
    {
        let (w, u, bi, bh) = try weights(layer: layer, reverse: reverse, gates: 1)
        return SimpleRNNCell(inputWeight: w, recurrentWeight: u, bias: bi + bh, activation: activation)
    }

    /// The `nn.GRU` cell of layer `layer` (`reverse`: the backward direction).
    public func gruCell(layer: Int = 0, reverse: Bool = false) throws(WeightLoadingError) -> GRUCell<Scalar> {
        let (w, u, bi, bh) = try weights(layer: layer, reverse: reverse, gates: 3)
        return GRUCell(inputWeight: w, recurrentWeight: u, bias: bi, recurrentBias: bh)
    }

    /// The `nn.LSTM` cell of layer `layer` (`reverse`: the backward direction).
    public func lstmCell(layer: Int = 0, reverse: Bool = false) throws(WeightLoadingError) -> LSTMCell<Scalar> {
        let (w, u, bi, bh) = try weights(layer: layer, reverse: reverse, gates: 4)
        return LSTMCell(inputWeight: w, recurrentWeight: u, bias: bi + bh)
    }

    // MARK: Layers

    /// `layers` unidirectional layers of cells made by `cell(layer, reverse)`, integrated with
    /// `integration`. Throws ``WeightLoadingError/unused(names:)`` if the weights hold more than that.
    public func stack<Cell: RecurrentCell>(
        layers: Int, integration: CellIntegration<Scalar> = .discrete,
        cell: (Int, Bool) throws(WeightLoadingError) -> Cell
    ) throws(WeightLoadingError) -> RecurrentStack<RecurrentLayer<Cell>> where Cell.Scalar == Scalar {
        require(layers >= 1, "a stack needs at least one layer, got \(layers)")
        var result: [RecurrentLayer<Cell>] = []
        for k in 0..<layers { result.append(RecurrentLayer(try cell(k, false), integration: integration)) }
        try checkAllUsed(layers: layers, bidirectional: false)
        return RecurrentStack(result)
    }

    /// `layers` bidirectional layers (outputs concatenated, as PyTorch's) of cells made by
    /// `cell(layer, reverse)`. Throws ``WeightLoadingError/unused(names:)`` for leftover weights.
    public func bidirectionalStack<Cell: RecurrentCell>(
        layers: Int, integration: CellIntegration<Scalar> = .discrete,
        cell: (Int, Bool) throws(WeightLoadingError) -> Cell
    ) throws(WeightLoadingError) -> RecurrentStack<Bidirectional<Cell>> where Cell.Scalar == Scalar {
        require(layers >= 1, "a stack needs at least one layer, got \(layers)")
        var result: [Bidirectional<Cell>] = []
        for k in 0..<layers {
            result.append(Bidirectional(forward: try cell(k, false), backward: try cell(k, true), integration: integration))
        }
        try checkAllUsed(layers: layers, bidirectional: true)
        return RecurrentStack(result)
    }

    /// An `nn.LSTM(num_layers: layers)` as a stack of discrete LSTM layers.
    public func lstmStack(layers: Int = 1) throws(WeightLoadingError) -> RecurrentStack<RecurrentLayer<LSTMCell<Scalar>>> {
        try stack(layers: layers) { (k, reverse) throws(WeightLoadingError) in try lstmCell(layer: k, reverse: reverse) }
    }

    /// An `nn.GRU(num_layers: layers)` as a stack of discrete GRU layers.
    public func gruStack(layers: Int = 1) throws(WeightLoadingError) -> RecurrentStack<RecurrentLayer<GRUCell<Scalar>>> {
        try stack(layers: layers) { (k, reverse) throws(WeightLoadingError) in try gruCell(layer: k, reverse: reverse) }
    }

    // MARK: Reading

    /// W `[I, gates·H]`, U `[H, gates·H]`, b_ih, b_hh `[gates·H]` of one layer and direction.
    func weights(
        layer: Int, reverse: Bool, gates: Int
    ) throws(WeightLoadingError) -> (
        Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>
    ) {
        let suffix = "_l\(layer)" + (reverse ? "_reverse" : "")
        let ihName = "weight_ih" + suffix
        guard let ih = tensors[ihName] else { throw .missing(name: ihName) }
        guard ih.rank == 2, ih.shape[0] % gates == 0, ih.shape[0] > 0 else {
            throw .shapeMismatch(
                name: ihName, expected: [gates * Swift.max(ih.shape.first ?? 1, 1), ih.shape.last ?? 1], got: ih.shape)
        }
        let (rows, hidden) = (ih.shape[0], ih.shape[0] / gates)
        let hh = try tensor("weight_hh" + suffix, shape: [rows, hidden])
        let bi = try optionalTensor("bias_ih" + suffix, shape: [rows])
        let bh = try optionalTensor("bias_hh" + suffix, shape: [rows])
        return (ih.transposed(), hh.transposed(), bi, bh)
    }

    func tensor(_ name: String, shape: [Int]) throws(WeightLoadingError) -> Tensor<Scalar> {
        guard let value = tensors[name] else { throw .missing(name: name) }
        guard value.shape == shape else { throw .shapeMismatch(name: name, expected: shape, got: value.shape) }
        return value
    }

    func optionalTensor(_ name: String, shape: [Int]) throws(WeightLoadingError) -> Tensor<Scalar> {
        guard tensors[name] != nil else { return Tensor.zeros(shape) }
        return try tensor(name, shape: shape)
    }

    func checkAllUsed(layers: Int, bidirectional: Bool) throws(WeightLoadingError) {
        var used: Set<String> = []
        for k in 0..<layers {
            for reverse in bidirectional ? [false, true] : [false] {
                for kind in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                    used.insert(kind + "_l\(k)" + (reverse ? "_reverse" : ""))
                }
            }
        }
        let unused = tensors.keys.filter { !used.contains($0) }.sorted()
        if !unused.isEmpty { throw .unused(names: unused) }
    }
}
