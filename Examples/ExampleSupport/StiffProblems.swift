import Foundation
import RNNODE

// The stiff test problems of the `stiff` example and the `stiff-*` benchmarks: exactly the
// definitions and references of the peers in Examples/Benchmark/peers (stiff_cvode.c,
// stiff_problems.py), so that errors compare across implementations.

/// The Robertson chemical kinetics problem (Robertson 1966; Hairer–Wanner II, IV.1 and IV.10):
///
///     y₁' = −k₁ y₁ + k₃ y₂ y₃
///     y₂' =  k₁ y₁ − k₃ y₂ y₃ − k₂ y₂²
///     y₃' =  k₂ y₂²
///
/// with k = (0.04, 3·10⁷, 10⁴), y(0) = (1, 0, 0), usually over t ∈ [0, 10⁵] (the benchmark) or out to
/// 10¹¹ to see y₁ and y₂ decay. The rates are stored properties so that a fit can vary them.
public struct Robertson: VectorField, Sendable {
    /// The rate of y₁ → y₂.
    public var k1: Double
    /// The rate of 2y₂ → y₂ + y₃.
    public var k2: Double
    /// The rate of y₂ + y₃ → y₁ + y₃.
    public var k3: Double

    /// The problem with the given rates (by default the standard ones).
    public init(k1: Double = 0.04, k2: Double = 3e7, k3: Double = 1e4) {
        (self.k1, self.k2, self.k3) = (k1, k2, k3)
    }

    /// The standard rates (0.04, 3·10⁷, 10⁴).
    public static let trueRates = [0.04, 3e7, 1e4]
    /// y(0) = (1, 0, 0).
    public static let initialState = SIMD3<Double>(1, 0, 0)
    /// The end of the benchmark's span.
    public static let endTime = 1e5
    /// y(10⁵) at the standard rates: CVODE BDF at rtol 1e-13, atol 1e-20 (stiff_cvode.c --reference),
    /// cross-checked against rtol 1e-12 and SciPy Radau at rtol 1e-13 (agreement to 8e-12 relative);
    /// from stiff_problems.py's ROBER_REF.
    public static let reference = SIMD3<Double>(0.01786592114224797, 7.2747514684978863e-08, 0.98213400611023571)

    public func callAsFunction(_ t: Double, _ y: SIMD3<Double>) -> SIMD3<Double> {
        let a = k1 * y.x
        let b = k3 * y.y * y.z
        let c = k2 * y.y * y.y
        return SIMD3(-a + b, a - b - c, c)
    }

    public func jacobian(_ t: Double, _ y: SIMD3<Double>, into j: JacobianMatrix<Double>) -> Bool {
        j[0, 0] = -k1
        j[0, 1] = k3 * y.z
        j[0, 2] = k3 * y.y
        j[1, 0] = k1
        j[1, 1] = -k3 * y.z - 2 * k2 * y.y
        j[1, 2] = -k3 * y.y
        j[2, 1] = 2 * k2 * y.y
        return true
    }

    public var isAutonomous: Bool { true }
}

/// The Van der Pol oscillator in MATLAB's `vdp1000` form (Hairer–Wanner II, IV.1, with μ = 1000):
///
///     y₁' = y₂,   y₂' = μ (1 − y₁²) y₂ − y₁,
///
/// μ = 1000, y(0) = (2, 0), t ∈ [0, 3000] — the peers' definition (note the y₁ term is not scaled by μ).
public struct VanDerPol: VectorField, Sendable {
    /// The stiffness parameter μ.
    public var mu: Double

    /// The oscillator with parameter `mu` (default 1000).
    public init(mu: Double = 1000) { self.mu = mu }

    /// y(0) = (2, 0).
    public static let initialState = SIMD2<Double>(2, 0)
    /// The end of the span.
    public static let endTime = 3000.0
    /// y(3000) for μ = 1000: CVODE BDF (stiff_cvode.c --reference, rtol 1e-13, atol 1e-14) and SciPy
    /// Radau (stiff_scipy.py --reference) agree to 2.6e-10 relative; stiff_problems.py's VDP_REF.
    public static let reference = SIMD2<Double>(-1.5106069365894994, 0.0011783800010397689)

    public func callAsFunction(_ t: Double, _ y: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(y.y, mu * (1 - y.x * y.x) * y.y - y.x)
    }

