import BatonCore
import BatonEngine
import BatonStore

/// Who drives which run: at most `--max-concurrent` drivers in all, one per job (as
/// many as slots allow for overlap=allow), each taking the job's runs oldest first.
struct DriverPool {
    /// Drivers going, in all and per job.
    var drivers = 0
    var perJob: [String: Int] = [:]
    /// The runs being driven here (run id -> its control).
    var active: [String: RunControl] = [:]
    /// Runs recorded here (fires, requests, on-failure=) that no driver took yet, per
    /// job, oldest first: a driver takes these without reading the store.
    var ready: [String: [RunRecord]] = [:]
    /// Jobs waiting for a free slot, first come first served.
    var waiting: [String] = []
    var waitingSet: Set<String> = []
    /// Jobs whose runs in the store may hold more than `ready` (runs recorded by another
    /// process, a run a driver could not take): their driver reads the store.
    var recheck: Set<String> = []
    /// Runs another process drove when tried, left alone for a while.
    var heldElsewhere: [String: ContinuousClock.Instant] = [:]
    /// Jobs (one run at a time) whose next run waits behind a run another process
    /// drives: a change feed's `.runEnded` for the job starts their driver again.
    var behindElsewhere: Set<String> = []
    /// Jobs whose next run waits for its lock=.
    var lockWaiting: Set<String> = []
    /// Slots held for runs requests are recording (Scheduler+Intake).
    var reserved = 0
    /// Slots held for the runs a fire being recorded holds (Scheduler+Fires): a run
    /// another process told of meanwhile must not take the slot its held run needs.
    var firing = 0
    /// Slots taken: drivers going, and those held for a fire being recorded.
    var taken: Int { drivers + firing }
    /// Runs a drain stopped before they ended: the drain names them in the log.
    var leftBehind: [RunRecord] = []
    var lastLockRenewal = ContinuousClock.now

    mutating func enqueue(_ job: String) {
        if waitingSet.insert(job).inserted { waiting.append(job) }
    }

    mutating func dequeue() -> String? {
        guard !waiting.isEmpty else { return nil }
        let job = waiting.removeFirst()
        waitingSet.remove(job)
        return job
    }

    var readyCount: Int { ready.values.reduce(0) { $0 + $1.count } }
}

/// What became of one drive.
enum DriveOutcome: Sendable {
    /// It ran; `finished`: it ended (else a drain or a stop left it).
    case drove(RunRecord)
    /// Its lock= is held by `holder`: it waits, nothing of it started.
    case lockHeld(lock: String, holder: String)
    case heldElsewhere
    /// It stopped on an error (nil: a store outage, which the store's monitor logs).
    case failed(String?)
}

extension Scheduler {
    /// Hands a run recorded here to the job's driver (or starts one).
    func accept(_ run: RunRecord) {
        pool.ready[run.job, default: []].append(run)
        driveQueue(run.job)
    }

    /// A run fired behind its job's unfinished one (overlap=queue) goes through the
    /// store, never this daemon's memory: the run ahead may be another daemon's (or
    /// become one, taken over), and `nextRun` reads the store and waits behind it; taken
    /// from memory, the queued run would run beside it. A driver of the job going here
    /// reads the store after its run; else one starts and reads it now.
    func acceptQueued(_ run: RunRecord) {
        pool.recheck.insert(run.job)
        driveQueue(run.job)
    }

    /// Starts a driver for the job's runs, bounded by --max-concurrent drivers in all: a
    /// job with overlap=allow has up to that many of its runs going side by side; any
    /// other job one at a time (a queued run starts when the one before it ends).
    func driveQueue(_ name: String) {
        guard isRunning, options.drives, let job = set.job(named: name) else { return }
        let limit = job.options.overlap == .allow ? options.maxConcurrent : 1
        if pool.perJob[name, default: 0] >= limit {
            // A driver of this job is going: it looks again before it stops.
            pool.recheck.insert(name)
            return
        }
        if pool.taken >= options.maxConcurrent { return pool.enqueue(name) }
        pool.drivers += 1
        pool.perJob[name, default: 0] += 1
        // Its first run is taken here, so it starts driving without coming back to this
        // actor: fifty fires due together start fifty drivers at once.
        let first = takeReady(job)
        Task.detached { await self.driver(job, first: first) }
    }

    /// One driver: drives the job's runs one after the other until none is left to it.
    nonisolated func driver(_ job: Job, first: (RunRecord, RunControl)?) async {
        var next = first
        if next == nil { next = await nextRun(of: job) }
        while let (run, control) = next {
            let outcome = await drive(run, of: job, control: control)
            next = await finished(run, outcome, of: job)
        }
        await driverEnded(job)
    }

