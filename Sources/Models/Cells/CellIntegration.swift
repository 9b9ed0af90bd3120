import RNNODEIntegrators
import RNNODETensors

/// How a ``RecurrentLayer`` integrates its cell across the time between two inputs.
///
/// Input xₖ is held fixed (a zero-order hold) across the interval of length Δt that ends at its time
/// — on the regular grid, from k·Δt to (k + 1)·Δt — and the layer reports the state at the
/// interval's end: the solution of dh/dt = f(h, xₖ) over it, computed by the library's one
/// Runge–Kutta integrator with ``method`` and ``step``. (Per-row time stamps replace the regular
/// grid: see ``SequenceTimes``.)
///
/// - ``discrete``: Euler with Δt = 1, one step per input — the classic recurrent cell.
/// - ``fixed(_:timeStep:substeps:)``: any tableau, `substeps` equal steps per input interval (an
///   interval of another length g, from time stamps or a trainable Δt, takes ⌈g / h⌉ equal steps
///   with h = Δt / substeps).
/// - ``adaptive(_:timeStep:rtol:atol:)``: error-controlled steps within each interval (the
///   continuous-time cell, accurate to the tolerance).
/// - ``fixed(partitioned:timeStep:substeps:)``: a partitioned method (``PartitionedTableau``, such as
///   ``PartitionedTableau/symplecticEuler``, the published step of coRNN and LEM) at fixed steps, for
///   cells whose state has one part per part of the method.
/// - ``fixed(semiImplicit:timeStep:substeps:)``: a semi-implicit method (``SemiImplicitTableau``,
///   such as ``SemiImplicitTableau/semiImplicitEuler``, the fused step of LTC) at fixed steps, for
///   cells that split off their decay rate (``RowSeparableField/splitsDiagonalDecay``).
///
/// ```swift
/// let rnn = RecurrentLayer(cell)                                               // Euler, Δt = 1
/// let rk4 = RecurrentLayer(cell, integration: .fixed(.rk4))                    // RK4, Δt = 1
/// let ode = RecurrentLayer(cell, integration: .adaptive(rtol: 1e-8, atol: 1e-8))
/// ```
public struct CellIntegration<Scalar: TensorScalar>: Sendable, Equatable {
    /// The Runge–Kutta method.
    public var method: ButcherTableau
    /// Δt: the time between two inputs (> 0).
    public var timeStep: Scalar
    /// How each interval of length Δt is stepped.
    public var step: StepSizeControl<Scalar>
    /// A partitioned method that replaces ``method`` (which is then its first part's tableau), or
    /// nil. It runs on the integrator's fused path: fixed steps, and a cell that conforms to
    /// ``RowSeparableField`` with one state part per part of the method.
    public var partitionedMethod: PartitionedTableau?
    /// A semi-implicit method that replaces ``method`` (which is then its explicit tableau), or nil.
    /// It runs on the integrator's fused path: fixed steps, and a cell that conforms to
    /// ``RowSeparableField`` and splits off its decay.
    public var semiImplicitMethod: SemiImplicitTableau?

    /// `method` over intervals of length `timeStep`, stepped by `step` (by default one step per interval).
    public init(method: ButcherTableau, timeStep: Scalar = 1, step: StepSizeControl<Scalar>? = nil) {
        self.method = method
        self.timeStep = timeStep
        self.step = step ?? .fixed(timeStep)
    }

    /// Euler with Δt = 1: the discrete recurrent cell.
    public static var discrete: CellIntegration { CellIntegration(method: .euler) }

    /// `substeps` equal steps of `method` per input interval of length `timeStep`.
    public static func fixed(_ method: ButcherTableau, timeStep: Scalar = 1, substeps: Int = 1) -> CellIntegration {
        require(substeps >= 1, "CellIntegration.fixed: substeps must be at least 1, got \(substeps)")
        return CellIntegration(method: method, timeStep: timeStep, step: .fixed(timeStep / Scalar(substeps)))
    }

    /// `substeps` equal steps of the partitioned `method` per input interval of length `timeStep`.
    ///
    /// ```swift
    /// let published = RecurrentLayer(coRNN, integration: .fixed(partitioned: .symplecticEuler, timeStep: 0.042))
    /// ```
    public static func fixed(
        partitioned method: PartitionedTableau, timeStep: Scalar = 1, substeps: Int = 1
    )
        -> CellIntegration
    {
        var integration = fixed(method.parts[0], timeStep: timeStep, substeps: substeps)
        integration.partitionedMethod = method
        return integration
    }

    /// `substeps` equal steps of the semi-implicit `method` per input interval of length `timeStep`.
    ///
    /// ```swift
    /// let published = RecurrentLayer(ltc, integration: .fixed(semiImplicit: .semiImplicitEuler, substeps: 6))
    /// ```
    public static func fixed(
        semiImplicit method: SemiImplicitTableau, timeStep: Scalar = 1, substeps: Int = 1
    ) -> CellIntegration {
        var integration = fixed(method.tableau, timeStep: timeStep, substeps: substeps)
        integration.semiImplicitMethod = method
        return integration
    }

    /// The name of the method (the partitioned or semi-implicit method's, when there is one).
    public var methodName: String { partitionedMethod?.name ?? semiImplicitMethod?.name ?? method.name }

    /// The partitioned or semi-implicit method, which only the fused path runs, or nil.
    @usableFromInline var fusedOnlyMethodName: String? { partitionedMethod?.name ?? semiImplicitMethod?.name }

    /// Adaptive steps of `method` (Dormand–Prince 5(4) by default) within each input interval.
    public static func adaptive(
        _ method: ButcherTableau = .dopri5, timeStep: Scalar = 1, rtol: Scalar = 1e-6, atol: Scalar = 1e-8
    ) -> CellIntegration {
        CellIntegration(method: method, timeStep: timeStep, step: .adaptive(rtol: rtol, atol: atol))
    }

    /// Whether this is the classic discrete cell (Euler, one step of Δt = 1 per input).
    public var isDiscrete: Bool {
        partitionedMethod == nil && semiImplicitMethod == nil && method == .euler && timeStep == 1 && step == .fixed(1)
    }
}
