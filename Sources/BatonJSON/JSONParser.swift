/// A strict RFC 8259 parser for `JSONValue`: exactly one value, optional surrounding
/// white space, nesting at most 64 deep. Foundation's JSONDecoder costs more than the
/// rest of a slice's bookkeeping; this is a single pass over the bytes. The first
/// refusal is kept with its byte offset, so a caller can say where the text went wrong.
struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0
    /// The innermost (first) refusal: where and what was expected.
    var failure: (at: Int, message: String)?

    static func parse(_ bytes: [UInt8]) -> Result<JSONValue, JSONSyntaxError> {
        var p = JSONParser(bytes: bytes)
        if let v = p.value() {
            p.skipSpace()
            if p.i == bytes.count { return .success(v) }
            _ = p.fail("unexpected text after the JSON value (\(p.found))") as JSONValue?
        }
        let (at, message) = p.failure ?? (p.i, "not JSON")
        return .failure(JSONSyntaxError(bytes, offset: at, message: message))
    }

    /// Records the first refusal; returns nil for the caller to pass up.
    mutating func fail<T>(_ message: String, at offset: Int? = nil) -> T? {
        if failure == nil { failure = (offset ?? i, message) }
        return nil
    }

    /// What stands at the current position, for "expected …, found …".
    var found: String {
        guard i < bytes.count else { return "found the end of the text" }
        return "found " + JSONSyntaxError.describe(bytes[i])
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value() -> JSONValue? {
        skipSpace()
        guard i < bytes.count else { return fail("expected a value, \(found)") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func literal(_ word: StaticString, _ v: JSONValue) -> JSONValue? {
        let n = word.utf8CodeUnitCount
        for k in 0..<n where i + k >= bytes.count || bytes[i + k] != word.utf8Start[k] {
            // "tru" is a typo of true; "not json" is no value at all.
            var end = i
            while end < bytes.count, end - i < 20, (bytes[end] | 0x20) >= 0x61, (bytes[end] | 0x20) <= 0x7A { end += 1 }
            let letters = String(decoding: bytes[i..<end], as: UTF8.self)
            return fail(word.description.hasPrefix(letters) ? "expected '\(word)'" : "expected a value, found '\(letters)'")
        }
        i += n
        return v
    }

    mutating func object() -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { return fail("nesting deeper than 64 levels") }
        i += 1
        var out: [String: JSONValue] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return fail("expected a \"key\" in double quotes, \(found)") }
            guard let key = string() else { return nil }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return fail("expected ':' after the key, \(found)") }
            i += 1
            guard let v = value() else { return nil }
            out[key] = v
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            return fail("expected ',' or '}', \(found)")
        }
    }

    mutating func array() -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { return fail("nesting deeper than 64 levels") }
        i += 1
        var out: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
        while true {
            guard let v = value() else { return nil }
            out.append(v)
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            return fail("expected ',' or ']', \(found)")
        }
    }

    mutating func hex4() -> UInt32? {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { return fail("expected 4 hex digits after \\u, \(found)") }
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: return fail("expected 4 hex digits after \\u, \(found)")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func string() -> String? {
        let opening = i
        i += 1
        var out = [UInt8]()
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                guard let s = String(validating: out, as: UTF8.self) else { return fail("the string is not valid UTF-8", at: opening) }
                i += 1
                return s
            }
            if c < 0x20 { return fail("a control character (\(JSONSyntaxError.describe(c))) inside a string; escape it") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            let escape = i
            i += 1
            guard i < bytes.count else { return fail("the string never ends (no closing '\"')", at: opening) }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                guard var u = hex4() else { return nil }
                if (0xD800...0xDBFF).contains(u) {
                    guard i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        return fail("a lone surrogate \\u escape; a pair is needed", at: escape)
                    }
                    i += 2
                    guard let low = hex4() else { return nil }
                    guard (0xDC00...0xDFFF).contains(low) else { return fail("a lone surrogate \\u escape; a pair is needed", at: escape) }
                    u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(u) {
                    return fail("a lone surrogate \\u escape; a pair is needed", at: escape)
                }
                guard let scalar = Unicode.Scalar(u) else { return fail("an invalid \\u escape", at: escape) }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: return fail("an invalid escape '\\\(JSONSyntaxError.printable(e))' in a string", at: escape)
            }
        }
        return fail("the string never ends (no closing '\"')", at: opening)
    }

    mutating func number() -> JSONValue? {
        let start = i
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else {
            return fail(i == start ? "expected a value, \(found)" : "expected a digit, \(found)")
        }
        if bytes[i] == 48 { i += 1 } else { while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 } }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { return fail("expected a digit after '.', \(found)") }
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { return fail("expected a digit in the exponent, \(found)") }
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 { i += 1 }
        }
        return .number(String(decoding: bytes[start..<i], as: UTF8.self))
    }
}
