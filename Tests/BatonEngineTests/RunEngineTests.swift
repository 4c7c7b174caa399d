import BatonCore
import BatonEngine
import BatonStore
import Foundation
import XCTest

/// The run engine with real processes and a real SQLite file.
final class RunEngineTests: XCTestCase {
    var fx: EngineFixture!

    override func setUp() async throws { fx = try EngineFixture() }
    override func tearDown() async throws { fx.cleanUp() }

    /// One item per slice; each item appends a line to a ledger.
    func chain(limit: Int, sleep: String = "0") throws -> String {
        try fx.script("chain.sh", """
            c=${BATON_CURSOR:-0}
            echo "item $c run $BATON_RUN_ID slice $BATON_SLICE attempt $BATON_ATTEMPT" >> "\(fx.dir)/ledger"
            sleep \(sleep)
            n=$((c + 1))
            if [ "$n" -ge \(limit) ]; then echo '{"cursor":null,"total":\(limit),"counts":{"processed":1,"succeeded":1}}'
            else echo "{\\"cursor\\":\\"$n\\",\\"total\\":\(limit),\\"counts\\":{\\"processed\\":1,\\"succeeded\\":1}}"; fi
            """)
    }

    func testTwentySliceChainProcessesEachItemExactlyOnceUnderOneRunID() async throws {
        let run = try await fx.run(fx.job([try chain(limit: 20)]))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(run.slicesDone, 20)
        XCTAssertEqual(run.counts.processed, 20)
        XCTAssertEqual(run.total, 20)
        let lines = fx.read("ledger").split(separator: "\n")
        XCTAssertEqual(lines.map { $0.split(separator: " ")[1] }, (0..<20).map { Substring(String($0)) })
        XCTAssertEqual(Set(lines.map { $0.split(separator: " ")[3] }), [Substring(run.id)])
        let slices = try await fx.store.slices(runId: run.id)
        XCTAssertEqual(slices.map(\.cursorIn), [nil] + (1..<20).map { String($0) })
        XCTAssertEqual(slices.last?.cursorOut, nil)
    }

    func testTempfailIsRetriedWithTheSameCursorAndTheNextAttempt() async throws {
        let handler = try fx.script("flaky.sh", """
            echo "$BATON_CURSOR/$BATON_ATTEMPT" >> "\(fx.dir)/seen"
            if [ "$BATON_CURSOR" = "a" ] && [ "$BATON_ATTEMPT" = "1" ]; then exit 75; fi
            if [ "$BATON_CURSOR" = "a" ]; then echo '{"cursor":null}'; else echo '{"cursor":"a"}'; fi
            """)
        let run = try await fx.run(fx.job([handler]))
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertEqual(fx.read("seen"), "/1\na/1\na/2\n")
        let slices = try await fx.store.slices(runId: run.id)
        XCTAssertEqual(slices.map(\.outcome), [.succeeded, .tempfail, .succeeded])
        XCTAssertEqual(slices[1].cursorIn, slices[2].cursorIn)
    }

    func testGarbageOutputFailsTheSliceWithAnErrorNamingTheProblemAndKeepsTheCursor() async throws {
        let handler = try fx.script("garbage.sh", "echo 'this is not json'")
        let run = try await fx.run(fx.job([handler]) { $0.retries = 1 }, cursor: "c1")
        XCTAssertEqual(run.status, .failed)
        XCTAssertEqual(run.cursor, "c1", "a failed slice never advances the cursor")
        let slices = try await fx.store.slices(runId: run.id)
        XCTAssertEqual(slices.count, 2)
        XCTAssertTrue(slices[0].error?.contains("not one JSON object") ?? false, slices[0].error ?? "")
        XCTAssertTrue(run.error?.contains("failed 2 time(s)") ?? false, run.error ?? "")
    }

