import BatonHandlerKit
import XCTest

/// Issue 12: a cursor the kit cannot read says where it went wrong.
final class CursorErrorTests: XCTestCase {
    func testABrokenCursorSaysWhere() {
        XCTAssertThrowsError(try Cursor.decode(#"{"v":1,"after":"a""#)) { e in
            XCTAssertEqual((e as? HandlerError)?.message,
                           "the cursor is not a JSON object this kit wrote: line 1, column 19: expected ',' or '}', found the end of the text")
        }
    }
}
