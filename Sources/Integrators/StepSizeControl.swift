import RNNODETensors

/// How a solve chooses its steps: a fixed Δt, or adaptively from an embedded error estimate.
///
/// ```swift
/// step: .fixed(0.1)                                  // the Euler-RNN grid of Su's example
/// step: .adaptive(rtol: 1e-8, atol: 1e-8)            // error-controlled, PI controller
/// ```
public struct StepSizeControl<Scalar: TensorScalar>: Sendable, Equatable {
    /// The two strategies.
    public enum Mode: Sendable, Equatable {
        /// Steps of exactly Δt on the grid t₀ + nΔt, refined to hit requested output times and the end.
        case fixed(Scalar)
        /// Error-controlled steps.
        case adaptive(AdaptiveStepping<Scalar>)
    }

    public let mode: Mode

    /// Stepping by `mode`.
    public init(mode: Mode) { self.mode = mode }

    /// Whether the steps are error-controlled.
    @inlinable public var isAdaptive: Bool {
        if case .adaptive = mode { return true }
        return false
    }

    /// Fixed steps of size `dt`; its sign must match the direction of integration.
    ///
    /// The grid is t₀ + nΔt (computed by multiplication, so it does not drift). Requested output
    /// times that fall between grid points are stepped onto exactly — the grid is refined by
    /// splitting that step in two — and the last step is shortened to end exactly at t₁. An output
    /// time within 64 ulps (at most Δt/8) of a grid point replaces that grid point.
    ///
    /// |Δt| must be at least 16 ulps of the largest time of the span in magnitude (16 · ε · |t|):
    /// a smaller step cannot be told apart from its neighbours, and a solve rejects it before any
    /// step with ``SolveError/stepBelowTimeResolution(stepSize:time:)``. This also bounds the number
    /// of steps, |t₁ − t₀| / |Δt|, by 1/(8ε): about 5.6 · 10¹⁴ for `Double`, 10⁶ for `Float`.
    public static func fixed(_ dt: Scalar) -> StepSizeControl { StepSizeControl(mode: .fixed(dt)) }

    /// Adaptive steps keeping the estimated local error within `atol + rtol · |y|` (RMS over the
    /// components).
    ///
    /// A solve checks the settings before stepping: the tolerances must be finite and ≥ 0, and the
    /// larger of them at least the square root of the smallest normal number (about 1.5e-154 for
    /// `Double`, 1.1e-19 for `Float`; below it the squared error norm overflows), else
    /// ``SolveError/invalidTolerance(rtol:atol:)``; the controller must pass
    /// ``PIController/validate()``. An automatic initial step that still comes out NaN (tolerances
    /// far too small for the state's magnitude) is ``SolveError/nonFiniteTime(_:)``.
    ///
    /// - Parameters:
    ///   - rtol: relative tolerance.
    ///   - atol: absolute tolerance.
    ///   - initialStep: the first step's size (its magnitude); by default chosen automatically from
    ///     the field's derivatives at the start (Hairer–Nørsett–Wanner's algorithm).
    ///   - minStep: the smallest step allowed; a step of this size that still fails the tolerance ends
    ///     the solve with ``SolveStatus/stepSizeUnderflow(time:stepSize:)``.
    ///   - maxStep: the largest step allowed.
    ///   - controller: the step-size controller.
    public static func adaptive(
        rtol: Scalar = 1e-6, atol: Scalar = 1e-9, initialStep: Scalar? = nil, minStep: Scalar = 0,
        maxStep: Scalar = .infinity, controller: PIController = PIController()
    ) -> StepSizeControl {
        StepSizeControl(
            mode: .adaptive(
                AdaptiveStepping(
                    rtol: rtol, atol: atol, initialStep: initialStep, minStep: minStep, maxStep: maxStep,
                    controller: controller)))
    }
}

/// The settings of adaptive stepping (see ``StepSizeControl/adaptive(rtol:atol:initialStep:minStep:maxStep:controller:)``).
public struct AdaptiveStepping<Scalar: TensorScalar>: Sendable, Equatable {
    public var rtol: Scalar
    public var atol: Scalar
    public var initialStep: Scalar?
    public var minStep: Scalar
    public var maxStep: Scalar
    public var controller: PIController
}

