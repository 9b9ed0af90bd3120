import RNNODETensors

// The integrator's fused path for row-separable fields over sequences of input intervals: a
// recurrent layer whose cell is a ``RowSeparableField``. The same compiled tableau the stepper runs
// drives it; what is fused is the data layout. A whole batch of rows advances in lockstep, with
// every stage's states and saved activations kept in preallocated slabs (stage by stage, each
// stage's slots time-major), its derivatives per step,
// one matrix product per stage and product (the weights packed once per pass), the stage
// combinations row by row, and one tape record for the whole sequence. Its pullback is the same
// loop backwards: per stage, dKᵢ = Δt (bᵢ ḡ + Σⱼ₍>ᵢ₎ aⱼᵢ dYⱼ) and the field's pullback gives dYᵢ, so the
// state's gradient becomes ḡ + Σᵢ dYᵢ; the weights' gradients are one product each over the
// stages and steps that use the weight (Aᵀ·dR). Rows are independent, so blocks of them run on different CPUs without
// synchronizing between steps, and a row's result does not depend on the rows it is batched with.
//
// A partitioned method (``PartitionedTableau``) runs the same loops with each part of the state's
// columns combined by its own tableau's weights.
//
// The grid: an interval of length g is crossed by n = ⌈g / h⌉ equal steps of g / n, h the maximum
// step (for a regular grid with h = Δt / substeps, exactly `substeps` steps of h). Rows with fewer
// steps than others in an interval wait (their state passes through) while the others step.

/// The lengths of the input intervals of ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``.
public enum RowIntervals<Scalar: TensorScalar> {
    /// Every interval of every row has this length.
    case constant(Scalar)
    /// The length of interval k of row b at `[k, b]` (shape `[time, batch]`, time-major); a
    /// recorded tensor gets gradients.
    case lengths(Tensor<Scalar>)
}

/// What ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``
/// computed: the state's leading columns after every interval, the final state, and the work.
public struct RowSequenceResult<Scalar: TensorScalar>: Sendable {
    /// `[batch, time, outputWidth]`: columns `0..<outputWidth` of each row's state after interval k
    /// (zero at the intervals after a row's length). After a failure: the intervals before it.
    public var outputs: Tensor<Scalar>
    /// `[batch, stateWidth]`: the state after each row's last interval; after a failure, the state
    /// entering the failed interval.
    public var finalState: Tensor<Scalar>
    /// Steps (each advances every active row) and field evaluations (per stage, over the batch).
    public var statistics: SolveStatistics
    /// The interval in which a state became NaN or infinite, if one did.
    public var failedInterval: Int?

    @inlinable
    init(outputs: Tensor<Scalar>, finalState: Tensor<Scalar>, statistics: SolveStatistics, failedInterval: Int?) {
        (self.outputs, self.finalState, self.statistics, self.failedInterval) = (outputs, finalState, statistics, failedInterval)
    }
}

/// Integrates the row-separable `field` over a sequence of input intervals with an explicit
/// tableau at fixed steps: row b crosses interval k with the input row `input[k, b]` held, starting
/// from `initialState[b]`.
///
/// Interval k of length g is crossed by n = ⌈g / `maxStep`⌉ equal steps. The result is one recorded
/// operation: gradients flow to `input`, `initialState`, the field's product weights and biases,
/// its elementwise parameters, and (for ``RowIntervals/lengths(_:)``) the interval lengths.
///
/// - Parameters:
///   - input: `[time, batch, field.inputWidth]`, time-major.
///   - initialState: `[batch, field.stateWidth]`.
///   - lengths: each row's number of intervals (nil: all); after it the row's state is kept and
///     its outputs are zero.
///   - cut: the interval whose entering state is detached from the tape (truncated
///     backpropagation), if any.
///   - outputWidth: how many leading state columns are returned per interval (default: all).
/// - Throws: ``SolveError`` for a non-positive or non-finite step or interval length, or a grid
///   that would need more stage memory than ``maximumRowIntegrationBytes``.
@inlinable
public func integrateRows<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, input: Tensor<Scalar>, initialState: Tensor<Scalar>,
    intervals: RowIntervals<Scalar>, method: ButcherTableau, maxStep: Scalar, lengths: [Int]? = nil,
    detachedBefore cut: Int? = nil, outputWidth: Int? = nil
) throws(SolveError) -> RowSequenceResult<Scalar> {
    let (time, batch, s, h) = try checkedRowIntegration(
        field, input: input, initialState: initialState, maxStep: maxStep, lengths: lengths, outputWidth: outputWidth)
    guard method.kind == .explicit, method.stiffAlternative == nil else {
        throw .unsupportedMethod(
            "\(method.name) is not an explicit method: the fused recurrent path runs explicit tableaus only (solve implicit ones on Tensor states instead)"
        )
    }
    let compiled = CompiledTableau<Scalar>.shared(method)
    return try runRowPass(
        field, parts: [RowStatePart(columns: 0..<s, compiled: compiled)], stageUses: nil, implicitWeights: nil,
        evaluatedStages: compiled.isFSAL ? compiled.stageCount - 1 : compiled.stageCount, shape: (time, batch, h),
        input: input, initialState: initialState, intervals: intervals, maxStep: maxStep, lengths: lengths,
        detachedBefore: cut)
}

/// Integrates the row-separable `field` over a sequence of input intervals with a partitioned
/// method: part p of each state row (``RowSeparableField/stateParts``) advances with
/// `method.parts[p]`. Otherwise as ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``
/// with a tableau.
///
/// - Throws: ``SolveError/unsupportedMethod(_:)`` when the field's state does not have one part per
///   part of the method; otherwise as with a tableau.
@inlinable
public func integrateRows<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, input: Tensor<Scalar>, initialState: Tensor<Scalar>,
    intervals: RowIntervals<Scalar>, partitioned method: PartitionedTableau, maxStep: Scalar, lengths: [Int]? = nil,
    detachedBefore cut: Int? = nil, outputWidth: Int? = nil
) throws(SolveError) -> RowSequenceResult<Scalar> {
    let (parts, stageUses) = try partitionedParts(field, method)
    let (time, batch, _, h) = try checkedRowIntegration(
        field, input: input, initialState: initialState, maxStep: maxStep, lengths: lengths, outputWidth: outputWidth)
    return try runRowPass(
        field, parts: parts, stageUses: stageUses, implicitWeights: nil, evaluatedStages: method.stages,
        shape: (time, batch, h), input: input, initialState: initialState, intervals: intervals, maxStep: maxStep,
        lengths: lengths, detachedBefore: cut)
}

