import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

// MARK: - Values

@Suite("Losses: values")
struct TrainingLossValueTests {
    /// p − t = [1, 0, −2, 3]: squares 1, 0, 4, 9; magnitudes 1, 0, 2, 3.
    func regression<T: TensorScalar>(_: T.Type) {
        let p = Tensor<T>([[1, 2], [3, 4]])
        let t = Tensor<T>([[0, 2], [5, 1]])
        #expect(squaredError(p, t).scalar == 3.5)
        #expect(squaredError(p, t, reduction: .sum).scalar == 14)
        #expect(squaredError(p, t).shape == [])
        #expect(absoluteError(p, t).scalar == 1.5)
        #expect(absoluteError(p, t, reduction: .sum).scalar == 6)
        // The mean of nothing is 0.
        let empty = Tensor<T>(shape: [0, 2], scalars: [])
        #expect(squaredError(empty, empty).scalar == 0)
        #expect(absoluteError(empty, empty).scalar == 0)
    }

    @Test func squaredAndAbsoluteError() {
        regression(Float.self)
        regression(Double.self)
    }

    /// Rows 0 and 2 observed (mask [T, 1] broadcasts over the two columns), row 1 missing as NaN.
    func masked<T: TensorScalar>(_: T.Type) {
        let p = Tensor<T>([[1, 2], [100, -100], [3, 5]])
        let t = Tensor<T>([[0, 2], [.nan, .nan], [4, 2]])
        let mask = Tensor<T>([[1], [0], [1]])
        // Observed differences 1, 0, −1, 3: squares 1, 0, 1, 9 over 4 observed entries.
        #expect(maskedSquaredError(p, t, mask: mask).scalar == 11)
        #expect(maskedSquaredError(p, t, mask: mask, reduction: .mean).scalar == 2.75)
        // The same with a full mask.
        let full = Tensor<T>([[1, 1], [0, 0], [1, 1]])
        #expect(maskedSquaredError(p, t, mask: full).scalar == 11)
        // Weights: ½ on row 0, 2 on row 2: ½(1 + 0) + 2(1 + 9) = 20.5; the mean divides by Σw = 5.
        let weights = Tensor<T>([[0.5], [0], [2]])
        #expect(maskedSquaredError(p, t, mask: weights).scalar == 20.5)
        #expect(maskedSquaredError(p, t, mask: weights, reduction: .mean).scalar == 4.1)
        // Everything observed equals the plain squared error.
        let finite = Tensor<T>([[0, 2], [99, -98], [4, 2]])
        #expect(maskedSquaredError(p, finite, mask: Tensor<T>(1)).scalar == squaredError(p, finite, reduction: .sum).scalar)
        // Nothing observed: 0, not 0/0, with either reduction.
        #expect(maskedSquaredError(p, t, mask: Tensor<T>.zeros([3, 1]), reduction: .mean).scalar == 0)
        #expect(maskedSquaredError(p, t, mask: Tensor<T>.zeros([3, 1])).scalar == 0)
    }

    @Test func maskedSquaredErrorCountsOnlyObservedEntries() {
        masked(Float.self)
        masked(Double.self)
    }

