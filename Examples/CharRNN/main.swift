// A character-level language model: Embedding → stacked GRU/LSTM/SimpleRNN → Dense, where each
// recurrent cell is a vector field integrated between characters by Euler, midpoint or RK4. With
// --scheme euler --dt 1 (the default) the cells are the classic ones; the other schemes give new
// recurrences from the same parameters. Trains on the public-domain text shipped in Resources/
// (see Resources/PROVENANCE.md) or on --text FILE, within a wall-clock budget, and reports bits per
// character on held-out text.

import ExampleSupport
import Foundation
import RNNODE

// MARK: - Options

let cli = {
    var cli = CommandLineInterface(
        command: "char-rnn",
        summary: """
            Trains a character-level language model whose recurrent cells are discretized vector fields. Prints
            progress, bits per character on held-out text and a sample; saves a checkpoint (resumable) and a
            learning-curve SVG into --out.
            """)
    cli.option("cell", placeholder: "KIND", default: "gru", help: "The recurrent cell: gru, lstm or rnn (tanh SimpleRNN).")
    cli.option(
        "scheme", placeholder: "NAME", default: "euler",
        help: "How each cell is integrated between characters: euler (the classic cell at --dt 1), midpoint or rk4.")
    cli.option("dt", placeholder: "DT", default: "1", help: "The time between two characters (the step size).")
    cli.option("hidden", placeholder: "H", default: "128", help: "Units per recurrent layer.")
    cli.option("layers", placeholder: "L", default: "2", help: "Stacked recurrent layers.")
    cli.option("embedding", placeholder: "E", default: "32", help: "Size of the character embedding.")
    cli.option("seq-len", placeholder: "T", default: "64", help: "Characters per training sequence (backpropagation length).")
    cli.option("batch", placeholder: "B", default: "32", help: "Sequences per training batch.")
    cli.option("minutes", placeholder: "M", default: "5", help: "Wall-clock budget for training, in minutes.")
    cli.option("steps", placeholder: "N", help: "Stop after this many training steps in total (default: only the time budget).")
    cli.option("lr", placeholder: "RATE", default: "0.002", help: "Adam's learning rate.")
    cli.option("seed", placeholder: "S", default: "0", help: "Seeds the initialization, the batches and the sample.")
    cli.option("temperature", placeholder: "T", default: "0.7", help: "Sampling temperature (lower: more conservative).")
    cli.option("sample-length", placeholder: "N", default: "400", help: "Characters to sample at the end.")
    cli.option(
        "eval-chars", placeholder: "N", default: "20000",
        help: "Held-out characters on which bits per character are measured (from the start of the held-out 10%).")
    cli.option("text", placeholder: "FILE", help: "Train on this UTF-8 text instead of the bundled corpus.")
    cli.option("out", placeholder: "DIR", default: "char-rnn-output", help: "Folder for checkpoint.npz and bpc.svg.")
    cli.option("checkpoint-every", placeholder: "SECONDS", default: "60", help: "Save a checkpoint this often while training.")
    cli.flag("resume", help: "Continue from DIR/checkpoint.npz (same --cell, --hidden, --layers, --embedding).")
    cli.flag("json", help: "Print {\"bpc\", \"seconds\", \"chars_per_s\"} as the last line.")
    cli.flag("quiet", help: "No progress or summary (errors and --json still print).")
    return cli
}()
let arguments = cli.parseOrExit()
func fail(_ message: String) -> Never { cli.exitWithUsageError(message) }
let quiet = arguments.flag("quiet")
func say(_ text: String) { if !quiet { print(text) } }

struct Settings {
    var cell: String
    var scheme: ButcherTableau
    var dt: Float
    var hidden: Int
    var layers: Int
    var embedding: Int
    var sequenceLength: Int
    var batch: Int
    var seconds: Double
    var maxSteps: Int?
    var learningRate: Float
    var seed: UInt64
    var temperature: Float
    var sampleLength: Int
    var evalCharacters: Int
    var checkpointEvery: Double
    var output: URL
}

