import Foundation
import RNNODEIntegrators
import RNNODETensors

/// Observations of a system's variables at a few times, with gaps: a table of times × variables in
/// which any entry may be missing (an empty CSV cell or NaN). It validates the data once and then
/// gives the residuals predicted − observed at the observed entries for any solution, and their
/// Jacobian from forward sensitivities — what a parameter fit needs.
///
/// ```swift
/// // t,x1,x2 with gaps, as in Su's article.
/// let data = try Observations<Double>(CSVTable.read(from: url))
/// let s = try solve(model, initialState: start, parameters: p, times: data.times, sensitivities: .parameters)
/// let r = data.residuals(of: s)            // one per observed entry, in row-major order
/// let j = data.residualJacobian(of: s)     // r.count × parameters, row-major
/// ```
///
/// Entries are numbered row-major: entry k·v + i is variable i at time k, for v variables.
public struct Observations<Scalar: TensorScalar>: Sendable, Equatable {
    /// The observation times, finite and strictly increasing.
    public let times: [Scalar]
    /// The variables' names, in the order of the state's components.
    public let variables: [String]
    /// The values, times × variables row-major; NaN where an entry is missing.
    public let values: [Scalar]
    /// The indices of the observed entries into ``values``, increasing.
    public let observedIndices: [Int]

    /// Validates observations given per time, one optional value per variable.
    ///
    /// - Throws: ``ObservationError`` naming the row and the problem: no times, a time that is not
    ///   finite or does not increase, a row of the wrong length, an infinite value, no observed entry.
    public init(times: [Scalar], variables: [String], values rows: [[Scalar?]]) throws(ObservationError) {
        guard !times.isEmpty else { throw ObservationError("there are no observation times") }
        guard !variables.isEmpty else { throw ObservationError("there are no variables") }
        guard rows.count == times.count else {
            throw ObservationError("\(rows.count) rows of values for \(times.count) times")
        }
        var flat: [Scalar] = []
        flat.reserveCapacity(times.count * variables.count)
        var observed: [Int] = []
        for (k, time) in times.enumerated() {
            guard time.isFinite else { throw ObservationError("row \(k + 1): the time \(time) is not finite") }
            if k > 0, time <= times[k - 1] {
                throw ObservationError("row \(k + 1): times must increase, got \(time) after \(times[k - 1])")
            }
            guard rows[k].count == variables.count else {
                throw ObservationError("row \(k + 1): \(rows[k].count) values for \(variables.count) variables")
            }
            for (i, entry) in rows[k].enumerated() {
                if let entry, !entry.isNaN {
                    guard entry.isFinite else {
                        throw ObservationError("row \(k + 1): the value of \(variables[i]) is \(entry)")
                    }
                    observed.append(flat.count)
                    flat.append(entry)
                } else {
                    flat.append(.nan)
                }
            }
        }
        guard !observed.isEmpty else { throw ObservationError("every entry is missing") }
        self.times = times
        self.variables = variables
        self.values = flat
        self.observedIndices = observed
    }

    /// Reads observations from a table with a time column and one column per variable (by default
    /// every other column, in order); empty cells and NaN are missing.
    ///
    /// - Throws: ``ObservationError`` for a missing column, a missing or non-finite time (with its
    ///   line in the file: 1 is the header), times that do not increase, or no observed entry.
    public init(_ table: CSVTable, time: String = "t", variables: [String]? = nil) throws(ObservationError) {
        guard let timeColumn = table.column(time) else {
            throw ObservationError(
                "the data has no time column '\(time)' (header: \(table.header.joined(separator: ",")))")
        }
        let names = variables ?? table.header.filter { $0 != time }
        var columns: [[Double?]] = []
        for name in names {
            guard let column = table.column(name) else {
                throw ObservationError(
                    "the data has no column '\(name)' (header: \(table.header.joined(separator: ",")))")
            }
            columns.append(column)
        }
        var times: [Scalar] = []
        for (row, value) in timeColumn.enumerated() {
            guard let value, value.isFinite else {
                throw ObservationError("line \(row + 2): the time is missing or not finite")
            }
            times.append(Scalar(value))
        }
        let rows = (0..<times.count).map { k in columns.map { $0[k].map { Scalar($0) } } }
        do {
            try self.init(times: times, variables: names, values: rows)
        } catch {
            // Rows are numbered from 1 after the header: line = row + 1.
            throw ObservationError(
                error.description.replacing(/^row (\d+)/) { match in "line \(Int(match.1)! + 1)" })
        }
    }

    /// Reads a CSV file of observations (see ``init(_:time:variables:)``).
    ///
    /// - Throws: ``CSVError`` for a file that cannot be read or parsed, ``ObservationError`` for its
    ///   contents.
    public static func read(from url: URL, time: String = "t", variables: [String]? = nil) throws -> Observations {
        try Observations(CSVTable.read(from: url), time: time, variables: variables)
    }

