// Fused kernels for the discrete recurrence (Euler, Δt = 1) of the standard cells over a whole
// sequence. The generic path evaluates a cell's field as a dozen recorded tensor operations per step
// and lets the integrator add it to the state; here one pass over the sequence computes the classic
// cell's update, and one tape record carries a hand-written backpropagation through time:
//
// - forward: the input projections of all steps as one matrix product (bias included), then one
//   recurrent product per step (the recurrent weight packed once) and the gates fused, row by row
//   (C kernels for Float), writing states, outputs and the activations the backward pass needs
//   straight into preallocated time-major buffers;
// - backward: the gate gradients of all steps, one product per step to carry the state's gradient
//   back, and the weights' gradients as single products over all steps (xᵀ·dP, Hᵀ·dR);
// - the rows of a batch are independent: blocks of them run the whole recurrence, forward or
//   backward, on different cores without synchronizing between steps.
//
// Nothing is allocated per time step; the buffers are ``Workspace``s, recycled across batches. The
// results agree with the generic path to rounding (the tests compare both, on the reference fixtures
// and with masks and truncation). Cells with other activations or variants keep the generic path.

import CRNNODEKernels
import Dispatch
import RNNODETensors

extension Tensor {
    /// A new constant tensor of `shape` whose scalars `body` writes (all of them).
    @inlinable
    package static func filled(_ shape: [Int], _ body: (UnsafeMutablePointer<Scalar>) -> Void) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(count: shape.reduce(1, *)) { body($0.baseAddress!) }, node: nil)
    }
}

/// Gives `body` the base addresses of the scalars of `tensors`, in order.
@inlinable
package func withBaseAddresses<Scalar, R>(
    _ tensors: ArraySlice<Tensor<Scalar>>, collected: [UnsafePointer<Scalar>] = [],
    _ body: ([UnsafePointer<Scalar>]) -> R
) -> R {
    guard let first = tensors.first else { return body(collected) }
    return first.withUnsafeBufferPointer { buffer in
        withBaseAddresses(tensors.dropFirst(), collected: collected + [buffer.baseAddress!], body)
    }
}

/// A value handed to concurrent code that only touches disjoint parts of what it captures.
@usableFromInline
package struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline package let value: Value
    @inlinable package init(_ value: Value) { self.value = value }
}

/// The gate arithmetic of a cell that has a fused discrete kernel.
@usableFromInline
package enum FusedGates: Sendable, Equatable {
    /// hₜ = σ(x·W + b + h·U), σ tanh (or relu when `tanh` is false).
    case simple(tanh: Bool)
    /// GRU, reset gate applied after the recurrent product (PyTorch's and Keras 2's default).
    case gru
    /// LSTM with state [h, c], gates in the order i, f, g, o.
    case lstm
}

