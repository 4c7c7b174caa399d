/// Where JSON text was refused and why: `line 3, column 17: expected ',' or '}', found '"'`.
/// Lines and columns count from 1; a column counts characters (UTF-8 sequences), not bytes.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the refusal in the text.
    public var offset: Int
    public var line: Int
    public var column: Int
    public var message: String
    /// The line at fault, cut to at most `excerptWidth` characters around the column,
    /// control characters shown as `?`; empty when the line is empty.
    public var excerpt: String

    static let excerptWidth = 60

    public var description: String { "line \(line), column \(column): \(message)" }

    /// `description` followed by the line at fault, quoted: what every surface (a
    /// handler's result, `--payload`, an API body, stdin of a kit handler) prints.
    public var withExcerpt: String {
        excerpt.isEmpty ? description : description + ": " + JSONValue.quote(excerpt)
    }

    init(_ bytes: [UInt8], offset: Int, message: String) {
        self.offset = min(max(offset, 0), bytes.count)
        self.message = message
        var lineStart = 0
        var line = 1
        for k in 0..<self.offset where bytes[k] == 0x0A { line += 1; lineStart = k + 1 }
        var lineEnd = self.offset
        while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
        self.line = line
        // UTF-8 continuation bytes (10xxxxxx) do not start a character.
        self.column = bytes[lineStart..<self.offset].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        let text = Array(String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
            .map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 })
        let from = max(0, min(column - 1 - Self.excerptWidth / 2, text.count - Self.excerptWidth))
        let to = min(text.count, from + Self.excerptWidth)
        excerpt = (from > 0 ? "…" : "") + String(text[from..<to]) + (to < text.count ? "…" : "")
    }

    /// A byte as a person reads it in a message: `'x'`, `a line break`, `byte 0xC3`.
    static func describe(_ b: UInt8) -> String {
        switch b {
        case 0x0A: "a line break"
        case 0x0D: "a carriage return"
        case 0x09: "a tab"
        case 0x20...0x7E: "'\(printable(b))'"
        default: "byte 0x" + String(b, radix: 16, uppercase: true)
        }
    }

    static func printable(_ b: UInt8) -> String {
        (0x20...0x7E).contains(b) ? String(UnicodeScalar(b)) : "?"
    }
}
