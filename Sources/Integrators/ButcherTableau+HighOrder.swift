// High-order explicit Runge–Kutta pairs with dense output: DOP853 (Hairer) and Vern7 (Verner).
// Each is validated (order conditions of the method, of the embedded methods and of the interpolant
// over its extra stages) the first time it is used; Docs/Integrators.md says when to use them.

import RNNODETensors

extension ButcherTableau {
    /// DOP853, the 8(5,3) pair of Dormand and Prince as implemented by Hairer: order 8, 12 stages,
    /// with a dense output of order 7.
    ///
    /// **Error estimate.** Two embedded methods give the estimates E₅ = h Σ (bᵢ − b̂ᵢ) kᵢ (order 5)
    /// and E₃ = h Σ (bᵢ − b̂₂ᵢ) kᵢ (order 3), combined as in Hairer's `dop853.f`:
    ///
    ///     err = ‖E₅‖² / √(‖E₅‖² + 0.01 ‖E₃‖²)
    ///
    /// (scaled RMS norms). For small h, ‖E₅‖ = O(h⁶) ≪ ‖E₃‖ = O(h⁴), so err = O(h⁸): the controller
    /// uses exponent 1/8, and the estimate is close to the true error of the 8th-order update instead
    /// of the (much larger) error of the 5th-order embedded method. Both b̂ (order 5) and b̂₂ (order 3)
    /// are checked against their order conditions. See ``secondErrorWeights``.
    ///
    /// **Cost.** 12 evaluations per step: 11 new stages plus f(t + h, y₁), which is the next step's
    /// first stage (Hairer's "stage 13"). The tableau is not FSAL in the library's sense (b₁₂ ≠ 0),
    /// but the integrator evaluates f(t + h, y₁) once per step either way.
    ///
    /// **Dense output.** Hairer's 7th-order interpolant (`contd8`), rewritten as polynomial weights
    /// bᵢ(θ) over 16 stages: the 12 of the step, f(t + h, y₁) (taken from the integrator, not
    /// re-evaluated) and 3 extra stages (c = 0.1, 0.2, 7/9) that are evaluated only when the step is
    /// interpolated (3 evaluations per interpolated step, shared by every time within it).
    ///
    /// Coefficients: Hairer's `dop853.f` constants (30 significant digits, as in SciPy's
    /// `dop853_coefficients.py`), rounded to Double. Use it for tolerances below about 1e-8.
    ///
    /// References: E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
    /// 2nd ed., Springer 1993, §II.5 (the method) and §II.6 (dense output); J. R. Dormand,
    /// P. J. Prince, "High order embedded Runge–Kutta formulae", J. Comput. Appl. Math. 7 (1981).
    public static let dop853 = try! ButcherTableau(
        name: "DOP853", order: 8,
        a: [
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.05260015195876773, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.0197250569845379, 0.0591751709536137, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.02958758547680685, 0, 0.08876275643042054, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.2413651341592667, 0, -0.8845494793282861, 0.924834003261792, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.037037037037037035, 0, 0, 0.17082860872947386, 0.12546768756682242, 0, 0, 0, 0, 0, 0, 0],
            [0.037109375, 0, 0, 0.17025221101954405, 0.06021653898045596, -0.017578125, 0, 0, 0, 0, 0, 0],
            [
                0.03709200011850479, 0, 0, 0.17038392571223998, 0.10726203044637328, -0.015319437748624402, 0.008273789163814023,
                0, 0, 0, 0, 0,
            ],
            [
                0.6241109587160757, 0, 0, -3.3608926294469414, -0.868219346841726, 27.59209969944671, 20.154067550477894,
                -43.48988418106996, 0, 0, 0, 0,
            ],
            [
                0.47766253643826434, 0, 0, -2.4881146199716677, -0.590290826836843, 21.230051448181193, 15.279233632882423,
                -33.28821096898486, -0.020331201708508627, 0, 0, 0,
            ],
            [
                -0.9371424300859873, 0, 0, 5.186372428844064, 1.0914373489967295, -8.149787010746927, -18.52006565999696,
                22.739487099350505, 2.4936055526796523, -3.0467644718982196, 0, 0,
            ],
            [
                2.273310147516538, 0, 0, -10.53449546673725, -2.0008720582248625, -17.9589318631188, 27.94888452941996,
                -2.8589982771350235, -8.87285693353063, 12.360567175794303, 0.6433927460157636, 0,
            ],
        ],
        b: [
            0.054293734116568765, 0, 0, 0, 0, 4.450312892752409, 1.8915178993145003, -5.801203960010585, 0.3111643669578199,
            -0.1521609496625161, 0.20136540080403034, 0.04471061572777259,
        ],
        c: [
            0, 0.05260015195876773, 0.0789002279381516, 0.1183503419072274, 0.2816496580927726, 0.3333333333333333, 0.25,
            0.3076923076923077, 0.6512820512820513, 0.6, 0.8571428571428571, 1,
        ],
        embeddedWeights: [
            0.04117368912237388, 0, 0, 0, 0, 5.675469339128614, 2.3872768489717506, -7.465581142465571, 0.6614932157077936,
            -0.48634006837553356, 0.11944219431891463, 0.06706592359165889,
        ],
        embeddedOrder: 5,
        interpolant: [
            [
                1, -10.266057073759306, 48.161850968566455, -114.93304874997833, 147.46446875669767, -97.06685363011368,
                25.69393346270375,
            ],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [
                0, 13.917653631776604, -154.78787266663716, 522.9219089608218, -456.25918840208783, -75.53193732135753,
                154.18974869023643,
            ],
            [
                0, 2.6056037519936095, -21.622822384626506, 2.535182028966755, 292.25417465990404, -505.40999933296894,
                231.5293791760455,
            ],
            [
                0, -15.018944223519684, 160.09447708973047, -474.3071826037644, 135.96036916173838, 545.1091945264187,
                -357.6391179106141,
            ],
            [
                0, 3.050527683318488, -38.54396729189063, 174.47140009219885, -337.0513470238771, 291.78987509083254,
                -93.40532418362432,
            ],
            [
                0, -1.3278744327655212, 16.661770430049543, -74.44027814126304, 140.75210016191608, -119.2562021040512,
                37.45832313645163,
            ],
            [
                0, 2.844533632672879, -36.55829548991012, 170.69007169147514, -345.9748485480496, 313.299553623578,
                -104.0996495089623,
            ],
            [
                0, 0.7657106259527866, -9.906995535619366, 46.8029919188744, -96.5198694669957, 88.74316650017616,
                -29.8402934266605,
            ],
            [
                0, -1.0889903364513334, 14.097013042320002, -66.68230591294363, 137.96299063474376, -127.82216401767992,
                43.53345659001114,
            ],
            [
                0, 18.148505520854727, -127.63310949253875, 357.3419516129657, -500.7031507909224, 349.17035710882897,
                -96.32455395918828,
            ],
            [
                0, -9.194632392478356, 93.3567459327894, -282.6272618704363, 361.14007718803333, -201.85219053352347,
                39.17726167561544,
            ],
            [
                0, -4.436036387594894, 56.68120539776666, -261.77342902691703, 520.9742236688993, -461.17279991013964,
                149.72683625798564,
            ],
        ],
        interpolantOrder: 7,
        denseStages: [
            [
                0.054293734116568765, 0, 0, 0, 0, 4.450312892752409, 1.8915178993145003, -5.801203960010585, 0.3111643669578199,
                -0.1521609496625161, 0.20136540080403034, 0.04471061572777259, 0, 0, 0, 0,
            ],
            [
                0.056167502283047954, 0, 0, 0, 0, 0, 0.25350021021662483, -0.2462390374708025, -0.12419142326381637,
                0.15329179827876568, 0.00820105229563469, 0.007567897660545699, -0.008298, 0, 0, 0,
            ],
            [
                0.03183464816350214, 0, 0, 0, 0, 0.028300909672366776, 0.053541988307438566, -0.05492374857139099, 0, 0,
                -0.00010834732869724932, 0.0003825710908356584, -0.00034046500868740456, 0.1413124436746325, 0, 0,
            ],
            [
                -0.42889630158379194, 0, 0, 0, 0, -4.697621415361164, 7.683421196062599, 4.06898981839711, 0.3567271874552811, 0,
                0, 0, -0.0013990241651590145, 2.9475147891527724, -9.15095847217987, 0,
            ],
        ],
        denseNodes: [1, 0.1, 0.2, 0.7777777777777778],
        secondEmbeddedWeights: [0.2440944881889764, 0, 0, 0, 0, 0, 0, 0, 0.7338466882816118, 0, 0, 0.022058823529411766],
        secondEmbeddedOrder: 3)

    /// Vern7, Verner's "most efficient" 7(6) pair: order 7, 10 stages, with an embedded method of
    /// order 6 and a dense output over 6 extra stages.
    ///
    /// **Cost.** 10 evaluations per step (9 new stages plus f(t + h, y₁) for the next step). The error
    /// estimate is the usual h Σ (bᵢ − b̂ᵢ) kᵢ of the order-6 embedded method.
    ///
    /// **Dense output.** Verner's interpolant, polynomial weights of degree 7 over 16 stages: the 10 of
    /// the step, f(t + h, y₁) (taken from the integrator) and 5 extra stages evaluated only when the
    /// step is interpolated (5 evaluations per interpolated step). Verner lists it as of order 7; its
    /// published coefficients satisfy every order condition up to order 6 to 40 digits, and those of
    /// order 7 except the 12 trees [t] with |t| = 6 (residuals up to about 2·10⁻⁵), so the library
    /// validates it, and states it, as of order 6 (a local error O(h⁷) with a small constant).
    ///
    /// Coefficients: J. H. Verner's 40-digit tables ("Numerically optimal Runge–Kutta pairs with
    /// interpolants", the rational forms of the pair as distributed with OrdinaryDiffEq.jl), rounded to
    /// Double. Use it for tolerances below about 1e-8, where it needs fewer evaluations than Dopri5;
    /// DOP853 is usually better still below about 1e-11.
    ///
    /// Reference: J. H. Verner, "Numerically optimal Runge–Kutta pairs with interpolants", Numer.
    /// Algorithms 53 (2010), 383–396.
    public static let vern7 = try! ButcherTableau(
        name: "Vern7", order: 7,
        a: [
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.005, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [-1.07679012345679, 1.185679012345679, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.04083333333333333, 0, 0.1225, 0, 0, 0, 0, 0, 0, 0],
            [0.6389139236255726, 0, -2.455672638223657, 2.272258714598084, 0, 0, 0, 0, 0, 0],
            [-2.6615773750187572, 0, 10.804513886456137, -8.3539146573962, 0.820487594956657, 0, 0, 0, 0, 0],
            [6.067741434696771, 0, -24.711273635911084, 20.427517930788895, -1.9061579788166472, 1.006172249242068, 0, 0, 0, 0],
            [
                12.054670076253203, 0, -49.75478495046899, 41.142888638604674, -4.461760149974004, 2.042334822239175,
                -0.09834843665406108, 0, 0, 0,
            ],
            [
                10.138146522881808, 0, -42.6411360317175, 35.76384003992257, -4.3480228403929075, 2.0098622683770357,
                0.3487490460338272, -0.27143900510483127, 0, 0,
            ],
            [
                -45.030072034298676, 0, 187.3272437654589, -154.02882369350186, 18.56465306347536, -7.141809679295079,
                1.3088085781613785, 0, 0, 0,
            ],
        ],
        b: [
            0.04715561848627222, 0, 0, 0.25750564298434153, 0.2621665397741262, 0.15216092656738558, 0.49399691700324844,
            -0.29430311714032503, 0.0813174723249511, 0,
        ],
        c: [0, 0.005, 0.10888888888888888, 0.16333333333333333, 0.4555, 0.6095094489978381, 0.884, 0.925, 1, 1],
        embeddedWeights: [
            0.044608606606341174, 0, 0, 0.26716403785713727, 0.2201018300177293, 0.2188431703143157, 0.22898717054112028, 0, 0,
            0.020295184663356284,
        ],
        embeddedOrder: 6,
        interpolant: [
            [
                1, -8.413387198332767, 33.675508884490895, -70.80159089484886, 80.64695108301298, -47.19413969837522,
                11.133813442539243,
            ],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [
                0, 8.754921980674396, -88.4596828699771, 346.9017638429916, -629.2580030059837, 529.6773755604193,
                -167.35886986514018,
            ],
            [
                0, 8.913387586637922, -90.06081846893218, 353.1807459217058, -640.6476819744374, 539.2646279047156,
                -170.38809442991547,
            ],
            [
                0, 5.1733120298478, -52.271115900055385, 204.9853867374073, -371.8306118563603, 312.9880934374529,
                -98.89290352172495,
            ],
            [
                0, 16.79537744079696, -169.70040000059728, 665.4937727009246, -1207.1638892336007, 1016.1291515818546,
                -321.06001557237494,
            ],
            [
                0, -10.005997536098665, 101.1005433052275, -396.47391512378437, 719.1787707014183, -605.3681033918824,
                191.27439892797935,
            ],
            [
                0, 2.764708833638599, -27.934602637390462, 109.54779186137893, -198.7128113064482, 167.26633571640318,
                -52.85010499525706,
            ],
            [0, 0, 0, 0, 0, 0, 0],
            [
                0, -2.1696320280163506, 22.016696037569876, -86.90152427798948, 159.22388973861476, -135.9618306534588,
                43.792401183280006,
            ],
            [
                0, -4.890070188793804, 22.75407737425176, -30.78034218537731, -2.797194317207249, 31.369456637508403,
                -15.655927320381801,
            ],
            [
                0, 10.862170929551967, -50.542971417827104, 68.37148040407511, 6.213326521632409, -69.68006323194157,
                34.776056794509195,
            ],
            [
                0, -11.37286691922923, 130.79058078246717, -488.65113677785604, 832.2148793276441, -664.7743368554426,
                201.79288044241662,
            ],
            [
                0, -5.919778732715007, 63.27679965889219, -265.432682088738, 520.1009254140611, -467.412109533902,
                155.3868452824017,
            ],
            [
                0, -10.492146197961823, 105.35538525188011, -409.43975011988937, 732.831448907654, -606.3044574733512,
                188.0495196316683,
            ],
        ],
        interpolantOrder: 6,
        denseStages: [
            [
                0.04715561848627222, 0, 0, 0.25750564298434153, 0.2621665397741262, 0.15216092656738558, 0.49399691700324844,
                -0.29430311714032503, 0.0813174723249511, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.0523222769159969, 0, 0, 0.22495861826705715, 0.017443709248776376, -0.007669379876829393, 0.03435896044073285,
                -0.0410209723009395, 0.025651133005205617, 0, -0.0160443457, 0, 0, 0, 0, 0,
            ],
            [
                0.053053341257859085, 0, 0, 0.12195301011401886, 0.017746840737602496, -0.0005928372667681495,
                0.008381833970853752, -0.01293369259698612, 0.009412056815253861, 0, -0.005353253107275676, -0.06666729992455811,
                0, 0, 0, 0,
            ],
            [
                0.03887903257436304, 0, 0, -0.0024403203308301317, -0.0013928917214672623, -0.00047446291558680135,
                0.00039207932413159514, -0.00040554733285128004, 0.00019897093147716726, 0, -0.00010278198793179169,
                0.03385661513870267, 0.1814893063199928, 0, 0, 0,
            ],
            [
                0.05723681204690013, 0, 0, 0.22265948066761182, 0.12344864200186899, 0.04006332526666491, -0.05269894848581452,
                0.04765971214244523, -0.02138895885042213, 0, 0.015193891064036402, 0.12060546716289655, -0.022779423016187374, 0,
                0, 0,
            ],
            [
                0.051372038802756814, 0, 0, 0.5414214473439406, 0.350399806692184, 0.14193112269692182, 0.10527377478429423,
                -0.031081847805874016, -0.007401883149519145, 0, -0.006377932504865363, -0.17325495908361865,
                -0.18228156777622026, 0, 0, 0,
            ],
        ],
        denseNodes: [1, 0.29, 0.125, 0.25, 0.53, 0.79])
}

