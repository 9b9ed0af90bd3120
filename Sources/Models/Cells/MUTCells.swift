// The three architectures found by Jozefowicz, Zaremba & Sutskever (2015, "An empirical exploration
// of recurrent network architectures"), MUT1–MUT3, which old Keras shipped as JZS1–JZS3. Each is
// written as the field dh/dt = z ⊙ (h̃ − h): at Euler with Δt = 1 the step h + z ⊙ (h̃ − h) is the
// published update h' = h̃ ⊙ z + h ⊙ (1 − z). Weights are stored `[in, out]` and applied as x·W.

import RNNODETensors

/// MUT1 (Keras' JZS1) as a vector field:
///
///     z = σ_g(x·W_xz + b_z)
///     r = σ_g(x·W_xr + h·W_hr + b_r)
///     h̃ = σ((r ⊙ h)·W_hh + σ(x) + b_h)
///     dh/dt = z ⊙ (h̃ − h)
///
/// The update gate z depends on the input only: as an ODE, the input sets the cell's rate.
/// MUT1 adds σ(x) to the candidate, so the input size must equal the hidden size.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let cell = MUT1Cell<Double>(size: 8, using: &generator)
/// ```
public struct MUT1Cell<Scalar: TensorScalar>: RecurrentCell {
    public var wxz: Tensor<Scalar>
    public var bz: Tensor<Scalar>
    public var wxr: Tensor<Scalar>
    public var whr: Tensor<Scalar>
    public var br: Tensor<Scalar>
    public var whh: Tensor<Scalar>
    public var bh: Tensor<Scalar>
    /// σ (tanh by default).
    public var activation: Activation
    /// σ_g (sigmoid by default).
    public var recurrentActivation: Activation

    /// A cell with the given weights, each `[size, size]` (`[size]` for biases).
    public init(
        wxz: Tensor<Scalar>, bz: Tensor<Scalar>, wxr: Tensor<Scalar>, whr: Tensor<Scalar>, br: Tensor<Scalar>,
        whh: Tensor<Scalar>, bh: Tensor<Scalar>, activation: Activation = .tanh,
        recurrentActivation: Activation = .sigmoid
    ) {
        let n = bz.scalarCount
        for (name, w) in [("W_xz", wxz), ("W_xr", wxr), ("W_hr", whr), ("W_hh", whh)] {
            checkCellWeight("MUT1Cell", name, w, [n, n])
        }
        for (name, b) in [("b_z", bz), ("b_r", br), ("b_h", bh)] { checkCellWeight("MUT1Cell", name, b, [n]) }
        (self.wxz, self.bz, self.wxr, self.whr, self.br, self.whh, self.bh) = (wxz, bz, wxr, whr, br, whh, bh)
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// A cell with freshly drawn weights: input kernels from `initialization`'s input initializer,
    /// recurrent ones from its recurrent initializer, biases from its bias initializer.
    public init(size: Int, initialization: CellInitialization = .keras, using generator: inout some RandomNumberGenerator) {
        require(size > 0, "MUT1Cell: the size must be positive, got \(size)")
        let (input, recurrent, bias) = initialization.initializers(hiddenSize: size)
        self.init(
            wxz: input.make([size, size], using: &generator), bz: bias.make([size], using: &generator),
            wxr: input.make([size, size], using: &generator), whr: recurrent.make([size, size], using: &generator),
            br: bias.make([size], using: &generator), whh: recurrent.make([size, size], using: &generator),
            bh: bias.make([size], using: &generator))
    }

    public var inputSize: Int { bz.scalarCount }
    public var hiddenSize: Int { bz.scalarCount }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("W_xz", \.wxz), .init("b_z", \.bz), .init("W_xr", \.wxr), .init("W_hr", \.whr), .init("b_r", \.br),
            .init("W_hh", \.whh), .init("b_h", \.bh),
        ]
    }

    /// [x·W_xz + b_z, x·W_xr + b_r, σ(x) + b_h].
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor(concatenating: [affine(x, wxz, bz), affine(x, wxr, br), activation(x) + bh], alongAxis: -1)
    }

    /// z ⊙ (h̃ − h).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let p = gateBlocks(projectedInput, count: 3, size: hiddenSize)
        let z = recurrentActivation(p[0])
        let r = recurrentActivation(p[1] + matmul(state, whr))
        return mutUpdate(z: z, reset: r, state: state, whh: whh, candidateInput: p[2], activation: activation)
    }
}

