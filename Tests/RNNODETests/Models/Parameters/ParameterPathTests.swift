import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Parameter paths built once per type (``Trainable/hasFixedParameterPaths``) give what the model
/// lists, and types whose parameters depend on the value keep building theirs.
@Suite("Parameter paths")
struct ParameterPathTests {
    @Test func fixedPathsAreTheModelsOwn() {
        var g = SeededGenerator(seed: 3)
        let small = RecurrentLayer(LSTMCell<Float>(inputSize: 2, hiddenSize: 3, using: &g))
        let large = RecurrentLayer(LSTMCell<Float>(inputSize: 5, hiddenSize: 7, using: &g))
        #expect(RecurrentLayer<LSTMCell<Float>>.hasFixedParameterPaths)
        for layer in [small, large, small] {
            #expect(layer.resolvedParameterPaths.map(\.name) == layer.parameterPaths.map(\.name))
            #expect(layer.parameters == layer.parameterPaths.map { layer[keyPath: $0.keyPath] })
        }
        #expect(large.parameters.map(\.shape) == [[5, 28], [7, 28], [28]])
        var replaced = small
        replaced.parameters = small.parameters.map { $0 * 2 }
        #expect(replaced.cell.bias == small.cell.bias * 2)
    }

    @Test func valueDependentPathsAreNotCached() {
        var g = SeededGenerator(seed: 4)
        let shallow = RecurrentLayer(SimpleDeepRNNCell<Double>(inputSize: 2, hiddenSize: 3, depth: 1, using: &g))
        let deep = RecurrentLayer(SimpleDeepRNNCell<Double>(inputSize: 2, hiddenSize: 3, depth: 3, using: &g))
        #expect(!RecurrentLayer<SimpleDeepRNNCell<Double>>.hasFixedParameterPaths)
        #expect(shallow.parameters.count == 3 && deep.parameters.count == 5)
        #expect(shallow.parameters.count == 3)
        var embedding = Embedding<Double>(vocabularySize: 4, dimension: 2, using: &g)
        #expect(embedding.parameters.count == 1)
        embedding.isFrozen = true
        #expect(embedding.parameters.isEmpty)
    }
}