/// The grid and the pass of a checked integration (`shape`: time, batch, output width), run.
/// Every stage of `parts`' tableaus is evaluated but for the last of a first-same-as-last one
/// (`evaluatedStages` says how many).
@inlinable
func runRowPass<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, parts: [RowStatePart<Scalar>], stageUses: [UInt64]?,
    implicitWeights: [Scalar]?, evaluatedStages: Int, shape: (time: Int, batch: Int, outputWidth: Int),
    input: Tensor<Scalar>, initialState: Tensor<Scalar>, intervals: RowIntervals<Scalar>, maxStep: Scalar,
    lengths: [Int]?, detachedBefore cut: Int?
) throws(SolveError) -> RowSequenceResult<Scalar> {
    let grid = try RowGrid(
        intervals, time: shape.time, batch: shape.batch, lengths: lengths, maxStep: maxStep,
        evaluatedStages: evaluatedStages, scalarsPerSlot: field.stateWidth + field.savedWidth,
        scalarSize: MemoryLayout<Scalar>.stride)
    let pass = RowSequencePass(
        field, parts: parts, stageUses: stageUses, implicitWeights: implicitWeights, grid: grid, batch: shape.batch,
        time: shape.time, outputWidth: shape.outputWidth)
    return pass.run(input: input, initialState: initialState, intervals: intervals, detachedBefore: cut)
}

/// The state parts of `field` and the tableaus of `method` that advance them, and per stage the
/// parts whose derivative the method uses.
///
/// - Throws: ``SolveError/unsupportedMethod(_:)`` when the field's state does not have one part per
///   part of the method.
@inlinable
func partitionedParts<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, _ method: PartitionedTableau
) throws(SolveError) -> ([RowStatePart<Scalar>], [UInt64]) {
    let widths = field.stateParts
    require(
        widths.allSatisfy { $0 > 0 } && widths.reduce(0, +) == field.stateWidth,
        "integrateRows: the field's state parts \(widths) must be positive widths summing to its state width \(field.stateWidth)")
    guard widths.count == method.parts.count else {
        throw .unsupportedMethod(
            "\(method.name) advances a state of \(method.parts.count) parts; this field's state has \(widths.count) (\(widths))")
    }
    var parts: [RowStatePart<Scalar>] = []
    var start = 0
    for (width, tableau) in zip(widths, method.parts) {
        parts.append(RowStatePart(columns: start..<(start + width), compiled: .shared(tableau)))
        start += width
    }
    // Every stage is evaluated (no first-same-as-last shortcut across parts); a field may skip the
    // parts of a stage that no weight uses.
    let stageUses = (0..<method.stages).map { i in
        (0..<widths.count).reduce(UInt64(0)) { mask, p in method.usesDerivative(stage: i, part: p) ? mask | 1 << p : mask }
    }
    return (parts, stageUses)
}

/// Integrates the row-separable `field` over a sequence of input intervals with a semi-implicit
/// method: each stage divides the field by 1 + γᵢ h λ, λ the decay rate the field splits off
/// (``RowSeparableField/splitsDiagonalDecay``). Otherwise as ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``
/// with a tableau.
///
/// - Throws: ``SolveError/unsupportedMethod(_:)`` when the field does not split off its decay, or
///   (a partitioned method) its state does not have one part per part of the method; otherwise as
///   with a tableau.
@inlinable
public func integrateRows<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, input: Tensor<Scalar>, initialState: Tensor<Scalar>,
    intervals: RowIntervals<Scalar>, semiImplicit method: SemiImplicitTableau, maxStep: Scalar, lengths: [Int]? = nil,
    detachedBefore cut: Int? = nil, outputWidth: Int? = nil
) throws(SolveError) -> RowSequenceResult<Scalar> {
    guard field.splitsDiagonalDecay else {
        throw .unsupportedMethod(
            "\(method.name) takes a field's decay implicitly; this field (\(type(of: field))) does not split off its decay rate (RowSeparableField.splitsDiagonalDecay)"
        )
    }
    // One tableau advances every column; one per part needs the field's parts.
    var (parts, stageUses): ([RowStatePart<Scalar>], [UInt64]?) = ([], nil)
    if method.explicitMethod.parts.count > 1 {
        (parts, stageUses) = try partitionedParts(field, method.explicitMethod)
    } else {
        parts = [RowStatePart(columns: 0..<field.stateWidth, compiled: CompiledTableau<Scalar>.shared(method.tableau))]
    }
    let (time, batch, _, h) = try checkedRowIntegration(
        field, input: input, initialState: initialState, maxStep: maxStep, lengths: lengths, outputWidth: outputWidth)
    // Every stage is evaluated: the last stage of a first-same-as-last tableau, taken with its own
    // γ, is not the next step's first.
    return try runRowPass(
        field, parts: parts, stageUses: stageUses, implicitWeights: method.gamma.map { Scalar($0) },
        evaluatedStages: method.stages, shape: (time, batch, h), input: input, initialState: initialState,
        intervals: intervals, maxStep: maxStep, lengths: lengths, detachedBefore: cut)
}

/// The shapes of an ``integrateRows(_:input:initialState:intervals:method:maxStep:lengths:detachedBefore:outputWidth:)``
/// call, checked: (time, batch, state width, output width).
@inlinable
func checkedRowIntegration<Scalar: TensorScalar>(
    _ field: any RowSeparableField<Scalar>, input: Tensor<Scalar>, initialState: Tensor<Scalar>, maxStep: Scalar,
    lengths: [Int]?, outputWidth: Int?
) throws(SolveError) -> (time: Int, batch: Int, stateWidth: Int, outputWidth: Int) {
    require(
        input.rank == 3 && input.shape[2] == field.inputWidth,
        "integrateRows: the input must be [time, batch, \(field.inputWidth)], got \(describeShape(input.shape))")
    let (time, batch, s) = (input.shape[0], input.shape[1], field.stateWidth)
    require(
        initialState.shape == [batch, s],
        "integrateRows: the initial state must be [\(batch), \(s)], got \(describeShape(initialState.shape))")
    let h = outputWidth ?? s
    require(h >= 0 && h <= s, "integrateRows: outputWidth \(h) outside 0...\(s)")
    require(
        lengths.map { $0.count == batch && $0.allSatisfy { $0 >= 0 && $0 <= time } } ?? true,
        "integrateRows: lengths must give one count in 0...\(time) per row")
    guard maxStep.isFinite && maxStep > 0 else {
        throw .invalidStepBounds("the fused integration needs a finite positive step, got \(maxStep)")
    }
    return (time, batch, s, h)
}

/// Columns of a state row and the compiled tableau that advances them.
@usableFromInline
struct RowStatePart<Scalar: TensorScalar> {
    @usableFromInline let columns: Range<Int>
    @usableFromInline let compiled: CompiledTableau<Scalar>

