import BatonEngine
import BatonHandlerKit
import Foundation
import XCTest

/// The kit in-process: every edge fails loudly (issue 13), and what it writes is what
/// baton's own result parser reads.
final class HandlerKitTests: XCTestCase {
    let now: Int64 = 1_800_000_000_000

    func read(_ stdin: String, env: [String: String] = [:], args: [String] = []) throws -> SliceInput {
        try SliceInput.read(stdin: Array(stdin.utf8), environment: env, arguments: args, nowMs: now)
    }

    func testReadsTheSliceAndMergesScheduleArgumentsUnderParams() throws {
        let input = try read(#"""
            {"version":1,"job":"drafts","run_id":"r_1","slice":3,"attempt":2,"cursor":"{\"v\":1,\"after\":\"lead_9\"}",
             "trigger":"retry","scheduled_at":"2026-11-22T10:30:00Z","budget_ms":10000,"deadline_ms":1800000010000,
             "params":{"channel":"email","concurrency":4},"payload":{"items":["lead_1",7]}}
            """#, args: ["--channel", "sms", "--interval=24h", "--only-pending", "false", "--dry-run"])
        XCTAssertEqual(input.slice, 3)
        XCTAssertEqual(input.attempt, 2)
        XCTAssertEqual(input.deadlineMs, 1_800_000_010_000)
        XCTAssertEqual(input.params.string("channel"), "email", "stdin params override the schedule line's")
        XCTAssertEqual(try input.params.int("concurrency", default: 1, range: 1...64), 4)
        XCTAssertEqual(try input.params.duration("interval", default: .seconds(1)), .seconds(86_400))
        XCTAssertEqual(try input.params.bool("only_pending", default: true), false)
        XCTAssertEqual(try input.params.bool("dry_run", default: false), true)
        XCTAssertEqual(input.retryItems, ["lead_1", "7"])
        XCTAssertEqual(try Cursor.decode(input.cursor).after, "lead_9")
    }

    func testAnEmptyStdinReadsTheBatonVariables() throws {
        let input = try read("", env: ["BATON_JOB": "j", "BATON_SLICE": "2", "BATON_CURSOR": "k", "BATON_BUDGET_MS": "3000"])
        XCTAssertEqual(input.job, "j")
        XCTAssertEqual(input.slice, 2)
        XCTAssertEqual(input.cursor, "k")
        XCTAssertEqual(input.deadlineMs, now + 3000)
        XCTAssertNil(input.retryItems)
    }

    /// The old kit turned malformed stdin into {}, dropping payload.items on a retry run.
    func testMalformedInputIsAnErrorNeverAnEmptyObject() {
        let cases: [(String, String)] = [
            (#"{"version":1,"payload":{"items":["a"]"#,
             #"standard input is not the slice's JSON object: line 1, column 38: expected ',' or '}', found the end of the text"#),
            (#"[1,2]"#, "holds an array"),
            (#"{"version":2}"#, "protocol version 2"),
            (#"{"params":"channel=sms"}"#, #"stdin field "params": expected an object, got a string"#),
            (#"{"slice":"three"}"#, #"stdin field "slice": expected a whole number, got a string"#),
            (#"{"cursor":5}"#, #"stdin field "cursor": expected a string or null, got 5"#),
        ]
        for (stdin, message) in cases {
            XCTAssertThrowsError(try read(stdin), stdin) { e in
                XCTAssertTrue("\(e)".contains(message), "\(stdin): \(e)")
            }
        }
        XCTAssertThrowsError(try read("", args: ["positional"])) { e in
            XCTAssertTrue("\(e)".contains("argument 'positional' is not --name value"), "\(e)")
        }
    }

    func testABadParameterNamesItselfAndAnExample() {
        let p = Params(["concurrency": .string("lots"), "interval": .string("soon"), "pacing": .string("turbo"),
                        "only_pending": .string("maybe")])
        enum Pacing: String, CaseIterable { case safe, normal, fast }
        let checks: [(String, () throws -> Void)] = [
            ("parameter 'concurrency' is 'lots', not a whole number from 1 to 64", { _ = try p.int("concurrency", default: 1, range: 1...64) }),
            ("parameter 'interval' is 'soon', not a duration", { _ = try p.duration("interval", default: .seconds(60)) }),
            ("parameter 'pacing' is 'turbo', not one of safe, normal, fast", { _ = try p.choice("pacing", default: Pacing.normal) }),
            ("parameter 'only_pending' is 'maybe', not true or false", { _ = try p.bool("only_pending", default: true) }),
        ]
        for (message, check) in checks {
            XCTAssertThrowsError(try check()) { e in
                XCTAssertTrue("\(e)".contains(message) && "\(e)".contains("hint: write e.g. --param"), "\(e)")
            }
        }
        XCTAssertEqual(Params(["epics": .string("E1, E2,,E3")]).list("epics"), ["E1", "E2", "E3"])
        XCTAssertEqual(Params(["epics": .array([.string("E1"), .number("2")])]).list("epics"), ["E1", "2"])
    }

    func testCursorsAreVersionedAndRoundTrip() throws {
        var c = Cursor(after: "epic_07", phase: "stories")
        c.backoff = 4
        c.extra["done"] = .number(12)
        let text = c.encoded
        XCTAssertTrue(text.contains(#""v":1"#), text)
        XCTAssertEqual(try Cursor.decode(text), c)
        XCTAssertEqual(try Cursor.decode(nil), Cursor())
        XCTAssertEqual(try Cursor.decode("lead_41").after, "lead_41", "a cursor typed by a person")
        XCTAssertThrowsError(try Cursor.decode(#"{"v":2,"after":"x"}"#)) { e in
            XCTAssertTrue("\(e)".contains("version 2"), "\(e)")
        }
        XCTAssertThrowsError(try Cursor.decode(#"{"v":1,"after""#))
    }

    /// baton's own parser is the judge of what the kit writes.
    func testTheOutputIsWhatBatonsParserReads() throws {
        var out = SliceOutput(cursor: Cursor(after: "lead_20"))
        out.total = 200
        out.record(ItemOutcome(id: "lead_1", status: .succeeded))
        out.record(ItemOutcome(id: "lead_2", status: .failed, error: "openai: server error 500"))
        out.record(ItemOutcome(id: "lead_3", status: .skipped))
        out.record(ItemOutcome(id: "lead_4", status: .unknown, error: "timeout after send"))
        out.retryAfterMs = 2_000
        out.message = "1 regenerated"
        out.usage = Usage(inputTokens: 1_200, outputTokens: 300, costUsd: 0.0045)
        let parsed = try SliceResult.parse(Array(out.json.text.utf8))
        XCTAssertEqual(parsed.cursor, Cursor(after: "lead_20").encoded)
        XCTAssertTrue(parsed.hasMore)
        XCTAssertEqual(parsed.total, 200)
        XCTAssertEqual(parsed.counts.processed, 4)
        XCTAssertEqual(parsed.counts.succeeded, 1)
        XCTAssertEqual(parsed.counts.skipped, 1)
        XCTAssertEqual(parsed.counts.failed, 2)
        XCTAssertEqual(parsed.items.map(\.id), ["lead_2", "lead_3", "lead_4"])
        XCTAssertEqual(parsed.items.map(\.status), ["failed", "skipped", "unknown"])
        XCTAssertEqual(parsed.retryAfterMs, 2_000)
        XCTAssertEqual(parsed.usage.inputTokens, 1_200)
        XCTAssertEqual(parsed.usage.outputTokens, 300)
        XCTAssertEqual(parsed.usage.costUsd, 0.0045, accuracy: 1e-9)

        var done = SliceOutput()
        done.hasMore = false
        let end = try SliceResult.parse(Array(done.json.text.utf8))
        XCTAssertFalse(end.hasMore)
        XCTAssertNil(end.cursor)
    }

    func testBackoffDoublesToEightAndResetsOnSuccess() {
        var b = Backoff()
        XCTAssertEqual(b.rateLimited(retryAfterMs: nil, baseMs: 1_000), 1_000)
        XCTAssertEqual(b.rateLimited(retryAfterMs: nil, baseMs: 1_000), 2_000)
        XCTAssertEqual(b.rateLimited(retryAfterMs: 30_000, baseMs: 1_000), 30_000, "the provider's longer wait wins")
        XCTAssertEqual(b.rateLimited(retryAfterMs: nil, baseMs: 1_000), 8_000)
        XCTAssertEqual(b.rateLimited(retryAfterMs: nil, baseMs: 1_000), 8_000, "capped at x8")
        b.succeeded()
        XCTAssertEqual(b.multiplier, 1)
        var c = Cursor()
        c.backoff = 99
        XCTAssertEqual(try Cursor.decode(c.encoded).backoff, Backoff.cap, "a cursor cannot push it past the cap")
    }

    func testProviderErrorsMapToOneSliceOutcomeEach() {
        var b = Backoff()
        XCTAssertEqual(ProviderVerdict.of(.rateLimited(provider: "openai", retryAfterMs: 5_000), backoff: &b), .pause(retryAfterMs: 5_000))
        XCTAssertEqual(b.multiplier, 2)
        XCTAssertEqual(ProviderVerdict.of(.server(provider: "openai", status: 500), backoff: &b), .itemFailed("openai: server error 500"))
        XCTAssertEqual(ProviderVerdict.of(.noTimeLeft(provider: "openai"), backoff: &b), .stopTaking)
        for e in [ProviderError.authentication(provider: "openai", status: 401), .quotaExhausted(provider: "openai"),
                  .notConfigured(provider: "openai", variable: "OPENAI_API_KEY")] {
            guard case .failSlice = ProviderVerdict.of(e, backoff: &b) else { return XCTFail("\(e) should fail the slice") }
        }
    }

    /// A call the slice's own deadline cut off says nothing against its item.
    func testATimeoutAtTheSlicesEndLeavesTheItemForTheNextSlice() throws {
        nonisolated(unsafe) var t: Int64 = now
        let slice = try Slice(input: SliceInput(deadlineMs: now + 10_000), environment: [:], clock: { t }, log: { _ in })
        var b = Backoff()
        let timeout = ProviderError.timeout(provider: "openai")
        XCTAssertEqual(ProviderVerdict.of(timeout, backoff: &b, in: slice), .itemFailed("openai: no answer within the time left"))
        t = now + 9_500
        XCTAssertEqual(ProviderVerdict.of(timeout, backoff: &b, in: slice), .stopTaking)
        XCTAssertEqual(ProviderVerdict.of(.server(provider: "openai", status: 500), backoff: &b, in: slice),
                       .itemFailed("openai: server error 500"), "only a timeout is the deadline's doing")
    }

    func testABadPriceIsRefusedNotTakenAsFree() {
        XCTAssertThrowsError(try AIModel(environment: ["OPENAI_API_KEY": "k", "AI_PRICE_IN": "$0.15"], deadline: .after(ms: 1000))) { e in
            XCTAssertTrue("\(e)".contains("AI_PRICE_IN='$0.15' is not a price"), "\(e)")
        }
        XCTAssertNoThrow(try AIModel(environment: ["OPENAI_API_KEY": "k", "AI_PRICE_IN": "0.15", "AI_PRICE_OUT": "0.6"],
                                     deadline: .after(ms: 1000)))
    }

    func testAIModelNeedsAProviderBeforeAnyItem() {
        XCTAssertThrowsError(try AIModel(environment: [:], deadline: .after(ms: 1000))) { e in
            XCTAssertTrue("\(e)".contains("neither OPENAI_API_KEY nor ANTHROPIC_API_KEY is set"), "\(e)")
        }
        XCTAssertThrowsError(try AIModel(environment: ["AI_PROVIDER": "gemini"], deadline: .after(ms: 1000)))
        XCTAssertEqual(try AIModel(environment: ["ANTHROPIC_API_KEY": "k"], deadline: .after(ms: 1000)).provider, "anthropic")
        XCTAssertEqual(try AIModel(environment: ["OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"], deadline: .after(ms: 1000)).provider, "openai")
        XCTAssertEqual(try AIModel(environment: ["OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "AI_PROVIDER": "anthropic"],
                                   deadline: .after(ms: 1000)).provider, "anthropic")
    }

    func testASliceKnowsItsBudgetAndSIGTERM() throws {
        nonisolated(unsafe) var t: Int64 = now
        let stop = StopFlag()
        let slice = try Slice(input: SliceInput(deadlineMs: now + 5_000), environment: [:], stop: stop, clock: { t }, log: { _ in })
        XCTAssertTrue(slice.shouldTakeItem(estimateMs: 1_000))
        t = now + 4_000
        XCTAssertFalse(slice.shouldTakeItem(estimateMs: 1_000), "1 s left is not enough for a 1 s item and the result")
        t = now
        stop.set()
        XCTAssertFalse(slice.shouldTakeItem(estimateMs: 1))
        XCTAssertThrowsError(try Slice(input: SliceInput(cursor: #"{"v":9}"#, deadlineMs: now), environment: [:]))
    }
}
