import BatonHandlerKit
import Foundation

/// `regenerate-reports` (seed 002): run every 30 minutes; regenerates each active report
/// whose `last_regenerated_at` is null or at least `interval` old, oldest first, at most
/// `per_slice` per slice, and stamps `last_regenerated_at` only when its regeneration is
/// done (in the same statement as its new content), so a report whose regeneration
/// failed stays due. A `baton retry` run regenerates exactly the reports it lists.
public struct RegenerateReportsHandler: SliceHandler {
    public init() {}

    /// What one report is expected to cost in time, to stop taking reports in time.
    static let estimateMs: Int64 = 3_000

    public var commands: [String: HandlerCommand] {
        [
            "--seed": HandlerCommand("N: create N demo reports (some inactive), never regenerated") { args, env in
                try ReportsCommands.seed(args, env)
            },
            "--backfill": HandlerCommand("[--interval 24h]: stamp never-regenerated active reports, staggered over the interval") { args, env in
                try ReportsCommands.backfill(args, env)
            },
            "--list": HandlerCommand("[--interval 24h] [--json]: each report's last and next refresh") { args, env in
                try ReportsCommands.list(args, env)
            },
        ]
    }

    public func run(_ slice: Slice) throws -> SliceOutput {
        let interval = try slice.params.duration("interval", default: .seconds(86_400))
        let perSlice = try slice.params.int("per_slice", default: 10, range: 1...10_000)
        let db = try slice.openAppDB()
        try db.migrate("regenerate-reports", ReportsTable.migrations(db.dialect))
        var cursor = slice.cursor
        // The due line is fixed when the run starts, so every slice of it agrees.
        let cutoff: String
        if let c = cursor.extra["cutoff"]?.string {
            cutoff = c
        } else {
            let startMs = slice.nowMs - Int64(interval.components.seconds) * 1000
            cutoff = AppDB.timestamp(startMs)
            cursor.extra["cutoff"] = .string(cutoff)
        }
        let retry = slice.input.retryItems
        var doneIds = cursor.extra["done"]?.arrayOfStrings ?? []
        var out = SliceOutput(cursor: cursor)
        let batch: [ReportsTable.Report]
        if let retry {
            // A retry run: the listed reports, whether due or not, each once.
            let done = Set(doneIds)
            let next = Array(retry.filter { !done.contains($0) }.prefix(perSlice))
            batch = try ReportsTable.byIds(db, next)
            for missing in next where !batch.contains(where: { $0.id == missing }) {
                out.record(ItemOutcome(id: missing, status: .skipped, error: "no such report"))
                doneIds.append(missing)
            }
        } else {
            batch = try ReportsTable.due(db, cutoff: cutoff, after: cursor.after, limit: perSlice)
        }
        let ai = try AIModel(environment: slice.environment, deadline: slice.deadline())
        var backoff = Backoff(multiplier: cursor.backoff)
        var taken = cursor.extra["taken"]?.int ?? 0
        var stopped = false
        for report in batch {
            guard slice.shouldTakeItem(estimateMs: Self.estimateMs) else { stopped = true; break }
            let result = Result { () throws(ProviderError) in try ai.complete(Self.prompt(report), maxTokens: 1_200) }
            switch result {
            case let .success(completion):
                backoff.succeeded()
                if let content = Self.content(completion.text) {
                    // Content and stamp together: the stamp moves only with a finished report.
                    try db.execute("UPDATE reports SET content = ?2, last_regenerated_at = ?3 WHERE id = ?1",
                                   [.text(report.id), .text(content), .text(AppDB.timestamp(slice.nowMs))])
                    out.record(ItemOutcome(id: report.id, status: .succeeded))
                } else {
                    out.record(ItemOutcome(id: report.id, status: .failed, error: "the answer held no report body"))
                }
            case let .failure(error):
                switch ProviderVerdict.of(error, backoff: &backoff, in: slice) {
                case let .itemFailed(why):
                    out.record(ItemOutcome(id: report.id, status: .failed, error: why))
                case let .pause(ms):
                    slice.log("rate limited: pausing \(ms) ms before report \(report.id)")
                    out.retryAfterMs = ms
                    stopped = true
                case .stopTaking:
                    stopped = true
                case let .failSlice(why):
                    throw HandlerError(why)
                }
            }
            if stopped { break }
            // Past this report, whatever became of it.
            cursor.after = ReportsTable.key(report)
            doneIds.append(report.id)
            taken += 1
        }
        cursor.backoff = backoff.multiplier
        let left: Int
        if let retry {
            cursor.extra["done"] = .array(doneIds.map { .string($0) })
            left = retry.count - doneIds.count
            out.total = retry.count
        } else {
            cursor.extra["taken"] = .number(taken)
            left = try ReportsTable.count(db, cutoff: cutoff, after: cursor.after)
            out.total = taken + left
        }
        out.cursor = cursor
        out.hasMore = left > 0 || stopped
        out.usage = ai.usage
        out.message = "\(out.succeeded) regenerated, \(out.failed) failed, \(left) still due"
        slice.log("reports: \(out.succeeded) regenerated, \(out.failed) failed, \(left) left (cutoff \(cutoff))")
        return out
    }

    static func prompt(_ r: ReportsTable.Report) -> [ChatMessage] {
        [.system("You write a brand-intelligence report: a title line, then short bullet points of mentions, sentiment and trend."),
         .user("Regenerate report \(r.id) titled \"\(r.title)\" with the latest data.\nRespond with JSON: {\"report\": \"<the report body>\"}")]
    }

    /// The report body from the answer: `{"report":"…"}`, non-empty.
    static func content(_ text: String) -> String? {
        guard case let .string(body)? = JSONValue.parse(Array(text.utf8))?["report"],
              !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return body
    }
}

extension JSONValue {
    var arrayOfStrings: [String]? {
        guard case let .array(a) = self else { return nil }
        return a.compactMap(\.string)
    }
}