/// A standard cell's discrete recurrence over a sequence: its gate arithmetic and parameters.
@usableFromInline
package struct FusedRecurrence<Scalar: TensorScalar>: Sendable {
    @usableFromInline package let gates: FusedGates
    @usableFromInline package let hiddenSize: Int
    /// W `[inputSize, gateWidth]`, b `[gateWidth]`, U `[hiddenSize, gateWidth]`.
    @usableFromInline package let inputWeight: Tensor<Scalar>, bias: Tensor<Scalar>, recurrentWeight: Tensor<Scalar>
    /// The GRU's bias of the recurrent product `[gateWidth]`.
    @usableFromInline package let recurrentBias: Tensor<Scalar>?

    @inlinable
    package init(
        _ gates: FusedGates, hiddenSize: Int, inputWeight: Tensor<Scalar>, bias: Tensor<Scalar>,
        recurrentWeight: Tensor<Scalar>, recurrentBias: Tensor<Scalar>? = nil
    ) {
        self.gates = gates
        self.hiddenSize = hiddenSize
        self.inputWeight = inputWeight
        self.bias = bias
        self.recurrentWeight = recurrentWeight
        self.recurrentBias = recurrentBias
    }

    /// Columns of the projected input and of the recurrent product: one block of `hiddenSize` per gate.
    @inlinable package var gateWidth: Int {
        switch gates {
        case .simple: hiddenSize
        case .gru: 3 * hiddenSize
        case .lstm: 4 * hiddenSize
        }
    }

    /// Whether every parameter is finite.
    @inlinable package var parametersAreFinite: Bool {
        inputWeight.isFinite && bias.isFinite && recurrentWeight.isFinite && (recurrentBias?.isFinite ?? true)
    }

    /// The state's width: [h] or the LSTM's [h, c].
    @inlinable package var stateSize: Int { gates == .lstm ? 2 * hiddenSize : hiddenSize }

    /// Activations kept per row and step for the backward pass: the GRU's r, z, n and the recurrent
    /// part of n's pre-activation; the LSTM's i, f, g, o and tanh(c). (The simple cell's backward
    /// pass needs only its next state.)
    @inlinable package var savedWidth: Int {
        switch gates {
        case .simple: 0
        case .gru: 4 * hiddenSize
        case .lstm: 5 * hiddenSize
        }
    }

    /// Runs the recurrence over `x` `[batch, time, inputSize]` (time ≥ 1) from `initialState`
    /// `[batch, stateSize]`: the outputs `[batch, time, hiddenSize]` (zero at masked steps) and the
    /// final state, as one recorded operation. Rows with `lengths` stop at their length; the state
    /// entering step `cut` is detached (truncated backpropagation).
    @inlinable
    package func run(
        _ x: Tensor<Scalar>, initialState: Tensor<Scalar>, lengths: [Int]?, detachedBefore cut: Int?
    ) throws(RecurrentError<Scalar>) -> (sequence: Tensor<Scalar>, finalState: Tensor<Scalar>) {
        let (batch, time, inputSize) = (x.shape[0], x.shape[1], x.shape[2])
        let (h, s, g, v) = (hiddenSize, stateSize, gateWidth, savedWidth)
        let width = time * h + s  // of a row of the packed result: the outputs, then the final state
        // The buffers are time-major (row k·batch + b for step k of sequence b), so that each step
        // reads and writes one contiguous slab; the result is batch-major.
        let inputs = Workspace(count: batch * time * inputSize, of: Scalar.self)  // x, time-major
        let projected = Workspace(count: batch * time * g, of: Scalar.self)
        let history = Workspace(count: batch * time * s, of: Scalar.self)  // the state entering each step
        let saved = Workspace(count: batch * time * v, of: Scalar.self)
        let recurrent = Workspace(count: batch * g, of: Scalar.self)  // one step's h·U (+ bias)
        let (xt, p, hist, keep, hu) = (
            inputs.pointer(Scalar.self), projected.pointer(Scalar.self), history.pointer(Scalar.self),
            saved.pointer(Scalar.self), recurrent.pointer(Scalar.self)
        )
        var failedStep: Int?
        let parameters = [x, initialState, inputWeight, bias, recurrentWeight, recurrentBias ?? bias]
        let packed = Tensor<Scalar>.filled([batch, width]) { out in
            withBaseAddresses(parameters[...]) { bases in
                let (xs, h0, w, b, u, rb) = (bases[0], bases[1], bases[2], bases[3], bases[4], bases[5])
                // P = x·W + b for all steps at once.
                for row in 0..<batch {
                    for k in 0..<time {
                        (xt + (k * batch + row) * inputSize).update(
                            from: xs + (row * time + k) * inputSize, count: inputSize)
                    }
                }
                for row in 0..<(batch * time) { (p + row * g).update(from: b, count: g) }
                stridedGemm(
                    m: batch * time, n: g, k: inputSize, a: xt, lda: inputSize, transposeA: false,
                    b: w, ldb: g, transposeB: false, c: p, ldc: g)
                // The rows are independent: blocks of them run the whole recurrence on their own
                // threads, with no synchronization between steps.
                let blocks = rowBlocks(batch: batch, time: time)
                let weight = PackedOperand(u, ldb: g, transposeB: false, k: h, n: g)  // U, packed once
                let failures = UnsafeMutablePointer<Int>.allocate(capacity: blocks.count)
                defer { failures.deallocate() }
                failures.initialize(repeating: time, count: blocks.count)
                forEachBlock(blocks) { block, rows in
                    for row in rows {
                        (hist + row * s).update(from: h0 + row * s, count: s)
                        (out + row * width).update(repeating: 0, count: time * h)
                    }
                    for k in 0..<time {
                        for row in rows {
                            if recurrentBias != nil {
                                (hu + row * g).update(from: rb, count: g)
                            } else {
                                (hu + row * g).update(repeating: 0, count: g)
                            }
                        }
                        weight.multiply(
                            m: rows.count, a: hist + (k * batch + rows.lowerBound) * s, lda: s, transposeA: false,
                            c: hu + rows.lowerBound * g, ldc: g, threaded: blocks.count == 1)
                        var finite = true
                        for row in rows {
                            let step = k * batch + row
                            let previous = hist + step * s
                            let next = k + 1 < time ? hist + (step + batch) * s : out + (row * width + time * h)
                            guard lengths.map({ k < $0[row] }) ?? true else {
                                next.update(from: previous, count: s)
                                continue
                            }
                            finite =
                                forwardRow(
                                    projected: p + step * g, recurrent: hu + row * g, previous: previous, next: next,
                                    saved: keep + step * v) && finite
                            (out + row * width + k * h).update(from: next, count: h)
                        }
                        if !finite {
                            failures[block] = k
                            return
                        }
                    }
                }
                let failed = (0..<blocks.count).map { failures[$0] }.min()!
                if failed < time {
                    failedStep = failed
                    for row in 0..<batch {
                        (out + row * width + failed * h).update(repeating: 0, count: (time - failed) * h)
                        (out + row * width + time * h).update(from: hist + (failed * batch + row) * s, count: s)
                    }
                }
            }
        }
        if let k = failedStep {
            // The outputs before step k and the state entering it, as constants.
            let outputs = packed.slice(alongAxis: 1, 0..<(k * h)).reshaped(to: [batch, k, h])
            throw .integrationFailed(
                inputStep: k, reason: "the state became NaN or infinity in the discrete step",
                outputs: outputs, lastState: packed.slice(alongAxis: 1, (time * h)..<width))
        }
        let result = record(
            packed, x: x, inputs: inputs, initialState: initialState, history: history, saved: saved,
            lengths: lengths, detachedBefore: cut)
        return (
            result.slice(alongAxis: 1, 0..<(time * h)).reshaped(to: [batch, time, h]),
            result.slice(alongAxis: 1, (time * h)..<width)
        )
    }

    /// `packed` recorded with backpropagation through time as its pullback.
    @inlinable
    package func record(
        _ packed: Tensor<Scalar>, x: Tensor<Scalar>, inputs: Workspace, initialState: Tensor<Scalar>,
        history: Workspace, saved: Workspace, lengths: [Int]?, detachedBefore cut: Int?
    ) -> Tensor<Scalar> {
        let operands = [x, initialState, inputWeight, bias, recurrentWeight] + (recurrentBias.map { [$0] } ?? [])
        guard operands.contains(where: \.isRecorded) else { return packed }
        let (needsInput, needsInitialState, shape) = (x.isRecorded, initialState.isRecorded, x.shape)
        // The pullback holds constants only: a recorded tensor would keep its tape alive (a cycle).
        let constant = FusedRecurrence(
            gates, hiddenSize: hiddenSize, inputWeight: inputWeight.detached, bias: bias.detached,
            recurrentWeight: recurrentWeight.detached, recurrentBias: recurrentBias?.detached)
        return Tensor.recording(packed, operands: operands) { gradient in
            constant.backpropagate(
                gradient, packed: packed, inputShape: shape, inputs: inputs, history: history, saved: saved,
                lengths: lengths, detachedBefore: cut, needsInput: needsInput, needsInitialState: needsInitialState)
        }
    }

    /// The gradients of x, the initial state, W, b, U (and the GRU's recurrent bias) from the
    /// gradient of the packed result: backpropagation through time over the forward pass's
    /// (time-major) buffers, `inputs` holding x.
    @inlinable
    package func backpropagate(
        _ gradient: Tensor<Scalar>, packed: Tensor<Scalar>, inputShape: [Int], inputs: Workspace, history: Workspace,
        saved: Workspace, lengths: [Int]?, detachedBefore cut: Int?, needsInput: Bool, needsInitialState: Bool
    ) -> [Tensor<Scalar>?] {
        let (batch, time, inputSize) = (inputShape[0], inputShape[1], inputShape[2])
        let (h, s, g, v, width) = (hiddenSize, stateSize, gateWidth, savedWidth, time * hiddenSize + stateSize)
        let preactivation = Workspace(count: batch * time * g, of: Scalar.self)  // dP, input side
        let recurrentSide = gates == .gru ? Workspace(count: batch * time * g, of: Scalar.self) : preactivation
        let stateGradient = Workspace(count: batch * s, of: Scalar.self)
        let (dp, dr, ds) = (
            preactivation.pointer(Scalar.self), recurrentSide.pointer(Scalar.self), stateGradient.pointer(Scalar.self)
        )
        let (xt, hist, keep) = (inputs.pointer(Scalar.self), history.pointer(Scalar.self), saved.pointer(Scalar.self))
        let tensors = [gradient, packed, inputWeight, recurrentWeight]
        var dx: Tensor<Scalar>?
        var dW = Tensor<Scalar>.zeros([inputSize, g])
        var dU = Tensor<Scalar>.zeros([h, g])
        let (db, drb, dh0) = withBaseAddresses(tensors[...]) { bases in
            let (dy, out, w, u) = (bases[0], bases[1], bases[2], bases[3])
            let blocks = rowBlocks(batch: batch, time: time)
            let transposedWeight = PackedOperand(u, ldb: g, transposeB: true, k: g, n: h)  // Uᵀ, packed once
            forEachBlock(blocks) { _, rows in
                for row in rows { (ds + row * s).update(from: dy + row * width + time * h, count: s) }
                for k in stride(from: time - 1, through: 0, by: -1) {
                    for row in rows {
                        let step = k * batch + row
                        guard lengths.map({ k < $0[row] }) ?? true else {
                            // A padded step passes the state (and its gradient) through.
                            (dp + step * g).update(repeating: 0, count: g)
                            if gates == .gru { (dr + step * g).update(repeating: 0, count: g) }
                            continue
                        }
                        let next: UnsafePointer<Scalar> =
                            k + 1 < time ? UnsafePointer(hist + (step + batch) * s) : out + (row * width + time * h)
                        backwardRow(
                            outputGradient: dy + (row * width + k * h), stateGradient: ds + row * s,
                            saved: keep + step * v, previous: hist + step * s, next: next,
                            projectedGradient: dp + step * g, recurrentGradient: dr + step * g)
                    }
                    transposedWeight.multiply(
                        m: rows.count, a: dr + (k * batch + rows.lowerBound) * g, lda: g, transposeA: false,
                        c: ds + rows.lowerBound * s, ldc: s, threaded: blocks.count == 1)
                    if k == cut { (ds + rows.lowerBound * s).update(repeating: 0, count: rows.count * s) }
                }
            }
            if needsInput {
                // dx = dP·Wᵀ, time-major, then reordered batch-major.
                let timeMajor = Workspace(count: batch * time * inputSize, of: Scalar.self)
                let dxt = timeMajor.pointer(Scalar.self)
                dxt.update(repeating: 0, count: batch * time * inputSize)
                stridedGemm(
                    m: batch * time, n: inputSize, k: g, a: dp, lda: g, transposeA: false,
                    b: w, ldb: g, transposeB: true, c: dxt, ldc: inputSize)
                dx = Tensor<Scalar>.filled([batch, time, inputSize]) { out in
                    for row in 0..<batch {
                        for k in 0..<time {
                            (out + (row * time + k) * inputSize).update(
                                from: dxt + (k * batch + row) * inputSize, count: inputSize)
                        }
                    }
                }
            }
            dW.withUnsafeMutableBufferPointer { out in
                stridedGemm(
                    m: inputSize, n: g, k: batch * time, a: xt, lda: inputSize, transposeA: true,
                    b: dp, ldb: g, transposeB: false, c: out.baseAddress!, ldc: g)
            }
            dU.withUnsafeMutableBufferPointer { out in
                stridedGemm(
                    m: h, n: g, k: batch * time, a: hist, lda: s, transposeA: true,
                    b: dr, ldb: g, transposeB: false, c: out.baseAddress!, ldc: g)
            }
            return (
                Self.columnSums(dp, rows: batch * time, columns: g),
                gates == .gru ? Self.columnSums(dr, rows: batch * time, columns: g) : nil,
                needsInitialState ? Tensor<Scalar>.filled([batch, s]) { $0.update(from: ds, count: batch * s) } : nil
            )
        }
        return [dx, dh0, dW, db, dU] + (drb.map { [$0] } ?? [])
    }

    /// The blocks of rows that run the recurrence in parallel: one per CPU (at most one per row), or
    /// a single block when the sequence is too little work to share (its per-step products may still
    /// be split by the GEMM).
    @inlinable
    package func rowBlocks(batch: Int, time: Int) -> [Range<Int>] {
        let work = batch * time * gateWidth * hiddenSize  // the recurrent products' multiply–adds
        let count = work < Self.minimumParallelWork ? 1 : Swift.min(GemmTuning.cpuCount, batch)
        return (0..<count).map { (batch * $0 / count)..<(batch * ($0 + 1) / count) }
    }

    /// The fewest multiply–adds in a sequence's recurrent products for which its rows are split
    /// over the CPUs (on the 2-core reference machine, waking a thread costs more below this).
    @inlinable package static var minimumParallelWork: Int { 2_000_000 }

    /// Runs `body(block, rows)` for each block of rows, concurrently when there are several. The
    /// blocks write disjoint rows of the kernel's buffers.
    @inlinable
    package func forEachBlock(_ blocks: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        if blocks.count == 1 {
            body(0, blocks[0])
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: blocks.count) { shared.value($0, blocks[$0]) }
        }
    }

    /// The sums of the columns of a `[rows, columns]` buffer, as a tensor `[columns]`.
    @inlinable
    package static func columnSums(_ values: UnsafePointer<Scalar>, rows: Int, columns: Int) -> Tensor<Scalar> {
        Tensor.filled([columns]) { sums in
            sums.update(repeating: 0, count: columns)
            for row in 0..<rows {
                let line = values + row * columns
                for j in 0..<columns { sums[j] += line[j] }
            }
        }
    }

    // MARK: - One row of one step

    /// The next state of one row from its projected input, its recurrent product h·U (+ the GRU's
    /// recurrent bias) and its previous state; keeps what ``backwardRow`` needs in `saved`. Returns
    /// whether the next state is finite. Float runs the C kernels (CRNNODEKernels' gates_impl.h, the
    /// same arithmetic vectorized with AVX2 where the CPU has it); other scalars the loops below.
    @inlinable
    package func forwardRow(
        projected p: UnsafePointer<Scalar>, recurrent u: UnsafePointer<Scalar>, previous: UnsafePointer<Scalar>,
        next: UnsafeMutablePointer<Scalar>, saved: UnsafeMutablePointer<Scalar>
    ) -> Bool {
        let h = hiddenSize
        if Scalar.self == Float.self {
            let (p, u, previous) = (floats(p), floats(u), floats(previous))
            let (next, saved) = (floats(next), floats(saved))
            switch gates {
            case .simple(let tanh): return rnnode_simple_forward_f32(h, tanh ? 1 : 0, p, u, next) != 0
            case .gru: return rnnode_gru_forward_f32(h, p, u, previous, next, saved) != 0
            case .lstm: return rnnode_lstm_forward_f32(h, p, u, previous, next, saved) != 0
            }
        }
        func span(_ start: UnsafeMutablePointer<Scalar>, _ count: Int) -> UnsafeMutableBufferPointer<Scalar> {
            UnsafeMutableBufferPointer(start: start, count: count)
        }
        switch gates {
        case .simple(let tanh):
            for j in 0..<h { next[j] = p[j] + u[j] }
            if tanh {
                applyTanh(span(next, h))
            } else {
                for j in 0..<h { next[j] = Swift.max(next[j], 0) }
            }
        case .gru:
            // saved: r, z (sigmoid), n (tanh), and n's recurrent part u_n.
            for j in 0..<(2 * h) { saved[j] = p[j] + u[j] }
            applySigmoid(span(saved, 2 * h))
            for j in 0..<h {
                saved[3 * h + j] = u[2 * h + j]
                saved[2 * h + j] = p[2 * h + j] + saved[j] * u[2 * h + j]
            }
            applyTanh(span(saved + 2 * h, h))
            for j in 0..<h {
                let (z, n) = (saved[h + j], saved[2 * h + j])
                next[j] = (1 - z) * n + z * previous[j]
            }
        case .lstm:
            // saved: i, f (sigmoid), g (tanh), o (sigmoid), tanh(c').
            for j in 0..<(4 * h) { saved[j] = p[j] + u[j] }
            applySigmoid(span(saved, 2 * h))
            applyTanh(span(saved + 2 * h, h))
            applySigmoid(span(saved + 3 * h, h))
            for j in 0..<h {
                let c = saved[h + j] * previous[h + j] + saved[j] * saved[2 * h + j]
                next[h + j] = c
                saved[4 * h + j] = c
            }
            applyTanh(span(saved + 4 * h, h))
            for j in 0..<h { next[j] = saved[3 * h + j] * saved[4 * h + j] }
        }
        return (0..<stateSize).allSatisfy { next[$0].isFinite }
    }

    /// One row's backward step. The next state's gradient is `ds` (from the later steps) plus the
    /// output's `dy`; computes the gradients of the projected input's pre-activations `dp`, of the
    /// recurrent product's `dr` (the same except for the GRU's n, which r scales; written for the GRU
    /// only), and overwrites `ds` with the previous state's gradient except through the recurrent
    /// product (which the caller adds). Float runs the C kernels, as in ``forwardRow``.
    @inlinable
    package func backwardRow(
        outputGradient dy: UnsafePointer<Scalar>, stateGradient ds: UnsafeMutablePointer<Scalar>,
        saved: UnsafePointer<Scalar>, previous: UnsafePointer<Scalar>, next: UnsafePointer<Scalar>,
        projectedGradient dp: UnsafeMutablePointer<Scalar>, recurrentGradient dr: UnsafeMutablePointer<Scalar>
    ) {
        let h = hiddenSize
        if Scalar.self == Float.self {
            let (dy, saved, previous, next) = (floats(dy), floats(saved), floats(previous), floats(next))
            let (ds, dp, dr) = (floats(ds), floats(dp), floats(dr))
            switch gates {
            case .simple(let tanh): rnnode_simple_backward_f32(h, tanh ? 1 : 0, next, dy, ds, dp)
            case .gru: rnnode_gru_backward_f32(h, saved, previous, dy, ds, dp, dr)
            case .lstm: rnnode_lstm_backward_f32(h, saved, previous, dy, ds, dp)
            }
            return
        }
        switch gates {
        case .simple(let tanh):
            for j in 0..<h {
                let (d, y) = (ds[j] + dy[j], next[j])
                dp[j] = tanh ? d * (1 - y * y) : (y > 0 ? d : 0)
                ds[j] = 0
            }
        case .gru:
            for j in 0..<h {
                let (r, z, n, un) = (saved[j], saved[h + j], saved[2 * h + j], saved[3 * h + j])
                let d = ds[j] + dy[j]
                let dnPre = d * (1 - z) * (1 - n * n)
                let dzPre = d * (previous[j] - n) * z * (1 - z)
                let drPre = dnPre * un * r * (1 - r)
                ds[j] = d * z
                dp[j] = drPre
                dp[h + j] = dzPre
                dp[2 * h + j] = dnPre
                dr[j] = drPre
                dr[h + j] = dzPre
                dr[2 * h + j] = dnPre * r
            }
        case .lstm:
            for j in 0..<h {
                let (i, f, g) = (saved[j], saved[h + j], saved[2 * h + j])
                let (o, tc) = (saved[3 * h + j], saved[4 * h + j])
                let dh = ds[j] + dy[j]
                let dc = ds[h + j] + dh * o * (1 - tc * tc)
                dp[j] = dc * g * i * (1 - i)
                dp[h + j] = dc * previous[h + j] * f * (1 - f)
                dp[2 * h + j] = dc * i * (1 - g * g)
                dp[3 * h + j] = dh * tc * o * (1 - o)
                ds[j] = 0
                ds[h + j] = dc * f
            }
        }
    }
}

