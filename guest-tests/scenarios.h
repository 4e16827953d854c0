/* SPDX-License-Identifier: MIT */
#ifndef KFARM_SCENARIOS_H
#define KFARM_SCENARIOS_H

#include <stddef.h>

#include "guest.h"

/*
 * A scenario: one repetition runs in a fresh process (the real parent P of
 * whatever it forks) and fills @o. run() returns REP_OK, REP_ERROR (with an
 * "error" key) or REP_UNSUPPORTED (with an "unsupported" key); see lab.h.
 */
struct scenario {
	const char *id;
	const char *group;    /* "selftest" ones are not part of "all" */
	const char *desc;     /* one line */
	int (*run)(struct obs *o);
	/*
	 * Racy: the outcome really depends on timing (its header says why), so
	 * more than one observation is a distribution, not a failure. A racy
	 * scenario runs reps_mult times the repetitions asked for (0 means 1).
	 */
	int racy;
	int reps_mult;
	/* The documented / expected behaviour, one line (from the header). */
	const char *expect;
};

/* The registry, in run order (scenarios.c). */
extern const struct scenario *const scenarios[];
extern const size_t nscenarios;

/** scenario_find() - the scenario called @id, or NULL. */
const struct scenario *scenario_find(const char *id);

extern const struct scenario scenario_sds_same_sig;
extern const struct scenario scenario_sds_other_sig;
extern const struct scenario scenario_sds_zero;
extern const struct scenario scenario_sds_other_sig_siginfo;
extern const struct scenario scenario_sds_setsiginfo;
extern const struct scenario scenario_sds_blocked_new_sig;
extern const struct scenario scenario_sds_sigkill;
extern const struct scenario scenario_sds_sigstop;
extern const struct scenario scenario_stopped_detach_zero;
extern const struct scenario scenario_gs_detach_with_sig_usr1;
extern const struct scenario scenario_gs_detach_with_sig_kill;
extern const struct scenario scenario_syscall_stop_detach_sig_entry;
extern const struct scenario scenario_syscall_stop_detach_sig_exit;
extern const struct scenario scenario_syscall_detach_no_trap;
extern const struct scenario scenario_event_stop_detach_sig_fork;
extern const struct scenario scenario_event_stop_detach_sig_exec;
extern const struct scenario scenario_event_stop_detach_sig_exit;
extern const struct scenario scenario_step_then_detach;
extern const struct scenario scenario_cont_sigstop_detach;
extern const struct scenario scenario_seize_listen_detach;
extern const struct scenario scenario_exec_sigtrap_zero;
extern const struct scenario scenario_exec_sigtrap_sigtrap;
extern const struct scenario scenario_detach_errors;
extern const struct scenario scenario_sds_coredump;
extern const struct scenario scenario_sds_sigcont_between;
extern const struct scenario scenario_attach_stopped_first_report;
extern const struct scenario scenario_tracer_exit_sds;
extern const struct scenario scenario_tracer_exit_group_stop;
extern const struct scenario scenario_tracer_exit_exitkill;
extern const struct scenario scenario_gs_notification_transparency_pending;
extern const struct scenario scenario_gs_notification_transparency_consumed;
extern const struct scenario scenario_stale_attach_sigstop;
extern const struct scenario scenario_mt_detach_sigstop_all;
extern const struct scenario scenario_mt_detach_zero_all;
extern const struct scenario scenario_mt_detach_one;
extern const struct scenario scenario_mt_sds_in_stopped_group;
extern const struct scenario scenario_mt_sds_fatal;
extern const struct scenario scenario_reattach_no_parting_report;
extern const struct scenario scenario_detach_vs_sigkill;
extern const struct scenario scenario_selftest_hang;
extern const struct scenario scenario_selftest_panic;
extern const struct scenario scenario_selftest_coin;

#endif
