/* Capture records and their encoding: see records.h. */
#include "records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ varints */

/* v at p (at most 10 bytes); returns the end. */
static uint8_t *varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

enum { VARINT_SHORT = -1, VARINT_LONG = -2 };

/* The varint at *p (before end) into *v, *p past it: 0, VARINT_SHORT when
 * end comes first, VARINT_LONG past 64 bits' worth of bytes. */
static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return VARINT_SHORT;
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return VARINT_LONG;
}

/* ------------------------------------------------------------ writing */

static void put_byte(struct rec_enc *e, enum rec_stream s, uint8_t b)
{
	e->s[s].p[e->s[s].len++] = b; /* room: rec_enc_add() made it */
}

static void put_uv(struct rec_enc *e, enum rec_stream s, uint64_t v)
{
	struct rec_buf *b = &e->s[s]; /* room: rec_enc_add() made it */

	b->len = (size_t)(varint_put(b->p + b->len, v) - b->p);
}

/* A signed difference (wrapping: any two u64 have one) as a small varint. */
static void put_sv(struct rec_enc *e, enum rec_stream s, uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b);

	put_uv(e, s, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

static void put_bytes(struct rec_enc *e, const char *str, size_t max)
{
	size_t n = strnlen(str, max);

	put_uv(e, RS_STR, n);
	memcpy(e->s[RS_STR].p + e->s[RS_STR].len, str, n);
	e->s[RS_STR].len += n;
}

/* ------------------------------------------------------------ reading */

/* The first damage seen, or NULL. */
struct in {
	struct rec_dec *d;
	const char *why;
};

static void damaged(struct in *in, const char *why)
{
	if (!in->why)
		in->why = why;
}

static uint8_t get_byte(struct in *in, enum rec_stream s)
{
	if (in->d->p[s] >= in->d->end[s]) {
		damaged(in, "record cut short");
		return 0;
	}
	return *in->d->p[s]++;
}

static uint64_t get_uv(struct in *in, enum rec_stream s)
{
	uint64_t v;
	int ret = varint_get(&in->d->p[s], in->d->end[s], &v);

	if (!ret)
		return v;
	damaged(in, ret == VARINT_SHORT ? "record cut short" : "number too long");
	return 0;
}

/* b + the signed difference stored. */
static uint64_t get_sv(struct in *in, enum rec_stream s, uint64_t b)
{
	uint64_t z = get_uv(in, s);

	return b + ((z >> 1) ^ -(z & 1));
}

static uint32_t get_u32(struct in *in, enum rec_stream s)
{
	uint64_t v = get_uv(in, s);

	if (v > UINT32_MAX)
		damaged(in, "number out of range");
	return (uint32_t)v;
}

/* A pid or tgid stored as a difference from another. */
static uint32_t get_sv32(struct in *in, enum rec_stream s, uint32_t b)
{
	return (uint32_t)get_sv(in, s, b);
}

static void get_bytes(struct in *in, char *dst, size_t size)
{
	uint64_t n = get_uv(in, RS_STR);
	struct rec_dec *d = in->d;

	memset(dst, 0, size);
	if (n >= size || n > (uint64_t)(d->end[RS_STR] - d->p[RS_STR])) {
		damaged(in, "string too long");
		return;
	}
	memcpy(dst, d->p[RS_STR], n);
	d->p[RS_STR] += n;
}

/* ------------------------------------------------------------ names */

static unsigned name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < ZM_COMM_LEN && s[i]; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h & (2 * REC_NAMES - 1);
}

/*
 * A command name, given the one this pid (or the parent) had last in the
 * block, which it is most of the time: 1 when it is that one, its index +
 * 2 in the block's table, or 0 and the name (which the table then takes,
 * while it has room). Returns its index + 1 (0: not in the table), the
 * next basis.
 */
static uint16_t put_name(struct rec_enc *e, const char *s, uint16_t basis)
{
	struct rec_names *t = &e->st.names;
	char name[ZM_COMM_LEN] = { 0 };
	unsigned h = name_hash(s);

	memcpy(name, s, strnlen(s, ZM_COMM_LEN - 1));
	for (;; h = (h + 1) & (2 * REC_NAMES - 1)) {
		uint16_t i = t->hash[h];

		if (!i)
			break;
		if (!memcmp(t->name[i - 1], name, ZM_COMM_LEN)) {
			put_uv(e, RS_NAME, i == basis ? 1 : (uint64_t)i + 1);
			return i;
		}
	}
	put_uv(e, RS_NAME, 0);
	put_bytes(e, name, ZM_COMM_LEN - 1);
	if (t->n >= REC_NAMES)
		return 0;
	memcpy(t->name[t->n], name, ZM_COMM_LEN);
	t->hash[h] = (uint16_t)++t->n;
	return (uint16_t)t->n;
}

