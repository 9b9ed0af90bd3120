import Dispatch
import RNNODETensors

/// When ``train(_:optimizer:until:clipping:averaging:seed:progress:label:loss:)`` stops.
public struct StoppingCriteria<Scalar: TensorScalar>: Sendable, Equatable {
    /// The budget of optimizer steps.
    public var maxSteps: Int
    /// Stop as soon as the loss is at or below this value (before updating with it).
    public var targetLoss: Scalar?
    /// Stop after this much wall-clock time.
    public var maxSeconds: Double?
    /// Stop when the best loss has not improved by `minRelativeImprovement` for this many steps.
    public var patience: Int?
    /// The relative improvement of the best loss that resets `patience`.
    public var minRelativeImprovement: Scalar

    public init(
        maxSteps: Int, targetLoss: Scalar? = nil, maxSeconds: Double? = nil, patience: Int? = nil,
        minRelativeImprovement: Scalar = 0
    ) {
        require(maxSteps >= 0, "maxSteps must be ≥ 0, got \(maxSteps)")
        self.maxSteps = maxSteps
        self.targetLoss = targetLoss
        self.maxSeconds = maxSeconds
        self.patience = patience
        self.minRelativeImprovement = minRelativeImprovement
    }
}

/// Averaging of the parameters over training (Polyak–Ruppert averaging), which removes much of the
/// step-to-step noise of a stochastic optimizer from the final model.
public enum ParameterAveraging: Sendable, Equatable {
    /// The model ends with the last iterate.
    case none
    /// θ̄ ← decay·θ̄ + (1 − decay)·θ after every update, starting from the first update; the model ends
    /// with θ̄ (unless training stops by a failure, which keeps the last good iterate). A decay of
    /// 0.99 averages over the last ~100 steps. The decay must be in [0, 1) (0 is the last iterate);
    /// anything else is a programmer error in
    /// ``train(_:optimizer:until:clipping:averaging:seed:progress:label:loss:)``.
    case exponential(decay: Double)
}

/// Why training stopped.
public enum TrainingStopReason: Sendable, Equatable, CustomStringConvertible {
    /// The step budget was used.
    case maxSteps
    /// The loss reached the target.
    case targetLoss
    /// The time budget was used.
    case timeBudget
    /// The best loss did not improve for `steps` steps.
    case noImprovement(steps: Int)
    /// The loss was NaN or infinite at `step`; the parameters are those of the step before.
    case nonFiniteLoss(step: Int)
    /// A gradient was NaN or infinite at `step`; `parameter` names the first such parameter.
    case nonFiniteGradient(step: Int, parameter: String)
    /// The optimizer's update made a parameter non-finite at `step`; it was not applied, and the
    /// optimizer's state is that from before it.
    case nonFiniteUpdate(step: Int, parameter: String)
    /// The loss could not be computed at `step` (the loss closure threw `message`).
    case lossFailed(step: Int, message: String)

    /// Whether training ended by one of its criteria rather than by a failure.
    public var isFailure: Bool {
        switch self {
        case .maxSteps, .targetLoss, .timeBudget, .noImprovement: return false
        case .nonFiniteLoss, .nonFiniteGradient, .nonFiniteUpdate, .lossFailed: return true
        }
    }

    public var description: String {
        switch self {
        case .maxSteps: return "the step budget was used"
        case .targetLoss: return "the loss reached its target"
        case .timeBudget: return "the time budget was used"
        case .noImprovement(let steps): return "the loss did not improve for \(steps) steps"
        case .nonFiniteLoss(let step):
            return "the loss became NaN or infinite at step \(step); kept the parameters of step \(step - 1)"
        case .nonFiniteGradient(let step, let parameter):
            return
                "the gradient of '\(parameter)' became NaN or infinite at step \(step); kept the parameters of step \(step - 1)"
        case .nonFiniteUpdate(let step, let parameter):
            return "the update made '\(parameter)' NaN or infinite at step \(step); kept the parameters of step \(step - 1)"
        case .lossFailed(let step, let message):
            return "the loss could not be computed at step \(step) (\(message)); kept the parameters of step \(step - 1)"
        }
    }
}

