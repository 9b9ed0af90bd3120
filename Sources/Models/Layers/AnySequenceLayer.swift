import RNNODETensors

/// Any ``SequenceLayer`` behind one type, so that layers of different cells can share a
/// ``RecurrentStack`` (a GRU layer under an LSTM layer, say).
///
/// The wrapper owns the parameters (under the wrapped layer's names), so it trains like any other
/// ``Trainable`` value; ``base`` returns the wrapped layer with the current parameters.
///
/// ```swift
/// let stack = RecurrentStack([AnySequenceLayer(gruLayer), AnySequenceLayer(lstmLayer)])
/// ```
public struct AnySequenceLayer<Scalar: TensorScalar>: SequenceLayer {
    @usableFromInline package let wrapped: any SequenceLayer<Scalar>
    @usableFromInline package let names: [String]
    /// The wrapped layer's parameters, in its order.
    public var tensors: [Tensor<Scalar>]

    /// Wraps `layer`.
    public init(_ layer: some SequenceLayer<Scalar>) {
        wrapped = layer
        names = layer.parameterPaths.map(\.name)
        tensors = layer.parameters
    }

    /// The wrapped layer with the wrapper's current parameters.
    @inlinable
    public var base: any SequenceLayer<Scalar> {
        func rebuilt<Layer: SequenceLayer<Scalar>>(_ layer: Layer) -> Layer {
            var copy = layer
            copy.parameters = tensors
            return copy
        }
        return rebuilt(wrapped)
    }

    public var parameterPaths: [ParameterPath<Self>] { names.indices.map { ParameterPath(names[$0], \Self.tensors[$0]) } }

    public var inputSize: Int { wrapped.inputSize }
    public var outputSize: Int { wrapped.outputSize }

    public func zeroStates(batchSize: Int) -> [Tensor<Scalar>] { wrapped.zeroStates(batchSize: batchSize) }

    @inlinable
    public func run(
        _ x: Tensor<Scalar>, initialStates: [Tensor<Scalar>]?, mask: Tensor<Scalar>?, times: SequenceTimes<Scalar>?
    ) throws(RecurrentError<Scalar>) -> RecurrentOutput<Scalar> {
        try base.run(x, initialStates: initialStates, mask: mask, times: times)
    }
}