static uint16_t get_name(struct in *in, char dst[ZM_COMM_LEN], uint16_t basis)
{
	struct rec_names *t = &in->d->st.names;
	uint64_t v = get_uv(in, RS_NAME);
	uint64_t i = v == 1 ? basis : v - 1;

	if (v) {
		if (!i || i > t->n) {
			damaged(in, "unknown name index");
			memset(dst, 0, ZM_COMM_LEN);
			return 0;
		}
		memcpy(dst, t->name[i - 1], ZM_COMM_LEN);
		return (uint16_t)i;
	}
	get_bytes(in, dst, ZM_COMM_LEN);
	if (in->why || t->n >= REC_NAMES)
		return 0;
	memcpy(t->name[t->n++], dst, ZM_COMM_LEN);
	return (uint16_t)t->n;
}

/* ------------------------------------------------------------ state */

static void reset(struct rec_state *st)
{
	st->ts = st->pstart = 0;
	st->pid = st->ppid = 0;
	memset(st->kb, 0, sizeof(st->kb));
	memset(st->after, 0, sizeof(st->after));
	st->names.n = 0;
	memset(st->names.hash, 0, sizeof(st->names.hash));
	for (size_t i = 0; i < REC_PID_SLOTS; i++) {
		st->slot[i].pid = 0;
		st->slot[i].name = 0;
		st->slot[i].type = 0;
		st->slot[i].has_start = st->slot[i].has_kb = false;
	}
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

/* The block's slot for pid, emptied when another pid had it. */
static struct rec_pidslot *slot_of(struct rec_state *st, uint32_t pid)
{
	struct rec_pidslot *s = &st->slot[pid % REC_PID_SLOTS];

	if (s->pid != pid) {
		s->pid = pid;
		s->name = 0;
		s->type = 0;
		s->has_start = s->has_kb = false;
	}
	return s;
}

/*
 * The bases the fields are differences from. Encoder and decoder call
 * these in the same order with the same values, so both pick the same:
 *  - a memory event's figures: the last this block gave the pid, else the
 *    last of any pid (processes of one command look alike);
 *  - a lifecycle event's start: the last this block gave the pid (an
 *    exit's and a reap's are the fork's), else its own time (a fork's is
 *    just before);
 *  - the parent's start (aux): the last this block gave the parent, else
 *    the record before's;
 *  - the other pid: the parent for a fork and a reap (the reaper is most
 *    often the parent), the pid itself for an exec and an exit (the thread
 *    that did it).
 */
static const uint64_t *mem_basis(struct rec_state *st, uint32_t pid, struct rec_pidslot **slot)
{
	*slot = slot_of(st, pid);
	return (*slot)->has_kb ? (*slot)->kb : st->kb;
}

static void mem_keep(struct rec_state *st, struct rec_pidslot *s, const uint64_t kb[5])
{
	s->has_kb = true;
	memcpy(s->kb, kb, sizeof(s->kb));
	memcpy(st->kb, kb, sizeof(st->kb));
}

static uint64_t start_basis(struct rec_state *st, const struct zm_event *e,
			    struct rec_pidslot **slot)
{
	*slot = slot_of(st, e->pid);
	return (*slot)->has_start ? (*slot)->start : e->ts_ns;
}

static void start_keep(struct rec_pidslot *s, uint64_t start)
{
	s->start = start;
	s->has_start = true;
}

static uint64_t pstart_basis(struct rec_state *st, uint32_t ppid, struct rec_pidslot **slot)
{
	*slot = slot_of(st, ppid);
	return (*slot)->has_start ? (*slot)->start : st->pstart;
}

static uint32_t other_basis(const struct zm_event *e)
{
	return e->type == ZM_EV_FORK || e->type == ZM_EV_REAP ? e->ppid : e->pid;
}

/* Memory flags: mostly ZM_M_EXACT alone, stored as 0; two bits say
 * whether peaks and an actor follow. */
#define MEM_PEAKS 1u
#define MEM_ACTOR 2u
#define MEM_PAGES 4u /* the figures' differences are in 4 KiB: stored / 4 */
#define MEM_BITS 3

/* ------------------------------------------------------------ records */

static void put_when(struct rec_enc *e, uint64_t ts, uint32_t pid)
{
	put_sv(e, RS_TS, ts, e->st.ts);
	put_sv(e, RS_PID, pid, e->st.pid);
	e->st.ts = ts;
	e->st.pid = pid;
}

static void get_when(struct in *in, uint64_t *ts, uint32_t *pid)
{
	struct rec_state *st = &in->d->st;

	*ts = st->ts = get_sv(in, RS_TS, st->ts);
	*pid = st->pid = get_sv32(in, RS_PID, st->pid);
}

static void put_mem(struct rec_enc *e, const struct zm_mem_event *m)
{
	uint64_t kb[5] = { m->anon_kb, m->file_kb, m->shmem_kb, m->swap_kb, m->vsize_kb };
	uint64_t bits = (uint64_t)(m->flags ^ ZM_M_EXACT) << MEM_BITS |
			(m->peak_rss_kb || m->peak_vm_kb ? MEM_PEAKS : 0) | (m->actor ? MEM_ACTOR : 0);
	struct rec_pidslot *s;
	const uint64_t *basis = mem_basis(&e->st, m->pid, &s);
	uint64_t d[5], pages = MEM_PAGES;

	for (int i = 0; i < 5; i++) {
		d[i] = kb[i] - basis[i];
		if (d[i] & 3)
			pages = 0;
	}
	bits |= pages;
	put_uv(e, RS_MFLAGS, bits);
	/* (d / 4 of a wrapped difference: shift the signed value) */
	for (int i = 0; i < 5; i++)
		put_sv(e, RS_ANON + i, pages ? (uint64_t)((int64_t)d[i] >> 2) : d[i], 0);
	if (bits & MEM_PEAKS) {
		put_sv(e, RS_PEAK, m->peak_rss_kb, m->anon_kb + m->file_kb + m->shmem_kb);
		put_sv(e, RS_PEAK, m->peak_vm_kb, m->vsize_kb);
	}
	if (bits & MEM_ACTOR)
		put_sv(e, RS_OTHER, m->actor, m->pid);
	mem_keep(&e->st, s, kb);
	s = slot_of(&e->st, m->pid);
	s->name = put_name(e, m->comm, s->name);
}

static void get_mem(struct in *in, struct zm_mem_event *m)
{
	struct rec_state *st = &in->d->st;
	uint64_t bits = get_uv(in, RS_MFLAGS), kb[5];
	struct rec_pidslot *s;
	const uint64_t *basis = mem_basis(st, m->pid, &s);

	if (bits >> (32 + MEM_BITS))
		damaged(in, "bad memory flags");
	m->flags = (uint32_t)(bits >> MEM_BITS) ^ ZM_M_EXACT;
	for (int i = 0; i < 5; i++) {
		uint64_t d = get_sv(in, RS_ANON + i, 0);

		kb[i] = basis[i] + (bits & MEM_PAGES ? d << 2 : d);
	}
	m->anon_kb = kb[0];
	m->file_kb = kb[1];
	m->shmem_kb = kb[2];
	m->swap_kb = kb[3];
	m->vsize_kb = kb[4];
	if (bits & MEM_PEAKS) {
		m->peak_rss_kb = get_sv(in, RS_PEAK, kb[0] + kb[1] + kb[2]);
		m->peak_vm_kb = get_sv(in, RS_PEAK, kb[4]);
	}
	if (bits & MEM_ACTOR)
		m->actor = get_sv32(in, RS_OTHER, m->pid);
	mem_keep(st, s, kb);
	s = slot_of(st, m->pid);
	s->name = get_name(in, m->comm, s->name);
}

static void put_event(struct rec_enc *e, const struct zm_event *ev)
{
	struct rec_pidslot *s;

	put_sv(e, RS_START, ev->start_ns, start_basis(&e->st, ev, &s));
	start_keep(s, ev->start_ns);
	put_sv(e, RS_PPID, ev->ppid, e->st.ppid);
	e->st.ppid = ev->ppid;
	if (ev->type == ZM_EV_REAP) {
		put_sv(e, RS_AUX, ev->aux_ns, ev->ts_ns);
	} else {
		put_sv(e, RS_AUX, ev->aux_ns, pstart_basis(&e->st, ev->ppid, &s));
		start_keep(s, ev->aux_ns);
		e->st.pstart = ev->aux_ns;
	}
	put_sv(e, RS_OTHER, ev->other_pid, other_basis(ev));
	put_uv(e, RS_CODE, ev->code);
	put_uv(e, RS_FLAGS, ev->flags);
	s = slot_of(&e->st, ev->pid);
	s->name = put_name(e, ev->comm, s->name);
	s = slot_of(&e->st, ev->ppid);
	s->name = put_name(e, ev->pcomm, s->name);
}

static void get_event(struct in *in, struct zm_event *ev)
{
	struct rec_state *st = &in->d->st;
	struct rec_pidslot *s;

	ev->start_ns = get_sv(in, RS_START, start_basis(st, ev, &s));
	start_keep(s, ev->start_ns);
	ev->ppid = st->ppid = get_sv32(in, RS_PPID, st->ppid);
	if (ev->type == ZM_EV_REAP) {
		ev->aux_ns = get_sv(in, RS_AUX, ev->ts_ns);
	} else {
		ev->aux_ns = get_sv(in, RS_AUX, pstart_basis(st, ev->ppid, &s));
		start_keep(s, ev->aux_ns);
		st->pstart = ev->aux_ns;
	}
	ev->other_pid = get_sv32(in, RS_OTHER, other_basis(ev));
	ev->code = get_u32(in, RS_CODE);
	ev->flags = get_u32(in, RS_FLAGS);
	s = slot_of(st, ev->pid);
	s->name = get_name(in, ev->comm, s->name);
	s = slot_of(st, ev->ppid);
	s->name = get_name(in, ev->pcomm, s->name);
}

static const size_t sys_off[] = {
	offsetof(struct sysmem, total_kb),  offsetof(struct sysmem, free_kb),
	offsetof(struct sysmem, used_kb),   offsetof(struct sysmem, buffers_kb),
	offsetof(struct sysmem, cached_kb), offsetof(struct sysmem, app_kb),
	offsetof(struct sysmem, swap_total_kb), offsetof(struct sysmem, swap_used_kb),
};

#define NSYS (sizeof(sys_off) / sizeof(sys_off[0]))

/* The pid a record is about (those about none: the record before's). */
static uint32_t rec_pid(const struct rec *r, uint32_t before)
{
	switch (r->type) {
	case REC_START:
		return r->start.self_pid;
	case REC_PROC:
		return r->proc.mem.pid;
	case REC_ZOMBIE:
		return r->zombie.pid;
	case REC_SYSMEM:
	case REC_DROPS:
	case REC_END:
		return before;
	default:
		return r->hdr.pid;
	}
}

/*
 * The type, after the pid: a process's events follow a few paths (fork,
 * exec, memory..., exit, reap), so the type most likely is the one that
 * last followed this pid's previous type, anywhere in the block: 0 then,
 * else the type + 1.
 */
static uint8_t *type_guess(struct rec_state *st, uint32_t pid, struct rec_pidslot **slot)
{
	*slot = slot_of(st, pid);
	return &st->after[(*slot)->type % REC_TYPES];
}

static void put_type(struct rec_state *st, struct rec_enc *e, uint32_t pid, uint8_t type)
{
	struct rec_pidslot *s;
	uint8_t *guess = type_guess(st, pid, &s);

	put_uv(e, RS_TYPE, *guess && *guess == type ? 0 : (uint64_t)type + 1);
	*guess = type;
	s->type = type;
}

static uint8_t get_type(struct in *in, uint32_t pid)
{
	struct rec_pidslot *s;
	uint8_t *guess = type_guess(&in->d->st, pid, &s);
	uint64_t v = get_uv(in, RS_TYPE);
	uint8_t type = v ? (uint8_t)(v - 1) : *guess;

	if (v > 256 || (!v && !*guess))
		damaged(in, "bad record type");
	*guess = type;
	s->type = type;
	return type;
}

static void encode(struct rec_enc *e, const struct rec *r)
{
	uint32_t pid = rec_pid(r, e->st.pid);

	put_when(e, rec_ts(r), pid);
	put_type(&e->st, e, pid, r->type);
	switch (r->type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		put_event(e, &r->ev);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		put_mem(e, &r->mem);
		break;
	case REC_START: {
		const struct rec_start *s = &r->start;

		put_uv(e, RS_MISC, s->flags);
		put_uv(e, RS_MISC, s->threshold);
		put_uv(e, RS_MISC, s->interval_ns);
		put_uv(e, RS_MISC, s->sample_hz);
		put_bytes(e, s->rss_path, sizeof(s->rss_path) - 1);
		put_bytes(e, s->what, sizeof(s->what) - 1);
		break;
	}
	case REC_PROC: {
		const struct rec_proc *pr = &r->proc;

		put_sv(e, RS_PPID, pr->ppid, pr->mem.pid);
		put_sv(e, RS_START, pr->start_ns, pr->mem.ts_ns);
		put_byte(e, RS_MISC, (uint8_t)pr->state);
		put_byte(e, RS_MISC, pr->has_mem);
		if (pr->has_mem)
			put_mem(e, &pr->mem);
		else
			put_name(e, pr->mem.comm, 0);
		break;
	}
	case REC_ZOMBIE: {
		const struct zs_zombie *z = &r->zombie;

		put_sv(e, RS_PPID, z->ppid, z->pid);
		put_sv(e, RS_START, z->start_ns, z->exit_ns);
		put_sv(e, RS_AUX, z->pstart_ns, z->exit_ns);
		put_uv(e, RS_CODE, z->status);
		put_byte(e, RS_MISC, z->preexisting);
		put_name(e, z->comm, 0);
		put_name(e, z->pcomm, 0);
		break;
	}
	case REC_SYSMEM:
		for (size_t i = 0; i < NSYS; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&r->sys + sys_off[i], sizeof(v));
			put_uv(e, RS_MISC, v);
		}
		break;
	case REC_GONE:
		break;
	case REC_DROPS:
	case REC_END:
		put_uv(e, RS_MISC, r->drops.ringbuf);
		put_uv(e, RS_MISC, r->drops.tracked);
		break;
	}
}

