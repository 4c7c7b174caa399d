import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// A real `baton sandbox` on a free loopback port, for the in-process tests.
final class SandboxProcess {
    let process: Process
    let base: String

    static var binary: String {
        ProcessInfo.processInfo.environment["BATON_BIN"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/baton"
    }

    init(dir: String, args: [String] = []) throws {
        let log = dir + "/sandbox.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["sandbox", "--listen", "127.0.0.1:0", "--db", "sqlite:\(dir)/sandbox.db"] + args
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(10)
        while Date() < end {
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

    func stop() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    func faults(_ list: [[String: Any]]) throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["faults": list])
        _ = try fetch(request)
    }

    /// AI calls answered so far.
    func aiCalls() throws -> Int {
        let data = try fetch(URLRequest(url: URL(string: base + "/_sandbox/deliveries?provider=openai")!))
        return ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["deliveries"] as? [Any])?.count ?? -1
    }

    func fetch(_ request: URLRequest) throws -> Data {
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