/// A proportional–integral step-size controller (Gustafsson; Hairer–Wanner II, IV.2).
///
/// After a step with scaled error `errₙ` (≤ 1 meets the tolerance), the next step is
///
///     hₙ₊₁ = hₙ · clamp(safety · errₙ^(−(kI + kP)/k) · errₙ₋₁^(kP/k), minFactor, maxFactor)
///
/// where k = min(order, embedded order) + 1 is the order of the error estimate. With kP = 0 this is
/// the classic integral (“I”) controller `safety · err^(−1/k)`; the proportional term damps
/// oscillating step sizes. After a rejected step the factor is at most 1. The defaults (kI = 0.65,
/// kP = 0.2, safety 0.9) are those of Hairer's DOPRI5 code.
public struct PIController: Sendable, Equatable {
    public var integralGain: Double
    public var proportionalGain: Double
    public var safety: Double
    public var minFactor: Double
    public var maxFactor: Double

    public init(
        integralGain: Double = 0.65, proportionalGain: Double = 0.2, safety: Double = 0.9,
        minFactor: Double = 0.2, maxFactor: Double = 10
    ) {
        self.integralGain = integralGain
        self.proportionalGain = proportionalGain
        self.safety = safety
        self.minFactor = minFactor
        self.maxFactor = maxFactor
    }

    /// Checks the settings: finite gains with kI > 0 and kP ≥ 0, a safety factor in (0, 1], and
    /// 0 < minFactor ≤ 1 ≤ maxFactor < ∞.
    ///
    /// - Throws: ``SolveError/invalidController(_:)`` naming the first bad setting.
    @inlinable
    public func validate() throws(SolveError) {
        guard integralGain.isFinite, integralGain > 0 else {
            throw .invalidController("integralGain must be finite and > 0, got \(integralGain)")
        }
        guard proportionalGain.isFinite, proportionalGain >= 0 else {
            throw .invalidController("proportionalGain must be finite and ≥ 0, got \(proportionalGain)")
        }
        guard safety > 0, safety <= 1 else {
            throw .invalidController("safety must be in (0, 1], got \(safety)")
        }
        guard minFactor > 0, minFactor <= 1 else {
            throw .invalidController("minFactor must be in (0, 1], got \(minFactor)")
        }
        guard maxFactor >= 1, maxFactor.isFinite else {
            throw .invalidController("maxFactor must be finite and ≥ 1, got \(maxFactor)")
        }
    }

    /// The factor by which to multiply the step after an error `error` (the previous accepted step's
    /// error was `previousError`); `errorOrder` is k.
    @inlinable
    public func factor<T: TensorScalar>(error: T, previousError: T, errorOrder: Int, accepted: Bool) -> T {
        if error == 0 { return accepted ? T(maxFactor) : 1 }
        return factor(logError: T.log(error), logPreviousError: T.log(previousError), errorOrder: errorOrder, accepted: accepted)
    }

    /// ``factor(error:previousError:errorOrder:accepted:)`` from the logarithms of the errors: one `exp`
    /// instead of two `pow`s, with log(errₙ₋₁) carried over from the previous step by the solve loop.
    @inlinable
    package func factor<T: TensorScalar>(logError: T, logPreviousError: T, errorOrder: Int, accepted: Bool) -> T {
        let k = T(errorOrder)
        let exponent = -T(integralGain + proportionalGain) / k * logError + T(proportionalGain) / k * logPreviousError
        let factor = Swift.min(T(maxFactor), Swift.max(T(minFactor), T(safety) * T.exp(exponent)))
        return accepted ? factor : Swift.min(factor, 1)
    }
}

extension AdaptiveStepping {
    /// Hairer–Nørsett–Wanner's starting step (Solving ODEs I, II.4): one Euler probe estimates the
    /// second derivative and the step is chosen so that the first step's error is about the
    /// tolerance. Returns its magnitude.
    @inlinable
    package func automaticInitialStep<F: VectorField>(
        _ field: F, t0: Scalar, y0: F.State, f0: F.State, direction: Scalar, order: Int,
        evaluations: inout Int
    ) -> Scalar where F.State.Scalar == Scalar {
        typealias S = F.State
        let d0 = S.scaledNorm(y0, y0, y0, rtol: rtol, atol: atol)
        let d1 = S.scaledNorm(f0, y0, y0, rtol: rtol, atol: atol)
        let h0: Scalar = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : Scalar(0.01) * d0 / d1
        let y1 = y0.adding(direction * h0, times: f0)
        let f1 = field(t0 + direction * h0, y1)
        evaluations += 1
        let d2 = S.scaledNorm(f1.adding(-1, times: f0), y0, y0, rtol: rtol, atol: atol) / h0
        let h1: Scalar
        if Swift.max(d1, d2) <= 1e-15 || !d2.isFinite {
            h1 = Swift.max(1e-6, h0 * 1e-3)
        } else {
            h1 = Scalar.pow(Scalar(0.01) / Swift.max(d1, d2), 1 / Scalar(order + 1))
        }
        return Swift.min(100 * h0, h1)
    }
}
