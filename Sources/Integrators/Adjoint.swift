// The continuous adjoint method (optimize-then-discretize): gradients of a loss on an ODE solution
// with respect to the initial state and the field's parameters, by integrating the adjoint system
// backward in time with the same integrator. Memory does not grow with the number of steps.

import RNNODETensors

/// The solve with gradients by the **continuous adjoint method** (``GradientStrategy/backsolveAdjoint``,
/// ``GradientStrategy/interpolatingAdjoint``), on validated inputs.
///
/// The forward solve runs on constants: nothing per step is kept (backsolve), or the accepted steps'
/// states and slopes (interpolated). The saved states and the final state are recorded on the tape of
/// `initialState` and θ = ``VectorField/parameterTensors`` as one operation; its pullback integrates,
/// backward from the last output time to t₀, the augmented system
///
///     dy/dt = f(t, y, θ),   da/dt = −aᵀ ∂f/∂y,   dg/dt = −aᵀ ∂f/∂θ,
///
/// starting from y(t_N), a(t_N) = ∂L/∂y(t_N), g(t_N) = 0 and adding ∂L/∂y(tᵢ) to a at each earlier
/// output time (where y is also reset to the forward value). Then ∂L/∂y₀ = a(t₀) and ∂L/∂θ = g(t₀).
/// The vector–Jacobian products aᵀ∂f/∂y and aᵀ∂f/∂θ come from a fresh tape per evaluation, with the
/// field's parameters replaced by that tape's variables. The backward integration uses the same
/// `method`; fixed steps use −Δt, adaptive steps the same tolerances on all components of the
/// augmented state.
///
/// With `interpolated` the backward pass integrates only (a, g), reading y(t) from the cubic Hermite
/// interpolant of the stored steps: memory grows with the number of steps, but nothing is integrated
/// backward that decays forward — the choice for stiff problems, whose backward re-integration of y is
/// unstable for every method. The backward solve of the adjoint equation itself is stable and can use
/// a stiff method (``ButcherTableau/kvaerno5``, ``ButcherTableau/rodas5P``: the forward values are
/// constants there, so Rosenbrock methods are allowed too).
///
/// The gradients are those of the continuous problem: they agree with the exact gradient of the
/// discrete computation (``GradientStrategy/backpropagation``) only up to the discretization error (see
/// Docs/Training.md). If a backward solve fails (re-integrating y backward can be unstable), the
/// gradients are NaN, so that a training loop stops with a clear message.
@inlinable
package func solveAdjointOperation<Field: VectorField, T: TensorScalar>(
    _ field: Field, initialState: Tensor<T>, plan: IntegrationPlan<T>, method: ButcherTableau,
    step: StepSizeControl<T>, saveAt: SaveAt<T>, interpolated: Bool, implicit: ImplicitSolverSettings
) throws(SolveError) -> Solution<Tensor<T>> where Field.State == Tensor<T> {
    let strategy = interpolated ? GradientStrategy.interpolatingAdjoint.name : GradientStrategy.backsolveAdjoint.name
    let y0 = initialState.detached
    let constant = try constantField(field, at: plan.t0, y0, strategy: strategy)
    let stored = TrajectoryStore<T>()
    if interpolated { stored.trajectory.append(plan.t0, y0, constant(plan.t0, y0)) }
    let observer: ((Integrator<Field>) -> Void)? =
        interpolated ? { stored.trajectory.append($0.time, $0.state, $0.currentSlope()) } : nil
    var solution = try integrate(
        constant, initialState: y0, plan: plan, method: method, step: step, saveAt: saveAt, truncation: nil,
        implicit: implicit, onStep: observer)
    if solution.finalState.isRecorded { throw .undeclaredRecordedTensors(strategy) }
    let theta = field.parameterTensors
    guard initialState.isRecorded || theta.contains(where: { $0.isRecorded }) else { return solution }

    // The knots of the backward pass: t₀, then every output time and the final time, merged; each
    // with its forward state and the outputs (indices into the stacked cotangent) attached to it.
    var knotTimes = [plan.t0]
    var knotStates = [y0]
    var knotOutputs: [[Int]] = [[]]
    let outputs = zip(solution.times + [solution.finalTime], solution.states + [solution.finalState])
    for (m, (time, state)) in outputs.enumerated() {
        if time != knotTimes[knotTimes.count - 1] {
            knotTimes.append(time)
            knotStates.append(state)
            knotOutputs.append([])
        }
        knotOutputs[knotOutputs.count - 1].append(m)
    }
    let thetaValues = theta.map { $0.detached }
    let stateShape = y0.shape
    let parameterShapes = thetaValues.map { $0.shape }
    let trajectory = interpolated ? stored.trajectory : nil
    let backwardStep: StepSizeControl<T>
    switch step.mode {
    case .fixed(let dt): backwardStep = .fixed(-dt)
    case .adaptive: backwardStep = step
    }
    // The augmented state z = [y, a, g_θ…] (backsolve) or [a, g_θ…] (interpolated), flattened and
    // concatenated.
    let sizes = (trajectory == nil ? [y0.scalarCount] : []) + [y0.scalarCount] + thetaValues.map { $0.scalarCount }
    let adjointField = AdjointField(
        field: field, theta: thetaValues, trajectory: trajectory, sizes: sizes, stateShape: stateShape)
    let maxSteps = plan.maxSteps
    let frozenKnots = (knotTimes, knotStates, knotOutputs)
    solution.recordAsOneOperation(operands: [initialState] + theta) { g in
        let (knotTimes, knotStates, knotOutputs) = frozenKnots
        let cotangents = g.detached.unstacked()
        func cotangent(at knot: Int) -> Tensor<T> {
            var sum = Tensor<T>.zeros(stateShape)
            for m in knotOutputs[knot] { sum.accumulate(cotangents[m]) }
            return sum
        }
        var adjoint = cotangent(at: knotTimes.count - 1)
        var thetaGradients = thetaValues.map { Tensor<T>.zeros($0.shape) }
        for i in stride(from: knotTimes.count - 1, to: 0, by: -1) {
            let z = Tensor(
                concatenating: ((trajectory == nil ? [knotStates[i]] : []) + [adjoint] + thetaGradients).map {
                    $0.reshaped(to: [-1])
                })
            guard
                let backward = try? solve(
                    adjointField, initialState: z, from: knotTimes[i], to: knotTimes[i - 1], method: method,
                    step: backwardStep, saveAt: .final, maxSteps: maxSteps),
                backward.succeeded
            else {
                return [y0.mapScalars { _ in .nan }] + thetaValues.map { $0.mapScalars { _ in .nan } }
            }
            let parts = backward.finalState.split(sizes: sizes)
            let offset = trajectory == nil ? 1 : 0
            adjoint = parts[offset].reshaped(to: stateShape) + cotangent(at: i - 1)
            thetaGradients = zip(parts.dropFirst(offset + 1), parameterShapes).map { $0.reshaped(to: $1) }
        }
        return [adjoint] + thetaGradients
    }
    return solution
}

