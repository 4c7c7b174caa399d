/// Help texts: one per command, each with examples.
enum Usage {
    static let available = ["check", "next", "help", "version"]
    /// SPEC §4 commands that later versions add.
    static let planned = ["run", "tick", "invoke", "serve", "jobs", "runs", "show", "cancel", "resume",
                          "retry", "pause", "unpause", "sandbox"]

    static let main = """
    baton: cron-style scheduling for bounded, resumable work

    Usage: baton [--schedules DIR] [--tz ZONE] COMMAND [ARGS...]

    Commands:
      check [PATH...]          validate schedule files; every error as FILE:LINE:COLUMN
      next (JOB | 'EXPR')      the next fire times of a job or an expression
      help [COMMAND]           this text, or a command's
      version                  print the version

    Global options:
      --schedules DIR          schedule files (*.cron) to read (default ./schedules)
      --tz ZONE                zone for entries without CRON_TZ (default UTC)
      --state URL              state store (default sqlite:var/baton.db, or $BATON_STATE)
      -h, --help               help; 'baton COMMAND --help' for a command's
      -V, --version            print the version

    Exit status: 0 success, 1 failure of the work, 2 bad usage or bad input.

    Examples:
      baton check                                   # validate ./schedules/*.cron
      baton next '30 2 * * *' --tz America/New_York -n 3
      baton next send-batches --json
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

    static let commands: [String: String] = ["check": check, "next": next]
}
