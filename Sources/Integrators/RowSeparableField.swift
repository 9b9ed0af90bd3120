import RNNODETensors

/// A vector field dY/dt = f(Y, P) that acts on every row of a batch of states separately, written
/// for the integrator's fused path (``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``).
///
/// Each row Y (`stateWidth` scalars) has its own input row P (`inputWidth` scalars, held fixed over
/// an interval: for a recurrent cell, the projected input x·W + b), and the field is the same
/// function of (Y, P) for every row except through matrix products with shared weights. The field
/// states that function row-wise, in derivative form, over a block of rows at a time:
///
/// - ``evaluate(_:)`` writes K = f(Y, P) and whatever its vector–Jacobian product will need into
///   the block's saved row (``savedWidth`` scalars per row). Products with the weights of
///   ``products`` are computed by the integrator on request (``RowFieldEvaluation/product(_:)``),
///   with each weight packed once per pass and the rows of a batch split over the CPUs.
/// - ``pullback(_:)`` maps the gradient dK of the derivative to the gradients of the state row,
///   the input row, every product's result (dR, from which the integrator forms the weight
///   gradients as one matrix product over all steps and stages) and the elementwise parameters.
///
/// The integrator then runs any explicit tableau over it: per stage Yᵢ = y + Δt Σⱼ aᵢⱼ Kⱼ row by row,
/// Kᵢ = f(Yᵢ, P); y ← y + Δt Σᵢ bᵢ Kᵢ; and backward the stages' pullbacks through the transposed
/// tableau (or a ``PartitionedTableau`` over ``stateParts``, or a ``SemiImplicitTableau`` for a
/// field that splits off its decay). The library's recurrent cells conform (SimpleRNN, GRU, LSTM,
/// MUT1–3, IndRNN, AntisymmetricRNN, Lipschitz RNN, coRNN, UnICORNN, LEM, LTC); so can a user's
/// field, by implementing these requirements.
///
/// The field y′ = tanh(y·U) − y, for example, with U `[n, n]`:
///
/// ```swift
/// struct Relaxation: RowSeparableField {
///     var u: Tensor<Double>
///     var stateWidth: Int { u.shape[0] }
///     var inputWidth: Int { 0 }
///     var savedWidth: Int { stateWidth }                    // a = tanh(y·U)
///     var products: [RowProduct<Double>] { [RowProduct(weight: u)] }
///     var detached: Relaxation { Relaxation(u: u.detached) }
///     func evaluate(_ rows: inout RowFieldEvaluation<Double>) {
///         let (n, r) = (stateWidth, rows.product(0))    // no input: P is empty
///         for i in 0..<rows.count * n {
///             rows.saved[i] = Double.tanh(r[i])
///             rows.derivative[i] = rows.saved[i] - rows.state[i]
///         }
///     }
///     func pullback(_ rows: inout RowFieldPullback<Double>) {
///         let dR = rows.productGradient(0)
///         for i in 0..<rows.count * stateWidth {
///             let a = rows.saved[i]
///             dR[i] = rows.derivativeGradient[i] * (1 - a * a)
///             rows.stateGradient[i] -= rows.derivativeGradient[i]
///         }
///         rows.accumulateProductPullback(0, into: rows.stateGradient, stride: stateWidth)
///     }
/// }
/// ```
public protocol RowSeparableField<Scalar> {
    /// The scalar type of states, inputs and weights.
    associatedtype Scalar: TensorScalar
    /// The scalars of one state row.
    var stateWidth: Int { get }
    /// The scalars of one input row P.
    var inputWidth: Int { get }
    /// The scalars ``evaluate(_:)`` keeps per row and stage for ``pullback(_:)``.
    var savedWidth: Int { get }
    /// Scratch scalars per row that ``evaluate(_:)`` and ``pullback(_:)`` may use as they like
    /// (``RowFieldEvaluation/scratch``); none by default.
    var scratchWidth: Int { get }
    /// The widths of the parts of a state row, in order, for partitioned methods
    /// (``PartitionedTableau``: part p advances with the method's tableau p); one part of
    /// ``stateWidth`` by default. A second-order cell with state (y, z) has two.
    var stateParts: [Int] { get }
    /// The products of a row with shared weights that the field uses, in the order it asks for them.
    var products: [RowProduct<Scalar>] { get }
    /// Parameters the field reads elementwise (time constants, per-unit rates), each given to
    /// ``evaluate(_:)`` as a pointer and differentiated through ``pullback(_:)``. None by default.
    var elementwiseParameters: [Tensor<Scalar>] { get }
    /// Whether the field splits itself as f(Y) = e(Y) − λ(Y) ⊙ Y with a rate λ ≥ 0 per component
    /// and honours ``RowFieldEvaluation/implicitStep(ofRow:)``: with that step h ≠ 0 it writes
    /// K = f(Y) / (1 + h λ(Y)) instead of f(Y), differentiates that in its pullback, and adds
    /// Σ dK ⊙ ∂K/∂h to ``RowFieldPullback/implicitStepGradient`` when it is not nil. Such fields run
    /// under ``SemiImplicitTableau`` methods. False by default.
    var splitsDiagonalDecay: Bool { get }
    /// The work of one row's evaluation (or pullback) beyond its products, in multiply–adds: an
    /// estimate the fused path adds to the products' work when it decides whether to split the rows
    /// over the CPUs. Zero by default (a few operations per state scalar); a field with much
    /// elementwise work per row, such as LTC's H² synapses, says so here.
    var evaluationWork: Int { get }
    /// The same field with its tensors detached from any tape: what the recorded pass keeps for its
    /// backward pass. (``evaluate(_:)`` and ``pullback(_:)`` read the weights and parameters only
    /// through the rows they are given.) Trainable models have it already.
    var detached: Self { get }
    /// Writes K = f(Y, P) for every row of the block into ``RowFieldEvaluation/derivative``, and
    /// what the pullback needs into ``RowFieldEvaluation/saved``.
    func evaluate(_ rows: inout RowFieldEvaluation<Scalar>)
    /// From dK (``RowFieldPullback/derivativeGradient``): *adds* the gradients of the state row, the
    /// input row and the elementwise parameters, and *writes* every product's result gradient
    /// (``RowFieldPullback/productGradient(_:)``).
    func pullback(_ rows: inout RowFieldPullback<Scalar>)
}

