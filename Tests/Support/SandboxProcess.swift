import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// A real `baton sandbox` on a free loopback port, for the in-process tests of the kit
/// and the handlers (one copy for every test target: `BatonTestSupport`). Its controls
/// and records are read with the standard library's own HTTP client, not baton's.
public final class SandboxProcess {
    public let process: Process
    /// `http://127.0.0.1:PORT`.
    public let base: String

    public static var binary: String {
        ProcessInfo.processInfo.environment["BATON_BIN"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/baton"
    }

    /// Starts it with its deliveries in `dir`, waiting (10 s at most) for its address.
    public init(dir: String, args: [String] = []) throws {
        let log = dir + "/sandbox.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["sandbox", "--listen", "127.0.0.1:0", "--db", "sqlite:\(dir)/sandbox.db"] + args
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(10)
        while Date() < end, process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("event=listen") }),
               let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) {
                base = "http://" + address.dropFirst("address=".count)
                return
            }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw NSError(domain: "sandbox", code: 1, userInfo: [NSLocalizedDescriptionKey: "baton sandbox did not start"])
    }

    public func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// Queues faults for the next requests (of `provider`, or any).
    public func faults(_ list: [[String: Any]], provider: String? = nil) throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        var doc: [String: Any] = ["faults": list]
        if let provider { doc["provider"] = provider }
        request.httpBody = try JSONSerialization.data(withJSONObject: doc)
        _ = try fetch(request)
    }

    /// The deliveries recorded so far (of `provider`, or all).
    public func deliveries(provider: String? = nil) throws -> [[String: Any]] {
        let query = provider.map { "?provider=" + $0 } ?? ""
        let data = try fetch(URLRequest(url: URL(string: base + "/_sandbox/deliveries" + query)!))
        guard let list = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["deliveries"] as? [[String: Any]] else {
            throw NSError(domain: "sandbox", code: 2, userInfo: [NSLocalizedDescriptionKey: "no deliveries list in the answer"])
        }
        return list
    }

    /// AI calls answered so far.
    public func aiCalls() throws -> Int { try deliveries(provider: "openai").count }

    /// One request on a plain thread, bounded to 10 s.
    public func fetch(_ request: URLRequest) throws -> Data {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Data, any Error> = .failure(URLError(.timedOut))
        URLSession.shared.dataTask(with: request) { data, _, error in
            result = error.map { .failure($0) } ?? .success(data ?? Data())
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        return try result.get()
    }
}
