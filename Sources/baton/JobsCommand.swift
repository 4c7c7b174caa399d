import BatonReport
import BatonCore
import BatonStore
import Foundation

/// `baton jobs [--json]`: each job's schedule, zone, next fire, last run, paused or not.
struct JobsCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "jobs", values: [], flags: ["--json"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.jobs); return .success }
        let set = global.loader().load(paths: [global.schedules])
        for p in set.allProblems where p.severity == .error { Console.err(CheckCommand.render(p, source: set.sources[p.at.file])) }
        let store = try await StateStore.open(global.state)
        let states = try await store.jobStates()
        let latest = try await store.latestRuns(jobs: set.jobs.map(\.name))
        let nowMs = RunText.nowMs()
        let now = nowMs / 1000
        var rows = [["JOB", "SCHEDULE", "ZONE", "NEXT FIRE", "IN", "LAST RUN", "STATUS", "PAUSED"]]
        var list: [[String: Any]] = []
        for job in set.jobs {
            let zone = set.zone(of: job)
            let next = job.schedule.fires(after: now, zone: zone, count: 1).first
            let last = latest[job.name]
            let paused = states[job.name]?.paused ?? false
            list.append(JobText.json(job, zone: zone, next: paused ? nil : next, last: last, paused: paused, now: now))
            rows.append([job.name, job.schedule.description, job.zone,
                         paused ? "(paused)" : next.map { TimeText.rfc3339($0, zone: zone) } ?? (job.schedule == .reboot ? "at boot" : "-"),
                         paused ? "-" : next.map { TimeText.relative($0 - now) } ?? "-",
                         last.map { TimeText.rfc3339($0.createdAt / 1000, zone: zone) } ?? "never", last.map { RunText.state($0) } ?? "-", paused ? "yes" : "no"])
        }
        if args.has("--json") {
            Console.out(JSON.encode(list))
        } else if set.jobs.isEmpty {
            Console.out("no jobs in \(global.schedules)")
        } else {
            Console.out(Table.render(rows))
        }
        return set.hasErrors ? .usage : .success
    }
}

/// `baton pause JOB` / `baton unpause JOB`: stop or restart firing a job without
/// editing files. Kept in the store, so every baton process sharing it agrees.
struct PauseCommand {
    let args: Arguments
    let global: GlobalOptions
    let pause: Bool

    init(_ argv: ArraySlice<String>, pause: Bool) throws(UsageError) {
        self.pause = pause
        args = try Arguments(argv, command: pause ? "pause" : "unpause", values: [], flags: [])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        let verb = pause ? "pause" : "unpause"
        if args.has("--help") { Console.out(Usage.pause); return .success }
        guard args.positional.count == 1, let name = args.positional.first else {
            throw UsageError(message: "name one job to \(verb)", hint: "baton \(verb) JOB (see 'baton jobs')")
        }
        let set = global.loader().load(paths: [global.schedules])
        guard set.job(named: name) != nil else {
            let near = Suggest.nearest(name, in: set.jobs.map(\.name))
            throw UsageError(message: "no job named '\(name)' in \(global.schedules)",
                             hint: near.map { "did you mean '\($0)'?" } ?? "list jobs with 'baton jobs'")
        }
        let store = try await StateStore.open(global.state)
        try await store.setPaused(job: name, paused: pause, at: RunText.nowMs())
        Console.err(pause ? "baton: \(name) paused: it fires no more until 'baton unpause \(name)' (a run already going finishes)"
                          : "baton: \(name) unpaused: it fires again from its next scheduled time")
        return .success
    }
}
