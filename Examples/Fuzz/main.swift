// rnnode-fuzz: mutation fuzzing of every file reader, each case in a bounded child process.
//
// The parent runs children (this executable with --child) over ranges of case numbers. A child
// limits its own address space (setrlimit) and arms an alarm before each case, so a blow-up ends
// in a failed allocation and a hang in SIGALRM; it prints "start N" before and "done N …" after
// every case. When a child dies, the case it started last is the culprit: the parent regenerates
// that input (a pure function of seed, reader and case number), saves it, and continues with a
// new child after it.

import ExampleSupport
import Foundation
import RNNODE

var cli = CommandLineInterface(
    command: "rnnode-fuzz",
    summary: """
        Mutation fuzzing of RNNODE's file readers (npy, npz, CSV, word vectors, checkpoints, PyTorch weights).
        Every case runs in a child process with an address-space limit and a per-case alarm; a crash, a hang
        or a memory blow-up is reported and its input saved.
        """)
cli.option(
    "readers", placeholder: "LIST", default: "all",
    help: "Comma-separated readers: \(fuzzTargets.map(\.name).joined(separator: ", ")), or all.")
cli.option("cases", placeholder: "N", default: "1000", help: "Mutated cases per reader.")
cli.option("seed", placeholder: "S", default: "1", help: "The campaign's seed (cases are reproducible from it).")
cli.option("timeout", placeholder: "SECONDS", default: "10", help: "Per-case time limit.")
cli.option(
    "memory", placeholder: "MIB", default: "2048",
    help: "Address-space limit of each child process (0: none, e.g. under AddressSanitizer, which reserves terabytes).")
cli.option(
    "rss-factor", placeholder: "K",
    help: "Flag a case whose peak memory grows by more than K × its input size (default: 64; 128 for CSV)…")
cli.option("rss-floor", placeholder: "MIB", default: "64", help: "…and more than this many MiB.")
cli.option("corpus", placeholder: "DIR", help: "Run the files of DIR (unmutated) through every reader instead of mutated cases.")
cli.option("case", placeholder: "N", help: "Write case N of the first reader to --save and exit (to reproduce a failure).")
cli.option("save", placeholder: "FILE", help: "Where --case writes its input.")
cli.option("out", placeholder: "DIR", default: "fuzz-output", help: "Where failing inputs are saved.")
cli.option("batch", placeholder: "N", default: "500", help: "Cases per child process.")
cli.flag("json", help: "Print one JSON line per reader.")
cli.flag("quiet", help: "No progress lines.")
cli.flag("child", help: "(internal) Run cases in this process.")
cli.option("from", placeholder: "N", help: "(internal) First case of a child.")
cli.option("to", placeholder: "N", help: "(internal) End of a child's cases.")
cli.option("scratch", placeholder: "DIR", help: "(internal) A child's scratch folder.")
let arguments = cli.parseOrExit()

/// The options as numbers, or exit with a usage error.
@MainActor
func number(_ name: String) -> Int {
    do {
        guard let value = try arguments.int(name), value >= 0 else {
            cli.exitWithUsageError("--\(name) must be a non-negative integer")
        }
        return value
    } catch {
        cli.exitWithUsageError(error.description)
    }
}