extension RowSeparableField {
    public var elementwiseParameters: [Tensor<Scalar>] { [] }
    public var scratchWidth: Int { 0 }
    public var stateParts: [Int] { [stateWidth] }
    public var splitsDiagonalDecay: Bool { false }
    public var evaluationWork: Int { 0 }
}

/// A matrix product the fused integrator computes for a ``RowSeparableField``: R = A·W (+ b), one
/// row of R per state row, A a block of columns of the stage's state row or of its saved row.
public struct RowProduct<Scalar: TensorScalar> {
    /// Where the left operand A comes from.
    public enum Operand: Sendable, Equatable {
        /// Columns `column ..< column + k` of the stage's state row.
        case state(column: Int)
        /// Columns `column ..< column + k` of the saved row, written by ``RowSeparableField/evaluate(_:)``
        /// before it asks for the product (a gated state such as r ⊙ h).
        case saved(column: Int)
    }

    /// W `[k, n]`.
    public var weight: Tensor<Scalar>
    /// b `[n]`, added to every row of the product, or nil.
    public var bias: Tensor<Scalar>?
    /// The left operand.
    public var operand: Operand
    /// If the product's result gradient equals the input row's gradient in columns
    /// `inputGradientColumn ..< inputGradientColumn + n` (the product is added to that block of P
    /// and the sum is used nowhere else, as an LSTM's gates are), the integrator can take the weight
    /// gradient from the input gradient when every interval has one evaluation, and keep no
    /// separate copy of dR.
    public var inputGradientColumn: Int?
    /// The state part (``RowSeparableField/stateParts``) whose derivative alone uses this product, or
    /// nil. Under a partitioned method the field does not ask for it on stages that do not use that
    /// part's derivative (``RowFieldEvaluation/usesDerivative(ofPart:)``), and the weight's gradient
    /// skips those stages.
    public var part: Int?

    public init(
        weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil, operand: Operand = .state(column: 0),
        inputGradientColumn: Int? = nil,
        part: Int? = nil
    ) {
        require(weight.rank == 2, "RowProduct: the weight must be [k, n], got \(describeShape(weight.shape))")
        if let bias {
            require(
                bias.shape == [weight.shape[1]],
                "RowProduct: the bias must be [\(weight.shape[1])], got \(describeShape(bias.shape))")
        }
        self.weight = weight
        self.bias = bias
        self.operand = operand
        self.inputGradientColumn = inputGradientColumn
        self.part = part
    }