// MARK: - Dense-output stages and a second error estimate

extension ButcherTableau {
    /// Validates `secondEmbeddedWeights` b̂₂ (its order conditions up to `order`) and returns the
    /// weights b − b̂₂ of the second error estimate, or nil without one.
    ///
    /// With a second estimate E₂ = h Σ (bᵢ − b̂₂ᵢ) kᵢ next to the first, E₁ = h Σ (bᵢ − b̂ᵢ) kᵢ, the
    /// error the step-size controller sees is, in the scaled RMS norm,
    ///
    ///     err = ‖E₁‖² / √(‖E₁‖² + 0.01 ‖E₂‖²),
    ///
    /// Hairer's combination for DOP853: of order 2(p̂₁ + 1) − (p̂₂ + 1) in h (8 for DOP853's 5 and 3).
    static func secondErrorWeights(
        _ name: String, b: [Double], _ weights: [Double]?, order: Int, hasFirst: Bool,
        conditions: inout OrderConditions, tolerance: Double
    ) throws(TableauError) -> [Double]? {
        guard let weights else { return nil }
        guard hasFirst else { throw .shape("\(name): a second embedded method needs a first one") }
        guard weights.count == b.count else {
            throw .shape("\(name): \(weights.count) second embedded weights for \(b.count) stages")
        }
        guard weights.allSatisfy({ $0.isFinite }) else { throw .shape("\(name): a coefficient is not finite") }
        guard order >= 1 else { throw .shape("\(name): the second embedded method needs an order ≥ 1") }
        if let failure = conditions.firstFailure(weights: weights, order: order, tolerance: tolerance) {
            throw .orderCondition(name: name, weights: "b̂₂", tree: failure.tree, residual: failure.residual)
        }
        return zip(b, weights).map { $0 - $1 }
    }

