/* SPDX-License-Identifier: MIT */
#ifndef KFARM_PROC_H
#define KFARM_PROC_H

#include <sys/types.h>

#include "error.h"

/*
 * struct proc - a child in its own process group, watched through a pidfd.
 * @pid: its pid (and process group id)
 * @pidfd: readable when it has exited; -1 if pidfd_open is not available
 */
struct proc {
	pid_t pid;
	int pidfd;
};

/**
 * proc_spawn() - fork and exec @argv[0] (searched in PATH) in a new process group.
 * @fds: the child's descriptors 0..@nfds-1 become @fds[i] (-1: /dev/null); all
 *       others are closed in the child.
 * @cwd: may be NULL.
 *
 * The child does not outlive kfarm: it gets SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG, set before exec, with getppid() checked against the
 * spawner's pid right after to close the race of a parent that died first),
 * so a kill -9 of 'kfarm run' takes its QEMUs with it. The signal comes when
 * the spawning *thread* ends: kfarm and kfarmd spawn only from their main
 * thread (libmicrohttpd runs in kfarmd's own epoll loop, libcurl's resolver
 * threads and libvirt's spawn nothing), which lives as long as the process.
 * Do not call this from a thread that ends before its children should.
 */
int proc_spawn(struct proc *p, const char *const argv[], const char *cwd,
	       const int *fds, int nfds, struct kf_error *e);

/*
 * struct proc_user - whom a child runs as: @name's groups (initgroups), @gid,
 * then @uid, all set in the child before it execs.
 */
struct proc_user {
	const char *name;
	uid_t uid;
	gid_t gid;
};

/**
 * proc_spawn_as() - proc_spawn() with the child running as @u (NULL: as we
 * do). It still dies with its parent: the parent-death signal is set after
 * the switch, which clears it.
 */
int proc_spawn_as(struct proc *p, const char *const argv[], const char *cwd,
		  const int *fds, int nfds, const struct proc_user *u, struct kf_error *e);

/**
 * proc_kill() - TERM the child's process group, then KILL it if it has not
 * gone after @grace_ms. Does not reap.
 */
void proc_kill(struct proc *p, int grace_ms);

/**
 * proc_reap() - wait for the child (by pid), close its pidfd; returns the wait
 * status.
 */
int proc_reap(struct proc *p);

/**
 * proc_run() - run a command to completion with a deadline, capturing its
 * output. @out (may be NULL) receives stdout, @err (may be NULL) stderr, both
 * NUL-terminated and owned by the caller. Non-zero exit, a signal or the
 * deadline give -1 and @e naming @argv[0] with the tail of its stderr.
 */
int proc_run(const char *const argv[], const char *cwd, int timeout_ms,
	     char **out, char **err, struct kf_error *e);

/** proc_pidfd_open() - a pidfd for @pid (pidfd_open(2)), or -1 with errno (ENOSYS: no such call). */
int proc_pidfd_open(pid_t pid);

/** proc_status_str() - "exited 3", "killed by SIGKILL". */
const char *proc_status_str(int status, char *buf, size_t n);

#endif
