import RNNODETensors

/// Runs `steps` steps of size Δt of `method`: the recurrence yₙ₊₁ = Φ_Δt(yₙ) of an RNN whose step size
/// (scalar, or per component and broadcast against the state) is a tensor, so that it can be trained.
///
/// Internally the time is rescaled: with s the step count, dh/ds = Δt ⊙ f(t₀ + s·Δt̄, h) is integrated
/// with unit steps, which is exactly `steps` steps of size Δt of the original field. The time passed
/// to the field is t₀ + s·Δt̄ with Δt̄ the mean of Δt (a constant), so per-component step sizes suit
/// autonomous fields best.
///
/// - Returns: the solution in the original time (times t₀ + n·Δt̄, n = 0…`steps` for `.steps`).
/// - Throws: ``SolveError`` as ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:truncatedBackpropagation:implicit:)``,
///   plus ``SolveError/invalidStepBounds(_:)`` if a step size is not positive.
@inlinable
public func solveSteps<Scalar: TensorScalar, Field: VectorField>(
    _ field: Field, initialState: Tensor<Scalar>, steps: Int, stepSize: Tensor<Scalar>, from t0: Scalar = 0,
    method: ButcherTableau = .rk4, saveAt: SaveAt<Scalar> = .steps, truncatedBackpropagation: Int? = nil
) throws(SolveError) -> Solution<Tensor<Scalar>> where Field.State == Tensor<Scalar> {
    guard steps >= 1 else { throw .invalidMaxSteps(steps) }
    guard stepSize.scalars.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw .invalidStepBounds("learned step sizes must be positive and finite, got \(stepSize.scalars)")
    }
    let meanStep = stepSize.scalars.reduce(0, +) / Scalar(Swift.max(stepSize.scalarCount, 1))
    let rescaled = FieldClosure<Tensor<Scalar>> { s, h in stepSize * field(t0 + s * meanStep, h) }
    var saveInStepUnits = saveAt
    if case .times(let times) = saveAt { saveInStepUnits = .times(times.map { ($0 - t0) / meanStep }) }
    var solution = try solve(
        rescaled, initialState: initialState, from: 0, to: Scalar(steps), method: method, step: .fixed(1),
        saveAt: saveInStepUnits, truncatedBackpropagation: truncatedBackpropagation)
    solution.mapTimes { t0 + $0 * meanStep }
    return solution
}

extension Solution {
    /// Converts the time axis (for rescaled solves).
    @usableFromInline
    package mutating func mapTimes(_ transform: (Scalar) -> Scalar) {
        times = times.map(transform)
        finalTime = transform(finalTime)
        switch status {
        case .success: break
        case .nonFiniteState(let time, let stepSize):
            status = .nonFiniteState(time: transform(time), stepSize: transform(stepSize) - transform(0))
        case .stepSizeUnderflow(let time, let stepSize):
            status = .stepSizeUnderflow(time: transform(time), stepSize: transform(stepSize) - transform(0))
        case .maxStepsExceeded(let time, let steps):
            status = .maxStepsExceeded(time: transform(time), steps: steps)
        case .implicitStageFailed(let time, let stepSize):
            status = .implicitStageFailed(time: transform(time), stepSize: transform(stepSize) - transform(0))
        }
    }
}