    /// logits [[2, 0, −1], [0.5, 1.5, 0]], labels [0, 1]: each term is logΣexp − z_label.
    func crossEntropy<T: TensorScalar>(_: T.Type, tolerance: Double) {
        let logits = Tensor<T>([[2, 0, -1], [0.5, 1.5, 0]])
        let row0 = Double.log(Double.exp(2) + 1 + Double.exp(-1)) - 2
        let row1 = Double.log(Double.exp(0.5) + Double.exp(1.5) + 1) - 1.5
        let mean = softmaxCrossEntropy(logits: logits, labels: [0, 1])
        let sum = softmaxCrossEntropy(logits: logits, labels: [0, 1], reduction: .sum)
        #expect(Swift.abs(Double(mean.scalar) - (row0 + row1) / 2) < tolerance)
        #expect(Swift.abs(Double(sum.scalar) - (row0 + row1)) < tolerance)
        // One-hot probabilities give the same loss.
        let oneHot = Tensor<T>([[1, 0, 0], [0, 1, 0]])
        #expect(
            Swift.abs(Double(softmaxCrossEntropy(logits: logits, probabilities: oneHot).scalar) - (row0 + row1) / 2) < tolerance)
        // Soft targets: −Σ q log softmax.
        let soft = Tensor<T>([[0.5, 0.25, 0.25], [0, 0.5, 0.5]])
        let logSoftmax0 = [2.0, 0, -1].map { $0 - (row0 + 2) }
        let logSoftmax1 = [0.5, 1.5, 0].map { $0 - (row1 + 1.5) }
        let softExpected =
            -(0.5 * logSoftmax0[0] + 0.25 * logSoftmax0[1] + 0.25 * logSoftmax0[2])
            - (0.5 * logSoftmax1[1] + 0.5 * logSoftmax1[2])
        let softLoss = softmaxCrossEntropy(logits: logits, probabilities: soft, reduction: .sum)
        #expect(Swift.abs(Double(softLoss.scalar) - softExpected) < tolerance)
        // Uniform logits over C classes: log C.
        let uniform = Tensor<T>.zeros([4, 5])
        #expect(Swift.abs(Double(softmaxCrossEntropy(logits: uniform, labels: [0, 1, 2, 4]).scalar) - Double.log(5)) < tolerance)
    }

    @Test func softmaxCrossEntropyAgainstClosedForms() {
        crossEntropy(Float.self, tolerance: 1e-6)
        crossEntropy(Double.self, tolerance: 1e-14)
    }

    /// Logits of shape [2, 3, 4] are 6 examples of 4 classes, in row-major order; a rank-1 tensor is
    /// one example.
    @Test func crossEntropyFlattensLeadingAxes() {
        var generator = SeededGenerator(seed: 5)
        let logits = Tensor<Double>.normal([2, 3, 4], using: &generator)
        let labels = [3, 0, 1, 2, 2, 0]
        let flat = softmaxCrossEntropy(logits: logits.reshaped(to: [6, 4]), labels: labels)
        #expect(Swift.abs(softmaxCrossEntropy(logits: logits, labels: labels).scalar - flat.scalar) < 1e-15)
        let single = softmaxCrossEntropy(logits: Tensor<Double>([1, 2, 3]), labels: [2])
        #expect(Swift.abs(single.scalar - (Double.log(Double.exp(1) + Double.exp(2) + Double.exp(3)) - 3)) < 1e-14)
    }

    /// ±1000 would overflow exp in either type; through logSoftmax the values are exact: a confident
    /// right answer costs log(1 + e⁻²⁰⁰⁰) = 0, a confident wrong one 2000.
    func hugeLogits<T: TensorScalar>(_: T.Type) {
        let logits = Tensor<T>([[1000, -1000], [1000, -1000], [-1000, 1000]])
        let loss = softmaxCrossEntropy(logits: logits, labels: [0, 1, 1], reduction: .sum)
        #expect(loss.scalar == 2000)
        let g = gradient(at: logits) { softmaxCrossEntropy(logits: $0, labels: [0, 1, 1], reduction: .sum) }
        #expect(g.isFinite)
        // softmax − onehot: 0 for the right answers, ±1 for the wrong one.
        #expect(g.scalars == [0, 0, 1, -1, 0, 0])
        let soft = softmaxCrossEntropy(logits: logits, probabilities: Tensor([[0.5, 0.5], [0, 1], [1, 0]]), reduction: .sum)
        #expect(soft.scalar == 1000 + 2000 + 2000)
    }

    @Test func crossEntropyOfHugeLogitsIsFiniteAndExact() {
        hugeLogits(Float.self)
        hugeLogits(Double.self)
    }

    @Test func floatAgreesWithDouble() {
        var generator = SeededGenerator(seed: 21)
        let p = Tensor<Double>.normal([5, 4], using: &generator)
        let t = Tensor<Double>.normal([5, 4], using: &generator)
        let mask = Tensor<Double>.uniform([5, 4], lower: 0, upper: 1, using: &generator) .> 0.5
        let labels = [0, 3, 2, 1, 1]
        let soft = Tensor<Double>.uniform([5, 4], lower: 0, upper: 1, using: &generator)
        let losses: [(String, (Tensor<Double>) -> Tensor<Double>, (Tensor<Float>) -> Tensor<Float>)] = [
            ("MSE", { squaredError($0, t) }, { squaredError($0, t.converted()) }),
            ("SAE", { absoluteError($0, t, reduction: .sum) }, { absoluteError($0, t.converted(), reduction: .sum) }),
            (
                "masked", { maskedSquaredError($0, t, mask: mask, reduction: .mean) },
                { maskedSquaredError($0, t.converted(), mask: mask.converted(), reduction: .mean) }
            ),
            (
                "CE labels", { softmaxCrossEntropy(logits: $0, labels: labels) },
                { softmaxCrossEntropy(logits: $0, labels: labels) }
            ),
            (
                "CE soft", { softmaxCrossEntropy(logits: $0, probabilities: soft) },
                { softmaxCrossEntropy(logits: $0, probabilities: soft.converted()) }
            ),
        ]
        for (name, double, float) in losses {
            let (vd, gd) = valueWithGradient(at: p, of: double)
            let (vf, gf) = valueWithGradient(at: p.converted(to: Float.self), of: float)
            #expect(Swift.abs(Double(vf.scalar) - vd.scalar) <= 1e-5 * Swift.max(1, Swift.abs(vd.scalar)), "\(name) value")
            for (a, b) in zip(gf.doubles, gd.scalars) {
                #expect(Swift.abs(a - b) <= 1e-5 * Swift.max(1, Swift.abs(b)), "\(name) gradient \(a) vs \(b)")
            }
        }
    }
}

