/// One word of a schedule line, quotes removed, with the column it starts at.
struct LineToken {
    var text: Substring
    var column: Int
    /// Any part of it was quoted: never an option, a field or a comment.
    var quoted: Bool
}

/// Splits a schedule line into words the way a shell would, minus everything a shell
/// does beyond quoting: `'single'` quotes are literal, `"double"` quotes take `\"` and
/// `\\`, a backslash outside quotes escapes the next character, and a word starting
/// with an unquoted `#` begins a comment that runs to the end of the line.
enum LineTokenizer {
    static func split(_ line: Substring) throws(ExpressionError) -> [LineToken] {
        var tokens: [LineToken] = []
        var current = ""
        var inWord = false
        var quoted = false
        var start = 0
        var column = 0
        var quote: Character? = nil
        var quoteColumn = 0
        var escape = false
        for ch in line {
            column += 1
            if escape {
                current.append(ch); escape = false; continue
            }
            if let q = quote {
                if ch == q { quote = nil }
                else if q == "\"" && ch == "\\" { escape = true }
                else { current.append(ch) }
                continue
            }
            if ch == " " || ch == "\t" {
                if inWord {
                    tokens.append(LineToken(text: Substring(current), column: start, quoted: quoted))
                    current = ""; inWord = false; quoted = false
                }
                continue
            }
            if !inWord {
                if ch == "#" { break }
                inWord = true; start = column
            }
            switch ch {
            case "'", "\"": quote = ch; quoted = true; quoteColumn = column
            case "\\": escape = true; quoted = true
            default: current.append(ch)
            }
        }
        if quote != nil {
            throw ExpressionError(column: quoteColumn, "unterminated \(quote == "'" ? "single" : "double") quote",
                                  hint: "close the quote on the same line")
        }
        if inWord { tokens.append(LineToken(text: Substring(current), column: start, quoted: quoted)) }
        return tokens
    }
}