    public func jacobian(_ t: Double, _ y: SIMD2<Double>, into j: JacobianMatrix<Double>) -> Bool {
        j[0, 1] = 1
        j[1, 0] = -2 * mu * y.x * y.y - 1
        j[1, 1] = mu * (1 - y.x * y.x)
        return true
    }

    public var isAutonomous: Bool { true }
}

/// HIRES, the “High Irradiance RESponse” of photomorphogenesis (Schäfer 1975; Hairer–Wanner II,
/// IV.10; the Bari test set for IVP solvers, Mazzia–Magherini):
///
///     y₁' = −1.71 y₁ + 0.43 y₂ + 8.32 y₃ + 0.0007
///     y₂' =  1.71 y₁ − 8.75 y₂
///     y₃' = −10.03 y₃ + 0.43 y₄ + 0.035 y₅
///     y₄' =  8.32 y₂ + 1.71 y₃ − 1.12 y₄
///     y₅' = −1.745 y₅ + 0.43 y₆ + 0.43 y₇
///     y₆' = −280 y₆ y₈ + 0.69 y₄ + 1.71 y₅ − 0.43 y₆ + 0.69 y₇
///     y₇' =  280 y₆ y₈ − 1.81 y₇
///     y₈' = −280 y₆ y₈ + 1.81 y₇
///
/// y(0) = (1, 0, 0, 0, 0, 0, 0, 0.0057), t ∈ [0, 321.8122].
public struct HIRES: VectorField, Sendable {
    public init() {}

    /// y(0).
    public static let initialState = SIMD8<Double>(1, 0, 0, 0, 0, 0, 0, 0.0057)
    /// The end of the span.
    public static let endTime = 321.8122
    /// y(321.8122): the Bari test set's published reference (RADAU5 in quadruple precision on a Cray
    /// C90), as in stiff_problems.py's HIRES_REF.
    public static let reference = SIMD8<Double>(
        0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
        0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2)

    public func callAsFunction(_ t: Double, _ y: SIMD8<Double>) -> SIMD8<Double> {
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

    public func jacobian(_ t: Double, _ y: SIMD8<Double>, into j: JacobianMatrix<Double>) -> Bool {
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

    public var isAutonomous: Bool { true }
}

/// The 1-D Brusselator reaction–diffusion system (Hairer–Wanner II, IV.1 and IV.10, “BRUSS”), by the
/// method of lines on N interior cells xᵢ = i/(N + 1):
///
///     uᵢ' = 1 + uᵢ² vᵢ − 4 uᵢ + c (uᵢ₋₁ − 2uᵢ + uᵢ₊₁)
///     vᵢ' = 3 uᵢ − uᵢ² vᵢ + c (vᵢ₋₁ − 2vᵢ + vᵢ₊₁),    c = α (N + 1)², α = 1/50,
///
/// with u₀ = u_{N+1} = 1, v₀ = v_{N+1} = 3, uᵢ(0) = 1 + sin(2π xᵢ), vᵢ(0) = 3, t ∈ [0, 10]. The state
/// is a ``Tensor`` of shape [2N] with u and v interleaved (u₁, v₁, u₂, v₂, …), so the Jacobian is
/// banded with lower = upper = 2 (use ``jacobianStructure``). The body works on the raw storage.
public struct Brusselator: VectorField, Sendable {
    /// N, the number of interior cells.
    public let cells: Int
    /// The diffusion coefficient α.
    public let alpha: Double

    /// The Brusselator on `cells` interior cells (the benchmark uses 500).
    public init(cells: Int = 500, alpha: Double = 1.0 / 50) {
        self.cells = cells
        self.alpha = alpha
    }

    /// c = α (N + 1)².
    public var diffusion: Double { alpha * Double(cells + 1) * Double(cells + 1) }

    /// The end of the span.
    public static let endTime = 10.0

    /// The band structure of the interleaved Jacobian.
    public static let jacobianStructure = JacobianStructure.banded(lower: 2, upper: 2)

    /// The interleaved initial state, shape [2N].
    public var initialState: Tensor<Double> {
        var scalars = [Double](repeating: 3, count: 2 * cells)
        for i in 0..<cells {
            let x = Double(i + 1) / Double(cells + 1)
            scalars[2 * i] = 1 + sin(2 * Double.pi * x)
        }
        return Tensor(shape: [2 * cells], scalars: scalars)
    }

    public func callAsFunction(_ t: Double, _ y: Tensor<Double>) -> Tensor<Double> {
        let n = cells
        let c = diffusion
        var out = Tensor<Double>.zeros([2 * n])
        y.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<n {
                    let u = s[2 * i]
                    let v = s[2 * i + 1]
                    let uLeft = i > 0 ? s[2 * i - 2] : 1
                    let vLeft = i > 0 ? s[2 * i - 1] : 3
                    let uRight = i < n - 1 ? s[2 * i + 2] : 1
                    let vRight = i < n - 1 ? s[2 * i + 3] : 3
                    let uuv = u * u * v
                    d[2 * i] = 1 + uuv - 4 * u + c * (uLeft - 2 * u + uRight)
                    d[2 * i + 1] = 3 * u - uuv + c * (vLeft - 2 * v + vRight)
                }
            }
        }
        return out
    }

