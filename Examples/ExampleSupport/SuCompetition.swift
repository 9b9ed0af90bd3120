import RNNODE

/// Su Jianlin's competition model (eq. 7 of “貌离神合的RNN与ODE”) with its six parameters
/// θ = (r₁, r₂, a₁, a₂, 1/N₁, 1/N₂) stored as an unconstrained vector φ, θ = transform(φ): the model of
/// the inverse problem, shared by `infer-parameters` and `rnnode-bench`.
public struct CompetitionParameters: Trainable, Sendable {
    public typealias Scalar = Double
    public var raw: Tensor<Double>
    public let transform: ParameterTransform

    public init(_ parameters: [Double], transform: ParameterTransform) {
        self.transform = transform
        raw = transform.inverse(Tensor(parameters))
    }

    /// θ (differentiable in φ).
    public var values: Tensor<Double> { transform(raw) }
    public var parameterPaths: [ParameterPath<Self>] { [.init("raw", \.raw)] }

    /// Su's step_do for both species at once, clipped at ±1e5 as in the article. θ is split once per
    /// solve, not at every evaluation.
    public var field: FieldClosure<Tensor<Double>> {
        let theta = values
        let r = theta[.range(0..<2)]
        let a = theta[.range(2..<4)]
        let inverseN = theta[.range(4..<6)]
        return FieldClosure(parameters: ["θ": theta]) { _, x in
            clip(r * x * (1 - inverseN * x) - a * x * x.reversed(alongAxis: 0), -1e5, 1e5)
        }
    }
}

/// The article's data and reference values.
public enum SuArticle {
    public static let parameterNames = ["r1", "r2", "a1", "a2", "1/N1", "1/N2"]
    /// The parameters that generated the data.
    public static let trueParameters = [0.1, 0.3, 1e-4, 2e-4, 0.002, 0.003]
    /// The article's initial guess.
    public static let initialGuess = [0.1, 0.1, 0.001, 0.001, 0.001, 0.001]
    /// The observations (time: x₁, x₂); the first row is the initial state.
    public static let table = CSVTable(
        header: ["t", "x1", "x2"],
        rows: [
            [0, 100, 150], [10, 165, 283], [15, 197, 290], [30, 280, 276], [36, 305, 269], [40, 318, 266],
            [42, 324, 264],
        ])
}

/// Observations of the two species: a table with columns t, x1, x2 (empty cells are missing), the
/// first row being the initial state. Validated on construction; computes the residuals of a model.
public struct CompetitionObservations: Sendable {
    /// The observation times, strictly increasing.
    public let times: [Double]
    /// x(times[0]).
    public let initialState: Tensor<Double>
    /// The observed values per species (nil where missing), one per time.
    public let x1: [Double?]
    public let x2: [Double?]
    /// The observed entries after the first row, as flat indices time·2 + species, and their values.
    public let observedIndices: [Int]
    public let target: Tensor<Double>

    /// Validates `table`.
    ///
    /// - Throws: a message naming the line (1 = header) and the problem.
    public init(_ table: CSVTable) throws(ObservationError) {
        guard let t = table.column("t"), let x1 = table.column("x1"), let x2 = table.column("x2") else {
            let missing = ["t", "x1", "x2"].filter { table.column($0) == nil }
            throw ObservationError(
                "the data must have columns t, x1 and x2; missing \(missing.joined(separator: ", ")) (header: \(table.header.joined(separator: ",")))"
            )
        }
        guard table.rows.count >= 2 else {
            throw ObservationError("the data needs an initial row and at least one observation, got \(table.rows.count) rows")
        }
        var times: [Double] = []
        for (row, time) in t.enumerated() {
            guard let time, time.isFinite else { throw ObservationError("line \(row + 2): the time is missing or not finite") }
            if let previous = times.last, time <= previous {
                throw ObservationError("line \(row + 2): times must increase, got \(time) after \(previous)")
            }
            times.append(time)
        }
        guard let x10 = x1[0], let x20 = x2[0] else {
            throw ObservationError("line 2: the first row is the initial state and needs both x1 and x2")
        }
        let observed = (1..<times.count).flatMap { row in
            [x1, x2].enumerated().compactMap { species, column in column[row].map { (index: row * 2 + species, value: $0) } }
        }
        guard !observed.isEmpty else { throw ObservationError("no observations after the initial row") }
        self.times = times
        self.x1 = x1
        self.x2 = x2
        initialState = Tensor([x10, x20])
        observedIndices = observed.map(\.index)
        target = Tensor(observed.map(\.value))
    }

    /// Predicted minus observed at the observed entries, solving from the initial state to `horizon`
    /// (≥ the last time). NaN if the solve fails, so that an optimizer's wild trial step is rejected
    /// rather than fatal.
    public func residuals(
        of model: CompetitionParameters, method: ButcherTableau, step: StepSizeControl<Double>, horizon: Double
    ) -> Tensor<Double> {
        let outputTimes = horizon > times.last! ? times + [horizon] : times
        guard
            let solution = try? solve(
                model.field, initialState: initialState, times: outputTimes, method: method, step: step, maxSteps: 20_000),
            solution.succeeded
        else {
            return Tensor(repeating: .nan, shape: [observedIndices.count])
        }
        let predicted = Tensor(stacking: Array(solution.states.prefix(times.count))).reshaped(to: [-1])
        return predicted.gathering(observedIndices, alongAxis: 0) - target
    }
}

/// A problem with the observations, for the user.
public struct ObservationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
