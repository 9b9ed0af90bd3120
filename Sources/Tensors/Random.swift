/// A fast, seeded pseudo-random generator (xoshiro256** seeded through SplitMix64).
///
/// The same seed gives the same sequence on every run and platform; the conversions to `Float` and
/// `Double` used by ``Tensor/uniform(_:lower:upper:using:)`` and ``Tensor/normal(_:mean:standardDeviation:using:)``
/// are this library's own, so tensors drawn from a seed are reproducible too.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline package var s0, s1, s2, s3: UInt64

    /// A generator whose whole sequence is determined by `seed`.
    @inlinable
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}

extension RandomNumberGenerator {
    /// A uniform `Double` in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal `Double` (Box–Muller; one draw consumes two uniforms).
    @inlinable
    public mutating func nextStandardNormal() -> Double {
        let u1 = 1 - nextUnitDouble()  // (0, 1]: log is finite
        let u2 = nextUnitDouble()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }
}

extension Tensor {
    /// A tensor of independent uniform samples in [lower, upper).
    @inlinable
    public static func uniform(
        _ shape: [Int], lower: Scalar = 0, upper: Scalar = 1, using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        require(lower <= upper, "uniform bounds are reversed: [\(lower), \(upper))")
        let n = shape.reduce(1, *)
        let span = Double(upper) - Double(lower)
        let values = (0..<n).map { _ in Scalar(Double(lower) + span * generator.nextUnitDouble()) }
        return Tensor(shape: shape, scalars: values.map { Swift.min($0, upper.nextDown) })
    }

    /// A tensor of independent normal samples with the given mean and standard deviation.
    ///
    /// - Precondition: `standardDeviation` is finite and ≥ 0, and `mean` is finite.
    @inlinable
    public static func normal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
        using generator: inout some RandomNumberGenerator
    ) -> Tensor {
        require(
            standardDeviation >= 0 && standardDeviation.isFinite,
            "Tensor.normal: the standard deviation must be finite and ≥ 0, got \(standardDeviation)")
        require(mean.isFinite, "Tensor.normal: the mean must be finite, got \(mean)")
        let n = shape.reduce(1, *)
        let values = (0..<n).map { _ in
            Scalar(Double(mean) + Double(standardDeviation) * generator.nextStandardNormal())
        }
        return Tensor(shape: shape, scalars: values)
    }
}
