import CCurl
import Foundation

/// One libcurl easy handle, reused for every request of a slice so connections are kept
/// alive (libcurl's connection cache lives in the handle). Synchronous: handlers call it
/// from their own single-threaded code, never from baton's cooperative pool. TLS
/// verification stays on and the proxy variables (`https_proxy`, `no_proxy`, …) are
/// honoured as curl itself does. Not thread-safe: one session per thread.
public final class CurlSession {
    public struct Request {
        public var method: String
        public var url: String
        public var headers: [(String, String)]
        public var body: [UInt8]?
        /// The whole request's limit (connect, send, wait, read), in milliseconds.
        public var timeoutMs: Int64
        public var basicAuth: (user: String, password: String)?

        public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                    timeoutMs: Int64, basicAuth: (user: String, password: String)? = nil) {
            self.method = method; self.url = url; self.headers = headers; self.body = body
            self.timeoutMs = timeoutMs; self.basicAuth = basicAuth
        }
    }

    public struct Response {
        public var status: Int
        /// By lower-cased name; the last of a repeated header wins.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// Bodies are cut off beyond this (a provider's answer is far smaller).
    public static let maxBody = 16 << 20

    private let handle: UnsafeMutableRawPointer

    public init() throws(CurlError) {
        Self.globalInit
        guard let h = curl_easy_init() else { throw CurlError(.other, "libcurl could not create a handle") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request` and reads the whole answer.
    /// - Throws: `CurlError` for a timeout, a refused or failed connection, TLS trouble.
    public func perform(_ request: Request) throws(CurlError) -> Response {
        curl_easy_reset(handle)
        let sink = Sink()
        let headerList = Self.configure(handle, request, sink: sink)
        defer { curl_slist_free_all(headerList) }
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { throw CurlError(code, handle: handle) }
        return Response(status: ccurl_response_code(handle), headers: sink.headers, body: sink.body)
    }

    /// Sets `handle` (freshly reset) up for `request`, its answer read into `sink`.
    /// Returns the header list, which must outlive the transfer (the caller frees it).
    /// One function for the easy and the multi interface, so both send the same bytes.
    static func configure(_ handle: UnsafeMutableRawPointer, _ request: Request, sink: Sink) -> UnsafeMutablePointer<curl_slist>? {
        let context = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // libcurl adds "Expect: 100-continue" to large bodies; providers do not need it.
        headerList = curl_slist_append(headerList, "Expect:")
        ccurl_setopt_string(handle, CURLOPT_URL, request.url)
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeoutMs)))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(request.timeoutMs, 10_000))))
        ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        ccurl_setopt_write(handle, sinkBody)
        ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        ccurl_setopt_header(handle, sinkHeader)
        if let auth = request.basicAuth {
            ccurl_setopt_long(handle, CURLOPT_HTTPAUTH, CCURLAUTH_BASIC)
            ccurl_setopt_string(handle, CURLOPT_USERNAME, auth.user)
            ccurl_setopt_string(handle, CURLOPT_PASSWORD, auth.password)
        }
        if let body = request.body {
            ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBufferPointer { b in
                // COPYPOSTFIELDS copies, so the bytes need not outlive this call.
                _ = ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: b.baseAddress ?? UnsafePointer(bitPattern: 1)))
            }
            if request.method != "POST" { ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method) }
        } else if request.method != "GET" {
            ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        return headerList
    }

    /// Sends one message over SMTP (`smtp://HOST:PORT` or `smtps://…`): MAIL FROM, RCPT TO
    /// each recipient, DATA; STARTTLS when the server offers it. Returns the server's
    /// final reply code (250 on success).
    /// - Throws: `CurlError`; a refusal by the server carries its reply code.
    /// With `requireTLS`, STARTTLS is required (so credentials never go in the clear);
    /// otherwise it is used when the server offers it.
    public func sendMail(url: String, from: String, to: [String], message: [UInt8], user: String? = nil,
                         password: String? = nil, requireTLS: Bool = false, timeoutMs: Int64) throws(CurlError) -> Int {
        curl_easy_reset(handle)
        let source = Source(message)
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(recipients) }
        for r in to { recipients = curl_slist_append(recipients, "<\(r)>") }
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(timeoutMs)))
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(timeoutMs, 10_000))))
        ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int((requireTLS ? CURLUSESSL_ALL : CURLUSESSL_TRY).rawValue))
        ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        ccurl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        if let user { ccurl_setopt_string(handle, CURLOPT_USERNAME, user) }
        if let password { ccurl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        ccurl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
        ccurl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        ccurl_setopt_read(handle, readSource)
        let code = curl_easy_perform(handle)
        let reply = ccurl_response_code(handle)
        guard code == CURLE_OK else { throw CurlError(code, handle: handle, reply: reply) }
        return reply
    }
}

