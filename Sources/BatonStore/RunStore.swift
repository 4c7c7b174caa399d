/// All durable state of baton's runs, behind one interface (SPEC §5): SQLite now,
/// PostgreSQL later, the same conformance suite for both. Every method is atomic;
/// implementations own their connection on a thread of their own, never blocking
/// Swift's cooperative pool.
public protocol RunStore: Sendable {
    /// Creates a run (status from `new.status`, nextSlice 1, nextAttempt 1).
    /// - Throws: `StoreError` (`.conflict` when the id exists).
    func createRun(_ new: NewRun) async throws(StoreError) -> RunRecord

    /// Records that slice (run, number, attempt) started, with outcome `running`, and
    /// renews the run's owner and lease; a `queued` run becomes `running` with it (its
    /// first slice has started). Idempotent for the same key.
    func startSlice(_ slice: SliceRecord, leaseExpiresAt: Int64?) async throws(StoreError)

    /// Takes a `queued` run that nobody holds (or whose holder's lease ran out before
    /// `now`) for `slice.owner` and records its first slice's start, in ONE transaction:
    /// the run becomes `running`, owned until `leaseExpiresAt`. Returns it, or nil
    /// (and changes nothing) when it is not queued or another owner holds it.
    func startQueued(_ slice: SliceRecord, leaseExpiresAt: Int64, now: Int64) async throws(StoreError) -> RunRecord?

    /// Commits a finished slice: the slice row, its items, and the run row as given,
    /// in ONE transaction. Returns the stored run.
    /// - Throws: `.notFound` for an unknown run.
    func finishSlice(_ completion: SliceCompletion) async throws(StoreError) -> RunRecord

    /// Replaces the run row's mutable fields (status, cursor, next slice/attempt,
    /// failedAttempts, error, finishedAt, owner, lease, cancelRequested, …) as given.
    /// For transitions without a slice: resume, cancel before a slice, lost-slice repair.
    func updateRun(_ run: RunRecord) async throws(StoreError) -> RunRecord

    /// `finishSlice`, blocking: for baton's own threads (a slice's poll thread commits
    /// the outcome the moment the process ends, with no hop between threads), never for
    /// Swift's cooperative pool.
    func finishSliceNow(_ completion: SliceCompletion) throws(StoreError) -> RunRecord

    /// Whether the run's cancel flag is set (`baton cancel` from another process),
    /// blocking, for the same threads as `finishSliceNow`.
    func cancelRequestedNow(runId: String) throws(StoreError) -> Bool

    /// Marks a running slice `lost` (its driver died) in the same transaction as
    /// `run` is written.
    func markSliceLost(runId: String, number: Int, attempt: Int, at: Int64, run: RunRecord) async throws(StoreError) -> RunRecord

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

    /// Sets the run's cancel flag; the process driving it sees it within a poll.
    /// Returns the run, or nil when there is none.
    func requestCancel(runId: String, at: Int64) async throws(StoreError) -> RunRecord?

    /// Takes ownership of a run when it has no owner, or `owner` already holds it, or
    /// its lease expired before `now`. Returns the run when claimed, nil otherwise.
    func claim(runId: String, owner: String, now: Int64, leaseExpiresAt: Int64) async throws(StoreError) -> RunRecord?

    /// Lets go of a run: clears owner and lease only while `owner` still holds it.
    /// Returns true when it did.
    func release(runId: String, owner: String) async throws(StoreError) -> Bool

    /// Takes back a slice's `running` start record that never ran (the driver stopped
    /// before starting it). Only a row still `running` is removed. Returns true when
    /// one was.
    func discardSlice(runId: String, number: Int, attempt: Int) async throws(StoreError) -> Bool

    /// Reopens a finished (cancelled, failed, partial) run for `owner`, who must hold
    /// it: status running, cancel flag and error cleared, retries afresh. Only those
    /// columns change, so nothing the run's last driver committed is rolled back.
    /// Returns the run, or nil when `owner` does not hold it.
    func reopen(runId: String, owner: String, at: Int64) async throws(StoreError) -> RunRecord?

    /// Records a fire of `job` at `scheduledAt` (epoch ms) and, when `run` is given,
    /// creates that run, in ONE transaction. Returns false (and changes nothing) when
    /// this fire was recorded already: whoever recorded it first acts on it.
    func recordFire(job: String, scheduledAt: Int64, kind: FireKind, run: NewRun?, at: Int64) async throws(StoreError) -> Bool

    /// Records many fires (each with its run, if any) in ONE transaction, so fires due
    /// at the same moment cost one commit. Returns, per fire, whether it was recorded
    /// here (false: another process recorded it first).
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

    /// Takes lock `name` (a job's `lock=`) for `runId`, held by `owner` until
    /// `expiresAt`, unless another run holds it: a holder is live while its run is
    /// unfinished and its lock has not expired. Taking a lock `runId` holds renews it.
    /// Returns nil when taken, else the run holding it.
    func acquireLock(name: String, runId: String, owner: String, now: Int64, expiresAt: Int64) async throws(StoreError) -> String?

    /// Extends every lock `owner` holds to `expiresAt` (the holder is alive).
    func renewLocks(owner: String, expiresAt: Int64) async throws(StoreError)

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
