import BatonCore
import BatonSQLite
import BatonHTTP
import BatonSandbox
import Dispatch
import Foundation
import Glibc

/// `baton sandbox --listen ADDR`: local stand-ins for the providers (docs/sandbox.md).
struct SandboxCommand {
    let args: Arguments
    let global: GlobalOptions

    init(_ argv: ArraySlice<String>) throws(UsageError) {
        args = try Arguments(argv, command: "sandbox",
                             values: ["--listen", "--smtp-listen", "--db", "--latency", "--rate-limit", "--error-rate", "--timeout-rate", "--seed"],
                             flags: [])
        global = try GlobalOptions(args)
    }

    func run() async throws -> ExitStatus {
        if args.has("--help") { Console.out(Usage.sandbox); return .success }
        guard let text = args.value("--listen") else {
            throw UsageError(message: "baton sandbox needs --listen ADDR", hint: "e.g. baton sandbox --listen 127.0.0.1:9090")
        }
        let listen = try Self.address(text, option: "--listen")
        let smtp = try args.value("--smtp-listen").map { text throws(UsageError) in try Self.address(text, option: "--smtp-listen") }
        let token = ProcessInfo.processInfo.environment["BATON_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        for a in [listen] + (smtp.map { [$0] } ?? []) where !a.isLoopback && token == nil {
            throw UsageError(message: "refusing to listen on \(a) without BATON_API_TOKEN", hint: "the sandbox is for this machine: use 127.0.0.1")
        }
        var options = Sandbox.Options()
        options.token = token
        if let d = args.value("--latency") {
            do { options.latency = try DurationText.parse(d) } catch { throw UsageError(message: "--latency: \(error.message)", hint: error.hint) }
        }
        if args.value("--rate-limit") != nil { options.rateLimit = try args.integer("--rate-limit", default: 0, range: 1...1_000_000) }
        options.errorRate = try fraction("--error-rate")
        options.timeoutRate = try fraction("--timeout-rate")
        options.seed = UInt64(try args.integer("--seed", default: 0, range: 0...Int.max))
        let db = args.value("--db") ?? "sqlite:var/sandbox.db"
        let path: String
        do { path = try SQLiteURL.path(db, setting: "--db", example: "sqlite:var/sandbox.db") } catch {
            throw UsageError(message: error.message, hint: error.hint)
        }
        let log = EventLog(format: global.logFormat)
        let sandbox = try Sandbox(options: options, databasePath: path)
        let server: HTTPServer
        do throws(HTTPServerError) {
            server = try HTTPServer(address: listen, tooLarge: Sandbox.json(413, ["error": "request body over 1 MiB", "hint": "send less"])) {
                await sandbox.handle($0)
            }
        } catch {
            Console.fail(error.description, hint: "choose another address or port (port 0 picks a free one)")
            return .usage
        }
        log.info("listen", ["address": server.address.description, "providers": "openai anthropic twilio messenger"])
        if let smtp {
            do {
                let receiver = try sandbox.startSMTP(smtp)
                log.info("smtp_listen", ["address": receiver.description])
            } catch {
                Console.fail(error.description, hint: "choose another address or port for --smtp-listen")
                return .usage
            }
        }
        // Runs until SIGTERM or SIGINT.
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let once = Counter()
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGTERM, SIGINT] {
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { if once.increment() == 1 { c.resume() } }
                s.resume()
                sources.append(s)
            }
            withExtendedLifetime(sources) {}
            SignalKeeper.keep(sources)
        }
        server.stop(timeout: .milliseconds(200))
        log.info("stop", [:])
        return .success
    }

    func fraction(_ option: String) throws(UsageError) -> Double {
        guard let text = args.value(option) else { return 0 }
        guard let v = Double(text), (0...1).contains(v) else {
            throw UsageError(message: "\(option) '\(text)' is not a fraction from 0 to 1", hint: "e.g. \(option) 0.1")
        }
        return v
    }

    static func address(_ text: String, option: String) throws(UsageError) -> ListenAddress {
        do { return try ListenAddress(parsing: text) } catch { throw UsageError(message: error.description, hint: "e.g. \(option) 127.0.0.1:9090") }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalKeeper {
    nonisolated(unsafe) static var kept: [DispatchSourceSignal] = []
    static func keep(_ s: [DispatchSourceSignal]) { kept += s }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}
