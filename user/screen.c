/* Frames, and the terminal they are painted on: see screen.h. */
#include "screen.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <term.h>
#include <unistd.h>

/* ---- frames ---- */

int frame_resize(struct frame *f, unsigned rows, unsigned cols)
{
	size_t stride = (size_t)cols * 4 + 1; /* UTF-8: 4 bytes a character */
	struct frame_line *line = calloc(rows ? rows : 1, sizeof(*line));
	char *buf = calloc(rows ? rows : 1, stride);

	if (!line || !buf) {
		free(line);
		free(buf);
		return -ENOMEM;
	}
	free(f->line);
	free(f->buf);
	f->line = line;
	f->buf = buf;
	f->rows = rows;
	f->cols = cols;
	f->stride = stride;
	for (unsigned r = 0; r < rows; r++)
		line[r].text = buf + r * stride;
	return 0;
}

void frame_free(struct frame *f)
{
	free(f->line);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

void frame_clear(struct frame *f)
{
	for (unsigned r = 0; r < f->rows; r++) {
		f->line[r].text[0] = 0;
		f->line[r].style = FR_NORMAL;
		f->line[r].hl_len = 0;
	}
}

/* Bytes of s that hold its first n characters. */
static size_t utf8_prefix(const char *s, size_t n)
{
	size_t i = 0;

	while (s[i] && n) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

size_t utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void frame_printf(struct frame *f, unsigned row, enum fr_style style, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	if (row >= f->rows)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	size_t n = utf8_prefix(tmp, f->cols);

	if (n >= f->stride)
		n = f->stride - 1;
	memcpy(f->line[row].text, tmp, n);
	f->line[row].text[n] = 0;
	f->line[row].style = style;
	f->line[row].hl_len = 0;
}

void frame_highlight(struct frame *f, unsigned row, unsigned col, unsigned len,
		     enum fr_style style)
{
	if (row >= f->rows)
		return;
	f->line[row].hl_col = col;
	f->line[row].hl_len = len;
	f->line[row].hl_style = style;
}

void frame_print(FILE *out, const struct frame *f)
{
	unsigned last = f->rows;

	while (last && !f->line[last - 1].text[0])
		last--;
	for (unsigned r = 0; r < last; r++) {
		const char *t = f->line[r].text;
		size_t n = strlen(t);

		while (n && t[n - 1] == ' ')
			n--;
		fprintf(out, "%.*s\n", (int)n, t);
	}
}

/* ---- the terminal ---- */

/* Messages captured while the screen is up: the last CAPTURE_KEEP bytes are
 * kept when they pass CAPTURE_MAX (a -- COMMAND may write a lot on its
 * stderr, which is ours). */
#define CAPTURE_MAX (1 << 20)
#define CAPTURE_KEEP (64 << 10)

/* Signals that end the process; the terminal is restored first. */
static const int fatal_signals[] = { SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

enum { TAG_TTY, TAG_WINCH, TAG_START };

struct screen {
	int tty_in, tty_out, tty_err; /* the real fds 0, 1, 2 (our copies) */
	int capture;		      /* memfd on fd 2 */
	int ep;			      /* the tty, the SIGWINCH signalfd, the start timer */
	int winch, start;
	sigset_t old_mask;
	bool mask_saved;
	bool redirected; /* fds 0-2 are ours */
	bool started;	 /* curses is up */
	bool utf8;
	SCREEN *term;
	FILE *cin, *cout;
	struct sigaction old_fatal[NFATAL];
};

bool screen_possible(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

/* Copy what the capture holds since offset from to fd (its last
 * CAPTURE_KEEP bytes at most, from a line start). */
static void replay(int capture, off_t from, int fd)
{
	struct stat st;
	char *buf;

	if (capture < 0 || fd < 0 || fstat(capture, &st) || st.st_size <= from)
		return;
	size_t n = (size_t)(st.st_size - from);
	off_t at = from;

	if (n > CAPTURE_KEEP) {
		at = st.st_size - CAPTURE_KEEP;
		n = CAPTURE_KEEP;
	}
	buf = malloc(n);
	if (!buf)
		return;
	ssize_t got = pread(capture, buf, n, at);
	size_t skip = 0;

	if (got > 0 && at != from) {
		while (skip < (size_t)got && buf[skip] != '\n')
			skip++;
		skip += skip < (size_t)got;
		dprintf(fd, "zmtrace: (%lld bytes of messages left out)\n",
			(long long)(at - from + (off_t)skip));
	}
	for (ssize_t off = (ssize_t)skip, w; got > 0 && off < got; off += w) {
		w = write(fd, buf + off, (size_t)(got - off));
		if (w <= 0)
			break;
	}
	free(buf);
}

/* Keep the capture bounded: its last CAPTURE_KEEP bytes when it passes
 * CAPTURE_MAX. */
static void trim_capture(struct screen *s)
{
	struct stat st;

	if (fstat(s->capture, &st) || st.st_size <= CAPTURE_MAX)
		return;
	char *buf = malloc(CAPTURE_KEEP);

	if (!buf)
		return;
	ssize_t got = pread(s->capture, buf, CAPTURE_KEEP, st.st_size - CAPTURE_KEEP);

	/* Messages lost on a failure here are only messages. */
	if (got > 0 && !ftruncate(s->capture, 0) && write(s->capture, buf, (size_t)got) < 0)
		got = 0;
	free(buf);
}

static int add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void restore_fds(struct screen *s)
{
	if (!s->redirected)
		return;
	dup2(s->tty_in, STDIN_FILENO);
	dup2(s->tty_out, STDOUT_FILENO);
	dup2(s->tty_err, STDERR_FILENO);
	s->redirected = false;
}

int screen_open(struct screen **out, char *err, size_t len)
{
	struct screen *s = calloc(1, sizeof(*s));
	struct itimerspec now = { .it_value.tv_nsec = 1 };
	sigset_t winch;
	int null = -1, e = 0;

	*out = NULL;
	if (!s) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	s->tty_in = s->tty_out = s->tty_err = s->capture = s->ep = s->winch = s->start = -1;
	/* A terminal curses cannot drive is an error now, not a garbled
	 * screen later. */
	if (setupterm(NULL, STDOUT_FILENO, &e) != OK) {
		const char *t = getenv("TERM");

		snprintf(err, len, "top needs a terminal that curses knows (TERM is %s%s%s)",
			 t ? "'" : "", t ? t : "unset", t ? "'" : "");
		free(s);
		return -1;
	}
	/* A terminal that cannot move the cursor (TERM=dumb): text. */
	const char *cup = tigetstr("cup");
	bool dumb = !cup || cup == (const char *)-1;

	del_curterm(cur_term);
	if (dumb) {
		free(s);
		return 1;
	}
	sigemptyset(&winch);
	sigaddset(&winch, SIGWINCH);
	s->tty_in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	s->tty_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	s->tty_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	s->capture = memfd_create("zmtrace-messages", MFD_CLOEXEC);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->start = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tty_in < 0 || s->tty_out < 0 || s->tty_err < 0 || s->capture < 0 || null < 0 ||
	    s->ep < 0 || s->start < 0 || sigprocmask(SIG_BLOCK, &winch, &s->old_mask))
		goto fail;
	s->mask_saved = true;
	s->winch = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->winch < 0 || add(s->ep, s->tty_in, TAG_TTY) || add(s->ep, s->winch, TAG_WINCH) ||
	    add(s->ep, s->start, TAG_START) || timerfd_settime(s->start, 0, &now, NULL) ||
	    fcntl(s->capture, F_SETFL, O_APPEND))
		goto fail;
	fflush(stdout);
	fflush(stderr);
	if (dup2(null, STDIN_FILENO) < 0 || dup2(s->capture, STDOUT_FILENO) < 0 ||
	    dup2(s->capture, STDERR_FILENO) < 0) {
		e = errno;
		s->redirected = true;
		restore_fds(s);
		errno = e;
		goto fail;
	}
	s->redirected = true;
	close(null);
	*out = s;
	return 0;
fail:
	snprintf(err, len, "taking over the terminal: %s", strerror(errno));
	if (null >= 0)
		close(null);
	screen_close(s);
	return -1;
}

int screen_fd(const struct screen *s)
{
	return s->ep;
}

/* The terminal's size, as the kernel knows it. */
static bool tty_size(const struct screen *s, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (ioctl(s->tty_out, TIOCGWINSZ, &ws) || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

int screen_next(struct screen *s)
{
	struct epoll_event evs[3];
	int n = epoll_wait(s->ep, evs, 3, 0);
	bool tty = false, hup = false;

	/* One thing at a time: what is left stays ready (level-triggered)
	 * for the next call. */

	for (int i = 0; i < n; i++) {
		switch (evs[i].data.u32) {
		case TAG_START: {
			uint64_t x;

			if (read(s->start, &x, sizeof(x)) == sizeof(x) && !s->started)
				return SCREEN_START;
			break;
		}
		case TAG_WINCH: {
			struct signalfd_siginfo si;
			unsigned rows, cols;
			bool got = false;

			while (read(s->winch, &si, sizeof(si)) == sizeof(si))
				got = true;
			if (got && s->started && tty_size(s, &rows, &cols)) {
				resizeterm((int)rows, (int)cols);
				return SCREEN_RESIZE;
			}
			break;
		}
		case TAG_TTY:
			tty = true;
			hup = evs[i].events & (EPOLLHUP | EPOLLERR);
			break;
		}
	}
	/* Keys curses has read ahead are not on the fd any more: ask it
	 * even when the fd is quiet. */
	if (s->started) {
		int c = wgetch(stdscr);

		if (c == KEY_RESIZE)
			return SCREEN_RESIZE;
		if (c != ERR)
			return c;
	}
	if (hup)
		return SCREEN_HANGUP;
	if (tty && !s->started) {
		/* Keys before the screen shows: dropped. */
		char junk[64];

		if (read(s->tty_in, junk, sizeof(junk)) <= 0)
			return SCREEN_HANGUP;
	}
	return SCREEN_NONE;
}

/* A fatal signal: the terminal first, then the signal's default action
 * (SA_RESETHAND put it back; the signal is delivered again when the handler
 * returns, or the fault repeats). */
static void on_fatal(int sig)
{
	endwin();
	raise(sig);
}

static attr_t attr_of(enum fr_style st, bool colors)
{
	switch (st) {
	case FR_TITLE:
	case FR_HEAD:
		return A_REVERSE;
	case FR_HEAD_SORT:
		return A_REVERSE | A_BOLD | (colors ? COLOR_PAIR(2) : 0);
	case FR_BOLD:
		return A_BOLD;
	case FR_ALERT:
		return A_BOLD | (colors ? COLOR_PAIR(1) : 0);
	case FR_DIM:
		return A_DIM;
	case FR_NORMAL:
		break;
	}
	return A_NORMAL;
}

int screen_start(struct screen *s, char *err, size_t len)
{
	int in = -1, out = -1;

	/* What was said before the screen shows goes on the real terminal
	 * (where it stays visible under the screen and after it). */
	replay(s->capture, 0, s->tty_err);
	if (ftruncate(s->capture, 0) < 0)
		errno = 0; /* they are printed again at the end: harmless */
	setlocale(LC_CTYPE, "");
	s->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	in = fcntl(s->tty_in, F_DUPFD_CLOEXEC, 3);
	out = fcntl(s->tty_out, F_DUPFD_CLOEXEC, 3);
	if (in >= 0)
		s->cin = fdopen(in, "r");
	if (out >= 0)
		s->cout = fdopen(out, "w");
	if (!s->cin || !s->cout) {
		snprintf(err, len, "terminal: %s", strerror(errno));
		if (!s->cin && in >= 0)
			close(in);
		if (!s->cout && out >= 0)
			close(out);
		return -1;
	}
	s->term = newterm(NULL, s->cout, s->cin);
	if (!s->term) {
		snprintf(err, len, "cannot start curses on this terminal");
		return -1;
	}
	set_term(s->term);
	s->started = true;
	for (size_t i = 0; i < NFATAL; i++) {
		struct sigaction sa = { .sa_handler = on_fatal, .sa_flags = SA_RESETHAND };

		sigemptyset(&sa.sa_mask);
		sigaction(fatal_signals[i], &sa, &s->old_fatal[i]);
	}
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	leaveok(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_YELLOW, COLOR_BLACK);
	}
	return 0;
}

bool screen_utf8(const struct screen *s)
{
	return s->utf8;
}

void screen_size(const struct screen *s, unsigned *rows, unsigned *cols)
{
	int r, c;

	*rows = 24;
	*cols = 80;
	if (!s->started)
		return;
	getmaxyx(stdscr, r, c);
	if (r > 0 && c > 0) {
		*rows = (unsigned)r;
		*cols = (unsigned)c;
	}
}

/* Columns [from, to) of line l, in style st. */
static void put(const struct frame_line *l, unsigned from, unsigned to, attr_t a)
{
	size_t b0 = utf8_prefix(l->text, from), b1 = utf8_prefix(l->text, to);

	if (b1 <= b0)
		return;
	attrset(a);
	addnstr(l->text + b0, (int)(b1 - b0));
}

void screen_paint(struct screen *s, const struct frame *f, bool full)
{
	bool colors = has_colors();
	int rows, cols;

	if (!s->started)
		return;
	getmaxyx(stdscr, rows, cols);
	for (int r = 0; r < rows; r++) {
		move(r, 0);
		if ((unsigned)r >= f->rows) {
			attrset(A_NORMAL);
			clrtoeol();
			continue;
		}
		const struct frame_line *l = &f->line[r];
		attr_t a = attr_of(l->style, colors);
		unsigned w = (unsigned)utf8_width(l->text);

		if (w > (unsigned)cols)
			w = (unsigned)cols;
		if (l->hl_len && l->hl_col < w) {
			unsigned end = l->hl_col + l->hl_len < w ? l->hl_col + l->hl_len : w;

			put(l, 0, l->hl_col, a);
			put(l, l->hl_col, end, attr_of(l->hl_style, colors));
			put(l, end, w, a);
		} else {
			put(l, 0, w, a);
		}
		attrset(a);
		/* Reverse lines span the width (the last cell is left alone:
		 * writing it would scroll the bottom line). */
		if (l->style == FR_TITLE || l->style == FR_HEAD)
			for (int c = (int)w; c < cols - (r == rows - 1); c++)
				addch(' ');
		clrtoeol();
	}
	attrset(A_NORMAL);
	if (full)
		clearok(curscr, TRUE);
	refresh();
	trim_capture(s);
}

void screen_close(struct screen *s)
{
	if (!s)
		return;
	if (s->started) {
		endwin();
		delscreen(s->term);
		for (size_t i = 0; i < NFATAL; i++)
			sigaction(fatal_signals[i], &s->old_fatal[i], NULL);
	}
	if (s->cin)
		fclose(s->cin);
	if (s->cout)
		fclose(s->cout);
	fflush(stderr);
	restore_fds(s);
	replay(s->capture, 0, s->tty_err >= 0 ? STDERR_FILENO : -1);
	if (s->winch >= 0)
		close(s->winch);
	/* Only SIGWINCH is given back: the session keeps SIGINT and such
	 * blocked, and one pending now must not kill us before the end. */
	if (s->mask_saved && !sigismember(&s->old_mask, SIGWINCH)) {
		sigset_t winch;

		sigemptyset(&winch);
		sigaddset(&winch, SIGWINCH);
		sigprocmask(SIG_UNBLOCK, &winch, NULL);
	}
	int fds[] = { s->tty_in, s->tty_out, s->tty_err, s->capture, s->ep, s->start };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s);
}
