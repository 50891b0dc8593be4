/* The kernel side's lifecycle: see tracer.h. */
#include "tracer.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "percpu.h"
#include "zmtrace.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define TRACEFS_MAGIC 0x74726163
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define DIS_OOM 1u
#define CAP_BPF_BIT 39

struct tracer {
	struct zmtrace_bpf *skel;
	struct ring_buffer *rb;
	bool exact_reaps;
	unsigned disabled; /* optional programs this kernel refused: DIS_* */
	bool no_sys_admin; /* CAP_BPF + CAP_PERFMON only */
	char warning[1024];
	struct bpf_link **sample_links; /* --sample: one per CPU */
	int nsample_links;
	int (*on_event)(void *ctx, const struct zm_hdr *h, size_t size);
	void *ctx;
	/* Memory: the per-CPU offsets (NULL: unknown) and the way the
	 * rss_stat program takes its events (bpf/zmtrace.bpf.c). */
	uint64_t *cpu_offs;
	int ncpus;
	enum rss_path rss_path;
	struct percpu_pieces pieces; /* RSS_PATH_PIECES */
	int npieces;
};

static const char *const rss_path_names[] = {
	[RSS_PATH_LINEAR] = "linear",
	[RSS_PATH_PIECES] = "pieces",
	[RSS_PATH_TABLE] = "table",
	[RSS_PATH_EVERY] = "every",
	[RSS_PATH_SHARED] = "shared",
};

/*
 * libbpf reports through a print callback without a context argument, so
 * what it says about a failed load is kept in thread-local storage: the
 * program it could not load, and the verifier's reason (the last line of
 * its log that says something). All messages go to stderr with --verbose.
 */
struct load_failure {
	char prog[64];
	char reason[256];
	char last[256]; /* libbpf's last warning, if nothing better */
};
static __thread struct load_failure failure;
static __thread bool libbpf_verbose;

/* The verifier's log comes in one message: keep its last telling line. */
static void keep_reason(const char *log)
{
	const char *end = strstr(log, "-- END PROG LOAD LOG --");
	const char *p = log;

	while (p && (!end || p < end)) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11) && strncmp(p, "mark_precise", 12) &&
		    strncmp(p, "-- ", 3) && strncmp(p, "libbpf: ", 8) && !strstr(p, "BEGIN PROG LOAD LOG"))
			snprintf(failure.reason, sizeof(failure.reason), "%.*s", (int)n, p);
		p = nl ? nl + 1 : NULL;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	static __thread char msg[1 << 16]; /* a verifier log comes in one message */
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	if (level == LIBBPF_WARN) {
		const char *q;
		char name[64];

		if (sscanf(msg, "libbpf: prog '%63[^']': BPF program load failed", name) == 1 ||
		    sscanf(msg, "prog '%63[^']': BPF program load failed", name) == 1)
			snprintf(failure.prog, sizeof(failure.prog), "%s", name);
		if ((q = strstr(msg, "BEGIN PROG LOAD LOG --\n")))
			keep_reason(q + strlen("BEGIN PROG LOAD LOG --\n"));
		snprintf(failure.last, sizeof(failure.last), "%.*s", (int)strcspn(msg, "\n"), msg);
	}
	if (libbpf_verbose)
		fputs(msg, stderr);
	return 0;
}

/* The effective capabilities (all of them for root when capget fails). */
static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return geteuid() == 0 ? ~0ULL : 0;
	return (uint64_t)data[1].effective << 32 | data[0].effective;
}

static bool has_caps(uint64_t eff)
{
	return (eff >> CAP_SYS_ADMIN_BIT & 1) ||
	       ((eff >> CAP_BPF_BIT & 1) && (eff >> CAP_PERFMON_BIT & 1));
}

static bool is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == TRACEFS_MAGIC;
}

/* The syscall tracepoints need tracefs (libbpf reads their ids there).
 * Returns NULL when usable, else why not. */
static const char *prepare_tracefs(void)
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
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (access(need[i], F_OK))
			return "the kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)";
	return NULL;
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct zm_hdr))
		return 0;
	return t->on_event(t->ctx, data, size); /* the ring buffer aligns to 8 */
}

/* After a failed load: the program the kernel refused, or NULL. (libbpf
 * unloads them all on failure: only its message names the culprit.) */