/// A pointer to scalars known to be `Float`, as `Float`s.
@inlinable @inline(__always)
package func floats<T>(_ pointer: UnsafePointer<T>) -> UnsafePointer<Float> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: Float.self)
}

/// A mutable pointer to scalars known to be `Float`, as `Float`s.
@inlinable @inline(__always)
package func floats<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Float.self)
}

// MARK: - The cells' kernels

extension RecurrentCell {
    /// Runs `kernel` (holding this cell's parameters) after checking that they are finite. The check
    /// reads the tensors directly; the parameters' names (from ``Trainable/parameterPaths``, whose
    /// generic key paths cost microseconds to build) are looked up only for the error.
    @inlinable
    package func runFused(
        _ kernel: FusedRecurrence<Scalar>, _ x: Tensor<Scalar>, initialState: Tensor<Scalar>, lengths: [Int]?,
        detachedBefore cut: Int?
    ) throws(RecurrentError<Scalar>) -> (sequence: Tensor<Scalar>, finalState: Tensor<Scalar>) {
        guard kernel.parametersAreFinite else {
            throw .nonFiniteParameter(name: nonFiniteParameterNames.first ?? "a parameter")
        }
        return try kernel.run(x, initialState: initialState, lengths: lengths, detachedBefore: cut)
    }
}

