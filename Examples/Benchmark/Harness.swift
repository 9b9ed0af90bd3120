import ExampleSupport
import Foundation

/// One benchmark: a name, what it measures, and a run that returns the fields of its JSON line.
struct Benchmark: Sendable {
    let name: String
    let summary: String
    let run: @Sendable () throws -> [(String, JSONValue)]
}

/// How many times each timed run is repeated; the best (smallest) time is reported, as by the peers.
let repeats = 3

/// The smallest of `repeats` measurements.
func best(_ measure: () throws -> Double) rethrows -> Double {
    var result = Double.infinity
    for _ in 0..<repeats { result = Swift.min(result, try measure()) }
    return result
}

/// The median of `count` measurements.
func median(of count: Int, _ measure: () throws -> Double) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<count { times.append(try measure()) }
    times.sort()
    return count % 2 == 1 ? times[count / 2] : (times[count / 2 - 1] + times[count / 2]) / 2
}

/// The process's peak resident memory since the last ``resetPeakMemory()``, in MiB (Linux: VmHWM).
func peakMemoryMiB() -> Double? { statusMiB("VmHWM:") }

/// The process's current resident memory in MiB (Linux: VmRSS).
func residentMemoryMiB() -> Double? { statusMiB("VmRSS:") }

/// A size from /proc/self/status (given there in kB), in MiB; nil where there is no such file or field.
private func statusMiB(_ field: String) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    let line = status.split(separator: "\n").first { $0.hasPrefix(field) }
    return line?.split(separator: " ").compactMap { Double($0) }.first.map { $0 / 1024 }
}

/// Resets the peak to the current resident size (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs).
func resetPeakMemory() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// A benchmark that could not run as designed.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
