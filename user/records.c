/* Capture records and their encoding: see records.h. */
#include "records.h"

#include <string.h>

/* ------------------------------------------------------------ primitives */

static uint8_t *put_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A signed difference (wrapping: any two u64 have one) as a small varint. */
static uint8_t *put_sv(uint8_t *p, uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b);

	return put_uv(p, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

struct in {
	const uint8_t *p, *end;
	const char *why; /* the first damage seen */
};

static uint64_t get_uv(struct in *in)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (in->p >= in->end) {
			in->why = in->why ? in->why : "record cut short";
			return 0;
		}
		uint8_t b = *in->p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	in->why = in->why ? in->why : "number too long";
	return 0;
}

/* b + the signed difference stored. */
static uint64_t get_sv(struct in *in, uint64_t b)
{
	uint64_t z = get_uv(in);

	return b + ((z >> 1) ^ -(z & 1));
}

static uint32_t get_u32(struct in *in)
{
	uint64_t v = get_uv(in);

	if (v > UINT32_MAX)
		in->why = in->why ? in->why : "number out of range";
	return (uint32_t)v;
}

/* A pid or tgid stored as a difference from another. */
static uint32_t get_sv32(struct in *in, uint32_t b)
{
	return (uint32_t)get_sv(in, b);
}

static uint8_t *put_bytes(uint8_t *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	p = put_uv(p, n);
	memcpy(p, s, n);
	return p + n;
}

static void get_bytes(struct in *in, char *dst, size_t size)
{
	uint64_t n = get_uv(in);

	memset(dst, 0, size);
	if (n >= size || n > (uint64_t)(in->end - in->p)) {
		in->why = in->why ? in->why : "string too long";
		return;
	}
	memcpy(dst, in->p, n);
	in->p += n;
}

/* ------------------------------------------------------------ names */

static unsigned name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < ZM_COMM_LEN && s[i]; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h & (2 * REC_NAMES - 1);
}

/* A command name: its index + 1 in the chunk's table, or 0 and the name
 * (which the table then takes, while it has room). */
static uint8_t *put_name(struct rec_state *st, uint8_t *p, const char *s)
{
	struct rec_names *t = &st->names;
	char name[ZM_COMM_LEN] = { 0 };
	unsigned h = name_hash(s);

	memcpy(name, s, strnlen(s, ZM_COMM_LEN - 1));
	for (;; h = (h + 1) & (2 * REC_NAMES - 1)) {
		unsigned i = t->hash[h];

		if (!i)
			break;
		if (!memcmp(t->name[i - 1], name, ZM_COMM_LEN))
			return put_uv(p, i);
	}
	*p++ = 0;
	p = put_bytes(p, name, ZM_COMM_LEN - 1);
	if (t->n < REC_NAMES) {
		memcpy(t->name[t->n], name, ZM_COMM_LEN);
		t->hash[h] = (uint16_t)++t->n;
	}
	return p;
}

static void get_name(struct rec_state *st, struct in *in, char dst[ZM_COMM_LEN])
{
	struct rec_names *t = &st->names;
	uint64_t i = get_uv(in);

	if (i) {
		if (i > t->n) {
			in->why = in->why ? in->why : "unknown name index";
			memset(dst, 0, ZM_COMM_LEN);
			return;
		}
		memcpy(dst, t->name[i - 1], ZM_COMM_LEN);
		return;
	}
	get_bytes(in, dst, ZM_COMM_LEN);
	if (!in->why && t->n < REC_NAMES)
		memcpy(t->name[t->n++], dst, ZM_COMM_LEN);
}

/* ------------------------------------------------------------ records */

void rec_reset(struct rec_state *st)
{
	st->ts = st->pstart = 0;
	st->pid = st->ppid = 0;
	st->names.n = 0;
	memset(st->names.hash, 0, sizeof(st->names.hash));
	for (size_t i = 0; i < REC_PID_SLOTS; i++)
		st->slot[i].has_start = st->slot[i].has_kb = false;
}

uint64_t rec_ts(const struct rec *r)
{
	switch (r->type) {
	case REC_START:
		return r->start.ts_ns;
	case REC_PROC:
		return r->proc.mem.ts_ns;
	case REC_ZOMBIE:
		return r->zombie.exit_ns;
	case REC_SYSMEM:
		return r->sys.ts_ns;
	case REC_DROPS:
	case REC_END:
		return r->drops.ts_ns;
	default:
		return r->hdr.ts_ns;
	}
}

