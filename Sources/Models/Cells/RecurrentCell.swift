import RNNODEIntegrators
import RNNODETensors

/// A recurrent cell written as what it is: a vector field dh/dt = f(h, x).
///
/// A classic RNN cell is the Euler step of its field with Δt = 1,
///
///     hₜ = hₜ₋₁ + 1 · f(hₜ₋₁, xₜ),
///
/// so every cell here is defined once, by ``derivative(of:projectedInput:)``, and runs under any
/// Runge–Kutta method and step (see ``RecurrentLayer``). At Euler with Δt = 1 each cell reproduces
/// the standard cell of PyTorch or Keras to rounding.
///
/// The input xₜ is held fixed while the layer integrates across one input interval (a zero-order
/// hold). Its affine part — x·W + b for every gate — does not depend on the state, so a cell splits
/// the field in two: ``projectInput(_:)`` computes that part once per input (for a whole sequence at
/// once, as one matrix product), and ``derivative(of:projectedInput:)`` evaluates f from the state
/// and the projected input at every stage of every step.
///
/// A cell whose field acts on each row of a batch separately can also conform to
/// ``RowSeparableField``, stating the field row-wise with its vector–Jacobian product: a
/// ``RecurrentLayer`` with fixed steps then runs it on the integrator's fused path (one recorded
/// operation per sequence, no tape records per step). The library's SimpleRNN, GRU, LSTM, MUT1–3,
/// IndRNN, AntisymmetricRNN, Lipschitz RNN, coRNN, UnICORNN, LEM and LTC cells do.
///
/// - Shapes: inputs `[batch, inputSize]` (or `[batch, time, inputSize]` for ``projectInput(_:)``),
///   states `[batch, stateSize]`. The cell's output is the first `hiddenSize` columns of its state
///   (``output(of:)``); cells with more state than output (the LSTM's memory c, the delay line of
///   ``SimpleDeepRNNCell``) keep the rest after it.
public protocol RecurrentCell<Scalar>: Trainable, Sendable {
    /// The scalar type of the parameters and states.
    associatedtype Scalar
    /// The number of input features.
    var inputSize: Int { get }
    /// The number of output features h.
    var hiddenSize: Int { get }
    /// The width of the state the integrator advances (≥ ``hiddenSize``).
    var stateSize: Int { get }
    /// The state-independent part of the field for inputs `[..., inputSize]`: `[..., projectedSize]`.
    func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar>
    /// dh/dt = f(h, x) for a state `[batch, stateSize]` and its projected input `[batch, projectedSize]`.
    func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar>
}

extension RecurrentCell {
    public var stateSize: Int { hiddenSize }

    /// The output h of a state `[..., stateSize]`: its first ``hiddenSize`` columns.
    @inlinable
    public func output(of state: Tensor<Scalar>) -> Tensor<Scalar> {
        stateSize == hiddenSize ? state : state.slice(alongAxis: -1, 0..<hiddenSize)
    }

    /// The zero state `[batchSize, stateSize]`.
    @inlinable
    public func zeroState(batchSize: Int) -> Tensor<Scalar> { Tensor.zeros([batchSize, stateSize]) }

    /// The cell's vector field with the input `x` `[batch, inputSize]` held fixed: a field to hand to
    /// ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``.
    ///
    /// ```swift
    /// let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 8, using: &generator)
    /// let field = cell.field(holding: x)            // dh/dt = (1 − z) ⊙ (n − h)
    /// let h1 = try solve(field, initialState: h0, from: 0, to: 1, method: .rk4, step: .fixed(0.25))
    /// ```
    @inlinable
    public func field(holding x: Tensor<Scalar>) -> CellField<Self> {
        require(
            x.rank == 2 && x.shape[1] == inputSize,
            "\(Self.self) expects inputs [batch, \(inputSize)], got \(describeShape(x.shape))")
        return CellField(cell: self, projectedInput: projectInput(x))
    }
}

