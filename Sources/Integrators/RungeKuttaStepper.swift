import RNNODETensors

/// The one explicit Runge–Kutta stepper: any ``ButcherTableau`` on any ``ODEState``, the step
/// inside ``Integrator`` (and so inside every solve).
///
/// For fixed-size states (`SIMD2<Double>`, …) a step allocates nothing: the tableau is compiled once
/// (``CompiledTableau``, shared by every stepper of that tableau and scalar type), the stages live in
/// this stepper's preallocated buffer, and the newest stage is carried in a local so that the
/// dependency chain from one stage to the next stays in registers. For ``Tensor`` states each stage
/// combination is one fused, recorded operation, so gradients flow through every step.
@usableFromInline
package final class RungeKuttaStepper<State: ODEState> {
    @usableFromInline package typealias Scalar = State.Scalar

    /// The compiled tableau (kept alive for the pointers below, which are copied out of it so that
    /// the step loop reads them with one load each).
    @usableFromInline package let compiled: CompiledTableau<Scalar>
    @usableFromInline package let stageCount: Int
    @usableFromInline package let isFSAL: Bool
    @usableFromInline package let c: UnsafeMutablePointer<Scalar>
    @usableFromInline package let rowStart: UnsafeMutablePointer<Int>
    @usableFromInline package let rowIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let rowWeights: UnsafeMutablePointer<Scalar>
    @usableFromInline package let newestWeight: UnsafeMutablePointer<Scalar>
    @usableFromInline package let errorCount: Int
    @usableFromInline package let errorIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let errorWeights: UnsafeMutablePointer<Scalar>
    @usableFromInline package let b: UnsafeMutablePointer<Scalar>
    @usableFromInline package let interpolant: UnsafeMutablePointer<Scalar>?
    @usableFromInline package let interpolantDegree: Int
    @usableFromInline package let allStages: UnsafeMutablePointer<Int>
    /// Room for one set of dense combination weights.
    @usableFromInline package let weights: UnsafeMutablePointer<Scalar>
    /// The stages k₀…kₛ₋₁ of the most recent step, then the e dense-output stages kₛ…kₛ₊ₑ₋₁.
    @usableFromInline package let stages: UnsafeMutablePointer<State>
    /// Implicit and Rosenbrock methods: the Newton and linear-algebra workspace (nil for explicit ones).
    @usableFromInline package let implicit: ImplicitStages<State>?
    /// f(t, y) at the start of the most recent step (implicit methods; for the Hermite dense output,
    /// since their first stage need not be f(t, y)).
    @usableFromInline package var startSlope: State?
    /// Whether the error estimate is needed (adaptive steps); implicit methods skip it otherwise.
    @usableFromInline package var estimatesError = true
    /// Explicit methods: the terms −kᵢ + kⱼ and Σ (aⱼₖ − aᵢₖ) kₖ of Hairer's stiffness estimate.
    @usableFromInline package let stiffnessIndices: UnsafeMutablePointer<Int>
    @usableFromInline package let stiffnessWeights: UnsafeMutablePointer<Scalar>
    /// The number e of dense-output stages (0 for most methods).
    @usableFromInline package let denseStageCount: Int
    /// The step (start, size) whose dense-output stages are in ``stages``, if any.
    @usableFromInline package var denseStep: (start: Scalar, size: Scalar)? = nil
    /// Whether the error estimate combines two embedded methods (DOP853).
    @usableFromInline package let hasSecondError: Bool

    /// A workspace for `tableau`; `filler` initializes the stage storage (any state of the right
    /// type). Implicit methods need `filler` to expose its components (checked by the integrator).
    @inlinable
    package init(_ tableau: ButcherTableau, filler: State, implicit settings: ImplicitSolverSettings = ImplicitSolverSettings()) {
        let compiled = CompiledTableau<Scalar>.shared(tableau)
        self.compiled = compiled
        let s = compiled.stageCount
        stageCount = s
        isFSAL = compiled.isFSAL
        c = compiled.c
        rowStart = compiled.rowStart
        rowIndices = compiled.rowIndices
        rowWeights = compiled.rowWeights
        newestWeight = compiled.newestWeight
        errorCount = compiled.errorCount
        errorIndices = compiled.errorIndices
        errorWeights = compiled.errorWeights
        b = compiled.b
        interpolant = compiled.interpolant
        interpolantDegree = compiled.interpolantDegree
        allStages = compiled.allStages
        weights = .allocate(capacity: s + compiled.denseStageCount + 1)
        weights.initialize(repeating: 0, count: s + compiled.denseStageCount + 1)
        denseStageCount = compiled.denseStageCount
        hasSecondError = compiled.secondErrorCount > 0
        stages = .allocate(capacity: s + denseStageCount)
        stages.initialize(repeating: filler, count: s + denseStageCount)
        if tableau.isImplicit, let n = filler.componentCount {
            implicit = ImplicitStages(compiled: compiled, settings: settings, dimension: n)
        } else {
            implicit = nil
        }
        stiffnessIndices = .allocate(capacity: s + 2)
        stiffnessWeights = .allocate(capacity: s + 2)
        stiffnessIndices.initialize(repeating: 0, count: s + 2)
        stiffnessWeights.initialize(repeating: 0, count: s + 2)
        if let pair = compiled.stiffnessPair {
            // Terms 0…1: kⱼ − kᵢ; terms 2…: the input difference's nonzero weights.
            stiffnessIndices[0] = pair.first
            stiffnessWeights[0] = -1
            stiffnessIndices[1] = pair.second
            stiffnessWeights[1] = 1
            var count = 2
            for k in 0..<s where pair.difference[k] != 0 {
                stiffnessIndices[count] = k
                stiffnessWeights[count] = pair.difference[k]
                count += 1
            }
            stiffnessTermCount = count - 2
        } else {
            stiffnessTermCount = -1
        }
    }

    /// The number of input-difference terms of the stiffness estimate (−1 without a stage pair).
    @usableFromInline package let stiffnessTermCount: Int

    deinit {
        weights.deallocate()
        stages.deinitialize(count: stageCount + denseStageCount)
        stages.deallocate()
        stiffnessIndices.deallocate()
        stiffnessWeights.deallocate()
    }

    /// Hairer's stiffness estimate for explicit methods after a step of size h: |hλ| ≈ |h| ‖kⱼ − kᵢ‖ /
    /// ‖Yⱼ − Yᵢ‖ for two stages i, j at the same node (a power-iteration estimate of the dominant
    /// eigenvalue of ∂f/∂y), as a fraction of the method's stability boundary; nil when the method
    /// has no such pair or the inputs coincide.
    @inlinable
    package func stiffnessRatio(_ h: Scalar, _ y0: State, _ y1: State) -> Scalar? {
        guard stiffnessTermCount >= 0 else { return nil }
        let slopes = StageTerms(count: 2, indices: stiffnessIndices, weights: stiffnessWeights, stages: stages)
        let inputs = StageTerms(
            count: stiffnessTermCount, indices: stiffnessIndices + 2, weights: stiffnessWeights + 2, stages: stages)
        let slopeDifference = State.squaredErrorNorm(1, slopes, y0, y1, rtol: 0, atol: 1)
        let inputDifference = State.squaredErrorNorm(h, inputs, y0, y1, rtol: 0, atol: 1)
        guard inputDifference > 0, slopeDifference.isFinite else { return nil }
        return Swift.abs(h) * (slopeDifference / inputDifference).squareRoot() / compiled.stabilityBoundary
    }

    /// The older-stage terms of row `i` (see ``rowStart``).
    @inlinable @inline(__always)
    package func olderTerms(_ i: Int) -> StageTerms<State> {
        let start = rowStart[i]
        return StageTerms(
            count: rowStart[i + 1] - start, indices: rowIndices + start, weights: rowWeights + start, stages: stages)
    }

    /// One step of size `h` from (`t`, `y`), given the first stage `k0 = f(t, y)`.
    ///
    /// Evaluates the field s − 1 times. Returns the new state and the last stage; for an FSAL method
    /// the last stage is f(t + h, y₁), the next step's first stage. The stages stay in ``stages`` for
    /// the error estimate and dense output.
    ///
    /// Implicit and Rosenbrock methods solve their stages on the state's components instead (see
    /// ``ImplicitStages``); when that fails, ``stepFailed`` is true and the state is returned unchanged.
    @inlinable
    package func step<F: VectorField>(_ field: F, _ t: Scalar, _ y: State, _ h: Scalar, _ k0: State) -> (y1: State, last: State)
    where F.State == State {
        if let implicit {
            startSlope = k0
            if implicit.compiled.kind == .rosenbrock {
                return implicit.stepRosenbrock(field, t, y, h, k0, stages: stages, estimateError: estimatesError)
            }
            return implicit.stepDiagonallyImplicit(field, t, y, h, k0, stages: stages, estimateError: estimatesError)
        }
        let s = stageCount
        stages[0] = k0
        var last = k0
        var stageInput = y
        var i = 1
        while i < s {
            // yᵢ = y + h (Σ older aᵢⱼ kⱼ + aᵢ,ᵢ₋₁ kᵢ₋₁), the newest stage passed in a register.
            stageInput = State.combine(y, h, olderTerms(i), newestWeight[i], last)
            last = field(t + c[i] * h, stageInput)
            stages[i] = last
            i += 1
        }
        // FSAL: the last stage was evaluated at y₁ = y + h Σ bⱼ kⱼ itself.
        if isFSAL { return (stageInput, last) }
        return (State.combine(y, h, olderTerms(s), newestWeight[s], last), last)
    }

    /// Whether the last step's implicit stage equations could not be solved.
    @inlinable package var stepFailed: Bool { implicit?.failed ?? false }

    /// The squared scaled norm of the last step's error estimate h Σ (bᵢ − b̂ᵢ) kᵢ.
    @inlinable
    package func squaredErrorNorm(_ h: Scalar, _ y0: State, _ y1: State, rtol: Scalar, atol: Scalar) -> Scalar {
        if let implicit { return implicit.squaredError }
        let terms = StageTerms(count: errorCount, indices: errorIndices, weights: errorWeights, stages: stages)
        let first = State.squaredErrorNorm(h, terms, y0, y1, rtol: rtol, atol: atol)
        if hasSecondError { return combinedSquaredErrorNorm(first, h, y0, y1, rtol: rtol, atol: atol) }
        return first
    }

    /// The dense output y(t + θh) within the last step from `y0`, 0 ≤ θ ≤ 1.
    ///
    /// With the tableau's interpolant: y₀ + h Σᵢ bᵢ(θ) kᵢ. Without: the cubic Hermite interpolant
    /// through y₀, y₁ with slopes k₀ and `endSlope` = f(t + h, y₁) (third order).
    @inlinable
    package func interpolate(_ y0: State, _ h: Scalar, _ theta: Scalar, endSlope: State) -> State {
        let s = stageCount
        if let p = interpolant {
            let degree = interpolantDegree
            let n = s + denseStageCount  // the dense-output stages must be current (see interpolate(_:_:…))
            for i in 0..<n {
                var w: Scalar = 0
                var power = theta
                for q in 0..<degree {
                    w += p[i * degree + q] * power
                    power *= theta
                }
                weights[i] = w
            }
            let terms = StageTerms(count: n - 1, indices: allStages, weights: weights, stages: stages)
            return State.combine(y0, h, terms, weights[n - 1], stages[n - 1])
        }
        // Hermite basis: y(θ) = y₀ + h01(θ)(y₁ − y₀) + h·h10(θ) k₀ + h·h11(θ) f₁, with y₁ − y₀ = h Σ bᵢ kᵢ.
        let theta2 = theta * theta
        let theta3 = theta2 * theta
        let h01 = 3 * theta2 - 2 * theta3
        let h10 = theta - 2 * theta2 + theta3
        let h11 = theta3 - theta2
        for i in 0..<s { weights[i] = h01 * b[i] }
        if let startSlope {
            // An implicit method's first stage need not be f(t, y).
            let terms = StageTerms(count: s, indices: allStages, weights: weights, stages: stages)
            return State.combine(y0, h, terms, h11, endSlope).adding(h * h10, times: startSlope)
        }
        weights[0] += h10
        let terms = StageTerms(count: s, indices: allStages, weights: weights, stages: stages)
        return State.combine(y0, h, terms, h11, endSlope)
    }
}
