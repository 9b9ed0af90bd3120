import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

/// Random inputs for gradient checks, away from kinks and singularities.
func randomTensor(_ shape: [Int], seed: UInt64, lower: Double = -1, upper: Double = 1) -> Tensor<Double> {
    var generator = SeededGenerator(seed: seed)
    return Tensor.uniform(shape, lower: lower, upper: upper, using: &generator)
}

/// Checks the tape's gradient of `f` against central differences.
func expectGradientMatches(
    at x: Tensor<Double>, tolerance: Double = 1e-7, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: (Tensor<Double>) -> Tensor<Double>
) {
    let check = checkGradient(at: x, of: f)
    #expect(check.maxError < tolerance, "\(name): \(check)", sourceLocation: sourceLocation)
}

@Suite("Gradients of every operation against central differences (Double)")
struct OperationGradientTests {
    // A fixed weighting so that every output element matters differently.
    func weighted(_ y: Tensor<Double>) -> Tensor<Double> {
        let w = Tensor<Double>(shape: y.shape, scalars: (0..<y.scalarCount).map { 0.3 + 0.7 * Double($0 % 5) })
        return (y * w).sum()
    }

    @Test func unaryFunctions() {
        let x = randomTensor([3, 4], seed: 1)
        let positive = randomTensor([3, 4], seed: 2, lower: 0.2, upper: 2)
        expectGradientMatches(at: x, "exp") { weighted(exp($0)) }
        expectGradientMatches(at: positive, "log") { weighted(log($0)) }
        expectGradientMatches(at: x, "tanh") { weighted(tanh($0)) }
        expectGradientMatches(at: x, "sigmoid") { weighted(sigmoid($0)) }
        expectGradientMatches(at: x * 2, "hardSigmoid") { weighted(hardSigmoid($0)) }
        expectGradientMatches(at: x, "relu") { weighted(relu($0)) }
        expectGradientMatches(at: x, "softplus") { weighted(softplus($0)) }
        expectGradientMatches(at: x, "abs") { weighted(abs($0)) }
        expectGradientMatches(at: positive, "sqrt") { weighted(sqrt($0)) }
        expectGradientMatches(at: x, "square") { weighted(square($0)) }
        expectGradientMatches(at: x, "sin") { weighted(sin($0)) }
        expectGradientMatches(at: x, "cos") { weighted(cos($0)) }
        expectGradientMatches(at: positive, "pow scalar") { weighted(pow($0, 2.5)) }
        expectGradientMatches(at: x, "clip") { weighted(clip($0, -0.5, 0.5)) }
        expectGradientMatches(at: x, "negate") { weighted(-$0) }
    }

    @Test func binaryOperationsWithBroadcasting() {
        let a = randomTensor([3, 4], seed: 3)
        let row = randomTensor([4], seed: 4, lower: 0.5, upper: 1.5)
        let column = randomTensor([3, 1], seed: 5, lower: 0.5, upper: 1.5)
        // Differentiate with respect to each operand in turn.
        expectGradientMatches(at: a, "+ lhs") { weighted($0 + row) }
        expectGradientMatches(at: row, "+ rhs broadcast") { weighted(a + $0) }
        expectGradientMatches(at: column, "- rhs broadcast") { weighted(a - $0) }
        expectGradientMatches(at: a, "- lhs") { weighted($0 - column) }
        expectGradientMatches(at: a, "* lhs") { weighted($0 * row) }
        expectGradientMatches(at: row, "* rhs") { weighted(a * $0) }
        expectGradientMatches(at: a, "/ lhs") { weighted($0 / column) }
        expectGradientMatches(at: column, "/ rhs") { weighted(a / $0) }
        expectGradientMatches(at: a, "same operand twice") { weighted($0 * $0 + $0) }
        expectGradientMatches(at: row, "pow base") { weighted(pow($0, Tensor([2, 0.5, 3, 1.5]))) }
        expectGradientMatches(at: row, "pow exponent") { weighted(pow(Tensor([2, 0.5, 3, 1.5]), $0)) }
        expectGradientMatches(at: a, "max") { weighted(max($0, a * 0.5 + 0.1)) }
        expectGradientMatches(at: a, "min") { weighted(min($0, a * 0.5 + 0.1)) }
    }

    @Test func scalarOperations() {
        let x = randomTensor([5], seed: 6, lower: 0.5, upper: 2)
        expectGradientMatches(at: x, "t + s") { weighted($0 + 2) }
        expectGradientMatches(at: x, "s - t") { weighted(2 - $0) }
        expectGradientMatches(at: x, "t * s") { weighted($0 * 3) }
        expectGradientMatches(at: x, "t / s") { weighted($0 / 3) }
        expectGradientMatches(at: x, "s / t") { weighted(3 / $0) }
    }

