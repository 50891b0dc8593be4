/* Reading processes from /proc. */
#include "procscan.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int ps_parse_stat(const char *text, struct ps_proc *out)
{
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'; it ends
	 * at the last ')'. starttime is field 22. */
	const char *open = strchr(text, '('), *close = strrchr(text, ')');

	if (!open || !close || close < open)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	char *end;
	unsigned long pid = strtoul(text, &end, 10);

	if (end == text || pid == 0 || pid > UINT32_MAX)
		return -EINVAL;
	out->pid = (uint32_t)pid;
	size_t n = (size_t)(close - open - 1);

	if (n > ZM_COMM_LEN - 1)
		n = ZM_COMM_LEN - 1;
	memcpy(out->comm, open + 1, n);

	const char *p = close + 1;
	unsigned long long start = 0;
	int ppid = 0, code = 0;
	char state = 0;
	bool have_start = false;

	if (sscanf(p, " %c %d", &state, &ppid) != 2 || ppid < 0)
		return -EINVAL;
	/* Fields 22 (starttime) and 52 (exit_code, since Linux 3.5): we are
	 * at field 3 (state). */
	for (int field = 3; field < 52; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			break;
		if (field + 1 == 22 && sscanf(p, " %llu", &start) != 1)
			return -EINVAL;
		if (field + 1 == 22)
			have_start = true;
		if (field + 1 == 52 && sscanf(p, " %d", &code) == 1)
			out->exit_code = (uint32_t)code;
	}
	if (!have_start)
		return -EINVAL;
	out->state = state;
	out->ppid = (uint32_t)ppid;
	long tck = sysconf(_SC_CLK_TCK);

	out->start_ns = start * (NSEC_PER_SEC / (uint64_t)(tck > 0 ? tck : 100));
	return 0;
}

int ps_read(uint32_t pid, struct ps_proc *out)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;

	close(fd);
	if (n <= 0)
		return n < 0 ? -err : -ENOENT;
	buf[n] = 0;
	return ps_parse_stat(buf, out);
}

int ps_scan(int (*fn)(void *ctx, const struct ps_proc *p), void *ctx)
{
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	struct dirent *de;
	int ret = 0;

	while (!ret && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		uint32_t pid;
		struct ps_proc p;

		if (parse_pid(de->d_name, &pid) || ps_read(pid, &p))
			continue; /* gone meanwhile */
		ret = fn(ctx, &p);
	}
	closedir(d);
	return ret;
}

int ps_read_mem(uint32_t pid, struct zm_mem_event *out)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "VmSize:", offsetof(struct zm_mem_event, vsize_kb) },
		{ "RssAnon:", offsetof(struct zm_mem_event, anon_kb) },
		{ "RssFile:", offsetof(struct zm_mem_event, file_kb) },
		{ "RssShmem:", offsetof(struct zm_mem_event, shmem_kb) },
		{ "VmSwap:", offsetof(struct zm_mem_event, swap_kb) },
	};
	int found = 0;

	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t n = strlen(keys[i].key);
			unsigned long long v;

			if (!strncmp(line, keys[i].key, n) && sscanf(line + n, "%llu", &v) == 1) {
				*(unsigned long long *)((char *)out + keys[i].off) = v;
				found++;
			}
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}
