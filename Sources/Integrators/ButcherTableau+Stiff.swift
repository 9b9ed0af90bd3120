// The library's implicit and Rosenbrock methods, for stiff problems. Each is validated (order
// conditions, and its stability reported) the first time it is used. Docs/Integrators.md says when
// to use which.

import RNNODETensors

extension ButcherTableau {
    /// Backward (implicit) Euler: Y = y + h f(t + h, Y), y₁ = Y. Order 1, L-stable, stiffly accurate;
    /// no error estimate (fixed steps). At h = 1 it is the implicit counterpart of the Euler RNN.
    public static let implicitEuler = try! ButcherTableau(
        diagonallyImplicit: "ImplicitEuler", order: 1, a: [[1]], b: [1])

    /// The trapezoidal rule (Crank–Nicolson), order 2, A-stable but not L-stable (|R(−∞)| = 1: very
    /// stiff components oscillate instead of decaying); no error estimate (fixed steps).
    public static let trapezoid = try! ButcherTableau(
        diagonallyImplicit: "Trapezoid", order: 2, a: [[0, 0], [0.5, 0.5]], b: [0.5, 0.5])

    /// TR-BDF2 (Bank et al. 1985; Hosea & Shampine 1996) as an ESDIRK: a trapezoidal stage to
    /// t + (2 − √2)h, then a BDF2 stage to t + h. Order 2, L-stable, stiffly accurate, with Hosea and
    /// Shampine's third-order error estimate; one Newton matrix for both stages. Cheap and robust at
    /// loose tolerances (rtol ≳ 10⁻³).
    public static let trbdf2: ButcherTableau = {
        let d = 1 - 2.0.squareRoot() / 2
        let w = 2.0.squareRoot() / 4
        return try! ButcherTableau(
            diagonallyImplicit: "TRBDF2", order: 2,
            a: [[0, 0, 0], [d, d, 0], [w, w, d]],
            b: [w, w, d],
            embeddedWeights: [(1 - w) / 3, (3 * w + 1) / 3, d / 3], embeddedOrder: 3)
    }()

    /// Kværnø's ESDIRK 3(2) (BIT 44, 2004): four stages, explicit first stage, γ ≈ 0.4359. Order 3,
    /// L-stable, stiffly accurate, with an embedded order-2 method.
    public static let kvaerno3: ButcherTableau = {
        let g = 0.43586652150
        let a31 = (-4 * g * g + 6 * g - 1) / (4 * g)
        let a32 = (-2 * g + 1) / (4 * g)
        let a41 = (6 * g - 1) / (12 * g)
        let a42 = -1 / ((24 * g - 12) * g)
        let a43 = (-6 * g * g + 6 * g - 1) / (6 * g - 3)
        return try! ButcherTableau(
            diagonallyImplicit: "Kvaerno3", order: 3,
            a: [[0, 0, 0, 0], [g, g, 0, 0], [a31, a32, g, 0], [a41, a42, a43, g]],
            b: [a41, a42, a43, g],
            embeddedWeights: [a31, a32, g, 0], embeddedOrder: 2)
    }()

