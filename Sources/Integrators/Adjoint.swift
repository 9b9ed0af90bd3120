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
/// Compared with backpropagating through the solver's steps
/// (``solve(_:initialState:from:to:method:step:saveAt:maxSteps:truncatedBackpropagation:)`` on
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
///   - field: f(t, y, θ). It must use θ only through the `parameters` argument it is given.
/// - Returns: the states at `times`, shape `[times.count] + initialState.shape`.
/// - Throws: ``SolveError`` for invalid inputs, or ``SolveError/integrationFailed(_:)`` if the forward
///   solve fails. If a backward solve fails (it re-integrates y backward, which can be unstable), the
///   gradients are NaN, so that a training loop stops with a clear message.
@inlinable
public func solveAdjoint<T: TensorScalar>(
    initialState: Tensor<T>, parameters: [Tensor<T>], times: [T],
    method: ButcherTableau = .dopri5, step: StepSizeControl<T> = .adaptive(), maxSteps: Int? = nil,
    field: @escaping @Sendable (T, Tensor<T>, [Tensor<T>]) -> Tensor<T>
) throws(SolveError) -> Tensor<T> {
    require(!times.isEmpty, "solveAdjoint needs at least one time")
    let y0 = initialState.detached
    let theta = parameters.map(\.detached)
    let forward = try solve(
        FieldClosure<Tensor<T>> { t, y in field(t, y, theta) },
        initialState: y0, times: times, method: method, step: step, maxSteps: maxSteps
    ).checked()
    let states = forward.states
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

    return Tensor.recording(value, operands: [initialState] + parameters) { g in
        // The augmented state z = [y, a, g_θ…], flattened and concatenated.
        let adjointField = FieldClosure<Tensor<T>> { t, z in
            let parts = z.split(sizes: sizes)
            let y = parts[0].reshaped(to: stateShape)
            let a = parts[1].reshaped(to: stateShape)
            let tape = Tape<T>()
            let yVariable = tape.variable(y)
            let thetaVariables = theta.map { tape.variable($0) }  // the parameters' values (not the g slots)
            let dy = field(t, yVariable, thetaVariables)
            let products = tape.pullback(of: dy, seed: a, withRespectTo: [yVariable] + thetaVariables)
            let derivatives = [dy.detached] + products.map { -$0 }
            return Tensor(concatenating: derivatives.map { $0.reshaped(to: [-1]) })
        }
        var adjoint = g[times.count - 1]
        var thetaGradients = theta.map { Tensor<T>.zeros($0.shape) }
        for i in stride(from: times.count - 1, to: 0, by: -1) {
            let z = Tensor(
                concatenating: ([states[i], adjoint] + thetaGradients).map { $0.reshaped(to: [-1]) })
            guard
                let solution = try? solve(
                    adjointField, initialState: z, from: times[i], to: times[i - 1], method: method,
                    step: backwardStep, saveAt: .final, maxSteps: maxSteps),
                solution.succeeded
            else {
                return [initialState.detached.mapScalars { _ in .nan }] + theta.map { $0.mapScalars { _ in .nan } }
            }
            let parts = solution.finalState.split(sizes: sizes)
            adjoint = parts[1].reshaped(to: stateShape) + g[i - 1]
            thetaGradients = zip(parts.dropFirst(2), parameterShapes).map { $0.reshaped(to: $1) }
        }
        return [adjoint] + thetaGradients
    }
}
