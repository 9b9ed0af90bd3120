import Foundation

/// A small declarative command-line parser for the example executables: `--name value` options,
/// `--flag` switches and positional arguments, with generated `--help` and clear errors.
public struct CommandLineInterface: Sendable {
    struct Option: Sendable {
        let name: String
        let placeholder: String?  // nil for a flag
        let defaultValue: String?
        let help: String
    }

    public let command: String
    public let summary: String
    private var options: [Option] = []
    private var positionalHelp: (name: String, help: String)?

    public init(command: String, summary: String) {
        self.command = command
        self.summary = summary
        flag("help", help: "Show this help and exit.")
    }

    /// Declares `--name VALUE`.
    public mutating func option(_ name: String, placeholder: String, default defaultValue: String? = nil, help: String) {
        options.append(Option(name: name, placeholder: placeholder, defaultValue: defaultValue, help: help))
    }

    /// Declares the switch `--name`.
    public mutating func flag(_ name: String, help: String) {
        options.append(Option(name: name, placeholder: nil, defaultValue: nil, help: help))
    }

    /// Declares that positional arguments are accepted.
    public mutating func positional(_ name: String, help: String) {
        positionalHelp = (name, help)
    }

    public var helpText: String {
        var lines = [summary, "", "USAGE: \(command) [options]\(positionalHelp.map { " [\($0.name)...]" } ?? "")", ""]
        if let positionalHelp { lines += ["ARGUMENTS:", "  \(positionalHelp.name)  \(positionalHelp.help)", ""] }
        lines.append("OPTIONS:")
        let labels = options.map { "--\($0.name)" + ($0.placeholder.map { " \($0)" } ?? "") }
        let width = labels.map(\.count).max() ?? 0
        for (option, label) in zip(options, labels) {
            var text = option.help
            if let value = option.defaultValue { text += " (default: \(value))" }
            lines.append("  " + label.padding(toLength: width + 2, withPad: " ", startingAt: 0) + text)
        }
        return lines.joined(separator: "\n")
    }

    /// Parses `arguments` (without the program name).
    public func parse(_ arguments: [String]) throws(CommandLineError) -> ParsedArguments {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var positional: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                guard positionalHelp != nil else { throw .unexpectedArgument(argument) }
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else { throw .unknownOption(argument) }
            if option.placeholder == nil {
                guard inlineValue == nil else { throw .unexpectedValue(option: name) }
                flags.insert(name)
            } else if let inlineValue {
                values[name] = inlineValue
            } else {
                guard index < arguments.count else { throw .missingValue(option: name) }
                values[name] = arguments[index]
                index += 1
            }
        }
        for option in options where option.placeholder != nil && values[option.name] == nil {
            values[option.name] = option.defaultValue
        }
        return ParsedArguments(values: values, flags: flags, positional: positional)
    }

    /// Parses the process's arguments; prints help and exits on `--help`, prints the error and the
    /// usage and exits with status 2 on bad arguments.
    public func parseOrExit() -> ParsedArguments {
        do {
            let parsed = try parse(Array(CommandLine.arguments.dropFirst()))
            if parsed.flag("help") {
                print(helpText)
                exit(0)
            }
            return parsed
        } catch {
            exitWithUsageError(error.description)
        }
    }

    /// Prints "command: message" to standard error.
    public func warn(_ message: String) {
        FileHandle.standardError.write(Data("\(command): \(message)\n".utf8))
    }

    /// Prints "command: message" to standard error and exits with status 1: a failure that is not the
    /// command line's fault.
    public func exitWithError(_ message: String) -> Never {
        warn(message)
        exit(1)
    }

    /// Prints `message` and a pointer to `--help` to standard error and exits with status 2.
    public func exitWithUsageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(command): \(message)\nRun '\(command) --help' for usage.\n".utf8))
        exit(2)
    }
}

/// A malformed command line.
public enum CommandLineError: Error, CustomStringConvertible {
    case unknownOption(String)
    case missingValue(option: String)
    case unexpectedValue(option: String)
    case unexpectedArgument(String)
    case invalidValue(option: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .unknownOption(let option): return "unknown option '\(option)'"
        case .missingValue(let option): return "option '--\(option)' needs a value"
        case .unexpectedValue(let option): return "switch '--\(option)' takes no value"
        case .unexpectedArgument(let argument): return "unexpected argument '\(argument)'"
        case .invalidValue(let option, let value, let expected):
            return "option '--\(option)': '\(value)' is not \(expected)"
        }
    }
}

/// The result of parsing: typed accessors for the declared options.
public struct ParsedArguments {
    let values: [String: String]
    let flags: Set<String>
    public let positional: [String]

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func string(_ name: String) -> String? { values[name] }

    public func double(_ name: String) throws(CommandLineError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw .invalidValue(option: name, value: text, expected: "a finite number")
        }
        return value
    }

    public func int(_ name: String) throws(CommandLineError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else { throw .invalidValue(option: name, value: text, expected: "an integer") }
        return value
    }

    /// A comma-separated, non-empty list of names from `choices` (case-insensitive, lower-cased),
    /// e.g. `lem,gru`.
    public func names(_ name: String, from choices: [String]) throws(CommandLineError) -> [String]? {
        guard let text = values[name] else { return nil }
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !names.isEmpty, names.allSatisfy(choices.contains) else {
            throw .invalidValue(
                option: name, value: text, expected: "a comma-separated list from \(choices.joined(separator: ", "))")
        }
        return names
    }

    /// A comma-separated list of numbers, e.g. `0.1,0.05,0.025`.
    public func doubles(_ name: String) throws(CommandLineError) -> [Double]? {
        guard let text = values[name] else { return nil }
        var result: [Double] = []
        for part in text.split(separator: ",") {
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw .invalidValue(option: name, value: text, expected: "a comma-separated list of numbers")
            }
            result.append(value)
        }
        return result
    }
}
