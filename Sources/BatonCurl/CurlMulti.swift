import CCurl
import Foundation

/// Several HTTP requests in flight at once over one libcurl multi handle (wraps
/// `curl_multi_perform(3)` and `curl_multi_poll(3)`). Each request is set up exactly as
/// `CurlSession.perform` sets it up (one `configure`) and bounded by its own
/// `timeoutMs`, so a batch ends by the slice's deadline. The multi handle keeps its
/// connections alive from one batch to the next; the easy handles are pooled.
/// Synchronous, like `CurlSession`: it blocks the calling thread in `curl_multi_poll`,
/// so it belongs in a handler's own code, never on Swift's cooperative pool. Not
/// thread-safe: one per thread.
public final class CurlMulti {
    private let multi: UnsafeMutableRawPointer
    private var pool: [UnsafeMutableRawPointer] = []

    /// - Throws: `CurlError` when libcurl cannot make the multi handle.
    public init() throws(CurlError) {
        CurlSession.globalInit
        guard let m = curl_multi_init() else { throw CurlError(.other, "libcurl could not create a multi handle") }
        multi = m
    }

    deinit {
        for easy in pool { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
    }

    /// Sends every request at once and waits for all of them. The results are in the
    /// order of `requests`; one failing (a timeout, a refused connection) never touches
    /// the others.
    public func perform(_ requests: [CurlSession.Request]) -> [Result<CurlSession.Response, CurlError>] {
        guard !requests.isEmpty else { return [] }
        var results = [Result<CurlSession.Response, CurlError>?](repeating: nil, count: requests.count)
        while pool.count < requests.count {
            guard let easy = curl_easy_init() else {
                return requests.map { _ in .failure(CurlError(.other, "libcurl could not create a handle")) }
            }
            pool.append(easy)
        }
        // Room for every connection of the batch in the cache, so the next batch reuses them.
        ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(8, pool.count * 2))
        var sinks: [Sink] = []
        var headerLists: [UnsafeMutablePointer<curl_slist>?] = []
        var index: [UnsafeMutableRawPointer: Int] = [:]
        defer { headerLists.forEach { curl_slist_free_all($0) } }
        for (i, request) in requests.enumerated() {
            let easy = pool[i]
            curl_easy_reset(easy)
            let sink = Sink()
            sinks.append(sink)
            headerLists.append(CurlSession.configure(easy, request, sink: sink))
            let added = curl_multi_add_handle(multi, easy)
            if added == CURLM_OK {
                index[easy] = i
            } else {
                results[i] = .failure(CurlError(.other, String(cString: curl_multi_strerror(added))))
            }
        }
        // Past every request's own timeout, plus a margin: the loop cannot outlive them.
        let longest = requests.map(\.timeoutMs).max() ?? 0
        let giveUp = DispatchTime.now().uptimeNanoseconds + UInt64(max(1, longest) + 2_000) * 1_000_000
        var running: Int32 = 1
        while !index.isEmpty {
            let code = curl_multi_perform(multi, &running)
            if code != CURLM_OK && code != CURLM_CALL_MULTI_PERFORM { break }
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let i = index.removeValue(forKey: easy) else { continue }
                let result = ccurl_msg_result(message)
                results[i] = result == CURLE_OK
                    ? .success(CurlSession.Response(status: ccurl_response_code(easy), headers: sinks[i].headers, body: sinks[i].body))
                    : .failure(CurlError(result, handle: easy))
                curl_multi_remove_handle(multi, easy)
            }
            if index.isEmpty || DispatchTime.now().uptimeNanoseconds > giveUp { break }
            _ = curl_multi_poll(multi, nil, 0, 100, nil)
        }
        // Only when libcurl itself failed or a transfer outlived every timeout.
        for (easy, i) in index {
            curl_multi_remove_handle(multi, easy)
            // Whether it left is read as for any failure: a started request may have been taken.
            results[i] = .failure(CurlError(.timeout, "the transfer did not finish within its timeout",
                                            requestSent: ccurl_request_size(easy) > 0 || ccurl_upload_size(easy) > 0))
        }
        return results.map { $0 ?? .failure(CurlError(.other, "libcurl reported no outcome")) }
    }
}
