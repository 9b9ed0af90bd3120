/// A partitioned explicit Runge–Kutta method: the state's components are split into parts, and
/// part p is advanced with its own tableau (Aᵖ, bᵖ) over stages shared by all parts,
///
///     Yᵢ[p] = y[p] + h Σⱼ aᵖᵢⱼ Kⱼ[p],   Kᵢ = f(Yᵢ),   y₁[p] = y[p] + h Σᵢ bᵖᵢ Kᵢ[p]
///
/// (Hairer, Lubich and Wanner, *Geometric Numerical Integration*, II.2). With one part it is the
/// part's tableau. Partitioned methods are the published discretizations of second-order recurrent
/// cells: coRNN and LEM update one half of their state from the other's new value
/// (``symplecticEuler``).
///
/// The fused recurrent path runs them for row-separable fields whose
/// ``RowSeparableField/stateParts`` has one width per part; a field can skip the parts of a stage
/// whose derivative no weight uses (``RowFieldEvaluation/usesDerivative(ofPart:)``).
public struct PartitionedTableau: Sendable, Hashable, CustomStringConvertible {
    /// A short name.
    public let name: String
    /// One explicit tableau per part of the state, all with the same number of stages.
    public let parts: [ButcherTableau]
    /// The method's order as a partitioned method (at most every part's order: the coupling
    /// conditions between the parts' tableaus can lower it).
    public let order: Int

    /// A partitioned method from one explicit tableau per part.
    ///
    /// - Throws: ``TableauError/shape(_:)`` when there are no parts or more than 64, a part is not a
    ///   fixed-step explicit tableau, the parts' stage counts differ, or `order` exceeds a part's order.
    public init(name: String, order: Int, parts: [ButcherTableau]) throws(TableauError) {
        guard let first = parts.first, parts.count <= 64 else {
            throw .shape("\(name): a partitioned method needs 1 to 64 parts, got \(parts.count)")
        }
        for (p, part) in parts.enumerated() {
            guard part.kind == .explicit, part.stiffAlternative == nil, !part.isAdaptive else {
                throw .shape("\(name): part \(p) (\(part.name)) must be a fixed-step explicit tableau")
            }
            guard part.stages == first.stages else {
                throw .shape("\(name): part \(p) has \(part.stages) stages, part 0 has \(first.stages)")
            }
            guard order >= 1 && order <= part.order else {
                throw .shape("\(name): order \(order) must be in 1...\(part.order), the order of part \(p)")
            }
        }
        (self.name, self.order, self.parts) = (name, order, parts)
    }

    /// The number of stages each step evaluates.
    public var stages: Int { parts[0].stages }

    /// Whether stage `i`'s derivative of part `p` enters anything: the step's weights bᵖᵢ or a later
    /// stage's aᵖₗᵢ.
    public func usesDerivative(stage i: Int, part p: Int) -> Bool {
        let part = parts[p]
        return part.b[i] != 0 || ((i + 1)..<stages).contains { part.a[$0][i] != 0 }
    }

    public var description: String { name }

    /// Symplectic Euler for a state (q, p) with q′ = f(p, …), p′ = g(q, p): p advances by explicit
    /// Euler from the old state, then q by Euler from the new p,
    ///
    ///     pₙ = pₙ₋₁ + h g(qₙ₋₁, pₙ₋₁),   qₙ = qₙ₋₁ + h f(qₙ₋₁, pₙ)
    ///
    /// Two stages, the first used only for p and the second only for q: part 0 is q
    /// (A = 0, b = (0, 1)), part 1 is p (a₂₁ = 1, b = (1, 0)). Order 1; symplectic for separable
    /// Hamiltonian systems. It is coRNN's and LEM's published discretization (q their output y, p
    /// the velocity or second memory z), as their reference codes write it.
    public static let symplecticEuler = try! PartitionedTableau(
        name: "Symplectic Euler", order: 1,
        parts: [
            ButcherTableau(name: "Symplectic Euler (q)", order: 1, a: [[0, 0], [0, 0]], b: [0, 1]),
            ButcherTableau(name: "Symplectic Euler (p)", order: 1, a: [[0, 0], [1, 0]], b: [1, 0]),
        ])
}
