import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import XCTest

/// A real `baton sandbox` on a free loopback port, for the kit's send tests.
final class SandboxFixture {
    let process: Process
    let base: String

    init(dir: String) throws {
        let binary = ProcessInfo.processInfo.environment["BATON_BIN"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/baton"
        let log = dir + "/sandbox.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["sandbox", "--listen", "127.0.0.1:0", "--db", "sqlite:\(dir)/sandbox.db"]
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        let end = Date().addingTimeInterval(10)
        while Date() < end {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            if let line = lines.first(where: { $0.contains("event=listen") }),
               let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) {
                base = "http://" + address.dropFirst("address=".count)
                return
            }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        throw NSError(domain: "sandbox", code: 1, userInfo: [NSLocalizedDescriptionKey: "the sandbox did not start"])
    }

    func stop() { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }

    func fault(_ f: [String: Any]) throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: ["faults": [f]])
        _ = try Self.fetch(request)
    }

    func deliveries() throws -> [[String: Any]] {
        let data = try Self.fetch(URLRequest(url: URL(string: base + "/_sandbox/deliveries")!))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["deliveries"] as? [[String: Any]])
    }

    static func fetch(_ request: URLRequest) throws -> Data {
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
