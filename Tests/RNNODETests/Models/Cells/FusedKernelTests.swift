import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// The fused whole-sequence kernels against the integrator's generic Euler steps, in Double (to
/// rounding) and Float (vectorized activations, to single precision), with masks, both directions,
/// truncation and a recorded initial state; and against central finite differences.
@Suite("Fused discrete kernels")
struct FusedKernelTests {
    /// The cells that have a fused kernel, with small random parameters.
    static func cells<T: TensorScalar>(_: T.Type, input: Int, hidden: Int) -> [any RecurrentCell<T>] {
        var g = SeededGenerator(seed: 21)
        return [
            SimpleRNNCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            SimpleRNNCell<T>(inputSize: input, hiddenSize: hidden, activation: .relu, initialization: .pytorch, using: &g),
            GRUCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
            LSTMCell<T>(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g),
        ]
    }

    /// A loss that reads every result: the sequence, the last output and the final state.
    static func loss<T: TensorScalar>(_ out: RecurrentOutput<T>) -> Tensor<T> {
        var g = SeededGenerator(seed: 5)
        let weights = Tensor<T>.normal(out.sequence.shape, mean: 0, standardDeviation: 1, using: &g)
        let stateWeights = Tensor<T>.normal(out.finalState.shape, mean: 0, standardDeviation: 1, using: &g)
        return (out.sequence * weights).sum() + (out.last * out.last).sum() + (out.finalState * stateWeights).sum()
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var lengths: [Int]?
        var goBackwards = false
        var truncation: Int?
        var testDescription: String {
            "lengths \(lengths.map { "\($0)" } ?? "all"), \(goBackwards ? "backwards" : "forwards"), truncation \(truncation.map { "\($0)" } ?? "none")"
        }
    }

    static let cases: [Case] = [
        Case(),
        Case(lengths: [7, 3, 0, 1]),
        Case(lengths: [7, 3, 0, 1], goBackwards: true),
        Case(truncation: 3),
        Case(lengths: [7, 5, 2, 6], goBackwards: true, truncation: 4),
    ]

    /// Outputs, final states and the gradients of every parameter, the input and the initial state.
    static func results<Cell: RecurrentCell>(
        _ cell: Cell, fused: Bool, _ testCase: Case, x: Tensor<Cell.Scalar>, h0: Tensor<Cell.Scalar>
    ) throws -> [Tensor<Cell.Scalar>] {
        typealias T = Cell.Scalar
        var layer = RecurrentLayer(cell, goBackwards: testCase.goBackwards, truncation: testCase.truncation)
        layer.usesFusedKernels = fused
        let tape = Tape<T>()
        let (recorded, variables) = layer.recorded(on: tape)
        let (input, state) = (tape.variable(x), tape.variable(h0))
        let mask = testCase.lengths.map { lengths in
            Tensor<T>(
                shape: [lengths.count, x.shape[1]], scalars: lengths.flatMap { l in (0..<x.shape[1]).map { $0 < l ? 1 : 0 } })
        }
        let out = try recorded.run(input, initialStates: [state], mask: mask)
        let gradients = tape.gradients(of: loss(out), withRespectTo: variables + [input, state])
        return [out.sequence.detached, out.finalState.detached] + gradients
    }

    static func compare<T: TensorScalar>(
        _: T.Type, _ testCase: Case, outputTolerance: Double, gradientTolerance: Double
    ) throws {
        var g = SeededGenerator(seed: 4)
        let x = Tensor<T>.normal([4, 7, 5], mean: 0, standardDeviation: 1.5, using: &g)
        for cell in cells(T.self, input: 5, hidden: 12) {
            let h0 = Tensor<T>.normal([4, cell.stateSize], mean: 0, standardDeviation: 0.5, using: &g)
            let fused = try results(cell, fused: true, testCase, x: x, h0: h0)
            let generic = try results(cell, fused: false, testCase, x: x, h0: h0)
            for (index, (u, v)) in zip(fused, generic).enumerated() {
                let scale = Swift.max(1, v.doubles.map { Swift.abs($0) }.max() ?? 0)
                let tolerance = index < 2 ? outputTolerance : gradientTolerance
                #expect(u.shape == v.shape)
                #expect(maxAbsDifference(u, v) <= tolerance * scale, "\(type(of: cell)) result \(index)")
            }
        }
    }

    @Test(arguments: cases)
    func fusedMatchesGenericInDouble(_ testCase: Case) throws {
        try Self.compare(Double.self, testCase, outputTolerance: 1e-14, gradientTolerance: 1e-13)
    }

    @Test(arguments: cases)
    func fusedMatchesGenericInFloat(_ testCase: Case) throws {
        try Self.compare(Float.self, testCase, outputTolerance: 2e-6, gradientTolerance: 2e-5)
    }

    /// The fused path's gradients against central differences, with a mask (truncation changes the
    /// gradient on purpose; the comparison with the generic path covers it).
    @Test func fusedGradientsMatchFiniteDifferences() throws {
        for cell in Self.cells(Double.self, input: 4, hidden: 5) { try Self.checkFiniteDifferences(cell) }
    }

