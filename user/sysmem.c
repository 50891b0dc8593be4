/* System memory from /proc/meminfo, its history, the system verdict. */
#include "sysmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memseries.h"

/*
 * Swap "keeps rising": the RSS rules (same fit, same shapes rejected: a
 * single jump, ups and downs, a rise that stopped) with a larger absolute
 * rise, 4 MiB over the history: swap use moves by a few pages all the time,
 * and a few MiB more of swap is not yet news.
 */
static const struct ms_rules swap_rules = {
	.min_span_ns = 10ULL * 1000 * 1000 * 1000,
	.min_levels = 4,
	.min_growth = 4096,
	.min_growth_frac = 0.01,
	.max_drawdown_frac = 0.25,
	.sawtooth_frac = 0.05,
	.min_recent_frac = 0.25,
	.min_r2 = 0.8,
	.steps_max = 20,
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The value of a "Key:   1234 kB" line after the colon: digits, optional
 * " kB", then the end of the line. 0, or -EINVAL. */
static int parse_kb(const char *p, uint64_t *out)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	uint64_t v = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == 'k' && p[1] == 'B')
		p += 2;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p && *p != '\n')
		return -EINVAL;
	*out = v;
	return 0;
}

enum { K_TOTAL, K_FREE, K_BUFFERS, K_CACHED, K_SRECL, K_SWTOTAL, K_SWFREE, K_N };

int sysmem_parse(const char *text, struct sysmem *out)
{
	static const char *const keys[K_N] = {
		"MemTotal", "MemFree", "Buffers", "Cached", "SReclaimable", "SwapTotal", "SwapFree",
	};
	uint64_t val[K_N] = { 0 };
	bool seen[K_N] = { false };

	memset(out, 0, sizeof(*out));
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n'), *colon = strchr(line, ':');

		if (colon && (!nl || colon < nl)) {
			size_t klen = (size_t)(colon - line);

			for (int k = 0; k < K_N; k++) {
				if (strlen(keys[k]) != klen || memcmp(keys[k], line, klen))
					continue;
				if (parse_kb(colon + 1, &val[k]))
					return -EINVAL;
				seen[k] = true;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!seen[K_TOTAL] || !seen[K_FREE])
		return -EINVAL;
	out->total_kb = val[K_TOTAL];
	out->free_kb = val[K_FREE];
	out->used_kb = sub0(val[K_TOTAL], val[K_FREE]);
	out->buffers_kb = val[K_BUFFERS];
	out->cached_kb = add_sat(val[K_CACHED], val[K_SRECL]);
	out->app_kb = sub0(sub0(out->used_kb, out->buffers_kb), out->cached_kb);
	out->swap_total_kb = val[K_SWTOTAL];
	out->swap_used_kb = sub0(val[K_SWTOTAL], val[K_SWFREE]);
	return 0;
}

int sysmem_read(struct sysmem *out, uint64_t ts_ns)
{
	char buf[8192];
	size_t len = 0;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	int err = sysmem_parse(buf, out);

	if (err)
		return err;
	out->ts_ns = ts_ns;
	return 0;
}

void sysmem_hist_init(struct sysmem_hist *h)
{
	memset(h, 0, sizeof(*h));
}

const struct sysmem *sysmem_hist_at(const struct sysmem_hist *h, unsigned i)
{
	if (i >= h->n)
		return NULL;
	return &h->s[(h->first + i) % SYSMEM_HIST];
}

const struct sysmem *sysmem_hist_last(const struct sysmem_hist *h)
{
	return h->n ? sysmem_hist_at(h, h->n - 1) : NULL;
}

void sysmem_hist_add(struct sysmem_hist *h, const struct sysmem *s)
{
	const struct sysmem *last = sysmem_hist_last(h);
	uint64_t min_ts = last ? last->ts_ns : 0;
	struct sysmem *slot;

	if (h->n < SYSMEM_HIST) {
		slot = &h->s[(h->first + h->n) % SYSMEM_HIST];
		h->n++;
	} else {
		slot = &h->s[h->first];
		h->first = (h->first + 1) % SYSMEM_HIST;
	}
	*slot = *s;
	if (slot->ts_ns < min_ts)
		slot->ts_ns = min_ts;
}

/* "+3.1 MiB/s", "+120 kB/s". */
static void fmt_rate(char *buf, size_t len, double kb_s)
{
	if (kb_s >= 1024.0 * 1024)
		snprintf(buf, len, "%+.1f GiB/s", kb_s / (1024.0 * 1024));
	else if (kb_s >= 1024)
		snprintf(buf, len, "%+.1f MiB/s", kb_s / 1024);
	else
		snprintf(buf, len, "%+.0f kB/s", kb_s);
}

void sysmem_verdict(const struct sysmem_hist *h, struct sys_verdict *v)
{
	memset(v, 0, sizeof(*v));
	const struct sysmem *last = sysmem_hist_last(h);

	if (!last) {
		snprintf(v->verdict, sizeof(v->verdict), "no data");
		return;
	}
	if (last->used_kb)
		v->app_pct_of_used = 100.0 * (double)last->app_kb / (double)last->used_kb;
	v->app_high = v->app_pct_of_used >= SYS_APP_HIGH_PCT;

	struct ms_view view = {
		.base = h->s,
		.n = h->n,
		.first = h->first,
		.cap = SYSMEM_HIST,
		.stride = sizeof(h->s[0]),
		.ts_off = offsetof(struct sysmem, ts_ns),
		.y_off = offsetof(struct sysmem, swap_used_kb),
		.drop_off = MS_NO_FIELD,
	};
	struct ms_fit f;
	enum ms_trend t = ms_judge_window(&view, 0, last->ts_ns, &swap_rules, &f);

	v->swap_slope_kb_s = f.slope;
	v->swap_r2 = f.r2;
	v->swap_rising = ms_trend_grows(t);

	char app[56] = "", swap[48] = "", rate[24];

	if (v->app_high)
		snprintf(app, sizeof(app), "apps use %.0f%% of used memory (little cache left)",
			 v->app_pct_of_used);
	if (v->swap_rising) {
		fmt_rate(rate, sizeof(rate), f.slope);
		snprintf(swap, sizeof(swap), "swap use keeps rising (%s)", rate);
	}
	if (!app[0] && !swap[0])
		snprintf(v->verdict, sizeof(v->verdict), "ok");
	else
		snprintf(v->verdict, sizeof(v->verdict), "%s%s%s", app,
			 app[0] && swap[0] ? "; " : "", swap);
}
