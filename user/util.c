/* Small shared helpers: clocks, duration formatting, bounded string copy. */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t now_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t boot_to_real_ns(uint64_t boot_ns)
{
	uint64_t real = clock_ns(CLOCK_REALTIME), boot = clock_ns(CLOCK_BOOTTIME);

	return real - boot + boot_ns;
}

void fmt_duration(char *buf, size_t len, uint64_t ns)
{
	/* Truncate, never round: "%.1f" would print 59.96 s as "60.0s". */
	if (ns < 1000)
		snprintf(buf, len, "%uns", (unsigned)ns);
	else if (ns < 10 * 1000)
		snprintf(buf, len, "%u.%uus", (unsigned)(ns / 1000), (unsigned)(ns / 100 % 10));
	else if (ns < 1000 * 1000)
		snprintf(buf, len, "%uus", (unsigned)(ns / 1000));
	else if (ns < 100 * NSEC_PER_MSEC)
		snprintf(buf, len, "%u.%ums", (unsigned)(ns / NSEC_PER_MSEC),
			 (unsigned)(ns / 100000 % 10));
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, len, "%ums", (unsigned)(ns / NSEC_PER_MSEC));
	else if (ns < 60 * NSEC_PER_SEC)
		snprintf(buf, len, "%u.%us", (unsigned)(ns / NSEC_PER_SEC),
			 (unsigned)(ns / 100000000 % 10));
	else if (ns < 3600 * NSEC_PER_SEC)
		snprintf(buf, len, "%um%02us", (unsigned)(ns / NSEC_PER_SEC / 60),
			 (unsigned)(ns / NSEC_PER_SEC % 60));
	else if (ns < 1000 * 3600 * NSEC_PER_SEC)
		snprintf(buf, len, "%uh%02um", (unsigned)(ns / NSEC_PER_SEC / 3600),
			 (unsigned)(ns / NSEC_PER_SEC / 60 % 60));
	else if (ns < 1000 * 86400 * NSEC_PER_SEC) /* 7 chars at most: days */
		snprintf(buf, len, "%ud%02uh", (unsigned)(ns / NSEC_PER_SEC / 86400),
			 (unsigned)(ns / NSEC_PER_SEC / 3600 % 24));
	else
		snprintf(buf, len, "%ud", (unsigned)(ns / NSEC_PER_SEC / 86400));
}

void fmt_clock(char *buf, size_t len, uint64_t boot_ns)
{
	fmt_clock_at(buf, len, boot_ns, 0);
}

void fmt_clock_at(char *buf, size_t len, uint64_t boot_ns, uint64_t boot_wall_ns)
{
	uint64_t real = boot_wall_ns ? boot_ns + boot_wall_ns : boot_to_real_ns(boot_ns);
	time_t secs = (time_t)(real / NSEC_PER_SEC);
	struct tm tm;

	if (!localtime_r(&secs, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(real % NSEC_PER_SEC / NSEC_PER_MSEC));
}

void copy_comm(char dst[16], const char *src)
{
	size_t i = 0;

	for (; i < 15 && src[i]; i++)
		dst[i] = src[i];
	memset(dst + i, 0, 16 - i);
}

int parse_seconds(const char *s, double *out)
{
	char *end;

	errno = 0;
	double v = strtod(s, &end);

	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

int parse_pid(const char *s, uint32_t *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);

	if (errno || end == s || *end || v == 0 || v > 0x3fffffff || s[0] < '0' || s[0] > '9')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;

	if (!(s[0] >= '0' && s[0] <= '9') && s[0] != '.')
		return -1;
	errno = 0;
	double v = strtod(s, &end);

	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	double mult = 1;

	switch (*end) {
	case 'k': case 'K': mult = 1024.0; end++; break;
	case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B' || (*end == 'b' && mult > 1))
		end++;
	if (*end || v * mult > 1e18)
		return -1;
	*out = (uint64_t)(v * mult);
	return 0;
}

void fmt_kb(char *buf, size_t len, uint64_t kb)
{
	static const char unit[] = "KMGTP";
	double v = (double)kb;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (v >= 100 || u == 0)
		snprintf(buf, len, "%.0f%c", v, unit[u]);
	else
		snprintf(buf, len, "%.1f%c", v, unit[u]);
}
