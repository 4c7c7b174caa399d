/// Help texts: one per command, each with examples.
enum Usage {
    static let available = ["check", "next", "jobs", "run", "tick", "invoke", "runs", "show", "cancel", "resume", "retry", "pause", "unpause",
                            "serve", "sandbox", "help", "version"]
    /// SPEC §4 commands that later versions add.
    static let planned: [String] = []

    static let main = """
    baton: cron-style scheduling for bounded, resumable work

    Usage: baton [--schedules DIR] [--tz ZONE] COMMAND [ARGS...]

    Commands:
      check [PATH...]          validate schedule files; every error as FILE:LINE:COLUMN
      next (JOB | 'EXPR')      the next fire times of a job or an expression
      jobs                     each job: schedule, zone, next fire, last run, paused
      run                      the daemon: fire jobs on time, run them, reload, drain
      serve --listen ADDR      the HTTP API alone: signed webhooks start runs; metrics
      sandbox --listen ADDR    local stand-ins for the AI and messaging providers
      tick                     one pass for a system crontab: fire what is due, run it
      invoke JOB | -- CMD...   run a job (or an ad-hoc handler) now, in the foreground
      runs                     recent runs: status, slices, progress, duration, ETA
      show RUN                 one run: every slice, cursors, failed items, logs
      cancel RUN               graceful cancel: the slice gets SIGTERM, the cursor is kept
      resume RUN               continue a cancelled, failed or partial run from its cursor
      retry RUN                a new run of the failed items of RUN
      pause JOB / unpause JOB  stop / restart firing a job without editing files
      help [COMMAND]           this text, or a command's
      version                  print the version

    Global options:
      --schedules DIR          schedule files (*.cron) to read (default ./schedules)
      --tz ZONE                zone for entries without CRON_TZ (default UTC)
      --state URL              state store (default sqlite:var/baton.db, or $BATON_STATE)
      --lease DURATION         how long this process holds a run without renewing it
                               (default 10s, renewed every third); another baton takes a
                               run over once its holder's lease has run out
      -h, --help               help; 'baton COMMAND --help' for a command's
      -V, --version            print the version

    Exit status: 0 success, 1 failure of the work, 2 bad usage or bad input.

    Examples:
      baton check                                   # validate ./schedules/*.cron
      baton next '30 2 * * *' --tz America/New_York -n 3
      baton next send-batches --json
      baton invoke nightly-report
      baton invoke -- handlers/examples/count-to 20
    """

    static let check = """
    Usage: baton check [PATH...] [--json]

    Validates schedule files: the schedule expressions, job names, options and
    durations, CRON_TZ zones, and that every command exists and is executable.
    Reports every problem of every file as FILE:LINE:COLUMN: message, with a hint.
    A missing or non-executable command is a warning (it may be installed later).

    PATH is a .cron file or a directory of them (default: --schedules, ./schedules).

    Options:
      --json        print {"files":…,"jobs":…,"problems":[…]} on stdout

    Exit status: 0 when there is no error (warnings allowed), 2 otherwise.

    Examples:
      baton check
      baton check schedules/reports.cron
      baton check /etc/baton/ --json
    """

    static let next = """
    Usage: baton next (JOB | 'EXPR') [-n N] [--from TIME] [--tz ZONE] [--json] [--explain]

    Prints the next N fire times strictly after --from (default now), each in the
    zone with its offset, in UTC, and relative to --from. EXPR is a cron expression
    (5 or 6 fields), a macro (@daily, @every 15s, ...); JOB is a job of --schedules,
    read in its own CRON_TZ zone.

    Options:
      -n N            how many fire times (default 5, at most 10000)
      --from TIME     start: RFC 3339 ('2026-03-07T12:00:00-05:00'), a local time in
                      the zone ('2026-03-07 12:00'), a date, '@UNIXSECONDS' or 'now'
      --tz ZONE       the zone of EXPR (default UTC); IANA names
      --json          print {"expression":…,"tz":…,"next":[…]}
      --explain       also say in words what the expression means and how its fires
                      meet daylight-saving changes
      --batch         read JSON queries {"expr","tz","from","n"} one per line on
                      stdin, answer {"next":[unix seconds…]} or {"error":…} per line

    Daylight saving (Debian cron's rule): a five-field expression whose minute and
    hour are both fixed is wall-clock time; a time skipped by a change fires once
    at the first minute after the gap, a repeated time fires once, the first time.
    Anything else runs in real elapsed time.

    Examples:
      baton next '30 2 * * *' --tz America/New_York --from 2026-03-07T12:00:00-05:00 -n 2
      baton next '0 9 * * mon#2' -n 3 --json
      baton next '@every 90s' -n 4
      baton next weekday-digest
    """

