import RNNODETensors

// Gradients through implicit steps on recorded tensors (discretize-then-optimize): the Newton
// iterations run on plain numbers and are not recorded; the converged stages are put on the tape
// by the implicit function theorem.

extension ImplicitStages {
    /// The last step of a diagonally implicit method again, on the tape, when the state is a
    /// ``Tensor`` and something is recorded (the state or, through f(t, y), the field's parameters);
    /// nil otherwise.
    ///
    /// For a stage Kᵢ = f(tᵢ, Eᵢ + hγᵢ Kᵢ) with Eᵢ = y + h Σ_{j<i} aᵢⱼ Kⱼ, differentiating gives
    /// (I − hγᵢ J) dKᵢ = dF, where F = f(tᵢ, Eᵢ + hγᵢ Kᵢ*) is f at the converged stage with Kᵢ* held
    /// constant and J = ∂f/∂y there. So the stage is recorded as F (one evaluation on the tape) followed
    /// by an operation whose value is Kᵢ* and whose pullback solves (I − hγᵢ J)ᵀ μ = v, with the exact
    /// Jacobian at the stage (the field's own, or the tape's). The update y₁ = y + h Σ bᵢ Kᵢ is then an
    /// ordinary recorded combination, and gradients are exact for the computed trajectory.
    @inlinable
    package func recordDiagonallyImplicit<F: VectorField>(
        _ field: F, _ t: Scalar, _ y: State, _ h: Scalar, _ k0: State, stages: UnsafeMutablePointer<State>
    ) -> (y1: State, last: State)? where F.State == State {
        guard State.self == Tensor<Scalar>.self else { return nil }
        let start = unsafeBitCast(y, to: Tensor<Scalar>.self)
        let startSlope = unsafeBitCast(k0, to: Tensor<Scalar>.self)
        guard start.isRecorded || startSlope.isRecorded else { return nil }
        let shape = start.shape
        let a = compiled.a
        var slopes: [Tensor<Scalar>] = []
        slopes.reserveCapacity(s)
        var lastInput = start
        for stage in 0..<s {
            var weights: [Scalar] = []
            var terms: [Tensor<Scalar>] = []
            for j in 0..<stage where a[stage * s + j] != 0 {
                weights.append(h * a[stage * s + j])
                terms.append(slopes[j])
            }
            let explicitPart = Tensor.linearCombination(base: start, weights: weights, terms: terms)
            let time = t + compiled.c[stage] * h
            let diagonal = a[stage * s + stage]
            if diagonal == 0 {
                let slope =
                    stage == 0
                    ? startSlope
                    : unsafeBitCast(field(time, unsafeBitCast(explicitPart, to: State.self)), to: Tensor<Scalar>.self)
                slopes.append(slope)
                lastInput = explicitPart
                continue
            }
            let scale = h * diagonal
            let converged = Tensor<Scalar>(
                shape: shape, scalars: Array(UnsafeBufferPointer(start: stageValues + stage * n, count: n)))
            let input = Tensor.linearCombination(base: explicitPart, weights: [scale], terms: [converged])
            let value = unsafeBitCast(field(time, unsafeBitCast(input, to: State.self)), to: Tensor<Scalar>.self)
            let frozen = input.detached
            let dimension = n
            let solver = UncheckedSendableBox { (v: Tensor<Scalar>) in
                ImplicitStages.solveTransposed(field, at: time, frozen, scale: scale, dimension: dimension, v)
            }
            let slope = value.recording(converged) { v in solver.value(v) }
            slopes.append(slope)
            // The stage's value Eᵢ + hγᵢ Kᵢ with the recorded Kᵢ (y₁ for a stiffly accurate method).
            lastInput = Tensor.linearCombination(base: explicitPart, weights: [scale], terms: [slope])
        }
        let y1: Tensor<Scalar>
        if compiled.isStifflyAccurate {
            y1 = lastInput
        } else {
            var weights: [Scalar] = []
            var terms: [Tensor<Scalar>] = []
            for j in 0..<s where compiled.b[j] != 0 {
                weights.append(h * compiled.b[j])
                terms.append(slopes[j])
            }
            y1 = Tensor.linearCombination(base: start, weights: weights, terms: terms)
        }
        for i in 0..<s { stages[i] = unsafeBitCast(slopes[i], to: State.self) }
        return (unsafeBitCast(y1, to: State.self), stages[s - 1])
    }

    /// μ with (I − scale · J)ᵀ μ = v, J = ∂f/∂y at (t, y): the pullback of an implicit stage.
    /// NaN when the matrix is singular, so that a training loop stops with a clear message.
    @inlinable
    static func solveTransposed<F: VectorField>(
        _ field: F, at t: Scalar, _ y: Tensor<Scalar>, scale: Scalar, dimension n: Int, _ v: Tensor<Scalar>
    ) -> Tensor<Scalar> where F.State == State {
        let jacobian = UnsafeMutablePointer<Scalar>.allocate(capacity: n * n)
        jacobian.initialize(repeating: 0, count: n * n)
        defer { jacobian.deallocate() }
        let view = JacobianMatrix(dimension: n, structure: .dense, storage: jacobian)
        let state = unsafeBitCast(y, to: State.self)
        if !field.jacobian(t, state, into: view) {
            _ = State.exactJacobian(of: field, at: t, state, into: view)
        }
        let matrix = IterationMatrix<Scalar>(dimension: n, structure: .dense)
        defer { matrix.deallocate() }
        // Mᵀ = I − scale · Jᵀ, column-major: entry (i, j) = δᵢⱼ − scale · J[j, i].
        for j in 0..<n {
            for i in 0..<n { matrix.storage[j * n + i] = (i == j ? 1 : 0) - scale * jacobian[i * n + j] }
        }
        var mu = v.detached.scalars
        guard matrix.factorDense() else { return Tensor(repeating: .nan, shape: v.shape) }
        mu.withUnsafeMutableBufferPointer { matrix.solve($0.baseAddress!) }
        return Tensor(shape: v.shape, scalars: mu)
    }
}

/// A value carried into a `@Sendable` pullback; the tape runs pullbacks on the thread that asks for
/// the gradient, so the value is not shared across threads.
@usableFromInline
package struct UncheckedSendableBox<Value>: @unchecked Sendable {
    @usableFromInline package let value: Value
    @inlinable package init(_ value: Value) { self.value = value }
}
