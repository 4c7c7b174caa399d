import BatonHTTP
import Foundation
import Glibc

/// The sandbox's mail receiver: enough SMTP (RFC 5321) for a client to deliver —
/// EHLO/HELO, AUTH PLAIN and LOGIN (any non-empty credentials), MAIL, RCPT, DATA with
/// dot-unstuffing, RSET, NOOP, QUIT. STARTTLS is not offered, so clients that use it
/// "when offered" go on in the clear. Each accepted message is one delivery per
/// recipient. A thread per connection, off Swift's cooperative pool; an idle
/// connection is dropped after 30 s, a message over 10 MiB refused.
final class SMTPReceiver: @unchecked Sendable {
    let listener: Int32
    let address: ListenAddress
    let ledger: SandboxLedger
    static let maxMessage = 10 << 20

    init(address: ListenAddress, ledger: SandboxLedger) throws(HTTPServerError) {
        self.ledger = ledger
        var bound = address
        let fd = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotListen(address.description, String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let ok = address.withSocketAddress { sa, length in bind(fd, sa, length) == 0 }
        guard ok, listen(fd, 128) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw .cannotListen(address.description, why)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = withUnsafePointer(to: &storage) { p -> UInt16 in
            address.isIPv6 ? p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        bound.port = port
        listener = fd
        self.address = bound
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "baton-smtp"
        thread.start()
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE { usleep(10_000); continue }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var session = Session(fd: client, ledger: ledger)
                session.run()
                close(client)
            }
            thread.start()
        }
    }
}

/// One SMTP conversation.
private struct Session {
    let fd: Int32
    let ledger: SandboxLedger
    var buffer: [UInt8] = []
    var from: String?
    var recipients: [String] = []

    init(fd: Int32, ledger: SandboxLedger) { self.fd = fd; self.ledger = ledger }

    mutating func run() {
        send("220 baton-sandbox ESMTP ready")
        while let line = readLine() {
            let upper = line.uppercased()
            if upper.hasPrefix("EHLO") {
                send("250-baton-sandbox\r\n250-SIZE \(SMTPReceiver.maxMessage)\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8")
            } else if upper.hasPrefix("HELO") {
                send("250 baton-sandbox")
            } else if upper.hasPrefix("AUTH PLAIN") {
                var credential = String(line.dropFirst("AUTH PLAIN".count)).trimmingCharacters(in: .whitespaces)
                if credential.isEmpty { send("334 "); credential = readLine() ?? "" }
                let parts = Data(base64Encoded: credential).map { $0.split(separator: 0, omittingEmptySubsequences: false) } ?? []
                send(parts.count == 3 && !parts[1].isEmpty && !parts[2].isEmpty ? "235 2.7.0 Authentication successful"
                     : "535 5.7.8 Authentication credentials invalid")
            } else if upper.hasPrefix("AUTH LOGIN") {
                send("334 VXNlcm5hbWU6")
                let user = readLine() ?? ""
                send("334 UGFzc3dvcmQ6")
                let password = readLine() ?? ""
                send(!user.isEmpty && !password.isEmpty ? "235 2.7.0 Authentication successful" : "535 5.7.8 Authentication credentials invalid")
            } else if upper.hasPrefix("MAIL FROM:") {
                from = Self.path(line.dropFirst(10))
                recipients = []
                send("250 2.1.0 Ok")
            } else if upper.hasPrefix("RCPT TO:") {
                guard from != nil else { send("503 5.5.1 MAIL first"); continue }
                recipients.append(Self.path(line.dropFirst(8)))
                send("250 2.1.5 Ok")
            } else if upper == "DATA" {
                guard let sender = from, !recipients.isEmpty else { send("503 5.5.1 RCPT first"); continue }
                send("354 End data with <CR><LF>.<CR><LF>")
                guard let message = readData() else { return }
                guard message.count <= SMTPReceiver.maxMessage else { send("552 5.3.4 Message too big"); continue }
                let text = String(decoding: message, as: UTF8.self)
                do {
                    for r in recipients { try ledger.recordNow(provider: "smtp", to: r, from: sender, body: text) }
                    send("250 2.0.0 Ok: queued")
                } catch {
                    send("451 4.3.0 Local error in processing")
                }
                from = nil
                recipients = []
            } else if upper == "RSET" {
                from = nil; recipients = []
                send("250 2.0.0 Ok")
            } else if upper == "NOOP" {
                send("250 2.0.0 Ok")
            } else if upper == "QUIT" {
                send("221 2.0.0 Bye")
                return
            } else if upper.hasPrefix("STARTTLS") {
                send("454 4.7.0 TLS not available")
            } else {
                send("502 5.5.2 Command not recognized")
            }
        }
    }

    /// `<a@b>` (with any parameters after it) as `a@b`.
    static func path(_ text: Substring) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let open = t.firstIndex(of: "<"), let close = t.firstIndex(of: ">"), open < close {
            return String(t[t.index(after: open)..<close])
        }
        return String(t.split(separator: " ").first ?? "")
    }

    func send(_ line: String) {
        let bytes = Array((line + "\r\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// One line without its CRLF; nil at the end of the connection.
    mutating func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<i])
                buffer.removeFirst(i + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count < 64 * 1024, fill() else { return nil }
        }
    }

    /// The DATA section up to the lone dot, dot-unstuffed; nil at the end of the connection.
    mutating func readData() -> [UInt8]? {
        var message: [UInt8] = []
        while true {
            guard let i = buffer.firstIndex(of: 0x0A) else {
                guard fill() else { return nil }
                continue
            }
            var line = Array(buffer[...i])
            buffer.removeFirst(i + 1)
            if line == [0x2E, 0x0D, 0x0A] || line == [0x2E, 0x0A] { return message }
            if line.first == 0x2E { line.removeFirst() }
            if message.count <= SMTPReceiver.maxMessage { message += line }
        }
    }

    mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }
}
