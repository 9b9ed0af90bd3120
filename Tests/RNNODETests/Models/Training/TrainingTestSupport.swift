import Testing

/// Expects the standard error of a failed exit test to contain `text` — the message of the
/// precondition that stopped it. Only debug builds print precondition messages (optimized builds
/// trap without one), so elsewhere this checks nothing beyond the failure itself.
func expectPreconditionMessage(
    _ result: ExitTest.Result?, contains text: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #if DEBUG
    guard let result else { return }
    let message = String(decoding: result.standardErrorContent, as: UTF8.self)
    #expect(message.contains(text), "standard error: \(message)", sourceLocation: sourceLocation)
    #endif
}
