/* SPDX-License-Identifier: MIT */
/*
 * vm-libvirt-hosts.c - the leftover domains of dead kfarm processes on the
 * libvirt hosts.
 *
 * kfarm's domains are created auto-destroyed with their guest process's
 * connection, so a killed kfarm leaves none behind; but a domain that
 * outlived that connection (libvirtd restarted under it) runs on with no
 * one to stop it. Its metadata name the kfarm process and the machine that
 * made it: on each host's first use the domains of
 * this machine whose process is gone are destroyed. Another machine's are
 * never judged: its pids mean nothing here.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "error.h"
#include "log.h"
#include "vm-libvirt.h"

#define NAME_PREFIX "kfarm-"

const char *lv_hostname(void)
{
	static char name[256];

	if (!name[0] && gethostname(name, sizeof(name) - 1) < 0)
		name[0] = 0;
	return name;
}

/*
 * The value of attribute @attr of the first element of @xml (libvirt's
 * serialisation of our metadata: either quote), in @out; 0, or -1 when it
 * has none.
 */
static int xml_attr(const char *xml, const char *attr, char *out, size_t n)
{
	size_t len = strlen(attr);
	const char *p = xml, *end;

	while ((p = strstr(p, attr))) {
		if (p > xml && strchr(" \t\n", p[-1]) && p[len] == '=' &&
		    (p[len + 1] == '\'' || p[len + 1] == '"')) {
			end = strchr(p + len + 2, p[len + 1]);
			if (!end || (size_t)(end - (p + len + 2)) >= n)
				return -1;
			snprintf(out, n, "%.*s", (int)(end - (p + len + 2)), p + len + 2);
			return 0;
		}
		p += len;
	}
	return -1;
}

/*
 * The pid of the dead kfarm process of this machine that made @d, or 0:
 * not a domain of this machine's, no metadata (not ours to judge), or its
 * process is alive (or the pid was taken again: kept, to be safe).
 */
static long dead_owner(virDomainPtr d)
{
	char *meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, LV_META_NS, 0);
	char pid_s[32], host[256], *end;
	long pid = 0;

	if (!meta)
		return 0;
	if (xml_attr(meta, "pid", pid_s, sizeof(pid_s)) == 0 &&
	    xml_attr(meta, "host", host, sizeof(host)) == 0 && lv_hostname()[0] &&
	    !strcmp(host, lv_hostname())) {
		errno = 0;
		pid = strtol(pid_s, &end, 10);
		if (errno || *end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			pid = 0;
	}
	free(meta);
	return pid;
}

/*
 * Destroys the leftover domains on @c (host @uri); *@running: the kfarm-
 * domains that run on after that (anyone's), *@destroyed: how many went.
 * 0, or -1 with @e when the domains cannot be listed.
 */
static int reap(virConnectPtr c, const char *uri, int *running, int *destroyed,
		struct kf_error *e)
{
	virDomainPtr *doms = NULL;
	int n, i;

	*running = *destroyed = 0;
	n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0)
		return error_set(e, uri, 0, 0, "%s: cannot list the domains: %s", uri,
				 lv_err("unknown error"));
	for (i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		long pid;

		if (!name || strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX))) {
			virDomainFree(doms[i]);
			continue;
		}
		pid = dead_owner(doms[i]);
		if (!pid) {
			(*running)++;
		} else if (virDomainDestroy(doms[i]) == 0) {
			log_info("%s: destroyed leftover domain %s of dead kfarm pid %ld", uri, name,
				 pid);
			(*destroyed)++;
		} else {
			/* gone meanwhile is as good; anything else still runs */
			if (virDomainIsActive(doms[i]) != 0) {
				log_warnx("%s: cannot destroy leftover domain %s of dead kfarm pid "
					  "%ld: %s", uri, name, pid, lv_err("unknown error"));
				(*running)++;
			}
		}
		virDomainFree(doms[i]);
	}
	free(doms);
	return 0;
}

void lv_reap_leftovers(virConnectPtr c, const char *uri)
{
	struct kf_error e;
	int running, destroyed;

	if (reap(c, uri, &running, &destroyed, &e) < 0)
		log_warnx("%s (leftover domains of dead kfarm processes not looked for)", e.text);
}