let settings: Settings
do {
    let schemes: [String: ButcherTableau] = ["euler": .euler, "midpoint": .midpoint, "rk4": .rk4]
    let schemeName = arguments.string("scheme")!.lowercased()
    guard let scheme = schemes[schemeName] else { fail("unknown --scheme '\(schemeName)'; choose euler, midpoint or rk4") }
    let cell = arguments.string("cell")!.lowercased()
    guard ["gru", "lstm", "rnn"].contains(cell) else { fail("unknown --cell '\(cell)'; choose gru, lstm or rnn") }
    func positive(_ name: String) throws -> Int {
        let value = try arguments.int(name)!
        guard value > 0 else { fail("--\(name) must be positive, got \(value)") }
        return value
    }
    let dt = try arguments.double("dt")!
    guard dt > 0 && dt.isFinite else { fail("--dt must be positive, got \(dt)") }
    let minutes = try arguments.double("minutes")!
    guard minutes >= 0 else { fail("--minutes must be ≥ 0, got \(minutes)") }
    let steps = try arguments.int("steps")
    if let steps, steps < 0 { fail("--steps must be ≥ 0, got \(steps)") }
    let lr = try arguments.double("lr")!
    guard lr > 0 else { fail("--lr must be positive, got \(lr)") }
    let temperature = try arguments.double("temperature")!
    guard temperature > 0 else { fail("--temperature must be positive, got \(temperature)") }
    let sampleLength = try arguments.int("sample-length")!
    guard sampleLength >= 0 else { fail("--sample-length must be ≥ 0") }
    settings = Settings(
        cell: cell, scheme: scheme, dt: Float(dt), hidden: try positive("hidden"), layers: try positive("layers"),
        embedding: try positive("embedding"), sequenceLength: try positive("seq-len"), batch: try positive("batch"),
        seconds: minutes * 60, maxSteps: steps, learningRate: Float(lr), seed: UInt64(try arguments.int("seed")!),
        temperature: Float(temperature), sampleLength: sampleLength, evalCharacters: try positive("eval-chars"),
        checkpointEvery: try arguments.double("checkpoint-every")!,
        output: URL(fileURLWithPath: arguments.string("out")!, isDirectory: true))
} catch {
    fail("\(error)")
}

// MARK: - Text

let text: String
let textSource: String
if let path = arguments.string("text") {
    guard let data = FileManager.default.contents(atPath: path) else { cli.exitWithError("cannot read --text '\(path)'") }
    guard let decoded = String(data: data, encoding: .utf8) else { cli.exitWithError("'\(path)' is not UTF-8 text") }
    (text, textSource) = (decoded, path)
} else {
    guard let url = Bundle.module.url(forResource: "corpus", withExtension: "txt"),
        let data = FileManager.default.contents(atPath: url.path), let decoded = String(data: data, encoding: .utf8)
    else { cli.exitWithError("the bundled corpus is missing from the executable's resources") }
    (text, textSource) = (decoded, "the bundled corpus (Examples/CharRNN/Resources/PROVENANCE.md)")
}
guard text.count > 10 * (settings.sequenceLength + 1) else {
    cli.exitWithError("the text has \(text.count) characters: too short for --seq-len \(settings.sequenceLength)")
}

// MARK: - Training

let checkpointURL = settings.output.appendingPathComponent("checkpoint.npz")

@MainActor func configuration(vocabulary: [Character]) -> [String: String] {
    [
        "cell": settings.cell, "hidden": "\(settings.hidden)", "layers": "\(settings.layers)",
        "embedding": "\(settings.embedding)", "vocabulary": String(vocabulary),
    ]
}

