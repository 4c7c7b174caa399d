import BatonCore
import BatonStore

/// What became of one due fire.
public enum FireResult: Sendable, Equatable {
    case started(RunRecord)
    /// Recorded `queued` and unowned: behind the job's unfinished run (overlap=queue),
    /// or beyond the drivers the firing process has free (`holdAtMost`).
    case queued(RunRecord)
    case skipped(String)
    /// Another process recorded this fire first and acts on it.
    case duplicate
}

/// A fire to act on: the job, its nominal time (Unix seconds), and its kind.
public struct DueFire: Sendable {
    public var job: Job
    public var at: Int64
    public var kind: FireKind
    public init(job: Job, at: Int64, kind: FireKind) { self.job = job; self.at = at; self.kind = kind }
}

extension RunEngine {
    /// Acts on one due fire; see `fireAll`.
    public func fire(_ job: Job, at: Int64, kind: FireKind) async throws(EngineError) -> FireResult {
        try await fireAll([DueFire(job: job, at: at, kind: kind)])[0]
    }

    /// Acts on due fires under each job's `overlap=` policy, against every unfinished run
    /// of the job whoever started it, and records them all, with the runs they start,
    /// in ONE transaction: fires due at the same moment cost one commit, and each
    /// happens exactly once however many processes see it due. A run that may start now
    /// is recorded `running` and held by this process (epoch 1: claiming the fire
    /// claims its run), for its driver here to start without another claim
    /// (`drive(…, claimed:)`); a run that waits is recorded `queued` and unowned, for
    /// whoever drives the job's runs to claim. A fired run this process never drives
    /// (it stopped first) is taken over once it is gone or its lease has run out.
    ///
    /// At most `holdAtMost` runs are held (what this process has free drivers for); the
    /// others that may start now are recorded `queued` and unowned too, so another
    /// process with a free driver takes them at once (on PostgreSQL it is told), instead
    /// of their waiting here behind this process's full hands.
    ///
    /// overlap=replace asks the old runs to stop only for a fire recorded here: a
    /// process that lost the fire to another must not cancel the run the winner started.
    public func fireAll(_ fires: [DueFire], holdAtMost: Int = .max) async throws(EngineError) -> [FireResult] {
        guard !fires.isEmpty else { return [] }
        let now = Self.nowMs()
        do {
            var unfinished = try await unfinishedRuns(of: fires.map { ($0.job.name, $0.job.options.overlap) })
            var records: [FireRecord] = []
            var planned: [FireResult] = []
            var replaces: [Int: [String]] = [:]
            var holds = max(0, holdAtMost)
            for f in fires {
                let job = f.job
                var status = RunStatus.running
                switch OverlapVerdict(job.options.overlap, busy: unfinished[job.name] ?? []) {
                case let .start(s): status = s
                case let .replace(old): replaces[records.count] = old
                case let .refuse(why):
                    records.append(FireRecord(job: job.name, scheduledAt: f.at * 1000, kind: .skipped, run: nil))
                    planned.append(.skipped(why))
                    continue
                }
                let trigger: Trigger = switch f.kind {
                case .cron, .skipped: .cron
                case .catchup: .catchup
                case .reboot: .reboot
                }
                if status == .running {
                    if holds > 0 { holds -= 1 } else { status = .queued }
                }
                let held = status == .running
                let new = NewRun(id: RunID.make(now), job: job.name, trigger: trigger, scheduledAt: f.at * 1000,
                                 createdAt: now, owner: held ? environment.owner : nil,
                                 leaseMs: held ? environment.leaseMs : nil, status: status)
                records.append(FireRecord(job: job.name, scheduledAt: f.at * 1000, kind: f.kind, run: new))
                let run = RunRecord(new)
                planned.append(status == .queued ? .queued(run) : .started(run))
                // A later fire of the same job in this batch sees this run as unfinished.
                unfinished[job.name, default: []].append(run)
            }
            let recorded = try await store.recordFires(records, at: now)
            // The fires won here: their old runs are asked to stop now that the
            // replacement is committed (a failure here does not undo the fire).
            for (i, old) in replaces.sorted(by: { $0.key < $1.key }) where recorded[i] {
                for id in old { _ = try? await store.requestCancel(runId: id, at: now) }
            }
            return zip(planned, recorded).map { $1 ? $0 : .duplicate }
        } catch {
            throw .store(error)
        }
    }
}
