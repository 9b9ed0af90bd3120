import Testing

/// Expects the standard error of a failed exit test to contain `text` — the message of the
/// programmer-error check that stopped it (the library's checks print it in every build
/// configuration).
func expectPreconditionMessage(
    _ result: ExitTest.Result?, contains text: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let result else { return }
    let message = String(decoding: result.standardErrorContent, as: UTF8.self)
    #expect(message.contains(text), "standard error: \(message)", sourceLocation: sourceLocation)
}
