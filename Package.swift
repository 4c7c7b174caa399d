// swift-tools-version:6.0
// baton: a cron-style scheduler for bounded, resumable work.
// No Swift packages: only Foundation and C libraries from Debian (system-library targets).
import PackageDescription

let package = Package(
    name: "baton",
    products: [
        .executable(name: "baton", targets: ["baton"]),
        .executable(name: "send-sms", targets: ["send-sms"]),
        .executable(name: "regenerate-reports", targets: ["regenerate-reports"]),
        .executable(name: "send-batches", targets: ["send-batches"]),
        .executable(name: "auto-send", targets: ["auto-send"]),
        .executable(name: "generate-stories", targets: ["generate-stories"]),
        .executable(name: "regenerate-drafts", targets: ["regenerate-drafts"]),
    ],
    targets: [
        // Grammar, cron engine, durations, zone rules: pure, no clock, no TZ variable.
        .target(name: "BatonCore"),
        // The RunStore interface and its value types; each backend in its own module.
        .target(name: "BatonStore"),
        // Glibc calls Swift cannot make itself (variadic prctl/syscall, W* macros).
        .systemLibrary(name: "CProcessShims", path: "Sources/CProcessShims"),
        // posix_spawn, process groups, budgets, the reaper: the only importer of CProcessShims.
        .target(name: "BatonSupervisor", dependencies: ["CProcessShims"]),
        // A strict, fast JSON value and parser (handler results, payloads, provider answers).
        .target(name: "BatonJSON"),
        // The run engine: slices, retries, pacing, commits. invoke, the daemon and webhooks share it.
        .target(name: "BatonEngine", dependencies: ["BatonCore", "BatonJSON", "BatonStore", "BatonSupervisor"]),
        // libsqlite3 (Debian: libsqlite3-dev); only BatonStoreSQLite imports it.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // The embedded store: `sqlite:PATH`, WAL mode, several processes on one machine.
        // The SQLite wrapper (connection, statements, transactions) for the store, the
        // sandbox and handlers' APP_DB.
        .target(name: "BatonSQLite", dependencies: ["CSQLite"]),
        .target(name: "BatonStoreSQLite", dependencies: ["BatonJSON", "BatonStore", "BatonSQLite", "CSQLite"]),
        // libpq (Debian: libpq-dev); only BatonPostgres imports it (BatonStorePostgres uses that wrapper).
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The libpq wrapper: one connection, statements prepared by name, transactions,
        // typed results, errors by SQLSTATE.
        .target(name: "BatonPostgres", dependencies: ["CLibPQ"]),
        // The shared store: `postgres://…`, several daemons on several machines.
        .target(name: "BatonStorePostgres", dependencies: ["BatonJSON", "BatonStore", "BatonPostgres"]),
        // libcurl (Debian: libcurl4-openssl-dev); only BatonCurl imports it.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // One reused easy handle: HTTP(S) and SMTP, bounded by a timeout.
        .target(name: "BatonCurl", dependencies: ["CCurl"]),
        // `baton sandbox`: the providers' stand-ins over BatonHTTP, deliveries in SQLite.
        .target(name: "BatonSandbox", dependencies: ["BatonCore", "BatonHTTP", "BatonCrypto", "BatonJSON", "BatonSQLite"]),
        // Typed clients of the AI and messaging providers (HANDLERS.md).
        .target(name: "BatonProviders", dependencies: ["BatonCurl", "BatonJSON"]),
        // What every handler executable links: the slice, its deadline, SIGTERM, the result.
        .target(name: "BatonHandlerKit", dependencies: ["BatonCore", "BatonJSON", "BatonProviders", "BatonSQLite", "BatonPostgres"]),
        // An example handler on the kit: sends APP_DB's outbox as SMS (docs/handlers.md).
        .executableTarget(name: "send-sms", dependencies: ["BatonHandlerKit"], path: "handlers/examples/send-sms"),
        // regenerate-reports (HANDLERS.md, seed 002): its logic in a library the tests call in-process.
        .target(name: "RegenerateReports", dependencies: ["BatonHandlerKit", "BatonCore"], path: "handlers/regenerate-reports/Sources"),
        .executableTarget(name: "regenerate-reports", dependencies: ["BatonHandlerKit", "RegenerateReports"],
                          path: "handlers/regenerate-reports/main"),
        // send-batches (HANDLERS.md, seed 004): its logic in a library the tests call in-process.
        .target(name: "SendBatches", dependencies: ["BatonHandlerKit"], path: "handlers/send-batches/Sources"),
        .executableTarget(name: "send-batches", dependencies: ["BatonHandlerKit", "SendBatches"], path: "handlers/send-batches/main"),
        // auto-send (HANDLERS.md, seed 003).
        .target(name: "AutoSend", dependencies: ["BatonHandlerKit"], path: "handlers/auto-send/Sources"),
        .executableTarget(name: "auto-send", dependencies: ["BatonHandlerKit", "AutoSend"], path: "handlers/auto-send/main"),
        // generate-stories (seed 001): user stories per epic, paced, one active run per project.
        .target(name: "GenerateStories", dependencies: ["BatonHandlerKit"], path: "handlers/generate-stories/Sources"),
        .executableTarget(name: "generate-stories", dependencies: ["BatonHandlerKit", "GenerateStories"],
                          path: "handlers/generate-stories/main"),
        .testTarget(name: "GenerateStoriesTests", dependencies: ["BatonTestSupport", "GenerateStories", "BatonHandlerKit"]),
        .testTarget(name: "SendBatchesTests", dependencies: ["BatonTestSupport", "SendBatches", "BatonHandlerKit"]),
        .testTarget(name: "AutoSendTests", dependencies: ["AutoSend", "BatonHandlerKit"]),
        // regenerate-drafts (seed 000): the logic in a library the tests call in-process.
        .target(name: "RegenerateDrafts", dependencies: ["BatonHandlerKit"], path: "handlers/regenerate-drafts/Sources"),
        .executableTarget(name: "regenerate-drafts", dependencies: ["BatonHandlerKit", "RegenerateDrafts"], path: "handlers/regenerate-drafts/main"),
        .testTarget(name: "RegenerateDraftsTests", dependencies: ["BatonTestSupport", "RegenerateDrafts", "BatonHandlerKit"]),
        // bench/providers: the Swift client's side of the comparison with curl.
        .executableTarget(name: "baton-bench-providers", dependencies: ["BatonProviders"], path: "bench/providers-swift"),
        // The daemon: the fire loop, reloads and drain, over the engine.
        .target(name: "BatonDaemon", dependencies: ["BatonCore", "BatonConfig", "BatonCrypto", "BatonEngine", "BatonStore", "BatonSupervisor"]),
        // libmicrohttpd (Debian: libmicrohttpd-dev); only BatonHTTP imports it.
        .systemLibrary(name: "CMicroHTTPD", path: "Sources/CMicroHTTPD", pkgConfig: "libmicrohttpd",
                       providers: [.apt(["libmicrohttpd-dev"])]),
        // The HTTP server: libmicrohttpd's thread does the sockets, Swift tasks the answers.
        .target(name: "BatonHTTP", dependencies: ["CMicroHTTPD"]),
        // libcrypto (Debian: libssl-dev); only BatonCrypto imports it.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // HMAC-SHA256, SHA-256, constant-time comparison.
        .target(name: "BatonCrypto", dependencies: ["CCrypto"]),
        // How runs, slices and jobs read for people and as JSON (CLI and HTTP API).
        .target(name: "BatonReport", dependencies: ["BatonCore", "BatonEngine", "BatonJSON", "BatonStore"]),
        // The HTTP API of SPEC §6: webhooks, reads, metrics, dashboard (serve and run --listen).
        .target(name: "BatonAPI", dependencies: ["BatonConfig", "BatonCore", "BatonCrypto", "BatonDaemon", "BatonEngine", "BatonJSON",
                                                 "BatonHTTP", "BatonReport", "BatonStore"]),
        // Schedule directories and files on disk, commands on PATH.
        .target(name: "BatonConfig", dependencies: ["BatonCore"]),
        // The command line: arguments in, exit code out.
        .executableTarget(name: "baton", dependencies: ["BatonCore", "BatonConfig", "BatonStore", "BatonStoreSQLite", "BatonStorePostgres", "BatonPostgres", "BatonEngine", "BatonSupervisor", "BatonDaemon", "BatonReport", "BatonAPI", "BatonHTTP", "BatonSandbox", "BatonJSON", "BatonSQLite"]),
        // bench/cron-next measures this in-process.
        .executableTarget(name: "BenchCronNext", dependencies: ["BatonCore", "BatonConfig"], path: "bench/cron-next-swift"),
        .testTarget(name: "BatonCoreTests", dependencies: ["BatonCore"]),
        .testTarget(name: "BatonCLITests", dependencies: ["BatonCore"]),
        .testTarget(name: "BatonSupervisorTests", dependencies: ["BatonSupervisor"]),
        .testTarget(name: "BatonEngineTests", dependencies: ["BatonEngine", "BatonJSON", "BatonStore", "BatonStoreSQLite", "BatonSupervisor", "BatonCore"]),
        // The RunStore conformance suite, run against every backend.
        .testTarget(name: "BatonProvidersTests", dependencies: ["BatonProviders"]),
        .testTarget(name: "BatonDaemonTests", dependencies: ["BatonDaemon", "BatonConfig", "BatonEngine", "BatonStore", "BatonStoreSQLite", "BatonSupervisor"]),
        .testTarget(name: "BatonHTTPTests", dependencies: ["BatonHTTP"]),
        .testTarget(name: "BatonJSONTests", dependencies: ["BatonJSON"]),
        .testTarget(name: "BatonStoreTests", dependencies: ["BatonStore", "BatonStoreSQLite", "BatonSQLite", "BatonStorePostgres",
                                                         "BatonPostgres", "BatonTestSupport"]),
        // What the in-process tests of the kit and the handlers share: a real `baton sandbox`.
        .target(name: "BatonTestSupport", dependencies: ["BatonPostgres"], path: "Tests/Support"),
        // The handler kit in-process: input, params, cursor, output, back-off, APP_DB.
        .testTarget(name: "BatonHandlerKitTests", dependencies: ["BatonTestSupport", "BatonHandlerKit", "BatonEngine"]),
    ]
)
