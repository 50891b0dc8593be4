/*
 * libFuzzer target for the reading side behind the container: the record
 * decoder (records.c), the replay (model.c, zstate, memstate, memseries,
 * sysmem) and every report format (report.c, report_html.c,
 * report_perfetto.c), on any bytes; the sanitizers do the checking.
 *
 * Two kinds of input, told apart by the capture's magic:
 *  - "ZMTRCAP\0...": a capture file, read as it is (header, chunks, then
 *    the records), as `zmtrace report` would read it;
 *  - anything else: a stream of records in the capture's own framing,
 *    (u8 type, varint len, len bytes)*, which this target packs into a
 *    valid capture with the real writer (capture.c) before reading it. A
 *    mutation of a compressed chunk almost never inflates, so without this
 *    the fuzzer would seldom get past zlib to the decoder; here every
 *    mutated byte reaches the block decoder (records.c; the seeds are
 *    REC_BLOCK records). Type 0 (no record has it) ends a
 *    chunk there, so that the decoder's per-chunk state is reset where the
 *    input says.
 *
 * The capture lives in a memfd and is read through /proc/self/fd/N (the
 * reports take a path); the reports write to /dev/null, which still runs
 * every formatting call. Build and run (see the Makefile's fuzz rules):
 *   make fuzz
 *   build/fuzz_report -close_fd_mask=2 -max_total_time=600 \
 *       build/fuzz-report-corpus build/fuzz-report-seeds build/fuzz-corpus
 * (-close_fd_mask=2: a damaged capture makes every report say so on
 * stderr; libFuzzer keeps its own and the sanitizers' output.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "report.h"
#include "zmtrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The record stream in data, packed into a capture on fd. 0 or -1. A
 * length past the input's end takes what is left, so that a cut or grown
 * record still reaches the decoder instead of being dropped here. */
static int pack_records(int fd, const uint8_t *data, size_t size)
{
	struct cap_header h;
	struct cap_writer *w;
	char err[256];
	const uint8_t *p = data, *end = data + size;

	memset(&h, 0, sizeof(h));
	h.version = CAP_VERSION;
	strcpy(h.host, "fuzz");
	strcpy(h.kernel, "6.18");
	strcpy(h.options, "zmtrace record -o fuzz");
	h.abi = ZM_ABI_VERSION;
	h.page_size = 4096;
	if (cap_create_fd(&w, fd, &h, err, sizeof(err)))
		return -1;
	while (p < end) {
		uint8_t type = *p++;
		size_t len = 0;

		/* The reader's limit: four bytes of length at most. */
		for (int shift = 0; p < end && shift <= 21; shift += 7) {
			len |= (size_t)(*p & 0x7f) << shift;
			if (!(*p++ & 0x80))
				break;
		}
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		int ret = type ? cap_append(w, type, p, len, err, sizeof(err))
			       : cap_flush(w, err, sizeof(err));

		if (ret)
			break; /* cap_close says it again, and frees w */
		p += type ? len : 0;
	}
	return cap_close(w, err, sizeof(err)) ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[8] = "ZMTRCAP"; /* and its NUL */
	int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	int ret = size >= sizeof(magic) && !memcmp(data, magic, sizeof(magic))
			  ? write_all(fd, data, size)
			  : pack_records(fd, data, size);

	if (!ret) {
		char path[64];
		FILE *out = fopen("/dev/null", "w");

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (out) {
			(void)report_text(path, out);
			(void)report_json(path, out);
			(void)report_csv(path, out);
			(void)report_perfetto(path, out);
			(void)report_html(path, out);
			fclose(out);
		}
	}
	close(fd);
	return 0;
}
