import BatonProviders
import Foundation
import Glibc
import XCTest

/// Issue 14: a messaging client says whether a failed send may have been delivered (the
/// request left this machine) apart from a refusal before it was taken, against the real
/// sandbox and a real refused port.
extension ProviderClientTests {
    func testAHangAfterTheBodyLeftIsMaybeDeliveredForEveryMessagingClient() throws {
        let messenger = try MessengerClient(baseURL: base, pageToken: "t", deadline: Deadline(epochMs: Self.nowMs() + 1200, reserveMs: 0))
        try fault(["hang": true])
        XCTAssertThrowsError(try messenger.send(psid: "42", text: "x")) { e in
            guard case .maybeDelivered(provider: "messenger", _)? = e as? ProviderError else { return XCTFail("\(e)") }
            XCTAssertTrue((e as? ProviderError)?.mayHaveBeenDelivered ?? false)
            XCTAssertFalse((e as? ProviderError)?.isTransient ?? true, "never retried as if nothing happened")
        }
        let twilio = try TwilioClient(baseURL: base, accountSid: Self.sid, authToken: "t", deadline: Deadline(epochMs: Self.nowMs() + 1200, reserveMs: 0))
        try fault(["hang": true])
        XCTAssertThrowsError(try twilio.send(to: "+15551230001", from: "+15550000000", body: "x")) { e in
            guard case .maybeDelivered(provider: "twilio", _)? = e as? ProviderError else { return XCTFail("\(e)") }
        }
    }

    func testAnAIClientsHangIsStillATimeout() throws {
        // Only a send has a side effect to be unsure of: an AI call stays a plain timeout.
        let openai = try OpenAIClient(baseURL: base + "/v1", apiKey: "k", deadline: Deadline(epochMs: Self.nowMs() + 1000, reserveMs: 0))
        try fault(["hang": true])
        XCTAssertThrowsError(try openai.complete(model: "m", messages: [.user("x")], maxTokens: 5)) { e in
            XCTAssertEqual(e as? ProviderError, .timeout(provider: "openai"))
        }
    }

    func testAnUnreadableAnswerToAnAcceptedSendIsMaybeDelivered() throws {
        let messenger = try MessengerClient(baseURL: base, pageToken: "t", deadline: .after(ms: 5000))
        try fault(["malformed": true])
        XCTAssertThrowsError(try messenger.send(psid: "42", text: "x")) { e in
            guard case .maybeDelivered(provider: "messenger", let why)? = e as? ProviderError else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("200"), why)
        }
    }

    func testARefusedConnectionAndAProviderRefusalAreNotMaybeDelivered() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in(); sa.sin_family = sa_family_t(AF_INET); sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        close(fd)
        let refused = try MessengerClient(baseURL: "http://127.0.0.1:\(UInt16(bigEndian: sa.sin_port))", pageToken: "t", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try refused.send(psid: "42", text: "x")) { e in
            guard case .connectionFailed? = e as? ProviderError else { return XCTFail("refused is not maybe delivered: \(e)") }
        }
        let unknownHost = try MessengerClient(baseURL: "http://no-such-host.invalid", pageToken: "t", deadline: .after(ms: 5000))
        XCTAssertThrowsError(try unknownHost.send(psid: "42", text: "x")) { e in
            XCTAssertFalse((e as? ProviderError)?.mayHaveBeenDelivered ?? true, "\(e)")
        }
        let twilio = try TwilioClient(baseURL: base, accountSid: Self.sid, authToken: "t", deadline: .after(ms: 5000))
        // Twilio's own refusal (21211, not a phone number): a 4xx with a code, taken by no one.
        XCTAssertThrowsError(try twilio.send(to: "not-a-number", from: "+15550000000", body: "x")) { e in
            guard case .rejected(provider: "twilio", status: 400, code: "21211")? = e as? ProviderError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try deliveries().count, 0)
    }
}