static struct bpf_program *failed_program(struct tracer *t)
{
	return failure.prog[0] ? bpf_object__find_program_by_name(t->skel->obj, failure.prog)
			       : NULL;
}

static void name_failed_program(struct tracer *t, int err, char *buf, size_t len)
{
	struct bpf_program *prog = failed_program(t);
	const char *why = failure.reason[0] ? failure.reason : failure.last;

	if (prog)
		snprintf(buf, len, "cannot load BPF program %s (%s): %s%s%s",
			 bpf_program__name(prog), bpf_program__section_name(prog), strerror(-err),
			 why[0] ? ": " : "", why);
	else
		snprintf(buf, len, "cannot load the BPF programs: %s%s%s", strerror(-err),
			 why[0] ? ": " : "", why);
}

/* --sample HZ: the sampling program on a CPU clock event on every CPU. */
static int attach_sampling(struct tracer *t, unsigned hz, char *err, size_t errlen)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0) {
		snprintf(err, errlen, "cannot count the CPUs: %s", strerror(-ncpu));
		return ncpu ? ncpu : -EINVAL;
	}
	t->sample_links = calloc((size_t)ncpu, sizeof(*t->sample_links));
	if (!t->sample_links) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.size = sizeof(attr),
			.sample_freq = hz,
			.freq = 1,
		};
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			if (errno == ENODEV)
				continue; /* a possible CPU that is not online */
			int ret = -errno;

			snprintf(err, errlen, "cannot open a CPU clock event on CPU %d: %s", cpu,
				 strerror(errno));
			return ret;
		}
		struct bpf_link *l = bpf_program__attach_perf_event(t->skel->progs.zm_sample, fd);

		if (!l) {
			int ret = -errno;

			close(fd);
			snprintf(err, errlen, "cannot attach the sampling program on CPU %d: %s", cpu,
				 strerror(errno));
			return ret;
		}
		t->sample_links[t->nsample_links++] = l;
	}
	return 0;
}

/* Add a line to the warning (several are joined with "; "). */
static void warn(struct tracer *t, const char *what)
{
	size_t n = strlen(t->warning);

	if (strstr(t->warning, what))
		return;
	snprintf(t->warning + n, sizeof(t->warning) - n, "%s%s", n ? "; " : "", what);
}

/* When the figures are the shared counts: by how much they may lag. */
static void warn_shared(struct tracer *t)
{
	char w[200];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF), page = sysconf(_SC_PAGESIZE);
	long batch = 2 * ncpu > 32 ? 2 * ncpu : 32;

	snprintf(w, sizeof(w),
		 "this kernel gives no access to the per-CPU parts of memory counters: figures "
		 "are the shared counts, which lag /proc by up to %ld KiB a counter",
		 batch * (ncpu > 0 ? ncpu : 1) * (page > 0 ? page : 4096) / 1024);
	warn(t, w);
}

/* Replace the 64-bit constant marker in prog's instructions (plain
 * ld_imm64s) with value. 0, or -ENOENT when the marker is not there. */
static int patch_imm64(struct bpf_program *prog, uint64_t marker, uint64_t value)
{
	size_t n = bpf_program__insn_cnt(prog);
	struct bpf_insn *insns = malloc(n * sizeof(*insns));

	if (!insns)
		return -ENOMEM;
	memcpy(insns, bpf_program__insns(prog), n * sizeof(*insns));
	int found = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		struct bpf_insn *lo = &insns[i], *hi = &insns[i + 1];

		if (lo->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (lo->src_reg) { /* a map, a function, a kernel symbol */
			i++;
			continue;
		}
		if (((uint64_t)(uint32_t)hi->imm << 32 | (uint32_t)lo->imm) == marker) {
			lo->imm = (int32_t)(uint32_t)value;
			hi->imm = (int32_t)(uint32_t)(value >> 32);
			found++;
		}
		i++; /* an ld_imm64 is two slots */
	}
	int ret = found ? bpf_program__set_insns(prog, insns, n) : -ENOENT;

	free(insns);
	return ret;
}

/* Write the per-CPU layout into prog: STEP, and the BASE and START of each
 * of its slots pieces (one for zm_rss, ZM_CPU_PIECES for zm_rss_pieces);
 * slots past t->npieces start past every CPU. */