    /// Validates the dense-output stages and returns their nodes.
    ///
    /// Stage s + j (j = 0…e − 1) is kₛ₊ⱼ = f(t + cₛ₊ⱼ h, y + h Σ_{m < s+j} aₛ₊ⱼ,ₘ kₘ): each row has
    /// s + e entries, zero from column s + j on, and sums to its node. The rows' order conditions are
    /// those of the interpolant over all s + e stages (checked by the initializer).
    static func validateDenseStages(
        _ name: String, a: [[Double]], _ rows: [[Double]], nodes: [Double]?, hasInterpolant: Bool, tolerance: Double
    ) throws(TableauError) -> [Double] {
        let s = a.count
        let total = s + rows.count
        if rows.isEmpty {
            guard nodes?.isEmpty ?? true else { throw .shape("\(name): dense-output nodes without dense-output stages") }
            return []
        }
        guard hasInterpolant else { throw .shape("\(name): dense-output stages need an interpolant") }
        guard rows.allSatisfy({ $0.count == total }) else {
            throw .shape("\(name): dense-output stages need rows of length \(total), got \(rows.map(\.count))")
        }
        guard rows.joined().allSatisfy({ $0.isFinite }), (nodes ?? []).allSatisfy({ $0.isFinite }) else {
            throw .shape("\(name): a coefficient is not finite")
        }
        for (j, row) in rows.enumerated() {
            for column in (s + j)..<total where row[column] != 0 {
                throw .notExplicit(name: name, row: s + j, column: column)
            }
        }
        let sums = rows.map { $0.reduce(0, +) }
        let result = nodes ?? sums
        guard result.count == rows.count else {
            throw .shape("\(name): \(result.count) dense-output nodes for \(rows.count) dense-output stages")
        }
        for j in rows.indices {
            let scale = Swift.max(1, rows[j].reduce(0) { $0 + Swift.abs($1) })
            if Swift.abs(sums[j] - result[j]) > tolerance * scale {
                throw .rowSumMismatch(name: name, row: s + j, rowSum: sums[j], node: result[j])
            }
        }
        return result
    }