static int reserve(struct rec_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;

	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);

	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void rec_enc_init(struct rec_enc *e)
{
	memset(e, 0, sizeof(*e));
	reset(&e->st);
}

void rec_enc_free(struct rec_enc *e)
{
	for (int i = 0; i < RS_COUNT; i++)
		free(e->s[i].p);
	free(e->out.p);
	memset(e, 0, sizeof(*e));
}

int rec_enc_add(struct rec_enc *e, const struct rec *r)
{
	/* No stream takes more than REC_MAX bytes of one record. */
	for (int i = 0; i < RS_COUNT; i++)
		if (reserve(&e->s[i], REC_MAX))
			return -ENOMEM;
	encode(e, r);
	e->n++;
	return 0;
}

size_t rec_enc_bytes(const struct rec_enc *e)
{
	size_t n = 0;

	for (int i = 0; i < RS_COUNT; i++)
		n += e->s[i].len;
	return n;
}

int rec_enc_take(struct rec_enc *e, const uint8_t **data, size_t *len)
{
	/* The header: at most 10 bytes a varint. */
	e->out.len = 0;
	if (reserve(&e->out, rec_enc_bytes(e) + 10 * (RS_COUNT + 2)))
		return -ENOMEM;
	uint8_t *p = varint_put(varint_put(e->out.p, e->n), RS_COUNT);

	for (int i = 0; i < RS_COUNT; i++)
		p = varint_put(p, e->s[i].len);
	for (int i = 0; i < RS_COUNT; i++) {
		memcpy(p, e->s[i].p, e->s[i].len);
		p += e->s[i].len;
		e->s[i].len = 0;
	}
	e->out.len = (size_t)(p - e->out.p);
	e->n = 0;
	reset(&e->st);
	*data = e->out.p;
	*len = e->out.len;
	return 0;
}

