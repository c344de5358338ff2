/* router/log.c: timestamped, levelled log lines on stderr (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "router/log.h"

static enum mesh_log_level current = MESH_LOG_INFO;

void mesh_log_set_level(enum mesh_log_level level)
{
	current = level;
}

void mesh_log(enum mesh_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char line[1024];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > current)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000, names[level], line);
}