    @inlinable
    init(columns: Range<Int>, compiled: CompiledTableau<Scalar>) { (self.columns, self.compiled) = (columns, compiled) }

    /// Stage `stage`'s row of A, or b when `stage` is nil.
    @inlinable
    func weights(stage: Int?) -> UnsafePointer<Scalar> {
        UnsafePointer(stage.map { compiled.a + $0 * compiled.stageCount } ?? compiled.b)
    }
}

/// The most memory a fused integration keeps for its stages (states, derivatives, saved
/// activations and their gradients, estimated before anything is allocated): 8 GiB.
public let maximumRowIntegrationBytes = 8 << 30

// MARK: - The grid

/// Steps per row and interval, their sizes, and where each interval's steps are kept.
@usableFromInline
struct RowGrid<Scalar: TensorScalar> {
    /// n for row b in interval k, at k·batch + b (0 after the row's length).
    @usableFromInline let stepCounts: [Int]
    /// g / n, at k·batch + b.
    @usableFromInline let stepSizes: [Scalar]
    /// The most steps any row takes in interval k: the batch's lockstep count.
    @usableFromInline let maxCounts: [Int]
    /// The step size of interval k when every row takes all its lockstep steps with the same size
    /// (the batch then advances as one block); nil when rows differ.
    @usableFromInline let uniformStepSizes: [Scalar?]
    /// The first lockstep of interval k (k = 0…time: the last entry is the total).
    @usableFromInline let firstStep: [Int]
    /// The stages evaluated per step (s, or s − 1 for FSAL tableaus, whose last stage is the next
    /// step's first).
    @usableFromInline let evaluatedStages: Int

    @inlinable var totalSteps: Int { firstStep[firstStep.count - 1] }

    @inlinable
    init(
        _ intervals: RowIntervals<Scalar>, time: Int, batch: Int, lengths: [Int]?, maxStep: Scalar, evaluatedStages: Int,
        scalarsPerSlot: Int, scalarSize: Int
    ) throws(SolveError) {
        var counts = [Int](repeating: 0, count: time * batch)
        var sizes = [Scalar](repeating: 0, count: time * batch)
        var maxCounts = [Int](repeating: 0, count: time)
        var uniform = [Scalar?](repeating: nil, count: time)
        func steps(_ g: Scalar, row: Int, interval k: Int) throws(SolveError) -> Int {
            guard g.isFinite && g > 0 else {
                throw .invalidStepBounds("interval \(k) of row \(row) has length \(g); intervals must be finite and positive")
            }
            guard let n = equalStepCount(g, maxStep: maxStep) else {
                throw .invalidStepBounds("interval \(k) of row \(row) (length \(g)) would need more than 10⁹ steps of \(maxStep)")
            }
            return n
        }
        switch intervals {
        case .constant(let g):
            guard g.isFinite && g > 0 else {
                throw .invalidStepBounds("the intervals must have a finite positive length, got \(g)")
            }
            let n = try steps(g, row: 0, interval: 0)
            let size = g / Scalar(n)
            if lengths == nil {
                counts = Array(repeating: n, count: time * batch)
                sizes = Array(repeating: size, count: time * batch)
                maxCounts = Array(repeating: batch > 0 ? n : 0, count: time)
                uniform = Array(repeating: batch > 0 ? size : nil, count: time)
            } else {
                for k in 0..<time {
                    var all = true
                    for b in 0..<batch {
                        if let lengths, k >= lengths[b] {
                            all = false
                        } else {
                            counts[k * batch + b] = n
                            sizes[k * batch + b] = size
                            maxCounts[k] = n
                        }
                    }
                    if all && batch > 0 { uniform[k] = size }
                }
            }
        case .lengths(let tensor):
            require(
                tensor.shape == [time, batch],
                "integrateRows: interval lengths must be [\(time), \(batch)], got \(describeShape(tensor.shape))")
            let values = tensor.scalars
            for k in 0..<time {
                for b in 0..<batch where lengths.map({ k < $0[b] }) ?? true {
                    let n = try steps(values[k * batch + b], row: b, interval: k)
                    counts[k * batch + b] = n
                    sizes[k * batch + b] = values[k * batch + b] / Scalar(n)
                    maxCounts[k] = Swift.max(maxCounts[k], n)
                }
                let row = counts[(k * batch)..<((k + 1) * batch)]
                if batch > 0 && row.allSatisfy({ $0 == maxCounts[k] })
                    && sizes[(k * batch)..<((k + 1) * batch)].allSatisfy({ $0 == sizes[k * batch] })
                {
                    uniform[k] = sizes[k * batch]
                }
            }
        }
        var first = [0]
        first.reserveCapacity(time + 1)
        for k in 0..<time { first.append(first[k] + maxCounts[k]) }
        let bytes =
            Double(first[time]) * Double(evaluatedStages) * Double(batch) * Double(2 * scalarsPerSlot) * Double(scalarSize)
        guard bytes <= Double(maximumRowIntegrationBytes) else {
            throw .invalidStepBounds(
                "\(first[time]) steps of \(evaluatedStages) stages for \(batch) rows would keep about \(Int(bytes / Double(1 << 20))) MiB of stage data (the limit is \(maximumRowIntegrationBytes >> 20) MiB): use fewer substeps, shorter sequences or fewer rows"
            )
        }
        stepCounts = counts
        stepSizes = sizes
        self.maxCounts = maxCounts
        uniformStepSizes = uniform
        firstStep = first
        self.evaluatedStages = evaluatedStages
    }
}

// MARK: - One pass

/// The buffers and loops of one fused integration (forward), and its pullback.
@usableFromInline
struct RowSequencePass<Scalar: TensorScalar> {
    /// The field, behind an existential: the loops here are specialized for the scalar type, and the
    /// field's methods are one call per stage and block of rows.
    @usableFromInline let field: any RowSeparableField<Scalar>
    /// The state's parts and their tableaus: one part of every column for a plain tableau.
    @usableFromInline let parts: [RowStatePart<Scalar>]
    /// Per stage, the parts whose derivative the method uses (bit p for part p); nil: every part.
    @usableFromInline let stageUses: [UInt64]?
    /// Per stage, γᵢ of a semi-implicit method; nil for explicit and partitioned methods.
    @usableFromInline let implicitWeights: [Scalar]?
    @usableFromInline let grid: RowGrid<Scalar>
    @usableFromInline let batch: Int, time: Int, outputWidth: Int
    @usableFromInline let stateWidth: Int, savedWidth: Int, inputWidth: Int
    /// Evaluated stages per step.
    @usableFromInline let stages: Int

