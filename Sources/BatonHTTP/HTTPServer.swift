import CMicroHTTPD
import Glibc
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd: one epoll thread of libmicrohttpd's own does
/// all socket work; each complete request is handed to `handler` in a Swift task while
/// its connection is suspended, so a slow answer (a store commit) never holds up other
/// connections, and nothing blocks Swift's cooperative pool.
///
/// Limits are enforced by libmicrohttpd before baton sees a request: a connection cap in
/// all and per client address, an idle timeout, a per-connection memory pool for the
/// headers; and by baton around it: a deadline for a whole request to arrive
/// (`RequestDeadlines`), so a client trickling bytes cannot hold a connection. A body
/// longer than `bodyLimit` is refused from its `Content-Length` before any of it is
/// read (the client's `Expect: 100-continue` gets the refusal instead of a 100); a
/// chunked one is cut off at the limit.
public final class HTTPServer: Sendable {
    public struct Options: Sendable {
        public var connectionLimit: UInt32 = 1000
        /// Connections from one client address at once; more are closed at accept, so
        /// one client cannot take every connection.
        public var perAddressLimit: UInt32 = 256
        public var idleTimeoutSeconds: UInt32 = 10
        /// A request's headers and body must arrive within this, counted from the
        /// connection's accept or its previous answer; past it the connection is closed.
        public var requestDeadline: Duration = .seconds(10)
        public var headerMemory: Int = 32 * 1024
        public var bodyLimit: Int = 1 << 20
        /// Request bodies held at once across all connections: past it, new bodies are
        /// refused with 503, so slow clients cannot make baton hold a body per connection.
        public var bufferedBodiesLimit: Int = 64 << 20
        public init() {}
    }

    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    /// The address bound (with the real port when 0 was asked for).
    public var address: ListenAddress { state.withLock { $0.address } }
    let options: Options
    let handler: Handler
    /// What a request whose body is too long gets.
    let tooLarge: HTTPResponse
    let deadlines: RequestDeadlines
    /// The daemon, the answers being computed (suspended connections), and whether `stop`
    /// has begun: one lock, so no request is suspended after `stop` saw none in flight,
    /// and the daemon is stopped once however many threads call `stop` (issue 12).
    private let state: Mutex<State>

