import BatonEngine
import BatonJSON
import XCTest

/// The result parser and the JSON reader under it: strict, and every refusal names
/// the field at fault.
final class SliceResultTests: XCTestCase {
    func parse(_ text: String) throws -> SliceResult { try SliceResult.parse(Array(text.utf8)) }

    func testReadsEveryFieldOfTheProtocol() throws {
        let r = try parse(#"""
            {"cursor":"b:57","has_more":true,"total":1200,
             "counts":{"processed":15,"succeeded":14,"skipped":0,"failed":1},
             "items":[{"id":"lead_81","status":"failed","error":"provider 500"},{"id":7,"status":"sent"}],
             "retry_after_ms":0,"message":"15 recipients sent","future_field":{"x":[1,2]}}
            """#)
        XCTAssertEqual(r.cursor, "b:57")
        XCTAssertTrue(r.hasMore)
        XCTAssertEqual(r.total, 1200)
        XCTAssertEqual(r.counts.failed, 1)
        XCTAssertEqual(r.items.map(\.id), ["lead_81", "7"])
        XCTAssertEqual(r.items.first?.error, "provider 500")
        XCTAssertEqual(r.retryAfterMs, 0)
        XCTAssertEqual(r.message, "15 recipients sent")
    }

    /// Issue 11: items past 10,000 were dropped and long ids cut, so `baton retry` never
    /// redid them. Every item a result carries is kept as written.
    func testKeepsEveryItemAndEveryLongIdAsWritten() throws {
        let longId = String(repeating: "x", count: 3_000)
        let longError = String(repeating: "e", count: 5_000)
        var items = (0..<25_000).map { #"{"id":"i\#($0)","status":"failed"}"# }
        items.append(#"{"id":"\#(longId)","status":"failed","error":"\#(longError)"}"#)
        let r = try parse(#"{"cursor":null,"items":[\#(items.joined(separator: ","))]}"#)
        XCTAssertEqual(r.items.count, 25_001)
        XCTAssertEqual(r.items[24_999].id, "i24999")
        XCTAssertEqual(r.items.last?.id, longId)
        XCTAssertEqual(r.items.last?.error, longError)
    }

    func testHasMoreDefaultsToWhetherTheCursorIsNull() throws {
        XCTAssertTrue(try parse(#"{"cursor":"x"}"#).hasMore)
        XCTAssertFalse(try parse(#"{"cursor":null}"#).hasMore)
        XCTAssertFalse(try parse(#"{}"#).hasMore)
        XCTAssertFalse(try parse("  \n").hasMore, "no output means done")
        XCTAssertFalse(try parse(#"{"cursor":"x","has_more":false}"#).hasMore)
    }

    func testRefusalsNameTheFieldAndWhatWasExpected() {
        let cases: [(String, String)] = [
            (#"{"cursor":5}"#, #"result field "cursor": expected a string or null, got 5"#),
            (#"{"has_more":"yes"}"#, #"result field "has_more": expected true or false, got a string"#),
            (#"{"total":-1}"#, #"result field "total": expected a whole number of 0 or more, got -1"#),
            (#"{"total":1.5}"#, #"result field "total": expected a whole number of 0 or more, got 1.5"#),
            (#"{"counts":{"processed":"3"}}"#, #"result field "counts.processed": expected a whole number of 0 or more, got a string"#),
            (#"{"items":[{"id":"a","status":"done"},{"id":"b"}]}"#, #"result field "items[1].status": expected a string such as "failed", got nothing"#),
            (#"{"items":[{"id":"a","status":"done"},{"id":"b","status":"done"},{"id":"c","status":"done"},{"id":"d","status":42}]}"#,
             #"result field "items[3].status": expected a string such as "failed", got 42"#),
            (#"{"items":[{"id":true,"status":"done"}]}"#, #"result field "items[0].id": expected a string, got true"#),
            (#"{"items":{}}"#, #"result field "items": expected an array of {"id","status"}, got an object"#),
            (#"{"usage":{"cost_usd":-1}}"#, #"result field "usage.cost_usd": expected a number of US dollars, 0 or more, got -1"#),
            (#"[1,2]"#, "stdout holds an array, not a JSON object"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try parse(text), text) { XCTAssertEqual(($0 as? ResultError)?.message, message, text) }
        }
        XCTAssertThrowsError(try parse(#"{"cursor":5}"#)) {
            XCTAssertEqual(($0 as? ResultError)?.hint, "fix the handler's output; the slice is retried with the same cursor")
        }
    }

    /// Issue 11.7: a result that is not JSON says where, quotes the line, and says that
    /// logs belong on stderr (the usual cause: a handler printing progress to stdout).
    func testANonJSONResultNamesLineColumnAndTheLineAtFault() {
        let cases: [(String, String)] = [
            ("not json", #"stdout is not one JSON object: line 1, column 1: expected a value, found 'not': "not json"; logs belong on stderr"#),
            ("loading 5 leads\n{\"cursor\":\"5\"}\n",
             #"line 1, column 1: expected a value, found 'l': "loading 5 leads"; logs belong on stderr (>&2)"#),
            ("{\"cursor\":\"5\"}\ndone: 5 sent\n", #"line 2, column 1: unexpected text after the JSON value (found 'd'): "done: 5 sent""#),
            (#"{"cursor":"a"}{"cursor":"b"}"#, #"line 1, column 15: unexpected text after the JSON value (found '{')"#),
            ("{\"cursor\": \"b:57\",\n \"has_more\": true\n \"total\": 1200}",
             #"line 3, column 2: expected ',' or '}', found '"': " \"total\": 1200}""#),
            ("{\"cursor\": \"é\" \"x\"}", "line 1, column 16: expected ',' or '}', found '\"'"),
            (#"{"cursor":"a"#, #"line 1, column 11: the string never ends (no closing '"')"#),
            (#"{"total":1.}"#, "line 1, column 12: expected a digit after '.', found '}'"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text) {
                let message = ($0 as? ResultError)?.message ?? ""
                XCTAssertTrue(message.contains(expected), "\(message)\n  does not contain\n\(expected)")
            }
        }
    }

    func testTheJSONReaderIsStrict() {
        let valid = [#"{"a":-0}"#, #"{"a":1e5}"#, #"{"a":1.5E-3}"#, #"{"a":12345678901234567}"#, #"{"a":"\u00e9\ud83d\ude00\n\"\\\/"}"#,
                     #"{"a":[true,false,null,{},[]]}"#, " {\"a\" : 1 } \n"]
        for v in valid { XCTAssertNotNil(JSONValue.parse(Array(v.utf8)), v) }
        let invalid = [#"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{'a':1}"#, #"{"a":1,}"#,
                       #"[1,]"#, #"{"a":"\ud800"}"#, #"{"a":"\x"}"#, "{\"a\":\"tab\there\"}", #"{"a":tru}"#, #"{"a":1} x"#, "",
                       String(repeating: "[", count: 100) + String(repeating: "]", count: 100)]
        for v in invalid { XCTAssertNil(JSONValue.parse(Array(v.utf8)), v) }
        XCTAssertEqual(JSONValue.parse(Array(#"{"a":"\u00e9\ud83d\ude00"}"#.utf8)), .object(["a": .string("é😀")]))
        XCTAssertNil(JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8 inside a string")
    }

    func testNumbersPassThroughExactly() {
        for n in ["9007199254740993", "12345678901234567890", "1e400", "-0", "1.50"] {
            let text = #"{"n":"# + n + "}"
            XCTAssertEqual(JSONValue.parse(Array(text.utf8))?.text, text, n)
        }
    }

    func testTextRoundTrips() {
        let v = JSONValue.object(["k": .array([.string("q\"\n\u{1}"), .number("3"), .bool(true), .null])])
        XCTAssertEqual(JSONValue.parse(Array(v.text.utf8)), v)
    }
}
