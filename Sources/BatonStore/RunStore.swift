/// All durable state of baton's runs, behind one interface (SPEC §5): SQLite now,
/// PostgreSQL later, the same conformance suite for both. Every method is atomic;
/// implementations own their connection on a thread of their own, never blocking
/// Swift's cooperative pool.
public protocol RunStore: Sendable {
    /// Creates a run (status from `new.status`, nextSlice 1, nextAttempt 1). With
    /// `new.owner`, the run is created held by it: epoch 1, its lease `new.leaseMs` from
    /// the store's clock (`baton invoke` drives what it creates).
    /// - Throws: `StoreError` (`.conflict` when the id exists).
    func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord

    // MARK: Ownership. Every write a driver makes names its `Lease` (owner and epoch);
    // the store refuses it with `.fenced` once either no longer matches, and changes
    // nothing. Lease times are the store's clock, never the caller's.

    /// Takes `runId` for `owner` when nobody holds it, `owner` holds it already, its
    /// lease ran out by the store's clock, or it is held by `replacing` (an owner the
    /// caller has found dead: a process of this host that is gone). Every claim raises
    /// the run's epoch by one, so whoever held it before is fenced off. The lease lasts
    /// `leaseMs` from now. Returns the run as claimed, or nil (nothing changed) when
    /// another live owner holds it. Finished runs can be claimed (to reopen them).
    func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) async throws(StoreError) -> RunRecord?

    /// Extends the lease to `leaseMs` from now. Returns the new expiry (store clock).
    /// - Throws: `.fenced` when the lease is no longer the run's.
    func renew(_ lease: Lease, leaseMs: Int64) async throws(StoreError) -> Int64

    /// Lets go of the run (owner and lease cleared; the epoch stays). Returns false when
    /// `lease` no longer held it (nothing changed).
    func release(_ lease: Lease) async throws(StoreError) -> Bool

    // MARK: A run's life, one operation per state change, each one transaction.

    /// Records that slice (`start.number`, `start.attempt`) started: a `running` slice
    /// row, the run `running` (a `queued` run's first slice makes it so), the lease
    /// renewed to `leaseMs` from now. Conditional on the lease and on the run's next
    /// slice and attempt being the ones named.
    /// - Throws: `.fenced` (lease lost), `.conflict` (the run is not at that slice and
    ///   attempt, or is finished), `.notFound`.
    func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) async throws(StoreError) -> RunRecord

    /// Commits a finished slice: its row (the `running` one of its key), its items, and
    /// the run's progress (cursor, counts, next slice and attempt, status, …), in ONE
    /// transaction. A commit that ends the run lets go of it. Conditional on the lease
    /// and on that slice row still `running`.
    /// - Throws: `.fenced`, `.conflict` (the slice is not running any more), `.notFound`.
    func commitSlice(_ lease: Lease, _ commit: SliceCommit) async throws(StoreError) -> RunRecord

    /// Ends a run between slices (a cancel, its deadline, max-slices) with `status` and
    /// `error`, and lets go of it.
    /// - Throws: `.fenced`, `.notFound`.
    func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) async throws(StoreError) -> RunRecord

    /// Marks slice (`number`, `attempt`), found `running` after a takeover (its driver
    /// died or was fenced off), `lost`; the run's next attempt of that slice is
    /// `attempt + 1` with the same cursor.
    /// - Throws: `.fenced`, `.conflict` when that slice is not running.
    func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) async throws(StoreError) -> RunRecord

    /// Reopens a finished (cancelled, failed, partial) or cancel-flagged run for its
    /// lease holder: status running, cancel flag and error cleared, retries afresh.
    /// Nothing its last driver committed is rolled back.
    /// - Throws: `.fenced`, `.notFound`.
    func reopen(_ lease: Lease, at: Int64) async throws(StoreError) -> RunRecord

    /// Sets the run's cancel flag (any process may); its driver sees it within 250 ms.
    /// Returns the run, or nil when there is none. A finished run is returned as it is.
    func requestCancel(runId: String, at: Int64) async throws(StoreError) -> RunRecord?

    /// What a driver must learn about the runs it holds, in one read for all of them
    /// (a process's watch, every 250 ms): which have their cancel flag set, and which
    /// are no longer held by these leases (taken over: each with its `.fenced` error).
    func watch(_ leases: [Lease]) async throws(StoreError) -> RunWatch

    func run(id: String) async throws(StoreError) -> RunRecord?
    /// Newest first.
    func runs(job: String?, status: RunStatus?, limit: Int) async throws(StoreError) -> [RunRecord]
    /// Newest first, only runs older than `before` (created at, id) in that order: one
    /// page of history after another (the dashboard, `GET /runs?before=RUN`).
    func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)?, limit: Int) async throws(StoreError) -> [RunRecord]
    /// The newest run of each of `jobs` that has one (with `status`, only runs of that
    /// status: `/metrics`' last success), in one call rather than one per job
    /// (`baton jobs`, `GET /jobs`).
    func latestRuns(jobs: [String], status: RunStatus?) async throws(StoreError) -> [String: RunRecord]

    /// The runs started by `baton retry` of `runId`, newest first (an indexed read).
    func retries(of runId: String) async throws(StoreError) -> [RunRecord]

    /// How many runs have `status`, counting at most `upTo` of them (a bounded read:
    /// the webhook intake's backlog check). Every store answers it with `runs`;
    /// SQLite counts its index instead.
    func countRuns(status: RunStatus, upTo: Int) async throws(StoreError) -> Int

    /// The job's unfinished (running or queued) runs, OLDEST first: the order drivers
    /// take them in.
    func unfinishedRuns(job: String, limit: Int) async throws(StoreError) -> [RunRecord]
    /// In (number, attempt) order.
    func slices(runId: String) async throws(StoreError) -> [SliceRecord]
    /// In reporting order; `status` filters (e.g. "failed").
    func items(runId: String, status: String?) async throws(StoreError) -> [ItemRecord]

    /// Records fires (each with its run, if any) in ONE transaction, so fires due at the
    /// same moment cost one commit. A fire is unique on (job, nominal time): returns,
    /// per fire, whether it was recorded here (false: another process recorded it
    /// first, and nothing of it was written here).
    func recordFires(_ fires: [FireRecord], at: Int64) async throws(StoreError) -> [Bool]

    /// Creates runs from requests, each with its idempotency and replay keys, in ONE
    /// transaction (requests arriving together share a commit). A live idempotency key
    /// answers `.existing` with its first run, a live replay key `.replay`, and an intake
    /// with a `refusal` `.refused`; in each case nothing is written. Expired keys are
    /// forgotten.
    func createRuns(_ batch: [RunIntake], at: Int64) async throws(StoreError) -> [IntakeOutcome]

    /// Remembers a signed request that starts no run (a cancel) at `scope` (its
    /// endpoint) until `expiresAt`. Returns false when it was seen there before (a
    /// replay): nothing is written then.
    func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) async throws(StoreError) -> Bool

    /// Takes lock `name` (a job's `lock=`) for `runId`, held by `owner` for `leaseMs`,
    /// unless another run holds it: a holder is live while its run is unfinished and its
    /// lock has not expired. Taking a lock `runId` holds renews it. Expiry is written and
    /// judged by the store's clock, never a caller's, so processes whose clocks disagree
    /// still agree on who holds a lock. Returns nil when taken, else the run holding it.
    func acquireLock(name: String, runId: String, owner: String, leaseMs: Int64) async throws(StoreError) -> String?

    /// Extends every lock `owner` holds to `leaseMs` from now (the store's clock: the
    /// holder is alive).
    func renewLocks(owner: String, leaseMs: Int64) async throws(StoreError)

    /// Lets go of lock `name` if `runId` holds it.
    func releaseLock(name: String, runId: String) async throws(StoreError)

    /// The latest fire recorded of every job that has one (epoch ms), in one read.
    func lastFires() async throws(StoreError) -> [String: Int64]

    /// The latest fire recorded for `job` (epoch ms), or nil.
    func lastFire(job: String) async throws(StoreError) -> Int64?

    /// Pauses or unpauses a job (firing stops; runs already going are not touched).
    func setPaused(job: String, paused: Bool, at: Int64) async throws(StoreError)

    /// Every job that has state: paused or not, and since when.
    func jobStates() async throws(StoreError) -> [String: JobState]

    /// Deletes finished runs of `job` beyond the newest `keep`, with their slices and items.
    /// Returns how many runs were deleted.
    func prune(job: String, keep: Int) async throws(StoreError) -> Int

    // MARK: scheduling queries

    /// The jobs that have unfinished (running or queued) runs, each once, in name
    /// order: where a starting daemon or tick has runs to drive. An indexed read that
    /// costs one probe per such job, however many runs they hold.
    func jobsWithUnfinishedRuns() async throws(StoreError) -> [String]

    /// The oldest `limit` unfinished runs of each of `jobs` (oldest first), in one call:
    /// what `overlap=` decides a batch of fires or requests against.
    func unfinishedRuns(jobs: [String], limit: Int) async throws(StoreError) -> [String: [RunRecord]]

    /// The states of the jobs paused or unpaused after `version` (0: every job with
    /// state), and the version to ask from next time. Versions grow with each change,
    /// in commit order, whoever made it, so a daemon sees another process's pause by
    /// an indexed read of what changed since it last looked.
    func jobStates(after version: Int64) async throws(StoreError) -> (states: [String: JobState], version: Int64)

    // MARK: daemons

    /// Records or refreshes `daemon`'s row, stamped with the store's clock, and returns
    /// every daemon heard of within the last `liveMs` (this one included), oldest start
    /// first. Rows not refreshed for a day are deleted on the way.
    func heartbeat(_ daemon: DaemonRecord, liveMs: Int64) async throws(StoreError) -> [DaemonRecord]

    /// Deletes a daemon's row: it stopped cleanly. Unknown owners are ignored.
    func forgetDaemon(owner: String) async throws(StoreError)

    /// Other processes' changes as they happen (new waiting runs, cancels, pauses, runs
    /// let go or ended), or nil when this store gives none (SQLite: its daemons poll).
    /// The same feed on every call; its source starts at the first subscription. No
    /// default: a store that wraps another must pass its feed on.
    func changeFeed() -> StoreChangeFeed?
}

extension RunStore {
    public func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)?, limit: Int) async throws(StoreError) -> [RunRecord] {
        guard let before else { return try await runs(job: job, status: status, limit: limit) }
        // A store without a keyset query reads from the newest: correct, not fast.
        let all = try await runs(job: job, status: status, limit: Int.max / 2)
        return Array(all.filter { ($0.createdAt, $0.id) < before }.prefix(limit))
    }

    public func countRuns(status: RunStatus, upTo: Int) async throws(StoreError) -> Int {
        try await runs(job: nil, status: status, limit: upTo).count
    }
}

extension RunStore {
    /// The newest run of each of `jobs`, whatever its status.
    public func latestRuns(jobs: [String]) async throws(StoreError) -> [String: RunRecord] {
        try await latestRuns(jobs: jobs, status: nil)
    }
}