    private struct State {
        var address: ListenAddress
        var daemon: DaemonHandle?
        var inFlight = 0
        var stopping = false
    }
    /// Bytes of request bodies held now, across connections.
    private let buffered = Atomic<Int>(0)
    /// A path whose raw form holds `%00`: libmicrohttpd decodes it to a C string that
    /// ends there, so `/hooks/a%00b` would otherwise reach the handler as `/hooks/a`.
    static let nulInPath = HTTPResponse(status: 404, contentType: "application/json",
                                        text: #"{"error":"no such path: the path contains %00","hint":"see docs/http.md for the endpoints"}"#,
                                        headers: [("Connection", "close")])
    /// Two `Content-Length`s, or one with `Transfer-Encoding`: where the body ends is
    /// ambiguous (request smuggling), so it is not read at all.
    static let ambiguousLength = HTTPResponse(status: 400, contentType: "application/json",
                                              text: #"{"error":"the request has more than one Content-Length, or Content-Length with Transfer-Encoding","hint":"send exactly one Content-Length, or Transfer-Encoding: chunked alone"}"#,
                                              headers: [("Connection", "close")])
    static let overloaded = HTTPResponse(status: 503, contentType: "application/json",
                                         text: #"{"error":"baton is holding too many request bodies","hint":"retry shortly"}"#)
    /// What a request gets once `stop` has begun.
    static let shuttingDown = HTTPResponse(status: 503, contentType: "application/json",
                                           text: #"{"error":"baton is shutting down","hint":"retry against another baton, or later"}"#)

    /// Binds and starts serving.
    /// - Throws: `HTTPServerError.cannotListen` (address in use, not this machine's, …).
    public init(address: ListenAddress, options: Options = Options(), tooLarge: HTTPResponse,
                handler: @escaping Handler) throws(HTTPServerError) {
        state = Mutex(State(address: address))
        self.options = options
        self.handler = handler
        self.tooLarge = tooLarge
        deadlines = RequestDeadlines(deadline: options.requestDeadline)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let started = address.withSocketAddress { sa, _ in
            cmhd_start(sa, address.isIPv6 ? 1 : 0, options.connectionLimit, options.perAddressLimit, options.idleTimeoutSeconds,
                       options.headerMemory, accessHandler, context, completedHandler, context, connectionHandler, context,
                       uriHandler, context)
        }
        guard let started else {
            deadlines.stop()
            let why = errno == EADDRINUSE ? "the address is in use (another server listens there)"
                : errno == EADDRNOTAVAIL ? "the address is not one of this machine's"
                : errno == EACCES ? "permission denied (ports below 1024 need privileges)"
                : String(cString: strerror(errno))
            throw .cannotListen(address.description, why)
        }
        state.withLock {
            $0.address.port = cmhd_bound_port(started)
            $0.daemon = DaemonHandle(started)
        }
    }

    /// Stops accepting, waits (up to `timeout`) for answers being computed, then closes
    /// every connection. Blocks the caller: call it from a thread that may wait. Only
    /// the first call stops the daemon; later or concurrent calls return at once.
    public func stop(timeout: Duration = .seconds(5)) {
        let daemon = state.withLock { s -> DaemonHandle? in
            guard !s.stopping else { return nil }
            s.stopping = true
            return s.daemon.take()
        }
        guard let daemon else { return }
        let start = ContinuousClock.now
        // A suspended connection resumes within its handler's answer; polled, since
        // libmicrohttpd offers no wait for it.
        while state.withLock({ $0.inFlight }) > 0, ContinuousClock.now - start < timeout { usleep(10_000) }
        // libmicrohttpd refuses to stop with a connection still suspended; past the
        // timeout the process is exiting anyway, so the daemon is left to it.
        if state.withLock({ $0.inFlight }) == 0 { MHD_stop_daemon(daemon.pointer) }
        deadlines.stop()
    }

    /// How much of a too-large chunked body is read and dropped before the connection is
    /// closed without an answer.
    static let discardLimit = 8 << 20

    // MARK: libmicrohttpd callbacks (on its polling thread)

    fileprivate func access(_ connection: OpaquePointer, url: String, method: String, upload: UnsafePointer<CChar>?,
                            uploadSize: UnsafeMutablePointer<Int>, state slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        guard let raw = slot.pointee, raw != nulMarker else {
            // First call: headers only. A declared body over the limit is refused now,
            // before libmicrohttpd reads any of it.
            let nul = slot.pointee == nulMarker
            let exchange = Exchange()
            slot.pointee = Unmanaged.passRetained(exchange).toOpaque()
            if nul { return queue(Self.nulInPath, on: connection) }
            let lengths = Self.count(connection, CMHD_HEADER_KIND, "Content-Length")
            if lengths > 1 || (lengths == 1 && Self.count(connection, CMHD_HEADER_KIND, "Transfer-Encoding") > 0) {
                return queue(Self.ambiguousLength, on: connection)
            }
            if let length = Self.value(connection, CMHD_HEADER_KIND, "Content-Length").flatMap(Int.init), length > options.bodyLimit {
                return queue(tooLarge, on: connection)
            }
            return CMHD_YES
        }
        let exchange = Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue()
        if uploadSize.pointee > 0 {
            let n = uploadSize.pointee
            uploadSize.pointee = 0
            if exchange.tooLarge || exchange.body.count + n > options.bodyLimit {
                // A body without a length (chunked) that outgrew the limit: libmicrohttpd
                // answers only once the upload ends, so the rest is read and dropped (memory
                // stays flat) up to a bound, past which the connection is closed.
                if !exchange.tooLarge { exchange.body = [] }
                exchange.tooLarge = true
                exchange.discarded += n
                return exchange.discarded > Self.discardLimit ? CMHD_NO : CMHD_YES
            }
            if buffered.add(n, ordering: .relaxed).newValue > options.bufferedBodiesLimit {
                buffered.subtract(n, ordering: .relaxed)
                exchange.overloaded = true
                exchange.body = []
                return CMHD_YES  // read on and drop; answered 503 when the upload ends
            }
            exchange.held += n
            if let upload {
                upload.withMemoryRebound(to: UInt8.self, capacity: n) { exchange.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            }
            return CMHD_YES
        }
        if exchange.tooLarge { return queue(tooLarge, on: connection) }
        if exchange.overloaded { return queue(Self.overloaded, on: connection) }
        if let answer = exchange.takeAnswer() { return queue(answer, on: connection) }
        if exchange.dispatched { return CMHD_YES }
        exchange.dispatched = true
        let request = HTTPRequest(method: method, path: url, query: Self.values(connection, CMHD_GET_ARGUMENT_KIND, lowercased: false),
                                  headers: Self.values(connection, CMHD_HEADER_KIND, lowercased: true), body: exchange.body)
        exchange.body = []
        release(exchange)
        let admitted = state.withLock { s -> Bool in
            if s.stopping { return false }
            s.inFlight += 1
            return true
        }
        guard admitted else { return queue(Self.shuttingDown, on: connection) }
        deadlines.arrived(connection)
        MHD_suspend_connection(connection)
        let handler = self.handler
        let box = ConnectionBox(connection)
        Task {
            let answer = await handler(request)
            exchange.setAnswer(answer)
            MHD_resume_connection(box.connection)
            self.state.withLock { $0.inFlight -= 1 }
        }
        return CMHD_YES
    }

    /// Gives back the exchange's share of `buffered`.
    fileprivate func release(_ exchange: Exchange) {
        if exchange.held > 0 { buffered.subtract(exchange.held, ordering: .relaxed); exchange.held = 0 }
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        deadlines.arrived(connection)
        let made = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), CMHD_RESPMEM_MUST_COPY)
        }
        guard let made else { return CMHD_NO }
        for (name, value) in response.headers { _ = MHD_add_response_header(made, name, value) }
        let result = MHD_queue_response(connection, UInt32(response.status), made)
        MHD_destroy_response(made)
        return result
    }

