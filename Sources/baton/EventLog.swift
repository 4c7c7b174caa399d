import BatonReport
import BatonAPI
import BatonDaemon
import BatonEngine
import BatonStore
import Foundation

/// baton's own log on stderr, one line per event (SPEC §4 `--log-format logfmt|json`):
/// fires, slice start and end, retries, misfires; handler stderr is echoed line by
/// line, prefixed with job and run id. Never cursors, payloads or message text.
final class EventLog: RunObserver, Sendable {
    enum Format: String { case logfmt, json }
    let format: Format

    init(format: Format) { self.format = format }

    func info(_ event: String, _ fields: KeyValuePairs<String, String>) { write("info", event, fields) }
    func warn(_ event: String, _ fields: KeyValuePairs<String, String>) { write("warn", event, fields) }
    func error(_ event: String, _ fields: KeyValuePairs<String, String>) { write("error", event, fields) }

    func event(_ event: RunEvent) {
        switch event {
        case let .sliceStarted(run, slice, attempt):
            info("slice_start", ["job": run.job, "run": run.id, "slice": String(slice), "attempt": String(attempt)])
        case let .logLine(run, line):
            Console.err("[\(run.job) \(run.id)] \(line)")
        case let .sliceFinished(run, slice):
            info("slice_end", ["job": run.job, "run": run.id, "slice": String(slice.number), "attempt": String(slice.attempt),
                               "outcome": slice.outcome.rawValue, "processed": String(slice.counts.processed),
                               "duration_ms": String((slice.finishedAt ?? slice.startedAt) - slice.startedAt)])
        case let .retryScheduled(run, delayMs, _):
            info("retry", ["job": run.job, "run": run.id, "slice": String(run.nextSlice), "attempt": String(run.nextAttempt),
                           "delay_ms": String(delayMs)])
        case let .runFinished(run):
            info("run_end", ["job": run.job, "run": run.id, "status": run.status.rawValue, "slices": String(run.slicesDone),
                             "processed": String(run.counts.processed)])
        case let .storeTrouble(run, error):
            // The error itself is the monitor's line (store_down) when the store is watched.
            warn("commit_retry", ["job": run.job, "run": run.id, "slice": String(run.nextSlice),
                                  "error": error.kind.rawValue,
                                  "action": "the slice's outcome is kept in memory and its commit retried with back-off; no new slice starts until it lands"])
        case let .storeRecovered(run):
            info("commit_recovered", ["job": run.job, "run": run.id, "slice": String(run.nextSlice)])
        case let .startsHeld(held):
            warn("starts_held", ["held": String(held),
                                 "action": "no slice starts until the \(held) slice result(s) kept in memory are committed"])
        }
    }

    /// A store outage, logged once when it begins (what failed, why, what to do) and
    /// once when it ends; the operations failing in between are counted, not logged.
    func store(_ event: StoreHealth.Event) {
        switch event {
        case let .down(operation, error):
            self.error("store_down", ["operation": operation, "error": error.description,
                                      "action": "running slices go on and their results are kept; baton retries with back-off and logs once when the store works again"])
        case let .back(after, failed):
            let ms = after.components.seconds * 1000 + after.components.attoseconds / 1_000_000_000_000_000
            let seconds = "\(ms / 1000).\(ms % 1000 / 100)"
            info("store_back", ["after_s": seconds, "failed_operations": String(failed),
                                "message": "store reachable again after \(seconds) s, \(failed) operation(s) failed meanwhile"])
        }
    }

    func write(_ level: String, _ event: String, _ fields: KeyValuePairs<String, String>) {
        write(level, event, fields: fields.map { ($0.key, $0.value) })
    }

    func write(_ level: String, _ event: String, fields: [(String, String)]) {
        let time = RunText.time(RunText.nowMs())
        switch format {
        case .json:
            var o: [String: Any] = ["time": time, "level": level, "event": event]
            for (k, v) in fields { o[k] = v }
            Console.err(JSON.encode(o))
        case .logfmt:
            var line = "time=\(time) level=\(level) event=\(event)"
            for (k, v) in fields { line += " \(k)=\(Self.quote(v))" }
            Console.err(line)
        }
    }

    static func quote(_ v: String) -> String {
        if !v.isEmpty && !v.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return v }
        return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}

extension EventLog {
    /// The scheduler's events as log lines (and, with `metrics`, as counters).
    func scheduler(_ event: Scheduler.Event, metrics: Metrics?) {
        switch event {
        case let .fired(job, run, at, result):
            info("fire", ["job": job, "run": run ?? "-", "scheduled_at": TimeText.rfc3339(at, zone: .utc, utc: true), "result": result])
            metrics?.fired(job: job, kind: result.hasPrefix("skipped") ? "skipped" : result, latenessMs: RunText.nowMs() - at * 1000)
        case let .misfire(job, dropped, policy):
            warn("misfire", ["job": job, "dropped": String(dropped), "policy": policy])
            metrics?.misfired(job: job, dropped: dropped)
        case let .reloaded(jobs): info("reload", ["jobs": String(jobs)])
        case let .reloadFailed(why): error("reload", ["kept": "last good configuration", "problem": why])
        case let .clockJump(seconds): warn("clock_jump", ["seconds": String(seconds)])
        case let .lockWait(job, lock, holder): info("lock_wait", ["job": job, "lock": lock, "holder": holder])
        case let .onFailure(job, run, target, started, why):
            warn("on_failure", ["job": job, "run": run, "target": target, "started": started ?? "-", "problem": why ?? "-"])
        case let .leftWaiting(job, run, slice):
            info("left_waiting", ["job": job, "run": run, "slice": String(slice),
                                  "continue": "the next 'baton run' or 'baton tick' drives it from its cursor, or: baton resume \(run)"])
        case let .listenerLost(why):
            warn("listen_lost", ["error": "listening for other daemons' changes: \(why)",
                                 "action": "polling meanwhile, reconnecting"])
        case let .error(why): error("scheduler", ["error": why])
        }
    }
}
