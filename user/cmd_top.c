/* zmtrace top: a live full-screen view in the spirit of top: system memory
 * and its recent history, the parents with unreaped zombies, the processes
 * with the most memory or the fastest growth, leak suspects marked. When
 * stdin or stdout is not a terminal (or -o FILE, or TERM=dumb): one 80x24
 * text snapshot per interval, and a last one at the end. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "memintake.h"
#include "memstate.h"
#include "output.h"
#include "procscan.h"
#include "screen.h"
#include "sysmem.h"
#include "topview.h"
#include "util.h"
#include "zintake.h"

#define TOP_KEEP_EXITED 16

struct top {
	struct zintake zi;
	struct memstate *mem;
	struct sysmem_hist sys;
	bool sys_ok; /* /proc/meminfo readable */
	struct session *session;
	struct screen *scr; /* NULL: text snapshots on out */
	FILE *out;
	bool shown;  /* the screen is up */
	bool taken;  /* snap holds a snapshot */
	struct top_snapshot snap;
	struct top_view view;
	struct frame frame;
	char what[96];
	int err;
};

static int out_of_memory(void)
{
	fprintf(stderr, "zmtrace: out of memory\n");
	return -1;
}

static int on_event(void *ctx, const struct zm_hdr *h, size_t size)
{
	struct top *t = ctx;

	zi_event(&t->zi, h, size);
	if ((h->type == ZM_EV_RSS || h->type == ZM_EV_OOM) &&
	    size >= sizeof(struct zm_mem_event) &&
	    mst_event(t->mem, (const struct zm_mem_event *)h, NULL))
		t->err = -ENOMEM;
	return t->err || t->zi.err ? out_of_memory() : 0;
}

static void sample_system(struct top *t)
{
	struct sysmem s;

	mi_sample_system(&t->sys, &t->sys_ok, &s);
}

/* A process that renames itself (prctl PR_SET_NAME) sends no memory event:
 * the names about to be shown are read again from /proc. */
static void fresh_names(struct top *t, unsigned rows)
{
	for (size_t i = 0, n = 0; i < t->snap.nprocs && n < rows; i++) {
		struct top_proc *p = &t->snap.proc[i];
		struct ps_proc now;

		if (t->view.suspects_only && !p->suspect)
			continue;
		n++;
		if (!ps_read(p->pid, &now) && now.state != 'Z')
			memcpy(p->comm, now.comm, sizeof(p->comm));
	}
}

/* Show the state: take a snapshot (or reuse the last one, when only the
 * view changed), lay it out, paint it or print it. */
static int refresh(struct top *t, bool take, bool full)
{
	unsigned rows = 24, cols = 80;

	if (take || !t->taken) {
		if (top_take(&t->snap, t->zi.zs, t->mem, t->sys_ok ? &t->sys : NULL,
			     now_boot_ns()))
			return out_of_memory();
		t->snap.lost = tracer_drops(session_tracer(t->session), ZM_DROP_RINGBUF);
		t->taken = true;
	}
	top_sort(&t->snap, &t->view);
	if (t->scr)
		screen_size(t->scr, &rows, &cols);
	fresh_names(t, rows);
	if ((t->frame.rows != rows || t->frame.cols != cols) && frame_resize(&t->frame, rows, cols))
		return out_of_memory();
	top_render(&t->snap, &t->view, &t->frame);
	if (t->scr) {
		screen_paint(t->scr, &t->frame, full);
		return 0;
	}
	frame_print(t->out, &t->frame);
	fputc('\n', t->out);
	return out_check(t->out);
}

static int on_tick(void *ctx, struct session *s)
{
	struct top *t = ctx;

	(void)s;
	sample_system(t);
	if (t->scr && !t->shown)
		return 0;
	return refresh(t, true, false);
}

