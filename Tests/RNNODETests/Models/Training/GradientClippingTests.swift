import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Gradient clipping")
struct TrainingGradientClippingTests {
    /// Two gradients with entries 3, 4 and 12: global norm exactly 13.
    func pythagorean<T: TensorScalar>(_: T.Type) -> [Tensor<T>] {
        [Tensor([3, -4]), Tensor([[12]])]
    }

    func modes<T: TensorScalar>(_: T.Type) {
        // None only measures.
        var gradients = pythagorean(T.self)
        #expect(GradientClipping<T>.none.apply(to: &gradients) == 13)
        #expect(gradients == pythagorean(T.self))

        // Value: each entry clamped; the norm returned is the one before.
        gradients = pythagorean(T.self)
        #expect(GradientClipping.value(3.5).apply(to: &gradients) == 13)
        #expect(gradients[0].scalars == [3, -3.5] && gradients[1].scalars == [3.5])
        #expect(gradients[1].shape == [1, 1])
        // A limit no entry reaches changes nothing.
        gradients = pythagorean(T.self)
        GradientClipping.value(12).apply(to: &gradients)
        #expect(gradients == pythagorean(T.self))
        GradientClipping.value(.infinity).apply(to: &gradients)
        #expect(gradients == pythagorean(T.self))

        // Global norm: 13 → 6.5 halves everything, exactly.
        gradients = pythagorean(T.self)
        #expect(GradientClipping.globalNorm(6.5).apply(to: &gradients) == 13)
        #expect(gradients[0].scalars == [1.5, -2] && gradients[1].scalars == [6])
        // Exactly at the threshold, and below it: untouched, bit for bit.
        gradients = pythagorean(T.self)
        #expect(GradientClipping.globalNorm(13).apply(to: &gradients) == 13)
        #expect(gradients == pythagorean(T.self))
        GradientClipping.globalNorm(13.5).apply(to: &gradients)
        #expect(gradients == pythagorean(T.self))
        // Just below the norm: scaled, and the new norm is the threshold up to rounding.
        let threshold = T(13).nextDown
        GradientClipping.globalNorm(threshold).apply(to: &gradients)
        #expect(gradients != pythagorean(T.self))
        let after = GradientClipping<T>.none.apply(to: &gradients)
        #expect(Swift.abs(after - threshold) <= 4 * threshold.ulp)

        // No gradients, or all zero: norm 0, nothing to do.
        var none: [Tensor<T>] = []
        #expect(GradientClipping.globalNorm(1).apply(to: &none) == 0)
        var zeros = [Tensor<T>.zeros([3])]
        #expect(GradientClipping.globalNorm(1).apply(to: &zeros) == 0)
        #expect(zeros[0].scalars == [0, 0, 0])
    }

    @Test func noneValueAndGlobalNorm() {
        modes(Float.self)
        modes(Double.self)
    }

    func randomNorm<T: TensorScalar>(_: T.Type, tolerance: T) {
        var generator = SeededGenerator(seed: 3)
        let original = [Tensor<T>.normal([4, 5], using: &generator), Tensor<T>.normal([7], using: &generator)]
        let expected = original.flatMap(\.doubles).reduce(0) { $0 + $1 * $1 }.squareRoot()
        var gradients = original
        let norm = GradientClipping.globalNorm(1).apply(to: &gradients)
        #expect(Swift.abs(Double(norm) - expected) <= Double(tolerance) * expected)
        // Every entry scaled by the same factor 1/‖g‖.
        for (clipped, raw) in zip(gradients.flatMap(\.doubles), original.flatMap(\.doubles)) {
            #expect(Swift.abs(clipped - raw / expected) <= Double(tolerance))
        }
        #expect(Swift.abs(GradientClipping<T>.none.apply(to: &gradients) - 1) <= tolerance)
    }

    @Test func globalNormOfRandomGradients() {
        randomNorm(Float.self, tolerance: 1e-6)
        randomNorm(Double.self, tolerance: 1e-14)
    }

    /// NaN or ±∞ anywhere: nothing changes, and the norm says NaN (if any NaN) or +∞.
    func nonFinite<T: TensorScalar>(_: T.Type) {
        for mode in [GradientClipping<T>.none, .value(1), .globalNorm(1)] {
            let withNaN = [Tensor<T>([1, 2]), Tensor<T>([100, .nan])]
            var gradients = withNaN
            #expect(mode.apply(to: &gradients).isNaN, "\(mode)")
            #expect(gradients[0].scalars == [1, 2] && gradients[1].scalars[0] == 100 && gradients[1].scalars[1].isNaN)

            let withInfinity = [Tensor<T>([50, -.infinity]), Tensor<T>([3])]
            gradients = withInfinity
            #expect(mode.apply(to: &gradients) == .infinity, "\(mode)")
            #expect(gradients == withInfinity)

            // NaN wins over infinity, in either order.
            var both = [Tensor<T>([.infinity]), Tensor<T>([.nan])]
            #expect(mode.apply(to: &both).isNaN)
            both = [Tensor<T>([.nan]), Tensor<T>([.infinity])]
            #expect(mode.apply(to: &both).isNaN)
        }
    }

