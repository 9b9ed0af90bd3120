import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODETensors

// Optimizers fed by forward sensitivities: Levenberg–Marquardt on plain arrays and the training loop
// on a plain parameter vector.

@Suite struct ForwardGradientTrainingTests {
    let ts: [Double] = [0.5, 1, 1.5, 2, 2.5, 3]
    let ys: [Double] = [2.01, 1.38, 0.93, 0.60, 0.40, 0.26]

    func exponentialResiduals(_ p: [Double]) -> [Double] {
        var r: [Double] = []
        for (t, y) in zip(ts, ys) { r.append(p[1] * Foundation.exp(-p[0] * t) - y) }
        return r
    }

    func exponentialJacobian(_ p: [Double]) -> [Double] {
        var j: [Double] = []
        for t in ts {
            let e = Foundation.exp(-p[0] * t)
            j += [-t * p[1] * e, e]
        }
        return j
    }

    /// y = y₀ e^(−kt) by the array API and by the tape API: the same fit.
    @Test func plainLevenbergMarquardtMatchesTheTapeVersion() {
        let plain = LevenbergMarquardt<Double>().minimize(
            from: [0.3, 1], residuals: exponentialResiduals, jacobian: exponentialJacobian)
        let times = Tensor(ts)
        let observed = Tensor(ys)
        let tape = LevenbergMarquardt<Double>().minimize(from: Tensor([0.3, 1])) { (p: Tensor<Double>) -> Tensor<Double> in
            let rate = p[.range(0..<1)]
            let start = p[.range(1..<2)]
            return start * exp(-rate * times) - observed
        }
        #expect(plain.converged && tape.converged)
        #expect(plain.iterations == tape.iterations)
        let a: [Double] = plain.parameters.scalars
        let b: [Double] = tape.parameters.scalars
        for k in 0..<2 { #expect(Swift.abs(a[k] - b[k]) < 1e-12 * Swift.abs(b[k])) }
        #expect(Swift.abs(plain.cost - tape.cost) < 1e-14)
        #expect(plain.standardErrors != nil)
    }

    @Test func aNonFiniteTrialIsRejected() {
        // The residual is undefined (NaN) for k < 0.05: the optimizer backs off and still converges.
        let count = ts.count
        let fit = LevenbergMarquardt<Double>(initialDamping: 1e-8).minimize(
            from: [2, 1],
            residuals: { (p: [Double]) -> [Double] in
                p[0] < 0.05 ? [Double](repeating: .nan, count: count) : exponentialResiduals(p)
            },
            jacobian: exponentialJacobian)
        #expect(fit.converged)
        #expect(Swift.abs(fit.parameters.scalars[0] - 0.8) < 0.05)
    }

    /// The four Lotka–Volterra parameters from 18 noisy observations with gaps: forward sensitivities
    /// give the same fit as the tape (one backward pass per residual), in a fraction of the work.
    @Test func lotkaVolterraFitWithForwardSensitivities() throws {
        let truth = [1.5, 1.0, 1.0, 3.0]
        let times = (0...10).map(Double.init)
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-10, atol: 1e-10)
        let exact = try solve(
            LotkaVolterraField<Double>().withParameters(truth), initialState: [1, 1], times: times, step: step
        ).checked()
        var rows: [[Double?]] = exact.states.enumerated().map { k, y in
            [y.x * (1 + 0.02 * Foundation.sin(3.1 * Double(k))), y.y * (1 + 0.02 * Foundation.sin(3.1 * Double(k) + 1.3))]
        }
        rows[0] = [1, 1]
        rows[3][1] = nil
        rows[7][0] = nil
        let data = try Observations(times: times, variables: ["x", "y"], values: rows)
        #expect(data.observedCount == 20)
        let fit = LevenbergMarquardt<Double>().minimize(
            from: [1.4, 0.95, 0.95, 2.9],
            residuals: { p in
                guard
                    let s = try? solve(
                        LotkaVolterraField<Double>().withParameters(p), initialState: [1, 1], times: times, step: step),
                    s.succeeded
                else { return Array(repeating: .nan, count: 20) }
                return data.residuals(of: s)
            },
            jacobian: { p in
                let s = try! solve(
                    LotkaVolterraField<Double>(), initialState: [1, 1], parameters: p, times: times, step: step,
                    sensitivities: .parameters)
                return data.residualJacobian(of: s)
            })
        #expect(fit.converged)
        for (estimate, value) in zip(fit.parameters.scalars, truth) { #expect(Swift.abs(estimate - value) < 0.05 * value) }
    }

    @Test func trainingAPlainVectorWithAGradientFunction() {
        var theta = [0.1, 0.1]
        var optimizer = Adam<Double>(learningRate: 0.05)
        let result = train(&theta, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 2000), progress: .quiet) {
            theta, _ in
            (
                (theta[0] - 1) * (theta[0] - 1) + 4 * (theta[1] + 0.5) * (theta[1] + 0.5),
                [2 * (theta[0] - 1), 8 * (theta[1] + 0.5)]
            )
        }
        #expect(result.steps == 2000)
        #expect(Swift.abs(theta[0] - 1) < 1e-3 && Swift.abs(theta[1] + 0.5) < 1e-3)
    }

