import BatonHTTP
import BatonStore

extension API {
    /// How often `/metrics` reads each job's last successful run from the store: runs
    /// another process finished show within this; this process's own at once.
    static let successesReadEvery: Duration = .seconds(30)

    /// `GET /metrics`.
    func metricsText() async -> HTTPResponse {
        let snapshot = await scheduler.snapshot()
        var next = snapshot.next
        if !snapshot.fires {
            // baton serve fires nothing itself; the gauge shows when the schedules say.
            let now = Self.nowMs() / 1000
            for job in snapshot.set.jobs {
                next[job.name] = job.schedule.fires(after: now, zone: snapshot.set.zone(of: job), count: 1).first
            }
        }
        metrics.setNextFires(next.filter { !snapshot.paused.contains($0.key) })
        metrics.setDaemon(driving: snapshot.driving, roster: await options.roster?.snapshot())
        await readLastSuccesses(jobs: snapshot.set.jobs.map(\.name))
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", text: metrics.render())
    }

    /// Each job's last successful run from the store (a job's runs are indexed newest
    /// first), at most every `successesReadEvery`; a store that does not answer leaves
    /// what is known.
    func readLastSuccesses(jobs: [String]) async {
        let now = ContinuousClock.now
        let due = successesRead.withLock { last -> Bool in
            if let last, now - last < Self.successesReadEvery { return false }
            last = now
            return true
        }
        guard due else { return }
        // One store call for every job, not one each (thousands of jobs, one scrape).
        guard let latest = try? await engine.store.latestRuns(jobs: jobs, status: .succeeded) else { return }
        metrics.noteLastSuccesses(latest.mapValues { $0.finishedAt ?? $0.updatedAt })
    }
}
