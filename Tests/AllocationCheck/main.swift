// rnnode-allocations: proves that the integrator's per-step work allocates nothing, by counting the
// process's allocations (AllocationCounter's malloc family, in effect for every thread and every
// library) around the same work at two lengths, n and 2n steps. A per-step allocation would make the
// counts differ by at least n; equal counts mean none.
//
// Each scenario prepares its work at both lengths outside the count, runs it `warmUps` times at each
// (the first solves and batches fill the caches the library and the runtime keep: the workspace
// pool, the C kernels' worker pool and per-thread scratch memory, Dispatch's threads), then counts
// `rounds` repetitions at each length. The fewest allocations of a repetition at n must equal the
// fewest at 2n.
//
// Why the fewest: a thread started during a repetition allocates once — its thread-local storage,
// the C kernels' scratch memory on its first product — and Dispatch starts one now and then when a
// `concurrentPerform` finds its workers still busy (1–2 extra allocations in about 1 repetition in
// 20 of the larger Euler training batch, 1 in 500 of the larger RK4 one, on 2 CPUs, loaded or not).
// Such allocations only ever add to a count; a per-step allocation adds to every repetition, so it
// raises the fewest too.
//
// Not compared at all: the allocations libdispatch makes itself. `concurrentPerform` (the fused
// path's row blocks) takes its continuation from a per-thread cache and allocates one when the
// calling thread's cache is empty, which depends on which thread released the previous one: 1–2
// allocations of 64 bytes per call, in most repetitions. They are counted and printed apart.
// Everything a `concurrentPerform` call costs on the caller's side (its closure context and block
// copy) is compared, so a call per step would still show.
//
// Before that, self-tests check that the counter sees what it must — an allocation by the Swift
// runtime, an aligned one, one on another thread — and self-checks run work known to allocate per
// step, which must show counts that grow with the length. Exits with status 1 and a line naming the
// scenario and its counts when a check fails.

import AllocationCounter
import Dispatch
import Foundation
import RNNODE
import Synchronization

/// Repetitions before counting, at each length.
let warmUps = 3
/// Counted repetitions at each length.
let rounds = 5

/// What `body` allocated, on every thread.
func countAllocations(_ body: () throws -> Void) rethrows -> rnnode_allocation_counts {
    rnnode_allocation_counting_start()
    defer { _ = rnnode_allocation_counting_stop() }
    try body()
    return rnnode_allocation_counting_stop()
}

extension rnnode_allocation_counts {
    /// The allocations that are compared: all but libdispatch's own.
    var compared: UInt64 { allocations - attributed }
}

/// Keeps `value` alive and opaque to the optimizer, so that the work producing it is not removed.
@_optimize(none)
func keep<T>(_ value: T) {}

/// Ends the check with `message`.
func fail(_ message: String) -> Never {
    print("FAIL: \(message)")
    exit(1)
}

guard rnnode_allocation_counter_available() == 1 else {
    print("rnnode-allocations: skipped (the counting allocator replaces glibc's malloc; this platform has none)")
    exit(0)
}
guard rnnode_allocation_counter_attribute("libdispatch.so") == 1 else {
    fail("libdispatch.so is not loaded: its own allocations cannot be told apart")
}

// MARK: - Self-tests: the counter is in effect

/// A self-test: `body` must allocate at least `minimumBytes`, as seen by the counter, and not only
/// in libdispatch.
func selfTest(_ name: String, minimumBytes: UInt64, _ body: () -> Void) {
    let counts = countAllocations(body)
    guard counts.compared > 0, counts.bytes >= minimumBytes else {
        fail(
            "self-test \"\(name)\": expected an allocation of at least \(minimumBytes) bytes, counted \(counts.allocations) "
                + "(\(counts.bytes) bytes, \(counts.attributed) by libdispatch); the counting allocator is not in effect")
    }
    print("self-test ok: \(name): \(counts.allocations) allocations, \(counts.bytes) bytes")
}

/// A length the optimizer cannot know (1 MiB).
let opaqueCount = 1 << 20 + CommandLine.arguments.count - 1

