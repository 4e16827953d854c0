// SPDX-License-Identifier: MIT
/*
 * variant.c - the variation axes, cell ids and the pairwise sample (variant.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include "variant.h"

const struct axis axes[AX_COUNT] = {
	[AX_STOP] = { "stop", { "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU" },
		      "the stop signal the scenario uses (SIGTSTP, SIGTTIN, SIGTTOU stop only "
		      "outside an orphaned process group; the repetition's group is not orphaned)" },
	[AX_ATTACH] = { "attach", { "attach", "seize", "traceme" },
			"PTRACE_ATTACH; PTRACE_SEIZE + PTRACE_INTERRUPT for the first stop; "
			"PTRACE_TRACEME by C, which then raises SIGSTOP (P traces)" },
	[AX_TRACER] = { "tracer", { "other", "parent" },
			"who traces: a separate process R, or the real parent P itself" },
	[AX_SIGCHLD] = { "sigchld", { "default", "handler", "ign", "nocldwait", "nocldstop" },
			 "P's SIGCHLD: default (blocked, collected), an SA_SIGINFO handler, SIG_IGN, "
			 "a handler with SA_NOCLDWAIT, a handler with SA_NOCLDSTOP" },
	[AX_WAIT] = { "wait", { "waitid-nowait", "waitpid", "waitpid-untraced", "waitpid-continued" },
		      "P's wait for C at each checkpoint (WNOHANG): waitid(WEXITED|WSTOPPED|WNOWAIT), "
		      "waitpid(0), waitpid(WUNTRACED), waitpid(WUNTRACED|WCONTINUED); the last three "
		      "consume what they report" },
	[AX_THREADS] = { "threads", { "single", "leader", "nonleader" },
			 "the traced task: a single-threaded C, the leader of 3 threads, a non-leader "
			 "of 3" },
	[AX_TRACEE] = { "tracee", { "exits", "killed", "zombie" },
			 "the tracee's end: it runs on and exits after the tracer leaves; the tracer "
			 "SIGKILLs it in the stop and takes its exit report; the tracer lets it run to "
			 "_exit() and leaves it a zombie it has not waited for" },
	[AX_END] = { "end", { "detach", "exit", "killed" },
		     "the tracer's end: PTRACE_DETACH, _exit() in the stop, SIGKILL in the stop" },
};

const struct variant variant_default;

int axis_nvalues(int a)
{
	int n = 0;

	while (n < AXIS_MAX_VALUES && axes[a].values[n])
		n++;
	return n;
}

int variant_is_default(const struct variant *v)
{
	int a;

	for (a = 0; a < AX_COUNT; a++)
		if (v->v[a])
			return 0;
	return 1;
}

int variant_stop_sig(const struct variant *v)
{
	static const int sig[] = { SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU };

	return sig[v->v[AX_STOP] < 4 ? v->v[AX_STOP] : 0];
}

void variant_format(const char *id, const struct variant *v, char *out, size_t n)
{
	size_t used;
	int a, first = 1;

	used = (size_t)snprintf(out, n, "%s", id);
	for (a = 0; a < AX_COUNT && used < n; a++) {
		if (!v->v[a])
			continue;
		used += (size_t)snprintf(out + used, n - used, "%s%s=%s", first ? "[" : ",",
					 axes[a].name, axes[a].values[v->v[a]]);
		first = 0;
	}
	if (!first && used < n)
		snprintf(out + used, n - used, "]");
}

const char *variant_impossible(const struct variant *v)
{
	if (v->v[AX_ATTACH] == ATTACH_TRACEME && v->v[AX_TRACER] != TRACER_PARENT)
		return "PTRACE_TRACEME makes the real parent the tracer";
	if (v->v[AX_TRACER] == TRACER_PARENT && v->v[AX_END] != END_DETACH)
		return "the real parent is also the observer: it cannot exit or be killed";
	return NULL;
}

int variant_parse(const char *s, size_t len, unsigned mask, struct variant *v, char *err,
		  size_t nerr)
{
	size_t i = 0;

	*v = variant_default;
	while (i < len) {
		size_t n = 0, eq;
		int a, k, nv;

		while (i + n < len && s[i + n] != ',')
			n++;
		for (eq = 0; eq < n && s[i + eq] != '='; eq++)
			;
		if (eq == 0 || eq >= n - 1) {
			snprintf(err, nerr, "'%.*s' is not axis=value", (int)n, s + i);
			return -1;
		}
		for (a = 0; a < AX_COUNT; a++)
			if (strlen(axes[a].name) == eq && !strncmp(axes[a].name, s + i, eq))
				break;
		if (a == AX_COUNT) {
			snprintf(err, nerr, "unknown axis '%.*s'", (int)eq, s + i);
			return -1;
		}
		if (!(mask & AXIS(a))) {
			snprintf(err, nerr, "the scenario does not vary '%s'", axes[a].name);
			return -1;
		}
		nv = axis_nvalues(a);
		for (k = 0; k < nv; k++)
			if (strlen(axes[a].values[k]) == n - eq - 1 &&
			    !strncmp(axes[a].values[k], s + i + eq + 1, n - eq - 1))
				break;
		if (k == nv) {
			snprintf(err, nerr, "axis '%s' has no value '%.*s'", axes[a].name,
				 (int)(n - eq - 1), s + i + eq + 1);
			return -1;
		}
		v->v[a] = (unsigned char)k;
		i += n + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the space */

