import Dispatch
import RNNODETensors

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How training reports its progress (on standard error, so that standard output stays clean for
/// results and `--json` summaries).
public enum ProgressStyle: Sendable, Equatable {
    /// A live line on a terminal; plain lines when standard error is not a terminal.
    case automatic
    /// One line rewritten in place (`\r`), at most ten times a second: step, loss, rate, ETA.
    case liveLine
    /// Plain lines: about twenty over a run with a known length, and at least every five seconds.
    case lines
    /// Nothing.
    case quiet
}

/// Writes progress of a long computation: step, loss, steps per second and the estimated time left.
///
/// ```swift
/// var progress = ProgressReporter(label: "spiral", total: 2000, style: .automatic)
/// for step in 1...2000 {
///     // … one training step …
///     progress.update(step: step, loss: loss)
/// }
/// progress.finish("done")
/// ```
public struct ProgressReporter {
    public let label: String
    public let total: Int?
    public let style: ProgressStyle
    private let start: UInt64
    private var lastWrite: UInt64 = 0
    private var lastLineStep = 0
    private var wroteLiveLine = false

    /// - Parameters:
    ///   - label: a short name printed first.
    ///   - total: the number of steps expected, if known (for percentages and the ETA).
    ///   - style: ``ProgressStyle/automatic`` picks a live line on a terminal.
    public init(label: String, total: Int?, style: ProgressStyle = .automatic) {
        self.label = label
        self.total = total
        switch style {
        case .automatic: self.style = isatty(STDERR_FILENO) != 0 ? .liveLine : .lines
        default: self.style = style
        }
        start = DispatchTime.now().uptimeNanoseconds
    }

    /// Seconds since the reporter was made.
    public var elapsedSeconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

    /// Reports that `step` steps are done, with the current loss and optional extra fields.
    public mutating func update(step: Int, loss: Double, extra: String = "") {
        let now = DispatchTime.now().uptimeNanoseconds
        switch style {
        case .quiet, .automatic:
            return
        case .liveLine:
            guard now - lastWrite >= 100_000_000 || step == total else { return }
            lastWrite = now
            emit("\r\u{1B}[K" + line(step: step, loss: loss, extra: extra))
            wroteLiveLine = true
        case .lines:
            let every = total.map { Swift.max(1, $0 / 20) } ?? Int.max
            guard step - lastLineStep >= every || now - lastWrite >= 5_000_000_000 || step == total else { return }
            lastWrite = now
            lastLineStep = step
            emit(line(step: step, loss: loss, extra: extra) + "\n")
        }
    }

    /// Ends the report with a final message (on its own line).
    public mutating func finish(_ message: String) {
        switch style {
        case .quiet, .automatic: return
        case .liveLine: emit((wroteLiveLine ? "\n" : "") + "\(label): \(message)\n")
        case .lines: emit("\(label): \(message)\n")
        }
        wroteLiveLine = false
    }

    func line(step: Int, loss: Double, extra: String) -> String {
        let seconds = elapsedSeconds
        var text = "\(label) step \(step)"
        if let total { text += "/\(total) (\(total > 0 ? 100 * step / total : 100)%)" }
        text += "  loss " + formatScientific(loss)
        if seconds > 0 && step > 0 {
            let rate = Double(step) / seconds
            text += rate >= 10 ? "  \(Int(rate.rounded())) it/s" : "  " + formatFixed(rate, digits: 2) + " it/s"
            if let total, step < total { text += "  ETA " + formatDuration(Double(total - step) / rate) }
        }
        if !extra.isEmpty { text += "  " + extra }
        return text
    }

    private func emit(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}

// MARK: - Number formatting (no Foundation)

/// `1.234e-05` style, three significant decimals.
@usableFromInline
package func formatScientific(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    if value == 0 { return "0" }
    var exponent = Int((Swift.abs(value)).log10Floor)
    var mantissa = value / tenToThe(exponent)
    if Swift.abs((mantissa * 1000).rounded()) >= 10_000 {
        exponent += 1
        mantissa = value / tenToThe(exponent)
    }
    let sign = exponent < 0 ? "-" : "+"
    let digits = Swift.abs(exponent) < 10 ? "0\(Swift.abs(exponent))" : "\(Swift.abs(exponent))"
    return formatFixed(mantissa, digits: 3) + "e" + sign + digits
}

/// A fixed-point string with `digits` decimals.
@usableFromInline
package func formatFixed(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    let scale = tenToThe(digits)
    let scaled = (Swift.abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    var text = (value < 0 && scaled != 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let f = String(fraction)
        text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return text
}

/// h:mm:ss or m:ss.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let total = Int(seconds.rounded())
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60)
    let ss = s < 10 ? "0\(s)" : "\(s)"
    if h > 0 { return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + ss }
    return "\(m):" + ss
}

private func tenToThe(_ exponent: Int) -> Double { Double.pow(10, Double(exponent)) }

extension Double {
    fileprivate var log10Floor: Double { (Double.log(self) / Double.log(10)).rounded(.down) }
}
