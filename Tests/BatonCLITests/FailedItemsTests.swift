import Foundation
import XCTest

/// Issue 11 §3 and §4.2, §4.8: a run whose items failed is not a success; the follow-up
/// commands baton prints work as printed; `baton retry` links the runs and does not
/// offer the same items twice.
final class FailedItemsTests: XCTestCase {
    var ws: Workspace!

    override func setUpWithError() throws {
        ws = try Workspace(self)
        // Two slices; 5 items, of which the retry payload's are redone. Items whose id
        // is in FAIL fail; "u" is an unknown send. Each item done is appended to a ledger.
        try ws.write("items.sh", #"""
            #!/bin/sh
            input=$(cat)
            echo "$input" | grep -o '"items":\[[^]]*\]' >> "$BATON_DIR/payloads"
            if echo "$input" | grep -q '"retry_of"'; then
              echo '{"cursor":null,"counts":{"processed":2,"succeeded":2},"items":[{"id":"b","status":"succeeded"},{"id":"c","status":"succeeded"}]}'
            elif [ -z "$BATON_CURSOR" ]; then
              echo "slice one log line" >&2
              echo '{"cursor":"2","counts":{"processed":3,"succeeded":2,"failed":1},"items":[{"id":"b","status":"failed","error":"provider 500"},{"id":"u","status":"unknown","error":"timeout after send"}]}'
            else
              echo '{"cursor":null,"counts":{"processed":2,"succeeded":1,"failed":1},"items":[{"id":"c","status":"failed","error":"bounced"}]}'
            fi
            """#, executable: true)
        try ws.write("notify.sh", #"""
            #!/bin/sh
            cat > "$BATON_DIR/notified"
            """#, executable: true)
        try ws.write("schedules/a.cron", """
            BATON_DIR=\(ws.dir)
            @daily strict      on-failure=notify \(ws.dir)/items.sh
            @daily lenient     tolerate=2        \(ws.dir)/items.sh
            @daily share       tolerate=40%      \(ws.dir)/items.sh
            @daily notify      \(ws.dir)/notify.sh
            @daily clean       \(ws.dir)/notify.sh

            """)
    }

    func testARunWithFailedItemsFailsItsInvokeAndStartsOnFailure() throws {
        let r = try ws.baton(["invoke", "strict"])
        XCTAssertEqual(r.status, 1, "a run with failed items is a failure: \(r.err)")
        XCTAssertTrue(r.err.contains("run r_") && r.err.contains(" failed after 2 slice(s)"), r.err)
        XCTAssertTrue(r.err.contains("2 item(s) failed, more than tolerate=0 allows"), r.err)
        XCTAssertFalse(r.err.contains("baton resume"), "nothing is left to resume: \(r.err)")
        let notified = try String(contentsOfFile: ws.dir + "/notified", encoding: .utf8)
        XCTAssertTrue(notified.contains(#""on_failure_of""#) && notified.contains(#""status":"failed""#), notified)
        let strict = try XCTUnwrap(ws.runs().first { $0["job"] as? String == "strict" })
        XCTAssertEqual(strict["status"] as? String, "failed")
    }

    func testTolerateAsACountAndAsAShareOfProcessedItems() throws {
        XCTAssertEqual(try ws.baton(["invoke", "lenient"]).status, 0, "2 failed of 5, tolerate=2")
        XCTAssertEqual(try ws.baton(["invoke", "share"]).status, 0, "2 failed of 5 is 40%, tolerate=40%")
        try ws.write("schedules/a.cron", "@daily share tolerate=39% \(ws.dir)/items.sh\n")
        XCTAssertEqual(try ws.baton(["invoke", "share"]).status, 1, "40% failed is more than 39%")
        try ws.write("schedules/a.cron", "@daily share tolerate=lots \(ws.dir)/items.sh\n")
        let check = try ws.baton(["check"])
        XCTAssertEqual(check.status, 2)
        XCTAssertTrue(check.err.contains("a.cron:1:") && check.err.contains("tolerate 'lots'") && check.err.contains("hint:"), check.err)
    }

    func testShowAndResumeSayTheItemsFailedAndTheRetryLineWorksAsPrinted() throws {
        let invoke = try ws.baton(["invoke", "strict"])
        let id = try XCTUnwrap(ws.runs().first { $0["job"] as? String == "strict" }?["run_id"] as? String)
        let retryLine = try XCTUnwrap(Workspace.command(in: invoke.err, after: "item(s) failed:"), invoke.err)
        XCTAssertTrue(retryLine.contains("--schedules") && retryLine.contains("--state"), retryLine)

        let show = try ws.baton(["show", id])
        XCTAssertTrue(show.out.contains("2 items failed: baton retry \(id)"), show.out)
        XCTAssertTrue(show.out.contains("Unknown items (1)") && show.out.contains("--include-unknown"), show.out)

        let resume = try ws.baton(["resume", id])
        XCTAssertEqual(resume.status, 2, resume.err)
        XCTAssertTrue(resume.err.contains("reached its end") && resume.err.contains("baton retry \(id)"), resume.err)

        // Pasted from another directory, as printed: it finds the schedules and the state.
        let retry = try ws.paste(retryLine)
        XCTAssertEqual(retry.status, 0, retry.err)
        let payloads = try String(contentsOfFile: ws.dir + "/payloads", encoding: .utf8)
        XCTAssertTrue(payloads.contains(#""items":["b","c"]"#), "failed items only, no unknown one: \(payloads)")

        // The original links to its retry and offers its items no more.
        let retried = try XCTUnwrap(ws.runs().first { $0["trigger"] as? String == "retry" }?["run_id"] as? String)
        let linked = try ws.baton(["show", id])
        XCTAssertTrue(linked.out.contains("Retried by: \(retried) (succeeded)"), linked.out)
        XCTAssertTrue(linked.out.contains("2 items failed: retried by \(retried)"), linked.out)
        let again = try ws.baton(["retry", id])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("retried already by \(retried)"), again.err)
        XCTAssertEqual(try ws.runs().filter { $0["trigger"] as? String == "retry" }.count, 1, "no second retry run")
        let json = try ws.baton(["show", id, "--json"])
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["retried_by"] as? [String], [retried])
    }

    func testUnknownItemsAreRetriedOnlyWhenAskedAndACleanRunHasNothingToRetry() throws {
        try ws.write("only-unknown.sh", #"""
            #!/bin/sh
            input=$(cat)
            echo "$input" | grep -o '"items":\[[^]]*\]' >> "$BATON_DIR/payloads"
            echo '{"cursor":null,"counts":{"processed":1,"succeeded":1},"items":[{"id":"u","status":"unknown"}]}'
            """#, executable: true)
        try ws.write("schedules/b.cron", "BATON_DIR=\(ws.dir)\n@daily maybe \(ws.dir)/only-unknown.sh\n")
        _ = try ws.baton(["invoke", "maybe"])
        let id = try XCTUnwrap(ws.runs().first?["run_id"] as? String)
        let plain = try ws.baton(["retry", id])
        XCTAssertEqual(plain.status, 0)
        XCTAssertTrue(plain.err.contains("1 whose outcome is unknown") && plain.err.contains("--include-unknown"), plain.err)
        XCTAssertEqual(try ws.runs().count, 1, "nothing was retried")
        let asked = try ws.baton(["retry", id, "--include-unknown"])
        XCTAssertEqual(asked.status, 0, asked.err)
        let payloads = try String(contentsOfFile: ws.dir + "/payloads", encoding: .utf8)
        XCTAssertTrue(payloads.contains(#""items":["u"]"#), payloads)

        _ = try ws.baton(["invoke", "clean"])
        let clean = try XCTUnwrap(ws.runs().first { $0["job"] as? String == "clean" }?["run_id"] as? String)
        let none = try ws.baton(["retry", clean])
        XCTAssertTrue(none.err.contains("reported no failed items; nothing to retry"), none.err)
        XCTAssertFalse(none.err.contains("resume"), none.err)
    }
}