    /// The (s + e)×(s + e) stage matrix of the main and the dense-output stages.
    static func denseStageMatrix(_ a: [[Double]], _ rows: [[Double]]) -> [[Double]] {
        a.map { $0 + [Double](repeating: 0, count: rows.count) } + rows
    }
}

// MARK: - Compiled form

/// The compiled dense-output stages and second error estimate of `tableau` (see ``CompiledTableau``).
func compileDenseExtensions<Scalar: TensorScalar>(
    _ tableau: ButcherTableau, _: Scalar.Type
) -> (
    rows: (
        count: Int, nodes: UnsafeMutablePointer<Scalar>, start: UnsafeMutablePointer<Int>,
        indices: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Scalar>
    ),
    newest: (index: UnsafeMutablePointer<Int>, weight: UnsafeMutablePointer<Scalar>, isEndSlope: UnsafeMutablePointer<Bool>),
    secondError: (count: Int, indices: UnsafeMutablePointer<Int>, weights: UnsafeMutablePointer<Scalar>),
    combinedErrorOrder: Int
) {
    func pointer<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let result = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(values.count, 1))
        result.initialize(from: values, count: values.count)
        return result
    }
    let s = tableau.stages
    var starts = [0]
    var indices: [Int] = []
    var weights: [Scalar] = []
    var newestIndex: [Int] = []
    var newestWeight: [Scalar] = []
    var isEndSlope: [Bool] = []
    for (j, row) in tableau.denseStages.enumerated() {
        let nonzero = row.indices.filter { row[$0] != 0 }
        let newest = nonzero.last ?? 0
        for m in nonzero.dropLast() {
            indices.append(m)
            weights.append(Scalar(row[m]))
        }
        starts.append(indices.count)
        newestIndex.append(newest)
        newestWeight.append(Scalar(row[newest]))
        // f(t + h, y₁) itself: the integrator knows it (and the next step needs it anyway).
        isEndSlope.append(
            tableau.denseNodes[j] == 1 && Array(row[0..<s]) == tableau.b && row[s...].allSatisfy { $0 == 0 })
    }
    let second = (tableau.secondErrorWeights ?? []).enumerated().filter { $0.element != 0 }
    // ‖E₁‖² / ‖E₂‖ with E₁ = O(h^(p̂₁+1)), E₂ = O(h^(p̂₂+1)); at most the order of the update plus one.
    let combined = Swift.min(tableau.order + 1, 2 * tableau.embeddedOrder - tableau.secondEmbeddedOrder + 1)
    return (
        rows: (
            tableau.denseStages.count, pointer(tableau.denseNodes.map { Scalar($0) }), pointer(starts), pointer(indices),
            pointer(weights)
        ),
        newest: (pointer(newestIndex), pointer(newestWeight), pointer(isEndSlope)),
        secondError: (second.count, pointer(second.map(\.offset)), pointer(second.map { Scalar($0.element) })),
        combinedErrorOrder: combined
    )
}

