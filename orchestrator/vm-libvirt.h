/* SPDX-License-Identifier: MIT */
/*
 * vm-libvirt.h - what the libvirt backend's two files share: vm-libvirt.c
 * (guests) and vm-libvirt-hosts.c (checking hosts, destroying leftover
 * domains). The rest of kfarm goes through vm.h.
 */
#ifndef KFARM_VM_LIBVIRT_H
#define KFARM_VM_LIBVIRT_H

#include <stddef.h>

#include <stdint.h>

#include <libvirt/libvirt.h>

/*
 * The namespace of the <metadata> element of kfarm's domains:
 * <kfarm:guest xmlns:kfarm='LV_META_NS' pid='PID' host='HOSTNAME'/>, the
 * kfarm process that made the domain and the machine it runs on.
 */
#define LV_META_NS "https://kfarm.invalid/libvirt/1"
#define LV_META_PREFIX "kfarm"

/*
 * struct lv_host - one of the config's "hosts".
 * @slots: the vCPUs its guests may take at once; 0: its CPUs (lv_host_slots())
 * @busy: the vCPUs of this process's guests running there
 * @accel: the accelerator chosen for it (its canary); NULL: the guests' own
 * @conn: this process's connection, for uploads (host_conn(): lazily opened)
 */
struct lv_host {
	char *uri;
	char *pool;
	char *pool_path;
	int slots;
	int busy;
	int64_t down_until;	/* went away: not used before then (0: up) */
	const char *accel;
	virConnectPtr conn;
};

/**
 * lv_host_slots() - @h's slots: the config's, else its CPUs as libvirt
 * says them on @c (1 when it cannot), remembered.
 */
int lv_host_slots(struct lv_host *h, virConnectPtr c);

/** lv_err() - libvirt's last error message, or @fallback. */
const char *lv_err(const char *fallback);

/** lv_host_nth() - the @i-th host vm_libvirt_hosts() set, or NULL past the last. */
struct lv_host *lv_host_nth(size_t i);

/** lv_hostname() - this machine's name, as its domains' metadata say it ("" unknown). */
const char *lv_hostname(void);

/**
 * lv_reap_leftovers() - destroy the kfarm- domains on @c (host @uri) that
 * a dead kfarm process of this machine left running (their metadata name
 * this machine and a pid that no longer exists), logging each; at the
 * first use of a host. A failure to look is logged, never fatal.
 */
void lv_reap_leftovers(virConnectPtr c, const char *uri);

#endif