    public func jacobian(_ t: Double, _ y: Tensor<Double>, into j: JacobianMatrix<Double>) -> Bool {
        let n = cells
        let c = diffusion
        y.withUnsafeBufferPointer { s in
            for i in 0..<n {
                let u = s[2 * i]
                let v = s[2 * i + 1]
                let (iu, iv) = (2 * i, 2 * i + 1)
                j[iu, iu] = 2 * u * v - 4 - 2 * c
                j[iu, iv] = u * u
                j[iv, iu] = 3 - 2 * u * v
                j[iv, iv] = -u * u - 2 * c
                if i > 0 {
                    j[iu, iu - 2] = c
                    j[iv, iv - 2] = c
                }
                if i < n - 1 {
                    j[iu, iu + 2] = c
                    j[iv, iv + 2] = c
                }
            }
        }
        return true
    }

    public var isAutonomous: Bool { true }

    /// The interleaved reference state y(10) for N = 500: Examples/Benchmark/peers/brusselator_reference.csv
    /// (cell i, uᵢ, vᵢ), written by stiff_cvode.c --reference bruss (CVODE banded, rtol 1e-12, atol 1e-14)
    /// and cross-checked with SciPy Radau. Read from the source tree (nil if the file is not there or
    /// `cells` is not 500).
    public var reference: [Double]? {
        guard cells == 500 else { return nil }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Benchmark/peers/brusselator_reference.csv")
        guard let table = try? CSVTable.read(from: url), table.rows.count == cells,
            let u = table.column("u"), let v = table.column("v")
        else { return nil }
        var result: [Double] = []
        result.reserveCapacity(2 * cells)
        for i in 0..<cells {
            guard let ui = u[i], let vi = v[i] else { return nil }
            result.append(ui)
            result.append(vi)
        }
        return result
    }
}

/// maxᵢ |yᵢ − refᵢ| / max(|refᵢ|, atol): the componentwise relative error of a final state, components
/// whose reference is below `atol` judged absolutely in units of atol — the peers' `max_rel_error`
/// (stiff_problems.py), with atol the run's scalar absolute tolerance.
public func maxRelativeError(_ y: [Double], reference: [Double], atol: Double) -> Double {
    precondition(y.count == reference.count, "maxRelativeError: \(y.count) components against \(reference.count)")
    var worst = 0.0
    for (value, exact) in zip(y, reference) {
        let error = Swift.abs(value - exact) / Swift.max(Swift.abs(exact), atol)
        worst = Swift.max(worst, error.isNaN ? .infinity : error)
    }
    return worst
}

/// The components of a SIMD state as an array.
public func components<V: SIMD>(_ v: V) -> [V.Scalar] { (0..<V.scalarCount).map { v[$0] } }

/// The stiff methods by lowercase name, in the order the `stiff` example sweeps them: for
/// command-line flags and `RNNODE_STIFF_METHOD`.
public let stiffMethods: [(name: String, method: ButcherTableau)] = [
    ("rodas5p", .rodas5P), ("rodas4", .rodas4), ("rosenbrock23", .rosenbrock23), ("kvaerno5", .kvaerno5),
    ("kencarp4", .kenCarp4), ("trbdf2", .trbdf2),
]

/// The stiff method called `name` (case-insensitive; see ``stiffMethods``), or nil.
public func stiffMethod(named name: String) -> ButcherTableau? {
    stiffMethods.first { $0.name == name.lowercased() }?.method
}