/* ------------------------------------------------------------ blocks */

/* Streams a block may have: this version's, and later ones' we skip. */
#define MAX_STREAMS 64

int rec_dec_open(struct rec_dec *d, const uint8_t *data, size_t len, const char **why)
{
	const uint8_t *p = data, *end = data + len;
	uint64_t n, ns, lens[MAX_STREAMS], sum = 0;

	reset(&d->st);
	d->done = 0;
	if (varint_get(&p, end, &n) || varint_get(&p, end, &ns) || n > UINT32_MAX) {
		*why = "damaged block header";
		return -1;
	}
	/* Fewer streams than this version's: an older block, or damage. */
	if (ns < RS_COUNT || ns > MAX_STREAMS) {
		*why = "damaged block header (streams)";
		return -1;
	}
	for (uint64_t i = 0; i < ns; i++) {
		if (varint_get(&p, end, &lens[i]) || lens[i] > (uint64_t)(end - p)) {
			*why = "damaged block header (stream length)";
			return -1;
		}
		sum += lens[i];
	}
	if (sum != (uint64_t)(end - p)) {
		*why = "damaged block (streams and length disagree)";
		return -1;
	}
	for (int i = 0; i < RS_COUNT; i++) {
		d->p[i] = p;
		p += lens[i];
		d->end[i] = p;
	}
	d->n = (uint32_t)n;
	return 0;
}

