/* libFuzzer target for the capture reader (user/capture.c): any bytes,
 * read to the end; the sanitizers do the checking. Build and run:
 *   make fuzz && build/fuzz_capture -max_total_time=600 build/fuzz-corpus */
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cap_reader *r;
	struct cap_header h;
	char err[256];

	if (cap_open_mem(&r, data, size, &h, err, sizeof(err)))
		return 0;
	uint8_t type;
	const void *d;
	size_t len;
	unsigned sum = 0;

	while (cap_next(r, &type, &d, &len) == 1)
		for (size_t i = 0; i < len; i++)
			sum += ((const uint8_t *)d)[i] + type; /* touch every byte */
	(void)cap_stop(r, NULL);
	cap_free(r);
	return (int)(sum & 0);
}
