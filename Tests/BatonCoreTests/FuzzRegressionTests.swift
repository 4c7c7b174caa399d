import BatonCore
import Foundation
import XCTest

/// Replays every input in Tests/Fixtures/fuzz-regressions/ through the fuzzer's own
/// entry point: inputs that once crashed, hung or misbehaved stay fixed.
final class FuzzRegressionTests: XCTestCase {
    func testEverySavedInputRunsCleanly() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz-regressions").path
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertFalse(names.isEmpty)
        let zones = [ZoneRules.utc, zone("America/St_Johns"), zone("Australia/Lord_Howe"), zone("America/Havana")]
        for name in names {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/" + name))
            exerciseParsers(String(decoding: data, as: UTF8.self), zones: zones)
        }
    }
}
