import BatonHTTP
import Foundation
import Glibc
import Synchronization
import XCTest

/// `HTTPServer.stop` against a real server on loopback with real sockets.
final class HTTPServerStopTests: XCTestCase {
    /// Issue 12: `stop` read and cleared the daemon without a lock, so two callers
    /// (a signal and a shutdown path) both stopped libmicrohttpd: a crash or a hang.
    func testStoppingFromTwoThreadsWhileRequestsArriveStopsOnceAndAnswersEveryRequest() throws {
        let entered = Atomic<Int>(0)
        let server = try HTTPServer(address: ListenAddress(parsing: "127.0.0.1:0"),
                                    tooLarge: HTTPResponse(status: 413)) { _ in
            entered.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .milliseconds(150))
            return HTTPResponse(status: 200, contentType: "text/plain", text: "ok")
        }
        let port = server.address.port
        let statuses = Mutex<[Int]>([])
        let stopClients = Atomic<Bool>(false)
        let clientsDone = DispatchGroup()
        for _ in 0..<4 {
            clientsDone.enter()
            Thread {
                while !stopClients.load(ordering: .relaxed) {
                    guard let status = Self.get(port: port) else { break }  // refused: the server is gone
                    statuses.withLock { $0.append(status) }
                }
                clientsDone.leave()
            }.start()
        }
        try poll("requests in flight") { entered.load(ordering: .relaxed) >= 4 }
        let stopped = DispatchGroup()
        for _ in 0..<2 {
            stopped.enter()
            Thread { server.stop(timeout: .seconds(5)); stopped.leave() }.start()
        }
        XCTAssertEqual(stopped.wait(timeout: .now() + 15), .success, "stop did not return")
        stopClients.store(true, ordering: .relaxed)
        XCTAssertEqual(clientsDone.wait(timeout: .now() + 15), .success, "a client hung on a stopped server")
        let seen = statuses.withLock { $0 }
        XCTAssertTrue(seen.contains(200), "\(seen)")
        XCTAssertEqual(seen.filter { $0 != 200 && $0 != 503 }, [], "only answers or 'shutting down'")
        XCTAssertNil(Self.get(port: port), "the server still answers after stop")
        server.stop()  // a later call is harmless
    }

    func poll(_ what: String, seconds: Double = 10, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { throw TimedOut(what: what) }
            usleep(5_000)
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// One `GET /` on a new connection: the status, or nil when the connection was
    /// refused or closed without an answer.
    static func get(port: UInt16) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        let head = String(decoding: answer.prefix(12), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(head.dropFirst(9).prefix(3))
    }
}