    /// k, the operand's width.
    @inlinable public var inputWidth: Int { weight.shape[0] }
    /// n, the result's width.
    @inlinable public var outputWidth: Int { weight.shape[1] }
}

// MARK: - The blocks a field sees

/// One stage's rows as ``RowSeparableField/evaluate(_:)`` sees them: `count` rows, each of the
/// field's widths, stored one after another (row r of the state at `state + r · stateWidth`).
public struct RowFieldEvaluation<Scalar: TensorScalar> {
    /// The number of rows.
    public let count: Int
    /// The stage's state rows Y.
    public let state: UnsafePointer<Scalar>
    /// The input rows P, ``inputStride`` scalars apart (each row's inputs are contiguous; the rows
    /// are one interval of a batch-major sequence).
    public let input: UnsafePointer<Scalar>
    /// The distance between consecutive input rows, in scalars.
    public let inputStride: Int
    /// Where K = f(Y, P) goes.
    public let derivative: UnsafeMutablePointer<Scalar>
    /// Where the saved rows go.
    public let saved: UnsafeMutablePointer<Scalar>
    /// ``RowSeparableField/scratchWidth`` scalars per row, contents unspecified.
    public let scratch: UnsafeMutablePointer<Scalar>
    @usableFromInline let context: RowFieldContext<Scalar>
    @usableFromInline let firstRow: Int
    @usableFromInline let usedParts: UInt64
    @usableFromInline let implicitSteps: RowImplicitSteps<Scalar>

    @inlinable
    init(
        count: Int, state: UnsafePointer<Scalar>, input: UnsafePointer<Scalar>, inputStride: Int,
        derivative: UnsafeMutablePointer<Scalar>, saved: UnsafeMutablePointer<Scalar>, context: RowFieldContext<Scalar>,
        firstRow: Int, usedParts: UInt64 = ~0, implicitSteps: RowImplicitSteps<Scalar> = .uniform(0)
    ) {
        (self.count, self.state, self.input, self.derivative, self.saved) = (count, state, input, derivative, saved)
        self.inputStride = inputStride
        (self.context, self.firstRow, self.usedParts) = (context, firstRow, usedParts)
        self.implicitSteps = implicitSteps
        scratch = context.scratch + firstRow * context.scratchWidth
    }

    /// h = γᵢ Δt, the part of the step over which this stage takes the field's decay implicitly, for
    /// row `r` of the block (``SemiImplicitTableau``): the field writes K = f / (1 + h λ). Zero under
    /// explicit and partitioned methods.
    @inlinable
    public func implicitStep(ofRow r: Int) -> Scalar { implicitSteps[r] }

    /// Whether the method uses this stage's derivative of state part `part`
    /// (``RowSeparableField/stateParts``). When it does not (a partitioned method's stage that
    /// advances other parts only), the field may skip computing it but must write zeros there.
    /// Always true for a plain tableau.
    @inlinable
    public func usesDerivative(ofPart part: Int) -> Bool { usedParts >> UInt64(part) & 1 == 1 }

    /// Computes product `j` (its operand must be ready) and returns its rows, `n` scalars each.
    @inlinable
    public func product(_ j: Int) -> UnsafePointer<Scalar> {
        let product = context.products[j]
        let result = context.productResults[j] + firstRow * product.n
        if let bias = product.bias {
            for r in 0..<count { (result + r * product.n).update(from: bias, count: product.n) }
        } else {
            result.update(repeating: 0, count: count * product.n)
        }
        let (a, lda): (UnsafePointer<Scalar>, Int) =
            switch product.operand {
            case .state(let column): (state + column, context.stateWidth)
            case .saved(let column): (UnsafePointer(saved) + column, context.savedWidth)
            }
        product.packed.multiply(
            m: count, a: a, lda: lda, transposeA: false, c: result, ldc: product.n, threaded: context.threadsProducts)
        return UnsafePointer(result)
    }

    /// Elementwise parameter `i`'s scalars.
    @inlinable
    public func parameter(_ i: Int) -> UnsafePointer<Scalar> { context.parameters[i] }
}