    func testAWrongFieldTypeIsNamed() async throws {
        let handler = try fx.script("badfield.sh", #"echo '{"cursor":5}'"#)
        let run = try await fx.run(fx.job([handler]) { $0.retries = 0 })
        XCTAssertEqual(run.status, .failed)
        let error = try await fx.store.slices(runId: run.id).first?.error
        XCTAssertEqual(error, #"result field "cursor": expected a string or null, got 5"#)
    }

    func testTheEnvironmentHoldsOnlyWhatTheSpecAllows() async throws {
        let handler = try fx.script("env.sh", "env > \"\(fx.dir)/env\"; cat > \"\(fx.dir)/stdin\"")
        var job = fx.job([handler]) { $0.passEnv = ["SECRET_TOKEN", "NOT_SET"] }
        job.environment = [EnvironmentEntry(key: "APP_DB", value: "sqlite:var/app.db")]
        let engine = fx.engine(variables: ["PATH": "/usr/bin:/bin", "HOME": "/home/x", "LANG": "C.UTF-8", "USER": "x",
                                           "SECRET_TOKEN": "s3", "OTHER": "leak", "AWS_SECRET": "leak"])
        let run = try await engine.createRun(job: job, trigger: .manual, params: #"{"k":"v"}"#)
        _ = try await engine.drive(runId: run.id, job: job)
        var keys = Set(fx.read("env").split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        keys.remove("PWD")  // set by the shell itself
        keys.remove("SHLVL")
        keys.remove("_")
        XCTAssertEqual(keys, ["PATH", "HOME", "LANG", "USER", "TZ", "APP_DB", "SECRET_TOKEN", "BATON_JOB", "BATON_RUN_ID",
                              "BATON_SLICE", "BATON_ATTEMPT", "BATON_CURSOR", "BATON_TRIGGER", "BATON_SCHEDULED_AT",
                              "BATON_BUDGET_MS", "BATON_DEADLINE_MS"])
        let stdin = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fx.read("stdin").utf8)) as? [String: Any])
        XCTAssertEqual(stdin["version"] as? Int, 1)
        XCTAssertEqual(stdin["run_id"] as? String, run.id)
        XCTAssertEqual(stdin["trigger"] as? String, "manual")
        XCTAssertEqual(stdin["params"] as? [String: String], ["k": "v"])
        XCTAssertTrue(stdin["payload"] is NSNull)
        XCTAssertEqual(stdin["budget_ms"] as? Int, 55_000)
    }

    func testRetryAfterPausesWithoutSpendingARetry() async throws {
        let handler = try fx.script("ratelimited.sh", """
            if [ -z "$BATON_CURSOR" ]; then echo '{"cursor":"x","retry_after_ms":300}'; else echo '{"cursor":null}'; fi
            """)
        let t0 = Date()
        let run = try await fx.run(fx.job([handler]) { $0.retries = 0 })
        XCTAssertEqual(run.status, .succeeded)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.3)
    }

    func testMaxSlicesAndDeadlineEndThePartialWithTheCursorKept() async throws {
        let handler = try chain(limit: 100)
        let capped = try await fx.run(fx.job([handler]) { $0.maxSlices = 3 })
        XCTAssertEqual(capped.status, .partial)
        XCTAssertEqual(capped.cursor, "3")
        let slow = try chain(limit: 100, sleep: "0.3")
        let timed = try await fx.run(fx.job([slow]) { $0.deadline = .milliseconds(700) })
        XCTAssertEqual(timed.status, .partial)
        XCTAssertTrue(timed.error?.contains("deadline") ?? false, timed.error ?? "")
        XCTAssertNotNil(timed.cursor)
    }

    func testBudgetKillsAHangingHandlerAndTheRunFailsAfterItsRetries() async throws {
        let handler = try fx.script("hang.sh", "trap '' TERM; sleep 30")
        let t0 = Date()
        let run = try await fx.run(fx.job([handler]) { $0.budget = .milliseconds(300); $0.grace = .milliseconds(200); $0.retries = 1 })
        XCTAssertEqual(run.status, .failed)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        let slices = try await fx.store.slices(runId: run.id)
        XCTAssertEqual(slices.map(\.outcome), [.killed, .killed])
        XCTAssertTrue(slices[0].error?.contains("SIGKILL") ?? false, slices[0].error ?? "")
    }

    func testAHandlerThatHonoursSIGTERMHandsBackItsCursorAtTheBudget() async throws {
        let handler = try fx.script("polite.sh", """
            trap 'echo "{\\"cursor\\":\\"$((${BATON_CURSOR:-0} + 1))\\",\\"has_more\\":true}"; exit 0' TERM
            if [ "${BATON_CURSOR:-0}" -ge 2 ]; then echo '{"cursor":null}'; exit 0; fi
            sleep 30 & wait
            """)
        let run = try await fx.run(fx.job([handler]) { $0.budget = .milliseconds(300); $0.retries = 0 })
        XCTAssertEqual(run.status, .succeeded)
        let cursors = try await fx.store.slices(runId: run.id).map(\.cursorOut)
        XCTAssertEqual(cursors, ["1", "2", nil])
    }

