import RNNODETensors

/// The old Keras `SimpleDeepRNN`: a recurrence of depth k, hₜ depending on hₜ₋₁, …, hₜ₋ₖ,
///
///     hₜ = σ(x·W + b + Σⱼ₌₁..ₖ σ_in(hₜ₋ⱼ·Uⱼ)),
///
/// written as a vector field over a delay line. The state holds k slots s₁, …, sₖ (sⱼ = hₜ₋ⱼ at
/// the integer times of the discrete recurrence), and
///
///     ds₁/dt = σ(x·W + b + Σⱼ σ_in(sⱼ·Uⱼ)) − s₁
///     dsⱼ/dt = sⱼ₋₁ − sⱼ                        (j = 2…k)
///
/// At Euler with Δt = 1 the first slot becomes hₜ and every other slot takes its predecessor's
/// value: the delay line shifts by one and the cell is exactly the depth-k recurrence.
///
/// **The multistep reading.** A depth-k recurrence is a k-step method: like Adams–Bashforth it
/// needs the last k values, not just the last one, and the delay line is the standard way to write a
/// k-step recurrence as a one-step map on a k-fold state. Under any other scheme or Δt the slots
/// stop being exact delays: each sⱼ is a first-order lag of sⱼ₋₁ with unit time constant, so the
/// chain s₂…sₖ becomes a smoothed memory of h's recent past (a continuous-time approximation of the
/// delays hₜ₋ⱼ) rather than its exact samples.
///
/// - State: `[batch, depth·hiddenSize]`, slot s₁ (the output h) first.
/// - Shapes: W `[inputSize, hiddenSize]`, b `[hiddenSize]`, each Uⱼ `[hiddenSize, hiddenSize]`.
///   σ is ``activation`` (tanh), σ_in ``innerActivation`` (hard_sigmoid, as in Keras).
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = SimpleDeepRNNCell<Double>(inputSize: 5, hiddenSize: 4, depth: 3, using: &generator)
/// let h = try RecurrentLayer(cell)(x).sequence      // [batch, time, 4]
/// ```
public struct SimpleDeepRNNCell<Scalar: TensorScalar>: RecurrentCell {
    /// W `[inputSize, hiddenSize]`.
    public var inputWeight: Tensor<Scalar>
    /// b `[hiddenSize]`.
    public var bias: Tensor<Scalar>
    /// U₁ … Uₖ, each `[hiddenSize, hiddenSize]`; Uⱼ acts on hₜ₋ⱼ.
    public var recurrentWeights: [Tensor<Scalar>]
    /// σ (tanh by default).
    public var activation: Activation
    /// σ_in applied to each recurrent term (hard_sigmoid by default).
    public var innerActivation: Activation

    /// A cell with the given weights; the depth is `recurrentWeights.count`.
    ///
    /// - Precondition: at least one recurrent weight, and the shapes are as documented on the type.
    public init(
        inputWeight: Tensor<Scalar>, bias: Tensor<Scalar>, recurrentWeights: [Tensor<Scalar>],
        activation: Activation = .tanh, innerActivation: Activation = .hardSigmoid
    ) {
        require(
            inputWeight.rank == 2,
            "SimpleDeepRNNCell: inputWeight must be [inputSize, hiddenSize], got \(describeShape(inputWeight.shape))")
        require(!recurrentWeights.isEmpty, "SimpleDeepRNNCell: the depth must be at least 1")
        let h = inputWeight.shape[1]
        checkCellWeight("SimpleDeepRNNCell", "bias", bias, [h])
        for (j, u) in recurrentWeights.enumerated() {
            checkCellWeight("SimpleDeepRNNCell", "recurrentWeights[\(j)]", u, [h, h])
        }
        self.inputWeight = inputWeight
        self.bias = bias
        self.recurrentWeights = recurrentWeights
        self.activation = activation
        self.innerActivation = innerActivation
    }

    /// A cell of the given depth with freshly drawn weights (Keras' initializers by default).
    public init(
        inputSize: Int, hiddenSize: Int, depth: Int, activation: Activation = .tanh,
        innerActivation: Activation = .hardSigmoid, initialization: CellInitialization = .keras,
        using generator: inout some RandomNumberGenerator
    ) {
        require(
            inputSize > 0 && hiddenSize > 0 && depth > 0,
            "SimpleDeepRNNCell: sizes and depth must be positive, got \(inputSize), \(hiddenSize), \(depth)")
        let initializers = initialization.initializers(hiddenSize: hiddenSize)
        let w: Tensor<Scalar> = initializers.input.make([inputSize, hiddenSize], using: &generator)
        let u: [Tensor<Scalar>] = (0..<depth).map { _ in
            initializers.recurrent.make([hiddenSize, hiddenSize], using: &generator)
        }
        self.init(
            inputWeight: w, bias: initializers.bias.make([hiddenSize], using: &generator), recurrentWeights: u,
            activation: activation, innerActivation: innerActivation)
    }

    public var inputSize: Int { inputWeight.shape[0] }
    public var hiddenSize: Int { inputWeight.shape[1] }
    /// The number of past outputs the recurrence reads.
    public var depth: Int { recurrentWeights.count }
    /// depth·hiddenSize.
    public var stateSize: Int { depth * hiddenSize }

    public var parameterPaths: [ParameterPath<Self>] {
        [.init("inputWeight", \.inputWeight), .init("bias", \.bias)]
            + recurrentWeights.indices.map { .init("recurrentWeights.\($0)", \Self.recurrentWeights[$0]) }
    }

    /// x·W + b.
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { affine(x, inputWeight, bias) }

    /// (σ(x·W + b + Σⱼ σ_in(sⱼ·Uⱼ)) − s₁, s₁ − s₂, …, sₖ₋₁ − sₖ).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let slots = depth == 1 ? [state] : gateBlocks(state, count: depth, size: hiddenSize)
        var preactivation = projectedInput
        for (slot, u) in zip(slots, recurrentWeights) {
            preactivation = preactivation + innerActivation(matmul(slot, u))
        }
        var derivatives = [activation(preactivation) - slots[0]]
        for j in 1..<depth { derivatives.append(slots[j - 1] - slots[j]) }
        return depth == 1 ? derivatives[0] : Tensor(concatenating: derivatives, alongAxis: -1)
    }
}