/// What happened during training.
public struct TrainingResult<Scalar: TensorScalar>: Sendable {
    /// `losses[i]` is the loss computed at step i + 1, before that step's update.
    public var losses: [Scalar] = []
    /// The number of updates applied.
    public var steps = 0
    /// The smallest loss seen and the step it was computed at.
    public var bestLoss: Scalar = .infinity
    public var bestStep = 0
    /// Wall-clock time.
    public var seconds = 0.0
    /// Why training stopped.
    public var stopReason: TrainingStopReason = .maxSteps

    @usableFromInline
    package init() {}

    /// The last loss computed.
    public var finalLoss: Scalar? { losses.last }
}

/// Trains `model` by gradient descent with `optimizer` until a stopping criterion is met.
///
/// Each step records the model's parameters on a fresh tape, evaluates `loss` (which may run solves,
/// networks, anything differentiable), backpropagates, clips the gradients and lets the optimizer
/// update the parameters. `loss` also receives a generator seeded with `seed`, for minibatch
/// sampling, so that a run is reproducible.
///
/// Failures never lose the model: if the loss or a gradient is NaN or infinite, if the update would
/// make a parameter non-finite, or if `loss` throws (a solve that fails, say), training stops with a
/// ``TrainingStopReason`` saying what and where, and `model` keeps the parameters of the last good step.
/// A rejected update is rolled back completely: `optimizer` is put back to its state before it
/// (moments, velocities, step count), so training can resume from `model` and `optimizer` as if the
/// failed step had not been tried. (The optimizer is restored by value: a class-based optimizer
/// keeps its own state.) With `averaging`, a run that ends by a stopping criterion leaves `model`
/// with the averaged parameters instead of the last iterate; one that ends by a failure leaves the
/// last good iterate, which the optimizer state belongs to.
///
/// ```swift
/// var optimizer = Adam<Double>(learningRate: 1e-3)
/// let result = train(&field, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 2000)) { field, _ in
///     let s = try solve(field, initialState: y0, times: times, method: .rk4, step: .fixed(0.1))
///     return squaredError(Tensor(stacking: s.states), observed)
/// }
/// print(result.stopReason, result.finalLoss ?? .nan)
/// ```
///
/// - Parameters:
///   - model: the model; updated in place.
///   - optimizer: its state persists across calls.
///   - stopping: the budget and stopping rules.
///   - clipping: gradient clipping applied before each update.
///   - averaging: whether the final model is the last iterate or an average of the iterates.
///   - seed: seeds the generator passed to `loss`.
///   - progress: how to report progress (on standard error).
///   - label: the name in progress lines.
///   - loss: computes the scalar loss of a model whose parameters are recorded.
@discardableResult
@inlinable
public func train<Model: Trainable, Opt: Optimizer>(
    _ model: inout Model, optimizer: inout Opt, until stopping: StoppingCriteria<Model.Scalar>,
    clipping: GradientClipping<Model.Scalar> = .none, averaging: ParameterAveraging = .none, seed: UInt64 = 0,
    progress: ProgressStyle = .automatic, label: String = "training",
    loss: (Model, inout SeededGenerator) throws -> Tensor<Model.Scalar>
) -> TrainingResult<Model.Scalar> where Opt.Scalar == Model.Scalar {
    var parameters = model.parameters
    let template = model
    let result = trainingLoop(
        &parameters, names: model.parameterPaths.map(\.name), optimizer: &optimizer, until: stopping, clipping: clipping,
        averaging: averaging, seed: seed, progress: progress, label: label
    ) { current, generator in
        var candidate = template
        candidate.parameters = current
        let tape = Tape<Model.Scalar>()
        let (recorded, variables) = candidate.recorded(on: tape)
        let value = try loss(recorded, &generator)
        require(value.scalarCount == 1, "the loss must be a single scalar, got shape \(describeShape(value.shape))")
        return (value.scalar, { tape.gradients(of: value, withRespectTo: variables) })
    }
    model.parameters = parameters
    return result
}