int rec_dec_next(struct rec_dec *d, struct rec *out, const char **why)
{
	struct in in = { .d = d };
	uint32_t pid;
	uint64_t ts;

	if (d->done == d->n) {
		for (int i = 0; i < RS_COUNT; i++) {
			if (d->p[i] != d->end[i]) {
				*why = "damaged block (bytes left over)";
				return -1;
			}
		}
		return 0;
	}
	memset(out, 0, sizeof(*out));
	get_when(&in, &ts, &pid);
	uint8_t type = get_type(&in, pid);

	out->type = type;
	switch (type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		out->ev.ts_ns = ts;
		out->ev.pid = pid;
		out->ev.type = type;
		get_event(&in, &out->ev);
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		out->mem.ts_ns = ts;
		out->mem.pid = pid;
		out->mem.type = type;
		get_mem(&in, &out->mem);
		break;
	case REC_START: {
		struct rec_start *s = &out->start;

		s->ts_ns = ts;
		s->self_pid = pid;
		s->flags = get_u32(&in, RS_MISC);
		s->threshold = get_uv(&in, RS_MISC);
		s->interval_ns = get_uv(&in, RS_MISC);
		s->sample_hz = get_u32(&in, RS_MISC);
		get_bytes(&in, s->rss_path, sizeof(s->rss_path));
		get_bytes(&in, s->what, sizeof(s->what));
		break;
	}
	case REC_PROC: {
		struct rec_proc *pr = &out->proc;

		pr->mem.ts_ns = ts;
		pr->mem.pid = pid;
		pr->mem.type = ZM_EV_RSS;
		pr->ppid = get_sv32(&in, RS_PPID, pid);
		pr->start_ns = get_sv(&in, RS_START, ts);
		pr->state = (char)get_byte(&in, RS_MISC);
		pr->has_mem = get_byte(&in, RS_MISC) != 0;
		if (pr->has_mem)
			get_mem(&in, &pr->mem);
		else
			get_name(&in, pr->mem.comm, 0);
		break;
	}
	case REC_ZOMBIE: {
		struct zs_zombie *z = &out->zombie;

		z->exit_ns = ts;
		z->pid = pid;
		z->ppid = get_sv32(&in, RS_PPID, z->pid);
		z->start_ns = get_sv(&in, RS_START, z->exit_ns);
		z->pstart_ns = get_sv(&in, RS_AUX, z->exit_ns);
		z->status = get_u32(&in, RS_CODE);
		z->preexisting = get_byte(&in, RS_MISC) != 0;
		get_name(&in, z->comm, 0);
		get_name(&in, z->pcomm, 0);
		break;
	}
	case REC_SYSMEM:
		out->sys.ts_ns = ts;
		for (size_t i = 0; i < NSYS; i++) {
			uint64_t v = get_uv(&in, RS_MISC);

			memcpy((char *)&out->sys + sys_off[i], &v, sizeof(v));
		}
		break;
	case REC_GONE:
		out->hdr.ts_ns = ts;
		out->hdr.pid = pid;
		out->hdr.type = type;
		break;
	case REC_DROPS:
	case REC_END:
		out->drops.ts_ns = ts;
		out->drops.ringbuf = get_uv(&in, RS_MISC);
		out->drops.tracked = get_uv(&in, RS_MISC);
		break;
	default:
		/* Fields of an unknown type cannot be skipped in streams. */
		damaged(&in, "unknown record type");
		break;
	}
	if (in.why) {
		*why = in.why;
		return -1;
	}
	d->done++;
	return 1;
}
