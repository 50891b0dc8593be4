/* Unit tests for user/capture.c: round trips, files cut at every byte,
 * damaged bytes, a full disk (RLIMIT_FSIZE), bad input. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "capture.h"

static void header(struct cap_header *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->host, "testhost");
	strcpy(h->kernel, "6.18.0-test");
	strcpy(h->options, "zmtrace record -o x -- true");
	h->boot_wall_ns = 1764500000123456789ULL;
	h->abi = 1;
	h->page_size = 4096;
	h->start_ns = 987654321;
}

/* Record i: type i % 7, i % 300 bytes of a pattern of i. */
static size_t record(uint64_t i, uint8_t *buf, uint8_t *type)
{
	size_t n = (size_t)(i % 300);

	*type = (uint8_t)(i % 7);
	for (size_t k = 0; k < n; k++)
		buf[k] = (uint8_t)(i * 31 + k);
	return n;
}

static char *tmp_path(void)
{
	static char path[64];

	strcpy(path, "/tmp/zm-cap-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* Write n records, a chunk every per_chunk records (0: as the writer
 * likes). Returns the file's bytes (malloc'd) and length. */
static uint8_t *write_capture(uint64_t n, uint64_t per_chunk, size_t *len)
{
	char err[256], *path = tmp_path();
	struct cap_header h;
	struct cap_writer *w;
	uint8_t buf[300], type;

	header(&h);
	assert_int_equal(cap_create(&w, path, &h, err, sizeof(err)), 0);
	for (uint64_t i = 0; i < n; i++) {
		size_t k = record(i, buf, &type);

		assert_int_equal(cap_append(w, type, buf, k, err, sizeof(err)), 0);
		if (per_chunk && (i + 1) % per_chunk == 0)
			assert_int_equal(cap_flush(w, err, sizeof(err)), 0);
	}
	assert_int_equal(cap_records(w), n);
	assert_int_equal(cap_close(w, err, sizeof(err)), 0);
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	uint8_t *b = malloc((size_t)st.st_size + 1);

	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	unlink(path);
	*len = (size_t)st.st_size;
	return b;
}

/* Read everything: checks each record against record(i); returns how many
 * (and the stop reason, if any). */
static uint64_t read_all(struct cap_reader *r, const char **why)
{
	uint8_t buf[300], type, t;
	const void *d;
	size_t len;
	uint64_t i = 0;
	int ret;

	while ((ret = cap_next(r, &t, &d, &len)) == 1) {
		size_t k = record(i, buf, &type);

		assert_int_equal(t, type);
		assert_int_equal(len, k);
		assert_memory_equal(d, buf, k);
		i++;
	}
	*why = cap_stop(r, NULL);
	assert_int_equal(ret, *why ? -1 : 0);
	return i;
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = write_capture(200000, 0, &len);
	struct cap_reader *r;
	struct cap_header h, want;
	char err[256];
	const char *why;

	assert_int_equal(cap_open_mem(&r, b, len, &h, err, sizeof(err)), 0);
	header(&want);
	assert_string_equal(h.host, want.host);
	assert_string_equal(h.kernel, want.kernel);
	assert_string_equal(h.options, want.options);
	assert_int_equal(h.boot_wall_ns, want.boot_wall_ns);
	assert_int_equal(h.abi, 1);
	assert_int_equal(h.page_size, 4096);
	assert_int_equal(h.start_ns, want.start_ns);
	assert_int_equal(h.version, CAP_VERSION);
	assert_int_equal(read_all(r, &why), 200000);
	assert_null(why);
	assert_int_equal(cap_read_records(r), 200000);
	cap_free(r);
	free(b);
}

/* Cut after every byte: whole chunks read, then a reason (or a clean end
 * exactly at a chunk boundary); never a crash, never a wrong record. */
static void test_cut_everywhere(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = write_capture(60, 20, &len); /* three chunks */
	uint64_t prev = 0;
	int clean_ends = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		struct cap_reader *r;
		struct cap_header h;
		char err[256];
		const char *why;

		if (cap_open_mem(&r, b, cut, &h, err, sizeof(err))) {
			assert_true(strlen(err) > 0);
			continue;
		}
		uint64_t n = read_all(r, &why);

		assert_true(n == 0 || n == 20 || n == 40 || n == 60);
		assert_true(n >= prev);
		prev = n;
		if (!why)
			clean_ends++;
		cap_free(r);
	}
	assert_int_equal(prev, 60);
	assert_int_equal(clean_ends, 4); /* after the header and each chunk */
	free(b);
}

/* Any byte changed in a chunk: that chunk is refused with a reason, and
 * every record returned is right. */
