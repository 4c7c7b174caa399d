import BatonReport
import BatonConfig
import BatonCore
import Foundation

/// `baton check [PATH...]`: validate schedule files with the daemon's own loader.
struct CheckCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "check", values: [], flags: ["--json"])
        global = try GlobalOptions(args)
    }

    func run() throws(UsageError) -> ExitStatus {
        if args.has("--help") { Console.out(Usage.check); return .success }
        let paths = args.positional.isEmpty ? [global.schedules] : args.positional
        let set = global.loader().load(paths: paths)
        let problems = set.allProblems
        let errors = problems.filter { $0.severity == .error }.count
        let warnings = problems.count - errors
        if args.has("--json") {
            let list: [[String: Any]] = problems.map { p in
                var o: [String: Any] = ["file": p.at.file, "line": p.at.line, "column": p.at.column,
                                        "severity": p.severity.rawValue, "message": p.message]
                if let h = p.hint { o["hint"] = h }
                return o
            }
            let doc: [String: Any] = ["files": set.files.map(\.path), "jobs": set.jobs.map(\.name),
                                      "errors": errors, "warnings": warnings, "problems": list]
            Console.out(JSON.encode(doc))
        } else {
            for p in problems { Console.err(Self.render(p, source: set.sources[p.at.file])) }
            let summary = "\(set.files.count) file(s), \(set.jobs.count) job(s)"
            if errors > 0 {
                Console.err("\(errors) error(s), \(warnings) warning(s) in \(summary)")
            } else {
                Console.out("ok: \(summary)" + (warnings > 0 ? ", \(warnings) warning(s)" : ""))
            }
        }
        return errors > 0 ? .usage : .success
    }

    /// The problem, its source line, and a caret under the column.
    static func render(_ p: ScheduleError, source: String?) -> String {
        let head = "\(p.at): \(p.severity.rawValue): \(p.message)"
        var out = head
        if let source, p.at.line > 0 {
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
            if p.at.line <= lines.count {
                let line = lines[p.at.line - 1].replacingOccurrences(of: "\t", with: " ")
                let caretColumn = max(1, min(p.at.column, line.count + 1))
                out += "\n    \(line)\n    \(String(repeating: " ", count: caretColumn - 1))^"
            }
        }
        if let h = p.hint { out += "\n  hint: \(h)" }
        return out
    }
}