static int patch_layout(struct tracer *t, struct bpf_program *prog, int slots)
{
	static const uint64_t bases[ZM_CPU_PIECES] = { ZM_PATCH_CPU_BASE, ZM_PATCH_CPU_BASE1,
						       ZM_PATCH_CPU_BASE2, ZM_PATCH_CPU_BASE3 };
	static const uint64_t starts[ZM_CPU_PIECES] = { 0, ZM_PATCH_CPU_START1,
							ZM_PATCH_CPU_START2,
							ZM_PATCH_CPU_START3 };
	const struct percpu_pieces *pc = &t->pieces;
	int ret;

	if (t->npieces < 1 || t->npieces > slots)
		return -EINVAL;
	if ((ret = patch_imm64(prog, ZM_PATCH_CPU_STEP, pc->step)))
		return ret;
	for (int k = 0; k < slots; k++) {
		bool used = k < t->npieces;

		if ((ret = patch_imm64(prog, bases[k], used ? pc->base[k] : 0)) ||
		    (k && (ret = patch_imm64(prog, starts[k], used ? pc->start[k] : UINT64_MAX))))
			return ret;
	}
	return 0;
}

/* The rss_stat program for t->rss_path, its per-CPU layout patched in. */
static int pick_rss_program(struct tracer *t, bool on)
{
	struct zmtrace_bpf *sk = t->skel;
	enum rss_path p = t->rss_path;

	bpf_program__set_autoload(sk->progs.zm_rss, on && p == RSS_PATH_LINEAR);
	bpf_program__set_autoload(sk->progs.zm_rss_pieces, on && p == RSS_PATH_PIECES);
	bpf_program__set_autoload(sk->progs.zm_rss_table, on && p == RSS_PATH_TABLE);
	bpf_program__set_autoload(sk->progs.zm_rss_every,
				  on && (p == RSS_PATH_EVERY || p == RSS_PATH_SHARED));
	if (on && p == RSS_PATH_LINEAR)
		return patch_layout(t, sk->progs.zm_rss, 1);
	if (on && p == RSS_PATH_PIECES)
		return patch_layout(t, sk->progs.zm_rss_pieces, ZM_CPU_PIECES);
	return 0;
}

/* After load: each CPU's offset into cpu_off, for the exact sums. */
static int fill_cpu_offsets(struct tracer *t)
{
	for (int i = 0; t->cpu_offs && t->rss_path != RSS_PATH_SHARED && i < t->ncpus; i++) {
		uint32_t cpu = (uint32_t)i;
		int ret = bpf_map__update_elem(t->skel->maps.cpu_off, &cpu, sizeof(cpu),
					       &t->cpu_offs[i], sizeof(t->cpu_offs[i]), BPF_ANY);

		if (ret)
			return ret;
	}
	return 0;
}

/* Open and load the skeleton; -EAGAIN when only the group_dead exit
 * program failed (an older kernel), else 0 or -errno with err set. */
