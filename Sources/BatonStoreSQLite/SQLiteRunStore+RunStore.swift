import BatonSQLite
import BatonStore

extension SQLiteRunStore {
    /// - Throws: `.conflict` when the id exists.
    public func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.createRun(new) }
    }

    /// Inserts the slice as `running` unless its key exists; sets the run's owner (kept
    /// when `slice.owner` is nil) and lease.
    /// - Throws: `.notFound` for an unknown run.
    public func startSlice(_ slice: SliceRecord, leaseExpiresAt: Int64?) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.startSlice(slice, leaseExpiresAt: leaseExpiresAt) }
    }

    public func startQueued(_ slice: SliceRecord, leaseExpiresAt: Int64, now: Int64) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.startQueued(slice, leaseExpiresAt: leaseExpiresAt, now: now) }
    }

    /// The slice row (finishing its `running` row, or inserted), its items and the run
    /// row, in one transaction. The run's cancel flag is never cleared here: a cancel
    /// requested while the slice ran survives (clear it with `updateRun`).
    /// - Throws: `.notFound` for an unknown run (or an item naming one);
    ///   `.conflict` when the slice finished already (marked lost by a new owner).
    public func finishSlice(_ completion: SliceCompletion) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.finishSlice(completion) }
    }

    public func finishSliceNow(_ completion: SliceCompletion) throws(StoreError) -> RunRecord {
        try performNow { tables throws(StoreError) in try tables.finishSlice(completion) }
    }

    public func cancelRequestedNow(runId: String) throws(StoreError) -> Bool {
        try performNow { tables throws(StoreError) in try tables.run(id: runId)?.cancelRequested ?? false }
    }

    /// - Throws: `.notFound` for an unknown run.
    public func updateRun(_ run: RunRecord) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.updateRun(run) }
    }

    /// - Throws: `.conflict` when the slice is not `running` any more, `.notFound` when
    ///   the slice or the run does not exist. Either way nothing is written.
    public func markSliceLost(runId: String, number: Int, attempt: Int, at: Int64,
                              run: RunRecord) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in
            try tables.markSliceLost(runId: runId, number: number, attempt: attempt, at: at, run: run)
        }
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

    /// A run with an owner but no lease is held until its owner lets it go.
    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func claim(runId: String, owner: String, now: Int64, leaseExpiresAt: Int64) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in
            try tables.claim(runId: runId, owner: owner, now: now, leaseExpiresAt: leaseExpiresAt)
        }
    }

    public func recordFire(job: String, scheduledAt: Int64, kind: FireKind, run: NewRun?, at: Int64) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in
            try tables.recordFire(job: job, scheduledAt: scheduledAt, kind: kind, run: run, at: at)
        }
    }

    public func recordFires(_ fires: [FireRecord], at: Int64) async throws(StoreError) -> [Bool] {
        try await perform { tables throws(StoreError) in try tables.recordFires(fires, at: at) }
    }

    public func createRuns(_ batch: [RunIntake], at: Int64) async throws(StoreError) -> [IntakeOutcome] {
        try await perform { tables throws(StoreError) in try tables.createRuns(batch, at: at) }
    }

    public func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in
            try tables.rememberRequest(signature: signature, scope: scope, at: at, expiresAt: expiresAt)
        }
    }

    public func acquireLock(name: String, runId: String, owner: String, now: Int64, expiresAt: Int64) async throws(StoreError) -> String? {
        try await perform { tables throws(StoreError) in
            try tables.acquireLock(name: name, runId: runId, owner: owner, now: now, expiresAt: expiresAt)
        }
    }

    public func renewLocks(owner: String, expiresAt: Int64) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.renewLocks(owner: owner, expiresAt: expiresAt) }
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

    public func release(runId: String, owner: String) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in try tables.release(runId: runId, owner: owner) }
    }

    public func discardSlice(runId: String, number: Int, attempt: Int) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in try tables.discardSlice(runId: runId, number: number, attempt: attempt) }
    }

    public func reopen(runId: String, owner: String, at: Int64) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.reopen(runId: runId, owner: owner, at: at) }
    }

    /// Unfinished runs are never deleted and do not count towards `keep`.
    /// - Throws: `StoreError` (`.busy` when another process kept the file locked, `.io`, …).
    public func prune(job: String, keep: Int) async throws(StoreError) -> Int {
        try await perform { tables throws(StoreError) in try tables.prune(job: job, keep: keep) }
    }
}
