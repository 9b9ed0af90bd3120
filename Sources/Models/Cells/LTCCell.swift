import Foundation
import RNNODETensors

/// The liquid time-constant network (LTC; Hasani, Lechner, Amini, Rus and Grosu, AAAI 2021) as a
/// vector field: each unit is a leaky membrane whose conductances to the other units (and to the
/// inputs) open with the presynaptic potential, so that its time constant depends on the state,
///
///     cₘ ⊙ dv/dt = g_L ⊙ (v_L − v) + Σⱼ wⱼ ⊙ σ(sⱼ ⊙ (vⱼ − μⱼ)) ⊙ (Eⱼ − v) + Σₖ ŵₖ ⊙ σ(ŝₖ ⊙ (x̂ₖ − μ̂ₖ)) ⊙ (Êₖ − v)
///
/// with, per synapse from unit j (or input k) to every unit, a maximal conductance w ≥ 0, a
/// steepness s, a midpoint μ and a reversal potential E; a leak conductance g_L ≥ 0 to the resting
/// potential v_L, a capacitance cₘ > 0, and the inputs mapped elementwise, x̂ = x ⊙ a + b. The field
/// is linear in v apart from the gates: f(v) = (n(v) − d(v) ⊙ v) / cₘ with n = g_L v_L + Σ w σ(·) E
/// and d = g_L + Σ w σ(·) > 0. The published discretization is the fused solver, which takes the
/// decay d/cₘ implicitly and the rest explicitly:
///
///     vₙ₊₁ = (cₘ/h ⊙ vₙ + n(vₙ)) / (cₘ/h + d(vₙ))
///
/// six times per input with h = Δt / 6 (ncps' `ode_unfolds`): ``SemiImplicitTableau/semiImplicitEuler``,
/// `integration: .fixed(semiImplicit: .semiImplicitEuler, timeStep: Δt, substeps: 6)`. Every
/// explicit tableau integrates the same ODE (it is stiff when d/cₘ is large).
///
/// w, ŵ, g_L and cₘ are kept positive as the softplus of the stored parameters (ncps'
/// `implicit_param_constraints=True`); the fresh-weight initializer draws their *values* from
/// ncps' ranges. The wiring is fully connected (every synapse, self-synapses included).
///
/// - State: `[batch, hiddenSize]`, the potentials v; the output is v (a readout maps it further).
/// - Shapes: the sensory synapses `[inputSize, hiddenSize]`, the recurrent synapses
///   `[hiddenSize, hiddenSize]` (row j: from unit j), a and b `[inputSize]`, g_L, v_L and cₘ
///   `[hiddenSize]`.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = LTCCell<Float>(inputSize: 2, hiddenSize: 32, using: &generator)
/// let layer = RecurrentLayer(cell, integration: .fixed(semiImplicit: .semiImplicitEuler, substeps: 6))
/// ```
public struct LTCCell<Scalar: TensorScalar>: RecurrentCell {
    /// a `[inputSize]`, the inputs' scale.
    public var inputScale: Tensor<Scalar>
    /// b `[inputSize]`, the inputs' shift.
    public var inputShift: Tensor<Scalar>
    /// The sensory synapses' maximal conductances before the softplus, `[inputSize, hiddenSize]`.
    public var sensoryConductance: Tensor<Scalar>
    /// ŝ `[inputSize, hiddenSize]`.
    public var sensorySteepness: Tensor<Scalar>
    /// μ̂ `[inputSize, hiddenSize]`.
    public var sensoryMidpoint: Tensor<Scalar>
    /// Ê `[inputSize, hiddenSize]`.
    public var sensoryReversal: Tensor<Scalar>
    /// The recurrent synapses' maximal conductances before the softplus, `[hiddenSize, hiddenSize]`.
    public var conductance: Tensor<Scalar>
    /// s `[hiddenSize, hiddenSize]`.
    public var steepness: Tensor<Scalar>
    /// μ `[hiddenSize, hiddenSize]`.
    public var midpoint: Tensor<Scalar>
    /// E `[hiddenSize, hiddenSize]`.
    public var reversal: Tensor<Scalar>
    /// g_L before the softplus, `[hiddenSize]`.
    public var leakConductance: Tensor<Scalar>
    /// v_L `[hiddenSize]`.
    public var leakPotential: Tensor<Scalar>
    /// cₘ before the softplus, `[hiddenSize]`.
    public var capacitance: Tensor<Scalar>

    /// A cell with the given parameters (the conductances and the capacitance as stored, before the
    /// softplus).
    ///
    /// - Precondition: the shapes are as documented on the type.
    public init(
        inputScale: Tensor<Scalar>, inputShift: Tensor<Scalar>, sensoryConductance: Tensor<Scalar>,
        sensorySteepness: Tensor<Scalar>, sensoryMidpoint: Tensor<Scalar>, sensoryReversal: Tensor<Scalar>,
        conductance: Tensor<Scalar>, steepness: Tensor<Scalar>, midpoint: Tensor<Scalar>, reversal: Tensor<Scalar>,
        leakConductance: Tensor<Scalar>, leakPotential: Tensor<Scalar>, capacitance: Tensor<Scalar>
    ) {
        require(
            conductance.rank == 2 && conductance.shape[0] == conductance.shape[1],
            "LTCCell: conductance must be [hiddenSize, hiddenSize], got \(describeShape(conductance.shape))")
        require(inputScale.rank == 1, "LTCCell: inputScale must be [inputSize], got \(describeShape(inputScale.shape))")
        let (n, h) = (inputScale.shape[0], conductance.shape[0])
        for (name, tensor) in [
            ("inputShift", inputShift), ("leakConductance", leakConductance), ("leakPotential", leakPotential),
            ("capacitance", capacitance),
        ] {
            checkCellWeight("LTCCell", name, tensor, name == "inputShift" ? [n] : [h])
        }
        for (name, tensor) in [
            ("sensoryConductance", sensoryConductance), ("sensorySteepness", sensorySteepness),
            ("sensoryMidpoint", sensoryMidpoint), ("sensoryReversal", sensoryReversal),
        ] {
            checkCellWeight("LTCCell", name, tensor, [n, h])
        }
        for (name, tensor) in [("steepness", steepness), ("midpoint", midpoint), ("reversal", reversal)] {
            checkCellWeight("LTCCell", name, tensor, [h, h])
        }
        (self.inputScale, self.inputShift) = (inputScale, inputShift)
        (self.sensoryConductance, self.sensorySteepness) = (sensoryConductance, sensorySteepness)
        (self.sensoryMidpoint, self.sensoryReversal) = (sensoryMidpoint, sensoryReversal)
        (self.conductance, self.steepness, self.midpoint, self.reversal) = (conductance, steepness, midpoint, reversal)
        (self.leakConductance, self.leakPotential, self.capacitance) = (leakConductance, leakPotential, capacitance)
    }

