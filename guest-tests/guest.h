/* SPDX-License-Identifier: MIT */
#ifndef KFARM_GUEST_H
#define KFARM_GUEST_H

/*
 * The small library shared by the in-guest runner and the scenarios, one file
 * a section: obs.c, names.c, procfs.c, guard.c, spawn.c.
 *
 * Observations
 * ------------
 * One repetition of a scenario yields one observation: a flat JSON object whose
 * values are strings or integers, keys sorted, compact, and canonical (no pids,
 * addresses or times), so that the same behaviour on two kernels gives the same
 * bytes. Key names used by the scenarios:
 *
 *   tracee      how the tracee ended or where it rests, as its real parent P sees
 *               it (waitid WNOWAIT + /proc): "exited:N", "killed:SIGX",
 *               "killed:SIGX+core", "stopped:SIGX", "traced", "running",
 *               "wait-timeout" (it never settled)
 *   state       /proc/PID/status State at the end, normalised: the word in
 *               parentheses with '-' for ' ': "stopped", "tracing-stop" (for both
 *               "T (tracing stop)" and "t (tracing stop)"), "zombie",
 *               "sleeping", "running", "gone"
 *   sigpnd      SigPnd of the tracee (thread-private pending) as signal names,
 *   shdpnd      ShdPnd (shared pending), e.g. "SIGUSR1,SIGUSR2" or ""; only
 *               recorded while the tracee is alive (not a zombie)
 *   handler     "not-run", "ran" (once) or "ran:N" (N times): the tracee's
 *               SA_SIGINFO handler(s); only in scenarios that install one
 *   si_signo    first handler invocation: signal name
 *   si_code     ... si_code by name: "SI_USER", "SI_KERNEL", "SI_TKILL",
 *               "SI_QUEUE", ... or the number
 *   si_pid      ... si_pid as a role: "self" (the tracee), "parent" (P),
 *               "tracer" (R), "0", "other"
 *   si_uid      ... si_uid: "0", "self" (our uid if not 0), "other"
 *   sigchld     the SIGCHLDs P received from the tracee, in order, by si_code:
 *               "CLD_STOPPED,CLD_KILLED" ("" for none). SIGCHLD does not queue,
 *               so P collects it at the scenario's checkpoints
 *   stop        the stop the tracer took its action from, as its waitpid saw it:
 *               "signal:SIGUSR1", "event:fork", "syscall", "exited:N", ...
 *   attach, detach, detach_*, getsiginfo, setsiginfo, cont, ...
 *               each ptrace() call's result: "0" or the errno name ("ESRCH",
 *               "EIO", "EINVAL", ...)
 *   unsupported the reason a scenario cannot run on this kernel (the
 *               repetition's status is then "unsupported")
 *   error       a repetition that failed to set up: short canonical reason
 *   rep         set by the runner only: "timeout", "crashed:SIGX", "error"
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "kf1.h"

/* ---- growable string buffer ---- */
struct sbuf {
	char *buf;
	size_t len, cap;
};

void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_puts(struct sbuf *sb, const char *s);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** sbuf_json_str() - append @s as a JSON string literal (quotes included). */
void sbuf_json_str(struct sbuf *sb, const char *s);
/** sbuf_detach() - hand the string over (never NULL); @sb is empty again. */
char *sbuf_detach(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);

/* ---- observations: fixed size, so one can live in shared memory ---- */
#define OBS_MAX_KEYS 64
#define OBS_KEY_MAX 32
#define OBS_VAL_MAX 160

struct obs_kv {
	char key[OBS_KEY_MAX];
	int is_int;
	long long ival;
	char sval[OBS_VAL_MAX];
};

struct obs {
	int n;
	struct obs_kv kv[OBS_MAX_KEYS];
};

