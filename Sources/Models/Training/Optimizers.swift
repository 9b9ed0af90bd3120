// Gradient-descent optimizers with torch.optim's semantics: SGD (with momentum, Nesterov and weight
// decay), Adam and RMSprop. Updates run directly on the scalars — no tape records, no temporary
// tensors — and the updated parameters are constants.

import RNNODETensors

/// An update rule that moves parameters against their gradients.
///
/// An optimizer keeps per-parameter state (moments, a velocity, a step count). The state is created
/// on the first ``update(_:gradients:)`` with the parameters' shapes; every later update must pass
/// the same number of parameters with the same shapes, in the same order, until ``reset()``.
///
/// ```swift
/// // Fit y ≈ x·w + b by least squares.
/// var parameters = [Tensor<Double>.zeros([3, 1]), Tensor<Double>.zeros([1])]
/// var optimizer = Adam<Double>(learningRate: 1e-2)
/// for _ in 0..<1000 {
///     let gradients = gradient(at: parameters) { p in squaredError(matmul(x, p[0]) + p[1], y) }
///     optimizer.update(&parameters, gradients: gradients)
/// }
/// ```
public protocol Optimizer {
    /// The scalar type of the parameters.
    associatedtype Scalar: TensorScalar
    /// Applies one update to `parameters` given their `gradients` (same count, same shapes, in order).
    ///
    /// The updated parameters are constants (not recorded on any tape).
    mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>])
    /// Forgets the state (moments, velocities, step count): the next update starts afresh and may
    /// use different parameters.
    mutating func reset()
}

// MARK: - SGD

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// exactly as `torch.optim.SGD` (with `dampening = 0`, `maximize = false`).
///
/// With learning rate η, momentum μ and weight decay λ, one update of a parameter p with gradient g is
///
///     g ← g + λ p                        (only if λ ≠ 0)
///     b ← μ b + g                        (only if μ ≠ 0; b starts at 0, so b = g on the first update)
///     d ← g + μ b  if nesterov,  b  if not,  g  if μ = 0
///     p ← p − η d
///
/// Defaults: `momentum = 0`, `nesterov = false`, `weightDecay = 0` (PyTorch's). The learning rate has
/// no default. Hyperparameters may be changed between updates (a learning-rate schedule, say); the
/// velocity b is kept.
///
/// ```swift
/// var optimizer = SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true)
/// optimizer.update(&parameters, gradients: gradients)
/// ```
///
/// The update does not look at its inputs: a NaN gradient makes NaN parameters. Check gradients
/// first — ``GradientClipping/apply(to:)`` returns their norm, non-finite if any entry is.
public struct SGD<Scalar: TensorScalar>: Optimizer, Sendable {
    /// The step size η (≥ 0).
    public var learningRate: Scalar
    /// The momentum factor μ (≥ 0); 0 disables momentum.
    public var momentum: Scalar
    /// Whether to use Nesterov momentum (needs μ > 0).
    public var nesterov: Bool
    /// The L2 penalty λ (≥ 0), added to the gradient as λp.
    public var weightDecay: Scalar

    /// The parameters' shapes, recorded on the first update.
    @usableFromInline package var shapes: [[Int]]?
    /// The momentum buffers b, one per parameter, created on the first update with μ ≠ 0.
    @usableFromInline package var velocities: [[Scalar]]?

    /// SGD with learning rate η and optional momentum μ, Nesterov momentum and weight decay λ.
    ///
    /// - Precondition: η, μ, λ ≥ 0 (not NaN); `nesterov` needs μ > 0.
    @inlinable
    public init(learningRate: Scalar, momentum: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        validate()
    }

