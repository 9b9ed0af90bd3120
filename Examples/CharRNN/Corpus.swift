import Foundation
import RNNODE

/// A text as character indices, split into training and held-out parts.
struct Corpus {
    /// The distinct characters, sorted; a character's index is its token.
    let vocabulary: [Character]
    let training: [Int]
    let heldOut: [Int]

    /// `text` with the last `heldOutFraction` of it held out.
    init(text: String, heldOutFraction: Double) {
        let characters = Array(text)
        vocabulary = Array(Set(characters)).sorted()
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
        let tokens = characters.map { index[$0]! }
        let split = Int(Double(tokens.count) * (1 - heldOutFraction))
        training = Array(tokens[..<split])
        heldOut = Array(tokens[split...])
    }

    /// A corpus with a given vocabulary (from a checkpoint); characters outside it are an error.
    init(text: String, heldOutFraction: Double, vocabulary: [Character]) throws {
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
        var tokens: [Int] = []
        for (position, character) in text.enumerated() {
            guard let token = index[character] else {
                throw CorpusError(
                    message:
                        "character \(String(reflecting: String(character))) at position \(position) is not in the checkpoint's vocabulary"
                )
            }
            tokens.append(token)
        }
        self.vocabulary = vocabulary
        let split = Int(Double(tokens.count) * (1 - heldOutFraction))
        training = Array(tokens[..<split])
        heldOut = Array(tokens[split...])
    }

    func text(_ tokens: [Int]) -> String { String(tokens.map { vocabulary[$0] }) }

    /// `batch` random windows of `length + 1` training tokens: inputs and next-character targets.
    func batch(_ batch: Int, length: Int, using generator: inout SeededGenerator) -> (inputs: [[Int]], targets: [[Int]]) {
        var inputs: [[Int]] = []
        var targets: [[Int]] = []
        for _ in 0..<batch {
            let start = Int(generator.nextUnitDouble() * Double(training.count - length - 1))
            inputs.append(Array(training[start..<(start + length)]))
            targets.append(Array(training[(start + 1)..<(start + length + 1)]))
        }
        return (inputs, targets)
    }
}

struct CorpusError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