    static func checkFiniteDifferences<Cell: RecurrentCell>(_ cell: Cell) throws where Cell.Scalar == Double {
        var g = SeededGenerator(seed: 8)
        let x = Tensor<Double>.normal([3, 6, 4], mean: 0, standardDeviation: 1, using: &g)
        let mask = Tensor<Double>(shape: [3, 6], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0])
        let layer = RecurrentLayer(cell)
        #expect(
            try cell.fusedDiscreteSequence(x, initialState: cell.zeroState(batchSize: 3), lengths: nil, detachedBefore: nil)
                != nil)
        let tape = Tape<Double>()
        let (recorded, variables) = layer.recorded(on: tape)
        let input = tape.variable(x)
        let automatic = tape.gradients(of: loss(try recorded(input, mask: mask)), withRespectTo: variables + [input])
        let points = layer.parameters + [x]
        for (i, point) in points.enumerated() {
            let numerical = try numericalGradient(at: point) { value in
                var probe = layer
                var all = points
                all[i] = value
                probe.parameters = Array(all.dropLast())
                return try loss(probe(all.last!, mask: mask)).scalar
            }
            let scale = Swift.max(1, numerical.doubles.map { Swift.abs($0) }.max() ?? 0)
            #expect(maxAbsDifference(automatic[i], numerical) < 1e-7 * scale, "\(Cell.self) operand \(i)")
        }
    }
}

extension FusedKernelTests {
    /// A Float state that overflows stops the C kernels' recurrence with the partial sequence, on
    /// whichever path this process runs (CI runs the suite on both).
    @Test func floatOverflowKeepsThePartialSequence() throws {
        let cell = SimpleRNNCell<Float>(
            inputWeight: Tensor([[1e30]]), recurrentWeight: Tensor([[1e30]]), bias: Tensor([0]), activation: .relu)
        let x = Tensor<Float>(shape: [2, 5, 1], scalars: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
        #expect(throws: RecurrentError<Float>.self) { try RecurrentLayer(cell)(x) }
        do {
            _ = try RecurrentLayer(cell)(x)
        } catch {
            guard case .integrationFailed(let step, _, let outputs, let lastState) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(step == 1)
            #expect(outputs.shape == [2, 1, 1] && outputs.scalars == [1e30, 0])
            #expect(lastState.scalars == [1e30, 0])
        }
    }
}

/// The recycled memory behind the fused kernels' scratch buffers and large tensors.
@Suite("Workspaces")
struct WorkspaceTests {
    @Test func releasedBlocksAreReusedUpToTheLimits() {
        let pool = WorkspacePool()
        let first = pool.take(byteCount: 4096)
        pool.give(first, byteCount: 4096)
        #expect(pool.cachedBytes == 4096)
        #expect(pool.take(byteCount: 4096) == first)
        #expect(pool.cachedBytes == 0)
        let other = pool.take(byteCount: 8192)  // a different size gets a different block
        #expect(other != first)
        pool.give(first, byteCount: 4096)
        pool.give(other, byteCount: 8192)
        #expect(pool.cachedBytes == 12288)
        // Beyond the per-size limit, released blocks are freed.
        let blocks = (0..<(WorkspacePool.blocksPerSize + 2)).map { _ in pool.take(byteCount: 64) }
        for block in blocks { pool.give(block, byteCount: 64) }
        #expect(pool.cachedBytes == 12288 + 64 * WorkspacePool.blocksPerSize)
    }

    /// Tensors of 128 KiB and more keep their scalars in recycled blocks, with the same value
    /// semantics as small ones.
    @Test func largeTensorsUseRecycledBlocks() {
        let count = recycledTensorBytes / MemoryLayout<Float>.stride + 3
        let original = Tensor<Float>(shape: [count], scalars: (0..<count).map { Float($0) })
        var copy = original
        copy.setScalar(-1, at: [5])  // copy-on-write: the original keeps its scalars
        #expect(original.scalars[5] == 5 && copy.scalars[5] == -1 && copy.scalars[count - 1] == Float(count - 1))
        let shifted = original + 1
        #expect(original != copy && shifted.scalars[0] == 1 && shifted.scalars[count - 1] == Float(count))
        let small = Tensor<Float>(shape: [4], scalars: [1, 2, 3, 4])
        #expect(small.storage.buffer.withUnsafeMutablePointerToHeader { $0.pointee.block } == nil)
        #expect(original.storage.buffer.withUnsafeMutablePointerToHeader { $0.pointee.block } != nil)
    }

    @Test func aWorkspaceReturnsItsBlockWhenReleased() {
        let before = WorkspacePool.shared.cachedBytes
        var workspace: Workspace? = Workspace(count: 1_000_003, of: Float.self)  // a size no other test uses
        workspace!.pointer(Float.self).update(repeating: 1, count: 1_000_003)
        workspace = nil
        #expect(WorkspacePool.shared.cachedBytes >= before)
    }
}
