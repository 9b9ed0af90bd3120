import Foundation
import RNNODE

/// Su Jianlin's competition model (eq. 7 of “貌离神合的RNN与ODE”), θ = (r₁, r₂, a₁, a₂, 1/N₁, 1/N₂):
///
///     x₁' = r₁ x₁ (1 − x₁/N₁) − a₁ x₁ x₂,   x₂' = r₂ x₂ (1 − x₂/N₂) − a₂ x₁ x₂,
///
/// clipped at ±1e5 as the article's step_do is. Written once over a generic scalar, so that solves
/// give forward sensitivities ∂x/∂θ: the model of `infer-parameters` and `rnnode-bench`.
public struct CompetitionModel: ParametricField {
    public typealias State = SIMD2<Double>
    public init() {}

    public func callAsFunction<S: FieldScalar>(_ t: S, _ x: FieldInput<S>, _ p: FieldInput<S>, _ dx: FieldOutput<S>)
    where S.Constant == Double {
        let limit = S(1e5)
        dx[0] = min(max(p[0] * x[0] * (1 - p[4] * x[0]) - p[2] * x[0] * x[1], -limit), limit)
        dx[1] = min(max(p[1] * x[1] * (1 - p[5] * x[1]) - p[3] * x[0] * x[1], -limit), limit)
    }

    public var isAutonomous: Bool { true }
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

/// The inverse problem: the competition model's residuals against observations (their first row is
/// the initial state) and their derivatives in unconstrained parameters φ, θ = exp(φ) (`logarithmic`)
/// or θ = φ.
public struct CompetitionFit: Sendable {
    public let observations: Observations<Double>
    public let initialState: SIMD2<Double>
    public let method: ButcherTableau
    public let step: StepSizeControl<Double>
    public let logarithmic: Bool
    /// The observation times, then the horizon if it lies beyond them.
    public let outputTimes: [Double]

    /// Validates the data: columns t, x1, x2, the first row complete.
    public init(
        _ table: CSVTable, method: ButcherTableau, step: StepSizeControl<Double>, horizon: Double? = nil,
        logarithmic: Bool
    ) throws(ObservationError) {
        let observations = try Observations<Double>(table, time: "t", variables: ["x1", "x2"])
        guard observations.times.count >= 2 else {
            throw ObservationError("the data needs an initial row and at least one observation, got one row")
        }
        guard let start = observations.firstRow(as: SIMD2<Double>()) else {
            throw ObservationError("line 2: the first row is the initial state and needs both x1 and x2")
        }
        guard observations.observedIndices.contains(where: { $0 >= 2 }) else {
            throw ObservationError("no observations after the initial row")
        }
        let last = observations.times.last!
        if let horizon, horizon < last {
            throw ObservationError("the horizon \(horizon) ends before the last observation at \(last)")
        }
        self.observations = observations
        initialState = start
        self.method = method
        self.step = step
        self.logarithmic = logarithmic
        outputTimes = (horizon ?? last) > last ? observations.times + [horizon!] : observations.times
        initialEntries = observations.observedIndices.filter { $0 < 2 }.count
        residualCount = observations.observedCount - initialEntries
    }

    /// θ for φ.
    public func parameters(_ phi: [Double]) -> [Double] { logarithmic ? phi.map { Foundation.exp($0) } : phi }

    /// φ for θ (θ > 0 when logarithmic).
    public func unconstrained(_ theta: [Double]) -> [Double] { logarithmic ? theta.map { Foundation.log($0) } : theta }

    /// The number of residuals: the observed entries after the first row.
    public let residualCount: Int
    /// The observed entries of the first row (the initial state): not residuals.
    let initialEntries: Int

    func solveModel(_ phi: [Double], sensitivities: SensitivityTarget) -> Solution<SIMD2<Double>>? {
        guard
            let solution = try? solve(
                CompetitionModel(), initialState: initialState, parameters: parameters(phi), times: outputTimes,
                method: method, step: step, maxSteps: 20_000, sensitivities: sensitivities),
            solution.succeeded
        else { return nil }
        return solution
    }

    /// Predicted minus observed at the observed entries after the first row; NaN if the solve fails,
    /// so that an optimizer's wild trial step is rejected rather than fatal.
    public func residuals(_ phi: [Double]) -> [Double] {
        guard let solution = solveModel(phi, sensitivities: .none) else {
            return Array(repeating: .nan, count: residualCount)
        }
        return Array(observations.residuals(of: solution).dropFirst(initialEntries))
    }

    /// The residuals and ∂r/∂φ (residuals × 6, row-major) from one solve with forward sensitivities.
    public func residualsAndJacobian(_ phi: [Double]) -> (residuals: [Double], jacobian: [Double]) {
        guard let solution = solveModel(phi, sensitivities: .parameters) else {
            return (Array(repeating: .nan, count: residualCount), Array(repeating: .nan, count: residualCount * 6))
        }
        let theta = parameters(phi)
        var jacobian = Array(observations.residualJacobian(of: solution).dropFirst(initialEntries * 6))
        if logarithmic {
            for row in 0..<residualCount { for j in 0..<6 { jacobian[row * 6 + j] *= theta[j] } }
        }
        return (Array(observations.residuals(of: solution).dropFirst(initialEntries)), jacobian)
    }

    /// Σ r² and its gradient 2 Jᵀr in φ.
    public func lossAndGradient(_ phi: [Double]) -> (loss: Double, gradient: [Double]) {
        let (r, j) = residualsAndJacobian(phi)
        var gradient = [Double](repeating: 0, count: 6)
        var loss = 0.0
        for (row, value) in r.enumerated() {
            loss += value * value
            for k in 0..<6 { gradient[k] += 2 * value * j[row * 6 + k] }
        }
        return (loss, gradient)
    }
}
