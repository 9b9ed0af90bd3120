// Elementwise comparisons give masks: constant tensors of 1 (true) and 0 (false), broadcasting like
// arithmetic. Masks select between tensors with `replacing(with:where:)`, which is differentiable in
// both tensors (not in the mask).

infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence

extension Tensor {
    @inlinable
    public static func .< (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 < $1 ? 1 : 0 } }
    @inlinable
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 <= $1 ? 1 : 0 } }
    @inlinable
    public static func .> (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 > $1 ? 1 : 0 } }
    @inlinable
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 >= $1 ? 1 : 0 } }
    @inlinable
    public static func .== (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 == $1 ? 1 : 0 } }
    @inlinable
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { zipBroadcast(a, b) { $0 != $1 ? 1 : 0 } }
    public static func .< (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 < s ? 1 : 0 } }
    public static func .<= (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 <= s ? 1 : 0 } }
    @inlinable
    public static func .> (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 > s ? 1 : 0 } }
    @inlinable
    public static func .>= (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 >= s ? 1 : 0 } }
    @inlinable
    public static func .== (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 == s ? 1 : 0 } }
    @inlinable
    public static func .!= (a: Tensor, s: Scalar) -> Tensor { a.mapScalars { $0 != s ? 1 : 0 } }

    /// Elementwise `mask ≠ 0 ? other : self`, broadcasting all three. Gradients flow to `self` where
    /// the mask is 0 and to `other` where it is not.
    @inlinable
    public func replacing(with other: Tensor, where mask: Tensor) -> Tensor {
        guard let shape = broadcastShape(broadcastShape(shape, other.shape) ?? [-1], mask.shape),
            !shape.contains(-1)
        else {
            programmingError(
                "replacing: shapes \(describeShape(self.shape)), \(describeShape(other.shape)) and mask \(describeShape(mask.shape)) cannot be broadcast together"
            )
        }
        let m = Tensor.zipBroadcast(mask.detached, Tensor.zeros(shape)) { x, _ in x != 0 ? 1 : 0 }
        let keep = Tensor.zipBroadcast(self.detached, m) { $1 == 0 ? $0 : 0 }
        let take = Tensor.zipBroadcast(other.detached, m) { $1 != 0 ? $0 : 0 }
        let value = Tensor.zipBroadcast(keep, take, +)
        let (sa, sb) = (self.shape, other.shape)
        return Tensor.recording(value, self, other) { g, needsA, needsB in
            (
                needsA ? Tensor.zipBroadcast(g, m) { $1 == 0 ? $0 : 0 }.unbroadcast(to: sa) : nil,
                needsB ? Tensor.zipBroadcast(g, m) { $1 != 0 ? $0 : 0 }.unbroadcast(to: sb) : nil
            )
        }
    }
}
