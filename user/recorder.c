/* Writing a capture: see recorder.h. */
#include "recorder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

struct recorder {
	struct cap_writer *w;
	const char *name; /* for messages */
	bool failed;
	uint64_t records;
	struct rec_enc enc; /* the block being filled */
	uint64_t written;   /* records in the blocks written */
	int (*tap)(void *ctx, const struct rec *rec);
	void *tap_ctx;
};

/* A block (a chunk of the file) is written past this many bytes of
 * records, and at every recorder_flush(). Larger blocks compress a little
 * better; this is already well past zlib's 32 KiB window. */
#define BLOCK_TARGET (128u << 10)

static void fill_header(struct cap_header *h, int argc, char **argv)
{
	struct utsname u;
	size_t n = 0;

	memset(h, 0, sizeof(*h));
	if (gethostname(h->host, sizeof(h->host) - 1))
		snprintf(h->host, sizeof(h->host), "?");
	if (!uname(&u))
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	h->start_ns = now_boot_ns();
	h->boot_wall_ns = boot_to_real_ns(h->start_ns) - h->start_ns;
	h->abi = ZM_ABI_VERSION;
	h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < argc && n < sizeof(h->options) - 1; i++)
		n += (size_t)snprintf(h->options + n, sizeof(h->options) - n, "%s%s", i ? " " : "",
				      argv[i]);
}

int recorder_open(struct recorder **out, const char *path, int argc, char **argv)
{
	struct recorder *r = calloc(1, sizeof(*r));
	struct cap_header h;
	char err[512];

	if (!r) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	r->name = path;
	fill_header(&h, argc, argv);
	if (cap_create(&r->w, path, &h, err, sizeof(err))) {
		fprintf(stderr, "zmtrace: %s\n", err);
		free(r);
		return -1;
	}
	rec_enc_init(&r->enc);
	*out = r;
	return 0;
}

int recorder_open_null(struct recorder **out)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r) {
		fprintf(stderr, "zmtrace: out of memory\n");
		return -1;
	}
	r->name = "the capture";
	rec_enc_init(&r->enc);
	*out = r;
	return 0;
}

void recorder_tap(struct recorder *r, int (*fn)(void *ctx, const struct rec *rec), void *ctx)
{
	r->tap = fn;
	r->tap_ctx = ctx;
}

static int failed(struct recorder *r, const char *err)
{
	if (!r->failed)
		fprintf(stderr, "zmtrace: %s: %s\n", r->name, err);
	r->failed = true;
	return -1;
}

/* The block so far as a chunk of the file. */
static int write_block(struct recorder *r)
{
	const uint8_t *data;
	size_t len;
	char err[256];

	uint32_t n = r->enc.n;

	if (r->failed)
		return -1;
	if (!n || !r->w)
		return 0;
	if (rec_enc_take(&r->enc, &data, &len))
		return failed(r, "out of memory");
	if (cap_append(r->w, REC_BLOCK, data, len, err, sizeof(err)) ||
	    cap_flush(r->w, err, sizeof(err))) {
		size_t k = strlen(err);

		/* The capture layer counts chunks; the records are ours. */
		snprintf(err + k, sizeof(err) - k, " (%llu records)", (unsigned long long)r->written);
		return failed(r, err);
	}
	r->written += n;
	return 0;
}

int recorder_put(struct recorder *r, const struct rec *rec)
{
	if (r->failed)
		return -1;
	if (r->tap && r->tap(r->tap_ctx, rec)) {
		r->failed = true; /* said by the tap */
		return -1;
	}
	r->records++;
	if (!r->w)
		return 0;
	if (rec_enc_add(&r->enc, rec))
		return failed(r, "out of memory");
	return rec_enc_bytes(&r->enc) >= BLOCK_TARGET ? write_block(r) : 0;
}

int recorder_event(struct recorder *r, const struct zm_hdr *h, size_t size)
{
	struct rec rec = { .type = (uint8_t)h->type };

	switch (h->type) {
	case ZM_EV_FORK:
	case ZM_EV_EXEC:
	case ZM_EV_EXIT:
	case ZM_EV_REAP:
		if (size < sizeof(rec.ev))
			return 0;
		memcpy(&rec.ev, h, sizeof(rec.ev));
		break;
	case ZM_EV_RSS:
	case ZM_EV_OOM:
		if (size < sizeof(rec.mem))
			return 0;
		memcpy(&rec.mem, h, sizeof(rec.mem));
		break;
	default:
		return 0;
	}
	return recorder_put(r, &rec);
}

int recorder_flush(struct recorder *r)
{
	return write_block(r);
}

int recorder_close(struct recorder *r)
{
	char err[256];

	if (!r)
		return 0;
	write_block(r);
	if (r->w && cap_close(r->w, err, sizeof(err)))
		failed(r, err); /* said once: not again after an earlier failure */
	int ret = r->failed ? -1 : 0;

	rec_enc_free(&r->enc);
	free(r);
	return ret;
}

uint64_t recorder_records(const struct recorder *r)
{
	return r->records;
}