let nothing = countAllocations {}
guard nothing.allocations == 0 else { fail("self-test \"empty region\": counted \(nothing.allocations) allocations") }
print("self-test ok: empty region: 0 allocations")
selfTest("Swift array (libswiftCore's swift_slowAlloc → malloc)", minimumBytes: UInt64(opaqueCount)) {
    keep([UInt8](repeating: 1, count: opaqueCount))
}
selfTest("64-byte aligned block (swift_slowAlloc → posix_memalign)", minimumBytes: UInt64(opaqueCount)) {
    let block = UnsafeMutableRawPointer.allocate(byteCount: opaqueCount, alignment: 64)
    keep(block)
    block.deallocate()
}
/// Whether the other-thread self-test's allocation ran off the main thread.
final class ThreadRecord: Sendable {
    let offMain = Mutex(false)
}
let record = ThreadRecord()
selfTest("Swift array on a Dispatch worker thread", minimumBytes: UInt64(opaqueCount)) {
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        keep([UInt8](repeating: 1, count: opaqueCount))
        record.offMain.withLock { $0 = !Thread.isMainThread }
        done.signal()
    }
    done.wait()
}
guard record.offMain.withLock({ $0 }) else { fail("self-test \"worker thread\": the work ran on the main thread") }

// MARK: - Scenarios

/// Work whose allocations are compared at two lengths.
struct Scenario {
    /// What is measured.
    let name: String
    /// The unit of the lengths.
    let unit: String
    /// n: the work runs at n and 2n.
    let length: Int
    /// Nil: the counts must be equal (the work allocates nothing per step). A number: a self-check,
    /// whose counts must grow by at least this many from n to 2n (the work allocates per step).
    let expectedGrowth: Int?
    /// Prepares the work at a length, outside the count; each call of the result is one repetition.
    let prepare: (Int) throws -> () throws -> Void
}

/// Runs `scenario`, prints its counts and returns whether they are as expected.
func check(_ scenario: Scenario) throws -> Bool {
    let lengths = [scenario.length, 2 * scenario.length]
    let work = try lengths.map { try scenario.prepare($0) }
    for _ in 0..<warmUps { for run in work { try run() } }
    var counts: [[rnnode_allocation_counts]] = [[], []]
    for _ in 0..<rounds {
        for (i, run) in work.enumerated() { counts[i].append(try countAllocations(run)) }
    }
    let compared = counts.map { $0.map(\.compared) }
    let fewest = compared.map { $0.min()! }
    func list(_ values: [UInt64]) -> String { values.map(String.init).joined(separator: ", ") }
    let summary =
        "\(scenario.name): \(lengths[0]) \(scenario.unit): \(fewest[0]) allocations (\(list(compared[0]))); "
        + "\(lengths[1]) \(scenario.unit): \(fewest[1]) allocations (\(list(compared[1]))); "
        + "libdispatch's own, not compared: \(list(counts[0].map(\.attributed))); \(list(counts[1].map(\.attributed)))"
    let ok: Bool
    if let growth = scenario.expectedGrowth {
        ok = fewest[1] >= fewest[0] + UInt64(growth)
        print("\(ok ? "ok" : "FAIL") self-check, must grow by ≥ \(growth): \(summary)")
    } else {
        ok = fewest[0] == fewest[1]
        print("\(ok ? "ok" : "FAIL") \(summary)")
    }
    return ok
}

/// Su's two-species competition model, dx/dt = f(x).
func competition() -> FieldClosure<SIMD2<Double>> {
    FieldClosure { _, x in
        SIMD2(
            0.1 * x.x * (1 - 0.002 * x.x) - 1e-4 * x.x * x.y,
            0.3 * x.y * (1 - 0.003 * x.y) - 2e-4 * x.x * x.y)
    }
}