    func testCancelTerminatesTheSliceAndKeepsTheCommittedCursor() async throws {
        let handler = try chain(limit: 50, sleep: "0.2")
        let control = RunControl()
        Task { try await Task.sleep(for: .milliseconds(700)); control.request(.cancel) }
        let run = try await fx.run(fx.job([handler]), control: control)
        XCTAssertEqual(run.status, .cancelled)
        let done = Int(run.cursor ?? "0") ?? 0
        XCTAssertGreaterThan(done, 0)
        XCTAssertLessThan(done, 50)
    }

    func testACancelDuringARetryPauseStartsNoFurtherAttempt() async throws {
        let handler = try fx.script("temp.sh", """
            echo "attempt $BATON_ATTEMPT" >> "\(fx.dir)/attempts"
            echo '{"retry_after_ms":5000}'; exit 75
            """)
        let job = fx.job([handler])
        let engine = fx.engine()
        let run = try await engine.createRun(job: job, trigger: .manual)
        let store = fx.store
        let marker = fx.dir + "/attempts"
        Task {
            while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(20)) }
            _ = try await store.requestCancel(runId: run.id, at: 0)
        }
        let t0 = Date()
        let done = try await engine.drive(runId: run.id, job: job)
        XCTAssertEqual(done.status, .cancelled)
        XCTAssertEqual(fx.read("attempts"), "attempt 1\n")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 4)
        let running = try await store.slices(runId: run.id).filter { $0.outcome == .running }
        XCTAssertEqual(running.count, 0, "no start record left behind")
    }

    func testADeadlineEndsTheRunPartialNotFailedAndSpendsNoRetry() async throws {
        let handler = try fx.script("slow.sh", "sleep 5")
        let t0 = Date()
        let run = try await fx.run(fx.job([handler]) { $0.deadline = .milliseconds(600); $0.retries = 0; $0.grace = .milliseconds(100) })
        XCTAssertEqual(run.status, .partial, run.error ?? "")
        XCTAssertEqual(run.failedAttempts, 0)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 3)
    }

    func testPlainModeRunsAClassicCommand() async throws {
        let ok = try await fx.run(fx.job(["/bin/echo", "hello"]) { $0.mode = .plain })
        XCTAssertEqual(ok.status, .succeeded)
        let log = try await fx.store.slices(runId: ok.id).first?.log
        XCTAssertEqual(log, "hello\n")
        let bad = try await fx.run(fx.job(["/bin/false"]) { $0.mode = .plain; $0.retries = 0 })
        XCTAssertEqual(bad.status, .failed)
    }

    func testItemsAreStoredForRetry() async throws {
        let handler = try fx.script("items.sh", #"""
            echo '{"cursor":null,"counts":{"processed":3,"succeeded":1,"failed":2},"items":[{"id":"a","status":"sent"},{"id":"b","status":"failed","error":"provider 500"},{"id":"c","status":"failed"}]}'
            """#)
        let run = try await fx.run(fx.job([handler]))
        XCTAssertEqual(run.counts, Counts(processed: 3, succeeded: 1, skipped: 0, failed: 2))
        let failed = try await fx.store.items(runId: run.id, status: "failed")
        XCTAssertEqual(failed.map(\.itemId), ["b", "c"])
        XCTAssertEqual(failed.first?.error, "provider 500")
    }

    /// Issue 11: a run whose items failed is not a success, unless `tolerate=` allows it.
    func testFailedItemsFailTheRunBeyondTolerate() async throws {
        // Two slices: 10 processed with 1 failed, then 10 processed with 2 failed.
        let handler = try fx.script("items.sh", #"""
            if [ -z "$BATON_CURSOR" ]; then
              echo '{"cursor":"next","counts":{"processed":10,"succeeded":9,"failed":1},"items":[{"id":"a","status":"failed"}]}'
            else
              echo '{"cursor":null,"counts":{"processed":10,"succeeded":8,"failed":2},"items":[{"id":"b","status":"failed"},{"id":"c","status":"failed"}]}'
            fi
            """#)
        let strict = try await fx.run(fx.job([handler]))
        XCTAssertEqual(strict.status, .failed)
        XCTAssertTrue(strict.failedOnItems)
        XCTAssertEqual(strict.slicesDone, 2, "the run reached its end; no slice was retried")
        XCTAssertEqual(strict.error, "3 item(s) failed, more than tolerate=0 allows")
        XCTAssertNil(strict.owner, "a run that ended let go of itself")

        for (tolerance, expected) in [(Tolerance.count(3), RunStatus.succeeded), (.count(2), .failed),
                                      (.percent(15), .succeeded), (.percent(14.9), .failed)] {
            let run = try await fx.run(fx.job([handler]) { $0.tolerate = tolerance })
            XCTAssertEqual(run.status, expected, "tolerate=\(tolerance)")
            XCTAssertEqual(run.failedOnItems, expected == .failed)
        }

        // A run failed by its slices is not one failed on items.
        let crash = try await fx.run(fx.job(["/bin/false"]) { $0.retries = 0 })
        XCTAssertEqual(crash.status, .failed)
        XCTAssertFalse(crash.failedOnItems)
    }

    /// Issue 11 §4.3: a handler that cannot start failed its run at once, not after 30 s
    /// of retries with back-off.
    func testAHandlerThatCannotStartFailsTheRunAtOnceWithOneError() async throws {
        let notExecutable = try fx.script("plain.txt", "echo hi")
        chmod(notExecutable, 0o644)
        let missingInside = try fx.script("wrapper.sh", "exec /nonexistent/handler")
        let cases: [([String], String)] = [
            (["no-such-handler"], "cannot start 'no-such-handler': no executable file on PATH /usr/bin:/bin"),
            ([fx.dir + "/missing.sh"], "cannot start '\(fx.dir)/missing.sh': no executable file"),
            ([notExecutable], "cannot start '\(notExecutable)'"),
            ([missingInside], "exit status 127: the handler, or a command it runs, was not found"),
        ]
        for (command, message) in cases {
            let started = Date()
            // A back-off of a minute: any retry would show in the time taken.
            let run = try await fx.run(fx.job(command) { $0.backoff = .seconds(60); $0.retries = 5 })
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(command): retried?")
            XCTAssertEqual(run.status, .failed, "\(command)")
            XCTAssertFalse(run.failedOnItems)
            let error = try XCTUnwrap(run.error)
            XCTAssertTrue(error.contains(message) && error.contains("not retried"), error)
            let slices = try await fx.store.slices(runId: run.id)
            XCTAssertEqual(slices.count, 1, "\(command): one attempt, no retry")
        }
    }

    /// Issue 13: usage adds up per run (also from a slice that then failed: it was spent);
    /// max-tokens= ends the run partial with its cursor, and resume goes on once the
    /// limit is raised.
    func testUsageAddsUpAndMaxTokensEndsTheRunPartialUntilRaised() async throws {
        // 5 slices of 1,000 tokens each; the second slice's first attempt fails after spending 500.
        let handler = try fx.script("spend.sh", #"""
            c=${BATON_CURSOR:-0}
            if [ "$c" = 1 ] && [ "$BATON_ATTEMPT" = 1 ]; then
              echo '{"usage":{"input_tokens":400,"output_tokens":100,"cost_usd":0.0005}}'; exit 75
            fi
            n=$((c + 1))
            if [ "$n" -ge 5 ]; then cur=null; else cur="\"$n\""; fi
            printf '{"cursor":%s,"counts":{"processed":1,"succeeded":1},"usage":{"input_tokens":800,"output_tokens":200,"cost_usd":0.001}}\n' "$cur"
            """#)
        let free = try await fx.run(fx.job([handler]) { $0.retries = 3 })
        XCTAssertEqual(free.status, .succeeded)
        XCTAssertEqual(free.usage.inputTokens, 4_400, "5 slices of 800 and a failed attempt's 400")
        XCTAssertEqual(free.usage.outputTokens, 1_100)
        XCTAssertEqual(free.usage.costUsd, 0.0055, accuracy: 1e-9)
        let slices = try await fx.store.slices(runId: free.id)
        XCTAssertEqual(slices.first?.usage, TokenUsage(inputTokens: 800, outputTokens: 200, costUsd: 0.001))

        let capped = try await fx.run(fx.job([handler]) { $0.maxTokens = 2_500 })
        XCTAssertEqual(capped.status, .partial)
        XCTAssertEqual(capped.cursor, "2", "stopped with its cursor kept after 1,000 + 500 (failed) + 1,000 tokens")
        XCTAssertTrue(capped.error?.contains("max-tokens=2500 reached (2500 tokens spent)") ?? false, capped.error ?? "")

        // Resumed with the same limit: it stops again at once; raised: it finishes.
        let e = fx.engine()
        let same = fx.job([handler]) { $0.maxTokens = 2_500 }
        _ = try await e.reopen(runId: capped.id, job: same)
        let again = try await e.drive(runId: capped.id, job: same)
        XCTAssertEqual(again.status, .partial)
        XCTAssertEqual(again.slicesDone, capped.slicesDone, "no slice ran")
        let raised = fx.job([handler]) { $0.maxTokens = 100_000 }
        _ = try await e.reopen(runId: capped.id, job: raised)
        let done = try await e.drive(runId: capped.id, job: raised)
        XCTAssertEqual(done.status, .succeeded)
        XCTAssertEqual(done.usage.tokens, 5_500)

        let costly = try await fx.run(fx.job([handler]) { $0.maxCost = 0.002 })
        XCTAssertEqual(costly.status, .partial)
        XCTAssertTrue(costly.error?.contains("max-cost=0.002 reached") ?? false, costly.error ?? "")
    }

    /// The kit prints what a failed slice spent; it counts against the run's limits.
    func testAFailedSlicesReportedUsageCounts() async throws {
        let handler = try fx.script("fail-after-spending.sh", #"""
            echo '{"usage":{"input_tokens":700,"output_tokens":300}}'; echo "error: openai: authentication refused" >&2; exit 1
            """#)
        let run = try await fx.run(fx.job([handler]) { $0.retries = 1 })
        XCTAssertEqual(run.status, .failed)
        XCTAssertEqual(run.usage.tokens, 2_000, "two attempts of 1,000 tokens each")
    }

    func testABadUsageFieldIsNamed() throws {
        XCTAssertThrowsError(try SliceResult.parse(Array(#"{"usage":{"input_tokens":-3}}"#.utf8))) { e in
            XCTAssertTrue("\(e)".contains("usage.input_tokens"), "\(e)")
        }
        XCTAssertThrowsError(try SliceResult.parse(Array(#"{"usage":{"cost_usd":"free"}}"#.utf8))) { e in
            XCTAssertTrue("\(e)".contains("usage.cost_usd"), "\(e)")
        }
        XCTAssertThrowsError(try SliceResult.parse(Array(#"{"usage":12}"#.utf8)))
    }

    func testSpendLimitOptionsParse() throws {
        var o = JobOptions()
        try o.set("max-tokens", "200k")
        XCTAssertEqual(o.maxTokens, 200_000)
        try o.set("max-tokens", "2M")
        XCTAssertEqual(o.maxTokens, 2_000_000)
        try o.set("max-cost", "$1.50")
        XCTAssertEqual(o.maxCost, 1.5)
        for bad in ["0", "lots", "-5", "1.5k"] { XCTAssertThrowsError(try o.set("max-tokens", Substring(bad)), bad) }
        for bad in ["0", "free", "-1"] { XCTAssertThrowsError(try o.set("max-cost", Substring(bad)), bad) }
    }

    func testToleranceParsesCountsAndPercentagesAndRefusesTheRest() throws {
        XCTAssertEqual(try Tolerance.parse("0"), .count(0))
        XCTAssertEqual(try Tolerance.parse("25"), .count(25))
        XCTAssertEqual(try Tolerance.parse("2%"), .percent(2))
        XCTAssertEqual(try Tolerance.parse("0.5%"), .percent(0.5))
        for bad in ["", "-1", "abc", "101%", "%", "1.5", "5 %"] {
            XCTAssertThrowsError(try Tolerance.parse(Substring(bad)), bad) { e in
                XCTAssertNotNil((e as? ExpressionError)?.hint, bad)
            }
        }
        XCTAssertTrue(Tolerance.percent(10).allows(failed: 1, processed: 10))
        XCTAssertFalse(Tolerance.percent(10).allows(failed: 2, processed: 10))
        XCTAssertFalse(Tolerance.none.allows(failed: 1, processed: 1_000_000))
    }

    func testBackoffDoublesWithFullJitterAndIsCappedAtAnHour() {
        let p = RetryPolicy(backoffMs: 10_000, retries: 20)
        XCTAssertEqual((1...4).map { p.ceiling(afterFailures: $0) }, [10_000, 20_000, 40_000, 80_000])
        XCTAssertEqual(p.ceiling(afterFailures: 30), RetryPolicy.cap)
        XCTAssertEqual(p.delay(afterFailures: 3, retryAfterMs: nil) { $0.upperBound }, 40_000)
        XCTAssertEqual(p.delay(afterFailures: 3, retryAfterMs: nil) { $0.lowerBound }, 0)
        XCTAssertEqual(p.delay(afterFailures: 3, retryAfterMs: 1234) { $0.upperBound }, 1234)
    }
}
