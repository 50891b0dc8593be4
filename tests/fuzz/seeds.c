/* Writes a few real captures into DIR as the fuzzer's seed corpus:
 *   build/fuzz_seeds DIR */
#include <stdio.h>
#include <string.h>

#include "capture.h"

static int one(const char *dir, const char *name, int records, int per_chunk)
{
	char path[512], err[256];
	struct cap_header h;
	struct cap_writer *w;

	memset(&h, 0, sizeof(h));
	strcpy(h.host, "seed");
	strcpy(h.kernel, "6.18");
	strcpy(h.options, "zmtrace record -o seed");
	h.abi = 1;
	h.page_size = 4096;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (cap_create(&w, path, &h, err, sizeof(err))) {
		fprintf(stderr, "fuzz_seeds: %s\n", err);
		return 1;
	}
	for (int i = 0; i < records; i++) {
		unsigned char b[64];

		for (size_t k = 0; k < sizeof(b); k++)
			b[k] = (unsigned char)(i + k);
		if (cap_append(w, (unsigned char)(i % 5), b, (size_t)(i % 64), err, sizeof(err)) ||
		    ((i + 1) % per_chunk == 0 && cap_flush(w, err, sizeof(err)))) {
			fprintf(stderr, "fuzz_seeds: %s\n", err);
			return 1;
		}
	}
	return cap_close(w, err, sizeof(err)) != 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	return one(argv[1], "empty.cap", 0, 1) | one(argv[1], "one.cap", 1, 1) |
	       one(argv[1], "chunks.cap", 30, 10);
}
