import BatonProviders
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import XCTest

/// Every client against a real `baton sandbox` over loopback: success, rate limits
/// with `Retry-After` in seconds and as a date, server errors, a hung server past the
/// remaining budget, a refused connection, a malformed answer, a wrong key. And the
/// SMTP client against aiosmtpd, an independent server.
final class ProviderClientTests: XCTestCase {
    static let sid = "AC0123456789abcdef0123456789abcdef"
    var dir = ""
    var sandbox: Process?
    var base = ""
    var smtpPort = 0

    static var binary: String {
        ProcessInfo.processInfo.environment["BATON_BIN"] ?? FileManager.default.currentDirectoryPath + "/.build/debug/baton"
    }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-providers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (p, lines) = try Self.start(Self.binary, ["sandbox", "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0",
                                                     "--db", "sqlite:\(dir)/sandbox.db"], log: dir + "/sandbox.log",
                                        until: { $0.contains("event=smtp_listen") })
        sandbox = p
        base = "http://" + (try XCTUnwrap(Self.field("address", in: lines.first { $0.contains("event=listen") })))
        smtpPort = Int(try XCTUnwrap(Self.field("address", in: lines.first { $0.contains("event=smtp_listen") })).split(separator: ":").last!)!
    }

    override func tearDown() {
        if let p = sandbox { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: success

    func testEachClientDeliversAndTheSandboxRecordsIt() throws {
        let deadline = Deadline.after(ms: 10_000)
        let openai = try OpenAIClient(baseURL: base + "/v1", apiKey: "sk-test", deadline: deadline)
        let a = try openai.complete(model: "gpt-test", messages: [.system("be brief"), .user("hello there")], maxTokens: 20)
        let again = try openai.complete(model: "gpt-test", messages: [.system("be brief"), .user("hello there")], maxTokens: 20)
        let other = try openai.complete(model: "gpt-test", messages: [.user("something else")], maxTokens: 20)
        XCTAssertEqual(a.text, again.text, "answers are deterministic per prompt")
        XCTAssertNotEqual(a.text, other.text)
        XCTAssertEqual(a.inputTokens, 4)
        XCTAssertGreaterThan(a.outputTokens, 0)

        let anthropic = try AnthropicClient(baseURL: base, apiKey: "sk-ant", deadline: deadline)
        let c = try anthropic.complete(model: "claude-test", messages: [.system("be brief"), .user("hi")], maxTokens: 20)
        XCTAssertTrue(c.text.hasPrefix("Sandbox reply"))
        XCTAssertEqual(c.stopReason, "end_turn")

        let twilio = try TwilioClient(baseURL: base, accountSid: Self.sid, authToken: "token", deadline: deadline)
        let sms = try twilio.send(to: "+15551230001", from: "+15550000000", body: "Hello & welcome = 100%")
        XCTAssertTrue(sms.id.hasPrefix("SM"))
        XCTAssertEqual(sms.status, "queued")

        let messenger = try MessengerClient(baseURL: base, pageToken: "page-token", deadline: deadline)
        let m = try messenger.send(psid: "24680", text: "hi from messenger")
        XCTAssertTrue(m.id.hasPrefix("m_"))

        let smtp = try SMTPClient(url: "smtp://127.0.0.1:\(smtpPort)", deadline: deadline)
        _ = try smtp.send(from: "baton@example.org", to: ["lead@example.com"], subject: "Grüße", text: "line one\n.dot line\nend")

        let all = try deliveries()
        XCTAssertEqual(all.filter { $0["provider"] as? String == "openai" }.count, 3)
        XCTAssertEqual(all.filter { $0["provider"] as? String == "anthropic" }.count, 1)
        let sent = try XCTUnwrap(all.first { $0["provider"] as? String == "twilio" })
        XCTAssertEqual(sent["to"] as? String, "+15551230001")
        XCTAssertEqual(sent["body"] as? String, "Hello & welcome = 100%", "form encoding round-trips")
        XCTAssertEqual(all.first { $0["provider"] as? String == "messenger" }?["to"] as? String, "24680")
        let mail = try XCTUnwrap(all.first { $0["provider"] as? String == "smtp" }?["body"] as? String)
        XCTAssertTrue(mail.contains("Subject: =?UTF-8?B?"), mail)
        XCTAssertTrue(mail.contains("\r\n.dot line\r\n"), "dot-stuffing round-trips: \(mail)")
    }

    // MARK: typed errors

    func testRateLimitsCarryRetryAfterInSecondsAndAsADate() throws {
        let client = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: .after(ms: 10_000))
        try fault(["status": 429, "retry_after": "3"])
        XCTAssertThrowsError(try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .rateLimited(provider: "openai", retryAfterMs: 3000))
        }
        try fault(["status": 429, "retry_after": "30", "retry_after_date": true])
        XCTAssertThrowsError(try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            guard case let .rateLimited(_, after)? = e as? ProviderError, let after else { return XCTFail("\(e)") }
            XCTAssert((27_000...31_000).contains(after), "an HTTP date 30 s ahead: \(after) ms")
        }
        let twilio = try TwilioClient(baseURL: base, accountSid: Self.sid, authToken: "t", deadline: .after(ms: 10_000))
        try fault(["status": 429, "retry_after": "2"])
        XCTAssertThrowsError(try twilio.send(to: "+15551230001", from: "+15550000000", body: "x")) { e in
            XCTAssertEqual(e as? ProviderError, .rateLimited(provider: "twilio", retryAfterMs: 2000))
        }
        let messenger = try MessengerClient(baseURL: base, pageToken: "t", deadline: .after(ms: 10_000))
        try fault(["status": 429])
        XCTAssertThrowsError(try messenger.send(psid: "1", text: "x")) { e in
            guard case .rateLimited? = e as? ProviderError else { return XCTFail("code 613 is a rate limit: \(e)") }
        }
        XCTAssertEqual(try deliveries().count, 0, "nothing refused was recorded")
    }

    func testServerErrorsAreTransient() throws {
        let anthropic = try AnthropicClient(baseURL: base, apiKey: "k", deadline: .after(ms: 10_000))
        try fault(["status": 529])
        XCTAssertThrowsError(try anthropic.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .server(provider: "anthropic", status: 529))
            XCTAssertTrue((e as? ProviderError)?.isTransient ?? false)
        }
        let openai = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: .after(ms: 10_000))
        try fault(["status": 500])
        XCTAssertThrowsError(try openai.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .server(provider: "openai", status: 500))
        }
    }

    func testAHungServerEndsByTheDeadline() throws {
        let client = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: Deadline(epochMs: Self.nowMs() + 1500, reserveMs: 0))
        try fault(["hang": true])
        let start = Self.nowMs()
        XCTAssertThrowsError(try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .timeout(provider: "openai"))
        }
        let took = Self.nowMs() - start
        XCTAssert(took >= 1300 && took < 2500, "the request ended by the slice's deadline, after \(took) ms")
        XCTAssertThrowsError(try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .noTimeLeft(provider: "openai"), "no call is started past the deadline")
        }
    }

    func testARefusedConnectionIsTyped() throws {
        // A port that was just free: bind, read the port, close.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in(); sa.sin_family = sa_family_t(AF_INET); sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        let port = UInt16(bigEndian: sa.sin_port)
        let client = try TwilioClient(baseURL: "http://127.0.0.1:\(port)", accountSid: Self.sid, authToken: "t", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try client.send(to: "+15551230001", from: "+15550000000", body: "x")) { e in
            guard case .connectionFailed? = e as? ProviderError else { return XCTFail("\(e)") }
            XCTAssertTrue((e as? ProviderError)?.isTransient ?? false)
        }
    }

    func testAMalformedAnswerNamesWhatIsWrong() throws {
        let client = try AnthropicClient(baseURL: base, apiKey: "k", deadline: .after(ms: 5000))
        try fault(["malformed": true])
        XCTAssertThrowsError(try client.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            // Where, never what: the body may hold message text (issue 12).
            XCTAssertEqual(e as? ProviderError, .badResponse(provider: "anthropic",
                                                             field: #"the body is not JSON (line 1, column 8: the string never ends (no closing '"'))"#))
        }
    }

    func testAWrongKeyIsAnAuthenticationErrorThatNamesNoSecret() throws {
        let twilio = try TwilioClient(baseURL: base, accountSid: "ACnot-a-sid", authToken: "secret-token-123", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try twilio.send(to: "+15551230001", from: "+15550000000", body: "private text")) { e in
            XCTAssertEqual(e as? ProviderError, .authentication(provider: "twilio", status: 401))
            XCTAssertFalse("\(e)".contains("secret-token-123"))
            XCTAssertFalse("\(e)".contains("private text"))
        }
        let openai = try OpenAIClient(baseURL: base + "/v1", apiKey: "", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try openai.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .authentication(provider: "openai", status: 401))
        }
        let messenger = try MessengerClient(baseURL: base, pageToken: "", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try messenger.send(psid: "1", text: "x")) { e in
            XCTAssertEqual(e as? ProviderError, .authentication(provider: "messenger", status: 401))
        }
        XCTAssertEqual(try deliveries().count, 0)
    }

    /// Issue 11 §4.1: a variable a client needs and does not have is named at once, not
    /// passed off as a refused key ("authentication refused (0)").
    func testAMissingVariableIsNamedBeforeAnythingIsSent() throws {
        let cases: [(ProviderError, () throws -> Void)] = [
            (.notConfigured(provider: "twilio", variable: "TWILIO_ACCOUNT_SID"),
             { _ = try TwilioClient(environment: ["TWILIO_BASE_URL": self.base, "TWILIO_AUTH_TOKEN": "t"], deadline: .after(ms: 5000)) }),
            (.notConfigured(provider: "twilio", variable: "TWILIO_AUTH_TOKEN"),
             { _ = try TwilioClient(environment: ["TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": ""], deadline: .after(ms: 5000)) }),
            (.notConfigured(provider: "openai", variable: "OPENAI_API_KEY"),
             { _ = try OpenAIClient(environment: [:], deadline: .after(ms: 5000)) }),
            (.notConfigured(provider: "smtp", variable: "SMTP_URL"),
             { _ = try SMTPClient(environment: [:], deadline: .after(ms: 5000)) }),
        ]
        for (expected, make) in cases {
            XCTAssertThrowsError(try make()) { e in
                XCTAssertEqual(e as? ProviderError, expected)
                XCTAssertFalse((e as? ProviderError)?.isTransient ?? true)
                if case let .notConfigured(_, variable) = expected {
                    XCTAssertTrue("\(e)".contains("\(variable) is not set"), "\(e)")
                }
            }
        }
        XCTAssertEqual(try deliveries().count, 0)
    }

    /// baton's SMTP client against aiosmtpd, an independent SMTP server (PyPI).
    func testTheSMTPClientDeliversToAiosmtpd() throws {
        let python = FileManager.default.currentDirectoryPath + "/.venv-test/bin/python"
        let sink = FileManager.default.currentDirectoryPath + "/Tests/providers/smtp_sink.py"
        guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: sink) else {
            return XCTFail("aiosmtpd's runner needs the test venv: run make test (it installs aiosmtpd)")
        }
        let (p, lines) = try Self.start(python, [sink, dir + "/mail.jsonl", "--port", "0"], log: dir + "/sink.log",
                                        until: { $0.hasPrefix("listening") }, stdout: true)
        defer { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() }
        let port = try XCTUnwrap(lines.first { $0.hasPrefix("listening") }?.split(separator: " ").last)
        let smtp = try SMTPClient(url: "smtp://127.0.0.1:\(port)", user: "u", password: "p", deadline: .after(ms: 10_000))
        let receipt = try smtp.send(from: "baton@example.org", to: ["a@example.com", "b@example.com"], subject: "Report", text: "All done.\n")
        var mail: [String: Any]?
        let end = Date().addingTimeInterval(10)
        while mail == nil, Date() < end {
            if let text = try? String(contentsOfFile: dir + "/mail.jsonl", encoding: .utf8), let line = text.split(separator: "\n").first {
                mail = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            } else { usleep(50_000) }
        }
        let got = try XCTUnwrap(mail, "aiosmtpd received nothing")
        XCTAssertEqual(got["mail_from"] as? String, "baton@example.org")
        XCTAssertEqual(got["rcpt_tos"] as? [String], ["a@example.com", "b@example.com"])
        XCTAssertTrue((got["data"] as? String ?? "").contains("Message-ID: \(receipt.id)"))
    }

    /// Issue 12: the sandbox reads bodies with BatonJSON, and its refusals say where.
    func testTheSandboxsFaultControlNamesTheFieldAtFault() throws {
        var request = URLRequest(url: URL(string: base + "/_sandbox/faults")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"faults":[{"status":429},{"status":"soon"}]}"#.utf8)
        let answer = String(decoding: try Self.fetch(request), as: UTF8.self)
        XCTAssertTrue(answer.contains(#"\"faults[1].status\": expected a whole number, got a string"#), answer)
        request.httpBody = Data("{\"faults\":[\n{]}".utf8)
        let syntax = String(decoding: try Self.fetch(request), as: UTF8.self)
        XCTAssertTrue(syntax.contains("line 2, column 2: expected a \\\"key\\\" in double quotes"), syntax)
    }

    // MARK: helpers

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

    /// One request with the standard library's own client (not ours), on a plain thread.
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

    /// Starts a process and reads its log until `until` holds for a line (10 s at most).
    static func start(_ path: String, _ args: [String], log: String, until: (String) -> Bool,
                      stdout: Bool = false) throws -> (Process, [String]) {
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        if stdout { p.standardOutput = handle; p.standardError = handle } else { p.standardError = handle; p.standardOutput = FileHandle.nullDevice }
        try p.run()
        let end = Date().addingTimeInterval(10)
        while Date() < end {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.contains(where: until) { return (p, lines) }
            if !p.isRunning { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        throw NSError(domain: "start", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path) did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"])
    }

    static func field(_ name: String, in line: String?) -> String? {
        line?.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