/// The accepted steps of an interpolating adjoint's forward pass, filled in by the step observer.
@usableFromInline
final class TrajectoryStore<T: TensorScalar>: @unchecked Sendable {
    // Sendable: written by the forward pass only.
    @usableFromInline var trajectory = HermiteTrajectory<T>()
    @inlinable init() {}
}

/// The adjoint system as a field of the flattened augmented state (see
/// ``solveAdjointOperation(_:initialState:plan:method:step:saveAt:interpolated:implicit:)``).
@usableFromInline
struct AdjointField<Field: VectorField, T: TensorScalar>: VectorField, @unchecked Sendable
where Field.State == Tensor<T> {
    // Sendable: every stored value is read only.
    @usableFromInline let field: Field
    @usableFromInline let theta: [Tensor<T>]
    @usableFromInline let trajectory: HermiteTrajectory<T>?
    @usableFromInline let sizes: [Int]
    @usableFromInline let stateShape: [Int]

    @inlinable
    init(field: Field, theta: [Tensor<T>], trajectory: HermiteTrajectory<T>?, sizes: [Int], stateShape: [Int]) {
        (self.field, self.theta, self.trajectory, self.sizes, self.stateShape) =
            (field, theta, trajectory, sizes, stateShape)
    }

    @inlinable
    func callAsFunction(_ t: T, _ z: Tensor<T>) -> Tensor<T> {
        let parts = z.split(sizes: sizes)
        let y = trajectory?.state(at: t) ?? parts[0].reshaped(to: stateShape)
        let a = parts[trajectory == nil ? 1 : 0].reshaped(to: stateShape)
        let tape = Tape<T>()
        let yVariable = tape.variable(y)
        let thetaVariables = theta.map { tape.variable($0) }  // the parameters' values (not the g slots)
        let dy = field.replacingParameterTensors(thetaVariables)(t, yVariable)
        let products = tape.pullback(of: dy, seed: a, withRespectTo: [yVariable] + thetaVariables)
        let derivatives = (trajectory == nil ? [dy.detached] : []) + products.map { -$0 }
        return Tensor(concatenating: derivatives.map { $0.reshaped(to: [-1]) })
    }
}

/// A forward trajectory kept for the adjoint's backward pass: the accepted steps' times, states and
/// slopes f(t, y), read back by cubic Hermite interpolation.
@usableFromInline
struct HermiteTrajectory<T: TensorScalar>: @unchecked Sendable {
    // Sendable: the tensors are detached values, never written after the forward pass.
    @usableFromInline var times: [T] = []
    @usableFromInline var states: [Tensor<T>] = []
    @usableFromInline var slopes: [Tensor<T>] = []

    @inlinable init() {}

    @inlinable
    mutating func append(_ time: T, _ state: Tensor<T>, _ slope: Tensor<T>) {
        times.append(time)
        states.append(state.detached)
        slopes.append(slope.detached)
    }

    /// y(t) on the step that contains t (clamped to the stored span).
    @inlinable
    func state(at t: T) -> Tensor<T> {
        let ascending = times.last! >= times.first!
        // The last index k with times[k] ≤ t (in the direction of the forward solve).
        var low = 0
        var high = times.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if (times[mid] <= t) == ascending { low = mid } else { high = mid }
        }
        let h = times[high] - times[low]
        guard h != 0 else { return states[low] }
        let theta = Swift.min(Swift.max((t - times[low]) / h, 0), 1)
        let theta2 = theta * theta
        let theta3 = theta2 * theta
        let h00 = 2 * theta3 - 3 * theta2 + 1
        let h10 = theta3 - 2 * theta2 + theta
        let h01 = 3 * theta2 - 2 * theta3
        let h11 = theta3 - theta2
        return Tensor.linearCombination(
            base: states[low] * h00, weights: [h * h10, h01, h * h11], terms: [slopes[low], states[high], slopes[high]])
    }
}
