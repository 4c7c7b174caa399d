// bench/providers: COUNT chat completions through baton's OpenAI client (one reused
// curl handle, keep-alive), timed; prints elapsed_ms=… ok=N.
//   baton-bench-providers --base-url http://127.0.0.1:9090/v1 --key k --count 2000
import BatonProviders
import Foundation

var options: [String: String] = [:]
var args = CommandLine.arguments.dropFirst()
while let flag = args.popFirst() {
    guard let value = args.popFirst() else { break }
    options[flag] = value
}
let count = Int(options["--count"] ?? "2000") ?? 2000
let client = try OpenAIClient(baseURL: options["--base-url"] ?? "http://127.0.0.1:9090/v1", apiKey: options["--key"] ?? "k",
                              deadline: .after(ms: 3_600_000))
var ok = 0
let start = DispatchTime.now().uptimeNanoseconds
for i in 0..<count {
    do {
        _ = try client.complete(model: "bench", messages: [.user("request \(i)")], maxTokens: 16)
        ok += 1
    } catch {
        FileHandle.standardError.write(Data("request \(i): \(error)\n".utf8))
    }
}
let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
print(String(format: "elapsed_ms=%.1f ok=%d", elapsed, ok))
