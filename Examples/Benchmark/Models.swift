import RNNODE

/// The Lorenz system (σ = 10, ρ = 28, β = 8/3) on a fixed-size state.
struct Lorenz: VectorField {
    var sigma = 10.0
    var rho = 28.0
    var beta = 8.0 / 3.0

    @inline(__always)
    func callAsFunction(_ t: Double, _ u: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(sigma * (u.y - u.x), u.x * (rho - u.z) - u.y, u.x * u.y - beta * u.z)
    }
}

/// Su Jianlin's two-species competition model (eq. 7 of his article).
struct Competition: VectorField {
    var r1 = 0.1, r2 = 0.3, a1 = 1e-4, a2 = 2e-4, inverseN1 = 0.002, inverseN2 = 0.003

    @inline(__always)
    func callAsFunction(_ t: Double, _ x: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(
            r1 * x.x * (1 - inverseN1 * x.x) - a1 * x.x * x.y,
            r2 * x.y * (1 - inverseN2 * x.y) - a2 * x.x * x.y)
    }
}

/// The Lorenz system on a differentiable tensor state of shape [batch, 3].
struct TensorLorenz: VectorField {
    func callAsFunction(_ t: Double, _ u: Tensor<Double>) -> Tensor<Double> {
        let x = u[.all, 0]
        let y = u[.all, 1]
        let z = u[.all, 2]
        return Tensor(stacking: [10 * (y - x), x * (28 - z) - y, x * y - (8.0 / 3.0) * z], alongAxis: 1)
    }
}
