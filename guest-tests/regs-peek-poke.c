// SPDX-License-Identifier: MIT
/*
 * regs-peek-poke - PTRACE_PEEKTEXT/PEEKDATA/POKETEXT/POKEDATA on the
 * tracee's memory, as the tracee then sees it.
 *
 * Set-up: C has a data word (REGS_MAGIC_A) and a word in its read-only,
 * executable text (an asm .quad in .text, REGS_MAGIC_A too); it rests in
 * read() on its "go" pipe. R attaches.
 * Action: R: PEEKDATA and PEEKTEXT of both words; PEEKTEXT of the first
 * word of a function (compared with R's own copy of the same program);
 * POKEDATA REGS_MAGIC_B into the data word, POKETEXT REGS_MAGIC_B into the
 * text word (a write into a mapping without PROT_WRITE), each peeked back;
 * R's own text word after the poke. R detaches and writes "go"; C reads both
 * words.
 * Observes: each result as "match"/"differs" against the expected word, or
 * its errno; what C reads afterwards.
 * Documented: ptrace(2) PTRACE_PEEKTEXT/PEEKDATA ("Linux does not have
 * separate text and data address spaces, so these two requests are
 * currently equivalent"), PTRACE_POKETEXT/POKEDATA; the pokes go through
 * access_process_vm() with FOLL_FORCE, which writes a private copy of a
 * read-only page (kernel/ptrace.c generic_ptrace_pokedata(), mm/memory.c).
 * Expected on 6.x: every peek match, pokes 0, C sees both new words, R's own
 * text unchanged ("private").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "regs.h"
#include "scenarios.h"

/* A word inside the executable, non-writable text. */
__asm__(".pushsection .text\n"
	".p2align 3\n"
	"regs_text_word:\n"
	".quad 0x4b4641524d2d4131\n"
	".popsection\n");
extern const volatile unsigned long regs_text_word;

static volatile unsigned long regs_data_word = REGS_MAGIC_A;

static void tracee(struct lab *L, void *arg)
{
	struct regs_ctx *x = arg;
	unsigned long d, t;

	lab_tracee_ready(L);
	lab_tracee_wait_go(L);
	d = regs_data_word;
	t = regs_text_word;
	obs_str(x->c, "c_data", d == REGS_MAGIC_B ? "poked" : d == REGS_MAGIC_A ? "unchanged" : "other");
	obs_str(x->c, "c_text", t == REGS_MAGIC_B ? "poked" : t == REGS_MAGIC_A ? "unchanged" : "other");
	_exit(0);
}

static void peek(struct obs *t, const char *key, int req, pid_t pid, const volatile void *addr,
		 unsigned long want)
{
	long w;

	errno = 0;
	w = ptrace((enum __ptrace_request)req, pid, (void *)addr, NULL);
	obs_str(t, key, errno ? errno_name(errno) : regs_match((unsigned long)w, want));
}

static void tracer(struct lab *L, struct obs *t, void *arg)
{
	pid_t c = L->c;
	unsigned long code;

	(void)arg;
	if (lab_tracer_attach(L, t) < 0)
		return;
	peek(t, "peekdata", PTRACE_PEEKDATA, c, &regs_data_word, REGS_MAGIC_A);
	peek(t, "peektext", PTRACE_PEEKTEXT, c, &regs_text_word, REGS_MAGIC_A);
	/* The two requests are one: each reads the other's word too. */
	peek(t, "peektext_data", PTRACE_PEEKTEXT, c, &regs_data_word, REGS_MAGIC_A);
	peek(t, "peekdata_text", PTRACE_PEEKDATA, c, &regs_text_word, REGS_MAGIC_A);
	memcpy(&code, (const void *)tracee, sizeof(code));
	peek(t, "peektext_code", PTRACE_PEEKTEXT, c, (const void *)tracee, code);
	lab_tracer_ptrace(t, "pokedata", PTRACE_POKEDATA, c, (void *)&regs_data_word, (void *)REGS_MAGIC_B);
	peek(t, "pokedata_back", PTRACE_PEEKDATA, c, &regs_data_word, REGS_MAGIC_B);
	lab_tracer_ptrace(t, "poketext", PTRACE_POKETEXT, c, (void *)&regs_text_word, (void *)REGS_MAGIC_B);
	peek(t, "poketext_back", PTRACE_PEEKTEXT, c, &regs_text_word, REGS_MAGIC_B);
	obs_str(t, "tracer_text", regs_text_word == REGS_MAGIC_A ? "private" : "changed");
	lab_tracer_ptrace(t, "detach", PTRACE_DETACH, c, NULL, NULL);
	lab_tracer_go(L);
}

static int run(struct obs *o, const struct variant *v, const void *arg)
{
	struct lab_spec s = { .tracee = tracee, .tracer = tracer };

	return regs_run(o, v, &s, arg);
}

const struct scenario scenario_regs_peek_poke = {
	.id = "regs-peek-poke",
	.group = "regs",
	.desc = "PEEKTEXT/PEEKDATA/POKETEXT/POKEDATA of a data word and a word in read-only text; C reads them back",
	.run = run,
	.expect = "peeks match, pokes 0 (POKETEXT into read-only text too), C sees both poked words, R's own copy private.",
	.expect_obs = "peekdata=match;peektext=match;peektext_data=match;peekdata_text=match;peektext_code=match;"
		      "pokedata=0;pokedata_back=match;poketext=0;poketext_back=match;tracer_text=private;"
		      "c_data=poked;c_text=poked;detach=0;tracee=exited:0",
	.axes = 0,
	.reps_max = REQUEST_REPS,
};
