// Saving and restoring optimizer state (moments, velocities, step counts) so that training resumed
// from a checkpoint continues exactly where it stopped.

import RNNODETensors

/// An optimizer whose state can be saved as named tensors and restored (a checkpoint keeps it).
///
/// The state is empty before the first update. Names are the optimizer's own: Adam has `step`,
/// `m.i` and `v.i` for parameter i, for example.
///
/// ```swift
/// let saved = optimizer.savedState
/// var resumed = Adam<Float>(learningRate: 2e-3)
/// try resumed.restoreState(saved, parameterShapes: model.parameters.map(\.shape))
/// ```
public protocol SavableOptimizer: Optimizer {
    /// The state as named tensors.
    var savedState: [String: Tensor<Scalar>] { get }
    /// Replaces the state by one saved from an optimizer of the same kind for parameters of
    /// `parameterShapes` (an empty state resets the optimizer).
    ///
    /// Everything is checked before anything is replaced: a step count must be a whole number from
    /// 0 to 2⁵³, every buffer must have its parameter's shape and finite entries, and second
    /// moments (squared-gradient averages) must be ≥ 0. A state that fails leaves the optimizer as
    /// it was.
    ///
    /// - Throws: ``OptimizerStateError`` naming the entry that is missing, misshapen, out of range
    ///   or extra.
    mutating func restoreState(_ state: [String: Tensor<Scalar>], parameterShapes: [[Int]]) throws(OptimizerStateError)
}

extension Adam: SavableOptimizer {
    public var savedState: [String: Tensor<Scalar>] {
        guard let shapes else { return [:] }
        var state = ["step": Tensor(Scalar(stepCount))]
        saveBuffers(firstMoments, prefix: "m", shapes: shapes, into: &state)
        saveBuffers(secondMoments, prefix: "v", shapes: shapes, into: &state)
        return state
    }

    public mutating func restoreState(_ state: [String: Tensor<Scalar>], parameterShapes: [[Int]]) throws(OptimizerStateError) {
        if state.isEmpty { return reset() }
        let step = try savedStep(state)
        let first = try restoredBuffers(state, prefix: "m", shapes: parameterShapes)
        let second = try restoredBuffers(state, prefix: "v", shapes: parameterShapes, nonNegative: true)
        try checkNoExtraState(state, expected: 1 + 2 * parameterShapes.count)
        reset()
        (firstMoments, secondMoments, stepCount, shapes) = (first, second, step, parameterShapes)
    }
}

extension RMSprop: SavableOptimizer {
    public var savedState: [String: Tensor<Scalar>] {
        guard let shapes else { return [:] }
        var state = ["step": Tensor(Scalar(stepCount))]
        saveBuffers(squareAverages, prefix: "square", shapes: shapes, into: &state)
        if let gradientAverages { saveBuffers(gradientAverages, prefix: "gradient", shapes: shapes, into: &state) }
        if let velocities { saveBuffers(velocities, prefix: "velocity", shapes: shapes, into: &state) }
        return state
    }

    public mutating func restoreState(_ state: [String: Tensor<Scalar>], parameterShapes: [[Int]]) throws(OptimizerStateError) {
        if state.isEmpty { return reset() }
        let step = try savedStep(state)
        let squares = try restoredBuffers(state, prefix: "square", shapes: parameterShapes, nonNegative: true)
        var count = 1 + parameterShapes.count
        var gradients: [[Scalar]]? = nil
        if state["gradient.0"] != nil {
            gradients = try restoredBuffers(state, prefix: "gradient", shapes: parameterShapes)
            count += parameterShapes.count
        }
        var momenta: [[Scalar]]? = nil
        if state["velocity.0"] != nil {
            momenta = try restoredBuffers(state, prefix: "velocity", shapes: parameterShapes)
            count += parameterShapes.count
        }
        try checkNoExtraState(state, expected: count)
        reset()
        (squareAverages, gradientAverages, velocities) = (squares, gradients, momenta)
        (stepCount, shapes) = (step, parameterShapes)
    }
}