static int open_and_load(struct tracer *t, const struct tracer_opts *o, bool legacy_exit,
			 char *err, size_t errlen)
{
	zmtrace_bpf__destroy(t->skel);
	memset(&failure, 0, sizeof(failure));
	/* CO-RE looks for types this kernel lacks (the pre-6.2 mm counters)
	 * in module BTFs too, and listing those needs CAP_SYS_ADMIN: without
	 * it, name the kernel's BTF explicitly, which keeps the search there
	 * (at the price of parsing it once more). */
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .btf_custom_path = t->no_sys_admin ? "/sys/kernel/btf/vmlinux" : NULL);

	t->skel = zmtrace_bpf__open_opts(&opts);
	if (!t->skel) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return ret;
	}
	t->skel->rodata->filter_mode = o->filter;
	memcpy((char *)t->skel->rodata->filter_comm, o->comm, ZM_COMM_LEN);
	t->skel->rodata->emit_lifecycle = o->lifecycle;
	t->skel->rodata->track_rss = o->rss;
	t->skel->rodata->track_zombies = o->zombies;
	t->skel->rodata->test_old_exit = getenv("ZMTRACE_TEST_OLD_EXIT") != NULL;
	long page = sysconf(_SC_PAGESIZE);

	t->skel->rodata->page_shift = (uint32_t)__builtin_ctzl(page > 0 ? (unsigned long)page : 4096);
	t->skel->rodata->rss_threshold_pages =
		o->rss_threshold ? (o->rss_threshold + (uint64_t)page - 1) / (uint64_t)page : 256;
	bool exact = t->cpu_offs && t->rss_path != RSS_PATH_SHARED;

	t->skel->rodata->ncpus = exact ? (uint32_t)t->ncpus : 0;
	bpf_map__set_max_entries(t->skel->maps.cpu_off, exact ? (uint32_t)t->ncpus : 1);
	if (pick_rss_program(t, o->rss && !o->sample_hz)) {
		t->rss_path = RSS_PATH_TABLE; /* (cannot fail) */
		pick_rss_program(t, o->rss && !o->sample_hz);
	}
	bpf_program__set_autoload(t->skel->progs.zm_sample, o->rss && o->sample_hz);
	bpf_program__set_autoload(t->skel->progs.zm_oom, o->rss && !(t->disabled & DIS_OOM));
	bpf_program__set_autoload(t->skel->progs.zm_rename, o->rss && o->filter == ZM_FILTER_COMM);
	bpf_map__set_max_entries(t->skel->maps.events,
				 o->ringbuf_bytes ? (uint32_t)o->ringbuf_bytes : 4u << 20);
	bpf_program__set_autoload(t->skel->progs.zm_exit, !legacy_exit);
	bpf_program__set_autoload(t->skel->progs.zm_exit_legacy, legacy_exit);
	bpf_program__set_autoload(t->skel->progs.zm_free, o->zombies);
	bpf_program__set_autoload(t->skel->progs.zm_signal, o->zombies);
	/* fork: following a pid tree, fresh memory slots, lifecycle events;
	 * exec: memory at exec, lifecycle events. Otherwise not attached. */
	bpf_program__set_autoload(t->skel->progs.zm_fork,
				  o->filter == ZM_FILTER_FOLLOW || o->rss || o->lifecycle);
	bpf_program__set_autoload(t->skel->progs.zm_exec, o->rss || o->lifecycle);
	if (!t->exact_reaps || !o->zombies) {
		bpf_program__set_autoload(t->skel->progs.zm_wait4_exit, false);
		bpf_program__set_autoload(t->skel->progs.zm_waitid_enter, false);
		bpf_program__set_autoload(t->skel->progs.zm_waitid_exit, false);
	}
	int ret = zmtrace_bpf__load(t->skel);

	if (!ret) {
		if ((ret = fill_cpu_offsets(t)))
			snprintf(err, errlen, "cannot fill the per-CPU offsets map: %s",
				 strerror(-ret));
		return ret;
	}
	struct bpf_program *failed = failed_program(t);

	if (!legacy_exit && failed == t->skel->progs.zm_exit)
		return -EAGAIN;
	/* The per-CPU reads (loads through untrusted pointers) are the newest
	 * thing the memory programs ask of the verifier: whichever other
	 * program a kernel refuses, try without them. Every rss_stat event
	 * then takes the slot path, and figures are the shared counts. */
	if (o->rss && t->rss_path != RSS_PATH_SHARED && failed != t->skel->progs.zm_oom) {
		t->rss_path = RSS_PATH_SHARED;
		warn_shared(t);
		return -EAGAIN;
	}
	/* mark_victim(task, uid) is 6.6's: older kernels lose OOM events only. */
	if (failed == t->skel->progs.zm_oom && !(t->disabled & DIS_OOM)) {
		t->disabled |= DIS_OOM;
		warn(t, "OOM kills are not traced: this kernel's mark_victim tracepoint is not the "
			"expected (task, uid) one");
		return -EAGAIN;
	}
	name_failed_program(t, ret, err, errlen);
	return ret;
}

/*
 * How the rss_stat program takes its events: with the per-CPU offsets
 * found, "linear" when they are BASE + cpu * STEP (one group of CPUs),
 * "pieces" when up to four such groups describe them (NUMA nodes), else
 * "table"; without them (a kernel that cannot run the finding
 * program), "shared": every event looks at its slot, figures are the
 * shared counts. For tests, ZMTRACE_RSS_PATH names one.
 */
