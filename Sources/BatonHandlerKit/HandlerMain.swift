@_exported import BatonJSON
@_exported import BatonProviders
import Foundation
import Glibc

/// A handler: a body from a slice to its result, plus commands of its own (`--seed N`,
/// `--list`, `--stats`) that run instead of a slice. `main.swift` is three lines:
///
///     import BatonHandlerKit
///     import RegenerateDrafts
///     HandlerMain.run(RegenerateDraftsHandler())
public protocol SliceHandler {
    /// The body: one bounded slice of work. Throw `HandlerError` for what fails the
    /// slice (exit 1), `TemporaryFailure` for a retry with the same cursor (exit 75).
    func run(_ slice: Slice) throws -> SliceOutput

    /// Commands by flag (`--seed`), each given the arguments after it.
    var commands: [String: HandlerCommand] { get }
}

extension SliceHandler {
    public var commands: [String: HandlerCommand] { [:] }
}

/// A command a handler runs by hand (`regenerate-drafts --seed 200`).
public struct HandlerCommand: Sendable {
    public var summary: String
    /// Gets the arguments after the flag and the environment; returns what to print.
    public var run: @Sendable (_ arguments: [String], _ environment: [String: String]) throws -> String

    public init(_ summary: String, run: @escaping @Sendable ([String], [String: String]) throws -> String) {
        self.summary = summary; self.run = run
    }
}

/// Runs a handler as a process: a command when the arguments name one, else one slice
/// read from stdin, its result printed on stdout. Every failure is loud: a message on
/// stderr and a non-zero exit, never an empty result that would read as "done".
public enum HandlerMain {
    static let stop = StopFlag()

    public static func run(_ handler: some SliceHandler) -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let env = ProcessInfo.processInfo.environment
        if let flag = arguments.first, let command = handler.commands[flag] {
            do {
                let text = try command.run(Array(arguments.dropFirst()), env)
                if !text.isEmpty { print(text) }
                exit(0)
            } catch {
                fail("\(flag): \(error)", status: 2)
            }
        }
        if arguments.first == "--help" {
            print(help(handler))
            exit(0)
        }
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM) { _ in HandlerMain.stop.set() }
        let stdin = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            let input = try SliceInput.read(stdin: stdin, environment: env, arguments: arguments, nowMs: now)
            let slice = try Slice(input: input, environment: env, stop: stop)
            var output = try handler.run(slice)
            // What the AI calls spent, whether or not the body reported it.
            if output.usage.isZero { output.usage = Spend.total }
            FileHandle.standardOutput.write(Data((output.json.text + "\n").utf8))
            exit(0)
        } catch let e as TemporaryFailure {
            fail("temporary failure: \(e.message)", status: 75, spent: Spend.total)
        } catch {
            fail("\(error)", status: 1, spent: Spend.total)
        }
    }

    /// The message on stderr and the exit status; with `spent`, a `{"usage":…}` object
    /// on stdout, which baton counts even though the slice failed.
    static func fail(_ message: String, status: Int32, spent: Usage = Usage()) -> Never {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
        if !spent.isZero {
            var report = SliceOutput()
            report.usage = spent
            if case let .object(o) = report.json, let usage = o["usage"] {
                FileHandle.standardOutput.write(Data((JSONValue.object(["usage": usage]).text + "\n").utf8))
            }
        }
        exit(status)
    }

    static func help(_ handler: some SliceHandler) -> String {
        var lines = ["Runs one slice of work: the slice's JSON on stdin (baton writes it), the result on stdout.",
                     "Parameters: --name value, or baton invoke --param name=value.", ""]
        for (flag, c) in handler.commands.sorted(by: { $0.key < $1.key }) { lines.append("  \(flag)  \(c.summary)") }
        return lines.joined(separator: "\n")
    }
}