// MARK: - Gradients

@Suite("Losses: gradients (Double)")
struct TrainingLossGradientTests {
    @Test func regressionLossesMatchFiniteDifferences() {
        let p = randomTensor([3, 4], seed: 31)
        let t = randomTensor([3, 4], seed: 32)
        for reduction in [LossReduction.mean, .sum] {
            expectGradientMatches(at: p, "squaredError prediction \(reduction)") { squaredError($0, t, reduction: reduction) }
            expectGradientMatches(at: t, "squaredError target \(reduction)") { squaredError(p, $0, reduction: reduction) }
            // Random inputs are a finite-difference step away from the kink of |x| at 0.
            expectGradientMatches(at: p, "absoluteError prediction \(reduction)") { absoluteError($0, t, reduction: reduction) }
            expectGradientMatches(at: t, "absoluteError target \(reduction)") { absoluteError(p, $0, reduction: reduction) }
        }
    }

    @Test func maskedLossMatchesFiniteDifferences() {
        let p = randomTensor([4, 3], seed: 33)
        let t = randomTensor([4, 3], seed: 34)
        let mask = Tensor<Double>([[1], [0], [0.5], [2]])
        for reduction in [LossReduction.mean, .sum] {
            expectGradientMatches(at: p, "masked prediction \(reduction)") {
                maskedSquaredError($0, t, mask: mask, reduction: reduction)
            }
            expectGradientMatches(at: t, "masked target \(reduction)") {
                maskedSquaredError(p, $0, mask: mask, reduction: reduction)
            }
        }
    }

    @Test func crossEntropyMatchesFiniteDifferences() {
        let logits = randomTensor([2, 3, 4], seed: 35, lower: -3, upper: 3)
        let labels = [1, 3, 0, 0, 2, 3]
        let soft = randomTensor([2, 3, 4], seed: 36, lower: 0, upper: 1)
        for reduction in [LossReduction.mean, .sum] {
            expectGradientMatches(at: logits, "cross-entropy labels \(reduction)") {
                softmaxCrossEntropy(logits: $0, labels: labels, reduction: reduction)
            }
            expectGradientMatches(at: logits, "cross-entropy soft logits \(reduction)") {
                softmaxCrossEntropy(logits: $0, probabilities: soft, reduction: reduction)
            }
            expectGradientMatches(at: soft, "cross-entropy soft probabilities \(reduction)") {
                softmaxCrossEntropy(logits: logits, probabilities: $0, reduction: reduction)
            }
        }
    }

