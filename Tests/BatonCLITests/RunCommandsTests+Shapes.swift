import Foundation
import Glibc
import XCTest

/// One shape for the same data across commands (issue 11.9).
extension RunCommandsTests {
    /// A job whose one slice processes 2 of 3 items: 66.66…%.
    func twoOfThree(zone: String = "UTC") throws {
        try "#!/bin/sh\necho '{\"cursor\":null,\"total\":3,\"counts\":{\"processed\":2}}'\n"
            .write(toFile: dir + "/two.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/two.sh", 0o755)
        try "CRON_TZ=\(zone)\n@daily two \(dir)/two.sh\n".write(toFile: dir + "/schedules/b.cron", atomically: true, encoding: .utf8)
    }

    func testRunsOfAJobNoScheduleDefinesAndWithNoRunsIsAUsageError() throws {
        let (typo, _, typoErr) = try baton(["runs", "--job", "countr"])
        XCTAssertEqual(typo, 2, typoErr)
        XCTAssertTrue(typoErr.contains("no job named 'countr'") && typoErr.contains("did you mean 'counter'?"), typoErr)
        let (none, _, noneErr) = try baton(["runs", "--job", "zzz-nothing-like-it", "--json"])
        XCTAssertEqual(none, 2, noneErr)
        XCTAssertTrue(noneErr.contains("hint: list jobs with 'baton jobs'"), noneErr)
        let (known, out, knownErr) = try baton(["runs", "--job", "counter"])
        XCTAssertEqual(known, 0, knownErr)
        XCTAssertEqual(out, "no runs yet\n")
    }

    func testHintsForListingJobsNameBatonJobs() throws {
        for args in [["invoke", "zzz-nothing-like-it"], ["next", "zzz-nothing-like-it"], ["runs", "--job", "zzz-nothing-like-it"]] {
            let (status, _, err) = try baton(args)
            XCTAssertEqual(status, 2, err)
            XCTAssertTrue(err.contains("'baton jobs'") && !err.contains("'baton check'"), "\(args): \(err)")
        }
    }

    func testPercentReadsTheSameInRunsShowProgressAndJSON() throws {
        try twoOfThree()
        let (status, _, progress) = try baton(["invoke", "two"])
        XCTAssertEqual(status, 0, progress)
        XCTAssertTrue(progress.contains("; 66.6%, 2/3, 1 slice"), progress)
        let (_, runs, _) = try baton(["runs"])
        XCTAssertTrue(runs.contains("2/3 66.6%"), runs)
        let (_, json, _) = try baton(["runs", "--json"])
        let run = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?.first)
        XCTAssertEqual(run["percent"] as? Double, 66.6)
        let (_, shown, _) = try baton(["show", try XCTUnwrap(run["run_id"] as? String)])
        XCTAssertTrue(shown.contains("2/3 (66.6%)"), shown)
    }

    func testJobsShowsTheLastRunInTheZoneOfTheNextFire() throws {
        try twoOfThree(zone: "Asia/Kolkata")
        _ = try baton(["invoke", "two"])
        let (status, out, err) = try baton(["jobs"])
        XCTAssertEqual(status, 0, err)
        let row = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("two ") }, out)
        let times = row.split(separator: " ").filter { $0.count >= 20 && $0.dropFirst(10).hasPrefix("T") }
        XCTAssertEqual(times.count, 2, String(row))
        XCTAssertTrue(times.allSatisfy { $0.hasSuffix("+05:30") }, String(row))
        let (_, json, _) = try baton(["jobs", "--json"])
        let two = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?.first { $0["job"] as? String == "two" })
        XCTAssertEqual(((two["last_run"] as? [String: Any])?["started_at"] as? String)?.hasSuffix("+05:30"), true, "\(two)")
    }
}
