/* Small shared helpers: clocks, duration formatting, bounded string copy. */
#ifndef ZM_UTIL_H
#define ZM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define USER_HZ_NS 10000000ULL /* /proc start times tick at 1/100 s */

/* CLOCK_BOOTTIME, the clock of every ts_ns, in ns. */
uint64_t now_boot_ns(void);
/* Wall-clock ns of the boot-time instant boot_ns. */
uint64_t boot_to_real_ns(uint64_t boot_ns);

/* "850us", "12.3ms", "4.1s", "2m05s", "3h12m", "41d16h": at most 7
 * characters; truncated, never rounded up into the next unit. */
void fmt_duration(char *buf, size_t len, uint64_t ns);
/* "HH:MM:SS.mmm" local time of boot-time instant boot_ns (a 9-byte buffer
 * gives "HH:MM:SS"). */
void fmt_clock(char *buf, size_t len, uint64_t boot_ns);
/* The same for a boot-time instant of another boot (a capture): wall clock
 * = boot_ns + boot_wall_ns (0: this boot's). */
void fmt_clock_at(char *buf, size_t len, uint64_t boot_ns, uint64_t boot_wall_ns);

/* Copy a kernel comm (maybe not NUL-terminated) into a 16-byte buffer. */
void copy_comm(char dst[16], const char *src);

/* Parse a duration in seconds ("10", "1.5"): 0 on success. */
int parse_seconds(const char *s, double *out);
/* Parse a pid (decimal digits only): 0 on success. */
int parse_pid(const char *s, uint32_t *out);
/* Parse a size in bytes: "4096", "512K", "1.5M", "2G" (binary units; "KiB",
 * "MB" and such are taken as the same). 0 on success. */
int parse_size(const char *s, uint64_t *out);
/* "512K", "1.5M", "12.3G": at most 6 characters, binary units, from KiB. */
void fmt_kb(char *buf, size_t len, uint64_t kb);

#endif