/// One stage's rows as ``RowSeparableField/pullback(_:)`` sees them (the layout of
/// ``RowFieldEvaluation``).
public struct RowFieldPullback<Scalar: TensorScalar> {
    /// The number of rows.
    public let count: Int
    /// The stage's state rows Y.
    public let state: UnsafePointer<Scalar>
    /// The saved rows ``RowSeparableField/evaluate(_:)`` wrote.
    public let saved: UnsafePointer<Scalar>
    /// dK, the gradient of the derivative rows.
    public let derivativeGradient: UnsafePointer<Scalar>
    /// dY: add the state rows' gradient here (it starts at zero).
    public let stateGradient: UnsafeMutablePointer<Scalar>
    /// dP: add the input rows' gradient here (rows ``inputStride`` scalars apart, like the inputs').
    public let inputGradient: UnsafeMutablePointer<Scalar>
    /// The distance between consecutive rows of ``inputGradient``, in scalars.
    public let inputStride: Int
    /// ``RowSeparableField/scratchWidth`` scalars per row, contents unspecified.
    public let scratch: UnsafeMutablePointer<Scalar>
    @usableFromInline let context: RowFieldContext<Scalar>
    @usableFromInline let productGradients: UnsafePointer<UnsafeMutablePointer<Scalar>>
    @usableFromInline let parameterGradients: UnsafePointer<UnsafeMutablePointer<Scalar>>
    @usableFromInline let usedParts: UInt64
    @usableFromInline let implicitSteps: RowImplicitSteps<Scalar>
    /// Where a field that splits its decay adds Σ dK ⊙ ∂K/∂h per row (``implicitStep(ofRow:)``),
    /// when the step sizes need a gradient; nil otherwise.
    public let implicitStepGradient: UnsafeMutablePointer<Scalar>?

    @inlinable
    init(
        count: Int, state: UnsafePointer<Scalar>, saved: UnsafePointer<Scalar>, derivativeGradient: UnsafePointer<Scalar>,
        stateGradient: UnsafeMutablePointer<Scalar>, inputGradient: UnsafeMutablePointer<Scalar>, inputStride: Int,
        context: RowFieldContext<Scalar>, firstRow: Int, productGradients: UnsafePointer<UnsafeMutablePointer<Scalar>>,
        parameterGradients: UnsafePointer<UnsafeMutablePointer<Scalar>>, usedParts: UInt64 = ~0,
        implicitSteps: RowImplicitSteps<Scalar> = .uniform(0), implicitStepGradient: UnsafeMutablePointer<Scalar>? = nil
    ) {
        self.inputStride = inputStride
        (self.count, self.state, self.saved, self.derivativeGradient) = (count, state, saved, derivativeGradient)
        (self.stateGradient, self.inputGradient, self.context) = (stateGradient, inputGradient, context)
        (self.productGradients, self.parameterGradients, self.usedParts) = (productGradients, parameterGradients, usedParts)
        (self.implicitSteps, self.implicitStepGradient) = (implicitSteps, implicitStepGradient)
        scratch = context.scratch + firstRow * context.scratchWidth
    }

    /// The stage's h for row `r`, as ``RowFieldEvaluation/implicitStep(ofRow:)`` gave it.
    @inlinable
    public func implicitStep(ofRow r: Int) -> Scalar { implicitSteps[r] }

    /// Whether this stage's derivative of state part `part` entered the step (as in
    /// ``RowFieldEvaluation/usesDerivative(ofPart:)``). When it did not, its part of
    /// ``derivativeGradient`` is zero and the field may skip it; it still writes every entry of the
    /// input's and the products' gradients.
    @inlinable
    public func usesDerivative(ofPart part: Int) -> Bool { usedParts >> UInt64(part) & 1 == 1 }

    /// Where product `j`'s result gradient dR goes (`n` scalars per row); write every entry.
    @inlinable
    public func productGradient(_ j: Int) -> UnsafeMutablePointer<Scalar> { productGradients[j] }

    /// Adds dRⱼ·Wⱼᵀ (the gradient of product `j`'s operand) to `target`, whose rows are `stride`
    /// scalars apart (the operand's `k` columns are written).
    @inlinable
    public func accumulateProductPullback(_ j: Int, into target: UnsafeMutablePointer<Scalar>, stride: Int) {
        let product = context.products[j]
        product.packed.multiply(
            m: count, a: productGradients[j], lda: product.n, transposeA: false, c: target, ldc: stride,
            threaded: context.threadsProducts)
    }

    /// Elementwise parameter `i`'s scalars.
    @inlinable
    public func parameter(_ i: Int) -> UnsafePointer<Scalar> { context.parameters[i] }

