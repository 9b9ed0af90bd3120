import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

@Suite("Butcher tableaus")
struct ButcherTableauTests {
    @Test func builtInMethodsValidate() {
        let expected: [(ButcherTableau, stages: Int, order: Int, fsal: Bool, adaptive: Bool)] = [
            (.euler, 1, 1, false, false), (.midpoint, 2, 2, false, false), (.heun, 2, 2, false, false),
            (.ralston, 2, 2, false, false), (.rk4, 4, 4, false, false), (.bosh3, 4, 3, true, true),
            (.dopri5, 7, 5, true, true), (.tsit5, 7, 5, true, true),
        ]
        for (method, stages, order, fsal, adaptive) in expected {
            #expect(method.stages == stages, "\(method.name)")
            #expect(method.order == order, "\(method.name)")
            #expect(method.isFSAL == fsal, "\(method.name)")
            #expect(method.isAdaptive == adaptive, "\(method.name)")
        }
        #expect(ButcherTableau.dopri5.interpolantOrder == 4)
        #expect(ButcherTableau.tsit5.embeddedOrder == 4)
        #expect(ButcherTableau.builtIn.count == 11)
    }

    @Test func aThirdOrderMethodIsAccepted() throws {
        let kutta3 = try ButcherTableau(
            name: "Kutta3", order: 3, a: [[0, 0, 0], [0.5, 0, 0], [-1, 2, 0]], b: [1.0 / 6, 2.0 / 3, 1.0 / 6])
        #expect(kutta3.c == [0, 0.5, 1])
        #expect(!kutta3.isFSAL)
    }

    @Test func claimingTooHighAnOrderIsRejected() {
        // Heun is second order: the third-order condition for the tree [τ,τ] (Σ bᵢcᵢ² = 1/3) fails.
        #expect(throws: TableauError.self) {
            try ButcherTableau(name: "Heun", order: 3, a: [[0, 0], [1, 0]], b: [0.5, 0.5])
        }
    }

    @Test func aMistypedCoefficientIsCaught() {
        var a = ButcherTableau.rk4.a
        a[2][1] = 0.51
        #expect(throws: TableauError.rowSumMismatch(name: "RK4-typo", row: 2, rowSum: 0.51, node: 0.5)) {
            try ButcherTableau(name: "RK4-typo", order: 4, a: a, b: ButcherTableau.rk4.b, c: [0, 0.5, 0.5, 1])
        }
        // With consistent nodes the order conditions catch it instead.
        #expect {
            try ButcherTableau(name: "RK4-typo", order: 4, a: a, b: ButcherTableau.rk4.b)
        } throws: { error in
            guard case .orderCondition(_, let weights, _, _) = error as? TableauError else { return false }
            return weights == "b"
        }
    }

    @Test func implicitAndMalformedTableausAreRejected() {
        #expect(throws: TableauError.notExplicit(name: "Implicit", row: 0, column: 0)) {
            try ButcherTableau(name: "Implicit", order: 1, a: [[1]], b: [1])
        }
        #expect(throws: TableauError.self) {
            try ButcherTableau(name: "Ragged", order: 1, a: [[0, 0]], b: [1])
        }
        #expect(throws: TableauError.self) {
            try ButcherTableau(name: "NaN", order: 1, a: [[0]], b: [.nan])
        }
    }

    @Test func embeddedWeightsAndInterpolantAreChecked() {
        // A wrong embedded method (b̂ not even first order).
        #expect {
            try ButcherTableau(
                name: "BadEmbedded", order: 2, a: [[0, 0], [1, 0]], b: [0.5, 0.5], embeddedWeights: [0.5, 0.4],
                embeddedOrder: 1)
        } throws: { error in
            guard case .orderCondition(_, let weights, _, _) = error as? TableauError else { return false }
            return weights == "b̂"
        }
        // An interpolant that does not end at b.
        var p = ButcherTableau.dopri5.interpolant!
        p[2][3] += 0.01
        #expect {
            try ButcherTableau(
                name: "BadDense", order: 5, a: ButcherTableau.dopri5.a, b: ButcherTableau.dopri5.b,
                embeddedWeights: zip(ButcherTableau.dopri5.b, ButcherTableau.dopri5.errorWeights!).map { $0 - $1 },
                embeddedOrder: 4, interpolant: p, interpolantOrder: 4)
        } throws: { error in
            guard case .interpolantEnd(_, let stage, _, _) = error as? TableauError else { return false }
            return stage == 2
        }
    }

    @Test func orderConditionsCountTheRootedTrees() {
        // There are 1, 1, 2, 4, 9, 20 rooted trees with 1…6 nodes.
        var conditions = OrderConditions(a: ButcherTableau.rk4.a)
        _ = conditions.firstFailure(weights: ButcherTableau.rk4.b, order: 6, tolerance: 1e-12)
        let counts = (1...6).map { n in conditions.trees.filter { $0.order == n }.count }
        #expect(counts == [1, 1, 2, 4, 9, 20])
        // RK4 satisfies all eight conditions up to order 4 and fails at order 5.
        #expect(conditions.firstFailure(weights: ButcherTableau.rk4.b, order: 4, tolerance: 1e-12) == nil)
        #expect(conditions.firstFailure(weights: ButcherTableau.rk4.b, order: 5, tolerance: 1e-12) != nil)
    }
}
