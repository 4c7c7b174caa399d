import BatonCurl
import BatonJSON
import Foundation

/// What a messaging provider said of a message it took.
public struct Receipt: Sendable, Equatable {
    /// The provider's id of the message (Twilio `SM…`, Messenger `m_…`, the SMTP Message-ID).
    public var id: String
    /// Twilio's `status` (`queued`, …); `sent` for the others.
    public var status: String
}

/// Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{SID}/Messages.json`,
/// form-encoded, HTTP basic auth with the account SID and auth token.
public final class TwilioClient {
    public let baseURL: String
    public let accountSid: String
    let authToken: String
    public let transport: Transport

    public init(baseURL: String, accountSid: String, authToken: String, deadline: Deadline) throws(ProviderError) {
        self.baseURL = trimmedBase(baseURL)
        self.accountSid = accountSid
        self.authToken = authToken
        transport = try Transport(provider: "twilio", deadline: deadline)
        transport.sendsMessages = true
    }

    /// `TWILIO_BASE_URL` (default `https://api.twilio.com`), `TWILIO_ACCOUNT_SID`,
    /// `TWILIO_AUTH_TOKEN`.
    public convenience init(environment: [String: String], deadline: Deadline) throws(ProviderError) {
        try self.init(baseURL: environment["TWILIO_BASE_URL"] ?? "https://api.twilio.com",
                      accountSid: try secret("TWILIO_ACCOUNT_SID", in: environment, provider: "twilio"),
                      authToken: try secret("TWILIO_AUTH_TOKEN", in: environment, provider: "twilio"), deadline: deadline)
    }

    /// Sends one SMS/MMS. `from` is a number or a Messaging Service SID (`MG…`).
    public func send(to: String, from: String, body: String, mediaURL: String? = nil) throws(ProviderError) -> Receipt {
        var form = [("To", to), (from.hasPrefix("MG") ? "MessagingServiceSid" : "From", from), ("Body", body)]
        if let mediaURL { form.append(("MediaUrl", mediaURL)) }
        let encoded = form.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        let url = "\(baseURL)/2010-04-01/Accounts/\(Self.escape(accountSid))/Messages.json"
        let response = try transport.send(.init(method: "POST", url: url,
                                                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                                body: Array(encoded.utf8), timeoutMs: 0, basicAuth: (accountSid, authToken)))
        guard response.status == 201 || response.status == 200 else { throw error(response) }
        return try transport.accepted(response) { root throws(ProviderError) in
            let f = Fields(provider: "twilio", root: root)
            return Receipt(id: try f.string("sid"), status: try f.string("status"))
        }
    }

    func error(_ r: CurlSession.Response) -> ProviderError {
        let code = (try? transport.json(r))?["code"]?.int.map(String.init)
        switch (r.status, code) {
        case (401, _), (403, _), (_, "20003"): return .authentication(provider: "twilio", status: r.status)
        case (429, _), (_, "20429"): return .rateLimited(provider: "twilio", retryAfterMs: ProviderError.retryAfter(r.headers))
        case (500...599, _): return .server(provider: "twilio", status: r.status)
        default: return .rejected(provider: "twilio", status: r.status, code: code)
        }
    }

    /// `application/x-www-form-urlencoded` escaping: everything but ASCII letters,
    /// digits and `-._~` (non-ASCII is escaped byte by byte from its UTF-8).
    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unescaped) ?? s
    }

    /// Made once: a `CharacterSet` built per call cost 2 % of a send (perf).
    private static let unescaped: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()
}

/// The Facebook Messenger Send API: `POST /{version}/me/messages` with a page access
/// token, to a page-scoped id (PSID).
public final class MessengerClient {
    public let baseURL: String
    public let version: String
    let pageToken: String
    public let transport: Transport

    public init(baseURL: String, pageToken: String, version: String = "v21.0", deadline: Deadline) throws(ProviderError) {
        self.baseURL = trimmedBase(baseURL)
        self.pageToken = pageToken
        self.version = version
        transport = try Transport(provider: "messenger", deadline: deadline)
        transport.sendsMessages = true
    }

    /// `MESSENGER_BASE_URL` (default `https://graph.facebook.com`), `MESSENGER_PAGE_TOKEN`,
    /// `MESSENGER_API_VERSION` (default v21.0).
    public convenience init(environment: [String: String], deadline: Deadline) throws(ProviderError) {
        try self.init(baseURL: environment["MESSENGER_BASE_URL"] ?? "https://graph.facebook.com",
                      pageToken: try secret("MESSENGER_PAGE_TOKEN", in: environment, provider: "messenger"),
                      version: environment["MESSENGER_API_VERSION"] ?? "v21.0", deadline: deadline)
    }

