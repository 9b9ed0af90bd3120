import Foundation
import RNNODE

/// Embedding → stacked recurrent layers (any cell, any scheme) → Dense to one logit per character.
struct CharModel<Cell: RecurrentCell>: Trainable where Cell.Scalar == Float {
    typealias Scalar = Float
    var embedding: Embedding<Float>
    var recurrent: RecurrentStack<RecurrentLayer<Cell>>
    var head: Dense<Float>

    init(
        vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, integration: CellIntegration<Float>,
        using generator: inout SeededGenerator, makeCell: (Int, Int, inout SeededGenerator) -> Cell
    ) {
        embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, using: &generator)
        var stack: [RecurrentLayer<Cell>] = []
        for k in 0..<layers {
            let cell = makeCell(k == 0 ? embeddingSize : hiddenSize, hiddenSize, &generator)
            stack.append(RecurrentLayer(cell, integration: integration))
        }
        recurrent = RecurrentStack(stack)
        head = Dense(inputSize: hiddenSize, outputSize: vocabularySize, using: &generator)
    }

    var parameterPaths: [ParameterPath<Self>] {
        ParameterPath.nested("embedding", \.embedding, in: self) + ParameterPath.nested("recurrent", \.recurrent, in: self)
            + ParameterPath.nested("head", \.head, in: self)
    }

    /// Logits `[batch, time, vocabulary]` for token rows `[batch, time]`, and the final states.
    func logits(_ tokens: [[Int]], initialStates: [Tensor<Float>]?) throws -> (Tensor<Float>, [Tensor<Float>]) {
        let output = try recurrent(try embedding(tokens), initialStates: initialStates)
        return (head(output.sequence), output.finalStates)
    }

    /// Mean cross-entropy (nats per character) of predicting `targets` from `inputs`.
    func loss(inputs: [[Int]], targets: [[Int]], initialStates: [Tensor<Float>]? = nil) throws -> (Tensor<Float>, [Tensor<Float>])
    {
        let (logits, states) = try self.logits(inputs, initialStates: initialStates)
        return (softmaxCrossEntropy(logits: logits, labels: targets.flatMap { $0 }), states)
    }

    /// Bits per character on `tokens`, read as `streams` contiguous streams in chunks of
    /// `chunkLength` with the recurrent state carried across chunks.
    func bitsPerCharacter(_ tokens: [Int], streams: Int, chunkLength: Int) throws -> Double {
        let streamLength = (tokens.count - 1) / streams
        precondition(streamLength >= 1, "held-out text too short for \(streams) streams")
        var states: [Tensor<Float>]? = nil
        var total = 0.0
        var count = 0
        var start = 0
        while start < streamLength {
            let length = Swift.min(chunkLength, streamLength - start)
            let inputs = (0..<streams).map { s in Array(tokens[(s * streamLength + start)..<(s * streamLength + start + length)])
            }
            let targets = (0..<streams).map { s in
                Array(tokens[(s * streamLength + start + 1)..<(s * streamLength + start + length + 1)])
            }
            let (loss, finalStates) = try self.loss(inputs: inputs, targets: targets, initialStates: states)
            states = finalStates
            total += Double(loss.scalar) * Double(streams * length)
            count += streams * length
            start += length
        }
        return total / Double(count) / Foundation.log(2)
    }

    /// `length` characters sampled after `prime` at `temperature`.
    func sample(prime: [Int], length: Int, temperature: Float, using generator: inout SeededGenerator) throws -> [Int] {
        var states: [Tensor<Float>]? = nil
        var logits = Tensor<Float>.zeros([1, 1, head.outputSize])
        for token in prime { (logits, states) = try self.logits([[token]], initialStates: states) }
        var generated: [Int] = []
        for _ in 0..<length {
            let probabilities = (logits.reshaped(to: [1, head.outputSize]) / temperature).softmax(alongAxis: -1).scalars
            var u = Float(generator.nextUnitDouble())
            var next = probabilities.count - 1
            for (i, p) in probabilities.enumerated() {
                if u < p {
                    next = i
                    break
                }
                u -= p
            }
            generated.append(next)
            (logits, states) = try self.logits([[next]], initialStates: states)
        }
        return generated
    }
}