    @Test func reductions() {
        let x = randomTensor([2, 3, 4], seed: 7)
        expectGradientMatches(at: x, "sum") { $0.sum() * 1.5 }
        expectGradientMatches(at: x, "sum axis 1") { weighted($0.sum(alongAxis: 1)) }
        expectGradientMatches(at: x, "sum axes 0,2 keep") { weighted($0.sum(alongAxes: [0, 2], keepingDims: true)) }
        expectGradientMatches(at: x, "mean axis -1") { weighted($0.mean(alongAxis: -1)) }
        expectGradientMatches(at: x, "max axis 2") { weighted($0.max(alongAxis: 2)) }
        expectGradientMatches(at: x, "min axis 0") { weighted($0.min(alongAxis: 0)) }
        expectGradientMatches(at: x, "logSumExp") { weighted($0.logSumExp(alongAxis: 1)) }
        expectGradientMatches(at: x, "softmax") { weighted($0.softmax(alongAxis: 2)) }
        expectGradientMatches(at: x, "logSoftmax") { weighted($0.logSoftmax(alongAxis: 0)) }
    }

    /// A zero cotangent contributes zero even where the local derivative is infinite (√0, log 0), so
    /// one entry's singularity does not poison the rows of a Jacobian that do not depend on it.
    @Test func zeroCotangentsStayZeroAtSingularities() {
        let j = jacobian(at: Tensor<Double>([4, 0])) { x in sqrt(x) + log(x + 1) }
        #expect(j.scalars[0] == 0.25 + 0.2)
        #expect(j.scalars[1] == 0)
        #expect(j.scalars[2] == 0)
        #expect(j.scalars[3] == .infinity)
    }

    @Test func maxSharesTiesEqually() {
        let x = Tensor<Double>([1, 3, 3])
        let g = gradient(at: x) { $0.max() }
        #expect(g.scalars == [0, 0.5, 0.5])
    }

    @Test func matrixProducts() {
        let a = randomTensor([3, 4], seed: 8)
        let b = randomTensor([4, 2], seed: 9)
        let batch = randomTensor([2, 3, 4], seed: 10)
        let v = randomTensor([4], seed: 11)
        expectGradientMatches(at: a, "matmul lhs") { weighted(matmul($0, b)) }
        expectGradientMatches(at: b, "matmul rhs") { weighted(matmul(a, $0)) }
        expectGradientMatches(at: b, "batched matmul broadcast rhs") { weighted(matmul(batch, $0)) }
        expectGradientMatches(at: batch, "batched matmul lhs") { weighted(matmul($0, b)) }
        expectGradientMatches(at: v, "matrix-vector") { weighted(matmul(a, $0)) }
        expectGradientMatches(at: v, "vector-matrix") { weighted(matmul($0, b)) }
    }

    @Test func shapeOperations() {
        let x = randomTensor([2, 3, 4], seed: 12)
        expectGradientMatches(at: x, "reshape") { weighted($0.reshaped(to: [4, 6])) }
        expectGradientMatches(at: x, "permute") { weighted($0.permuted([2, 0, 1])) }
        expectGradientMatches(at: x, "transpose") { weighted($0.transposed()) }
        expectGradientMatches(at: x, "subscript x[:, 0]") { weighted($0[.all, 0]) }
        expectGradientMatches(at: x, "subscript range") { weighted($0[1, .range(1..<3)]) }
        expectGradientMatches(at: x, "gather with repeats") { weighted($0.gathering([3, 0, 3], alongAxis: 2)) }
        expectGradientMatches(at: x, "reversed") { weighted($0.reversed(alongAxis: 1)) }
        expectGradientMatches(at: x, "concatenate") { weighted(Tensor(concatenating: [$0, $0 * 2], alongAxis: 1)) }
        expectGradientMatches(at: x, "stack") { weighted(Tensor(stacking: [$0, exp($0)], alongAxis: 3)) }
        expectGradientMatches(at: x, "split") { x in
            let parts = x.split(sizes: [1, 3], alongAxis: 2)
            return weighted(parts[0]) + weighted(tanh(parts[1]))
        }
        expectGradientMatches(at: randomTensor([3], seed: 13), "broadcast") { weighted($0.broadcasted(to: [2, 3])) }
        expectGradientMatches(at: x, "replacing") { x in weighted(x.replacing(with: x * 3, where: x .> 0)) }
    }

    @Test func linearCombinationOperands() {
        let base = randomTensor([3], seed: 14)
        let k = randomTensor([3], seed: 15)
        expectGradientMatches(at: base, "linear combination base") {
            weighted(Tensor.linearCombination(base: $0, weights: [0.5, 2], terms: [k, k * k]))
        }
        expectGradientMatches(at: k, "linear combination terms") {
            weighted(Tensor.linearCombination(base: base, weights: [0.5, 0, 2], terms: [$0, $0, $0 * $0]))
        }
        // The tape's `.combination` record: one operand as base and term (its gradient is shared
        // between slots with weight 1, then accumulated), a constant term, chained combinations.
        expectGradientMatches(at: k, "linear combination sharing") { k in
            let first = Tensor.linearCombination(base: k, weights: [1, 3, -0.5], terms: [k, base, tanh(k)])
            return weighted(Tensor.linearCombination(base: first, weights: [1, 2], terms: [k, first * first]))
        }
        let tape = Tape<Double>()
        let variable = tape.variable(k)
        let combined = Tensor.linearCombination(base: variable, weights: [2, 0.5], terms: [variable, Tensor([1, 2, 3])])
        #expect(tape.count == 2)
        #expect(tape.gradient(of: combined.sum(), withRespectTo: variable) == Tensor([3, 3, 3]))
    }
}

