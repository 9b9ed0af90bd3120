import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

/// Lorenz, dy/dt = (σ(y₂ − y₁), y₁(ρ − y₃) − y₂, y₁y₂ − βy₃), θ = (σ, ρ, β).
private func lorenz(_ theta: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure(parameters: ["theta": theta]) { _, y, p in
        let (sigma, rho, beta) = (p[0][0], p[0][1], p[0][2])
        let (x, u, z) = (y[0], y[1], y[2])
        return Tensor(stacking: [sigma * (u - x), x * (rho - z) - u, x * u - beta * z])
    }
}

/// Van der Pol, y₁' = y₂, y₂' = μ(1 − y₁²)y₂ − y₁, θ = (μ).
private func vanDerPol(_ theta: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure(parameters: ["mu": theta]) { _, y, p in
        let (a, b) = (y[0], y[1])
        return Tensor(stacking: [b, p[0][0] * (1 - a * a) * b - a])
    }
}

/// A stiff linear system, y₁' = −θ₁y₁ + y₂, y₂' = −θ₂y₂ with θ = (1, 50): the fast mode decays by
/// e^(−100) over the span, so re-integrating it backward amplifies every error by up to e^100.
private func stiffLinear(_ theta: Tensor<Double>) -> FieldClosure<Tensor<Double>> {
    FieldClosure(parameters: ["rates": theta]) { _, y, p in
        Tensor(stacking: [-p[0][0] * y[0] + y[1], -p[0][1] * y[1]])
    }
}

/// The gradient of Σ y(T) for (y₀, θ), flattened, by `strategy` with Dormand–Prince at rtol 1e-8
/// (each solve, forward or backward, within 20,000 steps: a backsolve that leaves the trajectory fails
/// there, with NaN gradients, instead of crawling).
private func sumGradient(
    _ strategy: GradientStrategy, field: @escaping (Tensor<Double>) -> FieldClosure<Tensor<Double>>, y0: [Double],
    theta: [Double], to t1: Double
) throws -> [Double] {
    try gradient(at: [Tensor(y0), Tensor(theta)]) { p in
        try solve(
            field(p[1]), initialState: p[0], from: 0, to: t1, method: .dopri5, step: .adaptive(rtol: 1e-8, atol: 1e-10),
            saveAt: .final, maxSteps: 20_000, gradients: strategy
        ).checked().finalState.sum()
    }.flatMap(\.scalars)
}

/// max |a − b| / max |b| (infinity when a is not finite).
private func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.allSatisfy(\.isFinite) else { return .infinity }
    return zip(a, b).map { Swift.abs($0 - $1) }.max()! / b.map { Swift.abs($0) }.max()!
}

/// The accuracy of the two adjoints against backpropagation (the exact gradient of the computed
/// solve), Dormand–Prince at rtol 1e-8, atol 1e-10; the measured errors are in Docs/Training.md.
@Suite("Adjoint accuracy")
struct AdjointAccuracyTests {
    /// (backsolve, interpolating) relative errors against backpropagation.
    private func errors(
        _ field: @escaping (Tensor<Double>) -> FieldClosure<Tensor<Double>>, y0: [Double], theta: [Double], to t1: Double
    ) throws -> (backsolve: Double, interpolating: Double) {
        let reference = try sumGradient(.backpropagation, field: field, y0: y0, theta: theta, to: t1)
        let backsolve = try sumGradient(.backsolveAdjoint, field: field, y0: y0, theta: theta, to: t1)
        let interpolating = try sumGradient(.interpolatingAdjoint, field: field, y0: y0, theta: theta, to: t1)
        let result = (relativeError(backsolve, reference), relativeError(interpolating, reference))
        print("adjoint accuracy to t = \(t1): backsolve \(result.0), interpolating \(result.1)")
        return result
    }

    /// Lorenz is chaotic: the backward re-integration of y diverges from the forward trajectory
    /// (errors grow like e^(λt), λ ≈ 0.9), while the interpolating adjoint reads the stored one.
    @Test func chaoticLorenz() throws {
        let y0 = [-8.0, 8, 27]
        let theta = [10.0, 28, 8.0 / 3]
        // Measured: backsolve 1.2e-3, interpolating 8.0e-7 to t = 1; to t = 5 the backsolve leaves the
        // attractor (NaN gradients), the interpolating adjoint is within 2.6e-5.
        let short = try errors(lorenz, y0: y0, theta: theta, to: 1)
        #expect(short.backsolve < 1e-2)
        #expect(short.interpolating < 1e-5)
        #expect(short.backsolve > 100 * short.interpolating)
        let long = try errors(lorenz, y0: y0, theta: theta, to: 5)
        #expect(long.interpolating < 2e-4)
        #expect(long.backsolve > 10 * long.interpolating)
    }

    @Test func vanDerPolOscillator() throws {
        // Measured: interpolating 3.9e-6; the backsolve fails (the limit cycle repels backward).
        let measured = try errors(vanDerPol, y0: [2, 0], theta: [5], to: 10)
        #expect(measured.interpolating < 5e-5)
        #expect(measured.backsolve > 10 * measured.interpolating)
    }

    @Test func stiffLinearDecay() throws {
        // Measured: interpolating 2.0e-8, backsolve 1.1e29.
        let measured = try errors(stiffLinear, y0: [1, 1], theta: [1, 50], to: 2)
        #expect(measured.interpolating < 1e-6)
        #expect(measured.backsolve > 1e-2)  // amplified by the backward-growing fast mode (or NaN)
    }
}
