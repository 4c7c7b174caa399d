import BatonJSON
import XCTest

/// Issue 12: every JSON error says where (line, column) and, when decoding, which field.
final class JSONErrorTests: XCTestCase {
    func syntax(_ text: String) -> JSONSyntaxError? {
        do { _ = try JSONValue.decode(Array(text.utf8)); return nil } catch { return error }
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        let cases: [(String, String)] = [
            ("{\n  \"a\": 1,\n  \"b\": 2 \"c\": 3\n}", #"line 3, column 10: expected ',' or '}', found '"'"#),
            ("[1, 2,\n 3", "line 2, column 3: expected ',' or ']', found the end of the text"),
            ("", "line 1, column 1: expected a value, found the end of the text"),
            ("{\"é\": tru}", "line 1, column 7: expected 'true'"),
            ("\n\n   nope", "line 3, column 4: expected a value, found 'nope'"),
            ("{\"a\":\"x\ny\"}", "line 1, column 8: a control character (a line break) inside a string; escape it"),
        ]
        for (text, expected) in cases { XCTAssertEqual(syntax(text)?.description, expected, text) }
    }

    func testTheExcerptQuotesTheLineAtFault() {
        XCTAssertEqual(syntax("{\"a\":1}\nlog line")?.withExcerpt,
                       #"line 2, column 1: unexpected text after the JSON value (found 'l'): "log line""#)
        XCTAssertEqual(syntax("")?.withExcerpt, "line 1, column 1: expected a value, found the end of the text")
    }

    func testFieldErrorsNameThePathAndWhatWasFound() throws {
        let doc = try JSONValue.decode(Array(#"{"cursor":42,"items":[{"status":"ok"},{"status":"ok"},{"status":"ok"},{"status":7}],"n":{"m":{"k":"s"}}}"#.utf8))
        let root = JSONField(doc)
        func message(_ read: () throws(JSONFieldError) -> Any) -> String {
            do { _ = try read(); return "no error" } catch { return error.description }
        }
        XCTAssertEqual(message { () throws(JSONFieldError) in try root["cursor"].optionalString() },
                       #""cursor": expected a string or null, got 42"#)
        XCTAssertEqual(message { () throws(JSONFieldError) in try root["items"][3]["status"].string() },
                       #""items[3].status": expected a string, got 7"#)
        XCTAssertEqual(message { () throws(JSONFieldError) in try Array(root["items"].elements())[3]["status"].string() },
                       #""items[3].status": expected a string, got 7"#)
        XCTAssertEqual(message { () throws(JSONFieldError) in try root["n"]["m"]["k"].integer() },
                       #""n.m.k": expected a whole number, got a string"#, "strings are named by kind, never quoted")
        XCTAssertEqual(message { () throws(JSONFieldError) in try root["missing"].bool() }, #""missing": expected true or false, got nothing"#)
        XCTAssertEqual(message { () throws(JSONFieldError) in try root.string() }, "expected a string, got an object")
        XCTAssertNil(try root["absent"].optionalInteger())
        XCTAssertEqual(try root["items"][0]["status"].string(), "ok")
    }

    func testBuiltValuesEncodeAsJSONSerializationWould() {
        let v: JSONValue = ["s": JSONValue("a\"b\n"), "n": JSONValue(Int64(12)), "d": JSONValue(0.0123), "whole": JSONValue(5.0),
                            "nan": JSONValue(Double.nan), "none": JSONValue(nil as String?), "list": JSONValue(["x", "y"]),
                            "t": true, "nested": ["k": 1]]
        XCTAssertEqual(v.text, #"{"d":0.0123,"list":["x","y"],"n":12,"nan":null,"nested":{"k":1},"none":null,"s":"a\"b\n","t":true,"whole":5}"#)
        XCTAssertEqual(JSONValue.parse(Array(v.text.utf8)), v, "round trip")
    }
}
