/* Output modules for the zombie records: human text and JSON Lines. */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const via_name[] = {
	[ZM_VIA_WAIT4] = "wait4",
	[ZM_VIA_WAITID] = "waitid",
	[ZM_VIA_FREE] = "free",
};

static const char *via_str(enum zm_reap_via v)
{
	return v >= ZM_VIA_WAIT4 && v <= ZM_VIA_FREE ? via_name[v] : "unknown";
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };

	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_str(FILE *f, const char *str, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strnlen(str, maxlen);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else {
			size_t len = utf8_len(s + i, n - i);

			if (len) {
				fwrite(s + i, 1, len, f);
				i += len;
			} else {
				fputs("\\ufffd", f);
				i++;
			}
		}
	}
	fputc('"', f);
}

static void json_key_str(FILE *f, const char *key, const char *val)
{
	fprintf(f, ",\"%s\":", key);
	json_str(f, val, ZM_COMM_LEN);
}

void out_printable(char dst[ZM_COMM_LEN], const char *src)
{
	size_t i = 0;

	for (; i < ZM_COMM_LEN - 1 && src[i]; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = 0;
}

/* TIME EVENT PID COMM PPID PARENT take 64 columns; INFO has the rest of 80. */
#define INFO_WIDTH (80 - 64)
/* The text summary ranks this many parents. */
#define TEXT_PARENTS 20
/* Unreaped zombies listed in the summary: text, JSON. */
#define TEXT_UNREAPED 10
#define JSON_UNREAPED 1000

static void text_header(struct out *o)
{
	if (o->header_done)
		return;
	o->header_done = true;
	fprintf(o->f, "%-8s %-6s %7s %-15s %7s %-15s %s\n", "TIME", "EVENT", "PID", "COMM",
		"PPID", "PARENT", "INFO");
}

/* The wait status as words: "exit 3", "killed SIGKILL", "SIGSEGV core". */
static void status_str(char *buf, size_t len, uint32_t status)
{
	unsigned sig = status & 0x7f;

	if (!sig)
		snprintf(buf, len, "exit %u", (status >> 8) & 0xff);
	else
		snprintf(buf, len, "SIG%s%s", sigabbrev_np((int)sig) ? sigabbrev_np((int)sig) : "?",
			 status & 0x80 ? " core" : "");
}

void out_zombie(struct out *o, const struct zs_zombie *z)
{
	unsigned sig = z->status & 0x7f;

	if (o->json) {
		fprintf(o->f, "{\"event\":\"zombie\",\"ts_ns\":%" PRIu64 ",\"pid\":%u", z->exit_ns,
			z->pid);
		json_key_str(o->f, "comm", z->comm);
		fprintf(o->f, ",\"ppid\":%u", z->ppid);
		json_key_str(o->f, "parent_comm", z->pcomm);
		fprintf(o->f,
			",\"exit_code\":%u,\"signal\":%u,\"core_dumped\":%s,\"preexisting\":%s}\n",
			sig ? 0 : (z->status >> 8) & 0xff, sig, z->status & 0x80 ? "true" : "false",
			z->preexisting ? "true" : "false");
		return;
	}
	char when[32], comm[ZM_COMM_LEN], pcomm[ZM_COMM_LEN], info[40];

	text_header(o);
	fmt_clock_at(when, 9, z->exit_ns, o->boot_wall_ns); /* 9: HH:MM:SS only */
	out_printable(comm, z->comm);
	out_printable(pcomm, z->pcomm);
	if (z->preexisting)
		snprintf(info, sizeof(info), "already a zombie");
	else
		status_str(info, sizeof(info), z->status);
	fprintf(o->f, "%-8s %-6s %7u %-15s %7u %-15s %s\n", when, "ZOMBIE", z->pid, comm, z->ppid,
		pcomm, info);
}

/*
 * A reparented reap's INFO names the reaper within INFO_WIDTH: " by PID
 * COMM", the comm shortened to the room left (left out when fewer than 3
 * characters fit); when even
 * " by PID" does not fit (a 7-digit pid after a 6-character time),
 * " orphan": the zombie outlived its parent and was reaped by the process
 * that adopted it (the JSON has the reaper).
 */
static void append_reaper(char *info, size_t size, uint32_t pid, const char *comm)
{
	size_t len = strlen(info);
	char by[16];
	size_t n = (size_t)snprintf(by, sizeof(by), " by %u", pid);

	if (len + n > INFO_WIDTH) {
		snprintf(info + len, size - len, " orphan");
		return;
	}
	size_t room = INFO_WIDTH - len - n; /* for " COMM" */

	/* Fewer than 3 characters of a longer name would say nothing. */
	if (comm[0] && (strlen(comm) < room || room >= 4))
		snprintf(info + len, size - len, "%s %.*s", by, (int)(room - 1), comm);
	else
		snprintf(info + len, size - len, "%s", by);
}

void out_reap(struct out *o, const struct zs_reap *r)
{
	const struct zs_zombie *z = r->z;

	if (o->json) {
		fprintf(o->f, "{\"event\":\"reap\",\"ts_ns\":%" PRIu64 ",\"pid\":%u", r->ts_ns, z->pid);
		json_key_str(o->f, "comm", z->comm);
		fprintf(o->f, ",\"ppid\":%u", z->ppid);
		json_key_str(o->f, "parent_comm", z->pcomm);
		fprintf(o->f, ",\"reaper_pid\":%u", r->reaper_pid);
		json_key_str(o->f, "reaper_comm", r->reaper_comm);
		fprintf(o->f,
			",\"zombie_ns\":%" PRIu64 ",\"reparented\":%s,\"via\":\"%s\","
			"\"preexisting\":%s,\"exit_seen\":%s}\n",
			r->zombie_ns, r->reparented ? "true" : "false", via_str(r->via),
			z->preexisting ? "true" : "false", r->exit_unseen ? "false" : "true");
		return;
	}
	char when[32], comm[ZM_COMM_LEN], pcomm[ZM_COMM_LEN], rcomm[ZM_COMM_LEN], dur[16];
	char info[64];

	text_header(o);
	fmt_clock_at(when, 9, r->ts_ns, o->boot_wall_ns); /* 9: HH:MM:SS only */
	out_printable(comm, z->comm);
	out_printable(pcomm, z->pcomm);
	out_printable(rcomm, r->reaper_comm);
	fmt_duration(dur, sizeof(dur), r->zombie_ns);
	/* ">=": a lower bound (zombie before we started) or "<=": an upper
	 * bound (seen only when freed). */
	const char *bound = z->preexisting ? ">" : r->via == ZM_VIA_FREE ? "<" : "";

	snprintf(info, sizeof(info), "%s%s", bound, dur);
	if (r->reparented)
		append_reaper(info, sizeof(info), r->reaper_pid, rcomm);
	fprintf(o->f, "%-8s %-6s %7u %-15s %7u %-15s %s\n", when, "REAP", z->pid, comm, z->ppid,
		pcomm, info);
}

/* The zombies still unreaped at the end, oldest first. */
struct unreaped {
	const struct zs_zombie **v;
	size_t n, cap;
	bool nomem;
};

static void add_unreaped(void *ctx, const struct zs_zombie *z)
{
	struct unreaped *u = ctx;

	if (u->nomem)
		return;
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		const struct zs_zombie **v = realloc(u->v, cap * sizeof(*v));

		if (!v) {
			u->nomem = true;
			return;
		}
		u->v = v;
		u->cap = cap;
	}
	u->v[u->n++] = z;
}