    /// A cell with freshly drawn parameters, from the ranges the reference implementation (ncps)
    /// draws them from: conductances w, ŵ ∈ U(0.001, 1), steepness U(3, 8), midpoints U(0.3, 0.8),
    /// reversal potentials ±1 (+1 with probability 2/3), g_L ∈ U(0.001, 1), v_L ∈ U(−0.2, 0.2),
    /// cₘ ∈ U(0.4, 0.6), a = 1 and b = 0. (The positive ones are stored as their softplus preimages.)
    public init(inputSize: Int, hiddenSize: Int, using generator: inout some RandomNumberGenerator) {
        require(inputSize > 0 && hiddenSize > 0, "LTCCell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        func uniform(_ shape: [Int], _ lower: Double, _ upper: Double) -> Tensor<Scalar> {
            Initializer.uniform(lower: lower, upper: upper).make(shape, using: &generator)
        }
        /// softplus⁻¹ of values drawn from U(lower, upper): log(eᵛ − 1).
        func positive(_ shape: [Int], _ lower: Double, _ upper: Double) -> Tensor<Scalar> {
            let values: Tensor<Scalar> = uniform(shape, lower, upper)
            return Tensor(shape: shape, scalars: values.scalars.map { Scalar(Foundation.log(Foundation.expm1(Double($0)))) })
        }
        func polarities(_ shape: [Int]) -> Tensor<Scalar> {
            let count = shape.reduce(1, *)
            return Tensor(shape: shape, scalars: (0..<count).map { _ in Int.random(in: 0..<3, using: &generator) == 0 ? -1 : 1 })
        }
        let (n, h) = (inputSize, hiddenSize)
        self.init(
            inputScale: Tensor(repeating: 1, shape: [n]), inputShift: Tensor(repeating: 0, shape: [n]),
            sensoryConductance: positive([n, h], 0.001, 1), sensorySteepness: uniform([n, h], 3, 8),
            sensoryMidpoint: uniform([n, h], 0.3, 0.8), sensoryReversal: polarities([n, h]),
            conductance: positive([h, h], 0.001, 1), steepness: uniform([h, h], 3, 8), midpoint: uniform([h, h], 0.3, 0.8),
            reversal: polarities([h, h]), leakConductance: positive([h], 0.001, 1),
            leakPotential: uniform([h], -0.2, 0.2), capacitance: positive([h], 0.4, 0.6))
    }

    public var inputSize: Int { inputScale.shape[0] }
    public var hiddenSize: Int { conductance.shape[0] }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("inputScale", \.inputScale), .init("inputShift", \.inputShift),
            .init("sensoryConductance", \.sensoryConductance), .init("sensorySteepness", \.sensorySteepness),
            .init("sensoryMidpoint", \.sensoryMidpoint), .init("sensoryReversal", \.sensoryReversal),
            .init("conductance", \.conductance), .init("steepness", \.steepness), .init("midpoint", \.midpoint),
            .init("reversal", \.reversal), .init("leakConductance", \.leakConductance),
            .init("leakPotential", \.leakPotential), .init("capacitance", \.capacitance),
        ]
    }

    /// The sensory synapses' currents, which depend on the input only: (Σₖ ŵₖ σ(·) Êₖ, Σₖ ŵₖ σ(·)),
    /// `[..., 2·hiddenSize]` for inputs `[..., inputSize]` (for Float one recorded operation on the C
    /// kernels).
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        if Scalar.self == Float.self { return sensoryCurrentsOnKernels(x * inputScale + inputShift) }
        let mapped = (x * inputScale + inputShift).reshaped(to: x.shape + [1])
        let open = softplus(sensoryConductance) * sigmoid(sensorySteepness * (mapped - sensoryMidpoint))
        let axis = x.rank - 1
        return Tensor(
            concatenating: [(open * sensoryReversal).sum(alongAxis: axis), open.sum(alongAxis: axis)], alongAxis: -1)
    }

    /// (n(v) − d(v) ⊙ v) / cₘ.
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let sensory = gateBlocks(projectedInput, count: 2, size: hiddenSize)
        let pre = state.reshaped(to: state.shape + [1])
        let open = softplus(conductance) * sigmoid(steepness * (pre - midpoint))
        let axis = state.rank - 1
        let leak = softplus(leakConductance)
        let numerator = leak * leakPotential + sensory[0] + (open * reversal).sum(alongAxis: axis)
        let denominator = leak + sensory[1] + open.sum(alongAxis: axis)
        return (numerator - denominator * state) / softplus(capacitance)
    }
}