    /// Closed forms: ∂MSE/∂p = 2(p − t)/n; ∂CE/∂z = softmax(z) − onehot(y) (÷ N for the mean);
    /// ∂|p − t|/∂p = sign(p − t), 0 where p = t.
    @Test func closedFormGradients() {
        let p = Tensor<Double>([[1, 2], [3, 4]])
        let t = Tensor<Double>([[0, 2], [5, 1]])
        #expect(gradient(at: p) { squaredError($0, t) }.scalars == [0.5, 0, -1, 1.5])
        #expect(gradient(at: p) { absoluteError($0, t, reduction: .sum) }.scalars == [1, 0, -1, 1])

        let logits = Tensor<Double>([[2, 0, -1], [0.5, 1.5, 0]])
        let g = gradient(at: logits) { softmaxCrossEntropy(logits: $0, labels: [0, 1]) }
        let softmax = logits.softmax().scalars
        let expected = [softmax[0] - 1, softmax[1], softmax[2], softmax[3], softmax[4] - 1, softmax[5]].map { $0 / 2 }
        expectClose(g.scalars, expected, tolerance: 1e-15)
    }

    /// NaN (or ±∞) where the mask is 0, in the target or the prediction: the loss and both gradients
    /// stay finite, and the gradients are exactly 0 there.
    func nanAtMaskedEntries<T: TensorScalar>(_: T.Type) {
        let p = Tensor<T>([[1, 2], [.infinity, 7], [3, 5]])
        let t = Tensor<T>([[0, .nan], [.nan, .nan], [4, 2]])
        let mask = Tensor<T>([[1, 0], [0, 0], [1, 1]])
        for reduction in [LossReduction.mean, .sum] {
            let (value, gradients) = valueWithGradient(at: [p, t]) { v in
                maskedSquaredError(v[0], v[1], mask: mask, reduction: reduction)
            }
            #expect(value.isFinite && gradients[0].isFinite && gradients[1].isFinite, "\(reduction)")
            let scale: T = reduction == .mean ? 3 : 1
            let tolerance = 4 * T.ulpOfOne
            // Observed: differences 1, −1, 3 → 2(p − t); exactly 0 at masked entries.
            expectClose(gradients[0].scalars, [2, 0, 0, 0, -2, 6].map { $0 / scale }, tolerance: tolerance, "\(reduction)")
            expectClose(gradients[1].scalars, [-2, 0, 0, 0, 2, -6].map { $0 / scale }, tolerance: tolerance, "\(reduction)")
            #expect([1, 2, 3].allSatisfy { gradients[0].scalars[$0] == 0 && gradients[1].scalars[$0] == 0 })
            expectClose([value.scalar], [11 / scale], tolerance: 16 * tolerance)
        }
        // Nothing observed, with NaN everywhere: zero loss, zero gradients.
        let (value, g) = valueWithGradient(at: p) { maskedSquaredError($0, t, mask: Tensor<T>.zeros([3, 2]), reduction: .mean) }
        #expect(value.scalar == 0 && g.scalars.allSatisfy { $0 == 0 })
    }

    @Test func maskedLossIsFiniteWithNaNAtMaskedEntries() {
        nanAtMaskedEntries(Float.self)
        nanAtMaskedEntries(Double.self)
    }
}

// MARK: - Preconditions

@Suite("Losses: preconditions")
struct TrainingLossPreconditionTests {
    @Test func shapeMismatchNamesBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = squaredError(Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([3]))
        }
        expectPreconditionMessage(result, contains: "squaredError: prediction shape [2, 3] differs from target shape [3]")
    }

    @Test func badLabelIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = softmaxCrossEntropy(logits: Tensor<Double>.zeros([2, 3]), labels: [0, 3])
        }
        expectPreconditionMessage(result, contains: "label 3 at position 1 is out of range 0..<3")
        await #expect(processExitsWith: .failure) {
            _ = softmaxCrossEntropy(logits: Tensor<Double>.zeros([2, 3]), labels: [0])
        }
        await #expect(processExitsWith: .failure) {
            _ = softmaxCrossEntropy(logits: Tensor<Double>.zeros([2, 3]), labels: [0, -1])
        }
    }

    @Test func badMasksAreRejected() async {
        await #expect(processExitsWith: .failure) {
            let p = Tensor<Double>.zeros([2, 3])
            _ = maskedSquaredError(p, p, mask: Tensor<Double>([1, -1, 0]))
        }
        await #expect(processExitsWith: .failure) {
            let p = Tensor<Double>.zeros([2, 3])
            _ = maskedSquaredError(p, p, mask: Tensor<Double>.ones([3, 3]))
        }
    }
}
