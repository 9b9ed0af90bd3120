import RNNODEIntegrators
import RNNODETensors

/// When the inputs of a sequence were observed: the time axis a recurrent layer integrates along.
///
/// Input k of a row is observed at time tₖ, and the output reported with it is the state h(tₖ).
/// Across the gap before it, (tₖ₋₁, tₖ], the cell's field is integrated with xₖ held (the
/// observation is held back over the interval it closes). A row's first interval has the layer's
/// nominal length Δt (``CellIntegration/timeStep``) and ends at t₀: it starts from the initial
/// state at t₀ − Δt. The fields are autonomous, so only the gaps matter, and a row observed at
/// t₀ + kΔt gives exactly the layer's regular outputs, whatever t₀.
///
/// - ``regular(timeStep:)``: every gap is Δt, a rank-0 tensor; a recorded one (a trainable step
///   size) gets a gradient.
/// - ``irregular(_:)``: time stamps `[batch, time]`, strictly increasing along each row's valid
///   (unmasked) steps; every row has its own clock. A recorded tensor gets gradients. Padded steps'
///   stamps are ignored (but must be finite).
///
/// With fixed steps, a gap of length g is crossed by ⌈g / h⌉ equal steps, h the integration's step
/// (Δt / substeps); with adaptive steps the controller chooses them.
///
/// ```swift
/// let t = Tensor<Double>([[0, 0.4, 1.9, 2.0], [0, 1.1, 1.2, 3.5]])     // two rows, own clocks
/// let out = try RecurrentLayer(gru, integration: .fixed(.rk4, timeStep: 0.5, substeps: 2))
///     .run(x, initialStates: nil, mask: nil, times: .irregular(t))
/// ```
public enum SequenceTimes<Scalar: TensorScalar>: Sendable {
    /// Inputs Δt apart (a rank-0 tensor, positive).
    case regular(timeStep: Tensor<Scalar>)
    /// Per-row observation times `[batch, time]`.
    case irregular(Tensor<Scalar>)
}

extension SequenceTimes {
    /// The lengths of the intervals the layer integrates across, time-major (`[time, batch]`), for
    /// inputs read forwards or (`goBackwards`) from each row's last valid step to its first; a
    /// constant when nothing about them is recorded and every gap is the same.
    ///
    /// - Throws: ``RecurrentError/invalidTimes(_:)`` naming what is wrong.
    @inlinable
    package func intervals(
        batch: Int, time: Int, lengths: [Int]?, nominal: Scalar, goBackwards: Bool
    ) throws(RecurrentError<Scalar>) -> RowIntervals<Scalar> {
        switch self {
        case .regular(let step):
            guard step.scalarCount == 1 else {
                throw .invalidTimes("the time step must be one value, got shape \(describeShape(step.shape))")
            }
            let value = step.scalars[0]
            guard value.isFinite && value > 0 else {
                throw .invalidTimes("the time step must be positive and finite, got \(value)")
            }
            guard step.isRecorded else { return .constant(value) }
            return .lengths(step.reshaped(to: [1, 1]).broadcasted(to: [time, batch]))
        case .irregular(let stamps):
            guard stamps.shape == [batch, time] else {
                throw .invalidTimes(
                    "time stamps must be [batch, time] = \(describeShape([batch, time])), got \(describeShape(stamps.shape))")
            }
            let values = stamps.scalars
            for row in 0..<batch {
                for step in 0..<time {
                    let t = values[row * time + step]
                    guard t.isFinite else { throw .invalidTimes("the time stamp of row \(row), step \(step) is \(t)") }
                    if step > 0 && step < (lengths?[row] ?? time) && !(t > values[row * time + step - 1]) {
                        throw .invalidTimes(
                            "the time stamps of row \(row) do not increase at step \(step) (\(values[row * time + step - 1]) then \(t))"
                        )
                    }
                }
            }
            guard time > 0 else { return .constant(nominal) }
            // Read backwards, a row's stamps run the other way: negated, they increase again.
            let ordered =
                goBackwards
                ? -reversingValidSteps(stamps.reshaped(to: [batch, time, 1]), lengths: lengths).reshaped(to: [batch, time])
                : stamps
            var gaps = Tensor<Scalar>(repeating: nominal, shape: [batch, 1])
            if time > 1 {
                let later = ordered.slice(alongAxis: 1, 1..<time)
                let earlier = ordered.slice(alongAxis: 1, 0..<(time - 1))
                gaps = Tensor(concatenating: [gaps, later - earlier], alongAxis: 1)
            }
            return .lengths(gaps.permuted([1, 0]))
        }
    }
}