static int by_age(const void *a, const void *b)
{
	const struct zs_zombie *x = *(const struct zs_zombie *const *)a;
	const struct zs_zombie *y = *(const struct zs_zombie *const *)b;

	if (x->exit_ns != y->exit_ns)
		return x->exit_ns < y->exit_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static uint64_t age(const struct zs_zombie *z, uint64_t end_ns)
{
	return end_ns > z->exit_ns ? end_ns - z->exit_ns : 0;
}

static void json_unreaped(FILE *f, const struct unreaped *u, uint64_t end_ns)
{
	fprintf(f, ",\"unreaped_total\":%zu,\"unreaped\":[", u->n);
	for (size_t i = 0; i < u->n && i < JSON_UNREAPED; i++) {
		const struct zs_zombie *z = u->v[i];

		fprintf(f, "%s{\"pid\":%u", i ? "," : "", z->pid);
		json_key_str(f, "comm", z->comm);
		fprintf(f, ",\"ppid\":%u", z->ppid);
		json_key_str(f, "parent_comm", z->pcomm);
		fprintf(f, ",\"zombie_ns\":%" PRIu64 ",\"preexisting\":%s}", age(z, end_ns),
			z->preexisting ? "true" : "false");
	}
	fputc(']', f);
}

static void text_unreaped(FILE *f, const struct unreaped *u, uint64_t end_ns)
{
	if (!u->n)
		return;
	fprintf(f, "\nStill zombies:\n%7s %-15s %7s %-15s %s\n", "PID", "COMM", "PPID", "PARENT",
		"AGE");
	for (size_t i = 0; i < u->n && i < TEXT_UNREAPED; i++) {
		const struct zs_zombie *z = u->v[i];
		char comm[ZM_COMM_LEN], pcomm[ZM_COMM_LEN], dur[16];

		out_printable(comm, z->comm);
		out_printable(pcomm, z->pcomm);
		fmt_duration(dur, sizeof(dur), age(z, end_ns));
		/* ">": a lower bound, it was a zombie before we started. */
		fprintf(f, "%7u %-15s %7u %-15s %s%s\n", z->pid, comm, z->ppid, pcomm,
			z->preexisting ? ">" : "", dur);
	}
	if (u->n > TEXT_UNREAPED)
		fprintf(f, "... %zu more (--json lists up to %d)\n", u->n - TEXT_UNREAPED,
			JSON_UNREAPED);
}

int out_text_unreaped(FILE *f, const struct zstate *s, uint64_t end_ns)
{
	struct unreaped u = { 0 };

	zs_each_zombie(s, add_unreaped, &u);
	if (u.nomem) {
		free(u.v);
		return -ENOMEM;
	}
	if (u.n > 1)
		qsort(u.v, u.n, sizeof(*u.v), by_age);
	text_unreaped(f, &u, end_ns);
	free(u.v);
	return 0;
}

int out_summary(struct out *o, const struct zstate *s, const struct out_totals *t)
{
	struct zs_parent_stat *ps;
	long n = zs_parents(s, &ps);
	const struct zs_counters *c = zs_counters(s);
	struct unreaped u = { 0 };
	uint64_t end_ns = t->end_ns ? t->end_ns : now_boot_ns();

	if (n < 0)
		return -ENOMEM;
	zs_each_zombie(s, add_unreaped, &u);
	if (u.nomem) {
		free(u.v);
		free(ps);
		return -ENOMEM;
	}
	if (u.n > 1)
		qsort(u.v, u.n, sizeof(*u.v), by_age);
	if (o->json) {
		fprintf(o->f, "{\"event\":\"summary\",\"parents\":[");
		for (long i = 0; i < n; i++) {
			fprintf(o->f, "%s{\"pid\":%u", i ? "," : "", ps[i].pid);
			json_key_str(o->f, "comm", ps[i].comm);
			fprintf(o->f,
				",\"zombies\":%" PRIu64 ",\"unreaped\":%" PRIu64
				",\"zombie_ns_max\":%" PRIu64 ",\"zombie_ns_p50\":%" PRIu64
				",\"zombie_ns_p99\":%" PRIu64 "}",
				ps[i].zombies, ps[i].unreaped, ps[i].zombie_ns_max,
				ps[i].zombie_ns_p50, ps[i].zombie_ns_p99);
		}
		fprintf(o->f,
			"],\"zombies\":%" PRIu64 ",\"reaps\":%" PRIu64 ",\"autoreaped\":%" PRIu64
			",\"lost_events\":%" PRIu64 ",\"untracked\":%" PRIu64
			",\"reaps_without_exit\":%" PRIu64 ",\"parents_evicted\":%" PRIu64
			",\"exact_reaps\":%s",
			c->zombies, c->reaps, c->autoreaped, t->lost_ringbuf, t->untracked,
			c->reaps_without_exit, c->parents_evicted, t->exact_reaps ? "true" : "false");
		json_unreaped(o->f, &u, end_ns);
		fputs("}\n", o->f);
		free(u.v);
		free(ps);
		return 0;
	}
	fprintf(o->f, "\n%" PRIu64 " zombie%s, %" PRIu64 " reaped", c->zombies,
		c->zombies == 1 ? "" : "s", c->reaps);
	if (c->autoreaped)
		fprintf(o->f, ", %" PRIu64 " children reaped automatically", c->autoreaped);
	fprintf(o->f, ".\n");
	if (n) {
		fprintf(o->f, "\n%7s %-15s %8s %8s %8s %8s %8s\n", "PID", "PARENT", "ZOMBIES",
			"UNREAPED", "MAX", "P50", "P99");
		for (long i = 0; i < n && i < TEXT_PARENTS; i++) {
			char comm[ZM_COMM_LEN], mx[16] = "-", p50[16] = "-", p99[16] = "-";

			out_printable(comm, ps[i].comm);
			if (ps[i].zombies > ps[i].unreaped) {
				fmt_duration(mx, sizeof(mx), ps[i].zombie_ns_max);
				fmt_duration(p50, sizeof(p50), ps[i].zombie_ns_p50);
				fmt_duration(p99, sizeof(p99), ps[i].zombie_ns_p99);
			}
			fprintf(o->f, "%7u %-15s %8" PRIu64 " %8" PRIu64 " %8s %8s %8s\n", ps[i].pid,
				comm, ps[i].zombies, ps[i].unreaped, mx, p50, p99);
		}
	}
	if (n > TEXT_PARENTS)
		fprintf(o->f, "(%ld more parents; --json lists all)\n", n - TEXT_PARENTS);
	text_unreaped(o->f, &u, end_ns);
	if (t->lost_ringbuf || t->untracked)
		fprintf(o->f, "\nWARNING: %" PRIu64 " events lost (ring buffer full), %" PRIu64
			" processes untracked (maps full): counts are low.\n",
			t->lost_ringbuf, t->untracked);
	if (!t->exact_reaps)
		fprintf(o->f, "NOTE: wait syscalls were not traced: zombie times are upper bounds.\n");
	free(u.v);
	free(ps);
	return 0;
}

int out_write_error(int err)
{
	static bool reported;

	if (err == EPIPE)
		return -EPIPE;
	if (!reported)
		fprintf(stderr, "zmtrace: writing output: %s\n", strerror(err ? err : EIO));
	reported = true;
	return -EIO;
}

int out_check(FILE *f)
{
	if (!ferror(f))
		return 0;
	/* The failed write(2) left its errno; a flush retries what is left. */
	int err = errno;

	if (fflush(f) == EOF)
		err = errno;
	return out_write_error(err);
}
