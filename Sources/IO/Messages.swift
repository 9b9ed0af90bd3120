/// `text` as quoted in an error message: at most `limit` characters, longer text cut and ended
/// with `…`, so that a huge cell, value or header field gives a short message.
///
/// ```swift
/// abbreviated(String(repeating: "x", count: 100)).count   // 64
/// ```
func abbreviated(_ text: String, to limit: Int = 64) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
}
