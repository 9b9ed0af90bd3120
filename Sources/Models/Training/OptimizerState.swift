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
    /// - Throws: ``OptimizerStateError`` naming what is missing or misshapen.
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
        reset()
        if state.isEmpty { return }
        let step = try savedStep(state)
        firstMoments = try restoredBuffers(state, prefix: "m", shapes: parameterShapes)
        secondMoments = try restoredBuffers(state, prefix: "v", shapes: parameterShapes)
        try checkNoExtraState(state, expected: 1 + 2 * parameterShapes.count)
        stepCount = step
        shapes = parameterShapes
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
        reset()
        if state.isEmpty { return }
        let step = try savedStep(state)
        squareAverages = try restoredBuffers(state, prefix: "square", shapes: parameterShapes)
        var count = 1 + parameterShapes.count
        if state["gradient.0"] != nil {
            gradientAverages = try restoredBuffers(state, prefix: "gradient", shapes: parameterShapes)
            count += parameterShapes.count
        }
        if state["velocity.0"] != nil {
            velocities = try restoredBuffers(state, prefix: "velocity", shapes: parameterShapes)
            count += parameterShapes.count
        }
        try checkNoExtraState(state, expected: count)
        stepCount = step
        shapes = parameterShapes
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
        reset()
        if state.isEmpty { return }
        velocities = try restoredBuffers(state, prefix: "velocity", shapes: parameterShapes)
        try checkNoExtraState(state, expected: parameterShapes.count)
        shapes = parameterShapes
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

func restoredBuffers<Scalar>(
    _ state: [String: Tensor<Scalar>], prefix: String, shapes: [[Int]]
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
        buffers.append(tensor.scalars)
    }
    return buffers
}

func savedStep<Scalar>(_ state: [String: Tensor<Scalar>]) throws(OptimizerStateError) -> Int {
    guard let step = state["step"], step.scalarCount == 1, step.scalar >= 0, step.scalar.isFinite else {
        throw OptimizerStateError("'step' is missing or not a count")
    }
    return Int(step.scalar)
}

func checkNoExtraState<Scalar>(_ state: [String: Tensor<Scalar>], expected: Int) throws(OptimizerStateError) {
    if state.count != expected {
        throw OptimizerStateError(
            "\(state.count) entries (\(state.keys.sorted().joined(separator: ", "))), expected \(expected) for this optimizer")
    }
}
