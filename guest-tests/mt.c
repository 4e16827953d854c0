// SPDX-License-Identifier: MIT
/*
 * mt.c - the stopped multi-threaded tracee the mt-* scenarios share (mt.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "mt.h"

static void mt_tracee(struct lab *L, void *arg)
{
	(void)arg;
	lab_tracee_handle(L, SIGUSR1);
	lab_tracee_threads(L, MT_THREADS, NULL);
	lab_tracee_ready(L);
	lab_tracee_tkill(variant_stop_sig(&L->v));
	for (;;)
		pause();
}

void mt_detach_each(struct lab *L, struct obs *t, int sig)
{
	const char *first = "0";
	int i;

	for (i = L->sh->nthreads - 1; i >= 0; i--) {
		errno = 0;
		if (ptrace(PTRACE_DETACH, L->sh->tid[i], NULL, (void *)(long)sig) < 0 &&
		    !strcmp(first, "0"))
			first = errno_name(errno);
	}
	obs_str(t, "detach", first);
}

static void mt_tracer(struct lab *L, struct obs *t, void *arg)
{
	const struct mt_spec *spec = arg;

	spec->tracer(L, t, spec->arg);
}

static void mt_after(struct lab *L, struct obs *o, void *arg)
{
	const struct mt_spec *spec = arg;

	lab_wait_tracer(L, o);
	if (spec->after)
		spec->after(L, o);
}

int mt_scenario(struct obs *o, const struct variant *v, const void *arg)
{
	const struct mt_spec *spec = arg;

	const struct lab_spec s = {
		.tracee = mt_tracee, .tracer = mt_tracer, .arg = (void *)spec,
		.handlers = 1, .threads = 1, .settle_sleeping = spec->settle_sleeping,
		.stopped_first = 1, .p_turn = mt_after,
	};

	return lab_run_spec(o, v, &s);
}
