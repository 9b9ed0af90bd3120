import ExampleSupport
import Foundation
import RNNODE

let benchmarks =
    integratorBenchmarks + stiffBenchmarks + trainingBenchmarks + inverseProblemBenchmarks + kernelBenchmarks
    + recurrentBenchmarks + diffEqFluxBenchmarks + [fusedMemoryBenchmark]

// A child process measuring one gradient's peak memory (see measureGradientMemory).
if CommandLine.arguments.count == 4 && CommandLine.arguments[1] == memoryProbeOption,
    let steps = Int(CommandLine.arguments[2])
{
    do {
        guard let strategy = memoryStrategies.first(where: { $0.name == CommandLine.arguments[3] })?.strategy else {
            throw BenchmarkError("unknown gradient strategy \(CommandLine.arguments[3])")
        }
        let (peak, seconds) = try gradientMemory(steps: steps, strategy: strategy)
        print(peak, seconds)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
}

// A child process measuring one fused training step's peak memory (see measureFusedMemory).
if CommandLine.arguments.count == 4 && CommandLine.arguments[1] == fusedMemoryProbeOption,
    let steps = Int(CommandLine.arguments[3])
{
    do {
        print(try fusedTrainingMemory(scheme: CommandLine.arguments[2], steps: steps))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(1)
    }
}

var cli = CommandLineInterface(
    command: "rnnode-bench",
    summary: "Runs RNNODE's benchmarks and prints one JSON line per benchmark. Build with -c release to time.")
cli.flag("list", help: "List the benchmarks and exit.")
cli.positional("NAME", help: "Benchmarks to run (default: all).")
let arguments = cli.parseOrExit()

if arguments.flag("list") {
    let width = benchmarks.map(\.name.count).max() ?? 0
    for benchmark in benchmarks {
        print(benchmark.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + benchmark.summary)
    }
    exit(0)
}
let unknown = arguments.positional.filter { name in !benchmarks.contains { $0.name == name } }
if !unknown.isEmpty {
    cli.exitWithUsageError("unknown benchmark \(unknown.joined(separator: ", ")); see --list")
}
let selected = arguments.positional.isEmpty ? benchmarks : benchmarks.filter { arguments.positional.contains($0.name) }
for benchmark in selected {
    do {
        let fields = try benchmark.run()
        print(JSONValue.object([("bench", .string(benchmark.name))] + fields).text)
    } catch {
        FileHandle.standardError.write(Data("rnnode-bench: \(benchmark.name) failed: \(error)\n".utf8))
        exit(1)
    }
}