    static let invoke = """
    Usage: baton invoke JOB [--cursor C] [--param K=V]... [--payload FILE|-] [--budget D]
                        [--env K=V]... [--pass-env VAR]... [--once] [--json]
           baton invoke [OPTIONS] -- CMD [ARGS...]

    Runs a job now, in the foreground, as a chain of slices until it is done: each
    slice's result and cursor are committed before the next starts. On a terminal a
    live bar shows percent, counts, slices and ETA; otherwise one line per slice.
    Handler stderr is echoed, prefixed with job and run id. Ctrl-C cancels
    gracefully (the slice gets SIGTERM, its cursor is committed) and prints the
    'baton resume RUN' line; a second Ctrl-C stops the slice at once.

    Options:
      --cursor C        the first slice's cursor (default: none)
      --param K=V       a parameter for the handler (repeatable): stdin "params"
      --payload FILE    JSON for stdin "payload" (- reads stdin)
      --budget D        this run's slice budget instead of the job's budget=
    \(HandlerEnvironmentOptions.help)
      --once            run a single slice and print its result
      --json            print the run (with --once, also the slice) as JSON
      -- CMD ARGS...    an ad-hoc handler (job name "adhoc"), job options' defaults

    Exit status: 0 when the run succeeded (with --once: the slice ran), 1 when it
    failed, was cancelled or ended partial, 2 for bad usage.

    Examples:
      baton invoke nightly-report
      baton invoke send-batches --param channel=sms --budget 30s
      baton invoke regenerate-drafts --once --json
      baton invoke --state sqlite:/tmp/t.db -- handlers/examples/count-to 20
      baton invoke --pass-env TWILIO_ACCOUNT_SID,TWILIO_AUTH_TOKEN -- .build/debug/send-sms
    """

    static let runs = """
    Usage: baton runs [--job J] [--status S] [--limit N] [--json]

    Recent runs, newest first: status, slices, progress, failed items, duration, ETA.
    S is one of queued, running, waiting, succeeded, failed, cancelled, partial.
    A waiting run is unfinished and no driver holds it (after a drain, a tick's
    --max-time, or its driver's death): the next 'baton run' or 'baton tick'
    continues it from its cursor, as does 'baton resume RUN'. N defaults to 20.

    Examples:
      baton runs
      baton runs --job send-batches --status failed --limit 5
      baton runs --json
    """

    static let show = """
    Usage: baton show RUN [--logs] [--json]

    One run: status, counts, progress and ETA, cursor, and every slice (times,
    outcome, exit, cursor in and out, counts); the items it reported failed; with
    --logs each slice's stderr.

    Examples:
      baton show r_0mfl9c2k4abc1234
      baton show r_0mfl9c2k4abc1234 --logs
    """

    static let cancel = """
    Usage: baton cancel RUN [--json]

    Graceful cancel, also of a run driven by another baton process: its running
    slice gets SIGTERM within a second, its result (if valid) and cursor are
    committed, and the run ends cancelled. 'baton resume RUN' continues it.

    Example:
      baton cancel r_0mfl9c2k4abc1234
    """

    static let resume = """
    Usage: baton resume RUN [--env K=V]... [--pass-env VAR]... [--once] [--json]

    Continues a cancelled, failed or partial run from its committed cursor, in the
    foreground, as invoke does. A run whose driver died (kill -9) is taken over: its
    lost slice runs again with the same cursor and the next attempt number. A run
    that reached its end with failed items has nothing to resume: use baton retry.

    Options:
    \(HandlerEnvironmentOptions.help)

    Example:
      baton resume r_0mfl9c2k4abc1234
    """

    static let retry = """
    Usage: baton retry RUN [--include-unknown] [--json]

    Starts a new run of RUN's job (trigger "retry") whose payload.items lists the
    ids of the items RUN reported as failed, and drives it in the foreground.
    'baton show RUN' then says "Retried by"; a run retried already is not retried
    again (retry the newer run for what still failed there).

    Options:
      --include-unknown  also the items whose outcome is "unknown": a send that may
                         have been delivered. Without it they are never sent again.
      --json             print the new run as JSON
    \(HandlerEnvironmentOptions.help)

    Example:
      baton retry r_0mfl9c2k4abc1234
    """

    static let jobs = """
    Usage: baton jobs [--json]

    Each job of --schedules: its schedule, zone, next fire (and how long until it),
    its last run and that run's status, and whether it is paused.

    Examples:
      baton jobs
      baton jobs --json
    """

    static let run = """
    Usage: baton run [--max-concurrent N] [--listen ADDR] [--max-backlog N]

    The daemon. Fires every job of --schedules on time (six-field jobs on their
    second), catches up fires missed while it was down per each job's misfire=,
    applies overlap=, and runs the runs slice by slice, continuing any a previous
    daemon or tick left unfinished. Pauses ('baton pause JOB') are honoured within a
    second. SIGHUP or any change in the schedules directory reloads them; a file
    with an error keeps the last good configuration and logs the error. SIGTERM or
    SIGINT drains: no new fires or slices, running slices finish within their
    budget, cursors are committed, exit 0; a second signal stops slices at once.

    Options:
      --max-concurrent N   jobs whose runs are driven at once (default 8)
      --listen ADDR        also serve the HTTP API (webhooks, runs, metrics,
                           dashboard) on HOST:PORT; see 'baton serve --help'
      --max-backlog N      with --listen: runs queued (recorded, not started) past
                           which webhooks get 503 + Retry-After (default 10000; 0: none)
      --log-format F       logfmt (default) or json, one line per event on stderr

    Examples:
      baton run
      baton run --state sqlite:/var/lib/baton/baton.db --schedules /etc/baton
      baton run --listen 127.0.0.1:8080
    """

