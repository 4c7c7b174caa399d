import BatonCore
import BatonEngine
import BatonReport
import BatonStore
import Foundation

/// `baton runs [--job J] [--status S] [--limit N] [--json]`: recent runs, newest first.
struct RunsCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "runs", values: ["--job", "--status", "--limit"], flags: ["--json"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.runs); return .success }
        let state = args.value("--status")
        if let s = state, !RunText.states.contains(s) {
            throw UsageError(message: "--status '\(s)' is not a run status", hint: "one of \(RunText.states.joined(separator: ", "))")
        }
        // GET /runs's default, so `runs --json` and the API list the same runs.
        let limit = try args.integer("--limit", default: 50, range: 1...10_000)
        let store = try await StateStore.open(global.state)
        let now = RunText.nowMs()
        // Filtered by the status shown (queued, running, waiting as RunText.state reads them).
        let runs = try await RunText.runs(in: store, job: args.value("--job"), state: state, limit: limit, now: now)
        if runs.isEmpty, let job = args.value("--job") { try await checkJobExists(job, store: store) }
        if args.has("--json") {
            Console.out(JSON.encode(runs.map { RunText.json($0, now: now) }))
            return .success
        }
        if runs.isEmpty { Console.out("no runs yet"); return .success }
        var rows = [["RUN", "JOB", "STATUS", "SLICES", "PROGRESS", "FAILED", "DURATION", "ETA", "STARTED"]]
        for r in runs {
            let progress = r.total.map { "\(r.counts.processed)/\($0)" + (RunText.percentText(r).map { " " + $0 } ?? "") }
                ?? "\(r.counts.processed)"
            rows.append([r.id, r.job, RunText.state(r, now: now), String(r.slicesDone), progress, String(r.counts.failed),
                         RunText.duration(RunText.elapsed(r, now: now)), RunText.eta(r, now: now).map(RunText.duration) ?? "-",
                         RunText.time(r.createdAt)])
        }
        // AI spend, for the runs that report it (SPEC §3 `usage`).
        if runs.contains(where: { !$0.usage.isZero }) {
            rows[0].insert("TOKENS", at: 6)
            for (k, r) in runs.enumerated() { rows[k + 1].insert(r.usage.isZero ? "-" : RunText.grouped(r.usage.tokens), at: 6) }
        }
        // Who drives the unfinished runs, and until when their lease holds (issue 15).
        if runs.contains(where: { $0.owner != nil }) {
            rows[0] += ["OWNER", "LEASE"]
            for (k, r) in runs.enumerated() { rows[k + 1] += [r.owner ?? "-", Self.lease(r, now: now)] }
        }
        Console.out(Table.render(rows))
        return .success
    }
}

extension RunsCommand {
    /// How long the owner's lease still holds (`8s`), or how long ago it ran out
    /// (`expired 3s ago`), by this machine's clock against the store's.
    static func lease(_ run: RunRecord, now: Int64) -> String {
        guard run.owner != nil, let until = run.leaseExpiresAt else { return "-" }
        let left = until - now
        return left >= 0 ? RunText.duration(left) : "expired \(RunText.duration(-left)) ago"
    }

    /// `--job` naming a job that no schedule defines and that has no runs is a typo, not
    /// an empty history: exit 2 with the nearest name. (A job removed from the
    /// schedules still lists its runs; an ad-hoc `invoke --` lists as `adhoc`.)
    func checkJobExists(_ name: String, store: any RunStore) async throws {
        guard name != JobRunSpec.adhocName, try await store.runs(job: name, status: nil, limit: 1).isEmpty else { return }
        let set = global.loader().load(paths: [global.schedules])
        guard set.job(named: name) == nil else { return }
        let near = Suggest.nearest(name, in: set.jobs.map(\.name))
        throw UsageError(message: "no job named '\(name)' in \(global.schedules), and no runs of it in the store",
                         hint: near.map { "did you mean '\($0)'?" } ?? "list jobs with 'baton jobs'")
    }
}

enum Table {
    static func render(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { row in
            row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
