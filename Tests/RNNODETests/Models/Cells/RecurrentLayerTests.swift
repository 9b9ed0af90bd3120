import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Recurrent layers: masks, directions, stacks, state")
struct RecurrentLayerTests {
    static func gru(seed: UInt64 = 1, input: Int = 3, hidden: Int = 4) -> GRUCell<Double> {
        var g = SeededGenerator(seed: seed)
        return GRUCell(inputSize: input, hiddenSize: hidden, initialization: .pytorch, using: &g)
    }

    static func input(_ shape: [Int], seed: UInt64 = 2) -> Tensor<Double> {
        var g = SeededGenerator(seed: seed)
        return Tensor.normal(shape, mean: 0, standardDeviation: 1, using: &g)
    }

    static func mask(lengths: [Int], time: Int) -> Tensor<Double> {
        Tensor(shape: [lengths.count, time], scalars: lengths.flatMap { l in (0..<time).map { $0 < l ? 1.0 : 0.0 } })
    }

    /// Padded steps keep the state and output zeros; each row's results equal running its valid
    /// prefix alone, forwards and backwards, for every scheme.
    @Test(arguments: [false, true])
    func maskedRowsMatchTheirPrefix(goBackwards: Bool) throws {
        let x = Self.input([3, 6, 3])
        let lengths = [6, 2, 4]
        for integration in [CellIntegration<Double>.discrete, .fixed(.rk4, timeStep: 0.5)] {
            let layer = RecurrentLayer(Self.gru(), integration: integration, goBackwards: goBackwards)
            let out = try layer(x, mask: Self.mask(lengths: lengths, time: 6))
            for (row, length) in lengths.enumerated() {
                let prefix = x.select(alongAxis: 0, row).slice(alongAxis: 0, 0..<length).reshaped(to: [1, length, 3])
                let alone = try layer(prefix)
                let sequence = out.sequence.select(alongAxis: 0, row)
                #expect(maxAbsDifference(sequence.slice(alongAxis: 0, 0..<length), alone.sequence[0]) < 1e-14)
                if length < 6 {
                    #expect(sequence.slice(alongAxis: 0, length..<6).scalars.allSatisfy { $0 == 0 })
                }
                #expect(maxAbsDifference(out.finalState[row], alone.finalState[0]) < 1e-14)
                #expect(maxAbsDifference(out.last[row], alone.last[0]) < 1e-14)
            }
        }
    }

    @Test func paddedInputsGetNoGradient() throws {
        let x = Self.input([2, 5, 3])
        let layer = RecurrentLayer(Self.gru())
        let mask = Self.mask(lengths: [5, 3], time: 5)
        let dx = gradient(at: x) { x in (try! layer(x, mask: mask).sequence).sum() }
        #expect(dx[1].slice(alongAxis: 0, 3..<5).scalars.allSatisfy { $0 == 0 })
        #expect(dx[1].slice(alongAxis: 0, 0..<3).scalars.contains { $0 != 0 })
    }

    @Test func allMaskedRowKeepsItsInitialState() throws {
        let x = Self.input([2, 4, 3])
        let h0 = Self.input([2, 4], seed: 9)
        let out = try RecurrentLayer(Self.gru())(x, initialState: h0, mask: Self.mask(lengths: [4, 0], time: 4))
        #expect(out.finalState[1] == h0[1])
        #expect(out.last[1] == h0[1])
        #expect(out.sequence[1].scalars.allSatisfy { $0 == 0 })
    }

    @Test func emptySequenceReturnsTheInitialState() throws {
        let h0 = Self.input([2, 4], seed: 3)
        let out = try RecurrentLayer(Self.gru())(Tensor.zeros([2, 0, 3]), initialState: h0)
        #expect(out.sequence.shape == [2, 0, 4])
        #expect(out.finalState == h0 && out.last == h0)
    }

