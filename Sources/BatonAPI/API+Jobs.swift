import BatonCore
import BatonHTTP
import BatonReport
import BatonStore

/// `GET /jobs?history=N&offset=O&limit=L`: one page of jobs, each with its next three
/// fires, last success and last failure, and its last N runs (at most 30) oldest first:
/// what the dashboard's jobs view draws. Only the page's jobs are read from the store.
extension API {
    func jobHistory(_ query: [String: String]) async -> HTTPResponse {
        guard let history = Int(query["history"] ?? ""), (0...30).contains(history) else {
            return Self.error(400, "history must be a whole number from 0 to 30", hint: "e.g. /jobs?history=30")
        }
        let offset = Int(query["offset"] ?? "0") ?? -1
        let limit = Int(query["limit"] ?? "50") ?? 0
        guard offset >= 0, (1...500).contains(limit) else {
            return Self.error(400, "offset must be 0 or more and limit from 1 to 500", hint: "e.g. /jobs?history=30&offset=50&limit=50")
        }
        let snapshot = await scheduler.snapshot()
        let now = Self.nowMs()
        var jobs = snapshot.set.jobs
        if let name = query["job"], !name.isEmpty { jobs = jobs.filter { $0.name.contains(name) } }
        let page = Array(jobs.dropFirst(offset).prefix(limit))
        var list: [[String: Any]] = []
        do {
            let states = try await engine.store.jobStates()
            for job in page {
                let paused = states[job.name]?.paused ?? false
                let zone = snapshot.set.zone(of: job)
                let recent = try await engine.store.runs(job: job.name, status: nil, limit: max(1, history))
                var o = JobText.json(job, zone: zone, next: nil, last: recent.first, paused: paused, now: now / 1000)
                o["overlap"] = job.options.overlap.rawValue
                let after = max(now / 1000, (snapshot.fires ? snapshot.next[job.name] : nil).map { $0 - 1 } ?? now / 1000)
                let fires = paused ? [] : job.schedule.fires(after: after, zone: zone, count: 3)
                o["next_fires"] = fires.map { TimeText.rfc3339($0, zone: zone) }
                if let first = fires.first { o["next"] = TimeText.rfc3339(first, zone: zone); o["next_in"] = TimeText.relative(first - now / 1000) }
                if let ok = try await engine.store.runs(job: job.name, status: .succeeded, limit: 1).first {
                    o["last_success"] = ["run_id": ok.id, "at": RunText.time(ok.finishedAt ?? ok.createdAt)]
                }
                if let bad = try await engine.store.runs(job: job.name, status: .failed, limit: 1).first {
                    var f: [String: Any] = ["run_id": bad.id, "at": RunText.time(bad.finishedAt ?? bad.createdAt)]
                    if let why = RunText.endReason(bad) { f["reason"] = why }
                    o["last_failure"] = f
                }
                o["recent"] = recent.prefix(history).reversed().map { r -> [String: Any] in
                    ["run_id": r.id, "status": RunText.state(r, now: now), "duration_ms": RunText.elapsed(r, now: now),
                     "failed_items": r.counts.failed, "failed_on_items": r.failedOnItems]
                }
                list.append(o)
            }
        } catch {
            return Self.storeDown()
        }
        return Self.json(200, ["jobs": list, "total": jobs.count, "offset": offset, "firing": snapshot.fires])
    }
}
