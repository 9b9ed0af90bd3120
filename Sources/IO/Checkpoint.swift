import Foundation
import RNNODEModels
import RNNODETensors

/// A saved model: its parameters by name, optionally its optimizer's state, and text metadata.
///
/// On disk a checkpoint is a NumPy `.npz` archive (readable with `numpy.load`): one array per
/// parameter, named `parameter/<name>`, one per optimizer state entry, `optimizer/<name>`, and the
/// metadata as UTF-8 JSON in the byte array `metadata`. ``write(to:createDirectories:)`` is atomic:
/// the archive is written to a temporary file and renamed over the destination, so a crash leaves
/// either the old checkpoint or the new one, never half a file. ``restore(into:)`` checks every
/// parameter by name and shape before changing anything.
///
/// ```swift
/// try Checkpoint(model: model, optimizerState: adam.savedState, metadata: ["step": "\(step)"])
///     .write(to: URL(fileURLWithPath: "run/checkpoint.npz"), createDirectories: true)
/// // later
/// let checkpoint = try Checkpoint<Float>(contentsOf: URL(fileURLWithPath: "run/checkpoint.npz"))
/// try checkpoint.restore(into: &model)
/// try adam.restoreState(checkpoint.optimizerState, parameterShapes: model.parameters.map(\.shape))
/// ```
public struct Checkpoint<Scalar: TensorScalar>: Sendable {
    /// Parameter names, in the model's order.
    public var parameterNames: [String]
    /// Parameter values, in the order of ``parameterNames``.
    public var parameterValues: [Tensor<Scalar>]
    /// The optimizer's state (see ``SavableOptimizer``); empty if none was saved.
    public var optimizerState: [String: Tensor<Scalar>]
    /// Free-form text: settings, step counts, vocabularies.
    public var metadata: [String: String]

    /// A checkpoint of `model`'s current parameters.
    public init<Model: Trainable>(
        model: Model, optimizerState: [String: Tensor<Scalar>] = [:], metadata: [String: String] = [:]
    ) where Model.Scalar == Scalar {
        parameterNames = model.parameterPaths.map(\.name)
        parameterValues = model.parameters.map(\.detached)
        self.optimizerState = optimizerState
        self.metadata = metadata
    }

    /// The parameter named `name`.
    public func parameter(named name: String) -> Tensor<Scalar>? {
        parameterNames.firstIndex(of: name).map { parameterValues[$0] }
    }

    /// Replaces `model`'s parameters by the saved ones. Nothing changes unless every parameter of
    /// the model is present with its shape and the checkpoint holds no others.
    ///
    /// - Throws: ``CheckpointError/missingParameter(name:)``,
    ///   ``CheckpointError/shapeMismatch(name:expected:got:)`` or
    ///   ``CheckpointError/unexpectedParameters(names:)``.
    public func restore<Model: Trainable>(into model: inout Model) throws(CheckpointError) where Model.Scalar == Scalar {
        var values: [Tensor<Scalar>] = []
        let current = model.parameters
        let paths = model.parameterPaths
        for (path, value) in zip(paths, current) {
            guard let saved = parameter(named: path.name) else { throw .missingParameter(name: path.name) }
            guard saved.shape == value.shape else {
                throw .shapeMismatch(name: path.name, expected: value.shape, got: saved.shape)
            }
            values.append(saved)
        }
        let known = Set(paths.map(\.name))
        let extra = parameterNames.filter { !known.contains($0) }
        if !extra.isEmpty { throw .unexpectedParameters(names: extra) }
        model.parameters = values
    }

    // MARK: Files

    static var formatTag: String { "rnnode-checkpoint-1" }

    /// Writes the checkpoint atomically as a `.npz` archive.
    ///
    /// The archive is written as it is made (see ``NumPyArchive/write(to:createDirectories:)``),
    /// each tensor's values encoded a chunk at a time straight from the tensor: writing takes
    /// about 1 MiB of memory besides the checkpoint itself, however large its tensors.
    public func write(to url: URL, createDirectories: Bool = false) throws(CheckpointError) {
        var entries: [NumPyArchive.StreamedEntry] = [
            .init(.init(name: "format", array: NumPyArray(bytes: Array(Self.formatTag.utf8))))
        ]
        let json = (try? JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])) ?? Data("{}".utf8)
        entries.append(.init(.init(name: "metadata", array: NumPyArray(bytes: Array(json)))))
        for (name, value) in zip(parameterNames, parameterValues) {
            entries.append(.init(name: "parameter/" + name, tensor: value))
        }
        for name in optimizerState.keys.sorted() {
            entries.append(.init(name: "optimizer/" + name, tensor: optimizerState[name]!))
        }
        do {
            try NumPyArchive.write(entries, to: url, createDirectories: createDirectories)
        } catch {
            throw .file(error)
        }
    }

    /// Reads a checkpoint written by ``write(to:createDirectories:)`` (values converted to `Scalar`).
    ///
    /// The archive is read as ``NumPyArchive/init(contentsOf:)`` reads it, with its checks and limits.
    ///
    /// - Throws: ``CheckpointError/file(_:)`` for unreadable or malformed archives and
    ///   ``CheckpointError/notACheckpoint(path:reason:)`` for archives that are not checkpoints.
    public init(contentsOf url: URL) throws(CheckpointError) {
        let archive: NumPyArchive
        do {
            archive = try NumPyArchive(contentsOf: url)
        } catch {
            throw .file(error)
        }
        guard let tag = archive["format"]?.bytes, String(decoding: tag, as: UTF8.self) == Self.formatTag else {
            throw .notACheckpoint(path: url.path, reason: "it has no 'format' entry '\(Self.formatTag)'")
        }
        guard let json = archive["metadata"]?.bytes,
            let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: String]
        else {
            throw .notACheckpoint(path: url.path, reason: "its 'metadata' entry is not a JSON object of strings")
        }
        metadata = object
        parameterNames = []
        parameterValues = []
        optimizerState = [:]
        for entry in archive.entries {
            if entry.name.hasPrefix("parameter/") {
                parameterNames.append(String(entry.name.dropFirst("parameter/".count)))
                parameterValues.append(entry.array.tensor(as: Scalar.self))
            } else if entry.name.hasPrefix("optimizer/") {
                optimizerState[String(entry.name.dropFirst("optimizer/".count))] = entry.array.tensor(as: Scalar.self)
            } else if entry.name != "format" && entry.name != "metadata" {
                throw .notACheckpoint(path: url.path, reason: "unexpected entry '\(entry.name)'")
            }
        }
    }
}

/// Why a checkpoint could not be written, read or restored.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reading or writing the archive failed (the underlying error names the file and the cause).
    case file(NumPyError)
    /// The archive is a valid `.npz` but not a checkpoint.
    case notACheckpoint(path: String, reason: String)
    /// The model has a parameter the checkpoint lacks.
    case missingParameter(name: String)
    /// A parameter's saved shape differs from the model's.
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    /// The checkpoint has parameters the model lacks.
    case unexpectedParameters(names: [String])

    public var description: String {
        switch self {
        case .file(let error): return error.description
        case .notACheckpoint(let path, let reason): return "'\(path)' is not a checkpoint: \(reason)"
        case .missingParameter(let name): return "the checkpoint has no parameter '\(name)'"
        case .shapeMismatch(let name, let expected, let got):
            return "parameter '\(name)' is saved with shape \(describeShape(got)) but the model's is \(describeShape(expected))"
        case .unexpectedParameters(let names):
            return "the checkpoint has parameters the model lacks: \(names.joined(separator: ", "))"
        }
    }
}
