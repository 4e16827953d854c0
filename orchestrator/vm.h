/* SPDX-License-Identifier: MIT */
#ifndef KFARM_VM_H
#define KFARM_VM_H

#include "error.h"
#include "proc.h"

/*
 * struct vm_params - one guest boot.
 * @accel: "kvm" or "tcg"
 * @append: the kernel command line
 */
struct vm_params {
	const char *qemu;
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *accel;
	int smp;
	int memory_mb;
};

/*
 * struct vm - a running guest and its streams, all non-blocking read ends.
 * @console_fd: the first serial port (kernel console)
 * @results_fd: the second serial port (framed results)
 * @stderr_fd: QEMU's own messages
 */
struct vm {
	struct proc proc;
	int console_fd;
	int results_fd;
	int stderr_fd;
};

/** vm_qemu_start() - start qemu-system-x86_64 directly (no daemon). */
int vm_qemu_start(struct vm *vm, const struct vm_params *p, struct kf_error *e);

/** vm_stop() - TERM then KILL the guest; does not reap. */
void vm_stop(struct vm *vm);

/** vm_release() - reap the guest and close its streams; returns the wait status. */
int vm_release(struct vm *vm);

/** vm_qemu_version() - "7.2.22" from `QEMU --version` (owned), or NULL and @e. */
char *vm_qemu_version(const char *qemu, struct kf_error *e);

#endif
