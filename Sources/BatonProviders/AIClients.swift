import BatonCurl
import BatonJSON
import Foundation

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
}

/// A model's answer and what it cost.
public struct Completion: Sendable, Equatable {
    public var text: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var stopReason: String?
}

/// Something that completes chats: the handlers take either provider.
public protocol ChatProvider {
    func complete(model: String, messages: [ChatMessage], maxTokens: Int) throws(ProviderError) -> Completion

    /// One completion per conversation, all in flight at once; outcomes in order, each
    /// exactly what `complete` would have returned or thrown for it.
    func completeAll(model: String, conversations: [[ChatMessage]], maxTokens: Int) -> [Result<Completion, ProviderError>]
}

extension ChatProvider {
    /// One after the other, for a provider without a concurrent path.
    public func completeAll(model: String, conversations: [[ChatMessage]], maxTokens: Int) -> [Result<Completion, ProviderError>] {
        conversations.map { messages in
            Result { () throws(ProviderError) in try complete(model: model, messages: messages, maxTokens: maxTokens) }
        }
    }
}

/// A base URL without its trailing slash, so paths join with one.
func trimmedBase(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

/// A required variable from the environment, or an error naming it (never its value).
func secret(_ name: String, in environment: [String: String], provider: String) throws(ProviderError) -> String {
    guard let value = environment[name], !value.isEmpty else { throw .notConfigured(provider: provider, variable: name) }
    return value
}

/// OpenAI-compatible Chat Completions (`POST {OPENAI_BASE_URL}/chat/completions`), as
/// served by OpenAI, vLLM, llama.cpp, Ollama and `baton sandbox`.
public final class OpenAIClient: ChatProvider {
    public let baseURL: String
    let apiKey: String
    public let transport: Transport

    public init(baseURL: String, apiKey: String, deadline: Deadline) throws(ProviderError) {
        (self.baseURL, self.apiKey) = (trimmedBase(baseURL), apiKey)
        transport = try Transport(provider: "openai", deadline: deadline)
    }

    /// `OPENAI_BASE_URL` (default `https://api.openai.com/v1`) and `OPENAI_API_KEY`.
    public convenience init(environment: [String: String], deadline: Deadline) throws(ProviderError) {
        try self.init(baseURL: environment["OPENAI_BASE_URL"] ?? "https://api.openai.com/v1",
                      apiKey: try secret("OPENAI_API_KEY", in: environment, provider: "openai"), deadline: deadline)
    }

    public func complete(model: String, messages: [ChatMessage], maxTokens: Int) throws(ProviderError) -> Completion {
        try completion(try transport.send(request(model: model, messages: messages, maxTokens: maxTokens)))
    }

    /// The conversations at once through libcurl's multi interface.
    public func completeAll(model: String, conversations: [[ChatMessage]], maxTokens: Int) -> [Result<Completion, ProviderError>] {
        transport.sendAll(conversations.map { request(model: model, messages: $0, maxTokens: maxTokens) })
            .map { sent in sent.flatMap { r in Result { () throws(ProviderError) in try completion(r) } } }
    }

    func request(model: String, messages: [ChatMessage], maxTokens: Int) -> CurlSession.Request {
        let body: JSONValue = .object(["model": .string(model), "max_tokens": .number(maxTokens),
                                       "messages": .array(messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) })])
        return .init(method: "POST", url: baseURL + "/chat/completions",
                     headers: [("Authorization", "Bearer \(apiKey)"), ("Content-Type", "application/json")],
                     body: Array(body.text.utf8), timeoutMs: 0)
    }

    /// The answer to one request: a completion, or the error it means.
    func completion(_ response: CurlSession.Response) throws(ProviderError) -> Completion {
        guard response.status == 200 else { throw error(response) }
        let f = Fields(provider: "openai", root: try transport.json(response))
        return Completion(text: try f.string("choices", 0, "message", "content"), model: try f.string("model"),
                          inputTokens: try f.int("usage", "prompt_tokens"), outputTokens: try f.int("usage", "completion_tokens"),
                          stopReason: f.value(["choices", 0, "finish_reason"])?.string)
    }

    func error(_ r: CurlSession.Response) -> ProviderError {
        let detail = (try? transport.json(r))?["error"]
        let code = detail?["code"]?.string ?? detail?["type"]?.string
        switch r.status {
        case 401, 403: return .authentication(provider: "openai", status: r.status)
        case 429 where code == "insufficient_quota" || detail?["type"]?.string == "insufficient_quota":
            return .quotaExhausted(provider: "openai")
        case 429: return .rateLimited(provider: "openai", retryAfterMs: ProviderError.retryAfter(r.headers))
        case 408, 409, 500...599: return .server(provider: "openai", status: r.status)
        default: return .rejected(provider: "openai", status: r.status, code: code)
        }
    }
}