/* Time and pid: differences from the record before. */
static uint8_t *put_when(struct rec_state *st, uint8_t *p, uint64_t ts, uint32_t pid)
{
	p = put_sv(p, ts, st->ts);
	p = put_sv(p, pid, st->pid);
	st->ts = ts;
	st->pid = pid;
	return p;
}

static void get_when(struct rec_state *st, struct in *in, uint64_t *ts, uint32_t *pid)
{
	*ts = st->ts = get_sv(in, st->ts);
	*pid = st->pid = get_sv32(in, st->pid);
}

/* The chunk's slot for pid, emptied when another pid had it. */
static struct rec_pidslot *slot_of(struct rec_state *st, uint32_t pid)
{
	struct rec_pidslot *s = &st->slot[pid % REC_PID_SLOTS];

	if (s->pid != pid) {
		s->pid = pid;
		s->has_start = s->has_kb = false;
	}
	return s;
}

/* The figures of a memory event, as differences from the last ones this
 * chunk saw for the pid (a leak's events differ by the threshold: two
 * bytes), or from zero. Encoder and decoder pick the same basis. */
static struct rec_pidslot *mem_basis(struct rec_state *st, uint32_t pid, uint64_t basis[5])
{
	struct rec_pidslot *s = slot_of(st, pid);

	if (s->has_kb)
		memcpy(basis, s->kb, sizeof(s->kb));
	else
		memset(basis, 0, 5 * sizeof(basis[0]));
	return s;
}

static void mem_keep(struct rec_pidslot *s, const uint64_t kb[5])
{
	s->has_kb = true;
	memcpy(s->kb, kb, sizeof(s->kb));
}

#define MEM_PEAKS 1u
#define MEM_ACTOR 2u

static uint8_t *put_mem(struct rec_state *st, uint8_t *p, const struct zm_mem_event *e)
{
	uint64_t kb[5] = { e->anon_kb, e->file_kb, e->shmem_kb, e->swap_kb, e->vsize_kb }, basis[5];
	uint64_t bits = (uint64_t)e->flags << 2 | (e->peak_rss_kb || e->peak_vm_kb ? MEM_PEAKS : 0) |
			(e->actor ? MEM_ACTOR : 0);
	struct rec_pidslot *s = mem_basis(st, e->pid, basis);

	p = put_uv(p, bits);
	for (int i = 0; i < 5; i++)
		p = put_sv(p, kb[i], basis[i]);
	if (bits & MEM_PEAKS) {
		p = put_sv(p, e->peak_rss_kb, e->anon_kb + e->file_kb + e->shmem_kb);
		p = put_sv(p, e->peak_vm_kb, e->vsize_kb);
	}
	if (bits & MEM_ACTOR)
		p = put_sv(p, e->actor, e->pid);
	mem_keep(s, kb);
	return put_name(st, p, e->comm);
}

static void get_mem(struct rec_state *st, struct in *in, struct zm_mem_event *e)
{
	uint64_t bits = get_uv(in), kb[5], basis[5];
	struct rec_pidslot *s = mem_basis(st, e->pid, basis);

	if (bits >> 34)
		in->why = in->why ? in->why : "bad memory flags";
	e->flags = (uint32_t)(bits >> 2);
	for (int i = 0; i < 5; i++)
		kb[i] = get_sv(in, basis[i]);
	e->anon_kb = kb[0];
	e->file_kb = kb[1];
	e->shmem_kb = kb[2];
	e->swap_kb = kb[3];
	e->vsize_kb = kb[4];
	if (bits & MEM_PEAKS) {
		e->peak_rss_kb = get_sv(in, kb[0] + kb[1] + kb[2]);
		e->peak_vm_kb = get_sv(in, kb[4]);
	}
	if (bits & MEM_ACTOR)
		e->actor = get_sv32(in, e->pid);
	mem_keep(s, kb);
	get_name(st, in, e->comm);
}

/*
 * A lifecycle event. Its start time is the one this chunk last gave the
 * pid (an exit's and a reap's are the fork's), else its own time (a
 * fork's is just before); the parent is the one before's (a parent forks
 * many); the other pid is the parent's for a fork and a reap (the reaper is
 * most often the parent), the pid's own for an exec and an exit (the thread
 * that did it).
 */
