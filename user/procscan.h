/* Reading processes from /proc: what existed before tracing started. */
#ifndef ZM_PROCSCAN_H
#define ZM_PROCSCAN_H

#include <stdint.h>

#include "zmtrace.h"

struct ps_proc {
	uint32_t pid, ppid;
	char state;	   /* 'R', 'S', 'Z', ... */
	uint64_t start_ns; /* boot-time ns, to 1/CLK_TCK */
	char comm[ZM_COMM_LEN];
	uint32_t exit_code; /* a zombie's wait status (0 when not shown) */
};

/* Parse the text of /proc/PID/stat. 0, or -EINVAL. */
int ps_parse_stat(const char *text, struct ps_proc *out);
/* Read one process. 0, or -errno (-ENOENT when gone). */
int ps_read(uint32_t pid, struct ps_proc *out);
/* A process's memory from /proc/PID/status (VmSize, RssAnon, RssFile,
 * RssShmem, VmSwap; KiB) into the figures of *out. 0, or -errno (-ENOENT
 * for a kernel thread, which has none). */
int ps_read_mem(uint32_t pid, struct zm_mem_event *out);
/* Call fn for every process (not threads). Stops early and returns what fn
 * returned if non-zero; -errno when /proc cannot be read. */
int ps_scan(int (*fn)(void *ctx, const struct ps_proc *p), void *ctx);

#endif