    /// Adam on the plain vector with gradients from sensitivities takes the same steps as Adam on the
    /// tape (Su's inverse problem, the article's Euler RNN).
    @Test func plainTrainingMatchesTapeTraining() throws {
        let p0 = [0.1, 0.1, 0.001, 0.001, 0.001, 0.001]
        let x0: SIMD2<Double> = [100, 150]
        let times: [Double] = [0, 10, 15, 30]
        let observed: [SIMD2<Double>] = [[100, 150], [165, 283], [197, 290], [280, 276]]
        struct Competition: ParametricField {
            typealias State = SIMD2<Double>
            func callAsFunction<S: FieldScalar>(_ t: S, _ x: FieldInput<S>, _ p: FieldInput<S>, _ dx: FieldOutput<S>)
            where S.Constant == Double {
                dx[0] = p[0] * x[0] * (1 - p[4] * x[0]) - p[2] * x[0] * x[1]
                dx[1] = p[1] * x[1] * (1 - p[5] * x[1]) - p[3] * x[0] * x[1]
            }
        }
        var theta = p0
        var adam = Adam<Double>(learningRate: 1e-4)
        let plain = train(&theta, optimizer: &adam, until: StoppingCriteria(maxSteps: 20), progress: .quiet) { p, _ in
            let s = try solve(
                Competition(), initialState: x0, parameters: p, times: times, method: .euler, step: .fixed(1),
                sensitivities: .parameters
            ).checked()
            var loss = 0.0
            var gradient = [Double](repeating: 0, count: 6)
            for k in 1..<times.count {
                for i in 0..<2 {
                    let r = s.states[k][i] - observed[k][i]
                    loss += r * r
                    for j in 0..<6 { gradient[j] += 2 * r * s.sensitivities!.parameter(j, component: i, at: k) }
                }
            }
            return (loss, gradient)
        }
        var model = PlainVector(values: Tensor(p0))
        var adamTape = Adam<Double>(learningRate: 1e-4)
        let tape = train(&model, optimizer: &adamTape, until: StoppingCriteria(maxSteps: 20), progress: .quiet) { m, _ in
            let p = m.values
            let field = FieldClosure<Tensor<Double>> { _, x in
                let (a, b) = (x[.range(0..<1)], x[.range(1..<2)])
                return Tensor(concatenating: [
                    p[.range(0..<1)] * a * (1 - p[.range(4..<5)] * a) - p[.range(2..<3)] * a * b,
                    p[.range(1..<2)] * b * (1 - p[.range(5..<6)] * b) - p[.range(3..<4)] * a * b,
                ])
            }
            let s = try solve(field, initialState: Tensor([100.0, 150]), times: times, method: .euler, step: .fixed(1)).checked()
            let predicted = Tensor(stacking: Array(s.states.dropFirst()))
            let target = Tensor(shape: [3, 2], scalars: observed.dropFirst().flatMap { [$0.x, $0.y] })
            return square(predicted - target).sum()
        }
        #expect(plain.steps == 20 && tape.steps == 20)
        for (a, b) in zip(plain.losses, tape.losses) { #expect(Swift.abs(a - b) <= 1e-9 * Swift.abs(b)) }
        for (a, b) in zip(theta, model.values.scalars) { #expect(Swift.abs(a - b) <= 1e-9 * Swift.abs(b)) }
    }

    @Test func aNonFiniteGradientEntryIsNamedAndTheVectorKept() {
        var theta = [1.0, 2.0]
        var optimizer = SGD<Double>(learningRate: 0.1)
        let result = train(&theta, optimizer: &optimizer, until: StoppingCriteria(maxSteps: 10), progress: .quiet) {
            theta, _ in (theta[0] * theta[0], [2 * theta[0], theta[0] < 0.7 ? .nan : 0])
        }
        #expect(result.stopReason == .nonFiniteGradient(step: 3, parameter: "θ[1]"))
        #expect(Swift.abs(theta[0] - 0.64) < 1e-12 && theta[1] == 2)
    }
}

/// One tensor of parameters, for comparing with the plain-vector training loop.
struct PlainVector: Trainable {
    typealias Scalar = Double
    var values: Tensor<Double>
    var parameterPaths: [ParameterPath<Self>] { [.init("values", \.values)] }
}
