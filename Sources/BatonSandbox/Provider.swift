import BatonCrypto
import BatonHTTP
import BatonJSON
import Foundation

/// What the sandbox records of a successful call.
struct DeliveryNote {
    var to: String
    var from: String
    var body: String
}

/// The providers the sandbox stands in for, each with its own answers and error shapes
/// (HANDLERS.md, "Provider facts").
enum Provider: String {
    case openai, anthropic, twilio, messenger

    func answer(_ request: HTTPRequest) -> (HTTPResponse, DeliveryNote?) {
        switch self {
        case .openai: openAI(request)
        case .anthropic: anthropic(request)
        case .twilio: twilio(request)
        case .messenger: messenger(request)
        }
    }

    /// The provider's own answer to a fault: a status, and for 429 a `Retry-After` in
    /// seconds or as an HTTP date.
    func fault(status: Int, retryAfter: String?, asDate: Bool) -> HTTPResponse {
        var headers: [(String, String)] = []
        if status == 429 || status == 503 || status == 529 {
            let seconds = Int(retryAfter ?? "1") ?? 1
            headers.append(("Retry-After", asDate ? Self.httpDate(Date().addingTimeInterval(Double(seconds))) : (retryAfter ?? "1")))
        }
        switch self {
        case .openai:
            let (type, code, message) = status == 429 ? ("requests", "rate_limit_exceeded", "Rate limit reached for requests")
                : ("server_error", "server_error", "The server had an error while processing your request.")
            return Sandbox.json(status, ["error": ["message": message, "type": type, "param": NSNull(), "code": code]], headers: headers)
        case .anthropic:
            let type = switch status {
            case 429: "rate_limit_error"
            case 529: "overloaded_error"
            default: "api_error"
            }
            return Sandbox.json(status, ["type": "error", "error": ["type": type, "message": "sandbox fault \(status)"]],
                                headers: headers + [("request-id", "req_sandbox")])
        case .twilio:
            let code = status == 429 ? 20429 : 20500
            return Sandbox.json(status, ["code": code, "message": status == 429 ? "Too Many Requests" : "Internal Server Error",
                                         "more_info": "https://www.twilio.com/docs/errors/\(code)", "status": status], headers: headers)
        case .messenger:
            // The Graph API answers throttling with HTTP 400 and code 613; others as asked.
            let code = status == 429 ? 613 : 2
            return Sandbox.json(status == 429 ? 400 : status,
                                ["error": ["message": status == 429 ? "Calls to this api have exceeded the rate limit." : "An unexpected error has occurred.",
                                           "type": "OAuthException", "code": code, "fbtrace_id": "sandbox"]], headers: headers)
        }
    }

    // MARK: AI

    /// A deterministic answer for a prompt, and word counts standing in for tokens.
    static func reply(model: String, prompt: [String]) -> (text: String, input: Int, output: Int) {
        SandboxReplies.reply(model: model, prompt: prompt)
    }