static uint64_t start_basis(struct rec_state *st, const struct zm_event *e,
			    struct rec_pidslot **slot)
{
	*slot = slot_of(st, e->pid);
	return (*slot)->has_start ? (*slot)->start : e->ts_ns;
}

static uint32_t other_basis(const struct zm_event *e)
{
	return e->type == ZM_EV_FORK || e->type == ZM_EV_REAP ? e->ppid : e->pid;
}

static uint8_t *put_event(struct rec_state *st, uint8_t *p, const struct zm_event *e)
{
	struct rec_pidslot *slot;

	p = put_sv(p, e->start_ns, start_basis(st, e, &slot));
	slot->start = e->start_ns;
	slot->has_start = true;
	/* REAP's aux is when it exited: just before; the others' is the
	 * parent's start, the same as the record before's more often than not. */
	if (e->type == ZM_EV_REAP) {
		p = put_sv(p, e->aux_ns, e->ts_ns);
	} else {
		p = put_sv(p, e->aux_ns, st->pstart);
		st->pstart = e->aux_ns;
	}
	p = put_sv(p, e->ppid, st->ppid);
	st->ppid = e->ppid;
	p = put_sv(p, e->other_pid, other_basis(e));
	p = put_uv(p, e->code);
	p = put_uv(p, e->flags);
	p = put_name(st, p, e->comm);
	return put_name(st, p, e->pcomm);
}

static void get_event(struct rec_state *st, struct in *in, struct zm_event *e)
{
	struct rec_pidslot *slot;

	e->start_ns = get_sv(in, start_basis(st, e, &slot));
	slot->start = e->start_ns;
	slot->has_start = true;
	if (e->type == ZM_EV_REAP)
		e->aux_ns = get_sv(in, e->ts_ns);
	else
		e->aux_ns = st->pstart = get_sv(in, st->pstart);
	e->ppid = st->ppid = get_sv32(in, st->ppid);
	e->other_pid = get_sv32(in, other_basis(e));
	e->code = get_u32(in);
	e->flags = get_u32(in);
	get_name(st, in, e->comm);
	get_name(st, in, e->pcomm);
}

static const size_t sys_off[] = {
	offsetof(struct sysmem, total_kb),  offsetof(struct sysmem, free_kb),
	offsetof(struct sysmem, used_kb),   offsetof(struct sysmem, buffers_kb),
	offsetof(struct sysmem, cached_kb), offsetof(struct sysmem, app_kb),
	offsetof(struct sysmem, swap_total_kb), offsetof(struct sysmem, swap_used_kb),
};

#define NSYS (sizeof(sys_off) / sizeof(sys_off[0]))

size_t rec_encode(struct rec_state *st, const struct rec *r, uint8_t *buf)
{
	uint8_t *p = buf;

	switch (r->type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		p = put_when(st, p, r->ev.ts_ns, r->ev.pid);
		p = put_event(st, p, &r->ev);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		p = put_when(st, p, r->mem.ts_ns, r->mem.pid);
		p = put_mem(st, p, &r->mem);
		break;
	case REC_START: {
		const struct rec_start *s = &r->start;

		p = put_when(st, p, s->ts_ns, s->self_pid);
		p = put_uv(p, s->flags);
		p = put_uv(p, s->threshold);
		p = put_uv(p, s->interval_ns);
		p = put_uv(p, s->sample_hz);
		p = put_bytes(p, s->rss_path, sizeof(s->rss_path) - 1);
		p = put_bytes(p, s->what, sizeof(s->what) - 1);
		break;
	}
	case REC_PROC: {
		const struct rec_proc *pr = &r->proc;

		p = put_when(st, p, pr->mem.ts_ns, pr->mem.pid);
		p = put_sv(p, pr->ppid, pr->mem.pid);
		p = put_sv(p, pr->start_ns, pr->mem.ts_ns);
		*p++ = (uint8_t)pr->state;
		*p++ = pr->has_mem;
		if (pr->has_mem)
			p = put_mem(st, p, &pr->mem);
		else
			p = put_name(st, p, pr->mem.comm);
		break;
	}
	case REC_ZOMBIE: {
		const struct zs_zombie *z = &r->zombie;

		p = put_when(st, p, z->exit_ns, z->pid);
		p = put_sv(p, z->ppid, z->pid);
		p = put_sv(p, z->start_ns, z->exit_ns);
		p = put_sv(p, z->pstart_ns, z->exit_ns);
		p = put_uv(p, z->status);
		*p++ = z->preexisting;
		p = put_name(st, p, z->comm);
		p = put_name(st, p, z->pcomm);
		break;
	}
	case REC_SYSMEM:
		p = put_when(st, p, r->sys.ts_ns, st->pid);
		for (size_t i = 0; i < NSYS; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&r->sys + sys_off[i], sizeof(v));
			p = put_uv(p, v);
		}
		break;
	case REC_GONE:
		p = put_when(st, p, r->hdr.ts_ns, r->hdr.pid);
		break;
	case REC_DROPS:
	case REC_END:
		p = put_when(st, p, r->drops.ts_ns, st->pid);
		p = put_uv(p, r->drops.ringbuf);
		p = put_uv(p, r->drops.tracked);
		break;
	}
	return (size_t)(p - buf);
}

