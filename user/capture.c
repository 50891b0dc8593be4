/* The capture file: see capture.h. */
#include "capture.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CAP_MAGIC "ZMTRCAP"	 /* and a NUL: 8 bytes */
#define CHUNK_MAGIC 0x4b434d5au /* "ZMCK" */
#define CHUNK_HDR 20
#define MAX_HEADER (64u << 10)
#define ZLEVEL 3 /* most of level 9's ratio on event records, at a fraction of the time */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t packed_bound(void)
{
	return compressBound(CAP_MAX_RAW);
}

/* ------------------------------------------------------------ writing */

struct cap_writer {
	int fd;
	bool own_fd;
	int failed; /* -errno of the first failure, or 0 */
	uint8_t *raw;
	size_t raw_len;
	uint32_t nrec;
	uint8_t *packed;
	uint64_t records; /* in whole chunks written */
	uint64_t bytes;	  /* the file's length: header and whole chunks */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* After a failed write: cut the file back to its last whole chunk. */
static int fail(struct cap_writer *w, int ret, char *err, size_t errlen)
{
	w->failed = ret;
	if (ftruncate(w->fd, (off_t)w->bytes) == 0)
		lseek(w->fd, (off_t)w->bytes, SEEK_SET);
	if (ret == -ENOSPC || ret == -EDQUOT)
		snprintf(err, errlen, "the disk is full: the capture ends with its last whole chunk");
	else
		snprintf(err, errlen, "cannot write the capture: %s (it ends with its last whole chunk)",
			 strerror(-ret));
	return ret;
}

static size_t put_field(uint8_t *p, uint16_t tag, const void *v, size_t len)
{
	if (len > CAP_MAX_FIELD)
		len = CAP_MAX_FIELD;
	p[0] = (uint8_t)tag;
	p[1] = (uint8_t)(tag >> 8);
	p[2] = (uint8_t)len;
	p[3] = (uint8_t)(len >> 8);
	memcpy(p + 4, v, len);
	return 4 + len;
}

static int write_header(struct cap_writer *w, const struct cap_header *h, char *err,
			size_t errlen)
{
	uint8_t *b = malloc(MAX_HEADER);

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uint8_t v8[8];
	size_t n = 16;

	memcpy(b, CAP_MAGIC, 8);
	put32(b + 8, CAP_VERSION);
	n += put_field(b + n, CAP_HOST, h->host, strnlen(h->host, sizeof(h->host)));
	n += put_field(b + n, CAP_KERNEL, h->kernel, strnlen(h->kernel, sizeof(h->kernel)));
	put64(v8, h->boot_wall_ns);
	n += put_field(b + n, CAP_BOOT_WALL, v8, 8);
	n += put_field(b + n, CAP_OPTIONS, h->options, strnlen(h->options, sizeof(h->options)));
	put32(v8, h->abi);
	n += put_field(b + n, CAP_ABI, v8, 4);
	put32(v8, h->page_size);
	n += put_field(b + n, CAP_PAGE_SIZE, v8, 4);
	put64(v8, h->start_ns);
	n += put_field(b + n, CAP_START_NS, v8, 8);
	put32(b + 12, (uint32_t)(n - 16));
	put32(b + n, (uint32_t)crc32(0, b + 8, (uInt)(n - 8)));
	n += 4;
	int ret = write_all(w->fd, b, n);

	free(b);
	if (ret)
		return fail(w, ret, err, errlen);
	w->bytes = n;
	return 0;
}

int cap_create_fd(struct cap_writer **out, int fd, const struct cap_header *h, char *err,
		  size_t errlen)
{
	struct cap_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w) {
		w->raw = malloc(CAP_MAX_RAW);
		w->packed = malloc(CHUNK_HDR + packed_bound());
	}
	if (!w || !w->raw || !w->packed) {
		if (w) {
			free(w->raw);
			free(w->packed);
		}
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->fd = fd;
	int ret = write_header(w, h, err, errlen);

	if (ret) {
		free(w->raw);
		free(w->packed);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int cap_create(struct cap_writer **out, const char *path, const struct cap_header *h, char *err,
	       size_t errlen)
{
	*out = NULL;
	/* It names every process on the host: 0600, whatever the umask. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return ret;
	}
	if (fchmod(fd, 0600)) {
		int ret = -errno;

		snprintf(err, errlen, "cannot make %s private: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	int ret = cap_create_fd(out, fd, h, err, errlen);

	if (ret) {
		close(fd);
		return ret;
	}
	(*out)->own_fd = true;
	return 0;
}

int cap_flush(struct cap_writer *w, char *err, size_t errlen)
{
	if (w->failed) {
		snprintf(err, errlen, "the capture stopped after an earlier error");
		return w->failed;
	}
	if (!w->nrec)
		return 0;
	uLongf packed_len = (uLongf)packed_bound();
	uint8_t *c = w->packed;

	if (compress2(c + CHUNK_HDR, &packed_len, w->raw, (uLong)w->raw_len, ZLEVEL) != Z_OK) {
		snprintf(err, errlen, "cannot compress a chunk");
		w->failed = -EIO;
		return -EIO;
	}
	put32(c, CHUNK_MAGIC);
	put32(c + 4, (uint32_t)packed_len);
	put32(c + 8, (uint32_t)w->raw_len);
	put32(c + 12, w->nrec);
	uint32_t crc = (uint32_t)crc32(0, c, 16);

	put32(c + 16, (uint32_t)crc32(crc, c + CHUNK_HDR, (uInt)packed_len));
	int ret = write_all(w->fd, c, CHUNK_HDR + packed_len);

	if (ret)
		return fail(w, ret, err, errlen);
	w->bytes += CHUNK_HDR + packed_len;
	w->records += w->nrec;
	w->nrec = 0;
	w->raw_len = 0;
	return 0;
}

int cap_append(struct cap_writer *w, uint8_t type, const void *data, size_t len, char *err,
	       size_t errlen)
{
	if (len > CAP_MAX_RAW - 8) {
		snprintf(err, errlen, "a record of %zu bytes is too large", len);
		return -EMSGSIZE;
	}
	int ret;

	if (w->raw_len + 8 + len > CAP_MAX_RAW && (ret = cap_flush(w, err, errlen)))
		return ret;
	if (w->failed) {
		snprintf(err, errlen, "the capture stopped after an earlier error");
		return w->failed;
	}
	uint8_t *p = w->raw + w->raw_len;

	*p++ = type;
	for (size_t v = len;; v >>= 7) {
		*p++ = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		if (v < 0x80)
			break;
	}
	memcpy(p, data, len);
	w->raw_len = (size_t)(p - w->raw) + len;
	w->nrec++;
	return w->raw_len >= CAP_CHUNK_TARGET ? cap_flush(w, err, errlen) : 0;
}

int cap_close(struct cap_writer *w, char *err, size_t errlen)
{
	if (!w)
		return 0;
	int ret = cap_flush(w, err, errlen); /* after a failure: that failure */

	if (!ret && fsync(w->fd) && errno != EINVAL && errno != EROFS) {
		ret = -errno;
		snprintf(err, errlen, "cannot sync the capture: %s", strerror(errno));
	}
	if (w->own_fd && close(w->fd) && !ret) {
		ret = -errno;
		snprintf(err, errlen, "cannot close the capture: %s", strerror(errno));
	}
	free(w->raw);
	free(w->packed);
	free(w);
	return ret;
}

uint64_t cap_records(const struct cap_writer *w)
{
	return w->records + w->nrec;
}

uint64_t cap_bytes(const struct cap_writer *w)
{
	return w->bytes;
}

/* ------------------------------------------------------------ reading */

struct cap_reader {
	int fd; /* -1: reading mem */
	const uint8_t *mem;
	size_t mem_len;
	uint64_t pos;	   /* file offset of the next chunk */
	uint64_t chunk_at; /* file offset of the current chunk */
	uint8_t *raw; /* grown to the largest chunk seen */
	size_t raw_cap, raw_len, raw_pos;
	uint32_t nrec, seen;
	uint8_t *packed;
	size_t packed_cap;
	const char *stop;
	char stop_buf[160];
	uint64_t stop_at;
	bool done;
	uint64_t records;
};

/* The fuzzer's build checks no CRC, so that its mutations reach the
 * decompression and the record parser behind it. */
static bool skip_crc(void)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	return true;
#else
	return false;
#endif
}

/* Up to n bytes at off: how many (short at the end), or -errno. */
static ssize_t read_at(struct cap_reader *r, uint64_t off, uint8_t *buf, size_t n)
{
	if (!n)
		return 0;
	if (r->fd < 0) {
		if (off >= r->mem_len)
			return 0;
		size_t k = r->mem_len - off < n ? r->mem_len - off : n;

		memcpy(buf, r->mem + off, k);
		return (ssize_t)k;
	}
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(r->fd, buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

__attribute__((format(printf, 3, 4))) static int stop(struct cap_reader *r, uint64_t at,
							const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->stop_buf, sizeof(r->stop_buf), fmt, ap);
	va_end(ap);
	r->stop = r->stop_buf;
	r->stop_at = at;
	r->done = true;
	return -1;
}

/* A string field into dst (NUL-terminated, cut to fit). */
static void field_str(char *dst, size_t size, const uint8_t *v, size_t len)
{
	memcpy(dst, v, len < size - 1 ? len : size - 1);
}

static int parse_header(struct cap_reader *r, struct cap_header *h, char *err, size_t errlen)
{
	uint8_t top[16];
	ssize_t k = read_at(r, 0, top, sizeof(top));

	memset(h, 0, sizeof(*h));
	if (k < 0) {
		snprintf(err, errlen, "cannot read: %s", strerror((int)-k));
		return (int)k;
	}
	if (k < 8 || memcmp(top, CAP_MAGIC, 8)) {
		snprintf(err, errlen, "not a zmtrace capture (no ZMTRCAP magic)");
		return -EINVAL;
	}
	if (k < 16) {
		snprintf(err, errlen, "the header is cut short (%zd of 16 bytes)", k);
		return -EINVAL;
	}
	h->version = get32(top + 8);
	if (h->version != CAP_VERSION) {
		snprintf(err, errlen, "capture format version %u: this zmtrace reads version %u",
			 h->version, CAP_VERSION);
		return -EINVAL;
	}
	uint32_t n = get32(top + 12);

	if (n > MAX_HEADER) {
		snprintf(err, errlen, "damaged header (%u bytes of fields)", n);
		return -EINVAL;
	}
	uint8_t *b = malloc((size_t)n + 4);

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k = read_at(r, 16, b, (size_t)n + 4);
	if (k != (ssize_t)n + 4) {
		free(b);
		snprintf(err, errlen, "the header is cut short");
		return -EINVAL;
	}
	uint32_t crc = (uint32_t)crc32(0, top + 8, 8);

	if ((uint32_t)crc32(crc, b, n) != get32(b + n) && !skip_crc()) {
		free(b);
		snprintf(err, errlen, "damaged header (CRC mismatch)");
		return -EINVAL;
	}
	for (uint32_t p = 0; p + 4 <= n;) {
		uint16_t tag = (uint16_t)(b[p] | b[p + 1] << 8), len = (uint16_t)(b[p + 2] | b[p + 3] << 8);
		const uint8_t *v = b + p + 4;

		if (len > n - p - 4)
			break; /* the CRC passed: a writer's bug; keep what was read */
		switch (tag) {
		case CAP_HOST:
			field_str(h->host, sizeof(h->host), v, len);
			break;
		case CAP_KERNEL:
			field_str(h->kernel, sizeof(h->kernel), v, len);
			break;
		case CAP_OPTIONS:
			field_str(h->options, sizeof(h->options), v, len);
			break;
		case CAP_BOOT_WALL:
			if (len == 8)
				h->boot_wall_ns = get64(v);
			break;
		case CAP_ABI:
			if (len == 4)
				h->abi = get32(v);
			break;
		case CAP_PAGE_SIZE:
			if (len == 4)
				h->page_size = get32(v);
			break;
		case CAP_START_NS:
			if (len == 8)
				h->start_ns = get64(v);
			break;
		default:
			break; /* a later version's field */
		}
		p += 4u + len;
	}
	free(b);
	r->pos = 16 + (uint64_t)n + 4;
	return 0;
}

/* *buf holds at least n bytes (n bounded by the caller): 0 or -ENOMEM. */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
	if (*buf && n <= *cap)
		return 0;
	size_t want = n < (64u << 10) ? 64u << 10 : n;
	uint8_t *p = realloc(*buf, want);

	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

int cap_open(struct cap_reader **out, const char *path, struct cap_header *h, char *err,
	     size_t errlen)
{
	*out = NULL;
	struct cap_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(r);
		return ret;
	}
	int ret = parse_header(r, h, err, errlen);

	if (ret) {
		cap_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int cap_open_mem(struct cap_reader **out, const void *buf, size_t len, struct cap_header *h,
		 char *err, size_t errlen)
{
	*out = NULL;
	struct cap_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->fd = -1;
	r->mem = buf;
	r->mem_len = len;
	int ret = parse_header(r, h, err, errlen);

	if (ret) {
		cap_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Load the chunk at r->pos: 1, 0 at a clean end, -1 (stop set). */
static int load_chunk(struct cap_reader *r)
{
	uint8_t hdr[CHUNK_HDR];
	ssize_t k = read_at(r, r->pos, hdr, sizeof(hdr));

	if (k < 0)
		return stop(r, r->pos, "read error: %s", strerror((int)-k));
	if (k == 0) {
		r->done = true;
		return 0;
	}
	if (k < CHUNK_HDR)
		return stop(r, r->pos, "cut short in a chunk header (%zd of %d bytes)", k, CHUNK_HDR);
	if (get32(hdr) != CHUNK_MAGIC)
		return stop(r, r->pos, "not a chunk here (bad magic %#x)", get32(hdr));
	uint32_t plen = get32(hdr + 4), rlen = get32(hdr + 8);

	if (rlen > CAP_MAX_RAW || plen > packed_bound())
		return stop(r, r->pos, "damaged chunk header (lengths %u, %u)", plen, rlen);
	if (reserve(&r->raw, &r->raw_cap, rlen) || reserve(&r->packed, &r->packed_cap, plen))
		return stop(r, r->pos, "out of memory");
	k = read_at(r, r->pos + CHUNK_HDR, r->packed, plen);
	if (k < 0)
		return stop(r, r->pos, "read error: %s", strerror((int)-k));
	if ((size_t)k < plen)
		return stop(r, r->pos, "cut short in a chunk (%zd of %u bytes)", k, plen);
	uint32_t crc = (uint32_t)crc32(0, hdr, 16);

	if ((uint32_t)crc32(crc, r->packed, plen) != get32(hdr + 16) && !skip_crc())
		return stop(r, r->pos, "damaged chunk (CRC mismatch)");
	uLongf got = rlen;

	if (uncompress(r->raw, &got, r->packed, plen) != Z_OK || got != rlen)
		return stop(r, r->pos, "damaged chunk (does not decompress)");
	r->chunk_at = r->pos;
	r->pos += CHUNK_HDR + (uint64_t)plen;
	r->raw_len = rlen;
	r->raw_pos = 0;
	r->nrec = get32(hdr + 12);
	r->seen = 0;
	return 1;
}

int cap_next(struct cap_reader *r, uint8_t *type, const void **data, size_t *len)
{
	while (r->raw_pos >= r->raw_len) {
		if (r->done)
			return r->stop ? -1 : 0;
		if (r->seen != r->nrec)
			return stop(r, r->chunk_at, "damaged chunk (%u records, says %u)", r->seen,
				    r->nrec);
		int ret = load_chunk(r);

		if (ret <= 0)
			return ret;
	}
	const uint8_t *p = r->raw + r->raw_pos, *end = r->raw + r->raw_len;
	uint64_t n = 0;

	*type = *p++;
	for (int shift = 0;; shift += 7) {
		if (p >= end || shift > 21)
			return stop(r, r->chunk_at, "damaged record (length)");
		n |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80))
			break;
	}
	if (n > (uint64_t)(end - p))
		return stop(r, r->chunk_at, "damaged record (%llu bytes, %td left)",
			    (unsigned long long)n, end - p);
	*data = p;
	*len = (size_t)n;
	r->raw_pos = (size_t)(p - r->raw) + (size_t)n;
	r->seen++;
	r->records++;
	return 1;
}

bool cap_chunk_first(const struct cap_reader *r)
{
	return r->seen == 1;
}

uint64_t cap_chunk_offset(const struct cap_reader *r)
{
	return r->chunk_at;
}

const char *cap_stop(const struct cap_reader *r, uint64_t *offset)
{
	if (offset)
		*offset = r->stop_at;
	return r->stop;
}

uint64_t cap_read_records(const struct cap_reader *r)
{
	return r->records;
}

void cap_free(struct cap_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->raw);
	free(r->packed);
	free(r);
}
