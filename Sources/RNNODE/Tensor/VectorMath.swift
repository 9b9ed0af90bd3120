// Vectorized exp, sigmoid and tanh over Float buffers, for the fused recurrent kernels, where the
// gates' transcendental functions would otherwise cost more than the matrix products (libm's scalar
// expf/tanhf, one call per element). Double buffers use libm, element by element.

/// eˣ for eight Floats: x = n·ln 2 + r with |r| ≤ ½ ln 2, eʳ by its degree-6 Taylor polynomial
/// (relative error ≤ 2e-7), times 2ⁿ through the exponent bits. Inputs are clamped to [−87, 88]
/// (results stay normal and finite).
@inlinable @inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var clamped = x
    clamped.replace(with: 88, where: x .> 88)
    clamped.replace(with: -87, where: x .< -87)
    // Adding 1.5·2²³ rounds to an integer n held in the low mantissa bits (bit pattern 0x4B40_0000 + n).
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// Applies `transform` to `buffer` in blocks of eight (the tail is padded with zeros).
@inlinable @inline(__always)
func transformInBlocks(_ buffer: UnsafeMutableBufferPointer<Float>, _ transform: (SIMD8<Float>) -> SIMD8<Float>) {
    let count = buffer.count
    guard let base = buffer.baseAddress else { return }
    var i = 0
    while i + 8 <= count {
        let raw = UnsafeMutableRawPointer(base + i)
        raw.storeBytes(of: transform(raw.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
        i += 8
    }
    if i < count {
        var tail = SIMD8<Float>()
        for j in 0..<(count - i) { tail[j] = base[i + j] }
        let result = transform(tail)
        for j in 0..<(count - i) { base[i + j] = result[j] }
    }
}

/// σ(x) = 1/(1 + e⁻ˣ) in place: vectorized for Float, libm for Double.
@inlinable
func applySigmoid<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    if T.self == Float.self {
        let floats = UnsafeMutableBufferPointer<Float>(
            start: UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: Float.self), count: buffer.count)
        transformInBlocks(floats) { 1 / (1 + vectorExp(-$0)) }
    } else {
        for i in buffer.indices { buffer[i] = T.sigmoid(buffer[i]) }
    }
}

/// tanh(x) = 2σ(2x) − 1 in place (absolute error ≤ 2e-7 in Float): vectorized for Float, libm for
/// Double.
@inlinable
func applyTanh<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    if T.self == Float.self {
        let floats = UnsafeMutableBufferPointer<Float>(
            start: UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: Float.self), count: buffer.count)
        transformInBlocks(floats) { 2 / (1 + vectorExp(-2 * $0)) - 1 }
    } else {
        for i in buffer.indices { buffer[i] = T.tanh(buffer[i]) }
    }
}
