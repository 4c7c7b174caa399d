import BatonStore

/// Every `RunStore` operation, each one transaction on the store's thread
/// (PostgresRunTables*.swift hold the statements).
extension PostgresRunStore {
    /// - Throws: `.conflict` when the id exists.
    public func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.createRun(new) }
    }

    public func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in
            try tables.claim(runId: runId, owner: owner, leaseMs: leaseMs, replacing: replacing)
        }
    }

    public func renew(_ lease: Lease, leaseMs: Int64) async throws(StoreError) -> Int64 {
        try await perform { tables throws(StoreError) in try tables.renew(lease, leaseMs: leaseMs) }
    }

    public func release(_ lease: Lease) async throws(StoreError) -> Bool {
        try await perform { tables throws(StoreError) in try tables.release(lease) }
    }

    public func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.startSlice(lease, start, leaseMs: leaseMs) }
    }

    public func commitSlice(_ lease: Lease, _ commit: SliceCommit) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.commitSlice(lease, commit) }
    }

    public func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.endRun(lease, status: status, error: error, at: at) }
    }

    public func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.markSliceLost(lease, number: number, attempt: attempt, at: at) }
    }

    public func reopen(_ lease: Lease, at: Int64) async throws(StoreError) -> RunRecord {
        try await perform { tables throws(StoreError) in try tables.reopen(lease, at: at) }
    }

    public func requestCancel(runId: String, at: Int64) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.requestCancel(runId: runId, at: at) }
    }

    public func watch(_ leases: [Lease]) async throws(StoreError) -> RunWatch {
        if leases.isEmpty { return RunWatch() }
        return try await perform { tables throws(StoreError) in try tables.watch(leases) }
    }

    public func run(id: String) async throws(StoreError) -> RunRecord? {
        try await perform { tables throws(StoreError) in try tables.run(id: id) }
    }

    /// Newest first: by `createdAt`, then id, descending.
    public func runs(job: String?, status: RunStatus?, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await perform { tables throws(StoreError) in try tables.runs(job: job, status: status, limit: limit) }
    }

    public func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)?, limit: Int) async throws(StoreError) -> [RunRecord] {
        let before = before.map { KeysetStart(createdAt: $0.createdAt, id: $0.id) }
        return try await perform { tables throws(StoreError) in
            try tables.runs(job: job, status: status, before: before.map { ($0.createdAt, $0.id) }, limit: limit)
        }
    }

    public func latestRuns(jobs: [String], status: RunStatus?) async throws(StoreError) -> [String: RunRecord] {
        try await perform { tables throws(StoreError) in try tables.latestRuns(jobs: jobs, status: status) }
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

    public func slices(runId: String) async throws(StoreError) -> [SliceRecord] {
        try await perform { tables throws(StoreError) in try tables.slices(runId: runId) }
    }

    public func items(runId: String, status: String?) async throws(StoreError) -> [ItemRecord] {
        try await perform { tables throws(StoreError) in try tables.items(runId: runId, status: status) }
    }

    public func recordFires(_ fires: [FireRecord], at: Int64) async throws(StoreError) -> [Bool] {
        if fires.isEmpty { return [] }
        return try await perform { tables throws(StoreError) in try tables.recordFires(fires, at: at) }
    }

    public func createRuns(_ batch: [RunIntake], at: Int64) async throws(StoreError) -> [IntakeOutcome] {
        try await perform { tables throws(StoreError) in try tables.createRuns(batch, at: at) }
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

    public func heartbeat(_ daemon: DaemonRecord, liveMs: Int64) async throws(StoreError) -> [DaemonRecord] {
        try await perform { tables throws(StoreError) in try tables.heartbeat(daemon, liveMs: liveMs) }
    }

    public func forgetDaemon(owner: String) async throws(StoreError) {
        try await perform { tables throws(StoreError) in try tables.forgetDaemon(owner: owner) }
    }

    /// Unfinished runs are never deleted and do not count towards `keep`.
    public func prune(job: String, keep: Int) async throws(StoreError) -> Int {
        try await perform { tables throws(StoreError) in try tables.prune(job: job, keep: keep) }
    }

    // MARK: scheduling queries

    public func jobsWithUnfinishedRuns() async throws(StoreError) -> [String] {
        try await perform { tables throws(StoreError) in try tables.jobsWithUnfinishedRuns() }
    }

    public func unfinishedRuns(jobs: [String], limit: Int) async throws(StoreError) -> [String: [RunRecord]] {
        guard !jobs.isEmpty else { return [:] }
        return try await perform { tables throws(StoreError) in try tables.unfinishedRuns(jobs: jobs, limit: limit) }
    }

    public func jobStates(after version: Int64) async throws(StoreError) -> (states: [String: JobState], version: Int64) {
        try await perform { tables throws(StoreError) in
            let (states, latest) = try tables.jobStates(after: version)
            return JobStates(states: states, version: latest)
        }.pair
    }
}

/// A keyset start, Sendable (a tuple is not), for the hop to the store's queue.
private struct KeysetStart: Sendable {
    var createdAt: Int64
    var id: String
}

/// `jobStates(after:)`'s answer, Sendable for the hop back.
private struct JobStates: Sendable {
    var states: [String: JobState]
    var version: Int64
    var pair: (states: [String: JobState], version: Int64) { (states, version) }
}