int rec_decode(struct rec_state *st, uint8_t type, const uint8_t *data, size_t len,
	       struct rec *out, const char **why)
{
	struct in in = { .p = data, .end = data + len };
	uint32_t pid;
	uint64_t ts;

	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		get_when(st, &in, &ts, &pid);
		out->ev.ts_ns = ts;
		out->ev.pid = pid;
		out->ev.type = type;
		get_event(st, &in, &out->ev);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		get_when(st, &in, &ts, &pid);
		out->mem.ts_ns = ts;
		out->mem.pid = pid;
		out->mem.type = type;
		get_mem(st, &in, &out->mem);
		break;
	case REC_START: {
		struct rec_start *s = &out->start;

		get_when(st, &in, &s->ts_ns, &s->self_pid);
		s->flags = get_u32(&in);
		s->threshold = get_uv(&in);
		s->interval_ns = get_uv(&in);
		s->sample_hz = get_u32(&in);
		get_bytes(&in, s->rss_path, sizeof(s->rss_path));
		get_bytes(&in, s->what, sizeof(s->what));
		break;
	}
	case REC_PROC: {
		struct rec_proc *pr = &out->proc;

		get_when(st, &in, &ts, &pid);
		pr->mem.ts_ns = ts;
		pr->mem.pid = pid;
		pr->mem.type = ZM_EV_RSS;
		pr->ppid = get_sv32(&in, pid);
		pr->start_ns = get_sv(&in, ts);
		if (in.end - in.p < 2) {
			in.why = in.why ? in.why : "record cut short";
			break;
		}
		pr->state = (char)*in.p++;
		pr->has_mem = *in.p++ != 0;
		if (pr->has_mem)
			get_mem(st, &in, &pr->mem);
		else
			get_name(st, &in, pr->mem.comm);
		break;
	}
	case REC_ZOMBIE: {
		struct zs_zombie *z = &out->zombie;

		get_when(st, &in, &z->exit_ns, &z->pid);
		z->ppid = get_sv32(&in, z->pid);
		z->start_ns = get_sv(&in, z->exit_ns);
		z->pstart_ns = get_sv(&in, z->exit_ns);
		z->status = get_u32(&in);
		if (in.p >= in.end) {
			in.why = in.why ? in.why : "record cut short";
			break;
		}
		z->preexisting = *in.p++ != 0;
		get_name(st, &in, z->comm);
		get_name(st, &in, z->pcomm);
		break;
	}
	case REC_SYSMEM:
		get_when(st, &in, &out->sys.ts_ns, &pid);
		for (size_t i = 0; i < NSYS; i++) {
			uint64_t v = get_uv(&in);

			memcpy((char *)&out->sys + sys_off[i], &v, sizeof(v));
		}
		break;
	case REC_GONE:
		get_when(st, &in, &ts, &pid);
		out->hdr.ts_ns = ts;
		out->hdr.pid = pid;
		out->hdr.type = type;
		break;
	case REC_DROPS:
	case REC_END:
		get_when(st, &in, &out->drops.ts_ns, &pid);
		out->drops.ringbuf = get_uv(&in);
		out->drops.tracked = get_uv(&in);
		break;
	default:
		return 0;
	}
	if (in.why) {
		*why = in.why;
		return -1;
	}
	return 1;
}
