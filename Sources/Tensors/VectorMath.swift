// The gates' activations over buffers, in place, for the fused recurrent kernels' generic path
// (Double, and any other scalar). Float rows never come here: they run the C gate kernels
// (CRNNODEKernels' recurrent.c and gates_impl.h), whose σ and tanh are vectorized with AVX2+FMA where
// the CPU has it.

/// σ(x) = 1/(1 + e⁻ˣ) in place, element by element.
@inlinable
package func applySigmoid<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    for i in buffer.indices { buffer[i] = T.sigmoid(buffer[i]) }
}

/// tanh(x) in place, element by element.
@inlinable
package func applyTanh<T: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<T>) {
    for i in buffer.indices { buffer[i] = T.tanh(buffer[i]) }
}
