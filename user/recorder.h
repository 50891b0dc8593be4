/*
 * Writing a capture from a live session (`zmtrace record`, `zmtrace check
 * -o`): the header, then every record encoded (records.h) into the
 * capture's chunks (capture.h). A write error (a full disk) is said once, on
 * stderr, and the file keeps its last whole chunk.
 */
#ifndef ZM_RECORDER_H
#define ZM_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"

struct recorder;

/* Create path (mode 0600) with a header naming this host, kernel, clock and
 * argv (the command line). 0, or -1 after a one-line error. */
int recorder_open(struct recorder **r, const char *path, int argc, char **argv);

/* Write nothing: only the tap sees the records (`check` without -o). */
int recorder_open_null(struct recorder **r);
/* Every record put goes to fn too (before it is written); fn returns 0,
 * or -1 after a one-line error (then recorder_put fails). */
void recorder_tap(struct recorder *r, int (*fn)(void *ctx, const struct rec *rec), void *ctx);

/* 0, or -1 after a one-line error (then every later call fails quietly). */
int recorder_put(struct recorder *r, const struct rec *rec);
/* A kernel event as the ring buffer gave it. */
int recorder_event(struct recorder *r, const struct zm_hdr *h, size_t size);
/* Write what is waiting as a chunk: a crash loses nothing before this. */
int recorder_flush(struct recorder *r);
/* Flush, sync, close, free. 0 or -1 (error said, unless said before). */
int recorder_close(struct recorder *r);

uint64_t recorder_records(const struct recorder *r);

#endif
