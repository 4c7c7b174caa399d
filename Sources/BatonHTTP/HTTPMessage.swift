/// One HTTP request as libmicrohttpd parsed it: baton never parses HTTP itself.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The decoded path, without the query.
    public var path: String
    /// Query arguments, decoded; the last of a repeated name wins.
    public var query: [String: String]
    /// Header values by lower-cased name; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// What to answer.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status; self.headers = headers; self.body = body
    }

    public init(status: Int, contentType: String, text: String, headers: [(String, String)] = []) {
        self.init(status: status, headers: [("Content-Type", contentType)] + headers, body: Array(text.utf8))
    }
}

/// Where to listen: `HOST:PORT` or `[IPV6]:PORT`; port 0 takes any free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var isIPv6: Bool

    /// - Throws: `HTTPServerError.badAddress` with what is wrong.
    public init(parsing text: String) throws(HTTPServerError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .badAddress(text, "an IPv6 address is written [ADDR]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            isIPv6 = true
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .badAddress(text, "write HOST:PORT, e.g. 127.0.0.1:8080") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            isIPv6 = false
        }
        guard let port = UInt16(portPart) else { throw .badAddress(text, "the port must be a number from 0 to 65535") }
        var host = String(hostPart)
        if host == "localhost" { host = "127.0.0.1" }
        if host.isEmpty { host = isIPv6 ? "::" : "0.0.0.0" }
        guard Self.numeric(host, ipv6: isIPv6) else {
            throw .badAddress(text, isIPv6 ? "'\(host)' is not an IPv6 address" : "'\(host)' is not an IPv4 address (names other than localhost are not resolved)")
        }
        self.host = host
        self.port = port
    }

    /// Whether only this machine can reach the address (127.0.0.0/8 or ::1).
    public var isLoopback: Bool {
        isIPv6 ? host == "::1" : host.hasPrefix("127.")
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Calls `body` with this address as a `sockaddr` (`sockaddr_in` or `sockaddr_in6`)
    /// and its length.
    public func withSocketAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &sa.sin6_addr)
            return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &sa.sin_addr)
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    static func numeric(_ host: String, ipv6: Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(ipv6 ? AF_INET6 : AF_INET, host, &buffer) == 1
    }
}

#if canImport(Glibc)
import Glibc
#endif

public enum HTTPServerError: Error, Sendable, CustomStringConvertible {
    case badAddress(String, String)
    case cannotListen(String, String)

    public var description: String {
        switch self {
        case let .badAddress(text, why): "--listen '\(text)': \(why)"
        case let .cannotListen(address, why): "cannot listen on \(address): \(why)"
        }
    }
}
