/* SPDX-License-Identifier: MIT */
#ifndef KFARM_VM_H
#define KFARM_VM_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "error.h"
#include "proc.h"

/*
 * struct vm_params - one guest boot.
 * @binary: the hypervisor's program (config "qemu")
 * @accel: the backend's accel_fast or accel_safe
 * @append: the kernel command line
 * @name: what the guest is, for the backend's own names ("RUN-KERNEL-smpN"); may be NULL
 * @host: the host it must run on (one of the backend's @host names); NULL:
 *        the backend's choice
 * @tcg_single: under TCG, every vCPU in one host thread (QEMU's
 *              thread=single), where the backend offers it (its @tcg_single)
 * @qboot: boot with QEMU's qboot.rom, not its default BIOS, where the
 *         backend offers it (its @qboot)
 */
struct vm_params {
	const char *binary;
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *accel;
	int smp;
	int memory_mb;
	const char *name;
	const char *host;
	int tcg_single;
	int qboot;
};

/* The unprivileged user the QEMU backend runs QEMU as when kfarm is root. */
#define VM_QEMU_USER "kfarm-qemu"

/* How much of the backend's own messages a guest keeps: the tail. */
#define VM_DIAG_MAX 2048

/*
 * struct vm - a running guest and its streams, all non-blocking read ends.
 * @console_fd: the first serial port (kernel console)
 * @results_fd: the second serial port (framed results)
 * @diag_fd: the backend's own messages (QEMU's stderr)
 * @diag: their tail (vm_diag_feed()), NUL-terminated
 * @host: where it runs (a libvirt URI; "" for QEMU on this machine)
 * @accel: the accelerator it runs with: vm_params' @accel, or the one
 *         chosen for its host (the backend's @host_accel)
 * @vcpus: what it takes of its host's slots
 */
struct vm {
	struct proc proc;
	int console_fd;
	int results_fd;
	int diag_fd;
	char diag[VM_DIAG_MAX];
	size_t diag_len;
	char host[256];
	const char *accel;
	int vcpus;
};

/*
 * struct vm_backend - what runs guests: run.c knows guests only through
 * this (a libvirt backend is another instance).
 * @name: for messages ("QEMU")
 * @console_arg: the guest kernel's console= argument for the first serial
 *               port (the kernel console @console_fd reads), and what else
 *               the backend's guests need on their command line
 * @accel_fast: the accelerator "auto" tries first, behind a canary guest
 *              (its guests may hang: nested virtualisation)
 * @accel_safe: the one that always works
 * @probe: whether @accel can be tried on @host (NULL: this machine, or the
 *         first host) at all: 0, or -1 with @why (for messages: "/dev/kvm
 *         not usable (...)")
 * @version: the hypervisor's version (owned), or NULL with @e: whether it
 *           can run at all
 * @start: boot one guest; 0, or -1 with @e (nothing to release)
 * @stop: ask it to stop, then force it; does not reap
 * @release: reap it and close its streams; returns its wait status
 * @host_lost: whether a guest that ended with wait status @status ended
 *             because its host went away (it may boot elsewhere); NULL: never
 * @host: the @i-th host guests may go to, NULL past the last; NULL: this
 *        machine only (the accelerator is chosen once, for all guests)
 * @host_accel: the accelerator chosen for @host (a canary on it): its
 *              guests run with that, whatever their vm_params' @accel
 * @tcg_single: whether it runs a TCG guest's vCPUs in one host thread when
 *              vm_params' @tcg_single asks (else one thread each)
 * @qboot: whether it boots guests with qboot when vm_params' @qboot asks
 * @check: whether @binary can boot guests as asked, before any does: has
 *         the qboot firmware when @qboot, can run as whom it runs guests as;
 *         0, or -1 with @e saying what to do (NULL: no check)
 * @room: whether guests of @n vCPU counts fit on the hosts now, all at once
 *        (slots are vCPUs; a guest larger than a host fits an idle one);
 *        NULL: each guest counts one against the run's parallel guests
 */
struct vm_backend {
	const char *name;
	const char *console_arg;
	const char *accel_fast, *accel_safe;
	int tcg_single, qboot;
	int (*probe)(const char *host, const char *accel, char *why, size_t n);
	char *(*version)(const char *binary, struct kf_error *e);
	int (*start)(struct vm *vm, const struct vm_params *p, struct kf_error *e);
	void (*stop)(struct vm *vm);
	int (*release)(struct vm *vm);
	int (*host_lost)(int status);
	const char *(*host)(size_t i);
	void (*host_accel)(const char *host, const char *accel);
	int (*room)(const int *vcpus, size_t n);
	int (*check)(const char *binary, int qboot, struct kf_error *e);
};

/** vm_backend_default() - the backend kfarm runs guests with (QEMU, directly). */
const struct vm_backend *vm_backend_default(void);

/**
 * vm_backend_libvirt() - guests as transient libvirt domains on the hosts
 * vm_libvirt_hosts() set (vm-libvirt.c).
 */
const struct vm_backend *vm_backend_libvirt(void);

/**
 * vm_libvirt_hosts() - the hosts (the config's checked "hosts" array) the
 * libvirt backend places guests on, by free slots. 0, or -1 with @e.
 */
int vm_libvirt_hosts(json_t *hosts, struct kf_error *e);

/**
 * vm_libvirt_hosts_check() - check each host vm_libvirt_hosts() set, for
 * `kfarm hosts` (vm-libvirt-hosts.c): reachable, a QEMU driver, its version,
 * kvm and tcg domains, free slots, its storage pool; the leftover domains of
 * dead kfarm processes of this machine destroyed on the way. An array of an
 * object a host (owned): {"uri", "usable", "slots", "reachable", "driver",
 * "version", "kvm", "tcg", "running", "free_slots", "destroyed", "pool":
 * {"name", "state": active|inactive|missing, "path", "capacity",
 * "available"}, "error"}, as far as the check went; *@unusable: how many
 * hosts cannot run guests ("error" says why).
 */
json_t *vm_libvirt_hosts_check(int *unusable);

/** vm_libvirt_hosts_print() - a line a host of vm_libvirt_hosts_check()'s array. */
void vm_libvirt_hosts_print(FILE *f, json_t *checked);

/** vm_init() - @vm with no process and no streams (a backend's start begins so). */
void vm_init(struct vm *vm);

/**
 * vm_take_streams() - the read ends @console, @results and @diag become
 * @vm's (non-blocking); the callers' copies are set to -1.
 */
void vm_take_streams(struct vm *vm, int *console, int *results, int *diag);

/** vm_close_streams() - close what is left of @vm's streams (a backend's release). */
void vm_close_streams(struct vm *vm);

/** vm_diag_feed() - keep the tail of @n bytes of @vm's backend messages. */
void vm_diag_feed(struct vm *vm, const char *buf, size_t n);

/** vm_diag_line() - that tail without trailing newlines ("" when there is none). */
const char *vm_diag_line(struct vm *vm);

/** vm_diag_clear() - forget it (a guest booted once more). */
void vm_diag_clear(struct vm *vm);

#endif