/// MUT2 (Keras' JZS2) as a vector field:
///
///     z = σ_g(x·W_xz + h·W_hz + b_z)
///     r = σ_g(x + h·W_hr + b_r)
///     h̃ = σ((r ⊙ h)·W_hh + x·W_xh + b_h)
///     dh/dt = z ⊙ (h̃ − h)
///
/// The reset gate adds x itself, so the input size must equal the hidden size.
public struct MUT2Cell<Scalar: TensorScalar>: RecurrentCell {
    public var wxz: Tensor<Scalar>
    public var whz: Tensor<Scalar>
    public var bz: Tensor<Scalar>
    public var whr: Tensor<Scalar>
    public var br: Tensor<Scalar>
    public var whh: Tensor<Scalar>
    public var wxh: Tensor<Scalar>
    public var bh: Tensor<Scalar>
    /// σ (tanh by default).
    public var activation: Activation
    /// σ_g (sigmoid by default).
    public var recurrentActivation: Activation

    /// A cell with the given weights, each `[size, size]` (`[size]` for biases).
    public init(
        wxz: Tensor<Scalar>, whz: Tensor<Scalar>, bz: Tensor<Scalar>, whr: Tensor<Scalar>, br: Tensor<Scalar>,
        whh: Tensor<Scalar>, wxh: Tensor<Scalar>, bh: Tensor<Scalar>, activation: Activation = .tanh,
        recurrentActivation: Activation = .sigmoid
    ) {
        let n = bz.scalarCount
        for (name, w) in [("W_xz", wxz), ("W_hz", whz), ("W_hr", whr), ("W_hh", whh), ("W_xh", wxh)] {
            checkCellWeight("MUT2Cell", name, w, [n, n])
        }
        for (name, b) in [("b_z", bz), ("b_r", br), ("b_h", bh)] { checkCellWeight("MUT2Cell", name, b, [n]) }
        (self.wxz, self.whz, self.bz, self.whr, self.br) = (wxz, whz, bz, whr, br)
        (self.whh, self.wxh, self.bh) = (whh, wxh, bh)
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// A cell with freshly drawn weights (see ``MUT1Cell/init(size:initialization:using:)``).
    public init(size: Int, initialization: CellInitialization = .keras, using generator: inout some RandomNumberGenerator) {
        require(size > 0, "MUT2Cell: the size must be positive, got \(size)")
        let (input, recurrent, bias) = initialization.initializers(hiddenSize: size)
        self.init(
            wxz: input.make([size, size], using: &generator), whz: recurrent.make([size, size], using: &generator),
            bz: bias.make([size], using: &generator), whr: recurrent.make([size, size], using: &generator),
            br: bias.make([size], using: &generator), whh: recurrent.make([size, size], using: &generator),
            wxh: input.make([size, size], using: &generator), bh: bias.make([size], using: &generator))
    }

    public var inputSize: Int { bz.scalarCount }
    public var hiddenSize: Int { bz.scalarCount }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("W_xz", \.wxz), .init("W_hz", \.whz), .init("b_z", \.bz), .init("W_hr", \.whr), .init("b_r", \.br),
            .init("W_hh", \.whh), .init("W_xh", \.wxh), .init("b_h", \.bh),
        ]
    }

    /// [x·W_xz + b_z, x + b_r, x·W_xh + b_h].
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor(concatenating: [affine(x, wxz, bz), x + br, affine(x, wxh, bh)], alongAxis: -1)
    }

    /// z ⊙ (h̃ − h).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let p = gateBlocks(projectedInput, count: 3, size: hiddenSize)
        let z = recurrentActivation(p[0] + matmul(state, whz))
        let r = recurrentActivation(p[1] + matmul(state, whr))
        return mutUpdate(z: z, reset: r, state: state, whh: whh, candidateInput: p[2], activation: activation)
    }
}

/// MUT3 (Keras' JZS3) as a vector field:
///
///     z = σ_g(x·W_xz + σ(h)·W_hz + b_z)
///     r = σ_g(x·W_xr + h·W_hr + b_r)
///     h̃ = σ((r ⊙ h)·W_hh + x·W_xh + b_h)
///     dh/dt = z ⊙ (h̃ − h)
///
/// Input and hidden sizes may differ.
public struct MUT3Cell<Scalar: TensorScalar>: RecurrentCell {
    public var wxz: Tensor<Scalar>
    public var whz: Tensor<Scalar>
    public var bz: Tensor<Scalar>
    public var wxr: Tensor<Scalar>
    public var whr: Tensor<Scalar>
    public var br: Tensor<Scalar>
    public var whh: Tensor<Scalar>
    public var wxh: Tensor<Scalar>
    public var bh: Tensor<Scalar>
    /// σ (tanh by default).
    public var activation: Activation
    /// σ_g (sigmoid by default).
    public var recurrentActivation: Activation

