import BatonProviders
import Synchronization

/// The AI provider a handler calls (HANDLERS.md): OpenAI-compatible when
/// `OPENAI_API_KEY` is set, else Anthropic when `ANTHROPIC_API_KEY` is; `AI_PROVIDER`
/// forces one; neither is a clear error before any item is taken. `AI_MODEL` names the
/// model. Each call's tokens (and, with `AI_PRICE_IN` / `AI_PRICE_OUT` in US dollars
/// per million tokens, its cost) add up in `usage` for the slice's result.
public final class AIModel {
    public let provider: String
    public let model: String
    let client: any ChatProvider
    let priceIn: Double, priceOut: Double
    public private(set) var usage = Usage()

    public init(client: any ChatProvider, provider: String, model: String, priceIn: Double = 0, priceOut: Double = 0) {
        self.client = client; self.provider = provider; self.model = model; self.priceIn = priceIn; self.priceOut = priceOut
    }

    /// - Throws: `HandlerError` naming what to set when no provider is configured.
    public convenience init(environment env: [String: String], deadline: Deadline) throws(HandlerError) {
        let forced = env["AI_PROVIDER"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let has = { (k: String) in !(env[k] ?? "").isEmpty }
        let which: String
        switch forced {
        case "openai"?, "anthropic"?: which = forced!
        case let other?:
            throw HandlerError("AI_PROVIDER='\(other)' is neither openai nor anthropic", hint: "set AI_PROVIDER=openai or anthropic, or unset it")
        case nil:
            if has("OPENAI_API_KEY") { which = "openai" } else if has("ANTHROPIC_API_KEY") { which = "anthropic" } else {
                throw HandlerError("no AI provider is configured: neither OPENAI_API_KEY nor ANTHROPIC_API_KEY is set",
                                   hint: "pass one to the handler (pass-env=OPENAI_API_KEY, or --pass-env); for the sandbox also OPENAI_BASE_URL")
            }
        }
        // A price that does not read would turn max-cost= off without a word: refuse it.
        func price(_ k: String) throws(HandlerError) -> Double {
            guard let text = env[k], !text.isEmpty else { return 0 }
            guard let v = Double(text), v.isFinite, v >= 0 else {
                throw HandlerError("\(k)='\(text)' is not a price in US dollars per million tokens", hint: "write e.g. \(k)=0.15")
            }
            return v
        }
        let (priceIn, priceOut) = (try price("AI_PRICE_IN"), try price("AI_PRICE_OUT"))
        do {
            if which == "openai" {
                self.init(client: try OpenAIClient(environment: env, deadline: deadline), provider: which,
                          model: env["AI_MODEL"] ?? "gpt-4o-mini", priceIn: priceIn, priceOut: priceOut)
            } else {
                self.init(client: try AnthropicClient(environment: env, deadline: deadline), provider: which,
                          model: env["AI_MODEL"] ?? "claude-3-5-haiku-latest", priceIn: priceIn, priceOut: priceOut)
            }
        } catch {
            throw HandlerError(error.description)
        }
    }

    /// One completion; its tokens are added to `usage` (also when the answer is then
    /// found unusable: they were spent).
    public func complete(_ messages: [ChatMessage], maxTokens: Int) throws(ProviderError) -> Completion {
        let c = try client.complete(model: model, messages: messages, maxTokens: maxTokens)
        spent(c)
        return c
    }

    /// One completion per conversation, all in flight at once (libcurl's multi
    /// interface); outcomes in order, each as `complete` would give it. Every answer's
    /// tokens are added to `usage`.
    public func completeAll(_ conversations: [[ChatMessage]], maxTokens: Int) -> [Result<Completion, ProviderError>] {
        let results = client.completeAll(model: model, conversations: conversations, maxTokens: maxTokens)
        for case let .success(c) in results { spent(c) }
        return results
    }

    func spent(_ c: Completion) {
        let u = Usage(inputTokens: c.inputTokens, outputTokens: c.outputTokens,
                      costUsd: (Double(c.inputTokens) * priceIn + Double(c.outputTokens) * priceOut) / 1_000_000)
        usage += u
        Spend.process.withLock { $0 += u }
    }
}

/// Everything this process spent on AI calls: `HandlerMain` reports it with the result,
/// and also when the slice fails (exit 1 or 75), so tokens a failed slice spent still
/// count against `max-tokens=` and `max-cost=`.
public enum Spend {
    static let process = Mutex(Usage())
    public static var total: Usage { process.withLock { $0 } }
}