let selected: [FuzzTarget] = {
    let list = arguments.string("readers") ?? "all"
    if list == "all" { return fuzzTargets }
    return list.split(separator: ",").map { name in
        guard let target = fuzzTargets.first(where: { $0.name == name }) else {
            cli.exitWithUsageError("unknown reader '\(name)'; the readers are \(fuzzTargets.map(\.name).joined(separator: ", "))")
        }
        return target
    }
}()
let seed = UInt64(number("seed"))
let corpus: [URL]? = arguments.string("corpus").map { path in
    let folder = URL(fileURLWithPath: path)
    guard let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
    else {
        cli.exitWithUsageError("cannot list the corpus folder \(path)")
    }
    return files.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// The input of case `index` for `target` (seed files cycled, then mutated; or a corpus file).
@MainActor
func input(_ target: FuzzTarget, _ seeds: [[UInt8]], _ index: Int) -> [UInt8] {
    if let corpus { return (try? [UInt8](Data(contentsOf: corpus[index]))) ?? [] }
    var generator = CaseGenerator(seed: seed, reader: fuzzTargets.firstIndex { $0.name == target.name }!, index: index)
    let base = seeds[index % seeds.count]
    let other = seeds[generator.below(seeds.count)]
    return target.mutate(base, other, &generator)
}

@MainActor
func seeds(of target: FuzzTarget) -> [[UInt8]] {
    do {
        let seeds = try target.seeds()
        guard !seeds.isEmpty else { cli.exitWithError("reader \(target.name) has no seeds") }
        return seeds
    } catch {
        cli.exitWithError("making the seeds of \(target.name) failed: \(error)")
    }
}

/// The process's peak resident memory (KiB).
@MainActor
func peakResidentKiB() -> Int {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

@MainActor
func writeLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

// MARK: - Child

if arguments.flag("child") {
    let target = selected[0]
    let seeds = corpus == nil ? seeds(of: target) : []
    if number("memory") > 0 {
        var limit = rlimit(rlim_cur: rlim_t(number("memory")) << 20, rlim_max: rlim_t(number("memory")) << 20)
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    }
    let scratch = URL(fileURLWithPath: arguments.string("scratch") ?? NSTemporaryDirectory())
    let file = scratch.appendingPathComponent(
        "case.\(target.name == "csv" ? "csv" : target.name == "word-vectors" ? "txt" : target.name == "npy" ? "npy" : "npz")")
    let timeout = UInt32(max(1, number("timeout")))
    for index in number("from")..<number("to") {
        let bytes = input(target, seeds, index)
        do {
            try Data(bytes).write(to: file)
        } catch {
            cli.exitWithError("cannot write the case file \(file.path): \(error)")
        }
        let before = peakResidentKiB()
        writeLine("start \(index)")
        alarm(timeout)
        var outcome = "ok"
        do { try target.run(file) } catch { outcome = "error" }
        alarm(0)
        writeLine("done \(index) \(outcome) \(bytes.count) \(peakResidentKiB() - before) \(peakResidentKiB())")
    }
    exit(0)
}

// MARK: - Parent

if let index = try? arguments.int("case") {
    guard let path = arguments.string("save") else { cli.exitWithUsageError("--case needs --save FILE") }
    let target = selected[0]
    do {
        try Data(input(target, corpus == nil ? seeds(of: target) : [], index)).write(to: URL(fileURLWithPath: path))
    } catch {
        cli.exitWithError("cannot write \(path): \(error)")
    }
    exit(0)
}

/// What one reader's campaign found.
struct Findings {
    var cases = 0, accepted = 0, refused = 0
    var crashes: [Int] = [], hangs: [Int] = [], blowUps: [Int] = []
    var peakKiB = 0
    var largestGrowthKiB = 0
    var seconds = 0.0
}

let out = URL(fileURLWithPath: arguments.string("out") ?? "fuzz-output")
let quiet = arguments.flag("quiet")
let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: "/proc/self/exe")
let floorKiB = number("rss-floor") << 10
var anyFailure = false

@MainActor
func save(_ target: FuzzTarget, _ seeds: [[UInt8]], _ index: Int, reason: String) {
    try? FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let name = "\(target.name)-\(corpus == nil ? "seed\(seed)-case\(index)" : corpus![index].lastPathComponent)"
    try? Data(input(target, seeds, index)).write(to: out.appendingPathComponent(name + ".bin"))
    try? Data((reason + "\n").utf8).write(to: out.appendingPathComponent(name + ".txt"))
}

for target in selected {
    let seeds = corpus == nil ? seeds(of: target) : []
    let total = corpus?.count ?? number("cases")
    var findings = Findings()
    let clock = Stopwatch()
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-fuzz-\(getpid())-\(target.name)")
    try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    var next = 0
    while next < total {
        let end = min(total, next + max(1, number("batch")))
        let process = Process()
        process.executableURL = executable
        var childArguments = [
            "--child", "--readers", target.name, "--seed", String(seed), "--from", String(next), "--to", String(end),
            "--timeout", String(number("timeout")), "--memory", String(number("memory")), "--scratch", scratch.path,
        ]
        if let path = arguments.string("corpus") { childArguments += ["--corpus", path] }
        process.arguments = childArguments
        let output = Pipe()
        process.standardOutput = output
        let errorFile = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = try? FileHandle(forWritingTo: errorFile)
        do {
            try process.run()
        } catch {
            cli.exitWithError("cannot start a child process: \(error)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var started: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.first == "start" {
                started = Int(parts[1])
            } else if parts.first == "done", parts.count == 6, let index = Int(parts[1]), let size = Int(parts[3]),
                let growth = Int(parts[4]), let peak = Int(parts[5])
            {
                started = nil
                findings.cases += 1
                if parts[2] == "ok" { findings.accepted += 1 } else { findings.refused += 1 }
                findings.peakKiB = max(findings.peakKiB, peak)
                findings.largestGrowthKiB = max(findings.largestGrowthKiB, growth)
                let factor = arguments.string("rss-factor") == nil ? target.memoryFactor : number("rss-factor")
                if growth > max(floorKiB, factor * size / 1024) {
                    findings.blowUps.append(index)
                    save(target, seeds, index, reason: "peak memory grew by \(growth) KiB for a \(size)-byte input")
                }
                next = index + 1
            }
        }
        if let culprit = started {
            findings.cases += 1
            let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            // The runtime's own line ("Fatal error: …", "failed to allocate …"), before its backtrace.
            let message =
                stderr.split(separator: "\n").first { $0.contains("error") || $0.contains("allocate") }.map(String.init)
                ?? String(stderr.prefix(300))
            let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : 0
            var reason: String
            if signal == SIGALRM {
                findings.hangs.append(culprit)
                reason = "no result within \(number("timeout")) s"
            } else if message.contains("allocate") {
                findings.blowUps.append(culprit)
                reason = "allocation failed under the \(number("memory")) MiB limit: \(message)"
            } else {
                findings.crashes.append(culprit)
                reason = "the child died (signal \(signal), status \(process.terminationStatus)): \(message)"
            }
            reason += "\n\n" + stderr
            save(target, seeds, culprit, reason: reason)
            if !quiet { cli.warn("\(target.name) case \(culprit): \(reason.prefix { $0 != "\n" })") }
            next = culprit + 1
        } else if process.terminationStatus != 0 || next < end {
            cli.exitWithError("a child for \(target.name) stopped without a failing case (status \(process.terminationStatus))")
        }
        if !quiet && corpus == nil {
            cli.warn("\(target.name): \(next) of \(total) cases, \(String(format: "%.1f", clock.seconds)) s")
        }
    }
    findings.seconds = clock.seconds
    let failed = !(findings.crashes.isEmpty && findings.hangs.isEmpty && findings.blowUps.isEmpty)
    anyFailure = anyFailure || failed
    if arguments.flag("json") {
        let fields: [(String, JSONValue)] = [
            ("reader", .string(target.name)), ("cases", .integer(findings.cases)), ("accepted", .integer(findings.accepted)),
            ("refused", .integer(findings.refused)), ("crashes", .integer(findings.crashes.count)),
            ("hangs", .integer(findings.hangs.count)), ("memory_blowups", .integer(findings.blowUps.count)),
            ("peak_rss_mib", .number(Double(findings.peakKiB) / 1024)),
            ("largest_case_growth_mib", .number(Double(findings.largestGrowthKiB) / 1024)),
            ("seconds", .number(findings.seconds)),
        ]
        writeLine(JSONValue.object(fields).text)
    } else {
        writeLine(
            "\(target.name): \(findings.cases) cases (\(findings.accepted) read, \(findings.refused) refused), "
                + "\(findings.crashes.count) crashes, \(findings.hangs.count) hangs, \(findings.blowUps.count) memory blow-ups; "
                + "peak RSS \(findings.peakKiB >> 10) MiB, largest growth in one case \(findings.largestGrowthKiB >> 10) MiB; "
                + String(format: "%.1f s", findings.seconds))
    }
}
if anyFailure {
    cli.warn("failing inputs are in \(out.path)")
    exit(1)
}
