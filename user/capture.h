/*
 * The capture file (`zmtrace record`): a header, then zlib-compressed
 * chunks of records, each chunk with its lengths and a CRC32, so that a
 * capture cut short (SIGKILL, power loss, a full disk) reads up to its last
 * whole chunk, and a damaged one says where and why it stops.
 *
 *   file   := header chunk*
 *   header := "ZMTRCAP\0" u32 version, u32 n, n bytes of fields, u32 crc32
 *             fields := (u16 tag, u16 len, len bytes)*
 *   chunk  := u32 "ZMCK", u32 packed_len, u32 raw_len, u32 records,
 *             u32 crc32 (of the four before and the packed bytes),
 *             packed_len bytes: zlib of raw_len bytes of records
 *   record := u8 type, varint len, len bytes
 *
 * Integers are little-endian. Record payloads are the caller's: this layer
 * frames, compresses, checks and never trusts lengths it reads.
 */
#ifndef ZM_CAPTURE_H
#define ZM_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_VERSION 2 /* 2: records in blocks of streams (records.h) */
#define CAP_MAX_RAW (1u << 20)	  /* a chunk's records, uncompressed */
#define CAP_CHUNK_TARGET (64u << 10) /* a chunk is written past this much */
#define CAP_MAX_FIELD 4096

/* Header fields (tags). Strings are not NUL-terminated in the file. */
enum cap_tag {
	CAP_HOST = 1,	    /* host name */
	CAP_KERNEL = 2,	    /* kernel release (uname -r) */
	CAP_BOOT_WALL = 3,  /* u64: CLOCK_REALTIME - CLOCK_BOOTTIME at start, ns */
	CAP_OPTIONS = 4,    /* the command line that recorded it */
	CAP_ABI = 5,	    /* u32: ZM_ABI_VERSION of the records */
	CAP_PAGE_SIZE = 6,  /* u32 */
	CAP_START_NS = 7,   /* u64: CLOCK_BOOTTIME when recording began */
};

struct cap_header {
	uint32_t version;
	char host[256];
	char kernel[256];
	char options[CAP_MAX_FIELD];
	uint64_t boot_wall_ns;
	uint32_t abi;
	uint32_t page_size;
	uint64_t start_ns;
};

struct cap_writer;

/* Create path (mode 0600, replacing a file there) and write the header.
 * 0, or -errno with a one-line reason in err. */
int cap_create(struct cap_writer **w, const char *path, const struct cap_header *h, char *err,
	       size_t errlen);
/* Write to an open fd instead (tests). */
int cap_create_fd(struct cap_writer **w, int fd, const struct cap_header *h, char *err,
		  size_t errlen);
/* Add a record; writes a chunk when CAP_CHUNK_TARGET bytes are waiting.
 * 0, or -errno (err set); after an error nothing more is written, and the
 * file ends with the last whole chunk. */
int cap_append(struct cap_writer *w, uint8_t type, const void *data, size_t len, char *err,
	       size_t errlen);
/* Write what is waiting as a chunk (then it survives a crash). */
int cap_flush(struct cap_writer *w, char *err, size_t errlen);
/* Flush, fsync, close; frees w. 0 or -errno (err set), also when an
 * earlier call failed (the file then ends with its last whole chunk). */
int cap_close(struct cap_writer *w, char *err, size_t errlen);
/* Records and chunks written so far. */
uint64_t cap_records(const struct cap_writer *w);
uint64_t cap_bytes(const struct cap_writer *w);

struct cap_reader;

/* Open a capture and read its header. 0, or -errno / -EINVAL (not a
 * capture, damaged header) with err set. */
int cap_open(struct cap_reader **r, const char *path, struct cap_header *h, char *err,
	     size_t errlen);
/* The same over a buffer (fuzzing, tests); the buffer must outlive r. */
int cap_open_mem(struct cap_reader **r, const void *buf, size_t len, struct cap_header *h,
		 char *err, size_t errlen);
/* The next record: 1 (type, data, len set; data valid until the next
 * call), 0 at the end of the file, -1 when the rest cannot be read (see
 * cap_stop). */
int cap_next(struct cap_reader *r, uint8_t *type, const void **data, size_t *len);
/* Why reading stopped early, and at which byte of the file: NULL when the
 * file ended cleanly. */
const char *cap_stop(const struct cap_reader *r, uint64_t *offset);
uint64_t cap_read_records(const struct cap_reader *r);
/* Was the record cap_next() just gave the first of its chunk, and at which
 * byte of the file does that chunk start? */
bool cap_chunk_first(const struct cap_reader *r);
uint64_t cap_chunk_offset(const struct cap_reader *r);
void cap_free(struct cap_reader *r);

#endif
