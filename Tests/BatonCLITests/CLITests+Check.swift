import Foundation
import XCTest

/// `baton check` on mistakes that used to hide others (issue 11.6).
extension CLITests {
    func testAnUnknownZoneIsReportedOnceAndItsJobsAreStillChecked() throws {
        let dir = try tempDir(files: ["schedules/a.cron": """
            CRON_TZ=Europe/Pariss
            @daily first   /bin/true
            @daily second  handlers/missing
            @daily third   on-failure=nobody /bin/true
            @daily fourth  budgte=1s /bin/true
            """])
        let r = try baton(["check"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertEqual(r.err.components(separatedBy: "unknown time zone 'Europe/Pariss'").count - 1, 1, r.err)
        XCTAssertTrue(r.err.contains("a.cron:1:9: error: unknown time zone 'Europe/Pariss'"), r.err)
        XCTAssertTrue(r.err.contains("a.cron:3:16: warning: command 'handlers/missing' does not exist"), r.err)
        XCTAssertTrue(r.err.contains("a.cron:4:1: error: on-failure=nobody names no job"), r.err)
        XCTAssertTrue(r.err.contains("a.cron:5:16: error: unknown option 'budgte'"), r.err)
        XCTAssertTrue(r.err.contains("3 error(s), 1 warning(s) in 1 file(s), 0 job(s)"), r.err)
    }

    func testANumericJobNameSaysItWasReadAsASixthField() throws {
        let dir = try tempDir(files: ["schedules/a.cron": "0 12 * * * 5 /bin/true\n"])
        let r = try baton(["check"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("a.cron:1:12: error: '5' was read as a sixth time field"), r.err)
        XCTAssertFalse(r.err.contains("not a valid job name"), r.err)
    }
}

extension CLITests {
    /// Issue 11.9: `--explain` writes dates and times padded, as the fire lines are.
    func testExplainPadsDatesAndTimes() throws {
        let r = try baton(["next", "30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00-05:00", "-n", "1", "--explain"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("the fire at 03:00 local on 2026-03-08 comes within an hour"), r.out)
    }
}
