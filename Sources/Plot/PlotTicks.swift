import RNNODEIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tick positions and labels for one axis.
struct AxisTicks: Equatable, Sendable {
    /// Labelled tick positions, in data units, increasing.
    var major: [Double]
    /// Labels for `major`, same count.
    var labels: [String]
    /// Unlabelled (minor) tick positions.
    var minor: [Double] = []
    /// A common factor of the labels, e.g. "×10⁻⁵", shown once at the end of the axis.
    var multiplier: String? = nil

    // MARK: Linear axes

    /// "Nice" ticks at a 1, 2 or 5 × 10^k step inside `range`: the smallest such step that gives at
    /// most `maxCount` ticks. Values are correctly rounded decimals (0.6, not 0.6000000000000001).
    static func linearValues(in range: ClosedRange<Double>, maxCount: Int = 10) -> (values: [Double], step: Double) {
        let lower = range.lowerBound
        let upper = range.upperBound
        let span = upper - lower
        guard span > 0, span.isFinite, maxCount >= 1 else { return ([lower], 1) }
        var exponent = Int((log10(span / Double(maxCount))).rounded(.down)) - 1
        while true {
            for mantissa in [1, 2, 5] {
                let step = decimal(mantissa, exponent)
                let first = (lower / step - 1e-9).rounded(.up)
                let last = (upper / step + 1e-9).rounded(.down)
                guard Swift.abs(first) < 1e15, Swift.abs(last) < 1e15 else { continue }
                if last - first + 1 <= Double(maxCount) {
                    let values = stride(from: Int64(first), through: Int64(last), by: 1).map {
                        decimal(Int($0) * mantissa, exponent)
                    }
                    return (values, step)
                }
            }
            exponent += 1
        }
    }

    /// Linear ticks with labels rounded to the step's precision.
    static func linear(in range: ClosedRange<Double>, maxCount: Int = 10) -> AxisTicks {
        let (values, step) = linearValues(in: range, maxCount: maxCount)
        let (labels, multiplier) = labels(for: values, step: step)
        return AxisTicks(major: values, labels: labels, multiplier: multiplier)
    }

    /// Labels for ticks `step` apart: fixed-point with just enough decimals for the step. When the
    /// values are very large or very small (≥ 10⁵ or < 10⁻³), the labels are mantissas and the
    /// common power of ten is returned separately as a multiplier such as "×10⁶".
    static func labels(for values: [Double], step: Double) -> (labels: [String], multiplier: String?) {
        let largest = values.map { Swift.abs($0) }.max() ?? 0
        let stepExponent = Int((log10(step) + 1e-9).rounded(.down))
        if largest >= 1e5 || (largest > 0 && largest < 1e-3) {
            let exponent = Int((log10(largest) + 1e-9).rounded(.down))
            let scale = decimal(1, exponent)
            let decimals = Swift.max(0, exponent - stepExponent)
            let labels = values.map { withUnicodeMinus(fixedDecimal($0 / scale, decimals: decimals)) }
            return (labels, "×" + powerOfTenLabel(exponent))
        }
        let decimals = Swift.max(0, -stepExponent)
        return (values.map { withUnicodeMinus(fixedDecimal($0, decimals: decimals)) }, nil)
    }

    // MARK: Logarithmic axes

    /// Ticks for a logarithmic axis over `range` (which must be positive): powers of ten, every
    /// `n`-th decade when there are more than `maxCount`; minor ticks at 2…9 × 10^k when
    /// `minorTicks` is set and every decade is labelled (or at the skipped decades otherwise). A
    /// range narrower than two decade ticks is labelled at 1…9 × 10^k (or 1, 2, 5 × 10^k), and a
    /// very narrow one falls back to linear ticks.
    static func logarithmic(in range: ClosedRange<Double>, maxCount: Int = 10, minorTicks: Bool = true) -> AxisTicks {
        let lower = range.lowerBound
        let upper = range.upperBound
        guard lower > 0, upper > lower, upper.isFinite else {
            return AxisTicks(major: [], labels: [])
        }
        let logLower = log10(lower)
        let logUpper = log10(upper)
        let firstDecade = Int((logLower - 1e-9).rounded(.up))
        let lastDecade = Int((logUpper + 1e-9).rounded(.down))
        let decadeCount = lastDecade - firstDecade + 1

        if decadeCount >= 2 {
            var stride = 1
            while (decadeCount + stride - 1) / stride > Swift.max(maxCount, 2) { stride += 1 }
            var major: [Double] = []
            var minor: [Double] = []
            for k in firstDecade...lastDecade {
                if k.isMultiple(of: stride) { major.append(decimal(1, k)) } else { minor.append(decimal(1, k)) }
            }
            if stride == 1 && minorTicks {
                for k in Int(logLower.rounded(.down))...Int(logUpper.rounded(.down)) {
                    for m in 2...9 {
                        let value = decimal(m, k)
                        if value >= lower && value <= upper { minor.append(value) }
                    }
                }
            }
            if major.count < 2 {  // a stride that skips all but one decade: label every decade instead
                return logarithmic(in: range, maxCount: decadeCount, minorTicks: minorTicks)
            }
            return AxisTicks(
                major: major, labels: major.map { powerOfTenLabel(Int(log10($0).rounded())) },
                minor: minor.sorted())
        }

        // Less than two decades boundaries inside: label mantissas m × 10^k.
        for mantissas in [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1, 3], [1]] {
            var values: [Double] = []
            for k in Int(logLower.rounded(.down))...Int(logUpper.rounded(.down)) {
                for m in mantissas {
                    let value = decimal(m, k)
                    if value >= lower * (1 - 1e-12) && value <= upper * (1 + 1e-12) { values.append(value) }
                }
            }
            if values.count >= 2 && values.count <= maxCount {
                return AxisTicks(major: values, labels: values.map(compactLabel))
            }
            if values.count < 2 { break }
        }
        return linear(in: range, maxCount: maxCount)
    }

    /// "10ⁿ" with a superscript exponent.
    static func powerOfTenLabel(_ exponent: Int) -> String {
        "10" + superscript(exponent)
    }

    /// A short label for a single value m × 10^k: "0.02", "300", "2×10⁻⁵".
    static func compactLabel(_ value: Double) -> String {
        guard value != 0 else { return "0" }
        let exponent = Int(log10(Swift.abs(value)).rounded(.down))
        if exponent >= -3 && exponent < 5 {
            var text = fixedDecimal(value, decimals: Swift.max(0, -exponent + 2))
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return withUnicodeMinus(text)
        }
        return scientific(value, exponent: exponent, decimals: 2, trimZeros: true)
    }

    // MARK: Helpers

    /// The correctly rounded double nearest to `mantissa` × 10^`exponent`.
    static func decimal(_ mantissa: Int, _ exponent: Int) -> Double {
        Double("\(mantissa)e\(exponent)") ?? 0
    }

    private static func scientific(_ value: Double, exponent: Int, decimals: Int, trimZeros: Bool = false) -> String {
        var mantissa = fixedDecimal(value / decimal(1, exponent), decimals: decimals)
        if trimZeros, mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        let power = powerOfTenLabel(exponent)
        if mantissa == "1" { return power }
        if mantissa == "-1" { return "−" + power }
        return withUnicodeMinus(mantissa) + "×" + power
    }

    private static func withUnicodeMinus(_ text: String) -> String {
        text.hasPrefix("-") ? "−" + text.dropFirst() : text
    }
}
