import BatonDaemon
import BatonEngine
import BatonStore
import Foundation
import Synchronization

/// baton's counters, histograms and gauges, rendered in the Prometheus text format
/// (version 0.0.4) for `GET /metrics`. Fed by the run engine (as a `RunObserver`), the
/// scheduler's fire reports and the HTTP layer; every update takes one short lock.
public final class Metrics: RunObserver, Sendable {
    /// Upper bounds (seconds) of the slice-duration histogram.
    static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
    /// Upper bounds (seconds) of the fire-lateness histogram.
    static let latenessBuckets: [Double] = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]

    struct Histogram {
        var buckets: [Int]
        var count = 0
        var sum = 0.0
        init(_ bounds: [Double]) { buckets = Array(repeating: 0, count: bounds.count) }

        mutating func observe(_ v: Double, bounds: [Double]) {
            for (i, b) in bounds.enumerated() where v <= b { buckets[i] += 1 }
            count += 1
            sum += v
        }
    }

    struct State {
        var fires: [Labels: Int] = [:]
        var slices: [Labels: Int] = [:]
        var kills: [String: Int] = [:]
        var retries: [String: Int] = [:]
        var misfires: [String: Int] = [:]
        var runsFinished: [Labels: Int] = [:]
        var webhooks: [Int: Int] = [:]
        var sliceDuration: [String: Histogram] = [:]
        var lateness = Histogram(Metrics.latenessBuckets)
        var running = 0
        var nextFire: [String: Int64] = [:]
        /// Each job's last successful run's end (Unix ms).
        var lastSuccess: [String: Int64] = [:]
        var failedItems: [String: Int] = [:]
        /// AI spend slices reported (SPEC §3 `usage`), by job and direction (input, output).
        var tokens: [Labels: Int] = [:]
        var costUsd: [String: Double] = [:]
        /// Runs this process drives now.
        var driving = 0
        /// This daemon as the store knows it, and the others it heard of.
        var roster: Roster.Snapshot?
    }

    struct Labels: Hashable { var job: String; var value: String }

    private let state = Mutex(State())
    let started: Int64

    public init(startedAt: Int64) { started = startedAt }

    // MARK: updates

    public func fired(job: String, kind: String, latenessMs: Int64?) {
        state.withLock { s in
            s.fires[Labels(job: job, value: kind), default: 0] += 1
            if let l = latenessMs { s.lateness.observe(Double(max(0, l)) / 1000, bounds: Self.latenessBuckets) }
        }
    }

    public func misfired(job: String, dropped: Int) {
        state.withLock { $0.misfires[job, default: 0] += dropped }
    }

    public func webhook(status: Int) {
        state.withLock { $0.webhooks[status, default: 0] += 1 }
    }

    /// Each job's last successful run's end (Unix ms) as the store has it; a later one
    /// this process saw stays.
    public func noteLastSuccesses(_ ends: [String: Int64]) {
        state.withLock { s in
            for (job, at) in ends { s.lastSuccess[job] = max(s.lastSuccess[job] ?? at, at) }
        }
    }

    /// Each job's next fire (Unix seconds); jobs not listed have none.
    public func setNextFires(_ next: [String: Int64]) {
        state.withLock { $0.nextFire = next }
    }

    /// What this daemon holds and who else is alive, as of the last look.
    public func setDaemon(driving: Int, roster: Roster.Snapshot?) {
        state.withLock { s in
            s.driving = driving
            s.roster = roster
        }
    }

    public func event(_ event: RunEvent) {
        switch event {
        case .sliceStarted:
            state.withLock { $0.running += 1 }
        case let .sliceFinished(run, slice):
            state.withLock { s in
                s.running = max(0, s.running - 1)
                s.slices[Labels(job: run.job, value: slice.outcome.rawValue), default: 0] += 1
                // Only a slice whose result stands adds its counts to the run.
                if slice.outcome == .succeeded, slice.counts.failed > 0 { s.failedItems[run.job, default: 0] += slice.counts.failed }
                if slice.outcome == .killed { s.kills[run.job, default: 0] += 1 }
                // Spent is spent: counted whatever the slice's outcome.
                if slice.usage.inputTokens > 0 { s.tokens[Labels(job: run.job, value: "input"), default: 0] += slice.usage.inputTokens }
                if slice.usage.outputTokens > 0 { s.tokens[Labels(job: run.job, value: "output"), default: 0] += slice.usage.outputTokens }
                if slice.usage.costUsd > 0 { s.costUsd[run.job, default: 0] += slice.usage.costUsd }
                let seconds = Double((slice.finishedAt ?? slice.startedAt) - slice.startedAt) / 1000
                s.sliceDuration[run.job, default: Histogram(Self.durationBuckets)].observe(seconds, bounds: Self.durationBuckets)
            }
        case let .retryScheduled(run, _, _):
            state.withLock { $0.retries[run.job, default: 0] += 1 }
        case let .runFinished(run):
            state.withLock { s in
                s.runsFinished[Labels(job: run.job, value: run.status.rawValue), default: 0] += 1
                if run.status == .succeeded {
                    let at = run.finishedAt ?? run.updatedAt
                    s.lastSuccess[run.job] = max(s.lastSuccess[run.job] ?? at, at)
                }
            }
        case .logLine, .storeTrouble, .storeRecovered, .startsHeld:
            break
        }
    }

    // MARK: exposition

    /// The text format: `# HELP`, `# TYPE`, then samples, families in a fixed order.
    public func render() -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
            out += "\(name)\(l) \(value)\n"
        }
        func labelled(_ name: String, _ values: [Labels: Int], _ second: String) {
            for (k, v) in values.sorted(by: { ($0.key.job, $0.key.value) < ($1.key.job, $1.key.value) }) {
                sample(name, [("job", k.job), (second, k.value)], String(v))
            }
        }
        func perJob(_ name: String, _ values: [String: Int]) {
            for (job, v) in values.sorted(by: { $0.key < $1.key }) { sample(name, [("job", job)], String(v)) }
        }
        func histogram(_ name: String, _ h: Histogram, _ bounds: [Double], _ labels: [(String, String)]) {
            for (i, b) in bounds.enumerated() { sample(name + "_bucket", labels + [("le", Self.number(b))], String(h.buckets[i])) }
            sample(name + "_bucket", labels + [("le", "+Inf")], String(h.count))
            sample(name + "_sum", labels, Self.number(h.sum))
            sample(name + "_count", labels, String(h.count))
        }

        family("baton_start_time_seconds", "gauge", "When this baton process started, Unix seconds.")
        sample("baton_start_time_seconds", [], String(started / 1000))
        family("baton_fires_total", "counter", "Cron fires acted on, by job and kind (cron, catchup, reboot, skipped).")
        labelled("baton_fires_total", s.fires, "kind")
        family("baton_misfires_total", "counter", "Fires missed while baton was down and dropped by misfire=, by job.")
        perJob("baton_misfires_total", s.misfires)
        family("baton_slices_total", "counter", "Slices finished, by job and outcome.")
        labelled("baton_slices_total", s.slices, "outcome")
        family("baton_kills_total", "counter", "Slices killed at their budget, by job.")
        perJob("baton_kills_total", s.kills)
        family("baton_retries_total", "counter", "Slice retries scheduled, by job.")
        perJob("baton_retries_total", s.retries)
        family("baton_runs_finished_total", "counter", "Runs that ended, by job and status.")
        labelled("baton_runs_finished_total", s.runsFinished, "status")
        family("baton_webhook_requests_total", "counter", "Webhook and signed API requests answered, by HTTP status code.")
        for (code, v) in s.webhooks.sorted(by: { $0.key < $1.key }) { sample("baton_webhook_requests_total", [("code", String(code))], String(v)) }
        family("baton_slice_duration_seconds", "histogram", "How long slices ran, by job.")
        for (job, h) in s.sliceDuration.sorted(by: { $0.key < $1.key }) {
            histogram("baton_slice_duration_seconds", h, Self.durationBuckets, [("job", job)])
        }
        family("baton_fire_lateness_seconds", "histogram", "How long after its nominal time each cron fire was recorded.")
        histogram("baton_fire_lateness_seconds", s.lateness, Self.latenessBuckets, [])
        family("baton_running_slices", "gauge", "Slices running now in this process.")
        sample("baton_running_slices", [], String(s.running))
        family("baton_runs_driven", "gauge", "Runs this process drives now (it holds their leases).")
        sample("baton_runs_driven", [], String(s.driving))
        if let r = s.roster { renderRoster(r, family: family, sample: sample) }
        family("baton_job_next_fire_timestamp_seconds", "gauge", "Each job's next fire, Unix seconds.")
        for (job, at) in s.nextFire.sorted(by: { $0.key < $1.key }) { sample("baton_job_next_fire_timestamp_seconds", [("job", job)], String(at)) }
        family("baton_job_last_success_timestamp_seconds", "gauge",
               "When each job's last successful run ended, Unix seconds (as kube_cronjob_status_last_successful_time); none for a job that never succeeded.")
        for (job, at) in s.lastSuccess.sorted(by: { $0.key < $1.key }) {
            sample("baton_job_last_success_timestamp_seconds", [("job", job)], Self.number(Double(at) / 1000))
        }
        family("baton_job_failed_items_total", "counter", "Items handlers reported failed (counts.failed of slices whose result stands), by job.")
        perJob("baton_job_failed_items_total", s.failedItems)
        family("baton_ai_tokens_total", "counter", "AI tokens slices reported spending (usage), by job and direction (input, output).")
        labelled("baton_ai_tokens_total", s.tokens, "direction")
        family("baton_ai_cost_usd_total", "counter", "AI spend slices reported (usage.cost_usd), US dollars, by job.")
        for (job, v) in s.costUsd.sorted(by: { $0.key < $1.key }) { sample("baton_ai_cost_usd_total", [("job", job)], String(v)) }
        return out
    }

    /// The per-daemon gauges: this daemon's identity, who else is alive on the same
    /// store, and whose schedules differ (docs/scaling.md).
    private func renderRoster(_ r: Roster.Snapshot, family: (String, String, String) -> Void,
                              sample: (String, [(String, String)], String) -> Void) {
        family("baton_daemon_info", "gauge", "This daemon: its owner name (HOST:PID:START), host and schedules digest; always 1.")
        sample("baton_daemon_info", [("owner", r.me.owner), ("host", r.me.host), ("schedules", r.me.schedules)], "1")
        family("baton_daemons_live", "gauge", "Daemons on this state store heard of in the last 30 s, this one included.")
        sample("baton_daemons_live", [], String(r.live.count))
        family("baton_daemons_schedules_differ", "gauge", "Live daemons on this store whose schedule files differ from this one's.")
        sample("baton_daemons_schedules_differ", [], String(r.differing.count))
        family("baton_store_up", "gauge", "Whether this daemon's last heartbeat reached the state store (1) or not (0).")
        sample("baton_store_up", [], r.storeUp ? "1" : "0")
    }

    static func escape(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