extension SGD: SavableOptimizer {
    public var savedState: [String: Tensor<Scalar>] {
        guard let shapes, let velocities else { return [:] }
        var state: [String: Tensor<Scalar>] = [:]
        saveBuffers(velocities, prefix: "velocity", shapes: shapes, into: &state)
        return state
    }

    public mutating func restoreState(_ state: [String: Tensor<Scalar>], parameterShapes: [[Int]]) throws(OptimizerStateError) {
        if state.isEmpty { return reset() }
        let momenta = try restoredBuffers(state, prefix: "velocity", shapes: parameterShapes)
        try checkNoExtraState(state, expected: parameterShapes.count)
        reset()
        (velocities, shapes) = (momenta, parameterShapes)
    }
}

/// Saved optimizer state that does not fit the optimizer or the model: what is missing, misshapen
/// or extra.
public struct OptimizerStateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What does not fit, e.g. "'m.0' is missing".
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "saved optimizer state does not fit: \(reason)" }
}

// MARK: - Helpers

func saveBuffers<Scalar>(_ buffers: [[Scalar]], prefix: String, shapes: [[Int]], into state: inout [String: Tensor<Scalar>]) {
    for (i, buffer) in buffers.enumerated() { state["\(prefix).\(i)"] = Tensor(shape: shapes[i], scalars: buffer) }
}

/// The buffers `prefix.0`, `prefix.1`, … for parameters of `shapes`, checked: the right shape,
/// finite entries, and with `nonNegative` no entry below 0.
func restoredBuffers<Scalar>(
    _ state: [String: Tensor<Scalar>], prefix: String, shapes: [[Int]], nonNegative: Bool = false
) throws(OptimizerStateError) -> [[Scalar]] {
    var buffers: [[Scalar]] = []
    for (i, shape) in shapes.enumerated() {
        guard let tensor = state["\(prefix).\(i)"] else {
            throw OptimizerStateError("'\(prefix).\(i)' is missing")
        }
        guard tensor.shape == shape else {
            throw OptimizerStateError(
                "'\(prefix).\(i)' has shape \(describeShape(tensor.shape)) but parameter \(i) has shape \(describeShape(shape))")
        }
        let scalars = tensor.scalars
        if let index = scalars.firstIndex(where: { !$0.isFinite || (nonNegative && $0 < 0) }) {
            let requirement = nonNegative ? "finite and ≥ 0" : "finite"
            throw OptimizerStateError(
                "'\(prefix).\(i)' has entry \(scalars[index]) at flat index \(index); entries must be \(requirement)")
        }
        buffers.append(scalars)
    }
    return buffers
}

/// The largest step count a saved state may hold: 2⁵³, beyond which counts are not exact in
/// `Double` (and far beyond any training run).
let maximumSavedStep = 1 << 53

/// The saved `step`: a whole number from 0 to `maximumSavedStep`.
func savedStep<Scalar>(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) -> Int {
    guard let step = state["step"], step.scalarCount == 1 else {
        throw OptimizerStateError("'step' is missing or not a count")
    }
    let value = step.scalars[0]
    // Compared as Double, which holds every Float and 2⁵³ exactly, before any conversion to Int.
    let count = Double(value)
    guard count.isFinite, count >= 0, count <= Double(maximumSavedStep), count.rounded(.towardZero) == count else {
        throw OptimizerStateError("'step' is \(value), not a count: it must be a whole number from 0 to 2⁵³")
    }
    return Int(count)
}

func checkNoExtraState<Scalar>(_ state: [String: Tensor<Scalar>], expected: Int) throws(OptimizerStateError) {
    if state.count != expected {
        throw OptimizerStateError(
            "\(state.count) entries (\(state.keys.sorted().joined(separator: ", "))), expected \(expected) for this optimizer")
    }
}