/// Anthropic Messages (`POST {ANTHROPIC_BASE_URL}/v1/messages`, `x-api-key`,
/// `anthropic-version`).
public final class AnthropicClient: ChatProvider {
    public static let apiVersion = "2023-06-01"
    public let baseURL: String
    let apiKey: String
    public let transport: Transport

    public init(baseURL: String, apiKey: String, deadline: Deadline) throws(ProviderError) {
        (self.baseURL, self.apiKey) = (trimmedBase(baseURL), apiKey)
        transport = try Transport(provider: "anthropic", deadline: deadline)
    }

    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`) and `ANTHROPIC_API_KEY`.
    public convenience init(environment: [String: String], deadline: Deadline) throws(ProviderError) {
        try self.init(baseURL: environment["ANTHROPIC_BASE_URL"] ?? "https://api.anthropic.com",
                      apiKey: try secret("ANTHROPIC_API_KEY", in: environment, provider: "anthropic"), deadline: deadline)
    }

    public func complete(model: String, messages: [ChatMessage], maxTokens: Int) throws(ProviderError) -> Completion {
        try completion(try transport.send(request(model: model, messages: messages, maxTokens: maxTokens)))
    }

    /// The conversations at once through libcurl's multi interface.
    public func completeAll(model: String, conversations: [[ChatMessage]], maxTokens: Int) -> [Result<Completion, ProviderError>] {
        transport.sendAll(conversations.map { request(model: model, messages: $0, maxTokens: maxTokens) })
            .map { sent in sent.flatMap { r in Result { () throws(ProviderError) in try completion(r) } } }
    }

    func request(model: String, messages: [ChatMessage], maxTokens: Int) -> CurlSession.Request {
        // Anthropic takes the system prompt apart from the turns.
        let system = messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        var object: [String: JSONValue] = ["model": .string(model), "max_tokens": .number(maxTokens),
                                           "messages": .array(messages.filter { $0.role != "system" }
                                               .map { .object(["role": .string($0.role), "content": .string($0.content)]) })]
        if !system.isEmpty { object["system"] = .string(system) }
        return .init(method: "POST", url: baseURL + "/v1/messages",
                     headers: [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion), ("Content-Type", "application/json")],
                     body: Array(JSONValue.object(object).text.utf8), timeoutMs: 0)
    }

    /// The answer to one request: a completion, or the error it means.
    func completion(_ response: CurlSession.Response) throws(ProviderError) -> Completion {
        guard response.status == 200 else { throw error(response) }
        let f = Fields(provider: "anthropic", root: try transport.json(response))
        guard case let .array(blocks)? = f.value(["content"]) else {
            throw .badResponse(provider: "anthropic", field: "content is not a list of blocks")
        }
        guard let text = blocks.first(where: { $0["type"]?.string == "text" })?["text"]?.string else {
            throw .badResponse(provider: "anthropic", field: "content has no text block")
        }
        return Completion(text: text, model: try f.string("model"), inputTokens: try f.int("usage", "input_tokens"),
                          outputTokens: try f.int("usage", "output_tokens"), stopReason: f.value(["stop_reason"])?.string)
    }

    func error(_ r: CurlSession.Response) -> ProviderError {
        let type = (try? transport.json(r))?["error"]?["type"]?.string
        switch r.status {
        case 401, 403: return .authentication(provider: "anthropic", status: r.status)
        case 429: return .rateLimited(provider: "anthropic", retryAfterMs: ProviderError.retryAfter(r.headers))
        case 500...599: return .server(provider: "anthropic", status: r.status)  // 529: overloaded
        default: return .rejected(provider: "anthropic", status: r.status, code: type)
        }
    }
}