    @inlinable
    init(
        _ field: any RowSeparableField<Scalar>, parts: [RowStatePart<Scalar>], stageUses: [UInt64]?,
        implicitWeights: [Scalar]?, grid: RowGrid<Scalar>, batch: Int, time: Int, outputWidth: Int
    ) {
        self.field = field
        (self.parts, self.stageUses, self.implicitWeights) = (parts, stageUses, implicitWeights)
        self.grid = grid
        (self.batch, self.time, self.outputWidth) = (batch, time, outputWidth)
        (stateWidth, savedWidth, inputWidth) = (field.stateWidth, field.savedWidth, field.inputWidth)
        stages = grid.evaluatedStages
    }

    /// Scalars per row of the packed result: every interval's outputs, then the final state.
    @inlinable var width: Int { time * outputWidth + stateWidth }
    /// The number of stage slots: (step, stage, row).
    @inlinable var slotCount: Int { grid.totalSteps * stages * batch }
    /// The first scalar of slot (step q, stage i, row b) in a slab of `width`-scalar slots: stage by
    /// stage, so that one stage's slots over all steps are contiguous.
    @inlinable func slot(_ q: Int, _ i: Int, _ b: Int, _ width: Int) -> Int {
        ((i * grid.totalSteps + q) * batch + b) * width
    }

    /// The stages whose evaluations use product `product`: those that use the derivative of its
    /// ``RowProduct/part`` (every stage when it has none, or for a plain tableau).
    @inlinable func stagesUsing(_ product: RowProduct<Scalar>) -> [Int] {
        guard let part = product.part, let stageUses else { return Array(0..<stages) }
        return (0..<stages).filter { stageUses[$0] >> UInt64(part) & 1 == 1 }
    }

    /// The blocks of rows that run in parallel, for the field's `products` (asked for once per pass:
    /// a field may build its weights, such as AntisymmetricRNN's W − Wᵀ − γI, on the tape).
    @inlinable func blocks(_ products: [RowProduct<Scalar>]) -> [Range<Int>] {
        let perSlot = Swift.max(products.reduce(0) { $0 + $1.inputWidth * $1.outputWidth }, stateWidth)
        let work = slotCount * (perSlot + field.evaluationWork)
        return rowBlocks(rows: batch, work: work)
    }

    @inlinable
    func run(
        input: Tensor<Scalar>, initialState: Tensor<Scalar>, intervals: RowIntervals<Scalar>, detachedBefore cut: Int?
    ) -> RowSequenceResult<Scalar> {
        let (h, s, width, stages) = (outputWidth, stateWidth, width, stages)
        let needsTimeGradient: Bool
        if case .lengths(let lengths) = intervals { needsTimeGradient = lengths.isRecorded } else { needsTimeGradient = false }
        let buffers = RowSequenceBuffers<Scalar>(
            slots: slotCount, batch: batch, stateWidth: s, savedWidth: savedWidth, stages: stages,
            keepsDerivatives: needsTimeGradient)
        let products = field.products
        let partCount = field.stateParts.count
        require(
            products.allSatisfy { $0.part.map { $0 >= 0 && $0 < partCount } ?? true },
            "integrateRows: a product's part must be one of the field's \(partCount) state parts")
        let context = RowFieldContext<Scalar>(field: field, products: products, batch: batch, transposed: false)
        let blocks = blocks(products)
        context.threadsProducts = blocks.count == 1
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: blocks.count)
        defer { failures.deallocate() }
        failures.initialize(repeating: time, count: blocks.count)
        let (ys, ks, kept) = (buffers.states, buffers.derivatives, buffers.saved)
        let totalSteps = grid.totalSteps
        let stepSpace = Workspace(count: implicitWeights == nil ? 1 : batch, of: Scalar.self)
        let rowSteps = stepSpace.pointer(Scalar.self)