    /// Kværnø's ESDIRK 4(3): five stages, γ ≈ 0.5728. Order 4, L-stable, stiffly accurate, with an
    /// embedded order-3 method.
    public static let kvaerno4: ButcherTableau = {
        let g = 0.5728160625
        func poly(_ coefficients: Double...) -> Double { coefficients.reduce(0) { $0 * g + $1 } }
        let a31 = poly(144, -180, 81, -15, 1) * g / (poly(12, -6, 1) * poly(12, -6, 1))
        let a32 = poly(-36, 39, -15, 2) * g / (poly(12, -6, 1) * poly(12, -6, 1))
        let a41 = poly(-144, 396, -330, 117, -18, 1) / (12 * g * g * poly(12, -9, 2))
        let a42 = poly(72, -126, 69, -15, 1) / (12 * g * g * poly(3, -1))
        let a43 = poly(-6, 6, -1) * poly(12, -6, 1) * poly(12, -6, 1) / (12 * g * g * poly(12, -9, 2) * poly(3, -1))
        let a51 = poly(288, -312, 120, -18, 1) / (48 * g * g * poly(12, -9, 2))
        let a52 = poly(24, -12, 1) / (48 * g * g * poly(3, -1))
        let p = poly(12, -6, 1)
        let a53 = -(p * p * p) / (48 * g * g * poly(3, -1) * poly(12, -9, 2) * poly(6, -6, 1))
        let a54 = poly(-24, 36, -12, 1) / poly(24, -24, 4)
        return try! ButcherTableau(
            diagonallyImplicit: "Kvaerno4", order: 4,
            a: [
                [0, 0, 0, 0, 0], [g, g, 0, 0, 0], [a31, a32, g, 0, 0], [a41, a42, a43, g, 0], [a51, a52, a53, a54, g],
            ],
            b: [a51, a52, a53, a54, g],
            embeddedWeights: [a41, a42, a43, g, 0], embeddedOrder: 3)
    }()

    /// Kværnø's ESDIRK 5(4): seven stages, γ = 0.26. Order 5, L-stable, stiffly accurate, with an
    /// embedded order-4 method: the implicit method for tight tolerances (rtol ≲ 10⁻⁷).
    public static let kvaerno5: ButcherTableau = {
        let g = 0.26
        let row3 = [0.13, 0.84033320996790809]
        let row4 = [0.22371961478320505, 0.47675532319799699, -0.06470895363112615]
        let row5 = [0.16648564323248321, 0.10450018841591720, 0.03631482272098715, -0.13090704451073998]
        let row6 = [0.13855640231268224, 0, -0.04245337201752043, 0.02446657898003141, 0.61943039072480676]
        let row7 = [
            0.13659751177640291, 0, -0.05496908796538376, -0.04118626728321046, 0.62993304899016403,
            0.06962479448202728,
        ]
        func row(_ lower: [Double]) -> [Double] {
            lower + [g] + [Double](repeating: 0, count: 6 - lower.count)
        }
        let a = [[0, 0, 0, 0, 0, 0, 0], row([g]), row(row3), row(row4), row(row5), row(row6), row(row7)]
        return try! ButcherTableau(
            diagonallyImplicit: "Kvaerno5", order: 5, a: a, b: a[6],
            embeddedWeights: a[5], embeddedOrder: 4, tolerance: 1e-11)
    }()

    /// The ESDIRK 4(3) of Kennedy and Carpenter's ARK4(3)6L[2]SA (Appl. Numer. Math. 44, 2003): six
    /// stages, γ = 1/4. Order 4, L-stable, stiffly accurate, with an embedded order-3 method and a
    /// third-order dense output.
    public static let kenCarp4: ButcherTableau = {
        let g = 0.25
        let b = [82889.0 / 524892, 0, 15625.0 / 83664, 69875.0 / 102672, -2260.0 / 8211, g]
        let a: [[Double]] = [
            [0, 0, 0, 0, 0, 0],
            [g, g, 0, 0, 0, 0],
            [8611.0 / 62500, -1743.0 / 31250, g, 0, 0, 0],
            [5012029.0 / 34_652_500, -654441.0 / 2_922_500, 174375.0 / 388108, g, 0, 0],
            [15267082809.0 / 155_376_265_600, -71443401.0 / 120_774_400, 730878875.0 / 902_184_768, 2285395.0 / 8_070_912, g, 0],
            b,
        ]
        let embedded = [
            4586570599.0 / 29_645_900_160, 0, 178811875.0 / 945_068_544, 814220225.0 / 1_159_782_912,
            -3700637.0 / 11_593_932, 61727.0 / 225920,
        ]
        // Stage i's dense-output weight is Σₚ Pᵢₚ θᵖ⁺¹.
        let p: [[Double]] = [
            [6943876665148.0 / 7_220_017_795_957, -54480133.0 / 30_881_146, 6818779379841.0 / 7_100_303_317_025],
            [0, 0, 0],
            [7640104374378.0 / 9_702_883_013_639, -11436875.0 / 14_766_696, 2173542590792.0 / 12_501_825_683_035],
            [-20649996744609.0 / 7_521_556_579_894, 174696575.0 / 18_121_608, -31592104683404.0 / 5_083_833_661_969],
            [8854892464581.0 / 2_390_941_311_638, -12120380.0 / 966161, 61146701046299.0 / 7_138_195_549_469],
            [-11397109935349.0 / 6_675_773_540_249, 3843.0 / 706, -17219254887155.0 / 4_939_391_667_607],
        ]
        return try! ButcherTableau(
            diagonallyImplicit: "KenCarp4", order: 4, a: a, b: b,
            embeddedWeights: embedded, embeddedOrder: 3, interpolant: p, interpolantOrder: 3, tolerance: 1e-11)
    }()