    static let sandbox = """
    Usage: baton sandbox --listen ADDR [--smtp-listen ADDR] [--db sqlite:PATH]
                         [--latency D] [--rate-limit N] [--error-rate F] [--timeout-rate F] [--seed N]

    Local stand-ins for the providers the handlers call (docs/sandbox.md): the same
    paths, JSON shapes and auth checks as OpenAI-compatible Chat Completions,
    Anthropic Messages, Twilio Messaging and the Messenger Send API, plus an SMTP
    receiver. Every delivery is recorded (GET /_sandbox/deliveries); faults can be
    queued (POST /_sandbox/faults) or injected at a rate. AI answers are
    deterministic per prompt. Runs until SIGTERM or Ctrl-C.

    Options:
      --listen ADDR        HTTP address; port 0 picks a free one (logged as event=listen)
      --smtp-listen ADDR   also receive mail over SMTP (logged as event=smtp_listen)
      --db sqlite:PATH     where deliveries are kept (default sqlite:var/sandbox.db)
      --latency D          delay before every answer (e.g. 50ms)
      --rate-limit N       requests per second per provider; more get 429 + Retry-After
      --error-rate F       fraction of requests answered 500 (Anthropic also 529)
      --timeout-rate F     fraction of requests never answered
      --seed N             seed of the injected faults

    Examples:
      baton sandbox --listen 127.0.0.1:9090 --smtp-listen 127.0.0.1:2525
      OPENAI_BASE_URL=http://127.0.0.1:9090/v1 OPENAI_API_KEY=sk-test python3 my_client.py
    """

    static let serve = """
    Usage: baton serve --listen ADDR [--max-concurrent N] [--max-backlog N] [--intake-only]

    The HTTP API without cron firing (docs/http.md): POST /hooks/JOB starts a run
    of JOB with the body as payload when signed with the job's secret
    (X-Baton-Timestamp, X-Baton-Signature: sha256=HMAC of TIMESTAMP.BODY; the secret
    is in BATON_WEBHOOK_SECRET or the variable webhook-secret-env= names), and this
    process drives it as 'baton invoke' would. GET /runs/RUN, /runs, /jobs,
    /metrics (Prometheus), /healthz and / (a dashboard); POST /runs/RUN/cancel and
    /runs/RUN/retry, signed like hooks. SIGTERM or SIGINT drains as 'baton run' does.

    Without BATON_API_TOKEN only a loopback address is accepted; with it, every
    GET but /healthz needs 'Authorization: Bearer TOKEN'.

    Options:
      --listen ADDR        HOST:PORT or [IPV6]:PORT; port 0 picks a free one (the
                           address bound is logged as event=listen)
      --max-concurrent N   jobs whose runs are driven at once (default 8)
      --max-backlog N      runs queued (recorded, no slice started yet) past which
                           webhooks and retries get 503 + Retry-After and nothing is
                           recorded (default 10000; 0: no limit)
      --intake-only        record webhook runs but drive none (a 'baton run' or
                           'baton resume' elsewhere drives them)
      --log-format F       logfmt (default) or json

    Examples:
      BATON_WEBHOOK_SECRET=s3cret baton serve --listen 127.0.0.1:8080
      BATON_API_TOKEN=$(openssl rand -hex 32) baton serve --listen 0.0.0.0:8080
    """

    static let tick = """
    Usage: baton tick [--max-time D] [--max-concurrent N]

    One pass, for a system crontab line:  * * * * * cd /srv/app && baton tick
    Fires every job that is due since the previous tick (missed fires follow each
    job's misfire=; @reboot fires once per boot), applies each job's overlap=, then
    runs the unfinished runs slice by slice until they are done or --max-time
    (default 50s, so minute ticks never pile up) is up; a slice already running then
    finishes within its budget. What is left continues from its cursor next tick.
    Ticks sharing a store take an exclusive lock: a second one exits at once.

    Options:
      --max-time D         stop starting slices after D (default 50s)
      --max-concurrent N   jobs driven at once (default 8)
      --log-format F       logfmt (default) or json, one line per event on stderr

    Examples:
      baton tick
      baton tick --max-time 4m --state sqlite:/var/lib/baton/baton.db
    """

    static let pause = """
    Usage: baton pause JOB
           baton unpause JOB

    Stops (or restarts) firing a job without editing its file. The state is kept in
    the store, so every baton process sharing it agrees; a run already going
    finishes; 'baton invoke JOB' still runs a paused job by hand.

    Examples:
      baton pause weekday-digest
      baton unpause weekday-digest
    """

    static let commands: [String: String] = ["check": check, "next": next, "invoke": invoke, "runs": runs, "show": show,
                                             "cancel": cancel, "resume": resume, "retry": retry, "jobs": jobs,
                                             "pause": pause, "unpause": pause, "tick": tick, "run": run, "serve": serve, "sandbox": sandbox]
}