        let packed = Tensor<Scalar>.filled([batch, width]) { out in
            withBaseAddresses([input, initialState][...]) { bases in
                let (p, h0) = (bases[0], bases[1])
                /// Where row `row`'s state is before lockstep `q`.
                func stateRow(_ q: Int, _ row: Int) -> UnsafeMutablePointer<Scalar> {
                    q < totalSteps ? ys + slot(q, 0, row, s) : out + row * width + time * h
                }
                forEachRowBlock(blocks) { block, rows in
                    let (r0, m) = (rows.lowerBound, rows.count)
                    for row in rows { stateRow(0, row).update(from: h0 + row * s, count: s) }
                    let stageStride = buffers.derivativeStageStride(batch: batch)
                    for k in 0..<time {
                        let first = grid.firstStep[k]
                        let uniform = grid.uniformStepSizes[k]
                        let input = p + (k * batch + r0) * inputWidth
                        for j in 0..<grid.maxCounts[k] {
                            let q = first + j
                            let y = ys + slot(q, 0, r0, s)
                            let k0 = ks + buffers.derivativeSlot(q, 0, r0, stages: stages, batch: batch)
                            for i in 0..<stages {
                                let yi = ys + slot(q, i, r0, s)
                                if i > 0 {
                                    // Yᵢ = y + Δt Σₗ aᵢₗ Kₗ (rows that have finished the interval: Yᵢ = y).
                                    if let dt = uniform {
                                        _ = combineParts(
                                            yi, base: y, dt: dt, stage: i, count: i, derivatives: k0, stageStride: stageStride,
                                            rows: m, checksFinite: false)
                                    } else {
                                        for r in 0..<m {
                                            let index = k * batch + r0 + r
                                            let (target, base) = (yi + r * s, y + r * s)
                                            if j < grid.stepCounts[index] {
                                                _ = combineParts(
                                                    target, base: base, dt: grid.stepSizes[index], stage: i, count: i,
                                                    derivatives: k0 + r * s, stageStride: stageStride, rows: 1,
                                                    checksFinite: false)
                                            } else {
                                                target.update(from: base, count: s)
                                            }
                                        }
                                    }
                                }
                                var rowsView = RowFieldEvaluation(
                                    count: m, state: UnsafePointer(yi), input: input, inputStride: inputWidth,
                                    derivative: ks + buffers.derivativeSlot(q, i, r0, stages: stages, batch: batch),
                                    saved: kept + slot(q, i, r0, savedWidth), context: context, firstRow: r0,
                                    usedParts: stageUses?[i] ?? ~0,
                                    implicitSteps: implicitSteps(
                                        stage: i, interval: k, lockstep: j, uniform: uniform, rows: r0, count: m,
                                        buffer: rowSteps))
                                field.evaluate(&rowsView)
                            }
                            // y ← y + Δt Σᵢ bᵢ Kᵢ, into the next step's first stage (the final state
                            // after the last step).
                            var finite = true
                            if let dt = uniform, q + 1 < totalSteps {
                                finite = combineParts(
                                    ys + slot(q + 1, 0, r0, s), base: y, dt: dt, stage: nil, count: stages, derivatives: k0,
                                    stageStride: stageStride, rows: m, checksFinite: true)
                            } else {
                                for r in 0..<m {
                                    let row = r0 + r
                                    let index = k * batch + row
                                    let (next, base) = (stateRow(q + 1, row), y + r * s)
                                    if j < grid.stepCounts[index] {
                                        finite =
                                            combineParts(
                                                next, base: base, dt: grid.stepSizes[index], stage: nil, count: stages,
                                                derivatives: k0 + r * s, stageStride: stageStride, rows: 1, checksFinite: true)
                                            && finite
                                    } else {
                                        next.update(from: base, count: s)
                                    }
                                }
                            }
                            if !finite {
                                failures[block] = k
                                return
                            }
                        }
                        let after = grid.firstStep[k + 1]
                        for row in rows {
                            // Intervals after a row's length output zeros.
                            let output = out + row * width + k * h
                            if grid.stepCounts[k * batch + row] > 0 {
                                output.update(from: stateRow(after, row), count: h)
                            } else {
                                output.update(repeating: 0, count: h)
                            }
                        }
                    }
                }
            }
        }
        let failed = (0..<blocks.count).map { failures[$0] }.min()!
        var statistics = SolveStatistics()
        if failed < time {
            // The outputs before interval `failed` and the state entering it, as constants.
            let steps = grid.firstStep[failed]
            (statistics.acceptedSteps, statistics.evaluations) = (steps, steps * stages)
            statistics.rejectedSteps = 1
            let partial = Tensor<Scalar>.filled([batch, failed, h]) { target in
                packed.withUnsafeBufferPointer { source in
                    for row in 0..<batch {
                        (target + row * failed * h).update(from: source.baseAddress! + row * width, count: failed * h)
                    }
                }
            }
            let last = Tensor<Scalar>.filled([batch, s]) { target in
                for row in 0..<batch {
                    let q = grid.firstStep[failed]
                    let source = q < totalSteps ? UnsafePointer(ys + slot(q, 0, row, s)) : nil
                    if let source {
                        (target + row * s).update(from: source, count: s)
                    } else {
                        packed.withUnsafeBufferPointer {
                            (target + row * s).update(from: $0.baseAddress! + row * width + time * h, count: s)
                        }
                    }
                }
            }
            return RowSequenceResult(outputs: partial, finalState: last, statistics: statistics, failedInterval: failed)
        }
        (statistics.acceptedSteps, statistics.evaluations) = (totalSteps, totalSteps * stages)
        let result = record(
            packed, products: products, input: input, initialState: initialState, intervals: intervals, buffers: buffers,
            detachedBefore: cut)
        return RowSequenceResult(
            outputs: result.slice(alongAxis: 1, 0..<(time * h)).reshaped(to: [batch, time, h]),
            finalState: result.slice(alongAxis: 1, (time * h)..<width), statistics: statistics, failedInterval: nil)
    }

    /// Stage `i`'s implicit steps γᵢ h for the `m` rows from `r0` in lockstep `j` of interval `k`: one
    /// for the block when its step size is `uniform`, else per row in `buffer` (zero for rows done
    /// with the interval).
    @inlinable
    func implicitSteps(
        stage i: Int, interval k: Int, lockstep j: Int, uniform: Scalar?, rows r0: Int, count m: Int,
        buffer: UnsafeMutablePointer<Scalar>
    ) -> RowImplicitSteps<Scalar> {
        guard let gamma = implicitWeights?[i], gamma != 0 else { return .uniform(0) }
        if let dt = uniform { return .uniform(gamma * dt) }
        for r in 0..<m {
            let index = k * batch + r0 + r
            buffer[r0 + r] = j < grid.stepCounts[index] ? gamma * grid.stepSizes[index] : 0
        }
        return .perRow(UnsafePointer(buffer + r0))
    }

    /// ``combine(_:base:dt:weights:count:derivatives:stageStride:elements:checksFinite:)`` part by part
    /// over `rows` consecutive state rows, each part with its tableau's weights: stage `stage`'s row of
    /// A, or b when `stage` is nil. (One call over all the rows when the state is one part.)
    @inlinable
    func combineParts(
        _ target: UnsafeMutablePointer<Scalar>, base: UnsafePointer<Scalar>, dt: Scalar, stage: Int?, count: Int,
        derivatives: UnsafePointer<Scalar>, stageStride: Int, rows: Int, checksFinite: Bool
    ) -> Bool {
        let s = stateWidth
        guard parts.count > 1 else {
            return combine(
                target, base: base, dt: dt, weights: parts[0].weights(stage: stage), count: count, derivatives: derivatives,
                stageStride: stageStride, elements: rows * s, checksFinite: checksFinite)
        }
        var finite = true
        for r in 0..<rows {
            for part in parts {
                let offset = r * s + part.columns.lowerBound
                finite =
                    combine(
                        target + offset, base: base + offset, dt: dt, weights: part.weights(stage: stage), count: count,
                        derivatives: derivatives + offset, stageStride: stageStride, elements: part.columns.count,
                        checksFinite: checksFinite) && finite
            }
        }
        return finite
    }

    /// Stage `i`'s dKᵢ = Δt (bᵢ ḡ + Σₗ₍>ᵢ₎ aₗᵢ dYₗ) part by part over `rows` consecutive rows, each part
    /// with its tableau's weights (``stageGradientInput(_:state:stateWeight:later:stageStride:weights:from:to:dt:elements:)``);
    /// `scratch` holds `stages` scalars.
    @inlinable
    func stageGradientParts(
        _ target: UnsafeMutablePointer<Scalar>, state: UnsafePointer<Scalar>, later: UnsafePointer<Scalar>, stageStride: Int,
        stage i: Int, dt: Scalar, rows: Int, scratch: UnsafeMutablePointer<Scalar>
    ) {
        let s = stateWidth
        for part in parts {
            let compiled = part.compiled
            for l in (i + 1)..<stages { scratch[l] = compiled.a[l * compiled.stageCount + i] }
            guard parts.count > 1 else {
                stageGradientInput(
                    target, state: state, stateWeight: compiled.b[i], later: later, stageStride: stageStride, weights: scratch,
                    from: i + 1, to: stages, dt: dt, elements: rows * s)
                return
            }
            for r in 0..<rows {
                let offset = r * s + part.columns.lowerBound
                stageGradientInput(
                    target + offset, state: state + offset, stateWeight: compiled.b[i], later: later + offset,
                    stageStride: stageStride, weights: scratch, from: i + 1, to: stages, dt: dt, elements: part.columns.count)
            }
        }
    }

    // MARK: Backward

    /// `packed` recorded with the pass's pullback.
    @inlinable
    func record(
        _ packed: Tensor<Scalar>, products: [RowProduct<Scalar>], input: Tensor<Scalar>, initialState: Tensor<Scalar>,
        intervals: RowIntervals<Scalar>, buffers: RowSequenceBuffers<Scalar>, detachedBefore cut: Int?
    ) -> Tensor<Scalar> {
        var operands = [input, initialState] + products.map { $0.weight } + products.compactMap { $0.bias }
        operands += field.elementwiseParameters
        var intervalTensor: Tensor<Scalar>?
        if case .lengths(let lengths) = intervals {
            intervalTensor = lengths
            operands.append(lengths)
        }
        guard operands.contains(where: { $0.isRecorded }) else { return packed }
        // The pullback holds constants only: a recorded tensor would keep its tape alive (a cycle).
        let constant = UncheckedSendable(
            RowSequencePass(
                field.detached, parts: parts, stageUses: stageUses, implicitWeights: implicitWeights, grid: grid,
                batch: batch, time: time, outputWidth: outputWidth))
        let needsInitialState = initialState.isRecorded
        let needsIntervals = intervalTensor?.isRecorded ?? false
        return Tensor.recording(packed, operands: operands) { gradient in
            constant.value.backpropagate(
                gradient, buffers: buffers, needsInitialState: needsInitialState, needsIntervals: needsIntervals,
                detachedBefore: cut)
        }
    }

    /// The gradients of the input, the initial state, the products' weights and biases, the
    /// elementwise parameters and the interval lengths, from the packed result's gradient.
    @inlinable
    func backpropagate(
        _ gradient: Tensor<Scalar>, buffers: RowSequenceBuffers<Scalar>, needsInitialState: Bool, needsIntervals: Bool,
        detachedBefore cut: Int?
    ) -> [Tensor<Scalar>?] {
        let (h, s, g, width, stages) = (outputWidth, stateWidth, inputWidth, width, stages)
        let products = field.products
        let parameters = field.elementwiseParameters
        let context = RowFieldContext<Scalar>(field: field, products: products, batch: batch, transposed: true)
        let blocks = blocks(products)
        context.threadsProducts = blocks.count == 1
        let (ys, ks, kept) = (buffers.states, buffers.derivatives, buffers.saved)
        // The products' result gradients: kept per slot for the weight gradients, or (when every
        // interval is one evaluation and the field says dR is a block of dP) read from dP.
        let oneStepPerInterval = stages == 1 && grid.maxCounts.allSatisfy { $0 == 1 }
        let aliased = products.map { $0.inputGradientColumn != nil && oneStepPerInterval }
        let productGradients = products.indices.map { j in
            Workspace(count: (aliased[j] ? batch : slotCount) * products[j].outputWidth, of: Scalar.self)
        }
        let stateGradient = Workspace(count: batch * s, of: Scalar.self)  // ḡ, then the state entering each step
        let stageGradients = Workspace(count: stages * batch * s, of: Scalar.self)  // dYᵢ of the current step
        let derivativeGradient = Workspace(count: batch * s, of: Scalar.self)  // dKᵢ
        let parameterGradients = Workspace(
            count: blocks.count * Swift.max(parameters.reduce(0) { $0 + $1.scalarCount }, 1), of: Scalar.self)
        let intervalGradient = Workspace(count: needsIntervals ? time * batch : 1, of: Scalar.self)
        let pointerTables = Workspace(
            count: blocks.count * Swift.max(products.count + parameters.count, 1), of: UnsafeMutablePointer<Scalar>.self)
        let (ds, dy, dk) = (
            stateGradient.pointer(Scalar.self), stageGradients.pointer(Scalar.self), derivativeGradient.pointer(Scalar.self)
        )
        let dgap = intervalGradient.pointer(Scalar.self)
        if needsIntervals { dgap.update(repeating: 0, count: time * batch) }
        let parameterBase = parameterGradients.pointer(Scalar.self)
        let parameterTotal = parameters.reduce(0) { $0 + $1.scalarCount }
        parameterBase.update(repeating: 0, count: blocks.count * Swift.max(parameterTotal, 1))
        let tables = pointerTables.pointer(UnsafeMutablePointer<Scalar>.self)
        let weightTables = Workspace(count: blocks.count * stages, of: Scalar.self)  // aₗᵢ for l > i, per block
        // One stage's input gradient, for intervals of several evaluations.
        let several = stages * (grid.maxCounts.max() ?? 0) > 1
        let inputScratchSpace = Workspace(count: several ? batch * g : 1, of: Scalar.self)
        let inputScratch = inputScratchSpace.pointer(Scalar.self)
        // A semi-implicit method's per-row steps, and with interval gradients their ∂L/∂h.
        let semiImplicit = implicitWeights != nil
        let stepSpace = Workspace(count: semiImplicit ? 2 * batch : 1, of: Scalar.self)
        let (rowSteps, rowStepGradients) = (stepSpace.pointer(Scalar.self), stepSpace.pointer(Scalar.self) + batch)

        let dP = Tensor<Scalar>.filled([time, batch, g]) { dp in
            gradient.withUnsafeBufferPointer { gradientBuffer in
                let dOut = gradientBuffer.baseAddress!
                forEachRowBlock(blocks) { block, rows in
                    let (r0, m) = (rows.lowerBound, rows.count)
                    let table = tables + block * Swift.max(products.count + parameters.count, 1)
                    let laterWeights = weightTables.pointer(Scalar.self) + block * stages
                    var offset = block * Swift.max(parameterTotal, 1)
                    for (i, parameter) in parameters.enumerated() {
                        table[products.count + i] = parameterBase + offset
                        offset += parameter.scalarCount
                    }
                    for row in rows { (ds + row * s).update(from: dOut + row * width + time * h, count: s) }
                    for k in stride(from: time - 1, through: 0, by: -1) {
                        // The field writes its input gradient: straight into dP when the interval is
                        // one evaluation, else into a scratch row block summed into dP.
                        let inputGradient = dp + (k * batch + r0) * g
                        let direct = stages == 1 && grid.maxCounts[k] == 1
                        if grid.maxCounts[k] == 0 { inputGradient.update(repeating: 0, count: m * g) }
                        var firstContribution = true
                        for row in rows where grid.stepCounts[k * batch + row] > 0 {
                            let (target, source) = (ds + row * s, dOut + row * width + k * h)
                            for c in 0..<h { target[c] += source[c] }
                        }
                        let first = grid.firstStep[k]
                        let uniform = grid.uniformStepSizes[k]
                        for j in stride(from: grid.maxCounts[k] - 1, through: 0, by: -1) {
                            let q = first + j
                            for i in stride(from: stages - 1, through: 0, by: -1) {
                                // dKᵢ = Δt (bᵢ ḡ + Σₗ₍>ᵢ₎ aₗᵢ dYₗ); zero for rows done with the interval. The
                                // step's ∂L/∂Δt is Σᵢ Kᵢ·dKᵢ / Δt (with Δt = g/n for the interval's g).
                                if let dt = uniform, !needsIntervals {
                                    stageGradientParts(
                                        dk + r0 * s, state: ds + r0 * s, later: dy + r0 * s, stageStride: batch * s, stage: i,
                                        dt: dt, rows: m, scratch: laterWeights)
                                } else {
                                    for r in 0..<m {
                                        let row = r0 + r
                                        let index = k * batch + row
                                        let target = dk + row * s
                                        guard j < grid.stepCounts[index] else {
                                            target.update(repeating: 0, count: s)
                                            continue
                                        }
                                        stageGradientParts(
                                            target, state: ds + row * s, later: dy + row * s, stageStride: batch * s, stage: i,
                                            dt: 1, rows: 1, scratch: laterWeights)
                                        if needsIntervals {
                                            let stage = ks + buffers.derivativeSlot(q, i, row, stages: stages, batch: batch)
                                            var dot: Scalar = 0
                                            for c in 0..<s { dot += target[c] * stage[c] }
                                            dgap[index] += dot / Scalar(grid.stepCounts[index])
                                        }
                                        let dt = grid.stepSizes[index]
                                        for c in 0..<s { target[c] *= dt }
                                    }
                                }
                                // Stage 0's dY is needed by no other stage: it goes straight into the
                                // state's gradient; the others are kept for the earlier stages' dK.
                                let stage = i == 0 ? ds + r0 * s : dy + (i * batch + r0) * s
                                if i > 0 { stage.update(repeating: 0, count: m * s) }
                                for j in products.indices {
                                    let n = products[j].outputWidth
                                    table[j] =
                                        productGradients[j].pointer(Scalar.self)
                                        + (aliased[j] ? r0 : slot(q, i, r0, 1)) * n
                                }
                                let stageInputGradient = direct ? inputGradient : inputScratch + r0 * g
                                let steps = implicitSteps(
                                    stage: i, interval: k, lockstep: j, uniform: uniform, rows: r0, count: m,
                                    buffer: rowSteps)
                                let stepGradients = semiImplicit && needsIntervals ? rowStepGradients + r0 : nil
                                stepGradients?.update(repeating: 0, count: m)
                                var rowsView = RowFieldPullback(
                                    count: m, state: UnsafePointer(ys + slot(q, i, r0, s)),
                                    saved: UnsafePointer(kept + slot(q, i, r0, savedWidth)),
                                    derivativeGradient: UnsafePointer(dk + r0 * s), stateGradient: stage,
                                    inputGradient: stageInputGradient, inputStride: g, context: context, firstRow: r0,
                                    productGradients: UnsafePointer(table),
                                    parameterGradients: UnsafePointer(table + products.count), usedParts: stageUses?[i] ?? ~0,
                                    implicitSteps: steps, implicitStepGradient: stepGradients)
                                field.pullback(&rowsView)
                                if let stepGradients, let gamma = implicitWeights?[i] {
                                    // h = γᵢ g / n for the interval's length g.
                                    for r in 0..<m where j < grid.stepCounts[k * batch + r0 + r] {
                                        let index = k * batch + r0 + r
                                        dgap[index] += gamma * stepGradients[r] / Scalar(grid.stepCounts[index])
                                    }
                                }
                                if !direct {
                                    if firstContribution {
                                        inputGradient.update(from: stageInputGradient, count: m * g)
                                    } else {
                                        for c in 0..<(m * g) { inputGradient[c] += stageInputGradient[c] }
                                    }
                                }
                                firstContribution = false
                            }
                            // The state entering the step: ḡ + Σᵢ dYᵢ.
                            for i in 1..<Swift.max(stages, 1) {
                                let (target, source) = (ds + r0 * s, dy + (i * batch + r0) * s)
                                for c in 0..<(m * s) { target[c] += source[c] }
                            }
                        }
                        if k == cut { (ds + r0 * s).update(repeating: 0, count: m * s) }
                    }
                }
            }
        }
        // The weights' gradients: one product over the slots each (Aᵀ·dR) — all of them, or per
        // stage that uses the product (a partitioned method's product of one part) — and the biases'
        // column sums.
        var weightGradients: [Tensor<Scalar>] = []
        var biasGradients: [Tensor<Scalar>] = []
        dP.withUnsafeBufferPointer { dpBuffer in
            for (j, product) in products.enumerated() {
                let (k, n) = (product.inputWidth, product.outputWidth)
                let used = stagesUsing(product)
                let stageSlots = grid.totalSteps * batch
                let (dR, ldr, ranges): (UnsafePointer<Scalar>, Int, [Range<Int>]) =
                    aliased[j]
                    ? (dpBuffer.baseAddress! + product.inputGradientColumn!, g, [0..<(time * batch)])
                    : (
                        UnsafePointer(productGradients[j].pointer(Scalar.self)), n,
                        used.count == stages ? [0..<slotCount] : used.map { ($0 * stageSlots)..<(($0 + 1) * stageSlots) }
                    )
                let (operand, lda): (UnsafePointer<Scalar>, Int) =
                    switch product.operand {
                    case .state(let column): (UnsafePointer(ys) + column, s)
                    case .saved(let column): (UnsafePointer(kept) + column, savedWidth)
                    }
                weightGradients.append(
                    Tensor.filled([k, n]) { dW in
                        dW.update(repeating: 0, count: k * n)
                        for rows in ranges {
                            stridedGemm(
                                m: k, n: n, k: rows.count, a: operand + rows.lowerBound * lda, lda: lda, transposeA: true,
                                b: dR + rows.lowerBound * ldr, ldb: ldr, transposeB: false, c: dW, ldc: n)
                        }
                    })
                if product.bias != nil {
                    biasGradients.append(
                        Tensor.filled([n]) { db in
                            db.update(repeating: 0, count: n)
                            for row in ranges.joined() {
                                let line = dR + row * ldr
                                for c in 0..<n { db[c] += line[c] }
                            }
                        })
                }
            }
        }
        var parameterGradientTensors: [Tensor<Scalar>] = []
        var offset = 0
        for parameter in parameters {
            let count = parameter.scalarCount
            parameterGradientTensors.append(
                Tensor.filled(parameter.shape) { target in
                    target.update(repeating: 0, count: count)
                    for block in 0..<blocks.count {
                        let source = parameterBase + block * Swift.max(parameterTotal, 1) + offset
                        for c in 0..<count { target[c] += source[c] }
                    }
                })
            offset += count
        }
        var gradients: [Tensor<Scalar>?] = [dP]
        gradients.append(needsInitialState ? Tensor<Scalar>.filled([batch, s]) { $0.update(from: ds, count: batch * s) } : nil)
        gradients += weightGradients.map { Optional($0) } + biasGradients.map { Optional($0) }
        gradients += parameterGradientTensors.map { Optional($0) }
        if needsIntervals {
            gradients.append(Tensor<Scalar>.filled([time, batch]) { $0.update(from: dgap, count: time * batch) })
        }
        return gradients
    }
}