    /// A run recorded here for `job`, now marked as driven.
    func takeReady(_ job: Job) -> (RunRecord, RunControl)? {
        guard var runs = pool.ready[job.name] else { return nil }
        defer { pool.ready[job.name] = runs.isEmpty ? nil : runs }
        while !runs.isEmpty {
            let run = runs.removeFirst()
            if pool.active[run.id] == nil { return (run, activate(run.id)) }
        }
        return nil
    }

    func activate(_ id: String) -> RunControl {
        let control = RunControl()
        if case let .draining(hard, _) = state { control.request(hard ? .kill : .drain) }
        pool.active[id] = control
        return control
    }

    /// The job's next run: one recorded here, else (when the store may hold others)
    /// the oldest in the store that nobody else holds, read afresh.
    func nextRun(of job: Job) async -> (RunRecord, RunControl)? {
        while isRunning {
            if let ready = takeReady(job) { return ready }
            guard pool.recheck.remove(job.name) != nil else { return nil }
            let now = ContinuousClock.now, wall = Self.wallMilliseconds(), me = engine.environment.owner
            pool.heldElsewhere = pool.heldElsewhere.filter { now - $0.value < .seconds(10) }
            let runs: [RunRecord]
            do {
                runs = try await store.unfinishedRuns(job: job.name, limit: pool.active.count + pool.heldElsewhere.count + 8)
            } catch {
                storeFailed("reading the runs of \(job.name)", error)
                return nil
            }
            // A job that runs one run at a time waits while another process drives one of
            // its runs: its queued runs go after it (told by `.runEnded`, or the next look),
            // not beside it on this daemon.
            if job.options.overlap != .allow, runs.contains(where: { pool.active[$0.id] == nil && Self.heldElsewhere($0, me: me, wall: wall) }) {
                pool.behindElsewhere.insert(job.name)
                return nil
            }
            // Taken after the read, with no suspension before it is marked active, so two
            // drivers of one job never take the same run. A run another live process
            // holds is left to it (no claim is tried).
            if let run = runs.first(where: { r in
                pool.active[r.id] == nil && pool.heldElsewhere[r.id] == nil && !Self.heldElsewhere(r, me: me, wall: wall)
            }) {
                pool.ready[job.name]?.removeAll { $0.id == run.id }
                // More may follow: look again after this one.
                pool.recheck.insert(job.name)
                return (run, activate(run.id))
            }
        }
        return nil
    }

    /// Whether another live process holds `run`: another owner, its lease not run out
    /// (`wall`, ms), and not a process of this host that is gone.
    static func heldElsewhere(_ run: RunRecord, me: String, wall: Int64) -> Bool {
        guard let owner = run.owner, owner != me else { return false }
        return (run.leaseExpiresAt ?? .max) >= wall && !RunID.isDeadLocalOwner(owner)
    }

    /// Drives one run of `job` with its lock=, off this actor.
    nonisolated func drive(_ run: RunRecord, of job: Job, control: RunControl) async -> DriveOutcome {
        let store = self.store, engine = self.engine
        if let lock = job.options.lock {
            do {
                if let holder = try await store.acquireLock(name: lock, runId: run.id, owner: engine.environment.owner,
                                                            leaseMs: Self.lockLeaseMs) {
                    return .lockHeld(lock: lock, holder: holder)
                }
            } catch {
                return .lockHeld(lock: lock, holder: "(the store did not answer: \(error.description))")
            }
        }
        let outcome: DriveOutcome
        do {
            // A run this process just fired is held by it already (epoch 1): driven
            // without another claim while that hold is surely alive (half its lease).
            let env = engine.environment
            let fresh = run.owner == env.owner && run.epoch == 1 && Self.wallMilliseconds() - run.createdAt < env.leaseMs / 2
            outcome = .drove(try await engine.drive(runId: run.id, job: JobRunSpec(job), control: control, known: run,
                                                    claimed: fresh ? run : nil))
        } catch {
            if case .heldElsewhere = error { outcome = .heldElsewhere } else if case let .store(e) = error, StoreHealth.mayPass(e) {
                // An outage (logged once by the store's monitor): the run stays unfinished
                // in the store, held by this process, and a look for leftovers takes it up.
                outcome = .failed(nil)
            } else {
                outcome = .failed("run \(run.id) of \(job.name): \(error.description)")
            }
        }
        if let lock = job.options.lock { try? await store.releaseLock(name: lock, runId: run.id) }
        return outcome
    }

