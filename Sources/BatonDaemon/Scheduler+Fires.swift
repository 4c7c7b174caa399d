import BatonConfig
import BatonCore
import BatonEngine
import BatonStore

/// Each job's next fire: a heap to wake for the earliest, and a map to tell a current
/// entry from one a reload or a clock jump made stale.
struct FirePlan {
    var heap = FireHeap()
    var next: [String: Int64] = [:]
    /// A store operation of this scheduler failed for a reason that may pass (an
    /// outage): nothing fires until the store answers again, and then what fires is
    /// planned afresh from the store's last recorded fire of each job and its
    /// `misfire=`, as after a restart (`catchUpAfterOutage`), never from this
    /// process's memory of the fires it could not record.
    var catchUpPending = false
    /// Fires waiting out their `jitter=` delay (`fireAfterJitter`): `tick` stays until
    /// they are recorded.
    var delayed = 0
    /// `tick`'s end: no jitter delay is drawn past it (less a second to record the fire).
    var endBy: ContinuousClock.Instant?

    mutating func removeAll() { heap.removeAll(); next.removeAll() }
}

/// Paused jobs as the store says, and the version read up to (`RunStore.jobStates(after:)`).
struct Pauses {
    var paused: Set<String> = []
    var version: Int64 = 0
}

extension Scheduler {
    /// Fire times of `jobs` from `now`, with catch-up of missed fires per `misfire=`
    /// (`MisfirePlan`, the rule `tick` follows too): one read of every job's last fire,
    /// and the fires due recorded in one commit.
    func plan(all jobs: [Job], now: Int64, catchUp: Bool, lastFires known: [String: Int64]? = nil) async {
        var due: [DueFire] = []
        var last: [String: Int64] = known ?? [:]
        if catchUp, known == nil {
            do { last = try await store.lastFires() } catch {
                // In an outage nothing is planned now; the catch-up plans it all later.
                if storeFailed("reading the last fires", error) { return }
            }
        }
        for job in jobs {
            if job.schedule == .reboot {
                if catchUp, let boot = Boot.time(), !pauses.paused.contains(job.name) {
                    due.append(DueFire(job: job, at: boot, kind: .reboot))
                }
                continue
            }
            guard catchUp else { schedule(job, after: now); continue }
            let plan = MisfirePlan.plan(job.schedule, zone: set.zone(of: job), policy: job.options.misfire,
                                        lastFire: last[job.name].map { $0 / 1000 }, now: now)
            if plan.dropped > 0 { report(.misfire(job: job.name, dropped: plan.dropped, policy: job.options.misfire.rawValue)) }
            if !pauses.paused.contains(job.name) {
                for fire in plan.due {
                    // An on-time fire takes its jitter= delay (a catch-up fire is late already).
                    if !fire.catchUp, job.options.jitter > .zero {
                        fireAfterJitter(DueFire(job: job, at: fire.at, kind: .cron))
                    } else {
                        due.append(DueFire(job: job, at: fire.at, kind: fire.catchUp ? .catchup : .cron))
                    }
                }
            }
            if let next = plan.next { push(job.name, at: next) } else { fires.next[job.name] = nil }
        }
        // Oldest first, so a job's catch-up runs queue in order.
        await fire(due.sorted { $0.at < $1.at })
    }

    /// The job's next fire after `t`. `@every` is on the epoch grid, cron expressions
    /// on the calendar: every daemon and every restart computes the same fires.
    func schedule(_ job: Job, after t: Int64) {
        guard let at = job.schedule.fires(after: t, zone: set.zone(of: job), count: 1).first else {
            fires.next[job.name] = nil
            return
        }
        push(job.name, at: at)
    }

    func push(_ name: String, at: Int64) {
        fires.next[name] = at
        fires.heap.push(.init(at: at, job: name))
    }

    /// After a store outage (`FirePlan.catchUpPending`): once the store answers, plans
    /// every job again from its last fire recorded in the store (by any daemon) and
    /// its `misfire=`, exactly as at a start after all daemons were down. A fire that
    /// could not be recorded is thereby neither lost nor run twice.
    func catchUpAfterOutage() async {
        let last: [String: Int64]
        do { last = try await store.lastFires() } catch {
            _ = storeFailed("reading the last fires", error)
            return
        }
        fires.removeAll()
        await plan(all: set.jobs, now: wallSeconds(), catchUp: true, lastFires: last)
    }

    /// Reports a store failure of the scheduler's own, unless it is an outage (which
    /// the store's monitor logs once, `StoreHealth`): then a catch-up is due once the
    /// store answers. Returns whether it was an outage.
    @discardableResult
    func storeFailed(_ what: String, _ error: StoreError) -> Bool {
        guard StoreHealth.mayPass(error) else {
            report(.error("\(what): \(error.description)"))
            return false
        }
        if options.fires { fires.catchUpPending = true }
        return true
    }

