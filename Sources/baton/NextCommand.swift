import BatonReport
import BatonConfig
import BatonCore
import BatonJSON
import Foundation

/// `baton next (JOB | 'EXPR')`: the next fire times, like `systemd-analyze calendar`.
struct NextCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "next", values: ["-n", "--from"],
                             flags: ["--json", "--explain", "--batch"])
        global = try GlobalOptions(args)
    }

    func run() throws(UsageError) -> ExitStatus {
        if args.has("--help") { Console.out(Usage.next); return .success }
        if args.has("--batch") { return Self.batch() }
        guard args.positional.count == 1, let target = args.positional.first else {
            throw UsageError(message: args.positional.isEmpty ? "name a job or an expression"
                                                               : "give one job or one quoted expression, not \(args.positional.count) words",
                             hint: "quote the expression: baton next '*/5 * * * *'")
        }
        let count = try args.integer("-n", default: 5, range: 1...10_000)
        let now = Int64(Date().timeIntervalSince1970.rounded(.down))

        let schedule: Schedule
        var zone = global.zone
        var jobName: String?
        if target.hasPrefix("@") || target.contains(" ") || target.contains("\t") {
            do {
                schedule = try Schedule(target)
            } catch {
                Console.err("expression:1:\(error.column): error: \(error.message)")
                Console.err("    \(target)\n    \(String(repeating: " ", count: max(0, error.column - 1)))^")
                if let h = error.hint { Console.err("  hint: \(h)") }
                return .usage
            }
        } else {
            let set = global.loader().load(paths: [global.schedules])
            guard let job = set.job(named: target) else {
                let near = Suggest.nearest(target, in: set.jobs.map(\.name))
                throw UsageError(message: "no job named '\(target)' in \(global.schedules)",
                                 hint: near.map { "did you mean '\($0)'? (an expression needs quotes and spaces: '*/5 * * * *')" }
                                     ?? "list jobs with 'baton jobs', or quote a cron expression: baton next '*/5 * * * *'")
            }
            schedule = job.schedule
            zone = set.zone(of: job)
            jobName = job.name
        }
        var from = now
        if let text = args.value("--from") {
            guard let t = TimeText.parse(text, zone: zone, now: now) else {
                throw UsageError(message: "--from '\(text)' is not a time",
                                 hint: "write RFC 3339 such as 2026-03-07T12:00:00-05:00, a local time '2026-03-07 12:00', or 'now'")
            }
            from = t
        }
        let fires = schedule.fires(after: from, zone: zone, count: count)

        if args.has("--json") {
            var doc: [String: Any] = ["expression": schedule.description, "tz": zone.identifier,
                                      "from": TimeText.rfc3339(from, zone: zone),
                                      "next": fires.map { TimeText.rfc3339($0, zone: zone) }]
            if let jobName { doc["job"] = jobName }
            if args.has("--explain") { doc["explain"] = schedule.explain(zone: zone, fires: fires) }
            Console.out(JSON.encode(doc))
            return .success
        }
        var lines: [String] = []
        if let jobName { lines.append("         Job: \(jobName)") }
        lines.append("  Expression: \(schedule.description)")
        lines.append("   Time zone: \(zone.identifier)")
        lines.append("        From: \(TimeText.rfc3339(from, zone: zone))")
        if args.has("--explain") {
            for line in schedule.explain(zone: zone, fires: fires) { lines.append("     Explain: \(line)") }
        }
        if fires.isEmpty {
            lines.append(schedule == .reboot ? "   Next fire: once at each boot, when baton starts"
                                             : "   Next fire: none within 50 years")
        }
        for (i, t) in fires.enumerated() {
            let raw = count == 1 ? "Next fire" : "Fire \(i + 1)"
            let label = String(repeating: " ", count: max(0, 12 - raw.count)) + raw
            lines.append("\(label): \(TimeText.rfc3339(t, zone: zone))  (\(TimeText.rfc3339(t, zone: zone, utc: true)), \(TimeText.relative(t - from)))")
        }
        Console.out(lines.joined(separator: "\n"))
        return .success
    }

    /// Answers JSON queries line by line: one process for thousands of evaluations
    /// (the cronsim differential test uses this).
    static func batch() -> ExitStatus {
        while let line = readLine() {
            let q: JSONField
            let expr: String
            let n: Int, from: Int64, tz: String
            do {
                q = JSONField(try JSONValue.decode(Array(line.utf8)))
                expr = try q["expr"].string()
                n = Int(min(10_000, max(1, try q["n"].optionalInteger() ?? 5)))
                from = try q["from"].optionalInteger() ?? 0
                tz = try q["tz"].optionalString() ?? "UTC"
            } catch {
                Console.out(JSON.encode(["error": "not a query {\"expr\",\"tz\",\"from\",\"n\"}: \(error)"]))
                continue
            }
            do {
                let zone = try ZoneDatabase.shared.zone(tz)
                let schedule = try Schedule(expr)
                Console.out(JSON.encode(["next": schedule.fires(after: from, zone: zone, count: n)]))
            } catch let e as ExpressionError {
                Console.out(JSON.encode(["error": "column \(e.column): \(e.message)"]))
            } catch {
                Console.out(JSON.encode(["error": "\(error)"]))
            }
        }
        return .success
    }
}