    /// The number of observed entries: the number of residuals.
    @inlinable
    public var observedCount: Int { observedIndices.count }

    /// Variable `variable` at time index `time`, or nil if it is missing.
    @inlinable
    public func value(time: Int, variable: Int) -> Scalar? {
        require(time >= 0 && time < times.count, "time index \(time) outside 0..<\(times.count)")
        require(variable >= 0 && variable < variables.count, "variable \(variable) outside 0..<\(variables.count)")
        let value = values[time * variables.count + variable]
        return value.isNaN ? nil : value
    }

    /// The first row's values as a state, if every variable is observed there (the usual initial
    /// state of a fit).
    @inlinable
    public func firstRow<State: ODEState>(as template: State) -> State? where State.Scalar == Scalar {
        let v = variables.count
        guard template.componentCount == v, values[0..<v].allSatisfy({ !$0.isNaN }) else { return nil }
        return values.withUnsafeBufferPointer { template.withComponents(from: $0.baseAddress!) }
    }

    // MARK: - Residuals

    /// Predicted − observed at the observed entries, the prediction at time k being
    /// `predicted[k·v ..< (k+1)·v]` (v variables). Times past the end of `predicted` give NaN, so that
    /// an optimizer rejects a trial point whose solve stopped early.
    @inlinable
    public func residuals(predicted: [Scalar]) -> [Scalar] {
        observedIndices.map { index in index < predicted.count ? predicted[index] - values[index] : .nan }
    }

    /// Predicted − observed at the observed entries for a solution saved at ``times`` (its first
    /// `times.count` states; a failed solve's missing states give NaN residuals).
    @inlinable
    public func residuals<State: ODEState>(of solution: Solution<State>) -> [Scalar] where State.Scalar == Scalar {
        let v = checkedComponents(of: solution)
        var predicted = [Scalar](repeating: .nan, count: Swift.min(solution.states.count, times.count) * v)
        predicted.withUnsafeMutableBufferPointer { buffer in
            for k in 0..<(buffer.count / v) { solution.states[k].copyComponents(to: buffer.baseAddress! + k * v) }
        }
        return residuals(predicted: predicted)
    }

    /// Predicted − observed at the observed entries, differentiable: for a solution on ``Tensor``
    /// states of `variables.count` scalars each (recorded if the solve was), saved at ``times``.
    @inlinable
    public func residuals(of solution: Solution<Tensor<Scalar>>) -> Tensor<Scalar> {
        let v = checkedComponents(of: solution)
        guard solution.states.count >= times.count else {
            return Tensor(repeating: .nan, shape: [observedCount])
        }
        let predicted = Tensor(stacking: Array(solution.states.prefix(times.count))).reshaped(to: [-1])
        require(predicted.scalarCount == times.count * v, "states of \(v) scalars expected")
        let observed = Tensor(shape: [observedCount], scalars: observedIndices.map { values[$0] })
        return predicted.gathering(observedIndices, alongAxis: 0) - observed
    }

    /// ∂r/∂d for the residuals of ``residuals(of:)-(Solution<State>)``: the rows of the solution's
    /// forward sensitivities at the observed entries, `observedCount × directions` row-major (NaN rows
    /// for times the solve did not reach).
    ///
    /// - Precondition: the solution carries ``Solution/sensitivities``.
    @inlinable
    public func residualJacobian<State: ODEState>(of solution: Solution<State>) -> [Scalar]
    where State.Scalar == Scalar {
        let v = checkedComponents(of: solution)
        guard let s = solution.sensitivities else {
            programmingError("residualJacobian(of:) needs a solution with sensitivities (solve with sensitivities:)")
        }
        let d = s.directionCount
        var jacobian: [Scalar] = []
        jacobian.reserveCapacity(observedCount * d)
        for index in observedIndices {
            let (k, i) = index.quotientAndRemainder(dividingBy: v)
            for j in 0..<d { jacobian.append(k < s.timeCount ? s[time: k, component: i, direction: j] : .nan) }
        }
        return jacobian
    }

    /// The number of components per state, checked against the variables and the saved times.
    @inlinable
    func checkedComponents<State: ODEState>(of solution: Solution<State>) -> Int where State.Scalar == Scalar {
        let v = variables.count
        if let state = solution.states.first, let n = state.componentCount {
            require(n == v, "the solution's states have \(n) components for \(v) observed variables")
        }
        for k in 0..<Swift.min(solution.times.count, times.count) {
            let scale = Swift.max(Swift.abs(times[k]), 1)
            require(
                Swift.abs(solution.times[k] - times[k]) <= 64 * Scalar.ulpOfOne * scale,
                "the solution is saved at t = \(solution.times[k]) where the observations are at t = \(times[k]): solve with times: observations.times"
            )
        }
        return v
    }
}

/// A problem with observation data, for the user: what and where.
public struct ObservationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