/// Why a transfer failed, with libcurl's own words (never a URL's secrets: messages name
/// the failure, not the request).
public struct CurlError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case timeout, connect, resolve, tls, send, other }
    public var kind: Kind
    public var message: String
    /// For SMTP: the server's last reply code (e.g. 550), or 0.
    public var reply: Int
    /// Some of the request left this machine before the failure (libcurl counted request
    /// or upload bytes as sent): the server may have taken it, so a send that failed this
    /// way may have been delivered. False for a refused connection, an unknown host, a
    /// TLS failure or a connect timeout: nothing was taken.
    public var requestSent: Bool
    /// Some of the upload body (SMTP: the message after DATA) left this machine; SMTP
    /// commands before it count as request bytes but deliver nothing.
    public var bodySent: Bool

    init(_ kind: Kind, _ message: String, reply: Int = 0, requestSent: Bool = false) {
        self.kind = kind; self.message = message; self.reply = reply; self.requestSent = requestSent; bodySent = false
    }

    init(_ code: CURLcode, handle: UnsafeMutableRawPointer, reply: Int = 0) {
        let text = String(cString: curl_easy_strerror(code))
        let uploaded = ccurl_upload_size(handle) > 0
        self.init(code, text: text, reply: reply, requestSent: ccurl_request_size(handle) > 0 || uploaded, bodySent: uploaded)
    }

    private init(_ code: CURLcode, text: String, reply: Int, requestSent: Bool, bodySent: Bool) {
        self.requestSent = requestSent
        self.bodySent = bodySent
        switch code {
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .resolve
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: kind = .tls
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: kind = .send
        default: kind = .other
        }
        message = text
        self.reply = reply
    }

    public var description: String { reply > 0 ? "\(message) (server reply \(reply))" : message }
}

/// Parses an HTTP date (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`) with libcurl's
/// own parser; nil when it is not one.
public func httpDate(_ text: String) -> Int64? {
    let t = curl_getdate(text, nil)
    return t < 0 ? nil : Int64(t)
}

final class Sink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
}

private final class Source {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let sinkBody: ccurl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    if sink.body.count + n <= CurlSession.maxBody {
        data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    }
    return n
}

private let sinkHeader: ccurl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: n) { p in
        let bytes = UnsafeBufferPointer(start: p, count: n)
        if n >= 5, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50, bytes[4] == 0x2F {
            sink.headers = [:]  // "HTTP/": a new response (after a 100 Continue or a redirect)
            return
        }
        guard let colon = bytes.firstIndex(of: 0x3A) else { return }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var start = colon + 1, end = n
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<colon]), as: UTF8.self).lowercased()
        sink.headers[name] = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
    return n
}

private let readSource: ccurl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let source = Unmanaged<Source>.fromOpaque(context).takeUnretainedValue()
    let n = min(size * count, source.bytes.count - source.offset)
    if n > 0 {
        source.bytes.withUnsafeBufferPointer { b in
            UnsafeMutableRawPointer(buffer).copyMemory(from: b.baseAddress! + source.offset, byteCount: n)
        }
        source.offset += n
    }
    return n
}