static void choose_rss_path(struct tracer *t)
{
	const char *want = getenv("ZMTRACE_RSS_PATH");

	if (want && !*want)
		want = NULL;

	if (percpu_offsets(&t->cpu_offs, &t->ncpus)) {
		t->rss_path = RSS_PATH_SHARED;
		if (!want)
			warn_shared(t);
	} else {
		t->npieces = percpu_split(t->cpu_offs, t->ncpus, ZM_CPU_PIECES, &t->pieces);
		t->rss_path = t->npieces == 1 ? RSS_PATH_LINEAR :
			      t->npieces     ? RSS_PATH_PIECES :
					       RSS_PATH_TABLE;
	}
	if (!want)
		return;
	if (!strcmp(want, "pieces") && t->npieces == 1 && t->ncpus <= ZM_CPU_PIECES) {
		/* Tests, on a machine with one group: a piece per CPU. */
		for (int i = 0; i < t->ncpus; i++) {
			t->pieces.start[i] = (uint64_t)i;
			t->pieces.base[i] = t->pieces.base[0];
		}
		t->npieces = t->ncpus;
		t->rss_path = RSS_PATH_PIECES;
		return;
	}
	for (int p = 0; p <= RSS_PATH_SHARED; p++)
		if (!strcmp(want, rss_path_names[p]) && (t->cpu_offs || p == RSS_PATH_SHARED) &&
		    (p != RSS_PATH_LINEAR || t->npieces == 1) &&
		    (p != RSS_PATH_PIECES || t->npieces)) {
			t->rss_path = (enum rss_path)p;
			return;
		}
	char w[160];

	snprintf(w, sizeof(w), "ZMTRACE_RSS_PATH=%.32s cannot be taken here: path %s", want,
		 rss_path_names[t->rss_path]);
	warn(t, w);
}

int tracer_open(struct tracer **out, const struct tracer_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	uint64_t caps = effective_caps();

	if (!has_caps(caps)) {
		snprintf(err, errlen, "permission denied: run as root (or with CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); "
			 "zmtrace needs CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
		return -ENOTSUP;
	}
	libbpf_verbose = o->verbose;
	libbpf_set_print(libbpf_print);

	struct tracer *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->on_event = o->on_event;
	t->ctx = o->ctx;
	t->no_sys_admin = !(caps >> CAP_SYS_ADMIN_BIT & 1);
	int ret;
	const char *why = o->zombies ? prepare_tracefs() : NULL;

	t->exact_reaps = o->zombies && !why;
	if (why) {
		char w[256];

		snprintf(w, sizeof(w),
			 "wait4/waitid tracepoints unavailable (tracefs: %s): reaps are seen when the "
			 "process is freed, zombie times are upper bounds", why);
		warn(t, w);
	}
	/* sched_process_exit(p, group_dead) is 6.16's; older kernels refuse
	 * that program, and get the one that reads signal->live instead.
	 * (Trying is cheaper than parsing the kernel's BTF once more.)
	 * For tests: ZMTRACE_LEGACY_EXIT=1 takes the older way at once, and
	 * ZMTRACE_TEST_OLD_EXIT=1 makes the newer program fail to load as it
	 * would on an older kernel. */
	bool legacy = getenv("ZMTRACE_LEGACY_EXIT") != NULL;

	if (o->rss)
		choose_rss_path(t);
	ret = -EAGAIN;
	for (int tries = 0; tries < 5 && ret == -EAGAIN; tries++) {
		unsigned before = t->disabled;
		enum rss_path path = t->rss_path;

		ret = open_and_load(t, o, legacy, err, errlen);
		if (ret == -EAGAIN && t->disabled == before && t->rss_path == path)
			legacy = true; /* it was the exit program */
	}
	if (ret == -EAGAIN)
		name_failed_program(t, ret, err, errlen);
	if (ret)
		goto fail;
	ret = zmtrace_bpf__attach(t->skel);
	if (ret) {
		snprintf(err, errlen, "cannot attach the BPF programs: %s%s%s", strerror(-ret),
			 failure.last[0] ? ": " : "", failure.last);
		goto fail;
	}
	if (o->rss && o->sample_hz && (ret = attach_sampling(t, o->sample_hz, err, errlen)))
		goto fail;
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
	for (int i = 0; i < t->nsample_links; i++)
		bpf_link__destroy(t->sample_links[i]); /* closes the perf event too */
	free(t->sample_links);
	free(t->cpu_offs);
	zmtrace_bpf__destroy(t->skel);
	/* tracefs stays mounted, as perf and systemd leave it: unmounting
	 * could pull it from under another tool starting meanwhile. */
	free(t);
}

const char *tracer_warning(const struct tracer *t)
{
	return t->warning[0] ? t->warning : NULL;
}

const char *tracer_rss_path(const struct tracer *t)
{
	return rss_path_names[t->rss_path];
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
