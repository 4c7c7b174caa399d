import BatonCore
import XCTest

final class ZoneRulesTests: XCTestCase {
    func testOffsetsAroundNewYorkTransitions() {
        let z = zone("America/New_York")
        XCTAssertEqual(z.offset(utc: instant("2026-03-08T06:59:59Z")), -5 * 3600)
        XCTAssertEqual(z.offset(utc: instant("2026-03-08T07:00:00Z")), -4 * 3600)
        XCTAssertEqual(z.offset(utc: instant("2026-11-01T05:59:59Z")), -4 * 3600)
        XCTAssertEqual(z.offset(utc: instant("2026-11-01T06:00:00Z")), -5 * 3600)
        // Far beyond the file's explicit transitions: the POSIX rule.
        XCTAssertEqual(z.offset(utc: instant("2091-07-01T12:00:00Z")), -4 * 3600)
        XCTAssertEqual(z.offset(utc: instant("2091-12-01T12:00:00Z")), -5 * 3600)
    }

    func testFoldPicksTheOccurrenceOfARepeatedTime() {
        let z = zone("America/New_York")
        let local = LocalFields(year: 2026, month: 11, day: 1, hour: 1, minute: 30).localSeconds
        XCTAssertEqual(z.utc(local: local, fold: false), instant("2026-11-01T01:30:00-04:00"))
        XCTAssertEqual(z.utc(local: local, fold: true), instant("2026-11-01T01:30:00-05:00"))
        XCTAssertEqual(z.local(utc: instant("2026-11-01T01:30:00-05:00")).fold, true)
        XCTAssertEqual(z.local(utc: instant("2026-11-01T01:30:00-04:00")).fold, false)
    }

    func testGapTimesAreImaginary() {
        let z = zone("America/New_York")
        XCTAssertTrue(z.isImaginary(local: LocalFields(year: 2026, month: 3, day: 8, hour: 2, minute: 30).localSeconds))
        XCTAssertFalse(z.isImaginary(local: LocalFields(year: 2026, month: 3, day: 8, hour: 3).localSeconds))
    }

    func testRejectsDamagedFiles() {
        XCTAssertThrowsError(try ZoneRules(identifier: "x", tzif: Array("TZif2".utf8)))
        XCTAssertThrowsError(try ZoneRules(identifier: "x", tzif: []))
    }
}
