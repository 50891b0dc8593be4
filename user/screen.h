/*
 * Where zmtrace top's frames go. A struct frame is a screen's worth of text
 * lines with styles, built without a terminal (topview.c); frame_print()
 * writes one as plain text, and a struct screen paints them on a terminal
 * with ncurses.
 *
 * A screen owns the terminal from screen_open() to screen_close(): fd 0
 * becomes /dev/null and fds 1 and 2 a capture, so that nothing else (a --
 * COMMAND started later, which inherits them; zmtrace's own messages) writes
 * over the screen or takes its keys. What was captured is printed on the real
 * stderr when the screen shows (before it) and when it closes (after; the
 * last 64 KiB at most). The terminal is given back on every exit path that
 * returns; a fatal signal (SIGQUIT, SIGSEGV, ...) restores it before the
 * process dies.
 */
#ifndef ZM_SCREEN_H
#define ZM_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fr_style {
	FR_NORMAL,
	FR_TITLE,     /* the title line (reverse) */
	FR_HEAD,      /* a column header (reverse) */
	FR_HEAD_SORT, /* the sorted column in a header */
	FR_BOLD,
	FR_ALERT,     /* leak suspects, unreaped zombies, warnings */
	FR_DIM,
};

struct frame_line {
	char *text; /* UTF-8, at most cols characters, each one column wide */
	enum fr_style style;
	unsigned hl_col, hl_len; /* a span in hl_style (hl_len 0: none) */
	enum fr_style hl_style;
};

struct frame {
	unsigned rows, cols;
	struct frame_line *line;
	char *buf;
	size_t stride; /* bytes of each line's text buffer */
};

/* Size the frame; its lines are cleared. 0 or -ENOMEM (the frame is then
 * left as it was). */
int frame_resize(struct frame *f, unsigned rows, unsigned cols);
void frame_free(struct frame *f);
void frame_clear(struct frame *f);
/* Set line row (nothing when row >= rows), cut at cols characters. */
void frame_printf(struct frame *f, unsigned row, enum fr_style style, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Draw columns [col, col + len) of line row in style. */
void frame_highlight(struct frame *f, unsigned row, unsigned col, unsigned len,
		     enum fr_style style);
/* Characters (not bytes) in a UTF-8 string. */
size_t utf8_width(const char *s);
/* Print the frame as plain text, without its trailing empty lines. */
void frame_print(FILE *out, const struct frame *f);

struct screen;

/* Can this process have a screen: are stdin and stdout terminals? */
bool screen_possible(void);

/* Take over the terminal (see above); the screen shows at the first
 * SCREEN_START from screen_next(). 0; 1 when the terminal cannot move its
 * cursor (TERM=dumb: nothing done, *out is NULL); or -1 with a message in
 * err (a terminal type curses does not know, ...). */
int screen_open(struct screen **out, char *err, size_t len);
/* Polls readable when screen_next() has something. */
int screen_fd(const struct screen *s);

/* screen_next()'s values besides a key (a character or an ncurses KEY_*). */
enum {
	SCREEN_NONE = -1,	  /* nothing more for now */
	SCREEN_START = 0x100000,  /* time to show the screen: screen_start() */
	SCREEN_RESIZE,		  /* the terminal changed size: repaint */
	SCREEN_HANGUP,		  /* the terminal is gone */
};
int screen_next(struct screen *s);

/* Show the screen (full-screen mode, keys without echo). 0, or -1 with a
 * message in err. */
int screen_start(struct screen *s, char *err, size_t len);
/* Is the locale's character set UTF-8 (known after screen_start)? */
bool screen_utf8(const struct screen *s);
/* The terminal's size (24x80 before screen_start). */
void screen_size(const struct screen *s, unsigned *rows, unsigned *cols);
/* Paint the frame; with full, repaint every character (Ctrl-L). */
void screen_paint(struct screen *s, const struct frame *f, bool full);

/* Give the terminal back: full-screen mode ended, fds 0-2 restored, the
 * messages captured since the screen showed printed on stderr. NULL is
 * fine. */
void screen_close(struct screen *s);

#endif