    @Test func nonFiniteGradientsAreLeftAlone() {
        nonFinite(Float.self)
        nonFinite(Double.self)
    }

    @Test func hugeAndTinyEntriesDoNotOverflowOrUnderflow() {
        // Squares of 1e200 overflow and squares of 1e-200 underflow in Double.
        var huge = [Tensor<Double>([3e200, 4e200])]
        #expect(Swift.abs(GradientClipping.globalNorm(1).apply(to: &huge) / 5e200 - 1) < 1e-15)
        #expect(Swift.abs(huge[0].scalars[0] - 0.6) < 1e-15 && Swift.abs(huge[0].scalars[1] - 0.8) < 1e-15)
        var tiny = [Tensor<Double>([3e-200]), Tensor<Double>([4e-200])]
        #expect(Swift.abs(GradientClipping<Double>.none.apply(to: &tiny) / 5e-200 - 1) < 1e-15)

        // In Float the sum of squares is accumulated in Double: 3e30 and 4e30 square beyond Float's range.
        var floats = [Tensor<Float>([3e30, 4e30])]
        let norm = GradientClipping.globalNorm(10).apply(to: &floats)
        #expect(Swift.abs(norm / 5e30 - 1) < 1e-6)
        #expect(Swift.abs(floats[0].scalars[0] - 6) < 1e-5 && Swift.abs(floats[0].scalars[1] - 8) < 1e-5)
        // A finite Float gradient whose norm exceeds Float's range: the returned norm is +∞ (as
        // documented) but clipping still uses the exact norm.
        var beyond = [Tensor<Float>([3e38, 3e38])]
        #expect(GradientClipping.globalNorm(1).apply(to: &beyond) == .infinity)
        #expect(Swift.abs(beyond[0].scalars[0] - Float(0.5).squareRoot()) < 1e-6)
    }

    @Test func clippedGradientsAreConstants() {
        let tape = Tape<Double>()
        var gradients = [tape.variable(Tensor([30, 40]))]
        GradientClipping.globalNorm(5).apply(to: &gradients)
        #expect(!gradients[0].isRecorded)
        #expect(gradients[0].scalars == [3, 4])
    }

    @Test func invalidLimitsAreRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var gradients = [Tensor<Double>([1])]
            GradientClipping.value(0).apply(to: &gradients)
        }
        expectPreconditionMessage(result, contains: "GradientClipping.value: the limit must be positive, got 0.0")
        await #expect(processExitsWith: .failure) {
            var gradients = [Tensor<Float>([1])]
            GradientClipping.globalNorm(-1).apply(to: &gradients)
        }
        await #expect(processExitsWith: .failure) {
            var gradients = [Tensor<Double>([1])]
            GradientClipping.globalNorm(.nan).apply(to: &gradients)
        }
        await #expect(processExitsWith: .failure) {
            // Checked even when there is nothing to clip.
            var gradients: [Tensor<Double>] = []
            GradientClipping.value(-.infinity).apply(to: &gradients)
        }
    }

    @Test func equatable() {
        #expect(GradientClipping<Double>.value(1) == .value(1))
        #expect(GradientClipping<Double>.value(1) != .globalNorm(1))
        #expect(GradientClipping<Float>.none == .none)
    }

    @Test func documentedExample() {
        // The example in the documentation of `GradientClipping`.
        let parameters = [Tensor<Double>([3, -4])]
        let loss = { (p: [Tensor<Double>]) in (square(p[0]) * 50).sum() }
        var optimizer = SGD<Double>(learningRate: 0.1)
        var updated = parameters

        var gradients = gradient(at: parameters, of: loss)
        let norm = GradientClipping.globalNorm(1.0).apply(to: &gradients)
        if norm.isFinite {  // else the gradients were left unchanged: stop or skip
            optimizer.update(&updated, gradients: gradients)
        }

        // ∇ = 100p = [300, −400], norm 500, clipped to [0.6, −0.8]; one step of 0.1.
        #expect(norm == 500)
        expectClose(updated[0].scalars, [2.94, -3.92], tolerance: 1e-15)
    }
}