static void test_damaged_bytes(void **state)
{
	(void)state;
	size_t len;
	uint8_t *b = write_capture(40, 20, &len);
	struct cap_reader *r;
	struct cap_header h;
	char err[256];
	const char *why;

	assert_int_equal(cap_open_mem(&r, b, len, &h, err, sizeof(err)), 0);
	assert_int_equal(read_all(r, &why), 40);
	cap_free(r);
	size_t body = len;

	/* The chunks start after the header: find it by opening a cut copy. */
	for (size_t cut = 0; cut < len; cut++)
		if (!cap_open_mem(&r, b, cut, &h, err, sizeof(err))) {
			body = cut;
			cap_free(r);
			break;
		}
	assert_true(body < len);
	for (size_t i = body; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(cap_open_mem(&r, b, len, &h, err, sizeof(err)), 0);
			uint64_t n = read_all(r, &why);

			assert_non_null(why);
			assert_true(n == 0 || n == 20);
			cap_free(r);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(b);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct cap_reader *r;
	struct cap_header h;
	char err[256] = "";

	assert_int_equal(cap_open_mem(&r, "hello, world, not a capture", 27, &h, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a zmtrace capture"));
	uint8_t future[32] = "ZMTRCAP";

	future[8] = 99;
	assert_int_equal(cap_open_mem(&r, future, sizeof(future), &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version 99"));
	assert_int_equal(cap_open(&r, "/nonexistent/zm.cap", &h, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/zm.cap"));

	struct cap_writer *w;
	struct cap_header hh;

	header(&hh);
	assert_true(cap_create(&w, "/nonexistent/dir/zm.cap", &hh, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot create"));
	char *path = tmp_path();

	assert_int_equal(cap_create(&w, path, &hh, err, sizeof(err)), 0);
	static uint8_t big[CAP_MAX_RAW];

	assert_int_equal(cap_append(w, 1, big, sizeof(big), err, sizeof(err)), -EMSGSIZE);
	assert_int_equal(cap_close(w, err, sizeof(err)), 0);
	unlink(path);
}

/* A file size limit (as a full disk): the writer says so, and the file
 * reads cleanly up to its last whole chunk. */
static void test_full_disk(void **state)
{
	(void)state;
	char err[256] = "", *path = tmp_path();
	struct cap_header h;
	struct cap_writer *w;
	struct rlimit old, lim = { .rlim_cur = 256 << 10, .rlim_max = RLIM_INFINITY };
	uint8_t buf[300], type;
	uint64_t i;
	int ret = 0;

	header(&h);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(cap_create(&w, path, &h, err, sizeof(err)), 0);
	for (i = 0; i < 5000000 && !ret; i++) {
		size_t k = record(i, buf, &type);

		for (size_t j = 0; j < k; j++) /* hard to compress */
			buf[j] = (uint8_t)((i * 2654435761u + j * 40503u) >> 7);
		ret = cap_append(w, type, buf, k, err, sizeof(err));
	}
	assert_int_equal(ret, -EFBIG);
	assert_non_null(strstr(err, "cannot write the capture"));
	uint64_t whole = cap_records(w);

	assert_true(cap_close(w, err, sizeof(err)) <= 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	struct cap_reader *r;
	struct cap_header rh;

	assert_int_equal(cap_open(&r, path, &rh, err, sizeof(err)), 0);
	uint8_t t;
	const void *d;
	size_t len;
	uint64_t n = 0;

	while (cap_next(r, &t, &d, &len) == 1)
		n++;
	assert_null(cap_stop(r, NULL));
	assert_true(n > 0);
	assert_true(n <= whole);
	cap_free(r);
	unlink(path);
}

/* Inputs the fuzzer (tests/fuzz) found: each must read without a crash or
 * a sanitizer report (the unit tests run under ASan in `make fuzz`'s
 * build only, but the reads must at least end with a reason here). */
static const uint8_t fuzz_empty_chunk[] = {
	0x5a, 0x4d, 0x54, 0x52, 0x43, 0x41, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x73, 0x65, 0x65, 0x64,
	0x02, 0x00, 0x04, 0x00, 0x36, 0x2e, 0x31, 0x38, 0x03, 0x00, 0x08, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x16, 0x00,
	0x7a, 0x6d, 0x74, 0x72, 0x61, 0x63, 0x65, 0x20, 0x72, 0x65, 0x63, 0x6f,
	0x72, 0x64, 0x20, 0x2d, 0x6f, 0x20, 0x73, 0x65, 0x65, 0x64, 0x05, 0x00,
	0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x10,
	0x00, 0x00, 0x07, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x2e, 0x85, 0x68, 0x5d, 0x5a, 0x4d, 0x43, 0x4b, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f,
	0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f,
	0x5f, 0x06, 0x49, 0x86, 0xa9, 0x54, 0x43, 0x53, 0x4b, 0x01, 0x00, 0x04,
	0x00, 0x73, 0x65, 0x65, 0x64, 0x02, 0x00, 0x04, 0x00, 0x36, 0x2e, 0x31,
	0x38, 0x03, 0x06, 0x49, 0x36, 0x2b, 0x61, 0x12, 0x06, 0x86, 0x8c, 0x52,
	0xa8, 0x8e, 0x41, 0xc8, 0x38, 0x19, 0x33, 0x49, 0xa3, 0xbf, 0x24, 0x37,
};

static void test_fuzz_findings(void **state)
{
	(void)state;
	struct cap_reader *r;
	struct cap_header h;
	char err[256];
	uint8_t t;
	const void *d;
	size_t len;

	/* A chunk header with zero lengths: no buffer is allocated for it.
	 * (Found in a version 1 file: made this version's, its header's CRC
	 * made anew.) */
	uint8_t in[sizeof(fuzz_empty_chunk)];
	uint32_t n, crc;

	memcpy(in, fuzz_empty_chunk, sizeof(in));
	in[8] = CAP_VERSION;
	memcpy(&n, in + 12, 4);
	crc = (uint32_t)crc32(0, in + 8, 8 + n);
	memcpy(in + 16 + n, &crc, 4);
	assert_int_equal(cap_open_mem(&r, in, sizeof(in), &h, err, sizeof(err)), 0);
	assert_int_equal(cap_next(r, &t, &d, &len), -1);
	assert_non_null(cap_stop(r, NULL));
	cap_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cut_everywhere),
		cmocka_unit_test(test_damaged_bytes),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_fuzz_findings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
