// Small helpers shared by the SVG plots: XML escaping, compact number formatting and a rough
// text-width estimate used for layout (SVG has no text metrics without a renderer).

import RNNODEIO

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values, turns line breaks and tabs
/// into spaces and drops other control characters, which XML 1.0 does not allow.
func xmlEscaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        case "\n", "\r", "\t": result += " "
        default:
            let value = scalar.value
            if value < 0x20 || value == 0xFFFE || value == 0xFFFF { continue }
            result.unicodeScalars.append(scalar)
        }
    }
    return result
}

/// `value` with exactly `decimals` digits after the point (no exponent), using "-" for negatives.
/// Intended for moderate magnitudes (|value| × 10^decimals < 9e15).
func fixedDecimal(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    let decimals = max(0, min(decimals, 15))
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (Swift.abs(value) * scale).rounded()
    guard scaled < 9e15 else { return value.description }
    var digits = String(Int64(scaled))
    if decimals > 0 {
        if digits.count <= decimals {
            digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
        }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
    }
    return (value < 0 && scaled != 0 ? "-" : "") + digits
}

/// A pixel coordinate for SVG attributes: at most two decimals, trailing zeros removed, clamped to
/// ±1e6 so wild data cannot produce enormous numbers.
func svgNumber(_ value: Double) -> String {
    let clamped = value.isNaN ? 0 : Swift.min(Swift.max(value, -1e6), 1e6)
    var text = fixedDecimal(clamped, decimals: 2)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text == "-0" ? "0" : text
}

/// `n` written with Unicode superscript digits and minus, e.g. -3 → "⁻³".
func superscript(_ n: Int) -> String {
    let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
    var text = n < 0 ? "⁻" : ""
    for character in String(Swift.abs(n)) {
        text.append(digits[Int(String(character))!])
    }
    return text
}

/// A rough width of `text` in pixels at `fontSize`, based on DejaVu Sans / Helvetica proportions.
/// Errs on the wide side so labels do not collide.
func estimatedTextWidth(_ text: String, fontSize: Double) -> Double {
    var ems = 0.0
    for character in text {
        switch character {
        case "i", "j", "l", "I", ".", ",", ":", ";", "'", "|", "!", " ", "(", ")", "[", "]", "f", "t", "r":
            ems += 0.36
        case "m", "w", "M", "W", "@", "%":
            ems += 0.95
        case "−", "×", "+", "=", "<", ">":
            ems += 0.84
        case "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹", "⁻":
            ems += 0.42
        case "A"..."Z":
            ems += 0.72
        case "0"..."9":
            ems += 0.64
        default:
            ems += character.isASCII ? 0.6 : 0.75
        }
    }
    return ems * fontSize
}