    @inlinable
    package func validate() {
        require(learningRate >= 0, "SGD: learningRate must be ≥ 0, got \(learningRate)")
        require(momentum >= 0, "SGD: momentum must be ≥ 0, got \(momentum)")
        require(weightDecay >= 0, "SGD: weightDecay must be ≥ 0, got \(weightDecay)")
        require(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0, got \(momentum)")
    }

    /// Applies p ← p − η d to every parameter (see the type's documentation for d).
    ///
    /// - Precondition: as many gradients as parameters, each of its parameter's shape; after the first
    ///   update, the same number and shapes of parameters as then (``reset()`` to change them).
    @inlinable
    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        validate()
        checkOptimizerUpdate("SGD", parameters: parameters, gradients: gradients, state: &shapes)
        let (lr, mu, wd, useNesterov) = (learningRate, momentum, weightDecay, nesterov)
        if mu != 0 && velocities == nil {
            velocities = zeroBuffers(like: parameters)
        }
        for i in parameters.indices {
            parameters[i].node = nil
            let n = parameters[i].storage.count
            gradients[i].storage.withUnsafeBufferPointer { g in
                parameters[i].storage.withUnsafeMutableBufferPointer { p in
                    if mu == 0 {
                        for j in 0..<n {
                            let gj = wd != 0 ? g[j] + wd * p[j] : g[j]
                            p[j] -= lr * gj
                        }
                        return
                    }
                    velocities![i].withUnsafeMutableBufferPointer { b in
                        for j in 0..<n {
                            let gj = wd != 0 ? g[j] + wd * p[j] : g[j]
                            b[j] = mu * b[j] + gj
                            p[j] -= lr * (useNesterov ? gj + mu * b[j] : b[j])
                        }
                    }
                }
            }
        }
    }

    /// Forgets the parameters' shapes and the momentum buffers.
    @inlinable
    public mutating func reset() {
        shapes = nil
        velocities = nil
    }
}

// MARK: - Adam

/// Adam (Kingma & Ba, 2015) with bias correction and optional L2 weight decay, exactly as
/// `torch.optim.Adam` (`amsgrad = false`, `maximize = false`, `decoupled_weight_decay = false`).
///
/// With learning rate η, decay rates β₁, β₂, ε and weight decay λ, update t = 1, 2, … of a parameter
/// p with gradient g is
///
///     g ← g + λ p                        (only if λ ≠ 0: L2 added to the gradient, not AdamW)
///     m ← β₁ m + (1 − β₁) g              (m, v start at 0)
///     v ← β₂ v + (1 − β₂) g²
///     p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// ε is added *after* the bias-corrected square root, as PyTorch does. The bias corrections and the
/// step size η/(1 − β₁ᵗ) are computed in `Double` once per update; the per-entry arithmetic is in
/// `Scalar`. Defaults are PyTorch's: η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 0.
///
/// ```swift
/// var optimizer = Adam<Float>(learningRate: 3e-3)
/// optimizer.update(&parameters, gradients: gradients)
/// print(optimizer.step)   // 1
/// ```
///
/// The update does not look at its inputs: a NaN gradient makes NaN parameters and moments. Check
/// gradients first — ``GradientClipping/apply(to:)`` returns their norm, non-finite if any entry is.
public struct Adam<Scalar: TensorScalar>: Optimizer, Sendable {
    /// The step size η (≥ 0).
    public var learningRate: Scalar
    /// The decay rate β₁ of the first moment, in [0, 1).
    public var beta1: Scalar
    /// The decay rate β₂ of the second moment, in [0, 1).
    public var beta2: Scalar
    /// The term ε (≥ 0) added to the denominator for numerical stability.
    public var epsilon: Scalar
    /// The L2 penalty λ (≥ 0), added to the gradient as λp.
    public var weightDecay: Scalar

    @usableFromInline package var shapes: [[Int]]?
    @usableFromInline package var firstMoments: [[Scalar]] = []
    @usableFromInline package var secondMoments: [[Scalar]] = []
    @usableFromInline package var stepCount = 0

    /// The number of updates since creation or the last ``reset()`` (t in the formulas).
    @inlinable
    public var step: Int { stepCount }

