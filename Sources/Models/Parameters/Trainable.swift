import RNNODEIntegrators
import RNNODETensors
import Synchronization

/// A value with named trainable tensors: a vector field with unknown rates, a layer, a network.
///
/// A model lists where its parameters are, as key paths with names; everything else — reading and
/// replacing them, counting, checking them for NaN, recording them on a tape for a gradient — comes
/// from that list. Su Jianlin's competition model with trainable rates, for example:
///
/// ```swift
/// struct Competition: VectorField, Trainable {
///     typealias Scalar = Double
///     var r = Tensor<Double>([0.1, 0.1])           // growth rates r₁, r₂
///     var a = Tensor<Double>([0.001, 0.001])       // competition a₁, a₂
///     var inverseN = Tensor<Double>([0.001, 0.001])
///
///     var parameterPaths: [ParameterPath<Self>] {
///         [.init("r", \.r), .init("a", \.a), .init("inverseN", \.inverseN)]
///     }
///     func callAsFunction(_ t: Double, _ x: Tensor<Double>) -> Tensor<Double> {
///         // Su's step_do: r·x·(1 − x/N) − a·x₁x₂, both species at once.
///         r * x * (1 - inverseN * x) - a * x * x.reversed(alongAxis: -1)
///     }
/// }
/// ```
///
/// Models nest: a field holding a network lists the network's parameters with
/// ``ParameterPath/nested(_:_:in:)``. (Declare `Scalar`: it cannot be inferred from `parameterPaths`.)
public protocol Trainable {
    /// The scalar type of the parameters.
    associatedtype Scalar: TensorScalar
    /// Where the trainable tensors are, with their names, in a fixed order.
    var parameterPaths: [ParameterPath<Self>] { get }
    /// Whether ``parameterPaths`` is the same for every value of the type (false by default). The
    /// library then builds it once per type and reuses it: key paths into generic types are
    /// instantiated at run time, which costs microseconds per path, every time a model's parameters
    /// are read, replaced or recorded. A type whose parameters depend on the value (a stack of any
    /// depth, a layer that can be frozen) must keep the default.
    static var hasFixedParameterPaths: Bool { get }
}

extension Trainable {
    public static var hasFixedParameterPaths: Bool { false }

    /// ``parameterPaths``, built once per type when the type's paths are fixed
    /// (``hasFixedParameterPaths``); what the library's parameter access goes through.
    @inlinable
    public var resolvedParameterPaths: [ParameterPath<Self>] {
        Self.hasFixedParameterPaths ? FixedParameterPaths.paths(of: self) : parameterPaths
    }
}

/// The parameter paths of types with fixed paths, built once per type.
@usableFromInline
package enum FixedParameterPaths {
    /// The paths of one type (`ParameterPath<Model>` for the `Model` it is stored under).
    final class Paths<Model: Trainable>: @unchecked Sendable {
        // Sendable: immutable, and key paths are immutable objects.
        let paths: [ParameterPath<Model>]
        init(_ paths: [ParameterPath<Model>]) { self.paths = paths }
    }

    static let cache = Mutex<[ObjectIdentifier: AnyObject]>([:])

    /// `model`'s paths, from the cache or built now (then cached).
    @usableFromInline
    package static func paths<Model: Trainable>(of model: Model) -> [ParameterPath<Model>] {
        let key = ObjectIdentifier(Model.self)
        if let cached = cache.withLock({ $0[key] }) { return unsafeDowncast(cached, to: Paths<Model>.self).paths }
        let paths = model.parameterPaths
        cache.withLock { $0[key] = Paths(paths) }
        return paths
    }
}

/// The name and location of one trainable tensor of a model.
public struct ParameterPath<Model: Trainable> {
    /// The parameter's name, e.g. "r" or "layers.0.weight".
    public let name: String
    /// Where the tensor lives in the model.
    public let keyPath: WritableKeyPath<Model, Tensor<Model.Scalar>>

    /// A parameter named `name` at `keyPath`.
    public init(_ name: String, _ keyPath: WritableKeyPath<Model, Tensor<Model.Scalar>>) {
        self.name = name
        self.keyPath = keyPath
    }

    /// The parameters of a nested trainable value, with its names prefixed by `name.`.
    public static func nested<Child: Trainable>(
        _ name: String, _ keyPath: WritableKeyPath<Model, Child>, in model: Model
    )
        -> [ParameterPath<Model>] where Child.Scalar == Model.Scalar
    {
        model[keyPath: keyPath].resolvedParameterPaths.map { child in
            ParameterPath(name + "." + child.name, keyPath.appending(path: child.keyPath))
        }
    }
}

extension Trainable {
    /// The trainable tensors, in the order of ``parameterPaths``.
    public var parameters: [Tensor<Scalar>] {
        get { resolvedParameterPaths.map { self[keyPath: $0.keyPath] } }
        set {
            let paths = resolvedParameterPaths
            require(
                newValue.count == paths.count, "\(newValue.count) tensors for \(paths.count) parameters of \(Self.self)")
            for (path, value) in zip(paths, newValue) {
                let old = self[keyPath: path.keyPath]
                require(
                    old.shape == value.shape,
                    "parameter '\(path.name)' has shape \(describeShape(old.shape)), got \(describeShape(value.shape))")
                self[keyPath: path.keyPath] = value
            }
        }
    }

