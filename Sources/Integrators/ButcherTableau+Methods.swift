// The library's explicit Runge–Kutta methods. Each is validated (order conditions included) the first
// time it is used. Docs/Integrators.md compares them.

extension ButcherTableau {
    /// Forward Euler, order 1, one stage: y₁ = y + h f(t, y). At h = 1 with f = −h + tanh(Wh + Ux + b)
    /// this is exactly the Elman (SimpleRNN) recurrence.
    public static let euler = try! ButcherTableau(name: "Euler", order: 1, a: [[0]], b: [1])

    /// The explicit midpoint method, order 2, two stages.
    public static let midpoint = try! ButcherTableau(
        name: "Midpoint", order: 2,
        a: [[0, 0], [0.5, 0]],
        b: [0, 1])

    /// Heun's method (the explicit trapezoidal rule), order 2, two stages.
    public static let heun = try! ButcherTableau(
        name: "Heun", order: 2,
        a: [[0, 0], [1, 0]],
        b: [0.5, 0.5])

    /// Ralston's second-order method, two stages, with the smallest error bound among them.
    public static let ralston = try! ButcherTableau(
        name: "Ralston", order: 2,
        a: [[0, 0], [2.0 / 3, 0]],
        b: [0.25, 0.75])

    /// The classic fourth-order Runge–Kutta method, four stages.
    public static let rk4 = try! ButcherTableau(
        name: "RK4", order: 4,
        a: [
            [0, 0, 0, 0],
            [0.5, 0, 0, 0],
            [0, 0.5, 0, 0],
            [0, 0, 1, 0],
        ],
        b: [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6],
        c: [0, 0.5, 0.5, 1])

    /// Bogacki–Shampine 3(2): order 3 with an embedded order-2 error estimate, four stages, FSAL
    /// (three evaluations per step). Dense output by cubic Hermite interpolation.
    public static let bosh3 = try! ButcherTableau(
        name: "Bosh3", order: 3,
        a: [
            [0, 0, 0, 0],
            [0.5, 0, 0, 0],
            [0, 0.75, 0, 0],
            [2.0 / 9, 1.0 / 3, 4.0 / 9, 0],
        ],
        b: [2.0 / 9, 1.0 / 3, 4.0 / 9, 0],
        c: [0, 0.5, 0.75, 1],
        embeddedWeights: [7.0 / 24, 0.25, 1.0 / 3, 0.125], embeddedOrder: 2)

    /// Dormand–Prince 5(4): order 5 with an embedded order-4 estimate, seven stages, FSAL (six
    /// evaluations per step), and Shampine's fourth-order dense output. The default adaptive method.
    public static let dopri5 = try! ButcherTableau(
        name: "Dopri5", order: 5,
        a: [
            [0, 0, 0, 0, 0, 0, 0],
            [1.0 / 5, 0, 0, 0, 0, 0, 0],
            [3.0 / 40, 9.0 / 40, 0, 0, 0, 0, 0],
            [44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0, 0, 0],
            [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0, 0, 0],
            [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656, 0, 0],
            [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0],
        ],
        b: [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0],
        c: [0, 0.2, 0.3, 0.8, 8.0 / 9, 1, 1],
        embeddedWeights: [
            5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40,
        ],
        embeddedOrder: 4,
        interpolant: [
            [1, -2.8535800653862835, 3.0717434641059005, -1.1270175653862835],
            [0, 0, 0, 0],
            [0, 4.023133379230305, -6.249321565289, 2.675424484351598],
            [0, -3.7324019615885042, 10.068970589843675, -5.685526961588504],
            [0, 2.5548038301849423, -6.399112377351017, 3.5219323679207912],
            [0, -1.3744241142186024, 3.272657752246729, -1.7672812570757455],
            [0, 1.3824689317781436, -3.764937863556287, 2.382468931778144],
        ],
        interpolantOrder: 4)

    /// Tsitouras 5(4) (2011): order 5 with an embedded order-4 estimate, seven stages, FSAL, and a
    /// fourth-order interpolant. Coefficients chosen for smaller error than Dormand–Prince at the
    /// same cost.
    public static let tsit5 = try! ButcherTableau(
        name: "Tsit5", order: 5,
        a: [
            [0, 0, 0, 0, 0, 0, 0],
            [0.161, 0, 0, 0, 0, 0, 0],
            [-0.008480655492356992, 0.3354806554923570, 0, 0, 0, 0, 0],
            [2.8971530571054944, -6.359448489975075, 4.362295432869581, 0, 0, 0, 0],
            [5.32586482843926, -11.74888356406283, 7.495539342889836, -0.09249506636175525, 0, 0, 0],
            [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401006, -0.02826905039406838, 0, 0],
            [
                0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
                2.324710524099774, 0,
            ],
        ],
        b: [
            0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774,
            0,
        ],
        c: [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1],
        embeddedWeights: [
            0.09468075576583945, 0.009183565540343254, 0.4877705284247616, 1.234297566930479, -2.7077123499835256,
            1.866628418170587, 1.0 / 66,
        ],
        embeddedOrder: 4,
        interpolant: [
            [1, -2.763706197274826, 2.9132554618219126, -1.0530884977290216],
            [0, 0.13169999999999998, -0.2234, 0.1017],
            [0, 3.9302962368947516, -5.941033872131505, 2.490627285651253],
            [0, -12.411077166933676, 30.33818863028232, -16.548102889244902],
            [0, 37.50931341651104, -88.1789048947664, 47.37952196281928],
            [0, -27.896526289197286, 65.09189467479366, -34.87065786149661],
            [0, 1.5, -4, 2.5],
        ],
        interpolantOrder: 4,
        tolerance: 1e-10)

    /// The library's methods, by lowercase name (euler, midpoint, heun, ralston, rk4, bosh3, dopri5,
    /// tsit5, vern7, dop853, vern9): for command-line flags and configuration.
    public static let builtIn: [String: ButcherTableau] = [
        "euler": .euler, "midpoint": .midpoint, "heun": .heun, "ralston": .ralston, "rk4": .rk4,
        "bosh3": .bosh3, "dopri5": .dopri5, "tsit5": .tsit5, "vern7": .vern7, "dop853": .dop853,
        "vern9": .vern9,
    ]
}