    private static func value(_ connection: OpaquePointer, _ kind: MHD_ValueKind, _ name: String) -> String? {
        MHD_lookup_connection_value(connection, kind, name).map { String(cString: $0) }
    }

    /// How many headers (or arguments) named `name` the request has, any case.
    private static func count(_ connection: OpaquePointer, _ kind: MHD_ValueKind, _ name: String) -> Int {
        let collector = Collector(lowercased: true, only: name.lowercased())
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = MHD_get_connection_values(connection, kind, { context, _, key, _ in
            guard let context, let key else { return CMHD_YES }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            if String(cString: key).lowercased() == collector.only { collector.count += 1 }
            return CMHD_YES
        }, context)
        return collector.count
    }

    private static func values(_ connection: OpaquePointer, _ kind: MHD_ValueKind, lowercased: Bool) -> [String: String] {
        let collector = Collector(lowercased: lowercased)
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = MHD_get_connection_values(connection, kind, { context, _, key, value in
            guard let context, let key else { return CMHD_YES }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            let name = collector.lowercased ? String(cString: key).lowercased() : String(cString: key)
            let text = value.map { String(cString: $0) } ?? ""
            if collector.lowercased, let old = collector.values[name] { collector.values[name] = old + ", " + text }
            else { collector.values[name] = text }
            return CMHD_YES
        }, context)
        return collector.values
    }
}

/// One request's state across libmicrohttpd's calls; released when the request completes.
private final class Exchange: @unchecked Sendable {
    var body: [UInt8] = []
    var tooLarge = false
    var overloaded = false
    /// Bytes of this body counted in the server's `buffered`.
    var held = 0
    /// Bytes of a too-large body read and dropped.
    var discarded = 0
    var dispatched = false
    private let answer = Mutex<HTTPResponse?>(nil)

    func setAnswer(_ response: HTTPResponse) { answer.withLock { $0 = response } }
    func takeAnswer() -> HTTPResponse? { answer.withLock { a in defer { a = nil }; return a } }
}

private final class Collector {
    let lowercased: Bool
    let only: String?
    var values: [String: String] = [:]
    var count = 0
    init(lowercased: Bool, only: String? = nil) { self.lowercased = lowercased; self.only = only }
}

/// The libmicrohttpd daemon, owned by the server's lock until `stop` takes it out.
private struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// A suspended connection handed to the task that answers it; libmicrohttpd keeps it
/// alive until it is resumed.
private struct ConnectionBox: @unchecked Sendable {
    let connection: OpaquePointer
    init(_ connection: OpaquePointer) { self.connection = connection }
}

private let accessHandler: MHD_AccessHandlerCallback = { context, connection, url, method, _, upload, uploadSize, slot in
    guard let context, let connection, let uploadSize, let slot else { return CMHD_NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue()
    return server.access(connection, url: url.map { String(cString: $0) } ?? "/", method: method.map { String(cString: $0) } ?? "GET",
                         upload: upload, uploadSize: uploadSize, state: slot)
}

private let completedHandler: MHD_RequestCompletedCallback = { context, connection, slot, _ in
    if let context, let connection { Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue().deadlines.answered(connection) }
    guard let slot, let raw = slot.pointee, raw != nulMarker else { slot?.pointee = nil; return }
    if let context { Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue().release(Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue()) }
    Unmanaged<Exchange>.fromOpaque(raw).release()
    slot.pointee = nil
}

/// Connections opening and closing, for the request deadline.
private let connectionHandler: MHD_NotifyConnectionCallback = { context, connection, _, event in
    guard let context, let connection else { return }
    let deadlines = Unmanaged<HTTPServer>.fromOpaque(context).takeUnretainedValue().deadlines
    if event == CMHD_CONNECTION_STARTED { deadlines.opened(connection, fd: cmhd_connection_fd(connection)) }
    else if event == CMHD_CONNECTION_CLOSED { deadlines.closed(connection) }
}

/// What the URI callback hands the access handler for a request whose raw path holds
/// `%00`: not an object, never released.
nonisolated(unsafe) private let nulMarker = UnsafeMutableRawPointer(bitPattern: 1)!

/// Sees the request line's URI before libmicrohttpd decodes it (the access handler gets
/// it decoded, cut at a `%00`): a NUL in the path is marked for a 404.
private let uriHandler: cmhd_uri_callback = { _, uri, _ in
    guard let uri else { return nil }
    var p = uri
    while p.pointee != 0, p.pointee != 0x3F /* ? */ {
        if p.pointee == 0x25, p[1] == 0x30, p[2] == 0x30 { return nulMarker }  // %00
        p += 1
    }
    return nil
}
