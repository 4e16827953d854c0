// SPDX-License-Identifier: MIT
/*
 * lifecycle.c - the guest lifecycle table and the outcome of a finished guest
 * (see lifecycle.h).
 */
#include "lifecycle.h"

/*
 * Every transition. An event not listed for a state changes nothing there
 * (a record while KILLING, a deadline once DONE...).
 */
static const struct lc_row rows[] = {
	{ LC_PENDING, LC_START, LC_BOOTING, LC_KILL_NONE },
	{ LC_PENDING, LC_START_FAILED, LC_DONE, LC_KILL_START_FAILED },

	{ LC_BOOTING, LC_HELLO, LC_RUNNING, LC_KILL_NONE },
	{ LC_BOOTING, LC_END, LC_ENDING, LC_KILL_NONE },
	{ LC_BOOTING, LC_DEADLINE, LC_KILLING, LC_KILL_BOOT },
	{ LC_BOOTING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_BOOTING, LC_CANARY_DONE, LC_KILLING, LC_KILL_CANARY },
	{ LC_BOOTING, LC_GONE, LC_DONE, LC_KILL_NONE },

	{ LC_RUNNING, LC_RECORD, LC_RUNNING, LC_KILL_NONE },
	{ LC_RUNNING, LC_END, LC_ENDING, LC_KILL_NONE },
	{ LC_RUNNING, LC_DEADLINE, LC_KILLING, LC_KILL_PROGRESS },
	{ LC_RUNNING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_RUNNING, LC_CANARY_DONE, LC_KILLING, LC_KILL_CANARY },
	{ LC_RUNNING, LC_GONE, LC_DONE, LC_KILL_NONE },

	{ LC_ENDING, LC_DEADLINE, LC_KILLING, LC_KILL_POWEROFF },
	{ LC_ENDING, LC_INTERRUPT, LC_KILLING, LC_KILL_INTERRUPTED },
	{ LC_ENDING, LC_CANARY_DONE, LC_KILLING, LC_KILL_CANARY },
	{ LC_ENDING, LC_GONE, LC_DONE, LC_KILL_NONE },

	{ LC_KILLING, LC_GONE, LC_DONE, LC_KILL_NONE },
};

static const struct {
	const char *name;
	enum lc_deadline deadline;
} states[LC_NSTATES] = {
	[LC_PENDING] = { "pending", LC_DL_NONE },
	[LC_BOOTING] = { "booting", LC_DL_BOOT },
	[LC_RUNNING] = { "running", LC_DL_PROGRESS },
	[LC_ENDING] = { "ending", LC_DL_POWEROFF },
	[LC_KILLING] = { "killing", LC_DL_NONE },
	[LC_DONE] = { "done", LC_DL_NONE },
};

const struct lc_row *lifecycle_step(enum lc_state from, enum lc_event event)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].from == from && rows[i].event == event)
			return &rows[i];
	return NULL;
}

enum lc_deadline lifecycle_deadline(enum lc_state s)
{
	return s < LC_NSTATES ? states[s].deadline : LC_DL_NONE;
}

int lifecycle_live(enum lc_state s)
{
	return s != LC_PENDING && s != LC_DONE;
}

const char *lifecycle_state_name(enum lc_state s)
{
	return s < LC_NSTATES ? states[s].name : "?";
}

struct lc_outcome lifecycle_outcome(const struct lc_seen *s)
{
	struct lc_outcome o = { "ok", LC_WHY_NONE, 0 };

	if (s->complete)
		return o;
	if (!s->hello) {
		o.status = "boot-failed";
		if (s->kill != LC_KILL_NONE)
			o.why = LC_WHY_KILL;
		else if (s->exited_ok && !s->has_diag)
			o.why = LC_WHY_RESET;
		else
			o.why = LC_WHY_VM_EXIT;
		return o;
	}
	if (s->panicked || s->kill == LC_KILL_NONE) {
		o.status = "crashed";
		o.why = s->panicked ? LC_WHY_PANIC : LC_WHY_SILENT;
		o.vm_abnormal = !s->exited_ok;
		return o;
	}
	o.status = "timeout";
	o.why = LC_WHY_KILL;
	return o;
}
