// Differentiable losses, built from tensor operations so that their gradients come from the tape.
// Each takes a reduction: the mean (the default, except for the masked loss) or the sum.

import RNNODETensors

/// How a loss combines its per-entry (or per-example) terms into one scalar.
public enum LossReduction: Sendable, Hashable {
    /// The average of the terms (over the entries, or over the examples for cross-entropy).
    case mean
    /// The sum of the terms.
    case sum
}

// MARK: - Regression losses

/// The squared error between a prediction and a target: Σ (p − t)² with `.sum` (SSE), that divided by
/// the number of entries with `.mean` (MSE, the default). The mean of no entries is 0.
///
/// Differentiable in both arguments: ∂/∂p = 2(p − t) (divided by the count for `.mean`), ∂/∂t = −∂/∂p.
///
/// ```swift
/// let loss = squaredError(prediction, target)          // MSE
/// let sse = squaredError(prediction, target, reduction: .sum)
/// ```
///
/// - Precondition: `prediction` and `target` have the same shape (no broadcasting).
@inlinable
public func squaredError<T>(_ prediction: Tensor<T>, _ target: Tensor<T>, reduction: LossReduction = .mean) -> Tensor<T> {
    require(
        prediction.shape == target.shape,
        "squaredError: prediction shape \(describeShape(prediction.shape)) differs from target shape \(describeShape(target.shape))"
    )
    return reduceLoss(square(prediction - target), reduction)
}

/// The absolute error between a prediction and a target: Σ |p − t| with `.sum`, that divided by the
/// number of entries with `.mean` (MAE, the default). The mean of no entries is 0.
///
/// Differentiable in both arguments: ∂/∂p = sign(p − t), taken as 0 where p = t (divided by the
/// count for `.mean`); ∂/∂t = −∂/∂p.
///
/// - Precondition: `prediction` and `target` have the same shape (no broadcasting).
@inlinable
public func absoluteError<T>(_ prediction: Tensor<T>, _ target: Tensor<T>, reduction: LossReduction = .mean) -> Tensor<T> {
    require(
        prediction.shape == target.shape,
        "absoluteError: prediction shape \(describeShape(prediction.shape)) differs from target shape \(describeShape(target.shape))"
    )
    return reduceLoss(abs(prediction - target), reduction)
}

/// The squared error over the observed entries only: Σ mask · (p − t)² with `.sum` (the default),
/// that divided by Σ mask with `.mean`.
///
/// This is the loss of fitting an ODE to a sparsely observed trajectory (Su Jianlin's `ode_loss`): the
/// model predicts every time point, the data has values at some of them, and the mask is 1 where a
/// value was observed and 0 where it is missing. Other non-negative mask values weight the entries
/// (then `.mean` is the weighted mean).
///
/// Missing entries need not hold numbers: where the mask is 0, `target` (and `prediction`) may be
/// NaN or infinite — such entries are replaced by 0 before anything is multiplied, so the loss and
/// both gradients stay finite there and the gradients are exactly 0 at masked entries. (A NaN at an
/// *observed* entry still makes the loss NaN.)
///
/// With `.mean` and no observed entry (Σ mask = 0), the loss is 0 with zero gradients, not 0/0.
///
/// The mask is a constant: no gradient flows to it. It may have fewer axes than the prediction and
/// broadcasts to its shape (a mask of shape `[T, 1]` marks whole time points of a `[T, D]` trajectory).
///
/// ```swift
/// // Observations at t = 0 and t = 2 only; NaN marks the missing one.
/// let target = Tensor<Double>([[1, 2], [.nan, .nan], [3, 4]])
/// let mask = Tensor<Double>([[1], [0], [1]])
/// let loss = maskedSquaredError(prediction, target, mask: mask)
/// ```
///
/// - Precondition: `prediction` and `target` have the same shape, `mask` broadcasts to it, and every
///   mask entry is finite and ≥ 0.
@inlinable
public func maskedSquaredError<T>(
    _ prediction: Tensor<T>, _ target: Tensor<T>, mask: Tensor<T>, reduction: LossReduction = .sum
) -> Tensor<T> {
    require(
        prediction.shape == target.shape,
        "maskedSquaredError: prediction shape \(describeShape(prediction.shape)) differs from target shape \(describeShape(target.shape))"
    )
    require(
        broadcastShape(mask.shape, prediction.shape) == prediction.shape,
        "maskedSquaredError: mask shape \(describeShape(mask.shape)) does not broadcast to prediction shape \(describeShape(prediction.shape))"
    )
    let weights = mask.detached.broadcasted(to: prediction.shape)
    weights.storage.withUnsafeBufferPointer { w in
        for (i, value) in w.enumerated() {
            require(
                value.isFinite && value >= 0,
                "maskedSquaredError: mask entries must be finite and ≥ 0, got \(value) at flat index \(i) of shape \(describeShape(prediction.shape))"
            )
        }
    }
    // Zero the difference where the mask is 0 before squaring: the replaced entries' values (NaN,
    // say) are never multiplied, and `replacing` sends them a gradient of exactly 0.
    let difference = (prediction - target).replacing(with: Tensor(T(0)), where: weights .== 0)
    let total = (weights * square(difference)).sum()
    switch reduction {
    case .sum:
        return total
    case .mean:
        let observed = weights.storage.withUnsafeBufferPointer { $0.reduce(0, +) }
        return observed > 0 ? total / observed : total
    }
}

