import RNNODE

/// A recurrent layer and a Dense head from its last output to one value (or from every output to
/// one value per step), under training: the model of the recurrent benchmarks, the adding problem
/// and the FitzHugh–Nagumo task. (Inlinable, so that each executable specializes it for its cells.)
public struct RecurrentRegression<Cell: RecurrentCell>: Trainable where Cell.Scalar == Float {
    public typealias Scalar = Float
    public var layer: RecurrentLayer<Cell>
    public var head: Dense<Float>
    /// The inputs' time axis (constant, not trained; nil: the layer's regular grid).
    public var times: SequenceTimes<Float>?
    /// Whether the head reads every output (`[batch, time, 1]` predictions) or only the last.
    public var everyStep: Bool

    @inlinable
    public init(
        layer: RecurrentLayer<Cell>, head: Dense<Float>, times: SequenceTimes<Float>? = nil, everyStep: Bool = false
    ) {
        (self.layer, self.head, self.times, self.everyStep) = (layer, head, times, everyStep)
    }

    @inlinable
    public var parameterPaths: [ParameterPath<Self>] {
        ParameterPath.nested("layer", \.layer, in: self) + ParameterPath.nested("head", \.head, in: self)
    }
    /// The same paths for every model of the type: the library builds them once.
    @inlinable
    public static var hasFixedParameterPaths: Bool { RecurrentLayer<Cell>.hasFixedParameterPaths }

    /// The head's value from the layer's last output, `[batch, 1]`, or from every output,
    /// `[batch, time, 1]`.
    @inlinable
    public func predict(_ x: Tensor<Float>) throws -> Tensor<Float> {
        let output = try layer.run(x, initialStates: nil, mask: nil, times: times)
        return head(everyStep ? output.sequence : output.last)
    }

    /// The mean squared error of ``predict(_:)`` against `y`.
    @inlinable
    public func loss(_ x: Tensor<Float>, _ y: Tensor<Float>) throws -> Tensor<Float> { squaredError(try predict(x), y) }

    /// One training step: the loss on the tape, its gradients (clipped by `clipping`), and
    /// `optimizer`'s update; returns the gradients' norm before clipping. Non-finite gradients
    /// (the norm is NaN or +∞) leave the model and the optimizer as they were.
    @inlinable @discardableResult
    public mutating func trainStep(
        _ x: Tensor<Float>, _ y: Tensor<Float>, optimizer: inout Adam<Float>, clipping: GradientClipping<Float> = .none
    ) throws -> Float {
        let tape = Tape<Float>()
        let (recorded, variables) = recorded(on: tape)
        let loss = try recorded.loss(x, y)
        var gradients = tape.gradients(of: loss, withRespectTo: variables)
        let norm = clipping.apply(to: &gradients)
        guard norm.isFinite else { return norm }
        var parameters = self.parameters
        optimizer.update(&parameters, gradients: gradients)
        self.parameters = parameters
        return norm
    }
}