static int on_input(void *ctx, struct session *s)
{
	struct top *t = ctx;
	char err[256];

	(void)s;
	for (;;) {
		int c = screen_next(t->scr), ret = 0;

		switch (c) {
		case SCREEN_NONE:
			return 0;
		case SCREEN_HANGUP:
			return SESSION_QUIT;
		case SCREEN_START:
			if (screen_start(t->scr, err, sizeof(err))) {
				fprintf(stderr, "zmtrace: %s\n", err);
				return -1;
			}
			t->shown = true;
			t->view.utf8 = screen_utf8(t->scr);
			ret = refresh(t, true, true);
			break;
		case SCREEN_RESIZE:
			ret = refresh(t, false, true);
			break;
		default:
			switch (top_key(&t->view, c)) {
			case TOP_QUIT:
				return SESSION_QUIT;
			case TOP_REDRAW:
				ret = refresh(t, false, false);
				break;
			case TOP_REFRESH:
				ret = refresh(t, true, true);
				break;
			case TOP_NONE:
				break;
			}
		}
		if (ret)
			return ret;
	}
}

static int on_ready(void *ctx, struct session *s)
{
	struct top *t = ctx;
	int err;

	t->session = s;
	err = zi_ready(&t->zi, s);
	if (err)
		return err;
	if (mi_seed_from_proc(t->mem, s))
		return -1;
	sample_system(t);
	return 0;
}

/* Without a screen, the last snapshot. */
static int on_end(void *ctx, struct session *s)
{
	struct top *t = ctx;

	(void)s;
	return t->scr ? 0 : refresh(t, true, false);
}

static void describe(struct top *t, const struct session_opts *o)
{
	if (o->command)
		snprintf(t->what, sizeof(t->what), "%s and descendants", o->command[0]);
	else if (o->pid)
		snprintf(t->what, sizeof(t->what), "pid %u and descendants", o->pid);
	else if (o->comm)
		snprintf(t->what, sizeof(t->what), "%s and children", o->comm);
	else
		snprintf(t->what, sizeof(t->what), "all processes");
	t->view.what = t->what;
}

int cmd_top(int argc, char **argv)
{
	static const char usage[] =
		"zmtrace top [--interval SEC] [--threshold SIZE] [--sample HZ] [--duration SEC] "
		"[-p PID] [-c COMM] [-o FILE] [-v] [-- COMMAND [ARG...]]";
	struct trace_args a = {
		.s = { .what = "memory and zombies", .zombies = true, .rss = true,
		       .rss_threshold = 1 << 20, .interval = 1 },
		.memory_options = true,
	};
	struct zs_sink none = { 0 };
	char err[256];
	int ret = parse_trace_args(argc, argv, usage, &a);

	if (ret)
		return ret == 1 ? 0 : 2;
	if (a.json) {
		fprintf(stderr, "zmtrace: top has no --json (zmtrace rss and zmtrace zombies have)\n");
		return trace_output_close(&a, 2);
	}
	struct top *t = calloc(1, sizeof(*t));

	/* Processes that exited are not shown: a few are kept (memstate's
	 * default, 4096 of 8 KiB, is for rss's summary). */
	if (!t || !(t->mem = mst_new(TOP_KEEP_EXITED)) || !(t->zi.zs = zs_new(&none, 0))) {
		if (t)
			mst_free(t->mem);
		free(t);
		out_of_memory();
		return trace_output_close(&a, 1);
	}
	t->zi.self = (uint32_t)getpid();
	sysmem_hist_init(&t->sys);
	describe(t, &a.s);
	t->view.interval = a.s.interval;
	t->view.sort = TOP_SORT_RSS;
	a.s.ctx = t;
	a.s.on_event = on_event;
	a.s.on_ready = on_ready;
	a.s.on_tick = on_tick;
	a.s.on_end = on_end;
	ret = a.out == stdout && screen_possible() ? screen_open(&t->scr, err, sizeof(err)) : 1;
	if (ret < 0) {
		fprintf(stderr, "zmtrace: %s\n", err);
		ret = 1;
		goto out;
	}
	if (t->scr) {
		a.s.input_fd = screen_fd(t->scr);
		a.s.on_input = on_input;
	} else {
		t->out = a.out;
		setlocale(LC_CTYPE, "");
		t->view.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	}
	ret = session_run(&a.s);
	/* Every way out of the session comes here: the terminal is given
	 * back, and what was said while the screen was up is printed. */
	screen_close(t->scr);
out:
	frame_free(&t->frame);
	top_snapshot_free(&t->snap);
	zs_free(t->zi.zs);
	mst_free(t->mem);
	free(t);
	return trace_output_close(&a, ret);
}