/// Trains a plain parameter vector θ by gradient descent with `optimizer`, given a function that
/// returns the loss and its gradient — from forward sensitivities of a ``ParametricField`` solve, say,
/// with no tape at all.
///
/// Everything else is as for ``train(_:optimizer:until:clipping:averaging:seed:progress:label:loss:)``:
/// the stopping rules, clipping, averaging, progress, and the guarantees on failure (a non-finite
/// loss, gradient or update, or a throwing `lossAndGradient`, stops training with θ and the
/// optimizer at the last good step). The gradient entries are named `θ[j]` in stop reasons.
///
/// ```swift
/// var theta = [0.1, 0.1]
/// var optimizer = Adam<Double>(learningRate: 1e-2)
/// let result = train(&theta, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 500)) { theta, _ in
///     ((theta[0] - 1) * (theta[0] - 1) + theta[1] * theta[1], [2 * (theta[0] - 1), 2 * theta[1]])
/// }
/// ```
///
/// - Precondition: `lossAndGradient` returns as many gradient entries as there are parameters.
@discardableResult
@inlinable
public func train<Opt: Optimizer>(
    _ parameters: inout [Opt.Scalar], optimizer: inout Opt, until stopping: StoppingCriteria<Opt.Scalar>,
    clipping: GradientClipping<Opt.Scalar> = .none, averaging: ParameterAveraging = .none, seed: UInt64 = 0,
    progress: ProgressStyle = .automatic, label: String = "training",
    lossAndGradient: ([Opt.Scalar], inout SeededGenerator) throws -> (loss: Opt.Scalar, gradient: [Opt.Scalar])
) -> TrainingResult<Opt.Scalar> {
    let count = parameters.count
    var tensors = [Tensor(parameters)]
    let result = trainingLoop(
        &tensors, names: ["θ"], optimizer: &optimizer, until: stopping, clipping: clipping, averaging: averaging,
        seed: seed, progress: progress, label: label
    ) { current, generator in
        let (loss, gradient) = try lossAndGradient(current[0].scalars, &generator)
        require(
            gradient.count == count, "the gradient has \(gradient.count) entries for \(count) parameters")
        return (loss, { [Tensor(gradient)] })
    }
    parameters = tensors[0].scalars
    return result
}