    /// Add elementwise parameter `i`'s gradient here.
    @inlinable
    public func parameterGradient(_ i: Int) -> UnsafeMutablePointer<Scalar> { parameterGradients[i] }
}

/// A stage's implicit step h per row: one for the whole block, or one per row.
@usableFromInline
enum RowImplicitSteps<Scalar: TensorScalar> {
    case uniform(Scalar)
    case perRow(UnsafePointer<Scalar>)

    @inlinable
    subscript(r: Int) -> Scalar {
        switch self {
        case .uniform(let h): h
        case .perRow(let steps): steps[r]
        }
    }
}

/// What the blocks of one fused pass share: the packed weights (W forward, Wᵀ backward), the
/// biases and elementwise parameters (copied into memory the context owns), and the products'
/// scratch rows.
@usableFromInline
final class RowFieldContext<Scalar: TensorScalar>: @unchecked Sendable {
    // Sendable: immutable after init but for the scratch rows, which each block uses for its own rows.
    @usableFromInline struct Product {
        @usableFromInline let n: Int
        @usableFromInline let k: Int
        @usableFromInline let operand: RowProduct<Scalar>.Operand
        /// W (forward) or Wᵀ (backward), packed.
        @usableFromInline let packed: PackedOperand<Scalar>
        @usableFromInline let bias: UnsafePointer<Scalar>?

        @inlinable
        init(n: Int, k: Int, operand: RowProduct<Scalar>.Operand, packed: PackedOperand<Scalar>, bias: UnsafePointer<Scalar>?) {
            (self.n, self.k, self.operand, self.packed, self.bias) = (n, k, operand, packed, bias)
        }
    }

    @usableFromInline let stateWidth: Int
    @usableFromInline let savedWidth: Int
    @usableFromInline let products: [Product]
    /// Per product, `batch × n` scratch rows for its results (each block uses its own rows).
    @usableFromInline let productResults: [UnsafeMutablePointer<Scalar>]
    @usableFromInline let parameters: [UnsafePointer<Scalar>]
    /// `batch × scratchWidth` scratch scalars (each block uses its own rows).
    @usableFromInline let scratch: UnsafeMutablePointer<Scalar>
    @usableFromInline let scratchWidth: Int
    @usableFromInline var threadsProducts = true
    /// The memory behind the pointers.
    @usableFromInline let storage: [Workspace]

    /// The context of `field`'s pass over `batch` rows: forward (`transposed` false) or backward.
    @inlinable
    init(field: any RowSeparableField<Scalar>, products: [RowProduct<Scalar>], batch: Int, transposed: Bool) {
        stateWidth = field.stateWidth
        savedWidth = field.savedWidth
        var storage: [Workspace] = []
        /// A copy of `tensor`'s scalars in memory the context owns.
        func copy(_ tensor: Tensor<Scalar>) -> UnsafePointer<Scalar> {
            let workspace = Workspace(count: tensor.scalarCount, of: Scalar.self)
            tensor.withUnsafeBufferPointer { workspace.pointer(Scalar.self).update(from: $0.baseAddress!, count: $0.count) }
            storage.append(workspace)
            return UnsafePointer(workspace.pointer(Scalar.self))
        }
        var packedProducts: [Product] = []
        var results: [UnsafeMutablePointer<Scalar>] = []
        for product in products {
            let (k, n) = (product.inputWidth, product.outputWidth)
            let packed = product.weight.withUnsafeBufferPointer { w in
                transposed
                    ? PackedOperand(w.baseAddress!, ldb: n, transposeB: true, k: n, n: k)
                    : PackedOperand(w.baseAddress!, ldb: n, transposeB: false, k: k, n: n)
            }
            packedProducts.append(
                Product(n: n, k: k, operand: product.operand, packed: packed, bias: product.bias.map(copy)))
            if !transposed {
                let scratch = Workspace(count: batch * n, of: Scalar.self)
                storage.append(scratch)
                results.append(scratch.pointer(Scalar.self))
            }
        }
        parameters = field.elementwiseParameters.map(copy)
        scratchWidth = field.scratchWidth
        let scratch = Workspace(count: batch * scratchWidth, of: Scalar.self)
        storage.append(scratch)
        self.scratch = scratch.pointer(Scalar.self)
        self.products = packedProducts
        productResults = results
        self.storage = storage
    }
}
