import RNNODETensors

/// Runs `steps` steps of size Δt of `method`: the recurrence yₙ₊₁ = Φ_Δt(yₙ) of an RNN whose step size
/// (scalar, or per component and broadcast against the state) is a tensor, so that it can be trained.
///
/// Internally the time is rescaled: with s the step count, dh/ds = Δt ⊙ f(t₀ + s·Δt̄, h) is integrated
/// with unit steps, which is exactly `steps` steps of size Δt of the original field. The time passed
/// to the field is t₀ + s·Δt̄ with Δt̄ the mean of Δt (a constant), so per-component step sizes suit
/// autonomous fields best.
///
/// `gradients` is any ``GradientStrategy``: the rescaled field declares Δt and the field's
/// ``VectorField/parameterTensors`` as its parameters, so the checkpointed and adjoint strategies
/// differentiate both.
///
/// ```swift
/// let step = tape.variable(Tensor<Double>([0.1]))
/// let run = try solveSteps(field, initialState: y0, steps: 50, stepSize: step, method: .rk4, saveAt: .final)
/// ```
///
/// - Returns: the solution in the original time (times t₀ + n·Δt̄, n = 0…`steps` for `.steps`).
/// - Throws: ``SolveError`` as ``solve(_:initialState:from:to:method:step:saveAt:maxSteps:gradients:implicit:)``,
///   plus ``SolveError/invalidStepBounds(_:)`` if a step size is not positive.
@inlinable
public func solveSteps<Scalar: TensorScalar, Field: VectorField>(
    _ field: Field, initialState: Tensor<Scalar>, steps: Int, stepSize: Tensor<Scalar>, from t0: Scalar = 0,
    method: ButcherTableau = .rk4, saveAt: SaveAt<Scalar> = .steps, gradients: GradientStrategy = .backpropagation
) throws(SolveError) -> Solution<Tensor<Scalar>> where Field.State == Tensor<Scalar> {
    guard steps >= 1 else { throw .invalidMaxSteps(steps) }
    guard stepSize.scalars.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw .invalidStepBounds("learned step sizes must be positive and finite, got \(stepSize.scalars)")
    }
    let meanStep = stepSize.scalars.reduce(0, +) / Scalar(Swift.max(stepSize.scalarCount, 1))
    let rescaled = StepRescaledField(field: field, stepSize: stepSize, t0: t0, meanStep: meanStep)
    var saveInStepUnits = saveAt
    if case .times(let times) = saveAt { saveInStepUnits = .times(times.map { ($0 - t0) / meanStep }) }
    var solution = try solve(
        rescaled, initialState: initialState, from: 0, to: Scalar(steps), method: method, step: .fixed(1),
        saveAt: saveInStepUnits, gradients: gradients)
    solution.mapTimes { t0 + $0 * meanStep }
    return solution
}

/// dh/ds = Δt ⊙ f(t₀ + s·Δt̄, h): `field` in units of steps, declaring Δt and the field's parameters.
@usableFromInline
package struct StepRescaledField<Scalar: TensorScalar, Field: VectorField>: VectorField
where Field.State == Tensor<Scalar> {
    @usableFromInline package let field: Field
    @usableFromInline package let stepSize: Tensor<Scalar>
    @usableFromInline package let t0: Scalar
    @usableFromInline package let meanStep: Scalar

    @inlinable
    package init(field: Field, stepSize: Tensor<Scalar>, t0: Scalar, meanStep: Scalar) {
        (self.field, self.stepSize, self.t0, self.meanStep) = (field, stepSize, t0, meanStep)
    }

    @inlinable
    package func callAsFunction(_ s: Scalar, _ h: Tensor<Scalar>) -> Tensor<Scalar> {
        stepSize * field(t0 + s * meanStep, h)
    }

    @inlinable
    package func firstNonFiniteParameter() -> String? { field.firstNonFiniteParameter() }

    @inlinable
    package var parameterTensors: [Tensor<Scalar>] { [stepSize] + field.parameterTensors }

    @inlinable
    package func replacingParameterTensors(_ parameters: [Tensor<Scalar>]) -> Self {
        require(!parameters.isEmpty, "the rescaled field's first parameter is the step size")
        return StepRescaledField(
            field: field.replacingParameterTensors(Array(parameters.dropFirst())), stepSize: parameters[0], t0: t0,
            meanStep: meanStep)
    }
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
