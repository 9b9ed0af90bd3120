import Testing

@testable import RNNODEModels
@testable import RNNODETensors

/// Reductions and samplers at the edges: infinite entries, empty tensors, bad parameters.
@Suite("Tensor edge cases")
struct TensorEdgeCaseTests {
    /// A fully masked row of −∞ logits gives −∞ (not NaN) with a zero gradient; a row with +∞ gives +∞
    /// with the gradient on the +∞ entry.
    @Test func logSumExpOfInfiniteRows() {
        let x = Tensor<Double>([[-.infinity, -.infinity], [.infinity, 1], [-.infinity, 0], [1, 2]])
        let tape = Tape<Double>()
        let v = tape.variable(x)
        let lse = v.logSumExp(alongAxis: 1)
        #expect(lse.scalars[0] == -.infinity)
        #expect(lse.scalars[1] == .infinity)
        #expect(lse.scalars[2] == 0)
        #expect(Swift.abs(lse.scalars[3] - Double.log(Double.exp(1) + Double.exp(2))) < 1e-15)
        let gradient = tape.pullback(of: lse, seed: Tensor([1, 1, 1, 1]), withRespectTo: [v])[0]
        let p = Double.exp(1) / (Double.exp(1) + Double.exp(2))
        #expect(Array(gradient.scalars.prefix(6)) == [0, 0, 1, 0, 0, 1])
        #expect(Swift.abs(gradient.scalars[6] - p) < 1e-15 && Swift.abs(gradient.scalars[7] - (1 - p)) < 1e-15)
        #expect(Tensor<Float>([[-.infinity, -.infinity, -.infinity]]).logSumExp(alongAxis: 1).scalars == [-.infinity])
    }

    /// As NumPy: the mean of no elements is NaN; losses keep 0 for no terms.
    @Test func meanOfAnEmptyTensorIsNaN() {
        let empty = Tensor<Double>(shape: [2, 0], scalars: [])
        #expect(empty.mean().scalar.isNaN)
        #expect(empty.mean(alongAxis: 1).scalars.count == 2)
        #expect(empty.mean(alongAxis: 1).scalars.allSatisfy { $0.isNaN })
        #expect(empty.mean(alongAxis: 0).shape == [0])
        #expect(squaredError(empty, empty).scalar == 0)
        #expect(Tensor<Double>([1, 2, 4]).mean().scalar == 7.0 / 3)
    }

    @Test func normalRejectsABadStandardDeviation() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = SeededGenerator(seed: 1)
            _ = Tensor<Double>.normal([2], standardDeviation: -1, using: &g)
        }
        expectPreconditionMessage(result, contains: "Tensor.normal: the standard deviation must be finite and ≥ 0, got -1.0")
        await #expect(processExitsWith: .failure) {
            var g = SeededGenerator(seed: 1)
            _ = Tensor<Double>.normal([2], standardDeviation: .nan, using: &g)
        }
    }
}
