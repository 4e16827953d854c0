// SPDX-License-Identifier: MIT
/*
 * kfarm-guest.c - the in-guest runner.
 *
 *   kfarm-guest --list          (id, group, description, deterministic|racy, the
 *                                racy repetition multiplier: tab-separated)
 *   kfarm-guest --catalog       (the catalog as Markdown: guest-tests/CATALOG.md)
 *   kfarm-guest --run all|ID[,ID...] [--reps N] [--reps-for ID=N,...] [--timeout-ms T]
 *               [--order-seed S] [--framed] [--output PATH]
 *               [--strict]
 *   kfarm-guest --from-cmdline     (the guest payload: kfarm.run=, kfarm.reps=,
 *                                   kfarm.reps_for=, kfarm.timeout_ms=,
 *                                   kfarm.order= from /proc/cmdline; framed
 *                                   records to /dev/ttyS1)
 *
 * Each repetition runs in a forked child in its own process group, watched with
 * a pidfd (or its result pipe on kernels without pidfd_open) and killed with its
 * whole group on timeout. The runner is a child subreaper, so tracees orphaned by
 * a repetition come back to it; after every repetition it kills and reaps by pid
 * whatever the repetition left (its group, and any child of the runner).
 *
 * A racy scenario runs reps_mult times the repetitions asked for. A nonzero
 * order seed shuffles the selected scenarios (the host gives both guests of a
 * block the same seed, so they run the same scenario at the same time). --strict makes
 * the exit status 1 when a cell is neither ok nor unsupported, or when a
 * deterministic scenario shows more than one distinct observation.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "guest.h"
#include "lab.h"
#include "scenarios.h"

#define DEFAULT_REPS 20
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_REPS 1000000

enum rep_kind { K_OK, K_UNSUPPORTED, K_ERROR, K_CRASHED, K_TIMEOUT };

struct outcome {
	char *obs;
	int count;
};

/* What a cell's outcomes past what one record carries are counted as. */
#define OBS_TRUNCATED "{\"rep\":\"truncated\"}"

struct cell {
	const struct cell_spec *cs;
	const struct scenario *sc;
	struct outcome *out;
	size_t nout;
	int reps;
	int n[K_TIMEOUT + 1];
	long long duration_ms;
	char first_error[128];
};

struct runner {
	struct cell_spec *list;
	size_t nlist, cap;
	enum space space;  /* what "all" and "ID[*]" take of each scenario's space */
	int variant_reps;  /* repetitions of a cell that varies an axis (0: --reps) */
	int reps;
	char reps_for[1024]; /* "ID:N,ID:N": exact repetitions for these scenarios */
	int timeout_ms;
	int framed;
	int strict;        /* --strict: see above */
	unsigned long long order_seed; /* 0: the order given; else a seeded shuffle */
	int fd;            /* where records / the summary go */
	unsigned long seq; /* next frame */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kfarm-guest --list [--space base|sample|full] | --catalog | --expand\n"
		"       kfarm-guest --run all|CELL[,CELL...] [--space base|sample|full] [--reps N]\n"
		"                   [--variant-reps N] [--reps-for CELL=N,...] [--timeout-ms T]\n"
		"                   [--order-seed S] [--framed] [--output PATH] [--strict]\n"
		"       (CELL: ID, ID[axis=value,...], or ID[*] for ID's cells in the space)\n"
		"       kfarm-guest --from-cmdline\n");
}

/* ---------------------------------------------------------------- output */

static int emit(struct runner *R, const char *payload)
{
	size_t len = strlen(payload);

	if (R->framed) {
		if (frame_write(R->fd, R->seq, payload, len) < 0) {
			fprintf(stderr, "kfarm-guest: write results: %s\n", strerror(errno));
			return -1;
		}
		R->seq++;
	}
	return 0;
}

