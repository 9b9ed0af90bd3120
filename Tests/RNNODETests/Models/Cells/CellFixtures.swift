import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// One case of Tests/RNNODETests/Fixtures/cells (see the README there): weights, inputs, expected
/// outputs and, for the PyTorch cases, expected gradients of sum(output ⊙ G).
struct CellFixture {
    let name: String
    let json: [String: Any]

    init(_ name: String) throws {
        self.name = name
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/cells"),
            "fixture \(name).json is missing")
        json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    var kind: String { json["kind"] as! String }
    var layers: Int { json["layers"] as? Int ?? 1 }
    var bidirectional: Bool { json["bidirectional"] as? Bool ?? false }
    var hiddenSize: Int { json["hidden_size"] as! Int }

    /// A nested-list entry as a tensor (row-major), converted to `T`.
    func tensor<T: TensorScalar>(_ key: String, in dictionary: [String: Any]? = nil, as: T.Type = Double.self) -> Tensor<T> {
        let value = (dictionary ?? json)[key]!
        return CellFixture.tensor(value)
    }

    var weights: [String: Any] { json["weights"] as! [String: Any] }
    var gradients: [String: Any] { json["grad"] as! [String: Any] }

    func weightTensors<T: TensorScalar>(as: T.Type) -> [String: Tensor<T>] {
        Dictionary(uniqueKeysWithValues: weights.keys.map { ($0, tensor($0, in: weights, as: T.self)) })
    }

    static func tensor<T: TensorScalar>(_ value: Any) -> Tensor<T> {
        var shape: [Int] = []
        var probe: Any = value
        while let list = probe as? [Any] {
            shape.append(list.count)
            guard let first = list.first else { break }
            probe = first
        }
        var scalars: [T] = []
        func flatten(_ v: Any) {
            if let list = v as? [Any] {
                list.forEach(flatten)
            } else {
                scalars.append(T((v as! NSNumber).doubleValue))
            }
        }
        flatten(value)
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// The largest absolute difference between two tensors of one shape.
func maxAbsDifference<T>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return zip(a.doubles, b.doubles).map { Swift.abs($0 - $1) }.max() ?? 0
}