// MARK: - Buffers and row arithmetic

/// The slabs a fused pass keeps from its forward pass for the backward: every stage's state and
/// saved rows, and its derivative rows when the interval lengths need a gradient (otherwise one
/// step's worth, reused).
@usableFromInline
final class RowSequenceBuffers<Scalar: TensorScalar>: @unchecked Sendable {
    // Sendable: written by the forward pass (each block its own rows) before the pullback reads it.
    @usableFromInline let stateSlab: Workspace
    @usableFromInline let savedSlab: Workspace
    @usableFromInline let derivativeSlab: Workspace
    @usableFromInline let keepsDerivatives: Bool
    @usableFromInline let stateWidth: Int

    @inlinable
    init(slots: Int, batch: Int, stateWidth: Int, savedWidth: Int, stages: Int, keepsDerivatives: Bool) {
        stateSlab = Workspace(count: slots * stateWidth, of: Scalar.self)
        savedSlab = Workspace(count: slots * savedWidth, of: Scalar.self)
        derivativeSlab = Workspace(count: (keepsDerivatives ? slots : stages * batch) * stateWidth, of: Scalar.self)
        self.keepsDerivatives = keepsDerivatives
        self.stateWidth = stateWidth
    }

    @inlinable var states: UnsafeMutablePointer<Scalar> { stateSlab.pointer(Scalar.self) }
    @inlinable var saved: UnsafeMutablePointer<Scalar> { savedSlab.pointer(Scalar.self) }
    @inlinable var derivatives: UnsafeMutablePointer<Scalar> { derivativeSlab.pointer(Scalar.self) }