    /// Everything due now, recorded in one commit, then driven. A job with several fires
    /// due at once (the loop was held up: a store that kept it waiting, a stopped
    /// process) runs each of them under `misfire=all` and only the newest under `skip`
    /// and `once`, as a restart would; the older ones count as misfires.
    func fireDue() async {
        var batch: [DueFire] = []
        var superseded: [String: Int] = [:]
        let now = wallSeconds()
        while let top = fires.heap.top, top.at <= now {
            _ = fires.heap.pop()
            guard fires.next[top.job] == top.at, let job = set.job(named: top.job) else { continue }
            schedule(job, after: top.at)
            if job.options.misfire != .all, !pauses.paused.contains(job.name), let next = fires.next[job.name], next <= now {
                superseded[job.name, default: 0] += 1
                continue
            }
            if !pauses.paused.contains(job.name) {
                if job.options.jitter > .zero {
                    fireAfterJitter(DueFire(job: job, at: top.at, kind: .cron))
                } else {
                    batch.append(DueFire(job: job, at: top.at, kind: .cron))
                }
            }
        }
        for (name, dropped) in superseded.sorted(by: { $0.key < $1.key }) {
            let policy = set.job(named: name)?.options.misfire.rawValue ?? "skip"
            report(.misfire(job: name, dropped: dropped, policy: policy))
        }
        await fire(batch)
    }

    /// A cron fire of a job with `jitter=`: recorded and started at a random instant
    /// from its nominal time to `jitter=` after it; the nominal time stays the fire's
    /// (`scheduled_at`, the fire record). Under `tick`, no later than a second before
    /// the tick's end, and the tick waits for it (`fires.delayed`).
    func fireAfterJitter(_ due: DueFire) {
        let jitter = DurationText.milliseconds(due.job.options.jitter)
        var delay = due.at * 1000 + Int64.random(in: 0...jitter) - options.wallClock()
        if let end = fires.endBy {
            let left = ContinuousClock.now.duration(to: end) - .seconds(1)
            delay = min(delay, DurationText.milliseconds(max(left, .zero)))
        }
        fires.delayed += 1
        Task {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            await self.fireDelayed(due)
        }
    }

    func fireDelayed(_ due: DueFire) async {
        fires.delayed -= 1
        await fire([due])
        wake.signal()
    }

    /// Records the fires (one commit), hands each run that may start now to a driver at
    /// once (no store read, no wait for this actor), then logs them.
    func fire(_ batch: [DueFire]) async {
        guard !batch.isEmpty, isRunning else { return }
        let results: [FireResult]
        // Runs beyond this daemon's free drivers are recorded unheld: another daemon
        // with a free driver takes them at once, rather than their waiting here.
        let free = options.drives ? max(0, options.maxConcurrent - pool.taken - pool.readyCount - pool.reserved) : 0
        // Held for this batch's held runs while it is recorded: a run recorded unheld
        // (told to this daemon too) must not take the slot first.
        pool.firing += free
        do {
            results = try await engine.fireAll(batch, holdAtMost: free)
            pool.firing -= free
        } catch {
            pool.firing -= free
            // Not recorded: in an outage the catch-up decides these fires later.
            if case let .store(e) = error { storeFailed("fire", e) } else { report(.error("fire: \(error.description)")) }
            return
        }
        for result in results {
            switch result {
            case let .started(run): accept(run)
            case let .queued(run): acceptQueued(run)
            case .skipped, .duplicate: continue
            }
        }
        // Jobs that waited while the slots were held for this batch.
        if isRunning { serveWaiting() }
        for (f, result) in zip(batch, results) {
            switch result {
            case let .started(run): report(.fired(job: f.job.name, run: run.id, at: f.at, result: f.kind.rawValue))
            case let .queued(run): report(.fired(job: f.job.name, run: run.id, at: f.at, result: "queued"))
            case let .skipped(why): report(.fired(job: f.job.name, run: nil, at: f.at, result: "skipped: \(why)"))
            case .duplicate: continue
            }
        }
    }

    /// Reads the pauses and unpauses made since the last look, by any process (an
    /// indexed read of what changed, usually nothing).
    func refreshPauses() async {
        do {
            let changes = try await store.jobStates(after: pauses.version)
            for (job, state) in changes.states {
                if state.paused { pauses.paused.insert(job) } else { pauses.paused.remove(job) }
            }
            pauses.version = changes.version
        } catch {
            storeFailed("reading paused jobs", error)
        }
    }

    /// A pause or unpause made in this process (the API): seen at once, not at the next look.
    public func jobStatesChanged() async {
        await refreshPauses()
    }
}