// MARK: - Classification losses

/// The softmax cross-entropy of logits against integer class labels: for each example i,
/// −log softmax(zᵢ)[yᵢ] = logΣⱼ exp(zᵢⱼ) − zᵢ,yᵢ, averaged over the examples with `.mean` (the
/// default) or summed with `.sum`. PyTorch's `cross_entropy(logits, labels)`.
///
/// `logits` has shape `[N, C]`, or any `[..., C]`: the classes are the last axis and every leading
/// position is one example, in row-major order (a rank-1 `[C]` is one example). Computed stably
/// through `logSoftmax` (the maximum is subtracted), so logits like ±1000 give finite, exact values.
/// The gradient with respect to the logits is softmax(z) − onehot(y) per example (÷ N for `.mean`).
///
/// ```swift
/// let logits = Tensor<Double>([[2, 0, -1], [0.5, 1.5, 0]])
/// let loss = softmaxCrossEntropy(logits: logits, labels: [0, 1])
/// ```
///
/// - Precondition: `logits` has rank ≥ 1, one label per example, and each label is in `0..<C`.
@inlinable
public func softmaxCrossEntropy<T>(
    logits: Tensor<T>, labels: [Int], reduction: LossReduction = .mean
) -> Tensor<T> {
    require(logits.rank >= 1, "softmaxCrossEntropy: logits must have a class axis, shape is \(describeShape(logits.shape))")
    let classes = logits.shape[logits.rank - 1]
    let examples = logits.shape.dropLast().reduce(1, *)
    require(
        labels.count == examples,
        "softmaxCrossEntropy: \(labels.count) labels for logits of shape \(describeShape(logits.shape)) (\(examples) examples)"
    )
    for (i, label) in labels.enumerated() {
        require(
            label >= 0 && label < classes,
            "softmaxCrossEntropy: label \(label) at position \(i) is out of range 0..<\(classes) for logits of shape \(describeShape(logits.shape))"
        )
    }
    let logProbabilities = logits.reshaped(to: [examples, classes]).logSoftmax(alongAxis: -1)
    let picked = logProbabilities.flattened().gathering(
        labels.enumerated().map { $0.offset * classes + $0.element }, alongAxis: 0)
    return reduceLoss(-picked, reduction)
}

/// The softmax cross-entropy of logits against soft targets (class probabilities): for each example
/// i, −Σⱼ qᵢⱼ log softmax(zᵢ)ⱼ, averaged over the examples with `.mean` (the default) or summed with
/// `.sum`. PyTorch's `cross_entropy(logits, probabilities)`.
///
/// `logits` and `probabilities` have the same shape `[..., C]`: classes on the last axis, one example
/// per leading position. The targets are not checked: rows need not sum to 1 (then the gradient with
/// respect to the logits, (Σⱼ qᵢⱼ) softmax(zᵢ) − qᵢ, no longer sums to 0). Computed stably through
/// `logSoftmax`. Differentiable in both arguments (∂/∂q = −log softmax(z)).
///
/// - Precondition: the shapes are equal and of rank ≥ 1.
@inlinable
public func softmaxCrossEntropy<T>(
    logits: Tensor<T>, probabilities: Tensor<T>, reduction: LossReduction = .mean
) -> Tensor<T> {
    require(
        logits.shape == probabilities.shape && logits.rank >= 1,
        "softmaxCrossEntropy: logits shape \(describeShape(logits.shape)) and probabilities shape \(describeShape(probabilities.shape)) must be equal, with a class axis"
    )
    let perExample = -(probabilities * logits.logSoftmax(alongAxis: -1)).sum(alongAxis: -1)
    return reduceLoss(perExample, reduction)
}

// MARK: - Reduction

/// The sum, or the mean (0 for no terms), of all entries of `terms`.
@inlinable
package func reduceLoss<T>(_ terms: Tensor<T>, _ reduction: LossReduction) -> Tensor<T> {
    switch reduction {
    case .sum: return terms.sum()
    case .mean:
        // No terms: 0 with zero gradients, where Tensor.mean() would give NaN (0/0).
        return terms.scalarCount == 0 ? terms.sum() : terms.mean()
    }
}