    /// The first scalar of the derivative row (step q, stage i, row b): kept per slot, or in one
    /// step's stages.
    @inlinable
    func derivativeSlot(_ q: Int, _ i: Int, _ b: Int, stages: Int, batch: Int) -> Int {
        keepsDerivatives ? ((q * stages + i) * batch + b) * stateWidth : (i * batch + b) * stateWidth
    }

    /// The distance between the derivative rows of consecutive stages of one row.
    @inlinable
    func derivativeStageStride(batch: Int) -> Int { batch * stateWidth }
}

/// target = base + Δt Σₗ wₗ Kₗ over `elements` scalars, Kₗ at `derivatives + l · stageStride`
/// (l < `count`), in one pass; then, when `checksFinite`, whether every result is finite (true
/// otherwise). With no stages, target = base.
@inlinable @inline(__always)
func combine<Scalar: TensorScalar>(
    _ target: UnsafeMutablePointer<Scalar>, base: UnsafePointer<Scalar>, dt: Scalar, weights: UnsafePointer<Scalar>,
    count: Int, derivatives: UnsafePointer<Scalar>, stageStride: Int, elements: Int, checksFinite: Bool
) -> Bool {
    switch count {
    case 0:
        target.update(from: base, count: elements)
    case 1:
        let (w0, k0) = (weights[0], derivatives)
        for e in 0..<elements { target[e] = base[e] + dt * (w0 * k0[e]) }
    case 2:
        let (w0, w1, k0, k1) = (weights[0], weights[1], derivatives, derivatives + stageStride)
        for e in 0..<elements { target[e] = base[e] + dt * (w0 * k0[e] + w1 * k1[e]) }
    case 3:
        let (w0, w1, w2) = (weights[0], weights[1], weights[2])
        let (k0, k1, k2) = (derivatives, derivatives + stageStride, derivatives + 2 * stageStride)
        for e in 0..<elements { target[e] = base[e] + dt * (w0 * k0[e] + w1 * k1[e] + w2 * k2[e]) }
    default:
        let (w0, k0) = (weights[0], derivatives)
        for e in 0..<elements { target[e] = w0 * k0[e] }
        for l in 1..<count {
            let (w, k) = (weights[l], derivatives + l * stageStride)
            if w != 0 { for e in 0..<elements { target[e] += w * k[e] } }
        }
        for e in 0..<elements { target[e] = base[e] + dt * target[e] }
    }
    return !checksFinite || allFinite(target, count: elements)
}

