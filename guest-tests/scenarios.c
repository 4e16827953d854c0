// SPDX-License-Identifier: MIT
/*
 * scenarios.c - the registry: every scenario, in the order "all" runs them.
 * Add a scenario: write guest-tests/<id>.c defining scenario_<id>, declare it
 * in scenarios.h, list it here.
 */
#include <string.h>

#include "scenarios.h"

const struct scenario *const scenarios[] = {
	&scenario_sds_same_sig,
	&scenario_sds_other_sig,
	&scenario_sds_zero,
	&scenario_sds_other_sig_siginfo,
	&scenario_sds_setsiginfo,
	&scenario_sds_blocked_new_sig,
	&scenario_sds_sigkill,
	&scenario_sds_coredump,
	&scenario_sds_sigstop,
	&scenario_sds_sigcont_between,
	&scenario_step_then_detach,
	&scenario_stopped_detach_zero,
	&scenario_attach_stopped_first_report,
	&scenario_gs_notification_transparency_pending,
	&scenario_gs_notification_transparency_consumed,
	&scenario_mt_detach_sigstop_all,
	&scenario_mt_detach_zero_all,
	&scenario_mt_detach_one,
	&scenario_mt_sds_in_stopped_group,
	&scenario_mt_sds_fatal,
	&scenario_gs_detach_with_sig_usr1,
	&scenario_gs_detach_with_sig_kill,
	&scenario_cont_sigstop_detach,
	&scenario_seize_listen_detach,
	&scenario_syscall_stop_detach_sig_entry,
	&scenario_syscall_stop_detach_sig_exit,
	&scenario_syscall_detach_no_trap,
	&scenario_event_stop_detach_sig_fork,
	&scenario_event_stop_detach_sig_exec,
	&scenario_event_stop_detach_sig_exit,
	&scenario_exec_sigtrap_zero,
	&scenario_exec_sigtrap_sigtrap,
	&scenario_tracer_exit_sds,
	&scenario_tracer_exit_group_stop,
	&scenario_tracer_exit_exitkill,
	&scenario_stale_attach_sigstop,
	&scenario_reattach_no_parting_report,
	&scenario_detach_vs_sigkill,
	&scenario_detach_errors,
	&scenario_selftest_hang,
	&scenario_selftest_panic,
	&scenario_selftest_coin,
};

const size_t nscenarios = sizeof(scenarios) / sizeof(scenarios[0]);

const struct scenario *scenario_find(const char *id)
{
	size_t i;

	for (i = 0; i < nscenarios; i++)
		if (!strcmp(scenarios[i]->id, id))
			return scenarios[i];
	return NULL;
}
