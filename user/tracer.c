/* The kernel side's lifecycle: see tracer.h. */
#include "tracer.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "zmtrace.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define TRACEFS_MAGIC 0x74726163
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

struct tracer {
	struct zmtrace_bpf *skel;
	struct ring_buffer *rb;
	bool exact_reaps;
	bool mounted_tracefs;
	char warning[256];
	int (*on_event)(void *ctx, const struct zm_event *e);
	void *ctx;
};

/* libbpf's messages: the last warning is kept for the error line (it names
 * the program and the kernel's reason); all of them with --verbose. */
static __thread char last_libbpf_msg[512];
static __thread bool libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	char line[512];
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	line[strcspn(line, "\n")] = 0;
	if (level == LIBBPF_WARN && line[0])
		snprintf(last_libbpf_msg, sizeof(last_libbpf_msg), "%s", line);
	if (libbpf_verbose)
		fprintf(stderr, "libbpf: %s\n", line);
	return 0;
}

static bool has_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	uint64_t eff = (uint64_t)data[1].effective << 32 | data[0].effective;

	return (eff >> CAP_BPF_BIT & 1) && (eff >> CAP_PERFMON_BIT & 1);
}

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == TRACEFS_MAGIC;
}

/* The syscall tracepoints need tracefs (libbpf reads their ids there).
 * Returns NULL when usable, else why not. */
static const char *prepare_tracefs(struct tracer *t)
{
	static const char *const need[] = {
		TRACEFS "/events/syscalls/sys_exit_wait4",
		TRACEFS "/events/syscalls/sys_enter_waitid",
		TRACEFS "/events/syscalls/sys_exit_waitid",
	};

	if (access("/sys/kernel/debug/tracing", F_OK) == 0 &&
	    !is_tracefs("/sys/kernel/debug/tracing"))
		return "/sys/kernel/debug/tracing exists but is not tracefs";
	if (!is_tracefs(TRACEFS)) {
		if (mount("nodev", TRACEFS, "tracefs", 0, NULL))
			return strerror(errno);
		t->mounted_tracefs = true;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], F_OK))
			return "the kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)";
	return NULL;
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	struct zm_event e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	return t->on_event(t->ctx, &e);
}

/* After a failed load: the program the kernel refused (libbpf loads them in
 * order and stops at the first failure), or NULL. */
static struct bpf_program *failed_program(struct tracer *t)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->skel->obj)
		if (bpf_program__autoload(prog) && bpf_program__fd(prog) < 0)
			return prog;
	return NULL;
}

static void name_failed_program(struct tracer *t, int err, char *buf, size_t len)
{
	struct bpf_program *prog = failed_program(t);

	if (prog)
		snprintf(buf, len, "cannot load BPF program %s (%s): %s%s%s",
			 bpf_program__name(prog), bpf_program__section_name(prog), strerror(-err),
			 last_libbpf_msg[0] ? ": " : "", last_libbpf_msg);
	else
		snprintf(buf, len, "cannot load the BPF programs: %s%s%s", strerror(-err),
		 last_libbpf_msg[0] ? ": " : "", last_libbpf_msg);
}

/* Open and load the skeleton; -EAGAIN when only the group_dead exit
 * program failed (an older kernel), else 0 or -errno with err set. */
static int open_and_load(struct tracer *t, const struct tracer_opts *o, bool legacy_exit,
			 char *err, size_t errlen)
{
	zmtrace_bpf__destroy(t->skel);
	t->skel = zmtrace_bpf__open();
	if (!t->skel) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return ret;
	}
	t->skel->rodata->filter_mode = o->filter;
	memcpy((char *)t->skel->rodata->filter_comm, o->comm, ZM_COMM_LEN);
	t->skel->rodata->emit_lifecycle = o->lifecycle;
	bpf_map__set_max_entries(t->skel->maps.events,
				 o->ringbuf_bytes ? (uint32_t)o->ringbuf_bytes : 4u << 20);
	bpf_program__set_autoload(t->skel->progs.zm_exit, !legacy_exit);
	bpf_program__set_autoload(t->skel->progs.zm_exit_legacy, legacy_exit);
	if (!t->exact_reaps) {
		bpf_program__set_autoload(t->skel->progs.zm_wait4_exit, false);
		bpf_program__set_autoload(t->skel->progs.zm_waitid_enter, false);
		bpf_program__set_autoload(t->skel->progs.zm_waitid_exit, false);
	}
	int ret = zmtrace_bpf__load(t->skel);

	if (!ret)
		return 0;
	if (!legacy_exit && failed_program(t) == t->skel->progs.zm_exit)
		return -EAGAIN;
	name_failed_program(t, ret, err, errlen);
	return ret;
}

