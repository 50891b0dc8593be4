/*
 * A capture as a trace in the Chrome JSON trace format, which
 * ui.perfetto.dev (and chrome://tracing) opens: each process a track, its
 * life as slices (named by its command, a new slice at each exec, then
 * "zombie" from exit to reap), its memory as counters ("memory (KiB) rss",
 * "... vsize"), a parent's unreaped zombies as a counter on the parent's
 * track, OOM kills as instant events, and system memory on a track of its
 * own. Written as the capture is read; only the processes alive at the time
 * are remembered.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "output.h"
#include "report.h"
#include "util.h"

/* The system memory track's pid: above any real one (pid_max <= 2^22). */
#define SYSTEM_PID 2147483647

enum life { L_NONE, L_RUNNING, L_ZOMBIE };

struct proc {
	enum life life;
	char comm[ZM_COMM_LEN]; /* the name given to its track */
};

struct trace {
	FILE *f;
	struct model *m;
	struct hashmap procs; /* pid -> struct proc: a slice is open */
	bool first;	      /* no event written yet */
	bool nomem;
};

/* An event's start; name: a comm or one of ours (all shorter than 64). */
static void head(struct trace *t, const char *ph, const char *name, uint32_t pid, uint64_t ts)
{
	fprintf(t->f, "%s\n{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%" PRIu64 ".%03u,\"name\":",
		t->first ? "" : ",", ph, pid, pid, ts / 1000, (unsigned)(ts % 1000));
	json_str(t->f, name, 64);
	t->first = false;
}

static void put_name(struct trace *t, uint32_t pid, const char *comm)
{
	fprintf(t->f, "%s\n{\"ph\":\"M\",\"pid\":%u,\"name\":\"process_name\",\"args\":{\"name\":",
		t->first ? "" : ",", pid);
	json_str(t->f, comm, ZM_COMM_LEN);
	fprintf(t->f, "}}");
	t->first = false;
}

static struct proc *proc_of(struct trace *t, uint32_t pid)
{
	struct proc *p = hm_get(&t->procs, pid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p || hm_put(&t->procs, pid, p)) {
		free(p);
		t->nomem = true;
		return NULL;
	}
	return p;
}

/* Name pid's track, or name it again when its command changed (exec,
 * prctl(PR_SET_NAME): the events carry the name). */
static void name_process(struct trace *t, uint32_t pid, const char *comm)
{
	struct proc *p = proc_of(t, pid);

	if (!p || !strncmp(p->comm, comm, ZM_COMM_LEN - 1))
		return;
	copy_comm(p->comm, comm);
	put_name(t, pid, comm);
}

/* End whatever slice pid has open. */
static void close_slice(struct trace *t, struct proc *p, uint32_t pid, uint64_t ts)
{
	if (p->life == L_NONE)
		return;
	head(t, "E", "", pid, ts);
	fputs("}", t->f);
	p->life = L_NONE;
}

static void open_slice(struct trace *t, uint32_t pid, uint64_t ts, const char *name,
		       enum life life)
{
	struct proc *p = proc_of(t, pid);

	if (!p)
		return;
	close_slice(t, p, pid, ts);
	head(t, "B", name, pid, ts);
	fputs("}", t->f);
	p->life = life;
}

static void counter_mem(struct trace *t, const struct zm_mem_event *e)
{
	name_process(t, e->pid, e->comm);
	head(t, "C", "memory (KiB)", e->pid, e->ts_ns);
	fprintf(t->f, ",\"args\":{\"rss\":%" PRIu64 ",\"vsize\":%" PRIu64 ",\"swap\":%" PRIu64 "}}",
		(uint64_t)(e->anon_kb + e->file_kb + e->shmem_kb), (uint64_t)e->vsize_kb,
		(uint64_t)e->swap_kb);
}

