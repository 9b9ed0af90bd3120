/// A JSON value for the one-line machine-readable summaries the examples and benchmarks print.
public indirect enum JSONValue: Sendable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByBooleanLiteral
{
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    /// Keys keep their order.
    case object([(String, JSONValue)])
    case null

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// An array of numbers.
    public static func numbers(_ values: [Double]) -> JSONValue { .array(values.map { .number($0) }) }

    /// Compact JSON text. Non-finite numbers become `null` (JSON has no NaN or infinity).
    public var text: String {
        switch self {
        case .number(let value):
            guard value.isFinite else { return "null" }
            if value == value.rounded(), Swift.abs(value) < 1e15 { return String(Int64(value)) }
            return "\(value)"
        case .integer(let value): return String(value)
        case .string(let value): return JSONValue.quote(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ", ") + "]"
        case .object(let pairs):
            return "{" + pairs.map { JSONValue.quote($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        case .null: return "null"
        }
    }

    static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