    /// Adam with PyTorch's defaults unless given.
    ///
    /// - Precondition: η, ε, λ ≥ 0 and 0 ≤ β₁, β₂ < 1 (not NaN).
    @inlinable
    public init(
        learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
        weightDecay: Scalar = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        validate()
    }

    @inlinable
    package func validate() {
        require(learningRate >= 0, "Adam: learningRate must be ≥ 0, got \(learningRate)")
        require(beta1 >= 0 && beta1 < 1, "Adam: beta1 must be in [0, 1), got \(beta1)")
        require(beta2 >= 0 && beta2 < 1, "Adam: beta2 must be in [0, 1), got \(beta2)")
        require(epsilon >= 0, "Adam: epsilon must be ≥ 0, got \(epsilon)")
        require(weightDecay >= 0, "Adam: weightDecay must be ≥ 0, got \(weightDecay)")
    }

    /// Applies one Adam update to every parameter (see the type's documentation).
    ///
    /// - Precondition: as many gradients as parameters, each of its parameter's shape; after the first
    ///   update, the same number and shapes of parameters as then (``reset()`` to change them).
    @inlinable
    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        validate()
        if checkOptimizerUpdate("Adam", parameters: parameters, gradients: gradients, state: &shapes) {
            firstMoments = zeroBuffers(like: parameters)
            secondMoments = firstMoments
        }
        stepCount += 1
        let t = Double(stepCount)
        let biasCorrection1 = 1 - Double.pow(Double(beta1), t)
        let biasCorrection2 = 1 - Double.pow(Double(beta2), t)
        let stepSize = Scalar(Double(learningRate) / biasCorrection1)
        let correction2Root = Scalar(biasCorrection2.squareRoot())
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let (c1, c2) = (1 - b1, 1 - b2)
        // Move the moments out of `self` so that the buffers can be borrowed together without copies.
        var allM = firstMoments
        var allV = secondMoments
        firstMoments = []
        secondMoments = []
        defer {
            firstMoments = allM
            secondMoments = allV
        }
        for i in parameters.indices {
            parameters[i].node = nil
            let n = parameters[i].storage.count
            gradients[i].storage.withUnsafeBufferPointer { g in
                parameters[i].storage.withUnsafeMutableBufferPointer { p in
                    allM[i].withUnsafeMutableBufferPointer { m in
                        allV[i].withUnsafeMutableBufferPointer { v in
                            for j in 0..<n {
                                let gj = wd != 0 ? g[j] + wd * p[j] : g[j]
                                m[j] = b1 * m[j] + c1 * gj
                                v[j] = b2 * v[j] + c2 * gj * gj
                                p[j] -= stepSize * m[j] / (v[j].squareRoot() / correction2Root + eps)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Forgets the moments, the parameters' shapes and the step count.
    @inlinable
    public mutating func reset() {
        shapes = nil
        firstMoments = []
        secondMoments = []
        stepCount = 0
    }
}

// MARK: - RMSprop

/// RMSprop (Hinton's lecture notes; Graves 2013 for the centered form) exactly as
/// `torch.optim.RMSprop` (`maximize = false`).
///
/// With learning rate η, smoothing constant α, ε, momentum μ and weight decay λ, one update of a
/// parameter p with gradient g is
///
///     g ← g + λ p                        (only if λ ≠ 0)
///     v ← α v + (1 − α) g²               (v, ḡ, b start at 0; no bias correction)
///     a ← √v + ε                         if not centered
///     ḡ ← α ḡ + (1 − α) g,  a ← √(v − ḡ²) + ε     if centered
///     b ← μ b + g / a,  p ← p − η b      if μ > 0
///     p ← p − η g / a                    if μ = 0
///
/// ε is added *outside* the square root, as PyTorch does. Where rounding makes v − ḡ² slightly
/// negative (PyTorch would take √ of a negative number and produce NaN) it is taken as 0.
/// Defaults are PyTorch's: η = 1e-2, α = 0.99, ε = 1e-8, μ = 0, not centered, λ = 0.
///
/// ```swift
/// var optimizer = RMSprop<Double>(learningRate: 1e-3, momentum: 0.9, centered: true)
/// optimizer.update(&parameters, gradients: gradients)
/// ```
///
/// The update does not look at its inputs: a NaN gradient makes NaN parameters and averages. Check
/// gradients first — ``GradientClipping/apply(to:)`` returns their norm, non-finite if any entry is.
public struct RMSprop<Scalar: TensorScalar>: Optimizer, Sendable {
    /// The step size η (≥ 0).
    public var learningRate: Scalar
    /// The smoothing constant α of the running averages, in [0, 1].
    public var alpha: Scalar
    /// The term ε (≥ 0) added to the denominator for numerical stability.
    public var epsilon: Scalar
    /// The momentum factor μ (≥ 0); 0 disables momentum.
    public var momentum: Scalar
    /// Whether to normalize by an estimate of the gradient's variance (v − ḡ²) instead of v.
    public var centered: Bool
    /// The L2 penalty λ (≥ 0), added to the gradient as λp.
    public var weightDecay: Scalar

    @usableFromInline package var shapes: [[Int]]?
    @usableFromInline package var squareAverages: [[Scalar]] = []
    /// ḡ, created on the first centered update.
    @usableFromInline package var gradientAverages: [[Scalar]]?
    /// b, created on the first update with μ > 0.
    @usableFromInline package var velocities: [[Scalar]]?
    @usableFromInline package var stepCount = 0

    /// The number of updates since creation or the last ``reset()``.
    @inlinable
    public var step: Int { stepCount }

    /// RMSprop with PyTorch's defaults unless given.
    ///
    /// - Precondition: η, ε, μ, λ ≥ 0 and 0 ≤ α ≤ 1 (not NaN).
    @inlinable
    public init(
        learningRate: Scalar = 1e-2, alpha: Scalar = 0.99, epsilon: Scalar = 1e-8, momentum: Scalar = 0,
        centered: Bool = false, weightDecay: Scalar = 0
    ) {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        self.weightDecay = weightDecay
        validate()
    }

    @inlinable
    package func validate() {
        require(learningRate >= 0, "RMSprop: learningRate must be ≥ 0, got \(learningRate)")
        require(alpha >= 0 && alpha <= 1, "RMSprop: alpha must be in [0, 1], got \(alpha)")
        require(epsilon >= 0, "RMSprop: epsilon must be ≥ 0, got \(epsilon)")
        require(momentum >= 0, "RMSprop: momentum must be ≥ 0, got \(momentum)")
        require(weightDecay >= 0, "RMSprop: weightDecay must be ≥ 0, got \(weightDecay)")
    }

    /// Applies one RMSprop update to every parameter (see the type's documentation).
    ///
    /// - Precondition: as many gradients as parameters, each of its parameter's shape; after the first
    ///   update, the same number and shapes of parameters as then (``reset()`` to change them).
    @inlinable
    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) {
        validate()
        if checkOptimizerUpdate("RMSprop", parameters: parameters, gradients: gradients, state: &shapes) {
            squareAverages = zeroBuffers(like: parameters)
        }
        let (lr, a, c, eps, mu, wd, isCentered) = (learningRate, alpha, 1 - alpha, epsilon, momentum, weightDecay, centered)
        // ḡ and b appear (as zeros) on the first update that uses them.
        if isCentered && gradientAverages == nil { gradientAverages = zeroBuffers(like: parameters) }
        if mu > 0 && velocities == nil { velocities = zeroBuffers(like: parameters) }
        stepCount += 1
        // Move the state out of `self` so that the buffers can be borrowed together without copies.
        var allV = squareAverages
        var allMean = gradientAverages ?? []
        var allB = velocities ?? []
        squareAverages = []
        gradientAverages = nil
        velocities = nil
        defer {
            squareAverages = allV
            gradientAverages = allMean.isEmpty ? nil : allMean
            velocities = allB.isEmpty ? nil : allB
        }
        for i in parameters.indices {
            parameters[i].node = nil
            let n = parameters[i].storage.count
            gradients[i].storage.withUnsafeBufferPointer { g in
                parameters[i].storage.withUnsafeMutableBufferPointer { p in
                    allV[i].withUnsafeMutableBufferPointer { v in
                        // A buffer that does not exist is borrowed empty; it is only used when its feature is on.
                        withOptionalBuffer(&allMean, i) { mean in
                            withOptionalBuffer(&allB, i) { b in
                                for j in 0..<n {
                                    let gj = wd != 0 ? g[j] + wd * p[j] : g[j]
                                    v[j] = a * v[j] + c * gj * gj
                                    let denominator: Scalar
                                    if isCentered {
                                        mean[j] = a * mean[j] + c * gj
                                        denominator = Swift.max(v[j] - mean[j] * mean[j], 0).squareRoot() + eps
                                    } else {
                                        denominator = v[j].squareRoot() + eps
                                    }
                                    if mu > 0 {
                                        b[j] = mu * b[j] + gj / denominator
                                        p[j] -= lr * b[j]
                                    } else {
                                        p[j] -= lr * gj / denominator
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Forgets the averages, the velocities, the parameters' shapes and the step count.
    @inlinable
    public mutating func reset() {
        shapes = nil
        squareAverages = []
        gradientAverages = nil
        velocities = nil
        stepCount = 0
    }
}

// MARK: - Shared checks and helpers

/// Checks an optimizer update's arguments against each other and against the shapes the optimizer's
/// state was created for. Records the shapes (and returns true) on the first update.
@inlinable @discardableResult
package func checkOptimizerUpdate<Scalar>(
    _ optimizer: String, parameters: [Tensor<Scalar>], gradients: [Tensor<Scalar>], state shapes: inout [[Int]]?
) -> Bool {
    require(
        parameters.count == gradients.count,
        "\(optimizer).update: \(parameters.count) parameters but \(gradients.count) gradients")
    for i in parameters.indices {
        require(
            parameters[i].shape == gradients[i].shape,
            "\(optimizer).update: gradient \(i) has shape \(describeShape(gradients[i].shape)) but parameter \(i) has shape \(describeShape(parameters[i].shape))"
        )
    }
    guard let known = shapes else {
        shapes = parameters.map(\.shape)
        return true
    }
    require(
        known.count == parameters.count,
        "\(optimizer).update: the optimizer's state was created for \(known.count) parameters, got \(parameters.count) (reset() to start over)"
    )
    for i in parameters.indices {
        require(
            known[i] == parameters[i].shape,
            "\(optimizer).update: parameter \(i) has shape \(describeShape(parameters[i].shape)) but the optimizer's state was created for shape \(describeShape(known[i])) (reset() to start over)"
        )
    }
    return false
}

/// One buffer of zeros per tensor, of its scalar count.
@inlinable
package func zeroBuffers<Scalar>(like tensors: [Tensor<Scalar>]) -> [[Scalar]] {
    tensors.map { [Scalar](repeating: 0, count: $0.scalarCount) }
}

/// Borrows `buffers[i]` mutably, or an empty buffer when `buffers` is empty (a feature that is off).
@inlinable @inline(__always)
package func withOptionalBuffer<Scalar, R>(
    _ buffers: inout [[Scalar]], _ i: Int, _ body: (UnsafeMutableBufferPointer<Scalar>) -> R
) -> R {
    if buffers.isEmpty { return body(UnsafeMutableBufferPointer(start: nil, count: 0)) }
    return buffers[i].withUnsafeMutableBufferPointer { body($0) }
}
