import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Embedding and one-hot")
struct EmbeddingTests {
    @Test func lookupGathersRowsAndScattersGradients() throws {
        let table = Tensor<Double>([[0, 1], [2, 3], [4, 5]])
        let embedding = Embedding(weight: table)
        let vectors = try embedding([[2, 0], [2, 1]])
        #expect(vectors.shape == [2, 2, 2])
        #expect(vectors.scalars == [4, 5, 0, 1, 4, 5, 2, 3])
        let tape = Tape<Double>()
        let (recorded, variables) = embedding.recorded(on: tape)
        let loss = (try recorded([[2, 0], [2, 1]]) * Tensor([1, 10])).sum()
        let gradient = tape.gradient(of: loss, withRespectTo: variables[0])
        #expect(gradient == Tensor([[1, 10], [1, 10], [2, 20]]))  // row 2 used twice
    }

    @Test func frozenTablesHaveNoParameters() throws {
        let embedding = Embedding(weight: Tensor<Double>([[1, 2]]), isFrozen: true)
        #expect(embedding.parameterPaths.isEmpty)
        let tape = Tape<Double>()
        var copy = embedding
        copy.weight = tape.variable(copy.weight)
        #expect(!(try copy([[0]])).isRecorded)
    }

    @Test func badIndicesAreTypedErrors() {
        let embedding = Embedding(weight: Tensor<Double>.zeros([4, 2]))
        #expect(throws: EmbeddingError.indexOutOfRange(position: 3, index: 4, vocabularySize: 4)) {
            try embedding([[0, 1], [2, 4]])
        }
        #expect(throws: EmbeddingError.indexOutOfRange(position: 0, index: -1, vocabularySize: 4)) { try embedding.lookup([-1]) }
        #expect(throws: EmbeddingError.raggedRows(row: 1, length: 1, expected: 2)) { try embedding([[0, 1], [2]]) }
    }

    /// maskZero gives the right-padding mask a recurrent layer takes.
    @Test func maskZeroFeedsARecurrentLayer() throws {
        var g = SeededGenerator(seed: 0)
        let embedding = Embedding<Double>(vocabularySize: 5, dimension: 3, maskZero: true, using: &g)
        let tokens = [[3, 1, 4, 0, 0], [2, 0, 0, 0, 0]]
        let mask = try #require(embedding.mask(for: tokens))
        #expect(mask == Tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]]))
        let layer = RecurrentLayer(GRUCell<Double>(inputSize: 3, hiddenSize: 2, using: &g))
        let padded = try layer(try embedding(tokens), mask: mask)
        let alone = try layer(try embedding([[2]]))
        #expect(maxAbsDifference(padded.finalState[1], alone.finalState[0]) < 1e-15)
        #expect(Embedding(weight: Tensor<Double>.zeros([2, 2])).mask(for: tokens) == nil)
    }

    @Test func pretrainedWordVectors() throws {
        let vectors = try WordVectors<Float>(text: "the 0.1 0.2\ncat -1 2.5\n")
        let embedding = Embedding(pretrained: vectors)
        #expect(embedding.isFrozen && embedding.parameterPaths.isEmpty)
        let cat = try #require(vectors.index(of: "cat"))
        #expect(try embedding.lookup([cat]).scalars == [-1, 2.5])
        #expect(!Embedding(pretrained: vectors, isFrozen: false).parameterPaths.isEmpty)
    }

    @Test func oneHotVectors() {
        #expect(oneHot([2, 0], depth: 3, as: Double.self) == Tensor([[0, 0, 1], [1, 0, 0]]))
        let sequences: Tensor<Float> = oneHot([[1, 0], [0, 1]], depth: 2)
        #expect(sequences.shape == [2, 2, 2] && sequences.scalars == [0, 1, 1, 0, 1, 0, 0, 1])
    }

    @Test func dropoutIsSeededAndUnbiased() {
        let x = Tensor<Double>.ones([10_000])
        var g1 = SeededGenerator(seed: 5)
        var g2 = SeededGenerator(seed: 5)
        let a = dropout(x, rate: 0.25, using: &g1)
        #expect(a == dropout(x, rate: 0.25, using: &g2))
        let kept = a.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 4.0 / 3) < 1e-12 })
        #expect(Swift.abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
        #expect(Swift.abs(a.mean().scalar - 1) < 0.03)
    }
}