/// A solve of `competition` over n fixed RK4 steps of 0.01, keeping the states `saveAt` asks for.
func simdSolve(saveAt: SaveAt<Double>) -> (Int) -> () throws -> Void {
    { n in
        let field = competition()
        return {
            let solution = try solve(
                field, initialState: SIMD2<Double>(100, 150), from: 0, to: Double(n) * 0.01, method: .rk4,
                step: .fixed(0.01), saveAt: saveAt)
            keep(solution.states)
        }
    }
}

/// The harmonic oscillator y″ = −y as a first-order system: its adaptive steps keep one size, so
/// their number grows with the time integrated over.
func oscillator() -> FieldClosure<SIMD2<Double>> {
    FieldClosure { _, y in SIMD2(y.y, -y.x) }
}

/// An integrator of `field` kept across repetitions, each advancing it by n·`span` in time.
func integratorAdvance(
    _ field: FieldClosure<SIMD2<Double>>, method: ButcherTableau, step: StepSizeControl<Double>, span: Double
) -> (Int) throws -> () throws -> Void {
    { n in
        let integrator = try Integrator(field, initialState: SIMD2<Double>(100, 150), time: 0, method: method, step: step)
        return {
            try integrator.advance(to: integrator.time + Double(n) * span)
            guard integrator.status == .success else { fail("the integration failed: \(integrator.status)") }
            keep(integrator.state)
        }
    }
}

/// A recurrent layer and a Dense head from its last output to one value, under training.
struct Regression<Cell: RecurrentCell>: Trainable where Cell.Scalar == Float {
    typealias Scalar = Float
    var layer: RecurrentLayer<Cell>
    var head: Dense<Float>
    var parameterPaths: [ParameterPath<Self>] {
        ParameterPath.nested("layer", \.layer, in: self) + ParameterPath.nested("head", \.head, in: self)
    }
    static var hasFixedParameterPaths: Bool { RecurrentLayer<Cell>.hasFixedParameterPaths }

    /// Mean squared error of the head's prediction from the layer's last output.
    func loss(_ x: Tensor<Float>, _ y: Tensor<Float>) throws -> Tensor<Float> {
        squaredError(head(try layer(x).last), y)
    }
}

/// Training batches of an LSTM layer (Float32, batch first) with `integration`, a Dense head, mean
/// squared error and Adam 1e-3, on sequences of the given length: each repetition is one batch (as
/// in rnnode-bench's training benchmarks).
func lstmTraining(
    hidden: Int, batch: Int, inputs: Int, integration: CellIntegration<Float>
) -> (Int) throws -> () throws -> Void {
    { steps in
        var generator = SeededGenerator(seed: 0)
        let cell = LSTMCell<Float>(inputSize: inputs, hiddenSize: hidden, initialization: .pytorch, using: &generator)
        var model = Regression(
            layer: RecurrentLayer(cell, integration: integration),
            head: Dense(inputSize: hidden, outputSize: 1, using: &generator))
        let x = Tensor<Float>.normal([batch, steps, inputs], mean: 0, standardDeviation: 1, using: &generator)
        let y = Tensor<Float>.normal([batch, 1], mean: 0, standardDeviation: 1, using: &generator)
        var optimizer = Adam<Float>(learningRate: 1e-3)
        return {
            let tape = Tape<Float>()
            let (recorded, variables) = model.recorded(on: tape)
            let loss = try recorded.loss(x, y)
            var parameters = model.parameters
            optimizer.update(&parameters, gradients: tape.gradients(of: loss, withRespectTo: variables))
            model.parameters = parameters
        }
    }
}

