// bench/providers: COUNT chat completions through baton's OpenAI client (one reused
// curl handle, keep-alive), timed; prints elapsed_ms=… ok=N.
//   baton-bench-providers --base-url http://127.0.0.1:9090/v1 --key k --count 2000
// `--system TEXT` and `--prompt TEXT` (`{i}` becomes the request's number) send the
// prompts a handler sends, so bench/ai-handlers compares like with like: the sandbox
// does the same work for both. `--provider messenger` sends COUNT Messenger messages
// instead (PSIDs `--psid-base` + i), for bench/send-batches.
import BatonProviders
import Foundation

var options: [String: String] = [:]
var args = CommandLine.arguments.dropFirst()
while let flag = args.popFirst() {
    guard let value = args.popFirst() else { break }
    options[flag] = value
}
let count = Int(options["--count"] ?? "2000") ?? 2000
let system = options["--system"]
let prompt = options["--prompt"] ?? "request {i}"
let maxTokens = Int(options["--max-tokens"] ?? "16") ?? 16
if options["--provider"] == "messenger" {
    let messenger = try MessengerClient(baseURL: options["--base-url"] ?? "http://127.0.0.1:9090", pageToken: options["--key"] ?? "k",
                                        deadline: .after(ms: 3_600_000))
    let base = Int64(options["--psid-base"] ?? "9000000000000") ?? 9_000_000_000_000
    var sent = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    for i in 0..<count {
        do { _ = try messenger.send(psid: String(base + Int64(i)), text: prompt); sent += 1 } catch {
            FileHandle.standardError.write(Data("request \(i): \(error)\n".utf8))
        }
    }
    print(String(format: "elapsed_ms=%.1f ok=%d", Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6, sent))
    exit(0)
}
let client = try OpenAIClient(baseURL: options["--base-url"] ?? "http://127.0.0.1:9090/v1", apiKey: options["--key"] ?? "k",
                              deadline: .after(ms: 3_600_000))
var ok = 0
let start = DispatchTime.now().uptimeNanoseconds
for i in 0..<count {
    do {
        let user = ChatMessage.user(prompt.replacingOccurrences(of: "{i}", with: String(i)))
        _ = try client.complete(model: "bench", messages: (system.map { [ChatMessage.system($0)] } ?? []) + [user], maxTokens: maxTokens)
        ok += 1
    } catch {
        FileHandle.standardError.write(Data("request \(i): \(error)\n".utf8))
    }
}
let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
print(String(format: "elapsed_ms=%.1f ok=%d", elapsed, ok))