int tracer_open(struct tracer **out, const struct tracer_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	if (!has_caps()) {
		snprintf(err, errlen, "permission denied: run as root (or with CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); "
			 "zmtrace needs CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
		return -ENOTSUP;
	}
	libbpf_verbose = o->verbose;
	last_libbpf_msg[0] = 0;
	libbpf_set_print(libbpf_print);

	struct tracer *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->on_event = o->on_event;
	t->ctx = o->ctx;
	int ret;
	const char *why = prepare_tracefs(t);

	t->exact_reaps = !why;
	if (why)
		snprintf(t->warning, sizeof(t->warning),
			 "wait4/waitid tracepoints unavailable (tracefs: %s): reaps are seen when the "
			 "process is freed, zombie times are upper bounds", why);
	/* sched_process_exit(p, group_dead) is 6.16's; older kernels refuse
	 * that program, and get the one that reads signal->live instead.
	 * (Trying is cheaper than parsing the kernel's BTF once more.)
	 * ZMTRACE_LEGACY_EXIT=1 takes the older way here too, for tests. */
	for (int legacy = !!getenv("ZMTRACE_LEGACY_EXIT"); legacy < 2; legacy++) {
		ret = open_and_load(t, o, legacy, err, errlen);
		if (ret != -EAGAIN)
			break;
	}
	if (ret)
		goto fail;
	ret = zmtrace_bpf__attach(t->skel);
	if (ret) {
		snprintf(err, errlen, "cannot attach the BPF programs: %s%s%s", strerror(-ret),
			 last_libbpf_msg[0] ? ": " : "", last_libbpf_msg);
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_ringbuf, t, NULL);
	if (!t->rb) {
		ret = -errno;
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tracer_close(t);
	return ret < 0 ? ret : -EINVAL;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	zmtrace_bpf__destroy(t->skel);
	if (t->mounted_tracefs)
		umount2(TRACEFS, MNT_DETACH); /* leave the machine as we found it */
	free(t);
}

const char *tracer_warning(const struct tracer *t)
{
	return t->warning[0] ? t->warning : NULL;
}

bool tracer_exact_reaps(const struct tracer *t)
{
	return t->exact_reaps;
}

int tracer_follow(struct tracer *t, uint32_t pid, uint64_t start_ns)
{
	return bpf_map__update_elem(t->skel->maps.followed, &pid, sizeof(pid), &start_ns,
				    sizeof(start_ns), BPF_ANY);
}

int tracer_watch(struct tracer *t, uint32_t pid, const struct zm_zombie *z)
{
	int ret = bpf_map__update_elem(t->skel->maps.watched, &pid, sizeof(pid), z, sizeof(*z),
				       BPF_NOEXIST);

	return ret == -EEXIST ? 0 : ret;
}

int tracer_fd(const struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int tracer_consume(struct tracer *t)
{
	return ring_buffer__consume(t->rb);
}

int tracer_wait(struct tracer *t, int ms)
{
	/* Events come without wake-ups: poll() may time out with data in. */
	int n = ring_buffer__poll(t->rb, ms);

	return n < 0 ? n : ring_buffer__consume(t->rb);
}

uint64_t tracer_drops(const struct tracer *t, enum zm_drop_kind kind)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t key = kind;
	uint64_t sum = 0;

	if (ncpu <= 0)
		return 0;
	uint64_t *vals = calloc((size_t)ncpu, sizeof(*vals));

	if (!vals)
		return 0;
	if (!bpf_map__lookup_elem(t->skel->maps.drops, &key, sizeof(key), vals,
				  sizeof(*vals) * (size_t)ncpu, 0))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}
