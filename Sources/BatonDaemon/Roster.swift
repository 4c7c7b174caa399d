import BatonConfig
import BatonCrypto
import BatonStore
import Foundation

/// This daemon's row in the store, refreshed every `every` (its heartbeat), and what
/// it learns from the other daemons' rows: who is alive, and whether their schedule
/// files define the same jobs the same way. A difference is logged once per daemon and
/// definition (and once more when they agree again), and shown in `/metrics`.
public actor Roster {
    public struct Snapshot: Sendable {
        public var me: DaemonRecord
        /// Daemons heard of within `liveMs` (this one included), at the last heartbeat.
        public var live: [DaemonRecord]
        /// The live daemons whose schedules differ from this one's.
        public var differing: [DaemonRecord]
        /// Whether the last heartbeat reached the store.
        public var storeUp: Bool
    }

    public static let every: Duration = .seconds(10)
    /// A daemon not heard of for three heartbeats is not counted alive.
    public static let liveMs: Int64 = 30_000

    public typealias Log = @Sendable (_ level: String, _ event: String, _ fields: [(String, String)]) -> Void

    let store: any RunStore
    let schedules: @Sendable () async -> ScheduleSet
    let log: Log
    var me: DaemonRecord
    var live: [DaemonRecord] = []
    var storeUp = true
    /// Other daemons whose difference was logged, with their schedules digest then.
    var reported: [String: String] = [:]

    /// - Parameters:
    ///   - schedules: the schedules this daemon runs on now (they change on a reload).
    public init(store: any RunStore, owner: String, startedAt: Int64,
                schedules: @escaping @Sendable () async -> ScheduleSet, log: @escaping Log) {
        self.store = store; self.schedules = schedules; self.log = log
        let host = owner.split(separator: ":").first.map(String.init) ?? owner
        me = DaemonRecord(owner: owner, host: host, startedAt: startedAt, schedules: "", jobs: [:])
    }

    /// Each job's definition digest, and one digest of them all.
    public static func digests(_ set: ScheduleSet) -> (all: String, jobs: [String: String]) {
        let jobs = set.definitions().mapValues { String(Digest.hex(Digest.sha256(Array($0.utf8))).prefix(16)) }
        let record = DaemonRecord(owner: "", host: "", startedAt: 0, schedules: "", jobs: jobs)
        return (String(Digest.hex(Digest.sha256(Array(record.jobsText.utf8))).prefix(16)), jobs)
    }

    /// Refreshes this daemon's row and compares the others' schedules with its own.
    public func beat() async {
        let (all, jobs) = Self.digests(await schedules())
        me.schedules = all
        me.jobs = jobs
        do {
            live = try await store.heartbeat(me, liveMs: Self.liveMs)
            storeUp = true
        } catch {
            // The store's trouble is reported where it hurts (slices, /healthz); here the
            // picture of the others is only kept as last seen.
            storeUp = false
            return
        }
        compare()
    }

    /// Logs each live daemon whose schedules newly differ, and each that agrees again.
    func compare() {
        let others = live.filter { $0.owner != me.owner }
        for other in others where other.schedules != me.schedules && reported[other.owner] != other.schedules {
            reported[other.owner] = other.schedules
            let d = JobDifference(here: me.jobs, there: other.jobs)
            log("warn", "schedules_differ", [
                ("other", other.owner), ("only_here", d.onlyHere), ("only_there", d.onlyThere), ("different", d.different),
                ("hint", "every daemon on one store should run the same schedule files: deploy them to every host (docs/scaling.md)"),
            ])
        }
        for (owner, _) in reported {
            guard let other = others.first(where: { $0.owner == owner }) else {
                reported[owner] = nil   // gone: a restart with other files is a new difference
                continue
            }
            if other.schedules == me.schedules {
                reported[owner] = nil
                log("info", "schedules_agree", [("other", owner)])
            }
        }
    }

    public func snapshot() -> Snapshot {
        Snapshot(me: me, live: live, differing: live.filter { $0.owner != me.owner && $0.schedules != me.schedules },
                 storeUp: storeUp)
    }

    /// Deletes this daemon's row (a clean stop); a store that does not answer keeps it
    /// until it ages out of `liveMs`.
    public func leave() async {
        try? await store.forgetDaemon(owner: me.owner)
    }

    /// Beats now and every `every` until the task is cancelled.
    public nonisolated func start(every period: Duration = Roster.every) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                await beat()
                try? await Task.sleep(for: period)
            }
        }
    }
}

/// Which jobs two daemons' schedules disagree on, each list cut to a few names.
struct JobDifference {
    var onlyHere: String, onlyThere: String, different: String

    init(here: [String: String], there: [String: String]) {
        func names(_ list: [String]) -> String {
            let sorted = list.sorted()
            guard sorted.count > 5 else { return sorted.isEmpty ? "-" : sorted.joined(separator: ",") }
            return sorted.prefix(5).joined(separator: ",") + " and \(sorted.count - 5) more"
        }
        onlyHere = names(here.keys.filter { there[$0] == nil })
        onlyThere = names(there.keys.filter { here[$0] == nil })
        different = names(here.compactMap { name, digest in there[name].flatMap { $0 != digest ? name : nil } })
    }
}