static void emit_hello(struct runner *R)
{
	struct sbuf sb = { 0 };
	struct utsname u;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	sbuf_puts(&sb, "{\"t\":\"hello\",\"proto\":1,\"uname\":");
	sbuf_json_str(&sb, u.release);
	sbuf_printf(&sb, ",\"nproc\":%ld,\"reps\":%d,\"timeout_ms\":%d,\"scenarios\":[",
		    ncpu > 0 ? ncpu : 1, R->reps, R->timeout_ms);
	for (i = 0; i < R->nlist; i++) {
		/* A frame has room for a few thousand ids; past that the host uses its plan. */
		if (sb.len > KF1_MAX_PAYLOAD / 2) {
			sbuf_puts(&sb, "],\"truncated\":true}");
			emit(R, sb.buf);
			sbuf_release(&sb);
			return;
		}
		if (i)
			sbuf_puts(&sb, ",");
		sbuf_json_str(&sb, R->list[i].id);
	}
	sbuf_puts(&sb, "]}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static void emit_start(struct runner *R, const struct cell_spec *cs)
{
	struct sbuf sb = { 0 };

	sbuf_puts(&sb, "{\"t\":\"start\",\"scenario\":");
	sbuf_json_str(&sb, cs->id);
	sbuf_puts(&sb, "}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static const char *cell_status(const struct cell *c)
{
	if (c->n[K_TIMEOUT])
		return "timeout";
	if (c->n[K_ERROR] || c->n[K_CRASHED])
		return "error";
	if (c->n[K_UNSUPPORTED])
		return "unsupported";
	return "ok";
}

static void cell_error_text(const struct cell *c, char *out, size_t n)
{
	out[0] = '\0';
	if (c->n[K_TIMEOUT])
		snprintf(out, n, "%d of %d repetitions timed out", c->n[K_TIMEOUT], c->reps);
	else if (c->n[K_ERROR] || c->n[K_CRASHED])
		snprintf(out, n, "%d of %d repetitions failed: %s", c->n[K_ERROR] + c->n[K_CRASHED],
			 c->reps, c->first_error);
	else if (c->n[K_UNSUPPORTED])
		snprintf(out, n, "unsupported: %s", c->first_error);
}

static void emit_cell(struct runner *R, const struct cell *c)
{
	struct sbuf sb = { 0 };
	char err[256];
	size_t i;
	int rest = 0;

	sbuf_puts(&sb, "{\"t\":\"cell\",\"scenario\":");
	sbuf_json_str(&sb, c->cs->id);
	sbuf_printf(&sb, ",\"status\":\"%s\",\"reps\":%d,\"duration_ms\":%lld", cell_status(c),
		    c->reps, c->duration_ms);
	if (c->sc->racy)
		sbuf_puts(&sb, ",\"racy\":true");
	cell_error_text(c, err, sizeof(err));
	if (err[0]) {
		sbuf_puts(&sb, ",\"error\":");
		sbuf_json_str(&sb, err);
	}
	sbuf_puts(&sb, ",\"outcomes\":[");
	for (i = 0; i < c->nout; i++) {
		/* Keep the record under the frame limit: fold the tail into one outcome. */
		if (rest || sb.len + strlen(c->out[i].obs) + 64 > KF1_MAX_PAYLOAD - 256) {
			rest += c->out[i].count;
			continue;
		}
		sbuf_printf(&sb, "%s{\"observation\":%s,\"count\":%d}", i ? "," : "", c->out[i].obs,
			    c->out[i].count);
	}
	if (rest)
		sbuf_printf(&sb, "%s{\"observation\":%s,\"count\":%d}", c->nout ? "," : "",
			    OBS_TRUNCATED, rest);
	sbuf_puts(&sb, "]}");
	emit(R, sb.buf);
	sbuf_release(&sb);
}

static void print_cell(struct runner *R, const struct cell *c)
{
	struct sbuf sb = { 0 };
	char err[256];
	size_t i;

	sbuf_printf(&sb, "%-32s %-11s %d reps, %lld ms%s\n", c->cs->id, cell_status(c), c->reps,
		    c->duration_ms, c->sc->racy ? ", \"racy\":true" : "");
	cell_error_text(c, err, sizeof(err));
	if (err[0])
		sbuf_printf(&sb, "    error: %s\n", err);
	for (i = 0; i < c->nout; i++)
		sbuf_printf(&sb, "    %6d  %s\n", c->out[i].count, c->out[i].obs);
	write_all(R->fd, sb.buf, sb.len);
	sbuf_release(&sb);
}

/* ---------------------------------------------------------------- repetitions */

static void rep_child(const struct cell_spec *cs, int wfd, int timeout_ms)
{
	struct sbuf sb = { 0 };
	struct obs o;
	sigset_t none;
	char *text;
	int rc, sig;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	runner_private_fd = wfd;
	/* Room for a few sequential guarded waits inside one repetition. */
	/*
	 * Each bounded wait inside a repetition gets a quarter of its timeout:
	 * what it waits for takes milliseconds on a healthy kernel, but a TCG
	 * guest sharing two host cores with other guests can take seconds, and
	 * a wait that runs out is recorded as an observation, so it must not run
	 * out merely because the host is busy.
	 */
	wait_limit_ms = timeout_ms / 4;
	if (wait_limit_ms < 50)
		wait_limit_ms = 50;

	obs_init(&o);
	rc = cs->sc->run(&o, &cs->v, cs->sc->arg);
	if (rc != REP_OK && rc != REP_UNSUPPORTED) {
		rc = REP_ERROR;
		obs_str(&o, "rep", "error");
		if (!obs_get(&o, "error"))
			obs_str(&o, "error", "scenario-failed");
	}
	text = obs_render(&o);
	sbuf_printf(&sb, "%s %s\n", rc == REP_OK ? "ok" : rc == REP_UNSUPPORTED ? "unsupported" : "error",
		    text);
	write_all(wfd, sb.buf, sb.len);
	_exit(0);
}

/* Read ppid and pgrp from /proc/PID/stat; -1 if gone. */
static int proc_ids(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char buf[1024], *p;
	int pp, pg;

	if (procfs_read(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %d", &pp, &pg) != 2)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	return 0;
}

/*
 * Kill what a repetition left: its process group, and any child of ours
 * (orphans come back to the subreaper). Reap our children by pid. Loops until
 * nothing is left, for at most a few seconds.
 */
/*
 * The common case without a /proc scan: SIGKILL the repetition's group and
 * reap our children until none is left. 0 when none is left; -1 when some
 * child of ours is still alive after a short while (one outside the group).
 */
static int reap_group_fast(pid_t pgid)
{
	long long end = monotonic_ms() + 50;
	pid_t r;
	int st;

	if (pgid > 0)
		kill(-pgid, SIGKILL);
	for (;;) {
		r = waitpid(-1, &st, WNOHANG | __WALL);
		if (r > 0)
			continue;
		if (r < 0 && errno == ECHILD)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (monotonic_ms() >= end)
			return -1;
		sleep_ms(1);
	}
}

static void reap_leftovers(pid_t pgid)
{
	long long end = monotonic_ms() + 5000;
	pid_t self = getpid(), pid, ppid, pgrp;
	struct dirent *de;
	int left, st;
	DIR *d;

	if (reap_group_fast(pgid) == 0)
		return;
	do {
		left = 0;
		d = opendir("/proc");
		if (!d)
			return;
		while ((de = readdir(d))) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)atoi(de->d_name);
			if (pid == self || proc_ids(pid, &ppid, &pgrp) < 0)
				continue;
			if (ppid != self && !(pgid > 0 && pgrp == pgid))
				continue;
			kill(pid, SIGKILL);
			if (ppid == self && waitpid(pid, &st, WNOHANG | __WALL) == pid)
				continue;
			left++;
		}
		closedir(d);
		if (left)
			sleep_ms(1);
	} while (left && monotonic_ms() < end);
}

/* One repetition: its kind, and its observation text (owned) in *obs. */
static enum rep_kind run_rep(const struct cell_spec *cs, int timeout_ms, char **obs)
{
	long long deadline = monotonic_ms() + timeout_ms, left;
	struct sbuf sb = { 0 };
	struct pollfd pfd[2];
	int p[2], pidfd, eof = 0, exited = 0, st = 0, npfd;
	enum rep_kind kind;
	char buf[4096], *nl, *sp;
	ssize_t n;
	pid_t pid;

	*obs = NULL;
	if (pipe2(p, O_CLOEXEC) < 0) {
		*obs = strdup("{\"error\":\"runner-pipe\",\"rep\":\"error\"}");
		return K_ERROR;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		*obs = strdup("{\"error\":\"runner-fork\",\"rep\":\"error\"}");
		return K_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		rep_child(cs, p[1], timeout_ms);
	}
	close(p[1]);
	setpgid(pid, pid); /* also done by the child: whichever runs first */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	while (!(eof && (exited || pidfd < 0))) {
		left = deadline - monotonic_ms();
		if (left <= 0)
			break;
		npfd = 0;
		if (!eof) {
			pfd[npfd].fd = p[0];
			pfd[npfd++].events = POLLIN;
		}
		if (pidfd >= 0 && !exited) {
			pfd[npfd].fd = pidfd;
			pfd[npfd++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)npfd, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pidfd >= 0 && !exited && (pfd[npfd - 1].revents & (POLLIN | POLLHUP)))
			exited = 1;
		if (!eof && (pfd[0].revents & (POLLIN | POLLHUP))) {
			n = read(p[0], buf, sizeof(buf));
			if (n > 0)
				sbuf_add(&sb, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				eof = 1;
		}
	}
	close(p[0]);
	if (pidfd >= 0)
		close(pidfd);

	if (!(eof && (exited || pidfd < 0))) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		reap_leftovers(pid);
		sbuf_release(&sb);
		*obs = strdup("{\"rep\":\"timeout\"}");
		return K_TIMEOUT;
	}
	/* The pipe is at EOF: the child is exiting if it has not exited yet. */
	if (g_waitpid(pid, &st, 0, timeout_ms) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	reap_leftovers(pid);

	nl = sb.buf ? strchr(sb.buf, '\n') : NULL;
	sp = sb.buf ? strchr(sb.buf, ' ') : NULL;
	if (WIFSIGNALED(st) && !nl) {
		snprintf(buf, sizeof(buf), "{\"rep\":\"crashed:%s\"}", sig_name(WTERMSIG(st)));
		*obs = strdup(buf);
		kind = K_CRASHED;
	} else if (!nl || !sp || sp > nl) {
		*obs = strdup("{\"error\":\"no-observation\",\"rep\":\"error\"}");
		kind = K_ERROR;
	} else {
		*nl = '\0';
		*sp = '\0';
		*obs = strdup(sp + 1);
		kind = !strcmp(sb.buf, "ok") ? K_OK : !strcmp(sb.buf, "unsupported") ? K_UNSUPPORTED : K_ERROR;
	}
	sbuf_release(&sb);
	if (!*obs)
		abort();
	return kind;
}

static void cell_add(struct cell *c, char *obs)
{
	struct outcome *o;
	size_t i;

	for (i = 0; i < c->nout; i++)
		if (!strcmp(c->out[i].obs, obs)) {
			c->out[i].count++;
			free(obs);
			return;
		}
	/* The last outcome the host takes (KF1_MAX_OUTCOMES) counts every new one from it on. */
	if (c->nout >= KF1_MAX_OUTCOMES - 1) {
		free(obs);
		if (c->nout == KF1_MAX_OUTCOMES) {
			c->out[c->nout - 1].count++;
			return;
		}
		obs = strdup(OBS_TRUNCATED);
		if (!obs)
			abort();
	}
	o = realloc(c->out, (c->nout + 1) * sizeof(*c->out));
	if (!o)
		abort();
	c->out = o;
	c->out[c->nout].obs = obs;
	c->out[c->nout++].count = 1;
}

static void cell_release(struct cell *c)
{
	size_t i;

	for (i = 0; i < c->nout; i++)
		free(c->out[i].obs);
	free(c->out);
	c->out = NULL;
	c->nout = 0;
}

/*
 * The short reason of an error/unsupported observation, for the cell's text:
 * the value of its "unsupported" (or "error") key, else the observation.
 */
static void note_error(struct cell *c, enum rep_kind k, const char *obs)
{
	const char *key = k == K_UNSUPPORTED ? "\"unsupported\":\"" : "\"error\":\"";
	const char *v = strstr(obs, key);
	size_t n = 0;

	if (c->first_error[0] || k == K_OK || k == K_TIMEOUT)
		return;
	if (!v) {
		snprintf(c->first_error, sizeof(c->first_error), "%s", obs);
		return;
	}
	/* the JSON string's value up to its closing quote, escapes dropped */
	for (v += strlen(key); *v && *v != '"' && n + 1 < sizeof(c->first_error); v++) {
		if (*v == '\\' && v[1])
			v++;
		c->first_error[n++] = *v;
	}
	c->first_error[n] = 0;
}

static int parse_int(const char *s, int min, int max, int *out);

/*
 * The split of one "ID:N" / "ID=N" entry of a reps-for list (@n bytes): the
 * length of its id (the ':' or '=' after the cell's closing ']', if any).
 */
static size_t reps_for_idlen(const char *p, size_t n)
{
	const char *br = memchr(p, ']', n);
	size_t from = br ? (size_t)(br - p) : 0, k;

	for (k = from; k < n; k++)
		if (p[k] == ':' || p[k] == '=')
			return k;
	return n;
}

/* "ID:N" or "ID=N" entries of @list: N for @id, or 0 when it is not named. */
static int reps_for_lookup(const char *list, const char *id)
{
	size_t idlen = strlen(id);
	const char *p = list;

	while (*p) {
		size_t n = cellid_list_next(p), k = reps_for_idlen(p, n);

		if (k == idlen && k < n && !strncmp(p, id, idlen))
			return atoi(p + idlen + 1);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Checks a --reps-for / kfarm.reps_for= list: ID:N entries, N in 1..MAX_REPS. */
static int reps_for_valid(const char *list)
{
	const char *p = list;

	while (*p) {
		size_t n = cellid_list_next(p), k = reps_for_idlen(p, n);
		int v;
		char num[16];

		if (k == 0 || k >= n || n - k - 1 == 0 || n - k - 1 >= sizeof(num))
			return 0;
		memcpy(num, p + k + 1, n - k - 1);
		num[n - k - 1] = '\0';
		if (parse_int(num, 1, MAX_REPS, &v) < 0)
			return 0;
		p += n;
		if (*p == ',')
			p++;
	}
	return 1;
}

/*
 * The repetitions of @cs: exactly what --reps-for names for it, else
 * --variant-reps for a cell that varies an axis, else --reps, which racy
 * scenarios may multiply; either at most the scenario's reps_max.
 */
static int cell_reps(const struct runner *R, const struct cell_spec *cs)
{
	const struct scenario *sc = cs->sc;
	long long n = R->reps;
	int exact = reps_for_lookup(R->reps_for, cs->id);

	if (exact > 0)
		return exact;
	if (!variant_is_default(&cs->v) && R->variant_reps > 0)
		n = R->variant_reps;
	else if (sc->racy && sc->reps_mult > 1)
		n *= sc->reps_mult;
	if (sc->reps_max > 0 && n > sc->reps_max)
		n = sc->reps_max;
	return n > MAX_REPS ? MAX_REPS : (int)n;
}

/*
 * The string value of "@key" in a canonical observation @obs (owned by the
 * caller's buffer @out), or NULL: observations are flat, their keys unique and
 * their strings free of quotes.
 */
static const char *obs_text_get(const char *obs, const char *key, char *out, size_t n)
{
	char pat[300];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(obs, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e)
		return NULL;
	snprintf(out, n, "%.*s", (int)(e - p), p);
	return out;
}

/*
 * A plain cell against its scenario's documented expectation (expect_obs:
 * "key=value;key!=value;..."): the number of claims some outcome breaks, each
 * with a line on stderr. Outcomes that are errors or unsupported are not
 * claims about the kernel and are skipped.
 */
static int expect_check(const struct cell *c)
{
	const char *spec = c->sc->expect_obs, *p;
	char claim[256], got[OBS_VAL_MAX];
	size_t i, n;
	int bad = 0;

	if (!spec || !variant_is_default(&c->cs->v))
		return 0;
	for (i = 0; i < c->nout; i++) {
		const char *obs = c->out[i].obs;

		if (strstr(obs, "\"unsupported\":") || strstr(obs, "\"rep\":") ||
		    strstr(obs, "\"error\":"))
			continue;
		for (p = spec; *p; p += n + (p[n] == ';')) {
			char *eq, *key, *want;
			const char *have;
			int negate;

			n = strcspn(p, ";");
			snprintf(claim, sizeof(claim), "%.*s", (int)n, p);
			eq = strchr(claim, '=');
			if (!eq)
				continue;
			negate = eq > claim && eq[-1] == '!';
			*(negate ? eq - 1 : eq) = '\0';
			key = claim;
			want = eq + 1;
			have = obs_text_get(obs, key, got, sizeof(got));
			if (negate ? (have && !strcmp(have, want)) : (!have || strcmp(have, want))) {
				fprintf(stderr, "strict: %s: documented %s%s%s, observed %s\n", c->cs->id,
					key, negate ? "!=" : "=", want, have ? have : "(none)");
				bad++;
			}
		}
	}
	return bad;
}

/* --strict: 1 (with a line on stderr per violation) if @c breaks the rules. */
static int strict_check(const struct cell *c)
{
	const char *st = cell_status(c);
	int bad = 0;

	if (strcmp(st, "ok") && strcmp(st, "unsupported")) {
		fprintf(stderr, "strict: %s: status %s\n", c->cs->id, st);
		bad = 1;
	}
	if (expect_check(c))
		bad = 1;
	if (!c->sc->racy && c->nout > 1) {
		fprintf(stderr, "strict: %s: deterministic but %zu observations\n", c->cs->id,
			c->nout);
		bad = 1;
	}
	return bad;
}

/*
 * Shuffle the selected scenarios with @seed (splitmix64 driving Fisher-Yates):
 * the same seed gives the same order on every guest and every kernel.
 */
static void shuffle_scenarios(struct runner *R, unsigned long long seed)
{
	size_t i, j;

	for (i = R->nlist; i > 1; i--) {
		unsigned long long z = (seed += 0x9e3779b97f4a7c15ULL);
		struct cell_spec t;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		j = (size_t)(z % i);
		t = R->list[i - 1];
		R->list[i - 1] = R->list[j];
		R->list[j] = t;
	}
}

static int run_all(struct runner *R)
{
	struct cell c;
	enum rep_kind k;
	long long t0;
	size_t i;
	int r, nreps, bad = 0, violations = 0;
	char *obs;

	if (R->order_seed)
		shuffle_scenarios(R, R->order_seed);
	if (R->framed)
		emit_hello(R);
	for (i = 0; i < R->nlist; i++) {
		memset(&c, 0, sizeof(c));
		c.cs = &R->list[i];
		c.sc = c.cs->sc;
		if (R->framed)
			emit_start(R, c.cs);
		t0 = monotonic_ms();
		nreps = cell_reps(R, c.cs);
		for (r = 0; r < nreps; r++) {
			k = run_rep(c.cs, R->timeout_ms, &obs);
			c.n[k]++;
			c.reps++;
			note_error(&c, k, obs);
			cell_add(&c, obs);
		}
		c.duration_ms = monotonic_ms() - t0;
		if (R->framed)
			emit_cell(R, &c);
		else
			print_cell(R, &c);
		if (strcmp(cell_status(&c), "ok") && strcmp(cell_status(&c), "unsupported"))
			bad = 1;
		if (R->strict)
			violations += strict_check(&c);
		cell_release(&c);
	}
	if (R->framed) {
		char end[64];

		snprintf(end, sizeof(end), "{\"t\":\"end\",\"count\":%lu}", R->seq);
		emit(R, end);
	}
	if (R->strict && violations)
		fprintf(stderr, "strict: %d violation%s\n", violations, violations == 1 ? "" : "s");
	return bad || violations;
}

/* ---------------------------------------------------------------- arguments */

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* One scenario's cells at a time (the callers below take turns). */
static struct cell_spec cells_buf[SPACE_MAX];

static void add_cell(struct runner *R, const struct cell_spec *cs)
{
	if (R->nlist == R->cap) {
		R->cap = R->cap ? 2 * R->cap : 256;
		R->list = realloc(R->list, R->cap * sizeof(*R->list));
		if (!R->list)
			abort();
	}
	R->list[R->nlist++] = *cs;
}

/* Add @sc's cells in the runner's space. */
static void add_scenario(struct runner *R, const struct scenario *sc)
{
	size_t i, n = scenario_cells(sc, R->space, cells_buf, SPACE_MAX);

	for (i = 0; i < n; i++)
		add_cell(R, &cells_buf[i]);
}

/*
 * Resolve "all" (every scenario's cells in the space), "ID" (the plain cell),
 * "ID[*]" (its cells in the space) and "ID[axis=value,...]", ','-separated;
 * -1 with a message on stderr for an unknown scenario, axis or value.
 */
static int select_scenarios(struct runner *R, const char *spec)
{
	const char *p = spec;
	struct cell_spec cs;
	char err[256];
	size_t i, n;

	while (*p) {
		n = cellid_list_next(p);
		if (n == 3 && !strncmp(p, "all", 3)) {
			for (i = 0; i < nscenarios; i++)
				if (strcmp(scenarios[i]->group, "selftest"))
					add_scenario(R, scenarios[i]);
		} else if (n > 3 && !strncmp(p + n - 3, "[*]", 3)) {
			if (cell_parse(p, n - 3, &cs, err, sizeof(err)) < 0) {
				fprintf(stderr, "kfarm-guest: %s (see --list)\n", err);
				return -1;
			}
			add_scenario(R, cs.sc);
		} else if (n) {
			if (cell_parse(p, n, &cs, err, sizeof(err)) < 0) {
				fprintf(stderr, "kfarm-guest: %s (see --list)\n", err);
				return -1;
			}
			add_cell(R, &cs);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!R->nlist) {
		fprintf(stderr, "kfarm-guest: no scenario selected\n");
		return -1;
	}
	return 0;
}

static const char *kind_of(const struct scenario *sc)
{
	return sc->racy ? "racy" : "deterministic";
}

/*
 * id, group, description, kind, racy multiplier, base|variant, repetition cap
 * (0: none): one cell a line.
 */
static void list_scenarios(enum space space)
{
	size_t i, j, n;

	for (i = 0; i < nscenarios; i++) {
		n = scenario_cells(scenarios[i], space, cells_buf, SPACE_MAX);
		for (j = 0; j < n; j++)
			printf("%s\t%s\t%s\t%s\t%d\t%s\t%d\n", cells_buf[j].id, scenarios[i]->group,
			       scenarios[i]->desc, kind_of(scenarios[i]),
			       scenarios[i]->racy && scenarios[i]->reps_mult > 1 ? scenarios[i]->reps_mult : 1,
			       j ? "variant" : "base", scenarios[i]->reps_max);
	}
}

/* The axes of @mask as "stop, sigchld, wait". */
static void axes_names(unsigned mask, char *out, size_t n)
{
	size_t used = 0;
	int a;

	out[0] = '\0';
	for (a = 0; a < AX_COUNT; a++)
		if (mask & AXIS(a))
			used += (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s",
						 used ? ", " : "", axes[a].name);
}

/* Count @sc's full product, and its impossible combinations by reason. */
static void space_counts(const struct scenario *sc, size_t *product, size_t *feasible)
{
	int a;

	*product = 1;
	for (a = 0; a < AX_COUNT; a++)
		if (sc->axes & AXIS(a))
			*product *= (size_t)axis_nvalues(a);
	*feasible = 0;
	if (sc->axes) {

		*feasible = scenario_cells(sc, SPACE_FULL, cells_buf, SPACE_MAX);
	} else {
		*feasible = 1;
	}
}

/*
 * --expand: the axes, then per scenario the axes it varies, the size of its
 * space, why the impossible combinations are impossible, and its sample.
 */
static void print_expand(void)
{
	size_t i, j, n, product, feasible, tot_sample = 0, tot_full = 0;
	char names[128];
	int a, k;

	printf("Axes (value 0 is the plain scenario's choice):\n");
	for (a = 0; a < AX_COUNT; a++) {
		printf("  %-8s", axes[a].name);
		for (k = 0; k < axis_nvalues(a); k++)
			printf(" %s", axes[a].values[k]);
		printf("\n           %s\n", axes[a].doc);
	}
	printf("\n");
	for (i = 0; i < nscenarios; i++) {
		const struct scenario *sc = scenarios[i];
		struct variant v = variant_default;
		struct { const char *why; size_t n; } imp[16];
		size_t nimp = 0;

		if (!strcmp(sc->group, "selftest"))
			continue;
		space_counts(sc, &product, &feasible);
		n = scenario_cells(sc, SPACE_SAMPLE, cells_buf, SPACE_MAX);
		tot_sample += n;
		tot_full += feasible;
		axes_names(sc->axes, names, sizeof(names));
		printf("%s (%s): axes %s; space %zu, feasible %zu, sample %zu\n", sc->id,
		       kind_of(sc), sc->axes ? names : "none (racy or fixed)", product, feasible, n);
		/* Impossible combinations, counted by reason. */
		for (;;) {
			const char *why = cell_impossible(sc, &v);

			if (why) {
				for (j = 0; j < nimp && strcmp(imp[j].why, why); j++)
					;
				if (j == nimp && nimp < 16)
					imp[nimp++] = (typeof(imp[0])){ why, 0 };
				if (j < nimp)
					imp[j].n++;
			}
			for (a = AX_COUNT - 1; a >= 0; a--) {
				if (!(sc->axes & AXIS(a)))
					continue;
				if (v.v[a] + 1 < axis_nvalues(a)) {
					v.v[a]++;
					break;
				}
				v.v[a] = 0;
			}
			if (a < 0)
				break;
		}
		for (j = 0; j < nimp; j++)
			printf("  impossible: %zu: %s\n", imp[j].n, imp[j].why);
		for (j = 0; j < n; j++)
			printf("  %s\n", cells_buf[j].id);
	}
	printf("\ntotal: %zu cells in the pairwise sample (the default run), %zu in the full space\n",
	       tot_sample, tot_full);
}

/* A table cell: '|' escaped, so a description cannot break the Markdown row. */
static void md_cell(const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", stdout);
		else
			putchar(*s);
	}
}

/* The catalog as Markdown; guest-tests/CATALOG.md is this output, kept in sync. */
/* How many plain cells, sample cells and full-space cells "all" has. */
static void space_totals(size_t *nbase, size_t *nsample, size_t *nfull)
{
	size_t i, product, feasible;

	*nbase = *nsample = *nfull = 0;
	for (i = 0; i < nscenarios; i++) {
		if (!strcmp(scenarios[i]->group, "selftest"))
			continue;
		space_counts(scenarios[i], &product, &feasible);
		(*nbase)++;
		*nsample += scenario_cells(scenarios[i], SPACE_SAMPLE, cells_buf, SPACE_MAX);
		*nfull += feasible;
	}
}

static void print_catalog(void)
{
	const struct scenario *sc;
	size_t nbase, nsample, nfull;
	char names[128];
	size_t i;

	printf("# Scenario catalog\n\n"
	       "Generated by `build/kfarm-guest --catalog` from the scenario registry\n"
	       "(guest-tests/scenarios.c); each scenario's source header says what it sets up,\n"
	       "the action, what it observes and where the behaviour is documented. The\n"
	       "\"Checked\" claims are machine-readable: `kfarm-guest --strict` fails when the\n"
	       "plain cell's observation contradicts one (`make test` runs it on the host).\n"
	       "`racy` scenarios run a multiple of the repetitions asked for (shown as xN)\n"
	       "and may show more than one outcome; request-level ones (the answers one\n"
	       "tracer gets from one stopped tracee, nothing else running) at most N\n"
	       "(shown as <=N) unless a count is named for the cell;\n"
	       "`deterministic` ones must show exactly one. Selftests are not part of `all`.\n\n");
	space_totals(&nbase, &nsample, &nfull);
	printf("%zu scenarios (plain cells); %zu cells in the pairwise sample of their\n"
	       "variation axes (the default run), %zu in the full space.\n\n", nbase, nsample, nfull);
	printf(
	       "`axes` are the variation axes a scenario's cells vary (`kfarm-guest --expand`\n"
	       "lists them, the space of each scenario and its pairwise sample).\n\n"
	       "| id | group | kind | axes | description | expected on 6.x (documented) |\n"
	       "|---|---|---|---|---|---|\n");
	for (i = 0; i < nscenarios; i++) {
		sc = scenarios[i];
		printf("| `%s` | %s | ", sc->id, sc->group);
		if (sc->racy && sc->reps_mult > 1)
			printf("racy (x%d)", sc->reps_mult);
		else if (sc->reps_max > 0)
			printf("%s (<=%d)", kind_of(sc), sc->reps_max);
		else
			printf("%s", kind_of(sc));
		axes_names(sc->axes, names, sizeof(names));
		printf(" | %s | ", names);
		md_cell(sc->desc);
		printf(" | ");
		md_cell(sc->expect ? sc->expect : "");
		if (sc->expect_obs) {
			printf(" Checked: `");
			md_cell(sc->expect_obs);
			printf("`.");
		}
		printf(" |\n");
	}
}

static int parse_space(const char *s, enum space *out)
{
	if (!strcmp(s, "base"))
		*out = SPACE_BASE;
	else if (!strcmp(s, "sample"))
		*out = SPACE_SAMPLE;
	else if (!strcmp(s, "full"))
		*out = SPACE_FULL;
	else
		return -1;
	return 0;
}

static int parse_seed(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

/*
 * kfarm.run=, kfarm.reps=, kfarm.reps_for=, kfarm.timeout_ms=, kfarm.order=
 * from /proc/cmdline.
 */
static int read_cmdline(char *run, size_t nrun, struct runner *R, char *reps_for,
			size_t nreps_for)
{
	int *reps = &R->reps, *timeout_ms = &R->timeout_ms;
	unsigned long long *order_seed = &R->order_seed;

	char buf[8192], *tok, *save = NULL;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kfarm-guest: /proc/cmdline: %s\n", strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(tok, "kfarm.run=", 10)) {
			snprintf(run, nrun, "%s", tok + 10);
		} else if (!strncmp(tok, "kfarm.reps=", 11)) {
			if (parse_int(tok + 11, 1, MAX_REPS, reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.reps_for=", 15)) {
			if (!reps_for_valid(tok + 15) || strlen(tok + 15) >= nreps_for) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
			snprintf(reps_for, nreps_for, "%s", tok + 15);
		} else if (!strncmp(tok, "kfarm.order=", 12)) {
			if (parse_seed(tok + 12, order_seed) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.space=", 12)) {
			if (parse_space(tok + 12, &R->space) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.variant_reps=", 19)) {
			if (parse_int(tok + 19, 1, MAX_REPS, &R->variant_reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		} else if (!strncmp(tok, "kfarm.timeout_ms=", 17)) {
			if (parse_int(tok + 17, 1, INT_MAX / 2, timeout_ms) < 0) {
				fprintf(stderr, "kfarm-guest: bad %s\n", tok);
				return -1;
			}
		}
	}
	return 0;
}

static int open_results_tty(void)
{
	struct termios t;
	int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "kfarm-guest: /dev/ttyS1: %s\n", strerror(errno));
		return -1;
	}
	/* Raw: no \r added, no other output processing. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct runner R = { .reps = DEFAULT_REPS, .timeout_ms = DEFAULT_TIMEOUT_MS, .fd = 1,
			    .space = SPACE_BASE };
	const char *run = NULL, *output = NULL;
	char cmdrun[3072] = "all";
	int i, from_cmdline = 0, rc, list = 0;

	/* The exec helper of event-stop-detach-sig-exec: exit with the given code. */
	if (argc == 3 && !strcmp(argv[1], "--kfarm-helper"))
		_exit(atoi(argv[2]));

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list")) {
			list = 1;
		} else if (!strcmp(argv[i], "--expand")) {
			print_expand();
			return 0;
		} else if (!strcmp(argv[i], "--space") && i + 1 < argc) {
			if (parse_space(argv[++i], &R.space) < 0) {
				fprintf(stderr, "kfarm-guest: bad --space '%s' (base, sample or full)\n",
					argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--variant-reps") && i + 1 < argc) {
			if (parse_int(argv[++i], 1, MAX_REPS, &R.variant_reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad --variant-reps '%s' (1..%d)\n", argv[i],
					MAX_REPS);
				return 2;
			}
		} else if (!strcmp(argv[i], "--catalog")) {
			print_catalog();
			return 0;
		} else if (!strcmp(argv[i], "--strict")) {
			R.strict = 1;
		} else if (!strcmp(argv[i], "--run") && i + 1 < argc) {
			run = argv[++i];
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			if (parse_int(argv[++i], 1, MAX_REPS, &R.reps) < 0) {
				fprintf(stderr, "kfarm-guest: bad --reps '%s' (1..%d)\n", argv[i], MAX_REPS);
				return 2;
			}
		} else if (!strcmp(argv[i], "--reps-for") && i + 1 < argc) {
			if (!reps_for_valid(argv[++i]) || strlen(argv[i]) >= sizeof(R.reps_for)) {
				fprintf(stderr, "kfarm-guest: bad --reps-for '%s' (ID=N[,ID=N...], N in 1..%d)\n",
					argv[i], MAX_REPS);
				return 2;
			}
			snprintf(R.reps_for, sizeof(R.reps_for), "%s", argv[i]);
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc) {
			if (parse_int(argv[++i], 1, INT_MAX / 2, &R.timeout_ms) < 0) {
				fprintf(stderr, "kfarm-guest: bad --timeout-ms '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--order-seed") && i + 1 < argc) {
			if (parse_seed(argv[++i], &R.order_seed) < 0) {
				fprintf(stderr, "kfarm-guest: bad --order-seed '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--framed")) {
			R.framed = 1;
		} else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			output = argv[++i];
		} else if (!strcmp(argv[i], "--from-cmdline")) {
			from_cmdline = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "kfarm-guest: bad argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}

	if (list) {
		list_scenarios(R.space);
		return 0;
	}
	if (from_cmdline) {
		if (read_cmdline(cmdrun, sizeof(cmdrun), &R, R.reps_for, sizeof(R.reps_for)) < 0)
			return 2;
		run = cmdrun;
		R.framed = 1;
	} else if (!run) {
		usage(stderr);
		return 2;
	}
	if (select_scenarios(&R, run) < 0)
		return 2;

	if (from_cmdline) {
		R.fd = open_results_tty();
		if (R.fd < 0)
			return 1;
	} else if (output) {
		R.fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (R.fd < 0) {
			fprintf(stderr, "kfarm-guest: %s: %s\n", output, strerror(errno));
			return 1;
		}
	}

	/* Orphaned tracees come back to us, not to init: we kill and reap them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		fprintf(stderr, "kfarm-guest: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	guard_install();

	rc = run_all(&R);
	if (R.fd > 2)
		close(R.fd);
	free(R.list);
	return rc;
}
