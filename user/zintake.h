/*
 * Zombie intake for the subcommands that keep a zstate (zombies, top): the
 * kernel's EXIT and REAP events into it, and at start the zombies /proc
 * already shows, without taking one that exited after the attach for a
 * pre-existing one. Call zi_event() from the session's on_event and
 * zi_ready() from its on_ready.
 */
#ifndef ZM_ZINTAKE_H
#define ZM_ZINTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "zstate.h"

struct hashmap;

struct zintake {
	struct zstate *zs;
	uint32_t self; /* our pid: the -- COMMAND's reap is ours, not news */
	/* Optional: when it points to a non-zero value (a write error the
	 * caller's sink met), zi_ready() stops and returns that value. */
	const int *stop;
	int err; /* -ENOMEM met by zi_event(): the caller reports it */
	/* Optional: told of each zombie zi_ready() seeds (a pre-existing one)
	 * and each zi_reconcile() forgets; 0 to go on, else zi_ready() stops
	 * and returns it. */
	int (*on_seed)(void *ctx, const struct zs_zombie *z);
	void (*on_forget)(void *ctx, const struct zs_zombie *z);
	void *ctx;
	/* Internal, while zi_ready() runs: pids whose exit the kernel side
	 * reported (those zombies are not pre-existing). */
	struct hashmap *exited;
};

/* An event for the zstate (other types and our own children's are
 * ignored). */
void zi_event(struct zintake *zi, const struct zm_hdr *h, size_t size);

/*
 * The zombies that exist already. The kernel side is attached: a process
 * that exited since then has its EXIT event in the ring buffer, though /proc
 * shows it as a zombie too. So: read the buffer, list /proc's zombies, read
 * the buffer again (an exit seen in /proc has sent its event before), and
 * seed only the zombies whose exit was not reported, if the session's filter
 * takes them; the kernel side watches those from now on. Returns 0, *stop,
 * or -1 after a one-line error.
 */
int zi_ready(struct zintake *zi, struct session *s);

/*
 * At the end: an unreaped zombie that is gone from /proc was reaped, and
 * its REAP is on the way (the free catch-all fires one RCU grace period
 * after the release). Wait for those (up to 500 ms, for events, not a
 * sleep), then forget any whose event was lost, so that they do not count
 * as unreaped. 0 or -ENOMEM.
 */
int zi_reconcile(struct zintake *zi, struct tracer *t);

#endif
