// High-order explicit Runge–Kutta pairs with dense output: DOP853 (Hairer), Vern7 and Vern9 (Verner).
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
    /// step is interpolated (5 evaluations per interpolated step). It is usually described as of
    /// order 7; its published coefficients satisfy every order condition up to order 6 to 40 digits,
    /// and those of order 7 except the 12 trees [t] with |t| = 6 (residuals up to about 2·10⁻⁵), so
    /// the library validates it, and states it, as of order 6 (a local error O(h⁷) with a small
    /// constant).
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

    /// Vern9, Verner's "most efficient" 9(8) pair: order 9, 16 stages, with an embedded method of
    /// order 8 and a dense output of order 9 over 10 extra stages.
    ///
    /// **Cost.** 16 evaluations per step (15 new stages plus f(t + h, y₁) for the next step); the
    /// error estimate is h Σ (bᵢ − b̂ᵢ) kᵢ of the order-8 embedded method.
    ///
    /// **Dense output.** Verner's order-9 interpolant, polynomial weights of degree 9 over 26 stages:
    /// the 16 of the step, f(t + h, y₁) (taken from the integrator) and 9 extra stages evaluated only
    /// when the step is interpolated (9 evaluations per interpolated step). Its order conditions (486
    /// trees up to order 9) hold to 36 digits in the published coefficients.
    ///
    /// Coefficients: J. H. Verner's tables (rationals in √6 for the pair, 40-digit decimals for the
    /// interpolant, as distributed with OrdinaryDiffEq.jl), rounded to Double. For the tightest
    /// tolerances (1e-12 and below) on smooth problems.
    ///
    /// Reference: J. H. Verner, "Numerically optimal Runge–Kutta pairs with interpolants", Numer.
    /// Algorithms 53 (2010), 383–396.
    public static let vern9 = try! ButcherTableau(
        name: "Vern9", order: 9,
        a: [
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.03462, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [-0.038933543885728734, 0.13595789452450918, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.03638413148954267, 0, 0.109152394468628, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [2.02576391439397, 0, -7.638023836496292, 6.173259922102322, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.05112275589406061, 0, 0, 0.17708237945550215, 0.0008027762409222502, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [
                0.13160063579752163, 0, 0, -0.29572762526696367, 0.08781378035642952, 0.6213052975225275, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0,
            ],
            [0.07166666666666667, 0, 0, 0, 0, 0.33055335789153195, 0.24277997544180138, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0.071806640625, 0, 0, 0, 0, 0.3294380283228177, 0.11651900292718229, -0.034013671875, 0, 0, 0, 0, 0, 0, 0, 0],
            [
                0.04836757646340647, 0, 0, 0, 0, 0.03928989925676164, 0.10547409458903446, -0.021438652846483126,
                -0.10412291746271944, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                -0.026645614872014785, 0, 0, 0, 0, 0.03333333333333333, -0.1631072244872467, 0.033960816841277615,
                0.1572319413814626, 0.21522674780318796, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.036890092487086225, 0, 0, 0, 0, -0.1465181576725543, 0.22425777681720244, 0.022944057170660725,
                -0.003585005290572876, 0.08669223316444385, 0.43838406519683376, 0, 0, 0, 0, 0,
            ],
            [
                -0.48660122151133406, 0, 0, 0, 0, -6.304602650282853, -0.2812456182894726, -2.6790192362198493,
                0.5188156639241576, 1.3653531876033418, 5.8850910885039465, 2.8028087862720628, 0, 0, 0, 0,
            ],
            [
                0.41853674577534716, 0, 0, 0, 0, 6.724547581906459, -0.4254442801646118, 3.3432791530012658, 0.6170816631175378,
                -0.9299661239399328, -6.099948804751011, -3.002206187889399, 0.2553202529443446, 0, 0, 0,
            ],
            [
                -0.7793740861228846, 0, 0, 0, 0, -13.937342538107776, 1.2520488533793572, -14.69150040801687, -0.4947050585331417,
                2.2429749091462368, 13.367893803828643, 14.396650486650687, -0.79758133317768, 0.4409353709534278, 0, 0,
            ],
            [
                2.0580513374668863, 0, 0, 0, 0, 22.357937727968032, 0.9094981099755634, 35.89110098240264, -3.4425150276244536,
                -4.8654813580363685, -18.909803813543427, -34.26354448030452, 1.2647565216956427, 0, 0, 0,
            ],
        ],
        b: [
            0.014611976858423152, 0, 0, 0, 0, 0, 0, -0.3915211862331339, 0.23109325002895065, 0.12747667699928525,
            0.2246434176204158, 0.5684352689748513, 0.058258715572158275, 0.13643174034822156, 0.030570139830827976, 0,
        ],
        c: [
            0, 0.03462, 0.09702435063878044, 0.14553652595817068, 0.561, 0.229007911590485, 0.544992088409515, 0.645, 0.48375,
            0.06757, 0.25, 0.6590650618730999, 0.8206, 0.9012, 1, 1,
        ],
        embeddedWeights: [
            0.01996996514886773, 0, 0, 0, 0, 0, 0, 2.19149930494933, 0.08857071848208438, 0.11405602348659656, 0.2533163805345107,
            -2.056564386240941, 0.340809679901312, 0, 0, 0.048342313738239585,
        ],
        embeddedOrder: 8,
        interpolant: [
            [
                1, -28.330488700617398, 257.6535452078578, -1152.1544557434572, 2909.390878345409, -4355.005172868188,
                3834.083497036262, -1835.419052683407, 368.7958613829998,
            ],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [
                0, 2.649656243770091, -96.30312807816006, 869.3095462492796, -3395.688567551074, 6796.933987158715,
                -7340.848417712072, 4082.8488969923656, -919.2934944890586,
            ],
            [
                0, -1.5639451819287329, 56.8423973927286, -513.1052300304285, 2004.2867021103232, -4011.8533059139295,
                4332.895839278586, -2409.8793479371448, 542.6079835318221,
            ],
            [
                0, -0.8627103334967224, 31.355653751851733, -283.0413682227354, 1105.613463426007, -2213.0362006784526,
                2390.1310977541207, -1329.3482661468738, 299.31580712657853,
            ],
            [
                0, -1.5202953379012147, 55.25592121120227, -498.7844190970741, 1948.346888525776, -3899.8821364075516,
                4211.964345158858, -2342.619408856117, 527.4637482204279,
            ],
            [
                0, -3.8469388441255234, 139.81898409868404, -1262.1186876216004, 4930.075848057311, -9868.21948606954,
                10657.908924348867, -5927.738759872814, 1334.688551172191,
            ],
            [
                0, -0.39427130612001415, 14.329994760676497, -129.35406659945582, 505.28160770025175, -1011.3900801394333,
                1092.3250517818917, -607.531701930281, 136.79172444804232,
            ],
            [
                0, -0.9233145622082102, 33.55834582309799, -302.9246397549736, 1183.2813069678675, -2368.4989867901113,
                2558.034559755808, -1422.7331755778803, 320.3423358787482,
            ],
            [
                0, -0.20688628029300538, 7.519388975651663, -67.87605708082904, 265.136799698415, -530.7074807559026,
                573.176549564149, -318.7905688834869, 71.77882490212657,
            ],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],
            [
                0, -0.44724419067440996, 16.44684676010504, -154.40861059212955, 641.8986298540249, -1391.9392256879823,
                1643.890568302952, -1004.0652972233179, 248.6243327770223,
            ],
            [
                0, -0.1507876007899798, 5.527328824824632, -51.33833743084619, 209.60220027032804, -442.7692650421826,
                505.0579312588053, -295.63364106156195, 69.70457078142275,
            ],
            [
                0, -0.6413652207435296, 23.510132486246846, -218.36426832469724, 891.5292818535365, -1883.290177206008,
                2148.2309544883997, -1257.4584015217124, 296.4838434449778,
            ],
            [
                0, 1.8107293134448457, -66.37479657295337, 616.4952025401107, -2517.0030307773227, 5316.984175781034,
                -6064.976140789574, 3550.1095388883914, -837.0456783831302,
            ],
            [
                0, 0.05176008760353718, -1.8973378625803488, 17.622648207936294, -71.94907400242467, 151.9871383765666,
                -173.36864987478606, 101.4806461521468, -23.927131084462175,
            ],
            [
                0, 31.321782556688, -355.6570858339106, 1752.6852824895159, -4708.092293138363, 7370.900776193489,
                -6716.504964764566, 3303.940398161186, -678.5938956640391,
            ],
            [
                0, -2.7196073341859246, 86.64045615858264, -454.1926030939031, 1014.7492211005434, -1133.583456714544,
                610.4671827718666, -109.02334994495438, -12.337842943405471,
            ],
            [
                0, 3.1772148014329233, -113.8098697715143, 978.0935981825675, -3575.1293776236703, 6764.3615198384505,
                -6987.161043852012, 3751.9057627895713, -821.4378043648254,
            ],
            [
                0, 0.877284308346553, -31.51810423988375, 273.1229151353221, -993.2198643101782, 1787.888078312664,
                -1677.394835799641, 781.3579535062688, -141.11342691289855,
            ],
            [
                0, 1.7194275817987157, -62.89867309250732, 580.333550787398, -2348.110620506761, 4921.119298612906,
                -5597.912448707917, 3288.5977751496216, -782.8483098245397,
            ],
        ],
        interpolantOrder: 9,
        denseStages: [
            [
                0.014611976858423152, 0, 0, 0, 0, 0, 0, -0.3915211862331339, 0.23109325002895065, 0.12747667699928525,
                0.2246434176204158, 0.5684352689748513, 0.058258715572158275, 0.13643174034822156, 0.030570139830827976, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.015499736681895594, 0, 0, 0, 0, 0, 0, 0.3355153219059635, 0.20036139441918607, 0.12520606592835493,
                0.22986763931842066, -0.20202506534761813, 0.05917103230665457, -0.026518347830476387, -0.023840946021309713, 0,
                0.027181715702085017, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.013024539431143383, 0, 0, 0, 0, 0, 0, -0.7452850902413112, 0.2643867896429301, 0.1313961758372754,
                0.21672538151229273, 0.8734117564076053, 0.011859056439357767, 0.05876002941689551, 0.003266518630202088, 0,
                -0.00895930864841793, 0.06941415157202692, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.013970899969259426, 0, 0, 0, 0, 0, 0, -0.46657653359576745, 0.24163727872162571, 0.12903633413456747,
                0.22167006717351054, 0.6257275123364645, 0.04355312415679284, 0.10119624916672908, 0.01808582254679721, 0,
                -0.020798755876891697, -0.09022232517086219, -0.12127967356222542, 0, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.016046388883181127, 0, 0, 0, 0, 0, 0, 0.09517712399458336, 0.13591872646553177, 0.1237765280959854,
                0.2335656264102966, -0.09051508172625873, -0.02537574270006131, -0.13596316968871622, -0.04679214284145113, 0,
                0.05177958859391748, 0.09672595677476774, 0.14773126903407427, -0.11507507129585039, 0, 0, 0, 0, 0, 0,
            ],
            [
                0.018029186238936207, 0, 0, 0, 0, 0, 0, 0.06983601042028874, -0.025412476607916634, 0.008487827035463275,
                -0.002427525516089802, -0.10478397528938199, -0.014731477952480419, -0.03916338390816177, -0.010056573432939595,
                0, 0.011025103922048344, 0.005092830749095398, 0.04759715599420645, 0.03386307003288383, 0.02764422831404798, 0,
                0, 0, 0, 0,
            ],
            [
                0.01677431640522778, 0, 0, 0, 0, 0, 0, 0.6220437408820475, -0.2060859809768842, 0.11563949897660589,
                0.026641017933783588, -0.937681079341877, -0.13678064667021603, -0.3678480995268297, -0.09547871314402478, 0,
                0.10134920184223697, -0.08911323084568594, 0.46641409889747604, 0.450273629235458, 0.18385224633268188, 0, 0, 0,
                0, 0,
            ],
            [
                0.010711497314914442, 0, 0, 0, 0, 0, 0, -0.07094336118221108, 0.10021649003400916, 0.13834539804680251,
                0.17963306335781634, 0.09048246545576182, -0.005460662294523339, -0.030004579051196197, -0.011451920269627991, 0,
                0.010033946861093851, -0.09506485282809046, 0.04853358804093592, 0.08013325919783924, -0.1251643326835242, 0, 0,
                0, 0, 0,
            ],
            [
                0.014101720888692213, 0, 0, 0, 0, 0, 0, -0.3713379753704491, 0.22312655481171803, 0.12870053459181202,
                0.22246006596754947, 0.5382853042550702, 0.05417202616988763, 0.1256968791308744, 0.027844927890020542, 0,
                -0.0307740924620506, 0.008569805293689777, -0.15351746905870445, -0.021799570305481963, 0.014471288197371868, 0,
                0, 0, 0, 0,
            ],
            [
                0.014246004117356466, 0, 0, 0, 0, 0, 0, -0.3767107393295407, 0.22523997807304214, 0.128360307629253,
                0.22302387052616926, 0.5463127827750747, 0.0552619079137578, 0.12856135087499826, 0.028572506812964065, 0,
                -0.02398761886357109, 0.055562244589105095, -0.017406756507628386, -0.03815462365996979, 0.011118785048989178, 0,
                0, 0, 0, 0,
            ],
        ],
        denseNodes: [1, 0.7404185470631561, 0.888, 0.696, 0.487, 0.025, 0.15, 0.32, 0.78, 0.96])
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
