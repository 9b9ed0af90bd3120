import Dispatch

/// Wall-clock time from a monotonic clock.
public struct Stopwatch {
    private let start = DispatchTime.now().uptimeNanoseconds

    public init() {}

    /// Seconds since the stopwatch was made.
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
}

/// Keeps a value alive and opaque to the optimizer, so that benchmarked work is not removed.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
