// The gates' activations over buffers, in place, for the fused recurrent kernels. Float buffers go
// to the C kernels (CRNNODEKernels' activations.c: 8-wide AVX2+FMA where the CPU has it, chosen at
// run time like the GEMM; the Swift compiler would only emit 4-wide SSE code without package-wide
// flags), where the transcendental functions would otherwise cost as much as the matrix products.
// Double buffers use libm, element by element.

import CRNNODEKernels

/// σ(x) = 1/(1 + e⁻ˣ) in place: vectorized for Float (absolute error ≤ 2e-7), libm for Double.
@inlinable
func applySigmoid<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    if T.self == Float.self {
        rnnode_sigmoid_f32(UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: Float.self), buffer.count)
    } else {
        for i in buffer.indices { buffer[i] = T.sigmoid(buffer[i]) }
    }
}

/// tanh(x) in place: vectorized for Float (absolute error ≤ 2e-7), libm for Double.
@inlinable
func applyTanh<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    if T.self == Float.self {
        rnnode_tanh_f32(UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: Float.self), buffer.count)
    } else {
        for i in buffer.indices { buffer[i] = T.tanh(buffer[i]) }
    }
}