/// The loop of both `train`s: `evaluate` gives the loss at the current parameters and a way to get
/// its gradients.
@inlinable
package func trainingLoop<Opt: Optimizer>(
    _ parameters: inout [Tensor<Opt.Scalar>], names: [String], optimizer: inout Opt,
    until stopping: StoppingCriteria<Opt.Scalar>, clipping: GradientClipping<Opt.Scalar>,
    averaging: ParameterAveraging, seed: UInt64, progress: ProgressStyle, label: String,
    evaluate: ([Tensor<Opt.Scalar>], inout SeededGenerator) throws -> (Opt.Scalar, () -> [Tensor<Opt.Scalar>])
) -> TrainingResult<Opt.Scalar> {
    typealias Scalar = Opt.Scalar
    var result = TrainingResult<Scalar>()
    var generator = SeededGenerator(seed: seed)
    var reporter = ProgressReporter(label: label, total: stopping.maxSteps, style: progress)
    var stepsWithoutImprovement = 0
    var average: [Tensor<Scalar>]? = nil
    if case .exponential(let decay) = averaging {
        require(decay >= 0 && decay < 1, "train: ParameterAveraging.exponential needs a decay in [0, 1), got \(decay)")
    }
    result.stopReason = .maxSteps

    stepLoop: for step in Swift.stride(from: 1, through: stopping.maxSteps, by: 1) {
        let current: Scalar
        let gradientsAtCurrent: () -> [Tensor<Scalar>]
        do {
            (current, gradientsAtCurrent) = try evaluate(parameters, &generator)
        } catch {
            result.stopReason = .lossFailed(step: step, message: "\(error)")
            break stepLoop
        }
        guard current.isFinite else {
            result.stopReason = .nonFiniteLoss(step: step)
            break stepLoop
        }
        result.losses.append(current)
        let scale = Swift.max(Swift.abs(result.bestLoss), Scalar.leastNormalMagnitude)
        if current < result.bestLoss - stopping.minRelativeImprovement * (result.bestLoss.isFinite ? scale : 0) {
            stepsWithoutImprovement = 0
        } else {
            stepsWithoutImprovement += 1
        }
        if current < result.bestLoss {
            result.bestLoss = current
            result.bestStep = step
        }
        reporter.update(step: step, loss: Double(current))
        if let target = stopping.targetLoss, current <= target {
            result.stopReason = .targetLoss
            break stepLoop
        }

        var gradients = gradientsAtCurrent()
        if let bad = gradients.firstIndex(where: { !$0.isFinite }) {
            result.stopReason = .nonFiniteGradient(step: step, parameter: parameterName(names, gradients, bad))
            break stepLoop
        }
        _ = clipping.apply(to: &gradients)
        var updated = parameters
        // The state before the update, put back if the update is rejected, so that the optimizer
        // matches the parameters the model keeps.
        let previousOptimizer = optimizer
        optimizer.update(&updated, gradients: gradients)
        if let bad = updated.firstIndex(where: { !$0.isFinite }) {
            optimizer = previousOptimizer
            result.stopReason = .nonFiniteUpdate(step: step, parameter: parameterName(names, updated, bad))
            break stepLoop
        }
        parameters = updated
        result.steps = step
        if case .exponential(let decay) = averaging {
            average =
                average.map { previous in
                    zip(previous, updated).map { $0 * Scalar(decay) + $1 * Scalar(1 - decay) }
                } ?? updated
        }

        if let maxSeconds = stopping.maxSeconds, reporter.elapsedSeconds >= maxSeconds {
            result.stopReason = .timeBudget
            break stepLoop
        }
        if let patience = stopping.patience, stepsWithoutImprovement >= patience {
            result.stopReason = .noImprovement(steps: stepsWithoutImprovement)
            break stepLoop
        }
    }
    // A failure keeps the last good iterate (with the optimizer state that belongs to it), as its
    // stop reason says; only a run that ends by a criterion ends with the average.
    if let average, !result.stopReason.isFailure { parameters = average }
    result.seconds = reporter.elapsedSeconds
    var summary = "\(result.steps) steps in \(formatFixed(result.seconds, digits: 2)) s"
    if let finalLoss = result.finalLoss { summary += ", loss \(formatScientific(Double(finalLoss)))" }
    reporter.finish(summary + " — \(result.stopReason)")
    return result
}

/// The name of parameter tensor `index` in a stop reason: its path, or `θ[j]` for the first
/// non-finite entry of a plain vector.
@inlinable
package func parameterName<Scalar>(_ names: [String], _ tensors: [Tensor<Scalar>], _ index: Int) -> String {
    guard names == ["θ"], let entry = tensors[index].scalars.firstIndex(where: { !$0.isFinite }) else {
        return names[index]
    }
    return "θ[\(entry)]"
}

// MARK: - Least squares on trainable models

extension LevenbergMarquardt {
    /// Fits the parameters of `model` by Levenberg–Marquardt, minimizing Σ rᵢ² with `residuals`
    /// computed from the model (its parameters flattened into one vector; see
    /// ``Trainable/flattenedParameters``). On return `model` holds the fitted parameters.
    ///
    /// A residual function whose solve fails should return NaN residuals: the trial step is then
    /// rejected and the damping increased.
    @discardableResult
    @inlinable
    public func minimize<Model: Trainable>(
        _ model: inout Model, progress: ((LevenbergMarquardtProgress<Scalar>) -> Void)? = nil,
        residuals: (Model) throws -> Tensor<Scalar>
    ) rethrows -> LeastSquaresResult<Scalar> where Model.Scalar == Scalar {
        let template = model.detached
        let result = try minimize(from: model.flattenedParameters, progress: progress) { flat in
            try residuals(template.withFlattenedParameters(flat))
        }
        model = template.withFlattenedParameters(result.parameters)
        return result
    }
}
