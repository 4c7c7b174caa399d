import BatonSQLite
import BatonStore

extension SQLiteRunStore {
    /// - Throws: `.conflict` when the id exists.
    public func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord {
        let run = try await perform { tables throws(StoreError) in try tables.createRun(new) }
        if let lease = Lease(run), new.owner != nil { chained.remember(lease, run) }
        return run
    }

    public func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) async throws(StoreError) -> RunRecord? {
        chained.forget(runId)
        let run = try await perform { tables throws(StoreError) in
            try tables.claim(runId: runId, owner: owner, leaseMs: leaseMs, replacing: replacing)
        }
        // A start that follows the claim at once is answered from it (ChainedStarts).
        if let run, let lease = Lease(run) { chained.remember(lease, run) }
        return run
    }

    public func renew(_ lease: Lease, leaseMs: Int64) async throws(StoreError) -> Int64 {
        try await perform { tables throws(StoreError) in try tables.renew(lease, leaseMs: leaseMs) }
    }

    public func release(_ lease: Lease) async throws(StoreError) -> Bool {
        chained.forget(lease.runId)
        return try await perform { tables throws(StoreError) in try tables.release(lease) }
    }

    public func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) async throws(StoreError) -> RunRecord {
        if let run = chained.take(lease, start) {
            // Straight on from its commit: the start's transaction is queued, not awaited
            // (see ChainedStarts); it runs before anything else this store does.
            let chained = self.chained
            performLater { tables in
                do throws(StoreError) { _ = try tables.startSlice(lease, start, leaseMs: leaseMs) } catch {
                    chained.refuse(lease.runId, error)
                }
            }
            return run
        }
        return try await perform { tables throws(StoreError) in try tables.startSlice(lease, start, leaseMs: leaseMs) }
    }

    public func commitSlice(_ lease: Lease, _ commit: SliceCommit) async throws(StoreError) -> RunRecord {
        let chained = self.chained
        let run = try await performGrouped { tables throws(StoreError) in
            if let refused = chained.refusal(lease.runId) { throw refused }
            return try tables.commitSlice(lease, commit)
        }
        chained.remember(lease, run)
        return run
    }

    public func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) async throws(StoreError) -> RunRecord {
        chained.forget(lease.runId)
        return try await perform { tables throws(StoreError) in try tables.endRun(lease, status: status, error: error, at: at) }
    }

    public func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) async throws(StoreError) -> RunRecord {
        chained.forget(lease.runId)
        return try await perform { tables throws(StoreError) in try tables.markSliceLost(lease, number: number, attempt: attempt, at: at) }
    }

    public func reopen(_ lease: Lease, at: Int64) async throws(StoreError) -> RunRecord {
        chained.forget(lease.runId)
        return try await perform { tables throws(StoreError) in try tables.reopen(lease, at: at) }
    }

    public func watch(_ leases: [Lease]) async throws(StoreError) -> RunWatch {
        if leases.isEmpty { return RunWatch() }
        return try await perform { tables throws(StoreError) in try tables.watch(leases) }
    }

    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func run(id: String) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.run(id: id) }
    }

    /// Newest first: by `createdAt`, then id, descending.
    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func runs(job: String?, status: RunStatus?, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await perform { tables throws(StoreError) in try tables.runs(job: job, status: status, limit: limit) }
    }

    public func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)?, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await perform { tables throws(StoreError) in try tables.runs(job: job, status: status, before: before, limit: limit) }
    }

    public func latestRuns(jobs: [String], status: RunStatus?) async throws(StoreError) -> [String: RunRecord] {
        try await perform { tables throws(StoreError) in
            var out: [String: RunRecord] = [:]
            for job in jobs { out[job] = try tables.runs(job: job, status: status, limit: 1).first }
            return out
        }
    }

    public func retries(of runId: String) async throws(StoreError) -> [RunRecord] {
        try await perform { tables throws(StoreError) in try tables.retries(of: runId) }
    }

    public func countRuns(status: RunStatus, upTo: Int) async throws(StoreError) -> Int {
        try await perform { tables throws(StoreError) in try tables.countRuns(status: status, upTo: upTo) }
    }

    public func unfinishedRuns(job: String, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await perform { tables throws(StoreError) in try tables.unfinishedRuns(job: job, limit: limit) }
    }

    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func slices(runId: String) async throws(StoreError) -> [SliceRecord] {
        try await perform { tables throws(StoreError) in try tables.slices(runId: runId) }
    }

    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func items(runId: String, status: String?) async throws(StoreError) -> [ItemRecord] {
        try await perform { tables throws(StoreError) in try tables.items(runId: runId, status: status) }
    }

    /// Only an unfinished run gets the flag; a finished one is returned unchanged.
    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func requestCancel(runId: String, at: Int64) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.requestCancel(runId: runId, at: at) }
    }

    public func recordFires(_ fires: [FireRecord], at: Int64) async throws(StoreError) -> [Bool] {
        let recorded = try await perform { tables throws(StoreError) in try tables.recordFires(fires, at: at) }
        for (fire, won) in zip(fires, recorded) where won {
            if let new = fire.run { chained.rememberCreated(new) }
        }
        return recorded
    }

    public func createRuns(_ batch: [RunIntake], at: Int64) async throws(StoreError) -> [IntakeOutcome] {
        let outcomes = try await perform { tables throws(StoreError) in try tables.createRuns(batch, at: at) }
        for (item, outcome) in zip(batch, outcomes) {
            if case .created = outcome { chained.rememberCreated(item.run) }
        }
        return outcomes
    }

    public func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in
            try tables.rememberRequest(signature: signature, scope: scope, at: at, expiresAt: expiresAt)
        }
    }

    public func acquireLock(name: String, runId: String, owner: String, leaseMs: Int64) async throws(StoreError) -> String? {
        try await perform { tables throws(StoreError) in
            try tables.acquireLock(name: name, runId: runId, owner: owner, leaseMs: leaseMs)
        }
    }

    public func renewLocks(owner: String, leaseMs: Int64) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.renewLocks(owner: owner, leaseMs: leaseMs) }
    }

    public func releaseLock(name: String, runId: String) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.releaseLock(name: name, runId: runId) }
    }

    public func lastFires() async throws(StoreError) -> [String: Int64] {
        try await perform { tables throws(StoreError) in try tables.lastFires() }
    }

    public func lastFire(job: String) async throws(StoreError) -> Int64? {
        try await perform { tables throws(StoreError) in try tables.lastFire(job: job) }
    }

    public func setPaused(job: String, paused: Bool, at: Int64) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.setPaused(job: job, paused: paused, at: at) }
    }

    public func jobStates() async throws(StoreError) -> [String: JobState] {
        try await perform { tables throws(StoreError) in try tables.jobStates() }
    }

    /// None: SQLite has no notifications; its daemons poll (one machine, cheap reads).
    public func changeFeed() -> StoreChangeFeed? { nil }

    public func heartbeat(_ daemon: DaemonRecord, liveMs: Int64) async throws(StoreError) -> [DaemonRecord] {
        try await perform { tables throws(StoreError) in try tables.heartbeat(daemon, liveMs: liveMs) }
    }

    public func forgetDaemon(owner: String) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.forgetDaemon(owner: owner) }
    }

    /// Unfinished runs are never deleted and do not count towards `keep`.
    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func prune(job: String, keep: Int) async throws(StoreError) -> Int {
        try await perform { tables throws(StoreError) in try tables.prune(job: job, keep: keep) }
    }
}