/// target = Δt (bᵢ ḡ + Σₗ aₗᵢ dYₗ) over `elements` scalars, for the later stages l in `first ..< end`
/// (dYₗ at `later + l · stageStride`, weights aₗᵢ at `weights[l]`): the gradient of stage i's
/// derivative.
@inlinable @inline(__always)
func stageGradientInput<Scalar: TensorScalar>(
    _ target: UnsafeMutablePointer<Scalar>, state: UnsafePointer<Scalar>, stateWeight: Scalar,
    later: UnsafePointer<Scalar>, stageStride: Int, weights: UnsafePointer<Scalar>, from first: Int, to end: Int,
    dt: Scalar, elements: Int
) {
    switch end - first {
    case ...0:
        for e in 0..<elements { target[e] = dt * (stateWeight * state[e]) }
    case 1:
        let (w, d) = (weights[first], later + first * stageStride)
        for e in 0..<elements { target[e] = dt * (stateWeight * state[e] + w * d[e]) }
    default:
        for e in 0..<elements { target[e] = stateWeight * state[e] }
        for l in first..<end {
            let (w, d) = (weights[l], later + l * stageStride)
            if w != 0 { for e in 0..<elements { target[e] += w * d[e] } }
        }
        for e in 0..<elements { target[e] *= dt }
    }
}

/// The number of equal steps of at most `maxStep` that cross an interval of length `length`:
/// ⌈length / maxStep⌉, not counting a last step shorter than 64 ulps of the ratio (rounding in
/// length = n · step), at least 1; nil beyond 10⁹ steps. The fused path and the tape path of a
/// recurrent layer both take their fixed steps from here.
@inlinable
package func equalStepCount<Scalar: TensorScalar>(_ length: Scalar, maxStep: Scalar) -> Int? {
    let ratio = (length / maxStep) * (1 - 64 * Scalar.ulpOfOne)
    guard ratio < 1e9 else { return nil }
    return Swift.max(1, Int(ratio.rounded(.up)))
}
