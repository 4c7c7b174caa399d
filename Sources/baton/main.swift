import BatonConfig
import BatonCore
import BatonEngine
import BatonStore
import Foundation

/// The command line: arguments in, exit status out. Each subcommand lives in its own
/// file; this one only dispatches.
let version = "baton 0.1.0"

func dispatch(_ argv: [String]) async -> ExitStatus {
    var args = argv.dropFirst()
    // Global options may come before the command; find the command word.
    var lead: [String] = []
    while let first = args.first, first.hasPrefix("-") {
        if first == "--version" || first == "-V" { Console.out(version); return .success }
        if first == "--help" || first == "-h" { Console.out(Usage.main); return .success }
        lead.append(first)
        args = args.dropFirst()
        if Arguments.globalValues.contains(first), let v = args.first { lead.append(v); args = args.dropFirst() }
    }
    guard let command = args.first else {
        if let bad = lead.first(where: { $0.hasPrefix("-") && !Arguments.globalValues.contains($0) && !$0.contains("=") }) {
            let near = Suggest.nearest(bad, in: Array(Arguments.globalValues) + ["--help", "--version"])
            Console.fail("unknown option '\(bad)'", hint: near.map { "did you mean '\($0)'?" } ?? "see 'baton --help'")
            return .usage
        }
        Console.err(Usage.main)
        return .usage
    }
    let rest = ArraySlice(lead + args.dropFirst())
    do {
        switch command {
        case "check": return try CheckCommand(rest).run()
        case "next": return try NextCommand(rest).run()
        case "invoke": return try await InvokeCommand(rest).run()
        case "runs": return try await RunsCommand(rest).run()
        case "show": return try await ShowCommand(rest).run()
        case "cancel": return try await CancelCommand(rest).run()
        case "resume": return try await ResumeCommand(rest).run()
        case "retry": return try await RetryCommand(rest).run()
        case "jobs": return try await JobsCommand(rest).run()
        case "tick": return try await TickCommand(rest).run()
        case "run": return try await RunCommand(rest).run()
        case "serve": return try await RunCommand(rest, serve: true).run()
        case "sandbox": return try await SandboxCommand(rest).run()
        case "pause": return try await PauseCommand(rest, pause: true).run()
        case "unpause": return try await PauseCommand(rest, pause: false).run()
        case "help":
            if let topic = rest.first, let text = Usage.commands[topic] { Console.out(text) } else { Console.out(Usage.main) }
            return .success
        case "version": Console.out(version); return .success
        default:
            if Usage.planned.contains(command) {
                Console.fail("'baton \(command)' is not in this version yet",
                             hint: "this build has: \(Usage.available.joined(separator: ", ")); see docs/roadmap.md")
                return .failure
            }
            let near = Suggest.nearest(command, in: Usage.available + Usage.planned)
            Console.fail("unknown command '\(command)'", hint: near.map { "did you mean 'baton \($0)'?" } ?? "see 'baton --help'")
            return .usage
        }
    } catch let e as UsageError {
        Console.fail(e.message, hint: e.hint ?? "see 'baton \(command) --help'")
        return .usage
    } catch let e as StoreError {
        Console.fail("state store \(e.location): \(e.message)", hint: e.hint)
        return .failure
    } catch let e as EngineError {
        Console.fail(e.description, hint: e.hint)
        return .failure
    } catch {
        Console.fail("\(error)")
        return .failure
    }
}

exit(await dispatch(CommandLine.arguments).rawValue)
