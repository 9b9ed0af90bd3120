import Testing

@testable import RNNODEIntegrators
@testable import RNNODETensors

// Problems and helpers shared by the tests of the implicit and Rosenbrock methods.

/// Every implicit and Rosenbrock method of the library.
let allStiffMethods: [ButcherTableau] = [
    .implicitEuler, .trapezoid, .trbdf2, .kvaerno3, .kvaerno4, .kvaerno5, .kenCarp4, .rosenbrock23, .rodas4, .rodas5P,
]

/// The Riccati problem y' = −2τy², τ' = 1 made autonomous (τ is time carried as a component), with
/// its Jacobian: y(t) = 1/(1/y₀ + t²). Autonomous so that Rosenbrock methods need no ∂f/∂t (whose
/// forward difference would put a floor under the errors).
struct AutonomousRiccati<T: TensorScalar>: VectorField {
    func callAsFunction(_ t: T, _ u: SIMD2<T>) -> SIMD2<T> { SIMD2(-2 * u.y * u.x * u.x, 1) }
    func jacobian(_ t: T, _ u: SIMD2<T>, into j: JacobianMatrix<T>) -> Bool {
        j[0, 0] = -4 * u.y * u.x
        j[0, 1] = -2 * u.x * u.x
        return true
    }
    var isAutonomous: Bool { true }
    static func exact(_ t: T, _ y0: T) -> T { 1 / (1 / y0 + t * t) }
}

/// Prothero–Robinson y' = λ(y − φ(τ)) + φ'(τ), τ' = 1, φ = sin: with y(0) = φ(0) = 0 the solution
/// is sin t whatever λ, while λ ≪ 0 makes the problem as stiff as one likes.
struct ProtheroRobinson<T: TensorScalar>: VectorField {
    var lambda: T
    func callAsFunction(_ t: T, _ u: SIMD2<T>) -> SIMD2<T> {
        SIMD2(lambda * (u.x - T.sin(u.y)) + T.cos(u.y), 1)
    }
    func jacobian(_ t: T, _ u: SIMD2<T>, into j: JacobianMatrix<T>) -> Bool {
        j[0, 0] = lambda
        j[0, 1] = -lambda * T.cos(u.y) - T.sin(u.y)
        return true
    }
    var isAutonomous: Bool { true }
}

/// Van der Pol in the Bari test set's form: y₁' = y₂, y₂' = ((1 − y₁²) y₂ − y₁)/ε.
struct BariVanDerPol: VectorField {
    var epsilon = 1e-6
    func callAsFunction(_ t: Double, _ y: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(y.y, ((1 - y.x * y.x) * y.y - y.x) / epsilon)
    }
    func jacobian(_ t: Double, _ y: SIMD2<Double>, into j: JacobianMatrix<Double>) -> Bool {
        j[0, 1] = 1
        j[1, 0] = (-2 * y.x * y.y - 1) / epsilon
        j[1, 1] = (1 - y.x * y.x) / epsilon
        return true
    }
    var isAutonomous: Bool { true }
}

/// Van der Pol in MATLAB's form: y₂' = μ(1 − y₁²) y₂ − y₁.
struct MatlabVanDerPol: VectorField {
    var mu = 1000.0
    func callAsFunction(_ t: Double, _ y: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(y.y, mu * (1 - y.x * y.x) * y.y - y.x)
    }
    func jacobian(_ t: Double, _ y: SIMD2<Double>, into j: JacobianMatrix<Double>) -> Bool {
        j[0, 1] = 1
        j[1, 0] = -2 * mu * y.x * y.y - 1
        j[1, 1] = mu * (1 - y.x * y.x)
        return true
    }
    var isAutonomous: Bool { true }
}

/// Robertson's chemical kinetics (Bari test set).
struct Robertson: VectorField {
    var analyticJacobian = true
    func callAsFunction(_ t: Double, _ y: SIMD3<Double>) -> SIMD3<Double> {
        let a = 0.04 * y.x
        let b = 1e4 * y.y * y.z
        let c = 3e7 * y.y * y.y
        return SIMD3(-a + b, a - b - c, c)
    }
    func jacobian(_ t: Double, _ y: SIMD3<Double>, into j: JacobianMatrix<Double>) -> Bool {
        guard analyticJacobian else { return false }
        j[0, 0] = -0.04
        j[0, 1] = 1e4 * y.z
        j[0, 2] = 1e4 * y.y
        j[1, 0] = 0.04
        j[1, 1] = -1e4 * y.z - 6e7 * y.y
        j[1, 2] = -1e4 * y.y
        j[2, 1] = 6e7 * y.y
        return true
    }
    var isAutonomous: Bool { true }
}

/// HIRES (Bari test set): eight reactions of plant physiology.
struct Hires: VectorField {
    func callAsFunction(_ t: Double, _ y: SIMD8<Double>) -> SIMD8<Double> {
        let f7 = 280 * y[5] * y[7] - 1.81 * y[6]
        return SIMD8(
            -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007,
            1.71 * y[0] - 8.75 * y[1],
            -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4],
            8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3],
            -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6],
            -280 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6],
            f7,
            -f7)
    }
    func jacobian(_ t: Double, _ y: SIMD8<Double>, into j: JacobianMatrix<Double>) -> Bool {
        j[0, 0] = -1.71
        j[0, 1] = 0.43
        j[0, 2] = 8.32
        j[1, 0] = 1.71
        j[1, 1] = -8.75
        j[2, 2] = -10.03
        j[2, 3] = 0.43
        j[2, 4] = 0.035
        j[3, 1] = 8.32
        j[3, 2] = 1.71
        j[3, 3] = -1.12
        j[4, 4] = -1.745
        j[4, 5] = 0.43
        j[4, 6] = 0.43
        j[5, 3] = 0.69
        j[5, 4] = 1.71
        j[5, 5] = -280 * y[7] - 0.43
        j[5, 6] = 0.69
        j[5, 7] = -280 * y[5]
        j[6, 5] = 280 * y[7]
        j[6, 6] = -1.81
        j[6, 7] = 280 * y[5]
        j[7, 5] = -280 * y[7]
        j[7, 6] = 1.81
        j[7, 7] = -280 * y[5]
        return true
    }
    var isAutonomous: Bool { true }
}

/// The largest componentwise relative error max |yᵢ − refᵢ| / |refᵢ| over the components whose
/// reference is at least `floor` in magnitude (the others are judged absolutely, in units of floor).
func componentwiseRelativeError(_ y: [Double], _ reference: [Double], floor: Double) -> Double {
    zip(y, reference).map { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), floor) }.max() ?? 0
}
