import BatonHandlerKit
import Foundation

/// generate-stories (seed 001): user stories for each epic of a project, in priority
/// order, one `story_runs` row per (run, epic). See docs/handlers.md for the params,
/// tables and the rules; the epic work itself is in `GenerateStoriesHandler+Epic.swift`.
public struct GenerateStoriesHandler: SliceHandler {
    public init() {}

    /// A first guess at one epic's AI call (seed: "AI call ~10–30 s"); after the first
    /// call the slice uses the longest call it has seen.
    static let firstCallEstimateMs: Int64 = 15_000
    /// Below this the first epic of a slice is not taken (a call needs some time).
    static let minimumCallMs: Int64 = 2_000

    public var commands: [String: HandlerCommand] {
        ["--seed": HandlerCommand("N: create N demo epics (with cards) in project demo") { args, env in
            guard let n = args.first.flatMap(Int.init), (1...100_000).contains(n) else {
                throw HandlerError("--seed needs a count from 1 to 100000, e.g. --seed 20")
            }
            return try StoriesSchema.seed(try AppDB.open(environment: env), epics: n)
        },
         "--list": HandlerCommand("[--json]: each epic with its stories and its latest run's status") { args, env in
            try StoriesList.render(try AppDB.open(environment: env), json: args.contains("--json"))
        }]
    }

    /// What one slice keeps between epics.
    struct State {
        var backoff: Backoff
        /// Transient failures already spent on the next epic (carried in the cursor).
        var attempts: Int
        var callEstimateMs: Int64
        var pacing: Pacing
        var leaseMs: Int64
    }

    public func run(_ slice: Slice) throws -> SliceOutput {
        let pacing = try slice.params.choice("pacing", default: Pacing.normal)
        let lease = try slice.params.duration("lease", default: .seconds(600))
        let runId = slice.input.runId
        guard !runId.isEmpty else {
            throw HandlerError("no run id: generate-stories keys story_runs by BATON_RUN_ID",
                               hint: "run it through baton (baton invoke -- generate-stories), which sets it")
        }
        let db = try slice.openAppDB()
        try StoriesSchema.migrate(db)
        let ai = try AIModel(environment: slice.environment, deadline: slice.deadline())
        let queue = RunQueue(db: db, runId: runId)
        let now = { AppDB.timestamp(slice.clockMs) }
        if try !queue.isQueued() {
            let requested = slice.input.retryItems ?? slice.params.list("epics")
            try queue.enqueue(project: slice.params.string("project"), requested: requested, now: now())
        }
        var after = Int(slice.cursor.after ?? "0") ?? 0
        var state = State(backoff: Backoff(multiplier: slice.cursor.backoff), attempts: slice.cursor.extra["attempts"]?.int ?? 0,
                          callEstimateMs: Self.firstCallEstimateMs, pacing: pacing, leaseMs: lease.milliseconds)
        let leaseUntil = { AppDB.timestamp(slice.clockMs + state.leaseMs) }
        for (project, holder) in try queue.claimProjects(after: after, leaseUntil: leaseUntil(), now: now()) {
            slice.log("event=refused project=\(project) active_run=\(holder)")
        }
        var out = SliceOutput(cursor: slice.cursor)
        out.total = try queue.total()
        var stories = 0, calls = 0
        while let row = try queue.next(after: after) {
            if row.status != "pending", row.status != "generating" {
                // Finished already (refused, unknown, or by a slice killed before its result).
                out.record(Self.outcome(row))
                after = row.position
                continue
            }
            let delay = calls > 0 ? pacing.delayBetweenEpicsMs * Int64(state.backoff.multiplier) : 0
            let fits = calls == 0 ? !slice.stopRequested && slice.remainingMs > Self.minimumCallMs + 500
                                  : slice.shouldTakeItem(estimateMs: delay + state.callEstimateMs)
            guard fits else { break }
            if delay > 0, !slice.pause(ms: delay) { break }
            let started = slice.clockMs
            var stopNow = false
            switch try generate(row, slice: slice, db: db, queue: queue, ai: ai, state: &state) {
            case let .finished(item, created):
                out.record(item)
                stories += created
                after = row.position
                state.attempts = 0
                if let p = row.projectId { try queue.renew(project: p, leaseUntil: leaseUntil()) }
            case let .stop(retryAfterMs):
                out.retryAfterMs = retryAfterMs
                stopNow = true
            }
            // The first call replaces the guess; later ones keep the longest seen.
            state.callEstimateMs = calls == 0 ? slice.clockMs - started : max(state.callEstimateMs, slice.clockMs - started)
            calls += 1
            if stopNow || slice.stopRequested { break }
        }
        let more = try queue.hasOpenRows(after: after)
        if more, calls == 0, out.retryAfterMs == nil, !slice.stopRequested {
            // No epic fits: the run would go round in empty slices.
            throw HandlerError("the slice's budget (\(slice.input.budgetMs) ms) leaves too little time for one epic",
                               hint: "give the job budget=30s or more")
        }
        var cursor = Cursor(after: String(after), backoff: state.backoff.multiplier)
        if state.attempts > 0 { cursor.extra["attempts"] = .number(state.attempts) }
        out.cursor = cursor
        out.hasMore = more
        if more, out.retryAfterMs == nil, calls > 0 {
            // The pause between epics holds across slices too.
            out.retryAfterMs = pacing.delayBetweenEpicsMs * Int64(state.backoff.multiplier)
        }
        if more {
            try queue.renewAll(leaseUntil: AppDB.timestamp(slice.clockMs + state.leaseMs + (out.retryAfterMs ?? 0)))
        }
        try queue.releaseFinished()
        out.usage = ai.usage
        out.message = "\(out.succeeded) epics done (\(stories) stories), \(out.failed) failed, \(out.skipped) skipped; "
            + "\(try queue.finishedCount()) of \(out.total ?? 0) in the run"
        slice.log("event=slice_end run=\(runId) after=\(after) processed=\(out.processed) stories=\(stories) more=\(more)")
        return out
    }

    static func outcome(_ row: RunQueue.Row) -> ItemOutcome {
        switch row.status {
        case "completed": ItemOutcome(id: row.epicId, status: .succeeded)
        case "skipped": ItemOutcome(id: row.epicId, status: .skipped, error: row.error)
        default: ItemOutcome(id: row.epicId, status: .failed, error: row.error ?? "failed")
        }
    }
}

extension Slice {
    /// The slice's clock in epoch milliseconds (the deadline's clock).
    var clockMs: Int64 { input.deadlineMs - remainingMs }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