/// A cell's vector field with its (projected) input held fixed: f(·, x) as a ``VectorField``.
///
/// With a ``scale`` the field is s ⊙ f (time rescaled by s: a recurrent layer integrates an interval
/// of length g as one unit of time with s = g, so that the interval's length can be a recorded
/// tensor with a gradient).
public struct CellField<Cell: RecurrentCell>: VectorField {
    public let cell: Cell
    /// The cell's ``RecurrentCell/projectInput(_:)`` of the held input.
    public let projectedInput: Tensor<Cell.Scalar>
    /// The factor s of the rescaled field s ⊙ f (broadcast against the state), or nil for f itself.
    public var scale: Tensor<Cell.Scalar>?
    /// Whether a solve checks the cell's parameters for NaN first (a layer checks them once per sequence).
    @usableFromInline package var checksParameters = true

    @inlinable
    public init(cell: Cell, projectedInput: Tensor<Cell.Scalar>, scale: Tensor<Cell.Scalar>? = nil) {
        self.cell = cell
        self.projectedInput = projectedInput
        self.scale = scale
    }

    @inlinable
    public func callAsFunction(_ t: Cell.Scalar, _ state: Tensor<Cell.Scalar>) -> Tensor<Cell.Scalar> {
        let f = cell.derivative(of: state, projectedInput: projectedInput)
        guard let scale else { return f }
        return scale * f
    }

    public func firstNonFiniteParameter() -> String? { checksParameters ? cell.nonFiniteParameterNames.first : nil }
}

// MARK: - Initialization

/// How a new cell's weights are drawn.
///
/// - ``keras``: input kernels Glorot uniform, recurrent kernels orthogonal, biases zero (Keras'
///   defaults for its recurrent layers).
/// - ``pytorch``: every weight and bias U(−1/√H, 1/√H) with H the hidden size (PyTorch's `nn.RNN`,
///   `nn.GRU`, `nn.LSTM`).
/// - ``custom(input:recurrent:bias:)``: any ``Initializer`` for each kind.
public enum CellInitialization: Sendable, Equatable {
    case keras
    case pytorch
    case custom(input: Initializer, recurrent: Initializer, bias: Initializer)

    /// The initializers for the input kernels, the recurrent kernels and the biases of a cell with
    /// `hiddenSize` units.
    public func initializers(hiddenSize: Int) -> (input: Initializer, recurrent: Initializer, bias: Initializer) {
        switch self {
        case .keras:
            return (.glorotUniform, .orthogonal(gain: 1), .zeros)
        case .pytorch:
            let uniform = Initializer.pytorchDefault(fan: hiddenSize)
            return (uniform, uniform, uniform)
        case .custom(let input, let recurrent, let bias):
            return (input, recurrent, bias)
        }
    }
}

// MARK: - Shared checks

/// Checks a cell weight's shape, naming the cell and the weight.
@inlinable
package func checkCellWeight<T>(_ cell: String, _ name: String, _ tensor: Tensor<T>, _ shape: [Int]) {
    require(
        tensor.shape == shape,
        "\(cell): \(name) must be \(describeShape(shape)), got \(describeShape(tensor.shape))")
}

/// The column blocks of a gate matrix `[..., k·size]`: k tensors `[..., size]`.
@inlinable
package func gateBlocks<T>(_ x: Tensor<T>, count: Int, size: Int) -> [Tensor<T>] {
    x.split(sizes: Array(repeating: size, count: count), alongAxis: -1)
}

/// (1 − β)(M + Mᵀ) + β(M − Mᵀ) − γI for a square `m`: a blend of M's symmetric and antisymmetric
/// parts, shifted by −γ. β = 1 gives the antisymmetric M − Mᵀ − γI, whose eigenvalues have real part
/// −γ (AntisymmetricRNN); β < 1 lets the symmetric part in (Lipschitz RNN).
@inlinable
package func blendedRecurrentMatrix<T>(_ m: Tensor<T>, beta: T, gamma: T) -> Tensor<T> {
    let transposed = m.transposed()
    let antisymmetric = beta * (m - transposed) - gamma * Tensor<T>.identity(m.shape[0])
    return beta == 1 ? antisymmetric : (1 - beta) * (m + transposed) + antisymmetric
}