    /// Sends a text (or, with `imageURL`, an image attachment) to `psid`.
    public func send(psid: String, text: String?, imageURL: String? = nil, tag: String? = nil) throws(ProviderError) -> Receipt {
        var message: [String: JSONValue] = [:]
        if let imageURL {
            message["attachment"] = .object(["type": .string("image"),
                                             "payload": .object(["url": .string(imageURL), "is_reusable": .bool(true)])])
        } else {
            message["text"] = .string(text ?? "")
        }
        var object: [String: JSONValue] = ["recipient": .object(["id": .string(psid)]), "message": .object(message),
                                           "messaging_type": .string(tag == nil ? "RESPONSE" : "MESSAGE_TAG")]
        if let tag { object["tag"] = .string(tag) }
        let url = "\(baseURL)/\(version)/me/messages?access_token=\(TwilioClient.escape(pageToken))"
        let response = try transport.send(.init(method: "POST", url: url, headers: [("Content-Type", "application/json")],
                                                body: Array(JSONValue.object(object).text.utf8), timeoutMs: 0))
        guard response.status == 200 else { throw error(response) }
        return try transport.accepted(response) { root throws(ProviderError) in
            Receipt(id: try Fields(provider: "messenger", root: root).string("message_id"), status: "sent")
        }
    }

    func error(_ r: CurlSession.Response) -> ProviderError {
        let code = (try? transport.json(r))?["error"]?["code"]?.int
        switch (r.status, code) {
        case (_, 190?), (401, _): return .authentication(provider: "messenger", status: r.status)
        case (_, 613?), (_, 4?), (429, _): return .rateLimited(provider: "messenger", retryAfterMs: ProviderError.retryAfter(r.headers))
        case (_, 2?), (_, 1200?), (500...599, _): return .server(provider: "messenger", status: r.status)
        default: return .rejected(provider: "messenger", status: r.status, code: code.map(String.init))
        }
    }
}

/// Email over SMTP through libcurl: MAIL FROM, RCPT TO, DATA; STARTTLS when offered.
public final class SMTPClient {
    public let url: String
    let user: String?
    let password: String?
    public var deadline: Deadline
    let session: CurlSession

    public init(url: String, user: String? = nil, password: String? = nil, deadline: Deadline) throws(ProviderError) {
        self.url = url; self.user = user; self.password = password; self.deadline = deadline
        do { session = try CurlSession() } catch { throw .connectionFailed(provider: "smtp", reason: error.message) }
    }

    /// `SMTP_URL` (`smtp://host:587`), `SMTP_USER`, `SMTP_PASSWORD`.
    public convenience init(environment: [String: String], deadline: Deadline) throws(ProviderError) {
        guard let url = environment["SMTP_URL"], !url.isEmpty else {
            throw .notConfigured(provider: "smtp", variable: "SMTP_URL")
        }
        try self.init(url: url, user: environment["SMTP_USER"], password: environment["SMTP_PASSWORD"], deadline: deadline)
    }

    /// Sends a plain-text message; returns its Message-ID.
    public func send(from: String, to: [String], subject: String, text: String, messageID: String? = nil) throws(ProviderError) -> Receipt {
        let left = deadline.remainingMs
        guard left >= 50 else { throw .noTimeLeft(provider: "smtp") }
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let id = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
        guard ([from] + to).allSatisfy({ !$0.contains("\r") && !$0.contains("\n") && !$0.contains("<") && !$0.contains(">") }) else {
            throw .rejected(provider: "smtp", status: 0, code: "address with a line break or angle bracket")
        }
        let message = Self.compose(from: from, to: to, subject: subject, text: text, messageID: id)
        let reply: Int
        do {
            reply = try session.sendMail(url: url, from: from, to: to, message: Array(message.utf8), user: user, password: password,
                                         requireTLS: user != nil && !Self.isLoopback(url), timeoutMs: min(left, 60_000))
        } catch {
            throw Self.map(error)
        }
        guard reply == 250 || reply == 0 else { throw Self.map(reply: reply) }
        return Receipt(id: id, status: "sent")
    }

    /// Credentials go in the clear only to this machine (a local relay, the sandbox).
    static func isLoopback(_ url: String) -> Bool {
        guard let host = URL(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    static func map(_ error: CurlError) -> ProviderError {
        if error.reply >= 400 { return map(reply: error.reply) }
        // libcurl's error after DATA is generic: once the body started to leave, the
        // server may have queued the message.
        var error = error
        error.requestSent = error.bodySent
        return .transport("smtp", error, sendsMessages: true)
    }

    static func map(reply: Int) -> ProviderError {
        switch reply {
        case 535, 530: .authentication(provider: "smtp", status: reply)
        case 421, 450, 451, 452: .server(provider: "smtp", status: reply)
        default: .rejected(provider: "smtp", status: reply, code: nil)
        }
    }

    /// An RFC 5322 message, UTF-8, with the subject encoded when it is not ASCII.
    static func compose(from rawFrom: String, to rawTo: [String], subject rawSubject: String, text: String, messageID: String) -> String {
        // No CR or LF in a header: a subject or address from data cannot add headers (Bcc:).
        func oneLine(_ s: String) -> String { String(s.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }) }
        let from = oneLine(rawFrom), to = rawTo.map(oneLine), subject = oneLine(rawSubject)
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.timeZone = TimeZone(identifier: "UTC")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let encodedSubject = subject.allSatisfy(\.isASCII) ? subject : "=?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?="
        // Lines starting with a dot are doubled by libcurl itself; line ends become CRLF.
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return ["Date: \(date.string(from: Date()))", "From: <\(from)>", "To: " + to.map { "<\($0)>" }.joined(separator: ", "),
                "Subject: \(encodedSubject)", "Message-ID: \(messageID)", "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", body].joined(separator: "\r\n") + "\r\n"
    }
}