@MainActor func run<Cell: RecurrentCell>(makeCell: (Int, Int, inout SeededGenerator) -> Cell) throws where Cell.Scalar == Float {
    var corpus = Corpus(text: text, heldOutFraction: 0.1)
    var generator = SeededGenerator(seed: settings.seed)
    let integration = CellIntegration<Float>.fixed(settings.scheme, timeStep: settings.dt)
    var step = 0
    var optimizer = Adam<Float>(learningRate: settings.learningRate)
    var checkpoint: Checkpoint<Float>? = nil
    if arguments.flag("resume") {
        let saved = try Checkpoint<Float>(contentsOf: checkpointURL)
        for (key, value) in configuration(vocabulary: []) where key != "vocabulary" && saved.metadata[key] != value {
            fail("the checkpoint was trained with --\(key) \(saved.metadata[key] ?? "?"), not \(value)")
        }
        corpus = try Corpus(text: text, heldOutFraction: 0.1, vocabulary: Array(saved.metadata["vocabulary"] ?? ""))
        step = Int(saved.metadata["step"] ?? "") ?? 0
        checkpoint = saved
    }
    var model = CharModel(
        vocabularySize: corpus.vocabulary.count, embeddingSize: settings.embedding, hiddenSize: settings.hidden,
        layers: settings.layers, integration: integration, using: &generator, makeCell: makeCell)
    if let checkpoint {
        try checkpoint.restore(into: &model)
        try optimizer.restoreState(checkpoint.optimizerState, parameterShapes: model.parameters.map(\.shape))
        say("Resumed from \(checkpointURL.path) at step \(step)")
    }
    say(
        "char-rnn: \(settings.layers)×\(settings.cell.uppercased()) \(settings.hidden), \(settings.scheme.name) Δt \(settings.dt), "
            + "\(model.parameterCount) parameters; \(corpus.training.count) training and \(corpus.heldOut.count) held-out characters "
            + "(\(corpus.vocabulary.count) distinct) from \(textSource)")

    func save() throws {
        var metadata = configuration(vocabulary: corpus.vocabulary)
        metadata["step"] = "\(step)"
        metadata["scheme"] = settings.scheme.name
        metadata["dt"] = "\(settings.dt)"
        try Checkpoint(model: model, optimizerState: optimizer.savedState, metadata: metadata)
            .write(to: checkpointURL, createDirectories: true)
    }

    var batches = SeededGenerator(seed: settings.seed &+ 0x9E37_79B9 &+ UInt64(step))
    let clipping = GradientClipping<Float>.globalNorm(5)
    var progress = ProgressReporter(label: "char-rnn", total: settings.maxSteps, style: quiet ? .quiet : .automatic)
    var curve: [(seconds: Double, bpc: Double)] = []
    let start = Date()
    var lastSave = Date()
    var trainedCharacters = 0
    var stoppedOnNonFinite = false
    while Date().timeIntervalSince(start) < settings.seconds && step < (settings.maxSteps ?? Int.max) {
        let (inputs, targets) = corpus.batch(settings.batch, length: settings.sequenceLength, using: &batches)
        let tape = Tape<Float>()
        let (recorded, variables) = model.recorded(on: tape)
        let (loss, _) = try recorded.loss(inputs: inputs, targets: targets)
        var gradients = tape.gradients(of: loss, withRespectTo: variables)
        let norm = clipping.apply(to: &gradients)
        guard loss.scalar.isFinite && norm.isFinite else {
            cli.warn("step \(step + 1): the loss or its gradient is not finite; keeping the last good parameters")
            stoppedOnNonFinite = true
            break
        }
        var parameters = model.parameters
        optimizer.update(&parameters, gradients: gradients)
        model.parameters = parameters
        step += 1
        trainedCharacters += settings.batch * settings.sequenceLength
        let bpc = Double(loss.scalar) / Foundation.log(2)
        let elapsed = Date().timeIntervalSince(start)
        curve.append((elapsed, bpc))
        progress.update(
            step: step, loss: bpc,
            extra: "bpc  \(Int(Double(trainedCharacters) / Swift.max(elapsed, 1e-9))) chars/s  "
                + "\(Int(Swift.max(0, settings.seconds - elapsed)))s left")
        if Date().timeIntervalSince(lastSave) >= settings.checkpointEvery {
            try save()
            lastSave = Date()
        }
    }
    let trainingSeconds = Date().timeIntervalSince(start)
    progress.finish("\(step) steps in \(String(format: "%.1f", trainingSeconds)) s")
    try save()

    let evaluated = Array(corpus.heldOut.prefix(settings.evalCharacters + 1))
    let heldOutBPC = try model.bitsPerCharacter(evaluated, streams: 8, chunkLength: settings.sequenceLength)
    let charactersPerSecond = trainingSeconds > 0 ? Double(trainedCharacters) / trainingSeconds : 0
    say(
        String(
            format: "Held-out: %.3f bits per character on %d characters; trained %.1f s at %.0f characters/s",
            heldOutBPC, evaluated.count - 1, trainingSeconds, charactersPerSecond))
    // The trained first layer as the discrete cell and as an ODE between characters.
    let spacing = corpus.heldOut.count / 4
    let snippetLength = Swift.min(100, spacing)
    let snippets = (0..<4).map { s in Array(corpus.heldOut[(s * spacing)..<(s * spacing + snippetLength)]) }
    let drift = try compareDiscreteAndContinuous(
        model.recurrent.layers[0].cell, inputs: try model.embedding(snippets),
        integrations: [.fixed(.midpoint), .fixed(.rk4), .fixed(.rk4, substeps: 10), .adaptive(rtol: 1e-5, atol: 1e-7)])
    say("First layer on 4 held-out snippets of \(snippetLength) characters, \(drift)")
    if settings.sampleLength > 0 {
        var sampler = SeededGenerator(seed: settings.seed &+ 1)
        let prime = Array(corpus.heldOut.prefix(32))
        let sample = try model.sample(
            prime: prime, length: settings.sampleLength, temperature: settings.temperature, using: &sampler)
        say("Sample (temperature \(settings.temperature)) after \"\(corpus.text(prime))\":\n\(corpus.text(sample))\n")
    }

    var plot = Plot(
        title: "char-rnn: \(settings.cell.uppercased()) \(settings.scheme.name) Δt \(settings.dt)", xLabel: "seconds",
        yLabel: "bits per character")
    if !curve.isEmpty {
        // A running mean over 20 batches: single batches are noisy.
        let smoothed = curve.indices.map { i in
            curve[Swift.max(0, i - 19)...i].map(\.bpc).reduce(0, +) / Double(Swift.min(i + 1, 20))
        }
        plot.addLine(x: curve.map(\.seconds), y: smoothed, label: "training (20-batch mean)", color: .blue)
    }
    plot.addScatter(x: [trainingSeconds], y: [heldOutBPC], label: "held-out", color: .red)
    plot.legend = .topRight
    try plot.write(to: settings.output.appendingPathComponent("bpc.svg"), createDirectories: true)
    say("Wrote \(checkpointURL.path) and \(settings.output.appendingPathComponent("bpc.svg").path)")

    if arguments.flag("json") {
        print(
            JSONValue.object([
                ("bpc", .number(heldOutBPC)), ("seconds", .number(trainingSeconds)),
                ("chars_per_s", .number(charactersPerSecond)),
            ]).text)
    }
    if stoppedOnNonFinite { exit(1) }
}

do {
    switch settings.cell {
    case "lstm":
        try run { i, h, g in LSTMCell<Float>(inputSize: i, hiddenSize: h, using: &g) }
    case "rnn":
        try run { i, h, g in SimpleRNNCell<Float>(inputSize: i, hiddenSize: h, using: &g) }
    default:
        try run { i, h, g in GRUCell<Float>(inputSize: i, hiddenSize: h, using: &g) }
    }
} catch {
    cli.exitWithError("\(error)")
}
