import Foundation
import Glibc
import XCTest

extension DaemonTests {
    /// A handler that writes "<job> start|end <epoch ms>" around a sleep of $1 seconds.
    func spanScript() throws -> String {
        let path = dir + "/span.sh"
        try """
            #!/bin/sh
            echo "$BATON_JOB start $(date +%s%3N)" >> "\(dir)/spans"
            sleep $1
            echo "$BATON_JOB end $(date +%s%3N)" >> "\(dir)/spans"
            echo '{"cursor":null}'
            """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// (job, start, end) of each slice that ran to its end.
    func spans() -> [(String, Int64, Int64)] {
        let lines = ((try? String(contentsOfFile: dir + "/spans", encoding: .utf8)) ?? "").split(separator: "\n")
        var open: [String: Int64] = [:]
        var out: [(String, Int64, Int64)] = []
        for l in lines {
            let f = l.split(separator: " ")
            guard f.count == 3, let t = Int64(f[2]) else { continue }
            if f[1] == "start" { open[String(f[0])] = t } else if let s = open.removeValue(forKey: String(f[0])) { out.append((String(f[0]), s, t)) }
        }
        return out
    }

    func testJobsSharingALockNeverRunSlicesAtOnce() throws {
        let span = try spanScript()
        try schedule("""
            * * * * * * lock-a lock=db overlap=skip \(span) 0.7
            * * * * * * lock-b lock=db overlap=skip \(span) 0.7
            """)
        let p = try daemon()
        try wait("both jobs to run several slices", seconds: 20) {
            let s = spans()
            return s.filter { $0.0 == "lock-a" }.count >= 2 && s.filter { $0.0 == "lock-b" }.count >= 2
        }
        stop(p)
        let all = spans().sorted { $0.1 < $1.1 }
        for (x, y) in zip(all, all.dropFirst()) {
            XCTAssertLessThanOrEqual(x.2, y.1, "\(x.0) ran \(x.1)–\(x.2) while \(y.0) started at \(y.1)")
        }
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("event=lock_wait"), log)
    }

    func testOnFailureStartsTheNamedJobWithTheFailedRunInItsPayload() throws {
        try """
            #!/bin/sh
            cat > "\(dir)/alert-input.json"
            echo '{"cursor":null}'
            """.write(toFile: dir + "/alert.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/alert.sh", 0o755)
        try schedule("""
            @yearly broken retries=0 on-failure=alert /bin/false
            @yearly alert \(dir)/alert.sh
            """)
        // From the command line: invoke follows on-failure= in the foreground.
        _ = try baton(["invoke", "broken"])
        let input = try XCTUnwrap(try? Data(contentsOf: URL(fileURLWithPath: dir + "/alert-input.json")), "the alert job did not run")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: input) as? [String: Any])
        let about = try XCTUnwrap((object["payload"] as? [String: Any])?["on_failure_of"] as? [String: Any])
        let failed = try XCTUnwrap(try runs().first { $0["job"] as? String == "broken" })
        XCTAssertEqual(about["run_id"] as? String, failed["run_id"] as? String)
        XCTAssertEqual(about["job"] as? String, "broken")
        XCTAssertEqual(about["status"] as? String, "failed")
        XCTAssertNotNil(about["counts"] as? [String: Any])
        XCTAssertTrue((about["error"] as? String ?? "").contains("failed"), "\(about)")
        XCTAssertEqual(try runs().first { $0["job"] as? String == "alert" }?["status"] as? String, "succeeded")
    }

    func testTheDaemonFollowsOnFailureToo() throws {
        try schedule("""
            * * * * * * flaky retries=0 overlap=skip on-failure=notify /bin/false
            @yearly notify /bin/true
            """)
        let p = try daemon()
        try wait("a notify run after a failed flaky run") {
            try runs().contains { $0["job"] as? String == "notify" && $0["status"] as? String == "succeeded" }
        }
        stop(p)
        let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("event=on_failure job=flaky"), log)
    }
}

extension DaemonTests {
    func testTwoJobsNamingEachOtherOnFailureDoNotPingPong() throws {
        try schedule("""
            @yearly ping retries=0 on-failure=pong /bin/false
            @yearly pong retries=0 on-failure=ping /bin/false
            """)
        _ = try baton(["invoke", "ping"])
        let all = try runs()
        XCTAssertEqual(all.filter { $0["job"] as? String == "ping" }.count, 1, "\(all)")
        XCTAssertEqual(all.filter { $0["job"] as? String == "pong" }.count, 1, "\(all)")
    }
}
