// The continuous adjoint method (optimize-then-discretize): gradients of a loss on an ODE solution
// with respect to the initial state and the field's parameters, by integrating the adjoint system
// backward in time with the same integrator. Memory does not grow with the number of steps.

import RNNODETensors

/// Solves dy/dt = f(t, y, θ) at `times` and returns the states stacked along a new first axis,
/// recorded so that gradients are computed by the **continuous adjoint method**.
///
/// The forward solve runs on constants: nothing per step is kept, only the states at `times`. The
/// result is recorded on the tape of `initialState` and `parameters` (if they are recorded) as one
/// operation; its pullback integrates, backward from the last time to the first, the augmented system
///
///     dy/dt = f(t, y, θ),   da/dt = −aᵀ ∂f/∂y,   dg/dt = −aᵀ ∂f/∂θ,
///
/// starting from y(t_N), a(t_N) = ∂L/∂y(t_N), g(t_N) = 0 and adding ∂L/∂y(tᵢ) to a at each earlier
/// output time. Then ∂L/∂y₀ = a(t₀) and ∂L/∂θ = g(t₀). The vector–Jacobian products aᵀ∂f/∂y and
/// aᵀ∂f/∂θ come from a fresh tape per evaluation. The backward integration uses the same `method`;
/// fixed steps use −Δt, adaptive steps the same tolerances on all components of the augmented state.
///
/// With `stateRecovery: .interpolated` the forward solve keeps its accepted steps and the backward
/// pass integrates only (a, g), reading y(t) from the cubic Hermite interpolant of the stored steps
/// (states and slopes): memory grows with the number of steps, but nothing is integrated backward
/// that decays forward — the choice for stiff problems, whose backward re-integration of y is
/// unstable for every method (an implicit step at hλ near 1/γ is singular). The backward solve of
/// the adjoint equation itself is stable and can use a stiff method (``ButcherTableau/kvaerno5``,
/// ``ButcherTableau/rodas5P``: the forward values are constants there, so Rosenbrock methods are
/// allowed too).
///
/// Compared with backpropagating through the solver's steps
/// (``solve(_:initialState:from:to:method:step:saveAt:maxSteps:truncatedBackpropagation:implicit:)`` on
/// recorded tensors), the adjoint needs memory independent of the number of steps but re-solves
/// the state backward and computes gradients of the continuous problem: they agree with the exact
/// gradient of the discrete computation only up to the discretization error (see Docs/Training.md).
///
/// ```swift
/// let states = try solveAdjoint(initialState: y0, parameters: [k], times: [0, 1, 2], method: .dopri5,
///                               step: .adaptive(rtol: 1e-8, atol: 1e-8)) { t, y, p in -p[0] * y }
/// let loss = square(states - observed).sum()     // states: [3, ...y0.shape]
/// ```
///
/// - Parameters:
///   - initialState: y(t₀) = y(times[0]).
///   - parameters: the tensors θ the field depends on (recorded or constant).
///   - times: output times, strictly monotonic; the first is t₀.
///   - method, step: as for `solve`; used forward and backward.
///   - maxSteps: the step budget of each solve.
///   - stateRecovery: how the backward pass obtains y(t): re-integrated backward with the adjoint
///     (``AdjointStateRecovery/backsolve``, the default) or interpolated from the stored forward
///     steps (``AdjointStateRecovery/interpolated``).
///   - field: f(t, y, θ). It must use θ only through the `parameters` argument it is given.
/// - Returns: the states at `times`, shape `[times.count] + initialState.shape`.
/// - Throws: ``SolveError`` for invalid inputs, or ``SolveError/integrationFailed(_:)`` if the forward
///   solve fails. If a backward solve fails (it re-integrates y backward, which can be unstable), the
///   gradients are NaN, so that a training loop stops with a clear message.
@inlinable
public func solveAdjoint<T: TensorScalar>(
    initialState: Tensor<T>, parameters: [Tensor<T>], times: [T],
    method: ButcherTableau = .dopri5, step: StepSizeControl<T> = .adaptive(), maxSteps: Int? = nil,
    stateRecovery: AdjointStateRecovery = .backsolve,
    field: @escaping @Sendable (T, Tensor<T>, [Tensor<T>]) -> Tensor<T>
) throws(SolveError) -> Tensor<T> {
    require(!times.isEmpty, "solveAdjoint needs at least one time")
    let y0 = initialState.detached
    let theta = parameters.map(\.detached)
    let forwardField = FieldClosure<Tensor<T>> { t, y in field(t, y, theta) }
    var states: [Tensor<T>]
    var trajectory: HermiteTrajectory<T>? = nil
    switch stateRecovery {
    case .backsolve:
        states = try solve(forwardField, initialState: y0, times: times, method: method, step: step, maxSteps: maxSteps)
            .checked().states
    case .interpolated:
        // Interval by interval, keeping every accepted step (and its slope) for the backward pass.
        states = [y0]
        var stored = HermiteTrajectory<T>()
        stored.append(times[0], y0, forwardField(times[0], y0))
        for i in 1..<times.count {
            let solution = try solve(
                forwardField, initialState: states[i - 1], from: times[i - 1], to: times[i], method: method, step: step,
                saveAt: .steps, maxSteps: maxSteps
            ).checked()
            for (time, state) in zip(solution.times.dropFirst(), solution.states.dropFirst()) {
                stored.append(time, state, forwardField(time, state))
            }
            states.append(solution.finalState)
        }
        trajectory = stored
    }
    let value = Tensor(stacking: states)
    guard initialState.isRecorded || parameters.contains(where: \.isRecorded) else { return value }

    let stateShape = y0.shape
    let parameterShapes = theta.map(\.shape)
    let sizes = [y0.scalarCount, y0.scalarCount] + theta.map(\.scalarCount)
    let backwardStep: StepSizeControl<T>
    switch step.mode {
    case .fixed(let dt): backwardStep = .fixed(-dt)
    case .adaptive: backwardStep = step
    }

    let storedStates = states
    let trajectoryOnBackwardPass = trajectory
    return Tensor.recording(value, operands: [initialState] + parameters) { g in
        let states = storedStates
        let trajectory = trajectoryOnBackwardPass
        // The augmented state z = [y, a, g_θ…] (backsolve) or [a, g_θ…] (interpolated), flattened
        // and concatenated.
        let sizes = trajectory == nil ? sizes : Array(sizes.dropFirst())
        let adjointField = FieldClosure<Tensor<T>> { t, z in
            let parts = z.split(sizes: sizes)
            let y = trajectory?.state(at: t) ?? parts[0].reshaped(to: stateShape)
            let a = parts[trajectory == nil ? 1 : 0].reshaped(to: stateShape)
            let tape = Tape<T>()
            let yVariable = tape.variable(y)
            let thetaVariables = theta.map { tape.variable($0) }  // the parameters' values (not the g slots)
            let dy = field(t, yVariable, thetaVariables)
            let products = tape.pullback(of: dy, seed: a, withRespectTo: [yVariable] + thetaVariables)
            let derivatives = (trajectory == nil ? [dy.detached] : []) + products.map { -$0 }
            return Tensor(concatenating: derivatives.map { $0.reshaped(to: [-1]) })
        }
        var adjoint = g[times.count - 1]
        var thetaGradients = theta.map { Tensor<T>.zeros($0.shape) }
        for i in stride(from: times.count - 1, to: 0, by: -1) {
            let z = Tensor(
                concatenating: ((trajectory == nil ? [states[i]] : []) + [adjoint] + thetaGradients).map {
                    $0.reshaped(to: [-1])
                })
            guard
                let solution = try? solve(
                    adjointField, initialState: z, from: times[i], to: times[i - 1], method: method,
                    step: backwardStep, saveAt: .final, maxSteps: maxSteps),
                solution.succeeded
            else {
                return [initialState.detached.mapScalars { _ in .nan }] + theta.map { $0.mapScalars { _ in .nan } }
            }
            let parts = solution.finalState.split(sizes: sizes)
            let offset = trajectory == nil ? 1 : 0
            adjoint = parts[offset].reshaped(to: stateShape) + g[i - 1]
            thetaGradients = zip(parts.dropFirst(offset + 1), parameterShapes).map { $0.reshaped(to: $1) }
        }
        return [adjoint] + thetaGradients
    }
}

/// How the adjoint's backward pass obtains the forward state y(t) (see
/// ``solveAdjoint(initialState:parameters:times:method:step:maxSteps:stateRecovery:field:)``).
public enum AdjointStateRecovery: Sendable, Equatable {
    /// Re-integrate y backward together with the adjoint: memory independent of the number of
    /// steps, but unstable where the forward problem damps (stiff problems) or diverges (chaos).
    case backsolve
    /// Interpolate the forward solve's stored steps (cubic Hermite through the states and slopes):
    /// memory proportional to the number of steps, stable for stiff problems.
    case interpolated
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
