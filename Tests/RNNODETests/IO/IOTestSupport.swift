import Foundation
import Testing

@testable import RNNODEIO
@testable import RNNODEIntegrators
@testable import RNNODEModels
@testable import RNNODEPlot
@testable import RNNODETensors

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A fresh empty directory under the system temporary directory, removed by `remove()`.
struct IOTestDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rnnode-io-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The names in the directory, sorted (hidden files included).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// What an XML parse of an SVG document found.
struct ParsedSVGDocument {
    /// Element names in document order.
    var elements: [String] = []
    /// Attributes of each element, in the same order.
    var attributes: [[String: String]] = []
    /// The text content of each `<text>` and `<title>` element.
    var texts: [String] = []
    /// The parser's error, if the document is not well-formed.
    var error: String?

    func count(_ name: String) -> Int { elements.filter { $0 == name }.count }

    /// Attributes of the elements called `name`.
    func attributes(of name: String) -> [[String: String]] {
        zip(elements, attributes).filter { $0.0 == name }.map(\.1)
    }
}

private final class SVGDocumentCollector: NSObject, XMLParserDelegate {
    var result = ParsedSVGDocument()
    private var textDepth = 0
    private var currentText = ""

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        result.elements.append(elementName)
        result.attributes.append(attributes)
        if elementName == "text" || elementName == "title" {
            textDepth += 1
            currentText = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if textDepth > 0 { currentText += string }
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
        qualifiedName: String?
    ) {
        if elementName == "text" || elementName == "title" {
            textDepth -= 1
            result.texts.append(currentText)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        result.error = "\(parseError)"
    }
}

/// Parses `text` with Foundation's `XMLParser`; `error` is set if it is not well-formed XML.
func parseSVGDocument(_ text: String) -> ParsedSVGDocument {
    let parser = XMLParser(data: Data(text.utf8))
    let collector = SVGDocumentCollector()
    parser.delegate = collector
    if !parser.parse() && collector.result.error == nil {
        collector.result.error = parser.parserError.map { "\($0)" } ?? "parse failed"
    }
    return collector.result
}

/// Whether two doubles have the same bits (distinguishes -0.0 from 0.0; any NaN equals any NaN).
func bitwiseEqualDoubles(_ a: Double?, _ b: Double?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let a?, let b?): return (a.isNaN && b.isNaN) || a.bitPattern == b.bitPattern
    default: return false
    }
}

/// A file of Tests/RNNODETests/Fixtures/malformed (see the README there).
func malformedFixture(_ name: String) throws -> URL {
    let file = URL(fileURLWithPath: name)
    return try #require(
        Bundle.module.url(
            forResource: file.deletingPathExtension().lastPathComponent, withExtension: file.pathExtension,
            subdirectory: "Fixtures/malformed"),
        "fixture \(name) is missing")
}