void obs_init(struct obs *o);
/** obs_str() - set @key to the string @val (replacing an earlier value). */
void obs_str(struct obs *o, const char *key, const char *val);
void obs_strf(struct obs *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void obs_int(struct obs *o, const char *key, long long v);
/** obs_result() - record a syscall result: "0" if @rc >= 0, else errno's name. */
void obs_result(struct obs *o, const char *key, long rc, int err);
/** obs_get() - the string value of @key, NULL if absent or an integer. */
const char *obs_get(const struct obs *o, const char *key);
/** obs_merge() - copy every key of @src into @dst (src wins). */
void obs_merge(struct obs *dst, const struct obs *src);
/** obs_render() - the canonical JSON text (sorted keys, compact), owned. */
char *obs_render(const struct obs *o);

/* ---- names ---- */
/** sig_name() - "SIGUSR1", or "SIG<n>" for the unnamed (static storage). */
const char *sig_name(int sig);
/** errno_name() - "ESRCH", or "E<n>". */
const char *errno_name(int err);
/** si_code_name() - si_code by name for @signo ("SI_USER", "CLD_STOPPED", ...). */
const char *si_code_name(int signo, int code);
/** sigmask_names() - a /proc hex mask ("0000000000000300") as "SIGUSR1,SIGUSR2". */
void sigmask_names(const char *hex, char *out, size_t n);

/* ---- roles: pids and uids as canonical names ---- */
void role_reset(void);
void role_set(const char *role, pid_t pid);
/** role_of() - "0", the registered role of @pid, or "other". */
const char *role_of(pid_t pid);
/** uid_role() - "0", "self" (our own non-zero uid) or "other". */
const char *uid_role(uid_t uid);

/* ---- /proc ---- */
/**
 * read_small_file() - one read() of at most @size - 1 bytes of @path into
 * @buf, NUL-terminated. The byte count (0 for an empty file), or -1 if the
 * file cannot be opened or read (@buf is then "").
 */
ssize_t read_small_file(const char *path, char *buf, size_t size);
/** procfs_read() - read_small_file() of /proc/@pid/@name. */
ssize_t procfs_read(pid_t pid, const char *name, char *buf, size_t size);
/** procfs_status_field() - the value of "Field:" in /proc/PID/status; -1 if gone. */
int procfs_status_field(pid_t pid, const char *field, char *out, size_t n);
/** procfs_state() - the normalised State of @pid ("stopped", "tracing-stop", "gone", ...). */
void procfs_state(pid_t pid, char *out, size_t n);
/**
 * procfs_wait_state() - poll the State of @pid (tiny sleeps between polls) until
 * it is one of the '|'-separated normalised names in @want, for at most @ms.
 * Returns 0 and the state in @out, or -1 (timed out; @out has the last state).
 */
int procfs_wait_state(pid_t pid, const char *want, int ms, char *out, size_t n);

/**
 * procfs_wait_offcpu() - block until @pid, which is not runnable (stopped), is
 * also off the CPU: reading /proc/PID/syscall waits for that in the kernel
 * (wait_task_inactive). A task that stops notifies its parent between the
 * two, so afterwards that SIGCHLD is queued. 0 on success, -1 if unknown.
 */
int procfs_wait_offcpu(pid_t pid);

/* ---- guarded blocking waits (ITIMER_REAL + SIGALRM without SA_RESTART) ---- */
/** guard_install() - the SIGALRM handler the guards need; once per process. */
void guard_install(void);
/** g_waitpid() - waitpid() bounded by @ms; -1 with errno ETIMEDOUT on expiry. */
pid_t g_waitpid(pid_t pid, int *status, int options, int ms);
/** g_waitid() - waitid() bounded by @ms; -1 with errno ETIMEDOUT on expiry. */
int g_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options, int ms);
/** g_read() - read up to @n bytes, waiting at most @ms for the first; 0 at EOF. */
ssize_t g_read(int fd, void *buf, size_t n, int ms);
/** write_all() - write everything, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t n);
/** sleep_ms() - a short pause between polls (never used as synchronisation). */
void sleep_ms(int ms);
/** monotonic_ms() - CLOCK_MONOTONIC in milliseconds. */
long long monotonic_ms(void);

/* How long one blocking wait inside a scenario may take (set by the runner). */
extern int wait_limit_ms;

/* ---- shared memory and the siginfo a handler saw ---- */
/** shm_alloc() - zeroed MAP_SHARED anonymous memory, NULL on failure. */
void *shm_alloc(size_t size);
void shm_free(void *p, size_t size);

#define HREC_MAX 8
struct hrec {
	volatile int count;
	struct {
		int signo, code;
		pid_t pid;
		uid_t uid;
	} seen[HREC_MAX];
};

/** hrec_install() - record every delivery of @sig into @h (SA_SIGINFO handler). */
int hrec_install(struct hrec *h, int sig);
/** hrec_observe() - the handler/si_* keys of an observation from @h. */
void hrec_observe(const struct hrec *h, struct obs *o);

/* ---- the results channel framing ---- */
/** frame_write() - write the kf1.h frame of @payload (@len bytes) to @fd in one write. */
int frame_write(int fd, unsigned long seq, const char *payload, size_t len);

/* ---- processes ---- */
/*
 * Descriptors the runner keeps in a repetition (its result pipe) that children
 * of the scenario must not inherit: fork_child() closes them in the child.
 */
extern int runner_private_fd;
/** fork_child() - fork(); the child drops the runner's private descriptors. */
pid_t fork_child(void);
/**
 * fork_silent() - a child that sends its parent no signal when it exits
 * (clone with exit signal 0; wait for it with __WALL). Used for the tracer so
 * that every SIGCHLD the parent collects is the tracee's.
 */
pid_t fork_silent(void);
/** describe_wstatus() - a waitpid status as "exited:N", "killed:SIGX[+core]",
 * "signal:SIGX" (stopped), "event:fork", "syscall", "group-stop:SIGX"... */
void describe_wstatus(int status, char *out, size_t n);
/** describe_siginfo_child() - a waitid result as "exited:N", "killed:SIGX", ... */
void describe_siginfo_child(const siginfo_t *si, char *out, size_t n);

#endif