    func openAI(_ request: HTTPRequest) -> (HTTPResponse, DeliveryNote?) {
        let auth = request.header("authorization") ?? ""
        guard auth.hasPrefix("Bearer "), auth.count > 7 else {
            return (Sandbox.json(401, ["error": ["message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                                                 "type": "invalid_request_error", "param": NSNull(), "code": "invalid_api_key"]]), nil)
        }
        guard let o = Self.object(request.body), let model = o["model"]?.string,
              case let .array(messages)? = o["messages"], !messages.isEmpty else {
            return (Sandbox.json(400, ["error": ["message": "'model' and a non-empty 'messages' are required.",
                                                 "type": "invalid_request_error", "param": "messages", "code": NSNull()]]), nil)
        }
        let prompt = messages.map { Self.text(of: $0["content"]) }
        let r = Self.reply(model: model, prompt: prompt)
        let id = "chatcmpl-" + Digest.hex(Digest.sha256(Array(UUID().uuidString.utf8))).prefix(24)
        let body: [String: Any] = [
            "id": id, "object": "chat.completion", "created": Int(Date().timeIntervalSince1970), "model": model,
            "choices": [["index": 0, "message": ["role": "assistant", "content": r.text, "refusal": NSNull()],
                         "logprobs": NSNull(), "finish_reason": "stop"]],
            "usage": ["prompt_tokens": r.input, "completion_tokens": r.output, "total_tokens": r.input + r.output],
            "system_fingerprint": "fp_sandbox",
        ]
        return (Sandbox.json(200, body, headers: [("x-request-id", "req_" + id.suffix(12))]), DeliveryNote(to: model, from: "openai", body: ""))
    }

    func anthropic(_ request: HTTPRequest) -> (HTTPResponse, DeliveryNote?) {
        // The API key as x-api-key, or as a bearer token (newer official SDKs send that).
        let bearer = request.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let key = request.header("x-api-key") ?? bearer, !key.isEmpty else {
            return (Sandbox.json(401, ["type": "error", "error": ["type": "authentication_error", "message": "invalid x-api-key"]],
                                 headers: [("request-id", "req_sandbox")]), nil)
        }
        guard request.header("anthropic-version") != nil else {
            return (Sandbox.json(400, ["type": "error", "error": ["type": "invalid_request_error",
                                                                  "message": "anthropic-version: header is required"]]), nil)
        }
        guard let o = Self.object(request.body), let model = o["model"]?.string, case .number? = o["max_tokens"],
              case let .array(messages)? = o["messages"], !messages.isEmpty else {
            return (Sandbox.json(400, ["type": "error", "error": ["type": "invalid_request_error",
                                                                  "message": "model, max_tokens and messages are required"]]), nil)
        }
        var prompt = messages.map { Self.text(of: $0["content"]) }
        if let system = o["system"] { prompt.insert(Self.text(of: system), at: 0) }
        let r = Self.reply(model: model, prompt: prompt)
        let id = "msg_" + Digest.hex(Digest.sha256(Array(UUID().uuidString.utf8))).prefix(24)
        let body: [String: Any] = [
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [["type": "text", "text": r.text]], "stop_reason": "end_turn", "stop_sequence": NSNull(),
            "usage": ["input_tokens": r.input, "output_tokens": r.output],
        ]
        return (Sandbox.json(200, body, headers: [("request-id", "req_" + id.suffix(12))]), DeliveryNote(to: model, from: "anthropic", body: ""))
    }

    // MARK: messaging

    func twilio(_ request: HTTPRequest) -> (HTTPResponse, DeliveryNote?) {
        let parts = request.path.split(separator: "/")
        let sid = parts.count >= 4 ? String(parts[2]) : ""
        func error(_ status: Int, _ code: Int, _ message: String) -> (HTTPResponse, DeliveryNote?) {
            (Sandbox.json(status, ["code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)", "status": status]), nil)
        }
        guard Self.isAccountSid(sid), let (user, password) = Self.basicAuth(request.header("authorization")),
              user == sid, !password.isEmpty else {
            return error(401, 20003, "Authenticate")
        }
        let form = Self.form(request.body)
        guard let to = form["To"], !to.isEmpty else { return error(400, 21604, "A 'To' phone number is required.") }
        guard to.hasPrefix("+"), to.count >= 8, to.dropFirst().allSatisfy(\.isNumber) else {
            return error(400, 21211, "Invalid 'To' Phone Number: \(to.prefix(20))")
        }
        let from = form["From"] ?? form["MessagingServiceSid"]
        guard let from, !from.isEmpty else { return error(400, 21603, "A 'From' phone number is required.") }
        let text = form["Body"] ?? ""
        guard !text.isEmpty || form["MediaUrl"] != nil else { return error(400, 21602, "Message body is required.") }
        let messageSid = "SM" + Digest.hex(Digest.sha256(Array(UUID().uuidString.utf8))).prefix(32)
        let now = Self.httpDate(Date()).replacingOccurrences(of: "GMT", with: "+0000")
        let uri = "/2010-04-01/Accounts/\(sid)/Messages/\(messageSid)"
        let body: [String: Any] = [
            "account_sid": sid, "api_version": "2010-04-01", "body": text, "date_created": now, "date_sent": NSNull(),
            "date_updated": now, "direction": "outbound-api", "error_code": NSNull(), "error_message": NSNull(),
            "from": form["From"] ?? NSNull(), "messaging_service_sid": form["MessagingServiceSid"] ?? NSNull(),
            "num_media": form["MediaUrl"] == nil ? "0" : "1", "num_segments": "1", "price": NSNull(), "price_unit": "USD",
            "sid": messageSid, "status": "queued", "subresource_uris": ["media": uri + "/Media.json"], "to": to, "uri": uri + ".json",
        ]
        return (Sandbox.json(201, body), DeliveryNote(to: to, from: from, body: text))
    }

    func messenger(_ request: HTTPRequest) -> (HTTPResponse, DeliveryNote?) {
        let bearer = request.header("authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token = request.query["access_token"] ?? bearer, !token.isEmpty else {
            return (Sandbox.json(401, ["error": ["message": "Invalid OAuth access token - Cannot parse access token",
                                                 "type": "OAuthException", "code": 190, "fbtrace_id": "sandbox"]]), nil)
        }
        guard let o = Self.object(request.body), let recipient = o["recipient"]?["id"]?.string,
              let message = o["message"], message["text"] != nil || message["attachment"] != nil else {
            return (Sandbox.json(400, ["error": ["message": "(#100) The parameter recipient and a message with text or an attachment are required",
                                                 "type": "OAuthException", "code": 100, "fbtrace_id": "sandbox"]]), nil)
        }
        let text = message["text"]?.string ?? message["attachment"]?["payload"]?["url"]?.string ?? ""
        let id = "m_" + Digest.hex(Digest.sha256(Array(UUID().uuidString.utf8))).prefix(40)
        return (Sandbox.json(200, ["recipient_id": recipient, "message_id": id]), DeliveryNote(to: recipient, from: "page", body: text))
    }

    // MARK: parsing

    /// A request body's members, when it is a JSON object (through BatonJSON, as
    /// everything baton reads).
    static func object(_ body: [UInt8]) -> [String: JSONValue]? {
        guard case let .object(o)? = JSONValue.parse(body) else { return nil }
        return o
    }

    /// A message's text: a string, or the text parts of a list of content blocks.
    static func text(of content: JSONValue?) -> String {
        switch content {
        case let .string(s)?: s
        case let .array(blocks)?: blocks.compactMap { $0["text"]?.string }.joined(separator: "\n")
        default: ""
        }
    }

    static func isAccountSid(_ s: String) -> Bool {
        s.count == 34 && s.hasPrefix("AC") && s.dropFirst(2).allSatisfy { $0.isHexDigit }
    }

    static func basicAuth(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// `application/x-www-form-urlencoded` fields; the last of a repeated name wins.
    static func form(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    static func httpDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: date)
    }
}
