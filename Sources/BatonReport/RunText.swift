import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// How runs and slices read for people and for `--json`.
public enum RunText {
    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// "1m 05s", "850ms", "2h 03m".
    public static func duration(_ ms: Int64) -> String {
        if ms < 1000 { return "\(max(0, ms))ms" }
        let s = ms / 1000
        if s < 60 { return String(format: "%.1fs", Double(ms) / 1000) }
        if s < 3600 { return "\(s / 60)m \(TimeText.pad(Int(s % 60)))s" }
        return "\(s / 3600)h \(TimeText.pad(Int(s / 60 % 60)))m"
    }

    public static func time(_ ms: Int64) -> String {
        TimeText.rfc3339(ms >= 0 ? ms / 1000 : (ms - 999) / 1000, zone: .utc, utc: true)
    }

    /// Percent done in tenths, rounded down (99.96 is 99.9: only a done run shows
    /// 100): the one figure `runs`, `show`, the progress bar, the JSON and the
    /// dashboard all show.
    public static func percent(_ run: RunRecord) -> Double? {
        guard let total = run.total, total > 0 else { return run.status == .succeeded ? 100 : nil }
        return min(1000, (Int64(run.counts.processed) * 1000 / Int64(total))).tenths
    }

    /// "66.6%", "100%": `percent` as text.
    public static func percentText(_ run: RunRecord) -> String? {
        percent(run).map { p in p.rounded() == p ? "\(Int(p))%" : String(format: "%.1f%%", p) }
    }

    /// Where a run stands for a person (SPEC §1): its status, except that a `running`
    /// run no driver holds reads `waiting`, or `queued` when none of its slices has
    /// started yet (no owner after a drain or `tick
    /// --max-time`, an owner whose lease ran out, or an owner process of this host that
    /// is gone). A waiting run continues when a driver takes it: the next `baton run`
    /// or `tick`, or `baton resume`.
    public static func state(_ run: RunRecord, now: Int64 = nowMs()) -> String {
        guard run.status == .running else { return run.status.rawValue }
        guard let owner = run.owner, let lease = run.leaseExpiresAt, lease > now, !RunID.isDeadLocalOwner(owner) else {
            // Recorded and never taken by a driver (epoch 0: no claim yet), so no slice of
            // it started (SPEC §1): queued. A run a driver took and left (it died, or
            // drained) is waiting.
            return run.slicesDone == 0 && run.nextAttempt == 1 && run.epoch == 0 ? "queued" : "waiting"
        }
        return "running"
    }

    /// Every status a listing shows and filters by.
    public static let states = ["queued", "running", "waiting", "succeeded", "failed", "cancelled", "partial"]

