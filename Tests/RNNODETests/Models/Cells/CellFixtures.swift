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

/// `Cell` without its ``RowSeparableField`` conformance: a layer of it runs on the tape path (one
/// ``Integrator`` recording every stage), which is what the fused path is compared against.
struct TapeOnly<Cell: RecurrentCell>: RecurrentCell {
    typealias Scalar = Cell.Scalar
    var cell: Cell

    init(_ cell: Cell) { self.cell = cell }

    var inputSize: Int { cell.inputSize }
    var hiddenSize: Int { cell.hiddenSize }
    var stateSize: Int { cell.stateSize }
    var parameterPaths: [ParameterPath<Self>] { ParameterPath.nested("cell", \.cell, in: self) }
    func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> { cell.projectInput(x) }
    func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        cell.derivative(of: state, projectedInput: projectedInput)
    }
}

extension RecurrentLayer {
    /// The same layer with its cell on the tape path.
    var onTape: RecurrentLayer<TapeOnly<Cell>> {
        var layer = RecurrentLayer<TapeOnly<Cell>>(
            TapeOnly(cell), integration: integration, goBackwards: goBackwards, gradients: gradients)
        layer.integration = integration
        return layer
    }
}

extension Bidirectional {
    /// The same layer with its cells on the tape path.
    var onTape: Bidirectional<TapeOnly<Cell>> {
        var layer = Bidirectional<TapeOnly<Cell>>(
            forward: TapeOnly(forward.cell), backward: TapeOnly(backward.cell), integration: forward.integration,
            merge: merge == .sum ? .sum : .concatenate)
        layer.backward.integration = backward.integration
        return layer
    }
}
