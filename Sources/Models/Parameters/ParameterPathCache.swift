import RNNODETensors
import Synchronization

/// Parameter paths built once per model type and *variant* — a number that determines the paths of
/// a type whose paths depend on the value only through it (an ``MLP``'s layer count, say).
///
/// Key paths into generic types, and key paths through array subscripts, are instantiated at run
/// time: building an MLP's four paths took about 10 µs, and a solve reads them several times (the
/// finiteness check, reading and replacing the parameters for a gradient) — a third of a small
/// neural ODE's gradient before this cache. Types whose paths never vary use
/// ``Trainable/hasFixedParameterPaths`` instead.
@usableFromInline
package enum ParameterPathCache {
    /// The paths of one type and variant (`ParameterPath<Model>` for the `Model` it is stored under).
    final class Entry<Model: Trainable>: @unchecked Sendable {
        // Sendable: immutable, and key paths are immutable objects.
        let paths: [ParameterPath<Model>]
        init(_ paths: [ParameterPath<Model>]) { self.paths = paths }
    }

    struct Key: Hashable {
        let type: ObjectIdentifier
        let variant: Int
    }

    static let cache = Mutex<[Key: AnyObject]>([:])

    /// The paths of `Model` for `variant`, from the cache or built by `build` now (then cached).
    /// `build` must give the same paths for every value of the variant.
    @usableFromInline
    package static func paths<Model: Trainable>(
        _: Model.Type, variant: Int, build: () -> [ParameterPath<Model>]
    ) -> [ParameterPath<Model>] {
        let key = Key(type: ObjectIdentifier(Model.self), variant: variant)
        if let cached = cache.withLock({ $0[key] }) { return unsafeDowncast(cached, to: Entry<Model>.self).paths }
        let paths = build()
        cache.withLock { $0[key] = Entry(paths) }
        return paths
    }
}
