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
}