// The training sizes keep every tensor whose size depends on the sequence length (the input, its
// projection and their gradients, the outputs) on one side of the library's recycling threshold
// (`recycledTensorBytes`, 128 KiB) at both lengths — below it at 2n for the small ones, above it at
// n for the large ones. A tensor that crossed it would change the count by a constant (a recycled
// block costs the pool's bookkeeping), which is not a per-step allocation but would fail the check.
// The small sizes run the batch as one block of rows on the calling thread; the large ones have work
// enough for one block per CPU (`concurrentPerform`) and split the input projection over the C
// kernels' worker pool.
let scenarios = [
    Scenario(
        name: "solve, SIMD2<Double>, RK4, fixed 0.01, saveAt .final", unit: "steps", length: 1000, expectedGrowth: nil,
        prepare: simdSolve(saveAt: .final)),
    // n steps of 2⁻⁷ per advance, landing on the grid.
    Scenario(
        name: "Integrator.advance, SIMD2<Double>, RK4, fixed 2⁻⁷", unit: "steps", length: 1000, expectedGrowth: nil,
        prepare: integratorAdvance(competition(), method: .rk4, step: .fixed(1.0 / 128), span: 1.0 / 128)),
    // About 1.3 adaptive steps per 0.1 in time: 1,300 and 2,600 steps.
    Scenario(
        name: "Integrator.advance, SIMD2<Double> oscillator, Dormand–Prince, adaptive", unit: "× 0.1 in time",
        length: 1000, expectedGrowth: nil,
        prepare: integratorAdvance(oscillator(), method: .dopri5, step: .adaptive(rtol: 1e-8, atol: 1e-8), span: 0.1)),
    Scenario(
        name: "LSTM training batch, Euler Δt = 1 (fused), hidden 16, batch 8, 4 inputs", unit: "time steps", length: 25,
        expectedGrowth: nil, prepare: lstmTraining(hidden: 16, batch: 8, inputs: 4, integration: .discrete)),
    Scenario(
        name: "LSTM training batch, Euler Δt = 1 (fused), hidden 64, batch 32, 32 inputs", unit: "time steps", length: 64,
        expectedGrowth: nil, prepare: lstmTraining(hidden: 64, batch: 32, inputs: 32, integration: .discrete)),
    Scenario(
        name: "LSTM training batch, RK4 Δt = 1 (fused), hidden 16, batch 8, 4 inputs", unit: "time steps", length: 25,
        expectedGrowth: nil, prepare: lstmTraining(hidden: 16, batch: 8, inputs: 4, integration: .fixed(.rk4))),
    Scenario(
        name: "LSTM training batch, RK4 Δt = 1 (fused), hidden 32, batch 32, 32 inputs", unit: "time steps", length: 40,
        expectedGrowth: nil, prepare: lstmTraining(hidden: 32, batch: 32, inputs: 32, integration: .fixed(.rk4))),
]

/// Work known to allocate per step (or per doubling of its length): the check must see its counts grow.
let selfChecks = [
    // A Tensor state is a new heap buffer for every stage and step.
    Scenario(
        name: "solve, Tensor<Double> state, RK4, fixed 0.01, saveAt .final", unit: "steps", length: 1000,
        expectedGrowth: 1000,
        prepare: { n in
            let decay = FieldClosure<Tensor<Double>> { _, y in -y }
            return {
                let solution = try solve(
                    decay, initialState: Tensor([1.0, 2.0]), from: 0, to: Double(n) * 0.01, method: .rk4, step: .fixed(0.01),
                    saveAt: .final)
                keep(solution.finalState)
            }
        }),
    // Every state kept: the solution's arrays grow, one reallocation per doubling.
    Scenario(
        name: "solve, SIMD2<Double>, RK4, fixed 0.01, saveAt .steps", unit: "steps", length: 1000, expectedGrowth: 1,
        prepare: simdSolve(saveAt: .steps)),
    // Adaptive steps run on the tape, a recorded operation per stage and step.
    Scenario(
        name: "LSTM training batch, adaptive Dormand–Prince (tape path), hidden 16, batch 8, 4 inputs", unit: "time steps",
        length: 25, expectedGrowth: 25,
        prepare: lstmTraining(hidden: 16, batch: 8, inputs: 4, integration: .adaptive(rtol: 1e-3, atol: 1e-3))),
]

var failures = 0
for scenario in scenarios + selfChecks where try !check(scenario) { failures += 1 }
if failures > 0 { fail("\(failures) of \(scenarios.count + selfChecks.count) checks failed") }
print(
    "all \(scenarios.count) scenarios allocate nothing per step; all \(selfChecks.count) self-checks saw their allocations grow")
