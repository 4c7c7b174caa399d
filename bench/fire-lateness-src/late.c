/* The bench's handler: appends (start time - BATON_SCHEDULED_AT) in milliseconds and
 * the nominal second to the file argv[1], then reports done. One small O_APPEND write per fire. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const char *s = getenv("BATON_SCHEDULED_AT");  /* 2026-11-25T10:30:00Z */
    struct tm tm = {0};
    if (argc < 2 || !s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) return 1;
    time_t nominal = timegm(&tm);
    double late = (double)(now.tv_sec - nominal) * 1000.0 + now.tv_nsec / 1e6;
    char line[64];
    int n = snprintf(line, sizeof line, "%.3f %lld\n", late, (long long)nominal);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) { write(fd, line, n); close(fd); }
    puts("{\"cursor\":null}");
    return 0;
}