extension SimpleRNNCell {
    /// hₜ = σ(x·W + b + h·U) over the sequence (σ tanh or relu).
    @inlinable
    public func fusedDiscreteSequence(
        _ x: Tensor<Scalar>, initialState: Tensor<Scalar>, lengths: [Int]?, detachedBefore cut: Int?
    ) throws(RecurrentError<Scalar>) -> (sequence: Tensor<Scalar>, finalState: Tensor<Scalar>)? {
        guard activation == .tanh || activation == .relu else { return nil }
        let kernel = FusedRecurrence(
            .simple(tanh: activation == .tanh), hiddenSize: hiddenSize, inputWeight: inputWeight, bias: bias,
            recurrentWeight: recurrentWeight)
        return try runFused(kernel, x, initialState: initialState, lengths: lengths, detachedBefore: cut)
    }
}

extension GRUCell {
    /// hₜ = (1 − z) ⊙ n + z ⊙ h over the sequence (reset after, sigmoid gates, tanh candidate).
    @inlinable
    public func fusedDiscreteSequence(
        _ x: Tensor<Scalar>, initialState: Tensor<Scalar>, lengths: [Int]?, detachedBefore cut: Int?
    ) throws(RecurrentError<Scalar>) -> (sequence: Tensor<Scalar>, finalState: Tensor<Scalar>)? {
        guard resetAfter && activation == .tanh && recurrentActivation == .sigmoid else { return nil }
        let kernel = FusedRecurrence(
            .gru, hiddenSize: hiddenSize, inputWeight: inputWeight, bias: bias, recurrentWeight: recurrentWeight,
            recurrentBias: recurrentBias)
        return try runFused(kernel, x, initialState: initialState, lengths: lengths, detachedBefore: cut)
    }
}

extension LSTMCell {
    /// (hₜ, cₜ) = (o ⊙ tanh(cₜ), f ⊙ c + i ⊙ g) over the sequence (sigmoid gates, tanh).
    @inlinable
    public func fusedDiscreteSequence(
        _ x: Tensor<Scalar>, initialState: Tensor<Scalar>, lengths: [Int]?, detachedBefore cut: Int?
    ) throws(RecurrentError<Scalar>) -> (sequence: Tensor<Scalar>, finalState: Tensor<Scalar>)? {
        guard activation == .tanh && recurrentActivation == .sigmoid else { return nil }
        let kernel = FusedRecurrence(
            .lstm, hiddenSize: hiddenSize, inputWeight: inputWeight, bias: bias, recurrentWeight: recurrentWeight)
        return try runFused(kernel, x, initialState: initialState, lengths: lengths, detachedBefore: cut)
    }
}
