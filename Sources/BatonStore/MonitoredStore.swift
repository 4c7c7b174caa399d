/// A `RunStore` that tells its `StoreHealth` how each operation went, so that a daemon
/// logs a store outage once when it begins and once when it ends, however many
/// operations fail in between (`baton run`, `serve` and `tick` open their store
/// through it). Every call goes straight to `base`; a successful one costs one
/// relaxed atomic load more.
public final class MonitoredStore: RunStore {
    public let base: any RunStore
    public let health: StoreHealth

    public init(_ base: any RunStore, health: StoreHealth) { self.base = base; self.health = health }

    private func watched<T>(_ operation: String, _ body: () async throws(StoreError) -> T) async throws(StoreError) -> T {
        do {
            let value = try await body()
            health.succeeded()
            return value
        } catch {
            health.failed(operation, error)
            throw error
        }
    }

    public func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord {
        try await watched("createRun") { () async throws(StoreError) in try await base.createRun(new) }
    }

    public func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) async throws(StoreError) -> RunRecord? {
        try await watched("claim") { () async throws(StoreError) in
            try await base.claim(runId: runId, owner: owner, leaseMs: leaseMs, replacing: replacing)
        }
    }

    public func renew(_ lease: Lease, leaseMs: Int64) async throws(StoreError) -> Int64 {
        try await watched("renew") { () async throws(StoreError) in try await base.renew(lease, leaseMs: leaseMs) }
    }

    public func release(_ lease: Lease) async throws(StoreError) -> Bool {
        try await watched("release") { () async throws(StoreError) in try await base.release(lease) }
    }

    public func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) async throws(StoreError) -> RunRecord {
        try await watched("startSlice") { () async throws(StoreError) in
            try await base.startSlice(lease, start, leaseMs: leaseMs)
        }
    }

    public func commitSlice(_ lease: Lease, _ commit: SliceCommit) async throws(StoreError) -> RunRecord {
        try await watched("commitSlice") { () async throws(StoreError) in try await base.commitSlice(lease, commit) }
    }

    public func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) async throws(StoreError) -> RunRecord {
        try await watched("endRun") { () async throws(StoreError) in
            try await base.endRun(lease, status: status, error: error, at: at)
        }
    }

    public func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) async throws(StoreError) -> RunRecord {
        try await watched("markSliceLost") { () async throws(StoreError) in
            try await base.markSliceLost(lease, number: number, attempt: attempt, at: at)
        }
    }

    public func reopen(_ lease: Lease, at: Int64) async throws(StoreError) -> RunRecord {
        try await watched("reopen") { () async throws(StoreError) in try await base.reopen(lease, at: at) }
    }

    public func requestCancel(runId: String, at: Int64) async throws(StoreError) -> RunRecord? {
        try await watched("requestCancel") { () async throws(StoreError) in
            try await base.requestCancel(runId: runId, at: at)
        }
    }

    public func recordFires(_ fires: [FireRecord], at: Int64) async throws(StoreError) -> [Bool] {
        try await watched("recordFires") { () async throws(StoreError) in try await base.recordFires(fires, at: at) }
    }

    public func createRuns(_ batch: [RunIntake], at: Int64) async throws(StoreError) -> [IntakeOutcome] {
        try await watched("createRuns") { () async throws(StoreError) in try await base.createRuns(batch, at: at) }
    }

    public func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) async throws(StoreError) -> Bool {
        try await watched("rememberRequest") { () async throws(StoreError) in
            try await base.rememberRequest(signature: signature, scope: scope, at: at, expiresAt: expiresAt)
        }
    }

    public func acquireLock(name: String, runId: String, owner: String, leaseMs: Int64) async throws(StoreError) -> String? {
        try await watched("acquireLock") { () async throws(StoreError) in
            try await base.acquireLock(name: name, runId: runId, owner: owner, leaseMs: leaseMs)
        }
    }

    public func renewLocks(owner: String, leaseMs: Int64) async throws(StoreError) {
        try await watched("renewLocks") { () async throws(StoreError) in try await base.renewLocks(owner: owner, leaseMs: leaseMs) }
    }

    public func releaseLock(name: String, runId: String) async throws(StoreError) {
        try await watched("releaseLock") { () async throws(StoreError) in
            try await base.releaseLock(name: name, runId: runId)
        }
    }

    public func setPaused(job: String, paused: Bool, at: Int64) async throws(StoreError) {
        try await watched("setPaused") { () async throws(StoreError) in
            try await base.setPaused(job: job, paused: paused, at: at)
        }
    }

    public func prune(job: String, keep: Int) async throws(StoreError) -> Int {
        try await watched("prune") { () async throws(StoreError) in try await base.prune(job: job, keep: keep) }
    }

    public func watch(_ leases: [Lease]) async throws(StoreError) -> RunWatch {
        try await watched("watch") { () async throws(StoreError) in try await base.watch(leases) }
    }

    public func run(id: String) async throws(StoreError) -> RunRecord? {
        try await watched("run") { () async throws(StoreError) in try await base.run(id: id) }
    }

    public func runs(job: String?, status: RunStatus?, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await watched("runs") { () async throws(StoreError) in
            try await base.runs(job: job, status: status, limit: limit)
        }
    }

    public func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)?, limit: Int)
        async throws(StoreError) -> [RunRecord] {
        try await watched("runs") { () async throws(StoreError) in
            try await base.runs(job: job, status: status, before: before, limit: limit)
        }
    }

    public func latestRuns(jobs: [String], status: RunStatus?) async throws(StoreError) -> [String: RunRecord] {
        try await watched("latestRuns") { () async throws(StoreError) in
            try await base.latestRuns(jobs: jobs, status: status)
        }
    }

    public func retries(of runId: String) async throws(StoreError) -> [RunRecord] {
        try await watched("retries") { () async throws(StoreError) in try await base.retries(of: runId) }
    }

    public func countRuns(status: RunStatus, upTo: Int) async throws(StoreError) -> Int {
        try await watched("countRuns") { () async throws(StoreError) in
            try await base.countRuns(status: status, upTo: upTo)
        }
    }

    public func unfinishedRuns(job: String, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await watched("unfinishedRuns") { () async throws(StoreError) in
            try await base.unfinishedRuns(job: job, limit: limit)
        }
    }

    public func slices(runId: String) async throws(StoreError) -> [SliceRecord] {
        try await watched("slices") { () async throws(StoreError) in try await base.slices(runId: runId) }
    }

    public func items(runId: String, status: String?) async throws(StoreError) -> [ItemRecord] {
        try await watched("items") { () async throws(StoreError) in try await base.items(runId: runId, status: status) }
    }

    public func lastFires() async throws(StoreError) -> [String: Int64] {
        try await watched("lastFires") { () async throws(StoreError) in try await base.lastFires() }
    }

    public func lastFire(job: String) async throws(StoreError) -> Int64? {
        try await watched("lastFire") { () async throws(StoreError) in try await base.lastFire(job: job) }
    }

    public func jobStates() async throws(StoreError) -> [String: JobState] {
        try await watched("jobStates") { () async throws(StoreError) in try await base.jobStates() }
    }

    public func jobsWithUnfinishedRuns() async throws(StoreError) -> [String] {
        try await watched("jobsWithUnfinishedRuns") { () async throws(StoreError) in
            try await base.jobsWithUnfinishedRuns()
        }
    }

    public func unfinishedRuns(jobs: [String], limit: Int) async throws(StoreError) -> [String: [RunRecord]] {
        try await watched("unfinishedRuns") { () async throws(StoreError) in
            try await base.unfinishedRuns(jobs: jobs, limit: limit)
        }
    }

    public func heartbeat(_ daemon: DaemonRecord, liveMs: Int64) async throws(StoreError) -> [DaemonRecord] {
        try await watched("heartbeat") { () async throws(StoreError) in try await base.heartbeat(daemon, liveMs: liveMs) }
    }

    public func forgetDaemon(owner: String) async throws(StoreError) {
        try await watched("forgetDaemon") { () async throws(StoreError) in try await base.forgetDaemon(owner: owner) }
    }

    public func jobStates(after version: Int64) async throws(StoreError) -> (states: [String: JobState], version: Int64) {
        try await watched("jobStates") { () async throws(StoreError) in try await base.jobStates(after: version) }
    }

    /// The wrapped store's feed: without it a daemon on PostgreSQL would only poll.
    public func changeFeed() -> StoreChangeFeed? { base.changeFeed() }
}