    /// The newest `limit` runs (of `job`) whose status as shown is `state`: a stored
    /// status for a finished run; for queued, running and waiting, the unfinished runs
    /// read as `state(_:now:)` reads them (the store keeps a waiting run `running`, and
    /// a run nobody has started yet may be stored `running`).
    /// `before` (created at, id) pages on: only runs older than it.
    public static func runs(in store: any RunStore, job: String?, state: String?, before: (createdAt: Int64, id: String)? = nil,
                            limit: Int, now: Int64 = nowMs()) async throws(StoreError) -> [RunRecord] {
        guard let state, ["queued", "running", "waiting"].contains(state) else {
            return try await store.runs(job: job, status: state.flatMap(RunStatus.init(rawValue:)), before: before, limit: limit)
        }
        // Unfinished runs only, a bounded read: more than asked, as some read otherwise.
        let wide = min(10_000, max(limit * 4, 200))
        var all = try await store.runs(job: job, status: .running, before: before, limit: wide)
        if state == "queued" { all += try await store.runs(job: job, status: .queued, before: before, limit: wide) }
        let shown = all.filter { self.state($0, now: now) == state }
        return Array(shown.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit))
    }

    /// Remaining time from the pace so far, for a run a driver is moving.
    public static func eta(_ run: RunRecord, now: Int64 = nowMs()) -> Int64? {
        guard !run.status.isFinished, state(run, now: now) == "running", let total = run.total, run.counts.processed > 0, total > run.counts.processed else { return nil }
        let elapsed = max(1, now - run.createdAt)
        return elapsed * Int64(total - run.counts.processed) / Int64(run.counts.processed)
    }

    public static func elapsed(_ run: RunRecord, now: Int64 = nowMs()) -> Int64 { (run.finishedAt ?? now) - run.createdAt }

    public static func counts(_ c: Counts) -> String {
        "processed \(c.processed), succeeded \(c.succeeded), skipped \(c.skipped), failed \(c.failed)"
    }

    /// "12,400 tokens (9,800 in, 2,600 out), $0.0123", or "-" when nothing was spent.
    public static func usage(_ u: TokenUsage) -> String {
        guard !u.isZero else { return "-" }
        let cost = u.costUsd > 0 ? ", $" + String(format: "%.4f", u.costUsd) : ""
        return "\(grouped(u.tokens)) tokens (\(grouped(u.inputTokens)) in, \(grouped(u.outputTokens)) out)\(cost)"
    }

    static func usageJSON(_ u: TokenUsage) -> [String: Any] {
        ["input_tokens": u.inputTokens, "output_tokens": u.outputTokens, "cost_usd": (u.costUsd * 1_000_000).rounded() / 1_000_000]
    }

    /// 12400 as "12,400".
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    public static func cursor(_ c: String?) -> String {
        guard let c else { return "null" }
        return c.count > 24 ? "\"\(c.prefix(21))…\"" : "\"\(c)\""
    }

    public static func json(_ run: RunRecord, now: Int64 = nowMs()) -> [String: Any] {
        var o: [String: Any] = [
            "run_id": run.id, "job": run.job, "trigger": run.trigger.rawValue, "status": state(run, now: now),
            "scheduled_at": time(run.scheduledAt), "created_at": time(run.createdAt), "slices": run.slicesDone,
            "next_slice": run.nextSlice, "attempt": run.nextAttempt,
            "counts": ["processed": run.counts.processed, "succeeded": run.counts.succeeded,
                       "skipped": run.counts.skipped, "failed": run.counts.failed],
            "usage": usageJSON(run.usage),
            "elapsed_ms": elapsed(run, now: now), "cursor": run.cursor as Any? ?? NSNull(),
            "cancel_requested": run.cancelRequested,
        ]
        if let f = run.finishedAt { o["finished_at"] = time(f) }
        if let t = run.total { o["total"] = t }
        if let p = percent(run) { o["percent"] = p }
        if let e = eta(run, now: now) { o["eta_ms"] = e }
        if let m = run.message { o["message"] = m }
        if let e = run.error { o["error"] = e }
        if let p = run.parentRun { o["retry_of"] = p }
        if let c = run.command { o["command"] = c }
        if let owner = run.owner {
            o["owner"] = owner
            o["epoch"] = run.epoch
            if let lease = run.leaseExpiresAt { o["lease_expires_at"] = time(lease) }
        }
        o["failed_on_items"] = run.failedOnItems
        if let why = endReason(run) { o["end_reason"] = why }
        return o
    }

    public static func json(_ s: SliceRecord) -> [String: Any] {
        var o: [String: Any] = [
            "slice": s.number, "attempt": s.attempt, "started_at": time(s.startedAt), "outcome": s.outcome.rawValue,
            "cursor_in": s.cursorIn as Any? ?? NSNull(), "cursor_out": s.cursorOut as Any? ?? NSNull(),
            "counts": ["processed": s.counts.processed, "succeeded": s.counts.succeeded,
                       "skipped": s.counts.skipped, "failed": s.counts.failed],
            "truncated": s.truncated, "usage": usageJSON(s.usage),
        ]
        if let f = s.finishedAt { o["finished_at"] = time(f); o["duration_ms"] = f - s.startedAt }
        if let e = s.exitCode { o["exit"] = e }
        if let sig = s.signal { o["signal"] = sig }
        if let e = s.error { o["error"] = e }
        if let m = s.message { o["message"] = m }
        if let r = s.retryAfterMs { o["retry_after_ms"] = r }
        return o
    }
}

extension Int64 {
    /// A count of tenths as a Double (666 is 66.6).
    fileprivate var tenths: Double { Double(self) / 10 }
}
