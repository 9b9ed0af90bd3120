import RNNODETensors

/// Why a recurrent layer could not run a sequence. Every case names the offending shape, row or
/// step; an integration that fails midway keeps what was computed before it.
public enum RecurrentError<Scalar: TensorScalar>: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is not `[batch, time, features]` with the layer's feature count.
    case inputShape(expected: String, got: [Int])
    /// An initial state of the wrong shape (or the wrong number of initial states).
    case initialStateShape(expected: String, got: String)
    /// A mask whose shape is not `[batch, time]` of the input.
    case maskShape(expected: [Int], got: [Int])
    /// A mask entry other than 0 or 1.
    case maskValue(row: Int, step: Int, value: Double)
    /// A mask with a valid step after a padded one: only right padding is supported.
    case leftPaddedMask(row: Int, step: Int)
    /// A stateful call with a batch size different from the carried state's.
    case batchSizeChanged(carried: Int, got: Int)
    /// The integration settings or the truncation are invalid.
    case invalidIntegration(String)
    /// Time stamps or a time step that are misshapen, non-finite, not positive, or do not increase.
    case invalidTimes(String)
    /// A parameter of the cell contains NaN or infinity.
    case nonFiniteParameter(name: String)
    /// The input or the initial state contains NaN or infinity.
    case nonFiniteInput(String)
    /// The state became non-finite (or the step size underflowed, or the step budget ran out) while
    /// integrating across input step `inputStep`. `outputs` holds the outputs `[batch, inputStep, H]`
    /// of the steps before it and `lastState` the state before it.
    case integrationFailed(inputStep: Int, reason: String, outputs: Tensor<Scalar>, lastState: Tensor<Scalar>)

    public var description: String {
        switch self {
        case .inputShape(let expected, let got):
            return "recurrent input must be \(expected), got \(describeShape(got))"
        case .initialStateShape(let expected, let got):
            return "initial state must be \(expected), got \(got)"
        case .maskShape(let expected, let got):
            return "mask must be \(describeShape(expected)) ([batch, time] of the input), got \(describeShape(got))"
        case .maskValue(let row, let step, let value):
            return "mask entry at row \(row), step \(step) is \(value); entries must be 0 or 1"
        case .leftPaddedMask(let row, let step):
            return
                "mask row \(row) has a valid step at \(step) after a padded one: sequences must be right-padded (valid steps first)"
        case .batchSizeChanged(let carried, let got):
            return "stateful layer carries a state for batch size \(carried) but got a batch of \(got); call resetState() first"
        case .invalidIntegration(let reason):
            return "invalid integration settings: \(reason)"
        case .invalidTimes(let reason):
            return "invalid times: \(reason)"
        case .nonFiniteParameter(let name):
            return "cell parameter '\(name)' contains NaN or infinity"
        case .nonFiniteInput(let what):
            return "\(what) contains NaN or infinity"
        case .integrationFailed(let step, let reason, _, _):
            return "integration failed at input step \(step): \(reason)"
        }
    }
}