    /// After a drive: the bookkeeping, on-failure=, and the driver's next run (nil: it stops).
    func finished(_ run: RunRecord, _ outcome: DriveOutcome, of job: Job) async -> (RunRecord, RunControl)? {
        pool.active[run.id] = nil
        switch outcome {
        case let .drove(done):
            if job.options.lock != nil { lockFreed(by: job) }
            if !isRunning && !done.status.isFinished { pool.leftBehind.append(done) }
            // Only the drive that made it fail follows on-failure= (not one that found it failed).
            if done.status == .failed, !run.status.isFinished { await startOnFailure(of: done, job: job) }
            guard done.status.isFinished else { return nil }
        case let .lockHeld(lock, holder):
            // It waits, at the head of the job's line: tried again each second, or when
            // a run of this process lets a lock go.
            pool.ready[job.name, default: []].insert(run, at: 0)
            if pool.lockWaiting.insert(job.name).inserted { report(.lockWait(job: job.name, lock: lock, holder: holder)) }
            return nil
        case .heldElsewhere:
            if job.options.lock != nil { lockFreed(by: job) }
            // Another process drives it. With overlap=allow the job's other runs may go
            // on; otherwise they wait behind it (its end, told by the change feed, or the
            // next look starts them).
            guard job.options.overlap == .allow else {
                pool.behindElsewhere.insert(job.name)
                return nil
            }
            pool.heldElsewhere[run.id] = .now
            pool.recheck.insert(job.name)
        case let .failed(why):
            if job.options.lock != nil { lockFreed(by: job) }
            if let why { report(.error(why)) }
            return nil
        }
        pool.lockWaiting.remove(job.name)
        // A driver gives its slot to a job that waits for one (this job goes to the back
        // of the line), so a job with a steady stream of runs cannot starve the others.
        if isRunning, !pool.waiting.isEmpty {
            if pool.ready[job.name] != nil || pool.recheck.contains(job.name) { pool.enqueue(job.name) }
            return nil
        }
        return await nextRun(of: job)
    }

    /// The jobs waiting for a slot, first come first served, while slots are free.
    func serveWaiting() {
        while pool.taken < options.maxConcurrent, let next = pool.dequeue() { driveQueue(next) }
    }

    func driverEnded(_ job: Job) {
        pool.drivers -= 1
        pool.perJob[job.name, default: 1] -= 1
        if pool.perJob[job.name] == 0 { pool.perJob[job.name] = nil }
        if isRunning {
            // Runs that came while it was finishing, then the jobs waiting for a slot.
            if pool.ready[job.name] != nil, !pool.lockWaiting.contains(job.name) { driveQueue(job.name) }
            serveWaiting()
        }
        driversChanged()
    }

    /// Drives the runs left unfinished (a drain, a crash, another process's fires, a
    /// webhook intake elsewhere): one indexed read names the jobs that have any, so
    /// 10,000 idle jobs cost nothing.
    func driveLeftovers() async {
        guard options.drives else { return }
        let names: [String]
        do { names = try await store.jobsWithUnfinishedRuns() } catch {
            storeFailed("reading unfinished runs", error)
            return
        }
        // A job with a driver going here is looked at too: driveQueue starts another
        // driver if the job's limit allows (overlap=allow), else the driver going reads
        // the store before it stops. Skipping it left a dead daemon's run of a job that
        // always has a run going here (fires every second, runs longer) waiting forever.
        for name in names where set.job(named: name) != nil && !pool.lockWaiting.contains(name) {
            pool.recheck.insert(name)
            driveQueue(name)
        }
    }

    /// Asks a run this process drives to stop gracefully (its slice gets SIGTERM, the
    /// cursor is committed). Returns false when this process does not drive it (a run
    /// recorded here and not started yet is let go: the caller cancels it).
    public func cancel(runId: String) -> Bool {
        if let control = pool.active[runId] {
            control.request(.cancel)
            return true
        }
        for (job, runs) in pool.ready where runs.contains(where: { $0.id == runId }) {
            pool.ready[job]?.removeAll { $0.id == runId }
            if pool.ready[job]?.isEmpty == true { pool.ready[job] = nil }
        }
        return false
    }

    /// Drives the job's unfinished runs now (a request recorded one elsewhere).
    public func drive(job name: String) {
        pool.recheck.insert(name)
        driveQueue(name)
    }
}