    @Test func badMasksAreTypedErrors() throws {
        let layer = RecurrentLayer(Self.gru())
        let x = Self.input([2, 4, 3])
        #expect(throws: RecurrentError<Double>.maskShape(expected: [2, 4], got: [2, 3])) {
            try layer(x, mask: Tensor.ones([2, 3]))
        }
        var half = Tensor<Double>.ones([2, 4])
        half.setScalar(0.5, at: [1, 2])
        #expect(throws: RecurrentError<Double>.maskValue(row: 1, step: 2, value: 0.5)) { try layer(x, mask: half) }
        let left = Tensor<Double>([[1, 1, 1, 1], [0, 0, 1, 1]])
        #expect(throws: RecurrentError<Double>.leftPaddedMask(row: 1, step: 2)) { try layer(x, mask: left) }
        let error = RecurrentError<Double>.leftPaddedMask(row: 1, step: 2)
        #expect(error.description.contains("right-padded"))
    }

    @Test func badShapesAndSettingsAreTypedErrors() throws {
        let layer = RecurrentLayer(Self.gru())
        #expect(throws: RecurrentError<Double>.inputShape(expected: "[batch, time, 3]", got: [2, 4, 5])) {
            try layer(Self.input([2, 4, 5]))
        }
        #expect(throws: RecurrentError<Double>.inputShape(expected: "[batch, time, 3]", got: [4, 3])) {
            try layer(Self.input([4, 3]))
        }
        #expect(throws: RecurrentError<Double>.initialStateShape(expected: "one tensor [2, 4]", got: "[2, 3]")) {
            try layer(Self.input([2, 4, 3]), initialState: Tensor.zeros([2, 3]))
        }
        var negative = layer
        negative.integration.timeStep = -1
        #expect(throws: RecurrentError<Double>.self) { try negative(Self.input([2, 4, 3])) }
        var truncated = layer
        truncated.gradients = .truncated(steps: 0)
        #expect(throws: RecurrentError<Double>.invalidIntegration("truncation must be at least 1 step, got 0")) {
            try truncated(Self.input([2, 4, 3]))
        }
        var checkpointed = layer
        checkpointed.gradients = .checkpointed()
        #expect(
            throws: RecurrentError<Double>.invalidIntegration(
                "a recurrent layer supports .backpropagation and .truncated(steps:), got .checkpointed")
        ) {
            try checkpointed(Self.input([2, 4, 3]))
        }
        var broken = layer
        broken.cell.bias.setScalar(.nan, at: [0])
        #expect(throws: RecurrentError<Double>.nonFiniteParameter(name: "bias")) { try broken(Self.input([2, 4, 3])) }
        broken.cell.bias.setScalar(0, at: [0])
        broken.cell.recurrentBias.setScalar(.infinity, at: [2])  // saturates a gate: the states stay finite
        #expect(throws: RecurrentError<Double>.nonFiniteParameter(name: "recurrentBias")) {
            try broken(Self.input([2, 4, 3]))
        }
        #expect(throws: RecurrentError<Double>.nonFiniteParameter(name: "cell.recurrentBias")) {
            try broken.onTape(Self.input([2, 4, 3]))
        }
        var nanInput = Self.input([2, 4, 3])
        nanInput.setScalar(.infinity, at: [1, 1, 1])
        #expect(throws: RecurrentError<Double>.nonFiniteInput("the input sequence")) { try layer(nanInput) }
    }

    /// A state that overflows midway ends the run with the outputs computed before the failure.
    /// On the integrator's fused path and on its tape path alike.
    @Test(arguments: [true, false])
    func failedIntegrationKeepsThePartialSequence(fused: Bool) throws {
        let cell = SimpleRNNCell<Double>(
            inputWeight: Tensor([[1e200]]), recurrentWeight: Tensor([[1e200]]), bias: Tensor([0]), activation: .relu)
        let x = Tensor<Double>(shape: [1, 5, 1], scalars: [1, 1, 1, 1, 1])
        let layer = RecurrentLayer(cell)
        do {
            _ = try fused ? layer(x) : layer.onTape(x)
            Issue.record("expected the state to overflow")
        } catch {
            guard case .integrationFailed(let step, let reason, let outputs, let lastState) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(step == 1)
            #expect(reason.contains("NaN or infinity") || reason.contains("non-finite"), "\(reason)")
            #expect(outputs.shape == [1, 1, 1] && outputs.scalar == 1e200)
            #expect(lastState.scalar == 1e200)
        }
    }

    @Test func bidirectionalConcatenatesOrSumsTheDirections() throws {
        let x = Self.input([2, 5, 3])
        let (f, b) = (Self.gru(seed: 1), Self.gru(seed: 2))
        let mask = Self.mask(lengths: [5, 3], time: 5)
        let forward = try RecurrentLayer(f)(x, mask: mask)
        let backward = try RecurrentLayer(b, goBackwards: true)(x, mask: mask)
        let both = try Bidirectional(forward: f, backward: b)(x, mask: mask)
        #expect(both.sequence == Tensor(concatenating: [forward.sequence, backward.sequence], alongAxis: -1))
        #expect(both.finalStates == [forward.finalState, backward.finalState])
        let summed = try Bidirectional(forward: f, backward: b, merge: .sum)(x, mask: mask)
        #expect(maxAbsDifference(summed.sequence, forward.sequence + backward.sequence) == 0)
        #expect(throws: RecurrentError<Double>.self) { try Bidirectional(forward: f, backward: b)(x, initialStates: [x]) }
    }

    @Test func stackChainsLayersAndDropoutIsSeeded() throws {
        let x = Self.input([2, 5, 3])
        let first = RecurrentLayer(Self.gru(seed: 1, input: 3, hidden: 4))
        var g = SeededGenerator(seed: 3)
        let second = RecurrentLayer(LSTMCell<Double>(inputSize: 4, hiddenSize: 2, using: &g))
        let stack = RecurrentStack([AnySequenceLayer(first), AnySequenceLayer(second)], dropout: 0.5)
        let manual = try second(try first(x).sequence)
        let plain = try stack(x)
        #expect(plain.sequence == manual.sequence)
        #expect(plain.finalStates.count == 2 && plain.finalStates[1] == manual.finalState)
        var g1 = SeededGenerator(seed: 42)
        var g2 = SeededGenerator(seed: 42)
        let a = try stack(x, dropoutUsing: &g1)
        let b = try stack(x, dropoutUsing: &g2)
        #expect(a.sequence == b.sequence)
        #expect(a.sequence != plain.sequence)
        #expect(stack.parameterPaths.map(\.name).first == "layers.0.cell.inputWeight")
    }

    /// Two stateful calls on consecutive chunks equal one call on the whole sequence; reset restarts.
    @Test func statefulCallsContinueTheRecurrence() throws {
        let x = Self.input([2, 6, 3])
        var layer = RecurrentLayer(Self.gru())
        let whole = try layer(x)
        _ = try layer.callStateful(x.slice(alongAxis: 1, 0..<4))
        let second = try layer.callStateful(x.slice(alongAxis: 1, 4..<6))
        #expect(maxAbsDifference(second.sequence, whole.sequence.slice(alongAxis: 1, 4..<6)) < 1e-15)
        #expect(!layer.carriedState!.isRecorded)
        #expect(throws: RecurrentError<Double>.batchSizeChanged(carried: 2, got: 1)) {
            try layer.callStateful(Self.input([1, 2, 3]))
        }
        layer.resetState()
        let restarted = try layer.callStateful(x.slice(alongAxis: 1, 0..<4))
        #expect(restarted.sequence == whole.sequence.slice(alongAxis: 1, 0..<4))

        var g = SeededGenerator(seed: 0)
        var stack = RecurrentStack([RecurrentLayer(Self.gru()), RecurrentLayer(Self.gru(seed: 5, input: 4))])
        let wholeStack = try stack(x)
        _ = try stack.callStateful(x.slice(alongAxis: 1, 0..<3), dropoutUsing: &g)
        let tail = try stack.callStateful(x.slice(alongAxis: 1, 3..<6), dropoutUsing: &g)
        #expect(maxAbsDifference(tail.sequence, wholeStack.sequence.slice(alongAxis: 1, 3..<6)) < 1e-15)
    }

    /// With truncation k, the last output's gradient reaches only the last k inputs.
    @Test func truncatedBackpropagation() throws {
        let x = Self.input([1, 6, 3])
        let layer = RecurrentLayer(Self.gru(), gradients: .truncated(steps: 2))
        let dx = gradient(at: x) { x in try! layer(x).last.sum() }
        #expect(dx[0].slice(alongAxis: 0, 0..<4).scalars.allSatisfy { $0 == 0 })
        #expect(dx[0].slice(alongAxis: 0, 4..<6).scalars.contains { $0 != 0 })
        let full = gradient(at: x) { x in try! RecurrentLayer(Self.gru())(x).last.sum() }
        #expect(full[0].slice(alongAxis: 0, 0..<4).scalars.contains { $0 != 0 })
    }
}
