/// The one explicit Runge–Kutta stepper: any ``ButcherTableau`` on any ``ODEState``.
///
/// It serves every solve in the library — fixed-step and adaptive ODE trajectories, and RNN cells
/// run one input step at a time. For fixed-size states (`SIMD2<Double>`, …) a step allocates nothing:
/// the tableau is converted once into this workspace, stages live in a preallocated buffer, and the
/// newest stage is carried in a local so that the dependency chain from one stage to the next stays
/// in registers. For ``Tensor`` states each stage combination is one fused, recorded operation, so
/// gradients flow through every step.
@usableFromInline
final class RungeKuttaStepper<State: ODEState> {
    @usableFromInline typealias Scalar = State.Scalar

    @usableFromInline let stageCount: Int
    @usableFromInline let isFSAL: Bool
    /// aᵢⱼ, row-major s×s.
    @usableFromInline let a: UnsafeMutablePointer<Scalar>
    @usableFromInline let b: UnsafeMutablePointer<Scalar>
    @usableFromInline let c: UnsafeMutablePointer<Scalar>
    /// bᵢ − b̂ᵢ, or nil without an embedded method.
    @usableFromInline let errorWeights: UnsafeMutablePointer<Scalar>?
    /// Dense-output coefficients Pᵢₚ, row-major s×degree, or nil (then cubic Hermite is used).
    @usableFromInline let interpolant: UnsafeMutablePointer<Scalar>?
    @usableFromInline let interpolantDegree: Int
    /// Room for one set of s + 1 combination weights.
    @usableFromInline let weights: UnsafeMutablePointer<Scalar>
    /// The stages k₀…kₛ₋₁ of the most recent step.
    @usableFromInline let stages: UnsafeMutablePointer<State>

    /// A workspace for `tableau`; `filler` initializes the stage storage (any state of the right type).
    @usableFromInline
    init(_ tableau: ButcherTableau, filler: State) {
        let s = tableau.stages
        stageCount = s
        isFSAL = tableau.isFSAL
        a = .allocate(capacity: s * s)
        for i in 0..<s { for j in 0..<s { a[i * s + j] = Scalar(tableau.a[i][j]) } }
        b = .allocate(capacity: s)
        c = .allocate(capacity: s)
        for i in 0..<s {
            b[i] = Scalar(tableau.b[i])
            c[i] = Scalar(tableau.c[i])
        }
        if let e = tableau.errorWeights {
            let pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: s)
            for i in 0..<s { pointer[i] = Scalar(e[i]) }
            errorWeights = pointer
        } else {
            errorWeights = nil
        }
        if let p = tableau.interpolant {
            let degree = p[0].count
            let pointer = UnsafeMutablePointer<Scalar>.allocate(capacity: s * degree)
            for i in 0..<s { for q in 0..<degree { pointer[i * degree + q] = Scalar(p[i][q]) } }
            interpolant = pointer
            interpolantDegree = degree
        } else {
            interpolant = nil
            interpolantDegree = 0
        }
        weights = .allocate(capacity: s + 1)
        weights.initialize(repeating: 0, count: s + 1)
        stages = .allocate(capacity: s)
        stages.initialize(repeating: filler, count: s)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
        errorWeights?.deallocate()
        interpolant?.deallocate()
        weights.deallocate()
        stages.deinitialize(count: stageCount)
        stages.deallocate()
    }

    /// One step of size `h` from (`t`, `y`), given the first stage `k0 = f(t, y)`.
    ///
    /// Evaluates the field s − 1 times. Returns the new state and the last stage; for an FSAL method
    /// the last stage is f(t + h, y₁), the next step's first stage. The stages stay in ``stages`` for
    /// the error estimate and dense output.
    @inlinable
    func step<F: VectorField>(_ field: F, _ t: Scalar, _ y: State, _ h: Scalar, _ k0: State) -> (y1: State, last: State)
    where F.State == State {
        let s = stageCount
        stages[0] = k0
        var last = k0
        var stageInput = y
        var i = 1
        while i < s {
            // yᵢ = y + h (Σ_{j<i−1} aᵢⱼ kⱼ + aᵢ,ᵢ₋₁ kᵢ₋₁), the newest stage passed in a register.
            stageInput = State.combine(
                y, h, UnsafeBufferPointer(start: a + i * s, count: i - 1), stages, a[i * s + i - 1], last)
            last = field(t + c[i] * h, stageInput)
            stages[i] = last
            i += 1
        }
        // FSAL: the last stage was evaluated at y₁ = y + h Σ bⱼ kⱼ itself.
        if isFSAL { return (stageInput, last) }
        let y1 = State.combine(y, h, UnsafeBufferPointer(start: b, count: s - 1), stages, b[s - 1], last)
        return (y1, last)
    }

    /// The scaled norm of the last step's error estimate h Σ (bᵢ − b̂ᵢ) kᵢ.
    @inlinable
    func errorNorm(_ h: Scalar, _ y0: State, _ y1: State, rtol: Scalar, atol: Scalar) -> Scalar {
        State.errorNorm(
            h, UnsafeBufferPointer(start: errorWeights!, count: stageCount), stages, y0, y1, rtol: rtol, atol: atol)
    }

    /// The dense output y(t + θh) within the last step from `y0`, 0 ≤ θ ≤ 1.
    ///
    /// With the tableau's interpolant: y₀ + h Σᵢ bᵢ(θ) kᵢ. Without: the cubic Hermite interpolant
    /// through y₀, y₁ with slopes k₀ and `endSlope` = f(t + h, y₁) (third order).
    @inlinable
    func interpolate(_ y0: State, _ h: Scalar, _ theta: Scalar, endSlope: State) -> State {
        let s = stageCount
        if let p = interpolant {
            let degree = interpolantDegree
            for i in 0..<s {
                var w: Scalar = 0
                var power = theta
                for q in 0..<degree {
                    w += p[i * degree + q] * power
                    power *= theta
                }
                weights[i] = w
            }
            return State.combine(y0, h, UnsafeBufferPointer(start: weights, count: s - 1), stages, weights[s - 1], stages[s - 1])
        }
        // Hermite basis: y(θ) = y₀ + h01(θ)(y₁ − y₀) + h·h10(θ) k₀ + h·h11(θ) f₁, with y₁ − y₀ = h Σ bᵢ kᵢ.
        let theta2 = theta * theta
        let theta3 = theta2 * theta
        let h01 = 3 * theta2 - 2 * theta3
        let h10 = theta - 2 * theta2 + theta3
        let h11 = theta3 - theta2
        for i in 0..<s { weights[i] = h01 * b[i] }
        weights[0] += h10
        return State.combine(y0, h, UnsafeBufferPointer(start: weights, count: s), stages, h11, endSlope)
    }
}
