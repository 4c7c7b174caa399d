import BatonReport
import BatonStore
import Foundation

/// `baton show RUN [--logs] [--json]`: one run, every slice, failed items, logs.
struct ShowCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "show", values: [], flags: ["--logs", "--json"])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.show); return .success }
        let target = try await RunTarget.load(args, global: global, verb: "show")
        let (store, run, id) = (target.store, target.run, target.run.id)
        let slices = try await store.slices(runId: id)
        let failed = try await store.items(runId: id, status: "failed")
        let unknown = try await store.items(runId: id, status: "unknown")
        let retries = try await store.retries(of: id)
        if args.has("--json") {
            var doc = RunText.detail(run, slices: slices, failed: failed, unknown: unknown, retries: retries)
            if args.has("--logs"), var list = doc["slices"] as? [[String: Any]] {
                for (i, s) in slices.enumerated() where i < list.count { list[i]["log"] = s.log }
                doc["slices"] = list
            }
            Console.out(JSON.encode(doc))
            return .success
        }
        var lines = [
            "Run:       \(run.id)", "Job:       \(run.job)", "Trigger:   \(run.trigger.rawValue)",
            "Status:    \(RunText.state(run))" + (run.cancelRequested && !run.status.isFinished ? " (cancel requested)" : "")
                + (RunText.state(run) == "waiting" ? " for a driver: the next 'baton run' or 'baton tick' continues it, or \(global.command("resume", id))"
                   : run.status == .running ? " (driven by \(run.owner ?? "?"))" : ""),
            "Scheduled: \(RunText.time(run.scheduledAt))", "Started:   \(RunText.time(run.createdAt))",
            "Elapsed:   \(RunText.duration(RunText.elapsed(run)))" + (run.finishedAt == nil ? "" : " (finished \(RunText.time(run.finishedAt!)))"),
            "Progress:  \(run.total.map { "\(run.counts.processed)/\($0)" } ?? "\(run.counts.processed)")"
                + (RunText.percentText(run).map { " (\($0))" } ?? "")
                + (RunText.eta(run).map { ", ETA \(RunText.duration($0))" } ?? ""),
            "Counts:    \(RunText.counts(run.counts))",
            "Usage:     \(RunText.usage(run.usage))",
            "Cursor:    \(RunText.cursor(run.cursor))",
        ]
        if let m = run.message { lines.append("Message:   \(m)") }
        if let e = run.error { lines.append("Error:     \(e)") }
        if let p = run.parentRun { lines.append("Retry of:  \(p)") }
        for r in retries { lines.append("Retried by: \(r.id) (\(r.status.rawValue))") }
        if let c = run.command { lines.append("Command:   \(c.joined(separator: " "))") }
        lines.append("")
        var rows = [["SLICE", "ATTEMPT", "STARTED", "DURATION", "OUTCOME", "EXIT", "CURSOR IN", "CURSOR OUT", "PROCESSED", "ERROR"]]
        for s in slices {
            rows.append([String(s.number), String(s.attempt), RunText.time(s.startedAt),
                         s.finishedAt.map { RunText.duration($0 - s.startedAt) } ?? "-", s.outcome.rawValue + (s.truncated ? " (truncated)" : ""),
                         s.exitCode.map(String.init) ?? s.signal.map { "sig \($0)" } ?? "-",
                         RunText.cursor(s.cursorIn), s.outcome == .succeeded ? RunText.cursor(s.cursorOut) : "-",
                         String(s.counts.processed), String((s.error ?? "").prefix(60))])
        }
        lines.append(slices.isEmpty ? "no slices yet" : Table.render(rows))
        if run.failedOnItems {
            lines.append("")
            lines.append(retries.isEmpty ? "\(run.counts.failed) items failed: \(global.command("retry", id))"
                                         : "\(run.counts.failed) items failed: retried by \(retries[0].id)")
        }
        let itemLists = [("Failed items", failed, retries.isEmpty ? "\(global.command("retry", id)) runs them again"
                                                                   : "retried by \(retries[0].id)"),
                         ("Unknown items", unknown, "they may have been delivered; "
                            + "\(global.command("retry", id, "--include-unknown")) sends them again")]
        for (title, list, note) in itemLists where !list.isEmpty {
            lines.append("")
            lines.append("\(title) (\(list.count)): \(note)")
            for i in list.prefix(50) { lines.append("  \(i.itemId)  \(i.status)  \(i.error ?? "")") }
            if list.count > 50 { lines.append("  … and \(list.count - 50) more (--json lists all)") }
        }
        if args.has("--logs") {
            for s in slices where !s.log.isEmpty {
                lines.append("")
                lines.append("--- slice \(s.number) attempt \(s.attempt) log ---")
                lines.append(s.log.hasSuffix("\n") ? String(s.log.dropLast()) : s.log)
            }
        }
        Console.out(lines.joined(separator: "\n"))
        return .success
    }
}