@Suite("The tape")
struct TapeTests {
    @Test func gradientsOfSeveralInputs() {
        let (value, grads) = valueWithGradient(at: [Tensor<Double>([1, 2]), Tensor<Double>([3, 4])]) { p in
            (p[0] * p[1]).sum()
        }
        #expect(value.scalar == 11)
        #expect(grads[0].scalars == [3, 4])
        #expect(grads[1].scalars == [1, 2])
    }

    @Test func unusedInputGetsZeroGradient() {
        let grads = gradient(at: [Tensor<Double>([1, 2]), Tensor<Double>([[1]])]) { p in p[0].sum() }
        #expect(grads[1].shape == [1, 1])
        #expect(grads[1].scalars == [0])
    }

    @Test func constantsAreNotRecorded() {
        let tape = Tape<Double>()
        let x = tape.variable(Tensor([1, 2]))
        let c = Tensor<Double>([5, 5])
        _ = c * c + 1
        #expect(tape.count == 1)
        _ = x * c
        #expect(tape.count == 2)
        let detachedProduct = x.detached * c
        #expect(!detachedProduct.isRecorded)
    }

    @Test func severalBackwardPassesOnOneForwardPass() {
        let tape = Tape<Double>()
        let x = tape.variable(Tensor([1, 2, 3]))
        let y = x * x
        let g1 = tape.pullback(of: y, seed: Tensor([1, 0, 0]), withRespectTo: [x])[0]
        let g2 = tape.pullback(of: y, seed: Tensor([0, 0, 1]), withRespectTo: [x])[0]
        #expect(g1.scalars == [2, 0, 0])
        #expect(g2.scalars == [0, 0, 6])
    }

    @Test func jacobianOfAVectorFunction() {
        let x = Tensor<Double>([1, 2])
        let j = jacobian(at: x) { x in Tensor(stacking: [x[0] * x[1], x[0] + 3 * x[1], exp(x[0])]) }
        #expect(j.shape == [3, 2])
        expectClose(j.scalars, [2, 1, 1, 3, Double.exp(1), 0], tolerance: 1e-15)
    }

    /// An unrolled recurrence 100,000 steps deep: backward is a loop, so this needs no deep stack.
    @Test func deepGraphsDoNotOverflowTheStack() {
        let steps = 100_000
        let (value, g) = valueWithGradient(at: Tensor<Double>([0.5])) { x in
            var h = x
            for _ in 0..<steps { h = h + (1e-5 * (1 - h)) }
            return h.sum()
        }
        // h_n = 1 − (1 − x)(1 − 1e-5)^n, so dh/dx = (1 − 1e-5)^n.
        let factor = Double.pow(1 - 1e-5, Double(steps))
        #expect(Swift.abs(value.scalar - (1 - 0.5 * factor)) < 1e-10)
        #expect(Swift.abs(g.scalar - factor) < 1e-10)
    }

    /// Each task records on its own tape: no shared state between concurrent gradient computations.
    @Test func concurrentGradientComputations() async {
        let results = await withTaskGroup(of: (Int, Double).self) { group in
            for i in 0..<8 {
                group.addTask {
                    let x = Tensor<Double>([Double(i)])
                    let g = gradient(at: x) { x in
                        var y = x
                        for _ in 0..<200 { y = y * 1.001 + x * 0.001 }
                        return (y * y).sum()
                    }
                    return (i, g.scalar)
                }
            }
            var collected: [Int: Double] = [:]
            for await (i, g) in group { collected[i] = g }
            return collected
        }
        // The same computation serially.
        for i in 0..<8 {
            let x = Tensor<Double>([Double(i)])
            let expected = gradient(at: x) { x in
                var y = x
                for _ in 0..<200 { y = y * 1.001 + x * 0.001 }
                return (y * y).sum()
            }.scalar
            #expect(results[i] == expected)
        }
    }

    @Test func floatGradientsAgreeWithDouble() {
        let xd = randomTensor([4], seed: 20)
        let xf = xd.converted(to: Float.self)
        let gd = gradient(at: xd) { (tanh($0 * 2) * $0).sum() }
        let gf = gradient(at: xf) { (tanh($0 * 2) * $0).sum() }
        expectClose(gf.scalars.map(Double.init), gd.scalars, tolerance: 1e-5)
    }

    @Test func numericalGradientOfAQuadratic() {
        let g = numericalGradient(at: Tensor<Double>([1, -2])) { x in (x * x).sum().scalar }
        expectClose(g.scalars, [2, -4], tolerance: 1e-8)
    }
}