// MARK: - Stepping

extension RungeKuttaStepper {
    /// The squared combined error ‖E₁‖⁴ / (‖E₁‖² + 0.01 ‖E₂‖²) of DOP853, given `first` = ‖E₁‖²
    /// (see ``ButcherTableau/secondErrorWeights(_:b:_:order:hasFirst:conditions:tolerance:)``).
    @inlinable
    package func combinedSquaredErrorNorm(
        _ first: Scalar, _ h: Scalar, _ y0: State, _ y1: State, rtol: Scalar, atol: Scalar
    )
        -> Scalar
    {
        guard first.isFinite, first > 0 else { return first }
        let terms = StageTerms(
            count: compiled.secondErrorCount, indices: compiled.secondErrorIndices, weights: compiled.secondErrorWeights,
            stages: stages)
        let second = State.squaredErrorNorm(h, terms, y0, y1, rtol: rtol, atol: atol)
        let denominator = first + Scalar(0.01) * second
        return denominator.isFinite ? first * (first / denominator) : first
    }

    /// The dense output y(t₀ + θh) within the last step, from (`t0`, `y0`) with size `h`: evaluates
    /// the method's dense-output stages first if this step has not been interpolated yet (counting
    /// them in `evaluations`), then ``interpolate(_:_:_:endSlope:)``.
    ///
    /// A stage whose row is b at node 1 is f(t₀ + h, y₁) = `endSlope` and costs nothing. The others are
    /// evaluated once per step, on its first interpolation, and reused for every later time in it;
    /// a step that is never interpolated never evaluates them.
    @inlinable
    package func interpolate<F: VectorField>(
        _ field: F, _ t0: Scalar, _ y0: State, _ h: Scalar, _ theta: Scalar, endSlope: State, evaluations: inout Int
    ) -> State where F.State == State {
        if denseStageCount > 0 && interpolant != nil {
            if let denseStep, denseStep.start == t0, denseStep.size == h {
                // Already evaluated for this step.
            } else {
                evaluateDenseStages(field, t0, y0, h, endSlope: endSlope, evaluations: &evaluations)
            }
        }
        return interpolate(y0, h, theta, endSlope: endSlope)
    }

    /// Evaluates the dense-output stages kₛ…kₛ₊ₑ₋₁ of the step from (`t0`, `y0`) of size `h`.
    @inlinable
    package func evaluateDenseStages<F: VectorField>(
        _ field: F, _ t0: Scalar, _ y0: State, _ h: Scalar, endSlope: State, evaluations: inout Int
    ) where F.State == State {
        let s = stageCount
        for j in 0..<denseStageCount {
            if compiled.denseIsEndSlope[j] {
                stages[s + j] = endSlope
                continue
            }
            let start = compiled.denseRowStart[j]
            let older = StageTerms(
                count: compiled.denseRowStart[j + 1] - start, indices: compiled.denseRowIndices + start,
                weights: compiled.denseRowWeights + start, stages: stages)
            let input = State.combine(y0, h, older, compiled.denseNewestWeight[j], stages[compiled.denseNewestIndex[j]])
            stages[s + j] = field(t0 + compiled.denseNodes[j] * h, input)
            evaluations += 1
        }
        denseStep = (t0, h)
    }
}
