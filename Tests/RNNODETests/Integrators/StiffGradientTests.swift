import Foundation
import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

/// Robertson's kinetics with log-rates θ = log(k₁, k₂, k₃) as tensors: y₁' = −k₁y₁ + k₃y₂y₃,
/// y₂' = k₁y₁ − k₃y₂y₃ − k₂y₂², y₃' = k₂y₂².
private func robertson(_ theta: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure { _, y in
        let k = exp(theta)
        let (k1, k2, k3) = (k[0], k[1], k[2])
        let (y1, y2, y3) = (y[0], y[1], y[2])
        let a = k1 * y1
        let b = k3 * y2 * y3
        let c = k2 * y2 * y2
        return Tensor(stacking: [b - a, a - b - c, c])
    }
}

private let trueLogRates = Tensor<Double>([Double.log(0.04), Double.log(3e7), Double.log(1e4)])
private let weights = Tensor<Double>([1, 1e4, 1])

/// L(θ) = Σ wᵢ yᵢ(t₁) of a solve from y(t₀) = y₀.
private func loss(
    _ theta: Tensor<Double>, method: ButcherTableau, step: StepSizeControl<Double>, from t0: Double = 0,
    to t1: Double, initialState y0: Tensor<Double> = Tensor([1, 0, 0])
) throws -> Tensor<Double> {
    let solution = try solve(
        robertson(theta), initialState: y0, from: t0, to: t1, method: method, step: step, saveAt: .final
    ).checked()
    return (solution.finalState * weights).sum()
}

/// Robertson's state at t = 1 (past the initial transient), from a tight solve.
private let stateAtOne = try! solve(
    robertson(trueLogRates), initialState: Tensor([1, 0, 0]), from: 0, to: 1, method: .kvaerno5,
    step: .adaptive(rtol: 1e-12, atol: 1e-16), saveAt: .final
).finalState

/// Central differences of `f` in each component of θ.
private func centralDifferences(
    _ theta: Tensor<Double>, _ delta: Double, _ f: (Tensor<Double>) throws -> Double
) rethrows -> [Double] {
    var result: [Double] = []
    for i in 0..<theta.scalarCount {
        var plus = theta.scalars
        var minus = theta.scalars
        plus[i] += delta
        minus[i] -= delta
        result.append((try f(Tensor(plus)) - f(Tensor(minus))) / (2 * delta))
    }
    return result
}

@Suite("Gradients through stiff solves")
struct StiffGradientTests {
    @Test func implicitStagesAreDifferentiatedExactlyOnAFixedGrid() throws {
        // 100 steps of h = 0.01 from t = 1, where the fast eigenvalue is about −10⁴: |hλ| ≈ 100.
        for method in [ButcherTableau.kvaerno5, .kenCarp4, .trbdf2, .implicitEuler] {
            let step = StepSizeControl<Double>.fixed(0.01)
            func l(_ theta: Tensor<Double>) throws -> Tensor<Double> {
                try loss(theta, method: method, step: step, from: 1, to: 2, initialState: stateAtOne)
            }
            let (_, gradient) = try valueWithGradient(at: trueLogRates) { try l($0) }
            let reference = try centralDifferences(trueLogRates, 1e-5) { try l($0).scalars[0] }
            for i in 0..<3 {
                let scale = Swift.max(Swift.abs(reference[i]), 1e-3)
                #expect(
                    Swift.abs(gradient.scalars[i] - reference[i]) <= 1e-6 * scale,
                    "\(method.name) ∂L/∂θ\(i): \(gradient.scalars[i]) vs \(reference[i])")
            }
        }
    }

    @Test func adaptiveImplicitSolvesMatchFiniteDifferences() throws {
        let step = StepSizeControl<Double>.adaptive(rtol: 1e-10, atol: 1e-14)
        let (_, gradient) = try valueWithGradient(at: trueLogRates) { try loss($0, method: .kvaerno5, step: step, to: 40) }
        let reference = try centralDifferences(trueLogRates, 1e-4) {
            try loss($0, method: .kvaerno5, step: step, to: 40).scalars[0]
        }
        for i in 0..<3 {
            #expect(Swift.abs(gradient.scalars[i] - reference[i]) <= 1e-4 * Swift.max(Swift.abs(reference[i]), 1e-3))
        }
    }

    @Test func theInterpolatingAdjointWithStiffMethodsMatchesFiniteDifferences() throws {
        // The backward pass integrates only the adjoint, reading y(t) from the stored forward steps
        // (re-integrating y backward fails on this problem for every method).
        let reference = try centralDifferences(trueLogRates, 1e-4) {
            try loss($0, method: .kvaerno5, step: .adaptive(rtol: 1e-10, atol: 1e-14), to: 40).scalars[0]
        }
        for method in [ButcherTableau.kvaerno5, .rodas5P] {
            let (_, gradient) = try valueWithGradient(at: trueLogRates) { theta in
                let field = FieldClosure<Tensor<Double>>(parameters: ["logRates": theta]) { t, y, p in robertson(p[0])(t, y) }
                let final = try solve(
                    field, initialState: Tensor([1, 0, 0]), from: 0, to: 40, method: method,
                    step: .adaptive(rtol: 1e-7, atol: 1e-11), saveAt: .final, gradients: .interpolatingAdjoint
                ).checked().finalState
                return (final * weights).sum()
            }
            for i in 0..<3 {
                #expect(
                    Swift.abs(gradient.scalars[i] - reference[i]) <= 1e-4 * Swift.abs(reference[i]),
                    "\(method.name) ∂L/∂θ\(i): \(gradient.scalars[i]) vs \(reference[i])")
            }
        }
    }

    @Test func rosenbrockMethodsRefuseRecordedStates() throws {
        #expect(throws: SolveError.self) {
            _ = try valueWithGradient(at: trueLogRates) { try loss($0, method: .rodas5P, step: .adaptive(), to: 1) }
        }
    }
}
