import RNNODE

/// dy/dt = MLP(y³): the learned field of the spiral demo (torchdiffeq's ode_demo).
public struct SpiralField: VectorField, Trainable, Sendable {
    public typealias Scalar = Double
    public var network: MLP<Double>
    public var parameterPaths: [ParameterPath<Self>] { ParameterPath.nested("network", \.network, in: self) }

    /// 2 → 50 → tanh → 2 with weights N(0, 0.1) and zero biases.
    public init(using generator: inout SeededGenerator) {
        network = MLP(
            sizes: [2, 50, 2], hiddenActivation: .tanh, weightInitializer: .normal(mean: 0, standardDeviation: 0.1),
            biasInitializer: .zeros, using: &generator)
    }

    public func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> { network(pow(y, 3)) }
}

/// The spiral demo's data and minibatches: 1000 samples of dy/dt = (y³)A, A = [[−0.1, 2], [−2, −0.1]],
/// from y(0) = (2, 0) on t ∈ [0, 25]; each batch is 20 random windows of 10 consecutive samples.
public struct SpiralProblem: Sendable {
    public static let sampleCount = 1000
    public static let windowLength = 10
    public static let windowsPerBatch = 20

    public let times: [Double]
    /// The true samples, [1000, 2].
    public let trajectory: Tensor<Double>
    public let initialState = Tensor<Double>([[2, 0]])

    /// Solves the true system accurately (Dormand–Prince, rtol 1e-10).
    public init() throws {
        times = (0..<Self.sampleCount).map { 25 * Double($0) / Double(Self.sampleCount - 1) }
        let a = Tensor<Double>([[-0.1, 2.0], [-2.0, -0.1]])
        let truth = FieldClosure<Tensor<Double>> { _, y in matmul(pow(y, 3), a) }
        let states = try solve(
            truth, initialState: initialState, times: times, method: .dopri5, step: .adaptive(rtol: 1e-10, atol: 1e-12)
        ).checked().states
        trajectory = Tensor(stacking: states.map { $0.reshaped(to: [2]) })
    }

    /// The times of one window, from 0.
    public var windowTimes: [Double] { Array(times.prefix(Self.windowLength)) }

    /// A batch: the initial states [20, 2] and the targets [10, 20, 2] of 20 distinct random windows.
    public func batch(using generator: inout SeededGenerator) -> (initialStates: Tensor<Double>, targets: Tensor<Double>) {
        var starts = Set<Int>()
        while starts.count < Self.windowsPerBatch {
            starts.insert(Int.random(in: 0..<(Self.sampleCount - Self.windowLength), using: &generator))
        }
        let sorted = starts.sorted()
        let targets = Tensor(
            stacking: (0..<Self.windowLength).map { offset in
                trajectory.gathering(sorted.map { $0 + offset }, alongAxis: 0)
            })
        return (trajectory.gathering(sorted, alongAxis: 0), targets)
    }

    /// The mean |error| of `field`'s trajectory from y(0) over all 1000 sample times.
    public func fullTrajectoryL1(
        _ field: SpiralField, method: ButcherTableau, step: StepSizeControl<Double>
    ) throws -> (l1: Double, trajectory: Tensor<Double>) {
        let states = try solve(
            field.detached, initialState: initialState, times: times, method: method, step: step, maxSteps: 1_000_000
        )
        .checked().states
        let learned = Tensor(stacking: states.map { $0.reshaped(to: [2]) })
        return (absoluteError(learned, trajectory).scalar, learned)
    }
}