/* Step @v to the next combination of the axes in @mask; 0 after the last. */
static int next_combo(unsigned mask, struct variant *v)
{
	int a;

	for (a = AX_COUNT - 1; a >= 0; a--) {
		if (!(mask & AXIS(a)))
			continue;
		if (v->v[a] + 1 < axis_nvalues(a)) {
			v->v[a]++;
			return 1;
		}
		v->v[a] = 0;
	}
	return 0;
}

static int ok(int (*feasible)(const struct variant *, const void *), const void *arg,
	      const struct variant *v)
{
	return !variant_impossible(v) && (!feasible || feasible(v, arg));
}

size_t variant_full(unsigned mask, int (*feasible)(const struct variant *v, const void *arg),
		    const void *arg, struct variant *out, size_t max)
{
	struct variant v = variant_default;
	size_t n = 0;

	while (next_combo(mask, &v))
		if (ok(feasible, arg, &v) && n < max)
			out[n++] = v;
	return n;
}

/* The index of the pair (a = x, b = y); a == b, x == y for a single value. */
#define PAIR(a, x, b, y) \
	((((size_t)(a) * AXIS_MAX_VALUES + (x)) * AX_COUNT + (b)) * AXIS_MAX_VALUES + (y))
#define NPAIRS PAIR(AX_COUNT, 0, 0, 0)

/* Mark (or count, when @count) the pairs of @v not yet in @have. */
static int pairs_of(unsigned mask, const struct variant *v, unsigned char *have, int mark)
{
	int a, b, fresh = 0;

	for (a = 0; a < AX_COUNT; a++) {
		if (!(mask & AXIS(a)))
			continue;
		for (b = a; b < AX_COUNT; b++) {
			size_t p;

			if (!(mask & AXIS(b)))
				continue;
			p = PAIR(a, v->v[a], b, v->v[b]);
			if (!have[p]) {
				fresh++;
				if (mark)
					have[p] = 1;
			}
		}
	}
	return fresh;
}

size_t variant_sample(unsigned mask, int (*feasible)(const struct variant *v, const void *arg),
		      const void *arg, struct variant *out, size_t max)
{
	unsigned char *want = calloc(NPAIRS, 1), *have = calloc(NPAIRS, 1);
	struct variant v, best;
	size_t n = 0, i;
	int gain, best_gain;

	if (!want || !have)
		abort();
	/* The pairs some feasible cell has: the others cannot be covered. */
	v = variant_default;
	do {
		if (ok(feasible, arg, &v))
			pairs_of(mask, &v, want, 1);
	} while (next_combo(mask, &v));
	/* "have" starts as the complement of "want", plus the default cell's pairs. */
	for (i = 0; i < NPAIRS; i++)
		have[i] = !want[i];
	if (ok(feasible, arg, &variant_default))
		pairs_of(mask, &variant_default, have, 1);
	while (n < max) {
		best_gain = 0;
		v = variant_default;
		while (next_combo(mask, &v)) {
			if (!ok(feasible, arg, &v))
				continue;
			gain = pairs_of(mask, &v, have, 0);
			if (gain > best_gain) {
				best_gain = gain;
				best = v;
			}
		}
		if (!best_gain)
			break;
		pairs_of(mask, &best, have, 1);
		out[n++] = best;
	}
	free(want);
	free(have);
	return n;
}