    /// The parameters with their names.
    public var namedParameters: [(name: String, value: Tensor<Scalar>)] {
        resolvedParameterPaths.map { ($0.name, self[keyPath: $0.keyPath]) }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.scalarCount } }

    /// Whether every parameter is finite: a check of the tensors alone (the names of the bad ones
    /// are in ``nonFiniteParameterNames``).
    @inlinable
    public var parametersAreFinite: Bool { parameters.allSatisfy { $0.isFinite } }

    /// The names of the parameters that contain NaN or infinity.
    public var nonFiniteParameterNames: [String] {
        resolvedParameterPaths.filter { !self[keyPath: $0.keyPath].isFinite }.map(\.name)
    }

    /// A copy whose parameters are variables of `tape` (so that operations on them are recorded), and
    /// those variables in the order of ``parameterPaths``, to ask the tape for gradients.
    @inlinable
    public func recorded(on tape: Tape<Scalar>) -> (model: Self, variables: [Tensor<Scalar>]) {
        var copy = self
        let variables = parameters.map { tape.variable($0) }
        copy.parameters = variables
        return (copy, variables)
    }

    /// A copy whose parameters are constants (detached from any tape).
    public var detached: Self {
        var copy = self
        // Closures, not key paths such as `\.detached`: a key path into a generic type is built at
        // run time on every call.
        copy.parameters = parameters.map { $0.detached }
        return copy
    }

    /// All parameters as one rank-1 tensor (in order, each flattened row-major).
    public var flattenedParameters: Tensor<Scalar> {
        Tensor(concatenating: parameters.map { $0.detached.reshaped(to: [-1]) })
    }

    /// A copy whose parameters are taken, in order, from the rank-1 tensor `flat` (the inverse of
    /// ``flattenedParameters``). Operations on `flat` are kept: if it is recorded, so are the parameters.
    @inlinable
    public func withFlattenedParameters(_ flat: Tensor<Scalar>) -> Self {
        let shapes = parameters.map { $0.shape }
        let sizes = shapes.map { $0.reduce(1, *) }
        require(
            flat.rank == 1 && flat.scalarCount == sizes.reduce(0, +),
            "\(describeShape(flat.shape)) scalars for \(sizes.reduce(0, +)) parameters of \(Self.self)")
        var copy = self
        copy.parameters = zip(flat.split(sizes: sizes), shapes).map { $0.reshaped(to: $1) }
        return copy
    }
}

extension VectorField where Self: Trainable {
    /// The first parameter containing NaN or infinity, by name; a solve refuses to start with one.
    public func firstNonFiniteParameter() -> String? { nonFiniteParameterNames.first }
}

// MARK: - Reparameterization

/// A smooth map from an unconstrained trainable value φ to the value θ a model uses.
///
/// Parameters of very different magnitudes (a rate of 0.3 next to a coefficient of 1e-4) train badly
/// as they are: one learning rate cannot suit both, and gradient steps can push a positive quantity
/// negative. Training φ with θ = transform(φ) fixes both:
///
/// - ``logarithmic``: θ = e^φ — positive, and a step in φ changes θ by a *relative* amount, so 0.3 and
///   1e-4 move alike.
/// - ``softplus``: θ = log(1 + e^φ) — positive, and close to φ itself for large φ (used for step sizes).
/// - ``scaled(_:)``: θ = s·φ — brings a parameter of known magnitude s to order one.
///
/// ```swift
/// let transform = ParameterTransform.logarithmic
/// var phi = transform.inverse(Tensor<Double>([0.1, 1e-3]))   // what the optimizer trains
/// let theta = transform(phi)                                   // what the model uses (differentiable)
/// ```
public enum ParameterTransform: Sendable, Equatable {
    case identity
    case logarithmic
    case softplus
    case scaled(Double)

    /// θ = transform(φ), differentiable.
    @inlinable
    public func callAsFunction<T>(_ phi: Tensor<T>) -> Tensor<T> {
        switch self {
        case .identity: return phi
        case .logarithmic: return exp(phi)
        case .softplus: return RNNODETensors.softplus(phi)
        case .scaled(let s): return phi * T(s)
        }
    }

    /// φ with transform(φ) = θ (a constant). θ must be positive for the logarithmic and softplus
    /// transforms.
    @inlinable
    public func inverse<T>(_ theta: Tensor<T>) -> Tensor<T> {
        switch self {
        case .identity:
            return theta.detached
        case .logarithmic:
            require(theta.scalars.allSatisfy { $0 > 0 }, "a logarithmic parameter must be positive: \(theta)")
            return log(theta.detached)
        case .softplus:
            require(theta.scalars.allSatisfy { $0 > 0 }, "a softplus parameter must be positive: \(theta)")
            // φ = log(e^θ − 1) = θ + log(1 − e^−θ), stable for large θ.
            return theta.detached.mapScalars { $0 + T.log(-T.expm1(-$0)) }
        case .scaled(let s):
            return theta.detached / T(s)
        }
    }
}

// MARK: - Parameters for gradient strategies

extension VectorField where Self: Trainable, State == Tensor<Scalar> {
    /// The trainable tensors (``Trainable/parameters``): what the checkpointed and adjoint
    /// ``GradientStrategy`` values differentiate.
    ///
    /// ```swift
    /// let (model, variables) = field.recorded(on: tape)
    /// let run = try solve(model, initialState: y0, times: times, gradients: .interpolatingAdjoint)
    /// ```
    public var parameterTensors: [Tensor<Scalar>] { parameters }

    /// A copy computing with `parameters` in place of its trainable tensors.
    public func replacingParameterTensors(_ parameters: [Tensor<Scalar>]) -> Self {
        var copy = self
        copy.parameters = parameters
        return copy
    }
}
