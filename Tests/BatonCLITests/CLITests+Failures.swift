import Foundation
import XCTest

/// What `invoke` says when a handler fails (issue 11.7).
extension CLITests {
    /// A schedule whose job runs `script` once, with no retries.
    func failingJob(_ script: String) throws -> String {
        let dir = try tempDir(files: ["handler.sh": "#!/bin/sh\n" + script + "\n"])
        chmod(dir + "/handler.sh", 0o755)
        try "@daily broken retries=0 \(dir)/handler.sh\n".write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
        return dir
    }

    func testTheFailureSummaryQuotesTheHandlersLastLogLine() throws {
        let dir = try failingJob("echo 'opening db' >&2; echo 'db locked' >&2; echo '' >&2; exit 3")
        let r = try baton(["invoke", "broken"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(#"slice 1 failed 1 time(s): exit status 3: last log line: "db locked""#), r.err)
    }

    func testAResultThatIsNotJSONShowsWhereAndSaysLogsBelongOnStderr() throws {
        let dir = try failingJob(#"echo 'sending 3 messages'; echo '{"cursor":null}'"#)
        let r = try baton(["invoke", "broken"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(#"line 1, column 1: expected a value, found 's': "sending 3 messages""#), r.err)
        XCTAssertTrue(r.err.contains("logs belong on stderr"), r.err)
    }

    /// Issue 12: a result of the wrong shape names the field by its path.
    func testAResultWithAWrongItemNamesItsPath() throws {
        let dir = try failingJob(#"echo '{"items":[{"id":"a","status":"sent"},{"id":"b","status":7}]}'"#)
        let r = try baton(["invoke", "broken"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains(#"result field "items[1].status": expected a string such as "failed", got 7"#), r.err)
    }

    /// Issue 12: a `--payload` that is not JSON says where, with the line at fault.
    func testABadPayloadSaysLineAndColumn() throws {
        let dir = try failingJob("exit 0")
        try "{\n  \"items\": [\"a\", \"b\"]\n  \"force\": true\n}\n".write(toFile: dir + "/p.json", atomically: true, encoding: .utf8)
        let r = try baton(["invoke", "broken", "--payload", dir + "/p.json"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains(#"is not JSON: line 3, column 3: expected ',' or '}', found '"': "  \"force\": true""#), r.err)
    }
}