    /// Rosenbrock23 (Shampine & Reichelt 1997; MATLAB's ode23s): a three-stage Rosenbrock (W-)method
    /// of order 2, L-stable, with a third-order error estimate, FSAL, and a second-order dense
    /// output. Robust at loose tolerances; tolerates a Jacobian that is only approximate.
    public static let rosenbrock23: ButcherTableau = {
        let d = 1 / (2 + 2.0.squareRoot())
        let e32 = 6 + 2.0.squareRoot()
        let q = 1 - 2 * d
        return try! ButcherTableau(
            rosenbrock: "Rosenbrock23", order: 2,
            alpha: [[0, 0, 0], [0.5, 0, 0], [0, 1, 0]],
            gamma: [[d, 0, 0], [-d, d, 0], [d * (e32 - 2), -e32 * d, d]],
            b: [0, 1, 0],
            embeddedWeights: [1.0 / 6, 2.0 / 3, 1.0 / 6], embeddedOrder: 3,
            interpolant: [[1 / q, -1 / q], [-2 * d / q, 1 / q], [0, 0]], interpolantOrder: 2)
    }()

    /// Rodas4 (Hairer & Wanner, Solving ODEs II, VI.4): a six-stage Rosenbrock method of order 4,
    /// L-stable and stiffly accurate, with an embedded order-3 method and a third-order dense output.
    public static let rodas4 = rosenbrockFromTransformedCoefficients(
        name: "Rodas4", order: 4, embeddedOrder: 3, interpolantOrder: 3, gamma: 0.25,
        a: [
            [1.544],
            [0.9466785280815826, 0.2557011698983284],
            [3.314825187068521, 2.896124015972201, 0.9986419139977817],
            [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895],
            [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 1],
        ],
        c: [
            [-5.6688],
            [-2.430093356833875, -0.2063599157091915],
            [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
            [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
            [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
        ],
        dense: [
            [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0],
            [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0],
        ],
        tolerance: 1e-10)

    /// Rodas5P (Steinebach, BIT 63, 2023): an eight-stage Rosenbrock method of order 5, L-stable and
    /// stiffly accurate, with an embedded order-4 method and a fourth-order dense output. The
    /// library's default stiff method: accurate at tolerances from 10⁻⁴ to 10⁻¹⁰.
    public static let rodas5P = rosenbrockFromTransformedCoefficients(
        name: "Rodas5P", order: 5, embeddedOrder: 4, interpolantOrder: 4, gamma: 0.21193756319429014,
        a: [
            [3.0],
            [2.849394379747939, 0.45842242204463923],
            [-6.954028509809101, 2.489845061869568, -10.358996098473584],
            [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
            [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946],
            [
                -7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
                1,
            ],
            [
                -7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
                1, 1,
            ],
        ],
        c: [
            [-14.155112264123755],
            [-17.97296035885952, -2.859693295451294],
            [147.12150275711716, -1.41221402718213, 71.68940251302358],
            [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
            [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471],
            [
                30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623,
                -28.087943162872662,
            ],
            [
                37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002,
                -54.66780262877968, -9.48861652309627,
            ],
        ],
        dense: [
            [
                25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073,
                1.1241088310450404, 0.4272876194431874, -0.17202221070155493,
            ],
            [
                -9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044,
                15.98066361424651, -6.789040303419874, -6.710236069923372,
            ],
            [
                11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654,
                -59.78993625266729, -0.15582684282751913, 4.883087185713722,
            ],
        ],
        tolerance: 1e-10)

    /// A Rosenbrock method from the transformed coefficients of Hairer–Wanner's RODAS code (which is
    /// how Rodas4 and Rodas5P are published): with uᵢ = h Σⱼ γᵢⱼ kⱼ,
    ///
    ///     (I/(hγ) − J) uᵢ = f(y + Σⱼ aᵢⱼ uⱼ) + Σⱼ (cᵢⱼ / h) uⱼ,   y₁ = Yₛ + uₛ (stiffly accurate),
    ///
    /// and the dense output y₀(1 − θ) + θ(y₁ + (1 − θ)(d₁ + θ d₂ + θ² d₃ …)) with dₖ = Σᵢ Hₖᵢ uᵢ.
    /// Converted to the standard form (Γ⁻¹ = I/γ − C, α = A Γ, b = Γᵀ m) that the order conditions
    /// check; the embedded method is Yₛ (the error estimate is uₛ). `a` and `c` hold the strictly lower
    /// rows 2…s.
    static func rosenbrockFromTransformedCoefficients(
        name: String, order: Int, embeddedOrder: Int, interpolantOrder: Int, gamma g: Double,
        a lowerA: [[Double]], c lowerC: [[Double]], dense: [[Double]], tolerance: Double
    ) -> ButcherTableau {
        let s = lowerA.count + 1
        func square(_ lower: [[Double]]) -> [[Double]] {
            [[Double](repeating: 0, count: s)] + lower.map { $0 + [Double](repeating: 0, count: s - $0.count) }
        }
        let a = square(lowerA)
        let c = square(lowerC)
        // Γ⁻¹ = I/γ − C (lower triangular), inverted by forward substitution column by column.
        var inverse = c.map { $0.map { -$0 } }
        for i in 0..<s { inverse[i][i] = 1 / g }
        var gammaMatrix = [[Double]](repeating: [Double](repeating: 0, count: s), count: s)
        for column in 0..<s {
            for i in column..<s {
                var sum = i == column ? 1.0 : 0.0
                for k in column..<i { sum -= inverse[i][k] * gammaMatrix[k][column] }
                gammaMatrix[i][column] = sum / inverse[i][i]
            }
        }
        func times(_ x: [[Double]], _ y: [[Double]]) -> [[Double]] {
            (0..<s).map { i in (0..<s).map { j in (0..<s).reduce(0) { $0 + x[i][$1] * y[$1][j] } } }
        }
        func transposeTimes(_ v: [Double]) -> [Double] {
            (0..<s).map { j in (0..<s).reduce(0) { $0 + gammaMatrix[$1][j] * v[$1] } }
        }
        let alpha = times(a, gammaMatrix)
        let m = a[s - 1].enumerated().map { $0.offset == s - 1 ? 1 : $0.element }
        let mHat = a[s - 1]
        // u-basis interpolant weights, one column per power θ¹ … θ^(r+1), then to the k basis.
        let r = dense.count
        var columns: [[Double]] = []
        columns.append((0..<s).map { m[$0] + dense[0][$0] })
        for power in 1..<r { columns.append((0..<s).map { dense[power][$0] - dense[power - 1][$0] }) }
        columns.append((0..<s).map { -dense[r - 1][$0] })
        let kColumns = columns.map(transposeTimes)
        let interpolant = (0..<s).map { i in kColumns.map { $0[i] } }
        do {
            return try ButcherTableau(
                rosenbrock: name, order: order, alpha: alpha, gamma: gammaMatrix, b: transposeTimes(m),
                embeddedWeights: transposeTimes(mHat), embeddedOrder: embeddedOrder,
                interpolant: interpolant, interpolantOrder: interpolantOrder, tolerance: tolerance)
        } catch {
            programmingError("\(name): \(error)")
        }
    }
}
