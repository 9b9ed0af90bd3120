import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

@Suite struct ObservationsTests {
    /// Lotka–Volterra data with two gaps (an empty cell and NaN).
    let csv = """
        t,x,y
        0,1,1
        1,2.7752,0.2538
        2,6.7659,
        3,nan,1.8746
        4,1.8781,0.3293
        """

    @Test func readsGapsFromCSV() throws {
        let data = try Observations<Double>(CSVTable.parse(csv))
        #expect(data.times == [0, 1, 2, 3, 4])
        #expect(data.variables == ["x", "y"])
        #expect(data.observedCount == 8)
        #expect(data.observedIndices == [0, 1, 2, 3, 4, 7, 8, 9])
        #expect(data.value(time: 2, variable: 1) == nil && data.value(time: 3, variable: 0) == nil)
        #expect(data.value(time: 4, variable: 0) == 1.8781)
        #expect(data.firstRow(as: SIMD2<Double>()) == SIMD2(1, 1))
        let single = try Observations<Float>(CSVTable.parse(csv), variables: ["y"])
        #expect(single.observedCount == 4 && single.variables == ["y"])
    }

    @Test func badDataIsRefusedWithItsLine() throws {
        func problem(_ text: String, variables: [String]? = nil) -> String? {
            do {
                _ = try Observations<Double>(CSVTable.parse(text), variables: variables)
                return nil
            } catch let error as ObservationError {
                return error.description
            } catch {
                return "\(error)"
            }
        }
        #expect(problem("s,x\n0,1") == "the data has no time column 't' (header: s,x)")
        #expect(problem("t,x\n0,1", variables: ["z"]) == "the data has no column 'z' (header: t,x)")
        #expect(problem("t,x\n0,1\n,2") == "line 3: the time is missing or not finite")
        #expect(problem("t,x\n0,1\n0,2") == "line 3: times must increase, got 0.0 after 0.0")
        #expect(problem("t,x\n0,\n1,") == "every entry is missing")
        #expect(problem("t,x\n0,1\n1,inf") == "line 3: the value of x is inf")
        #expect(throws: ObservationError.self) { try Observations<Double>(times: [], variables: ["x"], values: []) }
        #expect(throws: ObservationError.self) {
            try Observations<Double>(times: [0, 1], variables: ["x"], values: [[1], [2, 3]])
        }
    }

    /// Residuals at the observed entries and their Jacobian from forward sensitivities, against
    /// central differences of the residuals; the differentiable tensor residuals agree in value.
    @Test func residualsAndTheirJacobian() throws {
        let data = try Observations<Double>(CSVTable.parse(csv))
        let p = [1.5, 1.0, 1.0, 3.0]
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-11, atol: 1e-11)
        func residuals(_ p: [Double]) throws -> [Double] {
            data.residuals(
                of: try solve(
                    LotkaVolterraField<Double>().withParameters(p), initialState: [1, 1], times: data.times, step: step))
        }
        let s = try solve(
            LotkaVolterraField<Double>(), initialState: [1, 1], parameters: p, times: data.times, step: step,
            sensitivities: .parameters)
        let r = data.residuals(of: s)
        #expect(r == (try residuals(p)))
        #expect(r[0] == 0 && r[1] == 0)  // the initial row is the initial state
        let jacobian = data.residualJacobian(of: s)
        #expect(jacobian.count == 8 * 4)
        for j in 0..<4 {
            var plus = p
            var minus = p
            plus[j] += 1e-6
            minus[j] -= 1e-6
            let fd = zip(try residuals(plus), try residuals(minus)).map { ($0 - $1) / 2e-6 }
            for row in 0..<8 { #expect(Swift.abs(jacobian[row * 4 + j] - fd[row]) < 1e-6 * Swift.max(1, Swift.abs(fd[row]))) }
        }
        // The tensor path: the same values, differentiable.
        let tensorField = FieldClosure<Tensor<Double>> { _, y in
            let (x, z) = (y[.range(0..<1)], y[.range(1..<2)])
            return Tensor(concatenating: [1.5 * x - x * z, x * z - 3 * z])
        }
        let tensorSolution = try solve(tensorField, initialState: Tensor([1.0, 1.0]), times: data.times, step: step)
        let tensorResiduals = data.residuals(of: tensorSolution).scalars
        for (a, b) in zip(tensorResiduals, r) { #expect(Swift.abs(a - b) < 1e-8) }
    }

    @Test func aFailedSolveGivesNaNResidualsPastItsEnd() throws {
        let data = try Observations<Double>(CSVTable.parse(csv))
        let s = try solve(
            LotkaVolterraField<Double>().withParameters([1.5, 1, 1, 3]), initialState: [1, 1], times: data.times,
            maxSteps: 3)
        #expect(!s.succeeded)
        let r = data.residuals(of: s)
        #expect(r.count == 8 && r.last!.isNaN)
        #expect(data.residuals(predicted: [1, 1]).prefix(2) == [0, 0])
    }
}