static int trace_rec(void *ctx, const struct rec *r)
{
	struct trace *t = ctx;

	switch (r->type) {
	case ZM_EV_FORK:
		name_process(t, r->ev.pid, r->ev.comm);
		open_slice(t, r->ev.pid, r->ev.ts_ns, r->ev.comm, L_RUNNING);
		break;
	case ZM_EV_EXEC:
		name_process(t, r->ev.pid, r->ev.comm);
		open_slice(t, r->ev.pid, r->ev.ts_ns, r->ev.comm, L_RUNNING);
		break;
	case ZM_EV_EXIT: {
		struct proc *p = proc_of(t, r->ev.pid);

		if (!p)
			break;
		name_process(t, r->ev.pid, r->ev.comm);
		if (r->ev.flags & ZM_F_AUTOREAP) {
			close_slice(t, p, r->ev.pid, r->ev.ts_ns);
			hm_del(&t->procs, r->ev.pid);
			free(p);
		} else {
			open_slice(t, r->ev.pid, r->ev.ts_ns, "zombie", L_ZOMBIE);
		}
		break;
	}
	case ZM_EV_REAP: {
		struct proc *p = hm_del(&t->procs, r->ev.pid);

		if (p) {
			close_slice(t, p, r->ev.pid, r->ev.ts_ns);
			free(p);
		}
		break;
	}
	case ZM_EV_RSS:
		counter_mem(t, &r->mem);
		break;
	case ZM_EV_OOM:
		counter_mem(t, &r->mem);
		head(t, "i", "OOM kill", r->mem.pid, r->mem.ts_ns);
		fputs(",\"s\":\"p\"}", t->f);
		break;
	case REC_PROC:
		name_process(t, r->proc.mem.pid, r->proc.mem.comm);
		open_slice(t, r->proc.mem.pid, r->proc.mem.ts_ns, r->proc.mem.comm, L_RUNNING);
		if (r->proc.has_mem)
			counter_mem(t, &r->proc.mem);
		break;
	case REC_ZOMBIE:
		name_process(t, r->zombie.pid, r->zombie.comm);
		open_slice(t, r->zombie.pid, r->zombie.exit_ns, "zombie", L_ZOMBIE);
		break;
	case REC_SYSMEM:
		head(t, "C", "system memory (KiB)", SYSTEM_PID, r->sys.ts_ns);
		fprintf(t->f,
			",\"args\":{\"used\":%" PRIu64 ",\"used minus buffers and cache\":%" PRIu64
			",\"swap used\":%" PRIu64 "}}",
			r->sys.used_kb, r->sys.app_kb, r->sys.swap_used_kb);
		break;
	}
	return t->nomem ? -ENOMEM : 0;
}

/* A parent's unreaped zombies, after each change (the model has counted
 * it before telling us). */
static void unreaped(struct trace *t, uint32_t ppid, uint64_t pstart, uint64_t ts)
{
	const struct model_parent *p = model_parent(t->m, ppid, pstart);

	if (!p)
		return;
	head(t, "C", "unreaped zombies", ppid, ts);
	fprintf(t->f, ",\"args\":{\"count\":%u}}", p->unreaped);
}

static void trace_zombie(void *ctx, const struct zs_zombie *z)
{
	unreaped(ctx, z->ppid, z->pstart_ns, z->exit_ns);
}

static void trace_reap(void *ctx, const struct zs_reap *r)
{
	if (!r->exit_unseen)
		unreaped(ctx, r->z->ppid, r->z->pstart_ns, r->ts_ns);
}

static void trace_drop(void *ctx, const struct zs_zombie *z, uint64_t ts)
{
	unreaped(ctx, z->ppid, z->pstart_ns, ts);
}

int report_perfetto(const char *path, FILE *out)
{
	struct model m;
	struct trace t = { .f = out, .m = &m, .first = true };
	struct model_observer obs = {
		.ctx = &t, .rec = trace_rec, .zombie = trace_zombie, .reap = trace_reap,
		.drop = trace_drop,
	};

	if (hm_init(&t.procs) || model_init(&m, &obs)) {
		hm_destroy(&t.procs);
		return -1;
	}
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", out);
	put_name(&t, SYSTEM_PID, "system memory");
	int read = model_read(&m, path);
	uint64_t end = model_end_ns(&m);
	size_t b;

	/* Close what is still open at the end, and free it. */
	for (struct hm_entry *e = hm_first(&t.procs, &b); e; e = hm_next(&t.procs, e, &b)) {
		close_slice(&t, e->val, (uint32_t)e->key, end);
		free(e->val);
	}
	hm_destroy(&t.procs);
	fprintf(out, "\n],\"metadata\":{\"zmtrace-capture\":");
	json_str(out, path, 4096);
	fprintf(out, ",\"host\":");
	json_str(out, m.hdr.host, sizeof(m.hdr.host));
	fprintf(out, ",\"complete\":%s}}\n", m.has_end && !m.stop ? "true" : "false");
	if (t.nomem && read >= 0) {
		fprintf(stderr, "zmtrace: out of memory\n");
		read = -1;
	}
	int ret = report_finish(path, &m, read);

	model_free(&m);
	return ret;
}
