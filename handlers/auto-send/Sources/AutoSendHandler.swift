import BatonHandlerKit
import Foundation

/// `auto-send` (seed 003): for each pending draft of a workspace in auto-send mode, one
/// evaluation call; below `threshold`, not hard-blocked, revision enabled for the
/// workspace and not killed by `AUTO_SEND_REVISION_DISABLED=1`: the draft's single
/// revision attempt is claimed with a durable conditional write (any failure to write
/// it: no revision, fail closed), then one context-selection call, one revision call,
/// one re-evaluation. At or above the threshold the draft is sent through `SendLedger`
/// (at most once; a send that may have been delivered is `unknown`), else queued
/// `needs_review`. `AUTO_SEND_DISABLED=1` stops all sending. Logs and telemetry carry
/// counts and ids only.
public struct AutoSendHandler: SliceHandler {
    public init() {}

    static let estimateMs: Int64 = 2_000

    public var commands: [String: HandlerCommand] {
        [
            "--seed": HandlerCommand("N: N demo leads with a pending sms draft each, in 3 workspaces (auto-send with and without revision, off)") { args, env in
                try AutoSendCommands.seed(args, env)
            },
            "--stats": HandlerCommand("[--json]: revisions attempted and applied, drafts sent and queued, per workspace") { args, env in
                try AutoSendCommands.stats(args, env)
            },
        ]
    }

    public func run(_ slice: Slice) throws -> SliceOutput {
        var out = SliceOutput(cursor: nil)
        if slice.environment["AUTO_SEND_DISABLED"] == "1" {
            // The global kill switch: nothing evaluated, nothing sent.
            slice.log("event=auto_send_disabled")
            out.hasMore = false
            out.message = "AUTO_SEND_DISABLED=1: nothing sent"
            return out
        }
        let threshold = try slice.params.double("threshold", default: 0.8, range: 0...1)
        let perSlice = try slice.params.int("per_slice", default: 20, range: 1...10_000)
        let workspace = slice.params.string("workspace")
        let db = try slice.openAppDB()
        try db.migrate("auto-send", AutoSendStore.migrations(db.dialect))
        let ai = try AIModel(environment: slice.environment, deadline: slice.deadline())
        var cursor = slice.cursor
        var backoff = Backoff(multiplier: cursor.backoff)
        let retry = slice.input.retryItems
        var done = Set(cursor.extra["done"]?.arrayValue?.compactMap(\.string) ?? [])
        let wanted = Array((retry ?? []).filter { !done.contains($0) }.prefix(perSlice))
        let drafts = retry != nil
            ? try AutoSendStore.byIds(db, wanted)
            : try AutoSendStore.page(db, after: cursor.after, workspace: workspace, limit: perSlice)
        // A retried draft no longer eligible (decided, approved, removed) is done with.
        for id in wanted where !drafts.contains(where: { $0.id == id }) {
            out.record(ItemOutcome(id: id, status: .skipped, error: "no longer eligible"))
            done.insert(id)
        }
        // The run's total: drafts decided by earlier slices plus those eligible now.
        let takenBefore = cursor.extra["taken"]?.int ?? 0
        out.total = try retry?.count ?? (takenBefore + AutoSendStore.count(db, workspace: workspace))
        var draftRun = DraftDecision(slice: slice, db: db, ai: ai, threshold: threshold,
                                     revisionKilled: slice.environment["AUTO_SEND_REVISION_DISABLED"] == "1", retry: retry != nil)
        var stopped = false
        for draft in drafts {
            guard slice.shouldTakeItem(estimateMs: Self.estimateMs) else { stopped = true; break }
            do {
                let outcome = try draftRun.decide(draft)
                out.record(outcome)
                if outcome.status == .succeeded { backoff.succeeded() }
            } catch let error as ProviderError {
                switch ProviderVerdict.of(error, backoff: &backoff) {
                case let .pause(ms): out.retryAfterMs = ms; stopped = true
                case .stopTaking: stopped = true
                case let .failSlice(why): throw HandlerError(why)
                case let .itemFailed(why): out.record(ItemOutcome(id: draft.id, status: .failed, error: why))
                }
                if stopped { break }
            }
            if retry != nil { done.insert(draft.id) } else { cursor.after = draft.id }
        }
        out.usage = ai.usage
        if retry != nil {
            cursor.extra["done"] = .array(done.sorted().map { .string($0) })
            out.hasMore = done.count < retry!.count
        } else {
            cursor.extra["taken"] = .number(takenBefore + out.processed)
            let rest = try AutoSendStore.page(db, after: cursor.after, workspace: workspace, limit: 1)
            out.hasMore = stopped || !rest.isEmpty
        }
        cursor.backoff = backoff.multiplier
        out.cursor = cursor
        out.message = "\(draftRun.sent) sent, \(draftRun.queued) queued for review, \(draftRun.revised) revised; \(out.failed) failed or unknown"
        return out
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    var doubleValue: Double? { if case let .number(text) = self { return Double(text) } else { return nil } }
    var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }
}
