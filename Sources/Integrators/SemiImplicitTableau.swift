/// An explicit Runge–Kutta method whose stages treat a field's linear decay implicitly: for a field
/// split by the field itself as f(Y) = e(Y) − λ(Y) ⊙ Y with a rate λ(Y) ≥ 0 per component,
///
///     Yᵢ = y + h Σⱼ aᵢⱼ Kⱼ,   Kᵢ = f(Yᵢ) / (1 + γᵢ h λ(Yᵢ)),   y₁ = y + h Σᵢ bᵢ Kᵢ
///
/// elementwise: a linearly implicit (Rosenbrock-type W-) method whose Jacobian approximation is the
/// diagonal −λ(Yᵢ) the field reports at each stage, so that each "linear solve" is a division. With
/// one Euler stage and γ = 1 it is ``semiImplicitEuler``, y₁ = (y + h e(y)) / (1 + h λ(y)): the
/// fused step of liquid time-constant networks (Hasani et al., AAAI 2021), implicit in the decay and
/// explicit in the rest, stable for any h > 0 on the decay however stiff it is. With every γᵢ = 0 it
/// is the explicit tableau.
///
/// The integrator's fused path runs it for row-separable fields that report their decay
/// (``RowSeparableField/splitsDiagonalDecay``); a recurrent layer takes it as
/// `CellIntegration.fixed(semiImplicit:timeStep:substeps:)`.
///
/// Accuracy: Kᵢ = f − γᵢ h λ f + O(h²), so the step keeps the explicit tableau's order only when
/// Σᵢ bᵢ γᵢ = 0; otherwise it has order 1.
public struct SemiImplicitTableau: Sendable, Hashable, CustomStringConvertible {
    /// A short name.
    public let name: String
    /// The explicit method that combines the stages: one tableau (a partitioned method of one
    /// part), or one per part of the state.
    public let explicitMethod: PartitionedTableau
    /// γᵢ ≥ 0 per stage: how much of the stage's step the decay is taken implicitly over.
    public let gamma: [Double]
    /// The method's order.
    public let order: Int

    /// A method from an explicit tableau and one γᵢ per stage.
    ///
    /// - Throws: ``TableauError/shape(_:)`` when `tableau` is not a fixed-step explicit tableau, γ
    ///   does not have one finite non-negative entry per stage, or `order` is not in 1 through the
    ///   tableau's order (through 1 when Σᵢ bᵢ γᵢ ≠ 0).
    public init(name: String, order: Int, tableau: ButcherTableau, gamma: [Double]) throws(TableauError) {
        let method = try PartitionedTableau(name: name, order: tableau.order, parts: [tableau])
        try self.init(name: name, order: order, partitioned: method, gamma: gamma)
    }

    /// A method from a partitioned method and one γᵢ per stage (shared by the parts; a field whose
    /// decay acts on one part has λ = 0 on the others). Such a method is an IMEX partitioned step:
    /// ``imexSymplecticEuler`` is coRNN's.
    ///
    /// - Throws: ``TableauError/shape(_:)`` when γ does not have one finite non-negative entry per
    ///   stage, or `order` is not in 1 through the method's order (through 1 when Σᵢ bᵖᵢ γᵢ ≠ 0 for
    ///   some part p).
    public init(name: String, order: Int, partitioned method: PartitionedTableau, gamma: [Double]) throws(TableauError) {
        guard gamma.count == method.stages, gamma.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw .shape("\(name): γ needs \(method.stages) finite entries ≥ 0, one per stage, got \(gamma)")
        }
        let weighted = method.parts.map { part in zip(part.b, gamma).reduce(0) { $0 + $1.0 * $1.1 } }
        let highest = weighted.contains { abs($0) > 1e-14 } ? 1 : method.order
        guard order >= 1 && order <= highest else {
            throw .shape(
                "\(name): order \(order) must be in 1...\(highest) (Σ bᵢγᵢ = \(weighted), \(method.name) has order \(method.order))"
            )
        }
        (self.name, self.explicitMethod, self.gamma, self.order) = (name, method, gamma, order)
    }

    /// The number of stages each step evaluates.
    public var stages: Int { explicitMethod.stages }

    /// The first part's tableau (the whole method's, for one part).
    public var tableau: ButcherTableau { explicitMethod.parts[0] }

    public var description: String { name }

    /// One Euler stage with the decay implicit: y₁ = (y + h e(y)) / (1 + h λ(y)), order 1. The fused
    /// solver of liquid time-constant networks (their reference code takes six such steps per
    /// input). Not the symplectic Euler of mechanics, which is ``PartitionedTableau/symplecticEuler``.
    public static let semiImplicitEuler = try! SemiImplicitTableau(
        name: "Semi-implicit Euler", order: 1, tableau: .euler, gamma: [1])

    /// ``PartitionedTableau/symplecticEuler`` with the decay implicit in its first stage (the one
    /// that advances p), order 1: for p′ = g(q, p) − λ p,
    ///
    ///     pₙ = (pₙ₋₁ + h g(qₙ₋₁, pₙ₋₁)) / (1 + h λ),   qₙ = qₙ₋₁ + h f(qₙ₋₁, pₙ)
    ///
    /// — the IMEX step of coRNN (Rusch and Mishra, ICLR 2021, eq. 3), whose damping ε z is taken
    /// implicitly: zₙ = (zₙ₋₁ + Δt (σ(·) − γ yₙ₋₁)) / (1 + Δt ε), yₙ = yₙ₋₁ + Δt zₙ.
    public static let imexSymplecticEuler = try! SemiImplicitTableau(
        name: "IMEX symplectic Euler", order: 1, partitioned: .symplecticEuler, gamma: [1, 0])
}
