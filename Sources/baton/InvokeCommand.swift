import BatonJSON
import BatonReport
import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// `baton invoke JOB …` and `baton invoke -- CMD ARGS...`: a manual run in the foreground.
struct InvokeCommand {
    let args: Arguments
    let global: GlobalOptions
    let adhoc: [String]?

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        var before = argv
        var after: [String]?
        if let dash = argv.firstIndex(of: "--") {
            before = argv[argv.startIndex..<dash]
            after = Array(argv[(dash + 1)...])
        }
        args = try Arguments(before, command: "invoke", values: Set(["--cursor", "--param", "--payload", "--budget"]).union(HandlerEnvironmentOptions.values),
                             flags: ["--once", "--json"])
        global = try GlobalOptions(args)
        adhoc = after
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.invoke); return .success }
        var job: JobRunSpec
        var command: [String]?
        if let adhoc {
            guard !adhoc.isEmpty, args.positional.isEmpty else {
                throw UsageError(message: adhoc.isEmpty ? "nothing to run after '--'" : "give a job or '-- CMD', not both",
                                 hint: "baton invoke -- ./handler --flag, or baton invoke JOB")
            }
            job = JobRunSpec(name: JobRunSpec.adhocName, command: adhoc)
            command = adhoc
        } else {
            guard args.positional.count == 1, let name = args.positional.first else {
                throw UsageError(message: "name one job to invoke", hint: "baton invoke JOB, or baton invoke -- CMD ARGS...")
            }
            let set = global.loader().load(paths: [global.schedules])
            guard let found = set.job(named: name) else {
                let near = Suggest.nearest(name, in: set.jobs.map(\.name))
                throw UsageError(message: "no job named '\(name)' in \(global.schedules)",
                                 hint: near.map { "did you mean '\($0)'?" } ?? "list jobs with 'baton jobs'")
            }
            job = JobRunSpec(found)
        }
        var budget: Duration?
        if let text = args.value("--budget") {
            do { budget = try DurationText.parse(text) } catch {
                throw UsageError(message: "--budget: \(error.message)", hint: error.hint)
            }
            guard let b = budget, b > .zero else {
                throw UsageError(message: "--budget must be longer than zero", hint: "write e.g. --budget 30s")
            }
            if let b = budget { job.options.budget = b }
        }
        try HandlerEnvironmentOptions.apply(args, to: &job)
        let store = try await StateStore.open(global.state)
        let driver = RunDriver(store: store, json: args.has("--json"), global: global)
        let progress = Progress()
        let engine = driver.engine(progress: progress)
        let run = try await engine.createRun(job: job, trigger: .manual, params: try params(), payload: try payload(),
                                             cursor: args.value("--cursor"), command: command)
        return try await driver.drive(run, job: job, engine: engine, progress: progress, once: args.has("--once"), budget: budget)
    }

    /// `--param K=V`, repeatable, as a JSON object of strings.
    func params() throws(UsageError) -> String {
        var o: [String: String] = [:]
        for p in args.values["--param"] ?? [] {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw UsageError(message: "--param '\(p)' is not KEY=VALUE", hint: "write e.g. --param channel=sms")
            }
            o[String(p[..<eq])] = String(p[p.index(after: eq)...])
        }
        return JSON.encode(o)
    }

    /// `--payload FILE` or `-` (stdin): JSON text, checked.
    func payload() throws(UsageError) -> String? {
        guard let source = args.value("--payload") else { return nil }
        let data: Data?
        if source == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: source) }
        guard let data else { throw UsageError(message: "cannot read --payload \(source)", hint: "give a readable JSON file, or - for stdin") }
        guard data.count <= 1 << 20 else { throw UsageError(message: "--payload is larger than 1 MiB", hint: "pass a smaller JSON document") }
        do {
            return try JSONValue.decode([UInt8](data)).text
        } catch {
            throw UsageError(message: "--payload \(source) is not JSON: \(error.withExcerpt)", hint: "check it with: python3 -m json.tool \(source)")
        }
    }
}