    /// A cell with the given weights: input kernels `[inputSize, hiddenSize]`, recurrent ones
    /// `[hiddenSize, hiddenSize]`, biases `[hiddenSize]`.
    public init(
        wxz: Tensor<Scalar>, whz: Tensor<Scalar>, bz: Tensor<Scalar>, wxr: Tensor<Scalar>, whr: Tensor<Scalar>,
        br: Tensor<Scalar>, whh: Tensor<Scalar>, wxh: Tensor<Scalar>, bh: Tensor<Scalar>,
        activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid
    ) {
        let n = bz.scalarCount
        let i = wxz.shape.first ?? 0
        for (name, w) in [("W_xz", wxz), ("W_xr", wxr), ("W_xh", wxh)] { checkCellWeight("MUT3Cell", name, w, [i, n]) }
        for (name, w) in [("W_hz", whz), ("W_hr", whr), ("W_hh", whh)] { checkCellWeight("MUT3Cell", name, w, [n, n]) }
        for (name, b) in [("b_z", bz), ("b_r", br), ("b_h", bh)] { checkCellWeight("MUT3Cell", name, b, [n]) }
        (self.wxz, self.whz, self.bz, self.wxr, self.whr, self.br) = (wxz, whz, bz, wxr, whr, br)
        (self.whh, self.wxh, self.bh) = (whh, wxh, bh)
        self.activation = activation
        self.recurrentActivation = recurrentActivation
    }

    /// A cell with freshly drawn weights (see ``MUT1Cell/init(size:initialization:using:)``).
    public init(
        inputSize: Int, hiddenSize: Int, initialization: CellInitialization = .keras,
        using generator: inout some RandomNumberGenerator
    ) {
        require(inputSize > 0 && hiddenSize > 0, "MUT3Cell: sizes must be positive, got \(inputSize), \(hiddenSize)")
        let (input, recurrent, bias) = initialization.initializers(hiddenSize: hiddenSize)
        let (i, n) = (inputSize, hiddenSize)
        self.init(
            wxz: input.make([i, n], using: &generator), whz: recurrent.make([n, n], using: &generator),
            bz: bias.make([n], using: &generator), wxr: input.make([i, n], using: &generator),
            whr: recurrent.make([n, n], using: &generator), br: bias.make([n], using: &generator),
            whh: recurrent.make([n, n], using: &generator), wxh: input.make([i, n], using: &generator),
            bh: bias.make([n], using: &generator))
    }

    public var inputSize: Int { wxz.shape[0] }
    public var hiddenSize: Int { bz.scalarCount }

    public static var hasFixedParameterPaths: Bool { true }

    public var parameterPaths: [ParameterPath<Self>] {
        [
            .init("W_xz", \.wxz), .init("W_hz", \.whz), .init("b_z", \.bz), .init("W_xr", \.wxr), .init("W_hr", \.whr),
            .init("b_r", \.br), .init("W_hh", \.whh), .init("W_xh", \.wxh), .init("b_h", \.bh),
        ]
    }

    /// [x·W_xz + b_z, x·W_xr + b_r, x·W_xh + b_h].
    @inlinable
    public func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor(concatenating: [affine(x, wxz, bz), affine(x, wxr, br), affine(x, wxh, bh)], alongAxis: -1)
    }

    /// z ⊙ (h̃ − h).
    @inlinable
    public func derivative(of state: Tensor<Scalar>, projectedInput: Tensor<Scalar>) -> Tensor<Scalar> {
        let p = gateBlocks(projectedInput, count: 3, size: hiddenSize)
        let z = recurrentActivation(p[0] + matmul(activation(state), whz))
        let r = recurrentActivation(p[1] + matmul(state, whr))
        return mutUpdate(z: z, reset: r, state: state, whh: whh, candidateInput: p[2], activation: activation)
    }
}

/// Keras' name for ``MUT1Cell``.
public typealias JZS1Cell = MUT1Cell
/// Keras' name for ``MUT2Cell``.
public typealias JZS2Cell = MUT2Cell
/// Keras' name for ``MUT3Cell``.
public typealias JZS3Cell = MUT3Cell

/// z ⊙ (h̃ − h) with the candidate h̃ = σ((r ⊙ h)·W_hh + input part), shared by MUT1–3.
@inlinable
package func mutUpdate<T>(
    z: Tensor<T>, reset r: Tensor<T>, state: Tensor<T>, whh: Tensor<T>, candidateInput: Tensor<T>, activation: Activation
) -> Tensor<T> {
    z * (activation(matmul(r * state, whh) + candidateInput) - state)
}
